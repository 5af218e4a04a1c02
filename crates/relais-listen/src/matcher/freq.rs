//! Rarity estimates used to choose anchors: a built-in list of frequent French and English
//! words (folded), most frequent first, so that "le", "the" or "de" are never anchors when
//! the query offers anything rarer.

use std::collections::HashMap;
use std::sync::OnceLock;

#[rustfmt::skip]
const FREQUENT: &[&str] = &[
    // Interleaved FR/EN, roughly by frequency in social posts.
    "de", "the", "la", "to", "le", "and", "et", "a", "les", "i", "l", "of", "d", "is", "des",
    "you", "en", "in", "un", "it", "est", "for", "que", "that", "une", "on", "du", "my", "pour",
    "this", "je", "with", "pas", "be", "qui", "me", "dans", "s", "sur", "have", "c", "not", "au",
    "are", "il", "so", "plus", "t", "ce", "but", "ne", "at", "par", "we", "on", "your", "se",
    "just", "avec", "all", "j", "was", "vous", "can", "mais", "if", "y", "like", "ou", "no",
    "nous", "get", "son", "do", "qu", "what", "sont", "m", "from", "tout", "out", "elle", "up",
    "fait", "about", "moi", "one", "aux", "now", "ca", "they", "bien", "will", "comme", "an", "si",
    "he", "mon", "new", "tres", "how", "ils", "more", "ma", "or", "faire", "time", "sa", "know",
    "ai", "when", "te", "love", "cette", "good", "etre", "people", "avoir", "who", "deja", "there",
    "non", "today", "toujours", "our", "quand", "day", "aussi", "really", "on", "ont", "been",
    "rien", "would", "encore", "see", "merci", "has", "ta", "go", "trop", "much", "oui", "her",
    "ton", "him", "alors", "had", "vraiment", "them", "peu", "want", "ici", "need", "leur", "only",
    "fois", "think", "ces", "some", "votre", "than", "vos", "then", "mes", "why", "lui", "here",
    "jour", "still", "avant", "back", "apres", "best", "meme", "did", "va", "great", "sans",
    "make", "mais", "did", "toi", "way", "chez", "too", "entre", "n", "peut", "their", "comment",
    "well", "bon", "again", "quoi", "right", "dont", "even", "ans", "first", "autre", "over",
    "faut", "last", "vie", "thank", "gens", "thanks", "tous", "after", "ya", "am", "moins", "us",
    "nos", "going", "nouveau", "could", "cest", "lol", "jamais", "ve", "temps", "any", "beaucoup",
    "never", "mieux", "off", "depuis", "life", "notre", "should", "fin", "year", "voir", "look",
    "dit", "free", "vais", "into", "sais", "his", "suis", "every", "vers", "man", "ni", "because",
    "etait", "she", "sous", "those", "ete", "which", "dire", "other", "peux", "these", "cela",
    "its", "chose", "let", "rt", "re", "ll", "don", "doesn", "didn", "isn", "won", "wasn", "aren",
    "couldn", "via", "www", "http", "https", "com", "fr", "co", "amp", "html", "org", "x", "e",
    "o", "u", "b", "p", "f", "r", "g", "h", "k", "v", "w", "z", "q", "1", "2", "3", "4", "5", "10",
    "100", "2024", "2025", "2026", "top", "super", "vraiment", "video", "photo", "news", "info",
    "service", "client", "customer", "price", "prix", "order", "commande", "home", "work",
    "travail", "world", "monde", "france", "paris", "help", "aide", "free", "gratuit", "shop",
    "store", "buy", "acheter", "sale", "promo", "deal", "offre", "review", "avis", "quality",
    "qualite", "product", "produit", "phone", "telephone", "app", "online", "ligne", "site", "web",
    "team", "equipe", "week", "semaine", "month", "mois", "year", "annee", "game", "jeu",
    // Customer-care and brand-talk vocabulary: frequent in exactly the posts being listened to.
    "livraison", "delivery", "retard", "delay", "late", "remboursement", "refund", "panne",
    "broken", "batterie", "battery", "ecran", "screen", "colis", "package", "parcel", "sav",
    "support", "garantie", "warranty", "soldes", "discount", "rappel", "defaut", "defect",
    "arnaque", "scam", "facture", "invoice", "abonnement", "subscription", "resiliation", "cancel",
    "attente", "waiting", "probleme", "problem", "issue", "lancement", "launch", "recrutement",
    "hiring", "job", "emploi", "offre", "greve", "strike", "magasin", "boutique", "marque",
    "brand", "pub", "ad", "ads", "nouvelle", "sortie", "release", "update", "bug", "panier",
    "cart", "paiement", "payment", "carte", "card", "compte", "account", "mail", "email", "appel",
    "call", "chat", "reponse", "answer", "contact", "conseiller", "agent", "mobile", "internet",
    "reseau", "network", "wifi", "box", "fibre", "forfait", "plan", "voiture", "car", "train",
    "vol", "flight", "hotel", "restaurant", "menu", "food", "cafe", "concours", "giveaway",
    "gagner", "win", "cadeau", "gift", "code", "reduction", "coupon", "bon", "mauvais", "nul",
    "genial", "merde", "honte", "scandale", "pro", "max", "mini", "air", "ultra", "plus", "lite",
    "neo", "series", "edition", "version", "model", "modele",
];

fn ranks() -> &'static HashMap<&'static [u8], usize> {
    static RANKS: OnceLock<HashMap<&'static [u8], usize>> = OnceLock::new();
    RANKS.get_or_init(|| {
        let mut m = HashMap::new();
        for (i, w) in FREQUENT.iter().enumerate() {
            m.entry(w.as_bytes()).or_insert(i);
        }
        m
    })
}

/// Estimated probability that a post contains this token.
pub fn token_cost(tok: &[u8]) -> f64 {
    if let Some(&rank) = ranks().get(tok) {
        // Zipf-like: rank 0 ≈ 0.5 of posts, rank 100 ≈ 0.02.
        return 0.5 / (1.0 + rank as f64 / 4.0);
    }
    match tok.len() {
        1 => 0.05,
        2 => 0.01,
        3 => 0.002,
        4 => 0.0005,
        _ if tok.iter().all(u8::is_ascii_digit) => 0.0005,
        _ => 0.0001,
    }
}

/// Estimated probability that a post contains a token starting with `prefix`.
pub fn prefix_cost(prefix: &[u8]) -> f64 {
    // A prefix also matches the word itself; short prefixes match a lot.
    let base: f64 = match prefix.len() {
        0 => 1.0,
        1 => 0.5,
        2 => 0.2,
        3 => 0.05,
        4 => 0.01,
        5 => 0.003,
        _ => 0.001,
    };
    base.max(token_cost(prefix))
}
