//! Any bytes Glance might answer with, read as the image and member types the dashboard
//! uses: an error at worst, never a panic.
#![no_main]

use glance_share::model::{Image, ImageWords, Member};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Image>(data);
    let _ = serde_json::from_slice::<Member>(data);
    let _ = serde_json::from_slice::<Vec<Member>>(data);
    let _ = serde_json::from_slice::<Vec<Image>>(data);
    if let Ok(image) = serde_json::from_slice::<Image>(data) {
        let _ = image.display_name();
    }
});
