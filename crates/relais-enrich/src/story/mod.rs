//! Near-duplicate grouping: "500 shares of one article = one story".
//!
//! A post joins a story when it links the same article (canonical URL) as a recent member, or
//! when the SimHash of its text is within a small Hamming distance of a recent member's. SimHash
//! candidates are found with banded LSH: the 64-bit hash is cut into 4 bands of 16 bits, and two
//! hashes at distance ≤ 3 share at least one band exactly (pigeonhole), so a lookup reads 4
//! short lists instead of the whole index. Members older than the window (by event time) are
//! evicted, so memory is bounded.

mod url;

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::fold::{self, combine, fmix64, Emoticons, Event, Kind, Mark};
pub use url::canonical_url;

/// Stable identifier of a story, derived from its first member (canonical URL hash, or the
/// SimHash of its text), so rebuilding the index from stored mentions gives the same ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoryId(pub u64);

impl StoryId {
    /// The id as a signed 64-bit integer (database BIGINT), bit for bit.
    pub fn to_i64(self) -> i64 {
        self.0 as i64
    }

    /// The id from its database form.
    pub fn from_i64(v: i64) -> Self {
        StoryId(v as u64)
    }
}

/// Settings of a [`StoryIndex`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoryOptions {
    /// Members older than this (event time, behind the newest seen) are forgotten.
    pub window_ms: i64,
    /// Largest Hamming distance between SimHashes of one story (at most 3: the banding
    /// guarantees exact recall up to 3).
    pub max_distance: u32,
    /// Texts with fewer content words only group with identical texts (distance 0).
    pub min_words: usize,
    /// Hard cap on remembered members (oldest evicted first), whatever the window.
    pub max_members: usize,
}

impl Default for StoryOptions {
    fn default() -> Self {
        StoryOptions {
            window_ms: 48 * 3_600_000,
            max_distance: 3,
            min_words: 6,
            max_members: 500_000,
        }
    }
}

struct Member {
    simhash: u64,
    story: StoryId,
    at_ms: i64,
    /// Whether the text was long enough for fuzzy matching (and was put in the bands).
    banded: bool,
    fuzzy: bool,
    urls: [u64; 2],
}

/// The story index (one per workspace or per process; not thread-safe, wrap it in a mutex).
pub struct StoryIndex {
    opts: StoryOptions,
    members: VecDeque<Member>,
    /// Sequence number of `members[0]`.
    base: u64,
    bands: [HashMap<u16, Vec<u64>>; 4],
    /// SimHash -> (story, newest member with it). Only one member per distinct SimHash is in
    /// the bands, so a retweet storm does not grow the lists a lookup scans.
    exact: HashMap<u64, (StoryId, u64)>,
    /// Canonical URL hash -> (story, sequence number of the last member that linked it).
    urls: HashMap<u64, (StoryId, u64)>,
    newest_ms: i64,
}

impl Default for StoryIndex {
    fn default() -> Self {
        StoryIndex::new(StoryOptions::default())
    }
}

/// Word hashes (and whether each is a hashtag) and URLs of a text, in one pass.
fn scan(text: &str) -> (Vec<(u64, bool)>, Vec<&str>) {
    let mut words: Vec<(u64, bool)> = Vec::with_capacity(48);
    let mut urls = Vec::new();
    fold::tokenize(text, &Emoticons::default(), |e| match e {
        Event::Token(t) => {
            if t.kind == Kind::Word && t.mark != Mark::At && t.text != b"rt" && t.text != b"via" {
                words.push((t.hash, t.mark == Mark::Hash));
            }
        }
        Event::Url(u) => urls.push(u),
        Event::Break(_) => {}
    });
    (words, urls)
}

/// SimHash of a text (word 3-shingles; handles, URLs, "RT", "via" and trailing hashtags left
/// out) and the number of words it covers.
pub fn simhash(text: &str) -> (u64, usize) {
    simhash_words(&scan(text).0)
}

fn simhash_words(words: &[(u64, bool)]) -> (u64, usize) {
    // Hashtags appended at the end ("… #breaking #news") are decoration, not content.
    let content = words
        .iter()
        .rposition(|w| !w.1)
        .map_or(words.len(), |i| i + 1);
    let words = &words[..content];
    let mut v = [0i32; 64];
    let mut add = |h: u64| {
        // Branch-free so the 64 counters update as vectors.
        for (bit, c) in v.iter_mut().enumerate() {
            *c += ((h >> bit) & 1) as i32 * 2 - 1;
        }
    };
    match words.len() {
        0 => return (0, 0),
        1 => add(fmix64(words[0].0)),
        2 => add(combine(words[0].0, words[1].0)),
        _ => {
            for w in words.windows(3) {
                add(combine(combine(w[0].0, w[1].0), w[2].0));
            }
        }
    }
    let h = v
        .iter()
        .enumerate()
        .fold(0u64, |h, (bit, &c)| h | (u64::from(c > 0) << bit));
    (h, words.len())
}

