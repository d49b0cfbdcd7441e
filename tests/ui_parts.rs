//! The UI's parts that are plain functions, tested against the library as the server is built.
//! (They were unit tests; the library's unit tests are built without the UI, see src/lib.rs.)

use axum::body::Bytes;
use glance_share::{
    api::members::{RevokeMember, SetMemberStatus},
    model::{Flag, MemberRow, ProjectName},
    ui::{
        apart::server::{marker, spliced},
        bits::{middle, relative, write_exact_time},
        images::{member_rows::MemberRows, terraform::data_url},
    },
};
use leptos::server_fn::ServerFn;
use openstack::records::Member;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

// ---- the member table's rows (src/ui/images/member_rows.rs)

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
    // Never answered: "Updated" says what "Shared" says (written once, copied).
    let cell = |label: &str| {
        let start = html.find(&format!(r#"<td data-label="{label}">"#)).unwrap();
        html[start..].split_once("</td>").unwrap().0.split_once('>').unwrap().1.to_string()
    };
    assert!(cell("Shared").starts_with(r#"<time datetime="2026-11-24T12:00:00Z""#), "{html}");
    assert!(cell("Shared").ends_with(" ago</time>"), "{html}");
    assert_eq!(cell("Shared"), cell("Updated"));
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
fn a_row_shows_its_times_its_deleted_project_and_glances_words_when_no_time() {
    let mut deleted = row("d", Some(ProjectName::Deleted), vec![Flag::UnknownProject]);
    deleted.member.updated_at = Some("2026-11-25T13:04:05Z".into());
    let mut odd = row("o", None, vec![]);
    odd.member.created_at = Some("yesterday <b>".into());
    odd.member.updated_at = None;
    // Times not in Glance's own form: with an offset, with fractions of a second.
    let mut offset = row("p", None, vec![]);
    offset.member.created_at = Some("2026-11-25T14:04:05+01:00".into());
    offset.member.updated_at = Some("2026-11-25T13:04:06.123456Z".into());
    let html = table(true, false).html(&[deleted, odd, offset]);
    for part in [
        r#"<code title="d">d</code>"#,
        r#"<br><span class="badge flag-deleted" title="Glance keeps the memberships of deleted projects; revoke it to tidy up">"#,
        r#"<time datetime="2026-11-24T12:00:00Z" title="2026-11-24 12:00:00 UTC">"#,
        r#"<time datetime="2026-11-25T13:04:05Z" title="2026-11-25 13:04:05 UTC">"#,
        r#"<span class="badge flag flag-unknown-project" title=""#,
        r#"<td data-label="Shared"><span>yesterday &lt;b&gt;</span></td>"#,
        r#"<td data-label="Updated"><span class="muted">—</span></td>"#,
        r#"<time datetime="2026-11-25T14:04:05+01:00" title="2026-11-25 13:04:05 UTC">"#,
        r#"<time datetime="2026-11-25T13:04:06.123456Z" title="2026-11-25 13:04:06 UTC">"#,
    ] {
        assert!(html.contains(part), "{part} not in {html}");
    }
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

// ---- times and IDs (src/ui/bits.rs)

fn exact_time_of(at: OffsetDateTime) -> String {
    let mut out = String::new();
    write_exact_time(&mut out, at);
    out
}

#[test]
fn relative_times_read_naturally() {
    let now = OffsetDateTime::parse("2026-11-24T12:00:00Z", &Rfc3339).unwrap();
    let at = |s: &str| OffsetDateTime::parse(s, &Rfc3339).unwrap();
    assert_eq!(relative(at("2026-11-24T11:59:30Z"), now), "just now");
    assert_eq!(relative(at("2026-11-24T11:15:00Z"), now), "45 min ago");
    assert_eq!(relative(at("2026-11-24T09:00:00Z"), now), "3 h ago");
    assert_eq!(relative(at("2026-11-20T12:00:00Z"), now), "4 d ago");
    assert_eq!(relative(at("2026-11-24T15:00:00Z"), now), "in 3 h");
    assert_eq!(relative(at("2026-11-24T11:59:00Z"), now), "1 min ago");
    assert_eq!(relative(at("2026-11-24T11:00:01Z"), now), "59 min ago");
    assert_eq!(relative(at("2026-09-24T12:00:00Z"), now), "2 mo ago", "61 days");
    assert_eq!(relative(at("2016-11-24T12:00:00Z"), now), "121 mo ago");
    assert_eq!(relative(at("2027-02-24T12:00:00Z"), now), "in 3 mo");
}

#[test]
fn exact_times_are_padded() {
    let at = OffsetDateTime::parse("0999-02-03T04:05:06Z", &Rfc3339).unwrap();
    assert_eq!(exact_time_of(at), "0999-02-03 04:05:06 UTC");
    let at = OffsetDateTime::parse("2026-11-24T12:59:30Z", &Rfc3339).unwrap();
    assert_eq!(exact_time_of(at), "2026-11-24 12:59:30 UTC");
    let at = OffsetDateTime::parse("2026-11-25T00:30:00+01:00", &Rfc3339).unwrap();
    assert_eq!(exact_time_of(at), "2026-11-24 23:30:00 UTC", "in UTC, not in the offset it was sent with");
}

#[test]
fn long_ids_are_shortened_in_the_middle() {
    assert_eq!(middle("307433773c7941a8a74a5c42da2b220e"), "307433…2b220e");
    assert_eq!(middle("short"), "short");
    assert_eq!(middle("12345678901234"), "12345678901234", "14 characters stay whole");
    assert_eq!(middle("123456789012345"), "123456…012345");
    assert_eq!(middle("ääääääxyzüüüüüü"), "ääääää…üüüüüü", "characters, not bytes");
}

// ---- the Terraform page's download links (src/ui/images/terraform.rs)

#[test]
fn data_urls_percent_encode_the_text() {
    assert_eq!(data_url("a b\n\"é#%"), "data:text/plain;charset=utf-8,a%20b%0A%22%C3%A9%23%25");
}

// ---- HTML sent apart from the page (src/ui/apart.rs)

fn joined(chunks: Vec<Bytes>) -> String {
    String::from_utf8(chunks.concat()).unwrap()
}

#[test]
fn each_held_string_goes_where_its_marker_is() {
    let page = format!("<p>a</p>{}<p>b</p>{}<p>c</p>", marker(0), marker(1));
    let chunks = spliced(Bytes::from(page), vec!["<tr>1</tr>".into(), "<tr>2</tr>".into()]);
    assert_eq!(joined(chunks), "<p>a</p><tr>1</tr><p>b</p><tr>2</tr><p>c</p>");
}

#[test]
fn a_marker_the_page_did_not_write_leaves_its_string_out() {
    let page = format!("<p>error</p>{}", marker(1));
    let chunks = spliced(Bytes::from(page), vec!["<tr>0</tr>".into(), "<tr>1</tr>".into()]);
    assert_eq!(joined(chunks), "<p>error</p><tr>1</tr>");
}

#[test]
fn text_that_looks_like_a_marker_without_the_key_stays_as_it_is() {
    let page = "<p>&lt;!--apart:0--&gt;</p><!--apart:0-->".to_string();
    let chunks = spliced(Bytes::from(page.clone()), vec!["<tr>0</tr>".into()]);
    assert_eq!(joined(chunks), page);
}
