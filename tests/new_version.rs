//! Issue 16, the consumer's side of an image version rollover: an offer whose image replaces
//! (`supersedes`) one the project accepted says "new version of <old name>" in the inbox and in
//! "Shared with me", and "Accept, and reject <old name>" does both in one step; the access review
//! flags a superseded image that is still shared. Against the real lab.

mod common;

use common::{Cleanup, GlanceDirect, Server, http, lab, lab_call, signed_in_as};
use serde_json::{Value, json};

fn unique(name: &str) -> String {
    format!("gs-test-{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Sets a custom property straight in Glance, as a rollover does.
async fn set_property(glance: &GlanceDirect, image: &str, name: &str, value: &str) {
    let res = lab_call(
        http()
            .patch(format!("{}/v2/images/{image}", glance.url))
            .header("x-auth-token", &glance.token)
            .header("content-type", "application/openstack-images-v2.1-json-patch")
            .json(&json!([{"op": "add", "path": format!("/{name}"), "value": value}])),
    )
    .await;
    assert_eq!(res.status(), 200, "setting {name} on {image}");
}

fn offer<'a>(inbox: &'a Value, project: &str, image: &str) -> &'a Value {
    inbox
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["project_id"] == project))
        .and_then(|p| p["offers"]["Ok"].as_array())
        .and_then(|offers| offers.iter().find(|r| r["image"]["id"] == image))
        .unwrap_or_else(|| panic!("no offer of {image} to {project}: {inbox}"))
}

