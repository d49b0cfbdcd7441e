//! What every upstream call does the same way: send, turn failures into `UpstreamError`,
//! read JSON without ever panicking on what came back.

use super::{Service, UpstreamError};

/// Sends a request; a transport failure becomes an `UpstreamError` of `service`.
pub async fn send(service: Service, req: reqwest::RequestBuilder) -> Result<reqwest::Response, UpstreamError> {
    req.header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| UpstreamError::from_reqwest(service, e))
}

/// Passes a success through and turns anything else into an error carrying the service's message.
pub async fn check(service: Service, res: reqwest::Response) -> Result<reqwest::Response, UpstreamError> {
    if res.status().is_success() {
        return Ok(res);
    }
    let status = res.status().as_u16();
    let body = res.text().await.unwrap_or_default();
    Err(UpstreamError::from_body(service, status, &body))
}

pub async fn read_json<T: serde::de::DeserializeOwned>(
    service: Service,
    res: reqwest::Response,
) -> Result<T, UpstreamError> {
    let bytes = res.bytes().await.map_err(|e| UpstreamError::from_reqwest(service, e))?;
    serde_json::from_slice(&bytes).map_err(|e| UpstreamError::BadResponse { service, detail: e.to_string() })
}

/// `send`, `check` and `read_json` in one.
pub async fn fetch_json<T: serde::de::DeserializeOwned>(
    service: Service,
    req: reqwest::RequestBuilder,
) -> Result<T, UpstreamError> {
    read_json(service, check(service, send(service, req).await?).await?).await
}
