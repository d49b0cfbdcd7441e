//! Issue 16: version rollover against the real lab. An image with members in all three
//! statuses is rolled over to its new version; Glance then holds exactly what was planned, and
//! the old image is hidden, protected and annotated exactly as chosen.

mod common;

use common::{Cleanup, GlanceDirect, Server, http, lab, lab_call, signed_in_as};
use serde_json::Value;

fn member(n: u32) -> String {
    format!("{:032x}", 0x7011_0000_u64 + u64::from(n) + u64::from(std::process::id()) * 1000)
}

/// Makes the test's protected images deletable again before `Cleanup` deletes them (declared
/// after it, so dropped first), even when an assertion fails half-way.
struct Unprotect {
    glance: GlanceDirect,
    images: Vec<String>,
}

impl Drop for Unprotect {
    fn drop(&mut self) {
        let images = std::mem::take(&mut self.images);
        let (url, token) = (self.glance.url.clone(), self.glance.token.clone());
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                for id in images {
                    let _ = patch(
                        &url,
                        &token,
                        &id,
                        serde_json::json!([{"op": "replace", "path": "/protected", "value": false}]),
                    )
                    .await;
                }
            })
        })
        .join();
    }
}

async fn patch(url: &str, token: &str, id: &str, body: Value) -> u16 {
    let res = http()
        .patch(format!("{url}/v2/images/{id}"))
        .header("x-auth-token", token)
        .header("content-type", "application/openstack-images-v2.1-json-patch")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// Old shared with three members (accepted, pending, rejected: set by the admin, as each
/// member would), new made by the same producer: (old, new, [accepted, pending, rejected]).
async fn three_statuses(
    glance: &GlanceDirect,
    admin: &GlanceDirect,
    tag: &str,
    new_visibility: &str,
) -> (String, String, [String; 3]) {
    let old = glance.create_image(&format!("gs-roll-{tag}-20261101"), "shared").await;
    let new = glance.create_image(&format!("gs-roll-{tag}-20261201"), new_visibility).await;
    let base = tag.bytes().map(u32::from).sum::<u32>() * 10;
    let members = [member(base + 1), member(base + 2), member(base + 3)];
    for (m, status) in members.iter().zip(["accepted", "pending", "rejected"]) {
        glance.add_member(&old, m).await;
        if status != "pending" {
            admin.set_member_status(&old, m, status).await;
        }
    }
    (old, new, members)
}

fn form<'a>(pairs: &'a [(&'a str, &'a str)]) -> Vec<(String, &'a str)> {
    pairs.iter().map(|(k, v)| (format!("form[{k}]"), *v)).collect()
}

async fn call(browser: &common::Browser, name: &str, pairs: &[(&str, &str)]) -> (u16, Value) {
    let owned = form(pairs);
    let fields: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    browser.call_json(name, &fields).await
}

/// `(operation key, image, member) -> outcome kind` of a finished rollover batch.
fn outcomes(view: &Value) -> Vec<(String, String, String, String)> {
    let mut found: Vec<(String, String, String, String)> = view["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let operation = match &p["operation"] {
                Value::String(s) => s.clone(),
                Value::Object(o) => o.keys().next().unwrap().clone(),
                other => panic!("a rollover pair has its own operation: {other}"),
            };
            let outcome = match &p["outcome"] {
                Value::String(s) => s.clone(),
                Value::Object(o) => o.keys().next().unwrap().clone(),
                other => panic!("pair without an outcome: {other}"),
            };
            (operation, p["image_id"].as_str().unwrap().into(), p["member_id"].as_str().unwrap().into(), outcome)
        })
        .collect();
    found.sort();
    found
}

fn step_outcomes(view: &Value) -> Vec<String> {
    view["steps"].as_array().unwrap().iter().map(|s| s["outcome"].as_str().unwrap_or("not done").to_string()).collect()
}

