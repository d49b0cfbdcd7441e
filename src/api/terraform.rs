//! Terraform / OpenTofu for an image's members (owner) or for the current project's answer
//! (consumer), with `import` blocks so existing members come under management unchanged.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerraformFile {
    pub file_name: String,
    pub text: String,
}

/// The HCL for `image_id` with resources of `provider` (a `terraform::Provider` key).
#[server(endpoint = "terraform")]
pub async fn terraform_export(image_id: String, provider: String) -> Result<TerraformFile, AppError> {
    let result = async {
        let state = super::server::state()?;
        let (_, me) = super::server::signed_in().await?;
        export(&state, &me, &image_id, &provider).await
    }
    .await;
    super::server::reply(result).await
}

/// Shared by the server function and the plain download route.
#[cfg(feature = "ssr")]
pub async fn export(
    state: &crate::state::AppState,
    me: &crate::session::SignedIn,
    image_id: &str,
    provider: &str,
) -> Result<TerraformFile, AppError> {
    use crate::model::ImageWords;
    use crate::{
        model::ImageId,
        terraform::{ExportMember, Provider, consumer_hcl, file_name, owner_hcl},
    };
    use openstack::glance::Glance;
    let provider = Provider::from_key(provider)
        .ok_or_else(|| AppError::InvalidInput(format!("{provider:?} is not a provider glance-share writes for.")))?;
    let id = ImageId::parse(image_id)?;
    let glance = Glance::new(&state.http, me.image_url()?, &me.token)?;
    let image = glance.image(&id).await?;
    let members = glance.members(&id).await?;
    let name = image.display_name();
    let owned = image.owner.as_deref() == Some(me.project_id.as_str());
    if owned {
        let export: Vec<ExportMember> =
            members.iter().map(|m| ExportMember { member_id: &m.member_id, status: m.status.key() }).collect();
        Ok(TerraformFile {
            file_name: file_name(id.as_str(), false),
            text: owner_hcl(provider, id.as_str(), &name, &export),
        })
    } else {
        let mine = members.iter().find(|m| m.member_id == me.project_id).ok_or_else(|| {
            AppError::InvalidInput("This project neither owns this image nor is a member of it.".into())
        })?;
        Ok(TerraformFile {
            file_name: file_name(id.as_str(), true),
            text: consumer_hcl(provider, id.as_str(), &name, &mine.member_id, mine.status.key()),
        })
    }
}
