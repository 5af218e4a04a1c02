//! Shared by the publisher tests: a fresh store (SQLite, or PostgreSQL with RELAIS_TEST_PG), a
//! workspace, channels, targets, and workers that run until a condition holds.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use relais_domain::publish::TargetState;
use relais_domain::Lang;
use relais_net::{Net, NetConfig, SsrfPolicy};
use relais_publisher::{ChannelCredentials, ChannelService, Publisher, PublisherConfig};
use relais_store::audit::Actor;
use relais_store::channels::Channel;
use relais_store::posts::{NewTarget, Target};
use relais_store::secrets::Keyring;
use relais_store::testing::{fresh_store, TestDb};
use relais_store::users::NewUser;
use relais_store::worker::{Registry, Worker, WorkerConfig};
use relais_store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Env {
    pub db: TestDb,
    pub store: Store,
    pub ring: Keyring,
    pub net: Net,
    pub svc: ChannelService,
    pub publisher: Arc<Publisher>,
    pub workspace_id: i64,
    pub user_id: i64,
    /// The media library's files (a temporary folder).
    pub media: relais_store::blobs::SharedStorage,
    pub _media_dir: relais_store::testing::TempDir,
}

/// Short delays so retries and reconciles happen within a test.
pub fn fast_config() -> PublisherConfig {
    PublisherConfig {
        max_attempts: 4,
        retry_base_ms: 200,
        default_rate_limit_ms: 1_000,
        lease_ms: 1_000,
        stale_margin_ms: 500,
        lost_after_ms: 1_000,
        reconcile_delay_ms: 100,
        reconcile_max_attempts: 4,
        public_media_base: None,
    }
}

pub fn loopback_net(timeout: Duration) -> Net {
    Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap(),
        timeout,
        ..NetConfig::default()
    })
    .unwrap()
}

