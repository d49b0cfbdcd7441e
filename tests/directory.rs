//! Issue 14: project names through the operator's directory reader (a Keystone user with
//! `reader` at system scope, from the lab), against the real lab: names where projects are
//! shown, sharing by name, ambiguous names, deleted projects, the own-domain setting, the
//! shared cache in Redis, and the reader's secret kept out of every log, page and answer.

mod common;

use common::{Browser, Cleanup, GlanceDirect, KeystoneDirect, Redis, Server, http, lab, lab_call, signed_in_as};
use serde_json::{Value, json};

/// The glance-share environment of a directory reader as the lab provides it.
fn directory_env(reveal: &str) -> Vec<(&'static str, String)> {
    let lab = lab();
    vec![
        ("GLANCE_SHARE_DIRECTORY_USER", lab.get("LAB_DIRECTORY_USER").to_string()),
        ("GLANCE_SHARE_DIRECTORY_PASSWORD_FILE", lab.get("LAB_DIRECTORY_PASSWORD_FILE").to_string()),
        ("GLANCE_SHARE_DIRECTORY_REVEAL", reveal.to_string()),
    ]
}

fn start(env: &[(&'static str, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start(&env)
}

fn unique(name: &str) -> String {
    format!("gs-test-{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

async fn shared_image(name: &str) -> (GlanceDirect, String, Cleanup) {
    let glance = GlanceDirect::as_user(lab(), "producer", "LAB_GLANCE_URL").await;
    let id = glance.create_image(&unique(name), "shared").await;
    let cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![id.clone()],
    };
    (glance, id, cleanup)
}

async fn page(browser: &Browser, path: &str) -> String {
    let res = browser.get(path).await;
    assert_eq!(res.status(), 200, "{path}: {:?}", res.headers().get("location"));
    res.text().await.unwrap()
}

/// The checks of a share that asked first, as (entry, check) pairs.
fn checks(report: &Value) -> Vec<(String, Value)> {
    report["NeedsConfirmation"]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("not a question: {report}"))
        .iter()
        .map(|pair| (pair[0].as_str().unwrap().to_string(), pair[1].clone()))
        .collect()
}

#[tokio::test]
async fn the_image_page_terraform_and_history_name_member_projects_and_their_domains() {
    let lab = lab();
    let (glance, image, _cleanup) = shared_image("names").await;
    let (consumer, partner) = (lab.get("LAB_CONSUMER_PROJECT_ID"), lab.get("LAB_PARTNER_ONE_PROJECT_ID"));
    glance.add_member(&image, partner).await;

    // Without a directory, the producer (an ordinary member) cannot name a project of another
    // domain: the page shows its ID only.
    let plain = Server::start(&[]);
    let before = page(&signed_in_as(&plain, "producer").await, &format!("/images/{image}")).await;
    assert!(before.contains(partner) && !before.contains("partner-one"), "no name without a directory");
    assert!(before.contains("GLANCE_SHARE_DIRECTORY_"), "the page says how an operator turns names on");

    let server = start(&directory_env("all"));
    let producer = signed_in_as(&server, "producer").await;
    let (code, body) = producer.call_json("share", &[("image_id", &image), ("members", consumer)]).await;
    assert_eq!(code, 200, "a project the directory names is shared with at once: {body}");
    let html = page(&producer, &format!("/images/{image}")).await;
    assert!(html.contains(">partner-one<") && html.contains(" (partners)"), "name and domain: {html}");
    assert!(html.contains(">consumer<") && html.contains(" (Default)"));
    assert!(html.contains(partner) && html.contains(consumer), "the IDs stay one click away");
    assert!(html.contains("shared with consumer (Default)"), "History names the member project");
    assert!(!html.contains("GLANCE_SHARE_DIRECTORY_"), "no hint once names are on");

    let tf = producer.get(&format!("/images/{image}/terraform")).await.text().await.unwrap();
    assert!(tf.contains("# project: partner-one (partners)") && tf.contains("# project: consumer (Default)"), "{tf}");
    assert!(tf.contains(&format!("member_id = \"{partner}\"")), "the ID stays the truth: {tf}");
}

#[tokio::test]
async fn consumers_see_who_offers_an_image_by_name_in_shared_with_me_and_the_inbox() {
    let lab = lab();
    let (glance, image, _cleanup) = shared_image("owner-name").await;
    glance.add_member(&image, lab.get("LAB_CONSUMER_PROJECT_ID")).await;
    let server = start(&directory_env("all"));
    let consumer = signed_in_as(&server, "consumer").await;
    let producer_project = lab.get("LAB_PRODUCER_PROJECT_ID");
    for path in ["/images?tab=shared&status=all", "/inbox"] {
        let html = page(&consumer, path).await;
        let at = html.find(&image).unwrap_or_else(|| panic!("{path} lists the offer: {html}"));
        let row = &html[html[..at].rfind("<tr").unwrap()..];
        let row = &row[..row.find("</tr>").unwrap_or_else(|| panic!("{row}"))];
        assert!(
            row.contains(">producer<") && row.contains(producer_project),
            "{path}: owner by name, ID beside: {row}"
        );
    }
}

#[tokio::test]
async fn a_name_is_shown_resolved_then_shared_with_as_its_id() {
    let lab = lab();
    let (glance, image, _cleanup) = shared_image("by-name").await;
    let server = start(&directory_env("all"));
    let producer = signed_in_as(&server, "producer").await;
    let consumer_b = lab.get("LAB_CONSUMER_B_PROJECT_ID");

    let (code, report) = producer.call_json("share", &[("image_id", &image), ("members", "consumer-b")]).await;
    assert_eq!(code, 200, "{report}");
    let checks = checks(&report);
    assert_eq!(checks[0].1["ByName"]["id"], consumer_b, "resolved to the right ID: {report}");
    assert_eq!(checks[0].1["ByName"]["domain"], "Default");
    assert!(glance.members(&image).await.1.is_empty(), "nothing is sent before the user confirms");

    // Without JavaScript: the plan page shows "name (domain) → ID", and its form sends the ID.
    let res = producer
        .post_form("share", &[("image_id", &image), ("members", "consumer-b")], &format!("/images/{image}"))
        .await;
    let to = res.headers()["location"].to_str().unwrap().to_string();
    let html = page(&producer, &to).await;
    assert!(html.contains(&format!("project consumer-b (Default) \u{2192} {consumer_b}")), "{html}");
    assert!(html.contains(&format!("name=\"members\" value=\"{consumer_b}\"")), "the form carries the ID: {html}");

    let (code, done) =
        producer.call_json("share", &[("image_id", &image), ("members", consumer_b), ("confirmed", "yes")]).await;
    assert_eq!(code, 200, "{done}");
    assert_eq!(glance.members(&image).await.1, vec![(consumer_b.to_string(), "pending".to_string())]);
}

#[tokio::test]
async fn an_ambiguous_name_is_never_guessed() {
    let lab = lab();
    let (glance, image, _cleanup) = shared_image("twin").await;
    let server = start(&directory_env("all"));
    let producer = signed_in_as(&server, "producer").await;
    let (code, report) = producer.call_json("share", &[("image_id", &image), ("members", "twin")]).await;
    assert_eq!(code, 200, "{report}");
    let candidates = checks(&report)[0].1["Ambiguous"].clone();
    let ids: Vec<&str> = candidates.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&lab.get("LAB_TWIN_PROJECT_ID")) && ids.contains(&lab.get("LAB_PARTNERS_TWIN_PROJECT_ID")));
    // Confirming changes nothing: an ambiguous name is refused, whatever the user says.
    let (_, after) =
        producer.call_json("share", &[("image_id", &image), ("members", "twin"), ("confirmed", "yes")]).await;
    assert!(after.to_string().contains("projects have this name"), "{after}");
    assert!(glance.members(&image).await.1.is_empty(), "Glance holds no member");

    // The batch plan refuses it the same way and resolves the unambiguous name to its ID.
    let (code, plan) = producer
        .call_json("batch_plan", &[("images", &image), ("members", "twin consumer-b"), ("operation", "share")])
        .await;
    assert_eq!(code, 200, "{plan}");
    let consumer_b = lab.get("LAB_CONSUMER_B_PROJECT_ID");
    assert_eq!(plan["resolved"][0][1]["id"], consumer_b, "{plan}");
    assert_eq!(plan["run_members"], json!(format!("twin\n{consumer_b}")), "Run sends the ID");
    let pairs = plan["pairs"].as_array().unwrap();
    assert_eq!(pairs.iter().filter(|p| p["will_run"] == true).count(), 1);
    assert!(pairs.iter().any(|p| p["member_id"] == consumer_b && p["will_run"] == true));
}

