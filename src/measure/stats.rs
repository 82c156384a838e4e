//! Summary statistics of a latency sample, in the sample's unit (milliseconds throughout `measure`).
//!
//! Percentiles interpolate linearly between order statistics (Hyndman & Fan type 7, the default of NumPy's
//! `np.percentile` and R), so p50 ≤ p95 ≤ p99 ≤ max always holds; the standard deviation is the sample one
//! (n − 1). [`quantile_sorted`] is the crate's one percentile of a sorted slice: the simulator's percentiles
//! over sorted batches ([`crate::sim::stats::percentile_of_runs`]) compute the same formula at `q = p/100`.

/// Summary of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Sample size.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (0 for n ≤ 1).
    pub sd: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// The `q`-quantile of an ascending slice by linear interpolation: `q` is a fraction in [0, 1] (clamped; pass
/// `p / 100.0` for the `p`-th percentile), `h = q·(n − 1)` and the result is
/// `x[⌊h⌋] + (x[⌊h⌋+1] − x[⌊h⌋])·(h − ⌊h⌋)`; a one-value slice gives that value, an empty one NaN.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            let frac = pos - lo as f64;
            sorted[lo] + (sorted[hi] - sorted[lo]) * frac
        }
    }
}

/// Summarise a sample (any order); `None` when it is empty or holds a non-finite value.
pub fn summarize(sample: &[f64]) -> Option<Summary> {
    if sample.is_empty() || sample.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut sorted = sample.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 { (sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { 0.0 };
    Some(Summary {
        n,
        mean,
        sd,
        p50: quantile_sorted(&sorted, 0.50),
        p95: quantile_sorted(&sorted, 0.95),
        p99: quantile_sorted(&sorted, 0.99),
        min: sorted[0],
        max: sorted[n - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        let s = summarize(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!(s.n, 5);
        assert!((s.mean - 3.0).abs() < 1e-12);
        assert!((s.sd - 2.5f64.sqrt()).abs() < 1e-12);
        assert!((s.p50 - 3.0).abs() < 1e-12);
        // Type 7: position 0.95 · 4 = 3.8 → 4 + 0.8 · (5 − 4).
        assert!((s.p95 - 4.8).abs() < 1e-12);
        assert!((s.min - 1.0).abs() < 1e-12 && (s.max - 5.0).abs() < 1e-12);
    }

    #[test]
    fn empty_or_non_finite_has_no_summary() {
        assert!(summarize(&[]).is_none());
        assert!(summarize(&[1.0, f64::NAN]).is_none());
        let one = summarize(&[2.5]).unwrap();
        assert!((one.p99 - 2.5).abs() < 1e-12 && one.sd.abs() < 1e-12);
    }
}
