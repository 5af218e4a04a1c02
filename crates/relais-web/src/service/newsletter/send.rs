//! Sending an issue: one `newsletter.issue` job per issue walks the list's confirmed subscribers
//! in batches. Each recipient is claimed (unique delivery row, committed) before the SMTP call and
//! settled after it, so a crash or a second run never sends anyone the issue twice: a claim left
//! behind by a dead run becomes `unknown`, never re-sent. Per-recipient 4xx are retried on later
//! runs (job backoff); 5xx are hard bounces.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::stream::{self, StreamExt};

use relais_domain::{Code, Permission};
use relais_publish::newsletter::{FailureKind, NewsletterMessage, SmtpFailure};
use relais_store::audit::{Actor, NewAudit};
use relais_store::jobs::NewJob;
use relais_store::newsletter::issues::{Issue, NewIssue, Outcome};
use relais_store::newsletter::{NewsletterList, NewsletterSettings, Subscriber};
use relais_store::users::User;
use relais_store::worker::{JobError, Registry};
use relais_store::workspaces::Membership;
use relais_store::{now, StoreError};

use super::render::{self, Format};
use super::smtp::{self, Sender};
use super::{field, list_key, unsub_token, unsubscribe_url};
use crate::auth::require;
use crate::i18n::Tr;
use crate::{AppError, AppState};

pub const ISSUE_JOB: &str = "newsletter.issue";
const BATCH: i64 = 50;
/// Messages in flight at once (each on its own pooled connection; lettre's pool holds 10).
const CONCURRENCY: usize = 8;
/// Attempts of a recipient whose server answers 4xx before the delivery is `failed`.
pub const MAX_ATTEMPTS: i64 = 4;
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct IssueForm {
    pub list_id: String,
    /// A post of the workspace to send (its text as the body), or empty.
    pub post_id: String,
    pub subject: String,
    pub body: String,
    /// `markdown` or `html`.
    pub format: String,
}

fn err(f: &'static str, code: Code) -> AppError {
    AppError::from(field(f, code))
}

