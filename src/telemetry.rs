//! Logging: one line per request with a request id that also goes back in `x-request-id`.

use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // try_init: tests may start several servers in one process.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).try_init();
}

#[derive(Clone, Copy, Default)]
pub struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        uuid::Uuid::new_v4().simple().to_string().parse().ok().map(RequestId::new)
    }
}

/// Drops an `x-request-id` the client sent, before `SetRequestIdLayer` would keep it: the id
/// users read as an error's reference and logs are searched by is always one the server made.
pub async fn forget_client_request_id(mut req: axum::extract::Request) -> axum::extract::Request {
    req.headers_mut().remove(&REQUEST_ID);
    req
}

tokio::task_local! {
    /// The id of the request the current task answers (see `with_request_id`).
    static REQUEST_ID_HERE: String;
}

/// Runs the rest of the request with its id at hand for `current_request_id`: an error made
/// deep inside a plain handler (the session store failing under the Terraform download) can
/// then name the request whose log line tells its cause. Inside `SetRequestIdLayer`.
pub async fn with_request_id(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    match request_id(req.headers()) {
        Some(id) => REQUEST_ID_HERE.scope(id, next.run(req)).await,
        None => next.run(req).await,
    }
}

/// The id of the request being answered, as `x-request-id` gives it back: from Leptos'
/// context while a page renders (its resources run in tasks of their own), else from the task
/// answering the request. None outside any request (a batch running on after its start).
pub fn current_request_id() -> Option<String> {
    leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| request_id(&parts.headers))
        .or_else(|| REQUEST_ID_HERE.try_with(Clone::clone).ok())
}

fn request_id(headers: &axum::http::HeaderMap) -> Option<String> {
    headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// The span every request's logs carry. Only the path is recorded: queries and headers may
/// hold things that do not belong in a log.
pub fn request_span<B>(req: &Request<B>) -> tracing::Span {
    let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", id, method = %req.method(), path = req.uri().path())
}

/// The one INFO line every request logs when its answer is ready: the span above gives the
/// method and the path, this adds the status and how long the answer took.
pub fn log_response<B>(res: &axum::http::Response<B>, latency: std::time::Duration, _span: &tracing::Span) {
    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_millis() as u64, "answered");
}
