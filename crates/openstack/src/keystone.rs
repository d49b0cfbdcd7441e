//! Keystone v3: sign in, validate, re-scope and revoke tokens; list the user's projects; look
//! projects up by ID or name and domains by ID (for a directory reader).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use url::Url;

use crate::{
    Service, Token, UpstreamError,
    http::{Upstream, check, fetch_json, read_json, send, send_repeatable},
};

const SUBJECT_TOKEN: &str = "X-Subject-Token";

/// A domain named the way clouds.yaml allows: by name or by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRef {
    /// By name, such as `Default`.
    Name(String),
    /// By ID, such as `default`.
    Id(String),
}

impl DomainRef {
    fn to_json(&self) -> Value {
        match self {
            DomainRef::Name(name) => json!({ "name": name }),
            DomainRef::Id(id) => json!({ "id": id }),
        }
    }
}

/// What the user proves their identity with.
pub enum Credentials {
    /// A user's name and password (`password` method).
    Password {
        /// The user's name, unique within its domain.
        user_name: String,
        /// The user's domain.
        user_domain: DomainRef,
        /// The password; sent to Keystone only.
        password: SecretString,
    },
    /// An application credential (`application_credential` method): it is bound to one
    /// project, so any scope asked for is left out of the request.
    ApplicationCredential {
        /// The credential's ID (not its name).
        id: String,
        /// Its secret; sent to Keystone only.
        secret: SecretString,
    },
    /// A token already held (`token` method): for a new token, such as one re-scoped to
    /// another project of the same user.
    Token(Token),
}

/// What a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A project by its ID.
    ProjectId(String),
    /// A project by its name within a domain.
    ProjectName {
        /// The project's name.
        name: String,
        /// The project's domain.
        domain: DomainRef,
    },
    /// The whole deployment (`"system": {"all": true}`): what a `reader` with system scope
    /// needs to look up any project.
    System,
    /// One domain: a domain-scoped `reader` may look up that domain's projects.
    Domain(DomainRef),
}

/// Anything Keystone names with an ID and a name: a domain, a role.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Named {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// The user a token is for.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// The user's ID.
    pub id: String,
    /// The user's name.
    pub name: String,
    /// The user's domain.
    pub domain: Named,
}

/// The project a token is scoped to.
#[derive(Debug, Clone, Deserialize)]
pub struct Project {
    /// The project's ID: what Glance calls the image's `owner`, or a `member_id`.
    pub id: String,
    /// The project's name.
    pub name: String,
    /// The project's domain.
    pub domain: Named,
}

/// One endpoint of a catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Endpoint {
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// The region, as older Keystones name it.
    #[serde(default)]
    pub region: Option<String>,
    /// The region, as Keystone v3 names it (preferred).
    #[serde(default)]
    pub region_id: Option<String>,
    /// The service's URL, as the catalog has it.
    pub url: String,
}

/// One service of a token's catalog.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogEntry {
    /// `identity`, `image`, …
    #[serde(rename = "type")]
    pub service_type: String,
    /// Its endpoints, every region and interface.
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

/// A token and what Keystone said about it.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The token (`X-Subject-Token` of the answer).
    pub token: Token,
    /// When Keystone stops accepting it.
    pub expires_at: OffsetDateTime,
    /// Whose it is.
    pub user: User,
    /// The project it is scoped to; `None` for an unscoped token.
    pub project: Option<Project>,
    /// The role names the user has on that project.
    pub roles: Vec<String>,
    /// The service catalog (empty for an unscoped token).
    pub catalog: Vec<CatalogEntry>,
}

/// An image API endpoint in one region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ImageEndpoint {
    /// The region's ID.
    pub region: String,
    /// The endpoint's URL without a trailing `/`: what [`crate::glance::Glance::new`] takes.
    pub url: String,
}

