//! Two glance-share processes behind one (imagined) load balancer, sharing sessions in a real
//! Redis: sign in on one, act on the other, sign out anywhere; a restart keeps users signed in.
//! Batches are jobs in that Redis: one whose instance is killed is finished by the other.

mod common;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use common::{Browser, Cleanup, GlanceDirect, Postgres, Redis, Server, lab, outcome_kinds, signed_in_as};

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

/// A 10 x 10 batch started on A; A is killed (SIGKILL) midway; B finishes it. Every pair ends
/// with one outcome, Glance holds exactly the planned members, the shared audit log has one
/// entry per pair, and the batch's page shows it from either instance.
#[tokio::test]
async fn a_batch_whose_instance_dies_is_finished_by_another() {
    let lab = lab();
    let (redis, postgres) = (Redis::start(), Postgres::start());
    // Both instances are given the same key file, as docs/deployment.md says.
    let key = std::env::temp_dir().join(format!("gs-test-key-{}", uuid::Uuid::new_v4().simple()));
    let key = key.to_str().unwrap();
    let env = [
        ("GLANCE_SHARE_SESSION_STORE", redis.url.as_str()),
        ("GLANCE_SHARE_AUDIT_LOG", postgres.url.as_str()),
        ("GLANCE_SHARE_SECRET_KEY_FILE", key),
    ];
    // A runs one pair at a time, so that it dies with most of the batch still to do.
    let slow: Vec<(&str, &str)> = env.iter().copied().chain([("GLANCE_SHARE_BATCH_CONCURRENCY", "1")]).collect();
    let a = Server::start(&slow);
    let b = Server::start(&env);

    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let mut images = Vec::new();
    for i in 0..10 {
        images.push(glance.create_image(&format!("gs-test-instances-kill-{i}"), "shared").await);
    }
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: images.clone(),
    };
    let projects: Vec<String> = (0..10).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();

    let on_a = signed_in_as(&a, "producer").await;
    let on_b = on_a.on(&b);
    let form = [("images", images.join(",")), ("members", projects.join("\n")), ("operation", "share".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, batch_id) = on_a.call_json("batch_start", &form).await;
    assert_eq!(status, 200, "{batch_id}");
    let batch_id = batch_id.as_str().unwrap().to_string();

    // Midway: some pairs settled, most not. The batch starts at once (an instance takes a new
    // batch as it is queued, not only when it sweeps for abandoned ones).
    let settled = |view: &serde_json::Value| {
        view["pairs"].as_array().map_or(0, |p| p.iter().filter(|p| !p["outcome"].is_null()).count())
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(30);
    let mut first_pair = None;
    loop {
        let (status, view) = on_b.call_json("batch_status", &[("batch_id", &batch_id)]).await;
        assert_eq!(status, 200, "B shows the batch A runs: {view}");
        let n = settled(&view);
        if n > 0 && first_pair.is_none() {
            first_pair = Some(started.elapsed());
        }
        if n >= 10 {
            assert!(n < 90, "the batch was nearly done before A was killed ({n} of 100)");
            break;
        }
        assert!(Instant::now() < deadline, "A settled fewer than 10 pairs in 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first_pair = first_pair.unwrap_or_default();
    assert!(
        first_pair < Duration::from_secs(5),
        "the first pair settled {first_pair:?} after the start; A's log: {}\nB's log: {}",
        a.log_text(),
        b.log_text()
    );
    assert!(!a.stop_with("KILL").success(), "A was killed");
    let killed = Instant::now();

    // B takes the batch over once A has been silent long enough, and finishes it.
    let view = common::wait_finished(&on_b, &batch_id, 60).await;
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(30), "B finished the batch {took:?} after A died");
    let kinds = outcome_kinds(&view);
    assert_eq!(kinds.len(), 100, "every pair is reported once");
    let tally = kinds.values().fold(BTreeMap::<&str, usize>::new(), |mut t, k| {
        *t.entry(k.as_str()).or_default() += 1;
        t
    });
    assert_eq!(tally, BTreeMap::from([("Done", 100)]), "every pair went through exactly once");

    // Glance holds exactly the planned members: no pair lost, none added twice.
    let mut want: Vec<(String, String)> = projects.iter().map(|p| (p.clone(), "pending".to_string())).collect();
    want.sort();
    for image in &images {
        let (status, mut members) = glance.members(image).await;
        assert_eq!(status, 200);
        members.sort();
        assert_eq!(members, want, "members of {image}");
    }

    // One audit entry per pair, in the log both instances write.
    let rows =
        postgres.psql("SELECT image_id || ' ' || member_id, count(*) FROM audit WHERE change = 'share' GROUP BY 1");
    let entries: BTreeMap<String, u32> = rows
        .lines()
        .map(|l| {
            let (pair, n) = l.split_once('|').unwrap();
            (pair.to_string(), n.parse().unwrap())
        })
        .collect();
    let want: BTreeMap<String, u32> =
        images.iter().flat_map(|i| projects.iter().map(move |p| (format!("{i} {p}"), 1))).collect();
    assert_eq!(entries, want, "one audit entry per pair");

    // The result from either instance: A again (restarted), and B.
    let a = Server::start(&env);
    let (status, on_a_again) = on_b.on(&a).call_json("batch_status", &[("batch_id", &batch_id)]).await;
    if status != 200 {
        let again = on_b.call_json("batch_status", &[("batch_id", &batch_id)]).await.0;
        let who = on_b.on(&a).whoami().await;
        panic!("A answered {status}; B now answers {again}; A says the user is {who}; A's log: {}", a.log_text());
    }
    assert_eq!(outcome_kinds(&on_a_again), kinds, "A shows what B shows");
    let (status, recent) = on_b.on(&a).call_json("batch_recent", &[]).await;
    assert_eq!(status, 200, "{recent}");
    assert_eq!(recent[0]["id"], batch_id.as_str(), "listed among the user's batches: {recent}");
    let _ = std::fs::remove_file(key);
}
