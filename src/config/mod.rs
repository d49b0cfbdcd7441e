//! Settings, read once at start-up from the environment into typed values.
//!
//! Every setting has a documented default (README, "Configuration") so that the dashboard starts
//! with no configuration at all against the local lab.

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf, time::Duration};

use url::Url;

use crate::audit::{AuditStoreKind, PostgresUrl};

pub mod clouds;
pub mod directory;
use clouds::Cloud;
use directory::DirectoryConfig;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name} is not valid ({value:?}): {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

/// Where sessions live. SQLite keeps users signed in across restarts of one instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionStoreKind {
    Memory,
    Sqlite(PathBuf),
    /// Shared by several instances behind a load balancer: `redis://` or `rediss://` URL.
    Redis(String),
}

#[derive(Clone, Debug)]
pub struct Config {
    /// The socket the server binds.
    pub listen: SocketAddr,
    /// How browsers reach the dashboard; its origin is the only one allowed to change state.
    pub public_url: Url,
    /// True when `public_url` was not configured and follows the bound address.
    pub public_url_is_listen: bool,
    pub cookie_name: String,
    /// Cookies carry `Secure` when set; defaults to on when `public_url` is https.
    pub secure_cookies: bool,
    /// A session ends after this long without a request (and never after its token expires).
    pub session_idle: Duration,
    pub session_store: SessionStoreKind,
    /// The file of the key that seals tokens in session records; `None`: see `secret_key_file`.
    pub secret_key_file_setting: Option<PathBuf>,
    pub audit_store: AuditStoreKind,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub upstream_connect_timeout: Duration,
    pub upstream_timeout: Duration,
    /// Requests handled at once; more wait in line (bounds memory under a burst of users).
    pub max_concurrent_requests: usize,
    /// Threads that serve connections, each with a runtime of its own (one per core unless set).
    pub server_threads: usize,
    /// Keystone and Glance calls in flight at once, over every user; more wait their turn.
    pub upstream_max_in_flight: usize,
    /// The cloud's image_member_quota when the operator states it (Glance does not publish it).
    pub member_quota: Option<u32>,
    /// The access review flags an offer unanswered for longer than this many days.
    pub pending_days: u32,
    /// How many Glance calls one request or batch makes at once.
    pub batch_concurrency: usize,
    /// Images per page of "My images" and "All".
    pub page_size: u32,
    /// The clouds offered on the sign-in page, in the order configured.
    pub clouds: Vec<Cloud>,
    /// Sign-in attempts allowed a minute from one client address, and for one user name.
    pub sign_ins_per_client_minute: NonZeroU32,
    pub sign_ins_per_user_minute: NonZeroU32,
    /// Behind a reverse proxy: the header it puts the client's address in (its last entry is
    /// the one the proxy added). Unset, the address of the TCP peer is the client's.
    pub client_ip_header: Option<http::HeaderName>,
    /// The operator's directory reader that names projects for every user, when configured.
    pub directory: Option<DirectoryConfig>,
}

