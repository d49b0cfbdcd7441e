//! Terraform / OpenTofu for an image's members (owner) or for the current project's answer
//! (consumer), with `import` blocks so existing members come under management unchanged.

use super::{Caller, projects::project_names};
use crate::{
    error::AppError,
    model::{ImageId, ImageWords, ProjectName, TerraformFile},
    terraform::{ExportMember, Provider, consumer_hcl, file_name, owner_hcl},
};

/// The HCL for image `image_id` with resources of `provider` (a `terraform::Provider` key).
pub async fn image_terraform(caller: &Caller, image_id: &str, provider: &str) -> Result<TerraformFile, AppError> {
    let me = &caller.me;
    let provider = Provider::from_key(provider)
        .ok_or_else(|| AppError::InvalidInput(format!("{provider:?} is not a provider glance-share writes for.")))?;
    let id = ImageId::parse(image_id)?;
    let glance = caller.glance()?;
    let image = glance.image(&id).await?;
    let members = glance.members(&id).await?;
    let name = image.display_name();
    let owned = image.owner.as_deref() == Some(me.project_id.as_str());
    if owned {
        let names = project_names(caller, members.iter().map(|m| m.member_id.clone()).collect()).await;
        let labels: Vec<Option<String>> =
            members.iter().map(|m| names.get(&m.member_id).and_then(ProjectName::label)).collect();
        let export: Vec<ExportMember> = members
            .iter()
            .zip(&labels)
            .map(|(m, label)| ExportMember {
                member_id: &m.member_id,
                status: m.status.key(),
                project: label.as_deref(),
            })
            .collect();
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
