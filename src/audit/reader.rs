//! History read from a SQLite audit log on the thread that asks for it.
//!
//! sqlx runs each SQLite connection on a worker thread of its own: a History read through its
//! pool was a hand-off to that thread and back, then another (the pool pings a connection it
//! is given back), each a wake-up of two threads, on every image page. Here each serving
//! thread keeps a connection of its own (rusqlite, on the same libsqlite3 as sqlx's) and reads
//! with it directly: one indexed query of at most a page and a row, microseconds, which is
//! shorter than the hand-offs were. Writes stay on sqlx's pool: they may wait for a lock or
//! for the disk, which a serving thread must not.
//!
//! A file log is read in WAL mode, so a read never waits for a write. The in-memory log is
//! one shared-cache database that sqlx's connection and these share by name; they read
//! uncommitted, or they would take table locks that a write in progress refuses
//! (`SQLITE_LOCKED`), and every write is one statement, so there is nothing half-written to see.

use std::{
    cell::RefCell,
    collections::HashMap,
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, Row};

/// Where a log's reading connections connect.
#[derive(Clone, Debug)]
pub enum Place {
    File(PathBuf),
    /// The shared-cache name of an in-memory database (`file:…`).
    Memory(String),
}

/// Opens and reuses, per thread, the connections that read one log.
#[derive(Clone, Debug)]
pub struct SqliteReader {
    place: Place,
    /// Tells this log's connections from another's on the same thread (tests open many logs,
    /// some at a path an earlier one used).
    log: u64,
}

thread_local! {
    static CONNECTIONS: RefCell<HashMap<u64, Connection>> = RefCell::new(HashMap::new());
}

impl SqliteReader {
    pub fn new(place: Place) -> SqliteReader {
        static LOGS: AtomicU64 = AtomicU64::new(0);
        SqliteReader { place, log: LOGS.fetch_add(1, Ordering::Relaxed) }
    }

    /// The rows `sql` selects with `params` (bound in order), each read by `row`.
    pub fn select<T>(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        row: impl Fn(&Row<'_>) -> T,
    ) -> rusqlite::Result<Vec<T>> {
        CONNECTIONS.with(|connections| {
            // Only ever borrowed here, around code that does not await: never twice at once.
            let Ok(mut connections) = connections.try_borrow_mut() else {
                let misuse = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISUSE);
                return Err(rusqlite::Error::SqliteFailure(misuse, Some("a History read inside another".into())));
            };
            let connection = match connections.entry(self.log) {
                std::collections::hash_map::Entry::Occupied(open) => open.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => slot.insert(self.open()?),
            };
            let mut statement = connection.prepare_cached(sql)?;
            let mut rows = statement.query(params)?;
            let mut read = Vec::new();
            while let Some(r) = rows.next()? {
                read.push(row(r));
            }
            Ok(read)
        })
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // No mutex of the connection's own: it never leaves its thread.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = match &self.place {
            Place::File(path) => Connection::open_with_flags(path, flags)?,
            Place::Memory(name) => {
                let shared =
                    OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
                let connection = Connection::open_with_flags(name, flags | shared)?;
                connection.pragma_update(None, "read_uncommitted", true)?;
                connection
            }
        };
        // A reader, whatever it is asked: the log is only ever appended to through sqlx.
        connection.pragma_update(None, "query_only", true)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        Ok(connection)
    }
}

impl super::HistoryRow for Row<'_> {
    fn int(&self, column: &str) -> Option<i64> {
        self.get(column).ok()
    }
    fn text(&self, column: &str) -> Option<String> {
        self.get(column).ok()
    }
    fn maybe_text(&self, column: &str) -> Option<Option<String>> {
        self.get(column).ok()
    }
}
