//! IDs the user has to pass on (a project ID to an image owner): shown in full, one click to copy.

use leptos::prelude::*;

#[component]
pub fn CopyId(
    #[prop(into)] id: String,
    #[prop(optional, into)] label: Option<String>,
    /// Show the ID shortened in the middle (tables); the full ID stays on hover and is copied.
    #[prop(optional)]
    short: bool,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = id.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let clipboard = window().navigator().clipboard();
            let _ = clipboard.write_text(&text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    let label = label.unwrap_or_else(|| "Copy".into());
    view! {
        <span class="copy-id">
            <code title=id.clone()>{if short { super::bits::middle(&id) } else { id.clone() }}</code>
            <button type="button" class="link" on:click=copy aria-label=format!("{label}: {id}")>
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </span>
    }
}
