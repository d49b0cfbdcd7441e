//! The HTTP server: the router with its layers, the session store, and graceful shutdown.

use std::{sync::Arc, time::Duration};

use axum::{Router, http::header, middleware, response::IntoResponse, routing::get};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore, cookie::SameSite};
use tower_sessions_sqlx_store::{
    SqliteStore,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::{
    app::{App, shell},
    audit::AuditLog,
    config::{Config, SessionStoreKind},
    security,
    state::AppState,
    telemetry,
};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the runtime could not start: {0}")]
    Runtime(std::io::Error),
    #[error("Leptos settings are not valid: {0}")]
    LeptosSettings(#[from] leptos::config::errors::LeptosConfigError),
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("could not build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("could not open the session store: {0}")]
    SessionStore(#[from] tower_sessions_sqlx_store::sqlx::Error),
    #[error("could not use the Redis session store: {0}")]
    Redis(tower_sessions_redis_store::fred::error::Error),
    #[error("the Redis session store did not answer within 10 s")]
    RedisTimeout,
    #[error("{0}")]
    SecretKey(#[from] crate::secret_key::KeyError),
    #[error("could not make the session store {path} private (mode 0600): {source}")]
    PrivateFile { path: std::path::PathBuf, source: std::io::Error },
    #[error("{0}")]
    AuditLog(#[from] crate::audit::OpenError),
    #[error("could not listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// Builds the whole application for one session store.
pub fn router<S: SessionStore + Clone>(state: AppState, store: S) -> Router {
    let config = state.config.clone();
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(store)
        .with_name(config.cookie_name.clone())
        .with_http_only(true)
        // Lax: a deep link to an image opened from chat or mail arrives signed in; state changes
        // are guarded by the Origin check instead.
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(config.session_idle).unwrap_or(time::Duration::HOUR),
        ));

    let origin: Arc<str> = config.public_origin().into();
    // The bundle and public files are served directly: Leptos' fallback handler renders the
    // app for any answer but 200, so a browser revalidating its cached bundle (304) got a page.
    let site = state.leptos_options.site_root.to_string();
    let pkg = format!("{site}/{}", state.leptos_options.site_pkg_dir);
    let https = config.public_url.scheme() == "https";

    let routes = Router::new()
        .route("/healthz", get(|| async { ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok\n") }))
        .route("/images/{image_id}/terraform", get(terraform_download))
        .route("/access/export.csv", get(|s, session, q| review_download(s, session, q, ReviewFormat::Csv)))
        .route("/access/export.json", get(|s, session, q| review_download(s, session, q, ReviewFormat::Json)))
        .route("/access/export.tf", get(|s, session, q| review_download(s, session, q, ReviewFormat::Terraform)))
        .nest_service("/pkg", tower_http::services::ServeDir::new(pkg).precompressed_br().precompressed_gzip())
        .route_service("/favicon.svg", tower_http::services::ServeFile::new(format!("{site}/favicon.svg")))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    // The layers wrap the router once, outermost first. (`Router::layer` wraps every route
    // apart, in boxes cloned on each request: ~100 allocations a request, 3 % of an image
    // page's instructions under callgrind.)
    let app = ServiceBuilder::new()
        .layer(middleware::map_request(telemetry::forget_client_request_id))
        .layer(SetRequestIdLayer::new(telemetry::REQUEST_ID, telemetry::NewRequestId))
        .layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span).on_response(telemetry::log_response))
        .layer(PropagateRequestIdLayer::new(telemetry::REQUEST_ID))
        .layer(middleware::from_fn(telemetry::with_request_id))
        .layer(middleware::from_fn_with_state(https, security::security_headers))
        // One limit over every route: a page being rendered holds its upstream answers and
        // its HTML in memory until it is sent, so a burst of users waits in line instead.
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(config.max_concurrent_requests))
        .layer(middleware::from_fn_with_state(config.max_body_bytes, whole_body_within_limit))
        .layer(middleware::from_fn_with_state(origin, security::require_same_origin))
        .layer(middleware::from_fn(server_fn_errors_keep_their_status))
        .layer(middleware::from_fn(crate::ui::apart::splice))
        .layer(middleware::map_request(crate::api::server::read_once_per_page))
        .layer(sessions)
        .service(routes);
    Router::new().fallback_service(app)
}

/// Reads the whole request body, refusing one over `max` bytes with 413 before any handler
/// sees it. A chunked body has no length to check up front: cut off inside a server function,
/// it was answered 500 ("length limit exceeded").
async fn whole_body_within_limit(
    axum::extract::State(max): axum::extract::State<usize>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use futures::StreamExt;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    if declared.is_some_and(|n| n > max as u64) {
        return too_large_after_draining(parts.uri.path(), max, stream, 0).await;
    }
    let mut read = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // The client broke off its own request: nobody is left to read an answer.
            return axum::http::StatusCode::BAD_REQUEST.into_response();
        };
        if read.len() + chunk.len() > max {
            return too_large_after_draining(parts.uri.path(), max, stream, read.len() + chunk.len()).await;
        }
        read.extend_from_slice(&chunk);
    }
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(read))).await
}