#[tokio::test]
async fn a_project_deleted_in_keystone_is_flagged_on_the_member_table() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let (user, password, project) = lab.account("admin");
    let (admin, _) = keystone.password_token(user, password, project).await;
    let name = unique("gone");
    let res = lab_call(
        http()
            .post(format!("{}/projects", lab.keystone_url()))
            .header("x-auth-token", &admin)
            .json(&json!({"project": {"name": name, "domain_id": "default"}})),
    )
    .await;
    assert_eq!(res.status(), 201);
    let gone = res.json::<Value>().await.unwrap()["project"]["id"].as_str().unwrap().to_string();
    let (glance, image, _cleanup) = shared_image("deleted-member").await;
    glance.add_member(&image, &gone).await;
    let res =
        lab_call(http().delete(format!("{}/projects/{gone}", lab.keystone_url())).header("x-auth-token", &admin)).await;
    assert_eq!(res.status(), 204);

    let server = start(&directory_env("all"));
    let html = page(&signed_in_as(&server, "producer").await, &format!("/images/{image}")).await;
    let row = html.split(&format!("id=\"member-{gone}\"")).nth(1).expect("the member is listed");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("No such project in Keystone"), "{row}");
    assert!(!html.contains(&name), "its old name is not shown");
}

#[tokio::test]
async fn own_domain_names_only_the_users_domain_and_suggests_only_from_it() {
    let lab = lab();
    let (glance, image, _cleanup) = shared_image("own-domain").await;
    let partner = lab.get("LAB_PARTNER_ONE_PROJECT_ID");
    glance.add_member(&image, partner).await;
    glance.add_member(&image, lab.get("LAB_CONSUMER_PROJECT_ID")).await;
    let server = start(&directory_env("own-domain"));
    let producer = signed_in_as(&server, "producer").await;
    let html = page(&producer, &format!("/images/{image}")).await;
    assert!(html.contains(">consumer<"), "the user's own domain is named");
    assert!(html.contains(partner) && !html.contains("partner-one"), "another domain's project stays an ID");

    let (code, found) = producer.call_json("suggest_projects", &[("q", "artner")]).await;
    assert_eq!((code, found.clone()), (200, json!([])), "nothing from another domain");
    let (_, report) = producer.call_json("share", &[("image_id", &image), ("members", "twin")]).await;
    assert_eq!(checks(&report)[0].1["ByName"]["id"], lab.get("LAB_TWIN_PROJECT_ID"), "only the own domain's twin");

    let everyone = start(&directory_env("all"));
    let producer = signed_in_as(&everyone, "producer").await;
    let (_, found) = producer.call_json("suggest_projects", &[("q", "artner")]).await;
    assert_eq!(found[0]["name"], "partner-one", "{found}");
    assert_eq!(found[0]["domain"], "partners");
}

