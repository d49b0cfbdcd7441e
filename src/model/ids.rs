//! Identifiers that are valid by construction: nothing unchecked reaches an upstream URL.

use serde::{Deserialize, Serialize};

/// A Glance image ID: a UUID, kept in Glance's canonical hyphenated lowercase form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageId(String);

impl ImageId {
    pub fn parse(raw: &str) -> Result<ImageId, IdError> {
        let trimmed = raw.trim();
        uuid::Uuid::try_parse(trimmed)
            .map(|u| ImageId(u.hyphenated().to_string()))
            .map_err(|_| IdError::NotAnImageId(shorten(trimmed)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ImageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A member of an image: the ID of the project it is shared with. Glance accepts any string
/// here, so the dashboard sets the limits: non-empty, at most 255 characters (the database
/// column), printable ASCII only, and nothing that could change the meaning of a URL path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MemberId(String);

pub const MEMBER_ID_MAX_LEN: usize = 255;

impl MemberId {
    pub fn parse(raw: &str) -> Result<MemberId, IdError> {
        let id = raw.trim();
        if id.is_empty() {
            return Err(IdError::EmptyMemberId);
        }
        if id.chars().count() > MEMBER_ID_MAX_LEN {
            return Err(IdError::MemberIdTooLong(shorten(id)));
        }
        if let Some(bad) =
            id.chars().find(|c| matches!(c, '/' | '?' | '#' | '%' | '\\') || c.is_whitespace() || c.is_control())
        {
            return Err(IdError::MemberIdHasForbiddenCharacter(shorten(id), bad));
        }
        // Glance reads a member in a URL path as latin-1: a member added with any other
        // character can never be addressed again, so never revoked (seen against Glance 33).
        if let Some(bad) = id.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(IdError::MemberIdNotAscii(shorten(id), bad));
        }
        // URL parsers resolve these as "this" and "parent" path segments: `.../members/..`
        // would address the image itself (found by the property tests).
        if id == "." || id == ".." {
            return Err(IdError::MemberIdIsDotSegment(id.to_string()));
        }
        Ok(MemberId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Keystone's own project IDs are 32 lowercase hex digits (a UUID without dashes). An entry
    /// of another shape is shared with only once Keystone confirms it (`ProjectCheck`): other
    /// identity back ends may make other IDs, and a user who may look them up can use them.
    pub fn looks_like_keystone_id(&self) -> bool {
        self.0.len() == 32 && self.0.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

impl std::fmt::Display for MemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum IdError {
    #[error("{0:?} is not an image ID (image IDs are UUIDs such as 3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b).")]
    NotAnImageId(String),
    #[error("A project ID is empty.")]
    EmptyMemberId,
    #[error("{0:?} is too long for a project ID (at most 255 characters).")]
    MemberIdTooLong(String),
    #[error("{0:?} is not a project ID: it contains {1:?}.")]
    MemberIdHasForbiddenCharacter(String, char),
    #[error("{0:?} is not a project ID.")]
    MemberIdIsDotSegment(String),
    #[error(
        "{0:?} is not a project ID: it contains {1:?}, and project IDs are plain ASCII letters, digits and signs \
         (Glance could never remove such a member again)."
    )]
    MemberIdNotAscii(String, char),
}

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

/// Keeps error messages readable when the input was huge.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A malformed ID is the client's mistake, told in words.
impl From<IdError> for crate::error::AppError {
    fn from(e: IdError) -> crate::error::AppError {
        crate::error::AppError::InvalidInput(e.to_string())
    }
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
    #[test]
    fn return_paths_are_encoded_into_one_query_value() {
        assert_eq!(urlencode("/images/a b?tab=mine&x=1"), "/images/a%20b%3Ftab%3Dmine%26x%3D1");
    }

    use super::*;

    #[test]
    fn image_ids_are_uuids_in_canonical_form() {
        let id = ImageId::parse(" 3D9EA67B-1DAD-4B7F-99FD-1D62AA62B73B ").unwrap();
        assert_eq!(id.as_str(), "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b");
        assert_eq!(ImageId::parse("3d9ea67b1dad4b7f99fd1d62aa62b73b").unwrap(), id);
        for bad in [
            "",
            "abc",
            "../../v2/images",
            "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b/members",
            "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73g",
        ] {
            assert!(ImageId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn member_ids_cannot_reach_another_path() {
        assert!(MemberId::parse("307433773c7941a8a74a5c42da2b220e").unwrap().looks_like_keystone_id());
        assert!(!MemberId::parse("consumer").unwrap().looks_like_keystone_id());
        for bad in ["", "  ", "a/b", "a?b", "a#b", "a%2Fb", "a b", "a\tb", "a\u{0}b", "..\\x", ".", ".."] {
            assert!(MemberId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(MemberId::parse(&"a".repeat(255)).is_ok());
        assert_eq!(MemberId::parse(&"a".repeat(256)), Err(IdError::MemberIdTooLong(format!("{}…", "a".repeat(60)))));
    }

    #[test]
    fn member_ids_are_printable_ascii() {
        // Glance adds such a member but can never remove it again.
        for bad in ["ñandú-проект-项目", "projekt-ä", "a\u{a0}b", "a\u{200b}b", "ｐｒｏｊｅｃｔ", "a\u{7f}"]
        {
            assert!(
                matches!(
                    MemberId::parse(bad),
                    Err(IdError::MemberIdNotAscii(..) | IdError::MemberIdHasForbiddenCharacter(..))
                ),
                "{bad:?}: {:?}",
                MemberId::parse(bad)
            );
        }
        assert_eq!(
            MemberId::parse("ñandú-проект-项目"),
            Err(IdError::MemberIdNotAscii("ñandú-проект-项目".into(), 'ñ'))
        );
        for good in ["consumer", "307433773c7941a8a74a5c42da2b220e", "a:b@c&d=e+f~!$'()*,;[]^_`{|}"] {
            assert!(MemberId::parse(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn pasted_lists_split_on_commas_spaces_and_lines() {
        let parsed = parse_member_list("aaa, bbb\nccc;ddd  aaa\r\n\n e/f");
        let names: Vec<&str> = parsed.iter().map(|(raw, _)| raw.as_str()).collect();
        assert_eq!(names, ["aaa", "bbb", "ccc", "ddd", "e/f"]);
        assert!(parsed[..4].iter().all(|(_, r)| r.is_ok()));
        assert!(parsed[4].1.is_err());
    }
}
