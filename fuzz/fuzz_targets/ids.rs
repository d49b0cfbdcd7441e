//! Any text typed as an image or member ID: parsing never panics, and an accepted ID put into
//! a Glance URL by the product's own builder (`openstack_images::urls::BaseUrl::url`) stays
//! one path segment: same host, same path before it, no query, no fragment, and it decodes to
//! itself, also once the URL is read back from its text (as Glance reads it). (The dashboard's
//! reading of a pasted list of IDs is property-tested in tests/hostile_input.rs.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use openstack_images::{
    urls::{BaseUrl, Resource},
    ids::{ImageId, MemberId},
};

const IMAGE: &str = "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b";
const BASE: &str = "http://glance.example:9292/image";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let base = BaseUrl::parse(BASE).unwrap();
    if let Ok(id) = ImageId::parse(text) {
        assert!(uuid_like(id.as_str()), "accepted image ID {:?}", id.as_str());
        let segments = segments_of(&base.url(Resource::Image(&id)));
        assert_eq!(segments, ["image", "v2", "images", id.as_str()]);
    }
    let Ok(member) = MemberId::parse(text) else { return };
    let image = ImageId::parse(IMAGE).unwrap();
    let segments = segments_of(&base.url(Resource::Member(&image, &member)));
    assert_eq!(segments, ["image", "v2", "images", IMAGE, "members", member.as_str()]);
});

/// The decoded path segments of `url` read back from its text, after checking that nothing
/// but the path changed.
fn segments_of(url: &url::Url) -> Vec<String> {
    let url = url::Url::parse(url.as_str()).unwrap();
    assert_eq!(url.host_str(), Some("glance.example"));
    assert_eq!((url.query(), url.fragment()), (None, None), "{url}");
    url.path_segments()
        .unwrap()
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned())
        .collect()
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}
