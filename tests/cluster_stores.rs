//! Several instances, one set of stores (issue 18 item 3): the audit log in a real PostgreSQL
//! and the sign-in limits in a real Redis, both from Debian's packages on 127.0.0.1, shared by
//! two glance-share processes against the real lab.

mod common;

use std::{
    net::IpAddr,
    num::NonZeroU32,
    process::Command,
    time::{Duration, Instant},
};

use common::{Browser, Cleanup, GlanceDirect, Postgres, Redis, Server, lab, signed_in_as};
use glance_share::{
    audit::{Actor, AuditLog, AuditStoreKind, PostgresUrl, Viewer},
    error::AppError,
    model::{AuditEntry, Change, ImageId, Via},
    throttle::SignInThrottle,
};

/// Both stores shared, as several instances behind a load balancer run.
fn cluster_env<'a>(redis: &'a Redis, pg: &'a Postgres) -> Vec<(&'static str, &'a str)> {
    vec![("GLANCE_SHARE_SESSION_STORE", redis.url.as_str()), ("GLANCE_SHARE_AUDIT_LOG", pg.url.as_str())]
}

/// `(change key, member)` of the image's History as `browser` reads it (newest first), or
/// the error History shows.
async fn history(browser: &Browser, image: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let (code, body) = browser.call_json("image", &[("image_id", image)]).await;
    assert_eq!(code, 200, "the image page works whatever the audit log does: {body}");
    match body["history"].get("Ok") {
        Some(entries) => {
            let entries: Vec<AuditEntry> = serde_json::from_value(entries.clone()).unwrap();
            Ok(entries.into_iter().map(|e| (e.change.key(), e.member_id)).collect())
        }
        None => Err(common::user_message(&body["history"]["Err"])),
    }
}

#[tokio::test]
async fn changes_made_on_either_instance_are_in_one_audit_log() {
    let lab = lab();
    let (redis, mut pg) = (Redis::start(), Postgres::start());
    let env = cluster_env(&redis, &pg);
    let (a, b) = (Server::start(&env), Server::start(&env));
    let on_a = signed_in_as(&a, "producer").await;
    let on_b = on_a.on(&b);

    let glance = GlanceDirect::as_user(lab, "producer", "LAB_GLANCE_URL").await;
    let image = glance.create_image("gs-test-cluster-audit", "shared").await;
    let _cleanup = Cleanup {
        glance: GlanceDirect { url: glance.url.clone(), token: glance.token.clone() },
        images: vec![image.clone()],
    };
    let (consumer, other) = (lab.get("LAB_CONSUMER_PROJECT_ID"), lab.get("LAB_CONSUMER_B_PROJECT_ID"));

    // Shared on A, revoked on B.
    let (code, body) =
        on_a.call_json("share", &[("image_id", &image), ("members", consumer), ("confirmed", "yes")]).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = on_b.call_json("revoke", &[("image_id", &image), ("member_id", consumer)]).await;
    assert_eq!(code, 200, "{body}");

    let both =
        vec![("revoke".to_string(), Some(consumer.to_string())), ("share".to_string(), Some(consumer.to_string()))];
    assert_eq!(history(&on_a, &image).await.unwrap(), both, "A shows B's revoke, once");
    assert_eq!(history(&on_b, &image).await.unwrap(), both, "B shows A's share, once");
    // Straight from the table both instances write.
    let rows = pg.psql(&format!("SELECT change, member_id, via FROM audit WHERE image_id = '{image}' ORDER BY id"));
    assert_eq!(rows, format!("share|{consumer}|image page\nrevoke|{consumer}|image page\n"));

    // PostgreSQL goes away: History says so, in words, and a change still goes through.
    pg.stop();
    let down = history(&on_a, &image).await.unwrap_err();
    assert!(
        down.contains("The audit log is unavailable") && down.contains("Changes to sharing are still made"),
        "{down}"
    );
    let (code, body) = on_b.call_json("share", &[("image_id", &image), ("members", other), ("confirmed", "yes")]).await;
    assert_eq!(code, 200, "a share is made without the log: {body}");
    assert_eq!(glance.members(&image).await.1, vec![(other.to_string(), "pending".to_string())]);
    let logged = b.wait_for_log(|l| l.contains("could not write the audit log")).await;
    assert!(logged.is_some_and(|l| l.contains("ERROR")), "the lost entry is logged as an error");

    // Back again: every instance reads it without a restart (the lost entry stays lost).
    pg.run();
    assert_eq!(history(&on_b, &image).await.unwrap(), both);
    for server in [&a, &b] {
        let log = server.log_text();
        assert!(!log.contains(&pg.password), "the database's password is never logged");
    }
}

