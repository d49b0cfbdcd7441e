//! Glance stopped: a clear "unavailable" message, nothing changed, and recovery when it is back.
//! Its own test binary: cargo runs test binaries one at a time, so stopping the lab's Glance
//! here cannot disturb the other tests.

mod common;

use common::{Cleanup, GlanceDirect, Server, lab, project_root, signed_in_as, user_message};

fn lab_sh(arg: &str) {
    let status = std::process::Command::new(project_root().join("lab/lab.sh")).arg(arg).status().unwrap();
    assert!(status.success(), "lab.sh {arg} failed");
}

/// The tests of this file stop and start the same Glance: one at a time.
static GLANCE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts Glance again even when an assertion fails half-way.
struct RestartGlance;

impl Drop for RestartGlance {
    fn drop(&mut self) {
        lab_sh("start-glance");
    }
}

#[tokio::test]
async fn glance_down_is_said_clearly_and_the_page_recovers() {
    let _one_at_a_time = GLANCE.lock().await;
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-test-down", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let server = Server::start(&[("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", "3000")]);
    let browser = signed_in_as(&server, "producer").await;
    let user = lab.get("LAB_PRODUCER_USER");

    let restart = RestartGlance;
    lab_sh("stop-glance");
    let (code, body) =
        browser.call_json("share", &[("image_id", &image), ("members", consumer), ("confirmed", "yes")]).await;
    assert_eq!(code, 503, "{body}");
    let message = user_message(&body);
    assert!(message.starts_with("Glance is unavailable right now, so nothing was changed"), "{message}");
    let page = browser.get(&format!("/images/{image}")).await;
    assert_eq!(page.status(), 200, "the page still renders");
    assert!(page.text().await.unwrap().contains("Glance is unavailable right now"));
    let (code, _) = browser.call_json("images", &[("tab", "mine")]).await;
    assert_eq!(code, 503);
    assert_eq!(
        browser.whoami().await["user_name"],
        user,
        "still signed in: Glance being down is not a sign-in problem"
    );

    drop(restart);
    let page = browser.get(&format!("/images/{image}")).await.text().await.unwrap();
    assert!(page.contains("gs-test-down") && !page.contains("unavailable"), "the page recovers when Glance is back");
    assert_eq!(glance.members(&image).await.1, vec![], "nothing was shared while Glance was down");
}

#[tokio::test]
async fn retry_failed_runs_only_the_pairs_that_failed_while_glance_was_down() {
    let _one_at_a_time = GLANCE.lock().await;
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let mut images = Vec::new();
    for n in 0..3 {
        images.push(glance.create_image(&format!("gs-test-retry-{n}"), "shared").await);
    }
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: images.clone(),
    };
    let members: Vec<String> = (0..40).map(|n| format!("{:032x}", 0x7e7000 + n)).collect();
    let server = Server::start(&[("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", "3000")]);
    let browser = signed_in_as(&server, "producer").await;

    let all_images = images.join(",");
    let all_members = members.join(" ");
    let form = [("images", all_images.as_str()), ("members", all_members.as_str()), ("operation", "share")];
    let (status, first) = browser.call_json("batch_start", &form).await;
    assert_eq!(status, 200, "{first}");
    let first = first.as_str().unwrap().to_string();
    let restart = RestartGlance;
    lab_sh("stop-glance");
    let view = common::wait_finished(&browser, &first, 60).await;
    drop(restart);

    let failed: Vec<(String, String)> = pairs_with(&view, "Failed");
    let done = pairs_with(&view, "Done").len();
    assert!(!failed.is_empty(), "Glance stopped while the batch ran, so some pairs failed");
    assert_eq!(failed.len() + done, 120, "every pair ended either done or failed: {view}");
    let message = &view["pairs"].as_array().unwrap().iter().find(|p| p["outcome"]["Failed"].is_string()).unwrap()["outcome"]
        ["Failed"];
    // Refused once Glance is down; a call it was still working on when stopped may get no
    // answer in time instead (and is then not said to have changed nothing).
    let message = message.as_str().unwrap();
    assert!(
        message.contains("Glance is unavailable") || message.starts_with("Glance did not answer in time"),
        "{message}"
    );

    let (status, second) = browser.call_json("batch_retry", &[("batch_id", &first)]).await;
    assert_eq!(status, 200, "{second}");
    let second = common::wait_finished(&browser, second.as_str().unwrap(), 60).await;
    let mut retried: Vec<(String, String)> = second["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["image_id"].as_str().unwrap().to_string(), p["member_id"].as_str().unwrap().to_string()))
        .collect();
    retried.sort();
    let mut failed_sorted = failed.clone();
    failed_sorted.sort();
    assert_eq!(retried, failed_sorted, "the retry ran exactly the failed pairs");
    assert!(
        second["pairs"].as_array().unwrap().iter().all(|p| p["outcome"] == "Done" || p["outcome"] == "AlreadyMember"),
        "{second}"
    );
    for image in &images {
        let mut have: Vec<String> = glance.members(image).await.1.into_iter().map(|(m, _)| m).collect();
        have.sort();
        assert_eq!(have, members, "each image ends with every member exactly once");
    }
}

