//! The signed-in user's state, kept server-side by tower-sessions. The browser holds only the
//! session cookie; the token never leaves the server, and the store holds it sealed
//! (`secret_key::sealed`): a copy of the store is no copy of the tokens.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::{Expiry, Session};

use crate::{
    error::AppError,
    model::{Me, ProjectChoice},
};
use openstack::{Token, keystone::ImageEndpoint};

const SIGNED_IN: &str = "signed_in";
/// Left in a session whose token the cloud stopped accepting, so that every later request
/// (also ones already under way) says "expired" rather than "not signed in".
const ENDED: &str = "ended";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    pub cloud: String,
    #[serde(with = "crate::secret_key::sealed")]
    pub token: Token,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// False for application credentials: their tokens are bound to one project.
    pub can_switch_project: bool,
    pub user_id: String,
    pub user_name: String,
    pub user_domain: String,
    /// The user's domain's ID: with `GLANCE_SHARE_DIRECTORY_REVEAL=own-domain`, the only
    /// domain whose projects are named to them. (Absent in sessions older than the setting:
    /// then no project is.)
    #[serde(default)]
    pub user_domain_id: String,
    pub project_id: String,
    pub project_name: String,
    pub roles: Vec<String>,
    pub image_endpoints: Vec<ImageEndpoint>,
    pub region: String,
    pub projects: Vec<ProjectChoice>,
}

impl SignedIn {
    /// What the browser may know about this sign-in.
    pub fn me(&self) -> Me {
        Me {
            cloud: self.cloud.clone(),
            user_name: self.user_name.clone(),
            user_domain: self.user_domain.clone(),
            project_id: self.project_id.clone(),
            project_name: self.project_name.clone(),
            region: self.region.clone(),
            regions: self.image_endpoints.iter().map(|e| e.region.clone()).collect(),
            roles: self.roles.clone(),
            projects: if self.can_switch_project { self.projects.clone() } else { Vec::new() },
            expires_at: self.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            directory: false,
        }
    }

    /// The image endpoint of the chosen region.
    pub fn image_url(&self) -> Result<&str, AppError> {
        self.image_endpoints
            .iter()
            .find(|e| e.region == self.region)
            .map(|e| e.url.as_str())
            .ok_or_else(|| AppError::InvalidInput(format!("Region {} has no image endpoint.", self.region)))
    }

    pub fn is_admin(&self) -> bool {
        crate::model::has_admin_role(&self.roles)
    }

    pub fn is_expired(&self) -> bool {
        self.expires_at <= OffsetDateTime::now_utc()
    }
}

fn store_error(e: tower_sessions::session::Error) -> AppError {
    AppError::internal(format_args!("session store error: {e}"))
}

/// The signed-in user, or why there is none. An expired token ends the session, and so does
/// one sealed under a key this server no longer has (the key file was replaced or lost).
pub async fn current(session: &Session) -> Result<SignedIn, AppError> {
    let stored = match session.get::<SignedIn>(SIGNED_IN).await {
        Err(tower_sessions::session::Error::SerdeJson(e)) => {
            tracing::warn!("a session could not be opened ({e}); it ends");
            end_expired(session).await;
            return Err(AppError::SessionExpired);
        }
        other => other.map_err(store_error)?,
    };
    match stored {
        Some(signed_in) if !signed_in.is_expired() => {
            cap_expiry(session, signed_in.expires_at);
            Ok(signed_in)
        }
        Some(_) => {
            end_expired(session).await;
            Err(AppError::SessionExpired)
        }
        None if session.get::<bool>(ENDED).await.map_err(store_error)?.unwrap_or(false) => {
            Err(AppError::SessionExpired)
        }
        None => Err(AppError::NotSignedIn),
    }
}

