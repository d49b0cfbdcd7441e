//! Batch share / revoke / status over many images × many projects, with a preflight plan and a
//! result for every pair.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{BatchPlan, BatchView},
};

/// What a batch would do, changing nothing. `images` is a comma-separated list of image IDs,
/// `members` the pasted project IDs, `operation` share, revoke or status (with `status`).
#[server(endpoint = "batch_plan")]
pub async fn plan_batch(
    images: String,
    members: String,
    operation: String,
    status: Option<String>,
    make_shared: Option<String>,
) -> Result<BatchPlan, AppError> {
    let request = batches::BatchRequest::from_form(&images, &members, &operation, &status, &make_shared);
    super::server::reply(batches::plan(&request).await).await
}

/// Starts a batch and sends the browser to its result page at once, which shows the progress
/// (without JavaScript it refreshes itself until the batch is done).
#[server(endpoint = "batch_start")]
pub async fn start_batch(
    images: String,
    members: String,
    operation: String,
    status: Option<String>,
    make_shared: Option<String>,
) -> Result<String, AppError> {
    let request = batches::BatchRequest::from_form(&images, &members, &operation, &status, &make_shared);
    match batches::start(&request).await {
        Ok(id) => super::server::reply_and_go(Ok(id.clone()), &format!("/batch/{id}")).await,
        Err(e) => super::server::reply(Err(e)).await,
    }
}

/// A batch as it stands (polled while it runs).
#[server(endpoint = "batch_status")]
pub async fn batch_status(batch_id: String) -> Result<BatchView, AppError> {
    super::server::reply(batches::view(&batch_id).await).await
}

/// Runs the pairs of a batch that failed in a way that may pass by itself, as a new batch.
#[server(endpoint = "batch_retry")]
pub async fn retry_batch(batch_id: String) -> Result<String, AppError> {
    match batches::retry(&batch_id).await {
        Ok(id) => super::server::reply_and_go(Ok(id.clone()), &format!("/batch/{id}")).await,
        Err(e) => super::server::reply(Err(e)).await,
    }
}

/// One of the session user's batches, as the "Recent batches" list on `/batch` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchListing {
    pub id: String,
    pub operation: crate::model::BatchOperation,
    pub done: usize,
    pub total: usize,
    pub finished: bool,
    pub summary: String,
}

/// The batches this user started that are still kept (while the session that started them can
/// live, never past its token's expiry), newest first,
/// so that a batch whose page was closed mid-run can be opened again.
#[server(endpoint = "batch_recent")]
pub async fn recent_batches() -> Result<Vec<BatchListing>, AppError> {
    super::server::reply(batches::recent().await).await
}

/// Terraform / OpenTofu for the memberships a finished batch left in place (added or already a
/// member, or a status set), as Glance has them now, with `provider`'s resource types.
#[server(endpoint = "batch_terraform")]
pub async fn batch_terraform(batch_id: String, provider: String) -> Result<super::terraform::TerraformFile, AppError> {
    super::server::reply(batches::terraform(&batch_id, &provider).await).await
}

#[cfg(feature = "ssr")]
mod batches {
    use std::{collections::HashSet, time::Duration};

    use super::super::server;
    use crate::model::ImageWords;
    use crate::{
        batch::{Job, Owner},
        error::AppError,
        model::{
            BatchOperation, BatchPair, BatchPlan, BatchView, ImageId, PairOutcome, PlanImage, PlanPair, RanIn,
            Visibility, ids::parse_member_list,
        },
        session::SignedIn,
        state::AppState,
    };

    const MAX_IMAGES: usize = 100;
    const MAX_PAIRS: usize = 2000;

    fn owner(me: &SignedIn) -> Owner {
        Owner { cloud: me.cloud.clone(), user_id: me.user_id.clone() }
    }

