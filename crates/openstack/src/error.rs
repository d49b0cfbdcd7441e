//! What can go wrong talking to Keystone or Glance, said as what happened (which service,
//! which status, its message). What a user reads of it is the caller's business.

use serde::Deserialize;

/// Which OpenStack service an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// The identity service (v3).
    Keystone,
    /// The image service (v2).
    Glance,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::Keystone => "Keystone",
            Service::Glance => "Glance",
        })
    }
}

/// Every failure of a client call. The `Display` texts are for logs; callers word their own.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The service answered with a status other than 2xx.
    #[error("{service} answered {status}: {message}")]
    Status {
        /// Which service answered.
        service: Service,
        /// Its HTTP status (after the one repeat a GET or PUT gets on a 5xx).
        status: u16,
        /// Its own message, without markup and at most 500 characters, or the status's
        /// reason phrase when the body had none (an HTML page from a proxy, say).
        message: String,
    },
    /// The call or its answer's body took longer than the HTTP client's timeout.
    #[error("{service} did not answer in time")]
    Timeout {
        /// Which service did not answer.
        service: Service,
        /// The call that timed out could have changed something (not a read), so it may or
        /// may not have happened: the caller should look before trying again.
        change_asked: bool,
    },
    /// No answer at all: connection refused, reset or dropped (after the one repeat).
    #[error("{service} could not be reached: {detail}")]
    Unreachable {
        /// Which service could not be reached.
        service: Service,
        /// What failed, without the URL.
        detail: String,
    },
    /// A 2xx answer this crate cannot read (not the JSON expected, no `X-Subject-Token`), or
    /// a catalog entry that is not an http(s) URL.
    #[error("{service} sent an answer glance-share cannot read: {detail}")]
    BadResponse {
        /// Which service sent it.
        service: Service,
        /// What was wrong with it.
        detail: String,
    },
}

impl UpstreamError {
    /// The HTTP status the service answered, for [`UpstreamError::Status`] only.
    pub fn status(&self) -> Option<u16> {
        match self {
            UpstreamError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// `change_asked`: the failed call was one that changes something (see `Timeout`).
    #[cfg(feature = "client")]
    pub(crate) fn from_reqwest(service: Service, e: reqwest::Error, change_asked: bool) -> UpstreamError {
        if e.is_timeout() {
            UpstreamError::Timeout { service, change_asked }
        } else if e.is_decode() {
            UpstreamError::BadResponse { service, detail: e.to_string() }
        } else {
            // Without the URL: it is ours, not the user's business, and may be long.
            let detail = if e.is_connect() {
                "it could not be reached (connection refused or failed)".into()
            } else {
                format!("it could not be reached ({})", e.without_url())
            };
            UpstreamError::Unreachable { service, detail }
        }
    }

    /// Builds the error for a non-success answer from its body, whichever format it came in.
    #[cfg(feature = "client")]
    pub(crate) fn from_body(service: Service, status: u16, body: &str) -> UpstreamError {
        UpstreamError::Status { service, status, message: error_message(body, status) }
    }
}

/// Glance answers `{"message", "code", "title"}` (with literal `<br /><br />` in the message),
/// Keystone `{"error": {"message", "code", "title"}}`; proxies may answer HTML.
pub fn error_message(body: &str, status: u16) -> String {
    #[derive(Deserialize)]
    struct Flat {
        message: Option<String>,
        title: Option<String>,
    }
    #[derive(Deserialize)]
    struct Nested {
        error: Flat,
    }
    let pick = |f: Flat| f.message.or(f.title);
    let raw = serde_json::from_str::<Nested>(body)
        .ok()
        .and_then(|n| pick(n.error))
        .or_else(|| serde_json::from_str::<Flat>(body).ok().and_then(pick))
        .unwrap_or_default();
    let cleaned = clean(&raw);
    if cleaned.is_empty() {
        http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("unexpected answer")
            .to_string()
    } else {
        cleaned
    }
}

/// Drops markup and collapses white space; bounded so a huge body cannot flood a page.
fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(600));
    let mut in_tag = false;
    for c in raw.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            c if c.is_whitespace() || c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_end_matches(':').trim().to_string();
    match trimmed.char_indices().nth(500) {
        Some((i, _)) => format!("{}…", &trimmed[..i]),
        None => trimmed,
    }
}

/// Glance says "… Attempted: 129, Maximum: 128"; the maximum is worth showing.
pub fn quota_limit(message: &str) -> Option<u32> {
    let after = message.split("Maximum:").nth(1)?;
    after.trim().split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glance_json_errors_lose_their_markup() {
        let body = r#"{"message": "Member m is duplicated for image abc<br /><br />\n\n\n", "code": "409 Conflict", "title": "Conflict"}"#;
        assert_eq!(error_message(body, 409), "Member m is duplicated for image abc");
    }

    #[test]
    fn keystone_json_errors_are_read() {
        let body = r#"{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}"#;
        assert_eq!(error_message(body, 401), "The request you have made requires authentication.");
    }

    #[test]
    fn html_or_empty_bodies_fall_back_to_the_status() {
        assert_eq!(error_message("<html><body><h1>502 Bad Gateway</h1></body></html>", 502), "Bad Gateway");
        assert_eq!(error_message("", 503), "Service Unavailable");
        assert_eq!(error_message("{\"message\": ", 500), "Internal Server Error");
    }

    #[test]
    fn long_messages_are_bounded() {
        let body = format!("{{\"message\": \"{}\"}}", "x".repeat(5000));
        assert!(error_message(&body, 400).chars().count() <= 501);
    }
}
