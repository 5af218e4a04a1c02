//! End-to-end checks through the public API.

use relais_guard::{check, kinds, BrandRule, Charter, CheckContext, Severity, TermRule, UiLang};
use std::time::Instant;

fn kinds_of(r: &relais_guard::Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.kind.as_str()).collect()
}

#[test]
fn empty_text_has_no_findings() {
    let ctx = CheckContext::new("fr");
    for t in ["", "   \n\t "] {
        let r = check(t, &ctx);
        assert!(r.findings.is_empty() && !r.blocking && !r.needs_approval);
    }
}

#[test]
fn language_without_dictionary_is_reported() {
    let r = check("Guten Tag, wie geht es?", &CheckContext::new("de"));
    assert_eq!(r.languages_without_dictionary, ["de"]);
    assert!(!r.findings.iter().any(|f| f.kind == kinds::SPELLING));
    assert!(check("Bonjour", &CheckContext::new("fr-CA"))
        .languages_without_dictionary
        .is_empty());
    assert!(relais_guard::has_dictionary("en-GB") && !relais_guard::has_dictionary("es"));
}

#[test]
fn spans_are_character_offsets() {
    let t = "🎉 Été : l'evenement arrive";
    let r = check(t, &CheckContext::new("fr"));
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == kinds::SPELLING)
        .expect("typo found");
    let chars: Vec<char> = t.chars().collect();
    assert_eq!(
        chars[f.start..f.end].iter().collect::<String>(),
        "l'evenement"
    );
}

#[test]
fn mixed_languages() {
    // English words inside a French post: capitalised names pass, plain
    // English words are reported (the text's language is given per call).
    let t = "Notre webinaire avec Salesforce a eu lieu hier, merci ! The recording is online.";
    let r = check(t, &CheckContext::new("fr"));
    let flagged: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.kind == kinds::SPELLING)
        .map(|f| t.chars().skip(f.start).take(f.end - f.start).collect())
        .collect();
    assert!(flagged.contains(&"recording".to_string()), "{flagged:?}");
    assert!(!flagged.contains(&"Salesforce".to_string()));
    assert!(check("The recording is online.", &CheckContext::new("en"))
        .findings
        .is_empty());
}

#[test]
fn hundred_kilobytes_is_fast_enough() {
    let para = "Maison Verdane annonce l’ouverture de sa manufacture : 85 emplois, 12,5 millions d’euros. Contact : https://verdane.fr/presse 🌿 #Lyon\n";
    let text = para.repeat(100_000 / para.len() + 1);
    assert!(text.len() >= 100_000);
    let ctx = CheckContext::new("fr").with_custom_words(["Verdane"]);
    relais_guard::preload_dictionaries();
    let t = Instant::now();
    let r = check(&text, &ctx);
    assert!(t.elapsed().as_secs() < 10);
    assert!(r.findings.iter().all(|f| f.end <= text.chars().count()));
    assert!(!r.findings.iter().any(|f| f.kind == kinds::SPELLING));
}

#[test]
fn charter_confidential_pii_together() {
    let charter = Charter {
        forbidden_terms: vec![TermRule {
            term: "pas cher".into(),
            replacement: Some("abordable".into()),
            ..Default::default()
        }],
        brand_names: vec![BrandRule {
            name: "Citroën".into(),
            ..Default::default()
        }],
        confidential_terms: vec!["Projet Hélios".into()],
        ..Default::default()
    };
    let ctx = CheckContext::new("fr")
        .with_ui_lang(UiLang::En)
        .with_charter(&charter)
        .unwrap();
    let t = "La Citroen pas cher du projet helios. Appelez le 06 12 34 56 78.";
    let r = check(t, &ctx);
    let k = kinds_of(&r);
    assert!(
        k.contains(&kinds::BRAND)
            && k.contains(&kinds::FORBIDDEN)
            && k.contains(&kinds::CONFIDENTIAL)
    );
    assert!(k.contains(&kinds::PII_PHONE));
    assert!(r.blocking && r.needs_approval);
    // Brand names become custom words: "Citroën" is not a spelling error.
    assert!(!check("Citroën lance une offre.", &ctx)
        .findings
        .iter()
        .any(|f| f.kind == kinds::SPELLING));
    // Messages are in the UI language and never echo the phone number.
    assert!(r.findings.iter().all(|f| !f.message.contains("06 12")));
}

#[test]
fn invalid_charter_is_refused_with_rule_name() {
    let c: Charter =
        serde_json::from_str(r#"{"approval_terms":[{"term":"[prix","regex":true}]}"#).unwrap();
    let err = CheckContext::new("fr")
        .with_charter(&c)
        .err()
        .expect("invalid");
    assert!(err.to_string().contains("approval_terms[0]"), "{err}");
}

#[test]
fn tone_rule_raises_all_caps() {
    let c = Charter {
        tone: relais_guard::ToneRules {
            no_all_caps: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let ctx = CheckContext::new("fr").with_charter(&c).unwrap();
    let r = check("PROMO INCROYABLE ce week-end", &ctx);
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == kinds::ALL_CAPS)
        .unwrap();
    assert_eq!(f.severity, Severity::NeedsApproval);
}

#[test]
fn three_thousand_chars_under_budget() {
    relais_guard::preload_dictionaries();
    let sample = "L’équipe de Maison Verdane vous donne rendez-vous jeudi à 18 h 30 pour un atelier en ligne. Inscription : https://verdane.fr/atelier 🌿 #Kalyo ".repeat(25);
    let sample: String = sample.chars().take(3000).collect();
    let ctx = CheckContext::new("fr").with_custom_words(["Verdane", "Kalyo"]);
    let mut times: Vec<u128> = (0..5)
        .map(|_| {
            let t = Instant::now();
            check(&sample, &ctx);
            t.elapsed().as_micros()
        })
        .collect();
    times.sort();
    // Generous bound: debug builds are ~10x slower than release.
    assert!(times[2] < 200_000, "{times:?}");
}

#[test]
fn digits_inside_links_are_not_personal_data() {
    let r = check(
        "Voir https://ex.com/commande/0612345678 et 06 12 34 56 78",
        &CheckContext::new("fr"),
    );
    let phones = r
        .findings
        .iter()
        .filter(|f| f.kind == kinds::PII_PHONE)
        .count();
    assert_eq!(phones, 1);
}

#[test]
fn suggestions_for_a_finding() {
    let t = "Merci pour votre particpation !";
    let r = check(t, &CheckContext::new("fr"));
    let f = r
        .findings
        .iter()
        .find(|f| f.kind == kinds::SPELLING)
        .unwrap();
    assert!(f.suggestions.is_empty(), "never computed in the hot path");
    let s = relais_guard::suggest_for(t, f, "fr", 5);
    assert!(s.contains(&"participation".to_string()), "{s:?}");
}

#[test]
fn context_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CheckContext>();
    assert_send_sync::<relais_guard::Report>();
}

#[test]
fn acronyms_are_not_shouting() {
    let r = check(
        "Le RGPD et la CNIL, la SNCF RATP.",
        &CheckContext::new("fr"),
    );
    assert!(!r.findings.iter().any(|f| f.kind == kinds::ALL_CAPS));
}
