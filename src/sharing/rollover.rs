//! Version rollover: an owned image's members are offered its new version in one reviewed
//! step, run on the batch engine (every pair and every image change with its outcome, retry,
//! History, the Terraform export of the new version's members).

use std::collections::HashMap;

use openstack::glance::{ImageQuery, SortBy, supports_hidden};

use super::{
    Caller,
    batch::{NewBatch, run},
    projects::project_names,
};
use crate::{
    error::AppError,
    model::{
        BatchOperation, BatchPair, Image, ImageId, ImageStep, ImageStepKind, ImageWords, Member, MemberId,
        MemberStatus, Rollover, RolloverForm, RolloverMember, RolloverOptions, RolloverPage, RolloverPlan, Successor,
        Via, Visibility, rollover::name_stem,
    },
};

/// How many of the project's newest images are searched for suggestions: versions of an image
/// are made after it, so the newest page holds them.
const SUGGEST_FROM: u32 = 200;
const MAX_SUGGESTIONS: usize = 10;

/// The old image, why it cannot be rolled over if so, and the suggested successors.
pub async fn page(caller: &Caller, image_id: &str) -> Result<RolloverPage, AppError> {
    let glance = caller.glance()?;
    let old = glance.image(&ImageId::parse(image_id)?).await?;
    let problem = refusal(caller, &old);
    let hide_supported = glance.api_versions().await.ok().map(|v| supports_hidden(&v));
    let suggestions = match (&problem, &old.owner) {
        (None, Some(owner)) => {
            let query = ImageQuery {
                owner: Some(owner.clone()),
                limit: Some(SUGGEST_FROM),
                sort: Some(SortBy::Newest),
                ..Default::default()
            };
            suggestions(&old, glance.images(&query).await?.images)
        }
        _ => Vec::new(),
    };
    Ok(RolloverPage { old, suggestions, hide_supported, is_admin: caller.me.is_admin(), problem })
}

/// Why `old` cannot be rolled over by the caller: only its owner (or an admin) offers a new
/// version, and only a shared image has members to offer it to.
fn refusal(caller: &Caller, old: &Image) -> Option<String> {
    let owned = old.owner.as_deref() == Some(caller.me.project_id.as_str());
    if !owned && !caller.me.is_admin() {
        return Some("Only the project that owns this image can publish a new version of it.".into());
    }
    (old.visibility != Visibility::Shared).then(|| {
        format!("It is {}: only a shared image has members to offer a new version to.", old.visibility.label())
    })
}

/// The project's images that look like newer versions of `old`: made after it, with the same
/// name stem or the same `os_distro` and `os_version`; newest first.
fn suggestions(old: &Image, images: Vec<Image>) -> Vec<Successor> {
    let stem = name_stem(&old.display_name());
    let distro = old.os_distro.as_ref().zip(old.os_version.as_ref());
    images
        .into_iter()
        .filter(|i| i.id != old.id && matches!(i.visibility, Visibility::Shared | Visibility::Private))
        .filter(|i| match (&i.created_at, &old.created_at) {
            // RFC 3339 in UTC, as Glance writes it: the text orders as the time does. Glance
            // counts whole seconds, so an image made in the same second is not older.
            (Some(new), Some(was)) => new >= was,
            _ => true,
        })
        .filter_map(|i| {
            let why = if name_stem(&i.display_name()) == stem {
                "same name stem"
            } else if distro.is_some() && i.os_distro.as_ref().zip(i.os_version.as_ref()) == distro {
                "same os_distro and os_version"
            } else {
                return None;
            };
            Some(Successor { image: i, why: why.into() })
        })
        .take(MAX_SUGGESTIONS)
        .collect()
}

