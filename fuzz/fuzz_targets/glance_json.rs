//! Any bytes Glance might answer with, read as the image and member records the dashboard
//! uses: an error at worst, never a panic. (What the dashboard makes of a record, its name for
//! an image among others, is property-tested in tests/hostile_input.rs.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use openstack_images::records::{Image, Member};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Image>(data);
    let _ = serde_json::from_slice::<Member>(data);
    let _ = serde_json::from_slice::<Vec<Member>>(data);
    let _ = serde_json::from_slice::<Vec<Image>>(data);
});
