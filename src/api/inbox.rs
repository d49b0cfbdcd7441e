//! The consumer's inbox: offers to every project the user can work in, and answering many at once.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server::{caller, reply, reply_and_go};
#[cfg(feature = "ssr")]
use crate::sharing::inbox as offers;
use crate::{
    error::AppError,
    model::{InboxProject, OfferAnswers},
};

/// Every image offered to any of the user's projects, in the current region, grouped by
/// project (each project asked with a token re-scoped to it, concurrently).
#[server(endpoint = "inbox")]
pub async fn inbox() -> Result<Vec<InboxProject>, AppError> {
    reply(async { offers::inbox(&caller().await?).await }.await).await
}

/// How many offers to the current project wait for an answer (the header's badge).
#[server(endpoint = "pending_count")]
pub async fn pending_count() -> Result<Option<usize>, AppError> {
    let result = async {
        let state = super::server::state()?;
        let session = super::server::session().await?;
        match super::server::signed_in_state(&session).await {
            Ok(me) => Ok(Some(offers::pending_count(&crate::sharing::Caller { state, session, me }).await?)),
            Err(_) => Ok(None),
        }
    }
    .await;
    reply(result).await
}

/// Answers the chosen offers (`items`: "project_id/image_id") with `status`. Rejecting asks
/// first: without `confirmed` nothing changes and the answer lists what would be rejected.
/// `new_version` ("project_id/image_id", the button "Accept, and reject <old name>") takes
/// precedence: it accepts that image and rejects the one it replaces.
#[server(endpoint = "inbox_respond")]
pub async fn respond_to_offers(
    items: Option<Vec<String>>,
    status: Option<String>,
    confirmed: Option<String>,
    new_version: Option<String>,
) -> Result<OfferAnswers, AppError> {
    let result = async {
        let caller = caller().await?;
        let answers = match new_version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(item) => offers::accept_new_version(&caller, item).await?,
            None => {
                let status = status.unwrap_or_default();
                offers::respond(&caller, items.unwrap_or_default(), &status, confirmed.is_some()).await?
            }
        };
        let report_id = crate::session::save_report(&caller.session, &answers).await?;
        Ok((answers, report_id))
    }
    .await;
    match result {
        Ok((answers, report_id)) => reply_and_go(Ok(answers), &format!("/inbox?report={report_id}")).await,
        Err(e) => reply(Err(e)).await,
    }
}

/// A result of `respond_to_offers` kept in this session.
#[server(endpoint = "inbox_report")]
pub async fn get_inbox_report(report_id: String) -> Result<Option<OfferAnswers>, AppError> {
    reply(super::server::saved_report(&report_id).await).await
}
