//! What an attacker would try, against the real lab and the real server: return paths that
//! leave the dashboard or break the redirect, tokens read from the session store or Redis,
//! and tokens left valid at Keystone after the session that held them is gone.

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    time::Duration,
};

use common::{Browser, KeystoneDirect, Redis, Server, http, lab, lab_call, signed_in_as};

/// `next` values that would leave the dashboard, or that no Location header can carry.
const HOSTILE_NEXT: [&str; 8] = [
    "/\t/evil.example",
    "/%09/evil.example",
    "/\x01/evil.example",
    "/\x7f/evil.example",
    "/\\evil.example",
    "//evil.example",
    "https://evil.example/",
    "/images\r\nSet-Cookie: x=y",
];

#[tokio::test]
async fn sign_in_never_sends_the_browser_off_the_dashboard() {
    let lab = lab();
    // Seventeen sign-ins as one user within a minute: not what the limits are tested for here.
    let server = Server::start(&[
        ("GLANCE_SHARE_SIGN_INS_PER_USER_MINUTE", "100"),
        ("GLANCE_SHARE_SIGN_INS_PER_CLIENT_MINUTE", "100"),
    ]);
    let user = lab.account("producer").0;
    let form = |next: &'static str| {
        let mut form = common::password_form(lab.account("producer"));
        form.push(("next", next));
        form
    };
    for next in HOSTILE_NEXT {
        // As the hydrated app signs in: 200 and a Location it follows.
        let browser = Browser::new(&server);
        let res = browser.call("sign_in", &form(next)).await;
        assert_eq!(res.status(), 200, "next {next:?}");
        assert_eq!(res.headers()["location"], "/", "next {next:?}");
        assert_eq!(browser.whoami().await["user_name"], user, "signed in, next {next:?}");
        // As a plain form post does: 302.
        let plain = Browser::new(&server);
        let res = plain.post_form("sign_in", &form(next), "/signin").await;
        assert_eq!(res.status(), 302, "next {next:?}");
        assert_eq!(res.headers()["location"], "/", "next {next:?}");
    }
    // A path on the dashboard is still where the browser goes.
    let res = Browser::new(&server).call("sign_in", &form("/images?tab=shared&q=a%20b")).await;
    assert_eq!(res.headers()["location"], "/images?tab=shared&q=a%20b");
    assert!(!server.log_text().contains("panicked"), "no request panicked:\n{}", server.log_text());
}

#[tokio::test]
async fn switching_never_sends_the_browser_off_the_dashboard() {
    let lab = lab();
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "consumer").await;
    let projects = [lab.get("LAB_CONSUMER_B_PROJECT_ID"), lab.get("LAB_CONSUMER_PROJECT_ID")];
    let regions = [lab.get("LAB_REGION2"), lab.get("LAB_REGION")];
    for (i, next) in HOSTILE_NEXT.into_iter().enumerate() {
        let project = projects[i % 2];
        let res = browser.call("switch_project", &[("project_id", project), ("next", next)]).await;
        assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (200, "/"), "next {next:?}");
        assert_eq!(browser.whoami().await["project_id"], project, "switched, next {next:?}");
        let res = browser.call("switch_region", &[("region", regions[i % 2]), ("next", next)]).await;
        assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (200, "/"), "next {next:?}");
    }
    assert!(!server.log_text().contains("panicked"), "no request panicked:\n{}", server.log_text());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// The bytes of a SQLite database with its -wal and -shm files: all a copy of it would hold.
