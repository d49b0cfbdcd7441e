//! Running batches server-side: they finish even when the browser goes away, and their
//! result stays available to the user who started them (in any of their sessions in that
//! cloud) until the token they ran with expires.
//!
//! With the default stores a batch lives in this instance's memory. With Redis (the session
//! store's) batches are jobs there (`durable`): every instance shows every batch, and one whose
//! instance died is resumed by another.

pub mod durable;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::{
    audit::{Actor, AuditLog},
    error::AppError,
    model::{
        BatchOperation, BatchPair, BatchView, Change, ImageId, ImageStepKind, MemberId, PairOutcome, Via, Visibility,
    },
};
use durable::{Entry, Store, StoredJob};
use openstack::{
    Token, UpstreamError,
    glance::{Glance, ImageChange},
    ids::PropertyName,
};

/// Who may see a batch: the user who started it, in the same cloud.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Set when the batch is a job in Redis.
    durable: Option<Durable>,
}

/// A batch this instance runs as a job in Redis.
struct Durable {
    store: Store,
    entry: Entry,
    /// Pairs an earlier run sent without settling: Glance is asked about them first.
    in_flight: Vec<usize>,
    /// Redis failed, or another instance took the batch over: run nothing more. The entry
    /// stays pending, so the batch is resumed (by whichever instance claims it).
    stopped: AtomicBool,
}

impl Run {
    /// Still to be kept: running, or finished before its token expired.
    fn kept(&self) -> bool {
        Instant::now() < self.kept_until || !*self.finished.borrow()
    }

    fn stopped(&self) -> bool {
        self.durable.as_ref().is_some_and(|d| d.stopped.load(Ordering::Relaxed))
    }

    /// Stops this run after a Redis failure: it resumes from Redis once Redis is back.
    fn lost_store(&self, e: &impl std::fmt::Display) {
        if let Some(d) = &self.durable
            && !d.stopped.swap(true, Ordering::Relaxed)
        {
            tracing::error!(batch = %d.entry.batch, "the batch store failed; the batch is left to resume: {e}");
        }
    }

    fn was_in_flight(&self, index: usize) -> bool {
        self.durable.as_ref().is_some_and(|d| d.in_flight.contains(&index))
    }
}

/// What a run needs to call Glance on the user's behalf.
pub struct Job {
    /// The batch's ID, which its audit entries are keyed by.
    pub batch: String,
    pub http: openstack::Upstream,
    pub image_url: String,
    pub token: Token,
    /// The token's expiry: pairs not run by then end with that outcome.
    pub expires_at: OffsetDateTime,
    pub concurrency: usize,
    /// Private images to make shared before sharing.
    pub make_shared: Vec<ImageId>,
    /// Where every change is recorded, as whom, and from which page.
    pub audit: AuditLog,
    pub actor: Actor,
    pub via: Via,
}

/// Every batch this instance knows: those it runs, and (in memory) those it ran.
#[derive(Default)]
pub struct Batches {
    runs: Mutex<HashMap<String, Arc<Run>>>,
    durable: Option<Shared>,
}

/// Batches as jobs in Redis, and what this instance needs to run one it did not start.
struct Shared {
    store: Store,
    http: openstack::Upstream,
    audit: AuditLog,
}

/// The batch store could not be read or written: nothing was started or changed.
fn unavailable(e: impl std::fmt::Display) -> AppError {
    tracing::error!("the batch store (Redis) failed: {e}");
    AppError::Unavailable { service: "The batch store (Redis)".into(), detail: "try again shortly".into() }
}

impl Batches {
    /// Batches as jobs in `store`, run with this instance's `http` and `audit`.
    pub fn durable(store: Store, http: openstack::Upstream, audit: AuditLog) -> Batches {
        Batches { runs: Mutex::default(), durable: Some(Shared { store, http, audit }) }
    }

