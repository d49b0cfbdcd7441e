//! Sign-in attempts allowed per client address and per user name: guessing passwords through
//! the dashboard is no faster than a person typing them.
//!
//! Counted per process: behind a load balancer each instance allows its own share, which
//! still bounds guessing to a small multiple of one instance's rate.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use crate::error::AppError;

pub struct SignInThrottle {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<String>,
}

impl SignInThrottle {
    /// `per_client` and `per_user` attempts a minute each, all of them usable at once.
    pub fn new(per_client: NonZeroU32, per_user: NonZeroU32) -> Self {
        SignInThrottle {
            per_client: RateLimiter::keyed(Quota::per_minute(per_client)),
            per_user: RateLimiter::keyed(Quota::per_minute(per_user)),
        }
    }

    /// Counts one attempt from `client` (when known) for `user` (the cloud and the name typed,
    /// or the credential's ID); refuses it with the wait when either is over its limit.
    pub fn attempt(&self, client: Option<IpAddr>, user: Option<&str>) -> Result<(), AppError> {
        let clock = governor::clock::DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| {
            let secs = not_until.wait_time_from(clock.now()).as_secs_f64().ceil() as u64;
            AppError::TooManyAttempts(secs.max(1))
        };
        if let Some(client) = client {
            self.per_client.check_key(&client).map_err(wait)?;
        }
        if let Some(user) = user {
            // Case and surrounding spaces do not make another user at Keystone.
            self.per_user.check_key(&user.trim().to_lowercase()).map_err(wait)?;
        }
        Ok(())
    }

    /// Forgets keys whose limits are back to full, so memory follows recent attempts only.
    pub fn forget_idle(&self) {
        self.per_client.retain_recent();
        self.per_user.retain_recent();
        self.per_client.shrink_to_fit();
        self.per_user.shrink_to_fit();
    }

    /// How often `forget_idle` is worth running.
    pub const FORGET_EVERY: Duration = Duration::from_secs(60);
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

    #[test]
    fn a_user_name_is_refused_after_its_allowance_whatever_the_client() {
        let t = SignInThrottle::new(n(100), n(3));
        let ip = |last| Some(IpAddr::from([10, 0, 0, last]));
        for i in 0..3 {
            t.attempt(ip(i), Some("lab/alice")).unwrap();
        }
        let err = t.attempt(ip(9), Some(" LAB/Alice ")).unwrap_err();
        assert!(matches!(err, AppError::TooManyAttempts(s) if (1..=20).contains(&s)), "{err:?}");
        t.attempt(ip(9), Some("lab/bob")).unwrap();
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

    #[test]
    fn a_client_is_refused_after_its_allowance_whatever_the_user() {
        let t = SignInThrottle::new(n(2), n(100));
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        t.attempt(ip, Some("a")).unwrap();
        t.attempt(ip, Some("b")).unwrap();
        assert!(matches!(t.attempt(ip, Some("c")), Err(AppError::TooManyAttempts(_))));
        t.attempt(Some(IpAddr::from([192, 0, 2, 2])), Some("c")).unwrap();
    }
}
