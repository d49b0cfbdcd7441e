//! Who an image is shared with: share with pasted projects, revoke, set a member's status.

use super::{
    Caller,
    projects::{check_each, pasted},
};
use crate::{
    audit::Actor,
    error::AppError,
    model::{Change, ImageId, Member, MemberId, ShareReport, ShareResult, Via, Visibility},
};

/// Shares image `image_id` with the projects in `members` (separated by commas, spaces or
/// lines), each checked first (`projects::check_each`). Entries that could not be confirmed
/// are shared with only when `confirmed`; `make_shared` first turns a private image shared.
pub async fn share(
    caller: &Caller,
    image_id: &str,
    members: &str,
    confirmed: bool,
    make_shared: bool,
) -> Result<ShareReport, AppError> {
    let Caller { state, me, .. } = caller;
    let id = ImageId::parse(image_id)?;
    // Nothing in the list could be a project ID: refused before anything is sent.
    let parsed = pasted(members)?;
    if let Some(errors) =
        parsed.iter().map(|(_, p)| p.as_ref().err().map(ToString::to_string)).collect::<Option<Vec<_>>>()
    {
        return Err(AppError::InvalidInput(format!("Nothing was shared: {}", errors.join(" "))));
    }
    let glance = caller.glance()?;
    let image = glance.image(&id).await?;
    match image.visibility {
        Visibility::Shared => {}
        Visibility::Private if make_shared => {}
        Visibility::Private => {
            return Err(AppError::InvalidInput(
                "This image is private, and Glance refuses members for private images (\u{201c}Only shared images have \
                 members\u{201d}). Choose \u{201c}make it shared\u{201d} to share it."
                    .into(),
            ));
        }
        other => {
            return Err(AppError::InvalidInput(format!(
                "This image is {}: every project can already use it, and only shared images have members.",
                other.label()
            )));
        }
    }
    let checks = check_each(caller, parsed).await?;
    let needs_asking = checks.iter().any(|(_, c)| !c.is_confirmed());
    let report = if needs_asking && !confirmed {
        ShareReport::NeedsConfirmation { members: members.to_string(), checks }
    } else {
        // With no project to share with, the image stays as it is.
        let shareable = checks.iter().any(|(_, c)| !c.is_refused());
        let made_shared = shareable && image.visibility == Visibility::Private;
        if made_shared {
            let made = glance.set_visibility(&id, Visibility::Shared).await.map_err(AppError::from);
            let change = Change::Visibility(Visibility::Shared);
            state.audit.recorded(&Actor::new(me), Via::ImagePage, &id, change, None, made).await?;
            tracing::info!(image = %id, project = %me.project_id, "made shared to share it");
        }
        // One at a time: Glance checks image_member_quota before inserting, so concurrent
        // adds to one image all pass the check and exceed the quota (seen in the lab).
        let actor = &Actor::new(me);
        let results = crate::concurrency::bounded(checks, 1, |(raw, check)| {
            let glance = &glance;
            let id = &id;
            async move {
                // A name the directory resolved is shared with as its project's ID.
                let member_id = check.member_id(&raw).to_string();
                let outcome = if check.is_refused() {
                    Err(AppError::InvalidInput(format!("Not shared: {}.", check.describe())))
                } else {
                    match MemberId::parse(&member_id) {
                        Ok(member) => {
                            let added = glance.add_member(id, &member).await.map(|m| m.status).map_err(AppError::from);
                            state
                                .audit
                                .recorded(actor, Via::ImagePage, id, Change::Share, Some(&member_id), added)
                                .await
                        }
                        Err(e) => Err(e.into()),
                    }
                };
                ShareResult { member_id, check, outcome }
            }
        })
        .await;
        for r in &results {
            tracing::info!(image = %id, member = %r.member_id, project = %me.project_id, ok = r.outcome.is_ok(), "share");
        }
        if let Some(expired) = results.iter().find_map(|r| r.outcome.as_ref().err().filter(|e| e.needs_sign_in())) {
            return Err(expired.clone());
        }
        ShareReport::Done { made_shared, results }
    };
    Ok(report)
}

/// The members of an image as Glance lists them (all of them for the owner, only its own
/// entry for a member project): one Glance call, nothing added.
pub async fn list(caller: &Caller, image_id: &str) -> Result<Vec<Member>, AppError> {
    Ok(caller.glance()?.members(&ImageId::parse(image_id)?).await?)
}

/// Ends project `member_id`'s access to image `image_id` (the owner's, or an admin's, call).
pub async fn revoke(caller: &Caller, image_id: &str, member_id: &str) -> Result<(), AppError> {
    let Caller { state, me, .. } = caller;
    let id = ImageId::parse(image_id)?;
    let member = MemberId::parse(member_id)?;
    let revoked = caller.glance()?.remove_member(&id, &member).await.map_err(AppError::from);
    let actor = Actor::new(me);
    state.audit.recorded(&actor, Via::ImagePage, &id, Change::Revoke, Some(member.as_str()), revoked).await?;
    tracing::info!(image = %id, member = %member, project = %me.project_id, "revoked");
    Ok(())
}

/// Accepts, rejects or re-pends image `image_id` for the current project; with `member_id`
/// naming another project and `admin_override`, an admin sets that project's status.
pub async fn set_status(
    caller: &Caller,
    image_id: &str,
    status: &str,
    member_id: Option<&str>,
    admin_override: bool,
) -> Result<Member, AppError> {
    let Caller { state, me, .. } = caller;
    let id = ImageId::parse(image_id)?;
    let status = crate::model::member_status(status)?;
    let member = match member_id.map(str::trim).filter(|m| !m.is_empty()) {
        None => MemberId::parse(&me.project_id)?,
        Some(m) if m == me.project_id => MemberId::parse(m)?,
        Some(other) => {
            if !admin_override {
                return Err(AppError::InvalidInput(
                    "Only the member project itself accepts or rejects an offer; an admin can override this explicitly.".into(),
                ));
            }
            MemberId::parse(other)?
        }
    };
    let updated = caller.glance()?.set_member_status(&id, &member, status).await.map_err(AppError::from);
    let (actor, change) = (Actor::new(me), Change::Status(status));
    let updated = state.audit.recorded(&actor, Via::ImagePage, &id, change, Some(member.as_str()), updated).await?;
    tracing::info!(image = %id, member = %member, status = status.key(), project = %me.project_id, admin_override, "member status");
    Ok(updated)
}
