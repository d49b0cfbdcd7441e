//! An in-process fake Keystone + Glance: a real HTTP server on 127.0.0.1 that records every
//! request as it arrived (raw path, query, headers, body) and answers what the test says.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::Request,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The path exactly as sent, percent-encoding and all.
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `http://host:port` of the fake, as the client addressed it.
    pub fn base(&self) -> String {
        format!("http://{}", self.header("host").unwrap())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }

    /// The query's pairs, decoded, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or_default().as_bytes()).into_owned().collect()
    }
}

type Answer = dyn Fn(&Seen, usize) -> Response + Send + Sync;

/// A running fake. Keystone lives under `/identity/v3`, Glance under `/image`, both on `base`.
pub struct Fake {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    /// Starts a fake that answers each request with `answer(request, n)`, where `n` counts the
    /// earlier requests with the same method and path (0 for the first).
    pub async fn start(answer: impl Fn(&Seen, usize) -> Response + Send + Sync + 'static) -> Fake {
        Fake::start_slow(Duration::ZERO, answer).await
    }

    /// `start`, answering each request only after `delay`.
    pub async fn start_slow(
        delay: Duration,
        answer: impl Fn(&Seen, usize) -> Response + Send + Sync + 'static,
    ) -> Fake {
        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let answer: Arc<Answer> = Arc::new(answer);
        let record = seen.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let (record, answer) = (record.clone(), answer.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
                let request = Seen {
                    method: parts.method.to_string(),
                    path: parts.uri.path().to_string(),
                    query: parts.uri.query().map(str::to_string),
                    headers: parts.headers,
                    body,
                };
                let n = {
                    let mut seen = record.lock().unwrap();
                    let n = seen.iter().filter(|s| s.method == request.method && s.path == request.path).count();
                    seen.push(request.clone());
                    n
                };
                tokio::time::sleep(delay).await;
                answer(&request, n)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake { base, seen }
    }

    pub fn keystone_url(&self) -> url::Url {
        url::Url::parse(&format!("{}/identity/v3", self.base)).unwrap()
    }

    pub fn glance_url(&self) -> String {
        format!("{}/image", self.base)
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The one request so far (fails if there were more or none).
    pub fn only(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        seen.into_iter().next().unwrap()
    }
}

pub fn json_answer(status: u16, body: Value) -> Response {
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

/// An error the way Glance words one: the message ends in literal markup and new lines.
pub fn glance_error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap();
    let body = json!({
        "message": format!("{message}<br /><br />\n\n\n"),
        "code": format!("{status} {}", code.canonical_reason().unwrap_or_default()),
        "title": code.canonical_reason(),
    });
    json_answer(status, body)
}

/// What a proxy in front of Glance sends when Glance is down.
pub fn proxy_html(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap();
    let reason = code.canonical_reason().unwrap_or_default();
    let page = format!("<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>");
    (code, [("content-type", "text/html")], page).into_response()
}

pub const IMAGE: &str = "3d9ea67b-1dad-4b7f-99fd-1d62aa62b73b";
pub const OTHER_IMAGE: &str = "0b7a6c0e-0d5e-4b55-9a3a-2f8f5f3e8c11";
pub const CONSUMER: &str = "b38138f592fe4ea798e654b0f4dea38f";

/// A member entry as Glance answers it.
pub fn member(image: &str, member: &str, status: &str) -> Value {
    json!({
        "member_id": member, "image_id": image, "status": status,
        "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z",
        "schema": "/v2/schemas/member",
    })
}

/// An image as Glance answers it, with a field this crate does not know.
pub fn image(id: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "visibility": "shared", "owner": "801b090736ef4b0e97cf097efc706a44",
        "status": "queued", "size": null, "disk_format": "raw", "container_format": "bare",
        "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z",
        "os_hidden": false, "self": format!("/v2/images/{id}"), "schema": "/v2/schemas/image",
    })
}

/// A Keystone token body whose catalog points Glance at this fake, in two regions.
pub fn token_body(base: &str, project: Option<(&str, &str)>) -> Value {
    let project =
        project.map(|(id, name)| json!({"id": id, "name": name, "domain": {"id": "default", "name": "Default"}}));
    json!({"token": {
        "methods": ["password"],
        "expires_at": "2030-01-02T03:04:05.000000Z",
        "issued_at": "2030-01-02T02:04:05.000000Z",
        "user": {"id": "u1", "name": "producer-user", "domain": {"id": "default", "name": "Default"}, "password_expires_at": null},
        "project": project,
        "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "reader"}],
        "catalog": [
            {"type": "identity", "id": "k", "name": "keystone", "endpoints": [
                {"id": "e1", "interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": format!("{base}/identity/v3")}
            ]},
            {"type": "image", "id": "g", "name": "glance", "endpoints": [
                {"id": "e2", "interface": "public", "region_id": "RegionOne", "region": "RegionOne", "url": format!("{base}/image/")},
                {"id": "e3", "interface": "public", "region_id": "RegionTwo", "region": "RegionTwo", "url": format!("{base}/image2")},
                {"id": "e4", "interface": "internal", "region_id": "RegionOne", "region": "RegionOne", "url": "http://10.0.0.1:9292"}
            ]}
        ]
    }})
}

/// A token answer of `POST /v3/auth/tokens`: 201 with the token in `X-Subject-Token`.
pub fn issued(base: &str, token: &str, project: Option<(&str, &str)>) -> Response {
    (StatusCode::CREATED, [("x-subject-token", token.to_string())], axum::Json(token_body(base, project)))
        .into_response()
}
