//! `cargo run --release -p relais-guard --example suggest -- fr evenement particpation`:
//! suggestions and their cost.
use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let lang = args.next().unwrap_or_else(|| "fr".into());
    relais_guard::preload_dictionaries();
    for word in args {
        let t = Instant::now();
        let s = relais_guard::suggest(&word, &lang, 5);
        println!(
            "{word}: {s:?} ({:.1} ms)",
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
}
