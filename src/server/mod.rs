//! The axum service: web hall, hotline console, review queue, eval pages,
//! JSON API and the OpenAI-compatible endpoint.
//!
//! [`app`] builds the router from an [`AppState`] (tests serve it on port 0);
//! [`serve`] binds and runs it. Submodules: [`api`] (JSON/SSE API),
//! [`openai`], [`engine`] (`serve --engine-only`: raw generation), [`pages`] (citizen pages) and [`staff`] (agent, review, eval),
//! [`auth`] (login, sessions, CSRF), [`limits`] (per-IP rate limits),
//! [`queue`] (bounded generation queue), [`metrics`], [`consult`] (one
//! consultation end to end), [`pipeline`] (what the service needs from the
//! answer pipeline), [`conn`] (the accept loop: connection caps, header and
//! body read timeouts, the descriptor limit, the access log).

pub mod api;
pub mod auth;
pub mod conn;
pub mod consult;
pub mod engine;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod openai;
pub mod pages;
pub mod pipeline;
pub mod queue;
pub mod staff;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::{middleware, Router};
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::AppError;
pub use pipeline::{ArticleView, Consult};

use crate::store::Store;

/// Service settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Concurrent generations.
    pub generators: usize,
    /// Requests allowed to wait for a generator before 503.
    pub queue: usize,
    /// `Retry-After` seconds when the queue is full.
    pub retry_after_secs: u64,
    /// Per-IP requests per minute on public endpoints, and the burst allowed.
    pub rate_per_minute: u32,
    pub rate_burst: u32,
    /// Largest request body (bytes).
    pub max_body_bytes: usize,
    /// Longest question (characters).
    pub max_question_chars: usize,
    /// Login session lifetime.
    pub session_ttl_secs: i64,
    /// Eval reports folder (`<name>/metrics.json`, `<name>/index.html`).
    pub reports_dir: PathBuf,
    /// Time a client has to send a request's headers (also how long an idle
    /// keep-alive connection stays open).
    pub header_timeout: Duration,
    /// Time a client has to send a request's body once its headers are in.
    pub body_timeout: Duration,
    /// Open connections allowed in all (kept below the descriptor limit) and per client IP.
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// Load balancers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: limits::TrustedProxies,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            generators: 1,
            queue: 16,
            retry_after_secs: 30,
            rate_per_minute: 120,
            rate_burst: 60,
            max_body_bytes: 64 * 1024,
            max_question_chars: 2000,
            session_ttl_secs: 8 * 3600,
            reports_dir: PathBuf::from("data/reports"),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(20),
            max_connections: 4096,
            max_connections_per_ip: 64,
            secure_cookies: false,
            trusted_proxies: limits::TrustedProxies::default(),
        }
    }
}

/// Everything a handler needs.
pub struct AppState {
    pub pipeline: Arc<dyn Consult>,
    pub store: Arc<Store>,
    pub queue: Arc<queue::Queue>,
    pub limiter: limits::RateLimiter,
    pub logins: auth::LoginThrottle,
    pub connections: Arc<conn::Connections>,
    pub metrics: metrics::Metrics,
    pub config: ServerConfig,
}

impl AppState {
    pub fn new(
        pipeline: Arc<dyn Consult>,
        store: Arc<Store>,
        config: ServerConfig,
    ) -> Arc<AppState> {
        Arc::new(AppState {
            pipeline,
            store,
            queue: queue::Queue::new(config.generators, config.queue),
            limiter: limits::RateLimiter::new(config.rate_per_minute, config.rate_burst),
            logins: auth::LoginThrottle::default(),
            connections: conn::Connections::new(
                config.max_connections,
                config.max_connections_per_ip,
            ),
            metrics: metrics::Metrics::default(),
            config,
        })
    }
}

/// The Content-Security-Policy of every page: only our own script and style.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The router.
pub fn app(state: Arc<AppState>) -> Router {
    // Public endpoints citizens and clients call: rate limited per IP.
    let public = Router::new()
        .route("/api/consult", post(api::consult))
        .route("/api/search", get(api::search))
        .route("/api/triage", get(api::triage))
        .route("/api/articles/{law}/{number}", get(api::article))
        .route("/api/feedback", post(api::feedback))
        .route("/api/handoff", post(api::handoff))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/models", get(openai::models))
        .route("/login", get(auth::login_page).post(auth::login))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limits::rate_limit,
        ));
    let open = Router::new()
        .route("/", get(pages::hall))
        .route("/article/{law}/{number}", get(pages::article))
        .route("/static/{name}", get(pages::static_file))
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/logout", post(auth::logout))
        .route("/agent", get(staff::agent_page))
        .route("/agent/ask", post(staff::agent_ask))
        .route("/agent/ask/stream", post(staff::agent_ask_stream))
        .route(
            "/agent/calls/{id}",
            get(staff::call_page).post(staff::call_close),
        )
        .route("/review", get(staff::review_page))
        .route("/review/{id}", post(staff::review_decide))
        .route("/review/export.jsonl", get(staff::review_export))
        .route("/eval", get(staff::eval_page))
        .route("/eval/reports/{name}", get(staff::eval_report));
    Router::new()
        .merge(public)
        .merge(open)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            conn::body_timeout,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            conn::access_log,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

/// Serve `app(state)` on `listener` until Ctrl-C, with client addresses
/// available for rate limiting and the connection protections of [`conn`].
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
) -> std::io::Result<()> {
    conn::serve_until(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}

/// The settings [`serve`] runs with: the descriptor limit raised to the
/// hard limit, and the global connection cap kept below it.
pub fn fit_to_descriptors(mut config: ServerConfig) -> ServerConfig {
    let limit = conn::raise_fd_limit();
    let cap = conn::cap_for_fd_limit(config.max_connections, limit);
    if cap < config.max_connections {
        tracing::warn!(
            configured = config.max_connections,
            cap,
            fd_limit = limit,
            "connection cap lowered to fit the open-file limit"
        );
    }
    config.max_connections = cap;
    config
}

/// Bind `addr` and serve.
pub async fn serve(addr: &str, state: Arc<AppState>) -> crate::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| crate::Error::io(format!("binding {addr}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| crate::Error::io("reading the bound address", e))?;
    tracing::info!("lawbrain serving on http://{local}/");
    serve_on(listener, state)
        .await
        .map_err(|e| crate::Error::io("serving", e))
}
