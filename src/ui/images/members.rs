//! The member table of an image: who it is shared with, their answer, and the owner's and
//! admin's actions on each row.

use leptos::{form::ActionForm, prelude::*};

use crate::{
    api::members::{RevokeMember, SetMemberStatus},
    model::{MemberRow, MemberStatus},
    ui::{
        bits::{StatusBadge, When},
        project::{ProjectLabel, project_words},
    },
};

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
    let mut rows = rows;
    rows.sort_by(|a, b| a.member.member_id.cmp(&b.member.member_id));
    view! {
        <div class="table-wrap">
            <table class="members">
                <caption class="sr-only">{format!("Projects image {image_name} is shared with")}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Project"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Shared"</th>
                        <th scope="col">"Updated"</th>
                        {(owned || is_admin).then(|| view! { <th scope="col">"Actions"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let member_id = row.member.member_id.clone();
                        let focused = focus.as_deref() == Some(member_id.as_str());
                        let confirming = confirm_revoke.as_deref() == Some(member_id.as_str());
                        view! {
                            <MemberRowView
                                image_id=image_id.clone()
                                image_name=image_name.clone()
                                row
                                owned
                                is_admin
                                focused
                                confirming
                                revoke
                                override_status
                            />
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn MemberRowView(
    image_id: String,
    image_name: String,
    row: MemberRow,
    owned: bool,
    is_admin: bool,
    focused: bool,
    confirming: bool,
    revoke: ServerAction<RevokeMember>,
    override_status: ServerAction<SetMemberStatus>,
) -> impl IntoView {
    let member = row.member;
    let who = project_words(&member.member_id, row.project.as_ref());
    let row_id = format!("member-{}", member.member_id);
    let deep_link = format!("/images/{image_id}/members/{}", member.member_id);
    let confirm_href = format!("{deep_link}?confirm=revoke");
    let revoking = revoke.pending();
    let admin_ids = (image_id.clone(), member.member_id.clone());
    // A deep link (`/images/{image}/members/{member}`, the Terraform import id) names one
    // row: it takes the focus (`autofocus`), so the keyboard and screen readers start there,
    // and it is scrolled into view.
    view! {
        <tr id=row_id autofocus=focused tabindex=focused.then_some("-1") class:focused=focused aria-current=focused.then_some("true")>
            <td data-label="Project">
                <ProjectLabel id=member.member_id.clone() known=row.project.clone()/>
                <a class="permalink" href=deep_link.clone() title="Link to this member">"#"</a>
            </td>
            <td data-label="Status"><StatusBadge status=member.status/></td>
            <td data-label="Shared"><When time=member.created_at.clone()/></td>
            <td data-label="Updated"><When time=member.updated_at.clone()/></td>
            {(owned || is_admin).then(|| view! {
                <td class="actions" data-label="Actions">
                    {owned.then(|| if confirming {
                        view! {
                            <div class="confirm" role="alertdialog" aria-labelledby="confirm-revoke-title">
                                <p id="confirm-revoke-title">
                                    <strong>{format!("Revoke the access of project {who} to image {image_name}?")}</strong>
                                </p>
                                <ActionForm action=revoke attr:class="inline-form">
                                    <input type="hidden" name="image_id" value=image_id.clone()/>
                                    <input type="hidden" name="member_id" value=member.member_id.clone()/>
                                    <button type="submit" class="danger" data-busy="Revoking…" disabled=move || revoking.get()>
                                        {move || if revoking.get() { "Revoking…" } else { "Revoke" }}
                                    </button>
                                    <a class="button secondary" href=format!("/images/{image_id}")>"Cancel"</a>
                                </ActionForm>
                            </div>
                        }.into_any()
                    } else {
                        view! { <a class="button secondary" href=confirm_href.clone()>"Revoke…"</a> }.into_any()
                    })}
                    {is_admin.then(|| view! {
                        <AdminOverride image_id=admin_ids.0 member_id=admin_ids.1 current=member.status action=override_status/>
                    })}
                </td>
            })}
        </tr>
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
