//! The few random distributions the demo city needs, written out so that the
//! generator depends on nothing but `rand`'s uniform draws: chances, normal
//! and log-normal variates (latencies and amounts are right-skewed), Poisson
//! counts (events per day) and weighted picks.

use rand::Rng;
use rand::rngs::SmallRng;

/// True with probability `p`.
pub(crate) fn chance(rng: &mut SmallRng, p: f64) -> bool {
    rng.r#gen::<f64>() < p
}

/// A uniform draw from `[lo, hi)`; `lo` when the range is empty.
pub(crate) fn uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    if hi > lo { rng.gen_range(lo..hi) } else { lo }
}

/// A standard normal variate (Box–Muller).
pub(crate) fn normal(rng: &mut SmallRng) -> f64 {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.r#gen::<f64>();
    let u2 = rng.r#gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A log-normal variate given its median and the sigma of its logarithm:
/// most values near the median, a long tail above it, like response times.
pub(crate) fn lognormal(rng: &mut SmallRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

/// A Poisson count with mean `lambda`: Knuth's method for small means, the
/// normal approximation for large ones (scale 25 and above).
pub(crate) fn poisson(rng: &mut SmallRng, lambda: f64) -> u64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        let x = lambda + lambda.sqrt() * normal(rng);
        return x.round().max(0.0) as u64;
    }
    let limit = (-lambda).exp();
    let mut product = rng.r#gen::<f64>();
    let mut count = 0;
    while product > limit {
        product *= rng.r#gen::<f64>();
        count += 1;
    }
    count
}

/// An index into `weights`, each chosen in proportion to its weight. The
/// weights must not all be zero; the last index is the fallback.
pub(crate) fn weighted(rng: &mut SmallRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = uniform(rng, 0.0, total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

/// One item of a non-empty slice, uniformly.
pub(crate) fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len())]
}

/// One item of a non-empty list of `(item, weight)` pairs, by weight.
pub(crate) fn pick_weighted<'a, T>(rng: &mut SmallRng, items: &'a [(T, f64)]) -> &'a T {
    let weights: Vec<f64> = items.iter().map(|(_, w)| *w).collect();
    &items[weighted(rng, &weights)].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn poisson_means_are_close_to_lambda() {
        let mut rng = SmallRng::seed_from_u64(1);
        for lambda in [0.3, 4.0, 120.0] {
            let n = 20_000;
            let sum: u64 = (0..n).map(|_| poisson(&mut rng, lambda)).sum();
            let mean = sum as f64 / n as f64;
            assert!((mean - lambda).abs() < lambda * 0.05 + 0.02, "lambda {lambda}: mean {mean}");
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
        assert_eq!(poisson(&mut rng, f64::NAN), 0);
    }

    #[test]
    fn lognormal_median_is_the_median() {
        let mut rng = SmallRng::seed_from_u64(2);
        let mut xs: Vec<f64> = (0..10_001).map(|_| lognormal(&mut rng, 300.0, 1.0)).collect();
        xs.sort_by(f64::total_cmp);
        let median = xs[5_000];
        assert!((270.0..330.0).contains(&median), "median {median}");
    }

    #[test]
    fn weighted_follows_the_weights_and_skips_zero() {
        let mut rng = SmallRng::seed_from_u64(3);
        let mut hits = [0u32; 3];
        for _ in 0..30_000 {
            hits[weighted(&mut rng, &[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(hits[1], 0);
        let share = f64::from(hits[2]) / 30_000.0;
        assert!((0.73..0.77).contains(&share), "share {share}");
    }
}