    /// A batch as the form describes it.
    pub struct BatchRequest<'a> {
        pub images: &'a str,
        pub members: &'a str,
        pub operation: &'a str,
        pub status: Option<&'a str>,
        pub make_shared: bool,
    }

    impl<'a> BatchRequest<'a> {
        /// The batch form's fields as posted (plan and start take the same form).
        pub fn from_form(
            images: &'a str,
            members: &'a str,
            operation: &'a str,
            status: &'a Option<String>,
            make_shared: &Option<String>,
        ) -> Self {
            BatchRequest { images, members, operation, status: status.as_deref(), make_shared: make_shared.is_some() }
        }
    }

    pub async fn plan(request: &BatchRequest<'_>) -> Result<BatchPlan, AppError> {
        let state = server::state()?;
        let (session, me) = server::signed_in().await?;
        build_plan(&state, &session, &me, request).await
    }

    async fn build_plan(
        state: &AppState,
        session: &tower_sessions::Session,
        me: &SignedIn,
        request: &BatchRequest<'_>,
    ) -> Result<BatchPlan, AppError> {
        let BatchRequest { images, members, operation, status, make_shared } = *request;
        let operation = BatchOperation::parse(operation, status)?;
        if matches!(operation, BatchOperation::SetStatus(_)) && !me.is_admin() {
            return Err(AppError::InvalidInput(
                "Only an admin can set members' statuses; members answer offers themselves.".into(),
            ));
        }
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
        let parsed = parse_member_list(members);
        if parsed.is_empty() {
            return Err(AppError::InvalidInput("Enter at least one project ID.".into()));
        }
        if parsed.len() * image_ids.len() > MAX_PAIRS {
            return Err(AppError::InvalidInput(format!("At most {MAX_PAIRS} image × project pairs at a time.")));
        }
        // Sharing follows the image page's rule for each project (`ProjectCheck::is_refused`); a
        // revoke or a status names members as Glance already has them, whatever they look like.
        let (refusals, unchecked): (Vec<Option<String>>, Vec<String>) = match operation {
            BatchOperation::Share => {
                let checks = super::super::project_ids::check_each(state, session, me, parsed.clone()).await?;
                let unchecked = checks.iter().filter(|(_, c)| !c.is_refused() && !c.is_confirmed());
                (
                    checks.iter().map(|(_, c)| c.is_refused().then(|| c.describe())).collect(),
                    unchecked.map(|(raw, _)| raw.clone()).collect(),
                )
            }
            _ => (vec![None; parsed.len()], Vec::new()),
        };

        let glance = server::glance(state, me)?;
        let looked_up = crate::concurrency::bounded(image_ids, state.config.batch_concurrency, |id| {
            let glance = &glance;
            async move {
                let image = glance.image(&id).await;
                let members = match &image {
                    Ok(i) if i.visibility == Visibility::Shared => glance.members(&id).await.ok(),
                    _ => None,
                };
                (id, image, members)
            }
        })
        .await;

        let mut plan_images = Vec::new();
        let mut pairs = Vec::new();
        for (id, image, current) in looked_up {
            let image = match image {
                Ok(image) => image,
                Err(e) => {
                    let e = AppError::from(e);
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
                    for (raw, _) in &parsed {
                        pairs.push(PlanPair {
                            image_id: id.to_string(),
                            member_id: raw.clone(),
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
            for ((raw, member), refusal) in parsed.iter().zip(&refusals) {
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
                    member_id: raw.clone(),
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
                quota: state.config.member_quota,
                problem,
            });
        }
        let members = parsed
            .into_iter()
            .zip(refusals)
            .map(|((raw, r), refusal)| (raw, r.err().map(|e| e.to_string()).or(refusal)))
            .collect();
        Ok(BatchPlan { operation, images: plan_images, members, unchecked, pairs })
    }

    pub async fn start(request: &BatchRequest<'_>) -> Result<String, AppError> {
        let state = server::state()?;
        let (session, me) = server::signed_in().await?;
        // The plan is made again here: the browser's copy is not trusted.
        let plan = build_plan(&state, &session, &me, request).await?;
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
            })
            .collect();
        run(&state, &me, plan.operation, pairs, make_shared_ids).await
    }

    async fn run(
        state: &AppState,
        me: &SignedIn,
        operation: BatchOperation,
        pairs: Vec<BatchPair>,
        make_shared: Vec<ImageId>,
    ) -> Result<String, AppError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let image_url = me.image_url()?.to_string();
        let ran_in = RanIn {
            project_id: me.project_id.clone(),
            project_name: me.project_name.clone(),
            region: me.region.clone(),
            image_url: image_url.clone(),
        };
        let view = BatchView { id: id.clone(), operation, pairs, made_shared: Vec::new(), finished: false, ran_in };
        let total = view.pairs.len();
        let job = Job {
            http: state.http.clone(),
            image_url,
            token: me.token.clone(),
            concurrency: state.config.batch_concurrency,
            make_shared,
            audit: state.audit.clone(),
            actor: crate::audit::Actor::new(me),
        };
        // The result can be opened again while the session lives: never past the token's expiry.
        let session_left = (me.expires_at - time::OffsetDateTime::now_utc()).try_into().unwrap_or(Duration::ZERO);
        state.batches.start(owner(me), view, job, session_left);
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

    pub async fn view(batch_id: &str) -> Result<BatchView, AppError> {
        let state = server::state()?;
        let (_, me) = server::signed_in().await?;
        state.batches.view(batch_id, &owner(&me)).ok_or_else(|| AppError::NotFound {
            service: "glance-share".into(),
            code: 404,
            message: "no such batch for you here (a result is kept while the session that started it lives)".into(),
        })
    }

    pub async fn recent() -> Result<Vec<super::BatchListing>, AppError> {
        let state = server::state()?;
        let (_, me) = server::signed_in().await?;
        Ok(state
            .batches
            .recent(&owner(&me))
            .into_iter()
            .map(|v| super::BatchListing {
                done: v.done(),
                total: v.pairs.len(),
                finished: v.finished,
                summary: v.summary(),
                operation: v.operation,
                id: v.id,
            })
            .collect())
    }

    pub async fn terraform(batch_id: &str, provider: &str) -> Result<crate::api::terraform::TerraformFile, AppError> {
        use crate::terraform::{ExportImage, ExportMember, Provider, batch_file_name, images_hcl};
        let provider = Provider::from_key(provider).ok_or_else(|| {
            AppError::InvalidInput(format!("{provider:?} is not a provider glance-share writes for."))
        })?;
        let state = server::state()?;
        let (_, me) = server::signed_in().await?;
        let batch = view(batch_id).await?;
        same_place(&batch, &me)?;
        if !batch.finished {
            return Err(AppError::InvalidInput("The batch is still running: export it once it has finished.".into()));
        }
        // The pairs that are members after the batch, grouped by image in the batch's order.
        let mut images: Vec<(String, String, HashSet<String>)> = Vec::new();
        let kept = batch.pairs.iter().filter(|p| match batch.operation {
            BatchOperation::Share | BatchOperation::SetStatus(_) => {
                p.outcome.as_ref().is_some_and(PairOutcome::is_success)
            }
            BatchOperation::Revoke => false,
        });
        for pair in kept {
            match images.iter_mut().find(|(id, _, _)| *id == pair.image_id) {
                Some((_, _, members)) => drop(members.insert(pair.member_id.clone())),
                None => images.push((
                    pair.image_id.clone(),
                    pair.image_name.clone(),
                    HashSet::from([pair.member_id.clone()]),
                )),
            }
        }
        // Glance's members now: their statuses, and only memberships that still exist (an
        // import block for one removed since would make `terraform plan` fail).
        let glance = server::glance(&state, &me)?;
        let listed = crate::concurrency::bounded(images, state.config.batch_concurrency, |(id, name, wanted)| {
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
                .filter(|m| wanted.contains(&m.member_id))
                .map(|m| (m.member_id, m.status.key()))
                .collect();
            found.push((id, name, members));
        }
        let export: Vec<ExportImage> = found
            .iter()
            .map(|(id, name, members)| ExportImage {
                image_id: id,
                image_name: name,
                members: members.iter().map(|(m, status)| ExportMember { member_id: m, status }).collect(),
            })
            .collect();
        Ok(crate::api::terraform::TerraformFile {
            file_name: batch_file_name(&batch.id),
            text: images_hcl(provider, &export),
        })
    }

    pub async fn retry(batch_id: &str) -> Result<String, AppError> {
        let state = server::state()?;
        let (_, me) = server::signed_in().await?;
        let old = view(batch_id).await?;
        same_place(&old, &me)?;
        let pairs: Vec<BatchPair> = old
            .pairs
            .into_iter()
            .filter(|p| p.outcome.as_ref().is_some_and(PairOutcome::is_retryable))
            .map(|p| BatchPair { outcome: None, ..p })
            .collect();
        if pairs.is_empty() {
            return Err(AppError::InvalidInput("No pair of this batch failed in a way worth retrying.".into()));
        }
        run(&state, &me, old.operation, pairs, Vec::new()).await
    }
}
