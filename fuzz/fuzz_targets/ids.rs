//! Any text typed as an image or member ID: parsing never panics, and an accepted member ID
//! put into a Glance URL the way the dashboard does (one path segment) stays that one
//! segment: same host, same path before it, no query, no fragment, and decodes to itself.
#![no_main]

use glance_share::model::{ImageId, MemberId, ids::parse_member_list};
use libfuzzer_sys::fuzz_target;

const IMAGE: &str = "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(id) = ImageId::parse(text) {
        assert!(uuid_like(id.as_str()), "accepted image ID {:?}", id.as_str());
    }
    let _ = parse_member_list(text);
    let Ok(member) = MemberId::parse(text) else { return };
    let mut url = url::Url::parse("http://glance.example:9292/").unwrap();
    url.path_segments_mut().unwrap().pop_if_empty().extend(["v2", "images", IMAGE, "members", member.as_str()]);
    let url = url::Url::parse(url.as_str()).unwrap();
    assert_eq!(url.host_str(), Some("glance.example"));
    assert_eq!((url.query(), url.fragment()), (None, None), "{url}");
    let segments: Vec<&str> = url.path_segments().unwrap().collect();
    assert_eq!(segments.len(), 5, "{url}");
    assert_eq!(&segments[..4], &["v2", "images", IMAGE, "members"]);
    let decoded = percent_encoding::percent_decode_str(segments[4]).decode_utf8().unwrap();
    assert_eq!(decoded, member.as_str(), "{url}");
});

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}