/// A refused body is read to its end (and dropped) before the 413 is sent, up to this much: a
/// server that answers and closes while the client is still sending makes the client's kernel
/// see a reset, and the browser shows a broken connection instead of the answer.
const DRAINED_AT_MOST: usize = 16 * 1024 * 1024;

/// 413, once the rest of the body (past the `seen` bytes) is read and dropped.
async fn too_large_after_draining(
    path: &str,
    max: usize,
    mut rest: axum::body::BodyDataStream,
    mut seen: usize,
) -> axum::response::Response {
    use futures::StreamExt;
    while seen <= DRAINED_AT_MOST {
        match rest.next().await {
            Some(Ok(chunk)) => seen += chunk.len(),
            // The end, or a client that broke off: either way there is nothing more to read.
            _ => break,
        }
    }
    too_large(path, max)
}

/// 413, as an `AppError` for a server function's caller, in words for anyone else.
fn too_large(path: &str, max: usize) -> axum::response::Response {
    let error = crate::error::AppError::TooLarge(max);
    let status = error.http_status();
    if path.starts_with("/api/") {
        (status, axum::Json(error)).into_response()
    } else {
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{error}\n")).into_response()
    }
}

/// Leptos answers every server-function error with 500, also one raised before the function
/// ran (a missing field, a body that is not UTF-8) that never passed through `api::server::reply`:
/// such an answer gets the status its `AppError` carries.
async fn server_fn_errors_keep_their_status(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let res = next.run(req).await;
    let from_server_fn = res.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER);
    if res.status() != axum::http::StatusCode::INTERNAL_SERVER_ERROR || !from_server_fn {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    // An encoded AppError is small; anything bigger is not one.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(error) = serde_json::from_slice::<crate::error::AppError>(&bytes) {
        parts.status = error.http_status();
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

#[derive(serde::Deserialize)]
struct ProviderQuery {
    provider: Option<String>,
}

/// The Terraform export as a file to download (works without JavaScript).
async fn terraform_download(
    axum::extract::State(state): axum::extract::State<AppState>,
    session: tower_sessions::Session,
    axum::extract::Path(image_id): axum::extract::Path<String>,
    axum::extract::Query(query): axum::extract::Query<ProviderQuery>,
) -> axum::response::Response {
    let result = async {
        let me = crate::session::current(&session).await?;
        let caller = crate::sharing::Caller { state, session, me };
        let provider = query.provider.as_deref().unwrap_or("openstack");
        crate::sharing::export::image_terraform(&caller, &image_id, provider).await
    }
    .await;
    match result {
        Ok(file) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", file.file_name)),
            ],
            file.text,
        )
            .into_response(),
        Err(e) => {
            (e.http_status(), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{e}\n")).into_response()
        }
    }
}

