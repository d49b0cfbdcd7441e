//! The consumer's inbox across two projects, with bulk accept and reject.

mod common;

use common::{Cleanup, GlanceDirect, Server, lab, signed_in_as};
use serde_json::Value;

fn offer<'a>(inbox: &'a Value, project: &str, image: &str) -> Option<&'a Value> {
    inbox.as_array()?.iter().find(|p| p["project_id"] == project)?["offers"]["Ok"]
        .as_array()?
        .iter()
        .find(|r| r["image"]["id"] == image)
}

#[tokio::test]
async fn the_inbox_lists_offers_to_every_project_and_answers_many_at_once() {
    let lab = lab();
    let (consumer, consumer_b) = (lab.get("LAB_CONSUMER_PROJECT_ID"), lab.get("LAB_CONSUMER_B_PROJECT_ID"));
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let a = glance.create_image("gs-inbox-a", "shared").await;
    let b = glance.create_image("gs-inbox-b", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![a.clone(), b.clone()],
    };
    glance.add_member(&a, consumer).await;
    glance.add_member(&b, consumer_b).await;

    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "consumer").await;

    let (status, inbox) = browser.call_json("inbox", &[]).await;
    assert_eq!(status, 200, "{inbox}");
    assert_eq!(offer(&inbox, consumer, &a).unwrap()["my_status"], "pending", "{inbox}");
    assert_eq!(offer(&inbox, consumer_b, &b).unwrap()["my_status"], "pending", "offers to the other project too");
    assert!(offer(&inbox, consumer, &b).is_none(), "b is offered to consumer-b only");
    let (_, count) = browser.call_json("pending_count", &[]).await;
    assert!(count.as_u64().unwrap() >= 1, "the header badge counts the pending offer: {count}");

    let items = [("items[0]", format!("{consumer}/{a}")), ("items[3]", format!("{consumer_b}/{b}"))];
    let mut form: Vec<(&str, &str)> = items.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("status", "accepted"));
    let res = browser.call("inbox_respond", &form).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["location"].to_str().unwrap().starts_with("/inbox?report="));
    let answers: Value = res.json().await.unwrap();
    assert_eq!(answers["answers"].as_array().unwrap().len(), 2, "{answers}");
    assert!(answers["answers"].as_array().unwrap().iter().all(|a| a["outcome"]["Ok"] == "accepted"), "{answers}");
    assert_eq!(glance.members(&a).await.1, vec![(consumer.to_string(), "accepted".to_string())]);
    assert_eq!(glance.members(&b).await.1, vec![(consumer_b.to_string(), "accepted".to_string())]);

    // Rejecting asks first and changes nothing until confirmed.
    let mut reject = form.clone();
    reject.pop();
    reject.push(("status", "rejected"));
    let (_, asked) = browser.call_json("inbox_respond", &reject).await;
    assert_eq!(asked["needs_confirmation"], true, "{asked}");
    assert_eq!(glance.members(&a).await.1, vec![(consumer.to_string(), "accepted".to_string())], "unchanged");
    reject.push(("confirmed", "yes"));
    let (_, done) = browser.call_json("inbox_respond", &reject).await;
    assert!(done["answers"].as_array().unwrap().iter().all(|a| a["outcome"]["Ok"] == "rejected"), "{done}");
    assert_eq!(glance.members(&b).await.1, vec![(consumer_b.to_string(), "rejected".to_string())]);

    // Both answers are in the image's history, as made in the inbox for the member project.
    let (_, details) = browser.call_json("image", &[("image_id", &a)]).await;
    let changes: Vec<(String, String, String)> = details["history"]["Ok"]
        .as_array()
        .unwrap_or_else(|| panic!("{details}"))
        .iter()
        .map(|e| (e["change"].to_string(), e["via"].to_string(), e["project_id"].as_str().unwrap().to_string()))
        .collect();
    let entry = |status: &str| (format!(r#"{{"Status":"{status}"}}"#), r#""Inbox""#.to_string(), consumer.to_string());
    assert_eq!(changes, vec![entry("rejected"), entry("accepted")], "{details}");

    // Rejected offers stay in the inbox, to be accepted later; the page renders server-side.
    let (_, inbox) = browser.call_json("inbox", &[]).await;
    assert_eq!(offer(&inbox, consumer_b, &b).unwrap()["my_status"], "rejected");
    let page = browser.get("/inbox").await.text().await.unwrap();
    assert!(page.contains("gs-inbox-a") && page.contains("Project consumer-b"), "inbox page");

    // Malformed items are refused before any call.
    let (status, _) = browser.call_json("inbox_respond", &[("items[0]", "not-a-pair"), ("status", "accepted")]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn pending_offers_come_first_in_each_project_and_rejected_ones_stay_listed() {
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let as_consumer = GlanceDirect::as_user(lab, "consumer", "LAB_GLANCE_URL").await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..6];
    // By name, accepted < rejected < pending: the order by status is the other way round.
    let accepted = glance.create_image(&format!("gs-order-{tag}-a"), "shared").await;
    let rejected = glance.create_image(&format!("gs-order-{tag}-b"), "shared").await;
    let pending = glance.create_image(&format!("gs-order-{tag}-c"), "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![accepted.clone(), rejected.clone(), pending.clone()],
    };
    for image in [&accepted, &rejected, &pending] {
        glance.add_member(image, consumer).await;
    }
    as_consumer.set_member_status(&accepted, consumer, "accepted").await;
    as_consumer.set_member_status(&rejected, consumer, "rejected").await;

    let server = Server::start(&[]);
    let browser = signed_in_as(&server, "consumer").await;
    let (status, inbox) = browser.call_json("inbox", &[]).await;
    assert_eq!(status, 200, "{inbox}");
    for project in inbox.as_array().unwrap() {
        let statuses: Vec<&str> = project["offers"]["Ok"]
            .as_array()
            .unwrap_or_else(|| panic!("{project}"))
            .iter()
            .map(|o| o["my_status"].as_str().unwrap_or("unknown"))
            .collect();
        let first_answered = statuses.iter().position(|s| *s != "pending").unwrap_or(statuses.len());
        assert!(statuses[first_answered..].iter().all(|s| *s != "pending"), "pending first: {statuses:?}");
    }
    let position = |image: &str| {
        let offers = inbox.as_array().unwrap().iter().find(|p| p["project_id"] == consumer).unwrap()["offers"]["Ok"]
            .as_array()
            .unwrap();
        offers.iter().position(|o| o["image"]["id"] == image)
    };
    let (p, a, r) = (position(&pending).unwrap(), position(&accepted).unwrap(), position(&rejected));
    assert!(p < a, "the pending offer comes before the accepted one");
    let r = r.expect("the rejected offer is still listed");
    assert!(p < r, "the pending offer comes before the rejected one");
    assert_eq!(offer(&inbox, consumer, &rejected).unwrap()["my_status"], "rejected");

    // The page lists them in the same order.
    let page = browser.get("/inbox").await.text().await.unwrap();
    let at =
        |name: &str| page.find(&format!("gs-order-{tag}-{name}")).unwrap_or_else(|| panic!("{name} not on the page"));
    assert!(at("c") < at("a") && at("c") < at("b"), "pending first on the page too");
}

/// Every row of one "Shared with me" answer for `image`: `(status filter, my_status)` pairs.
async fn listed(browser: &common::Browser, image: &str, filter: &str, search: Option<&str>) -> Vec<String> {
    let mut form = vec![("tab", "shared"), ("status", filter), ("sort", "newest")];
    if let Some(q) = search {
        form.push(("q", q));
    }
    let (status, list) = browser.call_json("images", &form).await;
    assert_eq!(status, 200, "{list}");
    list["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .filter(|r| r["image"]["id"] == image)
        .map(|r| r["my_status"].as_str().unwrap_or("none").to_string())
        .collect()
}

#[tokio::test]
async fn an_admin_sees_only_the_offers_made_to_its_own_project() {
    // For an admin's token Glance ignores `member_status`: it listed every shared image of the
    // cloud under each answer, so the admin saw phantom offers three times, and Accept failed.
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let offered = glance.create_image(&format!("gs-admin-{tag}-offered"), "shared").await;
    let elsewhere = glance.create_image(&format!("gs-admin-{tag}-elsewhere"), "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![offered.clone(), elsewhere.clone()],
    };
    let server = Server::start(&[]);
    let admin = signed_in_as(&server, "admin").await;
    let admin_project = admin.whoami().await["project_id"].as_str().unwrap().to_string();
    let pending_count = || async {
        let (status, count) = admin.call_json("pending_count", &[]).await;
        assert_eq!(status, 200, "{count}");
        count.as_u64().unwrap()
    };
    let before = pending_count().await;
    glance.add_member(&offered, consumer).await;
    glance.add_member(&offered, &admin_project).await;
    glance.add_member(&elsewhere, consumer).await;

    // Shared with me, paged and searched, under each answer: the real offer once, with its answer.
    for search in [None, Some(tag)] {
        for (filter, want) in
            [("pending", vec!["pending"]), ("accepted", vec![]), ("rejected", vec![]), ("all", vec!["pending"])]
        {
            assert_eq!(listed(&admin, &offered, filter, search).await, want, "{filter} {search:?}");
            assert_eq!(listed(&admin, &elsewhere, filter, search).await, Vec::<String>::new(), "{filter} {search:?}");
        }
    }
    // The badge counts the one new offer, and none of the other shared images.
    assert_eq!(pending_count().await, before + 1, "the badge counts real offers only");

    // The inbox lists it once under the admin's project, and not the image offered elsewhere.
    let (status, inbox) = admin.call_json("inbox", &[]).await;
    assert_eq!(status, 200, "{inbox}");
    let offers =
        inbox.as_array().unwrap().iter().find(|p| p["project_id"] == admin_project.as_str()).unwrap()["offers"]["Ok"]
            .as_array()
            .unwrap_or_else(|| panic!("{inbox}"))
            .clone();
    let in_inbox = |image: &str| offers.iter().filter(|o| o["image"]["id"] == image).count();
    assert_eq!((in_inbox(&offered), in_inbox(&elsewhere)), (1, 0), "{inbox}");

    // Accepting it works, and it moves to the accepted answer.
    let item = format!("{admin_project}/{offered}");
    let (status, answers) = admin.call_json("inbox_respond", &[("items[0]", &item), ("status", "accepted")]).await;
    assert_eq!(status, 200, "{answers}");
    assert_eq!(answers["answers"][0]["outcome"]["Ok"], "accepted", "{answers}");
    let members = glance.members(&offered).await.1;
    assert!(members.contains(&(admin_project.clone(), "accepted".to_string())), "{members:?}");
    assert_eq!(listed(&admin, &offered, "accepted", Some(tag)).await, vec!["accepted"]);
    assert_eq!(listed(&admin, &offered, "pending", Some(tag)).await, Vec::<String>::new());
    assert_eq!(pending_count().await, before);
}
