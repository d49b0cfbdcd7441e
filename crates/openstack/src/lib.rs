//! Typed clients for the two OpenStack APIs image sharing needs: Keystone v3 (sign in with a
//! password, an application credential or a token; re-scope, validate and revoke tokens; list
//! a user's projects) and Glance v2 (images, visibility and the image member API).
//!
//! It knows URLs and JSON, and nothing of web pages, sessions or users' wording: errors are
//! [`UpstreamError`]s that say which service answered what, and callers word them.
//!
//! The records and IDs ([`ids`], [`records`]) build everywhere, WebAssembly included; the
//! clients need the `client` feature (on by default), which brings `reqwest` and `tokio`; the
//! URL builder ([`urls`]) and [`UpstreamError`] alone need only the `urls` feature.
//!
//! See the README for what it guarantees and how its tests run.
//!
//! ```no_run
//! # async fn run() -> Result<(), openstack_images::UpstreamError> {
//! use openstack_images::{Upstream, glance::Glance, ids::ImageId, keystone::{Credentials, Keystone, Scope}};
//!
//! let http = Upstream::new(reqwest::Client::new(), 8);
//! let auth_url = url::Url::parse("https://keystone.example:5000/v3").unwrap();
//! let keystone = Keystone::new(&http, &auth_url);
//! let auth = keystone
//!     .authenticate(&Credentials::ApplicationCredential { id: "…".into(), secret: "…".to_string().into() }, None)
//!     .await?;
//! let endpoint = &auth.image_endpoints("public")[0];
//! let glance = Glance::new(&http, &endpoint.url, &auth.token)?;
//! let image = ImageId::parse("3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b").unwrap();
//! for member in glance.members(&image).await? {
//!     println!("{} {}", member.member_id, member.status.key());
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod ids;
pub mod records;

#[cfg(feature = "urls")]
pub mod error;
#[cfg(feature = "client")]
pub mod glance;
#[cfg(feature = "client")]
mod http;
#[cfg(feature = "client")]
pub mod keystone;
#[cfg(feature = "client")]
mod token;
#[cfg(feature = "urls")]
pub mod urls;

#[cfg(feature = "urls")]
pub use error::{Service, UpstreamError};
#[cfg(feature = "client")]
pub use http::{Upstream, client_builder, serve_from_thread};
#[cfg(feature = "client")]
pub use token::Token;

/// The README's example, compiled with the doctests so that it keeps up with the API.
#[cfg(all(doctest, feature = "client"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
