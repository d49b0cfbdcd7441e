//! IDs the user has to pass on (a project ID to an image owner): shown in full, one click to copy.
//!
//! The markup is rendered on the server; the islands below only listen for clicks and read what
//! to copy from the page (`data-copy`, the export's text), so they take no props and the bundle
//! carries no serialisation for them.

use leptos::prelude::*;

#[component]
pub fn CopyId(
    #[prop(into)] id: String,
    #[prop(optional, into)] label: Option<String>,
    /// Show the ID shortened in the middle (tables); the full ID stays on hover and is copied.
    #[prop(optional)]
    short: bool,
    /// Inside a `CopyButtons` that already listens (a table's rows): no island of its own.
    #[prop(optional)]
    bare: bool,
) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Copy".into());
    let button = view! {
        <span class="copy-id">
            <code title=id.clone()>{if short { super::bits::middle(&id) } else { id.clone() }}</code>
            <button type="button" class="link" data-copy=id.clone() aria-label=[label.as_str(), ": ", id.as_str()].concat()>"Copy"</button>
        </span>
    };
    if bare { button.into_any() } else { view! { <CopyButtons>{button}</CopyButtons> }.into_any() }
}

/// Copies the `data-copy` of a button clicked inside it, and says so on the button. One around a
/// whole table serves all its rows' buttons (`CopyId` with `bare`): an island per row costs the
/// server a render of its own for every row.
#[island]
pub fn CopyButtons(children: Children) -> impl IntoView {
    let copy = move |ev: leptos::ev::MouseEvent| {
        let clicked = event_target::<leptos::web_sys::Element>(&ev);
        if let Ok(Some(button)) = clicked.closest("button[data-copy]")
            && let Some(text) = button.get_attribute("data-copy")
        {
            copy_to_clipboard(&text);
            button.set_text_content(Some("Copied"));
        }
    };
    view! { <span class="copy-buttons" on:click=copy>{children()}</span> }
}

/// The Terraform export's actions: its copy button (`.tf-copy`, rendered hidden: without
/// JavaScript it could do nothing) is shown once this runs, and copies the text of `#tf-text`.
#[island]
pub fn CopyExport(children: Children) -> impl IntoView {
    let here = NodeRef::<leptos::html::Div>::new();
    let find = move |selector: &str| here.get().and_then(|el| el.query_selector(selector).ok().flatten());
    Effect::new(move |_| {
        if let Some(button) = find(".tf-copy") {
            let _ = button.remove_attribute("hidden");
        }
    });
    let copy = move |ev: leptos::ev::MouseEvent| {
        let clicked = event_target::<leptos::web_sys::Element>(&ev);
        if !clicked.closest(".tf-copy").is_ok_and(|b| b.is_some()) {
            return;
        }
        let text = document().get_element_by_id("tf-text").and_then(|t| t.text_content()).unwrap_or_default();
        copy_to_clipboard(&text);
        if let Some(button) = find(".tf-copy") {
            button.set_text_content(Some("Copied"));
        }
        if let Some(status) = find("[role=status]") {
            status.set_text_content(Some("Copied."));
        }
    };
    view! { <div class="copy-export" node_ref=here on:click=copy>{children()}</div> }
}

/// Puts `text` on the clipboard. Click handlers run only in the browser; the server build has
/// no clipboard and does nothing.
pub fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
