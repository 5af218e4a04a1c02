//! Throughput of the enrichment steps on a generated corpus (called by `relais bench enrich`;
//! run it on a release build). Also the deterministic generators the tests use.

use std::hint::black_box;
use std::time::Instant;

use serde::Serialize;

use crate::crisis::{Config, Detector};
use crate::sentiment::Sentiment;
use crate::story::StoryIndex;

/// Small deterministic PRNG (SplitMix64): same corpus on every machine for a given seed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.f64() * n as f64) as usize
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// A Poisson(λ) draw (sum of Knuth draws of at most λ = 20 each: exact, O(λ)).
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        let mut left = lambda.max(0.0);
        let mut total = 0;
        while left > 0.0 {
            let l = left.min(20.0);
            left -= l;
            let limit = (-l).exp();
            let mut p = self.f64();
            while p > limit {
                total += 1;
                p *= self.f64();
            }
        }
        total
    }

    /// A Binomial(n, p) draw.
    pub fn binomial(&mut self, n: u32, p: f64) -> u32 {
        (0..n).filter(|_| self.f64() < p).count() as u32
    }
}

const BRANDS: [&str; 8] = [
    "Acme", "Quikko", "Velto", "Nordica", "Brindle", "Kapsul", "Opaline", "FibreNet",
];
const EN: [&str; 12] = [
    "my order from {b} arrived two days late and the box was damaged, not impressed at all",
    "just tried the new {b} app update and honestly it is really smooth, great job team",
    "{b} customer service kept me on hold for an hour, this is unacceptable #fail",
    "RT @newsdesk: {b} announces a recall of 40,000 units after overheating reports https://t.co/x",
    "does anyone know if {b} ships to Canada? thinking of ordering the starter kit",
    "love love love the {b} winter collection 😍 already ordered two",
    "{b} prices went up again but the service did not improve, thinking of cancelling",
    "the {b} store staff were super friendly and helped me find the right size :)",
    "data breach at {b}? getting weird emails with my account number, scary",
    "{b} will open a new store in Manchester next month according to the local paper",
    "not bad at all, the {b} install took thirty minutes and everything works",
    "worst experience ever with {b}, never again, do not buy from them",
];
const FR: [&str; 12] = [
    "ma commande {b} est arrivée avec deux jours de retard et le carton était abîmé, pas content",
    "je viens de tester la mise à jour de l'appli {b}, franchement c'est fluide, bravo",
    "le service client {b} m'a laissé une heure en attente, c'est inadmissible #honte",
    "RT @journal : {b} rappelle 40 000 appareils après des cas de surchauffe https://t.co/y",
    "quelqu'un sait si {b} livre en Belgique ? j'hésite à commander le kit",
    "j'adore la nouvelle collection {b} 😍 déjà deux articles commandés",
    "les prix {b} ont encore augmenté mais le service ne s'améliore pas, je vais résilier",
    "l'équipe du magasin {b} était super sympa et m'a aidé à trouver la bonne taille :)",
    "fuite de données chez {b} ? je reçois des mails bizarres avec mon numéro de client",
    "{b} ouvrira un nouveau magasin à Nantes le mois prochain selon la presse locale",
    "pas mal du tout, l'installation {b} a pris trente minutes et tout fonctionne",
    "pire expérience avec {b}, plus jamais, n'achetez pas chez eux",
];

/// `n` generated social posts (half French, half English, two sentences, ~200 bytes) with
/// their language.
pub fn corpus(n: usize, seed: u64) -> Vec<(String, &'static str)> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let (tpls, lang) = if i % 2 == 0 { (&EN, "en") } else { (&FR, "fr") };
            let brand = *rng.pick(&BRANDS[..]);
            let mut text = rng.pick(&tpls[..]).replace("{b}", brand);
            text.push_str(". ");
            text.push_str(&rng.pick(&tpls[..]).replace("{b}", brand));
            if rng.below(4) == 0 {
                let tag = *rng.pick(&BRANDS[..]);
                text.push_str(&format!(" #{}", tag.to_lowercase()));
            }
            (text, lang)
        })
        .collect()
}

/// Measured throughputs (operations per second of CPU, single thread).
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub posts: usize,
    pub mean_post_bytes: f64,
    /// `Sentiment::score` with the language given.
    pub sentiment_posts_per_s: f64,
    /// `Sentiment::score` with the language guessed (both languages scored).
    pub sentiment_guess_posts_per_s: f64,
    /// `StoryIndex::insert` (many near-duplicates, as in a real stream).
    pub story_inserts_per_s: f64,
    /// `Detector::observe` on a seasonal Poisson stream.
    pub observe_per_s: f64,
    /// `Detector::advance_to` over a one-week gap.
    pub advance_week_per_s: f64,
}

/// Nanoseconds this thread has spent on a CPU (Linux), so that throughput on a machine shared
/// with other jobs is not diluted by the time the thread waited for a core.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Best throughput (items per CPU second, or per wall second without schedstat) of `runs` runs.
fn best_of<F: FnMut() -> usize>(runs: usize, mut f: F) -> f64 {
    (0..runs.max(1))
        .map(|_| {
            let (wall, cpu) = (Instant::now(), thread_cpu_ns());
            let n = f();
            let secs = match (cpu, thread_cpu_ns()) {
                (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
                _ => wall.elapsed().as_secs_f64(),
            };
            n as f64 / secs.max(1e-9)
        })
        .fold(0.0, f64::max)
}

/// Run the benchmark on `posts` generated posts, keeping the best of `runs` runs per step.
pub fn run(posts: usize, runs: usize, seed: u64) -> BenchReport {
    let corpus = corpus(posts.max(1), seed);
    let bytes: usize = corpus.iter().map(|(t, _)| t.len()).sum();
    let s = Sentiment::builtin();
    let sentiment = best_of(runs, || {
        for (t, l) in &corpus {
            black_box(s.score(black_box(t), Some(l)));
        }
        corpus.len()
    });
    let guess = best_of(runs, || {
        for (t, _) in &corpus {
            black_box(s.score(black_box(t), None));
        }
        corpus.len()
    });
    let stories = best_of(runs, || {
        let mut ix = StoryIndex::default();
        for (i, (t, _)) in corpus.iter().enumerate() {
            black_box(ix.insert(t, None, i as i64 * 100));
        }
        corpus.len()
    });
    let minutes = 60 * 24 * 14;
    let mut rng = Rng::new(seed);
    let counts: Vec<u32> = (0..minutes)
        .map(|m| {
            rng.poisson(5.0 + 4.0 * ((m % 1440) as f64 / 1440.0 * std::f64::consts::TAU).sin())
        })
        .collect();
    let observe = best_of(runs, || {
        let mut d = Detector::new(Config::default()).expect("default config is valid");
        for (m, &c) in counts.iter().enumerate() {
            black_box(d.observe(m as i64 * 60_000, c, c / 5));
        }
        minutes
    });
    let advance = best_of(runs, || {
        let mut d = Detector::new(Config::default()).expect("default config is valid");
        d.observe(0, 3, 0);
        let n = 200;
        for w in 1..=n {
            d.advance_to(w * 7 * 1440 * 60_000);
        }
        n as usize
    });
    BenchReport {
        posts: corpus.len(),
        mean_post_bytes: bytes as f64 / corpus.len() as f64,
        sentiment_posts_per_s: sentiment,
        sentiment_guess_posts_per_s: guess,
        story_inserts_per_s: stories,
        observe_per_s: observe,
        advance_week_per_s: advance,
    }
}
