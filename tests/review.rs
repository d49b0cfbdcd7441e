//! Issue 15: the access review against the real lab. An owner's images shared with several
//! projects in every status, a member project deleted in Keystone, a name typed as a member, an
//! image hidden from lists, an image at its member quota on RegionTwo: every flag where it
//! should be and nowhere else, both views, the exports, and the admin's review.

mod common;

use std::collections::BTreeMap;

use common::{Cleanup, GlanceDirect, KeystoneDirect, Server, http, lab, lab_call, signed_in_as};
use serde_json::{Value, json};

fn unique(name: &str) -> String {
    format!("gs-test-{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// A shared image with data (so it is active, as images in use are).
async fn active_image(glance: &GlanceDirect, name: &str) -> String {
    let id = glance.create_image(&unique(name), "shared").await;
    let res = lab_call(
        http()
            .put(format!("{}/v2/images/{id}/file", glance.url))
            .header("x-auth-token", &glance.token)
            .header("content-type", "application/octet-stream")
            .body(vec![7u8; 64]),
    )
    .await;
    assert_eq!(res.status(), 204, "upload");
    id
}

async fn hide(glance: &GlanceDirect, id: &str) {
    let res = lab_call(
        http()
            .patch(format!("{}/v2/images/{id}", glance.url))
            .header("x-auth-token", &glance.token)
            .header("content-type", "application/openstack-images-v2.1-json-patch")
            .json(&json!([{"op": "replace", "path": "/os_hidden", "value": true}])),
    )
    .await;
    assert_eq!(res.status(), 200, "os_hidden");
}

/// A project that existed when it was shared with, deleted since.
async fn deleted_project() -> String {
    let lab = lab();
    let (user, password, project) = lab.account("admin");
    let (admin, _) = KeystoneDirect { lab }.password_token(user, password, project).await;
    let res = lab_call(
        http()
            .post(format!("{}/projects", lab.keystone_url()))
            .header("x-auth-token", &admin)
            .json(&json!({"project": {"name": unique("gone"), "domain_id": "default"}})),
    )
    .await;
    let id = res.json::<Value>().await.unwrap()["project"]["id"].as_str().unwrap().to_string();
    let deleted =
        lab_call(http().delete(format!("{}/projects/{id}", lab.keystone_url())).header("x-auth-token", &admin));
    assert_eq!(deleted.await.status(), 204);
    id
}

/// (image, member) -> flags, from the JSON export.
fn flags_of(export: &Value) -> BTreeMap<(String, String), String> {
    export["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let key = (m["image_id"].as_str().unwrap().to_string(), m["member_id"].as_str().unwrap().to_string());
            (key, m["flags"].as_str().unwrap().to_string())
        })
        .collect()
}

#[tokio::test]
async fn the_review_flags_exactly_what_deserves_a_look_and_exports_every_pair() {
    let lab = lab();
    let producer_glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let consumer_glance = GlanceDirect::as_user(lab, "consumer", "LAB_GLANCE_URL").await;
    let (consumer, consumer_b) = (lab.get("LAB_CONSUMER_PROJECT_ID"), lab.get("LAB_CONSUMER_B_PROJECT_ID"));
    let a = active_image(&producer_glance, "review-a").await;
    let b = active_image(&producer_glance, "review-b").await;
    let hidden = active_image(&producer_glance, "review-hidden").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: producer_glance.url.clone(), token: producer_glance.token.clone() },
        images: vec![a.clone(), b.clone(), hidden.clone()],
    };
    let gone = deleted_project().await;
    for member in [consumer, consumer_b, &gone, "consumer"] {
        producer_glance.add_member(&a, member).await;
    }
    consumer_glance.set_member_status(&a, consumer, "accepted").await;
    producer_glance.add_member(&b, consumer).await;
    consumer_glance.set_member_status(&b, consumer, "rejected").await;
    producer_glance.add_member(&hidden, consumer_b).await;
    hide(&producer_glance, &hidden).await;

    let directory = [
        ("GLANCE_SHARE_DIRECTORY_USER", lab.get("LAB_DIRECTORY_USER")),
        ("GLANCE_SHARE_DIRECTORY_PASSWORD_FILE", lab.get("LAB_DIRECTORY_PASSWORD_FILE")),
    ];
    let server = Server::start(&directory);
    let producer = signed_in_as(&server, "producer").await;
    let export: Value = producer.get("/access/export.json").await.json().await.unwrap();
    let flags = flags_of(&export);
    let pair = |i: &str, m: &str| (i.to_string(), m.to_string());
    let expected: BTreeMap<(String, String), String> = [
        (pair(&a, consumer), ""),
        (pair(&a, consumer_b), ""),
        (pair(&a, &gone), "unknown-project"),
        (pair(&a, "consumer"), "not-an-id"),
        (pair(&b, consumer), "rejected"),
        (pair(&hidden, consumer_b), "hidden"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    // Other tests' images may be shared too: only this test's images are compared.
    let ours: BTreeMap<_, _> = flags.into_iter().filter(|((i, _), _)| [&a, &b, &hidden].contains(&i)).collect();
    assert_eq!(ours, expected, "{export}");

    // The page, both views.
    let by_image = producer.get("/access").await.text().await.unwrap();
    assert!(by_image.contains("rejected, still has access") && by_image.contains("only a revoke ends its access"));
    assert!(by_image.contains("No such project in Keystone") || by_image.contains("no such project"));
    assert!(!by_image.contains("pending for long"), "nothing has been pending for long");
    let by_project = producer.get("/access?view=project").await.text().await.unwrap();
    let consumer_section =
        by_project.split("aria-label=\"Project consumer (Default)\"").nth(1).expect("consumer's section");
    let consumer_section = &consumer_section[..consumer_section.find("</section>").unwrap()];
    assert!(consumer_section.contains("2 image(s) shared with it."), "{consumer_section}");

    // The CSV holds every pair of the JSON, and parses.
    let csv = producer.get("/access/export.csv").await.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), export["memberships"].as_array().unwrap().len());
    assert!(rows.iter().any(|r| &r[0] == a.as_str() && &r[4] == gone.as_str() && &r[10] == "unknown-project"));

    // Another project's review is an admin's, and labelled as such.
    let producer_project = lab.get("LAB_PRODUCER_PROJECT_ID");
    let consumer_user = signed_in_as(&server, "consumer").await;
    let refused = consumer_user.get(&format!("/access?owner={producer_project}")).await.text().await.unwrap();
    assert!(refused.contains("Only an admin can review another project"), "{refused}");
    let admin = signed_in_as(&server, "admin").await;
    let as_admin = admin.get(&format!("/access?owner={producer_project}")).await.text().await.unwrap();
    assert!(as_admin.contains("reviewed as an admin") && as_admin.contains(&a), "{as_admin}");
}

