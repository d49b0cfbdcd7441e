//! Terraform / OpenTofu for an image's members (owner) or for the current project's answer
//! (consumer), with `import` blocks so existing members come under management unchanged.

use leptos::prelude::*;

use crate::{error::AppError, model::TerraformFile};

/// The HCL for `image_id` with resources of `provider` (a `model::Provider` key).
#[server(endpoint = "terraform")]
pub async fn terraform_export(image_id: String, provider: String) -> Result<TerraformFile, AppError> {
    use super::server::{caller, reply};
    reply(async { crate::sharing::export::image_terraform(&caller().await?, &image_id, &provider).await }.await).await
}
