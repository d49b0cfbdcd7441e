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
        }
    }

    #[cfg(feature = "ssr")]
    pub fn from_key(key: &str) -> Option<Change> {
        match key.split_once(':') {
            None if key == "share" => Some(Change::Share),
            None if key == "revoke" => Some(Change::Revoke),
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
        }
    }
}

/// Where in the dashboard the change was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Via {
    ImagePage,
    Batch,
    Inbox,
}

impl Via {
    pub fn key(self) -> &'static str {
        match self {
            Via::ImagePage => "image page",
            Via::Batch => "batch",
            Via::Inbox => "inbox",
        }
    }

    #[cfg(feature = "ssr")]
    pub fn from_key(key: &str) -> Option<Via> {
        [Via::ImagePage, Via::Batch, Via::Inbox].into_iter().find(|v| v.key() == key)
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
        ];
        for change in all {
            assert_eq!(Change::from_key(&change.key()), Some(change));
        }
        for junk in ["", "status:", "status:maybe", "visibility:secret", "shares", "revoke:x"] {
            assert_eq!(Change::from_key(junk), None, "{junk}");
        }
        for via in [Via::ImagePage, Via::Batch, Via::Inbox] {
            assert_eq!(Via::from_key(via.key()), Some(via));
        }
    }
}