/// The `(change, via, project)` of each History entry of `image`, newest first.
async fn history(browser: &common::Browser, image: &str) -> Vec<(String, String, String)> {
    let (_, details) = browser.call_json("image", &[("image_id", image)]).await;
    details["history"]["Ok"]
        .as_array()
        .unwrap_or_else(|| panic!("{details}"))
        .iter()
        .map(|e| (e["change"].to_string(), e["via"].to_string(), e["project_id"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[tokio::test]
async fn a_new_version_of_an_accepted_image_is_named_and_accepted_in_place_of_the_old_one() {
    let lab = lab();
    let (consumer, consumer_b) = (lab.get("LAB_CONSUMER_PROJECT_ID"), lab.get("LAB_CONSUMER_B_PROJECT_ID"));
    let producer = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let as_consumer = GlanceDirect::as_user(lab, "consumer", "LAB_GLANCE_URL").await;
    let admin = GlanceDirect::as_user(lab, "admin", "LAB_GLANCE_URL").await;
    let (old_name, new_name) = (unique("nv-old"), unique("nv-new"));
    let old = producer.create_image(&old_name, "shared").await;
    let new = producer.create_image(&new_name, "shared").await;
    // An ordinary offer, one naming no image ID, and one naming another owner's image.
    let plain = producer.create_image(&unique("nv-plain"), "shared").await;
    let bogus = producer.create_image(&unique("nv-bogus"), "shared").await;
    let impostor = producer.create_image(&unique("nv-impostor"), "shared").await;
    let foreign = admin.create_image(&unique("nv-foreign"), "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: producer.url.clone(), token: producer.token.clone() },
        images: vec![old.clone(), new.clone(), plain.clone(), bogus.clone(), impostor.clone()],
    };
    let _cleanup_admin = Cleanup {
        glance: GlanceDirect { url: admin.url.clone(), token: admin.token.clone() },
        images: vec![foreign.clone()],
    };
    set_property(&producer, &old, "superseded_by", &new).await;
    set_property(&producer, &new, "supersedes", &old).await;
    set_property(&producer, &bogus, "supersedes", "not-an-image-id").await;
    set_property(&producer, &impostor, "supersedes", &foreign).await;
    for image in [&old, &new, &plain, &bogus, &impostor] {
        producer.add_member(image, consumer).await;
    }
    admin.add_member(&foreign, consumer).await;
    // The other project is offered the new version only: it never had the old one.
    producer.add_member(&new, consumer_b).await;
    as_consumer.set_member_status(&old, consumer, "accepted").await;
    as_consumer.set_member_status(&foreign, consumer, "accepted").await;

    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "consumer").await;

    // The inbox names the old version, with its ID for the link; nothing else is labelled.
    let (status, inbox) = browser.call_json("inbox", &[]).await;
    assert_eq!(status, 200, "{inbox}");
    assert_eq!(offer(&inbox, consumer, &new)["new_version_of"], json!({"id": old, "name": old_name}), "{inbox}");
    assert_eq!(offer(&inbox, consumer, &new)["my_status"], "pending");
    for (project, image) in [(consumer, &plain), (consumer, &bogus), (consumer, &impostor), (consumer_b, &new)] {
        assert_eq!(offer(&inbox, project, image)["new_version_of"], Value::Null, "{project} {image}: {inbox}");
    }
    let page = browser.get("/inbox").await.text().await.unwrap();
    assert!(page.contains("new version of"), "the inbox page says so");
    assert!(page.contains(&format!("href=\"/images/{old}\"")), "with a link to the old image");
    assert!(page.contains(&format!("Accept, and reject {old_name}")), "the button names what it rejects");
    assert!(page.contains(&format!("name=\"new_version\" value=\"{consumer}/{new}\"")), "in the inbox form");

    // "Shared with me" says so too, filtered to pending (the old image is then not listed).
    let (status, list) = browser.call_json("images", &[("tab", "shared"), ("status", "pending")]).await;
    assert_eq!(status, 200, "{list}");
    let row = list["rows"].as_array().unwrap().iter().find(|r| r["image"]["id"] == new.as_str()).expect("listed");
    assert_eq!(row["new_version_of"]["name"], old_name.as_str(), "{row}");
    let listed = browser.get("/images?tab=shared").await.text().await.unwrap();
    assert!(listed.contains(&format!("Accept, and reject {old_name}")), "Shared with me offers the same step");

    // Hostile values are refused, and nothing changes.
    let before = (producer.members(&old).await.1, producer.members(&new).await.1);
    let producer_project = lab.get("LAB_PRODUCER_PROJECT_ID");
    for hostile in [
        "no-slash".to_string(),
        format!("{consumer}/not-an-image"),
        format!("not a project/{new}"),
        format!("{producer_project}/{new}"),
        format!("{consumer}/{plain}"),
        format!("{consumer}/{bogus}"),
        format!("{consumer}/{impostor}"),
        format!("{consumer_b}/{new}"),
    ] {
        let (status, body) = browser.call_json("inbox_respond", &[("new_version", hostile.as_str())]).await;
        assert_eq!(status, 400, "{hostile}: {body}");
    }
    assert_eq!((producer.members(&old).await.1, producer.members(&new).await.1), before, "nothing changed");
    assert_eq!(as_consumer.members(&foreign).await.1, vec![(consumer.to_string(), "accepted".to_string())]);

    // The step itself: it takes precedence over ticked items and the chosen answer.
    let item = format!("{consumer}/{new}");
    let plain_item = format!("{consumer}/{plain}");
    let form = [("items[0]", plain_item.as_str()), ("status", "rejected"), ("new_version", item.as_str())];
    let res = browser.call("inbox_respond", &form).await;
    assert_eq!(res.status(), 200);
    let report = res.headers()["location"].to_str().unwrap().to_string();
    assert!(report.starts_with("/inbox?report="), "{report}");
    let answers: Value = res.json().await.unwrap();
    let outcomes: Vec<(String, Value)> = answers["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["image_id"].as_str().unwrap().to_string(), a["outcome"].clone()))
        .collect();
    assert_eq!(outcomes, vec![(new.clone(), json!({"Ok": "accepted"})), (old.clone(), json!({"Ok": "rejected"}))]);
    assert_eq!(answers["new_version"]["old"]["name"], old_name.as_str(), "{answers}");
    assert_eq!(answers["new_version"]["new"]["name"], new_name.as_str(), "{answers}");
    // Glance holds both answers, for this project only; the ticked item was not answered.
    let mine = |members: Vec<(String, String)>| members.into_iter().find(|(m, _)| m == consumer).map(|(_, s)| s);
    assert_eq!(mine(producer.members(&new).await.1).as_deref(), Some("accepted"));
    assert_eq!(mine(producer.members(&old).await.1).as_deref(), Some("rejected"));
    assert_eq!(mine(producer.members(&plain).await.1).as_deref(), Some("pending"), "items were ignored");
    assert!(producer.members(&new).await.1.contains(&(consumer_b.to_string(), "pending".to_string())));

    // The report says both, and History has both, as answered in the inbox for the project.
    let page = browser.get(&report).await.text().await.unwrap();
    assert!(page.contains(&format!("Accepted {new_name}; rejected the old version {old_name}.")), "the report");
    let entry = |status: &str| (format!(r#"{{"Status":"{status}"}}"#), r#""Inbox""#.to_string(), consumer.to_string());
    assert_eq!(history(&browser, &new).await, vec![entry("accepted")]);
    assert_eq!(history(&browser, &old).await, vec![entry("rejected")]);

    // The old version is no longer accepted: the new one is no longer "new version of" it.
    let (_, inbox) = browser.call_json("inbox", &[]).await;
    assert_eq!(offer(&inbox, consumer, &new)["new_version_of"], Value::Null, "{inbox}");
    assert_eq!(offer(&inbox, consumer, &old)["my_status"], "rejected");
}

#[tokio::test]
async fn the_old_version_is_found_when_hidden_and_kept_when_the_new_one_cannot_be_accepted() {
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let producer = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let as_consumer = GlanceDirect::as_user(lab, "consumer", "LAB_GLANCE_URL").await;
    let (old_name, new_name) = (unique("nvh-old"), unique("nvh-new"));
    let old = producer.create_image(&old_name, "shared").await;
    let new = producer.create_image(&new_name, "shared").await;
    // Visible to every project, but offered to none: accepting it fails.
    let community = producer.create_image(&unique("nvh-community"), "community").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: producer.url.clone(), token: producer.token.clone() },
        images: vec![old.clone(), new.clone(), community.clone()],
    };
    producer.add_member(&old, consumer).await;
    producer.add_member(&new, consumer).await;
    as_consumer.set_member_status(&old, consumer, "accepted").await;
    set_property(&producer, &new, "supersedes", &old).await;
    set_property(&producer, &community, "supersedes", &old).await;
    // A rollover may hide the old image: it is then in no listing, and is read by ID.
    let res = lab_call(
        http()
            .patch(format!("{}/v2/images/{old}", producer.url))
            .header("x-auth-token", &producer.token)
            .header("content-type", "application/openstack-images-v2.1-json-patch")
            .json(&json!([{"op": "replace", "path": "/os_hidden", "value": true}])),
    )
    .await;
    assert_eq!(res.status(), 200, "os_hidden");

    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "consumer").await;
    let (status, inbox) = browser.call_json("inbox", &[]).await;
    assert_eq!(status, 200, "{inbox}");
    assert_eq!(offer(&inbox, consumer, &new)["new_version_of"]["name"], old_name.as_str(), "{inbox}");

    // Accepting the community image fails (it is offered to no one): the old one stays accepted.
    let item = format!("{consumer}/{community}");
    let (status, answers) = browser.call_json("inbox_respond", &[("new_version", item.as_str())]).await;
    assert_eq!(status, 200, "{answers}");
    let answers_list = answers["answers"].as_array().unwrap();
    assert_eq!(answers_list.len(), 1, "only the accept was tried: {answers}");
    assert!(answers_list[0]["outcome"]["Err"].is_object(), "{answers}");
    assert_eq!(producer.members(&old).await.1, vec![(consumer.to_string(), "accepted".to_string())]);

    // Without JavaScript: a plain form post lands on the inbox with the report.
    let item = format!("{consumer}/{new}");
    let res =
        browser.post_form("inbox_respond", &[("status", "accepted"), ("new_version", item.as_str())], "/inbox").await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/inbox?report="), "{location}");
    assert_eq!(producer.members(&old).await.1, vec![(consumer.to_string(), "rejected".to_string())]);
    assert_eq!(producer.members(&new).await.1, vec![(consumer.to_string(), "accepted".to_string())]);
    let page = browser.get(&location).await.text().await.unwrap();
    assert!(page.contains(&format!("Accepted {new_name}; rejected the old version {old_name}.")), "the report");
}

/// Whether each membership of `image` in the review's JSON export is flagged superseded, by
/// member. (Images without data are "not active" too: that flag is not looked at here.)
fn superseded_flags(export: &Value, image: &str) -> Vec<(String, bool)> {
    export["memberships"]
        .as_array()
        .unwrap_or_else(|| panic!("{export}"))
        .iter()
        .filter(|m| m["image_id"] == image)
        .map(|m| {
            let flags = m["flags"].as_str().unwrap();
            (m["member_id"].as_str().unwrap().to_string(), flags.split(' ').any(|f| f == "superseded"))
        })
        .collect()
}

/// Whether the image page flags `image` as superseded and still shared.
async fn page_flags_superseded(browser: &common::Browser, image: &str) -> bool {
    let (status, details) = browser.call_json("image", &[("image_id", image)]).await;
    assert_eq!(status, 200, "{details}");
    details["flags"].as_array().unwrap_or_else(|| panic!("{details}")).iter().any(|f| f == "SupersededStillShared")
}

#[tokio::test]
async fn the_review_flags_a_superseded_image_that_is_still_shared() {
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let producer = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let old = producer.create_image(&unique("rv-old"), "shared").await;
    let new = producer.create_image(&unique("rv-new"), "shared").await;
    let plain = producer.create_image(&unique("rv-plain"), "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: producer.url.clone(), token: producer.token.clone() },
        images: vec![old.clone(), new.clone(), plain.clone()],
    };
    for image in [&old, &new, &plain] {
        producer.add_member(image, consumer).await;
    }
    set_property(&producer, &old, "superseded_by", &new).await;
    set_property(&producer, &new, "supersedes", &old).await;

    let server = Server::start(&[]);
    let owner = signed_in_as(&server, "producer").await;
    let export: Value = owner.get("/access/export.json").await.json().await.unwrap();
    assert_eq!(superseded_flags(&export, &old), vec![(consumer.to_string(), true)], "{export}");
    assert_eq!(superseded_flags(&export, &new), vec![(consumer.to_string(), false)], "the new one is not");
    assert_eq!(superseded_flags(&export, &plain), vec![(consumer.to_string(), false)]);
    let page = owner.get("/access").await.text().await.unwrap();
    assert!(page.contains("superseded, still shared") && page.contains("newer version replaces this image"));
    assert!(page.contains("select=superseded"), "a one-click clean-up");

    // The image page shows it to the owner, not to a member.
    assert!(page_flags_superseded(&owner, &old).await);
    assert!(!page_flags_superseded(&owner, &plain).await);
    let member = signed_in_as(&server, "consumer").await;
    assert!(!page_flags_superseded(&member, &old).await, "a member is not told");

    // Once no project can use it any more, it is not flagged.
    let res = lab_call(
        http()
            .delete(format!("{}/v2/images/{old}/members/{consumer}", producer.url))
            .header("x-auth-token", &producer.token),
    )
    .await;
    assert_eq!(res.status(), 204);
    assert!(!page_flags_superseded(&owner, &old).await, "no member left");
}
