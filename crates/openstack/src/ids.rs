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
        // Nearly every member is a Keystone ID, which keeps to every rule below: one pass over
        // it instead of five (an image page parses each of its members).
        if is_keystone_id(raw) {
            return Ok(MemberId(raw.to_string()));
        }
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
        is_keystone_id(&self.0)
    }
}

/// 32 lowercase hex digits: the shape of Keystone's own IDs (a UUID without dashes), and of the
/// IDs the dashboard makes in that shape (batches).
pub fn is_keystone_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
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

/// The name of a custom image property (`superseded_by`, `os_distro`, …), which Glance sends as
/// a top-level field of the image and changes with a JSON-patch path `/{name}`.
///
/// Glance itself takes almost any name; [`PropertyName::parse`] refuses (white space around
/// the name is trimmed first):
/// - an empty name: Glance stores a property called `""` (seen against Glance 33, sent as the
///   path `/`), which no one can tell apart from none;
/// - `/` and `~`: a JSON-patch path is a JSON pointer, where `/` separates segments and `~`
///   escapes (`~1` is `/`): such a name would address another property unless escaped, and no
///   name a person picks needs them;
/// - white space and control characters: Glance stores `"a b"`, but such names are hard to read,
///   to tell apart and to type on a command line;
/// - more than [`PROPERTY_NAME_MAX_LEN`] characters: the database column is 255 characters
///   (SQLite, as in the lab, stores longer names; MySQL refuses or cuts them);
/// - Glance's own image attributes ([`RESERVED_PROPERTY_NAMES`]) and names starting with
///   `os_glance` (Glance's namespace for its own state): they are not custom properties. Glance refuses them as read-only or reserved (403), wants
///   another type than text for some (`protected`, `os_hidden`, `min_ram`: 400), never removes
///   them (403), and would change something else than a property for the rest (`name`,
///   `visibility`, `owner`, `disk_format`, …), each of which has its own call.
///
/// Any other name is kept as given, case included (Glance compares names exactly).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct PropertyName(String);

/// The longest property name [`PropertyName::parse`] accepts, in characters.
pub const PROPERTY_NAME_MAX_LEN: usize = 255;

/// Glance's own image attributes (the image schema's properties and the names it reserves, as
/// of Glance 33), which are not custom properties: [`PropertyName::parse`] refuses them.
pub const RESERVED_PROPERTY_NAMES: [&str; 28] = [
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "owner",
    "size",
    "virtual_size",
    "container_format",
    "disk_format",
    "created_at",
    "updated_at",
    "tags",
    "direct_url",
    "min_ram",
    "min_disk",
    "self",
    "file",
    "stores",
    "schema",
    "locations",
    "location",
    "deleted",
    "deleted_at",
];

/// Glance refuses every name in this namespace as reserved (403): it keeps its own state there.
const GLANCE_NAMESPACE: &str = "os_glance";

impl PropertyName {
    /// The name with white space around it trimmed, if it is not one of those refused above.
    pub fn parse(raw: &str) -> Result<PropertyName, IdError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(IdError::EmptyPropertyName);
        }
        if name.chars().count() > PROPERTY_NAME_MAX_LEN {
            return Err(IdError::PropertyNameTooLong(shorten(name)));
        }
        if let Some(bad) = name.chars().find(|c| matches!(c, '/' | '~') || c.is_whitespace() || c.is_control()) {
            return Err(IdError::PropertyNameHasForbiddenCharacter(shorten(name), bad));
        }
        if RESERVED_PROPERTY_NAMES.contains(&name) || name.starts_with(GLANCE_NAMESPACE) {
            return Err(IdError::PropertyNameReserved(shorten(name)));
        }
        Ok(PropertyName(name.to_string()))
    }

    /// The name as accepted (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PropertyName {
    type Error = IdError;
    fn try_from(raw: String) -> Result<PropertyName, IdError> {
        PropertyName::parse(&raw)
    }
}

