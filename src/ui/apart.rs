//! HTML sent apart from the page's render: the member table's rows.
//!
//! An image page of 128 members is about 170 kB, 150 kB of it rows that `maud` writes into one
//! string (`member_rows`). Put into the page with `inner_html`, that string was copied about
//! seven times on its way out: into Leptos' render buffer, its chunks, the collected page, the
//! response body. Instead the page holds a marker where the rows go, and `splice` (a middleware
//! around every request) cuts the response body at the marker and sends the rows' own string
//! between the two halves: the same bytes, with no copy before the socket.

/// What to write where `html` goes: a marker that `splice` replaces with `html`, or `html`
/// itself when nothing will (no request to splice, or in the browser).
pub fn sent_apart(html: String) -> String {
    #[cfg(feature = "ssr")]
    if let Some(held) = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<server::Held>().cloned())
    {
        return held.hold(html);
    }
    html
}

#[cfg(feature = "ssr")]
pub use server::splice;

/// Public for its tests (tests/ui_parts.rs): the library's unit tests are built without the UI.
#[cfg(feature = "ssr")]
pub mod server {
    use std::sync::{Arc, Mutex, OnceLock};

    use axum::{
        body::{Body, Bytes},
        extract::Request,
        middleware::Next,
        response::{IntoResponse, Response},
    };

    /// The HTML one request's page sent apart, in the order its markers were written.
    #[derive(Clone, Default)]
    pub struct Held(Arc<Mutex<Vec<String>>>);

    impl Held {
        /// Keeps `html` and gives the marker to write in its place.
        pub fn hold(&self, html: String) -> String {
            let Ok(mut held) = self.0.lock() else { return html };
            held.push(html);
            marker(held.len() - 1)
        }

        fn take(&self) -> Vec<String> {
            self.0.lock().map(|mut held| std::mem::take(&mut *held)).unwrap_or_default()
        }
    }

    /// `<!--apart:KEY:i-->`. The key is made at random when the process starts and never sent
    /// (every marker is cut out), so no text a page shows can pass for one; what users and
    /// Glance write is escaped anyway, and `<!--` cannot come out of an escaped value.
    pub fn marker(index: usize) -> String {
        static KEY: OnceLock<String> = OnceLock::new();
        let key = KEY.get_or_init(|| uuid::Uuid::new_v4().simple().to_string());
        format!("<!--apart:{key}:{index}-->")
    }

    /// Around every request: gives the page somewhere to hold HTML sent apart, then puts each
    /// held string where its marker is in the body.
    pub async fn splice(mut req: Request, next: Next) -> Response {
        let held = Held::default();
        req.extensions_mut().insert(held.clone());
        let res = next.run(req).await;
        let parts = held.take();
        if parts.is_empty() {
            return res;
        }
        let (mut head, body) = res.into_parts();
        // The page without its rows: tens of kB, in one or a few chunks.
        let page = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(page) => page,
            Err(e) => {
                tracing::error!("the page could not be read back to put its rows in: {e}");
                return (http::StatusCode::INTERNAL_SERVER_ERROR, "The page could not be written; try again.")
                    .into_response();
            }
        };
        head.headers.remove(http::header::CONTENT_LENGTH);
        let chunks = spliced(page, parts).into_iter().map(Ok::<_, std::convert::Infallible>);
        Response::from_parts(head, Body::from_stream(futures::stream::iter(chunks)))
    }

    /// `page` cut at each marker, with the string held for it in between. A marker the page did
    /// not write (it took another turn: an error, a redirect) leaves its string out.
    pub fn spliced(page: Bytes, held: Vec<String>) -> Vec<Bytes> {
        let mut chunks = Vec::with_capacity(2 * held.len() + 1);
        let mut rest = page;
        for (index, html) in held.into_iter().enumerate() {
            let marker = marker(index);
            if let Some(at) = memchr::memmem::find(&rest, marker.as_bytes()) {
                chunks.push(rest.split_to(at));
                let _ = rest.split_to(marker.len());
                chunks.push(Bytes::from(html));
            }
        }
        chunks.push(rest);
        chunks
    }
}
