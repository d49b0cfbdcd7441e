//! The consumer's inbox: the offers to every project the user works in (each asked with a
//! token re-scoped to it), and answering many at once.

use openstack::{
    Token,
    glance::Glance,
    keystone::{Credentials, Scope},
};

use super::{
    Caller,
    offers::{OffersTo, mark_new_versions, offered, replaced_image},
};
use crate::{
    audit::Actor,
    error::AppError,
    model::{
        Change, ImageId, ImageWords, InboxProject, MemberId, MemberStatus, NewVersionAnswer, OfferAnswer, OfferAnswers,
        OldVersion, Via,
    },
    session::{self, ProjectToken},
};

/// A project the user works in, with a token and image endpoint for it.
struct ProjectAccess {
    id: String,
    name: String,
    token: Token,
    image_url: String,
    /// The token holds the admin role: Glance then lists offers that are not offers.
    admin: bool,
}

/// Tokens for each of the user's projects. The current one is the session's; the others are
/// re-scoped from it once and kept (sealed) in the session until they expire, so a view
/// reuses them instead of minting new ones; sign-out revokes them.
async fn project_access(
    caller: &Caller,
    only: Option<&[String]>,
) -> Vec<Result<ProjectAccess, (String, String, AppError)>> {
    let Caller { state, session, me } = caller;
    let mut projects: Vec<(String, String)> = if me.projects.is_empty() || !me.can_switch_project {
        vec![(me.project_id.clone(), me.project_name.clone())]
    } else {
        me.projects.iter().map(|p| (p.id.clone(), p.name.clone())).collect()
    };
    if let Some(only) = only {
        projects.retain(|(id, _)| only.contains(id));
    }
    let cloud = state.config.cloud(&me.cloud).cloned();
    let kept = session::project_tokens(session).await;
    let found = crate::concurrency::bounded(projects, caller.concurrency(), |(id, name)| {
        let cloud = cloud.clone();
        let kept = kept.iter().find(|t| t.project_id == id).cloned();
        async move {
            if id == me.project_id {
                let access = match me.image_url() {
                    Ok(url) => Ok(ProjectAccess {
                        id,
                        name,
                        token: me.token.clone(),
                        image_url: url.to_string(),
                        admin: me.is_admin(),
                    }),
                    Err(e) => Err((id, name, e)),
                };
                return (access, None);
            }
            if let Some(kept) = kept {
                return (in_region(id, name, &kept, &me.region), None);
            }
            let Some(cloud) = cloud else { return (Err((id, name, AppError::NotSignedIn)), None) };
            let keystone = openstack::keystone::Keystone::new(&state.http, &cloud.auth_url);
            let scoped =
                keystone.authenticate(&Credentials::Token(me.token.clone()), Some(&Scope::ProjectId(id.clone()))).await;
            match scoped {
                Ok(a) => {
                    let minted = ProjectToken {
                        project_id: id.clone(),
                        image_endpoints: a.image_endpoints(&cloud.interface),
                        admin: crate::model::has_admin_role(&a.roles),
                        token: a.token,
                        expires_at: a.expires_at,
                    };
                    (in_region(id, name, &minted, &me.region), Some(minted))
                }
                Err(e) => (Err((id, name, AppError::from(e))), None),
            }
        }
    })
    .await;
    let (access, minted): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    let minted: Vec<ProjectToken> = minted.into_iter().flatten().collect();
    if !minted.is_empty() {
        session::keep_project_tokens(session, kept.into_iter().chain(minted).collect()).await;
    }
    access
}

/// Access to project `id` with a token re-scoped to it, in `region`.
fn in_region(
    id: String,
    name: String,
    scoped: &ProjectToken,
    region: &str,
) -> Result<ProjectAccess, (String, String, AppError)> {
    match scoped.image_endpoints.iter().find(|e| e.region == region) {
        Some(e) => {
            Ok(ProjectAccess { id, name, token: scoped.token.clone(), image_url: e.url.clone(), admin: scoped.admin })
        }
        None => Err((id, name, AppError::InvalidInput(format!("no image endpoint in region {region}")))),
    }
}

