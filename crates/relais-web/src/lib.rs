//! The HTTP surface of relais: server-rendered pages (askama + htmx), the JSON API under
//! `/api/v1`, and the operations endpoints. Handlers extract, call a service, render.

pub mod api;
pub mod assets;
pub mod auth;
pub mod csrf;
pub mod error;
pub mod highlight;
pub mod i18n;
pub mod listen_view;
pub mod mail;
pub mod ops;
pub mod pages;
pub mod service;
pub mod view;
pub mod view_compose;

use std::sync::Arc;

use axum::Router;
use relais_store::secrets::Keyring;
use relais_store::Store;
use tokio::sync::Notify;

pub use error::AppError;

/// Settings the web layer needs (a subset of the binary's configuration).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address users reach relais at, e.g. `https://relais.example.com` (links in emails).
    pub public_url: String,
    /// Mark cookies `Secure` (true when public_url is https).
    pub secure_cookies: bool,
    /// Maximum failed logins per email or client address within 15 minutes.
    pub login_max_failures: i64,
    /// Largest media upload, in bytes.
    pub media_max_bytes: u64,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub keyring: Arc<Keyring>,
    pub mailer: Arc<mail::Mailer>,
    pub cfg: Arc<WebConfig>,
    pub metrics: Arc<ops::Metrics>,
    /// Wakes the local worker after an enqueue so jobs start without waiting for the next poll.
    pub worker_wake: Option<Arc<Notify>>,
    /// The HTTP client for every URL the server fetches (SSRF-guarded).
    pub net: relais_net::Net,
    /// Where the media library's files are kept.
    pub media: relais_store::blobs::SharedStorage,
}

impl AppState {
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.cfg.public_url.trim_end_matches('/'), path)
    }
}

/// The whole application router with its middleware.
pub fn router(state: AppState) -> Router {
    let ui = pages::router().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        csrf::verify,
    ));
    Router::new()
        .merge(ui)
        .merge(pages::newsletter_public::unprotected())
        .nest("/api/v1", api::router())
        .merge(ops::router())
        .merge(assets::router())
        .fallback(|| async { AppError::not_found() })
        .layer(axum::middleware::from_fn(error::render_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ops::track,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(state)
}

async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{self, HeaderValue};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // No inline scripts anywhere: htmx and our own JS are files under /assets.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    res
}
