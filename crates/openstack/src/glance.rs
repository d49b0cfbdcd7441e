//! Glance v2: images, their visibility and other attributes (hidden, protected, custom
//! properties), the API versions an endpoint serves, and the image member API.

use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

pub use crate::urls::{BaseUrl, Resource};
use crate::{
    Service, Token, UpstreamError,
    http::{Upstream, check, fetch_json, send},
};
use crate::{
    ids::{ImageId, MemberId, PropertyName},
    records::{Image, Member, MemberStatus, Visibility},
};

const JSON_PATCH: &str = "application/openstack-images-v2.1-json-patch";

/// How an image list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// By name, A to Z.
    Name,
    /// Newest first (by `created_at`).
    Newest,
}

impl SortBy {
    /// The `sort` query value of the image lists; anything else sorts by name.
    pub fn from_key(key: Option<&str>) -> SortBy {
        if key == Some("newest") { SortBy::Newest } else { SortBy::Name }
    }
}

/// Filters of `GET /v2/images`. `None` leaves Glance's default.
#[derive(Debug, Clone, Default)]
pub struct ImageQuery {
    /// `owner=`: images of this project only.
    pub owner: Option<String>,
    /// `visibility=`: `public`, `community`, `shared`, `private` or `all`.
    pub visibility: Option<&'static str>,
    /// `member_status=`: with `visibility=shared`, images shared with the token's project
    /// whose member entry has this status (`pending`, `accepted`, `rejected` or `all`).
    pub member_status: Option<&'static str>,
    /// Glance matches whole names only (`name=` is an exact filter).
    pub name: Option<String>,
    /// `limit=`: at most this many images (Glance caps it at its own `limit_param_default`).
    pub limit: Option<u32>,
    /// `marker=`: the page after this image (from [`ImagePage::next_marker`]).
    pub marker: Option<ImageId>,
    /// `sort_key` and `sort_dir`.
    pub sort: Option<SortBy>,
    /// `os_hidden=true`: only the images hidden from lists (Glance lists only the others
    /// unless asked).
    pub hidden: bool,
}

/// One page of `GET /v2/images`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePage {
    /// The images of this page, in the order asked for.
    pub images: Vec<Image>,
    /// The marker of the next page, when Glance says there is one (`None` on the last page).
    pub next_marker: Option<ImageId>,
}

#[derive(Deserialize)]
struct ImagesBody {
    images: Vec<Image>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct MembersBody {
    members: Vec<Member>,
}

#[derive(Deserialize)]
struct VersionsBody {
    versions: Vec<VersionEntry>,
}

/// One entry of the version document; anything else in it (`links`) is not needed.
#[derive(Deserialize)]
struct VersionEntry {
    id: String,
    #[serde(default)]
    status: String,
}

/// One change of an image, sent by [`Glance::update_image`] as one JSON-patch operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageChange {
    /// `os_hidden`: hidden from image lists, still usable by ID (image API 2.7; see
    /// [`supports_hidden`]).
    Hidden(bool),
    /// `protected`: Glance refuses to delete a protected image (403). Its properties can still
    /// be changed.
    Protected(bool),
    /// Sets a custom property, whether the image has it already or not.
    Property {
        /// Checked by [`PropertyName::parse`]: never one of Glance's own attributes.
        name: PropertyName,
        /// Any text: Glance checks none (its column is a database TEXT; the lab took 70,000
        /// characters).
        value: String,
    },
    /// Removes a custom property. Glance answers 409 "Property … does not exist." when the
    /// image has none, and then makes none of the other changes sent with it.
    RemoveProperty(PropertyName),
}

impl ImageChange {
    /// The JSON-patch operation. Glance's own attributes always exist, so they are replaced;
    /// a property is added, which with Glance's `v2.1` patch type also replaces an existing
    /// one (the `v2.0` type answers 409 instead).
    fn operation(&self) -> Value {
        match self {
            ImageChange::Hidden(hidden) => json!({ "op": "replace", "path": "/os_hidden", "value": hidden }),
            ImageChange::Protected(protected) => json!({ "op": "replace", "path": "/protected", "value": protected }),
            ImageChange::Property { name, value } => json!({ "op": "add", "path": pointer(name), "value": value }),
            ImageChange::RemoveProperty(name) => json!({ "op": "remove", "path": pointer(name) }),
        }
    }
}

