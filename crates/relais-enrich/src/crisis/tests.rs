use super::*;
use crate::bench::Rng;

const DAY: i64 = 1440;
/// 2024-01-01 00:00 UTC, a Monday.
const START: i64 = 1_704_067_200_000 / MINUTE_MS;

/// Relative activity by hour of day (night low, morning rise, evening peak), weekends quieter.
fn profile(m: i64) -> f64 {
    const KNOTS: [(f64, f64); 9] = [
        (0.0, 0.35),
        (6.0, 0.3),
        (9.0, 1.6),
        (12.0, 1.5),
        (14.0, 1.3),
        (18.0, 1.6),
        (21.0, 1.8),
        (23.0, 0.6),
        (24.0, 0.35),
    ];
    let h = (m.rem_euclid(DAY)) as f64 / 60.0;
    let i = KNOTS
        .iter()
        .rposition(|k| k.0 <= h)
        .unwrap_or(0)
        .min(KNOTS.len() - 2);
    let (a, b) = (KNOTS[i], KNOTS[i + 1]);
    let v = a.1 + (b.1 - a.1) * (h - a.0) / (b.0 - a.0);
    // Weekends are 30 % quieter, easing in and out over six hours around midnight.
    let t = (m - START).rem_euclid(7 * DAY) as f64 / 60.0; // hours since Monday 00:00
    let weekend = match t {
        t if t < 3.0 => (3.0 - t) / 6.0,
        t if t < 117.0 => 0.0,
        t if t < 123.0 => (t - 117.0) / 6.0,
        t if t < 165.0 => 1.0,
        t => 1.0 - (t - 165.0) / 6.0,
    };
    v * (1.0 - 0.3 * weekend)
}

/// Feed `days` of seasonal Poisson traffic (mean `base` per minute, 15 % negative); returns the
/// triggers after the first `skip_days`.
fn simulate(d: &mut Detector, rng: &mut Rng, from: i64, days: i64, base: f64) -> Vec<Trigger> {
    let mut out = Vec::new();
    for m in from..from + days * DAY {
        let c = rng.poisson(base * profile(m));
        let neg = rng.binomial(c, 0.15);
        if let Some(t) = d.observe(m * MINUTE_MS, c, neg) {
            out.push(t);
        }
    }
    out
}

fn detector() -> Detector {
    Detector::new(Config::default()).expect("valid")
}

#[test]
fn quiet_seasonal_month_raises_no_alert() {
    // 30 simulated days per volume level, default sensitivity, after a one-day warm-up.
    let mut total = 0;
    let mut minutes = 0;
    for (seed, base) in [(1u64, 0.5), (2, 6.0), (3, 40.0)] {
        let mut rng = Rng::new(seed);
        let mut d = detector();
        simulate(&mut d, &mut rng, START, 1, base);
        let alerts = simulate(&mut d, &mut rng, START + DAY, 30, base);
        println!(
            "base {base}/min: {} false alerts in 30 days ({:?})",
            alerts.len(),
            alerts
                .iter()
                .map(|t| {
                    let m = t.minute_ms / MINUTE_MS - START;
                    (
                        t.kind,
                        m / DAY,
                        (m % DAY) / 60,
                        m % 60,
                        t.window_minutes,
                        t.observed,
                        t.expected as u32,
                    )
                })
                .collect::<Vec<_>>()
        );
        total += alerts.len();
        minutes += 30 * DAY;
    }
    println!("false-alarm rate: {total} per {minutes} minutes tested");
    assert_eq!(total, 0);
}

#[test]
fn burst_is_detected_in_the_first_or_second_minute() {
    for (seed, hour) in [(7u64, 10), (8, 14), (9, 20), (10, 3)] {
        let mut rng = Rng::new(seed);
        let mut d = detector();
        let quiet = simulate(&mut d, &mut rng, START, 10, 6.0);
        assert!(quiet.is_empty(), "{quiet:?}");
        let burst = START + 10 * DAY + hour * 60;
        // Up to the burst.
        assert!(simulate_until(&mut d, &mut rng, START + 10 * DAY, burst).is_empty());
        let mut first = None;
        for k in 0..5 {
            let m = burst + k;
            let c = rng.poisson(5.0 * 6.0 * profile(m));
            if let Some(t) = d.observe(m * MINUTE_MS, c, c / 6) {
                assert_eq!(t.kind, TriggerKind::Volume);
                assert!(t.z > 3.0 && t.p_value < 1e-6, "{t:?}");
                first.get_or_insert(k);
            }
        }
        let first = first.expect("burst detected");
        println!("5x burst at {hour}:00 detected in minute {}", first + 1);
        if 6.0 * profile(burst) >= 2.0 {
            assert!(first <= 1, "detected only in minute {}", first + 1);
        }
    }
}

fn simulate_until(d: &mut Detector, rng: &mut Rng, from: i64, to: i64) -> Vec<Trigger> {
    (from..to)
        .filter_map(|m| {
            let c = rng.poisson(6.0 * profile(m));
            d.observe(m * MINUTE_MS, c, rng.binomial(c, 0.15))
        })
        .collect()
}

