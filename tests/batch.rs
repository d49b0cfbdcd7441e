//! Batches and the Terraform export against the real local Glance.

mod common;

use std::collections::BTreeMap;

use common::{Cleanup, GlanceDirect, Server, lab, signed_in_as};
use serde_json::Value;

fn id(n: u32) -> String {
    format!("{:032x}", 0xba7c4000_u64 + u64::from(n) + u64::from(std::process::id()) * 1000)
}

#[tokio::test]
async fn five_images_by_four_projects_end_with_exactly_the_expected_outcome_per_pair() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE2_URL").await;
    let quota: usize = lab.get("LAB_REGION2_MEMBER_QUOTA").parse().unwrap();
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let mut images = Vec::new();
    for name in ["a", "b", "c", "d"] {
        images.push(glance.create_image(&format!("gs-batch-{tag}-{name}"), "shared").await);
    }
    images.push(glance.create_image(&format!("gs-batch-{tag}-e-private"), "private").await);
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: images.clone(),
    };
    let (p1, p2, p3) = (id(1), id(2), id(3));
    // An existing member on a, and d filled to one below its quota.
    glance.add_member(&images[0], &p1).await;
    for n in 0..quota - 1 {
        glance.add_member(&images[3], &id(100 + n as u32)).await;
    }

    let server = Server::start(&[("GLANCE_SHARE_MEMBER_QUOTA", "3")]);
    let browser = signed_in_as(&server, "producer").await;
    assert_eq!(browser.call("switch_region", &[("region", lab.get("LAB_REGION2"))]).await.status(), 200);
    let form = [
        ("images", images.join(",")),
        ("members", format!("{p1}, {p2}\n{p3} bad/id")),
        ("operation", "share".to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // The preflight shows the plan and changes nothing.
    let (status, plan) = browser.call_json("batch_plan", &form).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["pairs"].as_array().unwrap().len(), 20);
    let expect = |image: &str, member: &str| {
        plan["pairs"].as_array().unwrap().iter().find(|p| p["image_id"] == image && p["member_id"] == member).unwrap()["expect"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(expect(&images[0], &p1), "already a member");
    assert_eq!(expect(&images[1], &p2), "add");
    assert!(expect(&images[4], &p1).starts_with("skipped: private"));
    assert!(expect(&images[2], "bad/id").starts_with("malformed ID"));
    assert_eq!(plan["images"][3]["member_count"], quota - 1);
    assert_eq!(plan["images"][3]["quota"], 3);
    assert_eq!(glance.members(&images[1]).await.1, vec![], "the plan changed nothing");

    let res = browser.call("batch_start", &form).await;
    assert_eq!(res.status(), 200);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let batch_id: String = res.json().await.unwrap();
    assert_eq!(location, format!("/batch/{batch_id}"));

    let view = common::wait_finished(&browser, &batch_id, 20).await;
    let outcomes: BTreeMap<(String, String), String> = view["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let outcome = match &p["outcome"] {
                Value::String(s) => s.clone(),
                Value::Object(o) => o.keys().next().unwrap().clone(),
                other => panic!("pair without an outcome: {other}"),
            };
            ((p["image_id"].as_str().unwrap().to_string(), p["member_id"].as_str().unwrap().to_string()), outcome)
        })
        .collect();
    assert_eq!(outcomes.len(), 20, "every pair reported exactly once");
    let mut expected = BTreeMap::new();
    for (i, image) in images.iter().enumerate() {
        for member in [&p1, &p2, &p3] {
            let outcome = match (i, member.as_str()) {
                (4, _) => "Skipped",
                (0, m) if m == p1 => "AlreadyMember",
                (3, m) if m == p1 => "Done",
                (3, _) => "QuotaReached",
                _ => "Done",
            };
            expected.insert((image.clone(), member.to_string()), outcome.to_string());
        }
        expected.insert((image.clone(), "bad/id".to_string()), "Skipped".to_string());
    }
    assert_eq!(outcomes, expected);

    // Glance's state matches the table.
    let members_of = |list: Vec<(String, String)>| list.into_iter().map(|(m, _)| m).collect::<Vec<_>>();
    for image in &images[..3] {
        let mut want = vec![p1.clone(), p2.clone(), p3.clone()];
        want.sort();
        assert_eq!(members_of(glance.members(image).await.1), want);
    }
    let d = members_of(glance.members(&images[3]).await.1);
    assert_eq!(d.len(), quota, "d is exactly full");
    assert!(d.contains(&p1) && !d.contains(&p2) && !d.contains(&p3));
    assert_eq!(glance.image(&images[4]).await.1["visibility"], "private", "the private image was left alone");

    // Every pair sent to Glance is in its image's history, made through the batch.
    let (_, details) = browser.call_json("image", &[("image_id", &images[3])]).await;
    let mut history: Vec<(String, bool)> = details["history"]["Ok"]
        .as_array()
        .unwrap_or_else(|| panic!("{details}"))
        .iter()
        .inspect(|e| assert_eq!(e["via"], "Batch", "{e}"))
        .map(|e| (e["member_id"].as_str().unwrap().to_string(), e["failure"].is_null()))
        .collect();
    history.sort();
    let mut expected = vec![(p1.clone(), true), (p2.clone(), false), (p3.clone(), false)];
    expected.sort();
    assert_eq!(history, expected, "one added, two over the quota");

    // Nothing failed in a way worth retrying, so there is nothing to retry.
    let (status, body) = browser.call_json("batch_retry", &[("batch_id", &batch_id)]).await;
    assert_eq!(status, 400, "{body}");

    // The result page renders server-side, also for a browser without JavaScript.
    let page = browser.get(&location).await.text().await.unwrap();
    assert!(page.contains("20 of 20 pairs done") && page.contains("member quota reached (3)"), "result page");

    // Another user cannot open the batch.
    let consumer = signed_in_as(&server, "consumer").await;
    assert_eq!(consumer.call_json("batch_status", &[("batch_id", &batch_id)]).await.0, 404);
}

