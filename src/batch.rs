//! Running batches server-side: they finish even when the browser goes away, and their
//! result stays available to the user who started them (in any of their sessions in that
//! cloud) until the token they ran with expires. Kept in this instance's memory only: a
//! restart, or another instance, does not know them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::watch;

use crate::{
    audit::{Actor, AuditLog},
    error::AppError,
    model::{
        BatchOperation, BatchPair, BatchView, Change, ImageId, ImageStepKind, MemberId, PairOutcome, Via, Visibility,
    },
};
use openstack::{
    Token,
    glance::{Glance, ImageChange},
    ids::PropertyName,
};

/// Who may see a batch: the user who started it, in the same cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub cloud: String,
    pub user_id: String,
}

struct Run {
    owner: Owner,
    started: Instant,
    /// Until when the finished batch can be opened again: its token's expiry, the longest the
    /// session that started it can live (signing out does not end it sooner).
    kept_until: Instant,
    view: Mutex<BatchView>,
    finished: watch::Receiver<bool>,
}

impl Run {
    /// Still to be kept: running, or finished before its token expired.
    fn kept(&self) -> bool {
        Instant::now() < self.kept_until || !*self.finished.borrow()
    }
}

/// What a run needs to call Glance on the user's behalf.
pub struct Job {
    pub http: openstack::Upstream,
    pub image_url: String,
    pub token: Token,
    pub concurrency: usize,
    /// Private images to make shared before sharing.
    pub make_shared: Vec<ImageId>,
    /// Where every change is recorded, as whom, and from which page.
    pub audit: AuditLog,
    pub actor: Actor,
    pub via: Via,
}

#[derive(Default)]
pub struct Batches {
    runs: Mutex<HashMap<String, Arc<Run>>>,
}

impl Batches {
    /// Starts `view` (pairs whose outcome is `None` still have to run) in the background;
    /// once finished it is kept for `kept_for` from now (the time its token has left). Batches
    /// past theirs are hidden at once and dropped from memory when the next one starts.
    pub fn start(self: &Arc<Self>, owner: Owner, view: BatchView, job: Job, kept_for: Duration) -> String {
        let id = view.id.clone();
        let (done_tx, done_rx) = watch::channel(false);
        let started = Instant::now();
        let run =
            Arc::new(Run { owner, started, kept_until: started + kept_for, view: Mutex::new(view), finished: done_rx });
        {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            runs.retain(|_, r| r.kept());
            runs.insert(id.clone(), run.clone());
        }
        tokio::spawn(async move {
            execute(&run, job).await;
            run.view.lock().unwrap_or_else(|e| e.into_inner()).finished = true;
            let _ = done_tx.send(true);
        });
        id
    }

