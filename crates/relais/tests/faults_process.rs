//! Faults around real `relais worker` processes publishing to a local webhook receiver:
//! a worker killed with SIGKILL while a publish is in flight, then a new one started; the
//! PostgreSQL server restarted while posts go out. Never a duplicate, never a silent loss:
//! every target ends `published` with its remote id, and the receiver saw exactly one
//! distinct `Idempotency-Key` per target (a re-send with the same key is what receivers
//! deduplicate, so it counts as one post).

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use relais_domain::publish::TargetState;
use relais_domain::Lang;
use relais_net::{Net, NetConfig, SsrfPolicy};
use relais_publisher::{ChannelCredentials, ChannelService};
use relais_store::audit::Actor;
use relais_store::posts::NewTarget;
use relais_store::secrets::Keyring;
use relais_store::testing::{fresh_url, TempDir};
use relais_store::users::NewUser;
use relais_store::Store;

/// A webhook receiver that records every request's `Idempotency-Key` and answers
/// `{"id": "r-<key>"}`. The first request waits `first_delay` before answering (a publish
/// in flight); every other one waits `each_delay`.
struct Receiver {
    url: String,
    keys: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    async fn start(first_delay: Duration, each_delay: Duration) -> Receiver {
        let keys: Arc<Mutex<Vec<String>>> = Arc::default();
        let first = Arc::new(AtomicBool::new(true));
        let k = keys.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let (k, first) = (k.clone(), first.clone());
                async move {
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    k.lock().unwrap().push(key.clone());
                    let wait = if first.swap(false, Ordering::SeqCst) {
                        first_delay
                    } else {
                        each_delay
                    };
                    tokio::time::sleep(wait).await;
                    (
                        [("content-type", "application/json")],
                        serde_json::json!({ "id": format!("r-{key}") }).to_string(),
                    )
                }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hook"),
            keys,
        }
    }

    fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }
}

/// A workspace with `channels` webhook channels (credentials sealed with `ring`) and `targets`
/// targets spread over them, all scheduled due now. Returns target id → idempotency key.
async fn setup(
    store: &Store,
    ring: &Keyring,
    hook: &str,
    channels: usize,
    targets: usize,
) -> BTreeMap<i64, String> {
    let mut tx = store.begin().await.unwrap();
    let u = store
        .create_user(
            &mut tx,
            NewUser {
                email: "faults@example.com",
                name: "Faults",
                password_hash: "x",
                lang: None,
                is_admin: false,
            },
        )
        .await
        .unwrap();
    let w = store
        .create_workspace(&mut tx, "Faults", "UTC", Lang::En, u.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let net = Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32"]).unwrap(),
        ..NetConfig::default()
    })
    .unwrap();
    let svc = ChannelService::new(store.clone(), ring.clone(), net);
    let actor = Actor::system("test");
    let mut chans = Vec::new();
    for i in 0..channels {
        let creds = ChannelCredentials::Webhook {
            url: hook.to_string(),
            secret: format!("hook-secret-{i}"),
        };
        let ch = svc
            .connect(w.id, &format!("hook {i}"), &creds, (u.id, &actor))
            .await
            .unwrap();
        assert!(ch.secret_id.is_some(), "credentials sealed");
        chans.push(ch.id);
    }
    let mut tx = store.begin().await.unwrap();
    let post = store
        .create_post(&mut tx, w.id, u.id, "faults", &[])
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for i in 0..targets {
        let t = store
            .add_target(
                &mut tx,
                &post,
                NewTarget {
                    channel_id: chans[i % chans.len()],
                    body: &format!("fault post {i}"),
                    options: &serde_json::json!({}),
                    state: TargetState::Draft,
                    scheduled_at: None,
                },
            )
            .await
            .unwrap();
        relais_publisher::schedule(
            store,
            &mut tx,
            t.id,
            TargetState::Draft,
            relais_store::now(),
        )
        .await
        .unwrap();
        out.insert(t.id, t.idempotency_key);
    }
    tx.commit().await.unwrap();
    out
}

/// A random master key in the standard base64 `Keyring::from_base64` reads.
fn master_key() -> String {
    relais_store::random_token(32)
        .replace('-', "+")
        .replace('_', "/")
        + "="
}

