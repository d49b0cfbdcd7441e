//! The one error type users see. Upstream errors are mapped into it once (`From<UpstreamError>`
//! below), with words a user understands; the dashboard's own failures become a reference to
//! the log line that holds their cause (`AppError::internal`). Its HTTP status is decided in
//! one place, `AppError::http_status`.

use serde::{Deserialize, Serialize};
use server_fn_error::{FromServerFnError, ServerFnErrorErr};

/// Re-exported pieces of `server_fn` under a short local name.
mod server_fn_error {
    pub use leptos::server_fn::{
        codec::JsonEncoding,
        error::{FromServerFnError, ServerFnErrorErr},
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in first.")]
    NotSignedIn,
    #[error("Your session has ended (the cloud no longer accepts its token). Please sign in again.")]
    SessionExpired,
    #[error("{0}")]
    InvalidInput(String),
    #[error("Sign-in failed: {0}")]
    SignInFailed(String),
    #[error("Not allowed: {message} ({service} {code})")]
    Forbidden { service: String, code: u16, message: String },
    #[error("Not found: {message} ({service} {code})")]
    NotFound { service: String, code: u16, message: String },
    #[error("{message} ({service} {code})")]
    Conflict { service: String, code: u16, message: String },
    #[error("The image member quota is reached: {message} ({service} {code})")]
    QuotaExceeded { service: String, code: u16, message: String, limit: Option<u32> },
    #[error("{service} is unavailable right now, so nothing was changed: {detail}")]
    Unavailable { service: String, detail: String },
    /// No answer within the timeout. Unlike a refused connection, a change may have been made,
    /// if one was asked for (`change_asked`); a read that timed out changed nothing.
    #[error("{service} did not answer in time. {}", no_answer_advice(*.change_asked))]
    NoAnswer { service: String, change_asked: bool },
    #[error("{service} refused the request: {message} ({service} {code})")]
    Rejected { service: String, code: u16, message: String },
    #[error("Too many sign-in attempts. Try again in {0} s.")]
    TooManyAttempts(u64),
    /// The request's body is over `GLANCE_SHARE_MAX_BODY_BYTES`.
    #[error("The request is too large: glance-share accepts at most {0} bytes.")]
    TooLarge(usize),
    /// A failure on the dashboard's own side (session store, audit log, server-function
    /// machinery). Made only by `AppError::internal`, which logs the cause: the variant holds
    /// nothing but where to find it, so no cause reaches a page or a server-function answer.
    #[error("Something went wrong in glance-share.{0}")]
    Internal(Reference),
}

/// Which log line tells the cause of an `Internal` error: the id of the request that wrote it
/// (the `x-request-id` of the answer). Its field is private: nothing outside this module can put
/// a cause in it. None in the browser, whose own failures have no server log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reference(Option<String>);

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(id) => write!(f, " Reference: {id}"),
            None => Ok(()),
        }
    }
}

impl AppError {
    /// An internal failure: `cause` is logged here, once, with the request's id, and the error
    /// keeps only that id, which the user reads (and an operator finds the cause by).
    pub fn internal(cause: impl std::fmt::Display) -> AppError {
        #[cfg(feature = "ssr")]
        {
            // Outside any request (a batch running on) the id is made for this one line.
            let reference =
                crate::telemetry::current_request_id().unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
            tracing::error!(reference = %reference, "internal error: {cause}");
            AppError::Internal(Reference(Some(reference)))
        }
        #[cfg(not(feature = "ssr"))]
        {
            // In the browser the console is the only log there is, and it is the user's own.
            leptos::logging::error!("glance-share: {cause}");
            AppError::Internal(Reference(None))
        }
    }

