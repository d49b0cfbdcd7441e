//! The access review.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{caller, reply};
use crate::{error::AppError, model::AccessReview};

/// Every shared image of the current project (or, for an admin, of project `owner`) with every
/// member, for `/access`.
#[server(endpoint = "access_review")]
pub async fn get_access_review(owner: Option<String>) -> Result<AccessReview, AppError> {
    reply(async { crate::sharing::review::review(&caller().await?, owner.as_deref()).await }.await).await
}