#[tokio::test]
async fn a_batch_posted_without_javascript_answers_with_the_finished_result() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-batch-nojs", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;
    let members = format!("{} {}", id(11), id(12));
    let res = browser
        .post_form(
            "batch_start",
            &[("images", &image), ("members", &members), ("operation", "share")],
            &format!("/batch?image={image}"),
        )
        .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let page = follow_refreshes(&browser, &location).await;
    assert!(page.contains("finished") && page.contains("2 of 2 pairs done: 2 added."), "{location}");
    assert_eq!(glance.members(&image).await.1.len(), 2);

    // Revoking is a batch too.
    let res = browser
        .post_form("batch_start", &[("images", &image), ("members", &members), ("operation", "revoke")], "/batch")
        .await;
    let page = follow_refreshes(&browser, res.headers()["location"].to_str().unwrap()).await;
    assert!(page.contains("2 of 2 pairs done: 2 revoked."), "revoke batch");
    assert_eq!(glance.members(&image).await.1, vec![]);
}

/// The meta refresh a running batch's page carries for browsers without JavaScript.
const REFRESH: &str = r#"<meta http-equiv="refresh" content="2">"#;

/// Loads `location` as a browser without JavaScript does: again and again while the page says
/// to refresh (a running batch), until it no longer does; the last page.
async fn follow_refreshes(browser: &common::Browser, location: &str) -> String {
    for _ in 0..60 {
        let page = browser.get(location).await.text().await.unwrap();
        if !page.contains(REFRESH) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{location} still refreshes after 30 s");
}

#[tokio::test]
async fn the_terraform_export_parses_and_matches_glance() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-tf \"quoted\" ${name}", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let consumer_id = lab.get("LAB_CONSUMER_PROJECT_ID");
    glance.add_member(&image, consumer_id).await;
    glance.add_member(&image, &id(21)).await;
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;

    for provider in ["openstack", "opentelekomcloud", "viettelidc"] {
        let (status, file) = browser.call_json("terraform", &[("image_id", &image), ("provider", provider)]).await;
        assert_eq!(status, 200, "{file}");
        let body: hcl::Body = hcl::from_str(file["text"].as_str().unwrap()).expect("the export is valid HCL");
        let resource_type = format!("{provider}_images_image_access_v2");
        let mut exported: Vec<String> = Vec::new();
        let mut imports: Vec<String> = Vec::new();
        for block in body.blocks() {
            match block.identifier() {
                "resource" => {
                    assert_eq!(block.labels()[0].as_str(), resource_type);
                    let attr = block.body().attributes().find(|a| a.key() == "member_id").unwrap();
                    let hcl::Expression::String(member) = attr.expr() else { panic!("member_id is a string") };
                    let image_attr = block.body().attributes().find(|a| a.key() == "image_id").unwrap();
                    assert_eq!(image_attr.expr(), &hcl::Expression::String(image.clone()));
                    exported.push(member.clone());
                }
                "import" => {
                    let attr = block.body().attributes().find(|a| a.key() == "id").unwrap();
                    let hcl::Expression::String(id) = attr.expr() else { panic!("id is a string") };
                    imports.push(id.clone());
                }
                "terraform" => assert_eq!(required_provider(block).0, provider, "terraform init finds the provider"),
                other => panic!("unexpected block {other}"),
            }
        }
        exported.sort();
        imports.sort();
        let in_glance: Vec<String> = glance.members(&image).await.1.into_iter().map(|(m, _)| m).collect();
        assert_eq!(exported, in_glance, "{provider}: one resource per member in Glance");
        assert_eq!(imports, in_glance.iter().map(|m| format!("{image}/{m}")).collect::<Vec<_>>());
    }

    // The download route gives the same file as an attachment.
    let res = browser.get(&format!("/images/{image}/terraform?provider=openstack")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"image-"));

    // The consumer side: the accept resource for its own answer.
    let consumer = signed_in_as(&server, "consumer").await;
    let (status, file) = consumer.call_json("terraform", &[("image_id", &image), ("provider", "openstack")]).await;
    assert_eq!(status, 200, "{file}");
    let body: hcl::Body = hcl::from_str(file["text"].as_str().unwrap()).unwrap();
    let resource = body.blocks().find(|b| b.identifier() == "resource").unwrap();
    assert_eq!(resource.labels()[0].as_str(), "openstack_images_image_access_accept_v2");
    let status_attr = resource.body().attributes().find(|a| a.key() == "status").unwrap();
    assert_eq!(status_attr.expr(), &hcl::Expression::String("pending".into()));
}