/// Ends a session whose token is no longer accepted, keeping only the note that it ended.
pub async fn end_expired(session: &Session) {
    let result = async {
        session.remove_value(SIGNED_IN).await?;
        // Dropped with it: a re-scoped token expires when the one it came from does.
        session.remove_value(PROJECT_TOKENS).await?;
        session.insert(ENDED, true).await
    }
    .await;
    if let Err(e) = result {
        tracing::error!("could not end an expired session: {e}");
    }
}

/// Starts a signed-in session under a new id (no session fixation), ending after `idle` without
/// a request, and never after the token expires (see `cap_expiry`).
pub async fn begin(session: &Session, signed_in: &SignedIn, idle: Duration) -> Result<(), AppError> {
    session.cycle_id().await.map_err(store_error)?;
    session.set_expiry(Some(Expiry::OnInactivity(time::Duration::try_from(idle).unwrap_or(time::Duration::HOUR))));
    cap_expiry(session, signed_in.expires_at);
    session.remove_value(ENDED).await.map_err(store_error)?;
    update(session, signed_in).await
}

/// Keeps the session, and the cookie that names it, from outliving its token: once the idle
/// window would reach past the token's expiry, the session ends exactly when the token does.
/// Runs on every request that reads the session, as each one moves the idle window on.
fn cap_expiry(session: &Session, token_expires_at: OffsetDateTime) {
    if let Some(capped) = capped_expiry(session.expiry(), token_expires_at, OffsetDateTime::now_utc()) {
        session.set_expiry(Some(capped));
    }
}

/// The expiry to use instead of `expiry` (none: it is fine as it is).
fn capped_expiry(expiry: Option<Expiry>, token_expires_at: OffsetDateTime, now: OffsetDateTime) -> Option<Expiry> {
    let ends = match expiry {
        Some(Expiry::OnInactivity(idle)) => now.saturating_add(idle),
        Some(Expiry::AtDateTime(at)) => at,
        // A browser-session cookie: the store would keep the record for its default time.
        Some(Expiry::OnSessionEnd) | None => return Some(Expiry::AtDateTime(token_expires_at)),
    };
    (ends > token_expires_at).then_some(Expiry::AtDateTime(token_expires_at))
}

/// Replaces the stored state (after a project or region switch) under the same id.
pub async fn update(session: &Session, signed_in: &SignedIn) -> Result<(), AppError> {
    session.insert(SIGNED_IN, signed_in).await.map_err(store_error)
}

/// Deletes the session from the store; the cookie becomes worthless.
pub async fn end(session: &Session) {
    if let Err(e) = session.flush().await {
        tracing::error!("could not delete a session: {e}");
    }
}

/// The signed-in state a session holds, expired or not (whose tokens a sign-out or a new
/// sign-in revokes); none when there is none or it cannot be opened.
pub async fn held(session: &Session) -> Option<SignedIn> {
    session.get::<SignedIn>(SIGNED_IN).await.ok().flatten()
}

const PROJECT_TOKENS: &str = "project_tokens";
/// How long before its end a kept token is no longer handed out: a call started with it
/// must not outlive it.
const PROJECT_TOKEN_MARGIN: time::Duration = time::Duration::minutes(1);

/// A token re-scoped to another of the user's projects (for the inbox), kept sealed in the
/// session until it expires, so that the next view reuses it, and revoked at sign-out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectToken {
    pub project_id: String,
    #[serde(with = "crate::secret_key::sealed")]
    pub token: Token,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The image endpoints of its catalog, every region's.
    pub image_endpoints: Vec<ImageEndpoint>,
    /// The token holds the admin role in that project (Glance then answers differently).
    #[serde(default)]
    pub admin: bool,
}

impl ProjectToken {
    fn is_live(&self) -> bool {
        self.expires_at > OffsetDateTime::now_utc() + PROJECT_TOKEN_MARGIN
    }
}

/// The project tokens this session keeps that still have time to live. One that cannot be
/// opened (another key) is as good as none.
pub async fn project_tokens(session: &Session) -> Vec<ProjectToken> {
    all_project_tokens(session).await.into_iter().filter(ProjectToken::is_live).collect()
}