impl std::fmt::Display for PropertyName {
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
    /// Empty, or only white space.
    #[error("An image property name is empty.")]
    EmptyPropertyName,
    /// Longer than [`PROPERTY_NAME_MAX_LEN`].
    #[error("{0:?} is too long for an image property name (at most 255 characters).")]
    PropertyNameTooLong(String),
    /// Contains `/`, `~`, white space or a control character (the character is given).
    #[error("{0:?} is not an image property name: it contains {1:?}.")]
    PropertyNameHasForbiddenCharacter(String, char),
    /// One of Glance's own attributes ([`RESERVED_PROPERTY_NAMES`]), or starts with `os_glance`.
    #[error("{0:?} is one of Glance's own image attributes, not a property that can be set or removed.")]
    PropertyNameReserved(String),
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
    fn keystone_ids_are_32_lowercase_hex_digits() {
        assert!(is_keystone_id("307433773c7941a8a74a5c42da2b220e"));
        for not in [
            "307433773C7941A8A74A5C42DA2B220E",
            " 307433773c7941a8a74a5c42da2b220e",
            "307433773c7941a8a74a5c42da2b220",
            "307433773c7941a8a74a5c42da2b220e0",
            "307433773c7941a8a74a5c42da2b220g",
            "",
        ] {
            assert!(!is_keystone_id(not), "{not:?}");
        }
        // Parsed the quick way and the long way alike.
        let id = "307433773c7941a8a74a5c42da2b220e";
        assert_eq!(MemberId::parse(id).unwrap().as_str(), MemberId::parse(&format!(" {id}\n")).unwrap().as_str());
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
    fn property_names_are_plain_custom_names() {
        for good in ["superseded_by", "supersedes", "os_distro", "os_version", "hw_disk_bus", "Name", "ID", "a:b.c-d"] {
            assert_eq!(PropertyName::parse(good).unwrap().as_str(), good);
        }
        assert_eq!(PropertyName::parse("  superseded_by\n").unwrap().as_str(), "superseded_by", "trimmed");
        assert!(PropertyName::parse("prüfung").is_ok(), "a JSON body carries any Unicode");
        assert_eq!(PropertyName::parse(""), Err(IdError::EmptyPropertyName));
        assert_eq!(PropertyName::parse(" \t "), Err(IdError::EmptyPropertyName));
        assert!(PropertyName::parse(&"p".repeat(255)).is_ok());
        assert_eq!(
            PropertyName::parse(&"p".repeat(256)),
            Err(IdError::PropertyNameTooLong(format!("{}…", "p".repeat(60))))
        );
        assert_eq!(PropertyName::parse(&"é".repeat(255)).map(|n| n.as_str().chars().count()), Ok(255), "characters");
    }

    #[test]
    fn property_names_cannot_reach_another_path_or_hide_characters() {
        for (bad, c) in [
            ("a/b", '/'),
            ("/superseded_by", '/'),
            ("a~1b", '~'),
            ("a~", '~'),
            ("a b", ' '),
            ("a\tb", '\t'),
            ("a\u{a0}b", '\u{a0}'),
            ("a\u{0}b", '\u{0}'),
            ("a\u{7f}", '\u{7f}'),
            ("a\u{85}b", '\u{85}'),
        ] {
            assert_eq!(
                PropertyName::parse(bad),
                Err(IdError::PropertyNameHasForbiddenCharacter(bad.into(), c)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn glances_own_attributes_are_not_properties() {
        for reserved in RESERVED_PROPERTY_NAMES {
            assert_eq!(PropertyName::parse(reserved), Err(IdError::PropertyNameReserved(reserved.into())));
        }
        for core in ["id", "owner", "visibility", "status", "protected", "os_hidden", "name", "deleted", "locations"] {
            assert!(RESERVED_PROPERTY_NAMES.contains(&core), "{core}");
        }
        for namespaced in ["os_glance_import_task", "os_glance", "os_glancex"] {
            assert!(matches!(PropertyName::parse(namespaced), Err(IdError::PropertyNameReserved(_))), "{namespaced}");
        }
        assert!(PropertyName::parse("os_glanc").is_ok() && PropertyName::parse("my_os_glance").is_ok());
    }

    #[test]
    fn deserialising_checks_like_parse() {
        let id: ImageId = serde_json::from_str("\"3D9EA67B-1DAD-4B7F-99FD-1D62AA62B73B\"").unwrap();
        assert_eq!(id.as_str(), "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b");
        assert!(serde_json::from_str::<ImageId>("\"../../v2/images\"").is_err());
        for bad in ["\"a/b\"", "\"..\"", "\"\"", "\"projekt-\\u00e4\""] {
            assert!(serde_json::from_str::<MemberId>(bad).is_err(), "{bad}");
        }
        for bad in ["\"id\"", "\"a/b\"", "\"\""] {
            assert!(serde_json::from_str::<PropertyName>(bad).is_err(), "{bad}");
        }
        let name: PropertyName = serde_json::from_str("\"superseded_by\"").unwrap();
        assert_eq!(name.as_str(), "superseded_by");
        let member: MemberId = serde_json::from_str("\"307433773c7941a8a74a5c42da2b220e\"").unwrap();
        assert_eq!(serde_json::to_string(&member).unwrap(), "\"307433773c7941a8a74a5c42da2b220e\"");
    }
}
