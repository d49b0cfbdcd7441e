//! The member table of an image: who it is shared with, their answer, and the owner's and
//! admin's actions on each row.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{
    api::members::{RevokeMember, SetMemberStatus},
    model::{Flag, MemberRow, MemberStatus},
    ui::{
        bits::{FlagBadge, StatusBadge, When},
        copy::CopyButtons,
        project::{ProjectLabel, project_words},
    },
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

/// The form the member table's tick boxes belong to.
const TICKED: &str = "members-ticked";

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
    revoke: ServerAction<RevokeMember>,
    override_status: ServerAction<SetMemberStatus>,
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
    let mut rows: Vec<MemberRow> = rows.into_iter().filter(|r| filter.keeps(r)).collect();
    rows.sort_by(|a, b| a.member.member_id.cmp(&b.member.member_id));
    let shown = rows.len();
    // "Revoke all shown" names every row shown: only needed while a filter is on.
    let revoke_shown: Vec<String> = if owned && filter.is_active() {
        rows.iter().map(|r| r.member.member_id.clone()).collect()
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
    let table = MemberRows {
        image_id: image_id.clone(),
        image_name,
        owned,
        is_admin,
        focus,
        confirm_revoke,
        revoke,
        override_status,
    };
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
            // waits for, and as plain HTML (`to_html`), without the async render's walk and
            // copies of every row.
            view! {
                <CopyButtons>
                    {Unsuspend::new(move || view! { <div class="table-wrap" inner_html=table.html(rows)></div> })}
                </CopyButtons>
            }
            .into_any()
        }}
    }
    .into_any()
}

/// What every row of the member table shares.
struct MemberRows {
    image_id: String,
    image_name: String,
    owned: bool,
    is_admin: bool,
    /// The row a deep link points at.
    focus: Option<String>,
    /// The member whose revocation is being confirmed.
    confirm_revoke: Option<String>,
    revoke: ServerAction<RevokeMember>,
    override_status: ServerAction<SetMemberStatus>,
}

impl MemberRows {
    /// The table, rows sorted and filtered, as HTML.
    fn html(&self, rows: Vec<MemberRow>) -> String {
        let (owned, is_admin) = (self.owned, self.is_admin);
        // Each row is made and written before the next: no list of every row's view is built
        // (and moved about) first.
        let mut body = String::with_capacity(rows.len() * 1300);
        for row in rows {
            body.push_str(&self.row(row).to_html());
        }
        view! {
            <table class="members">
                <caption class="sr-only">{format!("Projects image {} is shared with", self.image_name)}</caption>
                <thead>
                    <tr>
                        {owned.then(|| view! { <th scope="col"><span class="sr-only">"Tick"</span></th> })}
                        <th scope="col">"Project"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Shared"</th>
                        <th scope="col">"Updated"</th>
                        <th scope="col">"Flags"</th>
                        {(owned || is_admin).then(|| view! { <th scope="col">"Actions"</th> })}
                    </tr>
                </thead>
                <tbody inner_html=body></tbody>
            </table>
        }
        .to_html()
    }

    /// One member: the project, its answer and when, its flags, and what may be done about it.
    fn row(&self, row: MemberRow) -> impl IntoView + use<> {
        let MemberRow { member, project, flags } = row;
        let id = member.member_id;
        let focused = self.focus.as_deref() == Some(id.as_str());
        let confirming = self.confirm_revoke.as_deref() == Some(id.as_str());
        let who = project_words(&id, project.as_ref());
        let deep_link = ["/images/", self.image_id.as_str(), "/members/", id.as_str()].concat();
        // A deep link (`/images/{image}/members/{member}`, the Terraform import id) names one
        // row: it takes the focus (`autofocus`), so the keyboard and screen readers start there,
        // and it is scrolled into view.
        view! {
            <tr id=["member-", id.as_str()].concat() autofocus=focused tabindex=focused.then_some("-1") class:focused=focused aria-current=focused.then_some("true")>
                {self.owned.then(|| view! {
                    <td class="tick"><input type="checkbox" form=TICKED name="member" value=id.clone() aria-label=["Choose project ", who.as_str()].concat()/></td>
                })}
                <td data-label="Project">
                    <ProjectLabel id=id.clone() known=project bare=true/>
                    <a class="permalink" href=deep_link.clone() title="Link to this member">"#"</a>
                </td>
                <td data-label="Status"><StatusBadge status=member.status/></td>
                <td data-label="Shared"><When time=member.created_at/></td>
                <td data-label="Updated"><When time=member.updated_at/></td>
                <td data-label="Flags">{flags.into_iter().map(|f| view! { <FlagBadge flag=f/>" " }).collect_view()}</td>
                {(self.owned || self.is_admin).then(|| view! {
                    <td class="actions" data-label="Actions">
                        {self.owned.then(|| if confirming {
                            self.confirm_revoke(&id, &who).into_any()
                        } else {
                            view! { <a class="button secondary" href=[deep_link.as_str(), "?confirm=revoke"].concat()>"Revoke…"</a> }.into_any()
                        })}
                        {self.is_admin.then(|| view! {
                            <AdminOverride image_id=self.image_id.clone() member_id=id.clone() current=member.status action=self.override_status/>
                        })}
                    </td>
                })}
            </tr>
        }
    }

    /// The row whose revocation the owner is asked to confirm.
    fn confirm_revoke(&self, member_id: &str, who: &str) -> impl IntoView + use<> {
        let revoke = self.revoke;
        let revoking = revoke.pending();
        let (image_id, member_id) = (self.image_id.clone(), member_id.to_string());
        view! {
            <div class="confirm" role="alertdialog" aria-labelledby="confirm-revoke-title">
                <p id="confirm-revoke-title">
                    <strong>{format!("Revoke the access of project {who} to image {}?", self.image_name)}</strong>
                </p>
                <ActionForm action=revoke attr:class="inline-form">
                    <input type="hidden" name="image_id" value=image_id.clone()/>
                    <input type="hidden" name="member_id" value=member_id/>
                    <button type="submit" class="danger" data-busy="Revoking…" disabled=move || revoking.get()>
                        {move || if revoking.get() { "Revoking…" } else { "Revoke" }}
                    </button>
                    <a class="button secondary" href=format!("/images/{image_id}")>"Cancel"</a>
                </ActionForm>
            </div>
        }
    }
}

/// An admin sets a member's answer for it: labelled as an override and confirmed by a checkbox.
#[component]
fn AdminOverride(
    image_id: String,
    member_id: String,
    current: MemberStatus,
    action: ServerAction<SetMemberStatus>,
) -> impl IntoView {
    let select_id = format!("override-{member_id}");
    let confirm_id = format!("override-confirm-{member_id}");
    view! {
        <details class="admin-override">
            <summary>"Admin override"</summary>
            <ActionForm action=action attr:class="form compact">
                <input type="hidden" name="image_id" value=image_id/>
                <input type="hidden" name="member_id" value=member_id.clone()/>
                <label for=select_id.clone()>"Set this project's answer to"</label>
                <select id=select_id name="status">
                    {MemberStatus::CHOICES.into_iter().filter(|s| *s != current).map(|s| view! { <option value=s.key()>{s.key()}</option> }).collect_view()}
                </select>
                <label class="check">
                    <input id=confirm_id type="checkbox" name="admin_override" value="yes" required/>
                    {format!("I am deciding for project {member_id} as an admin")}
                </label>
                <button type="submit" class="danger">"Override"</button>
            </ActionForm>
        </details>
    }
}
