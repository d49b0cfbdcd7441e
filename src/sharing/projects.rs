//! Projects as users name them: the one rule for pasted project IDs (and, with a directory
//! reader, names), used by the image page's share box and by the batch page, and project names
//! for every page that shows a project.
//!
//! Each pasted entry is checked: its syntax, then Keystone by ID (the directory's cache first);
//! with a directory, an entry that is no project's ID is looked up by name, and resolves to one
//! project or is refused as ambiguous. The resulting `ProjectCheck` says whether it is shared
//! with, shared with once the user confirms, or never (`ProjectCheck::is_refused`).

use std::collections::{HashMap, HashSet};

use super::Caller;
use crate::{
    error::AppError,
    model::{
        FoundProject, MemberId, ProjectCheck, ProjectName,
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
    let known = look_up(caller, ids).await;
    // Keystone refused this user a lookup before (ordinary members may not): ask no more.
    let may_look_up = !session::project_lookup_refused(session, &me.project_id).await;
    let checked = crate::concurrency::bounded(parsed, caller.concurrency(), |(raw, parsed)| {
        let (keystone, known) = (&keystone, &known);
        async move {
            let check = match parsed {
                Err(e) => ProjectCheck::Invalid(e),
                Ok(id) => check_one(caller, keystone, known.get(id.as_str()), id, may_look_up).await,
            };
            (raw, check)
        }
    })
    .await;
    Ok(checked)
}

/// Suggestions shown while typing in a projects field.
const SUGGESTIONS: usize = 8;

/// At most `SUGGESTIONS` projects whose name contains `typed` (ignoring case), among those the
/// directory may name to this user; none without a directory.
pub async fn suggest(caller: &Caller, typed: &str) -> Result<Vec<FoundProject>, AppError> {
    let typed = typed.trim();
    if typed.chars().count() > 64 || typed.chars().any(char::is_control) {
        return Err(AppError::InvalidInput("Type at most 64 characters of a project's name.".into()));
    }
    let Some(directory) = caller.directory() else { return Ok(Vec::new()) };
    if typed.chars().count() < 2 {
        return Ok(Vec::new());
    }
    Ok(directory.suggest(&caller.state.http, typed, caller.viewer(), SUGGESTIONS).await?)
}

/// One entry that parses as a member ID; `known` is what the names lookup found for it.
async fn check_one(
    caller: &Caller,
    keystone: &openstack::keystone::Keystone<'_>,
    known: Option<&ProjectName>,
    id: MemberId,
    may_look_up: bool,
) -> ProjectCheck {
    let me = &caller.me;
    if let Some(ProjectName::Named { name, domain }) = known {
        return ProjectCheck::Found { name: name.clone(), domain: domain.clone() };
    }
    // No project (that this user may see) has this ID: with a directory, it may be a name.
    if let Some(directory) = caller.directory() {
        match directory.named(&caller.state.http, id.as_str(), caller.viewer()).await {
            Ok(mut found) if found.len() == 1 => return ProjectCheck::ByName(found.remove(0)),
            Ok(found) if found.len() > 1 => return ProjectCheck::Ambiguous(found),
            // An ID of a project the directory does not name to this user is checked below,
            // the way it is without a directory.
            Ok(_) if !id.looks_like_keystone_id() => return ProjectCheck::NoMatch,
            Ok(_) => {}
            Err(e) => tracing::warn!("the directory could not look a name up: {e}"),
        }
    }
    if known == Some(&ProjectName::Deleted) {
        return ProjectCheck::NotFound;
    }
    if let Some(own) = me.projects.iter().find(|p| p.name == id.as_str() && p.id != id.as_str()) {
        return ProjectCheck::ProjectName { id: own.id.clone() };
    }
    let found = if may_look_up { keystone.project(&me.token, &id).await.ok() } else { None };
    match found {
        Some(Some(p)) => ProjectCheck::Found { name: p.name, domain: None },
        Some(None) => ProjectCheck::NotFound,
        None => ProjectCheck::Unchecked { looks_like_id: id.looks_like_keystone_id() },
    }
}

/// Names of projects by ID, for every page that shows projects: the directory's (cached),
/// else the user's own projects and what Keystone lets the user look up (ordinary users may
/// not: the first refusal stops the asking). IDs no one could name are left out; Keystone's
/// "no such project" is `ProjectName::Deleted`.
pub async fn project_names(caller: &Caller, ids: Vec<String>) -> HashMap<String, ProjectName> {
    look_up(caller, ids).await
}

/// Looks `ids` up, each at most once per call.
async fn look_up(caller: &Caller, ids_given: Vec<String>) -> HashMap<String, ProjectName> {
    let Caller { session, me, state } = caller;
    let directory = caller.directory();
    // Keystone refused this user's lookups before (ordinary users may not look projects up).
    // With no directory either, only the user's own projects can be named: the IDs are not
    // even read (an image page of 128 members read and hashed each one for nothing).
    let refused = session::project_lookup_refused(session, &me.project_id).await;
    let ids: Vec<MemberId> = if refused && directory.is_none() {
        Vec::new()
    } else {
        let mut ids: Vec<MemberId> = ids_given.iter().filter_map(|id| MemberId::parse(id).ok()).collect();
        let mut seen = HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));
        ids
    };
    let mut names: HashMap<String, ProjectName> = match directory {
        Some(directory) => directory.names(&state.http, &ids, caller.viewer(), caller.concurrency()).await,
        None => HashMap::new(),
    };
    let own = me.projects.iter().map(|p| (&p.id, &p.name)).chain([(&me.project_id, &me.project_name)]);
    for (id, name) in own {
        names.entry(id.clone()).or_insert_with(|| ProjectName::Named { name: name.clone(), domain: None });
    }
    if refused {
        return names;
    }
    let unknown: Vec<MemberId> = ids.into_iter().filter(|id| !names.contains_key(id.as_str())).collect();
    let Some(first) = unknown.first() else { return names };
    let Ok(keystone) = caller.keystone() else { return names };
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
                    Ok(Some(p)) => drop(names.insert(p.id, ProjectName::Named { name: p.name, domain: None })),
                    Ok(None) => drop(names.insert(id.to_string(), ProjectName::Deleted)),
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
    names
}