#[test]
fn bursty_stream_learns_its_noise_and_still_catches_a_burst() {
    // Gamma-Poisson minutes (coefficient of variation ~32 % on top of Poisson): a pure Poisson
    // test alerts on these every day; the learned overdispersion keeps the month quiet.
    let mut rng = Rng::new(21);
    let mut d = detector();
    let base = 20.0;
    let mut alerts = Vec::new();
    let end = START + 30 * DAY + 12 * 60;
    for m in START..end {
        let noise = gamma(&mut rng, 10.0) / 10.0;
        let c = rng.poisson(base * profile(m) * noise);
        let t = d.observe(m * MINUTE_MS, c, rng.binomial(c, 0.15));
        if m >= START + DAY {
            alerts.extend(t);
        }
    }
    println!(
        "bursty stream: overdispersion a = {:.3}",
        d.overdispersion()
    );
    assert!(alerts.is_empty(), "{alerts:?}");
    assert!(
        (0.05..0.2).contains(&d.overdispersion()),
        "{}",
        d.overdispersion()
    );
    let mut first = None;
    for k in 0..5 {
        let m = end + k;
        let c = rng.poisson(5.0 * base * profile(m));
        if d.observe(m * MINUTE_MS, c, c / 6).is_some() {
            first.get_or_insert(k);
        }
    }
    assert!(first.is_some_and(|k| k <= 1), "{first:?}");
}

#[test]
fn negative_dip_without_volume_change() {
    let mut rng = Rng::new(11);
    let mut d = detector();
    assert!(simulate(&mut d, &mut rng, START, 3, 6.0).is_empty());
    let at = START + 3 * DAY + 11 * 60;
    assert!(simulate_until(&mut d, &mut rng, START + 3 * DAY, at).is_empty());
    let mut fired = Vec::new();
    for m in at..at + 30 {
        let c = rng.poisson(6.0 * profile(m));
        if let Some(t) = d.observe(m * MINUTE_MS, c, rng.binomial(c, 0.6)) {
            fired.push((m - at, t));
        }
    }
    assert_eq!(fired.len(), 1, "{fired:?}");
    let (after, t) = &fired[0];
    assert_eq!(t.kind, TriggerKind::SentimentDip);
    assert!(*after < 10, "dip found after {after} minutes");
    assert!(t.observed as f64 > 2.0 * t.expected, "{t:?}");
}

#[test]
fn cooldown_spaces_alerts_of_a_lasting_burst() {
    let mut rng = Rng::new(12);
    let mut d = detector();
    simulate(&mut d, &mut rng, START, 3, 6.0);
    let at = START + 3 * DAY + 10 * 60;
    let mut alerts = Vec::new();
    for m in at..at + 180 {
        let c = rng.poisson(30.0 * profile(m));
        if d.observe(m * MINUTE_MS, c, c / 6).is_some() {
            alerts.push(m - at);
        }
    }
    assert!(!alerts.is_empty());
    assert!(alerts.windows(2).all(|w| w[1] - w[0] >= 30), "{alerts:?}");
    assert!(alerts.len() <= 6, "{alerts:?}");
}

#[test]
fn new_query_alerts_only_on_a_massive_burst() {
    let mut d = detector();
    let mut rng = Rng::new(13);
    for m in 0..30 {
        assert!(d
            .observe((START + m) * MINUTE_MS, rng.poisson(2.0), 0)
            .is_none());
    }
    // 10× but under the warm-up floor: quiet during warm-up.
    assert!(d.observe((START + 30) * MINUTE_MS, 20, 0).is_none());
    let t = d
        .observe((START + 31) * MINUTE_MS, 300, 0)
        .expect("massive burst");
    assert_eq!(t.kind, TriggerKind::Volume);
    // Nothing at all before a minimum history.
    let mut fresh = detector();
    for m in 0..5 {
        assert!(fresh
            .observe((START + m) * MINUTE_MS, if m == 4 { 500 } else { 1 }, 0)
            .is_none());
    }
}

#[test]
fn advance_to_equals_feeding_empty_minutes() {
    let mut rng = Rng::new(14);
    let mut a = detector();
    simulate(&mut a, &mut rng, START, 8, 6.0);
    let mut b = a.clone();
    let from = START + 8 * DAY;
    let to = from + 3 * DAY + 17;
    for m in from..to {
        assert!(a.observe(m * MINUTE_MS, 0, 0).is_none());
    }
    b.advance_to(to * MINUTE_MS);
    assert_eq!(a.last, b.last);
    assert_eq!(a.minutes, b.minutes);
    assert!(
        (a.level - b.level).abs() <= 1e-9 * a.level.max(1e-9),
        "{} {}",
        a.level,
        b.level
    );
    assert_eq!(a.today, b.today);
    assert_eq!(a.recent.len(), b.recent.len());
    for (x, y) in a.week.iter().zip(&b.week).chain(a.day.iter().zip(&b.day)) {
        assert_eq!(x.n, y.n);
        assert!((x.factor - y.factor).abs() < 1e-5, "{x:?} {y:?}");
    }
    // observe() fills gaps itself.
    let mut c = b.clone();
    let mut e = b.clone();
    c.observe((to + 500) * MINUTE_MS, 4, 1);
    e.advance_to((to + 500) * MINUTE_MS);
    e.observe((to + 500) * MINUTE_MS, 4, 1);
    assert_eq!(c, e);
}

