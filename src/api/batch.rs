//! Batch share / revoke / status over many images × many projects, with a preflight plan and a
//! result for every pair.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{caller, reply, reply_and_go};
#[cfg(feature = "ssr")]
use crate::sharing::batch::{self as batches, BatchForm};
use crate::{
    error::AppError,
    model::{BatchListing, BatchPlan, BatchView},
};

/// What a batch would do, changing nothing. `images` is a comma-separated list of image IDs,
/// `members` the pasted project IDs, `operation` share, revoke or status (with `status`); or
/// `pairs` (`IMAGE_ID:MEMBER` lines) or `select` (a choice of the access review of project
/// `owner`) in place of images × members.
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "batch_plan")]
pub async fn plan_batch(
    images: String,
    members: String,
    operation: String,
    status: Option<String>,
    make_shared: Option<String>,
    pairs: Option<String>,
    select: Option<String>,
    owner: Option<String>,
) -> Result<BatchPlan, AppError> {
    let form = BatchForm { images, members, operation, status, make_shared, pairs, select, owner };
    reply(async { batches::plan(&caller().await?, &form.request()).await }.await).await
}

/// Starts a batch and sends the browser to its result page at once, which shows the progress
/// (without JavaScript it refreshes itself until the batch is done).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "batch_start")]
pub async fn start_batch(
    images: String,
    members: String,
    operation: String,
    status: Option<String>,
    make_shared: Option<String>,
    pairs: Option<String>,
    select: Option<String>,
    owner: Option<String>,
) -> Result<String, AppError> {
    let form = BatchForm { images, members, operation, status, make_shared, pairs, select, owner };
    match async { batches::start(&caller().await?, &form.request()).await }.await {
        Ok(id) => reply_and_go(Ok(id.clone()), &format!("/batch/{id}")).await,
        Err(e) => reply(Err(e)).await,
    }
}

/// A batch as it stands (polled while it runs).
#[server(endpoint = "batch_status")]
pub async fn batch_status(batch_id: String) -> Result<BatchView, AppError> {
    reply(async { batches::view(&caller().await?, &batch_id).await }.await).await
}

/// Runs the pairs of a batch that failed in a way that may pass by itself, as a new batch.
#[server(endpoint = "batch_retry")]
pub async fn retry_batch(batch_id: String) -> Result<String, AppError> {
    match async { batches::retry(&caller().await?, &batch_id).await }.await {
        Ok(id) => reply_and_go(Ok(id.clone()), &format!("/batch/{id}")).await,
        Err(e) => reply(Err(e)).await,
    }
}

/// The batches this user started that are still kept (while the session that started them can
/// live, never past its token's expiry), newest first,
/// so that a batch whose page was closed mid-run can be opened again.
#[server(endpoint = "batch_recent")]
pub async fn recent_batches() -> Result<Vec<BatchListing>, AppError> {
    reply(async { batches::recent(&caller().await?).await }.await).await
}

/// Terraform / OpenTofu for the memberships a finished batch left in place (added or already a
/// member, or a status set), as Glance has them now, with `provider`'s resource types.
#[server(endpoint = "batch_terraform")]
pub async fn batch_terraform(batch_id: String, provider: String) -> Result<crate::model::TerraformFile, AppError> {
    reply(async { batches::terraform(&caller().await?, &batch_id, &provider).await }.await).await
}
