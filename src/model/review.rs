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

/// What the review page gets: the review, or how far reading it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewPage {
    Ready(AccessReview),
    Reading(ReviewProgress),
}

/// How far a review got: the shared images found (once listed), and those whose members were
/// read; `run` is what the page asking again names to be handed this review when it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewProgress {
    pub run: u64,
    pub images: Option<usize>,
    pub read: usize,
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
    /// A newer version replaces the image (its `superseded_by` is set), and projects are still
    /// members of it.
    SupersededStillShared,
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
            Flag::SupersededStillShared => "superseded",
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
            Flag::SupersededStillShared => "superseded, still shared",
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
            Flag::SupersededStillShared => {
                "A newer version replaces this image (superseded_by), yet projects can still use it: revoke its members once they have moved to the new version."
            }
        }
    }
}

/// Flags of an image itself, given how many members it has (when they could be read) and the
/// cloud's member quota (when the operator stated it).
pub fn image_flags(image: &Image, members: Option<usize>, quota: Option<u32>) -> Vec<Flag> {
    let mut flags = Vec::new();
    if let (Some(quota), Some(members)) = (quota, members)
        && quota > 0
        && members as u64 * 10 >= u64::from(quota) * 9
    {
        flags.push(Flag::NearQuota);
    }
    if image.status.as_deref().is_some_and(|s| s != "active") {
        flags.push(Flag::Inactive);
    }
    if image.os_hidden {
        flags.push(Flag::Hidden);
    }
    if image.superseded_by.as_deref().is_some_and(|s| !s.trim().is_empty()) && members.is_some_and(|n| n > 0) {
        flags.push(Flag::SupersededStillShared);
    }
    flags
}

/// Flags of one membership (the image's own flags not included): `project` is what the
/// directory or Keystone said of the member, `now` gives the time ages are counted to (none: no
/// age is counted). Asked only of a pending member: an image page asks this of every member
/// and gives a time it has; the access review gives its `made_at`, read when it is needed.
pub fn member_flags(
    member: &Member,
    project: Option<&ProjectName>,
    pending_days: u32,
    now: impl FnOnce() -> Option<OffsetDateTime>,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    match member.status {
        MemberStatus::Rejected => flags.push(Flag::Rejected),
        MemberStatus::Pending if pending_for_long(member, pending_days, now) => flags.push(Flag::PendingLong),
        _ => {}
    }
    // A member that is no project ID's shape is flagged as that alone: Keystone has no
    // project of that ID either, which says nothing more.
    if !looks_like_project_id(&member.member_id) {
        flags.push(Flag::NotAnId);
    } else if project == Some(&ProjectName::Deleted) {
        flags.push(Flag::UnknownProject);
    }
    flags
}

/// `MemberId::parse(raw)` succeeds and `looks_like_keystone_id`: 32 lowercase hex digits, once
/// trimmed (such an ID has nothing `parse` refuses). Asked of every member on every image page,
/// so without making a `MemberId` of each.
fn looks_like_project_id(raw: &str) -> bool {
    openstack::ids::is_keystone_id(raw.trim())
}

/// Pending since (its last change) more than `pending_days` before `now`.
fn pending_for_long(member: &Member, pending_days: u32, now: impl FnOnce() -> Option<OffsetDateTime>) -> bool {
    let since = member.updated_at.as_deref().or(member.created_at.as_deref());
    match (since.and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok()), now()) {
        (Some(since), Some(now)) => now - since > time::Duration::days(i64::from(pending_days)),
        _ => false,
    }
}

/// A one-click choice of memberships to clean up, from the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// Every rejected membership: the consumer hid the image but can still boot it.
    Rejected,
    /// Every membership pending for longer than the review's limit.
    PendingLong,
    /// Every member Keystone does not know, or that is not a project ID at all.
    Unknown,
    /// Every membership of an image a newer version replaces (`superseded_by`).
    Superseded,
    /// Everything shared with one project (offboarding a customer or a team).
    Project(String),
}

impl Selection {
    /// `rejected`, `pending-long`, `unknown` or `project:<ID>`, as the review's links write it.
    pub fn parse(key: &str) -> Result<Selection, AppError> {
        match key.trim() {
            "rejected" => Ok(Selection::Rejected),
            "pending-long" => Ok(Selection::PendingLong),
            "unknown" => Ok(Selection::Unknown),
            "superseded" => Ok(Selection::Superseded),
            other => match other.strip_prefix("project:") {
                Some(id) if !id.is_empty() => Ok(Selection::Project(id.to_string())),
                _ => Err(AppError::InvalidInput(format!(
                    "{other:?} is not a choice of the access review (rejected, pending-long, unknown, superseded or project:ID)."
                ))),
            },
        }
    }

    pub fn key(&self) -> String {
        match self {
            Selection::Rejected => "rejected".into(),
            Selection::PendingLong => "pending-long".into(),
            Selection::Unknown => "unknown".into(),
            Selection::Superseded => "superseded".into(),
            Selection::Project(id) => format!("project:{id}"),
        }
    }

    /// What it chooses, in the plan's words ("every rejected membership").
    pub fn describe(&self, pending_days: u32) -> String {
        match self {
            Selection::Rejected => "every rejected membership".into(),
            Selection::PendingLong => format!("every membership pending for more than {pending_days} days"),
            Selection::Unknown => "every member Keystone does not know or that is not a project ID".into(),
            Selection::Superseded => "every membership of an image a newer version replaces".into(),
            Selection::Project(id) => format!("everything shared with project {id}"),
        }
    }
}

