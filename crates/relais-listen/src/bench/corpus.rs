//! Deterministic synthetic workload: FR/EN social posts of ~200 bytes mentioning brands,
//! products, competitors and topics among common words, and query sets written the way
//! community managers write them.

/// SplitMix64: small, fast, deterministic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// Zipf-like index in `0..n`: small indices are much more frequent.
    pub fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n
    }

    /// A random element.
    pub fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const FR_COMMON: &[&str] = &[
    "le",
    "la",
    "les",
    "de",
    "des",
    "un",
    "une",
    "et",
    "est",
    "pour",
    "pas",
    "que",
    "qui",
    "dans",
    "sur",
    "avec",
    "au",
    "du",
    "ce",
    "cette",
    "très",
    "mais",
    "plus",
    "tout",
    "fait",
    "être",
    "avoir",
    "déjà",
    "encore",
    "vraiment",
    "trop",
    "bien",
    "merci",
    "aujourd'hui",
    "hier",
    "demain",
    "j'ai",
    "c'est",
    "n'est",
    "je",
    "tu",
    "il",
    "elle",
    "nous",
    "vous",
    "on",
    "mon",
    "ma",
    "mes",
    "leur",
    "notre",
    "votre",
    "quand",
    "comme",
    "alors",
    "aussi",
    "jamais",
    "toujours",
    "rien",
    "chose",
    "temps",
    "jour",
    "semaine",
    "mois",
    "fois",
    "après",
    "avant",
    "depuis",
    "chez",
    "sans",
    "entre",
    "moi",
    "super",
    "génial",
    "nul",
    "énorme",
    "franchement",
    "honnêtement",
    "enfin",
    "bref",
    "voilà",
    "qualité",
    "prix",
    "client",
    "équipe",
    "été",
];
const EN_COMMON: &[&str] = &[
    "the",
    "a",
    "an",
    "and",
    "or",
    "but",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "have",
    "has",
    "had",
    "do",
    "does",
    "did",
    "i",
    "you",
    "he",
    "she",
    "we",
    "they",
    "it",
    "this",
    "that",
    "my",
    "your",
    "our",
    "their",
    "to",
    "of",
    "in",
    "on",
    "at",
    "for",
    "with",
    "from",
    "about",
    "like",
    "just",
    "so",
    "very",
    "really",
    "too",
    "more",
    "not",
    "no",
    "yes",
    "can",
    "could",
    "will",
    "would",
    "get",
    "got",
    "make",
    "go",
    "see",
    "know",
    "think",
    "love",
    "hate",
    "need",
    "want",
    "today",
    "yesterday",
    "week",
    "time",
    "day",
    "people",
    "thing",
    "still",
    "even",
    "also",
    "again",
    "never",
    "always",
    "finally",
    "honestly",
    "new",
    "good",
    "bad",
    "great",
    "best",
    "worst",
    "don't",
    "it's",
    "I'm",
];
/// Topic terms (FR then EN); the first ones are the most talked about.
pub const TOPICS: &[&str] = &[
    "livraison",
    "delivery",
    "retard",
    "delay",
    "remboursement",
    "refund",
    "panne",
    "broken",
    "batterie",
    "battery",
    "écran",
    "screen",
    "commande",
    "order",
    "colis",
    "package",
    "sav",
    "support",
    "garantie",
    "warranty",
    "promo",
    "discount",
    "soldes",
    "sale",
    "rappel",
    "recall",
    "défaut",
    "defect",
    "arnaque",
    "scam",
    "facture",
    "invoice",
    "abonnement",
    "subscription",
    "résiliation",
    "cancel",
    "attente",
    "waiting",
    "problème",
    "issue",
    "lancement",
    "launch",
    "avis",
    "review",
    "recrutement",
    "hiring",
    "grève",
    "strike",
];
const PRODUCT_WORDS: &[&str] = &["pro", "max", "mini", "air", "ultra", "plus", "lite", "neo"];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "ve", "ri", "ta", "mo", "zu", "ne", "sa", "bri", "tor", "vel", "xan", "dor", "pix",
    "lum", "qua", "fen", "gal", "ori", "sté", "mé", "ly", "rho", "cy", "dra", "nö", "pal", "quin",
    "zé", "vo", "mar", "kel", "tis", "bo", "ru",
];
const EMOJI: &[&str] = &["🔥", "😡", "👍", "😍", "🙏", "💔", "🚀", "😂"];

