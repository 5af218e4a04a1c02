//! The function-word vote against labelled texts and against whatlang.

use super::function_words::guess;

/// Labelled lines of the repository's corpora: `(text, language)`.
fn labelled() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let tsv = [
        (
            include_str!("../../../relais-enrich/tests/data/sentiment_fr.tsv"),
            "fr",
        ),
        (
            include_str!("../../../relais-enrich/tests/data/sentiment_fr_holdout.tsv"),
            "fr",
        ),
        (
            include_str!("../../../relais-enrich/tests/data/sentiment_en.tsv"),
            "en",
        ),
        (
            include_str!("../../../relais-enrich/tests/data/sentiment_en_holdout.tsv"),
            "en",
        ),
    ];
    for (data, lang) in tsv {
        for line in data.lines().filter(|l| !l.starts_with('#')) {
            if let Some((_, text)) = line.split_once('\t') {
                out.push((text.to_string(), lang));
            }
        }
    }
    let clean = [
        (
            include_str!("../../../relais-guard/bench/clean_fr.txt"),
            "fr",
        ),
        (
            include_str!("../../../relais-guard/bench/clean_en.txt"),
            "en",
        ),
    ];
    for (data, lang) in clean {
        out.extend(
            data.lines()
                .filter(|l| l.split_whitespace().count() >= 5)
                .map(|l| (l.to_string(), lang)),
        );
    }
    out
}

#[test]
fn never_wrong_on_labelled_french_and_english() {
    let all = labelled();
    let mut answered = 0;
    for (text, lang) in &all {
        if let Some((code, conf)) = guess(text) {
            assert_eq!(code, *lang, "{text}");
            assert!((0.5..=1.0).contains(&conf));
            answered += 1;
        }
    }
    // Most posts have enough function words; the rest goes to whatlang.
    eprintln!("labelled: answered {answered} of {}", all.len());
    assert!(answered * 10 >= all.len() * 7, "{answered}/{}", all.len());
}

#[test]
fn agrees_with_whatlang_on_the_benchmark_corpus() {
    use crate::bench::corpus;
    let mut rng = corpus::Rng::new(11);
    let brands = corpus::brands(200, &mut rng);
    let (mut answered, mut agree, mut n) = (0, 0, 0);
    for _ in 0..3000 {
        let line = corpus::post(&mut rng, &brands);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let text = v["text"].as_str().unwrap();
        let Some(w) = whatlang::detect(text).filter(|i| i.confidence() >= super::MIN_CONFIDENCE)
        else {
            continue;
        };
        n += 1;
        if let Some((code, _)) = guess(text) {
            answered += 1;
            agree += usize::from(super::iso639_1(w.lang().code()) == Some(code));
        }
    }
    eprintln!("corpus: answered {answered} of {n}, {agree} as whatlang");
    assert!(answered * 10 >= n * 7, "answered {answered} of {n}");
    assert!(
        agree * 1000 >= answered * 995,
        "agree {agree} of {answered}"
    );
}

#[test]
fn other_european_languages() {
    let cases = [
        ("es", "La entrega llegó tarde otra vez y el servicio de atención al cliente no contesta nunca, es muy frustrante"),
        ("pt", "A entrega chegou atrasada de novo e o atendimento ao cliente não responde, isso é muito frustrante"),
        ("it", "La consegna è arrivata in ritardo di nuovo e il servizio clienti non risponde mai, è molto frustrante"),
        ("de", "Die Lieferung kam schon wieder zu spät und der Kundenservice antwortet nie, das ist sehr ärgerlich"),
        ("nl", "De levering is weer te laat en de klantenservice geeft nooit antwoord, dat is heel vervelend"),
        ("en", "The delivery was late again and customer support never answers, it's so frustrating"),
        ("fr", "La livraison est encore en retard et le service client ne répond jamais, c'est très pénible"),
    ];
    for (lang, text) in cases {
        assert_eq!(guess(text).map(|g| g.0), Some(lang), "{text}");
    }
}

#[test]
fn unclear_or_other_languages_are_left_to_whatlang() {
    for text in [
        "Dostawa znowu się spóźniła i obsługa klienta nie odpowiada na maile, to jest bardzo frustrujące",
        "Teslimat yine gecikti ve müşteri hizmetleri hiç cevap vermiyor, bu çok sinir bozucu",
        "Pengiriman terlambat lagi dan layanan pelanggan tidak pernah menjawab email saya",
        "Доставка снова опоздала, служба поддержки не отвечает",
        "VeloRapide #recall",
        "",
    ] {
        assert_eq!(guess(text), None, "{text}");
    }
}