/// What the rollover of the form would do, changing nothing.
pub async fn plan(caller: &Caller, form: &RolloverForm) -> Result<RolloverPlan, AppError> {
    let glance = caller.glance()?;
    let old_id = ImageId::parse(&form.image_id)?;
    let new_id = ImageId::parse(
        form.successor().ok_or_else(|| AppError::InvalidInput("Choose the new version (or type its ID).".into()))?,
    )?;
    if new_id == old_id {
        return Err(AppError::InvalidInput("Choose another image: this is the old version itself.".into()));
    }
    let options = form.options();
    if options.carry_accepted && !caller.me.is_admin() {
        return Err(AppError::InvalidInput(
            "Only an admin can carry accepted statuses over; members answer offers themselves.".into(),
        ));
    }
    let old = glance.image(&old_id).await?;
    if let Some(why) = refusal(caller, &old) {
        return Err(AppError::InvalidInput(why));
    }
    let new = glance.image(&new_id).await?;
    if new.owner != old.owner {
        return Err(AppError::InvalidInput("The new version must belong to the same project as the old one.".into()));
    }
    if !matches!(new.visibility, Visibility::Shared | Visibility::Private) {
        return Err(AppError::InvalidInput(format!(
            "{} is {}: every project can use it already, so it has no members.",
            new.display_name(),
            new.visibility.label()
        )));
    }
    if options.hide {
        let versions = glance.api_versions().await?;
        if !supports_hidden(&versions) {
            return Err(AppError::InvalidInput(
                "Hiding needs image API 2.7 (os_hidden), which this cloud's Glance does not offer.".into(),
            ));
        }
    }
    let old_members = glance.members(&old_id).await?;
    // A private image's members are hidden (403): it has none that matter until it is shared,
    // and an add that finds one is counted as done.
    let new_members: Vec<Member> = match new.visibility {
        Visibility::Shared => glance.members(&new_id).await?,
        _ => Vec::new(),
    };
    let members = members(&old_members, &new_members, options);
    let steps = steps(&old, &new, options);
    let projects = project_names(caller, members.iter().map(|m| m.member_id.clone()).collect()).await;
    let make_shared = new.visibility == Visibility::Private;
    Ok(RolloverPlan { old, new, options, make_shared, members, steps, projects })
}

/// Every member of the old image with what happens to it.
fn members(old: &[Member], new: &[Member], options: RolloverOptions) -> Vec<RolloverMember> {
    let on_new: HashMap<&str, MemberStatus> = new.iter().map(|m| (m.member_id.as_str(), m.status)).collect();
    old.iter()
        .map(|m| {
            let new_status = on_new.get(m.member_id.as_str()).copied();
            let malformed = MemberId::parse(&m.member_id).is_err();
            let carry = options.carry_accepted
                && !malformed
                && m.status == MemberStatus::Accepted
                && new_status != Some(MemberStatus::Accepted);
            RolloverMember {
                member_id: m.member_id.clone(),
                old_status: m.status,
                new_status,
                add: new_status.is_none() && !malformed,
                carry,
                // Glance takes it by no URL this dashboard sends (it may hold a slash).
                revoke_old: options.revoke_old && !malformed,
                malformed,
            }
        })
        .collect()
}

/// The image changes chosen, leaving out those already in effect.
fn steps(old: &Image, new: &Image, options: RolloverOptions) -> Vec<ImageStep> {
    let step = |image: &Image, kind| ImageStep {
        image_id: image.id.clone(),
        image_name: image.display_name(),
        kind,
        outcome: None,
    };
    let mut steps = Vec::new();
    if options.hide && !old.os_hidden {
        steps.push(step(old, ImageStepKind::Hide));
    }
    if options.protect && !old.protected {
        steps.push(step(old, ImageStepKind::Protect));
    }
    if options.annotate {
        if old.superseded_by.as_deref() != Some(new.id.as_str()) {
            steps.push(step(old, ImageStepKind::MarkSupersededBy(new.id.clone())));
        }
        if new.supersedes.as_deref() != Some(old.id.as_str()) {
            steps.push(step(new, ImageStepKind::MarkSupersedes(old.id.clone())));
        }
    }
    steps
}

