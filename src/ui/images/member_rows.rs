//! The member table's rows, written straight to HTML with `maud`.
//!
//! An image can have hundreds of members, and the rows were most of the image page's server
//! time: Leptos' `view!` builds each row as a tree of typed views, escapes every attribute one
//! character at a time and allocates a string for each joined value. Nothing in a row reacts or
//! hydrates (the copy buttons are served by one `CopyButtons` island around the table), so the
//! rows are plain markup: `maud` writes them into one string, escaping every value it is given,
//! as `view!` did. The markup and the words are the same as the Leptos components' (`When`,
//! `StatusBadge`, `FlagBadge`, `CopyId`, `ProjectLabel`, `ActionForm`) that other pages use.

use std::borrow::Cow;

use leptos::server_fn::ServerFn;
use maud::{Markup, PreEscaped, Render, html};
use time::OffsetDateTime;

use crate::{
    api::members::{RevokeMember, SetMemberStatus},
    model::{Flag, MemberRow, MemberStatus, ProjectName},
    ui::{
        bits::{middle, time_words},
        project::project_words,
    },
};

/// The form the member table's tick boxes belong to.
pub const TICKED: &str = "members-ticked";

/// What every row of the member table shares.
pub struct MemberRows {
    pub image_id: String,
    pub image_name: String,
    pub owned: bool,
    pub is_admin: bool,
    /// The row a deep link points at.
    pub focus: Option<String>,
    /// The member whose revocation is being confirmed.
    pub confirm_revoke: Option<String>,
}

impl MemberRows {
    /// The table, rows already sorted and filtered, as HTML.
    pub fn html(&self, rows: &[MemberRow]) -> String {
        // One clock reading for the whole table: every "3 d ago" is counted from the same now.
        let now = OffsetDateTime::now_utc();
        let actions = self.owned || self.is_admin;
        // Every row's deep link starts the same: escaped once for the table.
        let link_start = escaped(&["/images/", self.image_id.as_str(), "/members/"].concat()).0.into_owned();
        // The rows are written inline, into the table's one string: a row of its own would be
        // a string made, grown and copied for each member.
        let table = html! {
            table.members {
                caption.sr-only { "Projects image " (self.image_name) " is shared with" }
                thead {
                    tr {
                        @if self.owned { th scope="col" { span.sr-only { "Tick" } } }
                        th scope="col" { "Project" }
                        th scope="col" { "Status" }
                        th scope="col" { "Shared" }
                        th scope="col" { "Updated" }
                        th scope="col" { "Flags" }
                        @if actions { th scope="col" { "Actions" } }
                    }
                }
                tbody {
                    @for row in rows {
                        @let id = row.member.member_id.as_str();
                        @let focused = self.focus.as_deref() == Some(id);
                        @let confirming = self.confirm_revoke.as_deref() == Some(id);
                        @let who = project_words(id, row.project.as_ref());
                        // The ID is written seven times a row and the link twice: each is
                        // escaped once.
                        @let (id_html, who_html) = (escaped(id), escaped(&who));
                        @let deep_link = PreEscaped([link_start.as_str(), &id_html.0].concat());
                        @let shared = when(row.member.created_at.as_deref(), now);
                        // A member nobody answered yet was updated when it was shared: the same cell.
                        @let updated = if row.member.updated_at == row.member.created_at {
                            None
                        } else {
                            Some(when(row.member.updated_at.as_deref(), now))
                        };
                        // A deep link (`/images/{image}/members/{member}`, the Terraform import id)
                        // names one row: it takes the focus (`autofocus`), so the keyboard and
                        // screen readers start there, and it is scrolled into view.
                        tr id={ "member-" (id_html) } autofocus[focused] tabindex=[focused.then_some("-1")]
                            class=[focused.then_some("focused")] aria-current=[focused.then_some("true")] {
                            @if self.owned {
                                td.tick {
                                    input type="checkbox" form=(TICKED) name="member" value=(id_html) aria-label={ "Choose project " (who_html) };
                                }
                            }
                            td data-label="Project" {
                                (project_label(id, &id_html, row.project.as_ref()))
                                a.permalink href=(deep_link) title="Link to this member" { "#" }
                            }
                            td data-label="Status" { (status_badge(row.member.status)) }
                            td data-label="Shared" { (shared) }
                            td data-label="Updated" { (updated.as_ref().unwrap_or(&shared)) }
                            td data-label="Flags" { @for flag in &row.flags { (flag_badge(*flag)) " " } }
                            @if actions {
                                td.actions data-label="Actions" {
                                    @if self.owned {
                                        @if confirming {
                                            (self.confirm_revoke(id, &who))
                                        } @else {
                                            a.button.secondary href={ (deep_link) "?confirm=revoke" } { "Revoke…" }
                                        }
                                    }
                                    @if self.is_admin { (admin_override(&self.image_id, id, row.member.status)) }
                                }
                            }
                        }
                    }
                }
            }
        };
        table.into_string()
    }

