//! The optional directory reader (`GLANCE_SHARE_DIRECTORY_*`): a Keystone user or application
//! credential of the operator's, with the `reader` role at system or domain scope, that the
//! server uses to name projects for every user. Only the operator configures it, here: never
//! the browser, never a clouds.yaml entry. Its secret is read from a file at start-up and
//! kept in a `SecretString`, whose `Debug` prints no secret.

use std::{path::PathBuf, time::Duration};

use openstack::keystone::DomainRef;
use secrecy::SecretString;

use super::ConfigError;

/// How the directory reader signs in.
#[derive(Clone, Debug)]
pub enum DirectoryLogin {
    Password { user_name: String, user_domain: DomainRef, password: SecretString },
    ApplicationCredential { id: String, secret: SecretString },
}

/// What the reader's token is scoped to (an application credential brings its own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectoryScope {
    System,
    Domain(String),
}

/// Which projects the dashboard names for a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reveal {
    /// Every project the reader can see.
    All,
    /// Only projects of the signed-in user's own domain; others stay bare IDs.
    OwnDomain,
}

#[derive(Clone, Debug)]
pub struct DirectoryConfig {
    /// The configured cloud whose Keystone the reader belongs to.
    pub cloud: String,
    pub login: DirectoryLogin,
    pub scope: DirectoryScope,
    pub reveal: Reveal,
    /// How long a name (or "no such project") is believed before Keystone is asked again.
    pub ttl: Duration,
}

