//! Batches: many images × many projects on the standard Glance v2 API, with exactly one
//! outcome for every pair.

use serde::{Deserialize, Serialize};

use super::{MemberStatus, Visibility};
#[cfg(feature = "ssr")]
use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchOperation {
    Share,
    Revoke,
    /// An admin sets every pair's status on the member's behalf.
    SetStatus(MemberStatus),
}

impl BatchOperation {
    #[cfg(feature = "ssr")]
    pub fn parse(operation: &str, status: Option<&str>) -> Result<BatchOperation, AppError> {
        match operation {
            "share" => Ok(BatchOperation::Share),
            "revoke" => Ok(BatchOperation::Revoke),
            "status" => Ok(BatchOperation::SetStatus(super::member_status(status.unwrap_or_default())?)),
            other => {
                Err(AppError::InvalidInput(format!("{other:?} is not a batch operation (share, revoke or status).")))
            }
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            BatchOperation::Share => "share",
            BatchOperation::Revoke => "revoke",
            BatchOperation::SetStatus(_) => "status",
        }
    }

    pub fn describe(self) -> String {
        match self {
            BatchOperation::Share => "Share".into(),
            BatchOperation::Revoke => "Revoke".into(),
            BatchOperation::SetStatus(s) => format!("Set status to {} (admin override)", s.key()),
        }
    }
}

/// What happened to one image × project pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PairOutcome {
    /// Added, revoked or set, as asked.
    Done,
    /// Sharing found the project already a member (409): counted as done.
    AlreadyMember,
    /// Over the image's member quota (413).
    QuotaReached(Option<u32>),
    /// Glance refused (403).
    Forbidden(String),
    /// Image or member not found (404).
    NotFound(String),
    /// Glance failed or did not answer (5xx, timeout), also after one retry.
    Failed(String),
    /// Not sent to Glance: a malformed ID, or a private image not made shared.
    Skipped(String),
}

impl PairOutcome {
    #[cfg(feature = "ssr")]
    pub fn from_error(e: &AppError) -> PairOutcome {
        match e {
            AppError::Conflict { .. } => PairOutcome::AlreadyMember,
            AppError::QuotaExceeded { limit, .. } => PairOutcome::QuotaReached(*limit),
            AppError::Forbidden { message, .. } => PairOutcome::Forbidden(message.clone()),
            AppError::NotFound { message, .. } => PairOutcome::NotFound(message.clone()),
            AppError::InvalidInput(m) => PairOutcome::Skipped(m.clone()),
            other => PairOutcome::Failed(other.to_string()),
        }
    }

