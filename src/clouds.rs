//! The clouds users may sign in to, read the OpenStack way: `clouds.yaml` (openstacksdk's search
//! path and keys) and `OS_*` variables. The browser only ever picks one of these by name, so the
//! dashboard never talks to a Keystone the browser chose.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::{config::ConfigError, openstack::keystone::DomainRef};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    pub name: String,
    /// The identity v3 URL.
    pub auth_url: Url,
    pub user_domain: DomainRef,
    pub project_domain: DomainRef,
    /// The project offered by default on the sign-in form.
    pub project_name: Option<String>,
    /// The region chosen first after sign-in, when it has an image endpoint.
    pub region_name: Option<String>,
    /// Which catalog interface to use (`public` unless configured).
    pub interface: String,
}

impl Cloud {
    pub fn domain_label(domain: &DomainRef) -> String {
        match domain {
            DomainRef::Name(n) | DomainRef::Id(n) => n.clone(),
        }
    }
}

#[derive(Deserialize, Default)]
struct CloudsFile {
    #[serde(default)]
    clouds: serde_yaml_ng::Mapping,
}

#[derive(Deserialize, Default)]
struct CloudEntry {
    #[serde(default)]
    auth: AuthEntry,
    region_name: Option<String>,
    interface: Option<String>,
}

/// Only the keys that say where and how to sign in. Passwords and secrets that a clouds.yaml
/// may hold are never read: browser users bring their own.
#[derive(Deserialize, Default)]
struct AuthEntry {
    auth_url: Option<String>,
    user_domain_name: Option<String>,
    user_domain_id: Option<String>,
    project_domain_name: Option<String>,
    project_domain_id: Option<String>,
    domain_name: Option<String>,
    project_name: Option<String>,
}

/// openstacksdk's order: `OS_CLIENT_CONFIG_FILE`, then the working directory, the user's
/// config directory and `/etc/openstack`; the first file found is used.
fn clouds_yaml_path(lookup: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(explicit) = lookup("OS_CLIENT_CONFIG_FILE") {
        return Some(PathBuf::from(explicit));
    }
    let mut candidates = vec![PathBuf::from("clouds.yaml")];
    if let Some(home) = lookup("HOME") {
        candidates.push(Path::new(&home).join(".config/openstack/clouds.yaml"));
    }
    candidates.push(PathBuf::from("/etc/openstack/clouds.yaml"));
    candidates.into_iter().find(|p| p.is_file())
}

/// Reads every configured cloud; a configuration that offers none is an error at start-up,
/// not a sign-in page that cannot work.
pub fn load(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<Cloud>, ConfigError> {
    let mut clouds = Vec::new();
    if let Some(path) = clouds_yaml_path(lookup) {
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
            name: "OS_CLIENT_CONFIG_FILE",
            value: path.display().to_string(),
            reason: e.to_string(),
        })?;
        clouds.extend(parse_clouds_yaml(&text, &path)?);
    }
    if let Some(auth_url) = lookup("OS_AUTH_URL") {
        let entry = CloudEntry {
            auth: AuthEntry {
                auth_url: Some(auth_url),
                user_domain_name: lookup("OS_USER_DOMAIN_NAME"),
                user_domain_id: lookup("OS_USER_DOMAIN_ID"),
                project_domain_name: lookup("OS_PROJECT_DOMAIN_NAME"),
                project_domain_id: lookup("OS_PROJECT_DOMAIN_ID"),
                domain_name: None,
                project_name: lookup("OS_PROJECT_NAME"),
            },
            region_name: lookup("OS_REGION_NAME"),
            interface: lookup("OS_INTERFACE"),
        };
        // openstacksdk's name for the cloud described by OS_* variables.
        clouds.push(cloud_from_entry("envvars", entry, "OS_AUTH_URL")?);
    }

    let wanted: Option<Vec<String>> = lookup("GLANCE_SHARE_CLOUDS")
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .or_else(|| lookup("OS_CLOUD").map(|c| vec![c]));
    if let Some(wanted) = wanted {
        for name in &wanted {
            if !clouds.iter().any(|c| &c.name == name) {
                return Err(ConfigError {
                    name: "GLANCE_SHARE_CLOUDS",
                    value: name.clone(),
                    reason: "no cloud of that name in clouds.yaml or OS_AUTH_URL".into(),
                });
            }
        }
        clouds.retain(|c| wanted.contains(&c.name));
    }
    if clouds.is_empty() {
        return Err(ConfigError {
            name: "OS_CLIENT_CONFIG_FILE",
            value: String::new(),
            reason: "no cloud is configured: point OS_CLIENT_CONFIG_FILE at a clouds.yaml, or set OS_AUTH_URL".into(),
        });
    }
    Ok(clouds)
}

fn parse_clouds_yaml(text: &str, path: &Path) -> Result<Vec<Cloud>, ConfigError> {
    let invalid =
        |reason: String| ConfigError { name: "OS_CLIENT_CONFIG_FILE", value: path.display().to_string(), reason };
    let file: CloudsFile = serde_yaml_ng::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let mut clouds = Vec::new();
    for (name, value) in file.clouds {
        let Some(name) = name.as_str().map(str::to_string) else { continue };
        let entry: CloudEntry = serde_yaml_ng::from_value(value).map_err(|e| invalid(format!("cloud {name}: {e}")))?;
        clouds.push(cloud_from_entry(&name, entry, "OS_CLIENT_CONFIG_FILE")?);
    }
    Ok(clouds)
}

