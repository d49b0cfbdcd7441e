//! Sign-in attempts allowed per client address and per user name: guessing passwords through
//! the dashboard is no faster than a person typing them.
//!
//! One instance (the default stores) counts in its own memory (governor). With sessions in
//! Redis, every instance counts in that Redis instead, so the limits hold for the whole
//! cluster, not for each instance behind the load balancer.
//!
//! Both count the same way, GCRA (the generic cell rate algorithm governor implements): N
//! attempts a minute, all usable at once, then one every 60/N s. It is a sliding window that
//! keeps one number per key (when the next attempt is due) instead of a list of past attempts,
//! and a refused attempt changes nothing. In Redis one Lua script reads and moves that number,
//! atomically, with Redis' own clock (instances' clocks may differ).

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use sha2::{Digest, Sha256};
use tower_sessions_redis_store::fred::{
    prelude::{ClientLike, Pool},
    types::{ClusterHash, CustomCommand},
};

use crate::error::AppError;

pub struct SignInThrottle {
    per_client: NonZeroU32,
    per_user: NonZeroU32,
    counter: Counter,
}

enum Counter {
    /// In this process: each instance allows its own share.
    Local { per_client: DefaultKeyedRateLimiter<IpAddr>, per_user: DefaultKeyedRateLimiter<String> },
    /// In Redis, shared by every instance using it.
    Redis(Pool),
}

/// The window both limits are counted over.
const WINDOW: Duration = Duration::from_secs(60);

/// How long a sign-in waits for Redis to count it before it is refused.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// GCRA over one key, which holds when the next attempt is due at the latest, as Unix
/// milliseconds (the "theoretical arrival time"). KEYS[1]: the key; ARGV[1]: milliseconds
/// between attempts once the burst is spent (window / limit); ARGV[2]: the limit (the burst).
/// Answers 0 when the attempt is counted, or the milliseconds to wait when it is refused.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local due = tonumber(redis.call('GET', KEYS[1])) or now
if due < now then due = now end
local next_due = due + interval
local allowed_at = next_due - interval * burst
if now < allowed_at then
  return allowed_at - now
end
redis.call('SET', KEYS[1], string.format('%d', next_due), 'PX', next_due - now)
return 0
";

impl SignInThrottle {
    /// Counted in this process: `per_client` and `per_user` attempts a minute each, all of them
    /// usable at once.
    pub fn new(per_client: NonZeroU32, per_user: NonZeroU32) -> Self {
        let counter = Counter::Local {
            per_client: RateLimiter::keyed(Quota::per_minute(per_client)),
            per_user: RateLimiter::keyed(Quota::per_minute(per_user)),
        };
        SignInThrottle { per_client, per_user, counter }
    }

    /// The same limits, counted in the Redis of `pool` for every instance that uses it.
    pub fn shared(pool: Pool, per_client: NonZeroU32, per_user: NonZeroU32) -> Self {
        SignInThrottle { per_client, per_user, counter: Counter::Redis(pool) }
    }

    /// Counts one attempt from `client` (when known) for `user` (the cloud and the name typed,
    /// or the credential's ID); refuses it with the wait when either is over its limit.
    ///
    /// When Redis counts and does not answer, the attempt is refused (503): letting it through
    /// uncounted would lift the limit for anyone who can make Redis slow.
    pub async fn attempt(&self, client: Option<IpAddr>, user: Option<&str>) -> Result<(), AppError> {
        // Case and surrounding spaces do not make another user at Keystone.
        let user = user.map(|u| u.trim().to_lowercase());
        match &self.counter {
            Counter::Local { per_client, per_user } => {
                let clock = governor::clock::DefaultClock::default();
                let wait = |not_until: governor::NotUntil<_>| too_many(not_until.wait_time_from(clock.now()));
                if let Some(client) = client {
                    per_client.check_key(&client).map_err(wait)?;
                }
                if let Some(user) = user {
                    per_user.check_key(&user).map_err(wait)?;
                }
                Ok(())
            }
            Counter::Redis(pool) => {
                if let Some(client) = client {
                    count_in_redis(pool, client_key(client), self.per_client).await?;
                }
                if let Some(user) = user {
                    count_in_redis(pool, user_key(&user), self.per_user).await?;
                }
                Ok(())
            }
        }
    }

    /// Forgets keys whose limits are back to full, so memory follows recent attempts only.
    /// Redis forgets its keys by itself (each expires when its limit is full again).
    pub fn forget_idle(&self) {
        if let Counter::Local { per_client, per_user } = &self.counter {
            per_client.retain_recent();
            per_user.retain_recent();
            per_client.shrink_to_fit();
            per_user.shrink_to_fit();
        }
    }

    /// How often `forget_idle` is worth running.
    pub const FORGET_EVERY: Duration = Duration::from_secs(60);
}

fn too_many(wait: Duration) -> AppError {
    AppError::TooManyAttempts((wait.as_secs_f64().ceil() as u64).max(1))
}

/// The Redis key of a client's attempts: an address, which is plain text already.
fn client_key(client: IpAddr) -> String {
    format!("glance-share:sign-ins:client:{client}")
}

