//! Exact upper-tail probabilities in log space (counts up to millions, p-values far below
//! `f64::MIN_POSITIVE` stay finite as logarithms).

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1-x) = π / sin(πx).
        let s = (std::f64::consts::PI * x).sin();
        return std::f64::consts::PI.ln() - s.abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Sum of a series whose first term is 1 and whose next terms are given by `ratio(j)`
/// (term j+1 = term j × ratio(j)), stopping when terms no longer matter.
fn series(mut ratio: impl FnMut(u64) -> f64, max_terms: u64) -> f64 {
    let (mut sum, mut term) = (1.0f64, 1.0f64);
    for j in 0..max_terms {
        term *= ratio(j);
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// ln P(X ≥ k) for X ~ Poisson(λ).
pub fn poisson_sf_ln(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 0.0;
    }
    if lambda <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let ln_term = |j: u64| -lambda + j as f64 * lambda.ln() - ln_gamma(j as f64 + 1.0);
    let kf = k as f64;
    if kf > lambda {
        // Σ_{j ≥ k} P(j): terms fall geometrically (ratio λ/(j+1) < 1).
        let s = series(|j| lambda / (kf + j as f64 + 1.0), 10_000_000);
        ln_term(k) + s.ln()
    } else {
        // 1 − P(X ≤ k−1), the lower sum walked down from k−1 (ratio j/λ ≤ 1).
        let top = k - 1;
        let s = series(
            |j| {
                if j >= top {
                    0.0
                } else {
                    (top - j) as f64 / lambda
                }
            },
            top + 1,
        );
        let cdf = (ln_term(top) + s.ln()).exp().min(1.0);
        (-cdf).ln_1p()
    }
}

/// ln P(X ≥ k) for a negative binomial X with mean `mean` and variance `dispersion × mean`
/// (dispersion > 1; a Poisson when it tends to 1): the count of an overdispersed stream.
pub fn negbin_sf_ln(k: u64, mean: f64, dispersion: f64) -> f64 {
    if dispersion <= 1.0 + 1e-9 {
        return poisson_sf_ln(k, mean);
    }
    if k == 0 {
        return 0.0;
    }
    if mean <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let r = mean / (dispersion - 1.0);
    let q = 1.0 - 1.0 / dispersion;
    let ln_term = |j: u64| {
        let j = j as f64;
        ln_gamma(j + r) - ln_gamma(r) - ln_gamma(j + 1.0) + r * (1.0 - q).ln() + j * q.ln()
    };
    let kf = k as f64;
    if kf > mean {
        let s = series(
            |i| (kf + i as f64 + r) / (kf + i as f64 + 1.0) * q,
            10_000_000,
        );
        ln_term(k) + s.ln()
    } else {
        let top = k - 1;
        let s = series(
            |i| {
                let j = top - i.min(top);
                if j == 0 {
                    0.0
                } else {
                    j as f64 / ((j as f64 - 1.0 + r) * q)
                }
            },
            top + 1,
        );
        let cdf = (ln_term(top) + s.ln()).exp().min(1.0);
        (-cdf).ln_1p()
    }
}

/// ln C(n, k).
fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// ln P(X ≥ k) for X ~ Binomial(n, p).
pub fn binomial_sf_ln(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 || p >= 1.0 {
        return 0.0;
    }
    if k > n || p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let odds = p / (1.0 - p);
    let ln_term = |j: u64| ln_choose(n, j) + j as f64 * p.ln() + (n - j) as f64 * (-p).ln_1p();
    if k as f64 > n as f64 * p {
        let s = series(
            |j| {
                let i = k + j;
                if i >= n {
                    0.0
                } else {
                    (n - i) as f64 / (i + 1) as f64 * odds
                }
            },
            n - k + 1,
        );
        ln_term(k) + s.ln()
    } else {
        let top = k - 1;
        let s = series(
            |j| {
                let i = top - j.min(top);
                if i == 0 {
                    0.0
                } else {
                    i as f64 / (n - i + 1) as f64 / odds
                }
            },
            top + 1,
        );
        let cdf = (ln_term(top) + s.ln()).exp().min(1.0);
        (-cdf).ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct sum of the upper terms (no cancellation).
    fn naive_poisson_sf(k: u64, l: f64) -> f64 {
        (k..k + 2000)
            .map(|j| (-l + j as f64 * l.ln() - ln_gamma(j as f64 + 1.0)).exp())
            .sum()
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut f = 1.0f64;
        for n in 1..30u32 {
            f *= n as f64;
            assert!(close(ln_gamma(n as f64 + 1.0), f.ln(), 1e-12), "{n}");
        }
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-12
        ));
    }

    #[test]
    fn poisson_tail_matches_direct_sums() {
        assert_eq!(poisson_sf_ln(0, 3.0), 0.0);
        assert!(close(
            poisson_sf_ln(3, 1.0).exp(),
            1.0 - (-1f64).exp() * 2.5,
            1e-12
        ));
        for &l in &[0.1, 0.7, 2.0, 9.5, 30.0, 120.0] {
            for k in 1..(l as u64 * 3 + 10) {
                let want = naive_poisson_sf(k, l);
                if want > 1e-12 {
                    let got = poisson_sf_ln(k, l).exp();
                    assert!(close(got, want, 1e-9), "k={k} l={l} {got} {want}");
                }
            }
        }
    }

    #[test]
    fn poisson_far_tail_in_log_space() {
        // P(X ≥ k) ≈ P(X = k)·(1 + λ/(k+1) + …) for k ≫ λ.
        let k = 5_000u64;
        let l = 1_000.0f64;
        let lt = -l + k as f64 * l.ln() - ln_gamma(k as f64 + 1.0);
        let got = poisson_sf_ln(k, l);
        assert!(got.is_finite() && got < -2000.0, "{got}");
        assert!((got - lt - (1.0 / (1.0 - l / (k as f64 + 1.0))).ln()).abs() < 1e-3);
        // Counts in the thousands near the mean.
        let p = poisson_sf_ln(2_100, 2_000.0).exp();
        // Normal approximation with continuity correction: z = 99.5/sqrt(2000) ≈ 2.225 → 0.013.
        assert!((0.011..0.016).contains(&p), "{p}");
        assert!(poisson_sf_ln(1_500, 2_000.0).exp() > 0.999_999);
    }

    #[test]
    fn negative_binomial_tail() {
        for &(mean, phi) in &[(0.5, 1.5), (5.0, 2.0), (40.0, 1.3), (300.0, 3.0)] {
            let r: f64 = mean / (phi - 1.0);
            let q: f64 = 1.0 - 1.0 / phi;
            let pmf = |j: u64| {
                let j = j as f64;
                (ln_gamma(j + r) - ln_gamma(r) - ln_gamma(j + 1.0)
                    + r * (1.0 - q).ln()
                    + j * q.ln())
                .exp()
            };
            let p: Vec<f64> = (0..20_000).map(pmf).collect();
            let total: f64 = p.iter().sum();
            assert!((total - 1.0).abs() < 1e-9, "{total}");
            let var: f64 = p
                .iter()
                .enumerate()
                .map(|(j, x)| x * (j as f64 - mean).powi(2))
                .sum();
            assert!((var / (phi * mean) - 1.0).abs() < 1e-6);
            // Upper sums from the far end (no cancellation).
            let mut upper = vec![0.0; p.len() + 1];
            for j in (0..p.len()).rev() {
                upper[j] = upper[j + 1] + p[j];
            }
            for k in 1..(mean as u64 * 4 + 20) {
                let want = upper[k as usize];
                if want > 1e-12 {
                    let got = negbin_sf_ln(k, mean, phi).exp();
                    assert!(close(got, want, 1e-8), "k={k} {mean} {phi}: {got} {want}");
                }
            }
        }
        // Heavier tail than the Poisson of the same mean; equal at dispersion 1.
        assert!(negbin_sf_ln(30, 10.0, 2.0) > poisson_sf_ln(30, 10.0));
        assert_eq!(negbin_sf_ln(30, 10.0, 1.0), poisson_sf_ln(30, 10.0));
    }

    #[test]
    fn binomial_tail_matches_direct_sums() {
        for &(n, p) in &[(10u64, 0.3), (40, 0.15), (200, 0.5), (25, 0.01)] {
            for k in 0..=n {
                let want: f64 = (k..=n)
                    .map(|j| {
                        let p: f64 = p;
                        (ln_choose(n, j) + j as f64 * p.ln() + (n - j) as f64 * (1.0 - p).ln())
                            .exp()
                    })
                    .sum();
                if want > 1e-12 {
                    let got = binomial_sf_ln(k, n, p).exp();
                    assert!(close(got, want, 1e-9), "n={n} p={p} k={k} {got} {want}");
                }
            }
        }
        assert_eq!(binomial_sf_ln(11, 10, 0.5), f64::NEG_INFINITY);
        assert!(binomial_sf_ln(9_000, 10_000, 0.2) < -3000.0);
    }
}