/// Checks the form, renders and sanitizes the body, stores the issue and enqueues its job in one
/// transaction. Returns the issue id.
pub async fn create_issue(
    state: &AppState,
    user: &User,
    m: &Membership,
    f: &IssueForm,
) -> Result<i64, AppError> {
    require(m, Permission::Publish)?;
    let ws = m.workspace.id;
    let list_id: i64 = f
        .list_id
        .trim()
        .parse()
        .map_err(|_| err("list_id", Code::Required))?;
    let list = match state.store.newsletter_list(ws, list_id).await {
        Err(StoreError::NotFound) => return Err(err("list_id", Code::InvalidValue)),
        r => r?,
    };
    if state.store.newsletter_settings(ws).await?.is_none() {
        return Err(err("list_id", Code::NewsletterNotConfigured));
    }
    let format = Format::parse(f.format.trim()).ok_or_else(|| err("format", Code::InvalidValue))?;
    let (post_id, body, format) = match f.post_id.trim() {
        "" => (None, f.body.trim().to_string(), format),
        p => {
            let id: i64 = p.parse().map_err(|_| err("post_id", Code::InvalidValue))?;
            let post = match state.store.post(ws, id).await {
                Err(StoreError::NotFound) => return Err(err("post_id", Code::InvalidValue)),
                r => r?,
            };
            (Some(post.id), post.body, Format::Markdown)
        }
    };
    // When the workspace reviews what goes out, an issue goes out only as an approved post.
    if state.store.approval_mode(ws).await? != "none" {
        let approved = match post_id {
            Some(id) => state.store.targets_of_post(id).await?.iter().any(|t| {
                use relais_domain::publish::TargetState::*;
                matches!(t.state, Approved | Scheduled | Publishing | Published)
            }),
            None => false,
        };
        if !approved {
            return Err(
                AppError::from(field("post_id", Code::Forbidden)).with_detail(
                    if post_id.is_some() {
                        "the post is not approved yet"
                    } else {
                        "choose an approved post"
                    },
                ),
            );
        }
    }
    if body.is_empty() {
        return Err(err("nl_body", Code::Required));
    }
    if body.len() > crate::service::checks::MAX_TEXT {
        return Err(err("nl_body", Code::TooLong));
    }
    let subject = match f.subject.trim() {
        // A post's first line is its natural subject.
        "" if post_id.is_some() => body
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .chars()
            .take(120)
            .collect(),
        s => s.to_string(),
    };
    if subject.is_empty() {
        return Err(err("subject", Code::Required));
    }
    if subject.chars().count() > 200 {
        return Err(err("subject", Code::TooLong));
    }
    if subject.chars().any(char::is_control) {
        return Err(err("subject", Code::InvalidValue));
    }
    let r = render::render(&body, format);
    if render::html_to_text(&r.html).trim().is_empty() {
        return Err(err("nl_body", Code::Required));
    }
    // The checks of any publication: a confidential code name or a card number never goes out
    // by mail either.
    let report = crate::service::checks::check(
        state,
        m,
        &format!("{subject}\n\n{}", r.text),
        "",
        None,
        user.lang.unwrap_or(m.workspace.lang),
    )
    .await
    .map_err(|e| match e.field {
        Some("text") => err("nl_body", e.code),
        _ => e,
    })?;
    if report.blocking {
        let why: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| matches!(f.severity, relais_guard::Severity::Block))
            .map(|f| f.message.as_str())
            .collect();
        return Err(err("nl_body", Code::Blocked).with_detail(why.join("; ")));
    }
    if state.store.active_freeze(ws).await?.is_some() {
        return Err(AppError {
            status: axum::http::StatusCode::CONFLICT,
            ..err("list_id", Code::Frozen)
        });
    }
    let t = Tr(m.workspace.lang);
    let (foot_html, foot_text) = render::footer(t, &list);
    let html = render::document(&subject, &r.html, &foot_html, m.workspace.lang.as_str());
    let text = format!("{}{foot_text}", r.text);
    let mut tx = state.store.begin().await?;
    let issue = state
        .store
        .create_issue(
            &mut tx,
            NewIssue {
                workspace_id: ws,
                list_id: list.id,
                post_id,
                subject: &subject,
                html: &html,
                text: &text,
                created_by: user.id,
            },
        )
        .await?;
    enqueue(state, &mut tx, issue.id, 0).await?;
    let actor = Actor::user(user.id, &user.email);
    let target = format!("issue:{}", issue.id);
    let after = format!("{subject} → {}", list.name);
    let entry = NewAudit {
        workspace_id: Some(ws),
        actor: &actor,
        action: "newsletter.issue_sent",
        target: &target,
        before: None,
        after: Some(&after),
    };
    crate::service::record(state, tx, entry).await?;
    crate::service::accounts::wake(state);
    Ok(issue.id)
}

async fn enqueue(
    state: &AppState,
    conn: &mut relais_store::AnyConnection,
    issue_id: i64,
    run: i64,
) -> Result<(), AppError> {
    let job = NewJob {
        max_attempts: 25,
        dedupe_key: Some(format!("{ISSUE_JOB}:{issue_id}:{run}")),
        ..NewJob::now(ISSUE_JOB, serde_json::json!({ "issue_id": issue_id }))
    };
    state.store.enqueue(conn, &job).await?;
    Ok(())
}

/// Sends the rest of an issue that stopped (`failed`: the server refused the settings).
pub async fn resume(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::Publish)?;
    let issue = state.store.issue(m.workspace.id, id).await?;
    if issue.state != "failed" {
        return Ok(());
    }
    state
        .store
        .set_issue_state(issue.id, "sending", None)
        .await?;
    let mut tx = state.store.begin().await?;
    enqueue(state, &mut tx, issue.id, now()).await?;
    let actor = Actor::user(user.id, &user.email);
    let target = format!("issue:{}", issue.id);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action: "newsletter.issue_resumed",
        target: &target,
        before: None,
        after: None,
    };
    crate::service::record(state, tx, entry).await?;
    crate::service::accounts::wake(state);
    Ok(())
}

pub fn register(registry: &mut Registry, state: AppState) {
    registry.register(ISSUE_JOB, move |_store, job, _worker| {
        let state = state.clone();
        Box::pin(async move {
            let id = job.payload["issue_id"].as_i64().unwrap_or(0);
            run_issue(&state, id, None).await
        })
    });
}

/// What to do after one recipient.
enum Next {
    Continue,
    /// The server cannot take mail now: stop this run, try later.
    Later(String),
    /// The server refuses our settings: stop until someone fixes them and resumes.
    Stop(String),
}