impl Authenticated {
    /// The image endpoints of `interface` (public by default), one per region, sorted by region.
    pub fn image_endpoints(&self, interface: &str) -> Vec<ImageEndpoint> {
        let mut found: Vec<ImageEndpoint> = self
            .catalog
            .iter()
            .filter(|entry| entry.service_type == "image")
            .flat_map(|entry| entry.endpoints.iter())
            .filter(|e| e.interface == interface)
            .filter_map(|e| {
                let region = e.region_id.clone().or_else(|| e.region.clone())?;
                Url::parse(&e.url).ok()?;
                Some(ImageEndpoint { region, url: e.url.trim_end_matches('/').to_string() })
            })
            .collect();
        found.sort_by(|a, b| a.region.cmp(&b.region));
        found.dedup_by(|a, b| a.region == b.region);
        found
    }
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenData,
}

#[derive(Deserialize)]
struct TokenData {
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    user: User,
    #[serde(default)]
    project: Option<Project>,
    #[serde(default)]
    roles: Vec<Named>,
    #[serde(default)]
    catalog: Vec<CatalogEntry>,
}

/// An entry of `GET /v3/auth/projects`: unlike a token's project, it names its domain by id only.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectSummary {
    /// The project's ID.
    pub id: String,
    /// The project's name.
    pub name: String,
    /// Its domain's ID.
    pub domain_id: String,
}

#[derive(Deserialize)]
struct ProjectsBody {
    projects: Vec<ProjectSummary>,
}

/// One Keystone, reached with the shared HTTP client.
pub struct Keystone<'a> {
    http: &'a Upstream,
    /// The identity v3 URL, ending in `/v3/`.
    base: Url,
}

