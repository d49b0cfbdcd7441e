//! The one rule for pasted project IDs, used by the image page's share box and by the batch
//! page: each entry is checked (its syntax, the user's own projects, then Keystone), and the
//! resulting `ProjectCheck` says whether it is shared with, shared with only once the user
//! confirms, or never (see `ProjectCheck::is_refused`).

use super::server;
use crate::{
    error::AppError,
    model::{ProjectCheck, ids::PastedIds},
    session::{self, SignedIn},
    state::AppState,
};

/// Checks every parsed entry of a pasted list, keeping its order.
pub async fn check_each(
    state: &AppState,
    session: &tower_sessions::Session,
    me: &SignedIn,
    parsed: PastedIds,
) -> Result<Vec<(String, ProjectCheck)>, AppError> {
    let keystone = server::keystone(state, me)?;
    let ids: Vec<String> = parsed.iter().filter_map(|(_, r)| r.as_ref().ok().map(|m| m.to_string())).collect();
    let known = super::images::project_names_for(state, session, me, ids).await;
    // Keystone refused this user a lookup before (ordinary members may not): ask no more.
    let may_look_up = !session::project_lookup_refused(session, &me.project_id).await;
    let checked = crate::concurrency::bounded(parsed, state.config.batch_concurrency, |(raw, parsed)| {
        let keystone = &keystone;
        let known = &known;
        async move {
            let check = match parsed {
                Err(e) => ProjectCheck::Invalid(e),
                Ok(id) => {
                    if let Some(own) = me.projects.iter().find(|p| p.name == id.as_str() && p.id != id.as_str()) {
                        ProjectCheck::ProjectName { id: own.id.clone() }
                    } else if let Some(name) = known.get(id.as_str()) {
                        ProjectCheck::Found(name.clone())
                    } else {
                        let found = if may_look_up { keystone.project(&me.token, &id).await.ok() } else { None };
                        match found {
                            Some(Some(p)) => ProjectCheck::Found(p.name),
                            Some(None) => ProjectCheck::NotFound,
                            None => ProjectCheck::Unchecked { looks_like_id: id.looks_like_keystone_id() },
                        }
                    }
                }
            };
            (raw, check)
        }
    })
    .await;
    Ok(checked)
}
