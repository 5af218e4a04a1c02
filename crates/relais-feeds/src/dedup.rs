//! New items only, oldest first: the caller keeps the guids it has seen (across restarts).

use std::cmp::Reverse;
use std::collections::HashSet;

use crate::model::Item;

/// Items whose guid is not in `seen`, in publication order (see [`new_items_by`]).
pub fn new_items(items: Vec<Item>, seen: &HashSet<String>) -> Vec<Item> {
    new_items_by(items, |g| seen.contains(g))
}

/// Items for which `is_seen(guid)` is false, each guid once, oldest first. Undated items come
/// after dated ones, in reverse document order (feeds list newest first), so that posting them
/// in the returned order keeps the author's order.
pub fn new_items_by(items: Vec<Item>, mut is_seen: impl FnMut(&str) -> bool) -> Vec<Item> {
    let mut batch = HashSet::new();
    let mut fresh: Vec<(usize, Item)> = items
        .into_iter()
        .enumerate()
        .filter(|(_, it)| !is_seen(&it.guid) && batch.insert(it.guid.clone()))
        .collect();
    fresh.sort_by_key(|(i, it)| (it.published_at.is_none(), it.published_at, Reverse(*i)));
    fresh.into_iter().map(|(_, it)| it).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it(guid: &str, at: Option<i64>) -> Item {
        Item {
            guid: guid.into(),
            url: None,
            title: None,
            summary_text: String::new(),
            content_html: None,
            author: None,
            published_at: at,
            language: None,
        }
    }

    fn guids(v: &[Item]) -> Vec<&str> {
        v.iter().map(|i| i.guid.as_str()).collect()
    }

    #[test]
    fn only_new_in_publication_order() {
        let items = vec![
            it("c", Some(30)),
            it("b", Some(20)),
            it("u2", None),
            it("a", Some(10)),
            it("b", Some(20)),
            it("u1", None),
        ];
        let seen: HashSet<String> = ["a".to_string()].into();
        assert_eq!(guids(&new_items(items, &seen)), ["b", "c", "u1", "u2"]);
    }

    #[test]
    fn a_second_run_with_stored_guids_yields_nothing() {
        let items = vec![it("x", Some(1)), it("y", Some(2))];
        let mut seen = HashSet::new();
        let first = new_items(items.clone(), &seen);
        seen.extend(first.iter().map(|i| i.guid.clone()));
        assert!(new_items(items, &seen).is_empty());
    }
}
