//! Server functions: thin adapters from the browser to the typed upstream clients.
//! Each reads the session, calls one client, and maps errors once into `AppError`.

pub mod auth;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use leptos::prelude::*;
    use tower_sessions::Session;

    use crate::{error::AppError, session, session::SignedIn, state::AppState};

    pub fn state() -> AppState {
        expect_context::<AppState>()
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|e| AppError::Internal(format!("no session: {e}")))
    }

    /// The signed-in user with the session they came from.
    pub async fn signed_in() -> Result<(Session, SignedIn), AppError> {
        let session = session().await?;
        let signed_in = session::current(&session).await?;
        Ok((session, signed_in))
    }

    /// Sends the browser to `next` (a path inside the dashboard) when `result` is a success.
    pub fn reply_and_go<T>(result: Result<T, AppError>, next: &str) -> Result<T, AppError> {
        if result.is_ok() {
            leptos_axum::redirect(&crate::model::local_path_or_home(Some(next)));
        }
        reply(result)
    }

    /// Gives an error its HTTP status for fetch callers. A plain form post (no JavaScript) keeps
    /// the redirect back to its page that carries the error instead.
    pub fn reply<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &result {
            let plain_form_post = use_context::<http::request::Parts>().is_some_and(|p| {
                p.headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
            });
            if !plain_form_post && let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
                options
                    .set_status(http::StatusCode::from_u16(e.status_code()).unwrap_or(http::StatusCode::BAD_GATEWAY));
            }
            match e {
                AppError::Internal(_) | AppError::Unavailable { .. } => tracing::error!("{e}"),
                _ => tracing::info!("{e}"),
            }
        }
        result
    }
}
