//! Glance's records as its v2 API sends them. They are read leniently: a value this crate does
//! not know becomes `Unknown`, a missing optional field `None`, never a failed read.

use serde::{Deserialize, Deserializer, Serialize};

/// `visibility` of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Every project sees and may use it.
    Public,
    /// Every project may use it; image lists show it only when asked for.
    Community,
    /// Its owner and its member projects (the only visibility where members count).
    Shared,
    /// Its owner only.
    Private,
    /// A value this crate does not know (or none).
    #[serde(other)]
    Unknown,
}

impl Visibility {
    /// The API's own value (`"shared"`, …).
    pub fn label(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Community => "community",
            Visibility::Shared => "shared",
            Visibility::Private => "private",
            Visibility::Unknown => "unknown",
        }
    }
}

/// `status` of an image member: only the member itself (or an admin) may change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    /// Offered, not yet answered: the member's image lists show it only when asked for.
    Pending,
    /// Accepted: the member's image lists show it.
    Accepted,
    /// Declined: the member's image lists show it only when asked for.
    Rejected,
    /// A value this crate does not know (or none).
    #[serde(other)]
    Unknown,
}

impl MemberStatus {
    /// The statuses a member may be set to.
    pub const CHOICES: [MemberStatus; 3] = [MemberStatus::Pending, MemberStatus::Accepted, MemberStatus::Rejected];

    /// The API's own value (`"accepted"`, …).
    pub fn key(self) -> &'static str {
        match self {
            MemberStatus::Pending => "pending",
            MemberStatus::Accepted => "accepted",
            MemberStatus::Rejected => "rejected",
            MemberStatus::Unknown => "unknown",
        }
    }

    /// One of `CHOICES` by its API value; `None` for anything else (including `"unknown"`).
    pub fn from_key(key: &str) -> Option<MemberStatus> {
        MemberStatus::CHOICES.into_iter().find(|s| s.key() == key)
    }
}

/// Glance once echoed a numeric member as a number; read both. A visitor, not an untagged
/// enum: that one copies every member ID into a buffer before trying each variant.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
            // As serde_json writes the number (1e20 as 1e+20), as the untagged enum did.
            serde_json::Number::from_f64(v).map(|n| n.to_string()).ok_or_else(|| E::custom("not a finite number"))
        }
    }
    d.deserialize_any(Text)
}

/// An image, with the fields image sharing needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// As Glance sent it (parse it with [`crate::ids::ImageId::parse`] before using it in a call).
    pub id: String,
    /// Images need not have a name.
    #[serde(default)]
    pub name: Option<String>,
    /// `Unknown` when missing or new.
    #[serde(default = "unknown_visibility")]
    pub visibility: Visibility,
    /// The owning project's ID.
    #[serde(default)]
    pub owner: Option<String>,
    /// `queued`, `active`, `deactivated`, … as Glance says.
    #[serde(default)]
    pub status: Option<String>,
    /// In bytes; none until data is uploaded.
    #[serde(default)]
    pub size: Option<u64>,
    /// `raw`, `qcow2`, …
    #[serde(default)]
    pub disk_format: Option<String>,
    /// RFC 3339, as Glance sent it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// RFC 3339, as Glance sent it.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Hidden from image lists (`os_hidden`, image API 2.7): still usable by ID.
    #[serde(default)]
    pub os_hidden: bool,
    /// Glance refuses to delete a protected image (403) until it is unprotected.
    #[serde(default)]
    pub protected: bool,
    /// The `os_distro` property (`ubuntu`, `debian`, …): a custom property by convention, not
    /// a core attribute, so many images have none.
    #[serde(default)]
    pub os_distro: Option<String>,
    /// The `os_version` property (`24.04`, …), the version of `os_distro`.
    #[serde(default)]
    pub os_version: Option<String>,
    /// The `superseded_by` property of a version rollover: the ID of the image that replaces
    /// this one, as stored (any text: parse it with [`crate::ids::ImageId::parse`]).
    #[serde(default)]
    pub superseded_by: Option<String>,
    /// The `supersedes` property of a version rollover: the ID of the image this one replaces,
    /// as stored.
    #[serde(default)]
    pub supersedes: Option<String>,
}

fn unknown_visibility() -> Visibility {
    Visibility::Unknown
}

/// One member of an image: `member_id` is what Glance stored, any string (Glance checks nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member project's ID, as stored (a number Glance echoed as one is read as text).
    #[serde(deserialize_with = "string_or_number")]
    pub member_id: String,
    /// The image's ID, as Glance sent it.
    pub image_id: String,
    /// `Unknown` when missing or new.
    #[serde(default = "unknown_status")]
    pub status: MemberStatus,
    /// RFC 3339, as Glance sent it.
    #[serde(default)]
    pub created_at: Option<String>,
    /// RFC 3339: when the member was added or last answered.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// `/v2/schemas/member`, as Glance sends it.
    #[serde(default)]
    pub schema: Option<String>,
}

fn unknown_status() -> MemberStatus {
    MemberStatus::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_read_leniently() {
        let m: Member = serde_json::from_str(
            r#"{"member_id": 123, "image_id": "x", "status": "weird", "created_at": "2026-11-23T13:20:19Z", "extra": 1}"#,
        )
        .unwrap();
        assert_eq!(m.member_id, "123");
        assert_eq!(m.status, MemberStatus::Unknown);
        for (raw, read) in [("-7", "-7"), ("1.5", "1.5"), ("1e20", "1e+20"), ("\"a\\u00e9\"", "aé")] {
            let m: Member = serde_json::from_str(&format!(r#"{{"member_id": {raw}, "image_id": "x"}}"#)).unwrap();
            assert_eq!(m.member_id, read, "{raw}");
        }
        for wrong in ["true", "null", "[1]", "{}"] {
            let read = serde_json::from_str::<Member>(&format!(r#"{{"member_id": {wrong}, "image_id": "x"}}"#));
            assert!(read.is_err(), "{wrong}");
        }
        let i: Image = serde_json::from_str(r#"{"id": "abc", "visibility": "galactic"}"#).unwrap();
        assert_eq!(i.visibility, Visibility::Unknown);
        assert_eq!(i.name, None);
        assert!(!i.protected && !i.os_hidden);
        assert_eq!((i.os_distro, i.superseded_by, i.supersedes), (None, None, None));
    }

    #[test]
    fn rollover_properties_are_top_level_fields() {
        // Glance sends custom properties beside the core attributes, as text.
        let i: Image = serde_json::from_str(
            r#"{"id": "abc", "protected": true, "os_hidden": true, "os_distro": "ubuntu", "os_version": "24.04",
                "superseded_by": "0b7a6c0e-0d5e-4b55-9a3a-2f8f5f3e8c11", "supersedes": "old", "hw_disk_bus": "scsi"}"#,
        )
        .unwrap();
        assert!(i.protected && i.os_hidden);
        assert_eq!((i.os_distro.as_deref(), i.os_version.as_deref()), (Some("ubuntu"), Some("24.04")));
        assert_eq!(i.superseded_by.as_deref(), Some("0b7a6c0e-0d5e-4b55-9a3a-2f8f5f3e8c11"));
        assert_eq!(i.supersedes.as_deref(), Some("old"));
    }

    #[test]
    fn statuses_round_trip_through_their_keys() {
        for s in MemberStatus::CHOICES {
            assert_eq!(MemberStatus::from_key(s.key()), Some(s));
        }
        assert_eq!(MemberStatus::from_key("unknown"), None);
        assert_eq!(MemberStatus::from_key("Accepted"), None);
    }
}
