//! Typed clients for the OpenStack APIs glance-share uses. They know URLs and JSON; they know
//! nothing of sessions or pages.

pub mod error;
pub mod glance;
mod http;
pub mod keystone;
mod token;

pub use error::{Service, UpstreamError};
pub use http::Upstream;
pub use token::Token;
