//! Image lists and the image page.

use openstack::glance::{Glance, ImageQuery, SortBy};

use super::{
    Caller,
    offers::{OfferMarker, OffersTo, answers, mark_new_versions, offered, offered_page},
    projects::project_names,
};
use crate::{
    audit::{self, Actor, Viewer},
    error::AppError,
    model::{
        Change, ImageDetails, ImageId, ImageList, ImageRow, ImageTab, ImageWords, MemberRow, MemberStatus, Via,
        Visibility, review,
    },
};

/// How many images a name search looks through (Glance only matches whole names).
pub(super) const SEARCH_LIMIT: u32 = 1000;

/// Which page of which image list, as the list's links and forms ask for it.
pub struct ListRequest {
    /// An `ImageTab` key.
    pub tab: String,
    /// Filters "Shared with me": pending, accepted, rejected or all.
    pub status: Option<String>,
    /// Finds names containing it.
    pub q: Option<String>,
    /// Where the page starts (from the previous page's `next_marker`).
    pub marker: Option<String>,
    /// `name` (the default) or `newest`.
    pub sort: Option<String>,
}

/// One page of images.
pub async fn list(caller: &Caller, request: ListRequest) -> Result<ImageList, AppError> {
    let ListRequest { tab, status, q, marker, sort } = request;
    let Caller { state, me, .. } = caller;
    let glance = caller.glance()?;
    let tab = ImageTab::from_key(&tab);
    let search = q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let tab_is_offers = tab == ImageTab::SharedWithMe;
    let marker_text = marker.filter(|m| !m.is_empty());
    // "Shared with me" pages through one answer after another: its marker names both.
    let marker = match &marker_text {
        Some(m) if !tab_is_offers => Some(ImageId::parse(m)?),
        _ => None,
    };
    let sort = SortBy::from_key(sort.as_deref());

    let mut list = match tab {
        ImageTab::SharedWithMe => {
            let statuses = answers(status.as_deref().unwrap_or("all"))?;
            let to = OffersTo::current(me, caller.concurrency());
            if search.is_some() {
                let mut found = offered(&glance, status.as_deref().unwrap_or("all"), &to).await?;
                if sort == SortBy::Newest {
                    // One list per answer, merged: sorted again as a whole (UTC RFC 3339
                    // times sort as text).
                    found.rows.sort_by(|a, b| b.image.created_at.cmp(&a.image.created_at));
                }
                found
            } else {
                let start = marker_text.as_deref().map(OfferMarker::parse).transpose()?;
                offered_page(&glance, &statuses, start, state.config.page_size, sort, &to).await?
            }
        }
        ImageTab::Mine | ImageTab::All => {
            let paging = search.is_none().then(|| marker.clone()).flatten();
            let query = ImageQuery {
                owner: (tab == ImageTab::Mine).then(|| me.project_id.clone()),
                limit: Some(if search.is_some() { SEARCH_LIMIT } else { state.config.page_size }),
                marker: paging.clone(),
                sort: Some(sort),
                ..ImageQuery::default()
            };
            let page = glance.images(&query).await.map_err(|e| stale_marker(e.into(), paging.is_some()))?;
            let rows = page.images.into_iter().map(|image| row(image, &me.project_id, None)).collect();
            ImageList {
                rows,
                next_marker: page.next_marker.filter(|_| search.is_none()).map(|m| m.to_string()),
                owners: Default::default(),
            }
        }
    };
    if let Some(q) = &search {
        list.rows.retain(|r| r.image.display_name().to_lowercase().contains(q) || r.image.id.contains(q.as_str()));
        if !tab_is_offers {
            page_of_found(&mut list, marker.as_ref(), state.config.page_size as usize)?;
        }
    }
    // Only the rows shown: one member listing per owned shared row on this page, no more.
    count_members(&glance, &mut list.rows, caller.concurrency()).await;
    if tab_is_offers {
        // Only rows naming an image they replace cost a lookup, and only when it is not listed.
        mark_new_versions(&glance, &OffersTo::current(me, caller.concurrency()), &mut list.rows).await;
        list.owners = project_names(caller, list.rows.iter().filter_map(|r| r.image.owner.clone()).collect()).await;
    }
    Ok(list)
}

/// A name search reads up to `SEARCH_LIMIT` images in one listing (Glance matches whole names
/// only) and shows what it found a page at a time, after the image `marker` names: a search
/// over a thousand images costs one listing and a page's member counts, not a thousand.
fn page_of_found(list: &mut ImageList, marker: Option<&ImageId>, page_size: usize) -> Result<(), AppError> {
    let start = match marker {
        None => 0,
        Some(m) => match list.rows.iter().position(|r| r.image.id == m.as_str()) {
            Some(i) => i + 1,
            None => {
                return Err(AppError::InvalidInput(
                    "This page of the search no longer exists: the image it started from is gone or no longer matches. Search again."
                        .into(),
                ));
            }
        },
    };
    let more = list.rows.len() > start + page_size;
    list.rows = list.rows.drain(start..).take(page_size).collect();
    list.next_marker = if more { list.rows.last().map(|r| r.image.id.clone()) } else { None };
    Ok(())
}

/// Glance answers 400 for a page marker it does not know: the image the page started from
/// was deleted since the link was made.
pub(super) fn stale_marker(e: AppError, paged: bool) -> AppError {
    match e {
        AppError::Rejected { code: 400, .. } if paged => AppError::InvalidInput(
            "This page of the list no longer exists: the image it started from is gone. Start again from the first page."
                .into(),
        ),
        e => e,
    }
}