/// The JSON pointer of a property: [`PropertyName`] holds no `/` or `~`, so nothing needs escaping.
fn pointer(name: &PropertyName) -> String {
    format!("/{name}")
}

/// One Glance endpoint, called with one user's token.
pub struct Glance<'a> {
    http: &'a Upstream,
    base: BaseUrl,
    token: &'a Token,
}

impl<'a> Glance<'a> {
    /// `endpoint` is the image endpoint from the catalog (without `/v2`): see [`BaseUrl::parse`].
    pub fn new(http: &'a Upstream, endpoint: &str, token: &'a Token) -> Result<Glance<'a>, UpstreamError> {
        Ok(Glance { http, base: BaseUrl::parse(endpoint)?, token })
    }

    fn url(&self, resource: Resource<'_>) -> Url {
        self.base.url(resource)
    }

    fn get(&self, url: Url) -> reqwest::RequestBuilder {
        self.http.get(url).header("X-Auth-Token", self.token.expose())
    }

    /// `GET /v2/images` with filters, one page.
    pub async fn images(&self, query: &ImageQuery) -> Result<ImagePage, UpstreamError> {
        let mut url = self.url(Resource::Images);
        {
            let mut q = url.query_pairs_mut();
            if let Some(owner) = &query.owner {
                q.append_pair("owner", owner);
            }
            if let Some(v) = query.visibility {
                q.append_pair("visibility", v);
            }
            if query.hidden {
                q.append_pair("os_hidden", "true");
            }
            if let Some(s) = query.member_status {
                q.append_pair("member_status", s);
            }
            if let Some(name) = &query.name {
                q.append_pair("name", name);
            }
            if let Some(limit) = query.limit {
                q.append_pair("limit", &limit.to_string());
            }
            if let Some(marker) = &query.marker {
                q.append_pair("marker", marker.as_str());
            }
            match query.sort {
                Some(SortBy::Name) => {
                    q.append_pair("sort_key", "name").append_pair("sort_dir", "asc");
                }
                Some(SortBy::Newest) => {
                    q.append_pair("sort_key", "created_at").append_pair("sort_dir", "desc");
                }
                None => {}
            }
        }
        let body: ImagesBody = fetch_json(self.http, Service::Glance, self.get(url)).await?;
        // Only the marker is taken from Glance's `next` link; the next request is built here,
        // so an upstream link can never send the dashboard elsewhere.
        let next_marker = body.next.as_deref().and_then(marker_of).filter(|_| !body.images.is_empty());
        Ok(ImagePage { images: body.images, next_marker })
    }

    /// `GET /v2/images/{id}`.
    pub async fn image(&self, id: &ImageId) -> Result<Image, UpstreamError> {
        fetch_json(self.http, Service::Glance, self.get(self.url(Resource::Image(id)))).await
    }

    /// `PATCH /v2/images/{id}` replacing the visibility.
    pub async fn set_visibility(&self, id: &ImageId, visibility: Visibility) -> Result<Image, UpstreamError> {
        self.patch(id, json!([{ "op": "replace", "path": "/visibility", "value": visibility.label() }])).await
    }

    /// `PATCH /v2/images/{id}` with `changes` in order, in one call: Glance makes all of them
    /// or, when one fails, none. The image as Glance then has it is returned.
    pub async fn update_image(&self, id: &ImageId, changes: &[ImageChange]) -> Result<Image, UpstreamError> {
        self.patch(id, changes.iter().map(ImageChange::operation).collect()).await
    }

    /// Sends a JSON patch of an image (Glance insists on its own JSON-patch type, 415 otherwise).
    async fn patch(&self, id: &ImageId, operations: Value) -> Result<Image, UpstreamError> {
        let req = self
            .http
            .patch(self.url(Resource::Image(id)))
            .header("X-Auth-Token", self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, JSON_PATCH)
            .body(operations.to_string());
        fetch_json(self.http, Service::Glance, req).await
    }

    /// `GET /versions` of the endpoint: the image API versions it serves (`CURRENT` or
    /// `SUPPORTED`, not `DEPRECATED`), newest first, such as `["v2.17", "v2.15", …, "v2.0"]`.
    /// Glance lists them in no particular order and leaves out those of features it was not
    /// configured for (v2.14 and v2.16 without an image cache). The document is public: no
    /// token is sent.
    pub async fn api_versions(&self) -> Result<Vec<String>, UpstreamError> {
        let body: VersionsBody = fetch_json(self.http, Service::Glance, self.http.get(self.base.versions())).await?;
        let mut versions: Vec<String> = body
            .versions
            .into_iter()
            .filter(|v| matches!(v.status.as_str(), "CURRENT" | "SUPPORTED"))
            .map(|v| v.id)
            .collect();
        // Unreadable IDs (`None`) sort last; the sort is stable, so they keep Glance's order.
        versions.sort_by_key(|v| std::cmp::Reverse(version_number(v)));
        Ok(versions)
    }

    /// `GET /v2/images/{id}/members`: all members for the owner, only its own entry for a member.
    pub async fn members(&self, id: &ImageId) -> Result<Vec<Member>, UpstreamError> {
        let body: MembersBody =
            fetch_json(self.http, Service::Glance, self.get(self.url(Resource::Members(id)))).await?;
        Ok(body.members)
    }

    /// `GET /v2/images/{id}/members/{member}`.
    pub async fn member(&self, id: &ImageId, member: &MemberId) -> Result<Member, UpstreamError> {
        fetch_json(self.http, Service::Glance, self.get(self.url(Resource::Member(id, member)))).await
    }

    /// `POST /v2/images/{id}/members` (Glance answers 200 with the new pending member).
    pub async fn add_member(&self, id: &ImageId, member: &MemberId) -> Result<Member, UpstreamError> {
        let req = self
            .http
            .post(self.url(Resource::Members(id)))
            .header("X-Auth-Token", self.token.expose())
            .json(&json!({ "member": member.as_str() }));
        fetch_json(self.http, Service::Glance, req).await
    }

    /// `PUT /v2/images/{id}/members/{member}`: only the member itself (or an admin) may.
    pub async fn set_member_status(
        &self,
        id: &ImageId,
        member: &MemberId,
        status: MemberStatus,
    ) -> Result<Member, UpstreamError> {
        let req = self
            .http
            .put(self.url(Resource::Member(id, member)))
            .header("X-Auth-Token", self.token.expose())
            .json(&json!({ "status": status.key() }));
        fetch_json(self.http, Service::Glance, req).await
    }

    /// `DELETE /v2/images/{id}/members/{member}` (204).
    pub async fn remove_member(&self, id: &ImageId, member: &MemberId) -> Result<(), UpstreamError> {
        let req = self.http.delete(self.url(Resource::Member(id, member))).header("X-Auth-Token", self.token.expose());
        check(Service::Glance, send(self.http, Service::Glance, req).await?).await.map(drop)
    }
}

