//! The real lab (Keystone + two Glance regions) the lab tests run against, read from
//! `$GLANCE_SHARE_LAB_DIR/lab.env` (default `<repository>/.lab/lab.env`, made by
//! `lab/lab.sh start`). A missing lab fails the tests, saying so: they never skip.
//!
//! Set-up and clean-up the crate has no call for (creating and deleting images, application
//! credentials and projects) are plain HTTP calls here.

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use openstack_images::{
    Upstream,
    ids::ImageId,
    keystone::{Authenticated, Credentials, DomainRef, Keystone, Scope},
};
use serde_json::{Value, json};

pub struct Lab {
    env: HashMap<String, String>,
}

/// A client for one test: a pooled connection must not outlive the test's own runtime.
pub fn upstream() -> Upstream {
    Upstream::new(reqwest::Client::new(), 8)
}

impl Lab {
    pub fn get(&self, key: &str) -> &str {
        self.env.get(key).unwrap_or_else(|| panic!("{key} is missing from lab.env in {}", lab_dir().display()))
    }

    pub fn keystone_url(&self) -> url::Url {
        url::Url::parse(self.get("LAB_KEYSTONE_URL")).unwrap()
    }

    pub fn keystone<'a>(&self, http: &'a Upstream) -> Keystone<'a> {
        Keystone::new(http, &self.keystone_url())
    }

    /// User name, password and project name of a lab user: producer, consumer or admin.
    pub fn account(&self, who: &str) -> (&str, &str, &str) {
        let key = who.to_uppercase();
        let get = |part: &str| self.get(&format!("LAB_{key}_{part}"));
        (get("USER"), get("PASSWORD"), get("PROJECT"))
    }

    pub fn password(&self, who: &str) -> Credentials {
        let (user, password, _) = self.account(who);
        Credentials::Password {
            user_name: user.into(),
            user_domain: DomainRef::Name(self.get("LAB_DOMAIN").into()),
            password: password.to_string().into(),
        }
    }

    /// The directory user's password, from the file the lab wrote for the app (lab.env holds
    /// only its path).
    pub fn directory_password(&self) -> String {
        let file = self.get("LAB_DIRECTORY_PASSWORD_FILE");
        std::fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read the directory password {file}: {e}"))
    }

    /// The directory user signed in with `scope` (system or domain: it has no project).
    pub async fn sign_in_directory(&self, http: &Upstream, scope: Scope) -> Authenticated {
        let credentials = Credentials::Password {
            user_name: self.get("LAB_DIRECTORY_USER").into(),
            user_domain: DomainRef::Id(self.get("LAB_DOMAIN_ID").into()),
            password: self.directory_password().into(),
        };
        self.keystone(http).authenticate(&credentials, Some(&scope)).await.unwrap_or_else(|e| {
            panic!("the directory user could not sign in with {scope:?}: {e} (lab started by an older lab/lab.sh?)")
        })
    }

    /// `who` signed in with their password, scoped to their project by name.
    pub async fn sign_in(&self, http: &Upstream, who: &str) -> Authenticated {
        let scope = Scope::ProjectName {
            name: self.account(who).2.into(),
            domain: DomainRef::Name(self.get("LAB_DOMAIN").into()),
        };
        self.keystone(http).authenticate(&self.password(who), Some(&scope)).await.unwrap_or_else(|e| {
            panic!("{who} could not sign in at {}: {e} (is the lab running? `lab/lab.sh start`)", self.keystone_url())
        })
    }
}

pub fn lab_dir() -> PathBuf {
    std::env::var("GLANCE_SHARE_LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.lab"))
}

/// The lab's settings, read once per test binary.
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let file = lab_dir().join("lab.env");
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!(
                "no lab: cannot read {} ({e}). These tests need the real Keystone + Glance: start it with \
                 `lab/lab.sh start` in the repository, or point GLANCE_SHARE_LAB_DIR at a running lab's directory.",
                file.display()
            )
        });
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
            .collect();
        Lab { env }
    })
}

/// A name no other test run uses: lab tests share one Glance with other runs.
pub fn unique(name: &str) -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("os-crate-test-{name}-{}-{nanos:x}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::SeqCst))
}

/// Sends a set-up or clean-up call, once more if the connection dropped (uWSGI now and then
/// closes one before answering, and that is not what these tests test).
async fn call(req: reqwest::RequestBuilder) -> reqwest::Response {
    let again = req.try_clone().expect("set-up calls have no streamed body");
    match req.send().await {
        Err(e) if e.is_connect() || e.is_request() => {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            again.send().await.unwrap()
        }
        res => res.unwrap(),
    }
}

