//! Where the browser may be sent back to after an action (`next`, the Referer): a place on the
//! dashboard's own origin, and nowhere else. The one check every redirect goes through.

use percent_encoding::percent_decode_str;
use url::{Position, Url};

/// `next` as a path (with its query) on `public_url`'s origin, or "/" when it is anything else.
///
/// Browsers drop tabs and newlines from a Location and read a backslash as a slash, so
/// `/\t/evil.example` or `/\evil.example` would leave the dashboard: control characters and
/// backslashes are refused outright, also percent-encoded (a page may decode `next` once more).
/// What remains is resolved against the public URL and kept only when its origin is the same.
/// The answer is the parsed URL's own serialisation, percent-encoded ASCII: always a valid
/// header value, so redirecting to it can never fail.
pub fn same_origin_path_or_home(next: &str, public_url: &Url) -> String {
    const HOME: &str = "/";
    let Ok(decoded) = percent_decode_str(next).decode_utf8() else { return HOME.into() };
    if [next, decoded.as_ref()].iter().any(|s| s.chars().any(|c| c.is_control() || c == '\\')) {
        return HOME.into();
    }
    match public_url.join(next) {
        Ok(url) if url.origin() == public_url.origin() => url[Position::BeforePath..].to_string(),
        _ => HOME.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(next: &str) -> String {
        same_origin_path_or_home(next, &Url::parse("https://dash.example.org/").unwrap())
    }

    #[test]
    fn paths_inside_the_dashboard_are_kept_with_their_query() {
        assert_eq!(go("/images/abc?x=1"), "/images/abc?x=1");
        assert_eq!(go("/images?tab=shared&q=ubuntu%2022"), "/images?tab=shared&q=ubuntu%2022");
        assert_eq!(go("/inbox?report=0123abcd"), "/inbox?report=0123abcd");
        assert_eq!(go("/"), "/");
        assert_eq!(go("https://dash.example.org/batch?x=1"), "/batch?x=1", "an absolute URL of the same origin");
    }

    #[test]
    fn other_origins_go_home() {
        for next in [
            "//evil.example/",
            "///evil.example/",
            "https://evil.example/",
            "http://dash.example.org/",
            "https://dash.example.org:8443/",
            "javascript:alert(1)",
            "data:text/html,hi",
            " //evil.example",
        ] {
            assert_eq!(go(next), "/", "{next:?}");
        }
    }

    #[test]
    fn control_characters_and_backslashes_go_home() {
        for next in [
            "/\t/evil.example",
            "/\x01/evil.example",
            "/\x7f/evil.example",
            "/images\x00",
            "/x\r\nSet-Cookie: a=b",
            "/\\evil.example/",
            "\\\\evil.example",
            "/images\\..\\x",
            "/\u{85}x",
        ] {
            assert_eq!(go(next), "/", "{next:?}");
        }
    }

    #[test]
    fn encoded_control_characters_and_backslashes_go_home() {
        for next in ["/%09/evil.example", "/%01/x", "/%7F/x", "/%0d%0aSet-Cookie:%20a=b", "/%5Cevil.example", "/%FF"] {
            assert_eq!(go(next), "/", "{next:?}");
        }
    }

    #[test]
    fn the_answer_is_always_a_valid_header_value() {
        for next in ["/images/ñandú", "/a b", "/\"<x>", "/images?q=проект"] {
            let path = go(next);
            assert!(path.starts_with('/') && path.is_ascii(), "{next:?} -> {path:?}");
            assert!(http::HeaderValue::from_str(&path).is_ok(), "{path:?}");
        }
    }
}
