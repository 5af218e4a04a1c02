//! The command line: `relais serve`, `worker`, `migrate`, `backup`, `admin …`, `default-config`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use crate::app::{self, Application, Roles};
use crate::config::{Overrides, Settings};

#[derive(Parser, Debug)]
#[command(
    name = "relais",
    version,
    about = "relais: community management, calm and checked."
)]
pub struct Cli {
    /// TOML configuration file (also RELAIS_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB (also RELAIS_DATABASE_URL).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Data folder (SQLite database, master key, media).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web interface and, unless --no-worker, a worker.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080.
        #[arg(long)]
        listen: Option<String>,
        /// Do not run jobs in this process (scale-out: run `relais worker` elsewhere).
        #[arg(long)]
        no_worker: bool,
    },
    /// Run jobs only (no web server).
    Worker,
    /// Apply pending database migrations and exit.
    Migrate {
        /// Only report pending migrations (exit 1 when some are pending).
        #[arg(long)]
        check: bool,
    },
    /// Print a commented example configuration.
    DefaultConfig,
    /// Write a consistent copy of the SQLite database to OUT while relais runs.
    Backup { out: PathBuf },
    /// Administration.
    #[command(subcommand)]
    Admin(Admin),
    /// Listening: `relais listen match --queries Q --posts P [--out O]`.
    #[command(subcommand)]
    Listen(relais_listen::ListenCommand),
    /// Sentiment: `relais sentiment learn --data LABELLED.tsv --lang fr [--out LEXICON.tsv]`.
    #[command(subcommand)]
    Sentiment(crate::sentiment_cli::SentimentCommand),
    /// Check a text before publishing: spelling, typography, charter, confidentiality,
    /// personal data, links (JSON Lines with --format json; exit 0 when nothing blocks).
    Check(relais_guard::CheckArgs),
    /// Crisis freeze: hold every scheduled publication of a workspace.
    Freeze {
        /// Workspace id or exact name.
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        reason: String,
    },
    /// End a crisis freeze.
    Unfreeze {
        #[arg(long)]
        workspace: String,
        /// What to do with publications that fell due: publish_now, reschedule or drafts.
        #[arg(long, default_value = "drafts")]
        resolution: String,
    },
    /// Benchmarks that print their figures.
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Subcommand, Debug)]
pub enum Bench {
    /// Spelling recall, false alarms and checking time of the pre-publication checks.
    Guard(relais_guard::BenchArgs),
    /// Matcher throughput with 10k and 100k queries, memory, hot-reload time.
    Listen(relais_listen::BenchArgs),
    /// Publishing lateness p50/p99, throughput and duplicates for 10,000 due posts on a local sink.
    Publish(relais_publisher::bench::BenchArgs),
    /// The full listening path: JSON events → match → enrich → stored mentions.
    Ingest(relais_listener::bench::IngestArgs),
    /// Crisis alerts: significance → delivery latency with injected bursts (~70 s per round).
    Crisis(crate::bench_crisis::CrisisArgs),
}

#[derive(Subcommand, Debug)]
pub enum Admin {
    /// Create an account without the setup link (for scripts).
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Read the password from standard input (recommended over --password).
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        password: Option<String>,
        /// Make the account an instance administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Add a new master key and re-encrypt every secret with it; --prune drops the old keys.
    RotateKey {
        #[arg(long)]
        prune: bool,
    },
    /// Enqueue N probe jobs and wait until workers (this process's or others) ran each once.
    QueueCheck {
        #[arg(long, default_value_t = 100)]
        jobs: usize,
        /// Only enqueue; let running workers take them.
        #[arg(long)]
        no_local_worker: bool,
    },
}

