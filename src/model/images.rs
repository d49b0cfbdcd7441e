//! Images and their members as the dashboard shows them.

use serde::{Deserialize, Serialize};

use super::{FoundProject, Image, Member, MemberStatus, ProjectName, ids::IdError};
use crate::error::AppError;

/// Which images a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageTab {
    /// Owned by the current project.
    Mine,
    /// Offered to the current project by another, filtered by the member status.
    SharedWithMe,
    /// Everything the project can see.
    All,
}

impl ImageTab {
    pub const ALL: [ImageTab; 3] = [ImageTab::Mine, ImageTab::SharedWithMe, ImageTab::All];

    pub fn key(self) -> &'static str {
        match self {
            ImageTab::Mine => "mine",
            ImageTab::SharedWithMe => "shared",
            ImageTab::All => "all",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImageTab::Mine => "My images",
            ImageTab::SharedWithMe => "Shared with me",
            ImageTab::All => "All",
        }
    }

    pub fn from_key(key: &str) -> ImageTab {
        ImageTab::ALL.into_iter().find(|t| t.key() == key).unwrap_or(ImageTab::Mine)
    }
}

/// One row of an image list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRow {
    pub image: Image,
    /// How many projects it is shared with (owned shared images only).
    pub member_count: Option<usize>,
    /// The current project's status for an image offered to it.
    pub my_status: Option<MemberStatus>,
    pub owned: bool,
    /// For an offer: the image it replaces (its `supersedes`), of the same owner, which the
    /// project accepted. The offer is then "new version of <old name>".
    #[serde(default)]
    pub new_version_of: Option<OldVersion>,
}

/// The image a newer version replaces, as an offer names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OldVersion {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageList {
    pub rows: Vec<ImageRow>,
    /// Where the next page starts, if there is one.
    pub next_marker: Option<String>,
    /// Names of the images' owners, where shown ("Shared with me") and known.
    #[serde(default)]
    pub owners: std::collections::HashMap<String, ProjectName>,
}

/// A member row with what the dashboard could learn about the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub member: Member,
    /// The project's name, where the directory or Keystone let this user look it up.
    pub project: Option<ProjectName>,
    /// What deserves a look, as the access review flags it (rejected, pending for long, …).
    #[serde(default)]
    pub flags: Vec<super::Flag>,
}

/// Everything the image page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageDetails {
    pub image: Image,
    /// The current project owns the image: it may share, revoke and change visibility.
    pub owned: bool,
    /// The member table, or why it cannot be shown (private image, not allowed).
    pub members: Result<Vec<MemberRow>, AppError>,
    /// The current project's own membership, for an image offered to it.
    pub my_membership: Option<Member>,
    pub is_admin: bool,
    /// One page of the changes the dashboard made to this image's sharing that this project may
    /// see, newest first; or why they cannot be shown.
    pub history: Result<Vec<super::AuditEntry>, AppError>,
    /// Where the next, older page of `history` starts (`history_before`), when there is one.
    pub older_history: Option<i64>,
    /// This page of `history` is not the newest one.
    pub history_paged: bool,
    /// Names of the projects the page shows (owner, members, History), where known.
    pub projects: std::collections::HashMap<String, ProjectName>,
    /// The operator's directory names projects for this user: names are accepted for sharing.
    pub directory: bool,
    /// The image's own flags, as the access review shows them (near quota, hidden, …).
    #[serde(default)]
    pub flags: Vec<super::Flag>,
}

/// What checking one pasted project ID (or, with a directory reader, name) found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectCheck {
    /// The project exists; its name (and domain, where known).
    Found { name: String, domain: Option<String> },
    /// The entry is a project's name, and the directory found exactly one project of that
    /// name: shared with its ID once the user has seen "name (domain) → ID" and confirmed.
    ByName(FoundProject),
    /// Several projects have this name (in different domains): never guessed; the user
    /// chooses one by its ID.
    Ambiguous(Vec<FoundProject>),
    /// Keystone says there is no such project.
    NotFound,
    /// With a directory: no project has this ID, nor (that the user may see) this name.
    NoMatch,
    /// This user may not look projects up; the ID is unchecked. IDs Keystone makes are 32 hex
    /// digits: one of that shape is shared with once the user confirms it, any other entry is
    /// taken for a name and never shared with.
    Unchecked { looks_like_id: bool },
    /// It is the name of one of the user's projects, not an ID, and no directory resolves
    /// names: sharing with it would share with nobody (what `openstack image add project`
    /// silently does).
    ProjectName { id: String },
    /// Not a possible member ID at all.
    Invalid(IdError),
}

impl ProjectCheck {
    /// Can be shared with right away, without asking the user.
    pub fn is_confirmed(&self) -> bool {
        matches!(self, ProjectCheck::Found { .. })
    }