impl Config {
    pub fn cloud(&self, name: &str) -> Option<&Cloud> {
        self.clouds.iter().find(|c| c.name == name)
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` so tests can pass their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());

        let listen_raw = get("GLANCE_SHARE_LISTEN").unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen: SocketAddr = listen_raw.parse().map_err(|e| ConfigError {
            name: "GLANCE_SHARE_LISTEN",
            value: listen_raw.clone(),
            reason: format!("{e}; expected HOST:PORT such as 127.0.0.1:3000"),
        })?;

        let public_url_is_listen = get("GLANCE_SHARE_PUBLIC_URL").is_none();
        let public_raw = get("GLANCE_SHARE_PUBLIC_URL").unwrap_or_else(|| format!("http://{listen}"));
        let public_url = Url::parse(&public_raw)
            .map_err(|e| e.to_string())
            .and_then(|u| match u.scheme() {
                "http" | "https" if u.host().is_some() => Ok(u),
                _ => Err("expected an http or https URL".to_string()),
            })
            .map_err(|reason| ConfigError { name: "GLANCE_SHARE_PUBLIC_URL", value: public_raw.clone(), reason })?;

        let secure_cookies = match get("GLANCE_SHARE_SECURE_COOKIES") {
            Some(v) => parse_bool("GLANCE_SHARE_SECURE_COOKIES", &v)?,
            None => public_url.scheme() == "https",
        };

        let session_store = match get("GLANCE_SHARE_SESSION_STORE").as_deref() {
            None => SessionStoreKind::Sqlite(PathBuf::from("glance-share-sessions.sqlite")),
            Some("memory") => SessionStoreKind::Memory,
            Some(redis) if redis.starts_with("redis://") || redis.starts_with("rediss://") => {
                SessionStoreKind::Redis(redis.to_string())
            }
            Some(other) => SessionStoreKind::Sqlite(sqlite_path(
                "GLANCE_SHARE_SESSION_STORE",
                other,
                "expected `memory`, `sqlite://PATH` or `redis://HOST:PORT`",
            )?),
        };

        let audit_store = match get("GLANCE_SHARE_AUDIT_LOG").as_deref() {
            None => AuditStoreKind::Sqlite(PathBuf::from("glance-share-audit.sqlite")),
            Some("memory") => AuditStoreKind::Memory,
            Some(pg) if pg.starts_with("postgres://") || pg.starts_with("postgresql://") => {
                AuditStoreKind::Postgres(PostgresUrl::parse(pg).map_err(|reason| ConfigError {
                    name: "GLANCE_SHARE_AUDIT_LOG",
                    // The URL may hold the database's password: never repeat that.
                    value: crate::audit::without_password(pg),
                    reason,
                })?)
            }
            Some(other) => AuditStoreKind::Sqlite(
                sqlite_path(
                    "GLANCE_SHARE_AUDIT_LOG",
                    other,
                    "expected `memory`, `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`",
                )
                .map_err(|e| ConfigError { value: crate::audit::without_password(&e.value), ..e })?,
            ),
        };

        let clouds = clouds::load(&|name: &str| lookup(name))?;
        let cloud_names: Vec<String> = clouds.iter().map(|c| c.name.clone()).collect();
        let directory = directory::load(&get, &cloud_names)?;

        Ok(Config {
            directory,
            batch_concurrency: parse_number(&get, "GLANCE_SHARE_BATCH_CONCURRENCY", 8)?.min(64) as usize,
            page_size: parse_number(&get, "GLANCE_SHARE_PAGE_SIZE", 50)?.clamp(1, 500) as u32,
            member_quota: match get("GLANCE_SHARE_MEMBER_QUOTA") {
                Some(_) => Some(parse_number(&get, "GLANCE_SHARE_MEMBER_QUOTA", 128)?.min(u32::MAX as u64) as u32),
                None => None,
            },
            pending_days: parse_number(&get, "GLANCE_SHARE_PENDING_DAYS", 14)?.min(36_500) as u32,
            clouds,
            listen,
            public_url,
            public_url_is_listen,
            cookie_name: get("GLANCE_SHARE_COOKIE_NAME").unwrap_or_else(|| "glance_share_session".into()),
            secure_cookies,
            session_idle: Duration::from_secs(60 * parse_number(&get, "GLANCE_SHARE_SESSION_IDLE_MINUTES", 60)?),
            session_store,
            secret_key_file_setting: get("GLANCE_SHARE_SECRET_KEY_FILE").map(PathBuf::from),
            audit_store,
            max_body_bytes: parse_number(&get, "GLANCE_SHARE_MAX_BODY_BYTES", 64 * 1024)? as usize,
            upstream_connect_timeout: Duration::from_millis(parse_number(
                &get,
                "GLANCE_SHARE_UPSTREAM_CONNECT_TIMEOUT_MS",
                3_000,
            )?),
            upstream_timeout: Duration::from_millis(parse_number(&get, "GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", 15_000)?),
            max_concurrent_requests: parse_number(
                &get,
                "GLANCE_SHARE_MAX_CONCURRENT_REQUESTS",
                default_concurrent_requests(),
            )?
            .min(65_536) as usize,
            upstream_max_in_flight: parse_number(&get, "GLANCE_SHARE_UPSTREAM_MAX_IN_FLIGHT", 64)?.min(4096) as usize,
            server_threads: parse_nonzero(&get, "GLANCE_SHARE_SERVER_THREADS", cores() as u32)?.get().min(256) as usize,
            sign_ins_per_client_minute: parse_nonzero(&get, "GLANCE_SHARE_SIGN_INS_PER_CLIENT_MINUTE", 30)?,
            sign_ins_per_user_minute: parse_nonzero(&get, "GLANCE_SHARE_SIGN_INS_PER_USER_MINUTE", 10)?,
            client_ip_header: match get("GLANCE_SHARE_CLIENT_IP_HEADER") {
                None => None,
                Some(v) => Some(http::HeaderName::try_from(v.trim()).map_err(|_| ConfigError {
                    name: "GLANCE_SHARE_CLIENT_IP_HEADER",
                    value: v.clone(),
                    reason: "expected an HTTP header name such as X-Forwarded-For".into(),
                })?),
            },
        })
    }

    /// Records the address actually bound (port 0 picks a free one); an unconfigured public
    /// URL follows it.
    pub fn bound_to(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        if self.public_url_is_listen
            && let Ok(url) = Url::parse(&format!("http://{addr}"))
        {
            self.public_url = url;
        }
        self
    }

    /// Where the key sealing tokens in session records is: the setting, else a file beside the
    /// session store (for Redis, in the working directory). `None` for sessions in memory:
    /// they end with the process, so a key of its own is enough.
    pub fn secret_key_file(&self) -> Option<PathBuf> {
        const DEFAULT: &str = "glance-share-secret.key";
        match (&self.secret_key_file_setting, &self.session_store) {
            (Some(path), _) => Some(path.clone()),
            (None, SessionStoreKind::Sqlite(store)) => Some(store.with_file_name(DEFAULT)),
            (None, SessionStoreKind::Redis(_)) => Some(PathBuf::from(DEFAULT)),
            (None, SessionStoreKind::Memory) => None,
        }
    }

    /// The origin (scheme://host:port) that state-changing requests must come from.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError { name, value: value.into(), reason: "expected true or false".into() }),
    }
}

