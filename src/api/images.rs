//! Image lists and the image page.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{ImageDetails, ImageList},
};

/// One page of images. `tab` is an `ImageTab` key; `status` filters "Shared with me"
/// (pending, accepted, rejected or all); `q` finds names containing it; `sort` is `name`
/// (the default) or `newest`.
#[server(endpoint = "images")]
pub async fn list_images(
    tab: String,
    status: Option<String>,
    q: Option<String>,
    marker: Option<String>,
    sort: Option<String>,
) -> Result<ImageList, AppError> {
    super::server::reply(listing::list(tab, status, q, marker, sort).await).await
}

/// The image page: the image, its members (with project names where Keystone tells them),
/// what the current project may do with it, and a page of its History (the newest, or the one
/// older than entry `history_before`).
#[server(endpoint = "image")]
pub async fn get_image(image_id: String, history_before: Option<String>) -> Result<ImageDetails, AppError> {
    super::server::reply(listing::details(image_id, history_before).await).await
}

/// Changes an owned image's visibility (`shared` before sharing, `private` to hide it again).
#[server(endpoint = "set_visibility")]
pub async fn set_visibility(image_id: String, visibility: String) -> Result<(), AppError> {
    super::server::reply(listing::set_visibility(image_id, visibility).await).await
}

#[cfg(feature = "ssr")]
pub(crate) use listing::{OffersTo, offered as offered_to, project_names as project_names_for};

#[cfg(feature = "ssr")]
mod listing {
    use std::collections::HashMap;

    use super::super::server;
    use crate::model::ImageWords;
    use crate::{
        audit::{Actor, Viewer},
        error::AppError,
        model::{
            Change, ImageDetails, ImageId, ImageList, ImageRow, ImageTab, MemberId, MemberRow, MemberStatus, Via,
            Visibility,
        },
        session::{self, SignedIn},
    };
    use openstack::glance::{Glance, ImageQuery, SortBy};

    /// How many images a name search looks through (Glance only matches whole names).
    const SEARCH_LIMIT: u32 = 1000;

