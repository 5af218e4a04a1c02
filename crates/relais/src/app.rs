//! Assembles relais from its settings: database, keyring, mailer, web server and worker.
//! Tests build the same `Application` on 127.0.0.1:0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use relais_store::secrets::Keyring;
use relais_store::worker::{Registry, Worker, WorkerConfig};
use relais_store::{ConnectOptions, Store};
use relais_web::{AppState, WebConfig};

use crate::config::Settings;

#[derive(Debug, Clone, Copy)]
pub struct Roles {
    pub web: bool,
    pub worker: bool,
}

pub struct Application {
    pub state: AppState,
    pub addr: Option<SocketAddr>,
    listener: Option<tokio::net::TcpListener>,
    worker: Option<Worker>,
    live: Option<relais_listener::live::LiveRunner>,
}

pub fn install_crypto_provider() {
    // One provider for the whole tree (rustls + ring); ignore "already installed".
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub async fn open_store(s: &Settings) -> anyhow::Result<Store> {
    let opts = ConnectOptions {
        max_connections: s.database.max_connections,
        acquire_timeout: Duration::from_secs(s.database.acquire_timeout_secs),
    };
    Ok(Store::connect(&s.database_url, &opts).await?)
}

pub fn open_keyring(s: &Settings) -> anyhow::Result<Keyring> {
    Ok(
        match std::env::var("RELAIS_MASTER_KEY")
            .ok()
            .filter(|k| !k.is_empty())
        {
            Some(k) => Keyring::from_base64(&k)?,
            None => Keyring::load_or_create(&s.master_key_path())?,
        },
    )
}

impl Application {
    pub async fn build(s: &Settings, roles: Roles) -> anyhow::Result<Application> {
        install_crypto_provider();
        let store = open_store(s).await?;
        store.migrate().await?;
        let keyring = Arc::new(open_keyring(s)?);
        let mailer = Arc::new(relais_web::mail::Mailer::from_settings(s.smtp.as_ref())?);
        let listener = if roles.web {
            let l = tokio::net::TcpListener::bind(&s.listen)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot listen on {}: {e} (is another relais running? change `listen`)",
                        s.listen
                    )
                })?;
            Some(l)
        } else {
            None
        };
        let addr = listener.as_ref().map(|l| l.local_addr()).transpose()?;
        let public_url = match addr {
            // Port 0 (tests): links must carry the real port.
            Some(a) if s.public_url == format!("http://{}", s.listen) => format!("http://{a}"),
            _ => s.public_url.clone(),
        };
        let ssrf =
            relais_net::SsrfPolicy::with_allow_list(&s.security.fetch_allow).map_err(|e| {
                anyhow::anyhow!("security.fetch_allow: {e} (write CIDRs like 127.0.0.1/32)")
            })?;
        let net = relais_net::Net::new(relais_net::NetConfig {
            ssrf,
            ..Default::default()
        })?;
        let cfg = WebConfig {
            public_url,
            secure_cookies: s.secure_cookies(),
            login_max_failures: s.security.login_max_failures,
            media_max_bytes: s.media.max_upload_mb * 1_000_000,
        };
        let media_dir = s.media_dir();
        let media: relais_store::blobs::SharedStorage = Arc::new(
            relais_store::blobs::LocalStorage::open(&media_dir).map_err(|e| {
                anyhow::anyhow!(
                    "cannot use the media folder {}: {e} (set media.dir to a writable folder)",
                    media_dir.display()
                )
            })?,
        );
        let mut state = AppState {
            store: store.clone(),
            keyring,
            mailer,
            cfg: Arc::new(cfg),
            metrics: Arc::new(relais_web::ops::Metrics::new()),
            worker_wake: None,
            net: net.clone(),
            media: media.clone(),
        };
        let mut live = None;
        let worker = if roles.worker {
            let mut registry = Registry::new();
            relais_web::service::mailjob::register(&mut registry, state.clone());
            relais_web::service::notify::register(&mut registry, state.clone());
            relais_web::service::newsletter::register(&mut registry, state.clone());
            relais_web::service::alerts::engine::register(&mut registry, state.clone());
            relais_web::service::alerts::engine::schedule(&store).await?;
            relais_web::service::blog::register(&mut registry, state.clone());
            relais_web::service::blog::schedule(&store).await?;
            relais_web::service::approval_expiry::install(&mut registry, state.clone()).await?;
            let mut listener = relais_listener::Listener::new(store.clone(), net.clone());
            if !s.listening.sentiment_lexicon.is_empty() {
                let path = std::path::Path::new(&s.listening.sentiment_lexicon);
                let e = relais_listener::Enricher::with_lexicon(path)
                    .map_err(|e| anyhow::anyhow!("listening.sentiment_lexicon: {e}"))?;
                listener = listener.with_enricher(e);
            }
            let warmed = listener.warm_stories().await?;
            tracing::info!(items = warmed, "story index rebuilt from stored mentions");
            listener.register(&mut registry).await?;
            live = Some(relais_listener::live::LiveRunner::new(
                listener,
                store.clone(),
                net.clone(),
                state.keyring.clone(),
            ));
            let publisher = relais_publisher::Publisher::with_media(
                (*state.keyring).clone(),
                net.clone(),
                relais_publisher::PublisherConfig {
                    public_media_base: Some(state.link("/public/media/")),
                    // A target left `publishing` by a dead worker is taken back once the job
                    // lease it ran under is over, plus a margin (default 60 s + 60 s).
                    lease_ms: s.worker.lease_secs as i64 * 1000,
                    stale_margin_ms: (s.worker.lease_secs as i64 * 1000).max(10_000),
                    ..Default::default()
                },
                Some(media.clone()),
            );
            relais_publisher::register(&mut registry, publisher);
            relais_publisher::install_sweeper(&store).await?;
            relais_publisher::renewal::register(
                &mut registry,
                (*state.keyring).clone(),
                net.clone(),
            );
            relais_publisher::renewal::install_renewal(&store).await?;
            store
                .upsert_recurring(
                    "housekeeping",
                    "system.housekeeping",
                    &serde_json::json!({}),
                    "every 1h",
                )
                .await?;
            let cfg = WorkerConfig {
                concurrency: s.worker.concurrency,
                poll: Duration::from_millis(s.worker.poll_ms),
                lease: Duration::from_secs(s.worker.lease_secs.max(3)),
                ..Default::default()
            };
            let w = Worker::new(store.clone(), registry, cfg);
            state.worker_wake = Some(w.waker());
            Some(w)
        } else {
            None
        };
        Ok(Application {
            state,
            addr,
            listener,
            worker,
            live,
        })
    }

    /// The one-time setup link when the database has no account yet.
    pub async fn setup_link(&self) -> anyhow::Result<Option<String>> {
        Ok(relais_web::service::accounts::setup_link_if_needed(&self.state).await?)
    }

    /// Serves until `shutdown` resolves, then stops taking requests and jobs, lets running jobs
    /// finish (or returns their leases) and closes the database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = self.worker.map(|w| tokio::spawn(w.run(stop_rx.clone())));
        let live = self.live.map(|l| tokio::spawn(l.run(stop_rx.clone())));
        let mut rx = stop_rx.clone();
        let web = self.listener.map(|listener| {
            let app = relais_web::router(self.state.clone())
                .into_make_service_with_connect_info::<SocketAddr>();
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.changed().await;
                    })
                    .await
            })
        });
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
        if let Some(w) = worker {
            let _ = w.await;
        }
        if let Some(l) = live {
            let _ = tokio::time::timeout(Duration::from_secs(5), l).await;
        }
        if let Some(web) = web {
            let _ = tokio::time::timeout(Duration::from_secs(10), web).await;
        }
        self.state.store.close().await;
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called (not when the
/// future is first polled), so a signal that arrives while the worker starts is not lost.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async {
            match term.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    }
}
