//! glance-share: a web dashboard for sharing OpenStack Glance images between projects.
#![recursion_limit = "256"]

pub mod api;
// The library's unit tests are built without the UI and the server around it: its views were
// three quarters of that build (335 s of one core, 73 s without them), a second compile of the
// library beside the first. The UI's own tests are in tests/ui_parts.rs, against the library as
// it is built for the server.
#[cfg(not(test))]
pub mod app;
pub mod error;
pub mod model;
#[cfg(not(test))]
pub mod ui;

#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod batch;
#[cfg(feature = "ssr")]
pub mod concurrency;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod directory;
#[cfg(feature = "ssr")]
pub mod private_file;
#[cfg(feature = "ssr")]
pub mod return_path;
#[cfg(feature = "ssr")]
pub mod reviews;
#[cfg(feature = "ssr")]
pub mod secret_key;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(all(feature = "ssr", not(test)))]
pub mod server;
#[cfg(feature = "ssr")]
pub mod serving;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod sharing;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod telemetry;
/// The HCL writer: the browser only needs `model::Provider` for its links.
#[cfg(feature = "ssr")]
pub mod terraform;
#[cfg(feature = "ssr")]
pub mod throttle;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Islands mode: pages are server-rendered HTML; only the `#[island]` components come alive.
    leptos::mount::hydrate_islands();
}