    /// Can never be shared with, whatever the user says: the one rule for the image page and
    /// the batch page. Only a project Keystone confirms (by ID, or by a name that is
    /// unambiguous), or an unchecked entry shaped like a Keystone project ID, can be a
    /// member; an unresolved name never is (Glance would take it as an ID and share with
    /// nobody).
    pub fn is_refused(&self) -> bool {
        !matches!(
            self,
            ProjectCheck::Found { .. } | ProjectCheck::ByName(_) | ProjectCheck::Unchecked { looks_like_id: true }
        )
    }

    /// The member ID to send to Glance for the entry `raw`: the project's ID for a name.
    pub fn member_id<'a>(&'a self, raw: &'a str) -> &'a str {
        match self {
            ProjectCheck::ByName(found) => &found.id,
            _ => raw,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            ProjectCheck::Found { name, domain: Some(d) } => format!("project {name} ({d})"),
            ProjectCheck::Found { name, domain: None } => format!("project {name}"),
            ProjectCheck::ByName(found) => format!("project {} \u{2192} {}", found.label(), found.id),
            ProjectCheck::Ambiguous(found) => format!(
                "{} projects have this name, so none is chosen: give the ID of the one you mean ({})",
                found.len(),
                found.iter().map(|f| format!("{} \u{2192} {}", f.label(), f.id)).collect::<Vec<_>>().join("; ")
            ),
            ProjectCheck::NotFound => "Keystone knows no project with this ID".into(),
            ProjectCheck::NoMatch => "no project has this ID, nor this name".into(),
            ProjectCheck::Unchecked { looks_like_id: true } => {
                "could not be checked (Keystone does not let you look projects up): shared with only once you confirm"
                    .into()
            }
            ProjectCheck::Unchecked { looks_like_id: false } => "project names are never shared with: give its ID \
                 (Keystone could not confirm this entry, and it is not a project ID of 32 hex digits)"
                .into(),
            ProjectCheck::ProjectName { id } => format!("this is a project name, not an ID; its ID is {id}"),
            ProjectCheck::Invalid(e) => e.to_string(),
        }
    }
}

/// The outcome of sharing with one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareResult {
    pub member_id: String,
    pub check: ProjectCheck,
    pub outcome: Result<MemberStatus, AppError>,
}

/// The outcome of one "share with these projects" request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShareReport {
    /// Some IDs could not be checked or do not exist: nothing was changed, the user is asked.
    NeedsConfirmation {
        members: String,
        checks: Vec<(String, ProjectCheck)>,
    },
    Done {
        made_shared: bool,
        results: Vec<ShareResult>,
    },
}

