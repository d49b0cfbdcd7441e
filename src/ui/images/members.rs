//! The member table of an image: who it is shared with, their answer, and the owner's and
//! admin's actions on each row.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::member_rows::{MemberRows, TICKED};
use crate::ui::apart::sent_apart;
use crate::{
    model::{Flag, MemberRow, MemberStatus},
    ui::{bits::FlagBadge, copy::CopyButtons},
};

/// The rows the image page's member filter (`?status=…&q=…`) keeps: a status (or `flagged`)
/// and a text found in the project's ID or name.
#[derive(Clone, Default)]
struct MemberFilter {
    status: Option<String>,
    text: String,
}

impl MemberFilter {
    fn from_query(query: &leptos_router::params::ParamsMap) -> Self {
        let status =
            query.get("status").filter(|s| ["pending", "accepted", "rejected", "flagged"].contains(&s.as_str()));
        MemberFilter { status, text: query.get("q").unwrap_or_default().trim().to_lowercase() }
    }

    fn is_active(&self) -> bool {
        self.status.is_some() || !self.text.is_empty()
    }

    fn keeps(&self, row: &MemberRow) -> bool {
        if !self.is_active() {
            return true;
        }
        let status = match self.status.as_deref() {
            None => true,
            Some("flagged") => !row.flags.is_empty(),
            Some(s) => row.member.status.key() == s,
        };
        let name = row.project.as_ref().and_then(|p| p.label()).unwrap_or_default().to_lowercase();
        status
            && (self.text.is_empty()
                || row.member.member_id.to_lowercase().contains(&self.text)
                || name.contains(&self.text))
    }
}

/// "60 members: 20 pending, 30 accepted, 10 rejected", for the section's heading.
pub fn member_counts(rows: &[MemberRow]) -> String {
    let count = |s: MemberStatus| rows.iter().filter(|r| r.member.status == s).count();
    format!(
        "{} member{}: {} pending, {} accepted, {} rejected",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        count(MemberStatus::Pending),
        count(MemberStatus::Accepted),
        count(MemberStatus::Rejected)
    )
}

#[component]
pub fn MemberTable(
    image_id: String,
    image_name: String,
    rows: Vec<MemberRow>,
    owned: bool,
    is_admin: bool,
    /// The row a deep link points at.
    focus: Option<String>,
    /// The member whose revocation is being confirmed.
    confirm_revoke: Option<String>,
) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <p class="empty">
                {if owned { "Not shared with any project yet: enter projects above to share it." } else { "No members are visible to you." }}
            </p>
        }
        .into_any();
    }
    let filter = MemberFilter::from_query(&use_query_map().read_untracked());
    let total = rows.len();
    let mut rows = rows;
    rows.retain(|r| filter.keeps(r));
    let shown = rows.len();
    // "Revoke all shown" names every row shown: only needed while a filter is on.
    let revoke_shown: Vec<String> = if owned && filter.is_active() {
        by_project_id(&rows).iter().map(|r| r.member.member_id.clone()).collect()
    } else {
        Vec::new()
    };
    let flags: Vec<Flag> = {
        let mut all: Vec<Flag> = rows.iter().flat_map(|r| r.flags.iter().copied()).collect();
        all.sort_by_key(|f| f.key());
        all.dedup();
        all
    };
    let selected = |s: &str| filter.status.as_deref() == Some(s);
    let table = MemberRows { image_id: image_id.clone(), image_name, owned, is_admin, focus, confirm_revoke };
    view! {
        // A GET form: the filter is in the address, so it works without JavaScript and a
        // filtered table can be linked to.
        <form method="get" action=format!("/images/{image_id}") class="member-filter" role="search" aria-label="Filter the members">
            <label for="member-status">"Status"</label>
            <select id="member-status" name="status">
                <option value="" selected=filter.status.is_none()>"all"</option>
                <option value="pending" selected=selected("pending")>"pending"</option>
                <option value="accepted" selected=selected("accepted")>"accepted"</option>
                <option value="rejected" selected=selected("rejected")>"rejected"</option>
                <option value="flagged" selected=selected("flagged")>"flagged"</option>
            </select>
            <label for="member-text">"Project ID or name"</label>
            <input id="member-text" name="q" type="search" value=filter.text.clone()/>
            <button type="submit" class="secondary">"Filter"</button>
            {filter.is_active().then(|| view! { <a href=format!("/images/{image_id}")>"Show all"</a> })}
        </form>
        {filter.is_active().then(|| view! { <p class="muted" role="status">{format!("Showing {shown} of {total} members.")}</p> })}
        {(!flags.is_empty()).then(|| view! {
            <details class="flag-legend">
                <summary>"What the flags mean"</summary>
                <dl>{flags.into_iter().map(|f| view! { <dt><FlagBadge flag=f/></dt><dd>{f.explain()}</dd> }).collect_view()}</dl>
            </details>
        })}
        {owned.then(|| view! {
            // Ticked rows (and "every row shown") go to the batch plan: nothing changes until it runs.
            <div class="inline-actions ticked">
                <form id=TICKED method="get" action="/batch" class="inline-form">
                    <input type="hidden" name="image" value=image_id.clone()/>
                    <input type="hidden" name="operation" value="revoke"/>
                    <button type="submit" class="secondary">"Revoke the ticked members\u{2026}"</button>
                </form>
                {(!revoke_shown.is_empty()).then(|| view! {
                    <form method="get" action="/batch" class="inline-form">
                        <input type="hidden" name="image" value=image_id.clone()/>
                        <input type="hidden" name="operation" value="revoke"/>
                        {revoke_shown.into_iter().map(|m| view! { <input type="hidden" name="member" value=m/> }).collect_view()}
                        <button type="submit" class="secondary">{format!("Revoke all {shown} shown\u{2026}")}</button>
                    </form>
                })}
            </div>
        })}
        {if rows.is_empty() {
            view! { <p class="empty">"No member matches this filter."</p> }.into_any()
        } else {
            // The rows wait for nothing: they are made and written out once, when the page is
            // written (`Unsuspend`), not each time the page's `<Suspense>` looks for what it
            // waits for, as plain HTML (`member_rows`), and sent apart from the page's render
            // (`apart`).
            view! {
                <CopyButtons>
                    {Unsuspend::new(move || view! { <div class="table-wrap" inner_html=sent_apart(table.html(&by_project_id(&rows)))></div> })}
                </CopyButtons>
            }
            .into_any()
        }}
    }
    .into_any()
}

/// The rows in the table's order, by project ID. Their references are sorted, not the rows:
/// a row is a few hundred bytes, and sorting 128 of them moved each several times.
fn by_project_id(rows: &[MemberRow]) -> Vec<&MemberRow> {
    let mut sorted: Vec<&MemberRow> = rows.iter().collect();
    sorted.sort_by(|a, b| a.member.member_id.cmp(&b.member.member_id));
    sorted
}
