//! Access reviews in progress. A project with hundreds of shared images takes a while to
//! review (one member listing per image), so the review runs in the background and its page
//! shows how far it got, asking again by itself (navigation.js with JavaScript, a `<meta
//! refresh>` without) until the review is done. That page names its run (`?run=`), and only a
//! request naming the run is handed the finished review, which is dropped then. Any other
//! visit joins a run still reading, or reviews afresh: a review finished while nobody watched
//! (the "Reading…" page left, a clean-up done since) is never shown as if it were new.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::watch;

use crate::{
    error::AppError,
    model::{AccessReview, ReviewProgress},
};

/// How far a review got: shared images found (once the listings are read), and images whose
/// members have been read.
#[derive(Default)]
pub struct Progress {
    images: AtomicUsize,
    listed: std::sync::atomic::AtomicBool,
    read: AtomicUsize,
}

impl Progress {
    pub fn listed(&self, images: usize) {
        self.images.store(images, Ordering::Relaxed);
        self.listed.store(true, Ordering::Release);
    }

    pub fn read_one(&self) {
        self.read.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self, run: u64) -> ReviewProgress {
        let images = self.listed.load(Ordering::Acquire).then(|| self.images.load(Ordering::Relaxed));
        ReviewProgress { run, images, read: self.read.load(Ordering::Relaxed) }
    }
}

/// Whose review of what: one run at a time for the same user, place and project reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReviewKey {
    pub cloud: String,
    pub user_id: String,
    pub project_id: String,
    pub region: String,
    /// The project reviewed, as asked (`None`: the current one).
    pub owner: Option<String>,
}

type Outcome = Result<AccessReview, AppError>;

struct Run {
    /// What the "Reading…" page names to be handed this run's review.
    id: u64,
    progress: Arc<Progress>,
    outcome: Mutex<Option<Outcome>>,
    done: watch::Receiver<bool>,
    started: Instant,
}

/// A finished review nobody came back for is dropped after this long.
const UNCLAIMED: Duration = Duration::from_secs(120);

/// What a page gets: the review, or how far it got.
pub enum Answer {
    Done(Outcome),
    Reading(ReviewProgress),
}

#[derive(Default)]
pub struct Reviews {
    runs: Mutex<HashMap<ReviewKey, Arc<Run>>>,
    /// The last run's ID: runs are told apart within one key, so a count is enough.
    last_id: AtomicU64,
}