#[tokio::test]
async fn an_image_at_its_member_quota_is_flagged_on_region_two() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE2_URL").await;
    let image = active_image(&glance, "review-quota").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let quota: usize = lab.get("LAB_REGION2_MEMBER_QUOTA").parse().unwrap();
    let members =
        [lab.get("LAB_CONSUMER_PROJECT_ID"), lab.get("LAB_CONSUMER_B_PROJECT_ID"), lab.get("LAB_TWIN_PROJECT_ID")];
    for member in &members[..quota.min(3)] {
        glance.add_member(&image, member).await;
    }
    let server = Server::start(&[("GLANCE_SHARE_MEMBER_QUOTA", lab.get("LAB_REGION2_MEMBER_QUOTA"))]);
    let producer = signed_in_as(&server, "producer").await;
    assert_eq!(producer.call("switch_region", &[("region", lab.get("LAB_REGION2"))]).await.status(), 200);
    let export: Value = producer.get("/access/export.json").await.json().await.unwrap();
    let ours: Vec<&Value> =
        export["memberships"].as_array().unwrap().iter().filter(|m| m["image_id"] == image.as_str()).collect();
    assert_eq!(ours.len(), quota.min(3));
    assert!(ours.iter().all(|m| m["flags"] == "near-quota"), "{export}");
}
