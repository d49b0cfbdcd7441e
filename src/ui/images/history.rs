//! The image page's History: who changed this image's sharing through the dashboard.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{AuditEntry, ProjectName},
    ui::bits::{When, middle},
};

/// One page of History, newest first, with links to the older page (`older`: where it starts)
/// and, on a later page (`paged`), back to the newest changes.
#[component]
pub fn History(
    image_id: String,
    entries: Result<Vec<AuditEntry>, AppError>,
    older: Option<i64>,
    paged: bool,
    /// Names of the member projects, where known.
    projects: HashMap<String, ProjectName>,
) -> impl IntoView {
    let pages = (older.is_some() || paged).then(|| {
        let newest = paged.then(|| {
            view! { <a href=format!("/images/{image_id}#history-title")>"← Newest changes"</a> }
        });
        let older = older.map(|before| {
            view! { <a href=format!("/images/{image_id}?history_before={before}#history-title")>"Older changes →"</a> }
        });
        view! { <nav class="pages" aria-label="History pages">{newest}{older}</nav> }
    });
    let body = match entries {
        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
        Ok(entries) if entries.is_empty() && paged => view! { <p class="empty">"No older changes."</p> }.into_any(),
        Ok(entries) if entries.is_empty() => {
            view! { <p class="empty">"No change to this image's sharing has been made through glance-share yet."</p> }
                .into_any()
        }
        Ok(entries) => view! {
            <p class="muted">"Newest first."</p>
            <div class="table-wrap">
                <table class="history">
                    <thead>
                        <tr>
                            <th scope="col">"When"</th>
                            <th scope="col">"Who"</th>
                            <th scope="col">"Change"</th>
                            <th scope="col">"Outcome"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {entries.into_iter().map(|e| {
                            let project = e.member_id.as_ref().and_then(|m| projects.get(m)).cloned();
                            view! { <HistoryRow entry=e project/> }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
    };
    view! {
        <section aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            {body}
            {pages}
        </section>
    }
}

#[component]
fn HistoryRow(entry: AuditEntry, project: Option<ProjectName>) -> impl IntoView {
    let who_title = format!("{} in project {} ({})", entry.user_name, entry.project_name, entry.project_id);
    let change = match (&entry.member_id, project.as_ref().and_then(ProjectName::label)) {
        (Some(_), Some(name)) => format!("{} {name}", entry.change.describe()),
        (Some(member), None) => format!("{} {}", entry.change.describe(), middle(member)),
        (None, _) => entry.change.describe(),
    };
    let change_title = entry.member_id.clone().unwrap_or_default();
    let (class, outcome) = match entry.failure {
        None => ("outcome done", "done".to_string()),
        Some(why) => ("outcome failed", why),
    };
    view! {
        <tr>
            <td data-label="When"><When time=Some(entry.at)/></td>
            <td title=who_title data-label="Who">{entry.user_name}<span class="muted">{format!(" ({})", entry.project_name)}</span></td>
            <td title=change_title data-label="Change">{change}<span class="muted">{format!(" · {}", entry.via.key())}</span></td>
            <td class=class data-label="Outcome">{outcome}</td>
        </tr>
    }
}
