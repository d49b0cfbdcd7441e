//! Images and their members against the real local Glance: every action and every error,
//! each checking what the user is told and what Glance holds afterwards.

mod common;

use common::{Browser, Cleanup, GlanceDirect, Server, lab, signed_in_as, user_message};
use serde_json::Value;

/// An image made directly in Glance by `who`, deleted again when the returned guard drops.
async fn new_image(who: &str, region_url_key: &str, name: &str, visibility: &str) -> (GlanceDirect, String, Cleanup) {
    let glance = GlanceDirect::as_user(lab(), who, region_url_key).await;
    let id = glance.create_image(name, visibility).await;
    let cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![id.clone()],
    };
    (glance, id, cleanup)
}

fn unique(name: &str) -> String {
    format!("gs-test-{name}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

async fn share(browser: &Browser, image: &str, members: &str, confirmed: bool, make_shared: bool) -> (u16, Value) {
    let mut form = vec![("image_id", image), ("members", members)];
    if confirmed {
        form.push(("confirmed", "yes"));
    }
    if make_shared {
        form.push(("make_shared", "yes"));
    }
    browser.call_json("share", &form).await
}

#[tokio::test]
async fn operator_journey_make_shared_then_share_then_pending() {
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("private"), "private").await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;

    // The page says what private means and offers to make it shared.
    let page = producer.get(&format!("/images/{image}")).await.text().await.unwrap();
    assert!(page.contains("Private images have no members"), "the page explains private");
    assert!(page.contains("Make the image shared first"), "the share form offers to make it shared");

    // Without "make it shared", nothing changes.
    let (status, body) = share(&producer, &image, consumer, true, false).await;
    assert_eq!(status, 400, "{body}");
    assert!(user_message(&body).contains("private"), "{body}");
    assert_eq!(glance.image(&image).await.1["visibility"], "private");

    // The producer cannot look projects up: the consumer's ID is unchecked and needs a yes.
    let (status, body) = share(&producer, &image, consumer, false, true).await;
    assert_eq!(status, 200, "{body} {}", server.log_text());
    assert!(body["NeedsConfirmation"]["checks"][0][1]["Unchecked"]["looks_like_id"].as_bool().unwrap(), "{body}");
    assert_eq!(glance.image(&image).await.1["visibility"], "private", "asking changes nothing");

    let res = producer
        .call("share", &[("image_id", &image), ("members", consumer), ("confirmed", "yes"), ("make_shared", "yes")])
        .await;
    assert_eq!(res.status(), 200);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("/images/{image}?report=")), "{location}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["Done"]["made_shared"], true);
    assert_eq!(body["Done"]["results"][0]["outcome"]["Ok"], "pending");

    assert_eq!(glance.image(&image).await.1["visibility"], "shared");
    assert_eq!(glance.members(&image).await, (200, vec![(consumer.to_string(), "pending".to_string())]));

    // The report can be opened again from its link, and the page shows the member as pending.
    let page = producer.get(&location).await.text().await.unwrap();
    assert!(page.contains("The image is now shared. Shared with 1 project."), "report shown");
    assert!(page.contains(consumer) && page.contains("badge pending"), "member row shown");
}

#[tokio::test]
async fn admin_ids_are_checked_and_unknown_projects_are_never_shared_with() {
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let (glance, image, _cleanup) = new_image("admin", "LAB_GLANCE_URL", &unique("admin"), "shared").await;
    let server = Server::start(&[]);
    let admin = signed_in_as(&server, "admin").await;

    let bogus = "0123456789abcdef0123456789abcdef";
    let (status, body) =
        admin.call_json("check_projects", &[("members", &format!("{consumer}, {bogus} bad/id"))]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0][1]["Found"]["name"], "consumer");
    assert_eq!(body[1][1], "NotFound");
    assert!(body[2][1]["Invalid"].is_object(), "{body}");

    let (_, body) = share(&admin, &image, &format!("{consumer} {bogus}"), false, false).await;
    assert!(body["NeedsConfirmation"].is_object(), "an unknown ID makes it ask: {body}");
    let (_, body) = share(&admin, &image, &format!("{consumer} {bogus}"), true, false).await;
    let results = body["Done"]["results"].as_array().unwrap();
    assert_eq!(results[0]["outcome"]["Ok"], "pending");
    assert!(user_message(&results[1]["outcome"]["Err"]).contains("Keystone knows no project"), "{body}");
    assert_eq!(
        glance.members(&image).await.1,
        vec![(consumer.to_string(), "pending".to_string())],
        "only the real project"
    );

    // The plain member list is exactly Glance's.
    let (_, listed) = admin.call_json("members", &[("image_id", &image)]).await;
    assert_eq!(listed[0]["member_id"], consumer, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // The member table names projects where Keystone lets the user look them up.
    let (_, details) = admin.call_json("image", &[("image_id", &image)]).await;
    assert_eq!(details["members"]["Ok"][0]["project"]["Named"]["name"], "consumer", "{details}");
}

#[tokio::test]
async fn a_project_name_is_not_taken_for_an_id() {
    let lab = lab();
    let (glance, image, _cleanup) = new_image("consumer", "LAB_GLANCE_URL", &unique("names"), "shared").await;
    let server = Server::start(&[]);
    let consumer = signed_in_as(&server, "consumer").await;
    // consumer-user also works in consumer-b, so that name is known to be a name.
    let (_, body) = share(&consumer, &image, "consumer-b", true, false).await;
    let result = &body["Done"]["results"][0];
    assert_eq!(result["check"]["ProjectName"]["id"], lab.get("LAB_CONSUMER_B_PROJECT_ID"), "{body}");
    assert!(result["outcome"]["Err"].is_object());
    assert_eq!(glance.members(&image).await.1, vec![], "nothing shared with a name");
}

