use super::*;

fn s() -> &'static Sentiment {
    static S: std::sync::OnceLock<Sentiment> = std::sync::OnceLock::new();
    S.get_or_init(Sentiment::builtin)
}

fn score(text: &str, lang: &str) -> f32 {
    s().score(text, Some(lang)).score
}

fn label(text: &str, lang: Option<&str>) -> SentimentLabel {
    s().score(text, lang).label
}

use SentimentLabel::*;

#[test]
fn negation_flips() {
    assert!(score("This is good", "en") > 0.2);
    assert!(score("This is not good", "en") < -0.2);
    assert!(score("I don't like it", "en") <= 0.0);
    assert!(score("Never disappointed", "en") > 0.0);
    assert!(score("Never been so disappointed", "en") < score("disappointed", "en"));
    assert!(score("Ce n'est pas bon", "fr") < 0.0);
    assert!(score("Je ne suis pas content", "fr") < 0.0);
    assert!(score("J'aime pas du tout", "fr") < 0.0);
    assert!(score("Je n'aime pas", "fr") < 0.0);
    assert!(score("Jamais déçu", "fr") > 0.0);
    assert!(score("Ça ne marche plus du tout correctement", "fr") < 0.0);
    assert!(score("Sans aucun problème", "fr") > 0.0);
    assert!(score("Aucun souci", "fr") > 0.0);
}

#[test]
fn phrases_and_idioms() {
    assert!(score("Pas mal du tout", "fr") > 0.2);
    assert!(score("pas cher et efficace", "fr") > 0.2);
    assert!(score("ce n'est pas mal", "fr") > 0.0);
    assert!(score("ça marche pas", "fr") < 0.0);
    assert!(score("ça ne marche pas", "fr") < 0.0);
    assert!(score("n'achetez pas", "fr") < 0.0);
    assert!(score("Not bad at all", "en") > 0.0);
    assert!(score("Thanks for nothing", "en") < 0.0);
    assert!(score("Data breach at the bank", "en") < score("breach at the bank", "en"));
}

#[test]
fn intensifiers_caps_exclamation_elongation() {
    let base = score("good", "en");
    assert!(score("very good", "en") > base);
    assert!(score("This is GOOD", "en") > score("This is good", "en"));
    assert!(score("good!!!", "en") > base);
    assert!(score("goooood", "en") > base);
    assert!(score("très bien", "fr") > score("bien", "fr"));
    assert!(score("super nul", "fr") < score("nul", "fr"));
    assert!(score("super sympa", "fr") > score("sympa", "fr"));
    assert!(score("nuuuul", "fr") < 0.0);
    // All caps is shouting everywhere, not emphasis on a word.
    assert_eq!(score("GOOD FOOD", "en"), score("good food", "en"));
}

#[test]
fn contrast_weighs_the_second_part() {
    assert!(score("The food was great but the service was terrible", "en") < 0.0);
    assert!(score("The service was slow but the food was amazing", "en") > 0.0);
    assert!(score("Livraison rapide mais produit cassé", "fr") < 0.0);
}

#[test]
fn emoji_and_emoticons() {
    assert_eq!(label("Quikko 😡", Some("en")), Negative);
    assert_eq!(label("merci Quikko 😍😍", Some("fr")), Positive);
    assert_eq!(label("arrived today :)", Some("en")), Positive);
    assert_eq!(label("still waiting :(", Some("en")), Negative);
    assert_eq!(label("<3 <3", None), Positive);
    assert_eq!(label("👍🏽", None), Positive);
}

#[test]
fn crisis_vocabulary() {
    let r = s().score("Rappel produit : risque de salmonelle", Some("fr"));
    assert_eq!(r.label, Negative);
    assert!(r.crisis_terms >= 2, "{r:?}");
    let r = s().score("Massive data breach, this is a scam", Some("en"));
    assert!(r.crisis_terms >= 2 && r.score < -0.5, "{r:?}");
    assert_eq!(s().score("pas de scandale ici", Some("fr")).crisis_terms, 0);
    assert_eq!(label("#boycott Acme", None), Negative);
}

#[test]
fn accents_folded_and_language_guessed() {
    assert_eq!(score("decu", "fr"), score("déçu", "fr"));
    assert_eq!(score("DÉÇU", "fr"), score("déçu", "fr"));
    assert_eq!(label("Je suis très déçu par le service", None), Negative);
    assert_eq!(label("I am very happy with the service", None), Positive);
    // "sale" is dirty in French only.
    assert_eq!(label("La chambre était sale", None), Negative);
    assert_eq!(label("The sale starts on Monday", None), Neutral);
    assert_eq!(
        label("Le magasin ouvre demain à 9h", Some("fr-FR")),
        Neutral
    );
}

#[test]
fn handles_and_urls_are_ignored() {
    assert_eq!(
        label("@SuperU https://great.example/awesome", None),
        Neutral
    );
}

#[test]
fn score_is_bounded() {
    let r = s().score(&"horrible ".repeat(500), Some("fr"));
    assert!(r.score >= -1.0 && r.score < -0.99);
    assert_eq!(s().score("", None).label, Neutral);
}

#[test]
fn user_lexicon_replaces_or_extends() {
    let dir = std::env::temp_dir().join(format!("relais-enrich-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let p = dir.join("lex.tsv");
    std::fs::write(&p, "# mine\nfr\tcanon\t-3\n*\tacme\t2\n").expect("write");
    let own = Sentiment::from_path(&p).expect("load");
    assert_eq!(own.score("canon", Some("fr")).label, Negative);
    assert_eq!(own.score("génial", Some("fr")).label, Neutral);
    let ext = Sentiment::builtin_with(&p).expect("load");
    assert_eq!(ext.score("génial", Some("fr")).label, Positive);
    assert_eq!(ext.score("canon", Some("fr")).label, Negative);
    std::fs::write(&p, "fr\tcanon\t-3\nfr\tbad line\n").expect("write");
    let e = Sentiment::from_path(&p).expect_err("error");
    assert_eq!(e.line, 2);
    assert!(e.to_string().contains("lex.tsv: line 2:"), "{e}");
    let e = Sentiment::from_path(dir.join("missing.tsv")).expect_err("error");
    assert!(e.message.contains("cannot read"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
