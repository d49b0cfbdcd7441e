//! Glance v2: images, their visibility, and the image member API.

use serde::Deserialize;
use serde_json::json;
use url::Url;

use crate::{
    Service, Token, UpstreamError,
    http::{Upstream, check, fetch_json, send},
};
use crate::{
    ids::{ImageId, MemberId},
    records::{Image, Member, MemberStatus, Visibility},
};

const JSON_PATCH: &str = "application/openstack-images-v2.1-json-patch";

/// How an image list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Name,
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
    pub owner: Option<String>,
    pub visibility: Option<&'static str>,
    pub member_status: Option<&'static str>,
    /// Glance matches whole names only (`name=` is an exact filter).
    pub name: Option<String>,
    pub limit: Option<u32>,
    pub marker: Option<ImageId>,
    pub sort: Option<SortBy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePage {
    pub images: Vec<Image>,
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

/// One Glance endpoint, called with one user's token.
pub struct Glance<'a> {
    http: &'a Upstream,
    base: Url,
    token: &'a Token,
}

impl<'a> Glance<'a> {
    /// `endpoint` is the image endpoint from the catalog (without `/v2`).
    pub fn new(http: &'a Upstream, endpoint: &str, token: &'a Token) -> Result<Glance<'a>, UpstreamError> {
        let base = Url::parse(endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| UpstreamError::BadResponse {
                service: Service::Glance,
                detail: "the catalog's image endpoint is not an http(s) URL".into(),
            })?;
        Ok(Glance { http, base, token })
    }

    /// The URL of `/v2/<segments>`, each segment percent-encoded: no ID can add a path
    /// segment, a query or a fragment.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("v2").extend(segments);
        }
        url
    }

    fn get(&self, url: Url) -> reqwest::RequestBuilder {
        self.http.get(url).header("X-Auth-Token", self.token.expose())
    }

    /// `GET /v2/images` with filters, one page.
    pub async fn images(&self, query: &ImageQuery) -> Result<ImagePage, UpstreamError> {
        let mut url = self.url(&["images"]);
        {
            let mut q = url.query_pairs_mut();
            if let Some(owner) = &query.owner {
                q.append_pair("owner", owner);
            }
            if let Some(v) = query.visibility {
                q.append_pair("visibility", v);
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
        fetch_json(self.http, Service::Glance, self.get(self.url(&["images", id.as_str()]))).await
    }

    /// `PATCH /v2/images/{id}` replacing the visibility (Glance insists on its JSON-patch type).
    pub async fn set_visibility(&self, id: &ImageId, visibility: Visibility) -> Result<Image, UpstreamError> {
        let body = json!([{ "op": "replace", "path": "/visibility", "value": visibility.label() }]);
        let req = self
            .http
            .patch(self.url(&["images", id.as_str()]))
            .header("X-Auth-Token", self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, JSON_PATCH)
            .body(body.to_string());
        fetch_json(self.http, Service::Glance, req).await
    }

    /// `GET /v2/images/{id}/members`: all members for the owner, only its own entry for a member.
    pub async fn members(&self, id: &ImageId) -> Result<Vec<Member>, UpstreamError> {
        let body: MembersBody =
            fetch_json(self.http, Service::Glance, self.get(self.url(&["images", id.as_str(), "members"]))).await?;
        Ok(body.members)
    }

    /// `GET /v2/images/{id}/members/{member}`.
    pub async fn member(&self, id: &ImageId, member: &MemberId) -> Result<Member, UpstreamError> {
        fetch_json(self.http, Service::Glance, self.get(self.url(&["images", id.as_str(), "members", member.as_str()])))
            .await
    }

    /// `POST /v2/images/{id}/members` (Glance answers 200 with the new pending member).
    pub async fn add_member(&self, id: &ImageId, member: &MemberId) -> Result<Member, UpstreamError> {
        let req = self
            .http
            .post(self.url(&["images", id.as_str(), "members"]))
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
            .put(self.url(&["images", id.as_str(), "members", member.as_str()]))
            .header("X-Auth-Token", self.token.expose())
            .json(&json!({ "status": status.key() }));
        fetch_json(self.http, Service::Glance, req).await
    }

    /// `DELETE /v2/images/{id}/members/{member}` (204).
    pub async fn remove_member(&self, id: &ImageId, member: &MemberId) -> Result<(), UpstreamError> {
        let req = self
            .http
            .delete(self.url(&["images", id.as_str(), "members", member.as_str()]))
            .header("X-Auth-Token", self.token.expose());
        check(Service::Glance, send(self.http, Service::Glance, req).await?).await.map(drop)
    }

    /// `GET /v2/schemas/member` or `members`, as Glance publishes it.
    pub async fn schema(&self, name: &str) -> Result<serde_json::Value, UpstreamError> {
        fetch_json(self.http, Service::Glance, self.get(self.url(&["schemas", name]))).await
    }
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

    fn glance(endpoint: &str) -> (Upstream, Token, String) {
        (Upstream::new(reqwest::Client::new(), 4), Token::new("t"), endpoint.to_string())
    }

    #[test]
    fn urls_encode_every_segment() {
        let (http, token, endpoint) = glance("http://127.0.0.1:9292");
        let g = Glance::new(&http, &endpoint, &token).unwrap();
        assert_eq!(g.url(&["images"]).as_str(), "http://127.0.0.1:9292/v2/images");
        assert_eq!(
            g.url(&["images", "abc", "members", "a:b@c&d=e+f"]).as_str(),
            "http://127.0.0.1:9292/v2/images/abc/members/a:b@c&d=e+f"
        );
        // Even an ID that slipped past validation stays one segment.
        assert_eq!(g.url(&["images", "../x?y#z"]).as_str(), "http://127.0.0.1:9292/v2/images/..%2Fx%3Fy%23z");
    }

    #[test]
    fn endpoints_with_a_path_keep_it() {
        let (http, token, endpoint) = glance("https://cloud.example/image/?q=1");
        let g = Glance::new(&http, &endpoint, &token).unwrap();
        assert_eq!(g.url(&["images"]).as_str(), "https://cloud.example/image/v2/images");
        assert!(Glance::new(&http, "mailto:x@y", &token).is_err());
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
