//! Hostile input, property-tested: no ID can reach another Glance path or add a query, and no
//! upstream text makes parsing panic.

use glance_share::model::{Image, ImageId, ImageWords, Member, MemberId, ids::parse_member_list};
use openstack::{
    error::error_message,
    glance::{BaseUrl, Resource},
};
use proptest::prelude::*;

/// The product's own URL builder, on an endpoint with a path of its own.
fn glance_url(resource: Resource<'_>) -> url::Url {
    BaseUrl::parse("http://glance.example:9292/image").unwrap().url(resource)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_valid_member_id_stays_one_path_segment(raw in any::<String>()) {
        if let Ok(member) = MemberId::parse(&raw) {
            let image = "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b";
            let url = glance_url(Resource::Member(&ImageId::parse(image).unwrap(), &member));
            prop_assert_eq!(url.host_str(), Some("glance.example"));
            prop_assert_eq!(url.query(), None);
            prop_assert_eq!(url.fragment(), None);
            let segments: Vec<String> = url
                .path_segments()
                .unwrap()
                .map(percent_decode)
                .collect();
            prop_assert_eq!(segments.len(), 6, "{}", url);
            prop_assert_eq!(&segments[..5], &["image", "v2", "images", image, "members"]);
            prop_assert_eq!(&segments[5], member.as_str());
        }
    }

    #[test]
    fn member_ids_have_no_path_or_control_characters(raw in any::<String>()) {
        if let Ok(member) = MemberId::parse(&raw) {
            let id = member.as_str();
            prop_assert!(!id.is_empty() && id.chars().count() <= 255);
            prop_assert!(!id.contains(['/', '?', '#', '%', '\\']));
            prop_assert!(!id.chars().any(|c| c.is_whitespace() || c.is_control()));
        }
    }

    #[test]
    fn member_ids_are_printable_ascii(raw in any::<String>(), unicode in "[a-z0-9]{1,8}[^\\x00-\\x7f][a-z0-9]{1,8}") {
        // Glance decodes a member in a URL path as latin-1: anything else can be added but
        // never removed again. (Inside the ID: at its ends, white space is trimmed off.)
        if let Ok(member) = MemberId::parse(&raw) {
            prop_assert!(member.as_str().bytes().all(|b| b.is_ascii_graphic()), "{:?}", member);
        }
        prop_assert!(MemberId::parse(&unicode).is_err(), "{:?}", unicode);
    }

    #[test]
    fn pasted_lists_never_panic_and_keep_their_order(text in any::<String>()) {
        let parsed = parse_member_list(&text);
        for (raw, result) in &parsed {
            prop_assert!(!raw.is_empty());
            if let Ok(member) = result {
                prop_assert_eq!(member.as_str(), raw.trim());
            }
        }
    }

    #[test]
    fn only_uuids_are_image_ids(raw in any::<String>()) {
        if let Ok(id) = ImageId::parse(&raw) {
            prop_assert!(uuid::Uuid::parse_str(id.as_str()).is_ok());
            prop_assert_eq!(id.as_str().len(), 36);
            let url = glance_url(Resource::Image(&id));
            prop_assert_eq!(url.path(), format!("/image/v2/images/{}", id.as_str()));
        }
    }

    #[test]
    fn upstream_bodies_never_make_parsing_panic(body in any::<Vec<u8>>(), status in 100u16..600) {
        let _ = serde_json::from_slice::<Image>(&body);
        let _ = serde_json::from_slice::<Member>(&body);
        let text = String::from_utf8_lossy(&body);
        let message = error_message(&text, status);
        prop_assert!(message.chars().count() <= 501);
        prop_assert!(!message.is_empty());
    }

    #[test]
    fn any_image_glance_sends_has_a_name_to_show(id in any::<String>(), name in proptest::option::of(any::<String>())) {
        // An unnamed image is shown by the start of its ID, whatever Glance put there.
        let image: Image = serde_json::from_value(serde_json::json!({"id": id, "name": name})).unwrap();
        let shown = image.display_name();
        prop_assert!(!shown.is_empty());
        match name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(n) => prop_assert_eq!(shown, n),
            None => prop_assert!(shown.starts_with("(unnamed ") && shown.ends_with(')'), "{}", shown),
        }
    }

    #[test]
    fn json_shaped_error_bodies_are_read_and_bounded(message in ".{0,2000}", code in any::<u16>()) {
        let body = serde_json::json!({"message": message, "code": code.to_string(), "title": "x"}).to_string();
        let read = error_message(&body, 400);
        prop_assert!(read.chars().count() <= 501);
        prop_assert!(!read.contains('<') || !read.contains('>') || read.find('<') > read.find('>'), "markup stripped: {read}");
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}
