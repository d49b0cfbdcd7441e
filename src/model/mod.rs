//! Values shared by the server and the browser.

pub mod audit;
pub mod batch;
pub mod ids;
pub mod images;
pub mod projects;
pub mod review;
pub mod rollover;
pub mod terraform;
pub mod words;

pub use audit::{AuditEntry, Change, Via};
pub use batch::*;
pub use ids::{IdError, ImageId, MemberId, urlencode};
pub use images::*;
pub use openstack::records::{Image, Member, MemberStatus, Visibility};
pub use projects::{FoundProject, ProjectName};
pub use review::{AccessReview, Flag, ReviewImage, ReviewPage, ReviewProgress, Selection};
pub use rollover::{RolloverForm, RolloverMember, RolloverOptions, RolloverPage, RolloverPlan, Successor};
use serde::{Deserialize, Serialize};
pub use terraform::Provider;
#[cfg(feature = "ssr")]
pub use words::member_status;
pub use words::{ImageWords, StatusWords, VisibilityWords};

/// A Terraform / OpenTofu file to show or download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerraformFile {
    pub file_name: String,
    pub text: String,
}

/// Who is signed in, where: what the header shows. Never holds the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub cloud: String,
    pub user_name: String,
    pub user_domain: String,
    pub project_id: String,
    pub project_name: String,
    pub region: String,
    /// Regions whose catalog has an image endpoint.
    pub regions: Vec<String>,
    pub roles: Vec<String>,
    /// The projects this user may switch to (empty when the sign-in method cannot re-scope).
    pub projects: Vec<ProjectChoice>,
    /// When the token ends, RFC 3339.
    pub expires_at: String,
    /// The operator's directory names projects for this user: project names are accepted
    /// wherever projects are pasted, and suggested while typing.
    #[serde(default)]
    pub directory: bool,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        has_admin_role(&self.roles)
    }
}

/// The one admin rule: a token whose roles include `admin` (Glance's default policy). Such a
/// token may set any member's status, and Glance lists every shared image for it.
pub fn has_admin_role(roles: &[String]) -> bool {
    roles.iter().any(|r| r == "admin")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectChoice {
    pub id: String,
    pub name: String,
    pub domain_id: String,
}

/// A configured cloud as the sign-in page offers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudChoice {
    pub name: String,
    /// Where its Keystone is, shown so users know which cloud they sign in to.
    pub auth_url: String,
    pub user_domain: String,
    pub project_domain: String,
    pub project_name: Option<String>,
}

/// How the user proves who they are on the sign-in page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInMethod {
    Password,
    ApplicationCredential,
    Token,
}

impl SignInMethod {
    pub const ALL: [SignInMethod; 3] =
        [SignInMethod::Password, SignInMethod::ApplicationCredential, SignInMethod::Token];

    pub fn key(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::ApplicationCredential => "application-credential",
            SignInMethod::Token => "token",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SignInMethod::Password => "Password",
            SignInMethod::ApplicationCredential => "Application credential",
            SignInMethod::Token => "Existing token",
        }
    }

    pub fn from_key(key: &str) -> Option<SignInMethod> {
        SignInMethod::ALL.into_iter().find(|m| m.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_methods_round_trip_through_their_keys() {
        for m in SignInMethod::ALL {
            assert_eq!(SignInMethod::from_key(m.key()), Some(m));
        }
        assert_eq!(SignInMethod::from_key("kerberos"), None);
    }
}
