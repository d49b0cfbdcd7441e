//! The sharing service: the rules of image sharing, called by the server functions and by
//! nothing else. Each call is made on behalf of a `Caller` (the signed-in user, their session
//! and the app's shared parts) and answers in `AppError`s; it reaches Keystone and Glance only
//! through the `openstack` clients, and never calls a server function or the UI.
//!
//! - `members`: share with pasted projects, revoke, set a member's status.
//! - `projects`: the one rule for pasted project IDs, and project names.
//! - `images`: image lists and the image page.
//! - `offers`: what is offered to a project (confirmed one by one for an admin's token).
//! - `inbox`: the offers to every project of the user, through re-scoped tokens; answering them.
//! - `batch`: the plan of a batch and its run on the batch engine (`crate::batch`); retry, export.
//! - `export`: Terraform / OpenTofu for an image's members.
//! - `review`: the access review, every shared image of a project with every member.

pub mod batch;
pub mod export;
pub mod images;
pub mod inbox;
pub mod members;
pub mod offers;
pub mod projects;
pub mod review;
pub mod rollover;

use openstack::{glance::Glance, keystone::Keystone};
use tower_sessions::Session;

use crate::{error::AppError, session::SignedIn, state::AppState};

/// On whose behalf the service acts: the signed-in user, the session they came from (it keeps
/// re-scoped tokens and what Keystone refused them) and the app's shared parts.
#[derive(Clone)]
pub struct Caller {
    pub state: AppState,
    pub session: Session,
    pub me: SignedIn,
}

impl Caller {
    /// The Glance of the user's region, called with their token.
    pub fn glance(&self) -> Result<Glance<'_>, AppError> {
        Ok(Glance::new(&self.state.http, self.me.image_url()?, &self.me.token)?)
    }

    /// The Keystone of the user's cloud.
    pub fn keystone(&self) -> Result<Keystone<'_>, AppError> {
        let cloud = self.state.config.cloud(&self.me.cloud).ok_or(AppError::NotSignedIn)?;
        Ok(Keystone::new(&self.state.http, &cloud.auth_url))
    }

    /// The operator's directory reader, when it serves this user's cloud.
    pub fn directory(&self) -> Option<&crate::directory::Directory> {
        self.state.directory.as_deref().filter(|d| d.cloud() == self.me.cloud)
    }

    /// Whom the directory answers.
    pub fn viewer(&self) -> crate::directory::Viewer<'_> {
        crate::directory::Viewer { domain_id: &self.me.user_domain_id }
    }

    /// Upstream calls one request may have in flight at once.
    pub fn concurrency(&self) -> usize {
        self.state.config.batch_concurrency
    }
}