impl<'a> Keystone<'a> {
    /// `auth_url` is the identity v3 URL, such as `https://keystone.example:5000/v3` (a
    /// trailing `/` or not).
    pub fn new(http: &'a Upstream, auth_url: &Url) -> Keystone<'a> {
        let mut base = auth_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Keystone { http, base }
    }

    fn url(&self, path: &str) -> Url {
        // `path` is always one of our constants or built from percent-encoded segments.
        self.base.join(path).expect("constant Keystone path")
    }

    /// `POST /v3/auth/tokens`.
    pub async fn authenticate(
        &self,
        credentials: &Credentials,
        scope: Option<&Scope>,
    ) -> Result<Authenticated, UpstreamError> {
        let identity = match credentials {
            Credentials::Password { user_name, user_domain, password } => json!({
                "methods": ["password"],
                "password": { "user": {
                    "name": user_name,
                    "domain": user_domain.to_json(),
                    "password": password.expose_secret(),
                }}
            }),
            Credentials::ApplicationCredential { id, secret } => json!({
                "methods": ["application_credential"],
                "application_credential": { "id": id, "secret": secret.expose_secret() }
            }),
            Credentials::Token(token) => json!({ "methods": ["token"], "token": { "id": token.expose() } }),
        };
        let mut auth = json!({ "identity": identity });
        // An application credential carries its own scope; Keystone refuses another one.
        if let (Some(scope), false) = (scope, matches!(credentials, Credentials::ApplicationCredential { .. })) {
            auth["scope"] = match scope {
                Scope::ProjectId(id) => json!({ "project": { "id": id } }),
                Scope::ProjectName { name, domain } => {
                    json!({ "project": { "name": name, "domain": domain.to_json() } })
                }
                Scope::System => json!({ "system": { "all": true } }),
                Scope::Domain(domain) => json!({ "domain": domain.to_json() }),
            };
        }
        let req = self.http.post(self.url("auth/tokens")).json(&json!({ "auth": auth }));
        let res = check(Service::Keystone, send_repeatable(self.http, Service::Keystone, req).await?).await?;
        let token =
            res.headers().get(SUBJECT_TOKEN).and_then(|v| v.to_str().ok()).map(Token::new).ok_or_else(|| {
                UpstreamError::BadResponse { service: Service::Keystone, detail: "no X-Subject-Token header".into() }
            })?;
        let body: TokenBody = read_json(Service::Keystone, res).await?;
        Ok(authenticated(token, body.token))
    }

    /// `GET /v3/auth/tokens`: what Keystone says about `token`, checked with itself.
    pub async fn validate(&self, token: &Token) -> Result<Authenticated, UpstreamError> {
        let req = self
            .http
            .get(self.url("auth/tokens"))
            .header("X-Auth-Token", token.expose())
            .header(SUBJECT_TOKEN, token.expose());
        let body: TokenBody = fetch_json(self.http, Service::Keystone, req).await?;
        Ok(authenticated(token.clone(), body.token))
    }

    /// `DELETE /v3/auth/tokens`: the token stops working at Keystone.
    pub async fn revoke(&self, token: &Token) -> Result<(), UpstreamError> {
        let req = self
            .http
            .delete(self.url("auth/tokens"))
            .header("X-Auth-Token", token.expose())
            .header(SUBJECT_TOKEN, token.expose());
        check(Service::Keystone, send(self.http, Service::Keystone, req).await?).await.map(drop)
    }

    /// `GET /v3/auth/projects`: the projects the token's user may scope to.
    pub async fn projects(&self, token: &Token) -> Result<Vec<ProjectSummary>, UpstreamError> {
        let req = self.http.get(self.url("auth/projects")).header("X-Auth-Token", token.expose());
        let body: ProjectsBody = fetch_json(self.http, Service::Keystone, req).await?;
        let mut projects = body.projects;
        projects.sort_by_key(|p| p.name.to_lowercase());
        Ok(projects)
    }
}

#[derive(Deserialize)]
struct ProjectBody {
    project: ProjectSummary,
}

#[derive(Deserialize)]
struct DomainBody {
    domain: Named,
}

impl Keystone<'_> {
    /// The URL of `segments` under the identity v3 URL, each segment percent-encoded.
    fn url_of<'s>(&self, segments: impl IntoIterator<Item = &'s str>) -> Result<Url, UpstreamError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| UpstreamError::BadResponse { service: Service::Keystone, detail: "unusable URL".into() })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// `GET /v3/projects/{id}`: `Ok(None)` when there is no such project. Ordinary users may
    /// not look projects up (403), which the caller has to expect.
    pub async fn project(
        &self,
        token: &Token,
        id: &crate::ids::MemberId,
    ) -> Result<Option<ProjectSummary>, UpstreamError> {
        let req = self.http.get(self.url_of(["projects", id.as_str()])?).header("X-Auth-Token", token.expose());
        match fetch_json::<ProjectBody>(self.http, Service::Keystone, req).await {
            Ok(body) => Ok(Some(body.project)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /v3/projects?name=…`: every project called exactly `name` (one per domain at
    /// most), only in domain `domain_id` when given. Needs a token allowed to list projects,
    /// such as a `reader` with system or domain scope.
    pub async fn projects_named(
        &self,
        token: &Token,
        name: &str,
        domain_id: Option<&str>,
    ) -> Result<Vec<ProjectSummary>, UpstreamError> {
        let mut found = self.list_projects(token, ("name", name), domain_id).await?;
        // Keystone compares with its database's collation: on MySQL (case- and accent-
        // insensitive by default) `twin` also finds `Twin` and `twín`.
        found.retain(|p| p.name == name);
        Ok(found)
    }

    /// `GET /v3/projects?name__icontains=…`: the projects whose name contains `fragment`,
    /// ignoring case (Keystone's inexact filter), only in domain `domain_id` when given;
    /// sorted by name. Keystone returns every match: callers keep what they show.
    pub async fn projects_containing(
        &self,
        token: &Token,
        fragment: &str,
        domain_id: Option<&str>,
    ) -> Result<Vec<ProjectSummary>, UpstreamError> {
        let mut found = self.list_projects(token, ("name__icontains", fragment), domain_id).await?;
        // Keystone puts the fragment into SQL `LIKE '%…%'` unescaped, so its `_` and `%` match
        // any character (Keystone 30 on the lab: `_` finds every project); keep true matches.
        let needle = fragment.to_lowercase();
        found.retain(|p| p.name.to_lowercase().contains(&needle));
        found.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn list_projects(
        &self,
        token: &Token,
        filter: (&str, &str),
        domain_id: Option<&str>,
    ) -> Result<Vec<ProjectSummary>, UpstreamError> {
        let mut url = self.url_of(["projects"])?;
        url.query_pairs_mut().append_pair(filter.0, filter.1).extend_pairs(domain_id.map(|d| ("domain_id", d)));
        let req = self.http.get(url).header("X-Auth-Token", token.expose());
        let body: ProjectsBody = fetch_json(self.http, Service::Keystone, req).await?;
        Ok(body.projects)
    }

    /// `GET /v3/domains/{id}`: `Ok(None)` when there is no such domain.
    pub async fn domain(&self, token: &Token, id: &str) -> Result<Option<Named>, UpstreamError> {
        // No domain has these IDs, and as a URL segment they would name another resource:
        // `domains/..` is resolved away and `domains/` is the list of all domains.
        if matches!(id, "" | "." | "..") {
            return Ok(None);
        }
        let req = self.http.get(self.url_of(["domains", id])?).header("X-Auth-Token", token.expose());
        match fetch_json::<DomainBody>(self.http, Service::Keystone, req).await {
            Ok(body) => Ok(Some(body.domain)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn authenticated(token: Token, data: TokenData) -> Authenticated {
    Authenticated {
        token,
        expires_at: data.expires_at,
        user: data.user,
        project: data.project,
        roles: data.roles.into_iter().map(|r| r.name).collect(),
        catalog: data.catalog,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TokenData {
        serde_json::from_str(
            r#"{"expires_at": "2026-11-23T14:20:15.000000Z", "methods": ["password"],
                "user": {"id": "u1", "name": "producer-user", "domain": {"id": "default", "name": "Default"}},
                "project": {"id": "p1", "name": "producer", "domain": {"id": "default", "name": "Default"}},
                "roles": [{"id": "r1", "name": "reader"}, {"id": "r2", "name": "member"}],
                "catalog": [
                  {"type": "identity", "endpoints": [{"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": "http://127.0.0.1:5000/v3"}]},
                  {"type": "image", "name": "glance", "endpoints": [
                    {"interface": "public", "region_id": "RegionTwo", "url": "http://127.0.0.1:9293"},
                    {"interface": "internal", "region_id": "RegionOne", "url": "http://10.0.0.1:9292"},
                    {"interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": "http://127.0.0.1:9292/"}
                  ]}
                ]}"#,
        )
        .unwrap()
    }

    #[test]
    fn token_bodies_are_read() {
        let a = authenticated(Token::new("t"), sample());
        assert_eq!(a.user.name, "producer-user");
        assert_eq!(a.project.as_ref().unwrap().id, "p1");
        assert_eq!(a.roles, ["reader", "member"]);
        assert_eq!(a.expires_at.year(), 2026);
    }

    #[test]
    fn image_endpoints_per_region_for_the_chosen_interface() {
        let a = authenticated(Token::new("t"), sample());
        assert_eq!(
            a.image_endpoints("public"),
            vec![
                ImageEndpoint { region: "RegionOne".into(), url: "http://127.0.0.1:9292".into() },
                ImageEndpoint { region: "RegionTwo".into(), url: "http://127.0.0.1:9293".into() },
            ]
        );
        assert_eq!(a.image_endpoints("internal").len(), 1);
        assert!(a.image_endpoints("admin").is_empty());
    }

    #[test]
    fn keystone_urls_keep_their_path() {
        let http = Upstream::new(reqwest::Client::new(), 4);
        let k = Keystone::new(&http, &Url::parse("https://cloud.example/identity/v3").unwrap());
        assert_eq!(k.url("auth/tokens").as_str(), "https://cloud.example/identity/v3/auth/tokens");
    }
}