#[tokio::test]
async fn suggestions_are_bounded_checked_and_empty_without_a_directory() {
    let server = start(&directory_env("all"));
    let producer = signed_in_as(&server, "producer").await;
    let (code, found) = producer.call_json("suggest_projects", &[("q", "CONS")]).await;
    assert_eq!(code, 200, "{found}");
    let names: Vec<&str> = found.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"consumer") && names.contains(&"consumer-b"), "ignoring case: {names:?}");
    assert!(names.len() <= 8);
    for hostile in ["a\u{7}b", &"x".repeat(65)] {
        let (code, body) = producer.call_json("suggest_projects", &[("q", hostile)]).await;
        assert_eq!(code, 400, "{body}");
    }
    // One character, or `_` (a wildcard to Keystone's SQL), asks for nothing or finds nothing.
    assert_eq!(producer.call_json("suggest_projects", &[("q", "c")]).await.1, json!([]));
    assert_eq!(producer.call_json("suggest_projects", &[("q", "__")]).await.1, json!([]));

    let plain = Server::start(&[]);
    let producer = signed_in_as(&plain, "producer").await;
    assert_eq!(producer.call_json("suggest_projects", &[("q", "cons")]).await.1, json!([]));
}

#[tokio::test]
async fn the_name_cache_lives_in_redis_for_every_instance() {
    let lab = lab();
    let (glance, image, _cleanup) = shared_image("redis-names").await;
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    glance.add_member(&image, consumer).await;
    let redis = Redis::start();
    let mut env = directory_env("all");
    env.push(("GLANCE_SHARE_SESSION_STORE", redis.url.clone()));
    let (a, b) = (start(&env), start(&env));
    let on_a = signed_in_as(&a, "producer").await;
    assert!(page(&on_a, &format!("/images/{image}")).await.contains(">consumer<"));
    assert!(a.log_text().contains("directory reader signed in"), "A asked Keystone");

    let key = format!("glance-share:directory:lab:project:{consumer}");
    let ttl =
        std::process::Command::new("redis-cli").args(["-p", &redis.port.to_string(), "TTL", &key]).output().unwrap();
    let ttl: i64 = String::from_utf8(ttl.stdout).unwrap().trim().parse().unwrap();
    assert!((1..=900).contains(&ttl), "cached with the TTL: {ttl}");

    // B names the project from the cache A filled: its reader never needed to sign in.
    let on_b = on_a.on(&b);
    assert!(page(&on_b, &format!("/images/{image}")).await.contains(">consumer<"));
    assert!(!b.log_text().contains("directory reader signed in"), "B asked Keystone nothing:\n{}", b.log_text());
}