/// Whether an endpoint serving `versions` (from [`Glance::api_versions`]) knows `os_hidden`,
/// which came with image API 2.7. Versions compare as numbers: v2.10 is after v2.7.
pub fn supports_hidden(versions: &[String]) -> bool {
    versions.iter().filter_map(|v| version_number(v)).any(|v| v >= (2, 7))
}

/// `(2, 10)` for `"v2.10"`; `None` for anything else.
fn version_number(id: &str) -> Option<(u32, u32)> {
    let (major, minor) = id.strip_prefix('v')?.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The `marker` query value of a `next` link such as `/v2/images?limit=2&marker=<id>`.
fn marker_of(next: &str) -> Option<ImageId> {
    let query = next.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "marker")
        .and_then(|(_, v)| ImageId::parse(&v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b";

    #[test]
    fn urls_encode_every_segment() {
        let base = BaseUrl::parse("http://127.0.0.1:9292").unwrap();
        let image = ImageId::parse(IMAGE).unwrap();
        let member = MemberId::parse("a:b@c&d=e+f;[]").unwrap();
        assert_eq!(base.url(Resource::Images).as_str(), "http://127.0.0.1:9292/v2/images");
        assert_eq!(base.url(Resource::Image(&image)).as_str(), format!("http://127.0.0.1:9292/v2/images/{IMAGE}"));
        assert_eq!(
            base.url(Resource::Members(&image)).as_str(),
            format!("http://127.0.0.1:9292/v2/images/{IMAGE}/members")
        );
        assert_eq!(
            base.url(Resource::Member(&image, &member)).as_str(),
            format!("http://127.0.0.1:9292/v2/images/{IMAGE}/members/a:b@c&d=e+f;[]")
        );
        // The old builder took any text and dropped a `..` member, addressing the member list
        // instead; such a member cannot be made now.
        assert!(MemberId::parse("..").is_err() && MemberId::parse(".").is_err());
    }

    #[test]
    fn endpoints_with_a_path_keep_it() {
        let base = BaseUrl::parse("https://cloud.example/image/?q=1#top").unwrap();
        assert_eq!(base.url(Resource::Images).as_str(), "https://cloud.example/image/v2/images");
        let base = BaseUrl::parse("https://cloud.example/image").unwrap();
        assert_eq!(base.url(Resource::Images).as_str(), "https://cloud.example/image/v2/images");
        for bad in ["mailto:x@y", "ftp://cloud.example/", "data:text/plain,x", "not a url", ""] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_version_document_is_under_the_endpoints_own_path() {
        for (endpoint, versions) in [
            ("http://127.0.0.1:9292", "http://127.0.0.1:9292/versions"),
            ("http://127.0.0.1:9292/", "http://127.0.0.1:9292/versions"),
            ("https://cloud.example/image", "https://cloud.example/image/versions"),
            ("https://cloud.example/image/?q=1", "https://cloud.example/image/versions"),
        ] {
            assert_eq!(BaseUrl::parse(endpoint).unwrap().versions().as_str(), versions, "{endpoint}");
        }
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(version_number("v2.10"), Some((2, 10)));
        assert_eq!(version_number("v2.7"), Some((2, 7)));
        assert!(version_number("v2.10") > version_number("v2.7"), "not as text");
        for unreadable in ["", "v2", "2.7", "v2.x", "v2.7.1", "V2.7", "v-1.0"] {
            assert_eq!(version_number(unreadable), None, "{unreadable}");
        }
    }

    #[test]
    fn hidden_images_need_api_2_7_or_later() {
        let versions = |ids: &[&str]| ids.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        assert!(supports_hidden(&versions(&["v2.7"])));
        assert!(supports_hidden(&versions(&["v2.10", "v2.1"])), "2.10 is after 2.7");
        assert!(supports_hidden(&versions(&["v3.0"])));
        assert!(!supports_hidden(&versions(&["v2.6", "v2.1", "v2.0"])));
        assert!(!supports_hidden(&versions(&["v1.1", "weird"])));
        assert!(!supports_hidden(&[]));
    }

    #[test]
    fn changes_are_json_patch_operations() {
        let name = PropertyName::parse("superseded_by").unwrap();
        let operations: Vec<Value> = [
            ImageChange::Hidden(true),
            ImageChange::Protected(false),
            ImageChange::Property { name: name.clone(), value: IMAGE.into() },
            ImageChange::RemoveProperty(name),
        ]
        .iter()
        .map(ImageChange::operation)
        .collect();
        assert_eq!(
            operations,
            [
                json!({"op": "replace", "path": "/os_hidden", "value": true}),
                json!({"op": "replace", "path": "/protected", "value": false}),
                json!({"op": "add", "path": "/superseded_by", "value": IMAGE}),
                json!({"op": "remove", "path": "/superseded_by"}),
            ]
        );
    }

    #[test]
    fn the_next_marker_is_read_from_the_link() {
        assert_eq!(
            marker_of("/v2/images?limit=2&marker=3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b").unwrap().as_str(),
            "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b"
        );
        assert_eq!(marker_of("/v2/images?limit=2"), None);
        assert_eq!(marker_of("/v2/images?marker=../../etc"), None);
    }
}
