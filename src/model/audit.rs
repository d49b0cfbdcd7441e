//! The record of who changed an image's sharing: what the image page's History shows.

use serde::{Deserialize, Serialize};

use super::{MemberStatus, Visibility};

/// One change to an image's sharing, as the dashboard made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the log (later changes have larger numbers): where a page of History ends.
    pub id: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    pub user_name: String,
    pub user_domain: String,
    /// The project the user acted in.
    pub project_id: String,
    pub project_name: String,
    pub change: Change,
    /// The member project the change was about (none for a visibility change).
    pub member_id: Option<String>,
    /// `None` when Glance made the change; otherwise what the user was told.
    pub failure: Option<String>,
    pub via: Via,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    Share,
    Revoke,
    Status(MemberStatus),
    Visibility(Visibility),
    /// Hidden from image lists (`os_hidden`).
    Hide,
    /// Protected from deletion.
    Protect,
    /// Its `superseded_by` property set: the entry's `member_id` holds the successor's image ID.
    SupersededBy,
    /// Its `supersedes` property set: the entry's `member_id` holds the predecessor's image ID.
    Supersedes,
}

impl Change {
    /// How the change is stored: stable text, independent of the wording shown.
    #[cfg(feature = "ssr")]
    pub fn key(self) -> String {
        match self {
            Change::Share => "share".into(),
            Change::Revoke => "revoke".into(),
            Change::Status(s) => format!("status:{}", s.key()),
            Change::Visibility(v) => format!("visibility:{}", v.label()),
            Change::Hide => "hide".into(),
            Change::Protect => "protect".into(),
            Change::SupersededBy => "superseded-by".into(),
            Change::Supersedes => "supersedes".into(),
        }
    }

    #[cfg(feature = "ssr")]
    pub fn from_key(key: &str) -> Option<Change> {
        match key.split_once(':') {
            None if key == "share" => Some(Change::Share),
            None if key == "revoke" => Some(Change::Revoke),
            None if key == "hide" => Some(Change::Hide),
            None if key == "protect" => Some(Change::Protect),
            None if key == "superseded-by" => Some(Change::SupersededBy),
            None if key == "supersedes" => Some(Change::Supersedes),
            Some(("status", s)) => MemberStatus::from_key(s).map(Change::Status),
            Some(("visibility", "shared")) => Some(Change::Visibility(Visibility::Shared)),
            Some(("visibility", "private")) => Some(Change::Visibility(Visibility::Private)),
            _ => None,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Change::Share => "shared with".into(),
            Change::Revoke => "revoked".into(),
            Change::Status(MemberStatus::Accepted) => "accepted for".into(),
            Change::Status(MemberStatus::Rejected) => "rejected for".into(),
            Change::Status(s) => format!("set to {} for", s.key()),
            Change::Visibility(v) => format!("made {}", v.label()),
            Change::Hide => "hidden from image lists".into(),
            Change::Protect => "protected from deletion".into(),
            Change::SupersededBy => "marked superseded by image".into(),
            Change::Supersedes => "marked as the new version of image".into(),
        }
    }
}

/// Where in the dashboard the change was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Via {
    ImagePage,
    Batch,
    Inbox,
    /// The "New version…" page: a rollover from one image to its successor.
    Rollover,
}

impl Via {
    pub fn key(self) -> &'static str {
        match self {
            Via::ImagePage => "image page",
            Via::Batch => "batch",
            Via::Inbox => "inbox",
            Via::Rollover => "new version",
        }
    }

    #[cfg(feature = "ssr")]
    pub fn from_key(key: &str) -> Option<Via> {
        [Via::ImagePage, Via::Batch, Via::Inbox, Via::Rollover].into_iter().find(|v| v.key() == key)
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn every_change_survives_its_stored_key() {
        let all = [
            Change::Share,
            Change::Revoke,
            Change::Status(MemberStatus::Accepted),
            Change::Status(MemberStatus::Rejected),
            Change::Status(MemberStatus::Pending),
            Change::Visibility(Visibility::Shared),
            Change::Visibility(Visibility::Private),
            Change::Hide,
            Change::Protect,
            Change::SupersededBy,
            Change::Supersedes,
        ];
        for change in all {
            assert_eq!(Change::from_key(&change.key()), Some(change));
        }
        for junk in ["", "status:", "status:maybe", "visibility:secret", "shares", "revoke:x"] {
            assert_eq!(Change::from_key(junk), None, "{junk}");
        }
        for via in [Via::ImagePage, Via::Batch, Via::Inbox, Via::Rollover] {
            assert_eq!(Via::from_key(via.key()), Some(via));
        }
    }
}