/// Every image offered to any of the user's projects, in the current region, grouped by
/// project (each project asked with a token re-scoped to it, concurrently).
pub async fn inbox(caller: &Caller) -> Result<Vec<InboxProject>, AppError> {
    let state = &caller.state;
    let access = project_access(caller, None).await;
    let mut projects = crate::concurrency::bounded(access, caller.concurrency(), |access| async move {
        match access {
            Ok(p) => {
                let to = OffersTo { project_id: &p.id, admin: p.admin, concurrency: caller.concurrency() };
                let offers = match Glance::new(&state.http, &p.image_url, &p.token) {
                    Ok(glance) => match offered(&glance, "all", &to).await {
                        Ok(list) => {
                            let mut rows = list.rows;
                            mark_new_versions(&glance, &to, &mut rows).await;
                            Ok(rows)
                        }
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e.into()),
                };
                InboxProject { project_id: p.id, project_name: p.name, offers, owners: Default::default() }
            }
            Err((id, name, e)) => {
                InboxProject { project_id: id, project_name: name, offers: Err(e), owners: Default::default() }
            }
        }
    })
    .await;
    for p in &mut projects {
        if let Ok(offers) = &mut p.offers {
            // Pending first: they wait for an answer; rejected stay listed to be accepted later.
            offers.sort_by_key(|r| (rank(r.my_status), r.image.display_name().to_lowercase()));
        }
    }
    if let Some(expired) = projects.iter().find_map(|p| p.offers.as_ref().err().filter(|e| e.needs_sign_in())) {
        return Err(expired.clone());
    }
    // One lookup for every offering project of the page.
    let owners: Vec<String> =
        projects.iter().flat_map(|p| p.offers.iter().flatten()).filter_map(|r| r.image.owner.clone()).collect();
    let owners = super::projects::project_names(caller, owners).await;
    for p in &mut projects {
        let mine = p.offers.iter().flatten().filter_map(|r| r.image.owner.as_ref());
        p.owners = mine.filter_map(|o| owners.get(o).map(|n| (o.clone(), n.clone()))).collect();
    }
    Ok(projects)
}

fn rank(status: Option<MemberStatus>) -> u8 {
    match status {
        Some(MemberStatus::Pending) => 0,
        Some(MemberStatus::Rejected) => 1,
        Some(MemberStatus::Accepted) => 2,
        _ => 3,
    }
}

/// How many offers to the current project wait for an answer (the header's badge).
pub async fn pending_count(caller: &Caller) -> Result<usize, AppError> {
    let to = OffersTo::current(&caller.me, caller.concurrency());
    Ok(offered(&caller.glance()?, "pending", &to).await?.rows.len())
}

/// Answers the chosen offers (`items`: "project_id/image_id") with `status`. Rejecting asks
/// first: without `confirmed` nothing changes and the answer lists what would be rejected.
pub async fn respond(
    caller: &Caller,
    items: Vec<String>,
    status: &str,
    confirmed: bool,
) -> Result<OfferAnswers, AppError> {
    let Caller { state, me, .. } = caller;
    let status = crate::model::member_status(status)?;
    let mut chosen: Vec<(String, ImageId)> = Vec::new();
    for item in items.iter().filter(|i| !i.is_empty()) {
        let (project, image) = item
            .split_once('/')
            .ok_or_else(|| AppError::InvalidInput(format!("{item:?} is not a project/image pair.")))?;
        let project = MemberId::parse(project)?.to_string();
        chosen.push((project, ImageId::parse(image)?));
    }
    if chosen.is_empty() {
        return Err(AppError::InvalidInput("Tick at least one offer.".into()));
    }
    if status == MemberStatus::Rejected && !confirmed {
        return Ok(OfferAnswers { status, needs_confirmation: true, items, answers: Vec::new(), new_version: None });
    }
    let projects: Vec<String> = chosen.iter().map(|(p, _)| p.clone()).collect();
    let access = project_access(caller, Some(&projects)).await;
    let mut answers = Vec::new();
    for (project, image) in &chosen {
        let outcome = match access
            .iter()
            .find(|a| matches!(a, Ok(p) if &p.id == project) || matches!(a, Err((id, _, _)) if id == project))
        {
            Some(Ok(p)) => match (Glance::new(&state.http, &p.image_url, &p.token), MemberId::parse(project)) {
                (Ok(glance), Ok(member)) => {
                    let actor = Actor::new(me).in_project(&p.id, &p.name);
                    answer(caller, &glance, &actor, image, &member, status).await
                }
                (Err(e), _) => Err(e.into()),
                (_, Err(e)) => Err(e.into()),
            },
            Some(Err((_, _, e))) => Err(e.clone()),
            None => Err(AppError::InvalidInput("You do not work in that project.".into())),
        };
        tracing::info!(image = %image, member = %project, status = status.key(), ok = outcome.is_ok(), "inbox answer");
        answers.push(OfferAnswer { project_id: project.clone(), image_id: image.to_string(), outcome });
    }
    Ok(OfferAnswers { status, needs_confirmation: false, items, answers, new_version: None })
}