    /// The row whose revocation the owner is asked to confirm. The form posts to the revoke
    /// server function, as Leptos' `ActionForm` does; the page is reloaded with the result.
    fn confirm_revoke(&self, member_id: &str, who: &str) -> Markup {
        html! {
            div.confirm role="alertdialog" aria-labelledby="confirm-revoke-title" {
                p #confirm-revoke-title {
                    strong { "Revoke the access of project " (who) " to image " (self.image_name) "?" }
                }
                form.inline-form action=(RevokeMember::url()) method="post" {
                    input type="hidden" name="image_id" value=(self.image_id);
                    input type="hidden" name="member_id" value=(member_id);
                    button.danger type="submit" data-busy="Revoking…" { "Revoke" }
                    a.button.secondary href={ "/images/" (self.image_id) } { "Cancel" }
                }
            }
        }
    }
}

/// An admin sets a member's answer for it: labelled as an override and confirmed by a checkbox.
fn admin_override(image_id: &str, member_id: &str, current: MemberStatus) -> Markup {
    html! {
        details.admin-override {
            summary { "Admin override" }
            form.form.compact action=(SetMemberStatus::url()) method="post" {
                input type="hidden" name="image_id" value=(image_id);
                input type="hidden" name="member_id" value=(member_id);
                label for={ "override-" (member_id) } { "Set this project's answer to" }
                select id={ "override-" (member_id) } name="status" {
                    @for s in MemberStatus::CHOICES.into_iter().filter(|s| *s != current) {
                        option value=(s.key()) { (s.key()) }
                    }
                }
                label.check {
                    input id={ "override-confirm-" (member_id) } type="checkbox" name="admin_override" value="yes" required;
                    "I am deciding for project " (member_id) " as an admin"
                }
                button.danger type="submit" { "Override" }
            }
        }
    }
}

/// `text`, escaped as `maud` escapes values (`Render`), once, for a value a row writes several
/// times; borrowed when there is nothing to escape.
fn escaped(text: &str) -> PreEscaped<Cow<'_, str>> {
    // Project IDs have nothing to escape: looked for at once, rather than byte by byte.
    if !text.bytes().any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'')) {
        return PreEscaped(Cow::Borrowed(text));
    }
    PreEscaped(Cow::Owned(text.render().0))
}

/// `ProjectLabel` inside a table: the name (and domain) over the shortened ID, or the ID.
/// `id_html` is `id` escaped.
fn project_label(id: &str, id_html: &PreEscaped<Cow<'_, str>>, known: Option<&ProjectName>) -> Markup {
    html! {
        @match known {
            Some(ProjectName::Named { name, domain }) => {
                span.project-name { (name) }
                @if let Some(d) = domain { span class="muted project-domain" { " (" (d) ")" } }
                br;
                (copy_id(id, id_html, true))
            }
            Some(ProjectName::Deleted) => {
                (copy_id(id, id_html, false))
                br;
                span class="badge flag-deleted" title="Glance keeps the memberships of deleted projects; revoke it to tidy up" {
                    "No such project in Keystone (deleted?)"
                }
            }
            None => (copy_id(id, id_html, false)),
        }
    }
}

/// `CopyId` with `bare`: the table's one `CopyButtons` island copies the `data-copy`. `id_html`
/// is `id` escaped.
fn copy_id(id: &str, id_html: &PreEscaped<Cow<'_, str>>, short: bool) -> Markup {
    html! {
        span.copy-id {
            code title=(id_html) { @if short { (middle(id)) } @else { (id_html) } }
            button.link type="button" data-copy=(id_html) aria-label={ "Copy project ID: " (id_html) } { "Copy" }
        }
    }
}

/// `StatusBadge`. The status' key is one of the dashboard's own words: nothing to escape.
fn status_badge(status: MemberStatus) -> Markup {
    let key = PreEscaped(status.key());
    html! { span class={ "badge " (key) } { (key) } }
}

/// `FlagBadge`.
fn flag_badge(flag: Flag) -> Markup {
    html! { span class={ "badge flag flag-" (flag.key()) } title=(flag.explain()) { (flag.label()) } }
}

