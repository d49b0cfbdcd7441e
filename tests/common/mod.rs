//! Shared helpers for the integration tests: the real local Keystone + Glance lab and the real
//! server binary, started on a free port.
#![allow(dead_code)]

mod postgres;
#[allow(unused_imports)] // Only some test binaries start PostgreSQL.
pub use postgres::Postgres;

use std::{
    collections::HashMap,
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The lab's settings (`.lab/lab.env`), after making sure the lab runs.
pub struct Lab {
    pub env: HashMap<String, String>,
}

impl Lab {
    pub fn get(&self, key: &str) -> &str {
        self.env.get(key).unwrap_or_else(|| panic!("{key} missing from lab.env")).as_str()
    }
    pub fn keystone_url(&self) -> &str {
        self.get("LAB_KEYSTONE_URL")
    }
    pub fn glance_url(&self) -> &str {
        self.get("LAB_GLANCE_URL")
    }
    /// User name, password and default project of a lab user: producer, consumer or admin.
    pub fn account(&self, who: &str) -> (&str, &str, &str) {
        let key = match who {
            "producer" => "PRODUCER",
            "consumer" => "CONSUMER",
            "admin" => "ADMIN",
            other => panic!("no lab user {other}"),
        };
        let get = |part: &str| self.get(&format!("LAB_{key}_{part}"));
        (get("USER"), get("PASSWORD"), get("PROJECT"))
    }
}

/// Starts the lab once per test binary (`lab.sh start` is idempotent and takes seconds when
/// the lab already runs).
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let root = project_root();
        let status = Command::new(root.join("lab/lab.sh"))
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .expect("could not run lab/lab.sh");
        assert!(status.success(), "lab/lab.sh start failed: the integration tests need the local Keystone + Glance");
        let text = std::fs::read_to_string(lab_dir().join("lab.env")).expect("lab.env is missing");
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
            .collect();
        Lab { env }
    })
}