#[tokio::test]
async fn the_directory_secret_is_in_no_log_page_or_answer() {
    let lab = lab();
    let secret = std::fs::read_to_string(lab.get("LAB_DIRECTORY_PASSWORD_FILE")).unwrap();
    let secret = secret.lines().next().unwrap().to_string();
    assert!(secret.len() >= 8, "a real secret to look for");
    let (_glance, image, _cleanup) = shared_image("secret").await;
    let mut env = directory_env("all");
    env.push(("RUST_LOG", "debug".to_string()));
    let server = start(&env);
    let producer = signed_in_as(&server, "producer").await;
    let mut seen = String::new();
    for path in [
        "/",
        &format!("/images/{image}"),
        "/images?tab=shared",
        "/inbox",
        "/batch",
        &format!("/images/{image}/terraform"),
    ] {
        seen.push_str(&producer.get(path).await.text().await.unwrap());
    }
    for (name, form) in [
        ("share", vec![("image_id", image.as_str()), ("members", "consumer-b twin nobody-at-all")]),
        ("suggest_projects", vec![("q", "con")]),
        ("whoami", vec![]),
    ] {
        seen.push_str(&producer.call(name, &form).await.text().await.unwrap());
    }
    assert!(seen.contains("consumer-b"), "the pages did use the directory");
    assert!(!seen.contains(&secret), "the secret is in a page or answer");
    assert!(!server.log_text().contains(&secret), "the secret is in the log");
    assert!(!server.log_text().is_empty());
}