    pub async fn list(
        tab: String,
        status: Option<String>,
        q: Option<String>,
        marker: Option<String>,
        sort: Option<String>,
    ) -> Result<ImageList, AppError> {
        let state = server::state()?;
        let (_, me) = server::signed_in().await?;
        let glance = server::glance(&state, &me)?;
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
                let to = OffersTo::current(&me, state.config.batch_concurrency);
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
                let paging = search.is_none().then_some(marker).flatten();
                let query = ImageQuery {
                    owner: (tab == ImageTab::Mine).then(|| me.project_id.clone()),
                    limit: Some(if search.is_some() { SEARCH_LIMIT } else { state.config.page_size }),
                    marker: paging.clone(),
                    sort: Some(sort),
                    ..ImageQuery::default()
                };
                let page = glance.images(&query).await.map_err(|e| stale_marker(e.into(), paging.is_some()))?;
                let rows = page.images.into_iter().map(|image| row(image, &me.project_id, None)).collect();
                ImageList { rows, next_marker: page.next_marker.filter(|_| search.is_none()).map(|m| m.to_string()) }
            }
        };
        if let Some(q) = &search {
            list.rows.retain(|r| r.image.display_name().to_lowercase().contains(q) || r.image.id.contains(q.as_str()));
        }
        count_members(&glance, &mut list.rows, state.config.batch_concurrency).await;
        Ok(list)
    }

    /// Glance answers 400 for a page marker it does not know: the image the page started from
    /// was deleted since the link was made.
    fn stale_marker(e: AppError, paged: bool) -> AppError {
        match e {
            AppError::Rejected { code: 400, .. } if paged => AppError::InvalidInput(
                "This page of the list no longer exists: the image it started from is gone. Start again from the first page."
                    .into(),
            ),
            e => e,
        }
    }

    fn row(image: crate::model::Image, project_id: &str, my_status: Option<MemberStatus>) -> ImageRow {
        let owned = image.owner.as_deref() == Some(project_id);
        ImageRow { image, member_count: None, my_status, owned }
    }

    /// The answers a "Shared with me" status filter stands for: `all`, or one of them.
    fn answers(filter: &str) -> Result<Vec<MemberStatus>, AppError> {
        match filter {
            "all" => Ok(MemberStatus::CHOICES.to_vec()),
            one => Ok(vec![crate::model::member_status(one)?]),
        }
    }

    /// The project offers are listed for (the one whose token `Glance` carries), and whether
    /// Glance's answer must be confirmed image by image: for an admin's token Glance ignores
    /// `member_status` and lists every shared image of the cloud, under every answer.
    pub struct OffersTo<'a> {
        pub project_id: &'a str,
        pub admin: bool,
        /// Member lookups in flight at once while confirming.
        pub concurrency: usize,
    }

    impl<'a> OffersTo<'a> {
        /// The signed-in user's current project.
        pub fn current(me: &'a SignedIn, concurrency: usize) -> OffersTo<'a> {
            OffersTo { project_id: &me.project_id, admin: me.is_admin(), concurrency }
        }
    }

    /// Each image's answer for the project as its member record says, `None` for no member
    /// record: looked up once per listing, however many answers it goes through.
    type Confirmed = HashMap<String, Option<MemberStatus>>;

    /// The offers answered `status` among `images`, which Glance listed for that answer. An
    /// image the project owns is never an offer to it, whatever Glance's filter says; for an
    /// admin, only images whose member record for the project has that answer are offers.
    async fn offers_among(
        glance: &Glance<'_>,
        to: &OffersTo<'_>,
        confirmed: &mut Confirmed,
        images: Vec<crate::model::Image>,
        status: MemberStatus,
    ) -> Result<Vec<ImageRow>, AppError> {
        let mut images: Vec<_> = images.into_iter().filter(|i| i.owner.as_deref() != Some(to.project_id)).collect();
        if to.admin {
            let member = MemberId::parse(to.project_id)?;
            let unknown: Vec<String> =
                images.iter().map(|i| i.id.clone()).filter(|id| !confirmed.contains_key(id)).collect();
            let looked_up = crate::concurrency::bounded(unknown, to.concurrency, |id| {
                let member = &member;
                async move {
                    let found = match ImageId::parse(&id) {
                        Ok(image) => match glance.member(&image, member).await {
                            Ok(record) => Ok(Some(record.status)),
                            // No member record: not offered to this project at all.
                            Err(e) if e.status() == Some(404) => Ok(None),
                            Err(e) => Err(AppError::from(e)),
                        },
                        Err(_) => Ok(None),
                    };
                    (id, found)
                }
            })
            .await;
            for (id, found) in looked_up {
                confirmed.insert(id, found?);
            }
            images.retain(|i| confirmed.get(&i.id) == Some(&Some(status)));
        }
        Ok(images.into_iter().map(|image| row(image, to.project_id, Some(status))).collect())
    }

    /// Images offered to `to`'s project. Glance's default listing hides pending and rejected
    /// offers, so each status is asked for explicitly.
    pub async fn offered(glance: &Glance<'_>, status: &str, to: &OffersTo<'_>) -> Result<ImageList, AppError> {
        let statuses = answers(status)?;
        let pages = crate::concurrency::bounded(statuses.clone(), 3, |s| async move {
            let query = ImageQuery {
                visibility: Some("shared"),
                member_status: Some(s.key()),
                limit: Some(SEARCH_LIMIT),
                sort: Some(SortBy::Name),
                ..ImageQuery::default()
            };
            glance.images(&query).await.map(|page| (s, page))
        })
        .await;
        let mut rows = Vec::new();
        let mut confirmed = Confirmed::new();
        for page in pages {
            let (status, page) = page?;
            rows.extend(offers_among(glance, to, &mut confirmed, page.images, status).await?);
        }
        Ok(ImageList { rows, next_marker: None })
    }

    /// Where a page of "Shared with me" starts: in the list of one answer, after an image or
    /// at its beginning. Written `pending`, or `accepted:<image id>`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct OfferMarker {
        status: MemberStatus,
        after: Option<ImageId>,
    }

    impl OfferMarker {
        pub fn parse(text: &str) -> Result<OfferMarker, AppError> {
            let (status, after) = match text.split_once(':') {
                Some((status, id)) => (status, Some(ImageId::parse(id)?)),
                None => (text, None),
            };
            Ok(OfferMarker { status: crate::model::member_status(status)?, after })
        }
    }

    impl std::fmt::Display for OfferMarker {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match &self.after {
                Some(id) => write!(f, "{}:{id}", self.status.key()),
                None => f.write_str(self.status.key()),
            }
        }
    }

    /// One page of "Shared with me": the offers of each answer in turn (pending, accepted,
    /// rejected), each list paged by Glance, until the page is full. Images that turn out not
    /// to be offers (owned, or for an admin not offered) make it read on, not end the page short.
    async fn offered_page(
        glance: &Glance<'_>,
        statuses: &[MemberStatus],
        start: Option<OfferMarker>,
        page_size: u32,
        sort: SortBy,
        to: &OffersTo<'_>,
    ) -> Result<ImageList, AppError> {
        let mut rows = Vec::new();
        let mut confirmed = Confirmed::new();
        let first = start.as_ref().and_then(|m| statuses.iter().position(|s| *s == m.status)).unwrap_or(0);
        let mut after = start.and_then(|m| m.after);
        for &status in statuses.iter().skip(first) {
            loop {
                let room = page_size.saturating_sub(rows.len() as u32);
                if room == 0 {
                    let next = OfferMarker { status, after };
                    return Ok(ImageList { rows, next_marker: Some(next.to_string()) });
                }
                let query = ImageQuery {
                    visibility: Some("shared"),
                    member_status: Some(status.key()),
                    limit: Some(room),
                    marker: after.take(),
                    sort: Some(sort),
                    ..ImageQuery::default()
                };
                let paged = query.marker.is_some();
                let page = glance.images(&query).await.map_err(|e| stale_marker(e.into(), paged))?;
                rows.extend(offers_among(glance, to, &mut confirmed, page.images, status).await?);
                match page.next_marker {
                    Some(marker) => after = Some(marker),
                    None => break,
                }
            }
        }
        Ok(ImageList { rows, next_marker: None })
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

    pub async fn details(image_id: String, history_before: Option<String>) -> Result<ImageDetails, AppError> {
        let state = server::state()?;
        let (session, me) = server::signed_in().await?;
        let glance = server::glance(&state, &me)?;
        let id = ImageId::parse(&image_id)?;
        let history_before = history_page(history_before.as_deref())?;
        // Independent reads, so at once: the page waits for the slower, not for the sum.
        let (image, members) = tokio::join!(glance.image(&id), glance.members(&id));
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
        let members = match members {
            Ok(members) => {
                let names =
                    project_names(&state, &session, &me, members.iter().map(|m| m.member_id.clone()).collect()).await;
                Ok(members
                    .into_iter()
                    .map(|member| {
                        let project_name = names.get(&member.member_id).cloned();
                        MemberRow { member, project_name }
                    })
                    .collect())
            }
            Err(e) => Err(e),
        };
        let viewer = if owned || me.is_admin() { Viewer::Everything } else { Viewer::Project(&me.project_id) };
        let (history, older_history) =
            match state.audit.history(&me.cloud, &me.region, &id, viewer, history_before).await {
                Ok((entries, older)) => (Ok(entries), older),
                Err(e) => (Err(e), None),
            };
        Ok(ImageDetails {
            image,
            owned,
            members,
            my_membership,
            is_admin: me.is_admin(),
            history,
            older_history,
            history_paged: history_before.is_some(),
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

    /// Names of member projects: the user's own projects are known; others are asked of
    /// Keystone, which refuses ordinary users (then the first refusal stops the asking).
    pub async fn project_names(
        state: &crate::state::AppState,
        session: &tower_sessions::Session,
        me: &SignedIn,
        ids: Vec<String>,
    ) -> HashMap<String, String> {
        let mut names: HashMap<String, String> = me.projects.iter().map(|p| (p.id.clone(), p.name.clone())).collect();
        names.insert(me.project_id.clone(), me.project_name.clone());
        let unknown: Vec<MemberId> =
            ids.iter().filter(|id| !names.contains_key(*id)).filter_map(|id| MemberId::parse(id).ok()).collect();
        let Some(first) = unknown.first() else { return names };
        if session::project_lookup_refused(session, &me.project_id).await {
            return names;
        }
        let Ok(keystone) = server::keystone(state, me) else { return names };
        match keystone.project(&me.token, first).await {
            Ok(found) => {
                if let Some(p) = found {
                    names.insert(p.id, p.name);
                }
                let rest = crate::concurrency::bounded(unknown[1..].to_vec(), state.config.batch_concurrency, |id| {
                    let keystone = &keystone;
                    async move { keystone.project(&me.token, &id).await.ok().flatten() }
                })
                .await;
                names.extend(rest.into_iter().flatten().map(|p| (p.id, p.name)));
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

    pub async fn set_visibility(image_id: String, visibility: String) -> Result<(), AppError> {
        let state = server::state()?;
        let (_, me) = server::signed_in().await?;
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
        let changed = server::glance(&state, &me)?.set_visibility(&id, visibility).await.map_err(AppError::from);
        let (actor, change) = (Actor::new(&me), Change::Visibility(visibility));
        state.audit.recorded(&actor, Via::ImagePage, &id, change, None, changed).await?;
        tracing::info!(image = %id, visibility = visibility.label(), project = %me.project_id, "changed visibility");
        Ok(())
    }
}
