//! Glance stopped: a clear "unavailable" message, nothing changed, and recovery when it is back.
//! Its own test binary: cargo runs test binaries one at a time, so stopping the lab's Glance
//! here cannot disturb the other tests.

mod common;

use common::{Browser, Cleanup, GlanceDirect, Server, lab, project_root, user_message};

fn lab_sh(arg: &str) {
    let status = std::process::Command::new(project_root().join("lab/lab.sh")).arg(arg).status().unwrap();
    assert!(status.success(), "lab.sh {arg} failed");
}

/// Starts Glance again even when an assertion fails half-way.
struct RestartGlance;

impl Drop for RestartGlance {
    fn drop(&mut self) {
        lab_sh("start-glance");
    }
}

#[tokio::test]
async fn glance_down_is_said_clearly_and_the_page_recovers() {
    let lab = lab();
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-test-down", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let server = Server::start(&[("GLANCE_SHARE_UPSTREAM_TIMEOUT_MS", "3000")]);
    let browser = Browser::new(&server);
    let (user, password, project) =
        (lab.get("LAB_PRODUCER_USER"), lab.get("LAB_PRODUCER_PASSWORD"), lab.get("LAB_PRODUCER_PROJECT"));
    assert_eq!(browser.sign_in_password(user, password, project).await.0, 200);

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
