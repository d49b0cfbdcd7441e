//! What is offered to a project: the images shared with it, by its answer. For an admin's
//! token Glance ignores `member_status` and lists every shared image of the cloud, so each one
//! is confirmed with the project's member record.

use std::collections::HashMap;

use openstack::glance::{Glance, ImageQuery, SortBy};

use super::images::{SEARCH_LIMIT, row, stale_marker};
use crate::{
    error::AppError,
    model::{Image, ImageId, ImageList, ImageRow, ImageWords, MemberId, MemberStatus, OldVersion},
    session::SignedIn,
};

/// The answers a "Shared with me" status filter stands for: `all`, or one of them.
pub(super) fn answers(filter: &str) -> Result<Vec<MemberStatus>, AppError> {
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
    Ok(ImageList { rows, next_marker: None, owners: Default::default() })
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
pub(super) async fn offered_page(
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
                return Ok(ImageList { rows, next_marker: Some(next.to_string()), owners: Default::default() });
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
    Ok(ImageList { rows, next_marker: None, owners: Default::default() })
}

/// The image `new` replaces (its `supersedes`), as project `member` sees it: the old image
/// and the project's answer to it. `None` when `new` names no image ID, names itself, or the
/// image it names is gone, belongs to another owner (an owner cannot make an offer the "new
/// version" of another owner's image), or was never offered to the project.
pub(super) async fn replaced_image(
    glance: &Glance<'_>,
    new: &Image,
    member: &MemberId,
) -> Result<Option<(OldVersion, MemberStatus)>, AppError> {
    let Some(old) = new.supersedes.as_deref().and_then(|s| ImageId::parse(s).ok()) else { return Ok(None) };
    if old.as_str() == new.id {
        return Ok(None);
    }
    let (image, membership) = tokio::join!(glance.image(&old), glance.member(&old, member));
    let gone = |e: &openstack::UpstreamError| matches!(e.status(), Some(403 | 404));
    let image = match image {
        Ok(image) => image,
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let status = match membership {
        Ok(m) => m.status,
        Err(e) if gone(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if image.owner.is_none() || image.owner != new.owner {
        return Ok(None);
    }
    Ok(Some((OldVersion { id: old.to_string(), name: image.display_name() }, status)))
}

/// Marks the offers among `rows` (the project's listing) whose image replaces one of the same
/// owner that the project accepted: "new version of <old name>". The old image's answer is
/// read from `rows` when it is listed there; Glance is asked only for the rows that name an
/// old image not listed (hidden from lists, on another page), once per old image: ordinary
/// rows cost nothing. What cannot be read leaves a row unmarked, never fails the listing.
pub(super) async fn mark_new_versions(glance: &Glance<'_>, to: &OffersTo<'_>, rows: &mut [ImageRow]) {
    let Ok(member) = MemberId::parse(to.project_id) else { return };
    // Keyed by the old image and the new one's owner: only an image of the same owner counts.
    let olds: Vec<Option<(String, Option<String>)>> = rows
        .iter()
        .map(|r| {
            let old = r.image.supersedes.as_deref().and_then(|s| ImageId::parse(s).ok())?;
            (!r.owned && old.as_str() != r.image.id).then(|| (old.to_string(), r.image.owner.clone()))
        })
        .collect();
    let mut found: HashMap<(String, Option<String>), Option<OldVersion>> = HashMap::new();
    let mut ask: Vec<usize> = Vec::new();
    for (i, key) in olds.iter().enumerate() {
        let Some(key) = key else { continue };
        if found.contains_key(key) {
            continue;
        }
        match rows.iter().find(|r| r.image.id == key.0) {
            Some(listed) => {
                let accepted = listed.my_status == Some(MemberStatus::Accepted) && !listed.owned;
                let same_owner = listed.image.owner.is_some() && listed.image.owner == rows[i].image.owner;
                let label = (accepted && same_owner)
                    .then(|| OldVersion { id: listed.image.id.clone(), name: listed.image.display_name() });
                found.insert(key.clone(), label);
            }
            None => {
                found.insert(key.clone(), None);
                ask.push(i);
            }
        }
    }
    let asked = crate::concurrency::bounded(ask, to.concurrency, |i| {
        let (new, member) = (&rows[i].image, &member);
        async move {
            let replaced = replaced_image(glance, new, member).await;
            if let Err(e) = &replaced {
                tracing::warn!(image = %new.id, error = %e, "could not read the image it replaces");
            }
            let label = replaced.ok().flatten().filter(|(_, s)| *s == MemberStatus::Accepted).map(|(old, _)| old);
            (i, label)
        }
    })
    .await;
    for (i, label) in asked {
        if let Some(key) = &olds[i] {
            found.insert(key.clone(), label);
        }
    }
    for (row, key) in rows.iter_mut().zip(&olds) {
        row.new_version_of = key.as_ref().and_then(|k| found.get(k).cloned().flatten());
    }
}