/// A fake Keystone + Glance for what the lab cannot show quickly: the reader's token nearing
/// its expiry, and Keystone dropping it. Users sign in to it; the reader's tokens are numbered.
mod fake {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    };

    use axum::{
        Router,
        body::Bytes,
        extract::{Path, State},
        http::{HeaderMap, StatusCode, header},
        response::{IntoResponse, Response},
        routing::{get, post},
    };
    use serde_json::{Value, json};

    pub const IMAGE: &str = "00000000-0000-0000-0000-0000000000aa";
    pub const MEMBER: &str = "0123456789abcdef0123456789abcdef";

    #[derive(Clone)]
    pub struct Cloud {
        pub base: String,
        /// Sign-ins of the directory reader so far.
        pub reader_sign_ins: Arc<AtomicUsize>,
        /// When set, Keystone no longer accepts the reader's current token.
        pub drop_token: Arc<AtomicBool>,
        /// Calls made with a reader's token after it expired.
        pub expired_uses: Arc<AtomicUsize>,
        /// How long a reader's token lives, in seconds.
        lifetime: i64,
        /// When the reader's current token expires.
        expires_at: Arc<std::sync::Mutex<Option<time::OffsetDateTime>>>,
    }

    fn token_response(token: String, body: Value) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert("x-subject-token", token.parse().unwrap());
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        (StatusCode::CREATED, headers, body.to_string()).into_response()
    }

    async fn sign_in(State(cloud): State<Cloud>, body: Bytes) -> Response {
        let auth: Value = serde_json::from_slice(&body).unwrap();
        let expires = |s: i64| {
            (time::OffsetDateTime::now_utc() + time::Duration::seconds(s))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        let user = json!({"id": "u1", "name": "someone", "domain": {"id": "default", "name": "Default"}});
        if auth["auth"]["scope"]["system"]["all"] == true {
            cloud.drop_token.store(false, Ordering::SeqCst);
            let n = cloud.reader_sign_ins.fetch_add(1, Ordering::SeqCst) + 1;
            *cloud.expires_at.lock().unwrap() =
                Some(time::OffsetDateTime::now_utc() + time::Duration::seconds(cloud.lifetime));
            let body = json!({"token": {"expires_at": expires(cloud.lifetime), "user": user, "system": {"all": true},
                "roles": [{"id": "r", "name": "reader"}]}});
            return token_response(format!("reader-token-{n}"), body);
        }
        let catalog = json!([{"type": "image", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": format!("{}/image", cloud.base)}]}]);
        let body = json!({"token": {"expires_at": expires(3600), "user": user,
            "project": {"id": "p1", "name": "owner", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "m", "name": "member"}], "catalog": catalog}});
        token_response("usertokenusertokenusertoken".into(), body)
    }

    /// The reader's current token, or 401 (403 for a user's token, as Keystone answers).
    fn reader(cloud: &Cloud, headers: &HeaderMap) -> Result<(), StatusCode> {
        let token = headers.get("x-auth-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let current = format!("reader-token-{}", cloud.reader_sign_ins.load(Ordering::SeqCst));
        match token {
            "usertokenusertokenusertoken" => Err(StatusCode::FORBIDDEN),
            t if t == current
                && cloud.expires_at.lock().unwrap().is_some_and(|e| e < time::OffsetDateTime::now_utc()) =>
            {
                cloud.expired_uses.fetch_add(1, Ordering::SeqCst);
                Err(StatusCode::UNAUTHORIZED)
            }
            t if t == current && !cloud.drop_token.load(Ordering::SeqCst) => Ok(()),
            _ => Err(StatusCode::UNAUTHORIZED),
        }
    }

    async fn project(State(cloud): State<Cloud>, Path(id): Path<String>, headers: HeaderMap) -> Response {
        if let Err(refused) = reader(&cloud, &headers) {
            return refused.into_response();
        }
        let name = if id == MEMBER { "partner-team" } else { "owner" };
        axum::Json(json!({"project": {"id": id, "name": name, "domain_id": "default"}})).into_response()
    }

    async fn domain(State(cloud): State<Cloud>, headers: HeaderMap) -> Response {
        if let Err(refused) = reader(&cloud, &headers) {
            return refused.into_response();
        }
        axum::Json(json!({"domain": {"id": "default", "name": "Default"}})).into_response()
    }

    pub async fn start(lifetime: i64) -> Cloud {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let cloud = Cloud {
            base,
            reader_sign_ins: Arc::default(),
            drop_token: Arc::default(),
            expired_uses: Arc::default(),
            lifetime,
            expires_at: Arc::default(),
        };
        let image = json!({"id": IMAGE, "name": "fake", "visibility": "shared", "owner": "p1", "status": "active"});
        let members = json!({"members": [{"image_id": IMAGE, "member_id": MEMBER, "status": "pending",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}]});
        let router = Router::new()
            .route("/v3/auth/tokens", post(sign_in))
            .route("/v3/auth/projects", get(|| async { axum::Json(json!({"projects": []})) }))
            .route("/v3/projects/{id}", get(project))
            .route("/v3/domains/{id}", get(domain))
            .route(&format!("/image/v2/images/{IMAGE}"), get(move || async move { axum::Json(image) }))
            .route(&format!("/image/v2/images/{IMAGE}/members"), get(move || async move { axum::Json(members) }))
            .with_state(cloud.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        cloud
    }
}

/// A dashboard on the fake cloud, with its reader and a cache that forgets after a second.
async fn on_fake(cloud: &fake::Cloud) -> (Server, Browser, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("gs-directory-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let clouds = dir.join("clouds.yaml");
    std::fs::write(&clouds, format!("clouds:\n  lab:\n    auth:\n      auth_url: {}/v3\n", cloud.base)).unwrap();
    let password = dir.join("password");
    std::fs::write(&password, "reader-secret\n").unwrap();
    let server = Server::start(&[
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("GLANCE_SHARE_DIRECTORY_USER", "reader"),
        ("GLANCE_SHARE_DIRECTORY_PASSWORD_FILE", password.to_str().unwrap()),
        ("GLANCE_SHARE_DIRECTORY_TTL_SECONDS", "1"),
    ]);
    let browser = Browser::new(&server);
    let (status, body) = browser.sign_in_password("someone", "whatever", "owner").await;
    assert_eq!(status, 200, "{body}");
    (server, browser, dir)
}

/// Loads the fake image's page after the name cache has forgotten its entries.
async fn member_named(browser: &Browser) -> bool {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    page(browser, &format!("/images/{}", fake::IMAGE)).await.contains(">partner-team<")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readers_token_is_reused_renewed_before_it_expires_and_replaced_when_dropped() {
    use std::sync::atomic::Ordering::SeqCst;

    // A token for an hour: one sign-in serves every lookup.
    let cloud = fake::start(3600).await;
    let (_server, browser, dir) = on_fake(&cloud).await;
    for _ in 0..3 {
        assert!(member_named(&browser).await);
    }
    assert_eq!(cloud.reader_sign_ins.load(SeqCst), 1, "the token is kept and reused");

    // Keystone drops it (revoked, or Keystone restarted with new keys): one new sign-in, and
    // the page still names the project.
    cloud.drop_token.store(true, SeqCst);
    assert!(member_named(&browser).await, "a 401 is answered by signing in again, once");
    assert_eq!(cloud.reader_sign_ins.load(SeqCst), 2);
    std::fs::remove_dir_all(dir).unwrap();

    // A token that lives 8 s is renewed when a quarter of its life is left: after 6 s, before
    // Keystone would refuse it, and not before.
    let cloud = fake::start(8).await;
    let (_server, browser, dir) = on_fake(&cloud).await;
    let issued = std::time::Instant::now();
    assert!(member_named(&browser).await);
    assert!(member_named(&browser).await);
    assert_eq!(cloud.reader_sign_ins.load(SeqCst), 1, "reused while most of its life is left");
    tokio::time::sleep(std::time::Duration::from_millis(6500).saturating_sub(issued.elapsed())).await;
    assert!(member_named(&browser).await);
    assert_eq!(cloud.reader_sign_ins.load(SeqCst), 2, "renewed before it expired");
    assert_eq!(cloud.expired_uses.load(SeqCst), 0, "Keystone never saw an expired token");
    std::fs::remove_dir_all(dir).unwrap();
}