/// A pool of connections to the Redis at `url`, once it answers.
async fn redis_pool(url: &str) -> Result<tower_sessions_redis_store::fred::prelude::Pool, StartError> {
    use tower_sessions_redis_store::fred::prelude::{ClientLike, Config as RedisConfig, Pool, ReconnectPolicy};
    let redis = RedisConfig::from_url(url).map_err(StartError::Redis)?;
    // Reconnects after Redis restarts (every 0.1 s to 5 s, without end): sessions, batches and
    // sign-ins work again once it answers.
    let reconnect = ReconnectPolicy::new_exponential(0, 100, 5_000, 2);
    let pool = Pool::new(redis, None, None, Some(reconnect), 4).map_err(StartError::Redis)?;
    // Connects in the background and reconnects by itself; start only once it answers.
    let _connection = pool.connect();
    tokio::time::timeout(Duration::from_secs(10), pool.wait_for_connect())
        .await
        .map_err(|_| StartError::RedisTimeout)?
        .map_err(StartError::Redis)?;
    Ok(pool)
}

#[derive(serde::Deserialize)]
struct OwnerQuery {
    owner: Option<String>,
    /// For the Terraform export: the provider's key (`openstack` unless given).
    provider: Option<String>,
}

#[derive(Clone, Copy)]
enum ReviewFormat {
    Csv,
    Json,
    Terraform,
}

