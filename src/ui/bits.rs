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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(exact_time(at), "0999-02-03 04:05:06 UTC");
        let at = OffsetDateTime::parse("2026-11-24T12:59:30Z", &Rfc3339).unwrap();
        assert_eq!(exact_time(at), "2026-11-24 12:59:30 UTC");
        let at = OffsetDateTime::parse("2026-11-25T00:30:00+01:00", &Rfc3339).unwrap();
        assert_eq!(exact_time(at), "2026-11-24 23:30:00 UTC", "in UTC, not in the offset it was sent with");
    }

    #[test]
    fn long_ids_are_shortened_in_the_middle() {
        assert_eq!(middle("307433773c7941a8a74a5c42da2b220e"), "307433…2b220e");
        assert_eq!(middle("short"), "short");
        assert_eq!(middle("12345678901234"), "12345678901234", "14 characters stay whole");
        assert_eq!(middle("123456789012345"), "123456…012345");
        assert_eq!(middle("ääääääxyzüüüüüü"), "ääääää…üüüüüü", "characters, not bytes");
    }
}

/// A flag of the access review, with its one-line explanation as a tooltip.
#[component]
pub fn FlagBadge(flag: crate::model::Flag) -> impl IntoView {
    view! { <span class=["badge flag flag-", flag.key()].concat() title=flag.explain()>{flag.label()}</span> }
}
