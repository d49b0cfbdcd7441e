//! "New version…": an owned image's members offered its successor in one reviewed step.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{caller, reply, reply_and_go};
#[cfg(feature = "ssr")]
use crate::sharing::rollover;
use crate::{
    error::AppError,
    model::{RolloverForm, RolloverPage, RolloverPlan},
};

/// The old image, the suggested successors, and whether this cloud can hide images.
#[server(endpoint = "rollover_page")]
pub async fn new_version_page(image_id: String) -> Result<RolloverPage, AppError> {
    reply(async { rollover::page(&caller().await?, &image_id).await }.await).await
}

/// What the rollover the form describes would do, changing nothing.
#[server(endpoint = "rollover_plan")]
pub async fn new_version_plan(form: RolloverForm) -> Result<RolloverPlan, AppError> {
    reply(async { rollover::plan(&caller().await?, &form).await }.await).await
}

/// Starts the rollover on the batch engine and sends the browser to its result page.
#[server(endpoint = "rollover_start")]
pub async fn start_new_version(form: RolloverForm) -> Result<String, AppError> {
    match async { rollover::start(&caller().await?, &form).await }.await {
        Ok(id) => reply_and_go(Ok(id.clone()), &format!("/batch/{id}")).await,
        Err(e) => reply(Err(e)).await,
    }
}
