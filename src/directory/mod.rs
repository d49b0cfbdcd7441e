//! The directory: project names for every user, read from Keystone by the operator's own
//! reader account (`config::directory`), cached for all users of the instance (or of every
//! instance, through Redis).
//!
//! It makes exactly these Keystone calls, with the reader's token and for nothing else: look a
//! project up by ID, list projects by name (exact, or containing what a user types), and name
//! a domain. It never calls Glance. The reader's token is kept in this process and renewed
//! before it expires; a token Keystone stops accepting (401) is replaced once, at once.

mod cache;

use std::{collections::HashMap, time::Duration};

use openstack::{
    Token, Upstream, UpstreamError,
    ids::MemberId,
    keystone::{Credentials, DomainRef, Keystone, ProjectSummary, Scope},
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::Mutex;
use url::Url;

pub use cache::Cache;

use crate::{
    config::directory::{DirectoryConfig, DirectoryLogin, DirectoryScope, Reveal},
    model::{FoundProject, ProjectName},
};

/// A token is renewed this long before Keystone says it expires (or, for a token that lives
/// less than 20 minutes, when a quarter of its life is left).
const RENEW_BEFORE: Duration = Duration::from_secs(300);
/// After a failed sign-in, the reader waits this long before trying again (a wrong password
/// must not turn every page view into a Keystone sign-in).
const RETRY_SIGN_IN_AFTER: Duration = Duration::from_secs(30);

/// What the cache holds for one project ID.
#[derive(Serialize, Deserialize)]
enum Cached {
    Project { name: String, domain_id: String },
    Missing,
}

pub struct Directory {
    config: DirectoryConfig,
    auth_url: Url,
    token: Mutex<Held>,
    cache: Cache,
}

#[derive(Default)]
struct Held {
    /// The token and when to stop using it.
    token: Option<(Token, OffsetDateTime)>,
    failed_at: Option<std::time::Instant>,
}

/// Whom a lookup is for: which projects may be named to them (`Reveal`).
#[derive(Clone, Copy)]
pub struct Viewer<'a> {
    /// The domain ID of the signed-in user.
    pub domain_id: &'a str,
}

impl Directory {
    pub fn new(config: DirectoryConfig, auth_url: Url, cache: Cache) -> Directory {
        Directory { config, auth_url, token: Mutex::default(), cache }
    }

    /// The cloud whose projects it names.
    pub fn cloud(&self) -> &str {
        &self.config.cloud
    }

    pub fn ttl(&self) -> Duration {
        self.config.ttl
    }

