//! What every upstream call does the same way: send, turn failures into `UpstreamError`,
//! read JSON without ever panicking on what came back.

use super::{Service, UpstreamError};

/// Sends a request; a transport failure becomes an `UpstreamError` of `service`. An
/// idempotent call (GET, PUT) whose connection failed or was closed before the answer came,
/// or that got a 5xx, is tried once more: doing it twice changes nothing, and a closed pooled
/// connection or a briefly locked database is the usual cause.
pub async fn send(service: Service, req: reqwest::RequestBuilder) -> Result<reqwest::Response, UpstreamError> {
    send_with(service, req, Repeat::IfIdempotent).await
}

/// `send` for a POST that is safe to make twice, such as issuing a token: a second token
/// nobody holds does no harm, while a sign-in lost to a dropped connection does.
pub async fn send_repeatable(
    service: Service,
    req: reqwest::RequestBuilder,
) -> Result<reqwest::Response, UpstreamError> {
    send_with(service, req, Repeat::Always).await
}

enum Repeat {
    IfIdempotent,
    Always,
}

async fn send_with(
    service: Service,
    req: reqwest::RequestBuilder,
    repeat: Repeat,
) -> Result<reqwest::Response, UpstreamError> {
    let failed = |e| UpstreamError::from_reqwest(service, e);
    let (client, request) = req.header(reqwest::header::ACCEPT, "application/json").build_split();
    let request = request.map_err(failed)?;
    let repeatable = match repeat {
        Repeat::Always => true,
        Repeat::IfIdempotent => matches!(*request.method(), reqwest::Method::GET | reqwest::Method::PUT),
    };
    let again = if repeatable { request.try_clone() } else { None };
    let first = client.execute(request).await;
    let worth_again = match &first {
        // A timeout is not worth repeating: the user would wait twice as long for the same answer.
        Err(e) => !e.is_timeout() && (e.is_connect() || e.is_request()),
        Ok(res) => res.status().is_server_error(),
    };
    match again {
        Some(again) if worth_again => {
            tracing::debug!("{service}: trying the call once more");
            tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            client.execute(again).await.map_err(failed)
        }
        _ => first.map_err(failed),
    }
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
