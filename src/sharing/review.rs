//! The access review: every shared image a project owns (those hidden from lists too), with
//! every member of each, in one view. Its cost is bounded: the paged image listings plus
//! exactly one member listing per shared image, at the configured concurrency, and one names
//! lookup for every project at once.

use openstack::glance::{Glance, ImageQuery};

use super::{Caller, projects::project_names};
use crate::{
    error::AppError,
    model::{AccessReview, Image, MemberId, ReviewImage},
};

/// Images asked for per page of the listing (Glance caps it at its own maximum).
const PAGE: u32 = 200;
/// "Pending for long" after this many days.
pub const PENDING_DAYS: u32 = 14;

/// The review of project `owner`'s sharing: the current project's, or for an admin any
/// project's (`owner` names it by ID).
pub async fn review(caller: &Caller, owner: Option<&str>) -> Result<AccessReview, AppError> {
    let me = &caller.me;
    let owner = match owner.map(str::trim).filter(|o| !o.is_empty() && *o != me.project_id) {
        None => me.project_id.clone(),
        Some(_) if !me.is_admin() => {
            return Err(AppError::InvalidInput("Only an admin can review another project's sharing.".into()));
        }
        Some(other) => MemberId::parse(other)?.to_string(),
    };
    let glance = caller.glance()?;
    // Glance lists images hidden from lists only when asked: two listings, each paged.
    let mut images = listing(&glance, &owner, false).await?;
    images.extend(listing(&glance, &owner, true).await?);
    images.retain(AccessReview::lists);
    images.sort_by_key(|i| (i.name.clone().unwrap_or_default().to_lowercase(), i.id.clone()));
    images.dedup_by(|a, b| a.id == b.id);
    let images = crate::concurrency::bounded(images, caller.concurrency(), |image| {
        let glance = &glance;
        async move {
            let members = match openstack::ids::ImageId::parse(&image.id) {
                Ok(id) => glance.members(&id).await.map_err(AppError::from),
                Err(e) => Err(e.into()),
            };
            ReviewImage { image, members }
        }
    })
    .await;
    if let Some(expired) = images.iter().find_map(|i| i.members.as_ref().err().filter(|e| e.needs_sign_in())) {
        return Err(expired.clone());
    }
    let mut ids: Vec<String> =
        images.iter().flat_map(|i| i.members.iter().flatten()).map(|m| m.member_id.clone()).collect();
    ids.push(owner.clone());
    let projects = project_names(caller, ids).await;
    Ok(AccessReview {
        as_admin: owner != me.project_id,
        owner,
        images,
        projects,
        pending_days: PENDING_DAYS,
        quota: caller.state.config.member_quota,
        made_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    })
}

/// Every shared image of `owner`, page after page (`hidden`: only those hidden from lists).
async fn listing(glance: &Glance<'_>, owner: &str, hidden: bool) -> Result<Vec<Image>, AppError> {
    let mut images = Vec::new();
    let mut marker = None;
    loop {
        let query = ImageQuery {
            owner: Some(owner.to_string()),
            visibility: Some("shared"),
            limit: Some(PAGE),
            marker,
            hidden,
            ..ImageQuery::default()
        };
        let page = glance.images(&query).await?;
        images.extend(page.images);
        match page.next_marker {
            Some(next) => marker = Some(next),
            None => return Ok(images),
        }
    }
}

/// One membership as the exports write it.
#[derive(serde::Serialize)]
struct ExportRow<'a> {
    image_id: &'a str,
    image_name: String,
    image_status: &'a str,
    image_hidden: bool,
    member_id: &'a str,
    project_name: Option<&'a str>,
    project_domain: Option<&'a str>,
    status: &'static str,
    shared_since: &'a str,
    last_answer: &'a str,
    /// Space-separated flag keys.
    flags: String,
}

fn export_rows(review: &AccessReview) -> Vec<ExportRow<'_>> {
    use crate::model::{ImageWords, ProjectName};
    review
        .pairs()
        .map(|(image, member)| {
            let (name, domain) = match review.projects.get(&member.member_id) {
                Some(ProjectName::Named { name, domain }) => (Some(name.as_str()), domain.as_deref()),
                _ => (None, None),
            };
            let flags = review.member_flags(member).into_iter().chain(review.image_flags(image));
            ExportRow {
                image_id: &image.image.id,
                image_name: image.image.display_name(),
                image_status: image.image.status.as_deref().unwrap_or(""),
                image_hidden: image.image.os_hidden,
                member_id: &member.member_id,
                project_name: name,
                project_domain: domain,
                status: member.status.key(),
                shared_since: member.created_at.as_deref().unwrap_or(""),
                last_answer: member.updated_at.as_deref().unwrap_or(""),
                flags: flags.map(|f| f.key()).collect::<Vec<_>>().join(" "),
            }
        })
        .collect()
}

/// The whole review as CSV, one membership a row. A cell that a spreadsheet would take for a
/// formula (an image named `=HYPERLINK(…)`) is written with a leading `'`.
pub fn csv(review: &AccessReview) -> Result<String, AppError> {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let defuse = |s: &str| -> String {
        if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() }
    };
    out.write_record([
        "image_id",
        "image_name",
        "image_status",
        "image_hidden",
        "member_id",
        "project_name",
        "project_domain",
        "status",
        "shared_since",
        "last_answer",
        "flags",
    ])
    .map_err(AppError::internal)?;
    for row in export_rows(review) {
        out.write_record([
            defuse(row.image_id),
            defuse(&row.image_name),
            defuse(row.image_status),
            row.image_hidden.to_string(),
            defuse(row.member_id),
            defuse(row.project_name.unwrap_or("")),
            defuse(row.project_domain.unwrap_or("")),
            row.status.to_string(),
            row.shared_since.to_string(),
            row.last_answer.to_string(),
            row.flags,
        ])
        .map_err(AppError::internal)?;
    }
    String::from_utf8(out.into_inner().map_err(AppError::internal)?).map_err(AppError::internal)
}

/// The whole review as JSON: who, when, every membership, and the images whose members could
/// not be read.
pub fn json(review: &AccessReview) -> serde_json::Value {
    use crate::model::ImageWords;
    let unread: Vec<serde_json::Value> = review
        .images
        .iter()
        .filter_map(|i| {
            let e = i.members.as_ref().err()?;
            Some(serde_json::json!({"image_id": i.image.id, "image_name": i.image.display_name(), "error": e.to_string()}))
        })
        .collect();
    serde_json::json!({
        "owner": review.owner,
        "made_at": review.made_at,
        "memberships": export_rows(review),
        "unread_images": unread,
    })
}
