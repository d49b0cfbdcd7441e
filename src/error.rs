//! The one error type users see. Upstream and internal errors are mapped into it once
//! (`From<UpstreamError>` below), with words a user understands.

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
    #[error("Something went wrong on the dashboard's side: {0}")]
    Internal(String),
}

impl AppError {
    /// The HTTP status a server-function answer carries for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotSignedIn | AppError::SessionExpired | AppError::SignInFailed(_) => 401,
            AppError::InvalidInput(_) => 400,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::QuotaExceeded { .. } => 413,
            AppError::TooManyAttempts(_) => 429,
            AppError::TooLarge(_) => 413,
            AppError::Rejected { code, .. } => *code,
            AppError::Unavailable { .. } => 503,
            AppError::NoAnswer { .. } => 504,
            AppError::Internal(_) => 500,
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
            other => AppError::Internal(other.to_string()),
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
            assert_eq!(app.status_code(), 400, "{app:?}");
            assert!(app.to_string().starts_with("The request could not be read: "), "{app}");
        }
        assert_eq!(AppError::TooLarge(65536).status_code(), 413);
        let registration = AppError::from_server_fn_error(ServerFnErrorErr::Registration("poisoned".into()));
        assert_eq!(registration.status_code(), 500);
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
                        500..=599 => {
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
        fn only_a_change_that_got_no_answer_may_have_been_made() {
            let timeout =
                |change_asked| AppError::from(UpstreamError::Timeout { service: Service::Glance, change_asked });
            assert_eq!(timeout(false).to_string(), "Glance did not answer in time. Nothing was changed; try again.");
            assert!(timeout(true).to_string().contains("A change you asked for may still have been made"));
            assert_eq!(timeout(false).status_code(), 504);
        }
    }
}
