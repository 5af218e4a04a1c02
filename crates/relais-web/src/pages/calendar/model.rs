//! Page models of the calendar views.

use askama::Template;
use relais_domain::publish::TargetState;

use crate::view::Base;

/// A publication on the calendar: network, time, first words, status as a colour and a word.
#[derive(Clone)]
pub struct Chip {
    pub id: i64,
    pub post_id: i64,
    pub version: i64,
    /// Scheduled, and the viewer may publish: draggable, with a "Move…" form.
    pub movable: bool,
    /// "HH:MM", with the UTC offset when that time happens twice that day.
    pub time: String,
    /// Local date and time for the "Move…" form.
    pub date: String,
    pub hm: String,
    pub network: String,
    pub channel: String,
    pub text: String,
    pub state: TargetState,
    pub url: Option<String>,
    pub author: String,
    pub tags: Vec<String>,
    pub can_tag: bool,
}

impl Chip {
    pub fn tags_text(&self) -> String {
        self.tags.join(", ")
    }
}

#[derive(Clone)]
pub struct MonthDay {
    pub date: String,
    /// The day view of this day.
    pub href: String,
    pub number: u32,
    pub in_month: bool,
    pub today: bool,
    pub chips: Vec<Chip>,
}

/// A day heading of the week view.
pub struct WeekCol {
    pub href: String,
    pub label: String,
    pub today: bool,
    /// Set on a DST change day.
    pub dst: Option<Dst>,
}

/// A day that is not 24 hours long: "23 h" and the key of its explanation.
pub struct Dst {
    pub hours: String,
    pub why: &'static str,
}

pub struct WeekCell {
    pub date: String,
    pub today: bool,
    pub hour: u32,
    /// False for the hour skipped when the clocks go forward.
    pub exists: bool,
    pub chips: Vec<Chip>,
}

pub struct WeekRow {
    pub label: String,
    pub cells: Vec<WeekCell>,
}

/// An hour that really happens on the day shown.
pub struct DayRow {
    pub label: String,
    /// The UTC offset, shown when this hour happens twice (the clocks go back).
    pub offset: Option<String>,
    pub date: String,
    pub hour: u32,
    pub now: bool,
    pub chips: Vec<Chip>,
}

pub struct ListDay {
    pub label: String,
    pub today: bool,
    pub chips: Vec<Chip>,
}

pub struct WeekBody {
    pub cols: Vec<WeekCol>,
    pub rows: Vec<WeekRow>,
}

pub struct DayBody {
    pub rows: Vec<DayRow>,
    /// Why this day is not 24 hours long.
    pub note: Option<&'static str>,
    pub hours: usize,
}

/// What the view shows (exactly one is set).
#[derive(Default)]
pub struct Body {
    pub month: Option<Vec<Vec<MonthDay>>>,
    pub week: Option<WeekBody>,
    pub day: Option<DayBody>,
    pub list: Option<Vec<ListDay>>,
}

/// One option of a filter select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// An error of the "Move…" or "Tags…" form, shown next to it with what was typed.
pub struct FormErr {
    pub target: i64,
    pub field: Option<&'static str>,
    pub msg: String,
    pub date: String,
    pub time: String,
    pub tags: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    pub b: Base,
    pub ws: i64,
    pub tz: String,
    pub view: &'static str,
    /// (view key, href) of the tabs.
    pub tabs: Vec<(&'static str, String)>,
    pub prev: String,
    pub next: String,
    pub today: String,
    /// This page's own address, for the forms to come back to.
    pub here: String,
    /// The address without filters (same view and date).
    pub clear: String,
    pub date: String,
    pub filtered: bool,
    pub channels: Vec<Opt>,
    pub states: Vec<Opt>,
    pub authors: Vec<Opt>,
    pub tags: Vec<Opt>,
    pub body: Body,
    pub move_err: Option<FormErr>,
    pub tag_err: Option<FormErr>,
    pub can_compose: bool,
}

impl CalendarPage {
    pub fn is_view(&self, key: &str) -> bool {
        self.view == key
    }
    pub fn move_err_for(&self, id: impl std::borrow::Borrow<i64>) -> Option<&FormErr> {
        self.move_err.as_ref().filter(|e| e.target == *id.borrow())
    }
    pub fn tag_err_for(&self, id: impl std::borrow::Borrow<i64>) -> Option<&FormErr> {
        self.tag_err.as_ref().filter(|e| e.target == *id.borrow())
    }
}
