//! Batches: the plan of many images × many projects (changing nothing), its run on the batch
//! engine (`crate::batch`) with a result for every pair, retry of what failed, and the
//! Terraform export of what a batch left in place.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use super::{
    Caller,
    projects::{check_each, project_names},
};
use crate::{
    batch::{Job, Owner, grouped},
    error::AppError,
    model::{
        BatchListing, BatchOperation, BatchPair, BatchPlan, BatchView, IdError, Image, ImageId, ImageStep, ImageWords,
        Member, MemberId, PairOutcome, PlanImage, PlanPair, ProjectCheck, ProjectName, RanIn, Rollover, Selection,
        TerraformFile, Via, Visibility, ids::parse_member_list,
    },
    session::SignedIn,
};

const MAX_IMAGES: usize = 100;
const MAX_PAIRS: usize = 2000;

fn owner(me: &SignedIn) -> Owner {
    Owner { cloud: me.cloud.clone(), user_id: me.user_id.clone() }
}

/// A batch as the form describes it: images × projects, or (from the access review and the
/// image page's ticked rows) a list of image × project pairs, or a one-click choice of the
/// review.
pub struct BatchRequest<'a> {
    pub images: &'a str,
    pub members: &'a str,
    pub operation: &'a str,
    pub status: Option<&'a str>,
    pub make_shared: bool,
    /// `IMAGE_ID:MEMBER` pairs, one a line: these pairs exactly, in place of images × members.
    pub pairs: &'a str,
    /// A one-click choice of the access review (`Selection::key`), of project `owner`'s review.
    pub select: &'a str,
    pub owner: Option<&'a str>,
}

/// The batch form's fields as posted (plan and start take the same form).
pub struct BatchForm {
    pub images: String,
    pub members: String,
    pub operation: String,
    pub status: Option<String>,
    pub make_shared: Option<String>,
    pub pairs: Option<String>,
    pub select: Option<String>,
    pub owner: Option<String>,
}

impl BatchForm {
    pub fn request(&self) -> BatchRequest<'_> {
        BatchRequest {
            images: &self.images,
            members: &self.members,
            operation: &self.operation,
            status: self.status.as_deref(),
            make_shared: self.make_shared.is_some(),
            pairs: self.pairs.as_deref().unwrap_or_default(),
            select: self.select.as_deref().unwrap_or_default(),
            owner: self.owner.as_deref().filter(|o| !o.trim().is_empty()),
        }
    }
}

/// One image of a plan as looked up: the image (or why it could not be read) and its members
/// now (none for a private image).
type LookedUp = (ImageId, Result<Image, AppError>, Option<Vec<Member>>);

/// A project a pair names: as typed, parsed, and why sharing with it is refused, if it is.
type Wanted = (String, Result<MemberId, IdError>, Option<String>);

/// What a plan is made for. The plan shown reads each image's members (to say "already a
/// member" or "not a member"); the plan a batch runs does not: those words decide nothing (every
/// such pair runs, and Glance's answer is its outcome), and reading the members doubled the
/// calls made before the batch's first pair.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Show,
    Run,
}

/// What a batch would do, changing nothing: every pair with what is expected of it.
pub async fn plan(caller: &Caller, request: &BatchRequest<'_>) -> Result<BatchPlan, AppError> {
    plan_for(caller, request, Purpose::Show).await
}

async fn plan_for(caller: &Caller, request: &BatchRequest<'_>, purpose: Purpose) -> Result<BatchPlan, AppError> {
    let me = &caller.me;
    let operation = BatchOperation::parse(request.operation, request.status)?;
    if matches!(operation, BatchOperation::SetStatus(_)) && !me.is_admin() {
        return Err(AppError::InvalidInput(
            "Only an admin can set members' statuses; members answer offers themselves.".into(),
        ));
    }
    if !request.select.trim().is_empty() {
        return plan_selection(caller, request, operation).await;
    }
    if !request.pairs.trim().is_empty() {
        return plan_pairs(caller, request.pairs, operation, purpose).await;
    }
    plan_product(caller, request, operation, purpose).await
}

