//! Signing in against the real local Keystone: every method, project and region switches,
//! expiry and revocation, sign-out, the Origin check, and that the token never reaches the browser.

mod common;

use std::time::Duration;

use common::{Browser, COOKIE_NAME, KeystoneDirect, Server, free_port, http, lab, signed_in_as};

fn producer(lab: &common::Lab) -> (&str, &str, &str) {
    (lab.get("LAB_PRODUCER_USER"), lab.get("LAB_PRODUCER_PASSWORD"), lab.get("LAB_PRODUCER_PROJECT"))
}

/// The user the wrong-password tests use. After a failed attempt Keystone resets the user's
/// failure count on the next success, a read-then-write that the lab's SQLite refuses when
/// another sign-in writes at the same moment; no other test signs in as this user.
fn wrong_password_user(lab: &common::Lab) -> (&str, &str, &str) {
    (lab.get("LAB_PRODUCER_B_USER"), lab.get("LAB_PRODUCER_B_PASSWORD"), lab.get("LAB_PRODUCER_B_PROJECT"))
}

#[tokio::test]
async fn password_sign_in_sets_a_safe_cookie_and_shows_who_is_signed_in() {
    let lab = lab();
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    assert_eq!(browser.whoami().await, serde_json::Value::Null, "nobody is signed in yet");

    let (user, password, project) = producer(lab);
    let res = browser
        .call(
            "sign_in",
            &[
                ("cloud", "lab"),
                ("method", "password"),
                ("user_name", user),
                ("password", password),
                ("project", project),
                ("next", "/images"),
            ],
        )
        .await;
    // The hydrated app gets 200 + Location and navigates client-side; see forms_work_without_javascript for 302.
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/images");
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(COOKIE_NAME))
        .unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-http lab: no Secure flag ({cookie})");

    let me = browser.whoami().await;
    assert_eq!(me["user_name"], user);
    assert_eq!(me["project_name"], project);
    assert_eq!(me["project_id"], lab.get("LAB_PRODUCER_PROJECT_ID"));
    assert_eq!(me["region"], lab.get("LAB_REGION"));
    assert_eq!(me["regions"], serde_json::json!([lab.get("LAB_REGION"), lab.get("LAB_REGION2")]));
    assert!(me["roles"].as_array().unwrap().contains(&"member".into()));
}

#[tokio::test]
async fn https_public_url_makes_the_cookie_secure() {
    let lab = lab();
    let server = Server::start(&[("GLANCE_SHARE_PUBLIC_URL", "https://dash.example.org")]);
    let res = common::post_password_sign_in(&server, "https://dash.example.org", producer(lab)).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().contains("max-age"));
}

#[tokio::test]
async fn signing_in_again_cycles_the_session_id() {
    let lab = lab();
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let (user, password, project) = producer(lab);
    assert_eq!(browser.sign_in_password(user, password, project).await.0, 200);
    let first = browser.cookie().unwrap();
    assert_eq!(browser.sign_in_password(user, password, project).await.0, 200);
    let second = browser.cookie().unwrap();
    assert_ne!(first, second, "sign-in must issue a new session id");

    let stale = Browser::new(&server);
    *stale.cookie.lock().unwrap() = Some(first);
    assert_eq!(stale.whoami().await, serde_json::Value::Null, "the old id no longer signs anyone in");
}

#[tokio::test]
async fn wrong_details_get_a_clear_message_and_store_nothing() {
    let lab = lab();
    let server = Server::start(&[]);
    let (user, password, project) = wrong_password_user(lab);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("user_name", user), ("password", "wrong"), ("project", project)], "did not accept these details"),
        (
            vec![("user_name", user), ("password", password), ("project", "no-such-project")],
            "did not accept these details",
        ),
        (
            vec![("user_name", user), ("password", password), ("user_domain", "NoSuchDomain")],
            "did not accept these details",
        ),
        (vec![("user_name", user)], "Please enter your password"),
    ];
    for (fields, expected) in cases {
        let browser = Browser::new(&server);
        let mut form = vec![("cloud", "lab"), ("method", "password")];
        form.extend(fields);
        let res = browser.call("sign_in", &form).await;
        let status = res.status().as_u16();
        assert!(res.headers().get("set-cookie").is_none(), "a failed sign-in stores nothing");
        let body = res.text().await.unwrap();
        assert!(status == 401 || status == 400, "{status} {body}");
        assert!(body.contains(expected), "expected {expected:?} in {body}");
        assert!(!body.contains(password), "the password is never echoed");
        assert_eq!(browser.whoami().await, serde_json::Value::Null);
    }
}

