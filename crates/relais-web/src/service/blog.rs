//! Owned media first: the brand's blog feed (RSS, Atom, JSON Feed) → a post per new article on
//! chosen channels, from a template (`{title} {url}`), as a draft or in each channel's queue,
//! with an optional evergreen repeat every N days. Posts are made through the composer's own
//! prepare/write (checks, approvals, queue slots) on behalf of the person who set the feed up,
//! with their current rights; the article is recorded in the same transaction as its post.

use relais_domain::{validate, Code, Permission};
use relais_feeds::{FeedState, FetchOutcome, PollPolicy};
use relais_store::audit::{Actor, NewAudit};
use relais_store::blog::{BlogFeed, NewBlogFeed};
use relais_store::users::User;
use relais_store::worker::{JobError, Registry};
use relais_store::workspaces::Membership;
use relais_store::StoreError;

use super::compose::{prepare, write, Draft};
use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

pub const POLL_JOB: &str = "blog.poll";
const DAY: i64 = 86_400_000;

#[derive(Debug, Clone, Default)]
pub struct BlogForm {
    pub url: String,
    pub template: String,
    pub action: String,
    pub evergreen_days: String,
    /// Channel ids (repeated `channel` fields).
    pub channels: Vec<i64>,
}

impl BlogForm {
    pub fn from_pairs(fields: Vec<(String, String)>) -> BlogForm {
        let mut f = BlogForm::default();
        for (k, v) in fields {
            match k.as_str() {
                "url" => f.url = v,
                "template" => f.template = v,
                "action" => f.action = v,
                "evergreen_days" => f.evergreen_days = v,
                "channel" => f.channels.extend(v.parse::<i64>().ok()),
                _ => {}
            }
        }
        f
    }
}

/// `{title}`, `{url}` and `{summary}` filled in; unknown braces stay as written.
pub fn render(template: &str, title: &str, url: &str, summary: &str) -> String {
    template
        .replace("{title}", title)
        .replace("{url}", url)
        .replace("{summary}", summary)
        .trim()
        .to_string()
}

pub async fn add(
    state: &AppState,
    user: &User,
    m: &Membership,
    f: &BlogForm,
) -> Result<i64, AppError> {
    require(m, Permission::ManageChannels)?;
    let url = f.url.trim();
    if url.is_empty() {
        return Err(field("url", Code::Required).into());
    }
    state.net.check(url).map_err(|e| match e.code() {
        "ssrf_blocked" => field("url", Code::UrlRefused),
        _ => field("url", Code::InvalidUrl),
    })?;
    let template = f.template.trim();
    if !(template.contains("{url}") || template.contains("{title}")) {
        return Err(
            AppError::from(field("template", Code::InvalidValue)).with_detail("{title} {url}")
        );
    }
    if template.chars().count() > 2_000 {
        return Err(field("template", Code::TooLong).into());
    }
    if !["draft", "queue"].contains(&f.action.as_str()) {
        return Err(field("action", Code::InvalidValue).into());
    }
    let evergreen = match f.evergreen_days.trim() {
        "" => 0,
        v => v
            .parse::<i64>()
            .ok()
            .filter(|d| (0..=365).contains(d))
            .ok_or_else(|| {
                AppError::from(field("evergreen_days", Code::InvalidValue)).with_detail("0–365")
            })?,
    };
    if f.channels.is_empty() {
        return Err(field("channels", Code::Required).into());
    }
    let mine = state.store.channels(m.workspace.id).await?;
    if f.channels
        .iter()
        .any(|id| !mine.iter().any(|c| c.id == *id))
    {
        return Err(field("channels", Code::InvalidValue).into());
    }
    let name = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let st = serde_json::to_string(&FeedState::new(url)).unwrap_or_default();
    let id = state
        .store
        .add_blog_feed(NewBlogFeed {
            workspace_id: m.workspace.id,
            url,
            name: &validate::display_name("url", &name).unwrap_or_else(|_| "blog".into()),
            channels: &f.channels,
            template,
            action: &f.action,
            evergreen_days: evergreen,
            created_by: user.id,
            state: &st,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::from(field("url", Code::Conflict)),
            e => e.into(),
        })?;
    audit(state, user, m, "blog.add", url).await?;
    super::accounts::wake(state);
    Ok(id)
}

pub async fn delete(
    state: &AppState,
    user: &User,
    m: &Membership,
    id: i64,
) -> Result<(), AppError> {
    require(m, Permission::ManageChannels)?;
    state.store.delete_blog_feed(m.workspace.id, id).await?;
    audit(state, user, m, "blog.delete", &format!("blog feed #{id}")).await
}

async fn audit(
    state: &AppState,
    user: &User,
    m: &Membership,
    action: &str,
    target: &str,
) -> Result<(), AppError> {
    let tx = state.store.begin().await?;
    let actor = Actor::user(user.id, &user.email);
    let entry = NewAudit {
        workspace_id: Some(m.workspace.id),
        actor: &actor,
        action,
        target,
        before: None,
        after: None,
    };
    super::record(state, tx, entry).await
}

pub fn register(registry: &mut Registry, state: AppState) {
    registry.register(POLL_JOB, move |_store, _job, _worker| {
        let state = state.clone();
        Box::pin(async move {
            let now = relais_store::now();
            poll_due(&state, now)
                .await
                .map_err(|e| JobError::Retry(e.to_string()))?;
            evergreen_due(&state, now)
                .await
                .map(|_| ())
                .map_err(|e| JobError::Retry(e.to_string()))
        })
    });
}

pub async fn schedule(store: &relais_store::Store) -> relais_store::Result<()> {
    store
        .upsert_recurring("blog-poll", POLL_JOB, &serde_json::json!({}), "every 60s")
        .await
}

