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
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    api::members::{RevokeMember, SetMemberStatus},
    model::{MemberRow, MemberStatus, ProjectName},
    ui::{
        bits::{middle_ends, write_exact_time, write_relative},
        project::project_words,
    },
};

/// The form the member table's tick boxes belong to.
pub const TICKED: &str = "members-ticked";

/// About what a row takes in the page (an owner's row of a 32-character project ID is ~1.2 kB):
/// the table's string is made that large at once, rather than doubled seven times over.
const ROW_BYTES: usize = 1300;

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
    ///
    /// Nothing is allocated a row (an image can have hundreds): the rows are written inline into
    /// the table's one string, values that need no escaping are borrowed, and the pieces used
    /// twice (`When`, `Middle`) write themselves into that string.
    pub fn html<Row: std::borrow::Borrow<MemberRow>>(&self, rows: &[Row]) -> String {
        // One clock reading for the whole table: every "3 d ago" is counted from the same now.
        let now = OffsetDateTime::now_utc();
        let actions = self.owned || self.is_admin;
        // Every row's deep link starts the same: escaped once for the table.
        let link_start = escaped(&["/images/", self.image_id.as_str(), "/members/"].concat()).0.into_owned();
        let link_start = PreEscaped(link_start.as_str());
        let table = html! {
            (Room(rows.len() * ROW_BYTES))
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
                        @let row: &MemberRow = row.borrow();
                        @let id = row.member.member_id.as_str();
                        @let focused = self.focus.as_deref() == Some(id);
                        @let confirming = self.confirm_revoke.as_deref() == Some(id);
                        @let who = project_words(id, row.project.as_ref());
                        // The ID is written seven times a row and the link twice: each is
                        // escaped once.
                        @let (id_html, who_html) = (escaped(id), escaped(&who));
                        @let times = Times { shared: row.member.created_at.as_deref(), updated: row.member.updated_at.as_deref(), now };
                        @let status = PreEscaped(row.member.status.key());
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
                            // `ProjectLabel`: the name (and domain) over the shortened ID, or the ID;
                            // `CopyId` with `bare` (the table's one `CopyButtons` island copies the
                            // `data-copy`).
                            td data-label="Project" {
                                @if let Some(ProjectName::Named { name, domain }) = &row.project {
                                    span.project-name { (name) }
                                    @if let Some(d) = domain { span class="muted project-domain" { " (" (d) ")" } }
                                    br;
                                }
                                span.copy-id {
                                    code title=(id_html) {
                                        @if matches!(row.project, Some(ProjectName::Named { .. })) { (Middle(id)) } @else { (id_html) }
                                    }
                                    button.link type="button" data-copy=(id_html) aria-label={ "Copy project ID: " (id_html) } { "Copy" }
                                }
                                @if row.project == Some(ProjectName::Deleted) {
                                    br;
                                    span class="badge flag-deleted" title="Glance keeps the memberships of deleted projects; revoke it to tidy up" {
                                        "No such project in Keystone (deleted?)"
                                    }
                                }
                                a.permalink href={ (link_start) (id_html) } title="Link to this member" { "#" }
                            }
                            // `StatusBadge`, `When` and `FlagBadge`. A status' or flag's key is one of
                            // the dashboard's own words: nothing to escape.
                            td data-label="Status" { span class={ "badge " (status) } { (status) } }
                            (times)
                            td data-label="Flags" {
                                @for flag in &row.flags {
                                    span class={ "badge flag flag-" (PreEscaped(flag.key())) } title=(flag.explain()) { (flag.label()) }
                                    " "
                                }
                            }
                            @if actions {
                                td.actions data-label="Actions" {
                                    @if self.owned {
                                        @if confirming {
                                            (self.confirm_revoke(id, &who))
                                        } @else {
                                            a.button.secondary href={ (link_start) (id_html) "?confirm=revoke" } { "Revoke…" }
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

/// Writes nothing: makes room for `.0` more bytes in the string being written. The first thing
/// in a template, it sizes the template's string.
struct Room(usize);

impl Render for Room {
    fn render_to(&self, out: &mut String) {
        out.reserve(self.0);
    }
}

/// `middle`: a long ID shortened in the middle, escaped.
struct Middle<'a>(&'a str);

impl Render for Middle<'_> {
    fn render_to(&self, out: &mut String) {
        match middle_ends(self.0) {
            Some((start, end)) => {
                start.render_to(out);
                out.push('…');
                end.render_to(out);
            }
            None => self.0.render_to(out),
        }
    }
}

/// The "Shared" and "Updated" cells. A member nobody answered yet was updated when it was
/// shared: the second cell is then a copy of the first's bytes, not written again.
struct Times<'a> {
    shared: Option<&'a str>,
    updated: Option<&'a str>,
    now: OffsetDateTime,
}

impl Render for Times<'_> {
    fn render_to(&self, out: &mut String) {
        out.push_str(r#"<td data-label="Shared">"#);
        let start = out.len();
        When { time: self.shared, now: self.now }.render_to(out);
        let end = out.len();
        out.push_str(r#"</td><td data-label="Updated">"#);
        if self.updated == self.shared {
            out.extend_from_within(start..end);
        } else {
            When { time: self.updated, now: self.now }.render_to(out);
        }
        out.push_str("</td>");
    }
}

/// `When`: "3 d ago", with the exact UTC time on hover; what Glance sent when it is no time.
struct When<'a> {
    time: Option<&'a str>,
    now: OffsetDateTime,
}

impl Render for When<'_> {
    fn render_to(&self, out: &mut String) {
        let Some(raw) = self.time else { return out.push_str(r#"<span class="muted">—</span>"#) };
        let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) else {
            out.push_str("<span>");
            raw.render_to(out);
            return out.push_str("</span>");
        };
        // What Glance sent is escaped; the two times made of it are digits and words of ours.
        out.push_str(r#"<time datetime=""#);
        raw.render_to(out);
        out.push_str(r#"" title=""#);
        match utc_seconds(raw) {
            // Glance's own form, "2026-11-24T12:00:00Z": its date and time are the words already
            // (formatting them from `at` cost a thousand instructions a cell).
            Some((date, time)) => {
                out.push_str(date);
                out.push(' ');
                out.push_str(time);
                out.push_str(" UTC");
            }
            None => write_exact_time(out, at),
        }
        out.push_str(r#"">"#);
        write_relative(out, at, self.now);
        out.push_str("</time>");
    }
}

/// The date and the time of day of an RFC 3339 time in whole seconds and UTC, as Glance writes
/// them ("2026-11-24T12:00:00Z"), once the whole was read as a time; none for any other form.
fn utc_seconds(raw: &str) -> Option<(&str, &str)> {
    let (date, rest) = raw.split_once('T')?;
    let time = rest.strip_suffix('Z')?;
    (date.len() == 10 && time.len() == 8).then_some((date, time))
}
