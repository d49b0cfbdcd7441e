//! `/batch/{id}`: progress while a batch runs (the page is fetched again every 700 ms, by
//! navigation.js with JavaScript, by a `<meta refresh>` without), then the outcome of every pair and "retry the failed ones".

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_params_map;

use crate::{
    api::batch::{RetryBatch, batch_status, batch_terraform},
    error::AppError,
    model::{BatchOperation, BatchView, Me, TerraformFile},
    ui::{
        auth::RequireSignIn,
        bits::error_view,
        images::terraform::{ProviderChoice, TerraformText, chosen_provider, data_url},
        layout::ActionError,
        project::ProjectCell,
    },
};

/// The Terraform export of the batch for the provider in the query (`?tf=`), once one is chosen.
type Export = Resource<Option<Result<TerraformFile, AppError>>>;

/// The status and the polling are made outside the sign-in check's `<Suspense>`: once per page.
#[component]
pub fn BatchResultPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("batch_id").unwrap_or_default();
    let status = Resource::new(id, batch_status);
    let retry = ServerAction::<RetryBatch>::new();
    let chosen = chosen_provider();
    let export: Export = Resource::new(
        move || (id(), chosen()),
        |(id, provider)| async move {
            match provider {
                Some(p) => Some(batch_terraform(id, p.key().to_string()).await),
                None => None,
            }
        },
    );

    view! { <RequireSignIn signed_in=move |me| view! { <BatchResult me status retry export/> }/> }
}

#[component]
fn BatchResult(
    me: Me,
    status: Resource<Result<BatchView, AppError>>,
    retry: ServerAction<RetryBatch>,
    export: Export,
) -> impl IntoView {
    view! {
        <section class="page batch-result">
            <p class="crumbs"><a href="/images?tab=mine">"← My images"</a></p>
            <Transition fallback=|| view! { <p class="muted">"Loading the batch…"</p> }>
                {move || {
                    let me = me.clone();
                    Suspend::new(async move {
                    match status.await {
                        Ok(view) => {
                            let elsewhere = elsewhere(&view, &me);
                            view! { <BatchTable view elsewhere retry export/> }.into_any()
                        }
                        Err(e) => error_view(e),
                    }
                })}}
            </Transition>
            <ActionError action=retry/>
        </section>
    }
}

/// Why the batch cannot be retried or exported from where the user works now: it ran in
/// another project or region (the server refuses too; this says so before anyone tries).
fn elsewhere(view: &BatchView, me: &Me) -> Option<String> {
    let ran = &view.ran_in;
    ran.elsewhere_than(&me.project_id, &me.region).then(|| {
        format!(
            "This batch ran in project {} ({}), region {}. You now work in project {}, region {}: switch back to retry or export it.",
            ran.project_name, ran.project_id, ran.region, me.project_name, me.region
        )
    })
}