    /// Starts `view` (pairs whose outcome is `None` still have to run) in the background;
    /// once finished it is kept for `kept_for` from now (the time its token has left). Batches
    /// past theirs are hidden at once and dropped when the next one starts.
    pub async fn start(
        self: &Arc<Self>,
        owner: Owner,
        view: BatchView,
        job: Job,
        kept_for: Duration,
    ) -> Result<String, AppError> {
        let id = view.id.clone();
        let Some(shared) = &self.durable else {
            self.spawn(owner, view, job, kept_for, None);
            return Ok(id);
        };
        let token = crate::secret_key::seal_token(&job.token)
            .ok_or_else(|| AppError::internal("no session key to seal the batch's token"))?;
        let stored = StoredJob {
            owner,
            image_url: job.image_url,
            token,
            expires_at: job.expires_at.unix_timestamp(),
            concurrency: job.concurrency,
            make_shared: job.make_shared.iter().map(ToString::to_string).collect(),
            actor: job.actor,
            via: job.via,
            started_ms: (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64,
        };
        shared.store.create(&view, &stored, kept_for).await.map_err(unavailable)?;
        // Most likely this instance takes its own batch at once; another may be quicker.
        if let Err(e) = self.take_new().await {
            tracing::warn!("could not take new batches now (the sweep will): {e}");
        }
        Ok(id)
    }

    /// The batch as it stands, if `owner` started it.
    pub async fn view(&self, id: &str, owner: &Owner) -> Result<Option<BatchView>, AppError> {
        if let Some(shared) = &self.durable {
            let stored = shared.store.load(id).await.map_err(unavailable)?;
            return Ok(stored.filter(|s| &s.job.owner == owner).map(|s| s.view));
        }
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let run = runs.get(id).filter(|r| &r.owner == owner && r.kept());
        Ok(run.map(|r| r.view.lock().unwrap_or_else(|e| e.into_inner()).clone()))
    }

    /// The batches `owner` started that are still kept, newest first: a batch left when the
    /// browser went away (or the tab was closed) can be opened again from this list.
    pub async fn recent(&self, owner: &Owner) -> Result<Vec<BatchView>, AppError> {
        if let Some(shared) = &self.durable {
            let stored = shared.store.recent(owner).await.map_err(unavailable)?;
            return Ok(stored.into_iter().map(|s| s.view).collect());
        }
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let mut mine: Vec<&Arc<Run>> = runs.values().filter(|r| &r.owner == owner && r.kept()).collect();
        mine.sort_by_key(|r| std::cmp::Reverse(r.started));
        Ok(mine.into_iter().map(|r| r.view.lock().unwrap_or_else(|e| e.into_inner()).clone()).collect())
    }

    /// How many batches are still running here (graceful shutdown waits for them).
    pub fn running(&self) -> usize {
        self.runs.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|r| !*r.finished.borrow()).count()
    }

