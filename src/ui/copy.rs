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
        copy_to_clipboard(&text);
        copied.set(true);
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

/// Puts `text` on the clipboard. Click handlers run only in the hydrated app; the server
/// build has no clipboard and does nothing.
pub fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