fn cloud_from_entry(name: &str, entry: CloudEntry, setting: &'static str) -> Result<Cloud, ConfigError> {
    let invalid = |reason: &str| ConfigError { name: setting, value: name.to_string(), reason: reason.to_string() };
    let raw = entry.auth.auth_url.ok_or_else(|| invalid("the cloud has no auth.auth_url"))?;
    let auth_url = identity_v3_url(&raw).ok_or_else(|| invalid("auth.auth_url is not an http(s) URL"))?;
    let domain = |name: Option<String>, id: Option<String>| match (name, id, entry.auth.domain_name.clone()) {
        (Some(n), _, _) => DomainRef::Name(n),
        (None, Some(id), _) => DomainRef::Id(id),
        (None, None, Some(n)) => DomainRef::Name(n),
        (None, None, None) => DomainRef::Id("default".into()),
    };
    Ok(Cloud {
        name: name.to_string(),
        auth_url,
        user_domain: domain(entry.auth.user_domain_name, entry.auth.user_domain_id),
        project_domain: domain(entry.auth.project_domain_name, entry.auth.project_domain_id),
        project_name: entry.auth.project_name,
        region_name: entry.region_name,
        interface: entry.interface.unwrap_or_else(|| "public".into()),
    })
}

/// clouds.yaml often names Keystone without its version; glance-share speaks v3 only, so it
/// appends `/v3` instead of asking Keystone on every sign-in.
fn identity_v3_url(raw: &str) -> Option<Url> {
    let url = Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    let path = url.path().trim_end_matches('/');
    let mut url = url.clone();
    if path.ends_with("/v3") {
        url.set_path(path);
    } else {
        url.set_path(&format!("{path}/v3"));
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const YAML: &str = r#"
clouds:
  lab:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      user_domain_name: Default
      project_domain_name: Default
      project_name: producer
      username: someone
      password: never-read
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  other:
    auth:
      auth_url: https://keystone.example.org:5000/
      project_domain_id: abc123
    interface: internal
"#;

    fn load_with(pairs: &[(&str, &str)]) -> Result<Vec<Cloud>, ConfigError> {
        let dir = std::env::temp_dir().join(format!("gs-clouds-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("clouds.yaml");
        std::fs::write(&file, YAML).unwrap();
        let mut env: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.entry("OS_CLIENT_CONFIG_FILE".into()).or_insert(file.display().to_string());
        let result = load(&|k: &str| env.get(k).cloned());
        std::fs::remove_dir_all(dir).unwrap();
        result
    }

    #[test]
    fn clouds_yaml_keys_are_read_in_order() {
        let clouds = load_with(&[]).unwrap();
        assert_eq!(clouds.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["lab", "other"]);
        let lab = &clouds[0];
        assert_eq!(lab.auth_url.as_str(), "http://127.0.0.1:5000/v3");
        assert_eq!(lab.user_domain, DomainRef::Name("Default".into()));
        assert_eq!(lab.project_name.as_deref(), Some("producer"));
        assert_eq!(lab.region_name.as_deref(), Some("RegionOne"));
        let other = &clouds[1];
        assert_eq!(other.auth_url.as_str(), "https://keystone.example.org:5000/v3");
        assert_eq!(other.project_domain, DomainRef::Id("abc123".into()));
        assert_eq!(other.user_domain, DomainRef::Id("default".into()));
        assert_eq!(other.interface, "internal");
    }

    #[test]
    fn os_variables_add_the_envvars_cloud() {
        let clouds = load_with(&[("OS_AUTH_URL", "http://10.1.1.1:5000"), ("OS_REGION_NAME", "R2")]).unwrap();
        let env = clouds.iter().find(|c| c.name == "envvars").unwrap();
        assert_eq!(env.auth_url.as_str(), "http://10.1.1.1:5000/v3");
        assert_eq!(env.region_name.as_deref(), Some("R2"));
    }

    #[test]
    fn the_offered_clouds_can_be_narrowed() {
        let clouds = load_with(&[("GLANCE_SHARE_CLOUDS", "other")]).unwrap();
        assert_eq!(clouds.len(), 1);
        let clouds = load_with(&[("OS_CLOUD", "lab")]).unwrap();
        assert_eq!(clouds[0].name, "lab");
        assert_eq!(load_with(&[("GLANCE_SHARE_CLOUDS", "nope")]).unwrap_err().value, "nope");
    }

    #[test]
    fn no_cloud_at_all_is_a_start_up_error() {
        let env: HashMap<String, String> =
            [("OS_CLIENT_CONFIG_FILE".to_string(), "/nonexistent/clouds.yaml".to_string())].into();
        assert!(load(&|k: &str| env.get(k).cloned()).is_err());
        let empty: HashMap<String, String> = [("HOME".to_string(), "/nonexistent".to_string())].into();
        assert!(load(&|k: &str| empty.get(k).cloned()).is_err());
    }
}