pub async fn env_with(cfg: PublisherConfig, timeout: Duration) -> Env {
    let db = fresh_store().await.unwrap();
    let store = db.store.clone();
    let ring = Keyring::from_base64("AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
    let net = loopback_net(timeout);
    let mut tx = store.begin().await.unwrap();
    let u = store
        .create_user(
            &mut tx,
            NewUser {
                email: "cm@relais.test",
                name: "CM",
                password_hash: "x",
                lang: None,
                is_admin: false,
            },
        )
        .await
        .unwrap();
    let w = store
        .create_workspace(&mut tx, "Brand", "Europe/Paris", Lang::Fr, u.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let media_dir = relais_store::testing::TempDir::new();
    let media: relais_store::blobs::SharedStorage =
        Arc::new(relais_store::blobs::LocalStorage::open(media_dir.0.join("media")).unwrap());
    Env {
        svc: ChannelService::new(store.clone(), ring.clone(), net.clone()),
        publisher: Publisher::with_media(ring.clone(), net.clone(), cfg, Some(media.clone())),
        media,
        _media_dir: media_dir,
        db,
        store,
        ring,
        net,
        workspace_id: w.id,
        user_id: u.id,
    }
}

pub async fn env() -> Env {
    env_with(fast_config(), Duration::from_secs(5)).await
}

impl Env {
    pub async fn connect(&self, creds: ChannelCredentials) -> Channel {
        self.svc
            .connect(
                self.workspace_id,
                "Channel",
                &creds,
                (self.user_id, &Actor::system("test")),
            )
            .await
            .unwrap()
    }

    pub async fn webhook(&self, url: String) -> Channel {
        self.connect(ChannelCredentials::Webhook {
            url,
            secret: "s3cret".into(),
        })
        .await
    }

    /// A draft target on `channel`.
    pub async fn draft(&self, channel: &Channel, body: &str) -> Target {
        let mut tx = self.store.begin().await.unwrap();
        let post = self
            .store
            .create_post(&mut tx, self.workspace_id, self.user_id, body, &[])
            .await
            .unwrap();
        let t = self
            .store
            .add_target(
                &mut tx,
                &post,
                NewTarget {
                    channel_id: channel.id,
                    body,
                    options: &serde_json::json!({}),
                    state: TargetState::Draft,
                    scheduled_at: None,
                },
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        t
    }

    /// Draft → scheduled at `at` (with its job), committed.
    pub async fn schedule(&self, t: &Target, at: i64) -> Target {
        let mut tx = self.store.begin().await.unwrap();
        let t = relais_publisher::schedule(&self.store, &mut tx, t.id, TargetState::Draft, at)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        t
    }

    /// Adds a file to the library and attaches it to part `position` of a draft target.
    pub async fn attach(&self, t: &Target, position: i64, data: &[u8], alt: &str) -> i64 {
        use relais_store::blobs::{key_for, Spool};
        let mut sp = Spool::create(self.media.spool_dir(), 10_000_000)
            .await
            .unwrap();
        sp.write(data).await.unwrap();
        let done = sp.finish().await.unwrap();
        let kind = relais_domain::media::sniff(&done.head).expect("a known type");
        let dims = relais_domain::media::dimensions(kind, &done.head);
        let key = key_for(self.workspace_id, &done.sha256);
        self.media.commit(&done.path, &key).await.unwrap();
        let mut tx = self.store.begin().await.unwrap();
        let (m, _) = self
            .store
            .insert_media(
                &mut tx,
                relais_store::media::NewMedia {
                    workspace_id: self.workspace_id,
                    sha256: &done.sha256,
                    mime: kind.mime(),
                    bytes: done.len as i64,
                    width: dims.map(|d| d.0.into()),
                    height: dims.map(|d| d.1.into()),
                    filename: &format!("image.{}", kind.extension()),
                    alt,
                    storage: self.media.name(),
                    storage_key: &key,
                    created_by: self.user_id,
                },
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut ids: Vec<i64> = self
            .store
            .target_media(t.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|(p, _)| *p == position)
            .map(|(_, m)| m.id)
            .collect();
        ids.push(m.id);
        let mut tx = self.store.begin().await.unwrap();
        self.store
            .set_target_media(&mut tx, t.id, position, &ids)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        m.id
    }

    /// Gives a draft target follow-ups: thread parts, then an optional first comment.
    pub async fn thread(&self, t: &Target, parts: &[&str], comment: Option<&str>) {
        let mut all: Vec<(&str, &str)> = parts.iter().map(|p| ("thread", *p)).collect();
        if let Some(c) = comment {
            all.push(("comment", c));
        }
        let mut tx = self.store.begin().await.unwrap();
        self.store.set_parts(&mut tx, t.id, &all).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub fn registry(&self) -> Registry {
        let mut r = Registry::new();
        relais_publisher::register(&mut r, self.publisher.clone());
        r
    }

    /// Starts a worker with a short poll and lease.
    pub fn worker(&self, name: &str) -> Workers {
        self.workers(&[name])
    }

    pub fn workers(&self, names: &[&str]) -> Workers {
        let (stop, rx) = watch::channel(false);
        let handles = names
            .iter()
            .map(|n| {
                let cfg = WorkerConfig {
                    id: n.to_string(),
                    concurrency: 4,
                    poll: Duration::from_millis(50),
                    lease: Duration::from_millis(self.publisher.config().lease_ms as u64),
                    grace: Duration::from_millis(200),
                };
                let w = Worker::new(self.store.clone(), self.registry(), cfg);
                tokio::spawn(w.run(rx.clone()))
            })
            .collect();
        Workers { stop, handles }
    }

    pub async fn target(&self, id: i64) -> Target {
        self.store.target(id).await.unwrap()
    }

    /// Waits until the target is in `state` (panics after `secs`).
    pub async fn wait_state(&self, id: i64, state: TargetState, secs: u64) -> Target {
        let end = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let t = self.target(id).await;
            if t.state == state {
                return t;
            }
            if tokio::time::Instant::now() > end {
                panic!(
                    "target {id} is {:?} ({:?}: {:?}), not {state:?}",
                    t.state, t.last_error_code, t.last_error
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        self.store
            .list_audit(self.workspace_id, &Default::default())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
    }

    /// Kills the workers without a graceful stop (a crash: leases are not returned).
    pub fn abort(self) {
        for h in self.handles {
            h.abort();
        }
    }
}

pub async fn serve(app: axum::Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

/// A 1×1 PNG.
pub fn tiny_png() -> Vec<u8> {
    vec![
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]
}
