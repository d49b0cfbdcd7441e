//! Keystone and Glance misbehaving: each way gives a clear message and a logged error with a
//! request id, never a panic and never a hung request. The upstream here is a fake served by
//! the test itself, so that it can misbehave on purpose.

mod common;

use std::time::{Duration, Instant};

use axum::{
    Router,
    extract::Path,
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use common::{Browser, Server, user_message};
use serde_json::json;

const TIMEOUT_MS: u64 = 1500;

/// Image IDs whose `GET /v2/images/{id}` misbehaves in one way each.
const ERROR_500: &str = "00000000-0000-0000-0000-000000000500";
const HTML_200: &str = "00000000-0000-0000-0000-000000000201";
const TRUNCATED: &str = "00000000-0000-0000-0000-000000000202";
const WRONG_SHAPE: &str = "00000000-0000-0000-0000-000000000203";
const TOO_SLOW: &str = "00000000-0000-0000-0000-000000000204";
const BAD_MEMBERS: &str = "00000000-0000-0000-0000-000000000205";
/// Reads answer at once; adding a member never answers.
const SLOW_WRITE: &str = "00000000-0000-0000-0000-000000000206";

async fn glance_image(Path(id): Path<String>) -> axum::response::Response {
    let image = |id: &str| json!({"id": id, "name": "fake", "visibility": "shared", "owner": "p1"}).to_string();
    match id.as_str() {
        ERROR_500 => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><h1>500 Internal Server Error</h1></html>",
        )
            .into_response(),
        HTML_200 => ([(header::CONTENT_TYPE, "text/html")], "<html>login portal</html>").into_response(),
        TRUNCATED => {
            ([(header::CONTENT_TYPE, "application/json")], r#"{"id": "00000000-0000-0000-0000-000000000202", "na"#)
                .into_response()
        }
        WRONG_SHAPE => ([(header::CONTENT_TYPE, "application/json")], r#"{"images": {"id": 5}}"#).into_response(),
        TOO_SLOW => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            ([(header::CONTENT_TYPE, "application/json")], image(&id)).into_response()
        }
        other => ([(header::CONTENT_TYPE, "application/json")], image(other)).into_response(),
    }
}

async fn glance_members(Path(id): Path<String>) -> axum::response::Response {
    match id.as_str() {
        BAD_MEMBERS => ([(header::CONTENT_TYPE, "application/json")], r#"{"members": "oops"}"#).into_response(),
        _ => ([(header::CONTENT_TYPE, "application/json")], r#"{"members": []}"#).into_response(),
    }
}

async fn glance_add_member(Path(id): Path<String>) -> axum::response::Response {
    if id == SLOW_WRITE {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "text/plain")], "503 Service Unavailable").into_response()
}

/// A Keystone that signs anyone in, with a catalog pointing at the fake Glance.
fn keystone(glance_url: String) -> Router {
    let token_body = move || {
        json!({"token": {
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "user": {"id": "u1", "name": "fake-user", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "fake-project", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r", "name": "member"}],
            "catalog": [{"type": "image", "endpoints": [{"interface": "public", "region_id": "RegionOne", "url": glance_url}]}]
        }})
        .to_string()
    };
    Router::new()
        .route(
            "/v3/auth/tokens",
            post(move || {
                let body = token_body();
                async move {
                    let mut headers = HeaderMap::new();
                    headers.insert("x-subject-token", "faketokenfaketokenfaketoken".parse().unwrap());
                    headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
                    (StatusCode::CREATED, headers, body)
                }
            }),
        )
        .route(
            "/v3/auth/projects",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], r#"{"projects": []}"#) }),
        )
        // Like Keystone for an ordinary user: project lookups are not allowed.
        .route(
            "/v3/projects/{id}",
            get(|| async {
                (StatusCode::FORBIDDEN, r#"{"error": {"code": 403, "message": "no", "title": "Forbidden"}}"#)
            }),
        )
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_upstream_misbehaviour_gets_a_clear_message() {
    let glance = serve(
        Router::new()
            .route("/v2/images/{id}", get(glance_image))
            .route("/v2/images/{id}/members", get(glance_members).post(glance_add_member)),
    )
    .await;
    let keystone = serve(keystone(glance)).await;
    let dir = std::env::temp_dir().join(format!("gs-faults-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let clouds = dir.join("clouds.yaml");
    std::fs::write(&clouds, format!("clouds:\n  lab:\n    auth:\n      auth_url: {keystone}/v3\n")).unwrap();
    let server = Server::start(&[
        ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
        ("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", &TIMEOUT_MS.to_string()),
    ]);
    let browser = Browser::new(&server);
    let (status, body) = browser.sign_in_password("fake-user", "whatever", "fake-project").await;
    assert_eq!(status, 200, "{body}");

    for (image, expected) in [
        (ERROR_500, "it answered 500: Internal Server Error"),
        (HTML_200, "its answer was not understood"),
        (TRUNCATED, "its answer was not understood"),
        (WRONG_SHAPE, "its answer was not understood"),
        (TOO_SLOW, "Glance did not answer in time. A change you asked for may still have been made"),
        (BAD_MEMBERS, "its answer was not understood"),
    ] {
        let started = Instant::now();
        let (status, body) = browser.call_json("members", &[("image_id", image)]).await;
        let (status, body) = if image == BAD_MEMBERS {
            (status, body)
        } else {
            browser.call_json("image", &[("image_id", image)]).await
        };
        assert!(started.elapsed() < Duration::from_millis(TIMEOUT_MS * 5), "{image}: no hung request");
        // A timeout is not "unavailable": Glance may have done what it was asked.
        let (code, start) =
            if image == TOO_SLOW { (504, "Glance did not answer") } else { (503, "Glance is unavailable right now") };
        assert_eq!(status, code, "{image}: {body}");
        let message = user_message(&body);
        assert!(message.starts_with(start), "{image}: {message}");
        assert!(message.contains(expected), "{image}: {message}");
        // The page renders the message too.
        let page = browser.get(&format!("/images/{image}")).await;
        assert_eq!(page.status(), 200, "{image}");
        assert!(page.text().await.unwrap().contains(start), "{image}");
    }

    // A failing write changes nothing and says so per project.
    let (_, report) = browser
        .call_json(
            "share",
            &[
                ("image_id", "00000000-0000-0000-0000-000000000001"),
                ("members", "0123456789abcdef0123456789abcdef"),
                ("confirmed", "yes"),
            ],
        )
        .await;
    let outcome = &report["Done"]["results"][0]["outcome"]["Err"];
    assert!(user_message(outcome).contains("nothing was changed"), "{report}");

    // A write that gets no answer in time may have been made: the user is told to look again,
    // not that nothing changed.
    let (_, report) = browser
        .call_json(
            "share",
            &[("image_id", SLOW_WRITE), ("members", "0123456789abcdef0123456789abcdef"), ("confirmed", "yes")],
        )
        .await;
    let message = user_message(&report["Done"]["results"][0]["outcome"]["Err"]);
    assert!(
        message.starts_with("Glance did not answer in time. A change you asked for may still have been made"),
        "{report}"
    );

    // The server is still healthy, and each failure was logged with its request id.
    assert_eq!(common::http().get(server.url("/healthz")).send().await.unwrap().status(), 200);
    let log = server.log_text();
    assert!(!log.contains("panicked"), "no panic: {log}");
    let logged = log
        .lines()
        .filter(|l| {
            l.contains("ERROR")
                && l.contains("request{id=")
                && (l.contains("Glance is unavailable") || l.contains("Glance did not answer"))
        })
        .count();
    assert!(logged >= 6, "each failure is logged with its request id ({logged}):\n{log}");
    std::fs::remove_dir_all(dir).unwrap();
}
