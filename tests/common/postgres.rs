//! PostgreSQL from Debian's packages (`/usr/lib/postgresql/<version>/bin`) for one test: a new
//! cluster in a temporary directory, listening on 127.0.0.1 only, on a free port; stopped and
//! removed on drop.
//!
//! PostgreSQL refuses to run as root. The test scripts run as root on a fresh machine, so there
//! it runs as `nobody` (present on every Debian system, owning nothing: right for a throw-away
//! server), switched to with `setpriv` (util-linux, always installed; unlike `runuser` it needs
//! no PAM session). Not root, it runs as the user running the tests.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::free_port;

pub struct Postgres {
    /// `postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE`, for `GLANCE_SHARE_AUDIT_LOG`.
    pub url: String,
    pub port: u16,
    pub password: String,
    dir: PathBuf,
    child: Option<Child>,
}

const USER: &str = "glance_share";
const DATABASE: &str = "postgres";

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = std::env::temp_dir().join(format!("gs-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let password = uuid::Uuid::new_v4().simple().to_string();
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, &password).unwrap();
        let data = dir.join("data");
        let owner = Owner::for_postgres();
        owner.give(&dir);
        owner.give(&pwfile);
        // Passwords over TCP (SCRAM, as a real deployment), so the URL carries one.
        let out = owner
            .command(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", USER, "--auth=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .expect("could not run initdb (scripts/setup installs postgresql)");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let mut pg = Postgres { url: String::new(), port, password: password.clone(), dir, child: None };
        pg.url = format!("postgres://{USER}:{password}@127.0.0.1:{port}/{DATABASE}");
        pg.run();
        pg
    }

    /// Starts the server on the cluster (again, after `stop`), on the same port.
    pub fn run(&mut self) {
        assert!(self.child.is_none(), "PostgreSQL runs already");
        let bin = bin_dir();
        // Only TCP on 127.0.0.1 (no Unix socket, so no file in /run or /tmp); durability is
        // not what the tests test.
        let child = Owner::for_postgres()
            .command(&bin.join("postgres"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-p"])
            .arg(self.port.to_string())
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("could not start postgres");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-d", DATABASE, "-U", USER, "-q"])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            if let Some(exited) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("postgres stopped at start ({exited})");
            }
            assert!(Instant::now() < deadline, "postgres was not ready within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (a fast shutdown: sessions are ended), keeping its data for `run`.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `sql` with psql and returns what it printed (unaligned, tuples only).
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new(bin_dir().join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER, "-d", DATABASE, "-XAtq", "-c", sql])
            .env("PGPASSWORD", &self.password)
            .output()
            .expect("could not run psql");
        assert!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest PostgreSQL of Debian's packages.
fn bin_dir() -> PathBuf {
    let versions = std::fs::read_dir("/usr/lib/postgresql").expect("PostgreSQL is not installed (scripts/setup)");
    let newest = versions
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .expect("no version in /usr/lib/postgresql");
    PathBuf::from(format!("/usr/lib/postgresql/{newest}/bin"))
}

/// Who runs PostgreSQL's programs: `nobody` when the tests run as root, else the tests' user.
struct Owner {
    /// `(uid, gid)` to switch to; `None`: stay who we are.
    switch_to: Option<(u32, u32)>,
}

impl Owner {
    fn for_postgres() -> Owner {
        let id = |args: &[&str]| -> u32 {
            let out = Command::new("id").args(args).output().expect("could not run id");
            String::from_utf8_lossy(&out.stdout).trim().parse().expect("id printed no number")
        };
        let switch_to = (id(&["-u"]) == 0).then(|| (id(&["-u", "nobody"]), id(&["-g", "nobody"])));
        Owner { switch_to }
    }

    /// Makes `path` belong to the user PostgreSQL runs as.
    fn give(&self, path: &Path) {
        if let Some((uid, gid)) = self.switch_to {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
        }
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = match self.switch_to {
            None => Command::new(program),
            Some((uid, gid)) => {
                let mut cmd = Command::new("setpriv");
                cmd.arg(format!("--reuid={uid}")).arg(format!("--regid={gid}")).arg("--clear-groups").arg("--");
                cmd.arg(program);
                cmd
            }
        };
        // Somewhere the user may be: the tests' own directory may be closed to `nobody`.
        cmd.current_dir(std::env::temp_dir());
        cmd
    }
}
