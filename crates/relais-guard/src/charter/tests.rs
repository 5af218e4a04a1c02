use super::*;
use crate::tokenize::scan;

fn run(
    c: &Charter,
    text: &str,
    channel: Option<&str>,
) -> Vec<(&'static str, Severity, String, Vec<String>)> {
    let compiled = c.compile().expect("valid charter");
    let s = scan(text);
    compiled
        .check(text, &Folded::new(text), &s, channel, UiLang::Fr)
        .into_iter()
        .map(|h| {
            (
                h.kind,
                h.severity,
                text[h.start..h.end].to_string(),
                h.suggestions,
            )
        })
        .collect()
}

fn term(t: &str) -> TermRule {
    TermRule {
        term: t.into(),
        ..TermRule::default()
    }
}

#[test]
fn forbidden_terms_with_replacement() {
    let c = Charter {
        forbidden_terms: vec![TermRule {
            replacement: Some("clients".into()),
            ..term("Consommateurs")
        }],
        ..Charter::default()
    };
    let r = run(
        &c,
        "Nos consommateurs et nos CONSOMMATEURS ; consommateursX non.",
        None,
    );
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].0, kinds::FORBIDDEN);
    assert_eq!(r[0].1, Severity::Block);
    assert_eq!(r[0].3, vec!["clients".to_string()]);
}

#[test]
fn required_terms_per_channel() {
    let c = Charter {
        required_terms: vec![TermRule {
            channels: vec!["instagram".into()],
            ..term("#MaMarque")
        }],
        ..Charter::default()
    };
    assert_eq!(run(&c, "Bonjour", Some("instagram"))[0].0, kinds::REQUIRED);
    assert!(run(&c, "Bonjour #mamarque", Some("instagram")).is_empty());
    assert!(run(&c, "Bonjour", Some("linkedin")).is_empty());
}

#[test]
fn brand_spelling() {
    let c = Charter {
        brand_names: vec![
            BrandRule {
                name: "Citroën".into(),
                ..BrandRule::default()
            },
            BrandRule {
                name: "Orange".into(),
                ..BrandRule::default()
            },
            BrandRule {
                name: "Coca-Cola".into(),
                ..BrandRule::default()
            },
        ],
        ..Charter::default()
    };
    let r = run(
        &c,
        "Citroën, Citroen, CITROEN, une orange, ORANGE, Coca Cola.",
        None,
    );
    let found: Vec<&str> = r.iter().map(|x| x.2.as_str()).collect();
    assert_eq!(found, ["Citroen", "CITROEN", "ORANGE", "Coca Cola"]);
    assert_eq!(r[0].3, vec!["Citroën".to_string()]);
}

#[test]
fn approval_presets_and_terms() {
    let c = Charter {
        approval_presets: vec![ApprovalPreset::Prices, ApprovalPreset::Health],
        approval_terms: vec![term("offre limitée")],
        ..Charter::default()
    };
    let r = run(
        &c,
        "Offre limitee : 49,90 € ou $15, -30 % ; ce thé guérit tout.",
        None,
    );
    let kinds_found: Vec<_> = r.iter().map(|x| (x.0, x.1)).collect();
    assert_eq!(kinds_found.len(), 5, "{r:?}");
    assert!(kinds_found
        .iter()
        .all(|k| *k == (kinds::APPROVAL, Severity::NeedsApproval)));
    let r = run(&c, "Price: $15 for 2 users.", None);
    assert_eq!(r.len(), 1);
}

#[test]
fn counts_and_tone() {
    let c = Charter {
        max_hashtags: Some(2),
        tone: ToneRules {
            max_exclamation_marks: Some(1),
            ..ToneRules::default()
        },
        ..Charter::default()
    };
    let r = run(&c, "Go! Now! #a #b #c #d https://x.fr/#!/y", None);
    let k: Vec<_> = r.iter().map(|x| (x.0, x.2.as_str())).collect();
    assert_eq!(
        k,
        [
            (kinds::MAX_HASHTAGS, "#c #d"),
            (kinds::MAX_EXCLAMATIONS, "!")
        ]
    );
}

#[test]
fn invalid_pattern_names_the_rule() {
    let c = Charter {
        forbidden_terms: vec![
            term("ok"),
            TermRule {
                term: "prix(".into(),
                regex: true,
                ..TermRule::default()
            },
        ],
        ..Charter::default()
    };
    let e = c.validate().unwrap_err();
    assert_eq!(e.rule, "forbidden_terms[1] (\"prix(\")");
    assert!(e.to_string().contains("forbidden_terms[1]"));
    let c = Charter {
        required_terms: vec![term("  ")],
        ..Charter::default()
    };
    assert!(c
        .validate()
        .unwrap_err()
        .rule
        .starts_with("required_terms[0]"));
}

#[test]
fn json_round_trip_with_defaults() {
    let c: Charter = serde_json::from_str(
        r#"{"forbidden_terms":[{"term":"pas cher","replacement":"abordable"}],"max_hashtags":3,
            "tone":{"no_all_caps":true},"links":{"require_utm":true},"approval_presets":["prices"]}"#,
    )
    .unwrap();
    assert_eq!(c.forbidden_terms[0].severity, None);
    assert_eq!(c.max_hashtags, Some(3));
    let back: Charter = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}