#[component]
fn BatchTable(
    view: BatchView,
    elsewhere: Option<String>,
    retry: ServerAction<RetryBatch>,
    export: Export,
) -> impl IntoView {
    let done = view.done();
    let total = view.total();
    let retryable = if elsewhere.is_some() { 0 } else { view.retryable() };
    // Memberships are left in place by a share or a status update, never by a revoke.
    let exportable = view.finished && view.operation != BatchOperation::Revoke && elsewhere.is_none();
    let ran_in =
        format!("In project {} ({}), region {}.", view.ran_in.project_name, view.ran_in.project_id, view.ran_in.region);
    // Without JavaScript nothing polls: the page asks again by itself while the batch runs.
    // (Inside <noscript>, so a browser that runs the bundle never reloads.)
    let refresh = (!view.finished)
        .then(|| view! { <noscript inner_html=r#"<meta http-equiv="refresh" content="2">"#></noscript> });
    let batch_id = view.id.clone();
    let (retry_id, retry_text) = (view.id.clone(), retry_label(&view));
    let heading = format!("{} — {}", view.title(), if view.finished { "finished" } else { "running" });
    view! {
        {refresh}
        <h1>{heading}</h1>
        <p class="muted">{ran_in}</p>
        {elsewhere.map(|why| view! { <p class="notice" role="status">{why}</p> })}
        <p role="status" aria-live="polite">{view.summary()}</p>
        // With JavaScript the page asks again by itself (navigation.js) while this is there.
        <progress data-refresh-ms=(!view.finished).then_some("700") max=total.to_string() value=done.to_string() aria-label="Done">{format!("{done} of {total}")}</progress>
        {(!view.made_shared.is_empty()).then(|| view! { <p>{format!("Made shared first: {} image(s).", view.made_shared.len())}</p> })}
        {(view.finished && retryable > 0).then(|| view! {
            <ActionForm action=retry attr:class="inline-form">
                <input type="hidden" name="batch_id" value=retry_id.clone()/>
                <button type="submit">{retry_text.clone()}</button>
            </ActionForm>
        })}
        <div class="table-wrap">
            <table class="batch-pairs">
                <thead><tr><th scope="col">"Image"</th><th scope="col">"Project"</th><th scope="col">"Outcome"</th></tr></thead>
                <tbody>
                    {view.pairs.iter().cloned().map(|p| {
                        let operation = view.operation_of(&p);
                        let (class, text) = match &p.outcome {
                            Some(o) => (format!("outcome {}", o.key()), o.describe(operation)),
                            None => ("outcome waiting".to_string(), "waiting".to_string()),
                        };
                        // A rollover mixes operations: each pair says its own.
                        let text = match (p.operation, view.rollover.is_some()) {
                            (Some(op), true) => format!("{}: {text}", op.describe()),
                            _ => text,
                        };
                        view! {
                            <tr>
                                <td data-label="Image"><a href=format!("/images/{}", p.image_id)>{p.image_name}</a></td>
                                <td data-label="Project"><ProjectCell known=view.projects.get(&p.member_id).cloned() id=p.member_id/></td>
                                <td class=class data-label="Outcome">{text}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(!view.steps.is_empty()).then(|| view! { <ImageSteps steps=view.steps.clone()/> })}
        {exportable.then(|| view! { <BatchTerraform batch_id export/> })}
    }
}

/// "Retry the 3 failed pairs", "… and 2 image changes" when changes failed too.
fn retry_label(view: &BatchView) -> String {
    let pairs = view.pairs.iter().filter(|p| p.outcome.as_ref().is_some_and(|o| o.is_retryable())).count();
    let steps = view.retryable() - pairs;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match (pairs, steps) {
        (p, 0) => format!("Retry the {p} failed pair{}", plural(p)),
        (0, s) => format!("Retry the {s} image change{} not made", plural(s)),
        (p, s) => format!("Retry the {p} failed pair{} and {s} image change{}", plural(p), plural(s)),
    }
}

/// The changes of images themselves (a rollover's options), made after the pairs.
#[component]
fn ImageSteps(steps: Vec<crate::model::ImageStep>) -> impl IntoView {
    view! {
        <h2>"Image changes"</h2>
        <div class="table-wrap">
            <table class="batch-steps">
                <thead><tr><th scope="col">"Image"</th><th scope="col">"Change"</th><th scope="col">"Outcome"</th></tr></thead>
                <tbody>
                    {steps.into_iter().map(|s| {
                        let class = format!("outcome {}", s.outcome.as_ref().map(|o| o.key()).unwrap_or("waiting"));
                        let outcome = s.describe_outcome();
                        view! {
                            <tr>
                                <td data-label="Image"><a href=format!("/images/{}", s.image_id)>{s.image_name}</a></td>
                                <td data-label="Change">{s.kind.describe()}</td>
                                <td class=class data-label="Outcome">{outcome}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The memberships the batch left in place as Terraform / OpenTofu: resources and import blocks.
#[component]
fn BatchTerraform(batch_id: String, export: Export) -> impl IntoView {
    view! {
        <section aria-labelledby="tf-title" class="batch-terraform">
            <h2 id="tf-title">"Export as Terraform / OpenTofu"</h2>
            <p class="muted">"The pairs that are members after this batch, as Glance has them now, with import blocks."</p>
            <ProviderChoice base=format!("/batch/{batch_id}")/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match export.await {
                        None => ().into_any(),
                        Some(Ok(file)) => {
                            let download = data_url(&file.text);
                            view! { <TerraformText file download/> }.into_any()
                        }
                        Some(Err(e)) => error_view(e),
                    }
                })}
            </Transition>
        </section>
    }
}