#[tokio::test]
async fn sign_in_limits_hold_for_the_cluster() {
    let lab = lab();
    let (user, password, project) =
        (lab.get("LAB_PRODUCER_B_USER"), lab.get("LAB_PRODUCER_B_PASSWORD"), lab.get("LAB_PRODUCER_B_PROJECT"));
    let (redis, pg) = (Redis::start(), Postgres::start());
    let mut env = cluster_env(&redis, &pg);
    env.extend([("GLANCE_SHARE_SIGN_INS_PER_USER_MINUTE", "4"), ("GLANCE_SHARE_SIGN_INS_PER_CLIENT_MINUTE", "100")]);
    let (a, b) = (Server::start(&env), Server::start(&env));
    let (on_a, on_b) = (Browser::new(&a), Browser::new(&b));

    // Two wrong passwords on A, two on B: four of the cluster's four a minute.
    for browser in [&on_a, &on_a, &on_b, &on_b] {
        let (code, _, body) = attempt(browser, user, "wrong", project).await;
        assert_eq!(code, 401, "{body}");
    }
    // The fifth is refused on either, even with the right password, with the wait.
    for browser in [&on_a, &on_b] {
        let (code, retry_after, body) =
            attempt(browser, &format!(" {} ", user.to_uppercase()), password, project).await;
        assert_eq!(code, 429, "{body}");
        let wait: u64 = retry_after.expect("a Retry-After header").parse().unwrap();
        assert!((1..=15).contains(&wait), "one attempt comes back within 15 s (4 a minute), not {wait}");
        let message = common::user_message(&serde_json::from_str(&body).unwrap());
        assert!(message.contains(&format!("Too many sign-in attempts. Try again in {wait} s")), "{message}");
    }
    // Another user is not held up, and Redis keeps no name typed.
    assert_eq!(signed_in_as(&b, "consumer").await.whoami().await["user_name"], lab.get("LAB_CONSUMER_USER"));
    let keys = redis_keys(&redis);
    assert!(keys.iter().any(|k| k.starts_with("glance-share:sign-ins:user:")), "{keys:?}");
    assert!(!keys.iter().any(|k| k.to_lowercase().contains(&user.to_lowercase())), "{keys:?}");

    // One instance with the default stores counts for itself: four there, then refused; another
    // such instance has its own four.
    let single = [("GLANCE_SHARE_SIGN_INS_PER_USER_MINUTE", "4"), ("GLANCE_SHARE_SIGN_INS_PER_CLIENT_MINUTE", "100")];
    let (c, d) = (Server::start(&single), Server::start(&single));
    let (on_c, on_d) = (Browser::new(&c), Browser::new(&d));
    for _ in 0..4 {
        assert_eq!(attempt(&on_c, user, "wrong", project).await.0, 401);
    }
    assert_eq!(attempt(&on_c, user, "wrong", project).await.0, 429, "C's own limit");
    assert_eq!(attempt(&on_d, user, "wrong", project).await.0, 401, "D counts apart");
}

#[tokio::test]
async fn sign_ins_wait_for_redis_rather_than_go_uncounted() {
    let lab = lab();
    let (user, _, project) = lab.account("consumer");
    let redis = Redis::start();
    let server = Server::start(&[("GLANCE_SHARE_SESSION_STORE", redis.url.as_str())]);
    let browser = Browser::new(&server);
    drop(redis);
    let started = Instant::now();
    let (code, _, body) = attempt(&browser, user, "wrong", project).await;
    assert_eq!(code, 503, "{body}");
    assert!(started.elapsed() < Duration::from_secs(10), "refused within a bounded time");
    let message = common::user_message(&serde_json::from_str(&body).unwrap());
    assert!(message.contains("where sign-in attempts are counted") && message.contains("Try again"), "{message}");
}