/// Brand names: `n` distinct pronounceable names, some with accents.
pub fn brands(n: usize, rng: &mut Rng) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let k = 2 + rng.below(3);
        let mut name = String::new();
        for _ in 0..k {
            name.push_str(rng.pick(SYLLABLES));
        }
        let mut c = name.chars();
        let cap: String = c
            .next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default();
        if seen.insert(crate::fold::fold_tokens(&cap).join(" ")) {
            out.push(cap);
        }
    }
    out
}

/// A post of about 200 bytes as a JSON line (with a `lang` field on half of them).
pub fn post(rng: &mut Rng, brands: &[String]) -> String {
    let fr = rng.chance(0.5);
    let common = if fr { FR_COMMON } else { EN_COMMON };
    let mut words: Vec<String> = Vec::with_capacity(48);
    let mut len = 0;
    let target = 150 + rng.below(100);
    let mut mentions = 0;
    while len < target {
        let r = rng.below(100);
        let w = if r < 72 || mentions >= 3 {
            rng.pick(common).to_string()
        } else if r < 84 {
            rng.pick(TOPICS).to_string()
        } else {
            mentions += 1;
            let b = &brands[rng.zipf(brands.len())];
            match rng.below(10) {
                0 => format!("#{}", b.replace(' ', "")),
                1 => format!("@{}", b.to_lowercase()),
                2 => format!("{b} {}", rng.pick(PRODUCT_WORDS)),
                3 => b.to_uppercase(),
                _ => b.clone(),
            }
        };
        len += w.len() + 1;
        words.push(w);
        if rng.chance(0.03) {
            words.push(rng.pick(EMOJI).to_string());
        }
    }
    let text = words.join(" ");
    let text = serde_json::to_string(&text).unwrap_or_default();
    if rng.chance(0.5) {
        format!(
            "{{\"id\":{},\"text\":{text},\"lang\":\"{}\"}}",
            rng.below(1 << 30),
            if fr { "fr" } else { "en" }
        )
    } else {
        format!("{{\"id\":{},\"text\":{text}}}", rng.below(1 << 30))
    }
}

/// Query `i` of a set: a mix of the shapes community managers write.
pub fn query(i: usize, rng: &mut Rng, brands: &[String]) -> String {
    let b = &brands[i % brands.len()];
    let c = &brands[rng.below(brands.len())];
    let t1 = rng.pick(TOPICS);
    let t2 = rng.pick(TOPICS);
    let t3 = rng.pick(TOPICS);
    let handle = b.to_lowercase().replace(' ', "");
    match rng.below(20) {
        0..=3 => b.clone(),
        4 | 5 => format!("\"{b} {}\"", rng.pick(PRODUCT_WORDS)),
        6 | 7 => format!("{b} AND ({t1} OR {t2})"),
        8 | 9 => format!("({b} OR @{handle} OR #{handle}) AND NOT ({t3} OR \"offre d'emploi\")"),
        10 => format!("{b} NEAR/3 ({t1} OR {t2})"),
        11 => format!("{b} {c}"),
        12 => {
            let stem: String = handle
                .chars()
                .take(handle.chars().count().saturating_sub(1).max(3))
                .collect();
            format!("{stem}* AND {t1}")
        }
        13 => format!("{b} lang:fr"),
        14 => format!("\"service client\" {b}"),
        15 => format!("({b} OR {c}) NOT {t3}"),
        16 => format!("#{handle} OR \"{b} {}\"", rng.pick(PRODUCT_WORDS)),
        17 => format!("@{handle} AND (lang:fr OR lang:en)"),
        // A few topic-only queries: anchored on frequent words.
        18 if i % 10 == 0 => format!("{t1} AND {t2} AND NOT {t3}"),
        _ => format!("{b} AND NOT {c}"),
    }
}
