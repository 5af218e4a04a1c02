//! The binary itself: bad configuration, unreachable database, admin commands, backup,
//! graceful shutdown, and two worker processes sharing one queue.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use relais_store::testing::{fresh_url, TempDir};

fn relais(dir: &TempDir, db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_relais"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RELAIS_DATA_DIR", &dir.0)
        .env("RELAIS_DATABASE_URL", db)
        .env("RELAIS_LOG", "warn");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn bad_configuration_fails_clearly() {
    let dir = TempDir::new();
    let cfg = dir.0.join("relais.toml");
    std::fs::write(&cfg, "listen = \"127.0.0.1:8080\"\n[worker\n").unwrap();
    let (code, _, err) = run(relais(&dir, "").arg("--config").arg(&cfg).arg("migrate"));
    assert_eq!(code, 2);
    assert!(err.contains("relais.toml is not valid"), "{err}");
    let (code, _, err) = run(relais(&dir, "mysql://x/y").arg("migrate"));
    assert_eq!(code, 2);
    assert!(err.contains("unsupported database scheme"), "{err}");
    let (code, _, err) = run(relais(&dir, "relais.db").arg("migrate"));
    assert_eq!(code, 2);
    assert!(err.contains("malformed database URL"), "{err}");
    let (code, out, _) = run(relais(&dir, "").arg("default-config"));
    assert_eq!(code, 0);
    assert!(out.contains("[worker]") && out.contains("RELAIS_DATABASE_URL"));
}

