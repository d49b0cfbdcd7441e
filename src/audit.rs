//! The audit log: every share, revoke, status and visibility change the dashboard makes,
//! appended to SQLite (by default a file beside the session store). It holds who, in which
//! project, which image and member, the outcome and when; never a token or a password.
//!
//! Writing it never stands in the user's way: a change Glance made is not undone because the
//! log could not be written; that failure is logged as an error instead.

use std::{path::PathBuf, str::FromStr};

use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use tower_sessions_sqlx_store::sqlx::{
    self, Row, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
};

use crate::{
    error::AppError,
    model::{AuditEntry, Change, ImageId, Via},
    session::SignedIn,
};

/// Where the log lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditStoreKind {
    /// Kept in memory for the life of the process (tests, throw-away runs).
    Memory,
    Sqlite(PathBuf),
}

/// How many entries one page of the image page's History shows, newest first.
pub const HISTORY_PAGE: i64 = 20;

#[derive(Clone)]
pub struct AuditLog {
    pool: SqlitePool,
}

/// Who made a change, in which project: the signed-in user, or the same user answering for
/// another of their projects (the inbox).
#[derive(Debug, Clone)]
pub struct Actor {
    pub cloud: String,
    pub region: String,
    pub user_id: String,
    pub user_name: String,
    pub user_domain: String,
    pub project_id: String,
    pub project_name: String,
}

impl Actor {
    pub fn new(who: &SignedIn) -> Actor {
        Actor {
            cloud: who.cloud.clone(),
            region: who.region.clone(),
            user_id: who.user_id.clone(),
            user_name: who.user_name.clone(),
            user_domain: who.user_domain.clone(),
            project_id: who.project_id.clone(),
            project_name: who.project_name.clone(),
        }
    }

    pub fn in_project(mut self, id: &str, name: &str) -> Actor {
        self.project_id = id.to_string();
        self.project_name = name.to_string();
        self
    }
}

/// Whose history a viewer may read: an image's owner (and an admin) sees every change; a
/// member project sees only changes about itself or made by itself, as Glance shows a member
/// only its own membership.
pub enum Viewer<'a> {
    Everything,
    Project(&'a str),
}

impl AuditLog {
    pub async fn open(kind: &AuditStoreKind) -> Result<AuditLog, sqlx::Error> {
        let pool = match kind {
            // One connection that never closes: an in-memory database lives as long as it does.
            AuditStoreKind::Memory => {
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(SqliteConnectOptions::from_str("sqlite::memory:")?)
                    .await?
            }
            AuditStoreKind::Sqlite(path) => {
                // Who changed what is nobody else's business: 0600, as the session store.
                crate::private_file::sqlite_0600(path)?;
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(
                        SqliteConnectOptions::new()
                            .filename(path)
                            .create_if_missing(true)
                            .journal_mode(SqliteJournalMode::Wal),
                    )
                    .await?
            }
        };
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                cloud TEXT NOT NULL,
                region TEXT NOT NULL,
                image_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                user_name TEXT NOT NULL,
                user_domain TEXT NOT NULL,
                project_id TEXT NOT NULL,
                project_name TEXT NOT NULL,
                change TEXT NOT NULL,
                member_id TEXT,
                failure TEXT,
                via TEXT NOT NULL
            )",
        )
        .execute(&pool)
        .await?;
        sqlx::query("CREATE INDEX IF NOT EXISTS audit_by_image ON audit (cloud, region, image_id, id)")
            .execute(&pool)
            .await?;
        Ok(AuditLog { pool })
    }

    /// Appends one change and, when it failed, what the user was told.
    pub async fn record(
        &self,
        who: &Actor,
        via: Via,
        image: &ImageId,
        change: Change,
        member: Option<&str>,
        failure: Option<String>,
    ) {
        let at = OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
        let written = sqlx::query(
            "INSERT INTO audit (at, cloud, region, image_id, user_id, user_name, user_domain, project_id, project_name,
                                change, member_id, failure, via)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(at)
        .bind(&who.cloud)
        .bind(&who.region)
        .bind(image.as_str())
        .bind(&who.user_id)
        .bind(&who.user_name)
        .bind(&who.user_domain)
        .bind(&who.project_id)
        .bind(&who.project_name)
        .bind(change.key())
        .bind(member)
        .bind(failure)
        .bind(via.key())
        .execute(&self.pool)
        .await;
        if let Err(e) = written {
            tracing::error!(image = %image, change = %change.key(), "could not write the audit log: {e}");
        }
    }

    /// `record` for a change whose outcome is the user's answer: the failure is what they are
    /// told. Hands the outcome back, so a call site records and returns in one expression.
    pub async fn recorded<T>(
        &self,
        who: &Actor,
        via: Via,
        image: &ImageId,
        change: Change,
        member: Option<&str>,
        outcome: Result<T, AppError>,
    ) -> Result<T, AppError> {
        let failure = outcome.as_ref().err().map(ToString::to_string);
        self.record(who, via, image, change, member, failure).await;
        outcome
    }

    /// One page of the changes to `image` in `cloud` and `region` that `viewer` may see, newest
    /// first: the newest ones, or those older than entry `before`. The second value is the
    /// `before` of the next (older) page, when there is one.
    pub async fn history(
        &self,
        cloud: &str,
        region: &str,
        image: &ImageId,
        viewer: Viewer<'_>,
        before: Option<i64>,
    ) -> Result<(Vec<AuditEntry>, Option<i64>), AppError> {
        let mut sql = String::from(
            "SELECT id, at, user_name, user_domain, project_id, project_name, change, member_id, failure, via
             FROM audit WHERE cloud = ? AND region = ? AND image_id = ? AND id < ?",
        );
        if let Viewer::Project(_) = viewer {
            sql.push_str(" AND (member_id = ? OR project_id = ?)");
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
        let mut query =
            sqlx::query(&sql).bind(cloud).bind(region).bind(image.as_str()).bind(before.unwrap_or(i64::MAX));
        if let Viewer::Project(project) = viewer {
            query = query.bind(project).bind(project);
        }
        // One more than a page: whether an older page exists, without counting them all.
        let mut rows = query
            .bind(HISTORY_PAGE + 1)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| AppError::internal(format_args!("the audit log could not be read: {e}")))?;
        let more = rows.len() as i64 > HISTORY_PAGE;
        rows.truncate(HISTORY_PAGE as usize);
        let older = if more { rows.last().and_then(|row| row.try_get::<i64, _>("id").ok()) } else { None };
        // A row this version cannot read (written by a newer one) is left out, not a failure.
        let entries = rows
            .iter()
            .filter_map(|row| {
                Some(AuditEntry {
                    id: row.try_get("id").ok()?,
                    at: row.try_get("at").ok()?,
                    user_name: row.try_get("user_name").ok()?,
                    user_domain: row.try_get("user_domain").ok()?,
                    project_id: row.try_get("project_id").ok()?,
                    project_name: row.try_get("project_name").ok()?,
                    change: Change::from_key(row.try_get("change").ok()?)?,
                    member_id: row.try_get("member_id").ok()?,
                    failure: row.try_get("failure").ok()?,
                    via: Via::from_key(row.try_get("via").ok()?)?,
                })
            })
            .collect();
        Ok((entries, older))
    }
}
