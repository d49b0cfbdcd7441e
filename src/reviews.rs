//! Access reviews in progress. A project with hundreds of shared images takes a while to
//! review (one member listing per image), so the review runs in the background and its page
//! shows how far it got, asking again by itself (navigation.js with JavaScript, a `<meta
//! refresh>` without) until the review is done. The finished review is handed to the first
//! page that asks after it finished, and dropped then: the next visit reviews afresh, so a
//! clean-up is never hidden by an old answer.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
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

    fn snapshot(&self) -> ReviewProgress {
        let images = self.listed.load(Ordering::Acquire).then(|| self.images.load(Ordering::Relaxed));
        ReviewProgress { images, read: self.read.load(Ordering::Relaxed) }
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
}

impl Reviews {
    /// The review for `key`: the one running (or finished, not yet shown) if there is one, else
    /// a new one made by `review`. Waits up to `wait` for it to finish.
    pub async fn answer<F, Fut>(&self, key: ReviewKey, wait: Duration, review: F) -> Answer
    where
        F: FnOnce(Arc<Progress>) -> Fut,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let run = {
            let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
            runs.retain(|_, r| r.started.elapsed() < UNCLAIMED || !*r.done.borrow());
            match runs.get(&key) {
                Some(run) => run.clone(),
                None => {
                    let progress = Arc::new(Progress::default());
                    let (done_tx, done) = watch::channel(false);
                    let run = Arc::new(Run {
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
            return Answer::Reading(run.progress.snapshot());
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
            None => Answer::Reading(run.progress.snapshot()),
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

    #[tokio::test]
    async fn a_slow_review_shows_progress_then_its_result_once() {
        let reviews = Reviews::default();
        let (go_tx, go) = watch::channel(false);
        let answer = reviews
            .answer(key(), Duration::from_millis(20), move |progress| async move {
                progress.listed(3);
                progress.read_one();
                let mut go = go;
                let _ = go.wait_for(|g| *g).await;
                Ok(review())
            })
            .await;
        let Answer::Reading(progress) = answer else { panic!("not finished yet") };
        assert_eq!(progress, ReviewProgress { images: Some(3), read: 1 });
        // Asking again joins the same run: no second review starts.
        let again = reviews.answer(key(), Duration::from_millis(20), |_| async { panic!("a second review") }).await;
        assert!(matches!(again, Answer::Reading(_)));
        go_tx.send(true).unwrap();
        let done = reviews.answer(key(), Duration::from_secs(5), |_| async { panic!("a second review") }).await;
        assert!(matches!(done, Answer::Done(Ok(_))));
        // Shown once: the next visit reviews afresh.
        let fresh = reviews.answer(key(), Duration::from_secs(5), |_| async { Ok(review()) }).await;
        assert!(matches!(fresh, Answer::Done(Ok(_))));
    }
}
