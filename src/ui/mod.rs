//! Components, grouped by what the user is doing.

pub mod auth;
pub mod copy;
pub mod home;
pub mod layout;
pub mod signin;