    /// Worth running again: the failure may pass by itself.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PairOutcome::Failed(_))
    }

    #[cfg(feature = "ssr")]
    pub fn is_success(&self) -> bool {
        matches!(self, PairOutcome::Done | PairOutcome::AlreadyMember)
    }

    pub fn key(&self) -> &'static str {
        match self {
            PairOutcome::Done => "done",
            PairOutcome::AlreadyMember => "already",
            PairOutcome::QuotaReached(_) => "quota",
            PairOutcome::Forbidden(_) => "forbidden",
            PairOutcome::NotFound(_) => "not-found",
            PairOutcome::Failed(_) => "failed",
            PairOutcome::Skipped(_) => "skipped",
        }
    }

    /// A pair's outcome as its batch needs it before going on: done, or (a revoke) the
    /// project was not a member anyway.
    pub fn is_settled(&self, operation: BatchOperation) -> bool {
        matches!(self, PairOutcome::Done | PairOutcome::AlreadyMember)
            || (operation == BatchOperation::Revoke && matches!(self, PairOutcome::NotFound(_)))
    }

    pub fn describe(&self, operation: BatchOperation) -> String {
        match self {
            PairOutcome::Done => match operation {
                BatchOperation::Share => "added".into(),
                BatchOperation::Revoke => "revoked".into(),
                BatchOperation::SetStatus(s) => format!("set to {}", s.key()),
            },
            PairOutcome::AlreadyMember => "already a member".into(),
            PairOutcome::QuotaReached(Some(n)) => format!("member quota reached ({n})"),
            PairOutcome::QuotaReached(None) => "member quota reached".into(),
            PairOutcome::Forbidden(m) => format!("not allowed: {m}"),
            PairOutcome::NotFound(m) => format!("not found: {m}"),
            PairOutcome::Failed(m) => format!("failed: {m}"),
            PairOutcome::Skipped(m) => format!("skipped: {m}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPair {
    pub image_id: String,
    pub image_name: String,
    pub member_id: String,
    /// `None` while it has not run yet.
    pub outcome: Option<PairOutcome>,
    /// This pair's own operation, where it differs from the batch's: a rollover adds members
    /// to the new image, sets statuses (an admin) and revokes the old image's, in one batch.
    #[serde(default)]
    pub operation: Option<BatchOperation>,
}

/// One change of an image itself that a batch makes after its pairs (a rollover's options).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageStepKind {
    /// `os_hidden`: out of image lists, still usable by ID.
    Hide,
    /// `protected`: Glance refuses to delete it.
    Protect,
    /// The `superseded_by` property, naming the image that replaces it.
    MarkSupersededBy(String),
    /// The `supersedes` property, naming the image it replaces.
    MarkSupersedes(String),
}

impl ImageStepKind {
    pub fn describe(&self) -> String {
        match self {
            ImageStepKind::Hide => "hide it from image lists (os_hidden)".into(),
            ImageStepKind::Protect => "protect it from deletion".into(),
            ImageStepKind::MarkSupersededBy(id) => format!("record its successor (superseded_by={id})"),
            ImageStepKind::MarkSupersedes(id) => format!("record its predecessor (supersedes={id})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageStep {
    pub image_id: String,
    pub image_name: String,
    pub kind: ImageStepKind,
    /// `None` while it has not run yet; `Done` once Glance made the change.
    pub outcome: Option<PairOutcome>,
}

impl ImageStep {
    pub fn describe_outcome(&self) -> String {
        match &self.outcome {
            None => "waiting".into(),
            Some(PairOutcome::Done) => "done".into(),
            Some(other) => other.describe(BatchOperation::Share),
        }
    }
}

/// The two images of a version rollover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollover {
    pub old_id: String,
    pub old_name: String,
    pub new_id: String,
    pub new_name: String,
}

/// A batch as its page shows it, while it runs and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchView {
    pub id: String,
    pub operation: BatchOperation,
    pub pairs: Vec<BatchPair>,
    /// Images made shared before sharing.
    pub made_shared: Vec<String>,
    /// Images to be made shared before sharing, as asked (a retry makes those not yet made).
    #[serde(default)]
    pub to_make_shared: Vec<String>,
    pub finished: bool,
    /// Where it ran: its retry and its export must go to the same Glance, as the same project.
    pub ran_in: RanIn,
    /// Names of the pairs' projects, where known when it started.
    #[serde(default)]
    pub projects: std::collections::HashMap<String, super::ProjectName>,
    /// Changes of images themselves, made once every pair has gone through.
    #[serde(default)]
    pub steps: Vec<ImageStep>,
    /// The images of a version rollover, when the batch is one.
    #[serde(default)]
    pub rollover: Option<Rollover>,
}

/// The project, region and image endpoint a batch ran in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RanIn {
    pub project_id: String,
    pub project_name: String,
    pub region: String,
    /// The Glance endpoint; the server's business only, never sent to the browser.
    #[serde(skip)]
    pub image_url: String,
}

impl RanIn {
    /// The batch ran in another project or region than `project_id` / `region`: what the page
    /// can tell (it never sees the endpoint), and the first half of `mismatch`.
    pub fn elsewhere_than(&self, project_id: &str, region: &str) -> bool {
        self.project_id != project_id || self.region != region
    }

    /// Why a batch that ran here cannot be retried or exported by a session now working in
    /// `project_id` / `region` against `image_url`; `None` when it can.
    #[cfg(feature = "ssr")]
    pub fn mismatch(&self, project_id: &str, project_name: &str, region: &str, image_url: &str) -> Option<String> {
        if !self.elsewhere_than(project_id, region) && self.image_url == image_url {
            return None;
        }
        Some(format!(
            "This batch ran in project {} ({}), region {}; you now work in project {} ({}), region {}. \
             Switch back to that project and region first: its retry and export must go to the Glance it ran against.",
            self.project_name, self.project_id, self.region, project_name, project_id, region
        ))
    }
}

impl BatchView {
    /// What the batch does, as its page and the list of recent batches say it.
    pub fn title(&self) -> String {
        match &self.rollover {
            Some(r) => format!("New version: {} \u{2192} {}", r.old_name, r.new_name),
            None => self.operation.describe(),
        }
    }

    /// The operation of `pair`: its own, else the batch's.
    pub fn operation_of(&self, pair: &BatchPair) -> BatchOperation {
        pair.operation.unwrap_or(self.operation)
    }

    /// Pairs and image changes that have their outcome.
    pub fn done(&self) -> usize {
        let steps = self.steps.iter().filter(|s| s.outcome.is_some()).count();
        self.pairs.iter().filter(|p| p.outcome.is_some()).count() + steps
    }

    /// Pairs and image changes in all.
    pub fn total(&self) -> usize {
        self.pairs.len() + self.steps.len()
    }

    pub fn retryable(&self) -> usize {
        let pairs = self.pairs.iter().filter(|p| p.outcome.as_ref().is_some_and(PairOutcome::is_retryable)).count();
        pairs + self.steps.iter().filter(|s| s.outcome.as_ref().is_some_and(PairOutcome::is_retryable)).count()
    }

    /// "18 of 20 pairs done: 15 added, 3 already members, 2 failed." A batch with image
    /// changes adds " Image changes: 2 of 3 made, 1 not made."
    pub fn summary(&self) -> String {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for pair in &self.pairs {
            let label = match &pair.outcome {
                Some(o) => o.describe(self.operation_of(pair)).split(':').next().unwrap_or_default().to_string(),
                None => "waiting".into(),
            };
            match counts.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => counts.push((label, 1)),
            }
        }
        let parts: Vec<String> = counts.into_iter().map(|(l, n)| format!("{n} {l}")).collect();
        let pairs_done = self.pairs.iter().filter(|p| p.outcome.is_some()).count();
        let mut summary = format!("{pairs_done} of {} pairs done: {}.", self.pairs.len(), parts.join(", "));
        if !self.steps.is_empty() {
            let made = self.steps.iter().filter(|s| s.outcome == Some(PairOutcome::Done)).count();
            let not_made =
                self.steps.iter().filter(|s| s.outcome.as_ref().is_some_and(|o| *o != PairOutcome::Done)).count();
            summary.push_str(&format!(" Image changes: {made} of {} made", self.steps.len()));
            if not_made > 0 {
                summary.push_str(&format!(", {not_made} not made"));
            }
            summary.push('.');
        }
        summary
    }
}

