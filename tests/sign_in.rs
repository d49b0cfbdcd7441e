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
    let (user, password, project) = producer(lab);
    let res = http()
        .post(server.url("/api/sign_in"))
        .header("origin", "https://dash.example.org")
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
        .unwrap();
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

    let res = browser.get("/?tab=mine").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/signin?next=/%3Ftab%3Dmine&reason=expired");
    let (status, body) = browser.call_json("whoami", &[]).await;
    assert_eq!((status, body), (401, serde_json::json!("SessionExpired")), "the expired session was ended");

    let page = browser.get("/signin?next=/%3Ftab%3Dmine&reason=expired").await.text().await.unwrap();
    assert!(page.contains("Your session has ended"), "the sign-in page says why");
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
    let lab = lab();
    // A port nobody listens on, and one that accepts but never answers.
    let down = free_port();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let slow = silent.local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("gs-clouds-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let clouds = dir.join("clouds.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:\n  lab:\n    auth:\n      auth_url: {}\n    region_name: RegionOne\n  down:\n    auth:\n      auth_url: http://127.0.0.1:{down}/v3\n  slow:\n    auth:\n      auth_url: http://127.0.0.1:{slow}/v3\n",
            lab.keystone_url()
        ),
    )
    .unwrap();
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
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_token_never_reaches_the_browser() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let (token, _) = keystone
        .password_token(lab.get("LAB_CONSUMER_USER"), lab.get("LAB_CONSUMER_PASSWORD"), lab.get("LAB_CONSUMER_PROJECT"))
        .await;
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let mut seen = Vec::new();
    let res = browser.call("sign_in", &[("cloud", "lab"), ("method", "token"), ("token", &token)]).await;
    seen.push(common::dump(res).await);
    for path in ["/", "/signin", "/?x=1", "/no-such-page"] {
        let res = browser.get(path).await;
        seen.push(common::dump(res).await);
    }
    for (name, form) in [
        ("whoami", vec![]),
        ("clouds", vec![]),
        ("switch_region", vec![("region", lab.get("LAB_REGION2"))]),
        ("switch_project", vec![("project_id", lab.get("LAB_CONSUMER_B_PROJECT_ID"))]),
        ("whoami", vec![]),
    ] {
        let res = browser.call(name, &form).await;
        seen.push(common::dump(res).await);
    }
    // The switch re-scoped: the new token must not leak either. It is in the session only,
    // so the check is that no response carries anything token-shaped from Keystone.
    for text in &seen {
        assert!(!text.contains(&token), "the token leaked into: {text}");
        assert!(!text.contains("gAAAAA"), "something fernet-token-shaped leaked into: {text}");
    }
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
