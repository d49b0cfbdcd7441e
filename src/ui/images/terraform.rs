//! "Export as Terraform": the members (or this project's answer) as HCL with import blocks.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::terraform::terraform_export,
    error::AppError,
    model::{Provider, TerraformFile, urlencode},
    ui::{bits::error_view, copy::CopyExport},
};

/// The export of the provider chosen in the page's query (`?tf=`), fetched only once one is.
#[derive(Clone, Copy)]
pub struct TerraformExport(Resource<Option<Result<TerraformFile, AppError>>>);

impl TerraformExport {
    pub fn new(image_id: impl Fn() -> String + Send + Sync + 'static) -> Self {
        let query = use_query_map();
        let chosen = move || query.read().get("tf").and_then(|k| Provider::from_key(&k));
        TerraformExport(Resource::new(
            move || (image_id(), chosen()),
            |(id, provider)| async move {
                match provider {
                    Some(p) => Some(Box::pin(terraform_export(id, p.key().to_string())).await),
                    None => None,
                }
            },
        ))
    }
}

/// The provider chosen in the page's query (`?tf=`).
pub fn chosen_provider() -> impl Fn() -> Option<Provider> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || query.read().get("tf").and_then(|k| Provider::from_key(&k))
}

#[component]
pub fn TerraformPanel(image_id: String, export: TerraformExport) -> impl IntoView {
    let chosen = chosen_provider();
    let export = export.0;
    let base = format!("/images/{image_id}");
    view! {
        <section aria-labelledby="tf-title">
            <h2 id="tf-title">"Export as Terraform / OpenTofu"</h2>
            <ProviderChoice base=base.clone()/>
            <Transition fallback=|| ()>
                {move || {
                    let download_base = base.clone();
                    Suspend::new(async move {
                        match export.await {
                            None => ().into_any(),
                            Some(Ok(file)) => {
                                let provider = chosen().map(|p| p.key()).unwrap_or("openstack");
                                let download = format!("{download_base}/terraform?provider={provider}");
                                view! { <TerraformText file download/> }.into_any()
                            }
                            Some(Err(e)) => error_view(e),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

/// Links choosing the provider: `{base}?tf=<key>`, back to the export's heading.
#[component]
pub fn ProviderChoice(base: String) -> impl IntoView {
    let chosen = chosen_provider();
    view! {
        <nav class="filters" aria-label="Terraform provider">
            {Provider::ALL.into_iter().map(|p| {
                let href = format!("{base}?tf={}#tf-title", p.key());
                view! { <a href=href aria-current=move || (chosen() == Some(p)).then_some("page")>{p.label()}</a> }
            }).collect_view()}
        </nav>
    }
}

/// The export's text, a button that copies it (shown by the `CopyExport` island: without
/// JavaScript it could do nothing) and a download link, which works without.
#[component]
pub fn TerraformText(file: TerraformFile, download: String) -> impl IntoView {
    view! {
        <label class="sr-only" for="tf-text">"Terraform"</label>
        <textarea id="tf-text" class="code" rows="14" readonly>{file.text}</textarea>
        <CopyExport>
            <p class="tf-actions">
                <button type="button" class="secondary tf-copy" hidden>"Copy to the clipboard"</button>
                <a class="button secondary" href=download download=file.file_name.clone()>{format!("Download {}", file.file_name)}</a>
                <span class="muted" role="status" aria-live="polite"></span>
            </p>
        </CopyExport>
    }
}

/// `text` as a `data:` URL: a download that needs neither JavaScript nor a route of its own.
pub fn data_url(text: &str) -> String {
    format!("data:text/plain;charset=utf-8,{}", urlencode(text))
}