#[test]
fn postgres_down_at_start_is_a_clear_startup_error() {
    lab();
    let port = common::free_port();
    let url = format!("postgres://gs:pg-s3cret@127.0.0.1:{port}/gs");
    let (status, log) = refused_start(&[("GLANCE_SHARE_AUDIT_LOG", &url)]);
    assert!(!status.success());
    assert!(
        log.contains("could not open the audit log")
            && log.contains("GLANCE_SHARE_AUDIT_LOG")
            && log.contains(&format!("PostgreSQL postgres://***@127.0.0.1:{port}/gs")),
        "{log}"
    );
    assert!(!log.contains("pg-s3cret"), "the password is never logged: {log}");

    // A setting that is no URL at all is refused before anything is opened, naming it.
    let (status, log) = refused_start(&[("GLANCE_SHARE_AUDIT_LOG", "postgres://gs:pg-s3cret@")]);
    assert!(!status.success());
    assert!(log.contains("GLANCE_SHARE_AUDIT_LOG is not valid") && !log.contains("pg-s3cret"), "{log}");
}

/// The same changes, read a page at a time from SQLite and from PostgreSQL: the same pages, the
/// same ids, the same `before` links, for the owner and for a member project.
#[tokio::test]
async fn history_pages_alike_on_sqlite_and_postgres() {
    let pg = Postgres::start();
    let postgres = AuditStoreKind::Postgres(PostgresUrl::parse(&pg.url).unwrap());
    // Instances starting at once: each makes sure of the table, none fails on another's.
    let opened = futures::future::join_all((0..4).map(|_| AuditLog::open(&postgres))).await;
    let mut logs: Vec<AuditLog> = opened.into_iter().map(|o| o.expect("opening at once")).collect();
    let (pg_log, sqlite_log) = (logs.remove(0), AuditLog::open(&AuditStoreKind::Memory).await.unwrap());

    let image = ImageId::parse("5d2c4e1a-93b7-4c6e-8f51-0a1b2c3d4e5f").unwrap();
    let other_image = ImageId::parse("0a0b0c0d-0000-4000-8000-000000000001").unwrap();
    let actor = |project: &str| Actor {
        cloud: "lab".into(),
        region: "RegionOne".into(),
        user_id: "u1".into(),
        user_name: "alice".into(),
        user_domain: "Default".into(),
        project_id: project.into(),
        project_name: format!("name-of-{project}"),
    };
    for n in 0..47 {
        let member = format!("member-{}", n % 3);
        let (who, change, target) = match n % 5 {
            0 => (actor("owner"), Change::Revoke, &image),
            4 => (actor("member-1"), Change::Share, &other_image),
            _ => (actor("owner"), Change::Share, &image),
        };
        let failure = (n % 7 == 0).then(|| format!("failure {n} with 'quotes'; DROP TABLE audit; --"));
        for log in [&sqlite_log, &pg_log] {
            log.record(&who, Via::Batch, target, change, Some(&member), failure.clone()).await;
        }
    }

    let pages = |log: &AuditLog, viewer: fn() -> Viewer<'static>| {
        let (log, image) = (log.clone(), image.clone());
        async move {
            let mut pages = Vec::new();
            let mut before = None;
            loop {
                let (entries, older) = log.history("lab", "RegionOne", &image, viewer(), before).await.unwrap();
                let entries: Vec<_> = entries
                    .into_iter()
                    .map(|e| (e.id, e.change, e.member_id, e.failure, e.via, e.project_id, e.user_name))
                    .collect();
                pages.push((entries, older));
                match older {
                    Some(id) => before = Some(id),
                    None => return pages,
                }
            }
        }
    };
    for viewer in [(|| Viewer::Everything) as fn() -> Viewer<'static>, || Viewer::Project("member-1")] {
        let (on_sqlite, on_pg) = (pages(&sqlite_log, viewer).await, pages(&pg_log, viewer).await);
        assert_eq!(on_sqlite, on_pg);
        assert!(on_sqlite.iter().all(|(entries, _)| entries.len() <= 20 && !entries.is_empty()), "{on_sqlite:?}");
    }
    // The owner's pages hold every change to the image, newest first, and no other image's.
    let everything = pages(&pg_log, || Viewer::Everything).await;
    let ids: Vec<i64> = everything.iter().flat_map(|(entries, _)| entries.iter().map(|e| e.0)).collect();
    assert_eq!(everything.len(), 2, "38 changes: a page of 20 and one of 18");
    assert_eq!(ids.len(), 47 - 9, "the other image's 9 changes are not here");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    // A made-up `before` past the end is an empty page, not an error.
    let (none, older) = pg_log.history("lab", "RegionOne", &image, Viewer::Everything, Some(1)).await.unwrap();
    assert!(none.is_empty() && older.is_none());
    // Every instance reads what any one wrote.
    let (from_another, _) = logs[2].history("lab", "RegionOne", &image, Viewer::Everything, None).await.unwrap();
    assert_eq!(from_another.len(), 20);
    assert_eq!(pg.psql("SELECT count(*) FROM audit"), "47\n");
}

