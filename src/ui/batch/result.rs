//! `/batch/{id}`: progress while a batch runs (polled when hydrated; without JavaScript the
//! page comes when it is done), then the outcome of every pair and "retry the failed ones".

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_params_map;

use crate::{
    api::batch::{RetryBatch, batch_status},
    error::AppError,
    model::BatchView,
    ui::{auth::RequireSignIn, bits::error_view, layout::ActionError},
};

/// The status and the polling are made outside the sign-in check's `<Suspense>`: once per page.
#[component]
pub fn BatchResultPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("batch_id").unwrap_or_default();
    let tick = RwSignal::new(0u32);
    let status = Resource::new(move || (id(), tick.get()), |(id, _)| batch_status(id));
    let retry = ServerAction::<RetryBatch>::new();

    // While the batch runs, ask again every 700 ms.
    #[cfg(feature = "hydrate")]
    {
        let running = move || status.get_untracked().and_then(|r| r.ok()).is_some_and(|v: BatchView| !v.finished);
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if running() {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_millis(700),
        ) {
            on_cleanup(move || handle.clear());
        }
    }

    view! { <RequireSignIn signed_in=move |_| view! { <BatchResult status retry/> }/> }
}

#[component]
fn BatchResult(status: Resource<Result<BatchView, AppError>>, retry: ServerAction<RetryBatch>) -> impl IntoView {
    view! {
        <section class="page batch-result">
            <p class="crumbs"><a href="/images?tab=mine">"← My images"</a></p>
            <Transition fallback=|| view! { <p class="muted">"Loading the batch…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(view) => view! { <BatchTable view retry/> }.into_any(),
                        Err(e) => error_view(e),
                    }
                })}
            </Transition>
            <ActionError action=retry/>
        </section>
    }
}

#[component]
fn BatchTable(view: BatchView, retry: ServerAction<RetryBatch>) -> impl IntoView {
    let done = view.done();
    let total = view.pairs.len();
    let retryable = view.retryable();
    let heading = if view.finished {
        format!("{} — finished", view.operation.describe())
    } else {
        format!("{} — running", view.operation.describe())
    };
    view! {
        <h1>{heading}</h1>
        <p role="status" aria-live="polite">{view.summary()}</p>
        <progress max=total.to_string() value=done.to_string() aria-label="Pairs done">{format!("{done} of {total}")}</progress>
        {(!view.made_shared.is_empty()).then(|| view! { <p>{format!("Made shared first: {} image(s).", view.made_shared.len())}</p> })}
        {(view.finished && retryable > 0).then(|| view! {
            <ActionForm action=retry attr:class="inline-form">
                <input type="hidden" name="batch_id" value=view.id.clone()/>
                <button type="submit">{format!("Retry the {retryable} failed pair{}", if retryable == 1 { "" } else { "s" })}</button>
            </ActionForm>
        })}
        <div class="table-wrap">
            <table class="batch-pairs">
                <thead><tr><th scope="col">"Image"</th><th scope="col">"Project"</th><th scope="col">"Outcome"</th></tr></thead>
                <tbody>
                    {view.pairs.into_iter().map(|p| {
                        let (class, text) = match &p.outcome {
                            Some(o) => (format!("outcome {}", o.key()), o.describe(view.operation)),
                            None => ("outcome waiting".to_string(), "waiting".to_string()),
                        };
                        view! {
                            <tr>
                                <td><a href=format!("/images/{}", p.image_id)>{p.image_name}</a></td>
                                <td><code>{p.member_id}</code></td>
                                <td class=class>{text}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