#[tokio::test]
async fn duplicate_member_is_reported_as_already_a_member() {
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("dup"), "shared").await;
    glance.add_member(&image, consumer).await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    let (_, body) = share(&producer, &image, consumer, true, false).await;
    let err = &body["Done"]["results"][0]["outcome"]["Err"];
    assert_eq!(err["Conflict"]["code"], 409, "{body}");
    assert!(user_message(err).contains("is duplicated"), "{body}");
    assert!(!user_message(err).contains("<br"), "Glance's markup is stripped");
    let page = producer.get(&format!("/images/{image}?report=x")).await.text().await.unwrap();
    assert!(page.contains(consumer));
    assert_eq!(glance.members(&image).await.1.len(), 1, "still one member");
}

#[tokio::test]
async fn the_member_quota_is_reported_with_its_limit() {
    let lab = lab();
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE2_URL", &unique("quota"), "shared").await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    assert_eq!(producer.call("switch_region", &[("region", lab.get("LAB_REGION2"))]).await.status(), 200);
    let quota: usize = lab.get("LAB_REGION2_MEMBER_QUOTA").parse().unwrap();
    let ids: Vec<String> = (0..=quota).map(|i| format!("{:032x}", 0xabc000 + i)).collect();
    let (_, body) = share(&producer, &image, &ids.join("\n"), true, false).await;
    let results = body["Done"]["results"].as_array().unwrap();
    let over: Vec<&Value> = results.iter().filter(|r| r["outcome"]["Err"]["QuotaExceeded"].is_object()).collect();
    assert_eq!(over.len(), 1, "exactly one pair is over the quota: {body}");
    assert_eq!(over[0]["outcome"]["Err"]["QuotaExceeded"]["limit"], quota);
    assert!(user_message(&over[0]["outcome"]["Err"]).contains("quota"), "{body}");
    assert_eq!(glance.members(&image).await.1.len(), quota, "Glance holds exactly the quota");
}

#[tokio::test]
async fn consumer_journey_accept_reject_and_back_to_pending() {
    let lab = lab();
    let consumer_id = lab.get("LAB_CONSUMER_PROJECT_ID");
    let name = unique("offer");
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &name, "shared").await;
    glance.add_member(&image, consumer_id).await;
    let server = Server::start(&[]);
    let consumer = signed_in_as(&server, "consumer").await;

    let listed = |body: &Value| body["rows"].as_array().unwrap().iter().any(|r| r["image"]["id"] == image.as_str());
    let (_, pending) = consumer.call_json("images", &[("tab", "shared"), ("status", "pending")]).await;
    assert!(listed(&pending), "a pending offer is listed under Shared with me: {pending}");
    let (_, all) = consumer.call_json("images", &[("tab", "shared"), ("status", "all")]).await;
    let row = all["rows"].as_array().unwrap().iter().find(|r| r["image"]["id"] == image.as_str()).unwrap().clone();
    assert_eq!(row["my_status"], "pending");

    for status in ["accepted", "rejected", "pending"] {
        let (code, body) = consumer.call_json("member_status", &[("image_id", &image), ("status", status)]).await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(body["status"], status);
        assert_eq!(glance.members(&image).await.1, vec![(consumer_id.to_string(), status.to_string())]);
        let (_, filtered) = consumer.call_json("images", &[("tab", "shared"), ("status", status)]).await;
        assert!(listed(&filtered), "listed under {status}");
    }
    let (_, accepted) = consumer.call_json("images", &[("tab", "shared"), ("status", "accepted")]).await;
    assert!(!listed(&accepted), "no longer accepted");

    // The image page shows the consumer its own answer and the other choices.
    let page = consumer.get(&format!("/images/{image}")).await.text().await.unwrap();
    assert!(page.contains("Offered to your project") && page.contains("Accept"), "consumer actions shown");
    let page = consumer.get(&format!("/images/{image}?confirm=reject")).await.text().await.unwrap();
    assert!(page.contains(&format!("Reject the offer of image {name}?")), "rejecting asks in words naming the image");

    // A consumer cannot add members or revoke: Glance refuses and nothing changes.
    let (_, body) = share(&consumer, &image, lab.get("LAB_CONSUMER_B_PROJECT_ID"), true, false).await;
    assert_eq!(body["Done"]["results"][0]["outcome"]["Err"]["Forbidden"]["code"], 403, "{body}");
    let refused: glance_share::error::AppError =
        serde_json::from_value(body["Done"]["results"][0]["outcome"]["Err"].clone()).unwrap();
    assert!(
        refused.to_string().starts_with("Not allowed:") && refused.to_string().ends_with("(Glance 403)"),
        "{refused}"
    );
    let (code, body) = consumer.call_json("revoke", &[("image_id", &image), ("member_id", consumer_id)]).await;
    assert_eq!(code, 403, "{body}");
    assert!(user_message(&body).starts_with("Not allowed:"), "the user reads why: {body}");
    assert_eq!(glance.members(&image).await.1, vec![(consumer_id.to_string(), "pending".to_string())]);
}

#[tokio::test]
async fn only_the_member_or_an_admin_sets_the_status() {
    let lab = lab();
    let consumer_id = lab.get("LAB_CONSUMER_PROJECT_ID");
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("override"), "shared").await;
    glance.add_member(&image, consumer_id).await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;

    let form = [("image_id", image.as_str()), ("status", "accepted"), ("member_id", consumer_id)];
    let (code, body) = producer.call_json("member_status", &form).await;
    assert_eq!(code, 400, "without the override flag the dashboard refuses: {body}");
    let mut with_flag = form.to_vec();
    with_flag.push(("admin_override", "yes"));
    let (code, body) = producer.call_json("member_status", &with_flag).await;
    assert_eq!(code, 403, "the owner is not an admin: Glance refuses: {body}");
    assert!(user_message(&body).contains("Not allowed"), "{body}");
    assert_eq!(glance.members(&image).await.1, vec![(consumer_id.to_string(), "pending".to_string())], "unchanged");

    let admin = signed_in_as(&server, "admin").await;
    let page = admin.get(&format!("/images/{image}")).await.text().await.unwrap();
    assert!(page.contains("Admin override") && page.contains("as an admin"), "the override is labelled");
    let (code, body) = admin.call_json("member_status", &with_flag).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(glance.members(&image).await.1, vec![(consumer_id.to_string(), "accepted".to_string())]);
}