/// Reads the directory settings; `None` when no reader is configured (names as before).
/// `clouds` are the configured clouds' names, the first being the default.
pub fn load(
    get: &impl Fn(&'static str) -> Option<String>,
    clouds: &[String],
) -> Result<Option<DirectoryConfig>, ConfigError> {
    let user = get("GLANCE_SHARE_DIRECTORY_USER");
    let credential = get("GLANCE_SHARE_DIRECTORY_APPLICATION_CREDENTIAL_ID");
    let login = match (user, credential) {
        (None, None) => return Ok(None),
        (Some(_), Some(id)) => {
            return Err(ConfigError {
                name: "GLANCE_SHARE_DIRECTORY_APPLICATION_CREDENTIAL_ID",
                value: id,
                reason: "set either GLANCE_SHARE_DIRECTORY_USER or an application credential, not both".into(),
            });
        }
        (Some(user_name), None) => DirectoryLogin::Password {
            user_name,
            user_domain: DomainRef::Name(get("GLANCE_SHARE_DIRECTORY_USER_DOMAIN").unwrap_or_else(|| "Default".into())),
            password: secret_file(get, "GLANCE_SHARE_DIRECTORY_PASSWORD_FILE")?,
        },
        (None, Some(id)) => DirectoryLogin::ApplicationCredential {
            id,
            secret: secret_file(get, "GLANCE_SHARE_DIRECTORY_SECRET_FILE")?,
        },
    };
    let scope = match get("GLANCE_SHARE_DIRECTORY_SCOPE") {
        None => DirectoryScope::System,
        Some(v) if v.trim() == "system" => DirectoryScope::System,
        Some(v) => match v.trim().strip_prefix("domain:") {
            Some(domain) if !domain.trim().is_empty() => DirectoryScope::Domain(domain.trim().to_string()),
            _ => {
                return Err(ConfigError {
                    name: "GLANCE_SHARE_DIRECTORY_SCOPE",
                    value: v,
                    reason: "expected `system` or `domain:NAME`".into(),
                });
            }
        },
    };
    let reveal = match get("GLANCE_SHARE_DIRECTORY_REVEAL").as_deref().map(str::trim) {
        None | Some("all") => Reveal::All,
        Some("own-domain") => Reveal::OwnDomain,
        Some(other) => {
            return Err(ConfigError {
                name: "GLANCE_SHARE_DIRECTORY_REVEAL",
                value: other.into(),
                reason: "expected `all` or `own-domain`".into(),
            });
        }
    };
    let cloud = match get("GLANCE_SHARE_DIRECTORY_CLOUD") {
        Some(name) if clouds.contains(&name) => name,
        Some(name) => {
            return Err(ConfigError {
                name: "GLANCE_SHARE_DIRECTORY_CLOUD",
                value: name,
                reason: format!("not one of the configured clouds ({})", clouds.join(", ")),
            });
        }
        None => clouds.first().cloned().unwrap_or_default(),
    };
    let ttl = Duration::from_secs(super::parse_number(get, "GLANCE_SHARE_DIRECTORY_TTL_SECONDS", 900)?);
    Ok(Some(DirectoryConfig { cloud, login, scope, reveal, ttl }))
}

/// The first line of the file a `…_FILE` setting names: the secret, never the setting itself.
fn secret_file(get: &impl Fn(&'static str) -> Option<String>, name: &'static str) -> Result<SecretString, ConfigError> {
    let Some(path) = get(name) else {
        return Err(ConfigError { name, value: String::new(), reason: "required with a directory reader".into() });
    };
    let text = std::fs::read_to_string(PathBuf::from(&path)).map_err(|e| ConfigError {
        name,
        value: path.clone(),
        reason: format!("cannot read it: {e}"),
    })?;
    let secret = text.lines().next().unwrap_or_default().trim_end_matches('\r');
    if secret.is_empty() {
        return Err(ConfigError { name, value: path, reason: "the file is empty".into() });
    }
    Ok(SecretString::from(secret.to_string()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn load_with(pairs: &[(&'static str, &str)]) -> Result<Option<DirectoryConfig>, ConfigError> {
        let env: HashMap<&str, String> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
        load(&|name| env.get(name).cloned(), &["lab".into(), "other".into()])
    }

    #[test]
    fn no_reader_configured_means_no_directory() {
        assert!(load_with(&[]).unwrap().is_none());
    }

    #[test]
    fn a_password_reader_reads_its_secret_from_a_file_and_never_shows_it() {
        let dir = std::env::temp_dir().join(format!("gs-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("password");
        std::fs::write(&file, "s3cret-directory\n").unwrap();
        let c = load_with(&[
            ("GLANCE_SHARE_DIRECTORY_USER", "directory"),
            ("GLANCE_SHARE_DIRECTORY_PASSWORD_FILE", file.to_str().unwrap()),
            ("GLANCE_SHARE_DIRECTORY_REVEAL", "own-domain"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((c.cloud.as_str(), c.scope.clone(), c.reveal), ("lab", DirectoryScope::System, Reveal::OwnDomain));
        assert_eq!(c.ttl, Duration::from_secs(900));
        let DirectoryLogin::Password { password, user_domain, .. } = &c.login else { panic!("{c:?}") };
        assert_eq!(password.expose_secret(), "s3cret-directory");
        assert_eq!(*user_domain, DomainRef::Name("Default".into()));
        assert!(!format!("{c:?}").contains("s3cret"), "Debug must not print the secret");
    }

    #[test]
    fn bad_directory_settings_name_the_setting() {
        for (pairs, name) in [
            (vec![("GLANCE_SHARE_DIRECTORY_USER", "d")], "GLANCE_SHARE_DIRECTORY_PASSWORD_FILE"),
            (
                vec![("GLANCE_SHARE_DIRECTORY_USER", "d"), ("GLANCE_SHARE_DIRECTORY_PASSWORD_FILE", "/nonexistent/x")],
                "GLANCE_SHARE_DIRECTORY_PASSWORD_FILE",
            ),
            (
                vec![("GLANCE_SHARE_DIRECTORY_USER", "d"), ("GLANCE_SHARE_DIRECTORY_APPLICATION_CREDENTIAL_ID", "x")],
                "GLANCE_SHARE_DIRECTORY_APPLICATION_CREDENTIAL_ID",
            ),
            (vec![("GLANCE_SHARE_DIRECTORY_APPLICATION_CREDENTIAL_ID", "x")], "GLANCE_SHARE_DIRECTORY_SECRET_FILE"),
        ] {
            assert_eq!(load_with(&pairs).unwrap_err().name, name);
        }
        let file = std::env::temp_dir().join(format!("gs-dir-ok-{}", std::process::id()));
        std::fs::write(&file, "x").unwrap();
        let with = |extra: (&'static str, &str)| {
            load_with(&[
                ("GLANCE_SHARE_DIRECTORY_USER", "d"),
                ("GLANCE_SHARE_DIRECTORY_PASSWORD_FILE", file.to_str().unwrap()),
                extra,
            ])
        };
        assert_eq!(
            with(("GLANCE_SHARE_DIRECTORY_SCOPE", "project:x")).unwrap_err().name,
            "GLANCE_SHARE_DIRECTORY_SCOPE"
        );
        assert_eq!(with(("GLANCE_SHARE_DIRECTORY_REVEAL", "some")).unwrap_err().name, "GLANCE_SHARE_DIRECTORY_REVEAL");
        assert_eq!(with(("GLANCE_SHARE_DIRECTORY_CLOUD", "nope")).unwrap_err().name, "GLANCE_SHARE_DIRECTORY_CLOUD");
        let c = with(("GLANCE_SHARE_DIRECTORY_SCOPE", "domain:partners")).unwrap().unwrap();
        assert_eq!(c.scope, DirectoryScope::Domain("partners".into()));
    }
}