/// The (local name, source) of the one provider a `terraform { required_providers { … } }`
/// block names, checked to be that provider's registry address.
fn required_provider(block: &hcl::Block) -> (String, String) {
    let required = block.body().blocks().find(|b| b.identifier() == "required_providers").expect("required_providers");
    let attr = required.body().attributes().next().expect("one provider");
    let hcl::Expression::Object(object) = attr.expr() else { panic!("not an object: {:?}", attr.expr()) };
    let source = object
        .iter()
        .find_map(|(k, v)| match (k, v) {
            (hcl::ObjectKey::Identifier(k), hcl::Expression::String(v)) if k.as_str() == "source" => Some(v.clone()),
            _ => None,
        })
        .expect("a source");
    let expected = match attr.key() {
        "openstack" => "terraform-provider-openstack/openstack",
        "opentelekomcloud" => "opentelekomcloud/opentelekomcloud",
        "viettelidc" => "viettelidc-provider/viettelidc",
        other => panic!("unknown provider {other}"),
    };
    assert_eq!(source, expected);
    (attr.key().to_string(), source)
}

/// The `(image_id, member_id)` pairs of a Terraform export, checked to be one resource and one
/// matching import block each, with `provider`'s resource type.
fn exported_pairs(text: &str, provider: &str) -> Vec<(String, String)> {
    let body: hcl::Body = hcl::from_str(text).unwrap_or_else(|e| panic!("the export is not valid HCL ({e}):\n{text}"));
    let string = |block: &hcl::Block, key: &str| {
        let attr = block.body().attributes().find(|a| a.key() == key).unwrap_or_else(|| panic!("no {key}"));
        let hcl::Expression::String(value) = attr.expr() else { panic!("{key} is not a string") };
        value.clone()
    };
    let (mut resources, mut imports) = (Vec::new(), Vec::new());
    for block in body.blocks() {
        match block.identifier() {
            "resource" => {
                assert_eq!(block.labels()[0].as_str(), format!("{provider}_images_image_access_v2"));
                resources.push((string(block, "image_id"), string(block, "member_id")));
            }
            "import" => imports.push(string(block, "id")),
            "terraform" => assert_eq!(required_provider(block).0, provider, "terraform init finds the provider"),
            other => panic!("unexpected block {other}"),
        }
    }
    resources.sort();
    imports.sort();
    let mut expected_imports: Vec<String> = resources.iter().map(|(i, m)| format!("{i}/{m}")).collect();
    expected_imports.sort();
    assert_eq!(imports, expected_imports, "one import block per resource");
    resources
}

