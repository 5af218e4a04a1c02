//! Page models for the askama templates. Every page gets the translator `t`, the CSRF token and
//! the navigation; forms get `errs`, the message for the field that failed.

use askama::Template;
use relais_domain::{Permission, Role};
use relais_store::audit::AuditEntry;
use relais_store::jobs::{Job, QueueStats};
use relais_store::tokens::ApiToken;
use relais_store::workspaces::{Invitation, Member, Membership};

use crate::i18n::Tr;

/// The failed field and its message (in the user's language).
#[derive(Default, Clone)]
pub struct Errs {
    pub field: Option<&'static str>,
    pub msg: Option<String>,
}

impl Errs {
    pub fn none() -> Errs {
        Errs::default()
    }
    pub fn from(t: Tr, e: &crate::AppError) -> Errs {
        Errs {
            field: e.field,
            msg: Some(e.message(t)),
        }
    }
    /// The message when it concerns `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        match (self.field, &self.msg) {
            (Some(f), Some(m)) if f == field => Some(m),
            _ => None,
        }
    }
    /// A message that concerns no field on this form (shown on top).
    pub fn general<'f>(&self, fields: impl AsRef<[&'f str]>) -> Option<&str> {
        let fields = fields.as_ref();
        match (&self.msg, self.field) {
            (Some(m), Some(f)) if fields.contains(&f) => {
                let _ = m;
                None
            }
            (Some(m), _) => Some(m),
            _ => None,
        }
    }
}

/// Navigation shown on signed-in pages.
pub struct Nav {
    pub user_name: String,
    pub unread: i64,
    pub is_admin: bool,
    pub workspaces: Vec<(i64, String)>,
    pub current: Option<Current>,
}

pub struct Current {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub archived: bool,
    /// "who, when, why" of an active crisis freeze.
    pub frozen: Option<String>,
}

impl Current {
    pub fn from(m: &Membership) -> Current {
        Current {
            id: m.workspace.id,
            name: m.workspace.name.clone(),
            role: m.role,
            archived: m.workspace.archived_at.is_some(),
            frozen: None,
        }
    }
    pub fn initials(&self) -> String {
        initials(&self.name)
    }
    pub fn can_manage(&self) -> bool {
        self.role.allows(Permission::ManageWorkspace)
    }
    pub fn can_compose(&self) -> bool {
        self.role.allows(Permission::CreatePost) && !self.archived
    }
    pub fn can_listen(&self) -> bool {
        self.role.allows(Permission::ViewListening)
    }
    pub fn can_audit(&self) -> bool {
        self.role.allows(Permission::ViewAudit)
    }
}

pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

pub struct Base {
    pub t: Tr,
    pub csrf: String,
    pub nav: Option<Nav>,
    pub title: String,
    /// A confirmation shown on top of the page ("Saved.").
    pub flash: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub t: Tr,
    pub status: u16,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub b: Base,
    pub message: String,
    pub link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub b: Base,
    pub token: String,
    pub errs: Errs,
    pub email: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub b: Base,
    pub errs: Errs,
    pub email: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "totp.html")]
pub struct TotpPage {
    pub b: Base,
    pub errs: Errs,
    pub next: String,
}

#[derive(Template)]
#[template(path = "forgot.html")]
pub struct ForgotPage {
    pub b: Base,
    pub errs: Errs,
    pub sent: bool,
    pub smtp: bool,
}

#[derive(Template)]
#[template(path = "reset.html")]
pub struct ResetPage {
    pub b: Base,
    pub errs: Errs,
    pub token: String,
}

#[derive(Template)]
#[template(path = "invite.html")]
pub struct InvitePage {
    pub b: Base,
    pub errs: Errs,
    pub token: String,
    pub inv: Invitation,
    /// Signed-in user's email, when there is one.
    pub signed_in: Option<String>,
    pub account_exists: bool,
    pub name: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub b: Base,
    pub errs: Errs,
    pub memberships: Vec<Membership>,
    pub zones: &'static [&'static str],
    pub form_name: String,
    pub form_tz: String,
}

