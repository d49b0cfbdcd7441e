//! Batches as jobs in Redis, for several instances behind a load balancer without affinity:
//! any instance shows any batch, and a batch whose instance died is resumed by another.
//!
//! The engine is Redis Streams with a consumer group: a new batch is an entry of one stream;
//! an instance takes entries with XREADGROUP (they are then pending, owned by it) and resets
//! their idle time while it runs them (XCLAIM to itself, a heartbeat). An entry idle for longer
//! than `CLAIM_AFTER` belongs to an instance that is gone; any instance takes it over with
//! XAUTOCLAIM and resumes the batch. Finished batches are acknowledged and deleted.
//!
//! A batch's state is one hash: the job (with its token sealed, as in a session record), the
//! view as planned, and one field per pair or image change once it has an outcome. Outcomes
//! are written with HSETNX, so each has exactly one even when two instances ran the same pair
//! (one stalled past `CLAIM_AFTER`, say). Before a pair is sent its `flight:` field is set; a
//! resumed batch asks Glance about such pairs before sending them again.

use std::{collections::HashMap, time::Duration};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower_sessions_redis_store::fred::{
    self,
    prelude::{ClientLike, HashesInterface, KeysInterface, Pool},
    types::{ClusterHash, CustomCommand, Value},
};

use super::Owner;
use crate::{
    audit::Actor,
    model::{BatchView, PairOutcome, Via},
};

/// How long an entry's owner may stay silent before another instance takes its batch over.
pub const CLAIM_AFTER: Duration = Duration::from_secs(10);
/// How often a running batch tells Redis its instance is alive (well under `CLAIM_AFTER`).
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// How often an instance looks for batches nobody runs.
pub const SWEEP: Duration = Duration::from_secs(2);

const STREAM: &str = "glance-share:batch-jobs";
const GROUP: &str = "runners";

/// What an instance needs, besides its own HTTP client and audit log, to run a batch it did
/// not start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredJob {
    pub owner: Owner,
    pub image_url: String,
    /// Sealed with the session key (`secret_key::seal_token`): never in the clear in Redis.
    pub token: String,
    /// Unix seconds: the token's expiry. Pairs not run by then end with that outcome.
    pub expires_at: i64,
    pub concurrency: usize,
    pub make_shared: Vec<String>,
    pub actor: Actor,
    pub via: Via,
    /// Unix milliseconds, for the newest-first list of a user's batches.
    pub started_ms: i64,
}

/// A batch as Redis holds it.
pub struct Stored {
    pub job: StoredJob,
    pub view: BatchView,
    /// Pairs an earlier run marked as sent without settling them: Glance is asked first.
    pub in_flight: Vec<usize>,
}

/// A stream entry this instance owns: the batch it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub batch: String,
}

#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// This process, as the consumer group knows it: new at every start.
    consumer: String,
}

type Result<T> = std::result::Result<T, fred::error::Error>;

fn command(name: &'static str) -> CustomCommand {
    CustomCommand::new_static(name, ClusterHash::FirstKey, false)
}

/// A batch ID as this module makes them (32 lowercase hex digits); anything else names no batch
/// and never reaches a Redis key.
pub fn is_batch_id(id: &str) -> bool {
    openstack::ids::is_keystone_id(id)
}

fn batch_key(id: &str) -> String {
    format!("glance-share:batch:{id}")
}

