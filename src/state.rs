//! What every request handler and server function shares.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    audit::AuditLog,
    batch::Batches,
    config::Config,
    directory::{Cache, Directory},
    throttle::SignInThrottle,
};
use openstack::Upstream;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    /// The pooled HTTP clients for every upstream call (Keystone and Glance), one per serving
    /// thread, bounded together.
    pub http: Upstream,
    /// Batches running or recently finished, in this process.
    pub batches: Arc<Batches>,
    /// Access reviews being read, in this process (their pages show how far they got).
    pub reviews: Arc<crate::reviews::Reviews>,
    /// Sign-in attempts counted per client and per user name: in this process, or in the
    /// session store's Redis for every instance.
    pub sign_in_throttle: Arc<SignInThrottle>,
    /// Who changed which image's sharing, and how it went.
    pub audit: AuditLog,
    /// Project names for every user, when the operator configured a directory reader.
    pub directory: Option<Arc<Directory>>,
}

impl AppState {
    /// `redis`: the session store's Redis, which then also holds the directory's cache and
    /// counts sign-in attempts.
    pub fn new(
        config: Config,
        leptos_options: LeptosOptions,
        audit: AuditLog,
        redis: Option<tower_sessions_redis_store::fred::prelude::Pool>,
    ) -> Result<Self, reqwest::Error> {
        // One client per serving thread (see `serving`), so that an upstream call never crosses
        // threads.
        let clients = (0..config.server_threads)
            .map(|_| {
                openstack::client_builder()
                    .connect_timeout(config.upstream_connect_timeout)
                    .timeout(config.upstream_timeout)
                    .pool_max_idle_per_host(32)
                    .user_agent(concat!("glance-share/", env!("CARGO_PKG_VERSION")))
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let http = Upstream::per_thread(clients, config.upstream_max_in_flight);
        let (per_client, per_user) = (config.sign_ins_per_client_minute, config.sign_ins_per_user_minute);
        let sign_in_throttle = Arc::new(match &redis {
            Some(pool) => SignInThrottle::shared(pool.clone(), per_client, per_user),
            None => SignInThrottle::new(per_client, per_user),
        });
        let directory = config.directory.clone().and_then(|d| {
            let auth_url = config.cloud(&d.cloud)?.auth_url.clone();
            let cache = match redis {
                Some(pool) => Cache::redis(pool, d.ttl),
                None => Cache::memory(d.ttl),
            };
            Some(Arc::new(Directory::new(d, auth_url, cache)))
        });
        Ok(AppState {
            directory,
            leptos_options,
            config: Arc::new(config),
            http,
            batches: Arc::default(),
            reviews: Arc::default(),
            sign_in_throttle,
            audit,
        })
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
