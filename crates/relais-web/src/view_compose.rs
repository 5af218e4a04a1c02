//! Templates of the media library and the composer's preview and autosave fragments.

use askama::Template;
use relais_store::media::Media;

use crate::i18n::Tr;
use crate::service::preview::Card;
use crate::view::{Base, Errs};

#[derive(Template)]
#[template(path = "media.html")]
pub struct MediaPage {
    pub b: Base,
    pub errs: Errs,
    pub ws: i64,
    pub items: Vec<Media>,
    pub max_mb: u64,
}

/// The composer's media picker: the library with a box per file (`name` = field name).
#[derive(Template)]
#[template(path = "picker.html")]
pub struct Picker {
    pub t: Tr,
    pub ws: i64,
    pub name: String,
    pub items: Vec<Media>,
    pub chosen: Vec<i64>,
    pub error: Option<String>,
}

impl Picker {
    pub fn is_chosen(&self, id: impl std::borrow::Borrow<i64>) -> bool {
        self.chosen.contains(id.borrow())
    }
}

/// The cards of the preview column.
#[derive(Template)]
#[template(path = "preview.html")]
pub struct PreviewFragment {
    pub t: Tr,
    pub cards: Vec<Card>,
    /// Attached files without a description.
    pub alt_missing: Vec<String>,
}

/// The answer to an autosave: the status line and the hidden fields it updates.
#[derive(Template)]
#[template(path = "autosave.html")]
pub struct AutosaveFragment {
    pub t: Tr,
    pub post_id: i64,
    pub version: i64,
    /// "14:32" in the workspace's zone.
    pub at: String,
    pub error: Option<String>,
}

/// One more thread part (empty, or as saved).
#[derive(Template)]
#[template(path = "part.html")]
pub struct PartFragment {
    pub t: Tr,
    pub channel: i64,
    pub text: String,
}

/// Size for people: "820 KB", "3.4 MB".
pub fn size(bytes: impl std::borrow::Borrow<i64>) -> String {
    let b = *bytes.borrow() as f64;
    if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{} KB", (b / 1e3).ceil() as i64)
    }
}