#[tokio::test]
async fn revoke_ends_access_and_a_second_revoke_is_not_found() {
    let lab = lab();
    let consumer_id = lab.get("LAB_CONSUMER_PROJECT_ID");
    let name = unique("revoke");
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &name, "shared").await;
    glance.add_member(&image, consumer_id).await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    let consumer = signed_in_as(&server, "consumer").await;
    assert_eq!(consumer.call_json("image", &[("image_id", &image)]).await.0, 200);

    let page =
        producer.get(&format!("/images/{image}/members/{consumer_id}?confirm=revoke")).await.text().await.unwrap();
    assert!(
        page.contains(&format!("Revoke the access of project {consumer_id} to image {name}?")),
        "confirmation names both"
    );
    assert!(page.contains("class=\"focused\""), "the deep-linked row is focused");

    let res = producer.call("revoke", &[("image_id", &image), ("member_id", consumer_id)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], format!("/images/{image}").as_str());
    assert_eq!(glance.members(&image).await.1, vec![]);
    let (code, body) = consumer.call_json("image", &[("image_id", &image)]).await;
    assert_eq!(code, 404, "the consumer no longer sees the image: {body}");

    let (code, body) = producer.call_json("revoke", &[("image_id", &image), ("member_id", consumer_id)]).await;
    assert_eq!(code, 404, "{body}");
    assert!(user_message(&body).contains("not found in the member list"), "{body}");
}

#[tokio::test]
async fn malformed_ids_are_refused_before_any_call() {
    lab();
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    for bad in ["../../v2/images", "abc", "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b/members"] {
        let (code, body) = producer.call_json("image", &[("image_id", bad)]).await;
        assert_eq!(code, 400, "{bad}: {body}");
        assert!(user_message(&body).contains("is not an image ID"), "{body}");
    }
    let image = "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b";
    for bad in ["a/b", "x%2F..", "a b", "..?x", "#", ".", ".."] {
        let (code, body) = producer.call_json("revoke", &[("image_id", image), ("member_id", bad)]).await;
        assert_eq!(code, 400, "{bad:?}: {body}");
    }
    let (code, body) = producer.call_json("member_status", &[("image_id", image), ("status", "bogus")]).await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = producer.call_json("image", &[("image_id", image)]).await;
    assert_eq!(code, 404, "an unknown image: {body}");
    let page = producer.get(&format!("/images/{image}")).await.text().await.unwrap();
    assert!(page.contains("Image not found"));
}

#[tokio::test]
async fn odd_but_valid_member_ids_are_encoded_into_one_path_segment() {
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("encode"), "shared").await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    let odd = "a:b@c&d=e+f";
    // Not shaped like a Keystone ID, so the dashboard never shares with it (see
    // `a_name_keystone_does_not_confirm_is_never_shared_with`); Glance takes it, and it is revoked.
    glance.add_member(&image, odd).await;
    assert_eq!(glance.members(&image).await.1, vec![(odd.to_string(), "pending".to_string())]);
    let (code, body) = producer.call_json("revoke", &[("image_id", &image), ("member_id", odd)]).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(glance.members(&image).await.1, vec![]);
}

#[tokio::test]
async fn image_lists_count_members_and_find_names() {
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let name = unique("listed");
    let shared = glance.create_image(&name, "shared").await;
    let private = glance.create_image(&format!("{name}-private"), "private").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![shared.clone(), private.clone()],
    };
    glance.add_member(&shared, lab.get("LAB_CONSUMER_PROJECT_ID")).await;
    glance.add_member(&shared, lab.get("LAB_CONSUMER_B_PROJECT_ID")).await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    let (_, body) = producer.call_json("images", &[("tab", "mine"), ("q", &name[8..])]).await;
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "the search finds both by a part of the name: {body}");
    let row = |id: &str| rows.iter().find(|r| r["image"]["id"] == id).unwrap().clone();
    assert_eq!(row(&shared)["member_count"], 2);
    assert_eq!(row(&private)["member_count"], Value::Null);
    assert_eq!(row(&shared)["owned"], true);
    let page = producer.get(&format!("/images?tab=mine&q={}", &name[8..])).await.text().await.unwrap();
    assert!(page.contains(&name) && page.contains("badge vis-private"), "the list page renders server-side");
}

#[tokio::test]
async fn forms_share_and_show_the_result_without_javascript() {
    let lab = lab();
    let consumer_id = lab.get("LAB_CONSUMER_PROJECT_ID");
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("nojs"), "shared").await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    let page = format!("/images/{image}");
    let res = producer
        .post_form("share", &[("image_id", &image), ("members", consumer_id), ("confirmed", "yes")], &page)
        .await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let html = producer.get(&location).await.text().await.unwrap();
    assert!(html.contains("Shared with 1 project."), "the outcome is on the page");

    let res = producer.post_form("revoke", &[("image_id", &image), ("member_id", "a/b")], &page).await;
    assert_eq!(res.status(), 302);
    let back = res.headers()["location"].to_str().unwrap().to_string();
    assert!(back.contains("__err="), "{back}");
    let html = producer.get(back.trim_start_matches(&server.base)).await.text().await.unwrap();
    assert!(html.contains("is not a project ID"), "the error shows on the page");
    assert_eq!(glance.members(&image).await.1.len(), 1);
}