/// Images made directly in one Glance (the crate has no image create), deleted on drop, even
/// when the test failed half-way: unprotected first, since Glance refuses to delete a
/// protected image (a test may have failed before unprotecting it).
pub struct Images {
    glance: String,
    token: String,
    pub ids: Vec<ImageId>,
}

impl Images {
    pub fn new(glance: &str, token: &str) -> Images {
        Images { glance: glance.to_string(), token: token.to_string(), ids: Vec::new() }
    }

    /// A new image without data, owned by the token's project.
    pub async fn create(&mut self, name: &str, visibility: &str) -> ImageId {
        let body = json!({"name": name, "visibility": visibility, "disk_format": "raw", "container_format": "bare"});
        let res = call(
            reqwest::Client::new()
                .post(format!("{}/v2/images", self.glance))
                .header("x-auth-token", &self.token)
                .json(&body),
        )
        .await;
        assert_eq!(res.status(), 201, "creating an image in the lab failed");
        let created: Value = res.json().await.unwrap();
        let id = ImageId::parse(created["id"].as_str().unwrap()).unwrap();
        self.ids.push(id.clone());
        id
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        let (glance, token, ids) = (self.glance.clone(), self.token.clone(), std::mem::take(&mut self.ids));
        // Drop runs outside async: a small runtime of its own, on its own thread.
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                let client = reqwest::Client::new();
                for id in ids {
                    let url = format!("{glance}/v2/images/{id}");
                    let _ = client
                        .patch(&url)
                        .header("x-auth-token", &token)
                        .header("content-type", "application/openstack-images-v2.1-json-patch")
                        .body(r#"[{"op": "replace", "path": "/protected", "value": false}]"#)
                        .send()
                        .await;
                    let _ = client.delete(url).header("x-auth-token", &token).send().await;
                }
            })
        })
        .join();
    }
}

/// An application credential of the token's user, deleted on drop.
pub struct ApplicationCredential {
    pub id: String,
    pub secret: String,
    delete_url: String,
    token: String,
}

impl ApplicationCredential {
    pub async fn create(lab: &Lab, auth: &Authenticated) -> ApplicationCredential {
        let url = format!("{}/users/{}/application_credentials", lab.get("LAB_KEYSTONE_URL"), auth.user.id);
        let body = json!({"application_credential": {"name": unique("ac")}});
        let res = call(reqwest::Client::new().post(&url).header("x-auth-token", auth.token.expose()).json(&body)).await;
        assert_eq!(res.status(), 201, "creating an application credential in the lab failed");
        let created: Value = res.json().await.unwrap();
        let credential = &created["application_credential"];
        let id = credential["id"].as_str().unwrap().to_string();
        ApplicationCredential {
            secret: credential["secret"].as_str().unwrap().to_string(),
            delete_url: format!("{url}/{id}"),
            id,
            token: auth.token.expose().to_string(),
        }
    }
}

impl Drop for ApplicationCredential {
    fn drop(&mut self) {
        let (url, token) = (self.delete_url.clone(), self.token.clone());
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                let _ = reqwest::Client::new().delete(url).header("x-auth-token", token).send().await;
            })
        })
        .join();
    }
}

/// A project made by the lab's admin for one test, deleted on drop unless the test did.
pub struct Project {
    pub id: String,
    url: String,
    token: String,
}

impl Project {
    /// A new project called `name` in domain `domain_id`.
    pub async fn create(admin: &Authenticated, keystone_url: &str, domain_id: &str, name: &str) -> Project {
        let body = json!({"project": {"name": name, "domain_id": domain_id, "description": "openstack-images test"}});
        let res = call(
            reqwest::Client::new()
                .post(format!("{keystone_url}/projects"))
                .header("x-auth-token", admin.token.expose())
                .json(&body),
        )
        .await;
        assert_eq!(res.status(), 201, "creating a project in the lab failed");
        let created: Value = res.json().await.unwrap();
        let id = created["project"]["id"].as_str().unwrap().to_string();
        Project { url: format!("{keystone_url}/projects/{id}"), id, token: admin.token.expose().to_string() }
    }

    /// Deletes it now (the test then looks for it again).
    pub async fn delete(mut self) {
        let res = reqwest::Client::new().delete(&self.url).header("x-auth-token", &self.token).send().await.unwrap();
        assert_eq!(res.status(), 204, "deleting a project in the lab failed");
        self.url.clear();
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if self.url.is_empty() {
            return;
        }
        let (url, token) = (self.url.clone(), self.token.clone());
        let _ = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                let _ = reqwest::Client::new().delete(url).header("x-auth-token", token).send().await;
            })
        })
        .join();
    }
}