async fn all_project_tokens(session: &Session) -> Vec<ProjectToken> {
    session.get(PROJECT_TOKENS).await.ok().flatten().unwrap_or_default()
}

/// Keeps `tokens` (the live ones) as the session's project tokens, replacing those it had.
pub async fn keep_project_tokens(session: &Session, mut tokens: Vec<ProjectToken>) {
    tokens.retain(ProjectToken::is_live);
    if let Err(e) = session.insert(PROJECT_TOKENS, tokens).await {
        tracing::warn!("could not keep the re-scoped tokens: {e}");
    }
}

/// Removes the session's project tokens and hands over those not yet expired (to be revoked).
pub async fn take_project_tokens(session: &Session) -> Vec<ProjectToken> {
    let now = OffsetDateTime::now_utc();
    let kept: Vec<ProjectToken> =
        all_project_tokens(session).await.into_iter().filter(|t| t.expires_at > now).collect();
    if let Err(e) = session.remove_value(PROJECT_TOKENS).await {
        tracing::warn!("could not drop the re-scoped tokens: {e}");
    }
    kept
}

const NO_PROJECT_LOOKUP: &str = "no_project_lookup_in";

/// True when Keystone already refused to look projects up for this user in `project_id`
/// (ordinary members may only read their own projects): every image page would ask again.
pub async fn project_lookup_refused(session: &Session, project_id: &str) -> bool {
    matches!(session.get::<String>(NO_PROJECT_LOOKUP).await, Ok(Some(p)) if p == project_id)
}

pub async fn remember_project_lookup_refused(session: &Session, project_id: &str) {
    if let Err(e) = session.insert(NO_PROJECT_LOOKUP, project_id).await {
        tracing::warn!("could not remember a refused project lookup: {e}");
    }
}

const REPORT_IDS: &str = "report_ids";
/// Results kept per session: enough to reopen recent ones, bounded so a session stays small.
const KEPT_REPORTS: usize = 20;

/// Keeps the result of an action so the page can show it, also after a form post without
/// JavaScript or after the browser went away; returns the id to open it by.
pub async fn save_report<T: Serialize>(session: &Session, report: &T) -> Result<String, AppError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut ids: Vec<String> = session.get(REPORT_IDS).await.map_err(store_error)?.unwrap_or_default();
    while ids.len() >= KEPT_REPORTS {
        let old = ids.remove(0);
        session.remove_value(&format!("report:{old}")).await.map_err(store_error)?;
    }
    session.insert(&format!("report:{id}"), report).await.map_err(store_error)?;
    ids.push(id.clone());
    session.insert(REPORT_IDS, ids).await.map_err(store_error)?;
    Ok(id)
}

/// A result saved by `save_report`, if this session has it.
pub async fn report<T: serde::de::DeserializeOwned>(session: &Session, id: &str) -> Result<Option<T>, AppError> {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    session.get(&format!("report:{id}")).await.map_err(store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_never_outlives_the_token() {
        let now = OffsetDateTime::now_utc();
        let token = now + time::Duration::minutes(5);
        let capped = Some(Expiry::AtDateTime(token));
        assert_eq!(capped_expiry(Some(Expiry::OnInactivity(time::Duration::HOUR)), token, now), capped);
        assert_eq!(capped_expiry(Some(Expiry::OnInactivity(time::Duration::minutes(2))), token, now), None);
        assert_eq!(capped_expiry(Some(Expiry::AtDateTime(token + time::Duration::SECOND)), token, now), capped);
        assert_eq!(capped_expiry(Some(Expiry::AtDateTime(token)), token, now), None);
        assert_eq!(capped_expiry(None, token, now), capped);
        assert_eq!(capped_expiry(Some(Expiry::OnSessionEnd), token, now), capped);
    }
}
