//! A project as people know it: its name and domain, with the ID (what every form and export
//! uses) one click away; a project Keystone no longer knows is flagged; without a name, the ID.

use leptos::prelude::*;

use crate::{model::ProjectName, ui::copy::CopyId};

#[component]
pub fn ProjectLabel(
    #[prop(into)] id: String,
    known: Option<ProjectName>,
    /// The copy button's accessible name, such as "Copy owner project ID".
    #[prop(optional, into)]
    label: Option<String>,
    /// Inside a `CopyButtons` around the whole table (see `CopyId`).
    #[prop(optional)]
    bare: bool,
) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Copy project ID".into());
    match known {
        Some(ProjectName::Named { name, domain }) => view! {
            <span class="project-name">{name}</span>
            {domain.map(|d| view! { <span class="muted project-domain">{format!(" ({d})")}</span> })}
            <br/>
            <CopyId id short=true label bare/>
        }
        .into_any(),
        Some(ProjectName::Deleted) => view! {
            <CopyId id label bare/>
            <br/>
            <span class="badge flag-deleted" title="Glance keeps the memberships of deleted projects; revoke it to tidy up">
                "No such project in Keystone (deleted?)"
            </span>
        }
        .into_any(),
        None => view! { <CopyId id label bare/> }.into_any(),
    }
}

/// The same in plain words, for sentences and titles: "name (domain)", else the ID (borrowed:
/// the member table asks this of every row).
pub fn project_words<'a>(id: &'a str, known: Option<&ProjectName>) -> std::borrow::Cow<'a, str> {
    known.and_then(ProjectName::label).map_or(std::borrow::Cow::Borrowed(id), std::borrow::Cow::Owned)
}

/// Where projects are pasted (the share box, the batch page): IDs, and with the operator's
/// directory also names, which `suggest.js` suggests while typing. Without a directory the
/// field says how names can be turned on.
#[component]
pub fn ProjectsField(
    id: &'static str,
    /// The field's label, such as "Share with projects".
    label: &'static str,
    directory: bool,
    rows: u32,
    /// What the field holds when the page is rendered (the batch page's query).
    #[prop(into)]
    value: Signal<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let box_id = format!("{id}-suggestions");
    let (what, hint) = if directory {
        (
            "(names or IDs, separated by commas, spaces or lines)",
            "A name is looked up before anything is shared: you see which project it is, and confirm. \
             A name with spaces: pick it from the suggestions, or give its ID.",
        )
    } else {
        (
            "(project IDs, separated by commas, spaces or lines)",
            "Project names are not available on this dashboard: Keystone lets you look up only your own \
             projects. An operator can turn names on with a directory reader (the GLANCE_SHARE_DIRECTORY_ \
             settings in the README).",
        )
    };
    view! {
        <label for=id>{label}" " <span class="muted">{what}</span></label>
        <textarea
            id=id
            name="members"
            rows=rows
            required
            aria-describedby=hint_id.clone()
            placeholder=if directory { "consumer-project" } else { "307433773c7941a8a74a5c42da2b220e" }
            data-suggest=directory.then_some("/api/suggest_projects")
            data-suggest-box=directory.then(|| box_id.clone())
            autocomplete="off"
            prop:value=value
        >
            {value.get_untracked()}
        </textarea>
        <p id=hint_id class="muted hint">{hint}</p>
        {directory.then(|| view! {
            <div id=box_id class="suggest">
                <p role="status" class="muted"></p>
                <ul class="suggestions" aria-label="Suggested projects"></ul>
            </div>
        })}
    }
}

/// A project in a long table (a batch's pairs): its name and domain over its ID in plain text,
/// no copy button per row (a batch may have 2,000 of them).
#[component]
pub fn ProjectCell(#[prop(into)] id: String, known: Option<ProjectName>) -> impl IntoView {
    match known {
        Some(ProjectName::Named { name, domain }) => view! {
            <span class="project-name">{name}</span>
            {domain.map(|d| view! { <span class="muted project-domain">{format!(" ({d})")}</span> })}
            <br/>
            <code class="muted">{id}</code>
        }
        .into_any(),
        Some(ProjectName::Deleted) => view! {
            <code>{id}</code>
            " "
            <span class="badge flag-deleted">"No such project in Keystone"</span>
        }
        .into_any(),
        None => view! { <code>{id}</code> }.into_any(),
    }
}