#[tokio::test]
async fn the_terraform_export_of_a_batch_result_parses_and_matches_glance() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let a = glance.create_image("gs-batch-tf-a", "shared").await;
    let b = glance.create_image("gs-batch-tf-b", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![a.clone(), b.clone()],
    };
    let (consumer, other) = (lab.get("LAB_CONSUMER_PROJECT_ID").to_string(), id(41));
    glance.add_member(&a, &other).await;
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;
    let (images, members) = (format!("{a},{b}"), format!("{consumer} {other} not/an/id"));
    let batch =
        common::start_batch(&browser, &[("images", &images), ("members", &members), ("operation", "share")]).await;
    let view = common::wait_finished(&browser, &batch, 20).await;
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes[&(a.clone(), other.clone())], "AlreadyMember");
    assert_eq!(outcomes[&(b.clone(), consumer.clone())], "Done");
    assert_eq!(outcomes.values().filter(|o| *o == "Skipped").count(), 2, "the malformed ID, once per image");

    // Every pair that is a member after the batch, as Glance has it, and nothing else.
    let mut in_glance = Vec::new();
    for image in [&a, &b] {
        in_glance.extend(glance.members(image).await.1.into_iter().map(|(m, _)| (image.clone(), m)));
    }
    in_glance.sort();
    assert_eq!(in_glance.len(), 4, "{in_glance:?}");
    for provider in ["openstack", "opentelekomcloud", "viettelidc"] {
        let (status, file) =
            browser.call_json("batch_terraform", &[("batch_id", &batch), ("provider", provider)]).await;
        assert_eq!(status, 200, "{file}");
        assert_eq!(exported_pairs(file["text"].as_str().unwrap(), provider), in_glance, "{provider}");
        assert!(file["file_name"].as_str().unwrap().starts_with("batch-"), "{file}");
    }
    let (status, _) = browser.call_json("batch_terraform", &[("batch_id", &batch), ("provider", "aws")]).await;
    assert_eq!(status, 400, "an unknown provider is refused");

    // A membership removed since the batch is not exported (its import would fail).
    let res = common::http()
        .delete(format!("{}/v2/images/{b}/members/{other}", glance.url))
        .header("x-auth-token", &glance.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (_, file) = browser.call_json("batch_terraform", &[("batch_id", &batch), ("provider", "openstack")]).await;
    let exported = exported_pairs(file["text"].as_str().unwrap(), "openstack");
    assert_eq!(exported.len(), 3);
    assert!(!exported.contains(&(b.clone(), other.clone())));

    // The result page renders the export server-side: text, a download that needs no
    // JavaScript, and a copy button that is hidden until the app is hydrated.
    let page = browser.get(&format!("/batch/{batch}?tf=opentelekomcloud")).await.text().await.unwrap();
    assert!(page.contains(r#"id="tf-text""#) && page.contains("opentelekomcloud_images_image_access_v2"), "{page}");
    assert!(page.contains(r#"href="data:text/plain;charset=utf-8,"#) && page.contains("download=\"batch-"), "{page}");
    assert!(page.contains("tf-copy") && page.contains("hidden"), "{page}");

    // Nobody else can export it, and a revoke leaves nothing to import.
    let consumer_browser = signed_in_as(&server, "consumer").await;
    let (status, _) =
        consumer_browser.call_json("batch_terraform", &[("batch_id", &batch), ("provider", "openstack")]).await;
    assert_eq!(status, 404);
    let revoke = common::start_batch(&browser, &[("images", &a), ("members", &other), ("operation", "revoke")]).await;
    common::wait_finished(&browser, &revoke, 20).await;
    let (_, file) = browser.call_json("batch_terraform", &[("batch_id", &revoke), ("provider", "openstack")]).await;
    assert!(exported_pairs(file["text"].as_str().unwrap(), "openstack").is_empty(), "{file}");
}

#[tokio::test]
async fn an_admin_batch_sets_the_status_of_consumers_memberships() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-batch-status", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let (consumer, consumer_b) = (lab.get("LAB_CONSUMER_PROJECT_ID"), lab.get("LAB_CONSUMER_B_PROJECT_ID"));
    glance.add_member(&image, consumer).await;
    glance.add_member(&image, consumer_b).await;
    let server = Server::start(&[]);

    // Only an admin may.
    let producer = signed_in_as(&server, "producer").await;
    let members = format!("{consumer} {consumer_b}");
    let form = [("images", image.as_str()), ("members", &members), ("operation", "status"), ("status", "accepted")];
    assert_eq!(producer.call_json("batch_start", &form).await.0, 400);

    let admin = signed_in_as(&server, "admin").await;
    let batch = common::start_batch(&admin, &form).await;
    let view = common::wait_finished(&admin, &batch, 20).await;
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.values().all(|o| o == "Done"), "{view}");
    let mut want =
        vec![(consumer.to_string(), "accepted".to_string()), (consumer_b.to_string(), "accepted".to_string())];
    want.sort();
    assert_eq!(glance.members(&image).await.1, want, "Glance has the statuses the table reports");
    let page = admin.get(&format!("/batch/{batch}")).await.text().await.unwrap();
    assert!(page.contains("2 of 2 pairs done: 2 set to accepted."), "{page}");

    // And back to rejected for one of them.
    let form = [("images", image.as_str()), ("members", consumer_b), ("operation", "status"), ("status", "rejected")];
    let batch = common::start_batch(&admin, &form).await;
    common::wait_finished(&admin, &batch, 20).await;
    let mut want =
        vec![(consumer.to_string(), "accepted".to_string()), (consumer_b.to_string(), "rejected".to_string())];
    want.sort();
    assert_eq!(glance.members(&image).await.1, want);
}

#[tokio::test]
async fn make_shared_turns_a_private_image_shared_and_adds_its_pairs() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-batch-make-shared", "private").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;
    let (p1, p2) = (id(51), id(52));
    let members = format!("{p1}\n{p2}");
    let mut form = vec![("images", image.as_str()), ("members", &members), ("operation", "share")];

    // Without the offer, the private image is skipped; with it, the plan says so and changes nothing.
    let (_, plan) = browser.call_json("batch_plan", &form).await;
    assert!(plan["pairs"].as_array().unwrap().iter().all(|p| p["will_run"] == false), "{plan}");
    form.push(("make_shared", "yes"));
    let (_, plan) = browser.call_json("batch_plan", &form).await;
    assert!(plan["pairs"].as_array().unwrap().iter().all(|p| p["expect"] == "add, after making it shared"), "{plan}");
    assert_eq!(glance.image(&image).await.1["visibility"], "private", "the plan changed nothing");

    let batch = common::start_batch(&browser, &form).await;
    let view = common::wait_finished(&browser, &batch, 20).await;
    assert_eq!(view["made_shared"], serde_json::json!([image]), "{view}");
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.values().all(|o| o == "Done"), "{view}");
    assert_eq!(glance.image(&image).await.1["visibility"], "shared");
    let mut want = vec![(p1, "pending".to_string()), (p2, "pending".to_string())];
    want.sort();
    assert_eq!(glance.members(&image).await.1, want);
    let page = browser.get(&format!("/batch/{batch}")).await.text().await.unwrap();
    assert!(page.contains("Made shared first: 1 image(s).") && page.contains("2 of 2 pairs done: 2 added."), "{page}");
}