/// The Redis key of a user name's attempts (`user` normalised already): its SHA-256, so that
/// whatever was typed, the key is 64 hex digits, and no name typed is kept in Redis.
fn user_key(user: &str) -> String {
    let digest = Sha256::digest(user.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("glance-share:sign-ins:user:{hex}")
}

/// Counts one attempt under `key` in Redis, allowing `limit` a window.
async fn count_in_redis(pool: &Pool, key: String, limit: NonZeroU32) -> Result<(), AppError> {
    let interval_ms = (WINDOW.as_millis() as u64 / u64::from(limit.get())).max(1);
    // EVAL script 1 key ...: the key is the third argument (where a cluster would route it).
    let eval = CustomCommand::new_static("EVAL", ClusterHash::Offset(2), false);
    let args = vec![GCRA.to_string(), "1".to_string(), key, interval_ms.to_string(), limit.to_string()];
    match tokio::time::timeout(REDIS_TIMEOUT, pool.custom::<i64, _>(eval, args)).await {
        Ok(Ok(wait_ms)) if wait_ms <= 0 => Ok(()),
        Ok(Ok(wait_ms)) => Err(too_many(Duration::from_millis(wait_ms.unsigned_abs()))),
        Ok(Err(e)) => Err(redis_down(e)),
        Err(_) => Err(redis_down(format_args!("no answer within {} s", REDIS_TIMEOUT.as_secs()))),
    }
}

fn redis_down(cause: impl std::fmt::Display) -> AppError {
    tracing::error!("sign-in attempts could not be counted in Redis: {cause}");
    AppError::Unavailable {
        service: "Redis, where sign-in attempts are counted,".into(),
        detail: "no sign-in is let through until it answers. Try again in a moment.".into(),
    }
}

/// The client address a reverse proxy put in `header`: the last entry, the one it added
/// itself (entries before it came from the client and may be anything).
pub fn forwarded_client(headers: &http::HeaderMap, header: &http::HeaderName) -> Option<IpAddr> {
    let values = headers.get_all(header).iter().filter_map(|v| v.to_str().ok());
    values.flat_map(|v| v.split(',')).next_back().and_then(|last| last.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    #[tokio::test]
    async fn a_user_name_is_refused_after_its_allowance_whatever_the_client() {
        let t = SignInThrottle::new(n(100), n(3));
        let ip = |last| Some(IpAddr::from([10, 0, 0, last]));
        for i in 0..3 {
            t.attempt(ip(i), Some("lab/alice")).await.unwrap();
        }
        let err = t.attempt(ip(9), Some(" LAB/Alice ")).await.unwrap_err();
        assert!(matches!(err, AppError::TooManyAttempts(s) if (1..=20).contains(&s)), "{err:?}");
        t.attempt(ip(9), Some("lab/bob")).await.unwrap();
    }

    #[test]
    fn redis_keys_hold_no_name_typed() {
        let key = user_key("lab/default/alice");
        assert_eq!(key.len(), "glance-share:sign-ins:user:".len() + 64);
        assert!(!key.contains("alice"));
        // Whatever was typed, the key is hex: no spaces, no newline, no hash tag.
        let hostile = user_key("lab/x/\r\n*1\r\n$8\r\nFLUSHALL {tag} \u{0}");
        let digest = hostile.rsplit(':').next().unwrap();
        assert!(digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()), "{hostile}");
        assert_ne!(user_key("lab/default/bob"), key);
        assert_eq!(client_key(IpAddr::from([192, 0, 2, 1])), "glance-share:sign-ins:client:192.0.2.1");
    }

    #[test]
    fn a_wait_is_whole_seconds_rounded_up() {
        assert_eq!(too_many(Duration::from_millis(14_001)), AppError::TooManyAttempts(15));
        assert_eq!(too_many(Duration::ZERO), AppError::TooManyAttempts(1));
    }

    #[test]
    fn the_proxy_added_address_is_the_last_one() {
        let xff = http::HeaderName::from_static("x-forwarded-for");
        let mut h = http::HeaderMap::new();
        assert_eq!(forwarded_client(&h, &xff), None);
        h.append(&xff, "203.0.113.9, 10.1.2.3".parse().unwrap());
        h.append(&xff, "198.51.100.7".parse().unwrap());
        assert_eq!(forwarded_client(&h, &xff), Some(IpAddr::from([198, 51, 100, 7])));
        // A forged or garbled last entry is no address, not the one before it.
        h.append(&xff, "nonsense".parse().unwrap());
        assert_eq!(forwarded_client(&h, &xff), None);
    }

    #[tokio::test]
    async fn a_client_is_refused_after_its_allowance_whatever_the_user() {
        let t = SignInThrottle::new(n(2), n(100));
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        t.attempt(ip, Some("a")).await.unwrap();
        t.attempt(ip, Some("b")).await.unwrap();
        assert!(matches!(t.attempt(ip, Some("c")).await, Err(AppError::TooManyAttempts(_))));
        t.attempt(Some(IpAddr::from([192, 0, 2, 2])), Some("c")).await.unwrap();
    }
}
