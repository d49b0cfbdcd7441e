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
    // (Other tests share their own images with this project too: only ours are counted.)
    let ours_in_section =
        [&a, &b, &hidden].iter().filter(|i| consumer_section.contains(&format!("/images/{i}\""))).count();
    assert_eq!(ours_in_section, 2, "{consumer_section}");

    // The CSV holds every pair of the JSON, and parses.
    let csv = producer.get("/access/export.csv").await.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // Other tests change their own images meanwhile: this test's pairs are compared.
    let ours_in_csv = rows.iter().filter(|r| [&a, &b, &hidden].iter().any(|i| &r[0] == i.as_str())).count();
    assert_eq!(ours_in_csv, expected.len());
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

/// The import ids (`image/member`) of a Terraform file, and how many resources it declares.
fn terraform_imports(text: &str) -> (std::collections::BTreeSet<String>, usize) {
    let body = hcl::parse(text).unwrap_or_else(|e| panic!("the export does not parse: {e}\n{text}"));
    let mut imports = std::collections::BTreeSet::new();
    let mut resources = 0;
    for block in body.blocks() {
        match block.identifier.as_str() {
            "resource" => resources += 1,
            "import" => {
                let id = block.body.attributes().find(|a| a.key.as_str() == "id").expect("import without id");
                let hcl::Expression::String(id) = &id.expr else { panic!("id is not a string: {:?}", id.expr) };
                assert!(imports.insert(id.clone()), "two imports of {id}");
            }
            _ => {}
        }
    }
    (imports, resources)
}

/// The batch plan of a one-click choice of the review.
async fn plan_choice(browser: &common::Browser, select: &str) -> (u16, Value) {
    browser
        .call_json("batch_plan", &[("images", ""), ("members", ""), ("operation", "revoke"), ("select", select)])
        .await
}

/// The `(image, member)` pairs of a batch plan, and whether each will run.
fn plan_pairs(plan: &Value) -> Vec<(String, String, bool)> {
    plan["pairs"]
        .as_array()
        .unwrap_or_else(|| panic!("not a plan: {plan}"))
        .iter()
        .map(|p| {
            (p["image_id"].as_str().unwrap().into(), p["member_id"].as_str().unwrap().into(), p["will_run"] == true)
        })
        .collect()
}

