//! The URLs of Glance v2's resources, built from typed IDs only. Apart from the clients (the
//! `urls` feature, without `reqwest` and `tokio`) so that the fuzz targets build it cheaply.

use url::Url;

use crate::{
    Service, UpstreamError,
    ids::{ImageId, MemberId},
};

/// An image endpoint's URL, checked once: http(s), and able to take path segments. Every URL
/// the Glance client calls is built from it by [`BaseUrl::url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// `endpoint` is the image endpoint from the catalog (without `/v2`); its query and
    /// fragment, if any, are dropped.
    pub fn parse(endpoint: &str) -> Result<BaseUrl, UpstreamError> {
        let mut url = Url::parse(endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| UpstreamError::BadResponse {
                service: Service::Glance,
                detail: "the catalog's image endpoint is not an http(s) URL".into(),
            })?;
        url.set_query(None);
        url.set_fragment(None);
        Ok(BaseUrl(url))
    }

    /// The URL of `resource`: the endpoint's own path, then `/v2/…`, each ID one
    /// percent-encoded path segment. It takes typed IDs only, so nothing can add a segment, a
    /// query or a fragment, nor be a `.`/`..` segment that URL parsers resolve away (the `url`
    /// crate drops those silently): [`MemberId::parse`] refuses them, and an [`ImageId`] is a
    /// UUID. `fuzz/fuzz_targets/ids.rs` checks this for any text.
    pub fn url(&self, resource: Resource<'_>) -> Url {
        let mut segments = vec!["v2", "images"];
        match resource {
            Resource::Images => {}
            Resource::Image(image) => segments.push(image.as_str()),
            Resource::Members(image) => segments.extend([image.as_str(), "members"]),
            Resource::Member(image, member) => segments.extend([image.as_str(), "members", member.as_str()]),
        }
        let mut url = self.0.clone();
        // `parse` made sure the URL can be a base, so this `if` always holds.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The URL of the version document: `versions` under the endpoint's own path (Glance
    /// answers it there with 200, while the endpoint itself answers 300 Multiple Choices).
    pub fn versions(&self) -> Url {
        let mut url = self.0.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("versions");
        }
        url
    }
}

/// The Glance v2 resources this client calls, by typed ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// `/v2/images`
    Images,
    /// `/v2/images/{image}`
    Image(&'a ImageId),
    /// `/v2/images/{image}/members`
    Members(&'a ImageId),
    /// `/v2/images/{image}/members/{member}`
    Member(&'a ImageId, &'a MemberId),
}