/// Every chosen image × every pasted project.
async fn plan_product(
    caller: &Caller,
    request: &BatchRequest<'_>,
    operation: BatchOperation,
    purpose: Purpose,
) -> Result<BatchPlan, AppError> {
    let BatchRequest { images, members, make_shared, .. } = *request;
    let mut seen = HashSet::new();
    let image_ids: Vec<ImageId> = images
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(ImageId::parse)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    if image_ids.is_empty() {
        return Err(AppError::InvalidInput("Choose at least one image (tick them in My images).".into()));
    }
    if image_ids.len() > MAX_IMAGES {
        return Err(AppError::InvalidInput(format!("At most {MAX_IMAGES} images at a time.")));
    }
    let mut parsed = parse_member_list(members);
    if parsed.is_empty() {
        return Err(AppError::InvalidInput("Enter at least one project ID.".into()));
    }
    if parsed.len() * image_ids.len() > MAX_PAIRS {
        return Err(AppError::InvalidInput(format!("At most {MAX_PAIRS} image × project pairs at a time.")));
    }
    // Sharing follows the image page's rule for each project (`ProjectCheck::is_refused`), and
    // a name the directory resolved becomes its project's ID here, so every pair names an ID; a
    // revoke or a status names members as Glance already has them, whatever they look like.
    let mut resolved = Vec::new();
    let (refusals, unchecked): (Vec<Option<String>>, Vec<String>) = match operation {
        BatchOperation::Share => {
            let checks = check_each(caller, parsed.clone()).await?;
            let unchecked = checks.iter().filter(|(_, c)| matches!(c, ProjectCheck::Unchecked { looks_like_id: true }));
            let unchecked = unchecked.map(|(raw, _)| raw.clone()).collect();
            for ((raw, entry), (_, check)) in parsed.iter_mut().zip(&checks) {
                if let ProjectCheck::ByName(found) = check {
                    resolved.push((raw.clone(), found.clone()));
                    *entry = MemberId::parse(&found.id);
                }
            }
            (checks.iter().map(|(_, c)| c.is_refused().then(|| c.describe())).collect(), unchecked)
        }
        _ => (vec![None; parsed.len()], Vec::new()),
    };
    // What "Run" sends: the IDs, never the names (the run makes the plan again from them).
    let run_members = parsed
        .iter()
        .map(|(raw, m)| m.as_ref().map(|m| m.to_string()).unwrap_or_else(|_| raw.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    let wanted: Vec<Wanted> =
        parsed.into_iter().zip(refusals).map(|((raw, member), refusal)| (raw, member, refusal)).collect();
    let looked_up = look_up(caller, image_ids, purpose).await;
    let mut plan = assemble(caller, operation, make_shared, looked_up, None, |_| wanted.clone()).await?;
    plan.members = wanted
        .into_iter()
        .map(|(raw, member, refusal)| (raw, member.err().map(|e| e.to_string()).or(refusal)))
        .collect();
    Ok(BatchPlan { unchecked, resolved, run_members, ..plan })
}

/// These image × project pairs exactly (`IMAGE_ID:MEMBER`, one a line): the review's and the
/// image page's ticked rows. Revoke or (an admin) set status: sharing takes images × projects.
async fn plan_pairs(
    caller: &Caller,
    text: &str,
    operation: BatchOperation,
    purpose: Purpose,
) -> Result<BatchPlan, AppError> {
    if operation == BatchOperation::Share {
        return Err(AppError::InvalidInput(
            "Chosen pairs can be revoked (or have their status set by an admin); share images × projects instead."
                .into(),
        ));
    }
    let mut seen = HashSet::new();
    let mut chosen: Vec<(ImageId, Wanted)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((image, member)) = line.split_once(':') else {
            return Err(AppError::InvalidInput(format!("{line:?} is not an image ID:project pair.")));
        };
        let image = ImageId::parse(image)?;
        if !seen.insert((image.clone(), member.trim().to_string())) {
            continue;
        }
        if seen.len() > MAX_PAIRS {
            return Err(AppError::InvalidInput(format!("At most {MAX_PAIRS} image × project pairs at a time.")));
        }
        chosen.push((image, (member.trim().to_string(), MemberId::parse(member), None)));
    }
    let by_image = grouped(chosen);
    if by_image.is_empty() {
        return Err(AppError::InvalidInput("Choose at least one image and project (tick them).".into()));
    }
    let looked_up = look_up(caller, by_image.iter().map(|(id, _)| id.clone()).collect(), purpose).await;
    let mut plan = assemble(caller, operation, false, looked_up, None, |id| {
        by_image.iter().find(|(i, _)| i == id).map(|(_, w)| w.clone()).unwrap_or_default()
    })
    .await?;
    plan.run_pairs = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n");
    Ok(plan)
}

/// A one-click choice of the access review: the review is read now, and its pairs planned
/// from what it read (no second read of any image).
async fn plan_selection(
    caller: &Caller,
    request: &BatchRequest<'_>,
    operation: BatchOperation,
) -> Result<BatchPlan, AppError> {
    let selection = Selection::parse(request.select)?;
    if operation != BatchOperation::Revoke {
        return Err(AppError::InvalidInput("The access review's choices are for revoking.".into()));
    }
    let review = super::review::review(caller, request.owner).await?;
    let chosen = review.selected(&selection);
    if chosen.is_empty() {
        return Err(AppError::InvalidInput(format!(
            "The review now finds nothing for this choice ({}): there is nothing to revoke.",
            selection.describe(review.pending_days)
        )));
    }
    let wanted: Vec<(String, Vec<Wanted>)> = grouped(chosen.iter().map(|(image, member)| {
        (image.image.id.clone(), (member.member_id.clone(), MemberId::parse(&member.member_id), None))
    }));
    if chosen.len() > MAX_PAIRS {
        return Err(AppError::InvalidInput(format!(
            "This choice holds {} pairs; at most {MAX_PAIRS} run at a time.",
            chosen.len()
        )));
    }
    let looked_up = review
        .images
        .iter()
        .filter(|i| wanted.iter().any(|(id, _)| *id == i.image.id))
        .filter_map(|i| {
            let id = ImageId::parse(&i.image.id).ok()?;
            Some((id, Ok(i.image.clone()), i.members.as_ref().ok().cloned()))
        })
        .collect();
    // The review already named its members: no second lookup.
    let mut plan = assemble(caller, operation, false, looked_up, Some(&review.projects), |id| {
        wanted.iter().find(|(i, _)| i == id.as_str()).map(|(_, w)| w.clone()).unwrap_or_default()
    })
    .await?;
    let mut chose = selection.describe(review.pending_days);
    if review.as_admin {
        chose.push_str(&format!(" of project {}'s images (as an admin)", review.owner));
    }
    plan.chosen = Some(chose);
    plan.select = selection.key();
    plan.owner = review.as_admin.then(|| review.owner.clone());
    Ok(plan)
}

/// Each image, with its members now for a plan shown, at the configured concurrency.
async fn look_up(caller: &Caller, image_ids: Vec<ImageId>, purpose: Purpose) -> Vec<LookedUp> {
    let glance = match caller.glance() {
        Ok(glance) => glance,
        Err(e) => return image_ids.into_iter().map(|id| (id, Err(e.clone()), None)).collect(),
    };
    crate::concurrency::bounded(image_ids, caller.concurrency(), |id| {
        let glance = &glance;
        async move {
            let image = glance.image(&id).await.map_err(AppError::from);
            let members = match &image {
                Ok(i) if i.visibility == Visibility::Shared && purpose == Purpose::Show => {
                    glance.members(&id).await.ok()
                }
                _ => None,
            };
            (id, image, members)
        }
    })
    .await
}

/// The plan of each looked-up image with the projects `wanted` names for it. The projects'
/// names come from `known` when the caller has them already, else from one lookup.
async fn assemble(
    caller: &Caller,
    operation: BatchOperation,
    make_shared: bool,
    looked_up: Vec<LookedUp>,
    known: Option<&HashMap<String, ProjectName>>,
    wanted: impl Fn(&ImageId) -> Vec<Wanted>,
) -> Result<BatchPlan, AppError> {
    let mut plan_images = Vec::new();
    let mut pairs = Vec::new();
    let mut named = Vec::new();
    for (id, image, current) in looked_up {
        let wanted = wanted(&id);
        named.extend(wanted.iter().filter_map(|(_, m, _)| m.as_ref().ok().map(ToString::to_string)));
        let image = match image {
            Ok(image) => image,
            Err(e) => {
                if e.needs_sign_in() {
                    return Err(e);
                }
                // Not "skipped": an upstream failure is a failure, retried once it passes.
                let fails_with = PairOutcome::from_error(&e);
                plan_images.push(PlanImage {
                    id: id.to_string(),
                    name: id.to_string(),
                    visibility: Visibility::Unknown,
                    member_count: None,
                    quota: None,
                    problem: Some(e.to_string()),
                });
                for (raw, member, _) in &wanted {
                    pairs.push(PlanPair {
                        image_id: id.to_string(),
                        member_id: member.as_ref().map(|m| m.to_string()).unwrap_or_else(|_| raw.clone()),
                        expect: format!("image not available: {}", fails_with.describe(operation)),
                        will_run: false,
                        fails_with: Some(fails_with.clone()),
                    });
                }
                continue;
            }
        };
        let current_ids: HashSet<String> = current.iter().flatten().map(|m| m.member_id.clone()).collect();
        let problem = match (operation, image.visibility) {
            (_, Visibility::Shared) => None,
            (BatchOperation::Share, Visibility::Private) if make_shared => None,
            (BatchOperation::Share, Visibility::Private) => {
                Some("private: choose \u{201c}make private images shared\u{201d} to share it".to_string())
            }
            (_, Visibility::Private) => Some("private: its members are hidden until it is shared again".into()),
            (_, v) => Some(format!("{}: every project can use it already; it has no members", v.label())),
        };
        for (raw, member, refusal) in &wanted {
            let (expect, will_run) = match (member, refusal, &problem) {
                (Err(e), _, _) => (format!("malformed ID: {e}"), false),
                (Ok(_), Some(why), _) => (format!("refused: {why}"), false),
                (Ok(_), None, Some(p)) => (format!("skipped: {p}"), false),
                (Ok(m), None, None) => match operation {
                    BatchOperation::Share if current_ids.contains(m.as_str()) => ("already a member".into(), true),
                    BatchOperation::Share if image.visibility == Visibility::Private => {
                        ("add, after making it shared".into(), true)
                    }
                    BatchOperation::Share => ("add".into(), true),
                    BatchOperation::Revoke if current_ids.contains(m.as_str()) => ("revoke".into(), true),
                    BatchOperation::Revoke => ("not a member".into(), true),
                    BatchOperation::SetStatus(s) => (format!("set to {}", s.key()), true),
                },
            };
            pairs.push(PlanPair {
                image_id: image.id.clone(),
                member_id: member.as_ref().map(|m| m.to_string()).unwrap_or_else(|_| raw.clone()),
                expect,
                will_run,
                fails_with: None,
            });
        }
        plan_images.push(PlanImage {
            id: image.id.clone(),
            name: image.display_name(),
            visibility: image.visibility,
            member_count: current.as_ref().map(Vec::len),
            quota: caller.state.config.member_quota,
            problem,
        });
    }
    named.sort();
    named.dedup();
    let projects = match known {
        Some(known) => named.into_iter().filter_map(|id| Some((id.clone(), known.get(&id)?.clone()))).collect(),
        None => project_names(caller, named).await,
    };
    Ok(BatchPlan {
        operation,
        images: plan_images,
        members: Vec::new(),
        unchecked: Vec::new(),
        pairs,
        resolved: Vec::new(),
        projects,
        run_members: String::new(),
        run_pairs: String::new(),
        chosen: None,
        select: String::new(),
        owner: None,
    })
}

/// Starts a batch in the background and answers its id at once.
pub async fn start(caller: &Caller, request: &BatchRequest<'_>) -> Result<String, AppError> {
    // The plan is made again here: the browser's copy is not trusted.
    let plan = plan_for(caller, request, Purpose::Run).await?;
    let make_shared = request.make_shared;
    let names: std::collections::HashMap<String, String> =
        plan.images.iter().map(|i| (i.id.clone(), i.name.clone())).collect();
    let make_shared_ids: Vec<ImageId> = if make_shared && plan.operation == BatchOperation::Share {
        plan.images
            .iter()
            .filter(|i| i.visibility == Visibility::Private)
            .filter_map(|i| ImageId::parse(&i.id).ok())
            .collect()
    } else {
        Vec::new()
    };
    let pairs = plan
        .pairs
        .into_iter()
        .map(|p| BatchPair {
            image_name: names.get(&p.image_id).cloned().unwrap_or_else(|| p.image_id.clone()),
            outcome: (!p.will_run).then(|| {
                p.fails_with
                    .unwrap_or_else(|| PairOutcome::Skipped(p.expect.trim_start_matches("skipped: ").to_string()))
            }),
            image_id: p.image_id,
            member_id: p.member_id,
            operation: None,
        })
        .collect();
    let batch = NewBatch {
        operation: plan.operation,
        pairs,
        make_shared: make_shared_ids,
        projects: plan.projects,
        steps: Vec::new(),
        rollover: None,
        via: Via::Batch,
    };
    run(caller, batch).await
}

/// A batch to start: its pairs (those with an outcome already are shown, not run), the
/// private images to make shared first, the image changes to make after the pairs.
pub struct NewBatch {
    pub operation: BatchOperation,
    pub pairs: Vec<BatchPair>,
    pub make_shared: Vec<ImageId>,
    pub projects: HashMap<String, ProjectName>,
    pub steps: Vec<ImageStep>,
    pub rollover: Option<Rollover>,
    /// The page it was started from, as History says it.
    pub via: Via,
}

/// Starts `batch` in the background on the batch engine and answers its id at once.
pub async fn run(caller: &Caller, batch: NewBatch) -> Result<String, AppError> {
    let Caller { state, me, .. } = caller;
    let NewBatch { operation, pairs, make_shared, projects, steps, rollover, via } = batch;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let image_url = me.image_url()?.to_string();
    let ran_in = RanIn {
        project_id: me.project_id.clone(),
        project_name: me.project_name.clone(),
        region: me.region.clone(),
        image_url: image_url.clone(),
    };
    let view = BatchView {
        id: id.clone(),
        operation,
        to_make_shared: make_shared.iter().map(ToString::to_string).collect(),
        pairs,
        made_shared: Vec::new(),
        finished: false,
        ran_in,
        projects,
        steps,
        rollover,
    };
    let total = view.total();
    let job = Job {
        batch: id.clone(),
        http: state.http.clone(),
        image_url,
        token: me.token.clone(),
        expires_at: me.expires_at,
        concurrency: caller.concurrency(),
        make_shared,
        audit: state.audit.clone(),
        actor: crate::audit::Actor::new(me),
        via,
    };
    // The result can be opened again while the session lives: never past the token's expiry.
    let session_left = (me.expires_at - time::OffsetDateTime::now_utc()).try_into().unwrap_or(Duration::ZERO);
    state.batches.start(owner(me), view, job, session_left).await?;
    // Answered at once, with or without JavaScript: the result page shows the progress (and
    // without JavaScript refreshes itself until the batch is done).
    tracing::info!(batch = %id, operation = operation.key(), pairs = total, project = %me.project_id, "batch started");
    Ok(id)
}

/// A batch's retry and export go to the Glance it ran against, as the project it ran in.
fn same_place(batch: &BatchView, me: &SignedIn) -> Result<(), AppError> {
    let image_url = me.image_url()?;
    match batch.ran_in.mismatch(&me.project_id, &me.project_name, &me.region, image_url) {
        None => Ok(()),
        Some(why) => Err(AppError::InvalidInput(why)),
    }
}

/// A batch as it stands, if it is this user's.
pub async fn view(caller: &Caller, batch_id: &str) -> Result<BatchView, AppError> {
    caller.state.batches.view(batch_id, &owner(&caller.me)).await?.ok_or_else(|| AppError::NotFound {
        service: "glance-share".into(),
        code: 404,
        message: "no such batch for you here (a batch is kept until the sign-in that started it expires)".into(),
    })
}

/// The batches this user started that are still kept, newest first.
pub async fn recent(caller: &Caller) -> Result<Vec<BatchListing>, AppError> {
    Ok(caller
        .state
        .batches
        .recent(&owner(&caller.me))
        .await?
        .into_iter()
        .map(|v| BatchListing {
            done: v.done(),
            total: v.total(),
            finished: v.finished,
            summary: v.summary(),
            title: v.title(),
            id: v.id,
        })
        .collect())
}

/// Terraform / OpenTofu for the memberships a finished batch left in place, as Glance has them now.
pub async fn terraform(caller: &Caller, batch_id: &str, provider: &str) -> Result<TerraformFile, AppError> {
    use crate::terraform::{ExportImage, ExportMember, Provider, batch_file_name, images_hcl};
    let provider = Provider::from_key(provider)
        .ok_or_else(|| AppError::InvalidInput(format!("{provider:?} is not a provider glance-share writes for.")))?;
    let batch = view(caller, batch_id).await?;
    same_place(&batch, &caller.me)?;
    if !batch.finished {
        return Err(AppError::InvalidInput("The batch is still running: export it once it has finished.".into()));
    }
    // The pairs that are members after the batch, grouped by image in the batch's order; for a
    // rollover, every member of the new version (`None`: all of them).
    let images: Vec<(String, String, Option<HashSet<String>>)> = match &batch.rollover {
        Some(r) => vec![(r.new_id.clone(), r.new_name.clone(), None)],
        None => {
            let kept = batch.pairs.iter().filter(|p| match batch.operation_of(p) {
                BatchOperation::Share | BatchOperation::SetStatus(_) => {
                    p.outcome.as_ref().is_some_and(PairOutcome::is_success)
                }
                BatchOperation::Revoke => false,
            });
            grouped(kept.map(|p| ((p.image_id.clone(), p.image_name.clone()), p.member_id.clone())))
                .into_iter()
                .map(|((id, name), members)| (id, name, Some(members.into_iter().collect())))
                .collect()
        }
    };
    // Glance's members now: their statuses, and only memberships that still exist (an
    // import block for one removed since would make `terraform plan` fail).
    let glance = caller.glance()?;
    let listed = crate::concurrency::bounded(images, caller.concurrency(), |(id, name, wanted)| {
        let glance = &glance;
        async move {
            let members = match ImageId::parse(&id) {
                Ok(image) => glance.members(&image).await.map_err(AppError::from),
                Err(e) => Err(AppError::from(e)),
            };
            (id, name, wanted, members)
        }
    })
    .await;
    let mut found = Vec::new();
    for (id, name, wanted, members) in listed {
        let members: Vec<(String, &'static str)> = members?
            .into_iter()
            .filter(|m| wanted.as_ref().is_none_or(|w| w.contains(&m.member_id)))
            .map(|m| (m.member_id, m.status.key()))
            .collect();
        found.push((id, name, members));
    }
    // The names the batch knew when it started: no lookup for an export.
    let labels: std::collections::HashMap<&str, String> =
        batch.projects.iter().filter_map(|(id, n)| n.label().map(|l| (id.as_str(), l))).collect();
    let export: Vec<ExportImage> = found
        .iter()
        .map(|(id, name, members)| ExportImage {
            image_id: id,
            image_name: name,
            members: members
                .iter()
                .map(|(m, status)| ExportMember {
                    member_id: m,
                    status,
                    project: labels.get(m.as_str()).map(String::as_str),
                })
                .collect(),
        })
        .collect();
    Ok(TerraformFile { file_name: batch_file_name(&batch.id), text: images_hcl(provider, &export) })
}

/// Runs the pairs of a batch that failed in a way that may pass by itself, as a new batch.
pub async fn retry(caller: &Caller, batch_id: &str) -> Result<String, AppError> {
    let old = view(caller, batch_id).await?;
    same_place(&old, &caller.me)?;
    let retryable = |o: &Option<PairOutcome>| o.as_ref().is_some_and(PairOutcome::is_retryable);
    let pairs: Vec<BatchPair> =
        old.pairs.into_iter().filter(|p| retryable(&p.outcome)).map(|p| BatchPair { outcome: None, ..p }).collect();
    let steps: Vec<ImageStep> =
        old.steps.into_iter().filter(|s| retryable(&s.outcome)).map(|s| ImageStep { outcome: None, ..s }).collect();
    if pairs.is_empty() && steps.is_empty() {
        return Err(AppError::InvalidInput("No pair of this batch failed in a way worth retrying.".into()));
    }
    // An image that could not be made shared (Glance was down) is made shared by the retry.
    let make_shared = old
        .to_make_shared
        .iter()
        .filter(|id| !old.made_shared.contains(id) && pairs.iter().any(|p| &p.image_id == *id))
        .filter_map(|id| ImageId::parse(id).ok())
        .collect();
    let via = if old.rollover.is_some() { Via::Rollover } else { Via::Batch };
    let batch = NewBatch {
        operation: old.operation,
        pairs,
        make_shared,
        projects: old.projects,
        steps,
        rollover: old.rollover,
        via,
    };
    run(caller, batch).await
}