fn init_tracing(s: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&s.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if s.log.format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides {
        config: cli.config.clone(),
        database_url: cli.database_url.clone(),
        data_dir: cli.data_dir.clone(),
        listen: match &cli.command {
            Command::Serve { listen, .. } => listen.clone(),
            _ => None,
        },
    };
    match &cli.command {
        Command::DefaultConfig => {
            print!("{}", crate::config::EXAMPLE);
            return ExitCode::SUCCESS;
        }
        Command::Bench(Bench::Guard(args)) => return relais_guard::run_bench(args),
        // Without --workspace the check needs no database.
        Command::Check(args) if args.workspace.is_none() => {
            return relais_guard::run_check(args, None)
        }
        _ => {}
    }
    // Listening commands own their arguments and need no configuration.
    let command = match cli.command {
        Command::Listen(cmd) => return relais_listen::run(cmd),
        Command::Sentiment(cmd) => return crate::sentiment_cli::run(cmd),
        Command::Bench(Bench::Listen(args)) => return relais_listen::run_bench(args),
        other => other,
    };
    let settings = match Settings::load(&overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("relais: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&settings);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(command, settings)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("relais: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cmd: Command, s: Settings) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Serve { no_worker, .. } => {
            serve(
                &s,
                Roles {
                    web: true,
                    worker: !no_worker,
                },
            )
            .await
        }
        Command::Worker => {
            serve(
                &s,
                Roles {
                    web: false,
                    worker: true,
                },
            )
            .await
        }
        Command::Migrate { check } => {
            let store = app::open_store(&s).await?;
            if check {
                let pending = store.pending_migrations().await?;
                println!("pending migrations: {pending:?}");
                return Ok(if pending.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                });
            }
            let done = store.migrate().await?;
            println!("applied migrations: {done:?}");
            Ok(ExitCode::SUCCESS)
        }
        Command::DefaultConfig
        | Command::Bench(Bench::Guard(_) | Bench::Listen(_))
        | Command::Listen(_)
        | Command::Sentiment(_) => {
            unreachable!("handled before loading settings")
        }
        Command::Check(args) => check_with_workspace(&s, &args).await,
        Command::Bench(Bench::Crisis(args)) => {
            app::install_crypto_provider();
            crate::bench_crisis::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(Bench::Ingest(args)) => {
            relais_listener::bench::run(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(Bench::Publish(args)) => {
            app::install_crypto_provider();
            relais_publisher::bench::run_bench(args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Freeze { workspace, reason } => {
            freeze_cmd(&s, &workspace, Some(reason), None).await
        }
        Command::Unfreeze {
            workspace,
            resolution,
        } => freeze_cmd(&s, &workspace, None, Some(resolution)).await,
        Command::Backup { out } => {
            let store = app::open_store(&s).await?;
            store.backup_sqlite(&out).await?;
            println!(
                "backup written to {} (keep the master key file with it)",
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(a) => admin(a, &s).await,
    }
}

async fn serve(s: &Settings, roles: Roles) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let app = Application::build(s, roles).await?;
    if let Some(link) = app.setup_link().await? {
        println!("\n  relais has no account yet. Create the owner account here (link valid 24 h, single use):\n\n    {link}\n");
    }
    if let Some(addr) = app.addr {
        tracing::info!(%addr, worker = roles.worker, startup_ms = t0.elapsed().as_millis() as u64, "relais is listening");
        println!("relais is ready on http://{addr}");
    } else {
        tracing::info!(
            startup_ms = t0.elapsed().as_millis() as u64,
            "relais worker started"
        );
        println!("relais worker is ready");
    }
    let shutdown = app::shutdown_signal();
    app.run_until(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

async fn admin(a: Admin, s: &Settings) -> anyhow::Result<ExitCode> {
    match a {
        Admin::CreateUser {
            email,
            name,
            password_stdin,
            password,
            admin,
        } => {
            let pw = if password_stdin {
                let mut buf = String::new();
                std::io::stdin().read_to_string(&mut buf)?;
                buf.trim_end_matches(['\n', '\r']).to_string()
            } else {
                password.ok_or_else(|| {
                    anyhow::anyhow!("give the password with --password-stdin (or --password)")
                })?
            };
            let app = Application::build(
                s,
                Roles {
                    web: false,
                    worker: false,
                },
            )
            .await?;
            let acc = relais_web::service::accounts::NewAccount {
                email: &email,
                name: &name,
                password: &pw,
                password_confirm: &pw,
                lang: None,
            };
            match relais_web::service::accounts::create_user(&app.state, acc, admin).await {
                Ok(u) => {
                    println!("created user {} ({})", u.email, u.id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    let t = relais_web::i18n::Tr(relais_domain::Lang::En);
                    eprintln!("relais: {}", t.code(e.code, e.field));
                    Ok(ExitCode::from(2))
                }
            }
        }
        Admin::RotateKey { prune } => {
            if std::env::var("RELAIS_MASTER_KEY").is_ok_and(|k| !k.is_empty()) {
                anyhow::bail!("the master key comes from RELAIS_MASTER_KEY: rotate it with a key file instead (see docs/operations.md)");
            }
            let store = app::open_store(s).await?;
            store.migrate().await?;
            let mut ring = app::open_keyring(s)?;
            let id = ring.add_key()?;
            let n = store.reseal_secrets(&ring).await?;
            println!("new key {id}; re-encrypted {n} secrets");
            if prune {
                println!("dropped {} old keys", ring.prune()?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Admin::QueueCheck {
            jobs,
            no_local_worker,
        } => queue_check(s, jobs, !no_local_worker).await,
    }
}

/// Proves the queue end to end: N probe jobs, each must run exactly once.
async fn queue_check(s: &Settings, n: usize, local: bool) -> anyhow::Result<ExitCode> {
    let app = Application::build(
        s,
        Roles {
            web: false,
            worker: local,
        },
    )
    .await?;
    let store = app.state.store.clone();
    let (before, _, _) = store.probe_run_counts().await?;
    let mut tx = store.begin().await?;
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let job = relais_store::jobs::NewJob::now("system.probe", serde_json::json!({}));
        ids.extend(store.enqueue(&mut tx, &job).await?);
    }
    tx.commit().await?;
    let t0 = Instant::now();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(app.run_until(async move {
        let _ = stop_rx.await;
    }));
    let (mut runs, mut distinct);
    loop {
        (runs, distinct, _) = store.probe_run_counts().await?;
        if runs - before >= n as i64 || t0.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop_tx.send(());
    let _ = runner.await;
    let ran = runs - before;
    println!(
        "{ran} executions of {n} jobs in {:.2}s ({} distinct jobs ever run)",
        t0.elapsed().as_secs_f64(),
        distinct
    );
    Ok(if ran == n as i64 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `relais check --workspace W`: W is a workspace id or name; its stored charter applies.
async fn check_with_workspace(
    s: &Settings,
    args: &relais_guard::CheckArgs,
) -> anyhow::Result<ExitCode> {
    let store = app::open_store(s).await?;
    let w = args.workspace.as_deref().unwrap_or_default();
    let id = match w.parse::<i64>() {
        Ok(id) => id,
        Err(_) => store.workspace_id_by_name(w).await?.ok_or_else(|| {
            anyhow::anyhow!("no workspace named {w:?}: give its id or exact name")
        })?,
    };
    let charter = match store.charter(id).await? {
        Some(body) => Some(serde_json::from_str(&body)?),
        None => None,
    };
    Ok(relais_guard::run_check(args, charter))
}

async fn workspace_id(store: &relais_store::Store, w: &str) -> anyhow::Result<i64> {
    match w.parse::<i64>() {
        Ok(id) => Ok(id),
        Err(_) => store
            .workspace_id_by_name(w)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no workspace named {w:?}: give its id or exact name")),
    }
}

/// `relais freeze` / `relais unfreeze`, recorded in the audit log as the CLI.
async fn freeze_cmd(
    s: &Settings,
    w: &str,
    reason: Option<String>,
    resolution: Option<String>,
) -> anyhow::Result<ExitCode> {
    let app = Application::build(
        s,
        Roles {
            web: false,
            worker: false,
        },
    )
    .await?;
    let id = workspace_id(&app.state.store, w).await?;
    let ws = app.state.store.workspace(id).await?;
    // The CLI acts with the operator's authority: an owner's membership.
    let m = relais_store::workspaces::Membership {
        workspace: ws,
        role: relais_domain::Role::Owner,
    };
    let actor = relais_store::audit::Actor::system("cli");
    let t = relais_web::i18n::Tr(relais_domain::Lang::En);
    let r = match (reason, resolution) {
        (Some(reason), _) => relais_web::service::freeze::freeze(&app.state, &actor, &m, &reason)
            .await
            .map(|n| format!("frozen: {n} scheduled publications held")),
        (_, Some(res)) => relais_web::service::freeze::unfreeze(&app.state, &actor, &m, &res)
            .await
            .map(|n| format!("unfrozen: {n} publications back on the schedule")),
        _ => unreachable!(),
    };
    match r {
        Ok(msg) => {
            println!("{msg}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("relais: {}", e.message(t));
            Ok(ExitCode::from(2))
        }
    }
}
