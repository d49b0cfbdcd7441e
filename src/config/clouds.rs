//! The clouds users may sign in to, read the OpenStack way: `clouds.yaml` (openstacksdk's search
//! path and keys) and `OS_*` variables. The browser only ever picks one of these by name, so the
//! dashboard never talks to a Keystone the browser chose.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use super::ConfigError;
use openstack::keystone::DomainRef;

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

/// Where openstacksdk looks for its file, in its order (`openstack/config/loader.py`): the
/// working directory, the user's config directory (`$XDG_CONFIG_HOME/openstack`, by default
/// `~/.config/openstack`), `~/.config/openstack`, the site config directories
/// (`$XDG_CONFIG_DIRS`, by default `/etc/xdg`, each with `/openstack`) and `/etc/openstack`;
/// in each `clouds.yaml`, `clouds.yml`, then `clouds.json`.
fn search_path(lookup: &impl Fn(&str) -> Option<String>, cwd: &Path) -> Vec<PathBuf> {
    let set = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let home_config = set("HOME").map(|home| Path::new(&home).join(".config/openstack"));
    // platformdirs ignores a relative XDG_CONFIG_HOME.
    let user_config = set("XDG_CONFIG_HOME")
        .filter(|d| Path::new(d).is_absolute())
        .map(|d| Path::new(&d).join("openstack"))
        .or_else(|| home_config.clone());
    let site_configs: Vec<PathBuf> = set("XDG_CONFIG_DIRS")
        .unwrap_or_else(|| "/etc/xdg".into())
        .split(':')
        .filter(|d| Path::new(d).is_absolute())
        .map(|d| Path::new(d).join("openstack"))
        .collect();
    let mut dirs = vec![cwd.to_path_buf()];
    dirs.extend(user_config);
    dirs.extend(home_config);
    dirs.extend(site_configs);
    dirs.push(PathBuf::from("/etc/openstack"));
    let mut files = Vec::new();
    for dir in dirs {
        for name in ["clouds.yaml", "clouds.yml", "clouds.json"] {
            let file = dir.join(name);
            if !files.contains(&file) {
                files.push(file);
            }
        }
    }
    files
}

/// `OS_CLIENT_CONFIG_FILE` when set (a file that is not there is an error, not a reason to use
/// another one), else the first file of openstacksdk's search path that exists.
fn clouds_yaml_path(lookup: &impl Fn(&str) -> Option<String>, cwd: &Path) -> Option<PathBuf> {
    if let Some(explicit) = lookup("OS_CLIENT_CONFIG_FILE").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(explicit));
    }
    search_path(lookup, cwd).into_iter().find(|p| p.is_file())
}

/// Reads every configured cloud; a configuration that offers none is an error at start-up,
/// not a sign-in page that cannot work.
pub fn load(lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<Cloud>, ConfigError> {
    load_in(lookup, &std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
}

/// `load` with `cwd` as the working directory.
fn load_in(lookup: &impl Fn(&str) -> Option<String>, cwd: &Path) -> Result<Vec<Cloud>, ConfigError> {
    let mut clouds = Vec::new();
    if let Some(path) = clouds_yaml_path(lookup, cwd) {
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

    /// A fresh empty directory under the system's temporary one.
    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gs-search-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn cloud_file(dir: &Path, name: &str, cloud: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let text = if name.ends_with(".json") {
            format!(r#"{{"clouds": {{"{cloud}": {{"auth": {{"auth_url": "http://127.0.0.1:5000/v3"}}}}}}}}"#)
        } else {
            format!("clouds:\n  {cloud}:\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n")
        };
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// The names of the clouds `load_in` finds with these variables, in `cwd`.
    fn found(env: &[(&str, &Path)], cwd: &Path) -> Vec<String> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.display().to_string())).collect();
        match load_in(&|k: &str| env.get(k).cloned(), cwd) {
            Ok(clouds) => clouds.into_iter().map(|c| c.name).collect(),
            Err(_) => Vec::new(),
        }
    }

    #[test]
    fn the_search_path_is_openstacksdks() {
        let env: HashMap<&str, &str> = [("HOME", "/home/u")].into();
        let files = search_path(&|k: &str| env.get(k).map(|v| v.to_string()), Path::new("/srv/app"));
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        assert_eq!(
            files,
            [
                "/srv/app/clouds.yaml",
                "/srv/app/clouds.yml",
                "/srv/app/clouds.json",
                "/home/u/.config/openstack/clouds.yaml",
                "/home/u/.config/openstack/clouds.yml",
                "/home/u/.config/openstack/clouds.json",
                "/etc/xdg/openstack/clouds.yaml",
                "/etc/xdg/openstack/clouds.yml",
                "/etc/xdg/openstack/clouds.json",
                "/etc/openstack/clouds.yaml",
                "/etc/openstack/clouds.yml",
                "/etc/openstack/clouds.json",
            ]
        );
        let env: HashMap<&str, &str> =
            [("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/xdg"), ("XDG_CONFIG_DIRS", "/a:/b")].into();
        let files = search_path(&|k: &str| env.get(k).map(|v| v.to_string()), Path::new("/srv/app"));
        let dirs: Vec<String> = files.iter().step_by(3).map(|f| f.parent().unwrap().display().to_string()).collect();
        assert_eq!(
            dirs,
            [
                "/srv/app",
                "/xdg/openstack",
                "/home/u/.config/openstack",
                "/a/openstack",
                "/b/openstack",
                "/etc/openstack"
            ]
        );
    }

    #[test]
    fn the_first_file_found_wins() {
        let root = temp_dir();
        let (cwd, home, xdg) = (root.join("cwd"), root.join("home"), root.join("xdg"));
        std::fs::create_dir_all(&cwd).unwrap();
        let home_dir = home.join(".config/openstack");
        cloud_file(&home_dir, "clouds.json", "home-json");
        let env = [("HOME", home.as_path())];
        assert_eq!(found(&env, &cwd), ["home-json"], "a JSON file is read too");
        cloud_file(&home_dir, "clouds.yml", "home-yml");
        assert_eq!(found(&env, &cwd), ["home-yml"], ".yml before .json");
        cloud_file(&home_dir, "clouds.yaml", "home-yaml");
        assert_eq!(found(&env, &cwd), ["home-yaml"], ".yaml before .yml");

        let with_xdg = [("HOME", home.as_path()), ("XDG_CONFIG_HOME", xdg.as_path())];
        assert_eq!(found(&with_xdg, &cwd), ["home-yaml"], "an empty XDG_CONFIG_HOME falls through to ~/.config");
        cloud_file(&xdg.join("openstack"), "clouds.yml", "xdg");
        assert_eq!(found(&with_xdg, &cwd), ["xdg"], "XDG_CONFIG_HOME before ~/.config");

        cloud_file(&cwd, "clouds.json", "cwd");
        assert_eq!(found(&with_xdg, &cwd), ["cwd"], "the working directory comes first");

        let explicit = root.join("elsewhere.yaml");
        cloud_file(&root, "elsewhere.yaml", "explicit");
        let with_file = [("HOME", home.as_path()), ("OS_CLIENT_CONFIG_FILE", explicit.as_path())];
        assert_eq!(found(&with_file, &cwd), ["explicit"], "OS_CLIENT_CONFIG_FILE before all");
        std::fs::remove_dir_all(root).unwrap();
    }
}