struct Run<'a> {
    state: &'a AppState,
    issue: &'a Issue,
    list: &'a NewsletterList,
    settings: &'a NewsletterSettings,
    key: Vec<u8>,
    sender: &'a dyn Sender,
}

impl Run<'_> {
    /// Sends to a batch, `CONCURRENCY` at a time (one pooled SMTP connection each). Each item is
    /// a deferred delivery to take back, or a subscriber to claim. Once a recipient's outcome says
    /// "stop" or "later", `halt` is set and the items not started yet are left untouched.
    async fn batch(
        &self,
        items: Vec<(Option<i64>, Subscriber)>,
        halt: &AtomicBool,
    ) -> Result<Next, StoreError> {
        let store = &self.state.store;
        let results: Vec<Result<Next, StoreError>> = stream::iter(items)
            .map(|(delivery, sub)| async move {
                if halt.load(Ordering::SeqCst) {
                    return Ok(Next::Continue);
                }
                let claimed = match delivery {
                    Some(d) => store.retake_deferred(d).await?.then_some(d),
                    None => store.claim_delivery(self.issue, sub.id).await?,
                };
                let Some(d) = claimed else {
                    return Ok(Next::Continue);
                };
                let next = self.one(d, &sub).await?;
                if !matches!(next, Next::Continue) {
                    halt.store(true, Ordering::SeqCst);
                }
                Ok(next)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut out = Next::Continue;
        for r in results {
            match (r?, &out) {
                (n @ Next::Stop(_), _) => out = n,
                (n @ Next::Later(_), Next::Continue) => out = n,
                _ => {}
            }
        }
        Ok(out)
    }

    async fn one(&self, delivery: i64, sub: &Subscriber) -> Result<Next, StoreError> {
        let token = unsub_token(&self.key, &sub.unsub_nonce);
        let domain = self
            .settings
            .from_address
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('>').to_string())
            .unwrap_or_else(|| "relais.invalid".into());
        let msg = NewsletterMessage {
            from: self.settings.from_address.clone(),
            to: sub.email.clone(),
            subject: self.issue.subject.clone(),
            html: self.issue.html.clone(),
            text: self.issue.text.clone(),
            unsubscribe_url: unsubscribe_url(self.state, &token),
            list_id: Some(format!(
                "<{}.{domain}>",
                self.list.public_id.to_ascii_lowercase()
            )),
        };
        let res = self.sender.send(&msg).await;
        let store = &self.state.store;
        let limit = self.settings.bounce_limit;
        let code = |f: &SmtpFailure| f.code.map(|c| c.to_string());
        let next = match res {
            Ok(message_id) => {
                store
                    .settle_delivery(delivery, &Outcome::Sent { message_id }, limit)
                    .await?;
                Next::Continue
            }
            Err(f) => match f.kind {
                FailureKind::Rejected => {
                    let o = Outcome::Bounced {
                        code: code(&f),
                        error: f.message,
                    };
                    store.settle_delivery(delivery, &o, limit).await?;
                    Next::Continue
                }
                FailureKind::Invalid => {
                    let o = Outcome::Failed {
                        code: code(&f),
                        error: f.message,
                    };
                    store.settle_delivery(delivery, &o, limit).await?;
                    Next::Continue
                }
                FailureKind::Deferred => {
                    let o = Outcome::Deferred {
                        code: code(&f),
                        error: f.message.clone(),
                    };
                    store.settle_delivery(delivery, &o, limit).await?;
                    // 421: the server is closing the session for everybody.
                    if f.code == Some(421) {
                        Next::Later(f.message)
                    } else {
                        Next::Continue
                    }
                }
                FailureKind::Unknown => {
                    let o = Outcome::Unknown {
                        error: f.message.clone(),
                    };
                    store.settle_delivery(delivery, &o, limit).await?;
                    Next::Later(f.message)
                }
                FailureKind::Unreachable => {
                    store.release_delivery(delivery).await?;
                    Next::Later(f.message)
                }
                FailureKind::Auth => {
                    store.release_delivery(delivery).await?;
                    Next::Stop(f.message)
                }
            },
        };
        Ok(next)
    }
}