/// "Accept, and reject <old name>" (`item`: "project_id/image_id" of the new image): accepts
/// the new image for the project, then rejects the image it replaces. The old image is the one
/// the new image names in Glance (its `supersedes`), never one the browser names; it must be of
/// the same owner and offered to the project. The button names what it rejects, so it asks no
/// confirmation. If accepting fails, the old image is left as it was.
pub async fn accept_new_version(caller: &Caller, item: &str) -> Result<OfferAnswers, AppError> {
    let Caller { state, me, .. } = caller;
    let (project, image) = item
        .trim()
        .split_once('/')
        .ok_or_else(|| AppError::InvalidInput(format!("{item:?} is not a project/image pair.")))?;
    let member = MemberId::parse(project)?;
    let new_id = ImageId::parse(image)?;
    let project = member.to_string();
    let access = project_access(caller, Some(std::slice::from_ref(&project))).await;
    let p = match access.into_iter().next() {
        Some(Ok(p)) if p.id == project => p,
        Some(Err((id, _, e))) if id == project => return Err(e),
        _ => return Err(AppError::InvalidInput("You do not work in that project.".into())),
    };
    let glance = Glance::new(&state.http, &p.image_url, &p.token)?;
    let new = glance.image(&new_id).await?;
    let Some((old, _)) = replaced_image(&glance, &new, &member).await? else {
        return Err(AppError::InvalidInput(format!(
            "Image {} is not a new version of an image offered to project {}: nothing was changed.",
            new.display_name(),
            p.name
        )));
    };
    let old_id = ImageId::parse(&old.id)?;
    let actor = Actor::new(me).in_project(&p.id, &p.name);
    let mut answers = Vec::new();
    for (image, status) in [(&new_id, MemberStatus::Accepted), (&old_id, MemberStatus::Rejected)] {
        let outcome = answer(caller, &glance, &actor, image, &member, status).await;
        tracing::info!(image = %image, member = %project, status = status.key(), ok = outcome.is_ok(), "inbox answer, new version");
        let failed = outcome.is_err();
        answers.push(OfferAnswer { project_id: project.clone(), image_id: image.to_string(), outcome });
        if failed {
            break;
        }
    }
    let new_version = NewVersionAnswer {
        project_id: project,
        new: OldVersion { id: new_id.to_string(), name: new.display_name() },
        old,
    };
    Ok(OfferAnswers {
        status: MemberStatus::Accepted,
        needs_confirmation: false,
        items: vec![item.to_string()],
        answers,
        new_version: Some(new_version),
    })
}

/// Project `member`'s answer to the offer of `image`, made with its own token and recorded
/// in History as the inbox's.
async fn answer(
    caller: &Caller,
    glance: &Glance<'_>,
    actor: &Actor,
    image: &ImageId,
    member: &MemberId,
    status: MemberStatus,
) -> Result<MemberStatus, AppError> {
    let answered = glance.set_member_status(image, member, status).await.map(|m| m.status).map_err(AppError::from);
    let change = Change::Status(status);
    caller.state.audit.recorded(actor, Via::Inbox, image, change, Some(member.as_str()), answered).await
}
