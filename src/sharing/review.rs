//! The access review: every shared image a project owns (those hidden from lists too), with
//! every member of each, in one view. Its cost is bounded: the paged image listings plus
//! exactly one member listing per shared image, at the configured concurrency, and one names
//! lookup for every project at once.

use openstack::glance::{Glance, ImageQuery};

use std::time::Duration;

use super::{Caller, projects::project_names};
use crate::{
    error::AppError,
    model::{AccessReview, Image, MemberId, ReviewImage, ReviewPage},
    reviews::{Answer, Progress, ReviewKey},
};

/// Images asked for per page of the listing (Glance caps it at its own maximum).
const PAGE: u32 = 200;

/// How long the page waits for a review before it shows how far the review got (and asks
/// again by itself): most reviews are done by then, and the page shows them at once.
const PAGE_WAIT: Duration = Duration::from_millis(1500);

/// The review page: the review of project `owner` (see `review`), or, while it is still being
/// read, how far it got. One review runs at a time for the same user and project reviewed: a
/// page asking again joins it, and never reads the same image's members twice. `run` is the
/// run a "Reading…" page watches (`ReviewProgress::run`): only that page is shown it finished.
pub async fn page(caller: &Caller, owner: Option<&str>, run: Option<u64>) -> Result<ReviewPage, AppError> {
    let me = &caller.me;
    let key = ReviewKey {
        cloud: me.cloud.clone(),
        user_id: me.user_id.clone(),
        project_id: me.project_id.clone(),
        region: me.region.clone(),
        owner: owner.map(str::trim).filter(|o| !o.is_empty()).map(str::to_string),
    };
    let (background, owner) = (caller.clone(), key.owner.clone());
    let answer = caller
        .state
        .reviews
        .answer(key, run, PAGE_WAIT, move |progress| async move {
            review_with_progress(&background, owner.as_deref(), &progress).await
        })
        .await;
    match answer {
        Answer::Done(review) => review.map(ReviewPage::Ready),
        Answer::Reading(progress) => Ok(ReviewPage::Reading(progress)),
    }
}

/// The review of project `owner`'s sharing: the current project's, or for an admin any
/// project's (`owner` names it by ID).
pub async fn review(caller: &Caller, owner: Option<&str>) -> Result<AccessReview, AppError> {
    review_with_progress(caller, owner, &Progress::default()).await
}

/// `review`, telling `progress` how far it got.
async fn review_with_progress(
    caller: &Caller,
    owner: Option<&str>,
    progress: &Progress,
) -> Result<AccessReview, AppError> {
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
    progress.listed(images.len());
    let images = crate::concurrency::bounded(images, caller.concurrency(), |image| {
        let glance = &glance;
        async move {
            let members = match openstack::ids::ImageId::parse(&image.id) {
                Ok(id) => glance.members(&id).await.map_err(AppError::from),
                Err(e) => Err(e.into()),
            };
            progress.read_one();
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
        pending_days: caller.state.config.pending_days,
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

/// Terraform / OpenTofu for every membership of the review at once, each with its `import`
/// block: an estate shared by hand is adopted into code in one step. Images whose members
/// could not be read are named in a comment at the top, so the file never claims to be whole
/// when it is not.
pub fn terraform(review: &AccessReview, provider: &str) -> Result<crate::model::TerraformFile, AppError> {
    use crate::{
        model::{ImageWords, Provider},
        terraform::{ExportImage, ExportMember, images_hcl},
    };
    let provider = Provider::from_key(provider)
        .ok_or_else(|| AppError::InvalidInput(format!("{provider:?} is not a provider glance-share writes for.")))?;
    let labels: std::collections::HashMap<&str, String> =
        review.projects.iter().filter_map(|(id, n)| n.label().map(|l| (id.as_str(), l))).collect();
    let names: Vec<String> = review.images.iter().map(|i| i.image.display_name()).collect();
    let images: Vec<ExportImage> = review
        .images
        .iter()
        .zip(&names)
        .filter_map(|(image, name)| {
            let members = image.members.as_ref().ok()?;
            Some(ExportImage {
                image_id: &image.image.id,
                image_name: name,
                members: members
                    .iter()
                    .map(|m| ExportMember {
                        member_id: &m.member_id,
                        status: m.status.key(),
                        project: labels.get(m.member_id.as_str()).map(String::as_str),
                    })
                    .collect(),
            })
        })
        .filter(|i| !i.members.is_empty())
        .collect();
    let mut text = String::new();
    for (image, name) in review.images.iter().zip(&names) {
        if let Err(e) = &image.members {
            // One line, whatever the error says: a comment must not run into the HCL.
            let why = e.to_string().replace(['\n', '\r'], " ");
            text.push_str(&format!(
                "# Not included: the members of image {name} ({}) could not be read: {why}\n",
                image.image.id
            ));
        }
    }
    text.push_str(&images_hcl(provider, &images));
    Ok(crate::model::TerraformFile { file_name: format!("access-review-{}.tf", review.owner), text })
}