/// A user's batches, newest first; the key holds a digest, not the cloud's or user's text.
fn owner_key(owner: &Owner) -> String {
    let digest = Sha256::digest(format!("{}\0{}", owner.cloud, owner.user_id).as_bytes());
    format!("glance-share:batches-of:{}", hex(&digest))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json<T: Serialize>(value: &T) -> String {
    // Our own types: serialising them cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

impl Store {
    /// The store of this process, on `pool`; creates the consumer group when there is none.
    pub async fn open(pool: Pool) -> Result<Store> {
        let store = Store { pool, consumer: uuid::Uuid::new_v4().simple().to_string() };
        let created: Result<Value> =
            store.pool.custom(command("XGROUP"), vec!["CREATE", STREAM, GROUP, "0", "MKSTREAM"]).await;
        match created {
            Err(e) if e.details().contains("BUSYGROUP") => Ok(store),
            Err(e) => Err(e),
            Ok(_) => Ok(store),
        }
    }

    /// Writes a new batch and queues it for whichever instance takes it first; kept for `ttl`
    /// (the token's life: nobody can run or open it after that).
    pub async fn create(&self, view: &BatchView, job: &StoredJob, ttl: Duration) -> Result<()> {
        let key = batch_key(&view.id);
        let seconds = ttl.as_secs().max(60) as i64;
        let fields = vec![("job", json(job)), ("view", json(view))];
        let _: i64 = self.pool.hset(&key, fields).await?;
        let _: bool = self.pool.expire(&key, seconds, None).await?;
        let index = owner_key(&job.owner);
        let _: Value =
            self.pool.custom(command("ZADD"), vec![index.clone(), job.started_ms.to_string(), view.id.clone()]).await?;
        let _: bool = self.pool.expire(&index, seconds, None).await?;
        let _: Value = self.pool.custom(command("XADD"), vec![STREAM, "*", "batch", view.id.as_str()]).await?;
        Ok(())
    }

    /// The batch `id` as it stands, if Redis still has it.
    pub async fn load(&self, id: &str) -> Result<Option<Stored>> {
        if !is_batch_id(id) {
            return Ok(None);
        }
        let fields: HashMap<String, String> = self.pool.hgetall(batch_key(id)).await?;
        Ok(assemble(fields))
    }

    /// `owner`'s batches Redis still has, newest first (at most 50). Batches that expired
    /// are dropped from the index on the way.
    pub async fn recent(&self, owner: &Owner) -> Result<Vec<Stored>> {
        let index = owner_key(owner);
        let ids: Vec<String> = self.pool.custom(command("ZREVRANGE"), vec![index.as_str(), "0", "49"]).await?;
        // All at once: fred sends them down the connection without waiting for each answer
        // (one round trip rather than one per batch).
        let loaded = futures::future::try_join_all(ids.iter().map(|id| self.load(id))).await?;
        let mut found = Vec::new();
        for (id, stored) in ids.iter().zip(loaded) {
            match stored {
                Some(stored) if &stored.job.owner == owner => found.push(stored),
                _ => {
                    let _: Value = self.pool.custom(command("ZREM"), vec![index.as_str(), id.as_str()]).await?;
                }
            }
        }
        Ok(found)
    }

    /// Entries no instance has taken yet, now this instance's.
    pub async fn take_new(&self) -> Result<Vec<Entry>> {
        let args = vec!["GROUP", GROUP, self.consumer.as_str(), "COUNT", "16", "STREAMS", STREAM, ">"];
        let reply: Value = self.pool.custom(command("XREADGROUP"), args).await?;
        Ok(entries(reply))
    }

    /// Entries whose instance has been silent for `CLAIM_AFTER`, now this instance's.
    pub async fn take_abandoned(&self) -> Result<Vec<Entry>> {
        let idle = CLAIM_AFTER.as_millis().to_string();
        let args = vec![STREAM, GROUP, self.consumer.as_str(), idle.as_str(), "0-0", "COUNT", "16"];
        let reply: Value = self.pool.custom(command("XAUTOCLAIM"), args).await?;
        // [next start, [entries], [deleted IDs]]: only the entries.
        let entries_part = match reply {
            Value::Array(mut parts) if parts.len() >= 2 => parts.swap_remove(1),
            _ => Value::Null,
        };
        Ok(entries(entries_part))
    }

    /// Tells Redis this instance still runs `entry` (its idle time starts again). False when
    /// another instance has taken it over meanwhile: this one must stop.
    pub async fn keep(&self, entry: &Entry) -> Result<bool> {
        let reply: Value =
            self.pool.custom(command("XPENDING"), vec![STREAM, GROUP, &entry.id, &entry.id, "1"]).await?;
        let owner = match reply {
            Value::Array(rows) => rows.into_iter().next().and_then(|row| match row {
                Value::Array(cols) => cols.into_iter().nth(1).and_then(|c| c.as_string()),
                _ => None,
            }),
            _ => None,
        };
        if owner.as_deref() != Some(self.consumer.as_str()) {
            return Ok(false);
        }
        let _: Value =
            self.pool.custom(command("XCLAIM"), vec![STREAM, GROUP, &self.consumer, "0", &entry.id, "JUSTID"]).await?;
        Ok(true)
    }

    /// Marks pair `index` as sent (before it is): a resumed batch asks Glance about it first.
    pub async fn sending(&self, batch: &str, index: usize) -> Result<()> {
        let _: i64 = self.pool.hset(batch_key(batch), vec![(format!("flight:{index}"), "1")]).await?;
        Ok(())
    }

    /// Sets `field`'s outcome unless it has one; answers the outcome it has after.
    async fn settle(&self, batch: &str, field: String, outcome: &PairOutcome) -> Result<PairOutcome> {
        let key = batch_key(batch);
        let set: bool = self.pool.hsetnx(&key, &field, json(outcome)).await?;
        if set {
            return Ok(outcome.clone());
        }
        let existing: Option<String> = self.pool.hget(&key, &field).await?;
        Ok(existing.and_then(|e| serde_json::from_str(&e).ok()).unwrap_or_else(|| outcome.clone()))
    }

    pub async fn settle_pair(&self, batch: &str, index: usize, outcome: &PairOutcome) -> Result<PairOutcome> {
        self.settle(batch, format!("pair:{index}"), outcome).await
    }

    pub async fn settle_step(&self, batch: &str, index: usize, outcome: &PairOutcome) -> Result<PairOutcome> {
        self.settle(batch, format!("step:{index}"), outcome).await
    }

    pub async fn made_shared(&self, batch: &str, image: &str) -> Result<()> {
        let _: i64 = self.pool.hset(batch_key(batch), vec![(format!("shared:{image}"), "1")]).await?;
        Ok(())
    }

    /// The batch is over: shown as finished everywhere, and its entry leaves the stream.
    pub async fn finish(&self, entry: &Entry) -> Result<()> {
        let _: i64 = self.pool.hset(batch_key(&entry.batch), vec![("finished", "1")]).await?;
        let _: Value = self.pool.custom(command("XACK"), vec![STREAM, GROUP, &entry.id]).await?;
        let _: Value = self.pool.custom(command("XDEL"), vec![STREAM, &entry.id]).await?;
        Ok(())
    }

    /// Lets go of an entry whose batch is gone from Redis (expired): nothing is left to run.
    pub async fn drop_entry(&self, entry: &Entry) -> Result<()> {
        let _: Value = self.pool.custom(command("XACK"), vec![STREAM, GROUP, &entry.id]).await?;
        let _: Value = self.pool.custom(command("XDEL"), vec![STREAM, &entry.id]).await?;
        Ok(())
    }
}

/// A batch from its hash's fields: the planned view with every settled outcome applied.
fn assemble(mut fields: HashMap<String, String>) -> Option<Stored> {
    let job: StoredJob = serde_json::from_str(&fields.remove("job")?).ok()?;
    let mut view: BatchView = serde_json::from_str(&fields.remove("view")?).ok()?;
    let mut in_flight = Vec::new();
    for (field, value) in fields {
        let outcome = || serde_json::from_str::<PairOutcome>(&value).ok();
        if let Some(i) = field.strip_prefix("pair:").and_then(|i| i.parse::<usize>().ok()) {
            if let Some(pair) = view.pairs.get_mut(i) {
                pair.outcome = outcome();
            }
        } else if let Some(i) = field.strip_prefix("step:").and_then(|i| i.parse::<usize>().ok()) {
            if let Some(step) = view.steps.get_mut(i) {
                step.outcome = outcome();
            }
        } else if let Some(i) = field.strip_prefix("flight:").and_then(|i| i.parse::<usize>().ok()) {
            in_flight.push(i);
        } else if let Some(image) = field.strip_prefix("shared:") {
            if !view.made_shared.iter().any(|m| m == image) {
                view.made_shared.push(image.to_string());
            }
        } else if field == "finished" {
            view.finished = true;
        }
    }
    in_flight.retain(|&i| view.pairs.get(i).is_some_and(|p| p.outcome.is_none()));
    Some(Stored { job, view, in_flight })
}

/// The (entry ID, batch) pairs in a stream reply, whatever its nesting (XREADGROUP and
/// XAUTOCLAIM, RESP2 arrays or RESP3 maps): an entry is [ID, [field, value, …]].
fn entries(reply: Value) -> Vec<Entry> {
    let mut found = Vec::new();
    collect_entries(reply, &mut found);
    found
}

fn collect_entries(value: Value, found: &mut Vec<Entry>) {
    match value {
        Value::Array(items) => {
            if let [id, fields @ (Value::Array(_) | Value::Map(_))] = items.as_slice()
                && let Some(id) = id.as_string().filter(|id| is_entry_id(id))
            {
                if let Some(batch) = batch_field(fields.clone()) {
                    found.push(Entry { id, batch });
                }
                return;
            }
            for item in items {
                collect_entries(item, found);
            }
        }
        Value::Map(map) => {
            for (key, v) in map.inner() {
                // RESP3, or fred's reading of RESP2: {entry ID: fields} as well as {stream: entries}.
                match key.as_str().filter(|k| is_entry_id(k)) {
                    Some(id) => {
                        if let Some(batch) = batch_field(v) {
                            found.push(Entry { id: id.to_string(), batch });
                        }
                    }
                    None => collect_entries(v, found),
                }
            }
        }
        _ => {}
    }
}

/// The `batch` field of an entry's fields: [name, value, …] or {name: value}.
fn batch_field(fields: Value) -> Option<String> {
    match fields {
        Value::Array(kv) => kv.chunks(2).find_map(|kv| match kv {
            [k, v] if k.as_str().as_deref() == Some("batch") => v.as_string(),
            _ => None,
        }),
        Value::Map(map) => {
            map.inner().into_iter().find(|(k, _)| k.as_str() == Some("batch")).and_then(|(_, v)| v.as_string())
        }
        _ => None,
    }
}

/// A stream entry ID, `<milliseconds>-<sequence>` (and not the stream's own name).
fn is_entry_id(id: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    id.split_once('-').is_some_and(|(ms, seq)| digits(ms) && digits(seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_batch_ids_make_keys() {
        assert!(is_batch_id("0123456789abcdef0123456789abcdef"));
        for bad in ["", "0123456789ABCDEF0123456789ABCDEF", "../../x", "0123456789abcdef0123456789abcde*", "a b"] {
            assert!(!is_batch_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn an_owners_index_key_holds_a_digest_not_their_text() {
        let owner = Owner { cloud: "lab\r\n*".into(), user_id: "u{1}".into() };
        let key = owner_key(&owner);
        assert!(key.starts_with("glance-share:batches-of:"));
        assert_eq!(key.len(), "glance-share:batches-of:".len() + 64);
        assert!(!key.contains("lab"));
        assert_ne!(key, owner_key(&Owner { cloud: "lab".into(), user_id: "\r\n*u{1}".into() }));
    }

    #[test]
    fn stream_replies_give_their_entries_in_either_protocol() {
        let s = |t: &str| Value::String(t.into());
        let entry = |id: &str, batch: &str| Value::Array(vec![s(id), Value::Array(vec![s("batch"), s(batch)])]);
        // XREADGROUP, RESP2: [[stream, [entry, entry]]]
        let read =
            Value::Array(vec![Value::Array(vec![s(STREAM), Value::Array(vec![entry("1-0", "a"), entry("2-0", "b")])])]);
        assert_eq!(
            entries(read),
            vec![Entry { id: "1-0".into(), batch: "a".into() }, Entry { id: "2-0".into(), batch: "b".into() }]
        );
        // XAUTOCLAIM's entries part, and nothing at all.
        assert_eq!(entries(Value::Array(vec![entry("3-1", "c")])), vec![Entry { id: "3-1".into(), batch: "c".into() }]);
        // RESP3 (or RESP2 as fred may read it): maps of stream to entries, of ID to fields.
        let fields: fred::types::Map = vec![("batch", "d")].try_into().unwrap();
        let by_id: fred::types::Map = vec![("4-2", Value::Map(fields))].try_into().unwrap();
        let by_stream: fred::types::Map = vec![(STREAM, Value::Map(by_id))].try_into().unwrap();
        assert_eq!(entries(Value::Map(by_stream)), vec![Entry { id: "4-2".into(), batch: "d".into() }]);
        assert!(entries(Value::Null).is_empty());
        assert!(entries(Value::Array(vec![])).is_empty());
    }
}