fn pairs_with(view: &serde_json::Value, outcome: &str) -> Vec<(String, String)> {
    view["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["outcome"] == outcome || p["outcome"].get(outcome).is_some())
        .map(|p| (p["image_id"].as_str().unwrap().to_string(), p["member_id"].as_str().unwrap().to_string()))
        .collect()
}

/// Issue 12 item 10: a batch started while Glance is down used to end "skipped: image not
/// available" for every pair, with no retry. An upstream failure is a failure: every pair fails,
/// retryably, and the retry completes the batch once Glance is back.
#[tokio::test]
async fn a_batch_started_while_glance_is_down_fails_retryably_and_the_retry_completes_it() {
    let _one_at_a_time = GLANCE.lock().await;
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let images = vec![glance.create_image("gs-test-down-batch", "shared").await];
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: images.clone(),
    };
    let members: Vec<String> = (0..3).map(|n| format!("{:032x}", 0xd0a000 + n)).collect();
    let server = Server::start(&[("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", "3000")]);
    let browser = signed_in_as(&server, "producer").await;

    let restart = RestartGlance;
    lab_sh("stop-glance");
    let all_members = members.join(" ");
    let form = [("images", images[0].as_str()), ("members", all_members.as_str()), ("operation", "share")];
    let (status, first) = browser.call_json("batch_start", &form).await;
    assert_eq!(status, 200, "{first}");
    let first = first.as_str().unwrap().to_string();
    let view = common::wait_finished(&browser, &first, 30).await;
    assert_eq!(pairs_with(&view, "Failed").len(), 3, "every pair failed, none was skipped: {view}");
    let page = browser.get(&format!("/batch/{first}")).await.text().await.unwrap();
    assert!(page.contains("Retry the 3 failed pairs"), "the page offers the retry");
    drop(restart);

    let (status, second) = browser.call_json("batch_retry", &[("batch_id", &first)]).await;
    assert_eq!(status, 200, "{second}");
    let second = common::wait_finished(&browser, second.as_str().unwrap(), 30).await;
    assert_eq!(pairs_with(&second, "Done").len(), 3, "{second}");
    let mut have: Vec<String> = glance.members(&images[0]).await.1.into_iter().map(|(m, _)| m).collect();
    have.sort();
    assert_eq!(have, members);
}

/// Issue 16: Glance stopped in the middle of a rollover. Every pair and every image change
/// ends with one outcome; no old membership is revoked before its project was offered the new
/// version, no image change is made while a pair is unsettled, and the retry completes it.
#[tokio::test]
async fn a_rollover_cut_off_midway_leaves_every_pair_with_its_outcome_and_the_retry_completes_it() {
    let _one_at_a_time = GLANCE.lock().await;
    let lab = lab();
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let old = glance.create_image("gs-test-roll-down-1", "shared").await;
    let new = glance.create_image("gs-test-roll-down-2", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![old.clone(), new.clone()],
    };
    let mut members: Vec<String> = (0..60).map(|n| format!("{:032x}", 0x7011d0 + n)).collect();
    members.sort();
    for m in &members {
        glance.add_member(&old, m).await;
    }
    let server = Server::start(&[("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", "3000")]);
    let browser = signed_in_as(&server, "producer").await;
    let form = [
        ("form[image_id]", old.as_str()),
        ("form[to]", new.as_str()),
        ("form[annotate]", "on"),
        ("form[revoke_old]", "on"),
    ];
    let (status, first) = browser.call_json("rollover_start", &form).await;
    assert_eq!(status, 200, "{first}");
    let first = first.as_str().unwrap().to_string();
    let restart = RestartGlance;
    lab_sh("stop-glance");
    let view = common::wait_finished(&browser, &first, 90).await;
    drop(restart);

    let pairs = view["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 120, "a share and a revoke for each member: {view}");
    assert!(pairs.iter().all(|p| !p["outcome"].is_null()), "every pair has its outcome");
    let settled = |p: &serde_json::Value| p["outcome"] == "Done" || p["outcome"] == "AlreadyMember";
    let failed = pairs.iter().filter(|p| p["outcome"]["Failed"].is_string()).count();
    assert!(failed > 0, "Glance stopped while the rollover ran, so some pairs failed");
    assert_eq!(failed + pairs.iter().filter(|p| settled(p)).count(), 120, "done or failed, nothing else: {view}");
    for revoke in pairs.iter().filter(|p| p["image_id"] == old.as_str() && settled(p)) {
        let share =
            pairs.iter().find(|p| p["image_id"] == new.as_str() && p["member_id"] == revoke["member_id"]).unwrap();
        assert!(settled(share), "revoked from the old version only after the new one was offered: {revoke} {share}");
    }
    let steps = view["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert!(steps.iter().all(|s| s["outcome"]["Failed"].is_string()), "no image change while pairs failed: {view}");

    let (status, second) = browser.call_json("batch_retry", &[("batch_id", &first)]).await;
    assert_eq!(status, 200, "{second}");
    let second = common::wait_finished(&browser, second.as_str().unwrap(), 60).await;
    assert_eq!(second["pairs"].as_array().unwrap().len(), failed, "the retry runs exactly the failed pairs");
    assert!(second["pairs"].as_array().unwrap().iter().all(settled), "{second}");
    assert!(second["steps"].as_array().unwrap().iter().all(|s| s["outcome"] == "Done"), "{second}");

    let have: Vec<String> = glance.members(&new).await.1.into_iter().map(|(m, _)| m).collect();
    assert_eq!(have, members, "the new version has every member exactly once");
    assert_eq!(glance.members(&old).await.1, vec![], "the old version's members are revoked");
    let (_, old_image) = glance.image(&old).await;
    assert_eq!(old_image["superseded_by"], new.as_str());
    assert_eq!(glance.image(&new).await.1["supersedes"], old.as_str());
}