#[tokio::test]
async fn only_configured_clouds_can_be_used() {
    lab();
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let (status, body) = browser
        .call_json(
            "sign_in",
            &[("cloud", "http://169.254.169.254/v3"), ("method", "password"), ("user_name", "x"), ("password", "y")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.to_string().contains("no cloud named"), "{body}");
}

#[tokio::test]
async fn application_credentials_sign_in_to_their_own_project() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let project = lab.get("LAB_PRODUCER_PROJECT");
    let (id, secret) = keystone.producer_application_credential(None).await;

    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let (status, body) = browser.sign_in_application_credential(&id, &secret).await;
    assert_eq!(status, 200, "{body}");
    let me = browser.whoami().await;
    assert_eq!(me["project_name"], project);
    assert_eq!(me["projects"], serde_json::json!([]), "an application credential cannot switch projects");

    let other = Browser::new(&server);
    let (status, body) = other
        .call_json(
            "sign_in",
            &[
                ("cloud", "lab"),
                ("method", "application-credential"),
                ("credential_id", &id),
                ("credential_secret", "wrong"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert!(body.to_string().contains("application credential"), "{body}");
}

#[tokio::test]
async fn an_existing_token_can_be_pasted_and_garbage_is_refused() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let token = keystone.producer_token().await;
    let server = Server::start(&[]);

    let browser = Browser::new(&server);
    let (status, body) = browser.sign_in_token(&token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(browser.whoami().await["project_name"], lab.get("LAB_PRODUCER_PROJECT"));

    for (pasted, expected) in [
        ("not a token at all", "does not look like a token"),
        ("gAAAAABthisIsWellFormedButFromSomeOtherCloud0123456789", "does not accept this token"),
    ] {
        let b = Browser::new(&server);
        let (status, body) = b.sign_in_token(pasted).await;
        assert_eq!(status, 401, "{body}");
        assert!(body.to_string().contains(expected), "{body}");
        assert!(b.cookie().is_none());
    }
}

#[tokio::test]
async fn project_and_region_switches() {
    let lab = lab();
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let (status, _) = browser
        .sign_in_password(
            lab.get("LAB_CONSUMER_USER"),
            lab.get("LAB_CONSUMER_PASSWORD"),
            lab.get("LAB_CONSUMER_PROJECT"),
        )
        .await;
    assert_eq!(status, 200);
    let me = browser.whoami().await;
    let names: Vec<&str> = me["projects"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&lab.get("LAB_CONSUMER_PROJECT")) && names.contains(&lab.get("LAB_CONSUMER_B_PROJECT")),
        "{names:?}"
    );

    let target = lab.get("LAB_CONSUMER_B_PROJECT_ID");
    let res = browser.call("switch_project", &[("project_id", target), ("next", "/images")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/images");
    let me = browser.whoami().await;
    assert_eq!(me["project_id"], target);
    assert_eq!(me["project_name"], lab.get("LAB_CONSUMER_B_PROJECT"));

    // The token still works after the switch (revoking the previous one would end it too:
    // Keystone revokes along the audit chain), in Glance and for switching back.
    let (code, body) = browser.call_json("images", &[("tab", "mine")]).await;
    assert_eq!(code, 200, "{body}");
    let back = lab.get("LAB_CONSUMER_PROJECT_ID");
    assert_eq!(browser.call("switch_project", &[("project_id", back)]).await.status(), 200);
    assert_eq!(browser.whoami().await["project_id"], back);
    assert_eq!(browser.call("switch_project", &[("project_id", target)]).await.status(), 200);

    let (status, body) =
        browser.call_json("switch_project", &[("project_id", lab.get("LAB_PRODUCER_PROJECT_ID"))]).await;
    assert_eq!(status, 400, "a project without a role is refused: {body}");
    assert_eq!(browser.whoami().await["project_id"], target, "nothing changed");

    let region2 = lab.get("LAB_REGION2");
    assert_eq!(browser.call("switch_region", &[("region", region2)]).await.status(), 200);
    assert_eq!(browser.whoami().await["region"], region2);
    let (status, _) = browser.call_json("switch_region", &[("region", "Atlantis")]).await;
    assert_eq!(status, 400);
    assert_eq!(browser.whoami().await["region"], region2, "nothing changed");
}

#[tokio::test]
async fn sign_out_revokes_the_token_at_keystone() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let token = keystone.producer_token().await;
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    assert_eq!(
        browser.call("sign_in", &[("cloud", "lab"), ("method", "token"), ("token", &token)]).await.status(),
        200
    );
    assert_eq!(keystone.token_status(&token).await, 200);

    let res = browser.call("sign_out", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/signin?signed_out=1");
    assert_eq!(keystone.token_status(&token).await, 404, "Keystone refuses the token after sign-out");
    assert_eq!(browser.whoami().await, serde_json::Value::Null);
}

#[tokio::test]
async fn an_expired_token_sends_the_user_to_sign_in_and_back() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    // Keystone caps a token's life at its application credential's expiry.
    let (id, secret) = keystone.producer_application_credential(Some(time::Duration::seconds(4))).await;

    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let (status, body) = browser.sign_in_application_credential(&id, &secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(browser.get("/").await.status(), 200);
    tokio::time::sleep(Duration::from_secs(5)).await;

    // The session ended with its token, and its cookie with it (a browser drops the cookie
    // then, and so does this one); the "was signed in" marker cookie is still there.
    *browser.cookie.lock().unwrap() = None;
    assert!(*browser.marker.lock().unwrap(), "the marker outlives the session");
    let res = browser.get("/?tab=mine").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/signin?next=/%3Ftab%3Dmine&reason=expired", "sent to sign in, saying why");
    assert!(!*browser.marker.lock().unwrap(), "the marker is cleared once its message is shown");
    let page = browser.get("/signin?next=/%3Ftab%3Dmine&reason=expired").await.text().await.unwrap();
    assert!(page.contains("Your session has ended"), "the sign-in page says why");
    // Once said, an anonymous visit is just that.
    assert_eq!(browser.get("/?tab=mine").await.headers()["location"], "/signin?next=/%3Ftab%3Dmine");

    // Signing out clears the marker too: no "session has ended" after a sign-out.
    assert_eq!(browser.sign_in_application_credential(&id, &secret).await.0, 401, "the credential itself expired");
    let (user, password, project) = producer(lab);
    assert_eq!(browser.sign_in_password(user, password, project).await.0, 200);
    assert!(*browser.marker.lock().unwrap());
    assert_eq!(browser.call("sign_out", &[]).await.status(), 200);
    assert!(!*browser.marker.lock().unwrap(), "sign-out clears the marker");
}

#[tokio::test]
async fn pages_send_anonymous_users_to_sign_in() {
    lab();
    let server = Server::start(&[]);
    let res = Browser::new(&server).get("/").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/signin?next=/");
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let lab = lab();
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let (user, password, project) = producer(lab);
    assert_eq!(browser.sign_in_password(user, password, project).await.0, 200);
    let cookie = browser.cookie().unwrap();

    for origin in [Some("http://evil.example"), Some("null"), None] {
        let mut req = http()
            .post(server.url("/api/switch_region"))
            .header("cookie", format!("{COOKIE_NAME}={cookie}"))
            .form(&[("region", lab.get("LAB_REGION2"))]);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 403, "origin {origin:?}");
    }
    let res = http()
        .post(server.url("/api/sign_out"))
        .header("cookie", format!("{COOKIE_NAME}={cookie}"))
        .header("referer", "http://evil.example/page")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let me = browser.whoami().await;
    assert_eq!(me["region"], lab.get("LAB_REGION"), "the region did not change");
    assert_eq!(me["user_name"], user, "still signed in");
}

#[tokio::test]
async fn forms_work_without_javascript() {
    let lab = lab();
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let (user, password, project) = wrong_password_user(lab);
    let res = browser
        .post_form(
            "sign_in",
            &[
                ("cloud", "lab"),
                ("method", "password"),
                ("user_name", user),
                ("password", "wrong"),
                ("project", project),
            ],
            "/signin",
        )
        .await;
    assert_eq!(res.status(), 302);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with(&format!("{}/signin?", server.base)) && back.contains("__err="), "{back}");
    let page = browser.get(back.trim_start_matches(&server.base)).await.text().await.unwrap();
    assert!(page.contains("did not accept these details"), "the error shows on the re-rendered page");

    let res = browser
        .post_form(
            "sign_in",
            &[
                ("cloud", "lab"),
                ("method", "password"),
                ("user_name", user),
                ("password", password),
                ("project", project),
                ("next", "/"),
            ],
            "/signin",
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/");
    let home = browser.get("/").await.text().await.unwrap();
    assert!(home.contains(lab.get("LAB_PRODUCER_B_PROJECT_ID")), "the start page shows the project ID");
}

#[tokio::test]
async fn keystone_down_or_slow_gets_a_clear_message() {
    // A port nobody listens on, and one that accepts but never answers.
    let down = free_port();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let slow = silent.local_addr().unwrap().port();
    let clouds = common::clouds_file(&[("down", down), ("slow", slow)]);
    let server = Server::start(&[
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", "1500"),
    ]);
    let browser = Browser::new(&server);
    let page = browser.get("/signin").await.text().await.unwrap();
    for name in ["lab", "down", "slow"] {
        assert!(page.contains(&format!("<option value=\"{name}\"")), "the cloud picker offers {name}");
    }
    for (cloud, code, expected) in [
        ("down", 503, "Keystone is unavailable right now, so nothing was changed: it could not be reached"),
        ("slow", 504, "Keystone did not answer in time."),
    ] {
        let started = std::time::Instant::now();
        let (status, body) = browser
            .call_json("sign_in", &[("cloud", cloud), ("method", "password"), ("user_name", "u"), ("password", "p")])
            .await;
        assert_eq!(status, code, "{body}");
        let message = common::user_message(&body);
        assert!(message.starts_with(expected), "{message}");
        assert!(started.elapsed() < Duration::from_secs(10), "bounded by the upstream timeout");
        assert!(browser.cookie().is_none());
    }
    drop(silent);
    std::fs::remove_dir_all(clouds.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn the_token_never_reaches_the_browser() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let token = keystone.consumer_token().await;
    let glance = common::GlanceDirect::as_user(lab, "consumer", "LAB_GLANCE_URL").await;
    let image = glance.create_image(&format!("gs-token-walk-{}", uuid::Uuid::new_v4().simple()), "shared").await;
    let _cleanup = common::Cleanup { glance, images: vec![image.clone()] };
    // The SQLite store lets the test know the tokens the dashboard itself got from Keystone.
    let (dir, file, store) = common::sqlite_store();
    let server = Server::start(&[("GLANCE_SHARE_SESSION_STORE", &store)]);
    let mut seen = Vec::new();
    let mut tokens = vec![token.clone()];

    // A pasted token, then a region and a project switch (a re-scoped token).
    let browser = Browser::new(&server);
    let res = browser.call("sign_in", &[("cloud", "lab"), ("method", "token"), ("token", &token)]).await;
    assert_eq!(res.status(), 200);
    seen.push(common::dump(res).await);
    walk(&browser, &image, &mut seen).await;
    for (name, form) in [
        ("switch_region", vec![("region", lab.get("LAB_REGION2"))]),
        ("switch_project", vec![("project_id", lab.get("LAB_CONSUMER_B_PROJECT_ID"))]),
    ] {
        let res = browser.call(name, &form).await;
        assert_eq!(res.status(), 200, "{name}");
        seen.push(common::dump(res).await);
    }
    tokens.extend(common::stored_tokens(&file).await);
    walk(&browser, &image, &mut seen).await;
    sign_out(&browser, &mut seen).await;

    // A password, and an application credential: tokens only the dashboard saw.
    let (id, secret) = keystone.producer_application_credential(None).await;
    let (user, password, project) = producer(lab);
    for form in [
        vec![
            ("cloud", "lab"),
            ("method", "password"),
            ("user_name", user),
            ("password", password),
            ("project", project),
        ],
        vec![
            ("cloud", "lab"),
            ("method", "application-credential"),
            ("credential_id", &id),
            ("credential_secret", &secret),
        ],
    ] {
        let browser = Browser::new(&server);
        let res = browser.call("sign_in", &form).await;
        assert_eq!(res.status(), 200, "{form:?}");
        seen.push(common::dump(res).await);
        tokens.extend(common::stored_tokens(&file).await);
        walk(&browser, &image, &mut seen).await;
        sign_out(&browser, &mut seen).await;
    }

    tokens.sort();
    tokens.dedup();
    assert!(tokens.len() >= 4, "pasted, re-scoped, password and credential tokens: only {} known", tokens.len());
    for text in &seen {
        for (i, t) in tokens.iter().enumerate() {
            assert!(!text.contains(t.as_str()), "token #{i} leaked into: {text}");
        }
        assert!(!text.contains("gAAAAA"), "something fernet-token-shaped leaked into: {text}");
    }
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every page and server function a signed-in user reaches, answers kept in `seen`.
async fn walk(browser: &Browser, image: &str, seen: &mut Vec<String>) {
    let image_page = format!("/images/{image}");
    let terraform = format!("/images/{image}/terraform?provider=openstack");
    for path in [
        "/",
        "/signin",
        "/?x=1",
        "/no-such-page",
        "/images?tab=mine",
        "/images?tab=shared",
        "/images?tab=all",
        &image_page,
        &terraform,
        "/inbox",
        "/batch",
    ] {
        let res = browser.get(path).await;
        seen.push(common::dump(res).await);
    }
    for (name, form) in [
        ("whoami", vec![]),
        ("clouds", vec![]),
        ("images", vec![("tab", "mine")]),
        ("images", vec![("tab", "shared")]),
        ("images", vec![("tab", "all")]),
        ("image", vec![("image_id", image)]),
        ("members", vec![("image_id", image)]),
        ("terraform", vec![("image_id", image), ("provider", "openstack")]),
        ("inbox", vec![]),
        ("pending_count", vec![]),
    ] {
        let res = browser.call(name, &form).await;
        seen.push(common::dump(res).await);
    }
}

async fn sign_out(browser: &Browser, seen: &mut Vec<String>) {
    let res = browser.call("sign_out", &[]).await;
    assert_eq!(res.status(), 200);
    seen.push(common::dump(res).await);
}

#[tokio::test]
async fn a_restart_keeps_users_signed_in_with_the_sqlite_store() {
    let lab = lab();
    let dir = std::env::temp_dir().join(format!("gs-sessions-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = format!("sqlite://{}", dir.join("sessions.sqlite").display());
    let (user, password, project) = producer(lab);

    let first = Server::start(&[("GLANCE_SHARE_SESSION_STORE", &store)]);
    let browser = Browser::new(&first);
    assert_eq!(browser.sign_in_password(user, password, project).await.0, 200);
    assert!(first.stop().success());

    let second = Server::start(&[("GLANCE_SHARE_SESSION_STORE", &store)]);
    let again = browser.on(&second);
    assert_eq!(again.whoami().await["user_name"], user, "still signed in after the restart");
    drop(second);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_user_name_and_per_client() {
    let lab = lab();
    let (user, password, project) = wrong_password_user(lab);
    // Per user name: three guesses a minute, from any client; then even the right password waits.
    let server = Server::start(&[("GLANCE_SHARE_SIGN_INS_PER_USER_MINUTE", "3")]);
    let browser = Browser::new(&server);
    for _ in 0..3 {
        let (code, _, body) = attempt(&browser, project, user, "wrong").await;
        assert_eq!(code, 401, "{body}");
    }
    let (code, retry_after, body) = attempt(&browser, project, &format!(" {} ", user.to_uppercase()), password).await;
    assert_eq!(code, 429, "{body}");
    let wait: u64 = retry_after.expect("a Retry-After header").parse().unwrap();
    assert!((1..=20).contains(&wait), "one attempt comes back within 20 s, not {wait}");
    let message = common::user_message(&serde_json::from_str(&body).unwrap());
    assert!(message.contains(&format!("Try again in {wait} s")), "{message}");
    assert_eq!(browser.whoami().await, serde_json::Value::Null, "a refused attempt signs nobody in");
    // Another user from the same client is not held up.
    let other = signed_in_as(&server, "consumer").await;
    assert_eq!(other.whoami().await["user_name"], lab.get("LAB_CONSUMER_USER"));

    // Per client: two attempts a minute from one address, whatever the names.
    let server = Server::start(&[("GLANCE_SHARE_SIGN_INS_PER_CLIENT_MINUTE", "2")]);
    let browser = Browser::new(&server);
    assert_eq!(attempt(&browser, project, "nobody-1", "x").await.0, 401);
    assert_eq!(attempt(&browser, project, "nobody-2", "x").await.0, 401);
    let (code, _, body) = attempt(&browser, project, user, password).await;
    assert_eq!(code, 429, "{body}");
    assert_eq!(browser.whoami().await, serde_json::Value::Null);
}

/// One password sign-in: status, Retry-After, body.
async fn attempt(browser: &Browser, project: &str, user: &str, password: &str) -> (u16, Option<String>, String) {
    let form =
        [("cloud", "lab"), ("method", "password"), ("user_name", user), ("password", password), ("project", project)];
    let res = browser.call("sign_in", &form).await;
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (res.status().as_u16(), retry_after, res.text().await.unwrap())
}

#[tokio::test]
async fn the_session_never_outlives_its_token() {
    let lab = lab();
    let (dir, file, store) = common::sqlite_store();
    // About 69 days of idle time: far longer than any lab token lives.
    let server =
        Server::start(&[("GLANCE_SHARE_SESSION_IDLE_MINUTES", "100000"), ("GLANCE_SHARE_SESSION_STORE", &store)]);
    let browser = Browser::new(&server);
    let (user, password, project) =
        (lab.get("LAB_CONSUMER_USER"), lab.get("LAB_CONSUMER_PASSWORD"), lab.get("LAB_CONSUMER_PROJECT"));
    let form =
        [("cloud", "lab"), ("method", "password"), ("user_name", user), ("password", password), ("project", project)];
    let mut cookies = Vec::new();
    let res = browser.call("sign_in", &form).await;
    assert_eq!(res.status(), 200);
    cookies.push((time::OffsetDateTime::now_utc(), common::set_cookies(&res, COOKIE_NAME)));
    let me = browser.whoami().await;
    let expires_at =
        time::OffsetDateTime::parse(me["expires_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert!(
        expires_at < time::OffsetDateTime::now_utc() + time::Duration::days(60),
        "the lab's token must live shorter than the idle time for this test to mean anything"
    );
    // Every later request moves the idle window on, and a switch stores the session again.
    for (name, form) in [
        ("whoami", vec![]),
        ("switch_region", vec![("region", lab.get("LAB_REGION2"))]),
        ("switch_project", vec![("project_id", lab.get("LAB_CONSUMER_B_PROJECT_ID"))]),
        ("images", vec![("tab", "mine")]),
    ] {
        let res = browser.call(name, &form).await;
        assert_eq!(res.status(), 200, "{name}");
        cookies.push((time::OffsetDateTime::now_utc(), common::set_cookies(&res, COOKIE_NAME)));
    }
    let slack = time::Duration::seconds(2);
    assert!(!cookies[0].1.is_empty(), "sign-in sets the cookie");
    for (at, set) in cookies.iter().flat_map(|(at, set)| set.iter().map(move |c| (at, c))) {
        let age = common::max_age(set).unwrap_or_else(|| panic!("no Max-Age: {set}"));
        let ends = *at + time::Duration::seconds(age);
        assert!(ends <= expires_at + slack, "the cookie ends at {ends}, after the token ({expires_at}): {set}");
    }
    let sessions = common::stored_sessions(&file).await;
    assert_eq!(sessions.len(), 1);
    let stored = sessions[0].expiry;
    assert!(stored <= expires_at + slack, "the store keeps the session until {stored}, after the token ({expires_at})");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn calls_without_a_session_get_a_typed_not_signed_in() {
    lab();
    let server = Server::start(&[]);
    let image = uuid::Uuid::new_v4().to_string();
    let calls: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("images", vec![("tab", "mine")]),
        ("images", vec![("tab", "shared")]),
        ("image", vec![("image_id", &image)]),
        ("members", vec![("image_id", &image)]),
        ("inbox", vec![]),
        ("batch_status", vec![("batch_id", "0123456789abcdef0123456789abcdef")]),
        ("terraform", vec![("image_id", &image), ("provider", "openstack")]),
        ("switch_region", vec![("region", "RegionTwo")]),
        ("switch_project", vec![("project_id", "0123456789abcdef0123456789abcdef")]),
    ];
    // No cookie at all, and a cookie naming no session.
    for cookie in [None, Some("bm90LWEtc2Vzc2lvbg")] {
        let browser = Browser::new(&server);
        *browser.cookie.lock().unwrap() = cookie.map(str::to_string);
        for (name, form) in &calls {
            let (status, body) = browser.call_json(name, form).await;
            assert_eq!((status, &body), (401, &serde_json::json!("NotSignedIn")), "{name} with cookie {cookie:?}");
            assert_eq!(common::user_message(&body), "Please sign in first.");
        }
    }
}

#[tokio::test]
async fn password_sign_in_can_choose_the_project_by_id() {
    let lab = lab();
    let server = Server::start(&[]);
    let (user, password) = (lab.get("LAB_CONSUMER_USER"), lab.get("LAB_CONSUMER_PASSWORD"));
    let project_b = lab.get("LAB_CONSUMER_B_PROJECT_ID");
    let sign_in =
        |project: &'static str, project_id: &'static str| sign_in_to(&server, user, password, project, project_id);
    // The ID alone, and the ID instead of a name that says otherwise.
    for name in ["", "consumer"] {
        let (status, body, me) = sign_in(name, project_b).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(me["project_id"], project_b, "name {name:?}");
        assert_eq!(me["project_name"], lab.get("LAB_CONSUMER_B_PROJECT"));
    }
    // An empty ID leaves the name in charge.
    let (status, _, me) = sign_in("consumer", "").await;
    assert_eq!(status, 200);
    assert_eq!(me["project_id"], lab.get("LAB_CONSUMER_PROJECT_ID"));
    // Keystone decides: a project the user has no role on is refused.
    let (status, body, me) = sign_in("", lab.get("LAB_PRODUCER_PROJECT_ID")).await;
    assert_eq!(status, 401, "{body}");
    assert!(common::user_message(&body).contains("did not accept these details"), "{body}");
    assert_eq!(me, serde_json::Value::Null);

    // Without JavaScript: the plain form post.
    let plain = Browser::new(&server);
    let form = [("cloud", "lab"), ("method", "password"), ("user_name", user), ("password", password)];
    let form: Vec<_> = form.into_iter().chain([("project_id", project_b), ("next", "/")]).collect();
    let res = plain.post_form("sign_in", &form, "/signin").await;
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (302, "/"));
    assert_eq!(plain.whoami().await["project_id"], project_b);
    let page = plain.get("/signin?method=password").await.text().await.unwrap();
    assert!(page.contains("name=\"project_id\""), "the password form offers the project ID field");
}

/// A password sign-in with a project name and a project ID (either may be empty), in a new
/// browser: status, body, and whoami afterwards.
async fn sign_in_to(
    server: &Server,
    user: &str,
    password: &str,
    project: &str,
    project_id: &str,
) -> (u16, serde_json::Value, serde_json::Value) {
    let browser = Browser::new(server);
    let form = [
        ("cloud", "lab"),
        ("method", "password"),
        ("user_name", user),
        ("password", password),
        ("project", project),
        ("project_id", project_id),
    ];
    let (status, body) = browser.call_json("sign_in", &form).await;
    (status, body, browser.whoami().await)
}

#[tokio::test]
async fn a_pasted_token_can_be_rescoped_to_a_project_by_id() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let token = keystone.consumer_token().await;
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let project_b = lab.get("LAB_CONSUMER_B_PROJECT_ID");
    let (status, body) = browser
        .call_json("sign_in", &[("cloud", "lab"), ("method", "token"), ("token", &token), ("project_id", project_b)])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(browser.whoami().await["project_id"], project_b);
}

#[tokio::test]
async fn sign_out_deletes_the_session_and_revokes_the_token_in_use() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let (dir, file, store) = common::sqlite_store();
    let server = Server::start(&[("GLANCE_SHARE_SESSION_STORE", &store)]);
    let browser = signed_in_as(&server, "consumer").await;
    let cookie = browser.cookie().unwrap();
    let first = common::stored_tokens(&file).await;
    assert_eq!(first.len(), 1, "one session with one token");
    assert_eq!(
        browser.call("switch_project", &[("project_id", lab.get("LAB_CONSUMER_B_PROJECT_ID"))]).await.status(),
        200
    );
    let in_use = common::stored_tokens(&file).await;
    assert_eq!(in_use.len(), 1);
    let in_use = in_use[0].clone();
    assert_ne!(in_use, first[0], "the switch re-scoped to a new token");
    assert_eq!(keystone.token_status(&in_use).await, 200);
    assert!(common::stored_sessions(&file).await.iter().any(|s| s.id == cookie));

    let res = browser.call("sign_out", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(keystone.token_status(&in_use).await, 404, "Keystone refuses the token in use after sign-out");
    assert!(
        !common::stored_sessions(&file).await.iter().any(|s| s.id == cookie),
        "the session is deleted from the store"
    );

    // Replaying the old cookie signs nobody in.
    let replay = Browser::new(&server);
    *replay.cookie.lock().unwrap() = Some(cookie.clone());
    assert_eq!(replay.whoami().await, serde_json::Value::Null);
    let (status, body) = replay.call_json("images", &[("tab", "mine")]).await;
    assert_eq!((status, body), (401, serde_json::json!("NotSignedIn")));
    let res = replay.get("/images").await;
    assert_eq!(res.status(), 302, "a page sends the replayed cookie to sign in");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_cookie_name_can_be_configured() {
    let lab = lab();
    let name = "gs_custom_session";
    let server = Server::start(&[("GLANCE_SHARE_COOKIE_NAME", name)]);
    let user = producer(lab).0;
    let res = common::post_password_sign_in(&server, &server.base, producer(lab)).await;
    assert_eq!(res.status(), 200);
    assert!(common::set_cookies(&res, COOKIE_NAME).is_empty(), "the default name is not used");
    let set = common::set_cookies(&res, name);
    assert_eq!(set.len(), 1, "{:?}", res.headers());
    assert!(set[0].contains("HttpOnly"), "{}", set[0]);
    let id = set[0].strip_prefix(&format!("{name}=")).unwrap().split(';').next().unwrap().to_string();

    let whoami = |cookie: String| {
        let url = server.url("/api/whoami");
        let origin = server.base.clone();
        async move {
            let res = http()
                .post(url)
                .header("origin", origin)
                .header("accept", "application/json")
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    assert_eq!(whoami(format!("{name}={id}")).await["user_name"], user);
    assert_eq!(whoami(format!("{COOKIE_NAME}={id}")).await, serde_json::Value::Null, "only the configured name counts");
}

#[tokio::test]
async fn nothing_logged_holds_a_password_secret_or_token() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let (dir, file, store) = common::sqlite_store();
    let server = Server::start(&[
        ("RUST_LOG", "debug,glance_share=trace,tower_http=trace,tower_sessions=trace,tower_sessions_core=trace"),
        ("GLANCE_SHARE_SESSION_STORE", &store),
    ]);
    let mut secrets: Vec<String> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();

    // Password, then a Glance call, a project switch and sign-out.
    let (user, password) = (lab.get("LAB_CONSUMER_USER"), lab.get("LAB_CONSUMER_PASSWORD"));
    secrets.push(password.to_string());
    let browser = signed_in_as(&server, "consumer").await;
    assert_eq!(browser.call("images", &[("tab", "mine")]).await.status(), 200);
    tokens.extend(common::stored_tokens(&file).await);
    assert_eq!(
        browser.call("switch_project", &[("project_id", lab.get("LAB_CONSUMER_B_PROJECT_ID"))]).await.status(),
        200
    );
    assert_eq!(browser.call("images", &[("tab", "all")]).await.status(), 200);
    tokens.extend(common::stored_tokens(&file).await);
    assert_eq!(browser.call("sign_out", &[]).await.status(), 200);

    // A wrong password (for the user no other test signs in as).
    let (wrong_user, _, wrong_project) = wrong_password_user(lab);
    let wrong = format!("wrong-{}", uuid::Uuid::new_v4().simple());
    secrets.push(wrong.clone());
    assert_eq!(Browser::new(&server).sign_in_password(wrong_user, &wrong, wrong_project).await.0, 401);

    // An application credential.
    let (id, secret) = keystone.producer_application_credential(None).await;
    secrets.push(secret.clone());
    let browser = Browser::new(&server);
    assert_eq!(browser.sign_in_application_credential(&id, &secret).await.0, 200);
    assert_eq!(browser.call("images", &[("tab", "mine")]).await.status(), 200);
    tokens.extend(common::stored_tokens(&file).await);
    assert_eq!(browser.call("sign_out", &[]).await.status(), 200);

    // A pasted token, and garbled ones.
    let pasted = keystone.producer_token().await;
    tokens.push(pasted.clone());
    let browser = Browser::new(&server);
    assert_eq!(browser.sign_in_token(&pasted).await.0, 200);
    assert_eq!(browser.call("inbox", &[]).await.status(), 200);
    tokens.extend(common::stored_tokens(&file).await);
    assert_eq!(browser.call("sign_out", &[]).await.status(), 200);
    let garbled = [
        format!("not a token {}", uuid::Uuid::new_v4().simple()),
        format!("gAAAAABwellFormedButUnknown{}", uuid::Uuid::new_v4().simple()),
    ];
    for g in &garbled {
        assert_eq!(Browser::new(&server).sign_in_token(g).await.0, 401);
        secrets.push(g.clone());
    }

    tokens.sort();
    tokens.dedup();
    // The password session, its re-scoped token, the credential's and the pasted one.
    assert!(tokens.len() >= 4, "the test must know the dashboard's tokens: {} found", tokens.len());
    drop(server.wait_for_log(|l| l.contains("path=\"/api/sign_out\"}") && l.contains("answered")).await);
    let log = server.log_text();
    assert!(log.contains(" TRACE ") && log.contains(" DEBUG "), "the server logged verbosely");
    assert!(log.contains(&format!("user={user}")) || log.contains(user), "sign-ins are logged");
    for (i, secret) in secrets.iter().enumerate() {
        assert!(!log.contains(secret.as_str()), "password or secret #{i} is in the log");
    }
    for (i, token) in tokens.iter().enumerate() {
        assert!(!log.contains(token.as_str()), "token #{i} is in the log");
        // Also no recognisable piece of one (a token cut short, or split over two fields).
        assert!(!log.contains(&token[20..80]), "a piece of token #{i} is in the log");
    }
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The configured cloud's project (`OS_PROJECT_NAME` here) fills the sign-in form in; it is no
/// rule: a user outside that project who leaves the field empty works in their own default
/// project.
#[tokio::test]
async fn the_configured_project_fills_the_form_in_and_is_no_rule() {
    let lab = lab();
    let producer_project = lab.get("LAB_PRODUCER_PROJECT");
    let server = Server::start(&[
        ("OS_AUTH_URL", lab.keystone_url()),
        ("OS_PROJECT_NAME", producer_project),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_PROJECT_DOMAIN_NAME", "Default"),
        ("OS_REGION_NAME", "RegionOne"),
        ("GLANCE_SHARE_CLOUDS", "envvars"),
    ]);
    let page = Browser::new(&server).get("/signin?method=password").await.text().await.unwrap();
    let field = page.split("<input name=\"project\"").nth(1).and_then(|rest| rest.split('>').next());
    assert_eq!(
        field.map(|f| f.contains(&format!("value=\"{producer_project}\""))),
        Some(true),
        "the project field starts with the configured project: {field:?}"
    );

    let (user, password, _) = lab.account("consumer");
    let browser = Browser::new(&server);
    let form = [("cloud", "envvars"), ("method", "password"), ("user_name", user), ("password", password)];
    let (status, body) = browser.call_json("sign_in", &form).await;
    assert_eq!(status, 200, "an empty project is the user's default, not {producer_project}: {body}");
    assert_eq!(browser.whoami().await["project_name"], lab.get("LAB_CONSUMER_PROJECT"));
}