#[tokio::test]
async fn a_token_revoked_behind_the_dashboards_back_sends_the_user_to_sign_in() {
    let lab = lab();
    let keystone = common::KeystoneDirect { lab };
    let token = keystone.producer_token().await;
    let server = Server::start(&[]);
    let browser = Browser::new(&server);
    assert_eq!(browser.sign_in_token(&token).await.0, 200);
    // Revoked before Glance ever saw it, so Glance cannot answer from its token cache.
    keystone.revoke(&token).await;
    let res = browser.call("images", &[("tab", "mine")]).await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["location"], "/signin?next=/&reason=expired", "the browser is sent to sign in");
    assert_eq!(browser.whoami().await, "SessionExpired", "the dead session was ended, and says why");

    // The same when a page (no JavaScript) is the first to find out.
    let token = keystone.producer_token().await;
    let browser = Browser::new(&server);
    assert_eq!(browser.sign_in_token(&token).await.0, 200);
    keystone.revoke(&token).await;
    let res = browser.get("/images?tab=mine").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/signin?next=/images%3Ftab%3Dmine&reason=expired");
    assert_eq!(browser.whoami().await, "SessionExpired", "rendering the page ended the dead session");
}

/// `GET /v2/schemas/{name}` as Glance publishes it: only this test reads schemas, so a plain
/// call rather than a method of the product's client.
async fn schema(direct: &GlanceDirect, name: &str) -> Value {
    let url = format!("{}/v2/schemas/{name}", direct.url);
    let res = common::lab_call(common::http().get(url).header("x-auth-token", &direct.token)).await;
    assert_eq!(res.status(), 200, "schema {name}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_member_schemas_are_read_from_glance() {
    let lab = lab();
    let direct = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let member = schema(&direct, "member").await;
    assert_eq!(member["name"], "member");
    assert_eq!(member["properties"]["status"]["enum"], serde_json::json!(["pending", "accepted", "rejected"]));
    let members = schema(&direct, "members").await;
    assert_eq!(members["properties"]["members"]["items"]["name"], "member", "{members}");
}

/// The history entries the image page gets, as (user, project name, change key, member, ok).
async fn history(browser: &Browser, image: &str) -> Vec<(String, String, String, Option<String>, bool)> {
    let (code, body) = browser.call_json("image", &[("image_id", image)]).await;
    assert_eq!(code, 200, "{body}");
    let entries: Vec<glance_share::model::AuditEntry> =
        serde_json::from_value(body["history"]["Ok"].clone()).unwrap_or_else(|e| panic!("{e}: {body}"));
    entries
        .into_iter()
        .map(|e| (e.user_name, e.project_name, e.change.key(), e.member_id, e.failure.is_none()))
        .collect()
}

#[tokio::test]
async fn every_change_is_in_the_audit_log_which_survives_a_restart_and_holds_no_token() {
    let lab = lab();
    let (consumer, other) = (lab.get("LAB_CONSUMER_PROJECT_ID"), lab.get("LAB_CONSUMER_B_PROJECT_ID"));
    let (producer_user, consumer_user) = (lab.get("LAB_PRODUCER_USER"), lab.get("LAB_CONSUMER_USER"));
    let (_glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("audit"), "private").await;
    let dir = std::env::temp_dir().join(format!("gs-audit-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.sqlite");
    let store = format!("sqlite://{}", file.display());
    let env = [("GLANCE_SHARE_AUDIT_LOG", store.as_str())];

    let server = Server::start(&env);
    // Signed in with a token the test knows, to look for it in the log file afterwards.
    let token = common::KeystoneDirect { lab }.producer_token().await;
    let producer = Browser::new(&server);
    assert_eq!(producer.sign_in_token(&token).await.0, 200);
    let consumer_browser = signed_in_as(&server, "consumer").await;

    let (code, body) = share(&producer, &image, &format!("{consumer} {other}"), true, true).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = share(&producer, &image, consumer, true, false).await;
    assert_eq!(code, 200, "{body}");
    assert!(body["Done"]["results"][0]["outcome"]["Err"]["Conflict"].is_object(), "a second share is a 409: {body}");
    let (code, body) =
        consumer_browser.call_json("member_status", &[("image_id", &image), ("status", "accepted")]).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = producer.call_json("revoke", &[("image_id", &image), ("member_id", other)]).await;
    assert_eq!(code, 200, "{body}");
    // Refused before Glance is asked: not a change, so not in the log.
    let (code, _) = producer.call_json("revoke", &[("image_id", &image), ("member_id", "a/b")]).await;
    assert_eq!(code, 400);

    let p = |change: &str, member: Option<&str>, ok: bool| {
        (producer_user.to_string(), "producer".to_string(), change.to_string(), member.map(str::to_string), ok)
    };
    let accepted = (
        consumer_user.to_string(),
        lab.get("LAB_CONSUMER_PROJECT").to_string(),
        "status:accepted".to_string(),
        Some(consumer.to_string()),
        true,
    );
    let everything = vec![
        p("revoke", Some(other), true),
        accepted.clone(),
        p("share", Some(consumer), false),
        p("share", Some(other), true),
        p("share", Some(consumer), true),
        p("visibility:shared", None, true),
    ];
    assert_eq!(history(&producer, &image).await, everything, "the owner sees every change, newest first");
    // A member project sees what concerns it, never the other members.
    let mine: Vec<_> = everything.iter().filter(|e| e.3.as_deref() == Some(consumer)).cloned().collect();
    assert_eq!(history(&consumer_browser, &image).await, mine);
    let page = producer.get(&format!("/images/{image}")).await.text().await.unwrap();
    assert!(page.contains("History") && page.contains("accepted for"), "the image page shows the history");

    // The log is a file: a restarted server still shows it; no token or password is in it.
    assert!(server.stop().success());
    let server = Server::start(&env);
    let producer = Browser::new(&server);
    assert_eq!(producer.sign_in_token(&token).await.0, 200);
    assert_eq!(history(&producer, &image).await, everything);
    drop(server);
    let mut bytes = std::fs::read(&file).unwrap();
    for extra in ["-wal", "-shm"] {
        bytes.extend(std::fs::read(dir.join(format!("audit.sqlite{extra}"))).unwrap_or_default());
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains(&image), "the scan reads the real log");
    for secret in [token.as_str(), lab.get("LAB_PRODUCER_PASSWORD"), lab.get("LAB_CONSUMER_PASSWORD")] {
        assert!(!text.contains(secret), "the audit log holds a token or password");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The texts of the links marked current in the page's `<nav aria-label="{nav}">`.
fn current_links(html: &str, nav: &str) -> Vec<String> {
    let start = html.find(&format!(r#"aria-label="{nav}""#)).unwrap_or_else(|| panic!("no {nav} nav in {html}"));
    let nav_html = &html[start..start + html[start..].find("</nav>").unwrap()];
    nav_html
        .split("<a ")
        .filter(|a| a.split('>').next().unwrap_or_default().contains(r#"aria-current="page""#))
        .map(|a| {
            let text = &a[a.find('>').unwrap() + 1..a.find("</a>").unwrap()];
            text.replace("<!>", "").trim().to_string()
        })
        .collect()
}

/// The dashboard's own Glance client against the lab, with one user's token.
struct Client {
    http: openstack::Upstream,
    token: openstack::Token,
    url: String,
}

impl Client {
    fn of(direct: &GlanceDirect) -> Client {
        Client {
            http: openstack::Upstream::new(reqwest::Client::new(), 4),
            token: openstack::Token::new(direct.token.clone()),
            url: direct.url.clone(),
        }
    }
    fn glance(&self) -> openstack::glance::Glance<'_> {
        openstack::glance::Glance::new(&self.http, &self.url, &self.token).unwrap()
    }
}

#[tokio::test]
async fn the_glance_client_filters_by_name_follows_pages_and_sorts() {
    use openstack::glance::{ImageQuery, SortBy};
    let lab = lab();
    let direct = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    // Community images of this test only, so other tests' images cannot shift the pages.
    let stem = unique("paged");
    let mut made = Vec::new();
    for suffix in ["b", "c", "a"] {
        made.push((format!("{stem}-{suffix}"), direct.create_image(&format!("{stem}-{suffix}"), "community").await));
        // Glance keeps creation times to the second: one apart, the newest-first order is sure.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: direct.url.clone(), token: direct.token.clone() },
        images: made.iter().map(|(_, id)| id.clone()).collect(),
    };
    let client = Client::of(&direct);
    let glance = client.glance();
    let producer_project = lab.get("LAB_PRODUCER_PROJECT_ID").to_string();
    let query = |limit: u32, marker, sort| ImageQuery {
        owner: Some(producer_project.clone()),
        visibility: Some("community"),
        limit: Some(limit),
        marker,
        sort: Some(sort),
        ..ImageQuery::default()
    };

    // Name: Glance's filter is an exact match.
    let named = glance.images(&ImageQuery { name: Some(format!("{stem}-c")), ..ImageQuery::default() }).await.unwrap();
    assert_eq!(named.images.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), vec![made[1].1.as_str()]);

    // Pages of two, following the marker of Glance's `next` link, until there is none.
    for sort in [SortBy::Name, SortBy::Newest] {
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut marker = None;
        for _ in 0..100 {
            let page = glance.images(&query(2, marker.clone(), sort)).await.unwrap();
            assert!(page.images.len() <= 2, "a page holds at most its limit");
            seen.extend(page.images.iter().map(|i| (i.id.clone(), i.name.clone().unwrap_or_default())));
            marker = page.next_marker;
            if marker.is_none() {
                break;
            }
        }
        let mine: Vec<&str> =
            seen.iter().filter(|(_, name)| name.starts_with(&stem)).map(|(_, name)| name.as_str()).collect();
        let expected = match sort {
            SortBy::Name => [format!("{stem}-a"), format!("{stem}-b"), format!("{stem}-c")],
            SortBy::Newest => [format!("{stem}-a"), format!("{stem}-c"), format!("{stem}-b")],
        };
        assert_eq!(mine, expected.iter().map(String::as_str).collect::<Vec<_>>(), "{sort:?}: each once, in order");
        let mut ids: Vec<&String> = seen.iter().map(|(id, _)| id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), seen.len(), "no image on two pages");
    }
}

#[tokio::test]
async fn one_member_is_read_with_its_schema() {
    let lab = lab();
    let consumer_id = lab.get("LAB_CONSUMER_PROJECT_ID");
    let (direct, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("one-member"), "shared").await;
    direct.add_member(&image, consumer_id).await;
    let client = Client::of(&direct);
    let glance = client.glance();
    let image_id = glance_share::model::ImageId::parse(&image).unwrap();
    let member = glance.member(&image_id, &glance_share::model::MemberId::parse(consumer_id).unwrap()).await.unwrap();
    assert_eq!((member.member_id.as_str(), member.image_id.as_str()), (consumer_id, image.as_str()));
    assert_eq!(member.status, glance_share::model::MemberStatus::Pending);
    assert_eq!(member.schema.as_deref(), Some("/v2/schemas/member"));
    assert!(member.created_at.is_some() && member.updated_at.is_some());
    let other = glance_share::model::MemberId::parse(lab.get("LAB_CONSUMER_B_PROJECT_ID")).unwrap();
    let missing = glance.member(&image_id, &other).await.unwrap_err();
    assert_eq!(missing.status(), Some(404), "{missing}");
}

#[tokio::test]
async fn the_all_tab_lists_what_the_project_can_use() {
    let lab = lab();
    let consumer_id = lab.get("LAB_CONSUMER_PROJECT_ID");
    let name = unique("all-tab");
    let direct = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let accepted = direct.create_image(&format!("{name}-accepted"), "shared").await;
    let pending = direct.create_image(&format!("{name}-pending"), "shared").await;
    let private = direct.create_image(&format!("{name}-private"), "private").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: direct.url.clone(), token: direct.token.clone() },
        images: vec![accepted.clone(), pending.clone(), private.clone()],
    };
    direct.add_member(&accepted, consumer_id).await;
    direct.add_member(&pending, consumer_id).await;
    let server = Server::start(&[]);
    let consumer = signed_in_as(&server, "consumer").await;
    let (code, body) = consumer.call_json("member_status", &[("image_id", &accepted), ("status", "accepted")]).await;
    assert_eq!(code, 200, "{body}");

    let (code, all) = consumer.call_json("images", &[("tab", "all"), ("q", &name)]).await;
    assert_eq!(code, 200, "{all}");
    let ids: Vec<&str> = all["rows"].as_array().unwrap().iter().map(|r| r["image"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![accepted.as_str()], "All holds what the project can use: the accepted offer only");
    assert_eq!(all["rows"][0]["owned"], false);
    let page = consumer.get(&format!("/images?tab=all&q={name}")).await.text().await.unwrap();
    assert!(page.contains(&format!("{name}-accepted")) && !page.contains(&format!("{name}-pending")));
    assert_eq!(current_links(&page, "Which images"), vec!["All"], "the All tab is the current one");
}

#[tokio::test]
async fn lists_sort_by_name_or_newest_and_page_through_glance() {
    let lab = lab();
    let direct = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let stem = unique("order");
    let first = direct.create_image(&format!("{stem}-b"), "private").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = direct.create_image(&format!("{stem}-a"), "private").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: direct.url.clone(), token: direct.token.clone() },
        images: vec![first.clone(), second.clone()],
    };
    let server = Server::start(&[("GLANCE_SHARE_PAGE_SIZE", "1")]);
    let producer = signed_in_as(&server, "producer").await;
    let order = |body: &Value| -> Vec<String> {
        body["rows"].as_array().unwrap().iter().map(|r| r["image"]["id"].as_str().unwrap().to_string()).collect()
    };
    // A search is shown a page at a time too (one image a page here): both pages, in order.
    let searched = |sort: &'static str| {
        let (producer, stem) = (&producer, &stem);
        async move {
            let (_, page1) = producer.call_json("images", &[("tab", "mine"), ("q", stem), ("sort", sort)]).await;
            let marker = page1["next_marker"].as_str().unwrap_or_else(|| panic!("no second page: {page1}")).to_string();
            let (_, page2) = producer
                .call_json("images", &[("tab", "mine"), ("q", stem), ("sort", sort), ("marker", &marker)])
                .await;
            assert!(page2["next_marker"].is_null(), "two images, two pages: {page2}");
            [order(&page1), order(&page2)].concat()
        }
    };
    assert_eq!(searched("name").await, vec![second.clone(), first.clone()], "by name: -a before -b");
    assert_eq!(searched("newest").await, vec![second.clone(), first.clone()], "newest first: -a was made last");

    // One image a page (GLANCE_SHARE_PAGE_SIZE=1): the next page starts after the first.
    let (_, page1) = producer.call_json("images", &[("tab", "mine"), ("sort", "newest")]).await;
    assert_eq!(page1["rows"].as_array().unwrap().len(), 1, "{page1}");
    assert!(page1["next_marker"].is_string(), "a next page: {page1}");
    // The next page after one of this test's images (other tests delete theirs meanwhile, and
    // Glance refuses a marker it no longer has): one image, another one.
    let marker = second.clone();
    let (_, page2) = producer.call_json("images", &[("tab", "mine"), ("sort", "newest"), ("marker", &marker)]).await;
    assert_eq!(page2["rows"].as_array().unwrap_or_else(|| panic!("{page2}")).len(), 1, "{page2}");
    assert_ne!(order(&page2), vec![marker.clone()], "the page starts after its marker");
    let html = producer.get(&format!("/images?tab=mine&sort=newest&marker={marker}")).await.text().await.unwrap();
    assert!(html.contains("First page") && html.contains("Next page"), "the page links back and on");
    assert_eq!(current_links(&html, "Order"), vec!["newest first"], "the order is shown as chosen");

    // A marker Glance does not know (its image was deleted since): said in words, not a 500.
    let gone = uuid::Uuid::new_v4().to_string();
    let (code, body) = producer.call_json("images", &[("tab", "mine"), ("marker", &gone)]).await;
    assert_eq!(code, 400, "{body}");
    assert!(user_message(&body).contains("Start again from the first page"), "{body}");
}

#[tokio::test]
async fn visibility_goes_between_shared_and_private_only_as_the_owner_asks() {
    let lab = lab();
    let consumer_id = lab.get("LAB_CONSUMER_PROJECT_ID");
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("visibility"), "shared").await;
    glance.add_member(&image, consumer_id).await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;

    let (code, body) = producer.call_json("set_visibility", &[("image_id", &image), ("visibility", "private")]).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(glance.image(&image).await.1["visibility"], "private");
    let page = producer.get(&format!("/images/{image}")).await.text().await.unwrap();
    assert!(page.contains("Members are hidden while the image is private"), "the page says where the members went");
    assert!(page.contains("Make it shared"), "and offers the way back");

    let (code, body) = producer.call_json("set_visibility", &[("image_id", &image), ("visibility", "shared")]).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(glance.image(&image).await.1["visibility"], "shared");
    assert_eq!(glance.members(&image).await.1, vec![(consumer_id.to_string(), "pending".to_string())], "back again");

    // Public is not the dashboard's to give, and a member project may not change it at all.
    let (code, body) = producer.call_json("set_visibility", &[("image_id", &image), ("visibility", "public")]).await;
    assert_eq!(code, 400, "{body}");
    assert!(user_message(&body).contains("shared or private only"), "{body}");
    let consumer = signed_in_as(&server, "consumer").await;
    let (code, body) = consumer.call_json("set_visibility", &[("image_id", &image), ("visibility", "private")]).await;
    assert_eq!(code, 403, "{body}");
    assert!(user_message(&body).starts_with("Not allowed:"), "{body}");
    assert_eq!(glance.image(&image).await.1["visibility"], "shared", "nothing changed");
}

