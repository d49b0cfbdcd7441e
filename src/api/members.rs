//! Who an image is shared with: share, revoke, and accept / reject / set back to pending.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{Member, ProjectCheck, ShareReport},
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
    let result = sharing::share(&image_id, &members, confirmed.is_some(), make_shared.is_some()).await;
    match result {
        Ok((report, report_id)) => {
            let image = crate::model::urlencode(&image_id);
            super::server::reply_and_go(Ok(report), &format!("/images/{image}?report={report_id}")).await
        }
        Err(e) => super::server::reply(Err(e)).await,
    }
}

/// The members of an image as Glance lists them (all of them for the owner, only its own
/// entry for a member project): one Glance call, nothing added.
#[server(endpoint = "members")]
pub async fn list_members(image_id: String) -> Result<Vec<Member>, AppError> {
    let result = async {
        let state = super::server::state()?;
        let (_, me) = super::server::signed_in().await?;
        let id = crate::model::ImageId::parse(&image_id)?;
        Ok(super::server::glance(&state, &me)?.members(&id).await?)
    }
    .await;
    super::server::reply(result).await
}

/// A result of `share_image` kept in this session.
#[server(endpoint = "share_report")]
pub async fn get_share_report(report_id: String) -> Result<Option<ShareReport>, AppError> {
    super::server::reply(super::server::saved_report(&report_id).await).await
}

/// Checks pasted project IDs with Keystone before anything is shared.
#[server(endpoint = "check_projects")]
pub async fn check_projects(members: String) -> Result<Vec<(String, ProjectCheck)>, AppError> {
    super::server::reply(sharing::check_list(&members).await).await
}

/// Ends a project's access to an image (owner only).
#[server(endpoint = "revoke")]
pub async fn revoke_member(image_id: String, member_id: String) -> Result<(), AppError> {
    let result = sharing::revoke(&image_id, &member_id).await;
    // Back to the image page, not to the confirmation the form was on.
    let back = format!("/images/{}", crate::model::urlencode(&image_id));
    super::server::reply_and_go(result, &back).await
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
    let result = sharing::set_status(&image_id, &status, member_id.as_deref(), admin_override.is_some()).await;
    match next {
        Some(next) => super::server::reply_and_go(result, &next).await,
        None => super::server::reply(result).await,
    }
}

#[cfg(feature = "ssr")]
mod sharing {
    use super::super::server;
    use crate::{
        audit::Actor,
        error::AppError,
        model::{Change, Via},
        model::{
            ImageId, Member, MemberId, ProjectCheck, ShareReport, ShareResult, Visibility,
            ids::{PastedIds, parse_member_list},
        },
        session::{self, SignedIn},
        state::AppState,
    };

    /// Checks every entry of a pasted list: syntax first, then the user's own projects, then Keystone.
    pub async fn check_list(members: &str) -> Result<Vec<(String, ProjectCheck)>, AppError> {
        let state = server::state()?;
        let (session, me) = server::signed_in().await?;
        checks(&state, &session, &me, members).await
    }

    async fn checks(
        state: &AppState,
        session: &tower_sessions::Session,
        me: &SignedIn,
        members: &str,
    ) -> Result<Vec<(String, ProjectCheck)>, AppError> {
        super::super::project_ids::check_each(state, session, me, pasted(members)?).await
    }

    /// The entries of a pasted list, each parsed on its own; at least one, at most 500.
    fn pasted(members: &str) -> Result<PastedIds, AppError> {
        let parsed = parse_member_list(members);
        if parsed.is_empty() {
            return Err(AppError::InvalidInput("Enter at least one project ID.".into()));
        }
        if parsed.len() > 500 {
            return Err(AppError::InvalidInput("At most 500 project IDs at a time.".into()));
        }
        Ok(parsed)
    }

    pub async fn share(
        image_id: &str,
        members: &str,
        confirmed: bool,
        make_shared: bool,
    ) -> Result<(ShareReport, String), AppError> {
        let state = server::state()?;
        let (session, me) = server::signed_in().await?;
        let id = ImageId::parse(image_id)?;
        // Nothing in the list could be a project ID: refused before anything is sent.
        let parsed = pasted(members)?;
        if let Some(errors) =
            parsed.iter().map(|(_, p)| p.as_ref().err().map(ToString::to_string)).collect::<Option<Vec<_>>>()
        {
            return Err(AppError::InvalidInput(format!("Nothing was shared: {}", errors.join(" "))));
        }
        let glance = server::glance(&state, &me)?;
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
        let checks = super::super::project_ids::check_each(&state, &session, &me, parsed).await?;
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
                state.audit.recorded(&Actor::new(&me), Via::ImagePage, &id, change, None, made).await?;
                tracing::info!(image = %id, project = %me.project_id, "made shared to share it");
            }
            // One at a time: Glance checks image_member_quota before inserting, so concurrent
            // adds to one image all pass the check and exceed the quota (seen in the lab).
            let actor = &Actor::new(&me);
            let results = crate::concurrency::bounded(checks, 1, |(raw, check)| {
                let glance = &glance;
                let id = &id;
                let state = &state;
                async move {
                    let outcome = if check.is_refused() {
                        Err(AppError::InvalidInput(format!("Not shared: {}.", check.describe())))
                    } else {
                        match MemberId::parse(&raw) {
                            Ok(member) => {
                                let added =
                                    glance.add_member(id, &member).await.map(|m| m.status).map_err(AppError::from);
                                state.audit.recorded(actor, Via::ImagePage, id, Change::Share, Some(&raw), added).await
                            }
                            Err(e) => Err(e.into()),
                        }
                    };
                    ShareResult { member_id: raw, check, outcome }
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
        let report_id = session::save_report(&session, &report).await?;
        Ok((report, report_id))
    }

    pub async fn revoke(image_id: &str, member_id: &str) -> Result<(), AppError> {
        let state = server::state()?;
        let (_, me) = server::signed_in().await?;
        let id = ImageId::parse(image_id)?;
        let member = MemberId::parse(member_id)?;
        let revoked = server::glance(&state, &me)?.remove_member(&id, &member).await.map_err(AppError::from);
        let actor = Actor::new(&me);
        state.audit.recorded(&actor, Via::ImagePage, &id, Change::Revoke, Some(member.as_str()), revoked).await?;
        tracing::info!(image = %id, member = %member, project = %me.project_id, "revoked");
        Ok(())
    }

    pub async fn set_status(
        image_id: &str,
        status: &str,
        member_id: Option<&str>,
        admin_override: bool,
    ) -> Result<Member, AppError> {
        let state = server::state()?;
        let (_, me) = server::signed_in().await?;
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
        let updated =
            server::glance(&state, &me)?.set_member_status(&id, &member, status).await.map_err(AppError::from);
        let (actor, change) = (Actor::new(&me), Change::Status(status));
        let updated = state.audit.recorded(&actor, Via::ImagePage, &id, change, Some(member.as_str()), updated).await?;
        tracing::info!(image = %id, member = %member, status = status.key(), project = %me.project_id, admin_override, "member status");
        Ok(updated)
    }
}