/// The access review as a file to download (works without JavaScript).
async fn review_download(
    axum::extract::State(state): axum::extract::State<AppState>,
    session: tower_sessions::Session,
    axum::extract::Query(query): axum::extract::Query<OwnerQuery>,
    format: ReviewFormat,
) -> axum::response::Response {
    use axum::{http::header, response::IntoResponse};
    let result = async {
        let me = crate::session::current(&session).await?;
        let caller = crate::sharing::Caller { state, session, me };
        let review = crate::sharing::review::review(&caller, query.owner.as_deref()).await?;
        let name = format!("access-review-{}", review.owner);
        Ok::<_, crate::error::AppError>(match format {
            ReviewFormat::Csv => {
                ("text/csv; charset=utf-8", format!("{name}.csv"), crate::sharing::review::csv(&review)?)
            }
            ReviewFormat::Json => (
                "application/json",
                format!("{name}.json"),
                serde_json::to_string_pretty(&crate::sharing::review::json(&review)).unwrap_or_default(),
            ),
            ReviewFormat::Terraform => {
                let provider = query.provider.as_deref().unwrap_or("openstack");
                let file = crate::sharing::review::terraform(&review, provider)?;
                ("text/plain; charset=utf-8", file.file_name, file.text)
            }
        })
    }
    .await;
    match result {
        Ok((kind, file_name, text)) => (
            [
                (header::CONTENT_TYPE, kind.to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
            ],
            text,
        )
            .into_response(),
        Err(e) => {
            (e.http_status(), [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{e}\n")).into_response()
        }
    }
}

/// The server process from its start to its exit status: settings, then `run`.
///
/// A plain function the binary calls, not an `async fn` it polls: a future of this crate
/// polled in the binary had its state machines (the whole server, Leptos' views included)
/// compiled in the binary, alone on one core after the library (188 s of the release build).
pub fn main() -> std::process::ExitCode {
    crate::telemetry::init();
    match start() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Settings first (Leptos', then the dashboard's), then `run` until a signal stops it.
fn start() -> Result<(), StartError> {
    // One thread for starting up, signals and the chores that run beside the requests (expired
    // sessions, sign-in counters); requests are served on threads of their own (`serving`).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(StartError::Runtime)?;
    let leptos = leptos::config::get_configuration(None)?;
    let config = Config::from_env()?;
    runtime.block_on(run(config, leptos.leptos_options))
}

/// Runs the dashboard until SIGTERM or SIGINT, then lets in-flight requests finish.
pub async fn run(config: Config, leptos_options: leptos::config::LeptosOptions) -> Result<(), StartError> {
    let addr = config.listen;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen { addr, source })?;
    let config = config.bound_to(addr);
    let store_kind = config.session_store.clone();
    let threads = config.server_threads;
    // Before any session is read or written: every token in one is sealed with this key.
    crate::secret_key::install(match config.secret_key_file() {
        Some(path) => crate::secret_key::SecretKey::load_or_create(&path)?,
        None => crate::secret_key::SecretKey::random(),
    });
    let audit = AuditLog::open(&config.audit_store).await?;
    // With sessions in Redis, the directory's cache of project names is there too: one warm
    // cache for every instance.
    let redis = match &store_kind {
        SessionStoreKind::Redis(url) => Some(redis_pool(url).await?),
        _ => None,
    };
    let mut state = AppState::new(config, leptos_options, audit, redis.clone())?;
    // With sessions in Redis, batches are jobs there: any instance shows them and resumes
    // those whose instance died.
    if let Some(pool) = &redis {
        let store = crate::batch::durable::Store::open(pool.clone()).await.map_err(StartError::Redis)?;
        state.batches = Arc::new(crate::batch::Batches::durable(store, state.http.clone(), state.audit.clone()));
        tokio::spawn(state.batches.clone().keep_taking());
    }
    let batches = state.batches.clone();
    let throttle = state.sign_in_throttle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(crate::throttle::SignInThrottle::FORGET_EVERY);
        loop {
            every.tick().await;
            throttle.forget_idle();
        }
    });
    let app = match store_kind {
        SessionStoreKind::Memory => router(state, tower_sessions::MemoryStore::default()),
        SessionStoreKind::Sqlite(path) => {
            // Every request writes its session (the idle expiry moves on): WAL with synchronous=NORMAL
            // makes that a write to the log, not an fsync; a crash may lose the last moments'
            // expiry updates, never the database.
            crate::private_file::sqlite_0600(&path)
                .map_err(|source| StartError::PrivateFile { path: path.clone(), source })?;
            let options = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            // No ping before each use: a connection to a local file cannot have dropped, and the
            // ping is a hand-off to the connection's thread and back on every request.
            let pool = tower_sessions_sqlx_store::sqlx::sqlite::SqlitePoolOptions::new()
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            let store = SqliteStore::new(pool);
            store.migrate().await?;
            tokio::spawn(tower_sessions::session_store::ExpiredDeletion::continuously_delete_expired(
                store.clone(),
                tokio::time::Duration::from_secs(600),
            ));
            router(state, store)
        }
        SessionStoreKind::Redis(url) => {
            // Connected above for the state; connecting here again cannot happen, but costs
            // nothing to write and leaves no panic behind.
            let pool = match redis {
                Some(pool) => pool,
                None => redis_pool(&url).await?,
            };
            router(state, tower_sessions_redis_store::RedisStore::new(pool))
        }
    };

    // Before saying "listening": a SIGTERM that comes right after must find the handler in place,
    // or its default action kills the process instead of stopping it gracefully.
    let shutdown = shutdown_signal();
    let serving = crate::serving::start(listener, app, threads).await.map_err(StartError::Serve)?;
    // The address last: scripts and tests read it from the end of this line.
    tracing::info!("{threads} serving threads; glance-share listening on http://{addr}");
    let serving = serving.until(shutdown).await;
    // Batches run outside any request: give them the same bounded time to finish.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while batches.running() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if batches.running() > 0 {
        tracing::warn!(running = batches.running(), "stopping with batches still running");
    }
    serving.stop();
    tracing::info!("glance-share stopped");
    Ok(())
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called, not when the
/// future is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    async move {
        let wait = |s: std::io::Result<tokio::signal::unix::Signal>| async move {
            match s {
                Ok(mut s) => drop(s.recv().await),
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! { _ = wait(terminate) => {}, _ = wait(interrupt) => {} }
        tracing::info!("shutting down: finishing requests in flight");
        // Bounded: a stuck upstream call must not keep the process alive for ever.
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            tracing::warn!("requests or batches still running after 30 s; exiting");
            std::process::exit(0);
        });
    }
}
