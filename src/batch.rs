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
    model::{BatchOperation, BatchView, Change, ImageId, MemberId, PairOutcome, Via, Visibility},
};
use openstack::{Token, glance::Glance};

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
    /// Where every change is recorded, and as whom.
    pub audit: AuditLog,
    pub actor: Actor,
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

async fn execute(run: &Run, job: Job) {
    let Ok(glance) = Glance::new(&job.http, &job.image_url, &job.token) else {
        finish_all(run, PairOutcome::Failed("the image endpoint is not usable".into()));
        return;
    };
    let (operation, pairs) = {
        let view = run.view.lock().unwrap_or_else(|e| e.into_inner());
        (view.operation, view.pairs.clone())
    };

    // Pairs grouped by image, in their order: one image's pairs run one after another
    // (Glance's member quota check is not safe against concurrent adds), images in parallel.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, pair) in pairs.iter().enumerate().filter(|(_, p)| p.outcome.is_none()) {
        match groups.iter_mut().find(|(image, _)| *image == pair.image_id) {
            Some((_, idx)) => idx.push(i),
            None => groups.push((pair.image_id.clone(), vec![i])),
        }
    }

    crate::concurrency::bounded(groups, job.concurrency, |(image, indexes)| {
        let glance = &glance;
        let pairs = &pairs;
        let make_shared = job.make_shared.iter().any(|m| m.as_str() == image);
        let job = &job;
        async move {
            let Ok(image_id) = ImageId::parse(&image) else {
                for i in indexes {
                    record(run, i, PairOutcome::Skipped("not an image ID".into()));
                }
                return;
            };
            if make_shared {
                let made = glance.set_visibility(&image_id, Visibility::Shared).await.map_err(AppError::from);
                let change = Change::Visibility(Visibility::Shared);
                match job.audit.recorded(&job.actor, Via::Batch, &image_id, change, None, made).await {
                    Ok(_) => run.view.lock().unwrap_or_else(|e| e.into_inner()).made_shared.push(image.clone()),
                    Err(e) => {
                        let outcome = PairOutcome::from_error(&e);
                        for i in indexes {
                            record(run, i, outcome.clone());
                        }
                        return;
                    }
                }
            }
            for i in indexes {
                let outcome = match MemberId::parse(&pairs[i].member_id) {
                    Ok(member) => {
                        let outcome = run_pair(glance, operation, &image_id, &member).await;
                        let change = match operation {
                            BatchOperation::Share => Change::Share,
                            BatchOperation::Revoke => Change::Revoke,
                            BatchOperation::SetStatus(status) => Change::Status(status),
                        };
                        let failure = (!outcome.is_success()).then(|| outcome.describe(operation));
                        job.audit
                            .record(&job.actor, Via::Batch, &image_id, change, Some(member.as_str()), failure)
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
                finished,
                ran_in: Default::default(),
                projects: Default::default(),
            }),
            finished: rx,
        }
    }

    #[test]
    fn a_finished_batch_is_kept_while_its_session_can_live_and_a_running_one_always() {
        assert!(run(Duration::from_secs(60), true).kept(), "within the session's life");
        assert!(!run(Duration::ZERO, true).kept(), "the token (and so the session) has expired");
        assert!(run(Duration::ZERO, false).kept(), "still running: kept until it ends");
    }
}