#[derive(Template)]
#[template(path = "ws_settings.html")]
pub struct WorkspaceSettingsPage {
    pub b: Base,
    pub errs: Errs,
    pub m: Membership,
    pub approval_mode: String,
    pub zones: &'static [&'static str],
    pub approval: relais_store::approvals::ApprovalSettings,
    /// Members who may be named approvers (clients have their own stage).
    pub members: Vec<Member>,
}

impl WorkspaceSettingsPage {
    pub fn named(&self, id: impl std::borrow::Borrow<i64>) -> bool {
        self.approval.approvers.contains(id.borrow())
    }
    pub fn expiry(&self) -> String {
        self.approval
            .expiry_days
            .map(|d| d.to_string())
            .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "members.html")]
pub struct MembersPage {
    pub b: Base,
    pub errs: Errs,
    pub m: Membership,
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
    pub roles: Vec<Role>,
    pub tz: String,
    pub manage: bool,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub b: Base,
    pub m: Membership,
    pub errs: Errs,
    pub frozen: bool,
    pub can_freeze: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub b: Base,
    pub m: Membership,
    pub entries: Vec<AuditEntry>,
    pub f_action: String,
    pub f_actor: String,
    pub f_from: String,
    pub f_to: String,
    pub csv_query: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    pub b: Base,
    pub errs: Errs,
    pub name: String,
    pub email: String,
    pub lang: String,
    pub totp_enabled: bool,
    /// (base32 key, otpauth URL) while enrolling.
    pub totp_new: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "tokens.html")]
pub struct TokensPage {
    pub b: Base,
    pub errs: Errs,
    pub tokens: Vec<ApiToken>,
    pub created: Option<String>,
    pub tz: String,
}

#[derive(Template)]
#[template(path = "jobs.html")]
pub struct JobsPage {
    pub b: Base,
    pub stats: QueueStats,
    pub dead: Vec<Job>,
    pub tz: String,
}

/// Common time zones offered first; any IANA name can be typed.
pub const ZONES: &[&str] = &[
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Zurich",
    "Europe/Luxembourg",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Madrid",
    "Europe/Berlin",
    "Europe/Rome",
    "America/Montreal",
    "America/Toronto",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Martinique",
    "America/Guadeloupe",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Africa/Casablanca",
    "Africa/Dakar",
    "Africa/Abidjan",
    "Africa/Tunis",
    "Africa/Algiers",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
];

#[derive(Template)]
#[template(path = "compose.html")]
pub struct ComposePage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub tz: String,
    pub channels: Vec<relais_store::channels::Channel>,
    pub draft: crate::service::compose::Draft,
    pub counters_html: String,
    pub can_publish: bool,
    pub can_override: bool,
    /// Media pickers by field name (`media`, `media_<channel>`), rendered.
    pub pickers: std::collections::HashMap<String, String>,
    /// The author's other drafts: (post id, first words, when).
    pub drafts: Vec<(i64, String, String)>,
}