#[tokio::test]
async fn cleaning_up_revokes_exactly_the_chosen_pairs_and_the_terraform_export_holds_every_pair() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let consumer_glance = GlanceDirect::as_user(lab, "consumer", "LAB_GLANCE_URL").await;
    // The project offboarded here is one no other test of this file shares with.
    let (leaving, consumer, consumer_b) = (
        lab.get("LAB_PARTNER_ONE_PROJECT_ID"),
        lab.get("LAB_CONSUMER_PROJECT_ID"),
        lab.get("LAB_CONSUMER_B_PROJECT_ID"),
    );
    let a = active_image(&glance, "cleanup-a").await;
    let b = active_image(&glance, "cleanup-b").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![a.clone(), b.clone()],
    };
    for (image, member) in [(&a, leaving), (&a, consumer), (&a, consumer_b), (&b, leaving), (&b, consumer)] {
        glance.add_member(image, member).await;
    }
    consumer_glance.set_member_status(&b, consumer, "rejected").await;

    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;

    // Terraform for the whole review: it parses, and holds one resource and one import for
    // every membership the JSON export lists.
    let export: Value = producer.get("/access/export.json").await.json().await.unwrap();
    let every_pair: std::collections::BTreeSet<String> = export["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}/{}", m["image_id"].as_str().unwrap(), m["member_id"].as_str().unwrap()))
        .collect();
    let tf = producer.get("/access/export.tf?provider=openstack").await;
    assert_eq!(tf.status(), 200);
    let (imports, resources) = terraform_imports(&tf.text().await.unwrap());
    for ours in [format!("{a}/{leaving}"), format!("{a}/{consumer}"), format!("{b}/{consumer}")] {
        assert!(imports.contains(&ours), "{ours} missing from the Terraform export");
    }
    // Other tests may change their own images between the two reads: compare ours exactly,
    // and the rest by size.
    let ours = |set: &std::collections::BTreeSet<String>| -> Vec<String> {
        set.iter().filter(|p| p.starts_with(&a) || p.starts_with(&b)).cloned().collect()
    };
    assert_eq!(ours(&imports), ours(&every_pair));
    assert_eq!(resources, imports.len());
    let otc = producer.get("/access/export.tf?provider=opentelekomcloud").await.text().await.unwrap();
    assert!(otc.contains("opentelekomcloud_images_image_access_v2"), "{otc}");
    assert_eq!(producer.get("/access/export.tf?provider=nope").await.status(), 400);

    // The review page offers the one-click choices with their counts, and tick boxes.
    let page = producer.get("/access?view=project").await.text().await.unwrap();
    assert!(page.contains("select=project%3A") && page.contains("Revoke everything shared with this project"));
    assert!(page.contains(&format!("value=\"{b}:{consumer}\"")), "a tick box names the pair");
    assert!(page.contains("Revoke every rejected membership ("));

    // "All rejected", planned only (other tests keep rejected members of their own): every
    // pair it takes is rejected in Glance, and ours is among them.
    let (status, rejected) = plan_choice(&producer, "rejected").await;
    assert_eq!(status, 200, "{rejected}");
    let rejected = plan_pairs(&rejected);
    assert!(rejected.contains(&(b.clone(), consumer.to_string(), true)), "{rejected:?}");
    for (image, member, _) in rejected.iter().filter(|(i, _, _)| *i == a || *i == b) {
        assert_eq!((image, member), (&b, &consumer.to_string()), "only b's rejected member is ours");
    }

    // "Everything shared with project X": the plan takes exactly X's pairs, the run revokes
    // them, and Glance agrees; every other member stays.
    let (status, plan) = plan_choice(&producer, &format!("project:{leaving}")).await;
    assert_eq!(status, 200, "{plan}");
    let pairs = plan_pairs(&plan);
    assert!(pairs.iter().all(|(_, m, run)| m == leaving && *run), "{pairs:?}");
    assert!(
        pairs.contains(&(a.clone(), leaving.to_string(), true))
            && pairs.contains(&(b.clone(), leaving.to_string(), true))
    );
    assert!(plan["chosen"].as_str().unwrap().contains(&format!("everything shared with project {leaving}")));
    // An admin makes the same choice in the producer's review, labelled as such.
    let admin = signed_in_as(&server, "admin").await;
    let producer_project = lab.get("LAB_PRODUCER_PROJECT_ID");
    let select = format!("project:{leaving}");
    let (status, as_admin) = admin
        .call_json(
            "batch_plan",
            &[
                ("images", ""),
                ("members", ""),
                ("operation", "revoke"),
                ("select", &select),
                ("owner", producer_project),
            ],
        )
        .await;
    assert_eq!(status, 200, "{as_admin}");
    assert_eq!(plan_pairs(&as_admin), pairs, "the admin's plan takes the same pairs");
    assert!(as_admin["chosen"].as_str().unwrap().ends_with("(as an admin)"), "{as_admin}");
    let batch = common::start_batch(
        &producer,
        &[("images", ""), ("members", ""), ("operation", "revoke"), ("select", &select)],
    )
    .await;
    let view = common::wait_finished(&producer, &batch, 60).await;
    let outcomes = common::outcome_kinds(&view);
    assert_eq!(outcomes.get(&(a.clone(), leaving.to_string())).map(String::as_str), Some("Done"), "{view}");
    assert_eq!(outcomes.get(&(b.clone(), leaving.to_string())).map(String::as_str), Some("Done"), "{view}");
    assert!(outcomes.keys().all(|(_, m)| m == leaving), "{view}");
    let members_of = |image: &str| {
        let glance = &glance;
        let image = image.to_string();
        async move { glance.members(&image).await.1.into_iter().map(|(m, _)| m).collect::<Vec<_>>() }
    };
    let mut expected_a = vec![consumer.to_string(), consumer_b.to_string()];
    expected_a.sort();
    assert_eq!(members_of(&a).await, expected_a);
    assert_eq!(members_of(&b).await, vec![consumer.to_string()]);

    // Ticked rows: exactly those pairs. The revoke is in History like any other change.
    let ticked = format!("{a}:{consumer_b}");
    let batch =
        common::start_batch(&producer, &[("images", ""), ("members", ""), ("operation", "revoke"), ("pairs", &ticked)])
            .await;
    let view = common::wait_finished(&producer, &batch, 60).await;
    assert_eq!(common::outcome_kinds(&view).len(), 1, "{view}");
    assert_eq!(members_of(&a).await, vec![consumer.to_string()]);
    let (status, details) = producer.call_json("image", &[("image_id", &a)]).await;
    assert_eq!(status, 200);
    let revokes: Vec<&str> = details["history"]["Ok"]
        .as_array()
        .unwrap_or_else(|| panic!("no History: {details}"))
        .iter()
        .filter(|e| e["change"] == "Revoke")
        .filter_map(|e| e["member_id"].as_str())
        .collect();
    assert!(revokes.contains(&leaving) && revokes.contains(&consumer_b), "{details}");

    // Hostile choices change nothing and say why.
    for (key, value) in
        [("select", "everything"), ("select", "project:"), ("pairs", "no-colon-here"), ("pairs", "not-an-image:x")]
    {
        let (status, body) = producer
            .call_json("batch_plan", &[("images", ""), ("members", ""), ("operation", "revoke"), (key, value)])
            .await;
        assert_eq!(status, 400, "{key}={value}: {body}");
    }
    let (status, body) = producer
        .call_json("batch_plan", &[("images", ""), ("members", ""), ("operation", "share"), ("pairs", &ticked)])
        .await;
    assert_eq!(status, 400, "pairs are not shared: {body}");
    assert_eq!(members_of(&a).await, vec![consumer.to_string()], "nothing changed");
}
