//! The composer: one message, a variant per chosen channel, counted with each network's own
//! rule, then saved as drafts or scheduled in the workspace's time zone.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use relais_domain::publish::{resolve_local, LocalTime, TargetState};
use relais_domain::{Code, Permission};
use relais_publish::limits::{self, Network};
use relais_store::channels::Channel;
use relais_store::users::User;
use relais_store::workspaces::Membership;

use super::field;
use crate::auth::require;
use crate::{AppError, AppState};

pub fn network(name: &str) -> Option<Network> {
    Some(match name {
        "mastodon" => Network::Mastodon,
        "bluesky" => Network::Bluesky,
        "x" => Network::X,
        "threads" => Network::Threads,
        "instagram" => Network::Instagram,
        "facebook" => Network::Facebook,
        "linkedin" => Network::LinkedIn,
        "telegram" => Network::Telegram,
        "discord" => Network::Discord,
        "matrix" => Network::Matrix,
        "wordpress" => Network::WordPress,
        "webhook" => Network::Webhook,
        "newsletter" => Network::Newsletter,
        _ => return None,
    })
}

/// The live counter of one variant: "287 / 300 graphemes".
#[derive(Debug, Clone, serde::Serialize)]
pub struct Counter {
    pub channel_id: i64,
    pub channel: String,
    /// Empty for the post itself; "2", "3"… for thread parts; "comment" for the first comment.
    pub part: String,
    pub network: String,
    pub used: usize,
    pub max: Option<usize>,
    pub unit: &'static str,
    pub over: bool,
}

/// Counts `text` for `ch`, with the limit the network told us (a Mastodon instance's
/// `max_characters`) over the default.
pub fn count(ch: &Channel, text: &str) -> Counter {
    let rule = network(&ch.network).and_then(|n| limits::text_len(n, text, false));
    let (used, max, unit) = match rule {
        Some((used, max, unit)) => {
            let max = ch
                .limits
                .get("max_characters")
                .and_then(|v| v.as_u64())
                .map(|m| m as usize)
                .unwrap_or(max);
            (used, Some(max), unit)
        }
        None => (text.chars().count(), None, "characters"),
    };
    Counter {
        channel_id: ch.id,
        channel: ch.name.clone(),
        part: String::new(),
        network: ch.network.clone(),
        used,
        max,
        unit,
        over: max.is_some_and(|m| used > m),
    }
}

/// The first post of a variant: its text, plus the content warning on Mastodon (which counts
/// it towards the limit).
pub fn count_post(ch: &Channel, d: &Draft) -> Counter {
    let mut n = count(ch, d.text_for(ch.id));
    if ch.network == "mastodon" {
        let cw = d
            .spoilers
            .get(&ch.id)
            .map_or(0, |s| s.trim().chars().count());
        n.used += cw;
        n.over = n.max.is_some_and(|m| n.used > m);
    }
    n
}

/// What the composer form sends.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    pub body: String,
    pub channels: Vec<i64>,
    /// Per-channel text; absent or empty = the main text.
    pub variants: HashMap<i64, String>,
    /// `YYYY-MM-DD` and `HH:MM` in the workspace's zone, when scheduling.
    pub date: String,
    pub time: String,
    /// `draft`, `schedule` or `now`.
    pub action: String,
    /// Why a blocking finding may be ignored (owners and managers only); lands in the audit log.
    pub override_reason: String,
    /// The draft post being edited, and the version it was read at (autosave conflicts).
    pub post_id: Option<i64>,
    pub version: Option<i64>,
    /// A random name of the composer page (see `Store::update_post`).
    pub tab: String,
    /// Media of the main message (every variant without its own).
    pub media: Vec<i64>,
    /// Per-channel media; present = replaces the main media for that channel.
    pub variant_media: HashMap<i64, Vec<i64>>,
    /// Per-channel follow-up parts of a thread ("+ add to thread"), in order.
    pub threads: HashMap<i64, Vec<String>>,
    /// Per-channel first comment.
    pub comments: HashMap<i64, String>,
    /// Content warning (Mastodon) and title (WordPress) per channel.
    pub spoilers: HashMap<i64, String>,
    pub titles: HashMap<i64, String>,
    /// The message's language (`fr`, `en`; empty = the workspace's) and per-channel overrides:
    /// checked in that language and declared to the network (Mastodon `language`, Bluesky `langs`).
    pub lang: String,
    pub langs: HashMap<i64, String>,
}