#[test]
fn a_database_that_is_down_stops_startup_with_a_clear_message() {
    let dir = TempDir::new();
    let cfg = dir.0.join("relais.toml");
    std::fs::write(&cfg, "[database]\nacquire_timeout_secs = 2\n").unwrap();
    let t0 = Instant::now();
    let (code, _, err) = run(relais(&dir, "postgres://relais:s3cr3t@127.0.0.1:1/relais")
        .arg("--config")
        .arg(&cfg)
        .args(["serve", "--listen", "127.0.0.1:0"]));
    assert_ne!(code, 0);
    assert!(
        err.contains("cannot connect to the database") && !err.contains("s3cr3t"),
        "{err}"
    );
    assert!(t0.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn admin_create_user_backup_and_graceful_serve() {
    relais::app::install_crypto_provider();
    let dir = TempDir::new();
    let (db, _keep) = fresh_url().await.unwrap();
    let mut c = relais(&dir, &db);
    c.args([
        "admin",
        "create-user",
        "--email",
        "Ana@Example.com",
        "--name",
        "Ana",
        "--password-stdin",
        "--admin",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("created user ana@example.com"));
    let (code, _, err) = run(relais(&dir, &db).args([
        "admin",
        "create-user",
        "--email",
        "ana@example.com",
        "--name",
        "Ana",
        "--password",
        "another password",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("already used by an account"), "{err}");
    let (code, _, err) = run(relais(&dir, &db).args([
        "admin",
        "create-user",
        "--email",
        "b@example.com",
        "--name",
        "B",
        "--password",
        "short",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("too short"), "{err}");

    if db.starts_with("sqlite:") {
        let out = dir.0.join("backup.db");
        let (code, stdout, err) = run(relais(&dir, &db).arg("backup").arg(&out));
        assert_eq!(code, 0, "{err}");
        assert!(stdout.contains("backup written"));
        let copy = relais_store::Store::connect(
            &format!("sqlite://{}", out.display()),
            &Default::default(),
        )
        .await
        .unwrap();
        assert!(copy
            .user_by_email("ana@example.com")
            .await
            .unwrap()
            .is_some());
        let (code, _, err) = run(relais(&dir, &db).arg("backup").arg(&out));
        assert_ne!(code, 0);
        assert!(err.contains("already exists"), "{err}");
    }

    // serve: ready quickly, answers /health, stops on SIGTERM with exit 0.
    let mut child = relais(&dir, &db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        if let Some(a) = line.trim().strip_prefix("relais is ready on ") {
            break a.to_string();
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "no ready line");
    };
    let health: serde_json::Value = reqwest::get(format!("{addr}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    unsafe_kill(child.id(), 15);
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}

fn unsafe_kill(pid: u32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// Two `relais worker` processes on one PostgreSQL database share the queue; no job runs twice.
#[tokio::test]
async fn two_worker_processes_share_the_queue() {
    if relais_store::testing::pg_url().is_none() {
        eprintln!("skipped: set RELAIS_TEST_PG to run the two-process queue test on PostgreSQL");
        return;
    }
    let dir = TempDir::new();
    let (db, _keep) = fresh_url().await.unwrap();
    let (code, _, err) = run(relais(&dir, &db).arg("migrate"));
    assert_eq!(code, 0, "{err}");
    let workers: Vec<_> = (0..2)
        .map(|_| {
            relais(&dir, &db)
                .env("RELAIS_WORKER_CONCURRENCY", "4")
                .arg("worker")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut workers = workers;
    // Both processes are up (signal handlers installed) before the work starts.
    // Their stdout stays open until the end: a closed pipe would fail a later print.
    let mut outputs = Vec::new();
    for w in workers.iter_mut() {
        let mut out = std::io::BufReader::new(w.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("relais worker is ready") {
            line.clear();
            assert!(
                std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0,
                "worker exited early"
            );
        }
        outputs.push(out);
    }
    let (code, out, err) =
        run(relais(&dir, &db).args(["admin", "queue-check", "--jobs", "600", "--no-local-worker"]));
    for w in &workers {
        unsafe_kill(w.id(), 15);
    }
    for mut w in workers {
        assert!(w.wait().unwrap().success());
    }
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("600 executions of 600 jobs"), "{out}");
    let store = relais_store::Store::connect(&db, &Default::default())
        .await
        .unwrap();
    let (runs, distinct, procs) = store.probe_run_counts().await.unwrap();
    assert_eq!((runs, distinct), (600, 600), "every job ran exactly once");
    assert_eq!(procs, 2, "both processes took jobs");
}

#[test]
fn sentiment_learn_writes_a_lexicon_relais_loads() {
    let dir = TempDir::new();
    let data = dir.0.join("labelled.tsv");
    let mut tsv = String::from("# labelled by the CM\n");
    let sets = [
        ("negative", "Mon vélo est claqué après {} semaines"),
        (
            "negative",
            "Franchement le moteur est claqué, {} euros de réparation",
        ),
        ("positive", "Ce vélo est une pépite, {} km ce matin"),
        ("positive", "VeloRapide, une vraie pépite pour {} euros"),
        ("neutral", "VeloRapide ouvre un magasin à Lyon le {} mai"),
        ("neutral", "Le nouveau catalogue sort le {} juin"),
    ];
    for i in 0..10 {
        for (label, text) in sets {
            tsv.push_str(&format!(
                "{label}\t{}\n",
                text.replace("{}", &(i + 2).to_string())
            ));
        }
    }
    std::fs::write(&data, tsv).unwrap();
    let out = dir.0.join("lexicon.tsv");
    let (code, _, err) = run(relais(&dir, "")
        .args(["sentiment", "learn", "--lang", "fr", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("held-out posts"), "{err}");
    let lexicon = std::fs::read_to_string(&out).unwrap();
    assert!(lexicon.contains("fr\tclaque\t-"), "{lexicon}");
    assert!(lexicon.contains("fr\tpepite\t"), "{lexicon}");
    // The file is accepted where relais loads lexicons.
    relais_enrich::Sentiment::builtin_with(&out).unwrap();

    // Bad input: the line and the fix; nothing written.
    std::fs::write(&data, "positive\tsuper\nbof\ttexte\n").unwrap();
    let out2 = dir.0.join("none.tsv");
    let (code, _, err) = run(relais(&dir, "")
        .args(["sentiment", "learn", "--lang", "fr", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out2));
    assert_eq!(code, 2);
    assert!(err.contains("line 2: sentiment 'bof' is unknown"), "{err}");
    assert!(!out2.exists());
}