/// `When`: "3 d ago", with the exact UTC time on hover.
fn when(time: Option<&str>, now: OffsetDateTime) -> Markup {
    let Some(raw) = time else { return html! { span.muted { "—" } } };
    let Some((exact, ago)) = time_words(raw, now) else { return html! { span { (raw) } } };
    // What Glance sent is escaped; the two times made of it are digits and words of ours.
    html! { time datetime=(raw) title=(PreEscaped(exact)) { (PreEscaped(ago)) } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openstack::records::Member;

    fn row(id: &str, project: Option<ProjectName>, flags: Vec<Flag>) -> MemberRow {
        let member: Member = serde_json::from_value(serde_json::json!({
            "member_id": id, "image_id": "img", "status": "pending",
            "created_at": "2026-11-24T12:00:00Z", "updated_at": "2026-11-24T12:00:00Z",
        }))
        .unwrap();
        MemberRow { member, project, flags }
    }

    fn table(owned: bool, is_admin: bool) -> MemberRows {
        MemberRows {
            image_id: "img".into(),
            image_name: "web <b>&".into(),
            owned,
            is_admin,
            focus: None,
            confirm_revoke: None,
        }
    }

    #[test]
    fn every_value_is_escaped() {
        let hostile = "\"><script>alert(1)</script>";
        let named = ProjectName::Named { name: "<i>x</i>".into(), domain: Some("d&\"".into()) };
        let html = table(true, true).html(&[row(hostile, Some(named), vec![])]);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<i>x"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("web &lt;b&gt;&amp;"), "{html}");
        assert!(html.contains("d&amp;&quot;"), "{html}");
    }

    #[test]
    fn a_named_projects_id_is_shortened_before_it_is_escaped() {
        let named = ProjectName::Named { name: "web".into(), domain: None };
        let html = table(false, false).html(&[row("&&&&&&&&&&&&&&&&", Some(named), vec![])]);
        assert!(html.contains("<code title=\"&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;&amp;\">&amp;&amp;&amp;&amp;&amp;&amp;…&amp;&amp;&amp;&amp;&amp;&amp;</code>"), "{html}");
        assert!(html.contains(r#"<span class="project-name">web</span>"#), "{html}");
    }

    #[test]
    fn an_owners_row_has_its_tick_copy_link_and_revoke() {
        let id = "307433773c7941a8a74a5c42da2b220e";
        let html = table(true, false).html(&[row(id, None, vec![])]);
        for part in [
            &format!(r#"<tr id="member-{id}">"#),
            &format!(
                r#"<input type="checkbox" form="members-ticked" name="member" value="{id}" aria-label="Choose project {id}">"#
            ),
            &format!(
                r#"<button class="link" type="button" data-copy="{id}" aria-label="Copy project ID: {id}">Copy</button>"#
            ),
            &format!(r#"<a class="button secondary" href="/images/img/members/{id}?confirm=revoke">Revoke…</a>"#),
            r#"<span class="badge pending">pending</span>"#,
            r#"<time datetime="2026-11-24T12:00:00Z" title="2026-11-24 12:00:00 UTC">"#,
        ] {
            assert!(html.contains(part), "{part} not in {html}");
        }
        assert!(!html.contains("Admin override"));
    }

    #[test]
    fn a_focused_row_takes_the_focus_and_a_confirmed_one_posts_the_revoke() {
        let mut t = table(true, false);
        t.focus = Some("a".into());
        t.confirm_revoke = Some("a".into());
        let html = t.html(&[row("a", None, vec![]), row("b", None, vec![])]);
        assert!(
            html.contains(r#"<tr id="member-a" autofocus tabindex="-1" class="focused" aria-current="true">"#),
            "{html}"
        );
        assert!(html.contains(r#"<tr id="member-b">"#), "{html}");
        assert!(html.contains(&format!(r#"action="{}" method="post""#, RevokeMember::url())), "{html}");
        assert!(html.contains(r#"<input type="hidden" name="member_id" value="a">"#), "{html}");
    }

    #[test]
    fn an_admin_gets_the_override_without_the_current_answer() {
        let html = table(false, true).html(&[row("a", None, vec![Flag::PendingLong])]);
        assert!(html.contains(&format!(r#"action="{}" method="post""#, SetMemberStatus::url())), "{html}");
        assert!(!html.contains(r#"<option value="pending">"#), "{html}");
        assert!(html.contains(r#"<option value="accepted">accepted</option>"#), "{html}");
        assert!(html.contains(r#"class="badge flag flag-"#), "{html}");
        assert!(!html.contains("type=\"checkbox\" form="), "no tick boxes for an admin who does not own it");
    }
}
