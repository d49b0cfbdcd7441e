//! The dashboard's side of identifiers: lists of project IDs as users paste them, and IDs put
//! into the dashboard's own URLs. The IDs themselves are the OpenStack crate's.

pub use openstack::ids::{IdError, ImageId, MemberId};

/// The entries of a pasted list of project IDs, as typed, each parsed on its own.
pub type PastedIds = Vec<(String, Result<MemberId, IdError>)>;

/// Reads a pasted list of project IDs (separated by commas, spaces or lines), dropping
/// repeats but keeping the order; each entry is parsed on its own so one typo does not hide
/// the others.
pub fn parse_member_list(text: &str) -> PastedIds {
    let mut seen = std::collections::HashSet::new();
    text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .filter(|s| seen.insert(s.to_string()))
        .map(|s| (s.to_string(), MemberId::parse(s)))
        .collect()
}

/// Percent-encodes `s` for one path segment or query value of a dashboard URL (a return path,
/// an ID in a link): everything but unreserved characters and `/`.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_are_encoded_into_one_query_value() {
        assert_eq!(urlencode("/images/a b?tab=mine&x=1"), "/images/a%20b%3Ftab%3Dmine%26x%3D1");
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn pasted_lists_split_on_commas_spaces_and_lines() {
        let parsed = parse_member_list("aaa, bbb\nccc;ddd  aaa\r\n\n e/f");
        let names: Vec<&str> = parsed.iter().map(|(raw, _)| raw.as_str()).collect();
        assert_eq!(names, ["aaa", "bbb", "ccc", "ddd", "e/f"]);
        assert!(parsed[..4].iter().all(|(_, r)| r.is_ok()));
        assert!(parsed[4].1.is_err());
    }
}
