//! Components, grouped by what the user is doing.

pub mod apart;
pub mod auth;
pub mod batch;
pub mod bits;
pub mod copy;
pub mod home;
pub mod images;
pub mod inbox;
pub mod layout;
pub mod project;
pub mod review;
pub mod signin;