    /// The dashboard's HTTP status for this error, the one place it is decided. An upstream's
    /// status is the dashboard's own only where it means the same thing to the dashboard's
    /// client:
    /// - Glance/Keystone 401: the session's token is no longer accepted, so the user must sign
    ///   in again (`SessionExpired`): 401, as for no session at all.
    /// - 403 and 404 (`Forbidden`, `NotFound`): this user may not, or there is no such image
    ///   for them: the same for the dashboard's client.
    /// - 409 (`Conflict`): the project already is a member: the change conflicts with the
    ///   image's state, here as there.
    /// - Glance's 413 for the member quota (`QuotaExceeded`) is not about the size of anything
    ///   the client sent (the dashboard's own 413 is, `TooLarge`): 409, the image's member list
    ///   is full, and removing a member resolves it.
    /// - Any other refusal (`Rejected`: a 400 for a request the dashboard checked before
    ///   sending, 405, 415, ...) is the dashboard and its upstream disagreeing, not a mistake
    ///   the client can correct: 502.
    /// - An upstream 5xx, an answer that cannot be read, or no connection (`Unavailable`): the
    ///   dashboard cannot serve this right now: 503. No answer in time (`NoAnswer`): 504.
    #[cfg(feature = "ssr")]
    pub fn http_status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::NotSignedIn | AppError::SessionExpired | AppError::SignInFailed(_) => StatusCode::UNAUTHORIZED,
            AppError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } | AppError::QuotaExceeded { .. } => StatusCode::CONFLICT,
            AppError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Rejected { .. } => StatusCode::BAD_GATEWAY,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::NoAnswer { .. } => StatusCode::GATEWAY_TIMEOUT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// True when the user has to sign in (again) before anything else works.
    pub fn needs_sign_in(&self) -> bool {
        matches!(self, AppError::NotSignedIn | AppError::SessionExpired)
    }
}

impl FromServerFnError for AppError {
    type Encoder = server_fn_error::JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(e) => AppError::Unavailable {
                service: "glance-share".into(),
                detail: format!("the dashboard could not be reached ({e})"),
            },
            ServerFnErrorErr::Args(e) | ServerFnErrorErr::MissingArg(e) => unreadable_request(&e),
            // On the server this is a request body that could not be read (not UTF-8, cut
            // off): the client's error. In the browser it is an answer it could not read.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(e) => unreadable_request(&e),
            other => AppError::internal(other),
        }
    }
}

/// A request whose fields could not be read (missing, of the wrong type, not UTF-8).
fn unreadable_request(detail: &str) -> AppError {
    AppError::InvalidInput(format!("The request could not be read: {detail}."))
}

