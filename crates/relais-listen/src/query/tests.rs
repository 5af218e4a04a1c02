use super::*;

fn w(t: &str) -> Query {
    Query::Pattern(Pattern {
        tokens: vec![t.into()],
        prefix: false,
        mark: Mark::None,
        quoted: false,
    })
}

fn p(s: &str) -> Query {
    parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn e(s: &str) -> ParseError {
    parse(s).expect_err(s)
}

#[test]
fn precedence_not_and_or() {
    assert_eq!(
        p("a OR b c"),
        Query::Or(vec![w("a"), Query::And(vec![w("b"), w("c")])])
    );
    assert_eq!(p("a OR b AND c"), p("a OR b c"));
    assert_eq!(
        p("NOT a b"),
        Query::And(vec![Query::Not(Box::new(w("a"))), w("b")])
    );
    assert_eq!(
        p("a OR NOT b AND c"),
        Query::Or(vec![
            w("a"),
            Query::And(vec![Query::Not(Box::new(w("b"))), w("c")])
        ])
    );
    assert_eq!(
        p("(a OR b) c"),
        Query::And(vec![Query::Or(vec![w("a"), w("b")]), w("c")])
    );
    assert_eq!(
        p("NOT NOT a"),
        Query::Not(Box::new(Query::Not(Box::new(w("a")))))
    );
    // Lower-case operators are plain words.
    assert_eq!(p("a or b"), Query::And(vec![w("a"), w("or"), w("b")]));
}

#[test]
fn constructs() {
    let Query::Pattern(ph) = p("\"Back Market\"") else {
        panic!()
    };
    assert_eq!(ph.tokens, ["back", "market"]);
    assert!(ph.quoted);
    // A word folding to several tokens is a phrase.
    let Query::Pattern(lo) = p("L'Oréal") else {
        panic!()
    };
    assert_eq!(lo.tokens, ["l", "oreal"]);
    assert!(!lo.quoted);
    let Query::Pattern(wc) = p("recall*") else {
        panic!()
    };
    assert!(wc.prefix);
    assert_eq!(wc.tokens, ["recall"]);
    let Query::Pattern(tag) = p("#BackMarket") else {
        panic!()
    };
    assert_eq!(
        (tag.mark, tag.tokens.clone()),
        (Mark::Hashtag, vec!["backmarket".to_string()])
    );
    let Query::Pattern(h) = p("@Fnac_Darty") else {
        panic!()
    };
    assert_eq!(
        (h.mark, h.tokens.clone()),
        (Mark::Mention, vec!["fnac_darty".to_string()])
    );
    assert_eq!(p("lang:FR"), Query::Lang("fr".into()));
    assert_eq!(p("lang:pt_BR"), Query::Lang("pt-br".into()));
    let Query::Near {
        left,
        right,
        distance,
    } = p("(apple OR iphone) NEAR/3 \"battery life\"")
    else {
        panic!()
    };
    assert_eq!((left.len(), right.len(), distance), (2, 1, 3));
    // Curly quotes work as phrase delimiters.
    assert_eq!(p("“back market”"), p("\"back market\""));
    // Quotes and parentheses split words.
    assert_eq!(p("a(b)"), Query::And(vec![w("a"), w("b")]));
}

#[test]
fn errors_have_code_column_and_expected() {
    let err = e("apple AND");
    assert_eq!((err.code, err.column), (ErrorCode::ExpectedOperand, 10));
    assert_eq!(err.found, "end of query");
    assert!(err.expected.contains("word"));
    let err = e("AND apple");
    assert_eq!(
        (err.code, err.column, err.found.as_str()),
        (ErrorCode::ExpectedOperand, 1, "AND")
    );
    let err = e("(a OR b");
    assert_eq!((err.code, err.column), (ErrorCode::UnclosedParen, 8));
    let err = e("a OR b)");
    assert_eq!((err.code, err.column), (ErrorCode::UnexpectedParen, 7));
    let err = e("a \"back market");
    assert_eq!((err.code, err.column), (ErrorCode::UnclosedQuote, 3));
    assert_eq!(e("\"  \"").code, ErrorCode::NoWord);
    assert_eq!(e("#").code, ErrorCode::NoWord);
    assert_eq!(e("a @ b").column, 3);
    let err = e("a NEAR/x b");
    assert_eq!((err.code, err.column), (ErrorCode::BadNear, 3));
    assert_eq!(e("a NEAR b").code, ErrorCode::BadNear);
    assert_eq!(e("a NEAR/5000 b").code, ErrorCode::BadNear);
    let err = e("lang:x1");
    assert_eq!((err.code, err.column), (ErrorCode::BadLang, 1));
    let err = e("re*call");
    assert_eq!((err.code, err.column), (ErrorCode::BadWildcard, 3));
    assert_eq!(e("foo-*").code, ErrorCode::BadWildcard);
    let err = e("a NEAR/2 b NEAR/2 c");
    assert_eq!((err.code, err.column), (ErrorCode::NearOperand, 12));
    let err = e("x (a b) NEAR/2 c");
    assert_eq!((err.code, err.column), (ErrorCode::NearOperand, 3));
    assert_eq!(e("a NEAR/2 NOT b").code, ErrorCode::ExpectedOperand);
    assert_eq!(e("a NEAR/2 lang:fr").code, ErrorCode::NearOperand);
    assert_eq!(e("   ").code, ErrorCode::EmptyQuery);
    assert_eq!(e("a ()").code, ErrorCode::ExpectedOperand);
    assert_eq!(e(&"(".repeat(100)).code, ErrorCode::TooDeep);
    assert_eq!(e(&"NOT ".repeat(100)).code, ErrorCode::TooDeep);
    // Columns count characters, not bytes.
    assert_eq!(e("éé AND").column, 7);
    assert_eq!(
        e("a AND").to_string(),
        "column 6: expected a word, \"phrase\", #tag, @handle, lang:xx, NOT or '(', found end of \
         query [listen.query.expected_operand]"
    );
}

#[test]
fn explain_in_english_and_french() {
    let q = p("(apple OR #iphone) \"back market\" NOT job* lang:fr");
    assert_eq!(
        explain(&q, ExplainLang::En),
        "Posts with (the word \"apple\" or the hashtag #iphone) and the phrase \"back market\" \
         and without a word starting with \"job\" and the language French (fr) declared"
    );
    assert_eq!(
        explain(&q, ExplainLang::Fr),
        "Posts avec (le mot « apple » ou le hashtag #iphone) et l'expression « back market » \
         et sans un mot commençant par « job » et la langue français (fr) déclarée"
    );
    let q = p("@fnac NEAR/2 (prix OR promo)");
    assert_eq!(
        explain(&q, ExplainLang::Fr),
        "Posts avec la mention @fnac à 2 mots au plus de (le mot « prix » ou le mot « promo »)"
    );
}

/// Poor man's fuzzing (the cargo-fuzz target lives in `fuzz/`): random strings over the
/// language's alphabet never panic, and errors point inside or just after the input.
#[test]
fn random_inputs_never_panic() {
    const ALPHABET: &[&str] = &[
        "a", "é", "Œ", " ", "(", ")", "\"", "“", "*", "#", "@", "AND", "OR", "NOT", "NEAR/",
        "NEAR/2", "lang:", "fr", "-", "'", "🙂", "東", "\t", "0", "_",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        let mut s = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        for k in 0..(state % 12) {
            let x = state.rotate_left(k as u32 * 5) as usize;
            s.push_str(ALPHABET[x % ALPHABET.len()]);
            if x % 3 == 0 {
                s.push(' ');
            }
        }
        match parse(&s) {
            Ok(q) => {
                let _ = explain(&q, ExplainLang::Fr);
            }
            Err(err) => assert!(
                err.column >= 1 && err.column <= s.chars().count() + 1,
                "{s:?}: {err}"
            ),
        }
    }
}
