//! Two glance-share processes behind one (imagined) load balancer, sharing sessions in a real
//! Redis: sign in on one, act on the other, sign out anywhere; a restart keeps users signed in.

mod common;

use common::{Browser, Cleanup, GlanceDirect, Redis, Server, lab, signed_in_as};

#[tokio::test]
async fn two_instances_share_sessions_through_redis() {
    let lab = lab();
    let redis = Redis::start();
    let env = [("GLANCE_SHARE_SESSION_STORE", redis.url.as_str())];
    let (a, b) = (Server::start(&env), Server::start(&env));

    let on_a = signed_in_as(&a, "producer").await;
    let on_b = on_a.on(&b);
    assert_eq!(on_b.whoami().await["user_name"], lab.get("LAB_PRODUCER_USER"), "B knows the session A made");

    // Act on B: share an image; Glance holds the member.
    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-test-two-instances", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let consumer = lab.get("LAB_CONSUMER_PROJECT_ID");
    let (code, body) =
        on_b.call_json("share", &[("image_id", &image), ("members", consumer), ("confirmed", "yes")]).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(glance.members(&image).await.1, vec![(consumer.to_string(), "pending".to_string())]);

    // A restart of A (a deploy) keeps the user signed in: the session is in Redis.
    assert!(a.stop().success());
    let a = Server::start(&env);
    let on_a = on_b.on(&a);
    assert_eq!(on_a.whoami().await["user_name"], lab.get("LAB_PRODUCER_USER"), "signed in after a restart");

    // Signing out on A ends the session on B too.
    assert_eq!(on_a.call("sign_out", &[]).await.status().as_u16(), 200);
    let b_again = Browser::new(&b);
    *b_again.cookie.lock().unwrap() = on_b.cookie();
    assert_eq!(b_again.whoami().await, serde_json::Value::Null, "signed out everywhere");
}