/// The preflight of a batch: what would happen, before anything changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPlan {
    pub operation: BatchOperation,
    pub images: Vec<PlanImage>,
    /// Every pasted entry, with why it cannot be used if so.
    pub members: Vec<(String, Option<String>)>,
    /// Entries shaped like project IDs that Keystone did not let the user check: running the
    /// plan shares with them as typed (the run is their confirmation).
    #[serde(default)]
    pub unchecked: Vec<String>,
    pub pairs: Vec<PlanPair>,
    /// Names the directory resolved, as typed, with the project each names.
    #[serde(default)]
    pub resolved: Vec<(String, super::FoundProject)>,
    /// Names of the pairs' projects, where known.
    #[serde(default)]
    pub projects: std::collections::HashMap<String, super::ProjectName>,
    /// The projects as "Run" sends them: IDs in place of resolved names.
    #[serde(default)]
    pub run_members: String,
    /// For a plan of chosen pairs: the pairs as "Run" sends them (`IMAGE_ID:MEMBER` lines).
    #[serde(default)]
    pub run_pairs: String,
    /// For a one-click choice of the access review: what it chose, in words.
    #[serde(default)]
    pub chosen: Option<String>,
    /// That choice's key, which "Run" sends (the run reads the review again).
    #[serde(default)]
    pub select: String,
    /// The project whose review an admin chose from, when not their own.
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanImage {
    pub id: String,
    pub name: String,
    pub visibility: Visibility,
    /// Current members, when Glance shows them (not for private images).
    pub member_count: Option<usize>,
    /// The member quota, where the dashboard knows it.
    pub quota: Option<u32>,
    /// Why the image cannot take part, if it cannot.
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanPair {
    pub image_id: String,
    pub member_id: String,
    /// What is expected: "add", "already a member", "not a member", "malformed ID", …
    pub expect: String,
    pub will_run: bool,
    /// The outcome a pair that will not run ends with when it is not simply skipped: its image
    /// could not be read (Glance down: failed, and worth a retry; gone: not found).
    pub fails_with: Option<PairOutcome>,
}

/// One of the session user's batches, as the "Recent batches" list on `/batch` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchListing {
    pub id: String,
    /// What it does, in words (`BatchView::title`).
    pub title: String,
    pub done: usize,
    pub total: usize,
    pub finished: bool,
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(outcome: Option<PairOutcome>) -> BatchPair {
        BatchPair { image_id: "i".into(), image_name: "n".into(), member_id: "m".into(), outcome, operation: None }
    }

    #[test]
    fn summaries_count_every_outcome() {
        let view = BatchView {
            id: "b".into(),
            operation: BatchOperation::Share,
            pairs: vec![
                pair(Some(PairOutcome::Done)),
                pair(Some(PairOutcome::Done)),
                pair(Some(PairOutcome::AlreadyMember)),
                pair(Some(PairOutcome::Failed("Glance is unavailable".into()))),
                pair(None),
            ],
            made_shared: vec![],
            to_make_shared: vec![],
            finished: false,
            projects: Default::default(),
            ran_in: RanIn::default(),
            steps: vec![],
            rollover: None,
        };
        assert_eq!(view.summary(), "4 of 5 pairs done: 2 added, 1 already a member, 1 failed, 1 waiting.");
        assert_eq!(view.retryable(), 1);
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn errors_map_to_exactly_one_outcome() {
        let conflict = AppError::Conflict { service: "Glance".into(), code: 409, message: "dup".into() };
        assert_eq!(PairOutcome::from_error(&conflict), PairOutcome::AlreadyMember);
        let quota =
            AppError::QuotaExceeded { service: "Glance".into(), code: 413, message: "q".into(), limit: Some(3) };
        assert_eq!(PairOutcome::from_error(&quota), PairOutcome::QuotaReached(Some(3)));
        let down = AppError::Unavailable { service: "Glance".into(), detail: "x".into() };
        assert!(PairOutcome::from_error(&down).is_retryable());
        assert!(PairOutcome::AlreadyMember.is_success());
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn a_batch_is_bound_to_the_project_region_and_endpoint_it_ran_in() {
        let ran_in = RanIn {
            project_id: "p1".into(),
            project_name: "one".into(),
            region: "RegionOne".into(),
            image_url: "http://glance-1".into(),
        };
        assert_eq!(ran_in.mismatch("p1", "one", "RegionOne", "http://glance-1"), None);
        for (project, region, url) in [
            ("p2", "RegionOne", "http://glance-1"),
            ("p1", "RegionTwo", "http://glance-1"),
            ("p1", "RegionOne", "http://x"),
        ] {
            let why = ran_in.mismatch(project, "any", region, url).expect("refused");
            assert!(why.contains("ran in project one (p1), region RegionOne"), "{why}");
        }
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn operations_parse_from_the_form() {
        assert_eq!(BatchOperation::parse("share", None).unwrap(), BatchOperation::Share);
        assert_eq!(
            BatchOperation::parse("status", Some("accepted")).unwrap(),
            BatchOperation::SetStatus(MemberStatus::Accepted)
        );
        assert!(BatchOperation::parse("status", Some("bogus")).is_err());
        assert!(BatchOperation::parse("delete-everything", None).is_err());
    }
}
