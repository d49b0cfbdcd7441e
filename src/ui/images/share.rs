//! Sharing an image: paste project IDs, see them checked, and see what happened to each.

use leptos::{form::ActionForm, prelude::*};

use crate::{
    api::members::ShareImage,
    error::AppError,
    model::{ProjectCheck, ProjectName, ShareReport, Visibility},
    ui::{bits::StatusBadge, layout::ActionError, project::ProjectsField},
};

#[component]
pub fn ShareForm(
    image_id: String,
    visibility: Visibility,
    /// Names are accepted (the operator's directory resolves them) and suggested while typing.
    directory: bool,
    action: ServerAction<ShareImage>,
) -> impl IntoView {
    let pending = action.pending();
    let private = visibility == Visibility::Private;
    view! {
        <ActionForm action=action attr:class="form share">
            <input type="hidden" name="image_id" value=image_id/>
            <ProjectsField id="share-members" label="Share with projects" directory rows=3 value=String::new()/>
            {private.then(|| view! {
                <label class="check">
                    <input type="checkbox" name="make_shared" value="yes" checked/>
                    "Make the image shared first: it is private, and private images cannot have members."
                </label>
            })}
            <button type="submit" data-busy="Sharing…" disabled=move || pending.get()>{move || if pending.get() { "Sharing…" } else { "Share" }}</button>
            <ActionError action/>
        </ActionForm>
    }
}

/// What a share request did, for every project; or the question it asks before doing anything.
#[component]
pub fn ShareReportView(image_id: String, report: ShareReport, action: ServerAction<ShareImage>) -> impl IntoView {
    let summary = report.summary();
    // Keyboard users land on what just appeared instead of losing focus with the busy button
    // (navigation.js focuses it after an update in place, the browser on a page load).
    match report {
        ShareReport::NeedsConfirmation { checks, .. } => {
            // Says exactly what confirming does: who is shared with, who never is.
            let shared: Vec<String> = checks
                .iter()
                .filter(|(_, c)| !c.is_refused())
                .map(|(raw, c)| match c {
                    ProjectCheck::ByName(found) => found.label(),
                    _ => raw.clone(),
                })
                .collect();
            // Confirming sends IDs, never names: what the user saw resolved is what is shared.
            let confirmed_members: Vec<&str> = checks.iter().map(|(raw, c)| c.member_id(raw)).collect();
            let confirmed_members = confirmed_members.join("\n");
            let never: Vec<String> = checks.iter().filter(|(_, c)| c.is_refused()).map(|(raw, _)| raw.clone()).collect();
            let unchecked = checks.iter().any(|(_, c)| matches!(c, ProjectCheck::Unchecked { .. }) && !c.is_refused());
            let by_name = checks.iter().any(|(_, c)| matches!(c, ProjectCheck::ByName(_)));
            let button = match (unchecked, by_name) {
                (true, _) => "Share with the unchecked IDs anyway",
                (false, true) => "Share with these projects",
                (false, false) => "Share with the confirmed projects",
            };
            let never_note = (!never.is_empty()).then(|| view! {
                <p class="muted">{format!("Never shared with, even if you confirm: {} (see why above).", never.join(", "))}</p>
            });
            view! {
                <div class="report confirm" role="alertdialog" aria-labelledby="share-confirm-title" tabindex="-1" autofocus>
                    <p id="share-confirm-title"><strong>{summary}</strong></p>
                    <ul class="checks">
                        {checks.into_iter().map(|(raw, check)| {
                            let class = if check.is_refused() { "bad" } else if check.is_confirmed() { "good" } else { "unsure" };
                            view! { <li class=class><code>{raw}</code>": "{check.describe()}</li> }
                        }).collect_view()}
                    </ul>
                    {if shared.is_empty() {
                        view! { <p class="muted">"Confirming would change nothing: see why above."</p> }.into_any()
                    } else {
                        view! {
                            <ActionForm action=action attr:class="inline-form">
                                <input type="hidden" name="image_id" value=image_id.clone()/>
                                <input type="hidden" name="members" value=confirmed_members/>
                                <input type="hidden" name="confirmed" value="yes"/>
                                <input type="hidden" name="make_shared" value="yes"/>
                                <button type="submit">{button}</button>
                                <a class="button secondary" href=format!("/images/{image_id}")>"Cancel"</a>
                            </ActionForm>
                            <p class="muted">{format!("Confirming shares the image with: {}.", shared.join(", "))}</p>
                            {never_note}
                        }.into_any()
                    }}
                </div>
            }
            .into_any()
        }
        ShareReport::Done { results, .. } => view! {
            <div class="report" role="status" tabindex="-1" autofocus>
                <p><strong>{summary}</strong></p>
                <div class="table-wrap">
                <table class="results">
                    <thead><tr><th scope="col">"Project"</th><th scope="col">"Result"</th></tr></thead>
                    <tbody>
                        {results.into_iter().map(|r| {
                            let name = match &r.check {
                                ProjectCheck::Found { name, domain } => {
                                    format!(" ({})", ProjectName::Named { name: name.clone(), domain: domain.clone() }.label().unwrap_or_default())
                                }
                                ProjectCheck::ByName(found) => format!(" ({})", found.label()),
                                _ => String::new(),
                            };
                            let outcome = match r.outcome {
                                Ok(status) => view! { "added, " <StatusBadge status/> }.into_any(),
                                Err(AppError::Conflict { .. }) => view! { <span>"already a member"</span> }.into_any(),
                                Err(e) => view! { <span class="error">{e.to_string()}</span> }.into_any(),
                            };
                            view! { <tr><td data-label="Project"><code>{r.member_id}</code>{name}</td><td data-label="Result">{outcome}</td></tr> }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            </div>
        }
        .into_any(),
    }
}
