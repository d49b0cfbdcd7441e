//! Image lists and the image page.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{caller, reply};
#[cfg(feature = "ssr")]
use crate::sharing::images as listing;
use crate::{
    error::AppError,
    model::{ImageDetails, ImageList},
};

/// One page of images. `tab` is an `ImageTab` key; `status` filters "Shared with me"
/// (pending, accepted, rejected or all); `q` finds names containing it; `sort` is `name`
/// (the default) or `newest`.
#[server(endpoint = "images")]
pub async fn list_images(
    tab: String,
    status: Option<String>,
    q: Option<String>,
    marker: Option<String>,
    sort: Option<String>,
) -> Result<ImageList, AppError> {
    let request = listing::ListRequest { tab, status, q, marker, sort };
    reply(async { listing::list(&caller().await?, request).await }.await).await
}

/// The image page: the image, its members (with project names where Keystone tells them),
/// what the current project may do with it, and a page of its History (the newest, or the one
/// older than entry `history_before`).
#[server(endpoint = "image")]
pub async fn get_image(image_id: String, history_before: Option<String>) -> Result<ImageDetails, AppError> {
    reply(async { listing::details(&caller().await?, image_id, history_before).await }.await).await
}

/// Changes an owned image's visibility (`shared` before sharing, `private` to hide it again).
#[server(endpoint = "set_visibility")]
pub async fn set_visibility(image_id: String, visibility: String) -> Result<(), AppError> {
    reply(async { listing::set_visibility(&caller().await?, image_id, visibility).await }.await).await
}
