//! `/inbox`: images offered to any of the user's projects, pending first; answer many at once.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::model::{ImageWords, StatusWords};
use crate::{
    api::inbox::{RespondToOffers, get_inbox_report, inbox},
    error::AppError,
    model::{InboxProject, MemberStatus, OfferAnswers, OldVersion},
    ui::{
        auth::RequireSignIn,
        bits::{StatusBadge, error_view},
        copy::CopyId,
        layout::ActionError,
        project::ProjectLabel,
    },
};

/// Data and actions are made outside the sign-in check's `<Suspense>`: once per page.
#[component]
pub fn InboxPage() -> impl IntoView {
    let query = use_query_map();
    let respond = ServerAction::<RespondToOffers>::new();
    let offers = Resource::new(|| (), |_| inbox());
    let report = Resource::new(
        move || query.read().get("report"),
        |id| async move {
            match id {
                Some(id) => get_inbox_report(id).await.ok().flatten(),
                None => None,
            }
        },
    );
    view! { <RequireSignIn signed_in=move |_| view! { <Inbox respond offers report/> }/> }
}

#[component]
fn Inbox(
    respond: ServerAction<RespondToOffers>,
    offers: Resource<Result<Vec<InboxProject>, AppError>>,
    report: Resource<Option<OfferAnswers>>,
) -> impl IntoView {
    view! {
        <section class="page inbox">
            <h1>"Inbox"</h1>
            <p class="muted">"Images offered to your projects in this region. Pending offers come first; rejected ones stay here so you can still accept them."</p>
            <ActionError action=respond/>
            <Transition fallback=|| view! { <p class="muted">"Asking every project…"</p> }>
                {move || Suspend::new(async move {
                    let report = report.await;
                    match offers.await {
                        Ok(projects) => view! { <AnswerReport report respond/><InboxForm projects respond/> }.into_any(),
                        Err(e) => error_view(e),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AnswerReport(report: Option<OfferAnswers>, respond: ServerAction<RespondToOffers>) -> impl IntoView {
    let report = report?;
    if report.needs_confirmation {
        let count = report.items.len();
        return Some(
            view! {
                <div class="confirm" role="alertdialog" aria-labelledby="inbox-confirm-title">
                    <p id="inbox-confirm-title"><strong>{format!("Reject {count} offer{}?", if count == 1 { "" } else { "s" })}</strong></p>
                    <p class="muted">"They stay in the inbox as rejected; you can accept them later."</p>
                    <ActionForm action=respond attr:class="inline-form">
                        {report.items.iter().enumerate().map(|(i, item)| view! { <input type="hidden" name=format!("items[{i}]") value=item.clone()/> }).collect_view()}
                        <input type="hidden" name="status" value="rejected"/>
                        <input type="hidden" name="confirmed" value="yes"/>
                        <button type="submit" class="danger">"Reject"</button>
                        <a class="button secondary" href="/inbox">"Cancel"</a>
                    </ActionForm>
                </div>
            }
            .into_any(),
        );
    }
    if let Some(summary) = report.new_version_summary() {
        let failed = report.answers.iter().any(|a| a.outcome.is_err());
        return Some(
            view! {
                <div class="report" role="status">
                    <p class=failed.then_some("error")><strong>{summary}</strong></p>
                </div>
            }
            .into_any(),
        );
    }
    let ok = report.answers.iter().filter(|a| a.outcome.is_ok()).count();
    let failed: Vec<(String, AppError)> =
        report.answers.iter().filter_map(|a| a.outcome.clone().err().map(|e| (a.image_id.clone(), e))).collect();
    Some(
        view! {
            <div class="report" role="status">
                <p><strong>{format!("{} {ok} offer{}.", report.status.done(), if ok == 1 { "" } else { "s" })}</strong></p>
                {(!failed.is_empty()).then(|| view! {
                    <ul>{failed.into_iter().map(|(image, e)| view! { <li class="error"><code>{image}</code>": "{e.to_string()}</li> }).collect_view()}</ul>
                })}
            </div>
        }
        .into_any(),
    )
}

/// "new version of <old name>", the old name a link to its page.
#[component]
pub fn NewVersionOf(old: OldVersion) -> impl IntoView {
    view! {
        <span class="muted new-version">" new version of "<a href=format!("/images/{}", old.id)>{old.name}</a></span>
    }
}

/// The button that accepts a new version and rejects the old one: it names what it rejects.
pub fn accept_new_version_words(status: Option<MemberStatus>, old_name: &str) -> String {
    if status == Some(MemberStatus::Accepted) {
        format!("Reject the old version {old_name}")
    } else {
        format!("Accept, and reject {old_name}")
    }
}

/// The answers the bulk action offers, in the order shown; the first is the default.
const INBOX_ANSWERS: [MemberStatus; 3] = [MemberStatus::Accepted, MemberStatus::Rejected, MemberStatus::Pending];

#[component]
fn InboxForm(projects: Vec<InboxProject>, respond: ServerAction<RespondToOffers>) -> impl IntoView {
    let mut index = 0usize;
    let groups = projects
        .into_iter()
        .map(|p| {
            let title = format!("Project {}", p.project_name);
            let body = match p.offers {
                Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                Ok(offers) if offers.is_empty() => view! { <p class="empty">"No offers."</p> }.into_any(),
                Ok(offers) => view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col"><span class="sr-only">"Choose"</span></th><th scope="col">"Image"</th><th scope="col">"Your answer"</th><th scope="col">"Owner"</th></tr></thead>
                            <tbody>
                                {offers.into_iter().map(|row| {
                                    let name = format!("items[{index}]");
                                    index += 1;
                                    let value = format!("{}/{}", p.project_id, row.image.id);
                                    let label = format!("Choose {} for project {}", row.image.display_name(), p.project_name);
                                    view! {
                                        <tr>
                                            <td><input type="checkbox" name=name value=value.clone() aria-label=label/></td>
                                            <td data-label="Image">
                                                <a href=format!("/images/{}", row.image.id)>{row.image.display_name()}</a>
                                                {row.new_version_of.clone().map(|old| view! { <NewVersionOf old/> })}
                                            </td>
                                            <td data-label="Your answer">
                                                <StatusBadge status=row.my_status.unwrap_or(MemberStatus::Unknown)/>
                                                // A submit button of the inbox form: its name and value alone
                                                // say what to do, whatever is ticked.
                                                {row.new_version_of.map(|old| view! {
                                                    " "<button type="submit" class="secondary" name="new_version" value=value>
                                                        {accept_new_version_words(row.my_status, &old.name)}
                                                    </button>
                                                })}
                                            </td>
                                            <td data-label="Owner">{
                                                let owner = row.image.owner.clone().unwrap_or_default();
                                                let known = p.owners.get(&owner).cloned();
                                                view! { <ProjectLabel id=owner known label="Copy owner project ID"/> }
                                            }</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any(),
            };
            view! {
                <section class="inbox-project">
                    <h2>{title}" "<CopyId id=p.project_id.clone() short=true label="Copy project ID"/></h2>
                    {body}
                </section>
            }
        })
        .collect_view();
    view! {
        <ActionForm action=respond attr:class="form inbox-form">
            {groups}
            <div class="inline-form">
                <label for="inbox-status">"Answer the ticked offers:"</label>
                // Accept first and chosen: the inbox is where new (pending) offers are answered,
                // and "Set back to pending" as the default made a first Apply do nothing.
                <select id="inbox-status" name="status">
                    {INBOX_ANSWERS.into_iter().map(|s| view! {
                        <option value=s.key() selected=s == MemberStatus::Accepted>{s.action()}</option>
                    }).collect_view()}
                </select>
                <button type="submit" disabled=move || respond.pending().get()>"Apply"</button>
            </div>
        </ActionForm>
    }
}