impl AccessReview {
    /// Flags of the image itself.
    pub fn image_flags(&self, image: &ReviewImage) -> Vec<Flag> {
        image_flags(&image.image, image.members.as_ref().ok().map(Vec::len), self.quota)
    }

    /// Flags of one membership (the image's own flags not included).
    pub fn member_flags(&self, member: &Member) -> Vec<Flag> {
        let made_at = || OffsetDateTime::parse(&self.made_at, &Rfc3339).ok();
        member_flags(member, self.projects.get(&member.member_id), self.pending_days, made_at)
    }

    /// The memberships a one-click choice takes, in the review's order.
    pub fn selected(&self, selection: &Selection) -> Vec<(&ReviewImage, &Member)> {
        self.pairs()
            .filter(|(image, member)| match selection {
                Selection::Rejected => member.status == MemberStatus::Rejected,
                Selection::PendingLong => self.member_flags(member).contains(&Flag::PendingLong),
                Selection::Unknown => {
                    self.member_flags(member).iter().any(|f| matches!(f, Flag::UnknownProject | Flag::NotAnId))
                }
                Selection::Superseded => self.image_flags(image).contains(&Flag::SupersededStillShared),
                Selection::Project(id) => member.member_id == *id,
            })
            .collect()
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

    #[test]
    fn a_project_id_is_what_member_id_parse_takes_for_one() {
        let raws = [
            "307433773c7941a8a74a5c42da2b220e",
            " 307433773c7941a8a74a5c42da2b220e\n",
            "307433773C7941A8A74A5C42DA2B220E",
            "307433773c7941a8a74a5c42da2b220g",
            "307433773c7941a8a74a5c42da2b220e0",
            "3074",
            "a/b",
            "",
        ];
        for raw in raws {
            let parsed = openstack::ids::MemberId::parse(raw).is_ok_and(|m| m.looks_like_keystone_id());
            assert_eq!(looks_like_project_id(raw), parsed, "{raw:?}");
        }
    }

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

    fn superseded(by: &str) -> Image {
        serde_json::from_value(
            serde_json::json!({"id": "old", "visibility": "shared", "status": "active", "superseded_by": by}),
        )
        .unwrap()
    }

    #[test]
    fn a_superseded_image_is_flagged_while_it_still_has_members() {
        let new = "0b7a6c0e-0d5e-4b55-9a3a-2f8f5f3e8c11";
        assert_eq!(image_flags(&superseded(new), Some(2), None), vec![Flag::SupersededStillShared]);
        assert_eq!(image_flags(&superseded(new), Some(0), None), vec![], "no member can use it any more");
        assert_eq!(image_flags(&superseded(new), None, None), vec![], "members unread: nothing is claimed");
        assert_eq!(image_flags(&superseded("  "), Some(2), None), vec![], "an empty property replaces nothing");
        assert_eq!(image_flags(&image("active", false), Some(2), None), vec![], "not superseded");
        let flag = Flag::SupersededStillShared;
        assert_eq!((flag.key(), flag.label()), ("superseded", "superseded, still shared"));
        assert!(flag.explain().contains("newer version") && flag.explain().contains("still use it"));

        // The one-click choice takes every membership of the superseded image, and no other.
        let id_a = "0123456789abcdef0123456789abcdef";
        let members = vec![member(id_a, MemberStatus::Accepted, "2026-12-01T00:00:00Z")];
        let review = AccessReview {
            owner: "p".into(),
            as_admin: false,
            images: vec![
                ReviewImage { image: superseded(new), members: Ok(members.clone()) },
                ReviewImage { image: image("active", false), members: Ok(members) },
            ],
            projects: HashMap::new(),
            pending_days: 14,
            quota: None,
            made_at: "2026-12-02T00:00:00Z".into(),
        };
        let chosen: Vec<&str> =
            review.selected(&Selection::Superseded).into_iter().map(|(i, _)| i.image.id.as_str()).collect();
        assert_eq!(chosen, ["old"]);
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

        // The one-click choices take exactly their memberships.
        let chosen = |s: Selection| -> Vec<String> {
            review.selected(&s).into_iter().map(|(_, m)| format!("{}:{}", m.member_id, m.status.key())).collect()
        };
        assert_eq!(chosen(Selection::Rejected), [format!("{id_a}:rejected")]);
        assert_eq!(chosen(Selection::PendingLong), [format!("{id_b}:pending")]);
        assert_eq!(chosen(Selection::Unknown), [format!("{gone}:accepted"), "consumer:accepted".to_string()]);
        assert_eq!(chosen(Selection::Project(id_a.into())), [format!("{id_a}:rejected"), format!("{id_a}:pending")]);
    }

    #[test]
    fn selections_parse_from_their_keys_and_nothing_else() {
        for s in [
            Selection::Rejected,
            Selection::PendingLong,
            Selection::Unknown,
            Selection::Superseded,
            Selection::Project("p1".into()),
        ] {
            assert_eq!(Selection::parse(&s.key()).unwrap(), s);
        }
        for bad in ["", "project:", "everything", "Rejected", "project"] {
            assert!(Selection::parse(bad).is_err(), "{bad:?}");
        }
    }
}
