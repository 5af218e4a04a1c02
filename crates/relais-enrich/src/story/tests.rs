use super::*;

const ARTICLE: &str = "Acme recalls 40,000 kettles after reports of overheating bases, \
                       customers asked to stop using them immediately";

#[test]
fn retweets_hashtags_and_trailing_urls_group() {
    let mut ix = StoryIndex::default();
    let t = 1_700_000_000_000;
    let a = ix.insert(ARTICLE, None, t);
    for (i, v) in [
        format!("RT @newsdesk: {ARTICLE}"),
        format!("{ARTICLE} #recall #acme"),
        format!("{ARTICLE} https://t.co/abc123"),
        format!("RT @someone: {ARTICLE} https://t.co/zzz via @acmewatch"),
        format!("{ARTICLE}!!"),
        ARTICLE.to_uppercase(),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(ix.insert(v, None, t + i as i64 * 1000), a, "{v}");
    }
    // One word changed in a long text: still near (distance ≤ 3) or not, but never a crash;
    // an unrelated text is another story.
    let other = ix.insert(
        "Acme opens a new flagship store in Lyon with a coffee bar and repair corner",
        None,
        t + 10_000,
    );
    assert_ne!(other, a);
}

#[test]
fn shared_boilerplate_does_not_group() {
    let tail = " | Subscribe to our newsletter for the latest updates on tech and business \
                news every single day";
    let mut ix = StoryIndex::default();
    let t = 0;
    let a = ix.insert(
        &format!("Acme shares drop 12% after weak quarterly results{tail}"),
        None,
        t,
    );
    let b = ix.insert(
        &format!("Brindle Bank announces new savings account with higher rates{tail}"),
        None,
        t + 1,
    );
    let c = ix.insert(
        &format!("FibreNet outage hits thousands across the north{tail}"),
        None,
        t + 2,
    );
    assert_ne!(a, b);
    assert_ne!(b, c);
    assert_ne!(a, c);
    let (ha, _) = simhash(&format!(
        "Acme shares drop 12% after weak quarterly results{tail}"
    ));
    let (hb, _) = simhash(&format!(
        "Brindle Bank announces new savings account with higher rates{tail}"
    ));
    assert!((ha ^ hb).count_ones() > 8, "{}", (ha ^ hb).count_ones());
}

#[test]
fn same_article_url_groups_different_comments() {
    let mut ix = StoryIndex::default();
    let a = ix.insert(
        "Wow, read this",
        Some("https://www.news.example/eco/acme-recall?utm_source=twitter"),
        0,
    );
    let b = ix.insert(
        "This is outrageous https://news.example/eco/acme-recall/#top",
        None,
        5,
    );
    let c = ix.insert(
        "Totally unrelated take",
        Some("http://news.example/eco/acme-recall"),
        9,
    );
    assert_eq!(a, b);
    assert_eq!(a, c);
    // A home page says nothing: no grouping on it.
    let d = ix.insert("Check out this brand", Some("https://acme.example/"), 10);
    let e = ix.insert(
        "Completely different opinion here",
        Some("https://acme.example"),
        11,
    );
    assert_ne!(d, e);
}

#[test]
fn short_texts_need_an_exact_match() {
    let mut ix = StoryIndex::default();
    let a = ix.insert("Boycott Acme", None, 0);
    assert_eq!(ix.insert("RT @x: Boycott Acme", None, 1), a);
    assert_ne!(ix.insert("Boycott Brindle", None, 2), a);
    // Texts with no words (only a handle or a link to a home page) are their own story.
    let e1 = ix.insert("@acme", None, 3);
    let e2 = ix.insert("@acme", None, 4);
    assert_ne!(e1, e2);
}

#[test]
fn ids_are_stable_across_rebuilds() {
    let posts = [
        (ARTICLE.to_string(), None, 0),
        (format!("RT @a: {ARTICLE}"), None, 1),
        ("Read https://n.example/a/b".to_string(), None, 2),
        (
            "Other words here".to_string(),
            Some("https://n.example/a/b?fbclid=1"),
            3,
        ),
    ];
    let run = || {
        let mut ix = StoryIndex::default();
        posts
            .iter()
            .map(|(t, u, at)| ix.insert(t, *u, *at))
            .collect::<Vec<_>>()
    };
    let first = run();
    assert_eq!(first, run());
    assert_eq!(first[0], first[1]);
    assert_eq!(first[2], first[3]);
    assert_eq!(StoryId::from_i64(first[0].to_i64()), first[0]);
    // The id of a text-only story is its SimHash: it must not change between versions.
    assert_eq!(first[0], StoryId(simhash(ARTICLE).0));
}

#[test]
fn window_evicts_by_event_time_and_cap() {
    let hour = 3_600_000;
    let mut ix = StoryIndex::new(StoryOptions {
        window_ms: 48 * hour,
        ..StoryOptions::default()
    });
    let a = ix.insert(ARTICLE, Some("https://n.example/x"), 0);
    assert_eq!(ix.insert(ARTICLE, None, 47 * hour), a);
    // The first member is evicted, the second (47 h) keeps the story alive.
    assert_eq!(ix.insert(ARTICLE, None, 49 * hour), a);
    assert_eq!(ix.len(), 2);
    // Far later: all forgotten, the URL too; the same text starts the same id again (it is
    // derived from the SimHash), a URL-only post gets its URL's id.
    ix.insert("something else entirely different words", None, 200 * hour);
    assert_eq!(ix.len(), 1);
    assert!(ix.urls.is_empty());
    assert_eq!(ix.exact.len(), 1);
    assert_eq!(ix.bands.iter().map(HashMap::len).sum::<usize>(), 4);

    let mut capped = StoryIndex::new(StoryOptions {
        max_members: 100,
        ..StoryOptions::default()
    });
    for i in 0..1000 {
        capped.insert(&format!("post number {i} about things and stuff"), None, i);
    }
    assert_eq!(capped.len(), 100);
    assert_eq!(capped.exact.len(), 100);
}

#[test]
fn retweet_storm_keeps_band_lists_short() {
    let mut ix = StoryIndex::default();
    let a = ix.insert(ARTICLE, None, 0);
    for i in 1..5000 {
        assert_eq!(ix.insert(&format!("RT @u{i}: {ARTICLE}"), None, i), a);
    }
    assert!(ix.bands.iter().all(|m| m.values().all(|l| l.len() == 1)));
    // Evicting the banded member hands the bands over to the newest copy.
    let mut small = StoryIndex::new(StoryOptions {
        max_members: 3,
        ..StoryOptions::default()
    });
    let s = small.insert(ARTICLE, None, 0);
    for i in 1..10 {
        assert_eq!(small.insert(&format!("RT @u: {ARTICLE}"), None, i), s);
    }
    let near = format!("{ARTICLE} today");
    let (h1, _) = simhash(ARTICLE);
    let (h2, _) = simhash(&near);
    if (h1 ^ h2).count_ones() <= 3 {
        assert_eq!(small.insert(&near, None, 11), s);
    }
}