fn database_bytes(db: &Path) -> Vec<u8> {
    ["", "-wal", "-shm"].iter().filter_map(|s| std::fs::read(with_suffix(db, s)).ok()).flatten().collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn session_store_audit_log_and_key_are_private_and_tokens_are_sealed() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let (dir, file, store) = common::sqlite_store();
    let audit = dir.join("audit.sqlite");
    let server = Server::start(&[
        ("GLANCE_SHARE_SESSION_STORE", &store),
        ("GLANCE_SHARE_AUDIT_LOG", &format!("sqlite://{}", audit.display())),
    ]);

    // A token the test knows (pasted), and one only the dashboard saw (a password sign-in).
    let pasted = keystone.producer_token().await;
    let browser = Browser::new(&server);
    assert_eq!(browser.sign_in_token(&pasted).await.0, 200);
    assert_eq!(browser.call("images", &[("tab", "mine")]).await.status(), 200);
    let other = signed_in_as(&server, "consumer").await;
    assert_eq!(other.call("inbox", &[]).await.status(), 200);

    let key = dir.join("glance-share-secret.key");
    let mut private = vec![file.clone(), with_suffix(&file, "-wal"), with_suffix(&file, "-shm"), audit.clone(), key];
    private.extend(["-wal", "-shm"].iter().map(|s| with_suffix(&audit, s)).filter(|p| p.exists()));
    for path in &private {
        assert_eq!(mode(path), 0o600, "{} is mode {:o}", path.display(), mode(path));
    }

    let tokens = common::stored_tokens(&file).await;
    assert!(tokens.contains(&pasted), "the store holds the pasted token, sealed");
    assert!(tokens.len() >= 3, "the pasted token, the consumer's, and one re-scoped for the inbox: {}", tokens.len());
    let bytes = database_bytes(&file);
    for (i, token) in tokens.iter().enumerate() {
        assert!(!contains(&bytes, token), "token #{i} is in the session store in the clear");
        assert_eq!(keystone.token_status(token).await, 200, "token #{i} is a live token, so this test means something");
    }
    assert!(common::fernet_tokens(&bytes).is_empty(), "nothing token-shaped in the session store");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn tokens_in_redis_are_sealed_and_another_key_only_ends_the_session() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let redis = Redis::start();
    let (dir, _, _) = common::sqlite_store();
    let (key_a, key_b) = (dir.join("a.key"), dir.join("b.key"));
    let a = Server::start(&[
        ("GLANCE_SHARE_SESSION_STORE", &redis.url),
        ("GLANCE_SHARE_SECRET_KEY_FILE", key_a.to_str().unwrap()),
    ]);
    let pasted = keystone.producer_token().await;
    let on_a = Browser::new(&a);
    assert_eq!(on_a.sign_in_token(&pasted).await.0, 200);
    assert_eq!(mode(&key_a), 0o600, "the key file is made 0600");

    let everything = redis.everything();
    assert!(contains(&everything, "sealed1."), "Redis holds the session, its token sealed");
    assert!(!contains(&everything, &pasted), "the token is in Redis in the clear");
    assert!(common::fernet_tokens(&everything).is_empty(), "nothing token-shaped in Redis");

    // An instance with another key (a replaced or lost key file): the session simply ends.
    let b = Server::start(&[
        ("GLANCE_SHARE_SESSION_STORE", &redis.url),
        ("GLANCE_SHARE_SECRET_KEY_FILE", key_b.to_str().unwrap()),
    ]);
    let on_b = on_a.on(&b);
    let (status, body) = on_b.call_json("images", &[("tab", "mine")]).await;
    assert_eq!((status, body), (401, serde_json::json!("SessionExpired")), "sign in again, not a 500");
    let res = on_b.get("/images").await;
    assert_eq!(res.status(), 302, "a page sends the user to sign in");
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/signin?"));
    drop((a, b));
    std::fs::remove_dir_all(dir).unwrap();
}

/// Starts the server binary expecting it to refuse: its exit status and what it logged.
fn refused_start(env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let env: Vec<(&str, &str)> =
        [("GLANCE_SHARE_AUDIT_LOG", "memory")].into_iter().chain(env.iter().copied()).collect();
    common::refused_start(&env, Duration::from_secs(20))
}

