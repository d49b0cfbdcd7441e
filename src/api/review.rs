//! The access review.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{caller, reply};
use crate::{error::AppError, model::ReviewPage};

/// Every shared image of the current project (or, for an admin, of project `owner`) with every
/// member, for `/access`; or, while that is still being read, how far it got.
#[server(endpoint = "access_review")]
pub async fn get_access_review(owner: Option<String>) -> Result<ReviewPage, AppError> {
    reply(async { crate::sharing::review::page(&caller().await?, owner.as_deref()).await }.await).await
}
