//! What every upstream call does the same way: send, turn failures into `UpstreamError`,
//! read JSON without ever panicking on what came back.

use std::{ops::Deref, sync::Arc};

use tokio::sync::Semaphore;

use crate::{Service, UpstreamError};

/// The pooled HTTP clients for Keystone and Glance, with a bound on calls in flight: past
/// it, calls wait for a free slot instead of opening ever more connections to a cloud that is
/// already slow to answer.
///
/// A server that runs one single-threaded runtime per serving thread gives each thread a
/// client of its own ([`Upstream::per_thread`], [`serve_from_thread`]): a pooled connection
/// is driven by a task of the runtime that opened it, so a call made on another thread would
/// wake that thread for every answer. Any other thread uses the first client.
#[derive(Clone)]
pub struct Upstream {
    clients: Arc<[reqwest::Client]>,
    slots: Arc<Semaphore>,
}

thread_local! {
    /// Which of an `Upstream`'s clients this thread's calls use (see `serve_from_thread`).
    static CLIENT_INDEX: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Marks the current thread as serving thread `index`: its calls use client `index` (modulo
/// the number of clients) of every `Upstream`.
pub fn serve_from_thread(index: usize) {
    CLIENT_INDEX.with(|i| i.set(index));
}

/// A client builder for Keystone and Glance: answers are taken as they come, redirects are
/// never followed. reqwest follows up to ten by default and, to another host, drops only the
/// standard credentials (`Authorization`, cookies): `X-Auth-Token` and a password re-sent by a
/// 307 would go wherever the `Location` pointed. No OpenStack API call answers with a redirect,
/// so one is an error (`UpstreamError::Status`), shown to the user like any refusal.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none())
}

impl Upstream {
    /// `client` with at most `max_in_flight` calls in flight at once (at least one). Its
    /// timeouts are the caller's: every call through it may end in `UpstreamError::Timeout`.
    pub fn new(client: reqwest::Client, max_in_flight: usize) -> Upstream {
        Upstream::per_thread(vec![client], max_in_flight)
    }

    /// One client per serving thread (at least one; an empty list gets a default client),
    /// with one bound on the calls in flight over all of them.
    pub fn per_thread(mut clients: Vec<reqwest::Client>, max_in_flight: usize) -> Upstream {
        if clients.is_empty() {
            // `build` fails only where TLS cannot start at all; reqwest's default client then
            // panics, as `reqwest::Client::new` here always did in that case.
            clients.push(client_builder().build().unwrap_or_default());
        }
        Upstream { clients: clients.into(), slots: Arc::new(Semaphore::new(max_in_flight.max(1))) }
    }

    /// Slots no call holds right now (for the test that every slot is given back).
    #[cfg(test)]
    fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }
}

/// Requests are built on the current thread's client; `send` is where the bound applies.
impl Deref for Upstream {
    type Target = reqwest::Client;
    fn deref(&self) -> &reqwest::Client {
        &self.clients[CLIENT_INDEX.with(std::cell::Cell::get) % self.clients.len()]
    }
}

/// Sends a request; a transport failure becomes an `UpstreamError` of `service`. An
/// idempotent call (GET, PUT) whose connection failed or was closed before the answer came,
/// or that got a 5xx, is tried once more: doing it twice changes nothing, and a closed pooled
/// connection or a briefly locked database is the usual cause.
pub async fn send(
    upstream: &Upstream,
    service: Service,
    req: reqwest::RequestBuilder,
) -> Result<reqwest::Response, UpstreamError> {
    send_with(upstream, service, req, Repeat::IfIdempotent).await
}

/// `send` for a POST that is safe to make twice, such as issuing a token: a second token
/// nobody holds does no harm, while a sign-in lost to a dropped connection does.
pub async fn send_repeatable(
    upstream: &Upstream,
    service: Service,
    req: reqwest::RequestBuilder,
) -> Result<reqwest::Response, UpstreamError> {
    send_with(upstream, service, req, Repeat::Always).await
}

enum Repeat {
    IfIdempotent,
    Always,
}