pub fn lab_dir() -> PathBuf {
    std::env::var("GLANCE_SHARE_LAB_DIR").map(PathBuf::from).unwrap_or_else(|_| project_root().join(".lab"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The release server binary, running until dropped.
pub struct Server {
    pub base: String,
    child: Child,
    /// The server's log lines, shown when a test fails to start it.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the server on a free port with the lab's clouds and the given extra environment.
    pub fn start(extra_env: &[(&str, &str)]) -> Server {
        lab();
        let target =
            std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| project_root().join("target"));
        let site = target.join("site");
        assert!(
            site.join("pkg/glance-share.wasm").exists() || site.join("pkg/glance-share_bg.wasm").exists(),
            "no hydrate bundle in {}: run `cargo leptos build --release` first (scripts/test does)",
            site.display()
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_glance-share"));
        cmd.env("LEPTOS_SITE_ROOT", &site)
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_OUTPUT_NAME", "glance-share")
            .env("GLANCE_SHARE_LISTEN", "127.0.0.1:0")
            .env("GLANCE_SHARE_SESSION_STORE", "memory")
            .env("GLANCE_SHARE_AUDIT_LOG", "memory")
            .env("OS_CLIENT_CONFIG_FILE", lab_dir().join("clouds.yaml"))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("could not start the server binary");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(addr) = line.split("listening on http://").nth(1) {
                        let _ = tx.send(addr.trim().to_string());
                    }
                    log.lock().unwrap().push(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start within 30 s:\n{}", log.lock().unwrap().join("\n"));
            }
        };
        Server { base: format!("http://{addr}"), child, log }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the graceful shutdown.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(25);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop within 25 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP client that does not follow redirects, so tests see them.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Sends a set-up or checking call straight to the lab, once more if the connection dropped:
/// uWSGI now and then closes one before answering, and that is not what the tests test.
pub async fn lab_call(req: reqwest::RequestBuilder) -> reqwest::Response {
    let again = req.try_clone().expect("lab calls have no streamed body");
    match req.send().await {
        Err(e) if e.is_connect() || e.is_request() => {
            eprintln!("lab call dropped ({e}); once more");
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            again.send().await.unwrap()
        }
        res => res.unwrap(),
    }
}

/// A browser signed in with a password as one of the lab's users: producer, consumer or admin.
pub async fn signed_in_as(server: &Server, who: &str) -> Browser {
    let (user, password, project) = lab().account(who);
    let browser = Browser::new(server);
    let (status, body) = browser.sign_in_password(user, password, project).await;
    assert_eq!(status, 200, "{who} could not sign in: {body}");
    browser
}

/// A browser stand-in: keeps the session cookie, sends the Origin a page of the dashboard would,
/// and calls server functions the way the hydrated app does.
pub struct Browser {
    pub base: String,
    pub cookie: std::sync::Mutex<Option<String>>,
    /// The "was signed in" marker cookie, kept by the browser after the session's own.
    pub marker: std::sync::Mutex<bool>,
    http: reqwest::Client,
}

pub const COOKIE_NAME: &str = "glance_share_session";
pub const MARKER_COOKIE: &str = "glance_share_session_was_signed_in";

impl Browser {
    pub fn new(server: &Server) -> Browser {
        Browser {
            base: server.base.clone(),
            cookie: std::sync::Mutex::new(None),
            marker: std::sync::Mutex::new(false),
            http: http(),
        }
    }

    pub fn on(&self, server: &Server) -> Browser {
        Browser {
            base: server.base.clone(),
            cookie: std::sync::Mutex::new(self.cookie()),
            marker: std::sync::Mutex::new(*self.marker.lock().unwrap()),
            http: http(),
        }
    }

    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    fn remember(&self, res: &reqwest::Response) {
        for value in res.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap();
            if let Some(rest) = value.strip_prefix(&format!("{COOKIE_NAME}=")) {
                let id = rest.split(';').next().unwrap().to_string();
                *self.cookie.lock().unwrap() = if id.is_empty() { None } else { Some(id) };
            }
            if let Some(rest) = value.strip_prefix(&format!("{MARKER_COOKIE}=")) {
                *self.marker.lock().unwrap() = rest.starts_with('1') && !rest.contains("Max-Age=0");
            }
        }
    }

    fn with_cookie(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut cookies: Vec<String> = self.cookie().map(|c| format!("{COOKIE_NAME}={c}")).into_iter().collect();
        if *self.marker.lock().unwrap() {
            cookies.push(format!("{MARKER_COOKIE}=1"));
        }
        if cookies.is_empty() { req } else { req.header("cookie", cookies.join("; ")) }
    }

    /// Navigates to a page as a browser does (which is what makes Leptos answer redirects with 302).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let req = self.http.get(format!("{}{path}", self.base)).header("accept", "text/html,application/xhtml+xml");
        let res = self.with_cookie(req).send().await.unwrap();
        self.remember(&res);
        res
    }

    /// Calls server function `name` as the hydrated app does (fetch, JSON answer).
    pub async fn call(&self, name: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let req = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header("origin", &self.base)
            .header("accept", "application/json")
            .form(form);
        let res = self.with_cookie(req).send().await.unwrap();
        self.remember(&res);
        res
    }

    /// Posts a form as a browser without JavaScript does.
    pub async fn post_form(&self, name: &str, form: &[(&str, &str)], from_page: &str) -> reqwest::Response {
        let req = self
            .http
            .post(format!("{}/api/{name}", self.base))
            .header("origin", &self.base)
            .header("referer", format!("{}{from_page}", self.base))
            .header("accept", "text/html,application/xhtml+xml")
            .form(form);
        let res = self.with_cookie(req).send().await.unwrap();
        self.remember(&res);
        res
    }

    pub async fn call_json(&self, name: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let res = self.call(name, form).await;
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }

    pub async fn whoami(&self) -> serde_json::Value {
        let (status, body) = self.call_json("whoami", &[]).await;
        assert!(status == 200 || status == 401, "whoami answered {status}: {body}");
        body
    }

    pub async fn sign_in_application_credential(&self, id: &str, secret: &str) -> (u16, serde_json::Value) {
        self.call_json(
            "sign_in",
            &[
                ("cloud", "lab"),
                ("method", "application-credential"),
                ("credential_id", id),
                ("credential_secret", secret),
            ],
        )
        .await
    }

    pub async fn sign_in_token(&self, token: &str) -> (u16, serde_json::Value) {
        self.call_json("sign_in", &[("cloud", "lab"), ("method", "token"), ("token", token)]).await
    }

    pub async fn sign_in_password(&self, user: &str, password: &str, project: &str) -> (u16, serde_json::Value) {
        self.call_json(
            "sign_in",
            &[
                ("cloud", "lab"),
                ("method", "password"),
                ("user_name", user),
                ("password", password),
                ("project", project),
            ],
        )
        .await
    }
}

/// Direct Keystone calls the tests use to set things up and to check what the dashboard did.
pub struct KeystoneDirect<'a> {
    pub lab: &'a Lab,
}

impl KeystoneDirect<'_> {
    pub async fn password_token(&self, user: &str, password: &str, project: &str) -> (String, serde_json::Value) {
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}
        }});
        let res = lab_call(http().post(format!("{}/auth/tokens", self.lab.keystone_url())).json(&body)).await;
        assert_eq!(res.status(), 201, "lab sign-in for {user} failed");
        let token = res.headers()["x-subject-token"].to_str().unwrap().to_string();
        (token, res.json().await.unwrap())
    }

    pub async fn producer_token(&self) -> String {
        let (user, password, project) = self.lab.account("producer");
        self.password_token(user, password, project).await.0
    }

    /// Status of `GET /v3/auth/tokens` for `token`, checked with an admin token.
    pub async fn token_status(&self, token: &str) -> u16 {
        let (admin, _) = self
            .password_token(
                self.lab.get("LAB_ADMIN_USER"),
                self.lab.get("LAB_ADMIN_PASSWORD"),
                self.lab.get("LAB_ADMIN_PROJECT"),
            )
            .await;
        lab_call(
            http()
                .get(format!("{}/auth/tokens", self.lab.keystone_url()))
                .header("x-auth-token", admin)
                .header("x-subject-token", token),
        )
        .await
        .status()
        .as_u16()
    }

    pub async fn revoke(&self, token: &str) {
        let res = http()
            .delete(format!("{}/auth/tokens", self.lab.keystone_url()))
            .header("x-auth-token", token)
            .header("x-subject-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    }

    /// An application credential of the producer user, valid for `lifetime` (or for ever).
    pub async fn producer_application_credential(&self, lifetime: Option<time::Duration>) -> (String, String) {
        let (token, body) = self
            .password_token(
                self.lab.get("LAB_PRODUCER_USER"),
                self.lab.get("LAB_PRODUCER_PASSWORD"),
                self.lab.get("LAB_PRODUCER_PROJECT"),
            )
            .await;
        let user_id = body["token"]["user"]["id"].as_str().unwrap();
        let expires = lifetime.map(|l| {
            (time::OffsetDateTime::now_utc() + l).format(&time::format_description::well_known::Rfc3339).unwrap()
        });
        self.application_credential(&token, user_id, expires.as_deref()).await
    }

    /// Creates an application credential for the token's user; `expires_at` RFC 3339 or none.
    pub async fn application_credential(
        &self,
        token: &str,
        user_id: &str,
        expires_at: Option<&str>,
    ) -> (String, String) {
        let name = format!("gs-test-{}", uuid::Uuid::new_v4().simple());
        let body = serde_json::json!({"application_credential": {"name": name, "expires_at": expires_at}});
        let res = http()
            .post(format!("{}/users/{user_id}/application_credentials", self.lab.keystone_url()))
            .header("x-auth-token", token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "creating an application credential failed");
        let v: serde_json::Value = res.json().await.unwrap();
        let cred = &v["application_credential"];
        (cred["id"].as_str().unwrap().to_string(), cred["secret"].as_str().unwrap().to_string())
    }
}

/// Everything a response shows the browser: status, headers and body, as text.
pub async fn dump(res: reqwest::Response) -> String {
    let head = format!("{} {:?}", res.status(), res.headers());
    format!("{head}\n{}", res.text().await.unwrap_or_default())
}

/// The sentence a user reads for an error a server function returned.
pub fn user_message(body: &serde_json::Value) -> String {
    match serde_json::from_value::<glance_share::error::AppError>(body.clone()) {
        Ok(e) => e.to_string(),
        Err(_) => panic!("not an AppError: {body}"),
    }
}

/// Direct Glance calls with one user's token: set-up, clean-up, and the state tests check.
pub struct GlanceDirect {
    pub url: String,
    pub token: String,
}

impl GlanceDirect {
    pub async fn as_user(lab: &Lab, who: &str, region_url_key: &str) -> GlanceDirect {
        let (user, password, project) = lab.account(who);
        let (token, _) = KeystoneDirect { lab }.password_token(user, password, project).await;
        GlanceDirect { url: lab.get(region_url_key).to_string(), token }
    }

    /// A new image with no data; dropped by `delete` (tests call it at their end).
    pub async fn create_image(&self, name: &str, visibility: &str) -> String {
        let res = http()
            .post(format!("{}/v2/images", self.url))
            .header("x-auth-token", &self.token)
            .json(&serde_json::json!({"name": name, "visibility": visibility, "disk_format": "raw", "container_format": "bare"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "creating an image failed");
        res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    pub async fn delete_image(&self, id: &str) {
        let _ = http().delete(format!("{}/v2/images/{id}", self.url)).header("x-auth-token", &self.token).send().await;
    }

    pub async fn image(&self, id: &str) -> (u16, serde_json::Value) {
        let res =
            lab_call(http().get(format!("{}/v2/images/{id}", self.url)).header("x-auth-token", &self.token)).await;
        (res.status().as_u16(), res.json().await.unwrap_or_default())
    }

    /// `(status, [(member_id, status)])` of `GET members`, sorted.
    pub async fn members(&self, id: &str) -> (u16, Vec<(String, String)>) {
        let res =
            lab_call(http().get(format!("{}/v2/images/{id}/members", self.url)).header("x-auth-token", &self.token))
                .await;
        let status = res.status().as_u16();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let mut members: Vec<(String, String)> = body["members"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        (
                            m["member_id"].as_str().unwrap_or_default().to_string(),
                            m["status"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        members.sort();
        (status, members)
    }

    pub async fn add_member(&self, id: &str, member: &str) {
        let res = http()
            .post(format!("{}/v2/images/{id}/members", self.url))
            .header("x-auth-token", &self.token)
            .json(&serde_json::json!({"member": member}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "adding a member directly failed");
    }
}

/// Deletes the images a test made, even when it fails half-way.
pub struct Cleanup {
    pub glance: GlanceDirect,
    pub images: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let images = std::mem::take(&mut self.images);
        let glance = GlanceDirect { url: self.glance.url.clone(), token: self.glance.token.clone() };
        // Drop runs outside async: use a small runtime of its own.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                for id in images {
                    glance.delete_image(&id).await;
                }
            })
        })
        .join();
    }
}

/// Polls a batch until it has finished (at most `seconds`) and returns its final view.
pub async fn wait_finished(browser: &Browser, batch_id: &str, seconds: u64) -> serde_json::Value {
    for _ in 0..seconds * 10 {
        let (status, view) = browser.call_json("batch_status", &[("batch_id", batch_id)]).await;
        assert_eq!(status, 200, "{view}");
        if view["finished"] == true {
            return view;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the batch did not finish within {seconds} s");
}

/// `(image, member) -> outcome kind` ("Done", "AlreadyMember", "Forbidden", …) of a batch
/// view; panics on a pair without an outcome or a pair reported twice.
pub fn outcome_kinds(view: &serde_json::Value) -> HashMap<(String, String), String> {
    let pairs = view["pairs"].as_array().unwrap_or_else(|| panic!("not a batch view: {view}"));
    let map: HashMap<_, _> = pairs
        .iter()
        .map(|p| {
            let outcome = match &p["outcome"] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Object(o) => o.keys().next().unwrap().clone(),
                other => panic!("pair without an outcome: {other}"),
            };
            ((p["image_id"].as_str().unwrap().to_string(), p["member_id"].as_str().unwrap().to_string()), outcome)
        })
        .collect();
    assert_eq!(map.len(), pairs.len(), "a pair was reported twice: {view}");
    map
}

/// Starts a batch as the hydrated app does (the answer comes at once) and returns its id.
pub async fn start_batch(browser: &Browser, form: &[(&str, &str)]) -> String {
    let (status, id) = browser.call_json("batch_start", form).await;
    assert_eq!(status, 200, "{id}");
    id.as_str().unwrap_or_else(|| panic!("not a batch id: {id}")).to_string()
}

impl GlanceDirect {
    /// A member's answer, set with this user's token (the member project's own answer).
    pub async fn set_member_status(&self, id: &str, member: &str, status: &str) {
        let res = lab_call(
            http()
                .put(format!("{}/v2/images/{id}/members/{member}", self.url))
                .header("x-auth-token", &self.token)
                .json(&serde_json::json!({"status": status})),
        )
        .await;
        assert_eq!(res.status(), 200, "setting a member's status directly failed");
    }
}

impl Server {
    /// Sends `signal` ("TERM", "INT", ...) and waits (at most 25 s) for the process to end.
    pub fn stop_with(mut self, signal: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status();
        let child = &mut self.child;
        (0..500)
            .find_map(|_| {
                let exited = child.try_wait().unwrap();
                if exited.is_none() {
                    std::thread::sleep(Duration::from_millis(50));
                }
                exited
            })
            .unwrap_or_else(|| panic!("the server did not stop within 25 s of SIG{signal}"))
    }

    /// Waits (at most 5 s) until a log line satisfies `matches`, and returns it.
    pub async fn wait_for_log(&self, matches: impl Fn(&str) -> bool) -> Option<String> {
        for _ in 0..50 {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| matches(l)) {
                return Some(line.clone());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

/// A fresh SQLite session store for one test: (its directory, the file, the setting's value).
/// With it a test can look at what the server keeps: the tokens it signed in with.
pub fn sqlite_store() -> (PathBuf, PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("gs-sessions-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sessions.sqlite");
    let url = format!("sqlite://{}", file.display());
    (dir, file, url)
}

/// One stored session: its id (the cookie's value), its data as stored, its expiry.
pub struct StoredSession {
    pub id: String,
    pub data: Vec<u8>,
    pub expiry: time::OffsetDateTime,
}

/// Every session in a SQLite session store, read beside the server that writes it.
pub async fn stored_sessions(file: &std::path::Path) -> Vec<StoredSession> {
    use tower_sessions_sqlx_store::sqlx;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file).read_only(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("cannot open the session store");
    let rows: Vec<(String, Vec<u8>, time::OffsetDateTime)> =
        sqlx::query_as("select id, data, expiry_date from tower_sessions").fetch_all(&pool).await.unwrap();
    pool.close().await;
    rows.into_iter().map(|(id, data, expiry)| StoredSession { id, data, expiry }).collect()
}

/// Every Keystone (fernet) token in `bytes`: the tokens a session holds.
pub fn fernet_tokens(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = Vec::new();
    for (at, _) in text.match_indices("gAAAAA") {
        let token: String =
            text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=')).collect();
        if token.len() > 100 && !found.contains(&token) {
            found.push(token);
        }
    }
    found
}

/// The tokens all sessions of a SQLite store hold right now: sealed ones opened with the
/// key the server made beside the store, and any in the clear.
pub async fn stored_tokens(file: &std::path::Path) -> Vec<String> {
    let key = glance_share::secret_key::SecretKey::load(&file.with_file_name("glance-share-secret.key")).ok();
    let mut tokens = Vec::new();
    for s in stored_sessions(file).await {
        let opened = key.iter().flat_map(|key| sealed_tokens(&s.data, key));
        for t in fernet_tokens(&s.data).into_iter().chain(opened) {
            if !tokens.contains(&t) {
                tokens.push(t);
            }
        }
    }
    tokens
}

/// Every sealed value in `bytes` that opens with `key`: the tokens a session holds.
pub fn sealed_tokens(bytes: &[u8], key: &glance_share::secret_key::SecretKey) -> Vec<String> {
    use glance_share::secret_key::SEALED_PREFIX;
    let text = String::from_utf8_lossy(bytes);
    text.match_indices(SEALED_PREFIX)
        .filter_map(|(at, _)| {
            let rest = &text[at + SEALED_PREFIX.len()..];
            let body: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).collect();
            key.open(&format!("{SEALED_PREFIX}{body}"))
        })
        .collect()
}

/// The `Set-Cookie` headers of a response that set cookie `name`.
pub fn set_cookies(res: &reqwest::Response, name: &str) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .filter(|c| c.starts_with(&format!("{name}=")))
        .collect()
}

/// A cookie's `Max-Age` in seconds, if it has one.
pub fn max_age(set_cookie: &str) -> Option<i64> {
    set_cookie.split(';').find_map(|p| p.trim().strip_prefix("Max-Age=")).map(|v| v.parse().unwrap())
}

/// The sign-in form's fields for a password sign-in to the lab as `(user, password, project)`.
pub fn password_form<'a>(who: (&'a str, &'a str, &'a str)) -> Vec<(&'static str, &'a str)> {
    let (user, password, project) = who;
    vec![("cloud", "lab"), ("method", "password"), ("user_name", user), ("password", password), ("project", project)]
}

/// A password sign-in posted straight to `server` as if from `origin`, with no cookie kept.
pub async fn post_password_sign_in(server: &Server, origin: &str, who: (&str, &str, &str)) -> reqwest::Response {
    let (user, password, project) = who;
    http()
        .post(server.url("/api/sign_in"))
        .header("origin", origin)
        .header("accept", "application/json")
        .form(&[
            ("cloud", "lab"),
            ("method", "password"),
            ("user_name", user),
            ("password", password),
            ("project", project),
        ])
        .send()
        .await
        .unwrap()
}

/// A clouds.yaml in a new temporary directory: the lab (in RegionOne) and one cloud per
/// `(name, port)` whose Keystone is at that local port.
pub fn clouds_file(others: &[(&str, u16)]) -> PathBuf {
    let mut text =
        format!("clouds:\n  lab:\n    auth:\n      auth_url: {}\n    region_name: RegionOne\n", lab().keystone_url());
    for (name, port) in others {
        text.push_str(&format!("  {name}:\n    auth:\n      auth_url: http://127.0.0.1:{port}/v3\n"));
    }
    let dir = std::env::temp_dir().join(format!("gs-clouds-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clouds.yaml");
    std::fs::write(&file, text).unwrap();
    file
}

impl KeystoneDirect<'_> {
    /// A token of the consumer user, scoped to the consumer project.
    pub async fn consumer_token(&self) -> String {
        let (user, password, project) = self.lab.account("consumer");
        self.password_token(user, password, project).await.0
    }
}

/// `redis-server` from Debian on a free port, with nothing written to disk; stopped on drop.
pub struct Redis {
    pub url: String,
    pub port: u16,
    child: Child,
}

impl Redis {
    pub fn start() -> Redis {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is not installed (scripts/setup installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen within 10 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis { url: format!("redis://127.0.0.1:{port}"), port, child }
    }

    /// Everything Redis holds, every key's value as bytes (what a dump of it would give away).
    pub fn everything(&self) -> Vec<u8> {
        let cli = |args: &[&str]| {
            let out = Command::new("redis-cli").args(["-p", &self.port.to_string(), "--raw"]).args(args).output();
            out.expect("redis-cli is not installed (it comes with redis-server)").stdout
        };
        let keys = String::from_utf8(cli(&["KEYS", "*"])).unwrap();
        keys.lines().filter(|k| !k.is_empty()).flat_map(|k| cli(&["GET", k])).collect()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server binary expecting it to refuse to start within `within`: its exit status
/// and what it logged. `env` comes after the lab's clouds and a free port.
pub fn refused_start(env: &[(&str, &str)], within: Duration) -> (std::process::ExitStatus, String) {
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| project_root().join("target"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_glance-share"))
        .env("LEPTOS_SITE_ROOT", target.join("site"))
        .env("LEPTOS_SITE_PKG_DIR", "pkg")
        .env("LEPTOS_OUTPUT_NAME", "glance-share")
        .env("GLANCE_SHARE_LISTEN", "127.0.0.1:0")
        .env("OS_CLIENT_CONFIG_FILE", lab_dir().join("clouds.yaml"))
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + within;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("the server started anyway:\n{}", String::from_utf8_lossy(&out.stdout));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (out.status, format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}