impl ComposePage {
    pub fn picker(&self, name: &str) -> &str {
        self.pickers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
    pub fn parts(&self, id: impl std::borrow::Borrow<i64>) -> &[String] {
        self.draft
            .threads
            .get(id.borrow())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
    pub fn opt<'a>(
        &'a self,
        m: &'a std::collections::HashMap<i64, String>,
        id: impl std::borrow::Borrow<i64>,
    ) -> &'a str {
        m.get(id.borrow()).map(String::as_str).unwrap_or_default()
    }
    pub fn replies(&self, network: &str) -> relais_domain::thread::Replies {
        relais_domain::thread::replies(network)
    }
    pub fn chosen(&self, id: impl std::borrow::Borrow<i64>) -> bool {
        self.draft.channels.contains(id.borrow())
    }
    /// A variant's own language ("" = as the message).
    pub fn lang_of(&self, id: impl std::borrow::Borrow<i64>) -> &str {
        self.draft
            .langs
            .get(id.borrow())
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn variant(&self, id: impl std::borrow::Borrow<i64>) -> Option<&str> {
        self.draft.variants.get(id.borrow()).map(String::as_str)
    }
}

#[derive(Template)]
#[template(path = "counters.html")]
pub struct CountersFragment {
    pub t: Tr,
    pub ws: i64,
    pub counters: Vec<crate::service::compose::Counter>,
    pub findings: Vec<FindingRow>,
    pub no_dictionary: Vec<String>,
    /// The preview cards (rendered), refreshed with the counters.
    pub preview_html: String,
}

/// A check finding as the composer lists it: the words concerned and what to do.
pub struct FindingRow {
    pub severity: &'static str,
    pub excerpt: String,
    pub message: String,
    pub suggestions: String,
    /// The variant the finding is in (empty: the main message).
    pub channel: String,
    /// For a spelling finding without suggestions yet: the word and its language, so the user
    /// can ask for suggestions (slow: on demand, never while typing).
    pub ask: Option<(String, String)>,
}

impl FindingRow {
    pub fn rows(text: &str, report: &relais_guard::Report) -> Vec<FindingRow> {
        Self::rows_in(text, report, "", "")
    }

    /// Rows of one variant's findings, checked in `lang`.
    pub fn rows_in(
        text: &str,
        report: &relais_guard::Report,
        channel: &str,
        lang: &str,
    ) -> Vec<FindingRow> {
        report
            .findings
            .iter()
            .map(|f| FindingRow {
                channel: channel.to_string(),
                ask: (f.kind.starts_with("spelling") && f.suggestions.is_empty()).then(|| {
                    let word: String = text
                        .chars()
                        .skip(f.start)
                        .take(f.end.saturating_sub(f.start))
                        .collect();
                    (word, lang.to_string())
                }),
                severity: match f.severity {
                    relais_guard::Severity::Block => "block",
                    relais_guard::Severity::NeedsApproval => "needs_approval",
                    relais_guard::Severity::Warn => "warn",
                },
                excerpt: text
                    .chars()
                    .skip(f.start)
                    .take(f.end.saturating_sub(f.start).min(60))
                    .collect(),
                message: f.message.clone(),
                suggestions: f.suggestions.join(", "),
            })
            .collect()
    }
}

/// One line of the publications list.
pub struct PostRow {
    pub when: String,
    pub channel: String,
    pub network: String,
    pub excerpt: String,
    pub state: relais_domain::publish::TargetState,
    pub url: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "posts.html")]
pub struct PostsPage {
    pub b: Base,
    pub ws: i64,
    /// (due, late, failed, unconfirmed, publishing) right now.
    pub health: (i64, i64, i64, i64, i64),
    pub rows: Vec<PostRow>,
    pub can_create: bool,
    pub can_manage: bool,
}

#[derive(Template)]
#[template(path = "charter.html")]
pub struct CharterPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub body: String,
    pub can_edit: bool,
}

#[derive(Template)]
#[template(path = "listening.html")]
pub struct ListeningPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub tab: &'static str,
    pub queries: Vec<relais_store::listening::SavedQuery>,
    pub sources: Vec<relais_store::listening::Source>,
    /// Live sources with their state word and last problem.
    pub live: Vec<(relais_store::live::LiveSubscription, String, Option<String>)>,
    pub can_manage: bool,
    pub form_name: String,
    pub form_expression: String,
    pub form_url: String,
}

#[derive(Template)]
#[template(path = "links.html")]
pub struct LinksFragment {
    pub t: Tr,
    pub rows: Vec<FindingRow>,
    pub checked: usize,
}

#[derive(Template)]
#[template(path = "import.html")]
pub struct ImportPage {
    pub b: Base,
    pub ws: i64,
    pub data: String,
    pub errors: Vec<crate::service::import::LineError>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub b: Base,
    pub items: Vec<(relais_store::notifications::Notification, String)>,
}
