//! Projects as users name them: the one rule for pasted project IDs, used by the image page's
//! share box and by the batch page (each entry checked: its syntax, the user's own projects,
//! then Keystone; the resulting `ProjectCheck` says whether it is shared with, shared with only
//! once the user confirms, or never: see `ProjectCheck::is_refused`), and project names.

use std::collections::{HashMap, HashSet};

use super::Caller;
use crate::{
    error::AppError,
    model::{
        MemberId, ProjectCheck,
        ids::{PastedIds, parse_member_list},
    },
    session,
};

/// The entries of a pasted list, each parsed on its own; at least one, at most 500.
pub fn pasted(members: &str) -> Result<PastedIds, AppError> {
    let parsed = parse_member_list(members);
    if parsed.is_empty() {
        return Err(AppError::InvalidInput("Enter at least one project ID.".into()));
    }
    if parsed.len() > 500 {
        return Err(AppError::InvalidInput("At most 500 project IDs at a time.".into()));
    }
    Ok(parsed)
}

/// Checks every entry of a pasted list: its syntax first, then the user's own projects, then Keystone.
pub async fn check_list(caller: &Caller, members: &str) -> Result<Vec<(String, ProjectCheck)>, AppError> {
    check_each(caller, pasted(members)?).await
}

/// Checks every parsed entry of a pasted list, keeping its order.
pub async fn check_each(caller: &Caller, parsed: PastedIds) -> Result<Vec<(String, ProjectCheck)>, AppError> {
    let Caller { session, me, .. } = caller;
    let keystone = caller.keystone()?;
    let ids: Vec<String> = parsed.iter().filter_map(|(_, r)| r.as_ref().ok().map(|m| m.to_string())).collect();
    // Each ID is asked of Keystone once: what this lookup settled is not asked again below.
    let Lookup { names: known, missing } = look_up(caller, ids).await;
    // Keystone refused this user a lookup before (ordinary members may not): ask no more.
    let may_look_up = !session::project_lookup_refused(session, &me.project_id).await;
    let checked = crate::concurrency::bounded(parsed, caller.concurrency(), |(raw, parsed)| {
        let keystone = &keystone;
        let (known, missing) = (&known, &missing);
        async move {
            let check = match parsed {
                Err(e) => ProjectCheck::Invalid(e),
                Ok(id) => {
                    if let Some(own) = me.projects.iter().find(|p| p.name == id.as_str() && p.id != id.as_str()) {
                        ProjectCheck::ProjectName { id: own.id.clone() }
                    } else if let Some(name) = known.get(id.as_str()) {
                        ProjectCheck::Found(name.clone())
                    } else if missing.contains(id.as_str()) {
                        ProjectCheck::NotFound
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

/// Names of member projects: the user's own projects are known; others are asked of
/// Keystone, which refuses ordinary users (then the first refusal stops the asking).
pub async fn project_names(caller: &Caller, ids: Vec<String>) -> HashMap<String, String> {
    look_up(caller, ids).await.names
}

/// What Keystone said of some project IDs.
struct Lookup {
    /// Projects found, by ID (and the user's own).
    names: HashMap<String, String>,
    /// IDs Keystone answered "no such project" for.
    missing: HashSet<String>,
}

/// Looks `ids` up: each is asked of Keystone at most once per call (IDs whose lookup failed
/// are in neither field).
async fn look_up(caller: &Caller, ids: Vec<String>) -> Lookup {
    let Caller { session, me, .. } = caller;
    let mut names: HashMap<String, String> = me.projects.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
    names.insert(me.project_id.clone(), me.project_name.clone());
    let mut missing = HashSet::new();
    let unknown: Vec<MemberId> =
        ids.iter().filter(|id| !names.contains_key(*id)).filter_map(|id| MemberId::parse(id).ok()).collect();
    let Some(first) = unknown.first() else { return Lookup { names, missing } };
    if session::project_lookup_refused(session, &me.project_id).await {
        return Lookup { names, missing };
    }
    let Ok(keystone) = caller.keystone() else { return Lookup { names, missing } };
    match keystone.project(&me.token, first).await {
        Ok(found) => {
            let rest = crate::concurrency::bounded(unknown[1..].to_vec(), caller.concurrency(), |id| {
                let keystone = &keystone;
                async move {
                    let found = keystone.project(&me.token, &id).await;
                    (id, found)
                }
            })
            .await;
            for (id, found) in std::iter::once((first.clone(), Ok(found))).chain(rest) {
                match found {
                    Ok(Some(p)) => drop(names.insert(p.id, p.name)),
                    Ok(None) => drop(missing.insert(id.to_string())),
                    Err(_) => {}
                }
            }
        }
        Err(e) => {
            tracing::debug!("project names are not available to this user: {e}");
            if e.status() == Some(403) {
                session::remember_project_lookup_refused(session, &me.project_id).await;
            }
        }
    }
    Lookup { names, missing }
}
