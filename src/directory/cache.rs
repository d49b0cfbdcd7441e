//! Where the directory keeps what Keystone said, for every user of the dashboard: in this
//! process (moka, bounded, entries expire after the TTL), or in Redis when sessions are there,
//! so that every instance shares one warm cache. Values are small JSON strings.

use std::time::Duration;

use tower_sessions_redis_store::fred::{
    prelude::{KeysInterface, Pool},
    types::Expiration,
};

pub enum Cache {
    Memory(moka::sync::Cache<String, String>),
    Redis { pool: Pool, ttl: Duration },
}

impl Cache {
    /// A process-local cache of at most 100,000 entries, each believed for `ttl`.
    pub fn memory(ttl: Duration) -> Cache {
        Cache::Memory(moka::sync::Cache::builder().max_capacity(100_000).time_to_live(ttl).build())
    }

    pub fn redis(pool: Pool, ttl: Duration) -> Cache {
        Cache::Redis { pool, ttl }
    }

    /// The values of `keys`, in order (`None` where there is none). A Redis that fails counts as
    /// empty: names are a convenience, the IDs stay on the page.
    pub async fn get_many(&self, keys: &[String]) -> Vec<Option<String>> {
        if keys.is_empty() {
            return Vec::new();
        }
        match self {
            Cache::Memory(cache) => keys.iter().map(|k| cache.get(k)).collect(),
            Cache::Redis { pool, .. } => {
                // One round trip for the whole page (MGET), however many members it shows.
                let found: Result<Vec<Option<String>>, _> = if keys.len() == 1 {
                    pool.get::<Option<String>, _>(keys[0].as_str()).await.map(|v| vec![v])
                } else {
                    pool.mget(keys.to_vec()).await
                };
                found.unwrap_or_else(|e| {
                    tracing::warn!("directory cache (Redis) could not be read: {e}");
                    vec![None; keys.len()]
                })
            }
        }
    }

    pub async fn put_many(&self, entries: Vec<(String, String)>) {
        match self {
            Cache::Memory(cache) => entries.into_iter().for_each(|(k, v)| cache.insert(k, v)),
            Cache::Redis { pool, ttl } => {
                let seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX).max(1);
                for (k, v) in entries {
                    let set: Result<(), _> = pool.set(k, v, Some(Expiration::EX(seconds)), None, false).await;
                    if let Err(e) = set {
                        tracing::warn!("directory cache (Redis) could not be written: {e}");
                        return;
                    }
                }
            }
        }
    }
}
