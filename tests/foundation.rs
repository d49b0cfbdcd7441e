//! The server starts, answers health checks and serves a page that hydrates.

mod common;

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