#[test]
fn an_unusable_key_file_stops_the_server_with_what_to_do() {
    lab();
    let (dir, _, store) = common::sqlite_store();
    let key = dir.join("secret.key");
    let env = [("GLANCE_SHARE_SESSION_STORE", store.as_str()), ("GLANCE_SHARE_SECRET_KEY_FILE", key.to_str().unwrap())];

    std::fs::write(&key, [7u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (status, log) = refused_start(&env);
    assert!(!status.success());
    assert!(log.contains("may be read or written by other users") && log.contains("chmod 600"), "{log}");

    std::fs::write(&key, b"too short").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (status, log) = refused_start(&env);
    assert!(!status.success());
    assert!(log.contains("holds 9 bytes, not 32"), "{log}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn signing_in_again_revokes_the_earlier_token() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    let (first, second) = (keystone.producer_token().await, keystone.producer_token().await);
    assert_eq!(browser.sign_in_token(&first).await.0, 200);
    // The same token pasted again is the new sign-in's own: it stays.
    assert_eq!(browser.sign_in_token(&first).await.0, 200);
    assert_eq!(keystone.token_status(&first).await, 200, "the token in use is not revoked");

    assert_eq!(browser.sign_in_token(&second).await.0, 200);
    assert_eq!(keystone.token_status(&first).await, 404, "the earlier sign-in's token is revoked");
    assert_eq!(keystone.token_status(&second).await, 200);
    assert_eq!(browser.whoami().await["user_name"], lab.get("LAB_PRODUCER_USER"));

    let (user, password, project) = lab.account("producer");
    assert_eq!(browser.sign_in_password(user, password, project).await.0, 200);
    assert_eq!(keystone.token_status(&second).await, 404, "also when the new sign-in is a password");
}

#[tokio::test]
async fn inbox_tokens_are_kept_reused_and_revoked_with_the_session() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let (dir, file, store) = common::sqlite_store();
    let server = Server::start(&[("GLANCE_SHARE_SESSION_STORE", &store)]);
    let (user, password, project) = lab.account("consumer");
    let browser = Browser::new(&server);

    // Twice: ended by a new sign-in, then by sign-out. After a project switch, so that the
    // session's token is a re-scoped one: revoking it does not end the inbox's by itself.
    for ending in ["sign-in", "sign-out"] {
        assert_eq!(browser.sign_in_password(user, password, project).await.0, 200);
        let switch = [("project_id", lab.get("LAB_CONSUMER_B_PROJECT_ID"))];
        assert_eq!(browser.call("switch_project", &switch).await.status(), 200);
        let main = common::stored_tokens(&file).await;
        assert_eq!(main.len(), 1, "one session, one token");
        assert_eq!(browser.call("inbox", &[]).await.status(), 200);
        let mut kept = common::stored_tokens(&file).await;
        kept.sort();
        let rescoped: Vec<&String> = kept.iter().filter(|t| !main.contains(t)).collect();
        assert_eq!(rescoped.len(), 1, "one token re-scoped to the consumer's other project, kept");
        assert_eq!(browser.call("inbox", &[]).await.status(), 200);
        let mut again = common::stored_tokens(&file).await;
        again.sort();
        assert_eq!(again, kept, "the next view reuses it: no new token");
        assert_eq!(keystone.token_status(rescoped[0]).await, 200);

        let res = match ending {
            "sign-in" => browser.call("sign_in", &common::password_form(lab.account("consumer"))).await,
            _ => browser.call("sign_out", &[]).await,
        };
        assert_eq!(res.status(), 200, "{ending}");
        assert_eq!(keystone.token_status(&main[0]).await, 404, "the session's token is revoked at {ending}");
        assert_eq!(keystone.token_status(rescoped[0]).await, 404, "the inbox's token is revoked at {ending}");
        assert!(!common::stored_tokens(&file).await.contains(rescoped[0]), "and no longer kept");
    }
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

/// What the dashboard's revocations rely on, as the lab's Keystone does it: revoking the first
/// token of a sign-in ends every token re-scoped from it; revoking a re-scoped one ends that
/// one only. So the inbox's tokens must be revoked one by one once the session's token is a
/// re-scoped one (after a project switch), and a sign-in must not revoke a token the new
/// session's was re-scoped from.
#[tokio::test]
async fn keystone_revokes_a_sign_in_with_its_rescoped_tokens_and_a_rescoped_token_alone() {
    let lab = lab();
    let keystone = KeystoneDirect { lab };
    let rescope = |token: String| async move {
        let body = serde_json::json!({"auth": {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"project": {"id": lab.get("LAB_CONSUMER_B_PROJECT_ID")}}
        }});
        let res = lab_call(http().post(format!("{}/auth/tokens", lab.keystone_url())).json(&body)).await;
        assert_eq!(res.status(), 201, "re-scoping failed");
        res.headers()["x-subject-token"].to_str().unwrap().to_string()
    };

    let first = keystone.consumer_token().await;
    let child = rescope(first.clone()).await;
    let grandchild = rescope(child.clone()).await;
    keystone.revoke(&first).await;
    for (what, token) in [("the first", &first), ("a re-scoped", &child), ("a twice re-scoped", &grandchild)] {
        assert_eq!(keystone.token_status(token).await, 404, "{what} token ends with the first");
    }

    let first = keystone.consumer_token().await;
    let (child, sibling) = (rescope(first.clone()).await, rescope(first.clone()).await);
    let grandchild = rescope(child.clone()).await;
    keystone.revoke(&child).await;
    assert_eq!(keystone.token_status(&child).await, 404);
    for (what, token) in [("the first", &first), ("a sibling", &sibling), ("a re-scoped", &grandchild)] {
        assert_eq!(keystone.token_status(token).await, 200, "{what} token outlives a revoked re-scoped one");
    }
    keystone.revoke(&first).await;
}