/// Two instances' throttles on one Redis count together, atomically, with GCRA: the limit at
/// once, then one attempt per window/limit.
#[tokio::test]
async fn redis_counts_attempts_for_every_instance_together() {
    use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};
    let redis = Redis::start();
    let pool = || async {
        let pool = Pool::new(Config::from_url(&redis.url).unwrap(), None, None, None, 2).unwrap();
        pool.init().await.unwrap();
        pool
    };
    let n = |v| NonZeroU32::new(v).unwrap();
    let (one, two) =
        (SignInThrottle::shared(pool().await, n(100), n(3)), SignInThrottle::shared(pool().await, n(100), n(3)));
    let ip = |last| Some(IpAddr::from([10, 0, 0, last]));

    // Twenty attempts at once from both: exactly three get through.
    let tries = (0..20u8).map(|i| {
        let throttle = if i % 2 == 0 { &one } else { &two };
        throttle.attempt(ip(i), Some("lab/Default/alice"))
    });
    let results = futures::future::join_all(tries).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3, "{results:?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(matches!(refused, AppError::TooManyAttempts(s) if (1..=20).contains(s)), "{refused:?}");
    }
    // The same name however it is typed; another name and the per-client limit are apart.
    assert!(matches!(two.attempt(ip(1), Some(" LAB/default/ALICE")).await, Err(AppError::TooManyAttempts(_))));
    one.attempt(ip(1), Some("lab/Default/bob")).await.unwrap();
    let strict = SignInThrottle::shared(pool().await, n(2), n(100));
    strict.attempt(ip(200), Some("a")).await.unwrap();
    strict.attempt(ip(200), Some("b")).await.unwrap();
    assert!(matches!(strict.attempt(ip(200), Some("c")).await, Err(AppError::TooManyAttempts(_))));
    // Keys expire by themselves, within the window: nothing is kept for ever (-1). A client's
    // key lasts 0.6 s here (100 a minute), and may be gone already (-2).
    for key in redis_keys(&redis) {
        let ttl = redis_cli(&redis, &["PTTL", &key]);
        let ttl: i64 = ttl.trim().parse().unwrap();
        assert!(ttl == -2 || (1..=60_000).contains(&ttl), "{key}: {ttl}");
    }
}

fn redis_cli(redis: &Redis, args: &[&str]) -> String {
    let out = Command::new("redis-cli").args(["-p", &redis.port.to_string(), "--raw"]).args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

fn redis_keys(redis: &Redis) -> Vec<String> {
    redis_cli(redis, &["KEYS", "*"]).lines().filter(|k| !k.is_empty()).map(str::to_string).collect()
}

/// One password sign-in: status, Retry-After, body.
async fn attempt(browser: &Browser, user: &str, password: &str, project: &str) -> (u16, Option<String>, String) {
    let form =
        [("cloud", "lab"), ("method", "password"), ("user_name", user), ("password", password), ("project", project)];
    let res = browser.call("sign_in", &form).await;
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (res.status().as_u16(), retry_after, res.text().await.unwrap())
}

/// Starts the server binary expecting it to refuse: its exit status and what it logged.
fn refused_start(env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let env: Vec<(&str, &str)> =
        [("GLANCE_SHARE_SESSION_STORE", "memory")].into_iter().chain(env.iter().copied()).collect();
    common::refused_start(&env, Duration::from_secs(30))
}