async fn send_with(
    upstream: &Upstream,
    service: Service,
    req: reqwest::RequestBuilder,
    repeat: Repeat,
) -> Result<reqwest::Response, UpstreamError> {
    // The semaphore is never closed; should it be, the call goes ahead unbounded.
    let _slot = upstream.slots.acquire().await.ok();
    let (client, request) = req.header(reqwest::header::ACCEPT, "application/json").build_split();
    let request = request.map_err(|e| UpstreamError::from_reqwest(service, e, false))?;
    // A call that may always be repeated (a token asked for) changes nothing the user sees.
    let change_asked = matches!(repeat, Repeat::IfIdempotent) && asks_for_change(request.method());
    let failed = |e| UpstreamError::from_reqwest(service, e, change_asked);
    let repeatable = match repeat {
        Repeat::Always => true,
        Repeat::IfIdempotent => matches!(*request.method(), reqwest::Method::GET | reqwest::Method::PUT),
    };
    let again = if repeatable { request.try_clone() } else { None };
    let first = client.execute(request).await;
    let worth_again = match &first {
        // A timeout is not worth repeating: the user would wait twice as long for the same answer.
        Err(e) => !e.is_timeout() && (e.is_connect() || e.is_request()),
        Ok(res) => res.status().is_server_error(),
    };
    let mut answer = match again {
        Some(again) if worth_again => {
            tracing::debug!("{service}: trying the call once more");
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            client.execute(again).await.map_err(failed)
        }
        _ => first.map_err(failed),
    }?;
    // Its body may still time out: `read_json` then needs to know what was asked.
    answer.extensions_mut().insert(ChangeAsked(change_asked));
    Ok(answer)
}

/// Whether a call could change something upstream: anything but a read.
fn asks_for_change(method: &reqwest::Method) -> bool {
    !matches!(*method, reqwest::Method::GET | reqwest::Method::HEAD)
}

/// Carried by a response from `send` to `read_json`: was the call a change (see `Timeout`)?
#[derive(Clone, Copy)]
struct ChangeAsked(bool);

/// Passes a success through and turns anything else into an error carrying the service's message.
pub async fn check(service: Service, res: reqwest::Response) -> Result<reqwest::Response, UpstreamError> {
    if res.status().is_success() {
        return Ok(res);
    }
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    Err(UpstreamError::from_body(service, status, &body))
}

pub async fn read_json<T: serde::de::DeserializeOwned>(
    service: Service,
    res: reqwest::Response,
) -> Result<T, UpstreamError> {
    let change_asked = res.extensions().get::<ChangeAsked>().is_none_or(|c| c.0);
    let bytes = res.bytes().await.map_err(|e| UpstreamError::from_reqwest(service, e, change_asked))?;
    let bad = |detail: String| UpstreamError::BadResponse { service, detail };
    // The body checked as UTF-8 at once, then read as text: read from bytes, serde_json checks
    // each string on its own, which cost a fifth of an image page of 128 members.
    let text = std::str::from_utf8(&bytes).map_err(|e| bad(format!("the answer is not UTF-8: {e}")))?;
    serde_json::from_str(text).map_err(|e| bad(e.to_string()))
}

/// `send`, `check` and `read_json` in one.
pub async fn fetch_json<T: serde::de::DeserializeOwned>(
    upstream: &Upstream,
    service: Service,
    req: reqwest::RequestBuilder,
) -> Result<T, UpstreamError> {
    read_json(service, check(service, send(upstream, service, req).await?).await?).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A server that holds every request for a moment and records how many it held at once.
    async fn holding_server() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let seen = most.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let (now, most) = (now.clone(), most.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = [0u8; 1024];
                    let _ = socket.read(&mut buf).await;
                    let held = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(held, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    let body = "{}";
                    let head =
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
                    let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
                });
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn calls_past_the_bound_wait_for_a_slot() {
        for bound in [1, 3] {
            let (url, most) = holding_server().await;
            let upstream = Upstream::new(reqwest::Client::new(), bound);
            let calls = (0..6).map(|_| {
                let (upstream, url) = (upstream.clone(), url.clone());
                async move { fetch_json::<serde_json::Value>(&upstream, Service::Glance, upstream.get(url)).await }
            });
            for result in futures::future::join_all(calls).await {
                result.unwrap();
            }
            let most = most.load(Ordering::SeqCst);
            assert!(most <= bound, "{most} calls reached the server at once; the bound is {bound}");
            assert!(bound == 1 || most > 1, "calls under the bound run side by side");
            assert_eq!(upstream.free_slots(), bound, "every slot is given back");
        }
    }
}
