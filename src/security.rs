//! Browser-facing protections that apply to every response or every state-changing request.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The per-response nonce that lets Leptos' inline hydration script run under a strict CSP.
#[derive(Clone, Debug)]
pub struct CspNonce(pub Arc<str>);

/// Only our own script (the hydration module and its nonce'd bootstrap), wasm and style run;
/// nothing may frame the dashboard, and forms post only to it.
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds the security headers that every response carries, and a fresh CSP nonce per request.
pub async fn security_headers(State(https): State<bool>, mut req: Request, next: Next) -> Response {
    let nonce: Arc<str> = uuid::Uuid::new_v4().simple().to_string().into();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let is_static_asset = req.uri().path().starts_with("/pkg/");

    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    let set = |headers: &mut HeaderMap, name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::CONTENT_SECURITY_POLICY, &content_security_policy(&nonce));
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(headers, header::HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()");
    if https {
        set(headers, header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains");
    }
    // Pages and server-function answers show who may use which image: never keep them in a
    // cache or the back-forward cache. The bundle may be cached but is revalidated.
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, if is_static_asset { "no-cache" } else { "no-store" });
    }
    res
}

/// Refuses a state-changing request that does not come from the dashboard's own pages.
///
/// Server functions and plain form posts have no CSRF protection of their own; browsers send
/// `Origin` on both, so this check costs the no-JavaScript forms nothing.
pub async fn require_same_origin(State(origin): State<Arc<str>>, req: Request, next: Next) -> Response {
    if is_state_changing(req.method()) && !comes_from(req.headers(), &origin) {
        tracing::warn!(method = %req.method(), path = req.uri().path(), "refused a cross-origin request");
        return (StatusCode::FORBIDDEN, "This request did not come from a glance-share page, so it was refused.")
            .into_response();
    }
    next.run(req).await
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// True when the request names `origin` as where it came from: `Origin` when present,
/// else the origin of `Referer`. Neither present means unknown, which is refused.
pub fn comes_from(headers: &HeaderMap, origin: &str) -> bool {
    if headers.get("sec-fetch-site").is_some_and(|v| v == "cross-site") {
        return false;
    }
    if let Some(value) = headers.get(header::ORIGIN) {
        return value.to_str().is_ok_and(|v| v == origin);
    }
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| url::Url::parse(v).ok())
        .is_some_and(|u| u.origin().ascii_serialization() == origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    const ORIGIN: &str = "http://127.0.0.1:3000";

    #[test]
    fn same_origin_is_allowed() {
        assert!(comes_from(&headers(&[("origin", "http://127.0.0.1:3000")]), ORIGIN));
        assert!(comes_from(&headers(&[("referer", "http://127.0.0.1:3000/images?x=1")]), ORIGIN));
    }

    #[test]
    fn other_or_unknown_origins_are_refused() {
        assert!(!comes_from(&headers(&[("origin", "http://evil.example")]), ORIGIN));
        assert!(!comes_from(&headers(&[("origin", "null")]), ORIGIN));
        assert!(!comes_from(&headers(&[("origin", "http://127.0.0.1:3000.evil.example")]), ORIGIN));
        assert!(!comes_from(&headers(&[("referer", "http://evil.example/http://127.0.0.1:3000")]), ORIGIN));
        assert!(!comes_from(&headers(&[]), ORIGIN));
        assert!(!comes_from(
            &headers(&[("origin", "http://127.0.0.1:3000"), ("sec-fetch-site", "cross-site")]),
            ORIGIN
        ));
    }

    #[test]
    fn policy_allows_only_own_script_and_wasm() {
        let csp = content_security_policy("abc");
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
