//! The access review (`/access`): everything a project shares, with whom, since when, and what
//! deserves a look (flags), by image and by project.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{Image, Member, MemberStatus, ProjectName, Visibility};
use crate::error::AppError;

/// One project's sharing as the review shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReview {
    /// The project reviewed (the owner of every image below).
    pub owner: String,
    /// An admin reviews a project other than the one they work in.
    pub as_admin: bool,
    /// Its shared images (also those hidden from lists), each with its members or why they
    /// could not be read.
    pub images: Vec<ReviewImage>,
    /// Names of the owner and of the member projects, where known.
    pub projects: HashMap<String, ProjectName>,
    /// "Pending for long" starts after this many days.
    pub pending_days: u32,
    /// The cloud's member quota, when the operator stated it.
    pub quota: Option<u32>,
    /// When the review was made (RFC 3339): the ages below are counted to it.
    pub made_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewImage {
    pub image: Image,
    pub members: Result<Vec<Member>, AppError>,
}

/// Why a membership deserves a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Flag {
    /// The consumer rejected the image: it is gone from their lists, but they can still boot
    /// it by ID; only a revoke ends their access.
    Rejected,
    /// Pending for longer than the review's setting.
    PendingLong,
    /// Keystone says there is no such project: deleted projects keep their memberships.
    UnknownProject,
    /// Not the shape of a Keystone project ID: probably a name typed by mistake, shared with
    /// no one.
    NotAnId,
    /// The image is at (or within a tenth of) its member quota.
    NearQuota,
    /// The image is deactivated (or otherwise not active) and still shared.
    Inactive,
    /// The image is hidden from lists (`os_hidden`) and still shared.
    Hidden,
}

impl Flag {
    pub fn key(self) -> &'static str {
        match self {
            Flag::Rejected => "rejected",
            Flag::PendingLong => "pending-long",
            Flag::UnknownProject => "unknown-project",
            Flag::NotAnId => "not-an-id",
            Flag::NearQuota => "near-quota",
            Flag::Inactive => "inactive",
            Flag::Hidden => "hidden",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Flag::Rejected => "rejected, still has access",
            Flag::PendingLong => "pending for long",
            Flag::UnknownProject => "no such project",
            Flag::NotAnId => "not a project ID",
            Flag::NearQuota => "near member quota",
            Flag::Inactive => "image not active",
            Flag::Hidden => "image hidden",
        }
    }

    /// What it means, in one line.
    pub fn explain(self) -> &'static str {
        match self {
            Flag::Rejected => {
                "The project rejected the offer, so the image is gone from its lists, but it can still boot it by ID: only a revoke ends its access."
            }
            Flag::PendingLong => "The project has not answered the offer for longer than the review's limit.",
            Flag::UnknownProject => {
                "Keystone knows no project with this ID (deleted?): Glance keeps its membership until it is revoked."
            }
            Flag::NotAnId => {
                "This member is not shaped like a Keystone project ID: probably a name typed by mistake, which shares with no one."
            }
            Flag::NearQuota => {
                "The image has (nearly) as many members as the cloud's member quota allows: new shares will fail."
            }
            Flag::Inactive => "The image is not active (deactivated, or never uploaded) and still shared.",
            Flag::Hidden => {
                "The image is hidden from image lists (os_hidden) and still shared: members can still use it by ID."
            }
        }
    }
}

impl AccessReview {
    /// Flags of the image itself.
    pub fn image_flags(&self, image: &ReviewImage) -> Vec<Flag> {
        let mut flags = Vec::new();
        if let (Some(quota), Ok(members)) = (self.quota, &image.members)
            && quota > 0
            && members.len() as u64 * 10 >= u64::from(quota) * 9
        {
            flags.push(Flag::NearQuota);
        }
        if image.image.status.as_deref().is_some_and(|s| s != "active") {
            flags.push(Flag::Inactive);
        }
        if image.image.os_hidden {
            flags.push(Flag::Hidden);
        }
        flags
    }

    /// Flags of one membership (the image's own flags not included).
    pub fn member_flags(&self, member: &Member) -> Vec<Flag> {
        let mut flags = Vec::new();
        match member.status {
            MemberStatus::Rejected => flags.push(Flag::Rejected),
            MemberStatus::Pending if self.pending_for_long(member) => flags.push(Flag::PendingLong),
            _ => {}
        }
        // A member that is no project ID's shape is flagged as that alone: Keystone has no
        // project of that ID either, which says nothing more.
        if !openstack::ids::MemberId::parse(&member.member_id).is_ok_and(|m| m.looks_like_keystone_id()) {
            flags.push(Flag::NotAnId);
        } else if self.projects.get(&member.member_id) == Some(&ProjectName::Deleted) {
            flags.push(Flag::UnknownProject);
        }
        flags
    }

