//! Identifiers that are valid by construction: nothing unchecked reaches an upstream URL.

use serde::{Deserialize, Serialize};

/// A Glance image ID: a UUID, kept in Glance's canonical hyphenated lowercase form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct ImageId(String);

impl ImageId {
    /// Any form of UUID Glance accepts (white space around it trimmed), kept in canonical form.
    pub fn parse(raw: &str) -> Result<ImageId, IdError> {
        let trimmed = raw.trim();
        uuid::Uuid::try_parse(trimmed)
            .map(|u| ImageId(u.hyphenated().to_string()))
            .map_err(|_| IdError::NotAnImageId(shorten(trimmed)))
    }

    /// The canonical hyphenated lowercase form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Deserialising checks as `parse` does: an ID read from a form or a stored record is valid too.
impl TryFrom<String> for ImageId {
    type Error = IdError;
    fn try_from(raw: String) -> Result<ImageId, IdError> {
        ImageId::parse(&raw)
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
#[serde(try_from = "String")]
pub struct MemberId(String);

/// The longest member ID [`MemberId::parse`] accepts, in characters.
pub const MEMBER_ID_MAX_LEN: usize = 255;

impl MemberId {
    /// The ID with white space around it trimmed, if it keeps to the limits above.
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

    /// The ID as accepted (trimmed).
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

impl TryFrom<String> for MemberId {
    type Error = IdError;
    fn try_from(raw: String) -> Result<MemberId, IdError> {
        MemberId::parse(&raw)
    }
}

impl std::fmt::Display for MemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a text is not an ID. The text it carries is cut to 60 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum IdError {
    /// Not a UUID.
    #[error("{0:?} is not an image ID (image IDs are UUIDs such as 3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b).")]
    NotAnImageId(String),
    /// Empty, or only white space.
    #[error("A project ID is empty.")]
    EmptyMemberId,
    /// Longer than [`MEMBER_ID_MAX_LEN`].
    #[error("{0:?} is too long for a project ID (at most 255 characters).")]
    MemberIdTooLong(String),
    /// Contains `/ ? # % \`, white space or a control character (the character is given).
    #[error("{0:?} is not a project ID: it contains {1:?}.")]
    MemberIdHasForbiddenCharacter(String, char),
    /// `.` or `..`, which URL parsers resolve as path steps.
    #[error("{0:?} is not a project ID.")]
    MemberIdIsDotSegment(String),
    /// Contains a character that is not printable ASCII (the character is given).
    #[error(
        "{0:?} is not a project ID: it contains {1:?}, and project IDs are plain ASCII letters, digits and signs \
         (Glance could never remove such a member again)."
    )]
    MemberIdNotAscii(String, char),
}

/// Keeps error messages readable when the input was huge.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
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
    fn deserialising_checks_like_parse() {
        let id: ImageId = serde_json::from_str("\"3D9EA67B-1DAD-4B7F-99FD-1D62AA62B73B\"").unwrap();
        assert_eq!(id.as_str(), "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b");
        assert!(serde_json::from_str::<ImageId>("\"../../v2/images\"").is_err());
        for bad in ["\"a/b\"", "\"..\"", "\"\"", "\"projekt-\\u00e4\""] {
            assert!(serde_json::from_str::<MemberId>(bad).is_err(), "{bad}");
        }
        let member: MemberId = serde_json::from_str("\"307433773c7941a8a74a5c42da2b220e\"").unwrap();
        assert_eq!(serde_json::to_string(&member).unwrap(), "\"307433773c7941a8a74a5c42da2b220e\"");
    }
}