/// Makes the plan again (the browser's copy is not trusted) and starts it on the batch engine.
pub async fn start(caller: &Caller, form: &RolloverForm) -> Result<String, AppError> {
    let plan = plan(caller, form).await?;
    if plan.members.iter().any(|m| m.carry) && form.confirm_carry.is_none() {
        return Err(AppError::InvalidInput(
            "Confirm that accepted statuses are set on the members' behalf (tick the box), or leave that option off."
                .into(),
        ));
    }
    if plan.is_empty() {
        return Err(AppError::InvalidInput(
            "Nothing to do: every member has the new version already, and no option is chosen.".into(),
        ));
    }
    let (old, new) = (&plan.old, &plan.new);
    let pair = |image: &Image, member: &RolloverMember, operation| BatchPair {
        image_id: image.id.clone(),
        image_name: image.display_name(),
        member_id: member.member_id.clone(),
        outcome: None,
        operation: Some(operation),
    };
    let mut pairs = Vec::new();
    for member in &plan.members {
        if member.add {
            pairs.push(pair(new, member, BatchOperation::Share));
        }
        if member.carry {
            pairs.push(pair(new, member, BatchOperation::SetStatus(MemberStatus::Accepted)));
        }
        if member.revoke_old {
            pairs.push(pair(old, member, BatchOperation::Revoke));
        }
    }
    let make_shared = if plan.make_shared { vec![ImageId::parse(&new.id)?] } else { Vec::new() };
    let rollover = Rollover {
        old_id: old.id.clone(),
        old_name: old.display_name(),
        new_id: new.id.clone(),
        new_name: new.display_name(),
    };
    let batch = NewBatch {
        operation: BatchOperation::Share,
        pairs,
        make_shared,
        projects: plan.projects,
        steps: plan.steps,
        rollover: Some(rollover),
        via: Via::Rollover,
    };
    run(caller, batch).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, name: &str, created: &str) -> Image {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": name, "created_at": created, "visibility": "shared", "owner": "p"
        }))
        .unwrap()
    }

    #[test]
    fn successors_are_newer_images_with_the_same_stem_or_distro() {
        let old = image("old", "ubuntu-24.04-20261101", "2026-11-01T00:00:00Z");
        let mut distro = image("d", "noble-build", "2026-11-20T00:00:00Z");
        distro.os_distro = Some("ubuntu".into());
        distro.os_version = Some("24.04".into());
        let mut old_with_distro = old.clone();
        old_with_distro.os_distro = Some("ubuntu".into());
        old_with_distro.os_version = Some("24.04".into());
        let images = vec![
            image("new", "ubuntu-24.04-20261201", "2026-12-01T00:00:00Z"),
            image("older", "ubuntu-24.04-20261001", "2026-10-01T00:00:00Z"),
            image("other", "debian-12-20261201", "2026-12-01T00:00:00Z"),
            old.clone(),
            distro,
        ];
        let found: Vec<(String, String)> =
            suggestions(&old_with_distro, images).into_iter().map(|s| (s.image.id, s.why)).collect();
        assert_eq!(
            found,
            vec![("new".into(), "same name stem".into()), ("d".into(), "same os_distro and os_version".into())]
        );
    }

    #[test]
    fn members_the_new_version_has_are_not_offered_again() {
        let member = |id: &str, status: &str| -> Member {
            serde_json::from_value(serde_json::json!({"member_id": id, "image_id": "x", "status": status})).unwrap()
        };
        let old = vec![
            member("a", "accepted"),
            member("b", "pending"),
            member("c", "rejected"),
            member("bad id!", "pending"),
        ];
        let new = vec![member("b", "pending")];
        let options = RolloverOptions { carry_accepted: true, revoke_old: true, ..Default::default() };
        let planned = members(&old, &new, options);
        let summary: Vec<(&str, bool, bool, bool)> =
            planned.iter().map(|m| (m.member_id.as_str(), m.add, m.carry, m.revoke_old)).collect();
        assert_eq!(
            summary,
            vec![
                ("a", true, true, true),
                ("b", false, false, true),
                ("c", true, false, true),
                ("bad id!", false, false, false)
            ]
        );
    }
}
