//! Serves the router on several threads, each with a single-threaded runtime of its own.
//!
//! Why not tokio's multi-threaded runtime: a page view spawns tasks (Leptos' resources,
//! hyper's connections), and with a worker idle the runtime wakes it to steal them; with
//! users arriving one at a time (a dashboard's usual load) a good part of the server's CPU per
//! page went to waking threads and switching between them (benchmark 2 of `bench/run` shows
//! the page's CPU; perf showed the kernel's task switching near the top). Here a connection,
//! everything its requests spawn and their upstream calls (`openstack::serve_from_thread`)
//! stay on the thread that accepted it; the threads share one listening socket, and whichever
//! is free first accepts the next connection.

use std::{future::Future, io, net::SocketAddr};

use axum::Router;
use tokio::sync::{mpsc, watch};

/// Serves `app` on `threads` threads until `Serving::until`'s shutdown, then lets each finish
/// the requests it has (graceful shutdown). The threads' runtimes keep running what requests
/// spawned (batches) until `Serving::stop`. Returns once every thread is accepting, so that
/// "listening" is logged about threads that all exist (and a thread that could not start is
/// an error here, not a line in the log after it).
pub async fn start(listener: tokio::net::TcpListener, app: Router, threads: usize) -> io::Result<Serving> {
    let listener = listener.into_std()?;
    let (stop_serving, serving) = watch::channel(false);
    let (exit, exiting) = watch::channel(false);
    let (finished, finishing) = mpsc::unbounded_channel();
    let (up, mut started) = mpsc::unbounded_channel::<io::Result<()>>();
    let threads = threads.max(1);
    for index in 0..threads {
        let listener = listener.try_clone()?;
        let app = app.clone();
        let (mut serving, mut exiting) = (serving.clone(), exiting.clone());
        // Says "this thread stopped serving" when dropped: after serving, or on any way out.
        let finished = Finished(finished.clone());
        let up = up.clone();
        std::thread::Builder::new().name(format!("serve-{index}")).spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread().enable_all().build().and_then(|runtime| {
                openstack::serve_from_thread(index);
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener);
                    let _ = up.send(listener.as_ref().map(drop).map_err(|e| io::Error::new(e.kind(), e.to_string())));
                    // Said once: a thread that never says it (its runtime failed) must not keep the
                    // channel open, or `start` would wait for it while the others serve.
                    drop(up);
                    let listener = listener?;
                    // The peer address is the client's for the sign-in limits (unless a proxy
                    // header says otherwise).
                    let app = app.into_make_service_with_connect_info::<SocketAddr>();
                    let stopped = async move { drop(serving.wait_for(|stop| *stop).await) };
                    let served = axum::serve(listener, app).with_graceful_shutdown(stopped).await;
                    drop(finished);
                    // What requests spawned (batches) runs on until the process exits.
                    drop(exiting.wait_for(|exit| *exit).await);
                    served
                })
            });
            if let Err(e) = result {
                tracing::error!(thread = index, "a serving thread stopped: {e}");
            }
        })?;
    }
    // Only the threads hold a sender now, each until it has said whether it is up: once every
    // thread has said so or ended, the channel closes.
    drop(up);
    for _ in 0..threads {
        started.recv().await.unwrap_or_else(|| Err(io::Error::other("a serving thread did not start")))?;
    }
    Ok(Serving { stop_serving, exit, finishing, threads })
}

struct Finished(mpsc::UnboundedSender<()>);

impl Drop for Finished {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// The serving threads, from the outside.
pub struct Serving {
    stop_serving: watch::Sender<bool>,
    exit: watch::Sender<bool>,
    finishing: mpsc::UnboundedReceiver<()>,
    threads: usize,
}

impl Serving {
    /// Waits for `shutdown`, or for a serving thread to stop on its own (an error), then stops
    /// accepting and waits until every thread has answered what it was answering.
    pub async fn until(mut self, shutdown: impl Future<Output = ()>) -> Self {
        let mut left = self.threads;
        tokio::select! {
            _ = shutdown => {}
            _ = self.finishing.recv() => left -= 1,
        }
        let _ = self.stop_serving.send(true);
        while left > 0 && self.finishing.recv().await.is_some() {
            left -= 1;
        }
        self
    }

    /// Ends the threads' runtimes, and with them anything still running there.
    pub fn stop(self) {
        let _ = self.exit.send(true);
    }
}