    /// The batch as it stands, if `owner` started it.
    pub fn view(&self, id: &str, owner: &Owner) -> Option<BatchView> {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let run = runs.get(id).filter(|r| &r.owner == owner && r.kept())?;
        Some(run.view.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// The batches `owner` started that are still kept, newest first: a batch left when the
    /// browser went away (or the tab was closed) can be opened again from this list.
    pub fn recent(&self, owner: &Owner) -> Vec<BatchView> {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let mut mine: Vec<&Arc<Run>> = runs.values().filter(|r| &r.owner == owner && r.kept()).collect();
        mine.sort_by_key(|r| std::cmp::Reverse(r.started));
        mine.into_iter().map(|r| r.view.lock().unwrap_or_else(|e| e.into_inner()).clone()).collect()
    }

    /// How many batches are still running (graceful shutdown waits for them).
    pub fn running(&self) -> usize {
        self.runs.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|r| !*r.finished.borrow()).count()
    }
}

/// The phase a pair runs in: shares first, then statuses, then revokes. In a rollover a
/// status is set on the offer just made, and a project is never cut off from the old version
/// before it was offered the new one; the image changes come after every phase.
fn phase(operation: BatchOperation) -> u8 {
    match operation {
        BatchOperation::Share => 0,
        BatchOperation::SetStatus(_) => 1,
        BatchOperation::Revoke => 2,
    }
}

async fn execute(run: &Run, job: Job) {
    let Ok(glance) = Glance::new(&job.http, &job.image_url, &job.token) else {
        finish_all(run, PairOutcome::Failed("the image endpoint is not usable".into()));
        return;
    };
    make_shared(run, &glance, &job).await;
    for now in 0..3 {
        // Read once a phase: the shares all ran in the first, so what they left is final here.
        let (pairs, operations, groups) = {
            let view = run.view.lock().unwrap_or_else(|e| e.into_inner());
            let operations: Vec<BatchOperation> = view.pairs.iter().map(|p| view.operation_of(p)).collect();
            let todo =
                view.pairs.iter().enumerate().filter(|(i, p)| p.outcome.is_none() && phase(operations[*i]) == now);
            let groups = grouped(todo.map(|(i, p)| (p.image_id.clone(), i)));
            (view.pairs.clone(), operations, groups)
        };
        let unsettled = unsettled_shares(&pairs, &operations);
        // One image's pairs run one after another (Glance's member quota check is not safe
        // against concurrent adds), images in parallel.
        crate::concurrency::bounded(groups, job.concurrency, |(image, indexes)| {
            let (glance, pairs, operations, unsettled, job) = (&glance, &pairs, &operations, &unsettled, &job);
            async move {
                let Ok(image_id) = ImageId::parse(&image) else {
                    for i in indexes {
                        record(run, i, PairOutcome::Skipped("not an image ID".into()));
                    }
                    return;
                };
                for i in indexes {
                    let (pair, operation) = (&pairs[i], operations[i]);
                    if let Some(why) = waits_for_offer(unsettled, pair, operation) {
                        record(run, i, PairOutcome::Failed(why));
                        continue;
                    }
                    let outcome = match MemberId::parse(&pair.member_id) {
                        Ok(member) => {
                            let outcome = run_pair(glance, operation, &image_id, &member).await;
                            let change = match operation {
                                BatchOperation::Share => Change::Share,
                                BatchOperation::Revoke => Change::Revoke,
                                BatchOperation::SetStatus(status) => Change::Status(status),
                            };
                            let failure = (!outcome.is_success()).then(|| outcome.describe(operation));
                            job.audit
                                .record(&job.actor, job.via, &image_id, change, Some(member.as_str()), failure)
                                .await;
                            outcome
                        }
                        Err(e) => PairOutcome::Skipped(e.to_string()),
                    };
                    record(run, i, outcome);
                }
            }
        })
        .await;
    }
    run_steps(run, &glance, &job).await;
}

/// Values grouped by their key (an image), groups and values in the order first seen: a
/// batch's pairs run image by image, and its plan lists them so.
pub fn grouped<K: PartialEq, V>(items: impl IntoIterator<Item = (K, V)>) -> Vec<(K, Vec<V>)> {
    let mut groups: Vec<(K, Vec<V>)> = Vec::new();
    for (key, value) in items {
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    groups
}

/// The shares of the batch that did not go through (or have not run yet), by project: the
/// images each project was not offered.
fn unsettled_shares<'a>(pairs: &'a [BatchPair], operations: &[BatchOperation]) -> HashMap<&'a str, Vec<&'a str>> {
    let mut by_project: HashMap<&str, Vec<&str>> = HashMap::new();
    for (pair, operation) in pairs.iter().zip(operations) {
        if *operation == BatchOperation::Share && !pair.outcome.as_ref().is_some_and(|o| o.is_settled(*operation)) {
            by_project.entry(&pair.member_id).or_default().push(&pair.image_id);
        }
    }
    by_project
}

/// Why a pair must not run: the same project's share in this batch did not go through
/// (`unsettled`, from `unsettled_shares`). A status is set on that very offer; a revoke of
/// another image (a rollover's old version) would leave the project with neither. It fails
/// retryably, so "retry" sends both again, the share first.
fn waits_for_offer(
    unsettled: &HashMap<&str, Vec<&str>>,
    pair: &BatchPair,
    operation: BatchOperation,
) -> Option<String> {
    let images = unsettled.get(pair.member_id.as_str()).map(Vec::as_slice).unwrap_or_default();
    let unsettled_share = |same_image: bool| images.iter().any(|image| (*image == pair.image_id) == same_image);
    match operation {
        BatchOperation::Share => None,
        BatchOperation::SetStatus(_) => {
            unsettled_share(true).then(|| "not set: the offer did not go through; retry both".to_string())
        }
        BatchOperation::Revoke => unsettled_share(false)
            .then(|| "not revoked: its offer of the new version did not go through; retry both".to_string()),
    }
}

/// Makes the job's private images shared; when that fails, every pair of that image ends with
/// that failure.
async fn make_shared(run: &Run, glance: &Glance<'_>, job: &Job) {
    for image_id in &job.make_shared {
        let made = glance.set_visibility(image_id, Visibility::Shared).await.map_err(AppError::from);
        let change = Change::Visibility(Visibility::Shared);
        let made = job.audit.recorded(&job.actor, job.via, image_id, change, None, made).await;
        let mut view = run.view.lock().unwrap_or_else(|e| e.into_inner());
        match made {
            Ok(_) => view.made_shared.push(image_id.to_string()),
            Err(e) => {
                let outcome = PairOutcome::from_error(&e);
                for pair in view.pairs.iter_mut().filter(|p| p.image_id == image_id.as_str() && p.outcome.is_none()) {
                    pair.outcome = Some(outcome.clone());
                }
            }
        }
    }
}

/// The image changes, once every pair has settled. When some pair has not, they are not made
/// (a hidden old version while its members lack the new one would strand them) and fail
/// retryably: "retry" sends them with the pairs.
async fn run_steps(run: &Run, glance: &Glance<'_>, job: &Job) {
    let (steps, unsettled) = {
        let view = run.view.lock().unwrap_or_else(|e| e.into_inner());
        let unsettled = view
            .pairs
            .iter()
            .filter(|p| !p.outcome.as_ref().is_some_and(|o| o.is_settled(view.operation_of(p))))
            .count();
        (view.steps.clone(), unsettled)
    };
    for (i, step) in steps.iter().enumerate().filter(|(_, s)| s.outcome.is_none()) {
        let outcome = if unsettled > 0 {
            PairOutcome::Failed(format!(
                "not made: {unsettled} pair{} did not go through; retry {} first",
                if unsettled == 1 { "" } else { "s" },
                if unsettled == 1 { "it" } else { "them" }
            ))
        } else {
            match ImageId::parse(&step.image_id) {
                Ok(image) => {
                    let (change, audit, other) = step_change(&step.kind);
                    let made = match change {
                        Ok(change) => glance.update_image(&image, &[change]).await.map(drop).map_err(AppError::from),
                        Err(e) => Err(e),
                    };
                    match job.audit.recorded(&job.actor, job.via, &image, audit, other, made).await {
                        Ok(()) => PairOutcome::Done,
                        Err(e) => PairOutcome::from_error(&e),
                    }
                }
                Err(e) => PairOutcome::Skipped(e.to_string()),
            }
        };
        let mut view = run.view.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(step) = view.steps.get_mut(i) {
            step.outcome = Some(outcome);
        }
    }
}

/// The Glance change of a step, its History entry, and the other image it names.
fn step_change(kind: &ImageStepKind) -> (Result<ImageChange, AppError>, Change, Option<&str>) {
    let property = |name: &str, value: &str| {
        PropertyName::parse(name)
            .map(|name| ImageChange::Property { name, value: value.to_string() })
            .map_err(|e| AppError::InvalidInput(e.to_string()))
    };
    match kind {
        ImageStepKind::Hide => (Ok(ImageChange::Hidden(true)), Change::Hide, None),
        ImageStepKind::Protect => (Ok(ImageChange::Protected(true)), Change::Protect, None),
        ImageStepKind::MarkSupersededBy(id) => (property("superseded_by", id), Change::SupersededBy, Some(id)),
        ImageStepKind::MarkSupersedes(id) => (property("supersedes", id), Change::Supersedes, Some(id)),
    }
}

/// One pair, tried again at most once, and only when doing it twice cannot do harm:
///
/// - Share (POST add-member) is never sent again: a 5xx or a lost answer may come after Glance
///   added the member, and a second POST is not idempotent (it would count against the member
///   quota check again, and answer 409 for what the first did). The pair is reported failed and
///   "retry the failed ones" lets the user send it again knowingly, where a 409 counts as done.
/// - Set status (PUT) is idempotent, and `openstack::http::send` already repeats a PUT once
///   after a 5xx or a dropped connection; the batch adds no repeat of its own, so a status
///   update is sent at most twice. (Like every call there, a timeout is not repeated.)
/// - Revoke (DELETE) is idempotent in effect, but `send` never repeats a DELETE, so the batch
///   does, once, after a 5xx, a timeout or a dropped connection. A 404 on that second try means
///   the first one went through and only its answer was lost: the member is gone, as asked, so
///   it counts as done. (A 404 on the first try stays "not found": the project was not a member.)
async fn run_pair(glance: &Glance<'_>, operation: BatchOperation, image: &ImageId, member: &MemberId) -> PairOutcome {
    let outcome = |result: Result<(), openstack::UpstreamError>| match result {
        Ok(()) => PairOutcome::Done,
        Err(e) => PairOutcome::from_error(&AppError::from(e)),
    };
    match operation {
        BatchOperation::Share => outcome(glance.add_member(image, member).await.map(drop)),
        BatchOperation::SetStatus(status) => outcome(glance.set_member_status(image, member, status).await.map(drop)),
        BatchOperation::Revoke => {
            let first = outcome(glance.remove_member(image, member).await);
            if !first.is_retryable() {
                return first;
            }
            tokio::time::sleep(RETRY_AFTER).await;
            match outcome(glance.remove_member(image, member).await) {
                PairOutcome::NotFound(_) => PairOutcome::Done,
                second => second,
            }
        }
    }
}

/// How long a revoke waits before its one retry: long enough for a briefly locked database.
const RETRY_AFTER: Duration = Duration::from_millis(300);

fn record(run: &Run, index: usize, outcome: PairOutcome) {
    let mut view = run.view.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pair) = view.pairs.get_mut(index)
        && pair.outcome.is_none()
    {
        pair.outcome = Some(outcome);
    }
}