#[tokio::test]
async fn forbidden_and_not_found_pairs_are_reported_and_change_nothing() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let admin_glance = GlanceDirect::as_user(lab, "admin", "LAB_GLANCE_URL").await;
    let mine = glance.create_image("gs-batch-mine", "shared").await;
    // An admin's image shared with the producer: the producer sees it but may not add members.
    let theirs = admin_glance.create_image("gs-batch-theirs", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![mine.clone()],
    };
    let _cleanup_admin = Cleanup {
        glance: GlanceDirect { url: admin_glance.url.clone(), token: admin_glance.token.clone() },
        images: vec![theirs.clone()],
    };
    let producer_project = lab.get("LAB_PRODUCER_PROJECT_ID").to_string();
    admin_glance.add_member(&theirs, &producer_project).await;
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;

    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID").to_string();
    let images = format!("{mine},{theirs}");
    let batch =
        common::start_batch(&browser, &[("images", &images), ("members", &consumer), ("operation", "share")]).await;
    let view = common::wait_finished(&browser, &batch, 20).await;
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes[&(mine.clone(), consumer.clone())], "Done", "{view}");
    assert_eq!(outcomes[&(theirs.clone(), consumer.clone())], "Forbidden", "{view}");
    assert_eq!(admin_glance.members(&theirs).await.1, vec![(producer_project, "pending".to_string())], "unchanged");
    assert_eq!(glance.members(&mine).await.1, vec![(consumer.clone(), "pending".to_string())]);

    // Revoking a project that is not a member: Glance answers 404, the other pair is revoked.
    let stranger = id(61);
    let members = format!("{consumer} {stranger}");
    let batch =
        common::start_batch(&browser, &[("images", &mine), ("members", &members), ("operation", "revoke")]).await;
    let view = common::wait_finished(&browser, &batch, 20).await;
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes[&(mine.clone(), consumer.clone())], "Done", "{view}");
    assert_eq!(outcomes[&(mine.clone(), stranger.clone())], "NotFound", "{view}");
    assert_eq!(glance.members(&mine).await.1, vec![], "Glance has no member left");
    // Neither is worth retrying: they would fail the same way.
    assert_eq!(browser.call_json("batch_retry", &[("batch_id", &batch)]).await.0, 400);
}