    /// For as long as the process lives: takes batches nobody has taken yet, and those whose
    /// instance went silent (died), and runs them. Only with batches in Redis.
    pub async fn keep_taking(self: Arc<Self>) {
        let Some(shared) = &self.durable else { return };
        let mut sweep = tokio::time::interval(durable::SWEEP);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            sweep.tick().await;
            if let Err(e) = self.take_new().await {
                tracing::warn!("could not look for new batches: {e}");
            }
            match shared.store.take_abandoned().await {
                Ok(entries) => {
                    for entry in entries {
                        tracing::info!(batch = %entry.batch, "resuming a batch whose instance went silent");
                        self.resume(entry).await;
                    }
                }
                Err(e) => tracing::warn!("could not look for abandoned batches: {e}"),
            }
        }
    }

    async fn take_new(self: &Arc<Self>) -> Result<(), tower_sessions_redis_store::fred::error::Error> {
        let Some(shared) = &self.durable else { return Ok(()) };
        for entry in shared.store.take_new().await? {
            self.resume(entry).await;
        }
        Ok(())
    }

    /// Runs the batch of `entry` (now this instance's) from where Redis says it stands.
    async fn resume(self: &Arc<Self>, entry: Entry) {
        let Some(shared) = &self.durable else { return };
        if self.runs.lock().unwrap_or_else(|e| e.into_inner()).get(&entry.batch).is_some_and(|r| !*r.finished.borrow())
        {
            return; // already running here (taken back after a slow heartbeat)
        }
        let stored = match shared.store.load(&entry.batch).await {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                // Expired with its token: nobody can run or open it any more.
                let _ = shared.store.drop_entry(&entry).await;
                return;
            }
            Err(e) => {
                tracing::warn!(batch = %entry.batch, "could not read the batch; it stays pending: {e}");
                return;
            }
        };
        let durable::Stored { job: stored, view, in_flight } = stored;
        let expires_at = OffsetDateTime::from_unix_timestamp(stored.expires_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let kept_for = (expires_at - OffsetDateTime::now_utc()).try_into().unwrap_or(Duration::ZERO);
        // A token sealed under another key (the instances' key files differ) runs nothing:
        // the pairs left end saying so.
        let token = crate::secret_key::open_token(&stored.token);
        let job = Job {
            batch: entry.batch.clone(),
            http: shared.http.clone(),
            image_url: stored.image_url,
            expires_at: if token.is_some() { expires_at } else { OffsetDateTime::UNIX_EPOCH },
            token: token.unwrap_or_else(|| Token::new(String::new())),
            concurrency: stored.concurrency.clamp(1, 64),
            make_shared: stored.make_shared.iter().filter_map(|id| ImageId::parse(id).ok()).collect(),
            audit: shared.audit.clone(),
            actor: stored.actor,
            via: stored.via,
        };
        let durable = Durable { store: shared.store.clone(), entry, in_flight, stopped: AtomicBool::new(false) };
        self.spawn(stored.owner, view, job, kept_for, Some(durable));
    }

    fn spawn(self: &Arc<Self>, owner: Owner, view: BatchView, job: Job, kept_for: Duration, durable: Option<Durable>) {
        let id = view.id.clone();
        let (done_tx, done_rx) = watch::channel(false);
        let started = Instant::now();
        let run = Arc::new(Run {
            owner,
            started,
            kept_until: started + kept_for,
            view: Mutex::new(view),
            finished: done_rx,
            durable,
        });
        {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            runs.retain(|_, r| r.kept() && (r.durable.is_none() || !*r.finished.borrow()));
            runs.insert(id, run.clone());
        }
        tokio::spawn(async move {
            let heartbeat = run.durable.as_ref().map(|_| tokio::spawn(heartbeat(run.clone())));
            execute(&run, job).await;
            if let Some(heartbeat) = heartbeat {
                heartbeat.abort();
            }
            if let Some(d) = run.durable.as_ref().filter(|_| !run.stopped())
                && let Err(e) = d.store.finish(&d.entry).await
            {
                run.lost_store(&e);
            }
            run.view.lock().unwrap_or_else(|e| e.into_inner()).finished = true;
            let _ = done_tx.send(true);
        });
    }
}