pub(super) fn row(image: crate::model::Image, project_id: &str, my_status: Option<MemberStatus>) -> ImageRow {
    let owned = image.owner.as_deref() == Some(project_id);
    ImageRow { image, member_count: None, my_status, owned, new_version_of: None }
}

/// Member counts of owned shared images, fetched concurrently. A count that cannot be had
/// stays unknown rather than failing the list.
async fn count_members(glance: &Glance<'_>, rows: &mut [ImageRow], concurrency: usize) {
    let wanted: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.owned && r.image.visibility == Visibility::Shared)
        .map(|(i, _)| i)
        .collect();
    let ids: Vec<(usize, Option<ImageId>)> =
        wanted.iter().map(|&i| (i, ImageId::parse(&rows[i].image.id).ok())).collect();
    let counts = crate::concurrency::bounded(ids, concurrency, |(i, id)| async move {
        let count = match id {
            Some(id) => glance.members(&id).await.ok().map(|m| m.len()),
            None => None,
        };
        (i, count)
    })
    .await;
    for (i, count) in counts {
        rows[i].member_count = count;
    }
}

/// The image page: the image, its members (with project names where Keystone tells them),
/// what the current project may do with it, and a page of its History (the newest, or the one
/// older than entry `history_before`).
pub async fn details(
    caller: &Caller,
    image_id: String,
    history_before: Option<String>,
) -> Result<ImageDetails, AppError> {
    let Caller { state, me, .. } = caller;
    let glance = caller.glance()?;
    let id = ImageId::parse(&image_id)?;
    let history_before = history_page(history_before.as_deref())?;
    // Independent reads, so at once: the page waits for the slower, not for the sum. History is
    // read beside them as its owner sees it (whose it is comes with the image); a member is then
    // shown its part of it. Read after the image, it was a second wait, and on SQLite a second
    // hand-over to sqlx's worker thread and back: a fifth of the image page's server time.
    let (image, members, everything) = tokio::join!(
        glance.image(&id),
        glance.members(&id),
        state.audit.history(&me.cloud, &me.region, &id, Viewer::Everything, history_before)
    );
    let image = image?;
    let owned = image.owner.as_deref() == Some(me.project_id.as_str());
    // A private image's members are hidden; its owner gets 403 and the page explains.
    let members = members.map_err(AppError::from);
    if let Err(e) = &members
        && e.needs_sign_in()
    {
        return Err(e.clone());
    }
    let my_membership = members
        .as_ref()
        .ok()
        .and_then(|ms| ms.iter().find(|m| m.member_id == me.project_id).cloned())
        .filter(|_| !owned);
    let history = match everything {
        Ok(page) if !(owned || me.is_admin()) => match audit::seen_by(page, &me.project_id) {
            Some(mine) => Ok(mine),
            // More History than a page: the member's own page is another query.
            None => {
                let viewer = Viewer::Project(&me.project_id);
                state.audit.history(&me.cloud, &me.region, &id, viewer, history_before).await
            }
        },
        read => read,
    };
    let (history, older_history) = match history {
        Ok((entries, older)) => (Ok(entries), older),
        Err(e) => (Err(e), None),
    };
    // One lookup for every project the page names: members, the owner, History's members.
    let mut ids: Vec<String> = image.owner.iter().cloned().collect();
    ids.extend(members.iter().flatten().map(|m| m.member_id.clone()));
    ids.extend(history.iter().flatten().filter_map(|e| e.member_id.clone()));
    let projects = project_names(caller, ids).await;
    // The access review's flags, for this image alone.
    let now = Some(time::OffsetDateTime::now_utc());
    let pending_days = state.config.pending_days;
    // A member sees its own membership only: that is no count of the image's members.
    let member_count = members.as_ref().ok().filter(|_| owned || me.is_admin()).map(Vec::len);
    let flags = review::image_flags(&image, member_count, state.config.member_quota);
    let members = members.map(|members| {
        members
            .into_iter()
            .map(|member| {
                let project = projects.get(&member.member_id).cloned();
                let flags = review::member_flags(&member, project.as_ref(), pending_days, || now);
                MemberRow { member, project, flags }
            })
            .collect()
    });
    Ok(ImageDetails {
        image,
        owned,
        members,
        my_membership,
        is_admin: me.is_admin(),
        history,
        older_history,
        history_paged: history_before.is_some(),
        projects,
        directory: caller.directory().is_some(),
        flags,
    })
}

/// The `history_before` of a History page link: empty for the newest page, else an entry
/// number of the log.
fn history_page(before: Option<&str>) -> Result<Option<i64>, AppError> {
    match before.map(str::trim).filter(|b| !b.is_empty()) {
        None => Ok(None),
        Some(b) => match b.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(AppError::InvalidInput(format!("{b:?} is not a page of this image's History."))),
        },
    }
}

/// Changes an owned image's visibility (`shared` before sharing, `private` to hide it again).
pub async fn set_visibility(caller: &Caller, image_id: String, visibility: String) -> Result<(), AppError> {
    let Caller { state, me, .. } = caller;
    let id = ImageId::parse(&image_id)?;
    let visibility = match visibility.as_str() {
        "shared" => Visibility::Shared,
        "private" => Visibility::Private,
        other => {
            return Err(AppError::InvalidInput(format!(
                "glance-share changes visibility to shared or private only, not {other:?}."
            )));
        }
    };
    let changed = caller.glance()?.set_visibility(&id, visibility).await.map_err(AppError::from);
    let (actor, change) = (Actor::new(me), Change::Visibility(visibility));
    state.audit.recorded(&actor, Via::ImagePage, &id, change, None, changed).await?;
    tracing::info!(image = %id, visibility = visibility.label(), project = %me.project_id, "changed visibility");
    Ok(())
}