/// Keys of the article URLs of a post (the shared URL, then URLs in the text; at most 2).
fn url_keys(url: Option<&str>, in_text: &[&str]) -> Vec<u64> {
    let mut keys = Vec::new();
    for u in url.into_iter().chain(in_text.iter().copied()) {
        if let Some(c) = canonical_url(url::trim_in_text(u)) {
            let k = fold::hash_bytes(c.as_bytes()) | 1; // 0 marks "no URL"
            if url::is_specific(&c) && !keys.contains(&k) {
                keys.push(k);
                if keys.len() == 2 {
                    break;
                }
            }
        }
    }
    keys
}

fn band(h: u64, b: usize) -> u16 {
    (h >> (16 * b)) as u16
}

impl StoryIndex {
    /// An empty index.
    pub fn new(opts: StoryOptions) -> Self {
        StoryIndex {
            opts: StoryOptions {
                max_distance: opts.max_distance.min(3),
                max_members: opts.max_members.max(1),
                ..opts
            },
            members: VecDeque::new(),
            base: 0,
            bands: Default::default(),
            exact: HashMap::new(),
            urls: HashMap::new(),
            newest_ms: i64::MIN,
        }
    }

    /// Number of remembered members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Assign a story to a post: its text, the URL it shares (if any; URLs in the text count
    /// too) and its event time in milliseconds UTC.
    pub fn insert(&mut self, text: &str, url: Option<&str>, at_ms: i64) -> StoryId {
        self.newest_ms = self.newest_ms.max(at_ms);
        self.evict();
        let (words, in_text) = scan(text);
        let urls = url_keys(url, &in_text);
        let (sim, words) = simhash_words(&words);
        let fuzzy = words >= self.opts.min_words;
        let mut story = urls.iter().find_map(|k| self.urls.get(k).map(|&(s, _)| s));
        let known = self.exact.get(&sim).copied();
        if story.is_none() && words > 0 {
            story = known.map(|(s, _)| s).or_else(|| self.nearest(sim, fuzzy));
        }
        let story = story.unwrap_or_else(|| match (urls.first(), words) {
            (Some(&u), _) => StoryId(u),
            (None, 0) => StoryId(fmix64(fold::hash_bytes(text.as_bytes()) ^ at_ms as u64)),
            (None, _) => StoryId(sim),
        });
        let seq = self.base + self.members.len() as u64;
        let banded = words > 0 && known.is_none();
        if banded {
            self.band_in(sim, seq);
        }
        if words > 0 {
            self.exact.insert(sim, (story, seq));
        }
        let mut keys = [0u64; 2];
        for (i, &k) in urls.iter().take(2).enumerate() {
            keys[i] = k;
            self.urls.insert(k, (story, seq));
        }
        self.members.push_back(Member {
            simhash: sim,
            story,
            at_ms,
            banded,
            fuzzy,
            urls: keys,
        });
        story
    }

    fn band_in(&mut self, sim: u64, seq: u64) {
        for (b, map) in self.bands.iter_mut().enumerate() {
            map.entry(band(sim, b)).or_default().push(seq);
        }
    }

    /// The story of the closest banded member within the allowed distance.
    fn nearest(&self, sim: u64, fuzzy: bool) -> Option<StoryId> {
        let mut best: Option<(u32, StoryId)> = None;
        for (b, map) in self.bands.iter().enumerate() {
            let Some(seqs) = map.get(&band(sim, b)) else {
                continue;
            };
            for &seq in seqs {
                let m = &self.members[(seq - self.base) as usize];
                let d = (m.simhash ^ sim).count_ones();
                let limit = if fuzzy && m.fuzzy {
                    self.opts.max_distance
                } else {
                    0
                };
                if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
                    best = Some((d, m.story));
                }
            }
        }
        best.map(|(_, s)| s)
    }

    fn evict(&mut self) {
        let horizon = self.newest_ms.saturating_sub(self.opts.window_ms);
        while let Some(m) = self.members.front() {
            if m.at_ms >= horizon && self.members.len() < self.opts.max_members {
                break;
            }
            let m = self.members.pop_front().expect("front exists");
            let seq = self.base;
            self.base += 1;
            if m.banded {
                for (b, map) in self.bands.iter_mut().enumerate() {
                    let key = band(m.simhash, b);
                    if let Some(list) = map.get_mut(&key) {
                        // Lists are in insertion order: the evicted member is first.
                        if list.first() == Some(&seq) {
                            list.remove(0);
                        } else {
                            list.retain(|&s| s != seq);
                        }
                        if list.is_empty() {
                            map.remove(&key);
                        }
                    }
                }
                // A newer member with the same SimHash takes over the bands.
                match self.exact.get(&m.simhash) {
                    Some(&(_, newest)) if newest > seq => {
                        self.band_in(m.simhash, newest);
                        self.members[(newest - self.base) as usize].banded = true;
                    }
                    _ => {
                        self.exact.remove(&m.simhash);
                    }
                }
            }
            for k in m.urls {
                if k != 0 && self.urls.get(&k).is_some_and(|&(_, s)| s == seq) {
                    self.urls.remove(&k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