fn parse_number(
    get: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ConfigError { name, value: v, reason: "expected a whole number above 0".into() }),
        },
    }
}

/// The file of a `sqlite://PATH` setting.
fn sqlite_path(name: &'static str, value: &str, expected: &str) -> Result<PathBuf, ConfigError> {
    match value.strip_prefix("sqlite://") {
        Some(path) if !path.is_empty() => Ok(PathBuf::from(path)),
        _ => Err(ConfigError { name, value: value.into(), reason: expected.into() }),
    }
}

fn parse_nonzero(
    get: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: u32,
) -> Result<NonZeroU32, ConfigError> {
    let n = parse_number(get, name, default.into())?;
    NonZeroU32::new(u32::try_from(n).unwrap_or(u32::MAX)).ok_or_else(|| ConfigError {
        name,
        value: n.to_string(),
        reason: "expected a whole number above 0".into(),
    })
}

/// Requests handled at once unless configured: 16 per core, at least 16. A page renders on
/// the CPU, and each request in hand holds its page until it is sent: past a few per core more
/// requests in hand add no throughput, only memory (benchmark 5's peak RSS), so the rest wait
/// in line, where they cost nothing.
fn default_concurrent_requests() -> u64 {
    (16 * cores() as u64).max(16)
}

/// The cores this process may use (1 when the system cannot tell).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut env: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.insert("OS_AUTH_URL".into(), "http://127.0.0.1:5000/v3".into());
        Config::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_environment() {
        let c = config(&[]).unwrap();
        assert_eq!(c.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(c.public_origin(), "http://127.0.0.1:3000");
        assert!(!c.secure_cookies);
        assert_eq!(c.cookie_name, "glance_share_session");
        assert_eq!(c.session_idle, Duration::from_secs(3600));
        assert_eq!(c.session_store, SessionStoreKind::Sqlite("glance-share-sessions.sqlite".into()));
        assert_eq!(c.batch_concurrency, 8, "the issue's default: 8 Glance calls at once");
        assert_eq!(config(&[("GLANCE_SHARE_BATCH_CONCURRENCY", "3")]).unwrap().batch_concurrency, 3);
    }

    #[test]
    fn https_public_url_turns_on_secure_cookies() {
        let c = config(&[("GLANCE_SHARE_PUBLIC_URL", "https://images.example.org/")]).unwrap();
        assert!(c.secure_cookies);
        assert_eq!(c.public_origin(), "https://images.example.org");
        let c = config(&[
            ("GLANCE_SHARE_PUBLIC_URL", "https://images.example.org/"),
            ("GLANCE_SHARE_SECURE_COOKIES", "false"),
        ])
        .unwrap();
        assert!(!c.secure_cookies);
    }

    #[test]
    fn bad_values_name_the_setting() {
        assert_eq!(config(&[("GLANCE_SHARE_LISTEN", "nowhere")]).unwrap_err().name, "GLANCE_SHARE_LISTEN");
        assert_eq!(config(&[("GLANCE_SHARE_PUBLIC_URL", "ftp://x")]).unwrap_err().name, "GLANCE_SHARE_PUBLIC_URL");
        assert_eq!(
            config(&[("GLANCE_SHARE_SESSION_STORE", "postgres://x")]).unwrap_err().name,
            "GLANCE_SHARE_SESSION_STORE"
        );
        assert_eq!(
            config(&[("GLANCE_SHARE_SESSION_IDLE_MINUTES", "0")]).unwrap_err().name,
            "GLANCE_SHARE_SESSION_IDLE_MINUTES"
        );
    }

    #[test]
    fn requests_in_hand_scale_with_the_cores_unless_set() {
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(config(&[]).unwrap().max_concurrent_requests, (16 * cores).max(16));
        let c = config(&[("GLANCE_SHARE_MAX_CONCURRENT_REQUESTS", "100")]).unwrap();
        assert_eq!(c.max_concurrent_requests, 100);
    }

    #[test]
    fn one_serving_thread_per_core_unless_set() {
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(config(&[]).unwrap().server_threads, cores);
        assert_eq!(config(&[("GLANCE_SHARE_SERVER_THREADS", "3")]).unwrap().server_threads, 3);
        assert!(config(&[("GLANCE_SHARE_SERVER_THREADS", "0")]).is_err());
        assert!(config(&[("GLANCE_SHARE_SERVER_THREADS", "two")]).is_err());
    }

    #[test]
    fn sign_in_limits_and_the_proxy_header() {
        let c = config(&[]).unwrap();
        assert_eq!((c.sign_ins_per_client_minute.get(), c.sign_ins_per_user_minute.get()), (30, 10));
        assert_eq!(c.client_ip_header, None);
        let c = config(&[("GLANCE_SHARE_CLIENT_IP_HEADER", "X-Forwarded-For")]).unwrap();
        assert_eq!(c.client_ip_header.unwrap(), "x-forwarded-for");
        for (name, value) in [
            ("GLANCE_SHARE_CLIENT_IP_HEADER", "not a header"),
            ("GLANCE_SHARE_SIGN_INS_PER_USER_MINUTE", "0"),
            ("GLANCE_SHARE_SIGN_INS_PER_CLIENT_MINUTE", "many"),
        ] {
            assert_eq!(config(&[(name, value)]).unwrap_err().name, name);
        }
    }

    #[test]
    fn an_unset_public_url_follows_the_bound_port() {
        let c = config(&[("GLANCE_SHARE_LISTEN", "127.0.0.1:0")]).unwrap().bound_to("127.0.0.1:4321".parse().unwrap());
        assert_eq!(c.public_origin(), "http://127.0.0.1:4321");
        let c = config(&[("GLANCE_SHARE_PUBLIC_URL", "https://x.example")])
            .unwrap()
            .bound_to("127.0.0.1:4321".parse().unwrap());
        assert_eq!(c.public_origin(), "https://x.example");
    }

    #[test]
    fn the_secret_key_file_follows_the_session_store_unless_set() {
        let key = |pairs: &[(&str, &str)]| config(pairs).unwrap().secret_key_file();
        assert_eq!(key(&[]), Some("glance-share-secret.key".into()));
        assert_eq!(
            key(&[("GLANCE_SHARE_SESSION_STORE", "sqlite:///var/lib/gs/s.db")]),
            Some("/var/lib/gs/glance-share-secret.key".into())
        );
        assert_eq!(key(&[("GLANCE_SHARE_SESSION_STORE", "redis://r:6379/0")]), Some("glance-share-secret.key".into()));
        assert_eq!(key(&[("GLANCE_SHARE_SESSION_STORE", "memory")]), None);
        assert_eq!(
            key(&[("GLANCE_SHARE_SESSION_STORE", "memory"), ("GLANCE_SHARE_SECRET_KEY_FILE", "/etc/gs/key")]),
            Some("/etc/gs/key".into())
        );
    }

    #[test]
    fn audit_log_choices() {
        let audit = |value: &str| config(&[("GLANCE_SHARE_AUDIT_LOG", value)]).map(|c| c.audit_store);
        assert_eq!(config(&[]).unwrap().audit_store, AuditStoreKind::Sqlite("glance-share-audit.sqlite".into()));
        assert_eq!(audit("memory").unwrap(), AuditStoreKind::Memory);
        assert_eq!(audit("sqlite:///var/lib/gs/a.db").unwrap(), AuditStoreKind::Sqlite("/var/lib/gs/a.db".into()));
        for url in ["postgres://gs:secret@db.example:5432/gs", "postgresql://gs@10.0.0.7/gs?sslmode=require"] {
            assert_eq!(audit(url).unwrap(), AuditStoreKind::Postgres(PostgresUrl::parse(url).unwrap()));
        }
    }

    #[test]
    fn a_bad_audit_log_names_the_setting_and_never_its_password() {
        for value in ["postgres://gs:s3cret@/gs", "postgresql://gs:s3cret@db:notaport/gs", "mysql://gs:s3cret@db/gs"] {
            let e = config(&[("GLANCE_SHARE_AUDIT_LOG", value)]).unwrap_err();
            assert_eq!(e.name, "GLANCE_SHARE_AUDIT_LOG");
            assert!(!e.to_string().contains("s3cret"), "{e}");
        }
        // Shown or logged, a good URL keeps its password to itself as well.
        let url = PostgresUrl::parse("postgres://gs:s3cret@db:5432/gs").unwrap();
        assert_eq!(url.to_string(), "postgres://***@db:5432/gs");
        assert!(
            !format!("{:?}", config(&[("GLANCE_SHARE_AUDIT_LOG", "postgres://gs:s3cret@db/gs")])).contains("s3cret")
        );
    }

    #[test]
    fn session_store_choices() {
        assert_eq!(
            config(&[("GLANCE_SHARE_SESSION_STORE", "memory")]).unwrap().session_store,
            SessionStoreKind::Memory
        );
        assert_eq!(
            config(&[("GLANCE_SHARE_SESSION_STORE", "sqlite:///var/lib/gs/s.db")]).unwrap().session_store,
            SessionStoreKind::Sqlite("/var/lib/gs/s.db".into())
        );
        assert_eq!(
            config(&[("GLANCE_SHARE_SESSION_STORE", "redis://10.0.0.5:6379/2")]).unwrap().session_store,
            SessionStoreKind::Redis("redis://10.0.0.5:6379/2".into())
        );
    }
}