impl Draft {
    pub fn media_for(&self, channel: i64) -> &[i64] {
        self.variant_media
            .get(&channel)
            .filter(|v| !v.is_empty())
            .unwrap_or(&self.media)
    }

    /// The thread parts of a channel that have text.
    pub fn parts_for(&self, channel: i64) -> Vec<&str> {
        self.threads
            .get(&channel)
            .map(|v| {
                v.iter()
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn comment_for(&self, channel: i64) -> Option<&str> {
        self.comments
            .get(&channel)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// What the publisher reads from `targets.options`.
    pub fn options_for(&self, channel: i64) -> serde_json::Value {
        let mut o = serde_json::json!({});
        let get = |m: &HashMap<i64, String>| {
            m.get(&channel)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        if let Some(s) = get(&self.spoilers) {
            o["spoiler"] = s.into();
        }
        if let Some(t) = get(&self.titles) {
            o["title"] = t.into();
        }
        let lang = self.lang_for(channel);
        if !lang.is_empty() {
            o["language"] = lang.into();
        }
        o
    }

    /// A channel's language: its own, else the message's (empty when neither is set).
    pub fn lang_for(&self, channel: i64) -> &str {
        let ok =
            |l: &&String| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase());
        self.langs
            .get(&channel)
            .filter(ok)
            .or(Some(&self.lang).filter(ok))
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn text_for(&self, channel: i64) -> &str {
        self.variants
            .get(&channel)
            .map(String::as_str)
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(&self.body)
    }
}

/// Counters of the chosen channels: the post, then each thread part and the first comment.
pub async fn counters(
    state: &AppState,
    m: &Membership,
    d: &Draft,
) -> Result<Vec<Counter>, AppError> {
    let all = state.store.channels(m.workspace.id).await?;
    let mut out = Vec::new();
    for c in all.iter().filter(|c| d.channels.contains(&c.id)) {
        out.push(count_post(c, d));
        for (i, p) in d.parts_for(c.id).iter().enumerate() {
            out.push(Counter {
                part: (i + 2).to_string(),
                ..count(c, p)
            });
        }
        if let Some(x) = d.comment_for(c.id) {
            out.push(Counter {
                part: "comment".into(),
                ..count(c, x)
            });
        }
    }
    Ok(out)
}

/// When to publish, checked against the workspace's zone: a past date, a time inside a DST gap
/// or an ambiguous hour are refused with the field to fix.
fn when(d: &Draft, tz: &str) -> Result<Option<i64>, AppError> {
    match d.action.as_str() {
        "draft" => Ok(None),
        "now" => Ok(Some(relais_store::now())),
        "schedule" => {
            if d.date.trim().is_empty() {
                return Err(field("date", Code::Required).into());
            }
            if d.time.trim().is_empty() {
                return Err(field("time", Code::Required).into());
            }
            let local = NaiveDateTime::parse_from_str(
                &format!("{} {}", d.date.trim(), d.time.trim()),
                "%Y-%m-%d %H:%M",
            )
            .map_err(|_| field("date", Code::InvalidValue))?;
            let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
            let at = match resolve_local(tz, local) {
                LocalTime::Exact(at) => at,
                LocalTime::Gap { .. } => return Err(field("time", Code::DstGap).into()),
                LocalTime::Ambiguous { .. } => return Err(field("time", Code::DstAmbiguous).into()),
            };
            if at < relais_store::now() - 60_000 {
                return Err(field("date", Code::InPast).into());
            }
            Ok(Some(at))
        }
        _ => Err(field("action", Code::InvalidValue).into()),
    }
}

/// A post ready to be written: validated, checked, with its fate decided.
pub struct Prepared {
    pub channels: Vec<Channel>,
    pub at: Option<i64>,
    /// "Add to queue": each channel's next free slot (overrides `at` per channel).
    pub slot_at: Vec<(i64, i64)>,
    /// Goes to approval rather than the schedule.
    pub review: bool,
    /// Blocking findings overridden with a justification.
    pub overridden: Vec<String>,
    /// The media attached per channel, checked against its network.
    pub files: HashMap<i64, Vec<relais_store::media::Media>>,
    /// An autosave: no audit entry (the final save writes one).
    pub quiet: bool,
}

/// Validates a draft against the workspace's channels, the time zone and the checks. Touches
/// nothing: the import validates every row first and writes all or nothing.
pub async fn prepare(
    state: &AppState,
    user: &User,
    m: &Membership,
    d: &Draft,
    all: &[Channel],
) -> Result<Prepared, AppError> {
    require(m, Permission::CreatePost)?;
    if d.body.trim().is_empty() && d.variants.values().all(|v| v.trim().is_empty()) {
        return Err(field("body", Code::Required).into());
    }
    if d.channels.is_empty() {
        return Err(field("channels", Code::Required).into());
    }
    let channels: Vec<Channel> = d
        .channels
        .iter()
        .map(|id| {
            all.iter()
                .find(|c| c.id == *id)
                .cloned()
                .ok_or_else(|| AppError::from(field("channels", Code::InvalidValue)))
        })
        .collect::<Result<_, _>>()?;
    if channels.iter().any(|c| count_post(c, d).over) {
        return Err(field("body", Code::TooLong).into());
    }
    let files = super::drafts::check_extras(state, m, d, &channels).await?;
    let (at, slot_at) = if d.action == "queue" {
        let slot_at = queue_times(state, m, &channels).await?;
        (slot_at.iter().map(|(_, t)| *t).min(), slot_at)
    } else {
        (when(d, &m.workspace.time_zone)?, Vec::new())
    };
    // Whether this goes to approval instead of the schedule: the workspace asks for it, the
    // author may not publish (contributors), or a check needs approval (prices, legal…).
    let mut review = false;
    let mut overridden: Vec<String> = Vec::new();
    if at.is_some() {
        // Nothing with a blocking finding (confidential term, card number…) leaves the drafts.
        for c in &channels {
            let r = super::checks::check(
                state,
                m,
                d.text_for(c.id),
                "",
                Some(&c.network),
                user.lang.unwrap_or(m.workspace.lang),
            )
            .await?;
            if r.blocking {
                let reason = d.override_reason.trim();
                if reason.is_empty() || !m.role.allows(Permission::ManageCharter) {
                    return Err(field("body", Code::Blocked).into());
                }
                overridden.extend(
                    r.findings
                        .iter()
                        .filter(|f| f.severity == relais_guard::Severity::Block)
                        .map(|f| f.kind.clone()),
                );
            }
            review |= r.needs_approval;
        }
        review |= state.store.approval_mode(m.workspace.id).await? != "none"
            || !m.role.allows(Permission::Publish);
    }
    Ok(Prepared {
        channels,
        at,
        slot_at,
        review,
        overridden,
        files,
        quiet: false,
    })
}

pub use super::drafts::{save, write};

/// Each channel's next free queue slot; a channel without slots (or with none free in four
/// weeks) is an error naming it.
async fn queue_times(
    state: &AppState,
    m: &Membership,
    channels: &[Channel],
) -> Result<Vec<(i64, i64)>, AppError> {
    let tz: chrono_tz::Tz = m.workspace.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let now = relais_store::now();
    let mut out = Vec::new();
    for c in channels {
        let slots = relais_domain::slots::parse(super::channels::slots_of(c)).unwrap_or_default();
        let filter = relais_store::posts::TargetFilter {
            from: Some(now),
            state: Some(TargetState::Scheduled),
            channel_id: Some(c.id),
            ..Default::default()
        };
        let taken: Vec<i64> = state
            .store
            .list_targets(m.workspace.id, &filter)
            .await?
            .iter()
            .filter_map(|t| t.scheduled_at)
            .collect();
        match relais_domain::slots::next_free(tz, now, &slots, &taken) {
            Some(at) => out.push((c.id, at)),
            None => {
                return Err(
                    AppError::from(field("channels", Code::NoSlot)).with_detail(c.name.clone())
                )
            }
        }
    }
    Ok(out)
}
