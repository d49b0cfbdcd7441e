//! Image lists and the image page with its members.

pub mod detail;
pub mod history;
pub mod list;
pub mod member_rows;
pub mod members;
pub mod new_version;
pub mod offer;
pub mod share;
pub mod terraform;
