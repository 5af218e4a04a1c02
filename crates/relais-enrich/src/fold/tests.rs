use super::*;

fn events(text: &str) -> Vec<String> {
    let mut em = Emoticons::default();
    em.add(":)");
    em.add(":-)");
    em.add("<3");
    em.add(":p");
    let mut out = Vec::new();
    tokenize(text, &em, |e| {
        out.push(match e {
            Event::Token(t) => {
                let mut s = String::from_utf8_lossy(t.text).into_owned();
                match t.mark {
                    Mark::Hash => s.insert(0, '#'),
                    Mark::At => s.insert(0, '@'),
                    Mark::None => {}
                }
                if t.caps {
                    s.push('^');
                }
                s
            }
            Event::Break(b) => format!("<{b:?}>"),
            Event::Url(u) => format!("[{u}]"),
        })
    });
    out
}

#[test]
fn folds_accents_ligatures_and_case() {
    assert_eq!(
        events("Déçu, ŒUVRE Straße"),
        ["decu", "<Clause>", "oeuvre^", "strasse"]
    );
    assert_eq!(words("e\u{301}te\u{301}"), ["ete"]);
    assert_eq!(words("ＡＢＣ！"), ["abc"]);
}

#[test]
fn contractions_elisions_marks_urls() {
    assert_eq!(
        events("I don't like it, j'aime pas @Acme #fail https://x.co/a?b=1 a#b"),
        [
            "i",
            "dont",
            "like",
            "it",
            "<Clause>",
            "j",
            "aime",
            "pas",
            "@acme",
            "#fail",
            "[https://x.co/a?b=1]",
            "a",
            "b"
        ]
    );
    assert_eq!(words("can’t won't"), ["cant", "wont"]);
}

#[test]
fn emoji_and_emoticons() {
    assert_eq!(
        events("top👍🏽❤️ :-) <3 :pas !"),
        [
            "top",
            "👍",
            "❤",
            ":-)",
            "<3",
            "<Clause>",
            "pas",
            "<Exclamation>"
        ]
    );
}

#[test]
fn elongation_and_caps() {
    let mut flags = Vec::new();
    tokenize("NOOOON sooo good OK I", &Emoticons::default(), |e| {
        if let Event::Token(t) = e {
            flags.push((t.caps, t.elongated()));
        }
    });
    assert_eq!(
        flags,
        [
            (true, true),
            (false, true),
            (false, false),
            (true, false),
            (false, false)
        ]
    );
}

/// The specification as a per-character state machine (no SWAR, no fast paths).
fn reference(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut up, mut low) = (0, 0);
    let flush = |cur: &mut String, up: &mut u32, low: &mut u32, out: &mut Vec<String>| {
        if !cur.is_empty() {
            let mut s = std::mem::take(cur);
            s.truncate(
                s.char_indices()
                    .map(|(i, c)| i + c.len_utf8())
                    .take_while(|&e| e <= MAX_TOKEN)
                    .last()
                    .unwrap_or(0),
            );
            if *up >= 2 && *low == 0 {
                s.push('^');
            }
            out.push(s);
        }
        *up = 0;
        *low = 0;
    };
    for c in text.chars() {
        let e = if c.is_ascii() {
            [ascii_class(c as u8), 0, 0, 0]
        } else {
            classify(c)
        };
        let base = e[0] & !UPPER;
        if base <= 3 {
            if c.is_ascii() {
                up += u32::from(c.is_ascii_uppercase());
                low += u32::from(c.is_ascii_lowercase());
                cur.push(c.to_ascii_lowercase());
            } else {
                if e[0] & UPPER != 0 {
                    up += 1
                } else {
                    low += 1
                }
                cur.extend(e[1..=base as usize].iter().map(|&b| b as char));
            }
        } else if base == LETTER {
            if e[0] & UPPER != 0 {
                up += 1
            } else {
                low += 1
            }
            cur.extend(c.to_lowercase().filter(|l| !is_combining_mark(*l)));
        } else if base != SKIP {
            flush(&mut cur, &mut up, &mut low, &mut out);
            if base == EMOJI {
                out.push(c.to_string());
            }
        }
    }
    flush(&mut cur, &mut up, &mut low, &mut out);
    out
}

#[test]
fn fast_paths_match_the_reference() {
    let alphabet: Vec<char> = "aZzA09_ .,!?-'é€ÉœŒß👍\u{fe0f}ñÑ\tx\nqQ@#ЖжΣ漢"
        .chars()
        .collect();
    let mut rng = crate::bench::Rng::new(5);
    for round in 0..20_000 {
        let len = 1 + rng.below(if round % 10 == 0 { 150 } else { 30 });
        let text: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
        let mut got = Vec::new();
        tokenize(&text, &Emoticons::default(), |e| {
            if let Event::Token(t) = e {
                let mut s = String::from_utf8(t.text.to_vec()).expect("utf-8");
                if t.caps {
                    s.push('^');
                }
                assert_eq!(t.hash, hash_bytes(t.text), "{text:?}");
                got.push(s);
            }
        });
        assert_eq!(got, reference(&text), "{text:?}");
    }
    // Long tokens are truncated to MAX_TOKEN bytes, whatever path they take.
    for text in [
        "A".repeat(100),
        format!("x{}", "Bé".repeat(50)),
        "_9".repeat(40),
    ] {
        let mut got = Vec::new();
        tokenize(&text, &Emoticons::default(), |e| {
            if let Event::Token(t) = e {
                got.push(String::from_utf8_lossy(t.text).into_owned());
            }
        });
        let want: Vec<String> = reference(&text)
            .into_iter()
            .map(|s| s.trim_end_matches('^').to_string())
            .collect();
        assert_eq!(got, want);
        assert_eq!(got[0].len(), MAX_TOKEN);
    }
}

#[test]
fn hash_is_stable() {
    // Story ids are stored: this value must never change.
    assert_eq!(hash_bytes(b"scandale"), hash_bytes(b"scandale"));
    assert_ne!(hash_bytes(b"a"), hash_bytes(b"b"));
    assert_eq!(hash_bytes(b"relais"), 4_984_028_520_602_837_664);
}
