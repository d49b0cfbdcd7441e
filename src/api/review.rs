//! The access review.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{caller, reply};
use crate::{error::AppError, model::ReviewPage};

/// Every shared image of the current project (or, for an admin, of project `owner`) with every
/// member, for `/access`; or, while that is still being read, how far it got. `run`: the run
/// the "Reading…" page watches (its `?run=`); anything that is not one of its numbers is no run.
#[server(endpoint = "access_review")]
pub async fn get_access_review(owner: Option<String>, run: Option<String>) -> Result<ReviewPage, AppError> {
    let run = run.and_then(|r| r.parse().ok());
    reply(async { crate::sharing::review::page(&caller().await?, owner.as_deref(), run).await }.await).await
}