/// What to do after no answer came: only a change may have been made without one.
fn no_answer_advice(change_asked: bool) -> &'static str {
    if change_asked {
        "A change you asked for may still have been made: look again before you repeat it."
    } else {
        "Nothing was changed; try again."
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_request_the_server_cannot_read_is_the_clients_error() {
        for e in [
            ServerFnErrorErr::Args("missing field `image_id`".into()),
            ServerFnErrorErr::MissingArg("image_id".into()),
            ServerFnErrorErr::Deserialization("invalid utf-8 sequence of 1 bytes from index 9".into()),
        ] {
            let app = AppError::from_server_fn_error(e);
            assert_eq!(app.http_status(), 400, "{app:?}");
            assert!(app.to_string().starts_with("The request could not be read: "), "{app}");
        }
        assert_eq!(AppError::TooLarge(65536).http_status(), 413);
        let registration = AppError::from_server_fn_error(ServerFnErrorErr::Registration("poisoned".into()));
        assert_eq!(registration.http_status(), 500);
    }

    #[test]
    fn an_internal_error_shows_and_sends_its_reference_never_its_cause() {
        let e = AppError::internal("no such table: tower_sessions");
        let AppError::Internal(Reference(Some(reference))) = &e else { panic!("{e:?}") };
        assert_eq!(e.to_string(), format!("Something went wrong in glance-share. Reference: {reference}"));
        let sent = serde_json::to_string(&e).unwrap();
        assert_eq!(sent, format!(r#"{{"Internal":"{reference}"}}"#));
        assert_eq!(serde_json::from_str::<AppError>(&sent).unwrap(), e, "the browser reads it back");
        let from_server_fn = AppError::from_server_fn_error(ServerFnErrorErr::ServerError("secret cause".into()));
        assert!(!format!("{from_server_fn} {}", serde_json::to_string(&from_server_fn).unwrap()).contains("secret"));
    }
}

/// A malformed ID is the client's mistake, told in words.
impl From<openstack::ids::IdError> for AppError {
    fn from(e: openstack::ids::IdError) -> AppError {
        AppError::InvalidInput(e.to_string())
    }
}

#[cfg(feature = "ssr")]
mod upstream {
    use super::AppError;
    use openstack::{UpstreamError, error::quota_limit};

    /// The one place where upstream failures become what the user reads.
    impl From<UpstreamError> for AppError {
        fn from(e: UpstreamError) -> AppError {
            match e {
                UpstreamError::Status { status: 401, .. } => AppError::SessionExpired,
                UpstreamError::Status { service, status, message } => {
                    let service = service.to_string();
                    match status {
                        400 => AppError::Rejected { service, code: status, message },
                        403 => AppError::Forbidden { service, code: status, message },
                        404 => AppError::NotFound { service, code: status, message },
                        409 => AppError::Conflict { service, code: status, message },
                        413 => {
                            let limit = quota_limit(&message);
                            AppError::QuotaExceeded { service, code: status, message, limit }
                        }
                        // Busy, not refusing this request: like a 5xx, try again later.
                        429 | 500..=599 => {
                            AppError::Unavailable { service, detail: format!("it answered {status}: {message}") }
                        }
                        _ => AppError::Rejected { service, code: status, message },
                    }
                }
                UpstreamError::Timeout { service, change_asked } => {
                    AppError::NoAnswer { service: service.to_string(), change_asked }
                }
                UpstreamError::Unreachable { service, detail } => {
                    AppError::Unavailable { service: service.to_string(), detail }
                }
                UpstreamError::BadResponse { service, detail } => AppError::Unavailable {
                    service: service.to_string(),
                    detail: format!("its answer was not understood ({detail})"),
                },
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use openstack::Service;

        #[test]
        fn quota_errors_carry_the_limit() {
            let msg = "Image member limit exceeded for image x: The limit has been exceeded on the number of allowed image members for this image. Attempted: 129, Maximum: 128";
            let e =
                AppError::from(UpstreamError::Status { service: Service::Glance, status: 413, message: msg.into() });
            assert!(matches!(e, AppError::QuotaExceeded { limit: Some(128), .. }), "{e:?}");
        }
        #[test]
        fn unauthorized_means_the_session_is_over() {
            let e =
                AppError::from(UpstreamError::Status { service: Service::Glance, status: 401, message: "x".into() });
            assert_eq!(e, AppError::SessionExpired);
            assert!(e.needs_sign_in());
        }
        #[test]
        fn an_upstream_status_is_the_dashboards_only_where_it_means_the_same() {
            let status = |status: u16| {
                let e = AppError::from(UpstreamError::Status { service: Service::Glance, status, message: "m".into() });
                e.http_status().as_u16()
            };
            // Same meaning: passed on.
            for same in [401, 403, 404, 409] {
                assert_eq!(status(same), same);
            }
            // The member quota is the image's state, not a request too large.
            assert_eq!(status(413), 409);
            // Refusals the client cannot correct: the dashboard's upstream failed it.
            for refused in [400, 405, 415, 422, 302] {
                assert_eq!(status(refused), 502, "{refused}");
            }
            // Busy or broken: this cannot be done right now.
            for down in [429, 500, 502, 503] {
                assert_eq!(status(down), 503, "{down}");
            }
        }
        #[test]
        fn only_a_change_that_got_no_answer_may_have_been_made() {
            let timeout =
                |change_asked| AppError::from(UpstreamError::Timeout { service: Service::Glance, change_asked });
            assert_eq!(timeout(false).to_string(), "Glance did not answer in time. Nothing was changed; try again.");
            assert!(timeout(true).to_string().contains("A change you asked for may still have been made"));
            assert_eq!(timeout(false).http_status(), 504);
        }
    }
}