    /// The domain Keystone is asked about, if the viewer may see only their own.
    fn domain_filter<'v>(&self, viewer: Viewer<'v>) -> Option<&'v str> {
        (self.config.reveal == Reveal::OwnDomain).then_some(viewer.domain_id)
    }

    fn may_see(&self, viewer: Viewer<'_>, domain_id: &str) -> bool {
        self.domain_filter(viewer).is_none_or(|own| own == domain_id)
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("glance-share:directory:{}:{kind}:{id}", self.config.cloud)
    }

    /// Names of `ids`: from the cache, and what it lacks from Keystone (at most `concurrency`
    /// calls at once). IDs of projects the viewer may not see, or that Keystone could not
    /// answer for, are left out; Keystone's "no such project" is `ProjectName::Deleted`.
    pub async fn names(
        &self,
        http: &Upstream,
        ids: &[MemberId],
        viewer: Viewer<'_>,
        concurrency: usize,
    ) -> HashMap<String, ProjectName> {
        let keys: Vec<String> = ids.iter().map(|id| self.key("project", id.as_str())).collect();
        let mut known: HashMap<String, Cached> = HashMap::new();
        let mut unknown = Vec::new();
        for (id, value) in ids.iter().zip(self.cache.get_many(&keys).await) {
            match value.and_then(|v| serde_json::from_str::<Cached>(&v).ok()) {
                Some(cached) => drop(known.insert(id.to_string(), cached)),
                None => unknown.push(id.clone()),
            }
        }
        if !unknown.is_empty() {
            let looked_up = crate::concurrency::bounded(unknown, concurrency, |id| async move {
                let id_ref = &id;
                let found = self.with_token(http, |k, t| async move { k.project(&t, id_ref).await }).await;
                found.map(|p| (id, p))
            })
            .await;
            let mut fresh = Vec::new();
            for found in looked_up {
                let (id, cached) = match found {
                    Ok((id, Some(p))) => (id, Cached::Project { name: p.name, domain_id: p.domain_id }),
                    Ok((id, None)) => (id, Cached::Missing),
                    Err(e) => {
                        tracing::warn!("the directory could not look a project up: {e}");
                        continue;
                    }
                };
                fresh.push((self.key("project", id.as_str()), serde_json::to_string(&cached).unwrap_or_default()));
                known.insert(id.to_string(), cached);
            }
            self.cache.put_many(fresh).await;
        }
        let domain_ids: Vec<String> = known
            .values()
            .filter_map(|c| match c {
                Cached::Project { domain_id, .. } if self.may_see(viewer, domain_id) => Some(domain_id.clone()),
                _ => None,
            })
            .collect();
        let domains = self.domain_names(http, domain_ids).await;
        known
            .into_iter()
            .filter_map(|(id, cached)| match cached {
                Cached::Missing => Some((id, ProjectName::Deleted)),
                Cached::Project { name, domain_id } if self.may_see(viewer, &domain_id) => {
                    Some((id, ProjectName::Named { name, domain: domains.get(&domain_id).cloned() }))
                }
                Cached::Project { .. } => None,
            })
            .collect()
    }

    /// Every project called exactly `name` that the viewer may see (one per domain at most).
    pub async fn named(
        &self,
        http: &Upstream,
        name: &str,
        viewer: Viewer<'_>,
    ) -> Result<Vec<FoundProject>, UpstreamError> {
        let domain = self.domain_filter(viewer);
        let found = self.with_token(http, |k, t| async move { k.projects_named(&t, name, domain).await }).await?;
        Ok(self.found(http, found).await)
    }

    /// At most `limit` projects whose name contains `fragment` (ignoring case), that the
    /// viewer may see, by name.
    pub async fn suggest(
        &self,
        http: &Upstream,
        fragment: &str,
        viewer: Viewer<'_>,
        limit: usize,
    ) -> Result<Vec<FoundProject>, UpstreamError> {
        let domain = self.domain_filter(viewer);
        let mut found =
            self.with_token(http, |k, t| async move { k.projects_containing(&t, fragment, domain).await }).await?;
        found.truncate(limit);
        Ok(self.found(http, found).await)
    }

    /// Projects Keystone listed, with their domains' names; each also warms the ID cache.
    async fn found(&self, http: &Upstream, projects: Vec<ProjectSummary>) -> Vec<FoundProject> {
        let domains = self.domain_names(http, projects.iter().map(|p| p.domain_id.clone()).collect()).await;
        let warm = projects
            .iter()
            .map(|p| {
                let cached = Cached::Project { name: p.name.clone(), domain_id: p.domain_id.clone() };
                (self.key("project", &p.id), serde_json::to_string(&cached).unwrap_or_default())
            })
            .collect();
        self.cache.put_many(warm).await;
        projects
            .into_iter()
            .map(|p| FoundProject { domain: domains.get(&p.domain_id).cloned(), id: p.id, name: p.name })
            .collect()
    }

    /// Names of domains, by ID (few: every project of a page usually shares one or two).
    async fn domain_names(&self, http: &Upstream, mut ids: Vec<String>) -> HashMap<String, String> {
        ids.sort();
        ids.dedup();
        let keys: Vec<String> = ids.iter().map(|id| self.key("domain", id)).collect();
        let mut names = HashMap::new();
        let mut fresh = Vec::new();
        for (id, cached) in ids.into_iter().zip(self.cache.get_many(&keys).await) {
            if let Some(name) = cached {
                names.insert(id, name);
                continue;
            }
            let id_ref = id.as_str();
            match self.with_token(http, |k, t| async move { k.domain(&t, id_ref).await }).await {
                Ok(Some(domain)) => {
                    fresh.push((self.key("domain", &id), domain.name.clone()));
                    names.insert(id, domain.name);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("the directory could not name a domain: {e}"),
            }
        }
        self.cache.put_many(fresh).await;
        names
    }

    /// Calls `f` with the reader's token, signing in first when there is none or it is about
    /// to expire; once more with a new token when Keystone no longer accepts the one held.
    async fn with_token<'s, T, F, Fut>(&'s self, http: &'s Upstream, f: F) -> Result<T, UpstreamError>
    where
        F: Fn(Keystone<'s>, Token) -> Fut,
        Fut: std::future::Future<Output = Result<T, UpstreamError>>,
    {
        let token = self.token(http, None).await?;
        match f(Keystone::new(http, &self.auth_url), token.clone()).await {
            Err(e) if e.status() == Some(401) => {
                let token = self.token(http, Some(&token)).await?;
                f(Keystone::new(http, &self.auth_url), token).await
            }
            other => other,
        }
    }

    /// The reader's token: the one held until its renewal time (see `RENEW_BEFORE`), unless
    /// it is `refused`; else a new one. Lookups running at once that all saw the same token refused
    /// get one new token between them, not one each.
    async fn token(&self, http: &Upstream, refused: Option<&Token>) -> Result<Token, UpstreamError> {
        let mut held = self.token.lock().await;
        if let Some((token, renew_at)) = &held.token
            && *renew_at > OffsetDateTime::now_utc()
            && refused.is_none_or(|r| r.expose() != token.expose())
        {
            return Ok(token.clone());
        }
        if let Some(failed_at) = held.failed_at
            && failed_at.elapsed() < RETRY_SIGN_IN_AFTER
        {
            return Err(UpstreamError::Unreachable {
                service: openstack::Service::Keystone,
                detail: "the directory reader could not sign in a moment ago".into(),
            });
        }
        let credentials = match &self.config.login {
            DirectoryLogin::Password { user_name, user_domain, password } => Credentials::Password {
                user_name: user_name.clone(),
                user_domain: user_domain.clone(),
                password: password.expose_secret().to_string().into(),
            },
            DirectoryLogin::ApplicationCredential { id, secret } => {
                Credentials::ApplicationCredential { id: id.clone(), secret: secret.expose_secret().to_string().into() }
            }
        };
        let scope = match &self.config.scope {
            DirectoryScope::System => Scope::System,
            DirectoryScope::Domain(name) => Scope::Domain(DomainRef::Name(name.clone())),
        };
        match Keystone::new(http, &self.auth_url).authenticate(&credentials, Some(&scope)).await {
            Ok(auth) => {
                tracing::info!(cloud = %self.config.cloud, expires_at = %auth.expires_at, "directory reader signed in");
                let life: time::Duration = auth.expires_at - OffsetDateTime::now_utc();
                let most = time::Duration::try_from(RENEW_BEFORE).unwrap_or(time::Duration::ZERO);
                let margin: time::Duration = std::cmp::min(life / 4_i32, most);
                held.token = Some((auth.token.clone(), auth.expires_at - margin));
                held.failed_at = None;
                Ok(auth.token)
            }
            Err(e) => {
                tracing::warn!(cloud = %self.config.cloud, "the directory reader could not sign in: {e}");
                held.token = None;
                held.failed_at = Some(std::time::Instant::now());
                Err(e)
            }
        }
    }
}