#[tokio::test]
async fn a_batch_posted_without_javascript_is_answered_at_once_and_finishes_in_the_background() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let images = vec![
        glance.create_image("gs-batch-gone-a", "shared").await,
        glance.create_image("gs-batch-gone-b", "shared").await,
    ];
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: images.clone(),
    };
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;
    let members: Vec<String> = (0..40).map(|n| id(300 + n)).collect();

    // A form posted without JavaScript is answered at once (issue 12 item 10: it used to be held
    // until the batch ended, 45 s seen), with the progress page, which refreshes itself.
    let form = [("images", images.join(",")), ("members", members.join("\n")), ("operation", "share".into())];
    let res = common::http()
        .post(server.url("/api/batch_start"))
        .header("origin", &server.base)
        .header("referer", server.url("/batch"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("cookie", format!("{}={}", common::COOKIE_NAME, browser.cookie().unwrap()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let batch_id = location.strip_prefix("/batch/").expect("the batch's page").to_string();
    let (_, running) = browser.call_json("batch_status", &[("batch_id", &batch_id)]).await;
    assert_eq!(running["finished"], false, "the answer came before the 80 pairs were done: {running}");
    let page = browser.get(&location).await.text().await.unwrap();
    assert!(page.contains(REFRESH) && page.contains("running"), "a progress page that refreshes itself: {page}");

    // The batch is listed on /batch while the session lives, and its link opens it.
    let (status, recent) = browser.call_json("batch_recent", &[]).await;
    assert_eq!(status, 200, "{recent}");
    assert_eq!(recent[0]["id"], batch_id.as_str(), "the newest batch comes first: {recent}");
    assert_eq!(recent[0]["total"], 80);
    let page = browser.get("/batch").await.text().await.unwrap();
    assert!(page.contains("Recent batches") && page.contains(&format!(r#"href="/batch/{batch_id}""#)), "{page}");

    let view = common::wait_finished(&browser, &batch_id, 60).await;
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes.len(), 80, "every pair, once");
    assert!(outcomes.values().all(|o| o == "Done"), "{view}");
    for image in &images {
        let mut want = members.clone();
        want.sort();
        let got: Vec<String> = glance.members(image).await.1.into_iter().map(|(m, _)| m).collect();
        assert_eq!(got, want, "Glance has every pair of {image}");
    }
    let page = browser.get(&format!("/batch/{batch_id}")).await.text().await.unwrap();
    assert!(page.contains("80 of 80 pairs done: 80 added.") && !page.contains(REFRESH), "{page}");
    let (_, recent) = browser.call_json("batch_recent", &[]).await;
    assert_eq!(recent[0]["finished"], true, "{recent}");

    // Another user does not see it in their list.
    let consumer = signed_in_as(&server, "consumer").await;
    let (_, theirs) = consumer.call_json("batch_recent", &[]).await;
    assert!(!theirs.to_string().contains(&batch_id), "{theirs}");
}

/// Issue 12 item 12: a batch's retry and Terraform export used the session's *current* project,
/// region and Glance. After a switch they are refused, saying where the batch ran, and work again
/// once the user is back there.
#[tokio::test]
async fn a_batch_stays_bound_to_the_project_and_region_it_ran_in() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-batch-bound", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;
    let member = id(71);
    let batch =
        common::start_batch(&browser, &[("images", &image), ("members", &member), ("operation", "share")]).await;
    let view = common::wait_finished(&browser, &batch, 20).await;
    assert_eq!(view["ran_in"]["region"], "RegionOne", "{view}");
    assert_eq!(view["ran_in"]["project_id"], lab.get("LAB_PRODUCER_PROJECT_ID"), "{view}");
    assert!(view["ran_in"].get("image_url").is_none(), "the endpoint stays on the server: {view}");

    let region_two = lab.get("LAB_REGION2");
    assert_eq!(browser.call("switch_region", &[("region", region_two)]).await.status(), 200);
    for (name, form) in [
        ("batch_retry", vec![("batch_id", batch.as_str())]),
        ("batch_terraform", vec![("batch_id", batch.as_str()), ("provider", "openstack")]),
    ] {
        let (status, body) = browser.call_json(name, &form).await;
        assert_eq!(status, 400, "{name}: {body}");
        let message = common::user_message(&body);
        assert!(
            message.contains("This batch ran in project producer") && message.contains("region RegionOne"),
            "{message}"
        );
    }
    let page = browser.get(&format!("/batch/{batch}")).await.text().await.unwrap();
    assert!(page.contains("switch back to retry or export it"), "the page says why before anyone tries");

    // Back where it ran, the export works again (and finds the member in RegionOne's Glance).
    assert_eq!(browser.call("switch_region", &[("region", "RegionOne")]).await.status(), 200);
    let (status, file) = browser.call_json("batch_terraform", &[("batch_id", &batch), ("provider", "openstack")]).await;
    assert_eq!(status, 200, "{file}");
    assert!(file["text"].as_str().unwrap().contains(&member), "{file}");
}

#[tokio::test]
async fn the_batch_plan_refuses_a_project_name_as_the_image_page_does() {
    // The batch page used to share with `consumer` (a name) without a word.
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-batch-name", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;
    let unchecked = id(21);
    let members = format!("consumer {unchecked}");
    let form = [("images", image.as_str()), ("members", members.as_str()), ("operation", "share")];

    let (status, plan) = browser.call_json("batch_plan", &form).await;
    assert_eq!(status, 200, "{plan}");
    let pair = |member: &str| {
        plan["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["member_id"] == member)
            .unwrap_or_else(|| panic!("{plan}"))
            .clone()
    };
    let name = pair("consumer");
    assert!(
        name["expect"].as_str().unwrap().starts_with("refused: project names are never shared with: give its ID"),
        "{plan}"
    );
    assert_eq!(name["will_run"], false);
    assert_eq!(
        (pair(&unchecked)["expect"].as_str().unwrap(), pair(&unchecked)["will_run"].as_bool()),
        ("add", Some(true))
    );
    assert_eq!(plan["unchecked"], serde_json::json!([unchecked]), "the plan says which IDs it could not check");
    // The page says what running it does.
    let page = browser.get(&format!("/batch?images={image}&members=consumer+{unchecked}&operation=share")).await;
    let page = page.text().await.unwrap();
    assert!(page.contains("project names are never shared with") && page.contains("could not be checked"), "{page}");

    let batch_id = common::start_batch(&browser, &form).await;
    let view = common::wait_finished(&browser, &batch_id, 20).await;
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes[&(image.clone(), "consumer".to_string())], "Skipped", "{view}");
    assert_eq!(outcomes[&(image.clone(), unchecked.clone())], "Done", "{view}");
    assert_eq!(glance.members(&image).await.1, vec![(unchecked, "pending".to_string())], "nothing shared with a name");
}
