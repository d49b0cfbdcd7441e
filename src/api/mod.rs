//! Server functions: thin adapters from the browser to the sharing service. Each reads the
//! session, calls `crate::sharing` on the user's behalf, and answers: the error's HTTP status,
//! the redirect of a plain form post, the end of an expired session.

pub mod auth;
pub mod batch;
pub mod images;
pub mod inbox;
pub mod members;
pub mod review;
pub mod rollover;
pub mod terraform;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use leptos::prelude::*;
    use tower_sessions::Session;

    use crate::{
        error::AppError,
        session::{self, SignedIn},
        sharing::Caller,
        state::AppState,
    };

    /// The app state Leptos provides to every render and server function. Missing only when a
    /// task outlives its request (seen under load); that is an error for this call, not a panic.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| AppError::internal("the request ended before its work did"))
    }

    /// The browser's address: the TCP peer, or behind a reverse proxy the last entry of the
    /// header it is configured to set; a request without a usable one counts as the proxy's.
    pub async fn client_ip(state: &AppState) -> Option<std::net::IpAddr> {
        let forwarded = state.config.client_ip_header.as_ref().and_then(|header| {
            let parts = use_context::<http::request::Parts>()?;
            crate::throttle::forwarded_client(&parts.headers, header)
        });
        match forwarded {
            Some(ip) => Some(ip),
            None => {
                leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>().await.ok().map(|c| c.0.ip())
            }
        }
    }

    /// The request's session, where tower-sessions put it (the request's extensions), without
    /// copying the request's parts as `leptos_axum::extract` does: a page asks four times.
    pub async fn session() -> Result<Session, AppError> {
        with_context::<http::request::Parts, _>(|parts| parts.extensions.get::<Session>().cloned())
            .flatten()
            .ok_or_else(|| AppError::internal("no session in the request"))
    }

    /// The signed-in state a page's render read from its session, kept for the rest of the
    /// render: the header's two resources and the page's own each asked, and each read copied
    /// and decoded the whole session and opened its sealed token. Only a page (a GET) gets one:
    /// the server functions that change the session are posts, so a page never sees a change
    /// but the end of an expired session, which forgets it (`reply`).
    #[derive(Clone, Default)]
    pub struct ReadOnce(std::sync::Arc<std::sync::Mutex<Option<SignedIn>>>);

    impl ReadOnce {
        fn here() -> Option<ReadOnce> {
            with_context::<http::request::Parts, _>(|parts| parts.extensions.get::<ReadOnce>().cloned()).flatten()
        }

        fn get(&self) -> Option<SignedIn> {
            self.0.lock().ok()?.clone()
        }

        fn keep(&self, signed_in: &SignedIn) {
            if let Ok(mut kept) = self.0.lock() {
                *kept = Some(signed_in.clone());
            }
        }

        fn forget() {
            if let Some(once) = ReadOnce::here()
                && let Ok(mut kept) = once.0.lock()
            {
                *kept = None;
            }
        }
    }

    /// Gives a page's request its `ReadOnce` (a middleware).
    // Used by `crate::server`, which the library's unit tests are built without.
    #[cfg_attr(test, allow(dead_code))]
    pub async fn read_once_per_page(mut req: axum::extract::Request) -> axum::extract::Request {
        if req.method() == http::Method::GET {
            req.extensions_mut().insert(ReadOnce::default());
        }
        req
    }

    /// `session::current`, read once per page (see `ReadOnce`).
    pub async fn signed_in_state(session: &Session) -> Result<SignedIn, AppError> {
        let once = ReadOnce::here();
        if let Some(kept) = once.as_ref().and_then(ReadOnce::get) {
            return Ok(kept);
        }
        let signed_in = session::current(session).await?;
        if let Some(once) = once {
            once.keep(&signed_in);
        }
        Ok(signed_in)
    }

    /// The signed-in user with the session they came from.
    pub async fn signed_in() -> Result<(Session, SignedIn), AppError> {
        let session = session().await?;
        let signed_in = current(&session).await?;
        Ok((session, signed_in))
    }

    /// `session::current`, telling a session that ended with its token from none at all.
    /// The session (and its cookie) end exactly when the token does, so nothing of it is
    /// left to say so; a second cookie, holding nothing but "signed in", outlives it and
    /// turns the next "not signed in" into "your session has ended", once.
    pub async fn current(session: &Session) -> Result<SignedIn, AppError> {
        match signed_in_state(session).await {
            Err(AppError::NotSignedIn) if had_signed_in() => {
                forget_signed_in();
                Err(AppError::SessionExpired)
            }
            other => other,
        }
    }

    /// Sets the "signed in" marker cookie (after a sign-in).
    pub fn remember_signed_in() {
        set_marker("1; Max-Age=604800");
    }

    /// Clears the marker (after sign-out, or once its message was shown).
    pub fn forget_signed_in() {
        set_marker("; Max-Age=0");
    }

    fn marker_name(state: &AppState) -> String {
        format!("{}_was_signed_in", state.config.cookie_name)
    }

    fn set_marker(value_and_age: &str) {
        let (Ok(state), Some(options)) = (state(), use_context::<leptos_axum::ResponseOptions>()) else { return };
        let secure = if state.config.secure_cookies { "; Secure" } else { "" };
        let cookie = format!("{}={value_and_age}; Path=/; HttpOnly; SameSite=Lax{secure}", marker_name(&state));
        if let Ok(value) = http::HeaderValue::from_str(&cookie) {
            options.append_header(http::header::SET_COOKIE, value);
        }
    }

    fn had_signed_in() -> bool {
        let (Ok(state), Some(parts)) = (state(), use_context::<http::request::Parts>()) else { return false };
        let wanted = format!("{}=1", marker_name(&state));
        parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .any(|c| c.trim() == wanted)
    }

    /// A result this session saved with `session::save_report`.
    pub async fn saved_report<T: serde::de::DeserializeOwned>(report_id: &str) -> Result<Option<T>, AppError> {
        let (session, _) = signed_in().await?;
        session::report(&session, report_id).await
    }

    /// The signed-in user, as the sharing service acts for them.
    pub async fn caller() -> Result<Caller, AppError> {
        let state = state()?;
        let (session, me) = signed_in().await?;
        Ok(Caller { state, session, me })
    }

    /// Sends the browser to `next` when `result` is a success: a place on the dashboard's own
    /// origin (see `return_path`), else the start page.
    pub async fn reply_and_go<T>(result: Result<T, AppError>, next: &str) -> Result<T, AppError> {
        if result.is_ok() {
            leptos_axum::redirect(&return_path(next));
        }
        reply(result).await
    }

    /// `next` checked against the public origin; the start page when it fails the check.
    fn return_path(next: &str) -> String {
        state()
            .map_or_else(|_| "/".into(), |s| crate::return_path::same_origin_path_or_home(next, &s.config.public_url))
    }

    /// Gives an error its HTTP status, and nothing else: for reads the page itself handles.
    pub fn status_only<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &result {
            set_status(e);
        }
        result
    }

    /// True when the browser called a server function itself; false while a page is rendered,
    /// whose own status (200, or a redirect) must not become the error's.
    fn called_over_http() -> bool {
        use_context::<http::request::Parts>().is_some_and(|p| p.uri.path().starts_with("/api/"))
    }

    fn set_status(e: &AppError) {
        if called_over_http()
            && let Some(options) = use_context::<leptos_axum::ResponseOptions>()
        {
            options.set_status(e.http_status());
            if let AppError::TooManyAttempts(secs) = e {
                options.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(*secs));
            }
        }
    }

    /// Finishes a server function's answer: an error gets its HTTP status (a plain form post
    /// keeps the redirect back to its page that carries the error instead), and a token the
    /// cloud no longer accepts ends the session and sends the browser to sign in, then back.
    pub async fn reply<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        let Err(e) = &result else { return result };
        let parts = use_context::<http::request::Parts>();
        let called_over_http = called_over_http();
        if *e == AppError::SessionExpired
            && let Ok(session) = session().await
        {
            // The cloud no longer accepts the token: the session is over, for pages too.
            session::end_expired(&session).await;
            ReadOnce::forget();
        }
        if e.needs_sign_in() && called_over_http {
            let back = parts.as_ref().and_then(referer_path).unwrap_or_else(|| "/".into());
            let reason = if *e == AppError::SessionExpired { "&reason=expired" } else { "" };
            leptos_axum::redirect(&format!("/signin?next={}{reason}", crate::model::urlencode(&back)));
        }
        let plain_form_post = parts.as_ref().is_some_and(|p| {
            p.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
        });
        if !plain_form_post {
            set_status(e);
        }
        match e {
            // Logged with its cause where it was made (`AppError::internal`).
            AppError::Internal(_) => {}
            AppError::Unavailable { .. } | AppError::NoAnswer { .. } => tracing::error!("{e}"),
            _ => tracing::info!("{e}"),
        }
        result
    }

    /// The path (and query) of the dashboard page a request came from.
    fn referer_path(parts: &http::request::Parts) -> Option<String> {
        let referer = parts.headers.get(http::header::REFERER)?.to_str().ok()?;
        Some(return_path(referer))
    }
}