/// Keeps telling Redis that this instance runs the batch; stops the run when another instance
/// has taken it over, or Redis cannot be reached.
async fn heartbeat(run: Arc<Run>) {
    let Some(d) = &run.durable else { return };
    loop {
        tokio::time::sleep(durable::HEARTBEAT).await;
        match d.store.keep(&d.entry).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(batch = %d.entry.batch, "another instance took the batch over; stopping here");
                d.stopped.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => {
                run.lost_store(&e);
                return;
            }
        }
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

/// Why nothing more may be sent with the job's token: it has expired (or could not be opened).
fn expired(job: &Job) -> Option<String> {
    (OffsetDateTime::now_utc() >= job.expires_at)
        .then(|| "not run: the sign-in that started the batch expired first; sign in again and retry".to_string())
}

async fn execute(run: &Run, job: Job) {
    if let Some(why) = expired(&job) {
        finish_all(run, PairOutcome::Failed(why)).await;
        return;
    }
    let Ok(glance) = Glance::new(&job.http, &job.image_url, &job.token) else {
        finish_all(run, PairOutcome::Failed("the image endpoint is not usable".into())).await;
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
        let mut images = Vec::new();
        for (image, indexes) in groups {
            match ImageId::parse(&image) {
                Ok(image_id) => images.push((image_id, indexes)),
                Err(_) => {
                    for i in indexes {
                        record(run, i, PairOutcome::Skipped("not an image ID".into())).await;
                    }
                }
            }
        }
        // One image's pairs run one after another (Glance's member quota check is not safe
        // against concurrent adds), up to `concurrency` images at once, always the ones with
        // the most pairs left.
        crate::concurrency::one_per_group(images, job.concurrency, |image_id, i| {
            let (glance, pairs, operations, unsettled, job) = (&glance, &pairs, &operations, &unsettled, &job);
            let image_id = image_id.clone();
            async move {
                if run.stopped() {
                    return false;
                }
                let (pair, operation) = (&pairs[i], operations[i]);
                if let Some(why) = waits_for_offer(unsettled, pair, operation).or_else(|| expired(job)) {
                    record(run, i, PairOutcome::Failed(why)).await;
                    return true;
                }
                let outcome = match MemberId::parse(&pair.member_id) {
                    Ok(member) => {
                        if !sending(run, i).await {
                            return false;
                        }
                        let outcome = if run.was_in_flight(i) {
                            resend(glance, operation, &image_id, &member).await
                        } else {
                            run_pair(glance, operation, &image_id, &member).await
                        };
                        let change = match operation {
                            BatchOperation::Share => Change::Share,
                            BatchOperation::Revoke => Change::Revoke,
                            BatchOperation::SetStatus(status) => Change::Status(status),
                        };
                        let failure = (!outcome.is_success()).then(|| outcome.describe(operation));
                        // Once per pair: the instance that resumes a batch may record it again.
                        let key = once_key(&job.batch, &format!("pair:{i}"), failure.is_none());
                        let member = Some(member.as_str());
                        job.audit.record_once(&key, &job.actor, job.via, &image_id, change, member, failure).await;
                        outcome
                    }
                    Err(e) => PairOutcome::Skipped(e.to_string()),
                };
                record(run, i, outcome).await;
                true
            }
        })
        .await;
    }
    if !run.stopped() {
        run_steps(run, &glance, &job).await;
    }
}

/// The audit key of what a batch did to `what`: one entry per batch, thing and result. An
/// instance resuming the batch may do it again; the same result is not logged twice, but a
/// failure followed by a success (Glance was back by then) is, as it happened.
fn once_key(batch: &str, what: &str, succeeded: bool) -> String {
    format!("batch:{batch}:{what}:{}", if succeeded { "done" } else { "failed" })
}

/// What the audit log says of a change that failed.
fn failure_of<T>(made: &Result<T, AppError>) -> Option<String> {
    made.as_ref().err().map(ToString::to_string)
}

/// Marks pair `index` as about to be sent (in Redis); false when the run must stop instead.
async fn sending(run: &Run, index: usize) -> bool {
    let Some(d) = &run.durable else { return true };
    match d.store.sending(&d.entry.batch, index).await {
        Ok(()) => true,
        Err(e) => {
            run.lost_store(&e);
            false
        }
    }
}

/// A pair an earlier run sent without recording what came of it (its instance died): Glance
/// is asked first, so a member is never added twice nor a revoke repeated for nothing.
async fn resend(glance: &Glance<'_>, operation: BatchOperation, image: &ImageId, member: &MemberId) -> PairOutcome {
    let now = glance.member(image, member).await;
    let done = match (&now, operation) {
        (Ok(_), BatchOperation::Share) => true,
        (Ok(m), BatchOperation::SetStatus(status)) => m.status == status,
        (Err(UpstreamError::Status { status: 404, .. }), BatchOperation::Revoke) => true,
        _ => false,
    };
    if done { PairOutcome::Done } else { run_pair(glance, operation, image, member).await }
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
        if run.view.lock().unwrap_or_else(|e| e.into_inner()).made_shared.iter().any(|m| m == image_id.as_str()) {
            continue; // made shared before this instance resumed the batch
        }
        let made = glance.set_visibility(image_id, Visibility::Shared).await.map_err(AppError::from);
        let change = Change::Visibility(Visibility::Shared);
        // Once per batch and image: an instance that resumes the batch may make it again.
        let key = once_key(&job.batch, &format!("shared:{image_id}"), made.is_ok());
        job.audit.record_once(&key, &job.actor, job.via, image_id, change, None, failure_of(&made)).await;
        match made {
            Ok(_) => {
                if let Some(d) = &run.durable
                    && let Err(e) = d.store.made_shared(&d.entry.batch, image_id.as_str()).await
                {
                    run.lost_store(&e);
                }
                let mut view = run.view.lock().unwrap_or_else(|e| e.into_inner());
                if !view.made_shared.iter().any(|m| m == image_id.as_str()) {
                    view.made_shared.push(image_id.to_string());
                }
            }
            Err(e) => {
                let outcome = PairOutcome::from_error(&e);
                let indexes: Vec<usize> = {
                    let view = run.view.lock().unwrap_or_else(|e| e.into_inner());
                    let of_image =
                        |(_, p): &(usize, &BatchPair)| p.image_id == image_id.as_str() && p.outcome.is_none();
                    view.pairs.iter().enumerate().filter(of_image).map(|(i, _)| i).collect()
                };
                for i in indexes {
                    record(run, i, outcome.clone()).await;
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
                    // Once per step: an instance that resumes the batch may make it again.
                    let key = once_key(&job.batch, &format!("step:{i}"), made.is_ok());
                    job.audit.record_once(&key, &job.actor, job.via, &image, audit, other, failure_of(&made)).await;
                    match made {
                        Ok(()) => PairOutcome::Done,
                        Err(e) => PairOutcome::from_error(&e),
                    }
                }
                Err(e) => PairOutcome::Skipped(e.to_string()),
            }
        };
        record_step(run, i, outcome).await;
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

/// Gives pair `index` its one outcome: in Redis the first one written wins (another instance
/// may have settled it), and that is the one the run goes on with.
async fn record(run: &Run, index: usize, outcome: PairOutcome) {
    let outcome = match &run.durable {
        None => outcome,
        Some(d) => match d.store.settle_pair(&d.entry.batch, index, &outcome).await {
            Ok(settled) => settled,
            Err(e) => return run.lost_store(&e),
        },
    };
    let mut view = run.view.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pair) = view.pairs.get_mut(index)
        && pair.outcome.is_none()
    {
        pair.outcome = Some(outcome);
    }
}

async fn finish_all(run: &Run, outcome: PairOutcome) {
    let (pairs, steps): (Vec<usize>, Vec<usize>) = {
        let view = run.view.lock().unwrap_or_else(|e| e.into_inner());
        let open = |o: &Option<PairOutcome>| o.is_none();
        (
            view.pairs.iter().enumerate().filter(|(_, p)| open(&p.outcome)).map(|(i, _)| i).collect(),
            view.steps.iter().enumerate().filter(|(_, s)| open(&s.outcome)).map(|(i, _)| i).collect(),
        )
    };
    for i in pairs {
        record(run, i, outcome.clone()).await;
    }
    for i in steps {
        record_step(run, i, outcome.clone()).await;
    }
}

/// `record` for image change `index`.
async fn record_step(run: &Run, index: usize, outcome: PairOutcome) {
    let outcome = match &run.durable {
        None => outcome,
        Some(d) => match d.store.settle_step(&d.entry.batch, index, &outcome).await {
            Ok(settled) => settled,
            Err(e) => return run.lost_store(&e),
        },
    };
    if let Some(step) = run.view.lock().unwrap_or_else(|e| e.into_inner()).steps.get_mut(index) {
        step.outcome = Some(outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ImageStep;

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
            durable: None,
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

    #[tokio::test]
    async fn a_batch_whose_token_expired_sends_nothing_and_says_why() {
        let run = run(Duration::from_secs(60), false);
        run.view.lock().unwrap().pairs = vec![
            pair("i", "p", BatchOperation::Share, None),
            pair("i", "q", BatchOperation::Share, Some(PairOutcome::Done)),
        ];
        let job = Job {
            batch: "b".into(),
            http: openstack::Upstream::new(reqwest::Client::new(), 1),
            // Nothing listens there: a pair that was sent would fail otherwise.
            image_url: "http://127.0.0.1:9".into(),
            token: Token::new("gAAAAABexpired"),
            expires_at: OffsetDateTime::now_utc() - time::Duration::seconds(1),
            concurrency: 1,
            make_shared: Vec::new(),
            audit: AuditLog::open(&crate::audit::AuditStoreKind::Memory).await.unwrap(),
            actor: Actor::for_tests(),
            via: Via::Batch,
        };
        execute(&run, job).await;
        let view = run.view.lock().unwrap();
        let Some(PairOutcome::Failed(why)) = &view.pairs[0].outcome else { panic!("{:?}", view.pairs[0]) };
        assert!(why.contains("expired"), "{why}");
        assert_eq!(view.pairs[1].outcome, Some(PairOutcome::Done), "a settled pair keeps its outcome");
    }

    /// A batch resumed by another instance makes again what the first made without recording
    /// its outcome: the audit log keeps one entry per image change all the same.
    #[tokio::test]
    async fn image_changes_made_again_on_resume_are_logged_once() {
        let image = "7a1c2b3d-0000-4000-8000-000000000001";
        let run = run(Duration::from_secs(60), false);
        run.view.lock().unwrap().steps = vec![ImageStep {
            image_id: image.into(),
            image_name: "old".into(),
            kind: ImageStepKind::Hide,
            outcome: None,
        }];
        let audit = AuditLog::open(&crate::audit::AuditStoreKind::Memory).await.unwrap();
        let job = Job {
            batch: "b".into(),
            http: openstack::Upstream::new(reqwest::Client::new(), 1),
            // Nothing listens there: each change fails, and is logged as failed.
            image_url: "http://127.0.0.1:9".into(),
            token: Token::new("gAAAAABtoken"),
            expires_at: OffsetDateTime::now_utc() + time::Duration::hours(1),
            concurrency: 1,
            make_shared: vec![ImageId::parse(image).unwrap()],
            audit,
            actor: Actor::for_tests(),
            via: Via::Rollover,
        };
        let glance = Glance::new(&job.http, &job.image_url, &job.token).unwrap();
        for _ in 0..2 {
            make_shared(&run, &glance, &job).await;
            run.view.lock().unwrap().steps[0].outcome = None; // as if it never got recorded
            run_steps(&run, &glance, &job).await;
        }
        let image = ImageId::parse(image).unwrap();
        let (entries, _) = job.audit.history("c", "r", &image, crate::audit::Viewer::Everything, None).await.unwrap();
        let changes: Vec<_> = entries.iter().map(|e| e.change).collect();
        assert_eq!(entries.len(), 2, "one entry for making it shared, one for hiding it: {changes:?}");
    }

    #[test]
    fn a_failure_and_a_later_success_are_each_logged_once() {
        assert_eq!(once_key("b", "step:0", true), once_key("b", "step:0", true));
        assert_ne!(once_key("b", "step:0", true), once_key("b", "step:0", false));
        assert_ne!(once_key("b", "step:0", true), once_key("b", "step:1", true));
        assert_ne!(once_key("b", "pair:1", true), once_key("c", "pair:1", true), "a retry is a new batch");
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
