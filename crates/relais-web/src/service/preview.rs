//! How each variant will look on its network: a server-rendered card with the text (links,
//! hashtags and mentions marked), the images, the content warning (Mastodon), the title
//! (WordPress), and the thread parts and first comment below it.

use std::collections::HashMap;

use relais_store::channels::Channel;
use relais_store::media::Media;

use super::compose::Draft;

/// A run of text, and what it is: `text`, `link`, `tag`, `mention` or `br` (a line break).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub kind: &'static str,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Img {
    pub url: String,
    pub alt: String,
    pub video: bool,
}

/// One post of the card (the first, a thread part, or the comment).
#[derive(Debug, Clone)]
pub struct Item {
    /// Empty for the post; "2/3"… for thread parts; "comment".
    pub label: String,
    pub segs: Vec<Seg>,
    pub images: Vec<Img>,
}

#[derive(Debug, Clone)]
pub struct Card {
    pub channel: String,
    pub network: String,
    pub title: Option<String>,
    pub spoiler: Option<String>,
    pub items: Vec<Item>,
}

/// Cuts `text` into runs; URLs, `#tags` and `@mentions` (at the start of a word) are marked.
pub fn segments(text: &str) -> Vec<Seg> {
    let mut marks: Vec<(usize, usize, &'static str)> = relais_publish::limits::find_urls(text)
        .into_iter()
        .map(|(s, e)| (s, e, "link"))
        .collect();
    for (i, c) in text.char_indices() {
        let kind = match c {
            '#' => "tag",
            '@' => "mention",
            _ => continue,
        };
        let starts_word = text[..i]
            .chars()
            .next_back()
            .is_none_or(|p| p.is_whitespace() || p == '(');
        if !starts_word || marks.iter().any(|(s, e, _)| i >= *s && i < *e) {
            continue;
        }
        let rest = &text[i + 1..];
        let len = rest
            .find(|ch: char| !(ch.is_alphanumeric() || "_.-@".contains(ch)))
            .unwrap_or(rest.len());
        let word = rest[..len].trim_end_matches(['.', '-', '@']);
        if !word.is_empty() {
            marks.push((i, i + 1 + word.len(), kind));
        }
    }
    marks.sort();
    let mut out = Vec::new();
    let push_text = |out: &mut Vec<Seg>, s: &str| {
        for (n, line) in s.split('\n').enumerate() {
            if n > 0 {
                out.push(Seg {
                    kind: "br",
                    text: String::new(),
                });
            }
            if !line.is_empty() {
                out.push(Seg {
                    kind: "text",
                    text: line.to_string(),
                });
            }
        }
    };
    let mut last = 0;
    for (s, e, kind) in marks {
        if s < last {
            continue;
        }
        push_text(&mut out, &text[last..s]);
        out.push(Seg {
            kind,
            text: text[s..e].to_string(),
        });
        last = e;
    }
    push_text(&mut out, &text[last..]);
    out
}

fn images(ws: i64, files: &[Media]) -> Vec<Img> {
    files
        .iter()
        .map(|f| Img {
            url: format!("/w/{ws}/media/{}/file", f.id),
            alt: f.alt.clone(),
            video: f.mime.starts_with("video/"),
        })
        .collect()
}

/// A card per chosen channel. `library` holds the workspace's media by id.
pub fn cards(ws: i64, d: &Draft, channels: &[Channel], library: &HashMap<i64, Media>) -> Vec<Card> {
    channels
        .iter()
        .filter(|c| d.channels.contains(&c.id))
        .map(|c| {
            let files: Vec<Media> = d
                .media_for(c.id)
                .iter()
                .filter_map(|id| library.get(id).cloned())
                .collect();
            let parts = d.parts_for(c.id);
            let total = parts.len() + 1;
            let mut items = vec![Item {
                label: if total > 1 {
                    format!("1/{total}")
                } else {
                    String::new()
                },
                segs: segments(d.text_for(c.id).trim()),
                images: images(ws, &files),
            }];
            for (i, p) in parts.iter().enumerate() {
                items.push(Item {
                    label: format!("{}/{total}", i + 2),
                    segs: segments(p),
                    images: Vec::new(),
                });
            }
            if let Some(x) = d.comment_for(c.id) {
                items.push(Item {
                    label: "comment".into(),
                    segs: segments(x),
                    images: Vec::new(),
                });
            }
            let opt = |m: &HashMap<i64, String>| {
                m.get(&c.id)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            Card {
                channel: c.name.clone(),
                network: c.network.clone(),
                title: opt(&d.titles).filter(|_| c.network == "wordpress"),
                spoiler: opt(&d.spoilers).filter(|_| c.network == "mastodon"),
                items,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_links_tags_mentions() {
        let s = segments("Hi @ana@m.social see https://x.org/a. #Relais!\nbye a#b");
        let kinds: Vec<(&str, &str)> = s.iter().map(|x| (x.kind, x.text.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("text", "Hi "),
                ("mention", "@ana@m.social"),
                ("text", " see "),
                ("link", "https://x.org/a"),
                ("text", ". "),
                ("tag", "#Relais"),
                ("text", "!"),
                ("br", ""),
                ("text", "bye a#b"),
            ]
        );
    }
}
