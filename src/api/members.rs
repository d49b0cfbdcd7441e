//! Who an image is shared with: share, revoke, and accept / reject / set back to pending.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{caller, reply, reply_and_go};
#[cfg(feature = "ssr")]
use crate::sharing::{members as sharing, projects};
use crate::{
    error::AppError,
    model::{FoundProject, Member, ProjectCheck, ShareReport},
};

/// Shares an image with the projects in `members` (separated by commas, spaces or lines),
/// after checking each ID with Keystone. IDs that cannot be checked are shared only once
/// `confirmed`; `make_shared` first turns a private image into a shared one. The browser is
/// sent to the image page showing the outcome for every project.
#[server(endpoint = "share")]
pub async fn share_image(
    image_id: String,
    members: String,
    confirmed: Option<String>,
    make_shared: Option<String>,
) -> Result<ShareReport, AppError> {
    let result = async {
        let caller = caller().await?;
        let report = sharing::share(&caller, &image_id, &members, confirmed.is_some(), make_shared.is_some()).await?;
        let report_id = crate::session::save_report(&caller.session, &report).await?;
        Ok((report, report_id))
    }
    .await;
    match result {
        Ok((report, report_id)) => {
            let image = crate::model::urlencode(&image_id);
            reply_and_go(Ok(report), &format!("/images/{image}?report={report_id}")).await
        }
        Err(e) => reply(Err(e)).await,
    }
}

/// The members of an image as Glance lists them (all of them for the owner, only its own
/// entry for a member project): one Glance call, nothing added.
#[server(endpoint = "members")]
pub async fn list_members(image_id: String) -> Result<Vec<Member>, AppError> {
    reply(async { sharing::list(&caller().await?, &image_id).await }.await).await
}

/// A result of `share_image` kept in this session.
#[server(endpoint = "share_report")]
pub async fn get_share_report(report_id: String) -> Result<Option<ShareReport>, AppError> {
    reply(super::server::saved_report(&report_id).await).await
}

/// Checks pasted project IDs with Keystone before anything is shared.
#[server(endpoint = "check_projects")]
pub async fn check_projects(members: String) -> Result<Vec<(String, ProjectCheck)>, AppError> {
    reply(async { projects::check_list(&caller().await?, &members).await }.await).await
}

/// At most a few projects whose name contains `q`, for the projects fields' suggestions
/// (`suggest.js`); none when no directory names projects for this user.
#[server(endpoint = "suggest_projects")]
pub async fn suggest_projects(q: String) -> Result<Vec<FoundProject>, AppError> {
    reply(async { projects::suggest(&caller().await?, &q).await }.await).await
}

/// Ends a project's access to an image (owner only).
#[server(endpoint = "revoke")]
pub async fn revoke_member(image_id: String, member_id: String) -> Result<(), AppError> {
    let result = async { sharing::revoke(&caller().await?, &image_id, &member_id).await }.await;
    // Back to the image page, not to the confirmation the form was on.
    let back = format!("/images/{}", crate::model::urlencode(&image_id));
    reply_and_go(result, &back).await
}

/// Accepts, rejects or re-pends an offer for the current project. With `member_id` naming
/// another project and `admin_override`, an admin sets that project's status instead. The
/// browser goes to `next` afterwards, or back to the page it came from.
#[server(endpoint = "member_status")]
pub async fn set_member_status(
    image_id: String,
    status: String,
    member_id: Option<String>,
    admin_override: Option<String>,
    next: Option<String>,
) -> Result<Member, AppError> {
    let result = async {
        sharing::set_status(&caller().await?, &image_id, &status, member_id.as_deref(), admin_override.is_some()).await
    }
    .await;
    match next {
        Some(next) => reply_and_go(result, &next).await,
        None => reply(result).await,
    }
}