#[tokio::test]
async fn three_statuses_rolled_over_with_every_option_leave_glance_exactly_as_planned() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let admin = GlanceDirect::as_user(lab, "admin", "LAB_GLANCE_URL").await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let (old, new, [accepted, pending, rejected]) = three_statuses(&glance, &admin, tag, "private").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![old.clone(), new.clone()],
    };
    let _unprotect = Unprotect {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![old.clone()],
    };
    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "producer").await;

    // The page suggests the newer image with the same name stem, and knows the cloud can hide.
    let (status, page) = browser.call_json("rollover_page", &[("image_id", &old)]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["problem"], Value::Null);
    assert_eq!(page["hide_supported"], true, "the lab's Glance serves image API 2.17");
    let suggested: Vec<&str> =
        page["suggestions"].as_array().unwrap().iter().map(|s| s["image"]["id"].as_str().unwrap()).collect();
    assert!(suggested.contains(&new.as_str()), "{page}");
    let html = browser.get(&format!("/images/{old}")).await.text().await.unwrap();
    assert!(html.contains(&format!("/images/{old}/new-version")), "the owner's image page links to New version…");

    // The plan changes nothing and says what will happen to each member.
    let options = [
        ("image_id", old.as_str()),
        ("to", new.as_str()),
        ("hide", "on"),
        ("protect", "on"),
        ("annotate", "on"),
        ("revoke_old", "on"),
    ];
    let (status, plan) = call(&browser, "rollover_plan", &options).await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["make_shared"], true, "the new version is private: made shared first");
    let planned: Vec<(&str, &str, bool, bool)> = plan["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["member_id"].as_str().unwrap(),
                m["old_status"].as_str().unwrap(),
                m["add"] == true,
                m["revoke_old"] == true,
            )
        })
        .collect();
    for (m, status) in [(&accepted, "accepted"), (&pending, "pending"), (&rejected, "rejected")] {
        assert!(planned.contains(&(m.as_str(), status, true, true)), "{m} {status}: {plan}");
    }
    assert_eq!(plan["steps"].as_array().unwrap().len(), 4, "hide, protect and the two annotations: {plan}");
    assert_eq!(glance.members(&old).await.1.len(), 3, "the plan changed nothing");
    assert_eq!(glance.image(&new).await.1["visibility"], "private");
    let plan_page = browser
        .get(&format!("/images/{old}/new-version?to={new}&hide=on&protect=on&annotate=on&revoke_old=on"))
        .await
        .text()
        .await
        .unwrap();
    assert!(plan_page.contains("pending until the project accepts it"), "the plan says what consumers see");
    assert!(plan_page.contains("Run: 6 pairs, 4 image changes"), "{plan_page}");

    // Run it.
    let (status, batch) = call(&browser, "rollover_start", &options).await;
    assert_eq!(status, 200, "{batch}");
    let view = common::wait_finished(&browser, batch.as_str().unwrap(), 30).await;
    let mut expected: Vec<(String, String, String, String)> = Vec::new();
    for m in [&accepted, &pending, &rejected] {
        expected.push(("Share".into(), new.clone(), m.clone(), "Done".into()));
        expected.push(("Revoke".into(), old.clone(), m.clone(), "Done".into()));
    }
    expected.sort();
    assert_eq!(outcomes(&view), expected);
    assert_eq!(step_outcomes(&view), vec!["Done"; 4], "{view}");
    assert_eq!(view["made_shared"], serde_json::json!([new]));

    // Glance agrees.
    let (_, new_image) = glance.image(&new).await;
    assert_eq!(new_image["visibility"], "shared");
    assert_eq!(new_image["supersedes"], old.as_str());
    let mut want: Vec<(String, String)> =
        [&accepted, &pending, &rejected].iter().map(|m| (m.to_string(), "pending".to_string())).collect();
    want.sort();
    assert_eq!(glance.members(&new).await.1, want, "every member offered the new version, pending");
    assert_eq!(glance.members(&old).await.1, vec![], "the old version's members were revoked");
    let (_, old_image) = glance.image(&old).await;
    assert_eq!(old_image["os_hidden"], true);
    assert_eq!(old_image["protected"], true);
    assert_eq!(old_image["superseded_by"], new.as_str());

    // History on both images, from the "new version" page.
    let (_, details) = browser.call_json("image", &[("image_id", &old)]).await;
    let history = details["history"]["Ok"].as_array().unwrap_or_else(|| panic!("{details}"));
    let changes: Vec<String> = history.iter().map(|e| format!("{}/{}", e["change"], e["via"])).collect();
    for change in ["\"Hide\"", "\"Protect\"", "\"SupersededBy\"", "\"Revoke\""] {
        assert!(changes.contains(&format!("{change}/\"Rollover\"")), "{change} in {changes:?}");
    }
    let page = browser.get(&format!("/images/{old}")).await.text().await.unwrap();
    assert!(page.contains("hidden from image lists") && page.contains("new version"), "History words the changes");

    // The Terraform export holds every member of the new version.
    let (status, tf) =
        browser.call_json("batch_terraform", &[("batch_id", batch.as_str().unwrap()), ("provider", "openstack")]).await;
    assert_eq!(status, 200, "{tf}");
    let text = tf["text"].as_str().unwrap();
    for m in [&accepted, &pending, &rejected] {
        assert!(text.contains(&format!("{new}/{m}")), "an import of {m}: {text}");
    }
    assert!(!text.contains(&old), "nothing of the old version: {text}");
}