/// Runs (or resumes) the sending of an issue. `sender` None opens the workspace's SMTP server;
/// tests pass their own to inject failures.
pub async fn run_issue(
    state: &AppState,
    issue_id: i64,
    sender: Option<&dyn Sender>,
) -> Result<(), JobError> {
    let retry = |e: StoreError| JobError::Retry(e.to_string());
    let issue = match state.store.issue_by_id(issue_id).await {
        Err(StoreError::NotFound) => return Ok(()),
        r => r.map_err(retry)?,
    };
    if issue.state != "sending" {
        return Ok(());
    }
    let store = &state.store;
    // A crisis freeze holds issues too: the job waits (backoff) until someone unfreezes.
    if store
        .active_freeze(issue.workspace_id)
        .await
        .map_err(retry)?
        .is_some()
    {
        let m = "publishing is frozen in this workspace: waiting for the unfreeze";
        store
            .set_issue_state(issue.id, "sending", Some(m))
            .await
            .map_err(retry)?;
        return Err(JobError::Retry(m.into()));
    }
    let Some(settings) = store
        .newsletter_settings(issue.workspace_id)
        .await
        .map_err(retry)?
    else {
        let m = "the newsletter has no mail server: set it up, then resume";
        store
            .set_issue_state(issue.id, "failed", Some(m))
            .await
            .map_err(retry)?;
        return Err(JobError::Permanent(m.into()));
    };
    let list = store
        .newsletter_list_by_id(issue.list_id)
        .await
        .map_err(retry)?;
    let key = list_key(state, &list).await.map_err(retry)?;
    let opened;
    let sender: &dyn Sender = match sender {
        Some(s) => s,
        None => match smtp::open(state, &settings, SEND_TIMEOUT).await {
            Ok(s) => {
                opened = s;
                &opened
            }
            Err(e) => {
                store
                    .set_issue_state(issue.id, "sending", Some(&e.message))
                    .await
                    .map_err(retry)?;
                return Err(JobError::Retry(e.message));
            }
        },
    };
    let orphans = store
        .orphaned_deliveries_unknown(issue.id)
        .await
        .map_err(retry)?;
    if orphans > 0 {
        tracing::warn!(
            issue = issue.id,
            orphans,
            "newsletter: claims of an interrupted run marked unknown"
        );
    }
    let run = Run {
        state,
        issue: &issue,
        list: &list,
        settings: &settings,
        key,
        sender,
    };
    let started = now();
    let halt = AtomicBool::new(false);
    // Recipients deferred by earlier runs first, then everyone not yet claimed.
    let mut next = Next::Continue;
    loop {
        let due = store
            .deferred_due(issue.id, MAX_ATTEMPTS, started, BATCH)
            .await
            .map_err(retry)?;
        if due.is_empty() {
            break;
        }
        let items = due.into_iter().map(|(d, s)| (Some(d), s)).collect();
        next = run.batch(items, &halt).await.map_err(retry)?;
        if halt.load(Ordering::SeqCst) {
            break;
        }
    }
    while !halt.load(Ordering::SeqCst) {
        let fresh = store.next_recipients(&issue, BATCH).await.map_err(retry)?;
        if fresh.is_empty() {
            break;
        }
        let items = fresh.into_iter().map(|s| (None, s)).collect();
        next = run.batch(items, &halt).await.map_err(retry)?;
    }
    match next {
        Next::Stop(m) => {
            store
                .set_issue_state(issue.id, "failed", Some(&m))
                .await
                .map_err(retry)?;
            Err(JobError::Permanent(m))
        }
        Next::Later(m) => {
            store
                .set_issue_state(issue.id, "sending", Some(&m))
                .await
                .map_err(retry)?;
            Err(JobError::Retry(m))
        }
        Next::Continue => {
            let c = store.delivery_counts(issue.id).await.map_err(retry)?;
            let waiting = store
                .reclaimable_deferred(issue.id, MAX_ATTEMPTS)
                .await
                .map_err(retry)?;
            if waiting > 0 {
                let m = format!(
                    "{} recipients deferred by their server: retrying later",
                    c.deferred
                );
                store
                    .set_issue_state(issue.id, "sending", Some(&m))
                    .await
                    .map_err(retry)?;
                return Err(JobError::Retry(m));
            }
            store
                .give_up_deferred(issue.id, MAX_ATTEMPTS)
                .await
                .map_err(retry)?;
            store
                .set_issue_state(issue.id, "sent", None)
                .await
                .map_err(retry)?;
            tracing::info!(
                issue = issue.id,
                sent = c.sent,
                bounced = c.bounced,
                failed = c.failed,
                "newsletter issue sent"
            );
            Ok(())
        }
    }
}