/// A `relais worker` process on `db` with the given master key; returns once it printed its
/// readiness line. Its stdout is drained by a thread so later prints never block or fail.
/// `extra` is appended to its relais.toml.
fn start_worker(dir: &TempDir, db: &str, key: &str, extra: &str) -> Worker {
    let cfg = dir.0.join("relais.toml");
    // A short lease: a killed worker's job is taken over in seconds, not a minute.
    let text = format!("[worker]\npoll_ms = 50\nlease_secs = 4\nconcurrency = 4\n{extra}");
    std::fs::write(&cfg, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_relais"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RELAIS_DATA_DIR", &dir.0)
        .env("RELAIS_DATABASE_URL", db)
        .env("RELAIS_MASTER_KEY", key)
        .env("RELAIS_FETCH_ALLOW", "127.0.0.1/32")
        .env("RELAIS_LOG", "warn")
        .arg("--config")
        .arg(&cfg)
        .arg("worker")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if line.contains("relais worker is ready") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("relais worker prints its readiness line");
    Worker(child)
}

/// A worker process, killed when the test ends (even on a failed assertion).
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until every target is `published`, failing at once if one ends failed/unconfirmed for
/// good or a worker process exits. Database errors (a restarting server) are waited out.
async fn wait_published(
    store: &Store,
    ids: &BTreeMap<i64, String>,
    workers: &mut [&mut Worker],
    within: Duration,
) {
    let t0 = Instant::now();
    loop {
        for w in workers.iter_mut() {
            assert!(
                w.0.try_wait().unwrap().is_none(),
                "a relais worker exited during the test"
            );
        }
        let mut done = 0;
        let mut states = Vec::new();
        for id in ids.keys() {
            match store.target(*id).await {
                Ok(t) => {
                    assert_ne!(t.state, TargetState::Failed, "target {id} failed: {t:?}");
                    done += usize::from(t.state == TargetState::Published);
                    states.push((t.id, t.state, t.attempts));
                }
                Err(_) => break, // the server is restarting
            }
        }
        if done == ids.len() {
            return;
        }
        assert!(
            t0.elapsed() < within,
            "not all published after {within:?}: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Each target published once with the receiver's remote id, and the receiver saw exactly one
/// distinct key per target, none unknown. Returns the number of requests (re-sends included).
async fn assert_once_each(store: &Store, ids: &BTreeMap<i64, String>, rx: &Receiver) -> usize {
    // Late re-sends (if any) would arrive now.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = rx.keys();
    let distinct: HashSet<&String> = got.iter().collect();
    let expected: HashSet<&String> = ids.values().collect();
    assert_eq!(
        distinct, expected,
        "one distinct idempotency key per target, none missing, none unknown"
    );
    for (id, key) in ids {
        let t = store.target(*id).await.unwrap();
        assert_eq!(t.state, TargetState::Published);
        assert_eq!(t.remote_id.as_deref(), Some(format!("r-{key}").as_str()));
        assert!(t.published_at.is_some());
    }
    got.len()
}

/// The database restart would disturb the other test on PostgreSQL: one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_publish_then_restart_publishes_once() {
    let _one = ONE_AT_A_TIME.lock().await;
    relais::app::install_crypto_provider();
    let t_start = Instant::now();
    let rx = Receiver::start(Duration::from_secs(3), Duration::ZERO).await;
    let dir = TempDir::new();
    let (db, _keep) = fresh_url().await.unwrap();
    let store = Store::connect(&db, &Default::default()).await.unwrap();
    store.migrate().await.unwrap();
    let key = master_key();
    let ring = Keyring::from_base64(&key).unwrap();
    let ids = setup(&store, &ring, &rx.url, 1, 1).await;
    let (&target, _) = ids.iter().next().unwrap();

    let mut first = start_worker(&dir, &db, &key, "");
    let t0 = Instant::now();
    while rx.keys().is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the worker never called the receiver"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The request is in flight (the receiver holds it for 3 s): kill the worker now.
    first.0.kill().unwrap(); // SIGKILL on Unix
    first.0.wait().unwrap();
    let t = store.target(target).await.unwrap();
    assert_eq!(
        t.state,
        TargetState::Publishing,
        "killed mid-send: the claim is left behind"
    );

    let mut second = start_worker(&dir, &db, &key, "");
    wait_published(&store, &ids, &mut [&mut second], Duration::from_secs(90)).await;
    let requests = assert_once_each(&store, &ids, &rx).await;
    let t = store.target(target).await.unwrap();
    assert!(t.attempts >= 2, "the re-send is a counted attempt: {t:?}");
    eprintln!(
        "sigkill test: {requests} request(s) with one key, published in {:.1} s",
        t_start.elapsed().as_secs_f64()
    );
}

/// pg_ctl and the data directory of the server behind `url` (a superuser URL, same machine).
fn pg_ctl_of(url: &str) -> Option<(String, String)> {
    let mut bins: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    bins.sort();
    let bin = bins.pop()?;
    let o = Command::new(bin.join("psql"))
        .args([url, "-tAc", "SHOW data_directory"])
        .output()
        .ok()?;
    let data = String::from_utf8_lossy(&o.stdout).trim().to_string();
    (o.status.success() && !data.is_empty())
        .then(|| (bin.join("pg_ctl").display().to_string(), data))
}

/// Runs pg_ctl as the server's owner (runuser when the test runs as root); its output goes
/// nowhere: a postmaster it starts must not hold the test's pipes.
fn pg_ctl(args: &[&str]) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).args(args);
        c
    } else {
        let mut c = Command::new(args[0]);
        c.args(&args[1..]);
        c
    };
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Stops the server (`-m fast`: sessions are cut), leaves it down for `down`, starts it again
/// with the options it ran with (postmaster.opts) and the log file start-postgres.sh uses.
fn stop_and_start_pg(bin: &str, data: &str, down: Duration) {
    let opts = std::fs::read_to_string(format!("{data}/postmaster.opts")).unwrap();
    // `/path/postgres "-D" "<data>" "-c" "x=y" …`: the quoted words after -D and its value.
    let words: Vec<&str> = opts.split('"').skip(1).step_by(2).collect();
    let opts = words
        .iter()
        .position(|w| *w == "-D")
        .map(|i| [&words[..i], &words[i + 2..]].concat())
        .unwrap_or(words)
        .join(" ");
    let log = std::path::Path::new(data)
        .parent()
        .unwrap_or(std::path::Path::new(data))
        .join("postgres.log")
        .display()
        .to_string();
    assert!(
        pg_ctl(&[bin, "-D", data, "-m", "fast", "-w", "-t", "60", "stop"]),
        "pg_ctl stop failed: see {log}"
    );
    std::thread::sleep(down);
    assert!(
        pg_ctl(&[bin, "-D", data, "-l", &log, "-w", "-t", "60", "-o", &opts, "start"]),
        "pg_ctl start failed: see {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_restart_during_publishing_loses_nothing() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(base) = relais_store::testing::pg_url() else {
        eprintln!("skipped: set RELAIS_TEST_PG (server from /work/shared/peers/start-postgres.sh) to restart PostgreSQL during publishing");
        return;
    };
    relais::app::install_crypto_provider();
    let Some((pg_ctl, data)) = pg_ctl_of(&base) else {
        let msg = "cannot find pg_ctl and the data directory of the RELAIS_TEST_PG server (it must be local, the URL a superuser)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("skipped: {msg}");
        return;
    };
    let t_start = Instant::now();
    // Each delivery takes 500 ms (4 at once): the restart lands while posts are going out.
    let rx = Receiver::start(Duration::from_millis(500), Duration::from_millis(500)).await;
    let dir = TempDir::new();
    let (db, _keep) = fresh_url().await.unwrap();
    let store = Store::connect(&db, &Default::default()).await.unwrap();
    store.migrate().await.unwrap();
    let key = master_key();
    let ring = Keyring::from_base64(&key).unwrap();
    // Database calls give up after 1 s: the 2 s outage makes writes fail, not just wait.
    let mut worker = start_worker(&dir, &db, &key, "[database]\nacquire_timeout_secs = 1\n");
    let ids = setup(&store, &ring, &rx.url, 4, 20).await;

    let t0 = Instant::now();
    while rx.keys().len() < 4 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "publishing never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = rx.keys().len();
    let t_restart = Instant::now();
    // Down for 2 s: deliveries in flight end while their result cannot be written.
    tokio::task::spawn_blocking(move || stop_and_start_pg(&pg_ctl, &data, Duration::from_secs(2)))
        .await
        .unwrap();
    let restart_s = t_restart.elapsed().as_secs_f64();
    let after = rx.keys().len();
    assert!(
        after < ids.len(),
        "posts were still to go out when the server came back ({after})"
    );

    wait_published(&store, &ids, &mut [&mut worker], Duration::from_secs(120)).await;
    let requests = assert_once_each(&store, &ids, &rx).await;
    eprintln!(
        "database restart test: 20 targets, {requests} requests ({before} before the server was down for {restart_s:.1} s), all published once in {:.1} s",
        t_start.elapsed().as_secs_f64()
    );
}