#[tokio::test]
async fn an_admin_carries_accepted_over_and_a_successor_gets_only_the_members_it_lacks() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let admin_glance = GlanceDirect::as_user(lab, "admin", "LAB_GLANCE_URL").await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let (old, new, [accepted, pending, rejected]) = three_statuses(&glance, &admin_glance, tag, "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![old.clone(), new.clone()],
    };
    // The new version has one of the members already.
    glance.add_member(&new, &pending).await;
    let server = Server::start(&[]);

    // Carrying statuses over is an admin's: the owner is refused, and nothing changes.
    let owner = signed_in_as(&server, "producer").await;
    let carry = [("image_id", old.as_str()), ("to", new.as_str()), ("carry", "on")];
    let (status, body) = call(&owner, "rollover_plan", &carry).await;
    assert_eq!(status, 400, "{body}");
    let html = owner.get(&format!("/images/{old}/new-version")).await.text().await.unwrap();
    assert!(!html.contains("name=\"carry\""), "the owner is not offered the admin's option");

    let admin = signed_in_as(&server, "admin").await;
    let (status, plan) = call(&admin, "rollover_plan", &carry).await;
    assert_eq!(status, 200, "{plan}");
    let row = |m: &str| plan["members"].as_array().unwrap().iter().find(|r| r["member_id"] == m).unwrap().clone();
    assert_eq!(
        (row(&accepted)["add"].clone(), row(&accepted)["carry"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );
    assert_eq!(
        (row(&pending)["add"].clone(), row(&pending)["new_status"].clone()),
        (Value::Bool(false), "pending".into())
    );
    assert_eq!(
        (row(&rejected)["add"].clone(), row(&rejected)["carry"].clone()),
        (Value::Bool(true), Value::Bool(false))
    );
    let page = admin.get(&format!("/images/{old}/new-version?to={new}&carry=on")).await.text().await.unwrap();
    assert!(page.contains("set to accepted by you, an admin, on their behalf"), "the carry-over is labelled");
    assert!(page.contains("I confirm: set 1 new offer to accepted"), "and asks for a confirmation");

    // Not confirmed: refused, nothing changes.
    let (status, body) = call(&admin, "rollover_start", &carry).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(glance.members(&new).await.1, vec![(pending.clone(), "pending".into())]);

    let confirmed = [("image_id", old.as_str()), ("to", new.as_str()), ("carry", "on"), ("confirm_carry", "yes")];
    let (status, batch) = call(&admin, "rollover_start", &confirmed).await;
    assert_eq!(status, 200, "{batch}");
    let view = common::wait_finished(&admin, batch.as_str().unwrap(), 30).await;
    let mut expected = vec![
        ("Share".to_string(), new.clone(), accepted.clone(), "Done".to_string()),
        ("SetStatus".into(), new.clone(), accepted.clone(), "Done".into()),
        ("Share".into(), new.clone(), rejected.clone(), "Done".into()),
    ];
    expected.sort();
    assert_eq!(outcomes(&view), expected, "only the missing members, and no option not chosen");
    assert!(view["steps"].as_array().unwrap().is_empty());

    let mut want = vec![
        (accepted.clone(), "accepted".to_string()),
        (pending.clone(), "pending".into()),
        (rejected.clone(), "pending".into()),
    ];
    want.sort();
    assert_eq!(glance.members(&new).await.1, want);
    let mut old_want = vec![
        (accepted.clone(), "accepted".to_string()),
        (pending.clone(), "pending".into()),
        (rejected.clone(), "rejected".into()),
    ];
    old_want.sort();
    assert_eq!(glance.members(&old).await.1, old_want, "the old version is left as it was");
    let (_, old_image) = glance.image(&old).await;
    assert_eq!(
        (old_image["os_hidden"].clone(), old_image["protected"].clone()),
        (Value::Bool(false), Value::Bool(false))
    );
    assert_eq!(old_image["superseded_by"], Value::Null);
}

#[tokio::test]
async fn hostile_rollovers_are_refused_and_change_nothing() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let admin_glance = GlanceDirect::as_user(lab, "admin", "LAB_GLANCE_URL").await;
    let other = GlanceDirect::as_user(lab, "admin", "LAB_GLANCE_URL").await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let (old, new, _) = three_statuses(&glance, &admin_glance, tag, "shared").await;
    let foreign = other.create_image(&format!("gs-roll-{tag}-foreign"), "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![old.clone(), new.clone()],
    };
    let _cleanup_other = Cleanup {
        glance: GlanceDirect { url: other.url.clone(), token: other.token.clone() },
        images: vec![foreign.clone()],
    };
    let server = Server::start(&[]);
    let owner = signed_in_as(&server, "producer").await;
    let before = (glance.members(&old).await, glance.members(&new).await, glance.image(&old).await.1);

    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("image_id", old.as_str())],
        vec![("image_id", old.as_str()), ("to", old.as_str())],
        vec![("image_id", old.as_str()), ("to_id", "not-an-id\u{0}\\é")],
        vec![("image_id", "../../v2/images"), ("to", new.as_str())],
        vec![("image_id", old.as_str()), ("to", new.as_str()), ("carry", "on"), ("confirm_carry", "yes")],
        vec![("image_id", old.as_str()), ("to_id", foreign.as_str())],
    ];
    for case in &cases {
        for name in ["rollover_plan", "rollover_start"] {
            let (status, body) = call(&owner, name, case).await;
            assert!((400..500).contains(&status), "{name} {case:?}: {status} {body}");
            assert!(!common::user_message(&body).is_empty(), "a clear message: {body}");
        }
    }
    // A consumer cannot roll over the producer's image.
    let consumer = signed_in_as(&server, "consumer").await;
    let (status, page) = consumer.call_json("rollover_page", &[("image_id", &old)]).await;
    assert!(status == 200 && page["problem"].as_str().is_some() || status == 404, "{status} {page}");
    let (status, _) =
        call(&consumer, "rollover_start", &[("image_id", old.as_str()), ("to", new.as_str()), ("annotate", "on")])
            .await;
    assert!((400..500).contains(&status));
    // A huge body is refused too.
    let huge = "a".repeat(3_000_000);
    let (status, _) = call(&owner, "rollover_start", &[("image_id", old.as_str()), ("to_id", huge.as_str())]).await;
    assert!((400..500).contains(&status), "{status}");

    let after = (glance.members(&old).await, glance.members(&new).await, glance.image(&old).await.1);
    assert_eq!(before, after, "nothing changed anywhere");
    let res =
        lab_call(http().get(format!("{}/v2/images/{new}", glance.url)).header("x-auth-token", &glance.token)).await;
    assert_eq!(res.json::<Value>().await.unwrap()["supersedes"], Value::Null);
}
