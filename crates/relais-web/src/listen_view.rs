//! Views of the listening pages: the mentions stream (and its live poll), share of voice,
//! alerts and their briefs.

use askama::Template;
use relais_store::listening::{SavedQuery, Source};

use crate::service::alerts::brief::Brief;
use crate::service::mentions::{MentionQuery, MentionRow};
use crate::view::{Base, Errs};
use relais_store::alerts::{Alert, AlertRule, Delivery, EscalationTarget};

#[derive(Template)]
#[template(path = "mentions.html")]
pub struct MentionsPage {
    pub b: Base,
    pub ws: i64,
    pub tab: &'static str,
    pub f: MentionQuery,
    /// The filters as a query string (links keep them).
    pub qs: String,
    pub queries: Vec<SavedQuery>,
    pub sources: Vec<Source>,
    pub rows: Vec<MentionRow>,
    pub newest: i64,
    /// Safe SVG rendered by relais-chart.
    pub chart: String,
    pub error: Option<String>,
    pub can_manage: bool,
}

/// New mentions for the live stream, and the poller again (out of band) with the newest id.
#[derive(Template)]
#[template(path = "mention_live.html")]
pub struct MentionRowsLive {
    pub b: Base,
    pub ws: i64,
    pub rows: Vec<MentionRow>,
    pub newest: i64,
    pub qs: String,
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "share.html")]
pub struct SharePage {
    pub b: Base,
    pub ws: i64,
    pub tab: &'static str,
    pub days: u64,
    pub bar: String,
    pub lines: String,
    /// Name, "count · share", 1 for the brand.
    pub rows: Vec<(String, String, i64)>,
}

pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub when: String,
    pub crisis: bool,
}

#[derive(Template)]
#[template(path = "alerts.html")]
pub struct AlertsPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub tab: &'static str,
    pub queries: Vec<SavedQuery>,
    /// Each rule with its query's name.
    pub rules: Vec<(AlertRule, String)>,
    pub targets: Vec<EscalationTarget>,
    pub alerts: Vec<AlertRow>,
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "alert.html")]
pub struct AlertPage {
    pub b: Base,
    pub ws: i64,
    pub tab: &'static str,
    pub alert: Alert,
    pub when: String,
    pub detected: String,
    pub brief: Brief,
    /// Volume against the baseline (crisis), safe SVG.
    pub chart: Option<String>,
    pub split: String,
    pub can_freeze: bool,
    pub frozen: bool,
    pub reason: String,
    pub deliveries: Vec<Delivery>,
}

impl AlertPage {
    pub fn kind_key(&self) -> String {
        format!("alerts.kind.{}", self.alert.kind)
    }
}

#[derive(Template)]
#[template(path = "blog.html")]
pub struct BlogPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    /// Each feed with its channels' names and the next poll, in the workspace zone.
    pub feeds: Vec<(relais_store::blog::BlogFeed, String, String)>,
    pub channels: Vec<relais_store::channels::Channel>,
    pub can_manage: bool,
    pub form_url: String,
    pub form_template: String,
}