    /// Pending since (its last change) more than `pending_days` before the review.
    fn pending_for_long(&self, member: &Member) -> bool {
        let since = member.updated_at.as_deref().or(member.created_at.as_deref());
        match (
            since.and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok()),
            OffsetDateTime::parse(&self.made_at, &Rfc3339),
        ) {
            (Some(since), Ok(now)) => now - since > time::Duration::days(i64::from(self.pending_days)),
            _ => false,
        }
    }

    /// Every membership, as (image, member) pairs, in the images' order.
    pub fn pairs(&self) -> impl Iterator<Item = (&ReviewImage, &Member)> {
        self.images.iter().flat_map(|i| i.members.iter().flatten().map(move |m| (i, m)))
    }

    /// The reverse view: each member project with the images shared with it, by project ID.
    pub fn by_project(&self) -> BTreeMap<&str, Vec<(&ReviewImage, &Member)>> {
        let mut projects: BTreeMap<&str, Vec<(&ReviewImage, &Member)>> = BTreeMap::new();
        for (image, member) in self.pairs() {
            projects.entry(member.member_id.as_str()).or_default().push((image, member));
        }
        projects
    }

    /// Memberships by status: pending, accepted, rejected.
    pub fn counts(members: &[Member]) -> [usize; 3] {
        let count = |s| members.iter().filter(|m| m.status == s).count();
        [count(MemberStatus::Pending), count(MemberStatus::Accepted), count(MemberStatus::Rejected)]
    }

    /// Only shared images have members: the review lists shared ones only.
    pub fn lists(image: &Image) -> bool {
        image.visibility == Visibility::Shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, status: MemberStatus, updated: &str) -> Member {
        serde_json::from_value(serde_json::json!({
            "member_id": id, "image_id": "i", "status": status.key(), "created_at": updated, "updated_at": updated
        }))
        .unwrap()
    }

    fn image(status: &str, hidden: bool) -> Image {
        serde_json::from_value(
            serde_json::json!({"id": "i", "visibility": "shared", "status": status, "os_hidden": hidden}),
        )
        .unwrap()
    }

    #[test]
    fn each_flag_shows_where_it_should_and_nowhere_else() {
        let (id_a, id_b, gone) = (
            "0123456789abcdef0123456789abcdef",
            "1123456789abcdef0123456789abcdef",
            "2123456789abcdef0123456789abcdef",
        );
        let members = vec![
            member(id_a, MemberStatus::Rejected, "2026-11-30T00:00:00Z"),
            member(id_b, MemberStatus::Pending, "2026-11-01T00:00:00Z"),
            member(id_a, MemberStatus::Pending, "2026-11-29T00:00:00Z"),
            member(gone, MemberStatus::Accepted, "2026-11-01T00:00:00Z"),
            member("consumer", MemberStatus::Accepted, "2026-11-01T00:00:00Z"),
        ];
        let review = AccessReview {
            owner: "p".into(),
            as_admin: false,
            images: vec![
                ReviewImage { image: image("active", false), members: Ok(members.clone()) },
                ReviewImage { image: image("deactivated", true), members: Ok(vec![]) },
            ],
            projects: HashMap::from([
                (gone.to_string(), ProjectName::Deleted),
                ("consumer".into(), ProjectName::Deleted),
            ]),
            pending_days: 14,
            quota: Some(5),
            made_at: "2026-12-02T00:00:00Z".into(),
        };
        let flags: Vec<Vec<Flag>> = members.iter().map(|m| review.member_flags(m)).collect();
        assert_eq!(
            flags,
            vec![
                vec![Flag::Rejected],
                vec![Flag::PendingLong],
                vec![],
                vec![Flag::UnknownProject],
                vec![Flag::NotAnId]
            ]
        );
        assert_eq!(review.image_flags(&review.images[0]), vec![Flag::NearQuota], "5 members of 5");
        assert_eq!(review.image_flags(&review.images[1]), vec![Flag::Inactive, Flag::Hidden]);
        assert_eq!(review.by_project()[id_a].len(), 2);
        assert_eq!(AccessReview::counts(&members), [2, 2, 1]);
    }
}