impl ShareReport {
    /// "Shared with 3 projects, 1 already had access, 1 failed."
    pub fn summary(&self) -> String {
        match self {
            ShareReport::NeedsConfirmation { checks, .. } if checks.iter().all(|(_, c)| c.is_refused()) => {
                "Nothing was shared: none of these can be shared with.".into()
            }
            ShareReport::NeedsConfirmation { .. } => "Nothing was shared yet: please confirm the projects.".into(),
            ShareReport::Done { made_shared, results } => {
                let added = results.iter().filter(|r| r.outcome.is_ok()).count();
                let already = results.iter().filter(|r| matches!(r.outcome, Err(AppError::Conflict { .. }))).count();
                let failed = results.len() - added - already;
                let mut parts = vec![format!("Shared with {added} project{}", if added == 1 { "" } else { "s" })];
                if already > 0 {
                    parts.push(format!("{already} already had access"));
                }
                if failed > 0 {
                    parts.push(format!("{failed} failed"));
                }
                let mut text = parts.join(", ") + ".";
                if *made_shared {
                    text = format!("The image is now shared. {text}");
                }
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_confirmed_projects_and_unchecked_ids_of_keystone_shape_are_shared_with() {
        let unchecked_id = ProjectCheck::Unchecked { looks_like_id: true };
        let unchecked_name = ProjectCheck::Unchecked { looks_like_id: false };
        assert!(!ProjectCheck::Found { name: "consumer".into(), domain: None }.is_refused());
        assert!(!unchecked_id.is_refused() && !unchecked_id.is_confirmed(), "asks first");
        assert!(unchecked_name.is_refused(), "a name Keystone did not confirm is never shared with");
        assert!(unchecked_name.describe().starts_with("project names are never shared with: give its ID"));
        let twin = |domain: &str| FoundProject {
            id: format!("id-{domain}"),
            name: "twin".into(),
            domain: Some(domain.into()),
        };
        let by_name = ProjectCheck::ByName(twin("Default"));
        assert!(!by_name.is_refused() && !by_name.is_confirmed(), "a name is shown resolved, then confirmed");
        assert_eq!(by_name.member_id("twin"), "id-Default", "Glance gets the ID, never the name");
        assert_eq!(ProjectCheck::NotFound.member_id("abc"), "abc");
        for refused in [
            ProjectCheck::Ambiguous(vec![twin("Default"), twin("partners")]),
            ProjectCheck::NoMatch,
            ProjectCheck::NotFound,
            ProjectCheck::ProjectName { id: "x".into() },
            ProjectCheck::Invalid(IdError::EmptyMemberId),
        ] {
            assert!(refused.is_refused(), "{refused:?}");
        }
    }

    #[test]
    fn share_summaries_say_what_changed() {
        let ok = |id: &str| ShareResult {
            member_id: id.into(),
            check: ProjectCheck::Unchecked { looks_like_id: true },
            outcome: Ok(MemberStatus::Pending),
        };
        let conflict = ShareResult {
            member_id: "c".into(),
            check: ProjectCheck::Unchecked { looks_like_id: true },
            outcome: Err(AppError::Conflict { service: "Glance".into(), code: 409, message: "dup".into() }),
        };
        let report = ShareReport::Done { made_shared: true, results: vec![ok("a"), ok("b"), conflict] };
        assert_eq!(report.summary(), "The image is now shared. Shared with 2 projects, 1 already had access.");
    }

    #[test]
    fn a_new_version_accepted_in_place_of_the_old_one_says_both() {
        let answer = |id: &str, outcome| OfferAnswer { project_id: "p".into(), image_id: id.into(), outcome };
        let image = |id: &str, name: &str| OldVersion { id: id.into(), name: name.into() };
        let mut report = OfferAnswers {
            status: MemberStatus::Accepted,
            needs_confirmation: false,
            items: vec!["p/n".into()],
            answers: vec![answer("n", Ok(MemberStatus::Accepted)), answer("o", Ok(MemberStatus::Rejected))],
            new_version: Some(NewVersionAnswer {
                project_id: "p".into(),
                new: image("n", "web-2"),
                old: image("o", "web-1"),
            }),
        };
        assert_eq!(report.new_version_summary().unwrap(), "Accepted web-2; rejected the old version web-1.");
        let refused = AppError::InvalidInput("no".into());
        report.answers = vec![answer("n", Err(refused))];
        assert_eq!(
            report.new_version_summary().unwrap(),
            "web-2 could not be accepted, so the old version web-1 was left as it was: no"
        );
        report.new_version = None;
        assert_eq!(report.new_version_summary(), None, "an ordinary answer is reported as before");
    }
}

/// The offers to one of the user's projects, or why they could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxProject {
    pub project_id: String,
    pub project_name: String,
    pub offers: Result<Vec<ImageRow>, AppError>,
    /// Names of the offering projects, where known.
    #[serde(default)]
    pub owners: std::collections::HashMap<String, ProjectName>,
}

/// The answer to one offer of a bulk answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferAnswer {
    pub project_id: String,
    pub image_id: String,
    pub outcome: Result<MemberStatus, AppError>,
}

/// What a bulk answer did, or (rejecting) what it asks to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferAnswers {
    pub status: MemberStatus,
    pub needs_confirmation: bool,
    /// The chosen "project_id/image_id" items, to ask again with.
    pub items: Vec<String>,
    pub answers: Vec<OfferAnswer>,
    /// A new version accepted in place of its old one ("Accept, and reject <old name>"):
    /// `answers` then holds the new image's answer, then the old one's.
    #[serde(default)]
    pub new_version: Option<NewVersionAnswer>,
}

/// What "Accept, and reject <old name>" answered, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewVersionAnswer {
    pub project_id: String,
    /// The image accepted.
    pub new: OldVersion,
    /// The image it replaces, rejected once the new one was accepted.
    pub old: OldVersion,
}

impl OfferAnswers {
    /// "Accepted <new>; rejected the old version <old>.", or what failed, for a new version
    /// accepted in place of its old one.
    pub fn new_version_summary(&self) -> Option<String> {
        let swap = self.new_version.as_ref()?;
        let outcome = |id: &str| self.answers.iter().find(|a| a.image_id == id).map(|a| &a.outcome);
        let (new, old) = (&swap.new.name, &swap.old.name);
        Some(match (outcome(&swap.new.id), outcome(&swap.old.id)) {
            (Some(Ok(_)), Some(Ok(_))) => format!("Accepted {new}; rejected the old version {old}."),
            (Some(Ok(_)), Some(Err(e))) => {
                format!("Accepted {new}, but the old version {old} could not be rejected: {e}")
            }
            (Some(Err(e)), _) => {
                format!("{new} could not be accepted, so the old version {old} was left as it was: {e}")
            }
            _ => format!("Accepted {new}."),
        })
    }
}