/// The author the feed posts as, with their rights today (None: they left; the feed waits).
async fn author(state: &AppState, f: &BlogFeed) -> Option<(User, Membership)> {
    let uid = f.created_by?;
    let user = state.store.user_by_id(uid).await.ok()?;
    let m = state.store.membership(uid, f.workspace_id).await.ok()?;
    Some((user, m))
}

/// Polls due blog feeds; returns how many posts were made.
pub async fn poll_due(state: &AppState, now: i64) -> Result<usize, StoreError> {
    let mut made = 0;
    for f in state.store.claim_due_blog_feeds(8, 5 * 60_000).await? {
        let mut st: FeedState =
            serde_json::from_str(&f.state).unwrap_or_else(|_| FeedState::new(&f.url));
        let outcome = relais_feeds::fetch(&state.net, &st).await;
        let delay = st.record(&outcome, now, &PollPolicy::default());
        let mut error = outcome
            .error()
            .map(|e| format!("{}: {}", e.code.as_str(), e.message));
        let mut seeded = f.seeded;
        if let FetchOutcome::Updated { feed, .. } = &outcome {
            match ingest(state, &f, &feed.items, now).await {
                Ok(n) => {
                    made += n;
                    seeded = true;
                }
                Err(e) => error = Some(e),
            }
        }
        let next = now + delay.as_millis() as i64;
        let st = serde_json::to_string(&st).unwrap_or_default();
        state
            .store
            .record_blog_poll(f.id, &st, next, error.as_deref(), seeded)
            .await?;
    }
    Ok(made)
}

/// Records each article once; a post for each new one (not on the first poll, which only
/// records what the blog already had).
async fn ingest(
    state: &AppState,
    f: &BlogFeed,
    items: &[relais_feeds::Item],
    now: i64,
) -> Result<usize, String> {
    let who = author(state, f).await;
    let mut made = 0;
    // Oldest first, so queued posts keep the blog's order.
    for item in items.iter().rev() {
        let mut tx = state.store.begin().await.map_err(|e| e.to_string())?;
        // Only articles that were posted repeat (not what the blog had before).
        let next = (f.seeded && f.evergreen_days > 0).then(|| now + f.evergreen_days * DAY);
        let Some(item_id) = state
            .store
            .insert_blog_item(
                &mut tx,
                f.id,
                &item.guid,
                item.title.as_deref(),
                item.url.as_deref(),
                next,
            )
            .await
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        if f.seeded {
            let Some((user, m)) = &who else {
                return Err("the person who set this feed up is no longer a member".into());
            };
            let post = make_post(
                state,
                f,
                user,
                m,
                item.title.as_deref(),
                item.url.as_deref(),
                &item.summary_text,
                &mut tx,
            )
            .await?;
            state
                .store
                .set_blog_item_post(&mut tx, item_id, post)
                .await
                .map_err(|e| e.to_string())?;
            made += 1;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    if made > 0 {
        super::accounts::wake(state);
    }
    Ok(made)
}

#[allow(clippy::too_many_arguments)]
async fn make_post(
    state: &AppState,
    f: &BlogFeed,
    user: &User,
    m: &Membership,
    title: Option<&str>,
    url: Option<&str>,
    summary: &str,
    tx: &mut relais_store::AnyConnection,
) -> Result<i64, String> {
    let summary: String = summary.chars().take(200).collect();
    let d = Draft {
        body: render(
            &f.template,
            title.unwrap_or(""),
            url.unwrap_or(""),
            &summary,
        ),
        channels: f.channels.clone(),
        action: f.action.clone(),
        ..Draft::default()
    };
    let all = state
        .store
        .channels(f.workspace_id)
        .await
        .map_err(|e| e.to_string())?;
    let p = prepare(state, user, m, &d, &all)
        .await
        .map_err(|e| e.message(crate::i18n::Tr(m.workspace.lang)))?;
    write(state, tx, user, m, &d, &p)
        .await
        .map_err(|e| e.message(crate::i18n::Tr(m.workspace.lang)))
}

/// Evergreen: articles due for a repeat get a new post; each repeat once (compare-and-set).
pub async fn evergreen_due(state: &AppState, now: i64) -> Result<usize, StoreError> {
    let mut made = 0;
    for item in state.store.due_evergreen(now, 16).await? {
        let Ok(f) = state.store.blog_feed_by_id(item.blog_feed_id).await else {
            continue;
        };
        let Some(expect) = item.evergreen_next_at else {
            continue;
        };
        let next = (f.evergreen_days > 0).then(|| now + f.evergreen_days * DAY);
        let mut tx = state.store.begin().await?;
        if !state
            .store
            .advance_evergreen(&mut tx, item.id, expect, next)
            .await?
        {
            continue;
        }
        let Some((user, m)) = author(state, &f).await else {
            continue;
        };
        match make_post(
            state,
            &f,
            &user,
            &m,
            item.title.as_deref(),
            item.url.as_deref(),
            "",
            &mut tx,
        )
        .await
        {
            Ok(_) => {
                tx.commit().await?;
                made += 1;
            }
            Err(e) => tracing::warn!(item = item.id, error = %e, "evergreen repeat not posted"),
        }
    }
    if made > 0 {
        super::accounts::wake(state);
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_fill_in_placeholders() {
        assert_eq!(
            super::render(
                "Nouvel article : {title} {url}",
                "Été 2027",
                "https://blog.example/ete",
                ""
            ),
            "Nouvel article : Été 2027 https://blog.example/ete"
        );
        assert_eq!(super::render("{title} {nope}", "T", "", ""), "T {nope}");
    }
}
