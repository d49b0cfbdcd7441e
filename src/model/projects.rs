//! Projects as people know them: by name and domain, with the ID (the truth in every form and
//! export) one click away.

use serde::{Deserialize, Serialize};

/// What the dashboard may show of a project it knows by ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectName {
    /// Keystone named it (the domain where the dashboard knows it).
    Named { name: String, domain: Option<String> },
    /// Keystone says there is no project with this ID: deleted, or never one. Glance keeps the
    /// memberships of deleted projects.
    Deleted,
}

impl ProjectName {
    /// "name (domain)", or the name alone.
    pub fn label(&self) -> Option<String> {
        match self {
            ProjectName::Named { name, domain: Some(d) } => Some(format!("{name} ({d})")),
            ProjectName::Named { name, domain: None } => Some(name.clone()),
            ProjectName::Deleted => None,
        }
    }
}

/// A project found by its name, or suggested while typing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundProject {
    pub id: String,
    pub name: String,
    pub domain: Option<String>,
}

impl FoundProject {
    /// "name (domain)".
    pub fn label(&self) -> String {
        ProjectName::Named { name: self.name.clone(), domain: self.domain.clone() }.label().unwrap_or_default()
    }
}
