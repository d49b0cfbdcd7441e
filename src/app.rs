use leptos::prelude::*;
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{ParentRoute, Route, Router, Routes},
};

use crate::ui::{
    batch::{plan::BatchPage, result::BatchResultPage},
    home::HomePage,
    images::{detail::ImagePage, list::ImagesPage, new_version::NewVersionPage},
    inbox::InboxPage,
    layout::Layout,
    review::AccessPage,
    signin::SignInPage,
};

/// Links and forms fetch the next page and swap it in, keeping the document (and the bundle).
const NAVIGATION_SCRIPT: &str = include_str!("ui/navigation.js");
/// Project suggestions while typing a name, where the operator's directory names projects.
const SUGGEST_SCRIPT: &str = include_str!("ui/suggest.js");

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_csp_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Written here, not through leptos_meta's `<Title>`/`<Stylesheet>`: with those,
                // every page was searched for `</head>` and its marker (past the inline scripts)
                // and copied once more to put them in. Every page has the same title and style.
                <title>"glance-share"</title>
                <link rel="stylesheet" id="leptos" href="/pkg/glance-share.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Islands: the loader fetches the bundle when the browser is idle; only the
                // `#[island]` components run it. Navigation keeps the document (see navigation.js).
                <HydrationScripts options islands=true/>
                <script type="module" nonce=leptos::nonce::use_nonce()>{NAVIGATION_SCRIPT}</script>
                <script type="module" nonce=leptos::nonce::use_nonce()>{SUGGEST_SCRIPT}</script>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Every route renders in `Async` mode: the whole page is ready before the first byte, so it
/// works without JavaScript and can still redirect (to sign-in) or set headers.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <ParentRoute path=StaticSegment("") view=Layout ssr=SsrMode::Async>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signin") view=SignInPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("images") view=ImagesPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("inbox") view=InboxPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("access") view=AccessPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("batch") view=BatchPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("batch"), ParamSegment("batch_id")) view=BatchResultPage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("images"), ParamSegment("image_id")) view=ImagePage ssr=SsrMode::Async/>
                    <Route path=(StaticSegment("images"), ParamSegment("image_id"), StaticSegment("new-version")) view=NewVersionPage ssr=SsrMode::Async/>
                    // A deep link to one member, also the Terraform import id `image_id/member_id`.
                    <Route
                        path=(StaticSegment("images"), ParamSegment("image_id"), StaticSegment("members"), ParamSegment("member_id"))
                        view=ImagePage
                        ssr=SsrMode::Async
                    />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main>
            <section class="page">
                <h1>"Page not found"</h1>
                <p><a href="/">"Go to the start page"</a></p>
            </section>
        </main>
    }
}

/// Hands the nonce of this response's CSP header to Leptos, which puts it on the inline
/// hydration script: no `unsafe-inline` is needed.
#[cfg(feature = "ssr")]
fn provide_csp_nonce() {
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::security::CspNonce>().cloned());
    if let Some(nonce) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce.0));
    }
}
