//! The server starts, answers health checks and serves a page that hydrates.

mod common;

use std::time::Duration;

use common::{Server, http};

#[tokio::test]
async fn health_check_needs_no_session() {
    let server = Server::start(&[]);
    let res = http().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(res.headers().get("set-cookie").is_none(), "a health check must not create a session");
    assert_eq!(res.text().await.unwrap(), "ok\n");
}

#[tokio::test]
async fn sign_in_page_is_rendered_on_the_server_and_hydrates() {
    let server = Server::start(&[]);
    let res = http().get(server.url("/signin")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    let html = res.text().await.unwrap();

    // Server-rendered content, not an empty shell filled in by JavaScript.
    assert!(html.contains("<form"), "the sign-in form is rendered on the server");
    assert!(html.contains("Sign in"), "{html}");

    // The hydration bootstrap is inline and may only run because it carries the CSP nonce.
    let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("CSP has a nonce");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the CSP nonce");
    assert!(html.contains("/pkg/glance-share.js"), "the page loads the hydration module");
    assert!(html.contains("hydrate"), "the page calls hydrate()");

    let js = http().get(server.url("/pkg/glance-share.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    let wasm_name = ["glance-share.wasm", "glance-share_bg.wasm"]
        .into_iter()
        .find(|n| common::project_root().join("target/site/pkg").join(n).exists())
        .unwrap();
    let wasm = http().get(server.url(&format!("/pkg/{wasm_name}"))).send().await.unwrap();
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let last_modified = wasm.headers().get("last-modified").cloned().expect("the bundle has a Last-Modified");
    let bytes = wasm.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"\0asm", "the bundle is a wasm module");
    // A browser revalidating its cached bundle gets 304, not a page.
    let again = http()
        .get(server.url(&format!("/pkg/{wasm_name}")))
        .header("if-modified-since", last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let css = http().get(server.url("/pkg/glance-share.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = Server::start(&[]);
    for path in ["/signin", "/healthz", "/no-such-page"] {
        let res = http().get(server.url(path)).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        assert!(h.get("x-request-id").is_some(), "{path}");
    }
    let missing = http().get(server.url("/no-such-page")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_bundle_travels_compressed_when_the_browser_accepts_it() {
    let server = Server::start(&[]);
    let plain = http().get(server.url("/pkg/glance-share.wasm")).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none());
    let raw = plain.bytes().await.unwrap().len();
    for encoding in ["br", "gzip"] {
        let res =
            http().get(server.url("/pkg/glance-share.wasm")).header("accept-encoding", encoding).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-encoding"], encoding);
        assert_eq!(res.headers()["content-type"], "application/wasm");
        let sent = res.bytes().await.unwrap().len();
        assert!(sent * 2 < raw, "{encoding}: {sent} bytes of {raw} is not compressed");
    }
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let server = Server::start(&[]);
    let status = server.stop();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
}

#[tokio::test]
async fn every_request_logs_one_info_line_without_its_query() {
    // The default level: RUST_LOG=info.
    let server = Server::start(&[("RUST_LOG", "info")]);
    let marker = uuid::Uuid::new_v4().simple().to_string();
    for path in [format!("/healthz?probe={marker}"), format!("/no-such-page?probe={marker}")] {
        let res = http().get(server.url(&path)).send().await.unwrap();
        assert!(res.status() == 200 || res.status() == 404);
        let _ = res.text().await;
    }
    for (path, status) in [("/healthz", 200), ("/no-such-page", 404)] {
        let line = server
            .wait_for_log(|l| l.contains(&format!("path=\"{path}\"}}")) && l.contains(&format!("status={status}")))
            .await
            .unwrap_or_else(|| panic!("no log line for GET {path}:\n{}", server.log_text()));
        assert!(line.contains(" INFO "), "{line}");
        assert!(line.contains("method=GET"), "{line}");
        assert!(line.contains("latency_ms="), "{line}");
        let lines = server.log_text().lines().filter(|l| l.contains(&format!("path=\"{path}\"}}"))).count();
        assert_eq!(lines, 1, "one line per request:\n{}", server.log_text());
    }
    assert!(!server.log_text().contains(&marker), "the query string is not logged:\n{}", server.log_text());
}

#[tokio::test]
async fn a_request_in_flight_at_sigterm_still_gets_its_answer() {
    // A Keystone that accepts connections but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let clouds = common::clouds_file(&[("slow", silent.local_addr().unwrap().port())]);
    let server = Server::start(&[
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", "3000"),
    ]);
    let url = server.url("/api/sign_in");
    let origin = server.base.clone();
    // A sign-in that waits for the silent Keystone until the upstream timeout.
    let in_flight = tokio::spawn(async move {
        let res = http()
            .post(url)
            .header("origin", origin)
            .header("accept", "application/json")
            .form(&[("cloud", "slow"), ("method", "password"), ("user_name", "u"), ("password", "p")])
            .send()
            .await
            .expect("the request in flight lost its connection");
        (res.status().as_u16(), res.text().await.unwrap())
    });
    // The request's own log line comes with its answer; a second is plenty to get it under way.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!in_flight.is_finished(), "the request must still be waiting when SIGTERM arrives");
    let stopping = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        (server.stop_with("TERM"), started.elapsed())
    });
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 504, "a timeout: {body}");
    assert!(common::user_message(&serde_json::from_str(&body).unwrap()).contains("did not answer in time"), "{body}");
    let (exit, took) = stopping.await.unwrap();
    assert!(exit.success(), "exit status after SIGTERM: {exit:?}");
    assert!(took >= Duration::from_millis(500), "the server waited for the request ({took:?})");
    drop(silent);
    std::fs::remove_dir_all(clouds.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn sigint_stops_the_server_cleanly() {
    let server = Server::start(&[]);
    assert_eq!(http().get(server.url("/healthz")).send().await.unwrap().status(), 200);
    let log = server.log.clone();
    let status = server.stop_with("INT");
    assert!(status.success(), "exit status after SIGINT: {status:?}");
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("glance-share stopped"), "the shutdown ran to its end:\n{log}");
}