impl Reviews {
    /// The review for `key`: the run its "Reading…" page watches (`watched`, that page asking
    /// again) if it is still there, else the one still reading, else a new one made by `review`.
    /// Waits up to `wait` for it to finish.
    pub async fn answer<F, Fut>(&self, key: ReviewKey, watched: Option<u64>, wait: Duration, review: F) -> Answer
    where
        F: FnOnce(Arc<Progress>) -> Fut,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let run = {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            runs.retain(|_, r| r.started.elapsed() < UNCLAIMED || !*r.done.borrow());
            // A finished run is kept for the page that watched it read; any other visit after
            // it finished reviews again, as things may have changed since.
            match runs.get(&key).filter(|r| Some(r.id) == watched || !*r.done.borrow()) {
                Some(run) => run.clone(),
                None => {
                    let progress = Arc::new(Progress::default());
                    let (done_tx, done) = watch::channel(false);
                    let run = Arc::new(Run {
                        id: self.last_id.fetch_add(1, Ordering::Relaxed) + 1,
                        progress: progress.clone(),
                        outcome: Mutex::new(None),
                        done,
                        started: Instant::now(),
                    });
                    runs.insert(key.clone(), run.clone());
                    let future = review(progress);
                    let finished = run.clone();
                    tokio::spawn(async move {
                        let outcome = future.await;
                        *finished.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                        let _ = done_tx.send(true);
                    });
                    run
                }
            }
        };
        let mut done = run.done.clone();
        let _ = tokio::time::timeout(wait, done.wait_for(|d| *d)).await;
        if !*run.done.borrow() {
            return Answer::Reading(run.progress.snapshot(run.id));
        }
        // Finished: this page shows it, and the next visit reviews again.
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        if runs.get(&key).is_some_and(|r| Arc::ptr_eq(r, &run)) {
            runs.remove(&key);
        }
        drop(runs);
        let outcome = run.outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
        // Two pages asking at the same moment: the second one reviews again.
        match outcome {
            Some(outcome) => Answer::Done(outcome),
            None => Answer::Reading(run.progress.snapshot(run.id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ReviewKey {
        ReviewKey { cloud: "c".into(), user_id: "u".into(), project_id: "p".into(), region: "r".into(), owner: None }
    }

    fn review() -> AccessReview {
        AccessReview {
            owner: "p".into(),
            as_admin: false,
            images: Vec::new(),
            projects: HashMap::new(),
            pending_days: 14,
            quota: None,
            made_at: String::new(),
        }
    }

    fn review_made_at(made_at: &str) -> Outcome {
        Ok(AccessReview { made_at: made_at.into(), ..review() })
    }

    fn made_at(answer: Answer) -> String {
        match answer {
            Answer::Done(Ok(review)) => review.made_at,
            _ => panic!("not a finished review"),
        }
    }

    #[tokio::test]
    async fn a_slow_review_shows_progress_then_its_result_once() {
        let reviews = Reviews::default();
        let (go_tx, go) = watch::channel(false);
        let answer = reviews
            .answer(key(), None, Duration::from_millis(20), move |progress| async move {
                progress.listed(3);
                progress.read_one();
                let mut go = go;
                let _ = go.wait_for(|g| *g).await;
                review_made_at("first")
            })
            .await;
        let Answer::Reading(progress) = answer else { panic!("not finished yet") };
        assert_eq!((progress.images, progress.read), (Some(3), 1));
        // Asking again joins the same run: no second review starts.
        let again =
            reviews.answer(key(), None, Duration::from_millis(20), |_| async { panic!("a second review") }).await;
        assert!(matches!(again, Answer::Reading(ref p) if p.run == progress.run));
        go_tx.send(true).unwrap();
        // The page that watched it read is handed it.
        let done = reviews
            .answer(key(), Some(progress.run), Duration::from_secs(5), |_| async { panic!("a second review") })
            .await;
        assert_eq!(made_at(done), "first");
        // Shown once: the next visit, even one naming that run again, reviews afresh.
        let fresh = reviews
            .answer(key(), Some(progress.run), Duration::from_secs(5), |_| async { review_made_at("second") })
            .await;
        assert_eq!(made_at(fresh), "second");
    }

    #[tokio::test]
    async fn a_review_finished_while_nobody_watched_is_not_shown_to_a_later_visit() {
        let reviews = Reviews::default();
        let (go_tx, go) = watch::channel(false);
        let answer = reviews
            .answer(key(), None, Duration::from_millis(20), move |_| async move {
                let mut go = go;
                let _ = go.wait_for(|g| *g).await;
                review_made_at("before the clean-up")
            })
            .await;
        let Answer::Reading(progress) = answer else { panic!("not finished yet") };
        // The "Reading…" page is left; the review finishes with nobody asking.
        go_tx.send(true).unwrap();
        let mut finished = reviews.runs.lock().unwrap().get(&key()).unwrap().done.clone();
        tokio::time::timeout(Duration::from_secs(5), finished.wait_for(|d| *d)).await.unwrap().unwrap();
        // A visit after a clean-up (it names no run) is a new review, not the one read before.
        let visit = reviews.answer(key(), None, Duration::from_secs(5), |_| async { review_made_at("after") }).await;
        assert_eq!(made_at(visit), "after");
        // And the left page's run, named now, is gone with it: it reviews afresh too.
        let named = reviews
            .answer(key(), Some(progress.run), Duration::from_secs(5), |_| async { review_made_at("again") })
            .await;
        assert_eq!(made_at(named), "again");
    }
}
