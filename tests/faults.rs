//! Keystone and Glance misbehaving: each way gives a clear message and a logged error with a
//! request id, never a panic and never a hung request. The upstream here is a fake served by
//! the test itself, so that it can misbehave on purpose.

mod common;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, header},
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
    keystone_with_role(glance_url, "member")
}

/// `keystone`, with the user holding `role` in its project ("admin" for admin-only operations).
fn keystone_with_role(glance_url: String, role: &'static str) -> Router {
    let token_body = move || {
        json!({"token": {
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "user": {"id": "u1", "name": "fake-user", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "fake-project", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r", "name": role}],
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

/// A dashboard whose cloud is the fake Keystone at `keystone`, with `env` added, and a browser
/// signed in to it.
async fn signed_in_to(keystone: &str, env: &[(&str, &str)]) -> (Server, Browser) {
    let dir = std::env::temp_dir().join(format!("gs-faults-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let clouds = dir.join("clouds.yaml");
    std::fs::write(&clouds, format!("clouds:\n  lab:\n    auth:\n      auth_url: {keystone}/v3\n")).unwrap();
    let mut all = vec![("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap())];
    all.extend_from_slice(env);
    let server = Server::start(&all);
    let browser = Browser::new(&server);
    let (status, body) = browser.sign_in_password("fake-user", "whatever", "fake-project").await;
    assert_eq!(status, 200, "{body}");
    // The server read its clouds when it started: the file is not left behind in the temp dir.
    std::fs::remove_dir_all(&dir).unwrap();
    (server, browser)
}

/// Glance, or whatever answers at its address, redirecting a call: the redirect is not
/// followed, so the user's token (and what they sent) goes to no other server, and the user
/// reads that Glance refused. reqwest follows redirects by default, `X-Auth-Token` included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_glance_is_not_followed_and_the_token_goes_nowhere_else() {
    let reached = Arc::new(AtomicUsize::new(0));
    let elsewhere = {
        let reached = reached.clone();
        serve(Router::new().fallback(move || {
            reached.fetch_add(1, Ordering::SeqCst);
            async { ([(header::CONTENT_TYPE, "application/json")], r#"{"members": []}"#) }
        }))
        .await
    };
    let redirect = |status: StatusCode| {
        let elsewhere = elsewhere.clone();
        move |uri: axum::http::Uri| {
            let to = format!("{elsewhere}{uri}");
            async move { (status, [(header::LOCATION, to)]).into_response() }
        }
    };
    let glance = serve(Router::new().route("/v2/images/{id}", get(redirect(StatusCode::FOUND))).route(
        "/v2/images/{id}/members",
        get(redirect(StatusCode::TEMPORARY_REDIRECT)).post(redirect(StatusCode::PERMANENT_REDIRECT)),
    ))
    .await;
    let keystone = serve(keystone(glance)).await;
    let (_server, browser) = signed_in_to(&keystone, &[]).await;
    let image = fake_image(7);
    for call in ["image", "members"] {
        let (status, body) = browser.call_json(call, &[("image_id", &image)]).await;
        assert_eq!(status, 502, "{call}: {body}");
        let message = user_message(&body);
        let code = if call == "image" { "(Glance 302)" } else { "(Glance 307)" };
        assert!(message.starts_with("Glance refused the request") && message.ends_with(code), "{call}: {message}");
    }
    let (status, report) = browser
        .call_json(
            "share",
            &[("image_id", &image), ("members", "0123456789abcdef0123456789abcdef"), ("confirmed", "yes")],
        )
        .await;
    let added = status == 200 && report["Done"]["results"][0]["outcome"].get("Ok").is_some();
    assert!(!added, "{report}");
    assert_eq!(reached.load(Ordering::SeqCst), 0, "a redirect was followed: the user's token went to another server");
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
    let (server, browser) =
        signed_in_to(&keystone, &[("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", &TIMEOUT_MS.to_string())]).await;

    for (image, expected) in [
        (ERROR_500, "it answered 500: Internal Server Error"),
        (HTML_200, "its answer was not understood"),
        (TRUNCATED, "its answer was not understood"),
        (WRONG_SHAPE, "its answer was not understood"),
        // A read that timed out changed nothing: no "a change may have been made" here.
        (TOO_SLOW, "Glance did not answer in time. Nothing was changed; try again."),
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
        let page = page.text().await.unwrap();
        assert!(page.contains(start), "{image}");
        assert!(!page.contains("A change you asked for"), "{image}: loading a page asks for no change");
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
}

// ---------------------------------------------------------------------------------------------
// Batches against a fake Glance whose member writes are slow, counted, or fail on purpose.

/// A Glance whose member writes (add, status, remove) each take `delay`, and that records how
/// many were in flight at once, over all images and per image. An image's ID chooses how its
/// writes answer (see `FIRST_503` and the others): the lab cannot be made to fail on purpose.
#[derive(Default)]
struct SlowGlance {
    delay: Duration,
    in_flight: AtomicUsize,
    most: AtomicUsize,
    per_image: Mutex<HashMap<String, usize>>,
    most_per_image: AtomicUsize,
    /// Calls received, by (method, image): the writes, and the member lists read ("GET").
    calls: Mutex<HashMap<(String, String), usize>>,
}

/// The first write to the image answers 503, the next ones succeed.
const FIRST_503: &str = "0000000a-0000-0000-0000-000000000503";
/// Every write to the image answers 503.
const ALWAYS_503: &str = "0000000b-0000-0000-0000-000000000503";
/// The first write answers 503, the next ones 404 (a DELETE that went through the first time).
const FIRST_503_THEN_404: &str = "0000000c-0000-0000-0000-000000000404";
/// Every write answers 404 (the project is not a member).
const ALWAYS_404: &str = "0000000d-0000-0000-0000-000000000404";

impl SlowGlance {
    fn calls(&self, method: &str, image: &str) -> usize {
        self.calls.lock().unwrap().get(&(method.to_string(), image.to_string())).copied().unwrap_or(0)
    }
}

async fn slow_write(
    State(fake): State<Arc<SlowGlance>>,
    method: Method,
    Path(params): Path<Vec<(String, String)>>,
) -> axum::response::Response {
    let image = params[0].1.clone();
    let member = params.get(1).map(|(_, m)| m.clone()).unwrap_or_else(|| "posted".into());
    let nth = {
        let mut calls = fake.calls.lock().unwrap();
        let n = calls.entry((method.to_string(), image.clone())).or_default();
        *n += 1;
        *n
    };
    let now = fake.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    fake.most.fetch_max(now, Ordering::SeqCst);
    let on_image = {
        let mut per = fake.per_image.lock().unwrap();
        let n = per.entry(image.clone()).or_default();
        *n += 1;
        *n
    };
    fake.most_per_image.fetch_max(on_image, Ordering::SeqCst);
    tokio::time::sleep(fake.delay).await;
    *fake.per_image.lock().unwrap().get_mut(&image).unwrap() -= 1;
    fake.in_flight.fetch_sub(1, Ordering::SeqCst);

    let unavailable = || (StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable").into_response();
    let not_found = || (StatusCode::NOT_FOUND, "404 Not Found").into_response();
    match (image.as_str(), nth) {
        (FIRST_503 | FIRST_503_THEN_404, 1) | (ALWAYS_503, _) => return unavailable(),
        (FIRST_503_THEN_404, _) | (ALWAYS_404, _) => return not_found(),
        _ => {}
    }
    if method == Method::DELETE {
        return StatusCode::NO_CONTENT.into_response();
    }
    let member = json!({"member_id": member, "image_id": image, "status": "pending"});
    ([(header::CONTENT_TYPE, "application/json")], member.to_string()).into_response()
}

/// `glance_members`, counted as ("GET", image) among the calls.
async fn counted_members(State(fake): State<Arc<SlowGlance>>, Path(id): Path<String>) -> axum::response::Response {
    *fake.calls.lock().unwrap().entry(("GET".into(), id.clone())).or_default() += 1;
    glance_members(Path(id)).await
}

/// The fake Glance and a dashboard signed in to it (as an admin when `role` is "admin").
async fn slow_lab(delay_ms: u64, role: &'static str, env: &[(&str, &str)]) -> (Arc<SlowGlance>, Server, Browser) {
    let fake = Arc::new(SlowGlance { delay: Duration::from_millis(delay_ms), ..Default::default() });
    let glance = serve(
        Router::new()
            .route("/v2/images/{id}", get(glance_image))
            .route("/v2/images/{id}/members", get(counted_members).post(slow_write))
            .route("/v2/images/{id}/members/{member}", axum::routing::put(slow_write).delete(slow_write))
            .with_state(fake.clone()),
    )
    .await;
    let keystone = serve(keystone_with_role(glance, role)).await;
    let (server, browser) = signed_in_to(&keystone, env).await;
    (fake, server, browser)
}

fn fake_image(n: usize) -> String {
    format!("00000000-0000-0000-0000-{n:012}")
}

fn fake_project(n: usize) -> String {
    format!("{n:032x}")
}

/// Starts a batch of `operation` ("status" sets "accepted") and returns its id.
async fn start(browser: &Browser, images: &[String], members: &[String], operation: &str) -> String {
    let (images, members) = (images.join(","), members.join(" "));
    let mut form = vec![("images", images.as_str()), ("members", members.as_str()), ("operation", operation)];
    if operation == "status" {
        form.push(("status", "accepted"));
    }
    common::start_batch(browser, &form).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_never_has_more_glance_calls_in_flight_than_its_bound_and_reaches_it() {
    let (fake, _server, browser) = slow_lab(150, "member", &[("GLANCE_SHARE_BATCH_CONCURRENCY", "3")]).await;
    let images: Vec<String> = (1..=8).map(fake_image).collect();
    let members: Vec<String> = (1..=2).map(fake_project).collect();
    let id = start(&browser, &images, &members, "share").await;
    let view = common::wait_finished(&browser, &id, 30).await;
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes.len(), 16);
    assert!(outcomes.values().all(|o| o == "Done"), "{view}");
    let most = fake.most.load(Ordering::SeqCst);
    assert_eq!(most, 3, "at most GLANCE_SHARE_BATCH_CONCURRENCY=3 calls at once, and the batch does use all 3");
    assert_eq!(fake.most_per_image.load(Ordering::SeqCst), 1, "one image's pairs run one after another");
    for image in &images {
        assert_eq!(fake.calls("POST", image), 2, "one add per pair for {image}");
    }
}

/// The plan shown reads each image's members (it says "already a member"); starting the batch
/// reads none: there they decide nothing, and reading them doubled the calls made before the
/// batch's first pair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_plan_reads_each_member_list_and_starting_the_batch_reads_none() {
    let (fake, _server, browser) = slow_lab(0, "member", &[]).await;
    let images: Vec<String> = (1..=4).map(fake_image).collect();
    let members: Vec<String> = (1..=2).map(fake_project).collect();
    let (images_field, members_field) = (images.join(","), members.join(" "));
    let form = [("images", images_field.as_str()), ("members", members_field.as_str()), ("operation", "share")];
    let (status, plan) = browser.call_json("batch_plan", &form).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["pairs"].as_array().unwrap().len(), 8, "{plan}");
    for image in &images {
        assert_eq!(fake.calls("GET", image), 1, "the plan read the members of {image} once");
    }
    let id = start(&browser, &images, &members, "share").await;
    let view = common::wait_finished(&browser, &id, 30).await;
    assert!(common::outcome_kinds(&view).values().all(|o| o == "Done"), "{view}");
    for image in &images {
        assert_eq!(fake.calls("GET", image), 1, "starting the batch read no member list of {image}");
        assert_eq!(fake.calls("POST", image), 2, "one add per pair for {image}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_batch_reports_its_progress_then_every_pair() {
    let (_fake, _server, browser) = slow_lab(300, "member", &[]).await;
    let images: Vec<String> = (1..=2).map(fake_image).collect();
    let members: Vec<String> = (1..=3).map(fake_project).collect();
    let id = start(&browser, &images, &members, "share").await;
    let mut seen = Vec::new();
    loop {
        let (status, view) = browser.call_json("batch_status", &[("batch_id", &id)]).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["pairs"].as_array().unwrap().len(), 6, "the total is every pair from the start");
        let done = view["pairs"].as_array().unwrap().iter().filter(|p| !p["outcome"].is_null()).count();
        let finished = view["finished"] == true;
        seen.push(done);
        if finished {
            assert_eq!(done, 6, "a finished batch has an outcome for every pair");
            break;
        }
        assert!(seen.len() < 200, "the batch did not finish: {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen.iter().any(|&d| d > 0 && d < 6), "progress between none and all was reported: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {seen:?}");
    // The page shows the counter and the bar too.
    let page = browser.get(&format!("/batch/{id}")).await.text().await.unwrap();
    assert!(page.contains("6 of 6 pairs done") && page.contains(r#"<progress max="6" value="6""#), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_idempotent_pairs_are_retried_and_only_once() {
    let (fake, _server, browser) = slow_lab(0, "admin", &[]).await;
    let member = vec![fake_project(7)];

    // An add that got a 503 is not sent again: it is reported failed.
    let share = start(&browser, &[FIRST_503.to_string()], &member, "share").await;
    let view = common::wait_finished(&browser, &share, 20).await;
    assert_eq!(common::outcome_kinds(&view)[&(FIRST_503.to_string(), member[0].clone())], "Failed", "{view}");
    assert_eq!(fake.calls("POST", FIRST_503), 1, "a POST is never repeated");

    // "Retry the failed ones" sends it again, knowingly, as a new batch of just that pair.
    let (status, retried) = browser.call_json("batch_retry", &[("batch_id", &share)]).await;
    assert_eq!(status, 200, "{retried}");
    let view = common::wait_finished(&browser, retried.as_str().unwrap(), 20).await;
    assert_eq!(view["pairs"].as_array().unwrap().len(), 1);
    assert_eq!(common::outcome_kinds(&view)[&(FIRST_503.to_string(), member[0].clone())], "Done", "{view}");
    assert_eq!(fake.calls("POST", FIRST_503), 2);

    // A revoke is retried once; a 404 on that retry means the first went through.
    let images = [FIRST_503, FIRST_503_THEN_404, ALWAYS_503, ALWAYS_404].map(String::from);
    let revoke = start(&browser, &images, &member, "revoke").await;
    let view = common::wait_finished(&browser, &revoke, 20).await;
    let got = common::outcome_kinds(&view);
    let outcome = |image: &str| got[&(image.to_string(), member[0].clone())].clone();
    assert_eq!(outcome(FIRST_503), "Done", "{view}");
    assert_eq!(outcome(FIRST_503_THEN_404), "Done", "gone after the retry: revoked, as asked");
    assert_eq!(outcome(ALWAYS_503), "Failed");
    assert_eq!(outcome(ALWAYS_404), "NotFound", "a 404 on the first try: not a member");
    for (image, calls) in [(FIRST_503, 2), (FIRST_503_THEN_404, 2), (ALWAYS_503, 2), (ALWAYS_404, 1)] {
        assert_eq!(fake.calls("DELETE", image), calls, "DELETEs to {image}");
    }

    // A status update (PUT) is repeated once in all, after a 503, never twice.
    let images = [FIRST_503, ALWAYS_503].map(String::from);
    let status = start(&browser, &images, &member, "status").await;
    let view = common::wait_finished(&browser, &status, 20).await;
    let got = common::outcome_kinds(&view);
    assert_eq!(got[&(FIRST_503.to_string(), member[0].clone())], "Done", "{view}");
    assert_eq!(got[&(ALWAYS_503.to_string(), member[0].clone())], "Failed", "{view}");
    assert_eq!((fake.calls("PUT", FIRST_503), fake.calls("PUT", ALWAYS_503)), (2, 2), "one repeat each, no more");
}

// ---------------------------------------------------------------------------------------------
// The dashboard's own failures: the user reads a reference, the log the cause.

/// The session store loses its table under a running server (a failing disk, a bad restore):
/// every way the failure reaches a user (a server function, a page, the Terraform download, a
/// form posted without JavaScript) says "something went wrong" with the request's id, and
/// never the database's words; the log has them, once, under that id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_failure_shows_its_request_id_and_logs_its_cause_once() {
    let glance = serve(Router::new().route("/v2/images/{id}", get(glance_image))).await;
    let keystone = serve(keystone(glance)).await;
    let (dir, file, store) = common::sqlite_store();
    let (server, browser) = signed_in_to(&keystone, &[("GLANCE_SHARE_SESSION_STORE", &store)]).await;

    {
        use tower_sessions_sqlx_store::sqlx;
        let pool =
            sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&file)).await.unwrap();
        sqlx::query("DROP TABLE tower_sessions").execute(&pool).await.unwrap();
        pool.close().await;
    }
    let cause = "no such table";
    let request_id = |res: &reqwest::Response| res.headers()["x-request-id"].to_str().unwrap().to_string();
    let told = |id: &str| format!("Something went wrong in glance-share. Reference: {id}");

    // A server function: 500, and the encoded error is the reference alone.
    let res = browser.call("whoami", &[]).await;
    assert_eq!(res.status(), 500);
    let id = request_id(&res);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, json!({ "Internal": id }), "nothing but the reference goes to the browser");
    assert_eq!(user_message(&body), told(&id));
    let mut references = vec![id];

    // A page: rendered with the message (its resources run in tasks of their own).
    let res = browser.get("/images").await;
    let id = request_id(&res);
    let page = res.text().await.unwrap();
    assert!(page.contains(&told(&id)), "{page}");
    assert!(!page.contains(cause) && !page.contains("tower_sessions"), "{page}");
    references.push(id);

    // A plain axum route, outside Leptos.
    let res = browser.get(&format!("/images/{}/terraform", fake_image(1))).await;
    assert_eq!(res.status(), 500);
    let id = request_id(&res);
    assert_eq!(res.text().await.unwrap(), format!("{}\n", told(&id)));
    references.push(id);

    // A form posted without JavaScript: the error travels back in the redirect's URL.
    let res = browser.post_form("switch_region", &[("region", "RegionOne")], "/images").await;
    let location = res.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_string());
    let id = request_id(&res);
    let back = format!("{location:?} {}", res.text().await.unwrap());
    assert!(back.contains(&id), "the reference is sent back: {back}");
    assert!(!back.contains("no%20such") && !back.contains("no+such") && !back.contains(cause), "{back}");
    references.push(id);

    // Each cause is in the log under the reference the user read; one failure, one line of
    // ours (the page read the session three times: three failures). tower-sessions logs a
    // store error itself too, in the request's span. A page's resources may run outside that
    // span: our line names the reference itself.
    for id in &references {
        let answered = format!("request{{id=\"{id}\"");
        server.wait_for_log(|l| l.contains(&answered) && l.contains("answered")).await;
    }
    let log = server.log_text();
    let causes: Vec<&str> = log.lines().filter(|l| l.contains(cause)).collect();
    assert!(causes.iter().all(|l| l.contains("ERROR") && references.iter().any(|id| l.contains(id.as_str()))), "{log}");
    let ours = |id: &str| {
        causes.iter().filter(|l| l.contains("internal error: ") && l.contains(&format!("reference={id}"))).count()
    };
    for (id, lines) in references.iter().zip([Some(1), None, Some(1), Some(1)]) {
        assert!(ours(id) >= 1, "the cause is logged under {id}:\n{log}");
        if let Some(lines) = lines {
            assert_eq!(ours(id), lines, "logged once under {id}:\n{log}");
        }
    }
    assert!(!log.contains("panicked"), "{log}");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A project's shared images for the review, each of whose member listings is slow.
#[derive(Default)]
struct SlowReview {
    /// Member listings received, by image.
    member_calls: Mutex<HashMap<String, usize>>,
}

const REVIEW_IMAGES: usize = 6;

async fn review_listing(axum::extract::RawQuery(query): axum::extract::RawQuery) -> axum::response::Response {
    let query = query.unwrap_or_default();
    // The owner's shared images; none hidden from lists, and no offers for the header's badge.
    let images: Vec<serde_json::Value> = if query.contains("owner=p1") && !query.contains("os_hidden") {
        (1..=REVIEW_IMAGES)
            .map(|n| json!({"id": fake_image(n), "name": format!("image {n}"), "visibility": "shared", "owner": "p1", "status": "active"}))
            .collect()
    } else {
        Vec::new()
    };
    ([(header::CONTENT_TYPE, "application/json")], json!({"images": images}).to_string()).into_response()
}

/// Each image's member: project 1 the first time its members are read, project 2 after (the
/// owner cleaned up in between).
async fn review_members(State(fake): State<Arc<SlowReview>>, Path(id): Path<String>) -> axum::response::Response {
    let calls = {
        let mut calls = fake.member_calls.lock().unwrap();
        let n = calls.entry(id.clone()).or_default();
        *n += 1;
        *n
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    let member = json!({"member_id": fake_project(calls.min(2)), "image_id": id, "status": "pending",
        "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z", "schema": "/v2/schemas/member"});
    ([(header::CONTENT_TYPE, "application/json")], json!({"members": [member]}).to_string()).into_response()
}

/// The fake Glance of `SlowReview` and a dashboard signed in to it, with one more setting.
async fn review_lab(setting: (&str, &str)) -> (Arc<SlowReview>, Server, Browser) {
    let fake = Arc::new(SlowReview::default());
    let glance = serve(
        Router::new()
            .route("/v2/images", get(review_listing))
            .route("/v2/images/{id}/members", get(review_members))
            .with_state(fake.clone()),
    )
    .await;
    let keystone = serve(keystone(glance)).await;
    let (server, browser) = signed_in_to(&keystone, &[setting]).await;
    (fake, server, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_access_review_shows_its_progress_and_reads_each_image_once() {
    let (fake, _server, browser) = review_lab(("GLANCE_SHARE_BATCH_CONCURRENCY", "2")).await;

    // 6 images, 2 at a time, 0.7 s each: about 2 s, longer than the page waits. The page says
    // how far it got and asks again by itself, with and without JavaScript.
    let first = browser.get("/access").await.text().await.unwrap();
    assert!(first.contains("Reading the members of every shared image: "), "{first}");
    assert!(first.contains(r#"http-equiv="refresh""#) && first.contains("data-refresh-ms"), "{first}");
    let (page, seen) = follow_review(&browser, &first).await;
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {seen:?}");
    assert!(page.contains(&format!("shares {REVIEW_IMAGES} images with {REVIEW_IMAGES} memberships")), "{page}");
    assert!(!page.contains("http-equiv=\"refresh\""), "a finished review does not ask again");
    // However often the page asked, each image's members were read once.
    let calls = fake.member_calls.lock().unwrap().clone();
    assert_eq!(calls.len(), REVIEW_IMAGES);
    assert!(calls.values().all(|&n| n == 1), "{calls:?}");
}

/// Where a "Reading…" page asks again: the address it names for navigation.js, which its
/// `<meta refresh>` names too.
fn asks_again_at(page: &str) -> String {
    let href = page.split(r#"data-refresh-href=""#).nth(1).and_then(|s| s.split('"').next());
    let href = href.unwrap_or_else(|| panic!("a reading page names where to ask again: {page}")).replace("&amp;", "&");
    assert!(page.contains(&format!("url={}", href.replace('&', "&amp;"))), "the same without JavaScript: {page}");
    href
}

/// Asks again where a "Reading…" page says, as the browser does, until the review is there:
/// the review's page and the progress seen on the way.
async fn follow_review(browser: &Browser, first: &str) -> (String, Vec<usize>) {
    let (mut page, mut seen) = (first.to_string(), Vec::new());
    loop {
        if page.contains("<h1>Access review</h1>") && !page.contains("Reading the members") {
            return (page, seen);
        }
        let read =
            page.split("image: ").nth(1).and_then(|s| s.split(" of ").next()).and_then(|n| n.parse::<usize>().ok());
        seen.push(read.unwrap_or_else(|| panic!("neither the review nor its progress: {page}")));
        assert!(seen.len() < 100, "the review did not finish: {seen:?}");
        let again = asks_again_at(&page);
        assert!(again.starts_with("/access?run="), "{again}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        page = browser.get(&again).await.text().await.unwrap();
    }
}

/// A review that finished while nobody watched (its "Reading…" page was left) is not what a
/// later visit gets: the owner may have cleaned up since. Before, the first page asking within
/// two minutes was handed it, showing members revoked in the meantime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_left_reading_is_not_shown_to_a_later_visit() {
    let (fake, _server, browser) = review_lab(("GLANCE_SHARE_BATCH_CONCURRENCY", "2")).await;
    let left = browser.get("/access").await.text().await.unwrap();
    assert!(left.contains("Reading the members"), "{left}");
    // The review goes on without the page (about 2 s), and the owner cleans up meanwhile: Glance
    // now answers project 2 for every image.
    let read_once = || fake.member_calls.lock().unwrap().values().filter(|&&n| n == 1).count();
    for _ in 0..100 {
        if read_once() == REVIEW_IMAGES {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(read_once(), REVIEW_IMAGES, "every image read once");
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let visit = browser.get("/access").await.text().await.unwrap();
    let (page, _) = follow_review(&browser, &visit).await;
    assert!(page.contains(&fake_project(2)), "the review read after the clean-up: {page}");
    assert!(!page.contains(&fake_project(1)), "not the one read before it: {page}");
    let calls = fake.member_calls.lock().unwrap().clone();
    assert!(calls.values().all(|&n| n == 2), "each image read again, once: {calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_search_is_paged_and_counts_members_of_the_rows_shown_only() {
    let (fake, _server, browser) = review_lab(("GLANCE_SHARE_PAGE_SIZE", "4")).await;
    let member_calls = || fake.member_calls.lock().unwrap().values().sum::<usize>();

    // 6 owned shared images match; a page shows 4, and only their members are counted.
    let (status, page) = browser.call_json("images", &[("tab", "mine"), ("q", "image")]).await;
    assert_eq!(status, 200, "{page}");
    let ids = |page: &serde_json::Value| -> Vec<String> {
        page["rows"].as_array().unwrap().iter().map(|r| r["image"]["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&page), (1..=4).map(fake_image).collect::<Vec<_>>());
    assert!(page["rows"].as_array().unwrap().iter().all(|r| r["member_count"] == 1), "{page}");
    assert_eq!(member_calls(), 4, "one member listing per row shown");
    let next = page["next_marker"].as_str().unwrap_or_else(|| panic!("no next page: {page}")).to_string();
    assert_eq!(next, fake_image(4));

    let (status, page) = browser.call_json("images", &[("tab", "mine"), ("q", "image"), ("marker", &next)]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), (5..=6).map(fake_image).collect::<Vec<_>>());
    assert!(page["next_marker"].is_null(), "{page}");
    assert_eq!(member_calls(), 6);

    // The page's next link keeps the search.
    let html = browser.get("/images?tab=mine&q=image").await.text().await.unwrap();
    assert!(html.contains(&format!("/images?tab=mine&amp;q=image&amp;marker={}", fake_image(4))), "{html}");

    // A marker that matches nothing found: a clear 400, no member listing.
    let gone = fake_image(99);
    let (status, body) = browser.call_json("images", &[("tab", "mine"), ("q", "image"), ("marker", &gone)]).await;
    assert_eq!(status, 400, "{body}");
    assert!(user_message(&body).contains("Search again"), "{body}");
    assert_eq!(member_calls(), 6 + 4, "the page above counted its 4 rows; the refused one none");
}

/// Issue 16: a Glance older than image API 2.7 cannot hide images. The "New version…" page
/// says so and does not offer the option; a plan that asks for it anyway is a clear 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glance_without_image_api_2_7_is_not_asked_to_hide_the_old_version() {
    let versions = || async {
        let body = json!({"versions": [
            {"id": "v2.5", "status": "CURRENT", "links": []},
            {"id": "v2.4", "status": "SUPPORTED", "links": []},
            {"id": "v2.8", "status": "DEPRECATED", "links": []}
        ]});
        ([(header::CONTENT_TYPE, "application/json")], body.to_string())
    };
    let listing = || async { ([(header::CONTENT_TYPE, "application/json")], r#"{"images": []}"#) };
    let glance = serve(
        Router::new()
            .route("/versions", get(versions))
            .route("/v2/images", get(listing))
            .route("/v2/images/{id}", get(glance_image))
            .route("/v2/images/{id}/members", get(glance_members)),
    )
    .await;
    let keystone = serve(keystone(glance)).await;
    let (_server, browser) = signed_in_to(&keystone, &[]).await;
    let (old, new) = (fake_image(1), fake_image(2));

    let (status, page) = browser.call_json("rollover_page", &[("image_id", &old)]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["hide_supported"], false, "v2.8 is deprecated, so 2.5 is the newest served: {page}");
    let html = browser.get(&format!("/images/{old}/new-version")).await.text().await.unwrap();
    assert!(html.contains("needs image API 2.7, which this cloud"), "the page says why hiding is not offered");
    let hide = html.split("name=\"hide\"").nth(1).and_then(|rest| rest.split('>').next()).unwrap_or_default();
    assert!(hide.contains("disabled"), "the box cannot be ticked: {hide}");

    let plan = |hide: bool| {
        let mut form = vec![("form[image_id]", old.clone()), ("form[to]", new.clone())];
        if hide {
            form.push(("form[hide]", "on".to_string()));
        }
        form
    };
    let form = plan(true);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = browser.call_json("rollover_plan", &fields).await;
    assert_eq!(status, 400, "{body}");
    assert!(user_message(&body).contains("image API 2.7"), "{body}");
    let form = plan(false);
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = browser.call_json("rollover_plan", &fields).await;
    assert_eq!(status, 200, "without hiding, the plan is made: {body}");
}
