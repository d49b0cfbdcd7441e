//! Small pieces every table uses: status and visibility badges, times, errors.

use leptos::prelude::*;
use leptos_router::components::Redirect;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::auth::sign_in_path;
use crate::{
    error::AppError,
    model::{MemberStatus, Visibility},
};

#[component]
pub fn StatusBadge(status: MemberStatus) -> impl IntoView {
    view! { <span class=["badge ", status.key()].concat()>{status.key()}</span> }
}

#[component]
pub fn VisibilityBadge(visibility: Visibility) -> impl IntoView {
    view! { <span class=format!("badge vis-{}", visibility.label())>{visibility.label()}</span> }
}

/// "3 h ago", with the exact UTC time on hover.
#[component]
pub fn When(time: Option<String>) -> impl IntoView {
    let Some(raw) = time else { return view! { <span class="muted">"—"</span> }.into_any() };
    let Some((exact, ago)) = time_words(&raw, OffsetDateTime::now_utc()) else {
        return view! { <span>{raw}</span> }.into_any();
    };
    view! { <time datetime=raw title=exact>{ago}</time> }.into_any()
}

/// The exact UTC time and "3 h ago" (before `now`) of an RFC 3339 time as Glance sends it;
/// `None` when it is not one. `When` and the member table's rows show both.
pub fn time_words(raw: &str, now: OffsetDateTime) -> Option<(String, String)> {
    let at = OffsetDateTime::parse(raw, &Rfc3339).ok()?;
    Some((exact_time(at), relative(at, now)))
}

/// "2026-11-24 12:00:00 UTC".
fn exact_time(at: OffsetDateTime) -> String {
    let mut out = String::with_capacity(23);
    write_exact_time(&mut out, at);
    out
}

/// `exact_time`, written at the end of `out`: a table writes two a row straight into its page.
/// Digit by digit: `format!` with padding cost more than the rest of the row.
pub fn write_exact_time(out: &mut String, at: OffsetDateTime) {
    // A time sent with an offset is said in UTC, as the words promise.
    let at = at.to_offset(time::UtcOffset::UTC);
    let (year, month, day) = at.to_calendar_date();
    let (hour, minute, second) = at.to_hms();
    write_digits(out, year.unsigned_abs().into(), 4);
    for (sep, n) in [('-', month as u8), ('-', day), (' ', hour), (':', minute), (':', second)] {
        out.push(sep);
        write_digits(out, n.into(), 2);
    }
    out.push_str(" UTC");
}

/// `n` in decimal, at least `width` digits (zeros in front).
fn write_digits(out: &mut String, n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    // u64 has at most 20 digits.
    let least = digits.len() - width.clamp(1, digits.len());
    let (mut n, mut start) = (n, digits.len());
    while n > 0 || start > least {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

/// "3 h ago" (or "in 3 h" for a time after `now`).
pub fn relative(at: OffsetDateTime, now: OffsetDateTime) -> String {
    let mut out = String::new();
    write_relative(&mut out, at, now);
    out
}

/// `relative`, written at the end of `out`.
pub fn write_relative(out: &mut String, at: OffsetDateTime, now: OffsetDateTime) {
    let secs = (now - at).whole_seconds();
    let (n, unit) = match secs.unsigned_abs() {
        s if s < 60 => return out.push_str("just now"),
        s if s < 3600 => (s / 60, " min"),
        s if s < 86_400 => (s / 3600, " h"),
        s if s < 86_400 * 60 => (s / 86_400, " d"),
        s => (s / (86_400 * 30), " mo"),
    };
    if secs < 0 {
        out.push_str("in ");
    }
    write_digits(out, n, 1);
    out.push_str(unit);
    if secs >= 0 {
        out.push_str(" ago");
    }
}

/// A failed load: sign-in problems go to the sign-in page (and back), others are said.
pub fn error_view(e: AppError) -> AnyView {
    if e.needs_sign_in() {
        let reason = (e == AppError::SessionExpired).then_some("expired");
        view! { <Redirect path=sign_in_path(reason)/> }.into_any()
    } else {
        view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any()
    }
}

/// Shortens a long ID in the middle for tables; the full ID stays in the title and the copy button.
pub fn middle(id: &str) -> String {
    match middle_ends(id) {
        Some((start, end)) => [start, "…", end].concat(),
        None => id.to_string(),
    }
}

/// The first and last six characters of an ID `middle` shortens; `None` for one it leaves whole.
pub fn middle_ends(id: &str) -> Option<(&str, &str)> {
    let mut starts = id.char_indices().map(|(i, _)| i);
    // Longer than 14 characters: a 15th one starts somewhere.
    starts.clone().nth(14)?;
    let start = starts.nth(6).map_or(id, |i| &id[..i]);
    let end = id.char_indices().rev().nth(5).map_or(id, |(i, _)| &id[i..]);
    Some((start, end))
}

/// A flag of the access review, with its one-line explanation as a tooltip.
#[component]
pub fn FlagBadge(flag: crate::model::Flag) -> impl IntoView {
    view! { <span class=["badge flag flag-", flag.key()].concat() title=flag.explain()>{flag.label()}</span> }
}