fn finish_all(run: &Run, outcome: PairOutcome) {
    let mut view = run.view.lock().unwrap_or_else(|e| e.into_inner());
    for pair in view.pairs.iter_mut().filter(|p| p.outcome.is_none()) {
        pair.outcome = Some(outcome.clone());
    }
    for step in view.steps.iter_mut().filter(|s| s.outcome.is_none()) {
        step.outcome = Some(outcome.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kept_for: Duration, finished: bool) -> Run {
        let (_tx, rx) = watch::channel(finished);
        let started = Instant::now();
        Run {
            owner: Owner { cloud: "c".into(), user_id: "u".into() },
            started,
            kept_until: started + kept_for,
            view: Mutex::new(BatchView {
                id: "b".into(),
                operation: BatchOperation::Share,
                pairs: Vec::new(),
                made_shared: Vec::new(),
                to_make_shared: Vec::new(),
                finished,
                ran_in: Default::default(),
                projects: Default::default(),
                steps: Vec::new(),
                rollover: None,
            }),
            finished: rx,
        }
    }

    fn pair(image: &str, member: &str, operation: BatchOperation, outcome: Option<PairOutcome>) -> BatchPair {
        BatchPair {
            image_id: image.into(),
            image_name: image.into(),
            member_id: member.into(),
            outcome,
            operation: Some(operation),
        }
    }

    #[test]
    fn a_revoke_or_status_waits_for_the_same_projects_offer() {
        let down = Some(PairOutcome::Failed("Glance is unavailable".into()));
        let cases = [
            // (the share's outcome, the other pair's image and operation, blocked)
            (down.clone(), "old", BatchOperation::Revoke, true),
            (Some(PairOutcome::Done), "old", BatchOperation::Revoke, false),
            (Some(PairOutcome::AlreadyMember), "old", BatchOperation::Revoke, false),
            (None, "old", BatchOperation::Revoke, true),
            (down.clone(), "new", BatchOperation::SetStatus(crate::model::MemberStatus::Accepted), true),
            (Some(PairOutcome::Done), "new", BatchOperation::SetStatus(crate::model::MemberStatus::Accepted), false),
            // A revoke of the image just shared is no rollover: it does not wait.
            (down.clone(), "new", BatchOperation::Revoke, false),
        ];
        for (share, image, operation, blocked) in cases {
            let run = run(Duration::from_secs(60), false);
            let other = pair(image, "p", operation, None);
            let mut view = run.view.lock().unwrap();
            view.pairs = vec![pair("new", "p", BatchOperation::Share, share.clone()), other.clone()];
            view.pairs.push(pair("new", "q", BatchOperation::Share, down.clone()));
            let operations: Vec<BatchOperation> = view.pairs.iter().map(|p| view.operation_of(p)).collect();
            let why = waits_for_offer(&unsettled_shares(&view.pairs, &operations), &other, operation);
            assert_eq!(why.is_some(), blocked, "{share:?} {image} {operation:?}: {why:?}");
        }
    }

    #[test]
    fn pairs_group_by_image_in_the_order_first_seen() {
        let groups = grouped([("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]);
        assert_eq!(groups, vec![("b", vec![1, 3]), ("a", vec![2, 5]), ("c", vec![4])]);
        assert!(grouped(Vec::<(u8, u8)>::new()).is_empty());
    }

    #[test]
    fn a_finished_batch_is_kept_while_its_session_can_live_and_a_running_one_always() {
        assert!(run(Duration::from_secs(60), true).kept(), "within the session's life");
        assert!(!run(Duration::ZERO, true).kept(), "the token (and so the session) has expired");
        assert!(run(Duration::ZERO, false).kept(), "still running: kept until it ends");
    }
}