#[test]
fn state_round_trips_through_json() {
    let mut rng = Rng::new(15);
    let mut d = detector();
    simulate(&mut d, &mut rng, START, 2, 6.0);
    let json = serde_json::to_string(&d).expect("serialise");
    let mut back: Detector = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, d);
    let (mut r1, mut r2) = (Rng::new(16), Rng::new(16));
    let t1 = simulate(&mut d, &mut r1, START + 2 * DAY, 1, 6.0);
    let t2 = simulate(&mut back, &mut r2, START + 2 * DAY, 1, 6.0);
    assert_eq!(t1, t2);
    assert_eq!(d, back);
    println!("serialised detector: {} bytes of JSON", json.len());
    // A damaged state is refused, not a panic later.
    let broken = json.replacen("\"factor\":[", "\"factor\":[1.0,", 1);
    let e = serde_json::from_str::<Detector>(&broken).expect_err("bad profile");
    assert!(e.to_string().contains("needs 168 slots"), "{e}");
    // Missing config fields take their defaults.
    let cfg: Config = serde_json::from_str(r#"{"p_value": 1e-8}"#).expect("partial config");
    assert_eq!(cfg.cooldown_minutes, Config::default().cooldown_minutes);
}

#[test]
fn late_minutes_are_ignored_and_series_is_kept() {
    let mut d = detector();
    d.observe(START * MINUTE_MS, 3, 1);
    d.observe((START + 5) * MINUTE_MS, 2, 0);
    assert_eq!(d.observe((START + 2) * MINUTE_MS, 100, 0), None);
    assert_eq!(d.last_minute_ms(), Some((START + 5) * MINUTE_MS));
    let s = d.series(10);
    assert_eq!(s.len(), 6);
    assert_eq!(s[0].observed, 3);
    assert_eq!(s[1].observed, 0);
    assert_eq!(s[5].observed, 2);
    assert!(s
        .windows(2)
        .all(|w| w[1].minute_ms - w[0].minute_ms == MINUTE_MS));
}

#[test]
fn config_errors_name_the_field() {
    let bad = Config {
        p_value: 0.0,
        ..Config::default()
    };
    let e = Detector::new(bad).expect_err("invalid");
    assert!(e.starts_with("p_value must be between 0 and 1"), "{e}");
    let bad = Config {
        min_ratio: 0.5,
        ..Config::default()
    };
    assert!(Detector::new(bad)
        .expect_err("invalid")
        .starts_with("min_ratio"));
}

/// False-alarm rate over many simulated months, with plain Poisson noise and with overdispersed
/// (gamma-Poisson) noise, which real streams are closer to. Slow in debug builds:
/// `cargo test -p relais-enrich --release -- --ignored false_alarm --nocapture`.
#[test]
#[ignore]
fn false_alarm_rate_many_months() {
    for shape in [f64::INFINITY, 20.0, 5.0] {
        let (mut alerts, mut minutes) = (0usize, 0i64);
        for seed in 0..10u64 {
            for base in [0.5, 3.0, 10.0, 40.0, 150.0] {
                let mut rng = Rng::new(1000 + seed);
                let mut d = detector();
                for m in START..START + 31 * DAY {
                    let mut lam = base * profile(m);
                    if shape.is_finite() {
                        lam *= gamma(&mut rng, shape) / shape;
                    }
                    let c = rng.poisson(lam);
                    let t = d.observe(m * MINUTE_MS, c, rng.binomial(c, 0.15));
                    if m >= START + DAY {
                        if let Some(t) = &t {
                            let k = m - START;
                            println!(
                                "  base {base} day {} {:02}:{:02} {:?} w{} {} vs {:.1}",
                                k / DAY,
                                k % DAY / 60,
                                k % 60,
                                t.kind,
                                t.window_minutes,
                                t.observed,
                                t.expected
                            );
                        }
                        alerts += usize::from(t.is_some());
                        minutes += 1;
                    }
                }
            }
        }
        println!(
            "noise shape {shape}: {alerts} alerts in {} simulated days ({:.3} per query-month)",
            minutes / DAY,
            alerts as f64 / (minutes as f64 / (30.0 * DAY as f64))
        );
    }
}

/// Gamma(shape, 1) draw (Marsaglia–Tsang), for overdispersed test streams.
fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        // Standard normal by Box–Muller.
        let (u1, u2) = (rng.f64().max(1e-300), rng.f64());
        let x = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let v = (1.0 + c * x).powi(3);
        if v > 0.0 && rng.f64().ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}