#[tokio::test]
async fn public_and_community_images_say_that_members_are_not_needed() {
    let (_, public, _public_cleanup) = new_image("admin", "LAB_GLANCE_URL", &unique("public"), "public").await;
    let (_, community, _community_cleanup) =
        new_image("producer", "LAB_GLANCE_URL", &unique("community"), "community").await;
    let server = Server::start(&[]);
    for (who, image, note) in [
        ("admin", &public, "Every project in the cloud can use this image; members are not needed."),
        ("producer", &community, "Every project can use this image by its ID, but it is not listed for them"),
    ] {
        let owner = signed_in_as(&server, who).await;
        let page = owner.get(&format!("/images/{image}")).await.text().await.unwrap();
        assert!(page.contains(note), "{who}'s image explains its visibility");
        assert!(page.contains("they have no members"), "instead of a share form");
        assert!(!page.contains("Share with projects"), "no share form");
    }
}

#[tokio::test]
async fn shared_with_me_pages_through_each_answer_in_turn() {
    let lab = lab();
    let project_b = lab.get("LAB_CONSUMER_B_PROJECT_ID");
    let direct = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let stem = unique("offer-pages");
    let mut made = Vec::new();
    for suffix in ["c", "a", "b"] {
        let id = direct.create_image(&format!("{stem}-{suffix}"), "shared").await;
        direct.add_member(&id, project_b).await;
        made.push(id);
    }
    let _cleanup =
        Cleanup { glance: GlanceDirect { url: direct.url.clone(), token: direct.token.clone() }, images: made.clone() };
    let server = Server::start(&[("GLANCE_SHARE_PAGE_SIZE", "1")]);
    let consumer = signed_in_as(&server, "consumer").await;
    assert_eq!(consumer.call("switch_project", &[("project_id", project_b)]).await.status(), 200);
    for id in &made {
        let (code, body) = consumer.call_json("member_status", &[("image_id", id), ("status", "rejected")]).await;
        assert_eq!(code, 200, "{body}");
    }

    // Rejected offers, one a page, following each page's marker: ours once each, by name.
    let mut walked: Vec<String> = Vec::new();
    let mut last_id = String::new();
    let mut marker: Option<String> = None;
    for _ in 0..200 {
        let mut form = vec![("tab", "shared"), ("status", "rejected")];
        if let Some(m) = &marker {
            form.push(("marker", m));
        }
        let (code, page) = consumer.call_json("images", &form).await;
        assert_eq!(code, 200, "{page}");
        let rows = page["rows"].as_array().unwrap();
        assert!(rows.len() <= 1, "{page}");
        walked.extend(rows.iter().map(|r| r["image"]["name"].as_str().unwrap_or_default().to_string()));
        if let Some(row) = rows.last() {
            last_id = row["image"]["id"].as_str().unwrap().to_string();
        }
        assert!(rows.iter().all(|r| r["my_status"] == "rejected"), "{page}");
        marker = page["next_marker"].as_str().map(str::to_string);
        if marker.is_none() {
            break;
        }
        assert!(marker.as_deref().unwrap().starts_with("rejected:"), "the marker names the answer: {marker:?}");
    }
    let ours: Vec<&String> = walked.iter().filter(|n| n.starts_with(&stem)).collect();
    assert_eq!(ours, [format!("{stem}-a"), format!("{stem}-b"), format!("{stem}-c")].iter().collect::<Vec<_>>());
    let mut unique_names = walked.clone();
    unique_names.sort();
    unique_names.dedup();
    assert_eq!(unique_names.len(), walked.len(), "no offer on two pages");

    // All answers page one answer after the other: a page that starts at "rejected" holds
    // rejected offers only, and the HTML links to the next page keeping the filter.
    let (_, page) = consumer.call_json("images", &[("tab", "shared"), ("marker", "rejected")]).await;
    assert_eq!(page["rows"][0]["my_status"], "rejected", "{page}");
    let html = consumer.get("/images?tab=shared&status=rejected").await.text().await.unwrap();
    assert!(
        html.contains("/images?tab=shared&amp;status=rejected&amp;marker=rejected%3A"),
        "next page keeps the filter"
    );
    let (code, body) = consumer.call_json("images", &[("tab", "shared"), ("marker", "maybe:x")]).await;
    assert_eq!(code, 400, "a made-up marker is refused in words: {body}");

    // A page after the last offer is the end of the list, not "nothing offered".
    let html = consumer
        .get(&format!("/images?tab=shared&status=rejected&marker=rejected%3A{last_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("No more images.") && html.contains("First page"), "the end of the list links back");
    assert!(!html.contains("No image is offered to this project"), "and does not say nothing is offered");
}

/// Issue 12 item 14: History had no paging (30+ rows on one page). It is newest first, a page at
/// a time, with a link to the older page and back to the newest.
#[tokio::test]
async fn history_is_paged_newest_first() {
    let (_glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("history-pages"), "shared").await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    let members: Vec<String> = (0..13).map(|n| format!("{:032x}", 0x415700 + n)).collect();
    let (code, body) = share(&producer, &image, &members.join(" "), true, false).await;
    assert_eq!(code, 200, "{body}");
    for member in &members {
        let (code, body) = producer.call_json("revoke", &[("image_id", &image), ("member_id", member)]).await;
        assert_eq!(code, 200, "{body}");
    }

    let page = |before: Option<String>| {
        let producer = &producer;
        let image = image.clone();
        async move {
            let mut form = vec![("image_id", image.clone())];
            form.extend(before.map(|b| ("history_before", b)));
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (code, body) = producer.call_json("image", &form).await;
            assert_eq!(code, 200, "{body}");
            body
        }
    };
    let first = page(None).await;
    let newest: Vec<&Value> = first["history"]["Ok"].as_array().unwrap().iter().collect();
    assert_eq!(newest.len(), 20, "one page of 20: {first}");
    let changes: Vec<&str> = newest.iter().map(|e| e["change"].as_str().unwrap_or("?")).collect();
    assert_eq!(changes, [vec!["Revoke"; 13], vec!["Share"; 7]].concat(), "the 13 revokes came last");
    let ids: Vec<i64> = newest.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert_eq!(first["history_paged"], false);
    let older = first["older_history"].as_i64().expect("an older page");
    assert_eq!(older, *ids.last().unwrap());

    let second = page(Some(older.to_string())).await;
    let rest: Vec<i64> =
        second["history"]["Ok"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(rest.len(), 6, "26 changes in all: {second}");
    assert!(rest.iter().all(|id| *id < older), "only older ones: {rest:?}");
    assert_eq!(second["older_history"], Value::Null, "the last page");
    assert_eq!(second["history_paged"], true);

    // The page links one to the other, and a made-up page is refused in words.
    let html = producer.get(&format!("/images/{image}")).await.text().await.unwrap();
    assert!(html.contains(&format!("/images/{image}?history_before={older}#history-title")), "Older changes link");
    let html = producer.get(&format!("/images/{image}?history_before={older}")).await.text().await.unwrap();
    assert!(html.contains("Newest changes") && !html.contains("Older changes"), "the last page links back only");
    let (code, body) = producer.call_json("image", &[("image_id", &image), ("history_before", "-1; DROP")]).await;
    assert_eq!(code, 400, "{body}");
}

#[tokio::test]
async fn a_name_keystone_does_not_confirm_is_never_shared_with() {
    // The producer may not look projects up: `consumer` (a name) stays unchecked. It used to be
    // shared with after a confirmation, while the page said names never are.
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("name"), "shared").await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    let refusal = "project names are never shared with: give its ID";

    let (status, checked) = producer.call_json("check_projects", &[("members", "consumer")]).await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked[0][1]["Unchecked"]["looks_like_id"], false, "{checked}");
    for confirmed in [false, true] {
        let (status, body) = share(&producer, &image, "consumer", confirmed, false).await;
        assert_eq!(status, 200, "{body}");
        if confirmed {
            let result = &body["Done"]["results"][0];
            assert!(user_message(&result["outcome"]["Err"]).contains(refusal), "{body}");
        } else {
            assert!(body["NeedsConfirmation"].is_object(), "{body}");
        }
        assert_eq!(glance.members(&image).await.1, vec![], "confirmed={confirmed}: nothing shared with a name");
    }
    // Without JavaScript the question is a page: it says so, and offers no way to share with it.
    let id = report_id(&producer, &image, "consumer").await;
    let page = producer.get(&format!("/images/{image}?report={id}")).await.text().await.unwrap();
    assert!(page.contains(refusal), "{page}");
    assert!(!page.contains("Share with the"), "no button to share with a name: {page}");

    // A well-shaped ID Keystone cannot check is shared with only once confirmed.
    let unknown = uuid::Uuid::new_v4().simple().to_string();
    let (_, body) = share(&producer, &image, &unknown, false, false).await;
    assert!(body["NeedsConfirmation"]["checks"][0][1]["Unchecked"]["looks_like_id"].as_bool().unwrap(), "{body}");
    assert_eq!(glance.members(&image).await.1, vec![], "nothing before the confirmation");
    let (_, body) = share(&producer, &image, &format!("{unknown} consumer"), true, false).await;
    assert_eq!(body["Done"]["results"][0]["outcome"]["Ok"], "pending", "{body}");
    assert!(body["Done"]["results"][1]["outcome"]["Err"].is_object(), "{body}");
    assert_eq!(glance.members(&image).await.1, vec![(unknown, "pending".to_string())]);
}

/// The id of the report a share without JavaScript leads to (the question it asks).
async fn report_id(browser: &Browser, image: &str, members: &str) -> String {
    let page = format!("/images/{image}");
    let res = browser.post_form("share", &[("image_id", image), ("members", members)], &page).await;
    let location = res.headers()["location"].to_str().unwrap().to_string();
    location.split("report=").nth(1).unwrap_or_else(|| panic!("{location}")).to_string()
}

#[tokio::test]
async fn a_member_id_that_is_not_plain_ascii_is_refused_before_anything_is_sent() {
    // Glance decodes a member in a URL path as latin-1: such a member was added, and could
    // never be revoked again.
    let (glance, image, _cleanup) = new_image("producer", "LAB_GLANCE_URL", &unique("ascii"), "shared").await;
    let server = Server::start(&[]);
    let producer = signed_in_as(&server, "producer").await;
    let odd = "ñandú-проект-项目";
    for confirmed in [false, true] {
        let (status, body) = share(&producer, &image, odd, confirmed, false).await;
        assert_eq!(status, 400, "{body}");
        assert!(user_message(&body).contains("is not a project ID"), "{body}");
    }
    assert_eq!(glance.members(&image).await.1, vec![], "Glance holds no such member");
    let (status, checked) = producer.call_json("check_projects", &[("members", odd)]).await;
    assert_eq!(status, 200, "{checked}");
    assert!(checked[0][1]["Invalid"]["MemberIdNotAscii"].is_array(), "{checked}");
    for (name, form) in [
        ("revoke", vec![("image_id", image.as_str()), ("member_id", odd)]),
        (
            "member_status",
            vec![("image_id", image.as_str()), ("status", "accepted"), ("member_id", odd), ("admin_override", "yes")],
        ),
    ] {
        let (status, body) = producer.call_json(name, &form).await;
        assert_eq!(status, 400, "{name}: {body}");
    }
}
