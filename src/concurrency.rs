//! Many upstream calls at once, but not too many: used by the server functions and by batches
//! alike, so it belongs to neither.

use std::future::Future;

use futures::{StreamExt, stream::FuturesUnordered};

/// Runs `f` over `items` with at most `limit` calls in flight, keeping the input order.
pub async fn bounded<I, T, F, Fut>(items: I, limit: usize, f: F) -> Vec<T>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future<Output = T>,
{
    futures::stream::iter(items).map(f).buffered(limit.max(1)).collect().await
}

/// Runs `step(group, item)` for every item of every group, with at most `limit` steps in
/// flight and never two of one group at once; a group's items run in their order.
///
/// A batch's groups are its images: Glance's member quota check is not safe against adds to
/// one image at once. Whenever a step ends, the next one is taken from the idle group with the
/// most items left, so the calls in flight stay at `limit` until fewer groups than that have
/// work (running image after image, 20 images at 8 in flight ran in waves of 8, 8 and 4).
///
/// A step answering `false` stops the run: no step is started after it.
pub async fn one_per_group<G, T, F, Fut>(groups: Vec<(G, Vec<T>)>, limit: usize, mut step: F)
where
    F: FnMut(&G, T) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut left: Vec<(G, std::collections::VecDeque<T>)> =
        groups.into_iter().map(|(g, items)| (g, items.into())).collect();
    let mut busy = vec![false; left.len()];
    let mut running = FuturesUnordered::new();
    let mut stopping = false;
    loop {
        while !stopping && running.len() < limit.max(1) {
            // The idle group with the most items left; the first such group on a tie.
            let next = (0..left.len())
                .filter(|&g| !busy[g] && !left[g].1.is_empty())
                .max_by_key(|&g| (left[g].1.len(), std::cmp::Reverse(g)));
            let Some(g) = next else { break };
            let Some(item) = left[g].1.pop_front() else { break };
            busy[g] = true;
            let fut = step(&left[g].0, item);
            running.push(async move { (g, fut.await) });
        }
        match running.next().await {
            Some((g, go_on)) => {
                busy[g] = false;
                stopping |= !go_on;
            }
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        cell::{Cell, RefCell},
        sync::atomic::{AtomicUsize, Ordering},
    };

    use futures::channel::oneshot;

    use super::*;

    /// 20 groups of 20 at 8 in flight, in rounds: the test lets every step in flight end at
    /// once, then counts the steps the scheduler started. Kept busy to the end it is 50 rounds
    /// of 8 (group after group was 60: waves of 8, 8 and 4 groups). Never two steps of a group
    /// at once, and each group's items in order.
    #[tokio::test]
    async fn keeps_the_limit_busy_and_one_step_per_group() {
        let groups: Vec<(usize, Vec<usize>)> = (0..20).map(|g| (g, (0..20).collect())).collect();
        let waiting: RefCell<Vec<(usize, oneshot::Sender<()>)>> = RefCell::default();
        let order: RefCell<Vec<Vec<usize>>> = RefCell::new(vec![Vec::new(); 20]);
        let done = Cell::new(false);
        let run = async {
            one_per_group(groups, 8, |g, i| {
                let (g, waiting, order) = (*g, &waiting, &order);
                async move {
                    order.borrow_mut()[g].push(i);
                    let (tx, rx) = oneshot::channel();
                    waiting.borrow_mut().push((g, tx));
                    rx.await.is_ok()
                }
            })
            .await;
            done.set(true);
        };
        let rounds = async {
            let mut rounds = Vec::new();
            while !done.get() {
                for _ in 0..20 {
                    tokio::task::yield_now().await;
                }
                let now = std::mem::take(&mut *waiting.borrow_mut());
                if now.is_empty() {
                    continue;
                }
                let mut groups: Vec<usize> = now.iter().map(|(g, _)| *g).collect();
                groups.sort();
                groups.dedup();
                assert_eq!(groups.len(), now.len(), "two steps of one group at once: {groups:?}");
                rounds.push(now.len());
                for (_, tx) in now {
                    let _ = tx.send(());
                }
            }
            rounds
        };
        let ((), rounds) = futures::join!(run, rounds);
        assert_eq!(rounds, vec![8; 50]);
        assert!(order.borrow().iter().all(|o| *o == (0..20).collect::<Vec<_>>()));
    }

    #[tokio::test]
    async fn a_step_answering_false_stops_the_run() {
        let ran = AtomicUsize::new(0);
        let groups: Vec<(u8, Vec<usize>)> = vec![(0, (0..10).collect()), (1, (0..10).collect())];
        one_per_group(groups, 1, |_, _| {
            let n = ran.fetch_add(1, Ordering::SeqCst) + 1;
            async move { n < 3 }
        })
        .await;
        assert_eq!(ran.load(Ordering::SeqCst), 3);
    }
}
