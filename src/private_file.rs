//! Files that hold secrets or who-did-what (the session store, the audit log): readable and
//! writable by the dashboard's own user only (mode 0600), whatever the process umask.

use std::{
    fs::{self, OpenOptions, Permissions},
    io,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

/// Makes sure the SQLite database at `path` and its `-wal`/`-shm` companions are 0600.
///
/// Called before SQLite opens the file: a missing one is created 0600 (empty, which SQLite
/// takes as a new database), and SQLite creates its `-wal` and `-shm` files with the mode of
/// the database file. Files left by an older version with a wider mode are narrowed.
pub fn sqlite_0600(path: &Path) -> io::Result<()> {
    OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path)?;
    for file in [path.to_path_buf(), with_suffix(path, "-wal"), with_suffix(path, "-shm")] {
        match fs::set_permissions(&file, Permissions::from_mode(0o600)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_existing_files_end_up_0600() {
        let dir = std::env::temp_dir().join(format!("gs-private-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        let db = dir.join("s.sqlite");
        sqlite_0600(&db).unwrap();
        assert_eq!(fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o600);

        let wal = with_suffix(&db, "-wal");
        fs::write(&wal, b"").unwrap();
        fs::set_permissions(&db, Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(&wal, Permissions::from_mode(0o644)).unwrap();
        sqlite_0600(&db).unwrap();
        for f in [&db, &wal] {
            assert_eq!(fs::metadata(f).unwrap().permissions().mode() & 0o777, 0o600, "{}", f.display());
        }
        fs::remove_dir_all(dir).unwrap();
    }
}
