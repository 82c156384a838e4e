//! Output statistics: exact percentiles, batch-means confidence intervals and Student-t quantiles.
//!
//! * **Percentiles** are exact over the recorded latencies with numpy's default ("linear") interpolation, as
//!   RecPipe's `utils.post_process_queries` used `np.percentile`: for sorted values `x[0..n]` and
//!   `p ∈ [0, 100]`, `h = (n − 1)·p/100` and the result is `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
//!   This is [`crate::measure::stats::quantile_sorted`] at `q = p/100` (the crate's one percentile of a
//!   sorted slice); here the recorded sample is cut into contiguous batches, a batch's percentiles are read
//!   from it sorted, and those of the whole sample come from selection over all batches (O(n), the same
//!   order statistics as a full sort). SLA probes, whose latencies stay in id order, use
//!   [`order_statistics`]: the same values without reordering (a sampled band, or the few largest values near
//!   the top). [`percentile_by_value_search`] is the first method, a binary search over the value range.
//! * **Confidence intervals** use non-overlapping batch means (Law & Kelton, *Simulation Modeling and
//!   Analysis*, §9.5.3): the run's measured queries, in arrival order, are split into `B` contiguous batches;
//!   the interval is `estimate ± t_{1−α/2, B−1} · s_B / √B`, with `s_B` the standard deviation of the batch
//!   estimates. For percentiles the batch estimates are the per-batch percentiles and the interval is centred
//!   on the whole-sample percentile (sectioning, Asmussen & Glynn, *Stochastic Simulation* §III.5).
//! * Student-t quantiles are exact at every number of batches (closed forms at 1 and 2 degrees of freedom;
//!   otherwise the Cornish–Fisher expansion, Abramowitz & Stegun 26.7.5, refined by Newton steps on the exact
//!   distribution function, the regularized incomplete beta function); the normal quantile is Acklam's
//!   rational approximation refined by one Halley step.

use serde::Serialize;

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

impl Interval {
    /// Half the width.
    pub fn half_width(&self) -> f64 {
        0.5 * (self.hi - self.lo)
    }

    /// Whether `x` lies inside (bounds included).
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// Sort `u64` values in place: LSD radix sort (11-bit digits, only as many passes as the largest value needs)
/// for long slices, the standard unstable sort for short ones.
pub fn sort_u64(v: &mut [u64]) {
    sort_u64_with(v, &mut Vec::new());
}

/// [`sort_u64`] with caller-provided scratch memory (grown to `v.len()` as needed).
pub fn sort_u64_with(v: &mut [u64], scratch: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    if v.len() < 512 {
        v.sort_unstable();
        return;
    }
    // u64::MAX marks "no value" in callers and would force six passes over the others.
    let max = v.iter().copied().max().unwrap_or(0);
    let passes = (64 - max.leading_zeros()).div_ceil(BITS);
    if max == u64::MAX {
        // Rare (runs stopped by the queue cap): a comparison sort keeps this simple.
        v.sort_unstable();
        return;
    }
    if scratch.len() < v.len() {
        scratch.resize(v.len(), 0);
    }
    let buf = &mut scratch[..v.len()];
    let mut src_is_v = true;
    for pass in 0..passes {
        let shift = pass * BITS;
        let (src, dst): (&[u64], &mut [u64]) = if src_is_v { (&*v, &mut *buf) } else { (&*buf, &mut *v) };
        let mut count = [0usize; BUCKETS];
        for &x in src {
            count[((x >> shift) as usize) & (BUCKETS - 1)] += 1;
        }
        let mut sum = 0;
        for c in count.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &x in src {
            let b = ((x >> shift) as usize) & (BUCKETS - 1);
            dst[count[b]] = x;
            count[b] += 1;
        }
        src_is_v = !src_is_v;
    }
    if !src_is_v {
        v.copy_from_slice(buf);
    }
}

/// Position of the numpy-style percentile `p` among `n` sorted values: the lower order statistic's index and
/// the interpolation fraction towards the next one.
pub fn percentile_rank(n: usize, p: f64) -> (usize, f64) {
    let h = (n - 1) as f64 * (p / 100.0).clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    (lo, h - lo as f64)
}

/// numpy's linear interpolation between the order statistics `x_lo` and (when there is one) `x_hi`.
fn numpy_lerp(x_lo: u64, x_hi: Option<u64>, frac: f64) -> f64 {
    let x_lo = x_lo as f64;
    match x_hi {
        Some(x_hi) if frac != 0.0 => x_lo + frac * (x_hi as f64 - x_lo),
        _ => x_lo,
    }
}

/// numpy-compatible percentile over the union of individually sorted runs; `None` if all are empty. One run
/// is read by index; several are merged and selected ([`percentile_unsorted`]).
pub fn percentile_of_runs(runs: &[&[u64]], p: f64) -> Option<f64> {
    let [run] = runs else { return percentile_unsorted(&mut runs.concat(), p) };
    if run.is_empty() {
        return None;
    }
    let (lo, frac) = percentile_rank(run.len(), p);
    let x_hi = (frac != 0.0 && lo + 1 < run.len()).then(|| run[lo + 1]);
    Some(numpy_lerp(run[lo], x_hi, frac))
}

/// numpy-compatible percentile over the union of individually sorted runs, each order statistic found by a
/// binary search over the value range (O(log range · runs · log n)); the simulator's first method, kept for
/// its baseline ([`super::simulate_baseline`]). The same value as [`percentile_of_runs`]; `None` if all runs
/// are empty.
pub fn percentile_by_value_search(runs: &[&[u64]], p: f64) -> Option<f64> {
    let n: usize = runs.iter().map(|r| r.len()).sum();
    if n == 0 {
        return None;
    }
    let (lo, frac) = percentile_rank(n, p);
    let x_hi = (frac != 0.0 && lo + 1 < n).then(|| kth_by_value_search(runs, lo + 1));
    Some(numpy_lerp(kth_by_value_search(runs, lo), x_hi, frac))
}

/// The `k`-th smallest (0-based) value across individually sorted runs: the least `v` with more than `k`
/// values `≤ v`, by binary search over the value range.
fn kth_by_value_search(runs: &[&[u64]], k: usize) -> u64 {
    let mut lo = runs.iter().filter_map(|r| r.first()).copied().min().unwrap_or(0);
    let mut hi = runs.iter().filter_map(|r| r.last()).copied().max().unwrap_or(0);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let count: usize = runs.iter().map(|r| r.partition_point(|&x| x <= mid)).sum();
        if count > k {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// numpy-compatible percentile of unsorted values by selection (O(n)); reorders `values`. The same value as
/// [`percentile_of_runs`] over the same multiset (order statistics are unique); `None` if empty.
pub fn percentile_unsorted(values: &mut [u64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let (lo, frac) = percentile_rank(values.len(), p);
    let (_, x_lo, after) = values.select_nth_unstable(lo);
    // The next order statistic is the least value after the selected one.
    let x_hi = if frac != 0.0 { after.iter().copied().min() } else { None };
    Some(numpy_lerp(*x_lo, x_hi, frac))
}

/// numpy-compatible percentile of unsorted values without reordering them ([`order_statistics`]); `scratch`
/// is working space kept between calls. `None` if empty.
pub fn percentile_of(values: &[u64], p: f64, scratch: &mut Vec<u64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let (lo, frac) = percentile_rank(values.len(), p);
    let (x_lo, x_hi) = order_statistics(values, lo, frac != 0.0, scratch);
    Some(numpy_lerp(x_lo, x_hi, frac))
}

/// Ranks this close to the top are found by keeping the largest values seen ([`upper_tail`]).
const TAIL_MAX: usize = 32;
/// numpy-compatible percentiles `ps` (ascending) of unsorted values without reordering them, by selection in
/// one copy: each percentile is selected among the values at or above the previous one's rank, so the whole
/// costs little more than the first. Each equals [`percentile_of`]'s; `None` if empty.
pub fn percentiles_of(values: &[u64], ps: &[f64], scratch: &mut Vec<u64>) -> Option<Vec<f64>> {
    if values.is_empty() {
        return None;
    }
    assert!(ps.windows(2).all(|w| w[0] <= w[1]), "percentiles in ascending order");
    scratch.clear();
    scratch.extend_from_slice(values);
    let mut from = 0;
    let out = ps
        .iter()
        .map(|&p| {
            let (k, frac) = percentile_rank(values.len(), p);
            let (x_lo, x_hi) = select_pair(&mut scratch[from..], k - from, frac != 0.0, None);
            from = k;
            numpy_lerp(x_lo, x_hi, frac)
        })
        .collect();
    Some(out)
}

/// Below this many values [`order_statistics`] selects in a copy.
const BAND_MIN_LEN: usize = 2048;
/// Values sampled to place the band.
const BAND_SAMPLE: usize = 256;

/// The order statistics `x₍ₖ₎` and, when `want_next`, `x₍ₖ₊₁₎` (`None` past the end) of `values` (0-based,
/// `k < len`), without reordering them. A rank within 32 of the top is found in one pass that keeps the
/// largest values seen. Long inputs are otherwise narrowed first (Floyd and Rivest's sampling idea, CACM
/// 18(3), 1975): a sorted sample of 256 values at a fixed stride gives two values bracketing rank `k` with high
/// probability; one pass counts the values below the band, copies those inside it and keeps the least value
/// above it, and the answer is selected inside the band. When the band misses rank `k` (a sample unlike the
/// whole) every value is copied and selected instead, so the result is always exact.
pub fn order_statistics(values: &[u64], k: usize, want_next: bool, scratch: &mut Vec<u64>) -> (u64, Option<u64>) {
    let n = values.len();
    assert!(k < n, "rank {k} of {n} values");
    if n - k <= TAIL_MAX {
        return upper_tail(values, k, want_next);
    }
    if n >= BAND_MIN_LEN {
        if let Some(found) = select_in_band(values, k, want_next, scratch) {
            return found;
        }
    }
    scratch.clear();
    scratch.extend_from_slice(values);
    select_pair(scratch, k, want_next, None)
}

/// [`order_statistics`] for `n − k ≤ TAIL_MAX`: one pass keeping the `n − k` largest values in ascending
/// order (a new value enters only when above the least kept, so most values cost one comparison).
fn upper_tail(values: &[u64], k: usize, want_next: bool) -> (u64, Option<u64>) {
    let m = values.len() - k;
    let mut top = [0u64; TAIL_MAX];
    let (head, rest) = values.split_at(m);
    top[..m].copy_from_slice(head);
    top[..m].sort_unstable();
    for &v in rest {
        if v > top[0] {
            let mut i = 1;
            while i < m && top[i] < v {
                top[i - 1] = top[i];
                i += 1;
            }
            top[i - 1] = v;
        }
    }
    (top[0], if want_next && m > 1 { Some(top[1]) } else { None })
}

/// `x₍ₖ₎` and (when `want_next`) `x₍ₖ₊₁₎` of `values` by selection (reorders them); `above` is the least of
/// the values known to exceed all of `values`, standing in for `x₍ₖ₊₁₎` when `k` is the last rank here.
fn select_pair(values: &mut [u64], k: usize, want_next: bool, above: Option<u64>) -> (u64, Option<u64>) {
    let (_, x, after) = values.select_nth_unstable(k);
    let next = if want_next { after.iter().copied().min().or(above) } else { None };
    (*x, next)
}

/// [`order_statistics`] through a sampled band; `None` when the band misses rank `k`.
fn select_in_band(values: &[u64], k: usize, want_next: bool, scratch: &mut Vec<u64>) -> Option<(u64, Option<u64>)> {
    let n = values.len();
    let stride = n / BAND_SAMPLE;
    let mut sample: [u64; BAND_SAMPLE] = std::array::from_fn(|i| values[i * stride + stride / 2]);
    sample.sort_unstable();
    // Rank k falls near sample position k·m/n, within a few binomial standard deviations √(m·q·(1 − q)).
    let m = BAND_SAMPLE as f64;
    let q = k as f64 / n as f64;
    let reach = (3.0 * (m * q * (1.0 - q)).sqrt()).ceil() as usize + 2;
    let at = ((q * m) as usize).min(BAND_SAMPLE - 1);
    let low = at.checked_sub(reach).map_or(0, |i| sample[i]);
    let high = sample.get(at + reach).copied().unwrap_or(u64::MAX);
    // One pass: values below the band counted, values in it copied (branch-free), the least above it kept.
    if scratch.len() < n {
        scratch.resize(n, 0);
    }
    let (mut below, mut inside, mut above) = (0usize, 0usize, u64::MAX);
    for &v in values {
        below += usize::from(v < low);
        scratch[inside] = v;
        inside += usize::from(v >= low && v <= high);
        above = above.min(if v > high { v } else { u64::MAX });
    }
    if k < below || k >= below + inside {
        return None;
    }
    let above = (below + inside < n).then_some(above);
    Some(select_pair(&mut scratch[..inside], k - below, want_next, above))
}

/// Standard normal quantile `Φ⁻¹(p)` for `p ∈ (0, 1)`.
pub fn normal_quantile(p: f64) -> f64 {
    // Acklam's coefficients.
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383_577_518_672_69e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let p_low = 0.02425;
    let x = if p < p_low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - p_low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley refinement step with erfc.
    let e = 0.5 * erfc(-x / std::f64::consts::SQRT_2) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Complementary error function (Numerical Recipes' Chebyshev fit, |relative error| < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.26551223
            + t * (1.00002368
                + t * (0.37409196
                    + t * (0.09678418
                        + t * (-0.18628806
                            + t * (0.27886807
                                + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Student-t quantile `t_{p, df}` for `p ∈ (0, 1)` and `df ≥ 1`, exact to about 1e-12 relative: closed
/// forms for 1 and 2 degrees of freedom, otherwise the Cornish–Fisher value (Abramowitz & Stegun 26.7.5)
/// refined by Newton steps on the exact distribution function ([`student_t_cdf`]), bracketed by bisection.
/// (The expansion alone is 36 % low at df = 1 and 8 % low at df = 2 for p = 0.975.)
pub fn student_t_quantile(p: f64, df: u32) -> f64 {
    let n = f64::from(df.max(1));
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    match df.max(1) {
        1 => return (std::f64::consts::PI * (p - 0.5)).tan(),
        2 => return (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt(),
        _ => {}
    }
    let z = normal_quantile(p);
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    let mut t = z + g1 / n + g2 / (n * n) + g3 / (n * n * n) + g4 / (n * n * n * n);
    // The quantile lies between the normal's (0 ≤ z ≤ t) and the Cauchy's (df = 1, the heaviest tail).
    let (mut lo, mut hi) = (z.max(0.0), (std::f64::consts::PI * (p - 0.5)).tan().max(z));
    for _ in 0..100 {
        let f = student_t_cdf(t, df) - p;
        if f.abs() < 1e-15 {
            break;
        }
        if f < 0.0 {
            lo = t;
        } else {
            hi = t;
        }
        let step = f / student_t_pdf(t, n);
        let next = t - step;
        t = if next > lo && next < hi { next } else { 0.5 * (lo + hi) };
        if (hi - lo) < 1e-14 * t.abs().max(1.0) || step.abs() < 1e-15 * t.abs().max(1.0) {
            break;
        }
    }
    t
}

/// Density of Student's t with `n` degrees of freedom at `t`.
fn student_t_pdf(t: f64, n: f64) -> f64 {
    (ln_gamma((n + 1.0) / 2.0)
        - ln_gamma(n / 2.0)
        - 0.5 * (n * std::f64::consts::PI).ln()
        - (n + 1.0) / 2.0 * (1.0 + t * t / n).ln())
    .exp()
}

/// Distribution function of Student's t with `df` degrees of freedom:
/// `1 − ½·I_{df/(df+t²)}(df/2, ½)` for `t ≥ 0`, symmetric.
pub fn student_t_cdf(t: f64, df: u32) -> f64 {
    let n = f64::from(df.max(1));
    let tail = 0.5 * regularized_beta(n / 2.0, 0.5, n / (n + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 coefficients; about 1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
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
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularized incomplete beta `I_x(a, b)` (continued fraction evaluated by the modified Lentz method,
/// Numerical Recipes §6.4).
fn regularized_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// [`student_t_quantile`], remembering the last arguments per thread: every simulation asks for the same
/// quantile (its confidence level and batch count), which takes a continued-fraction solve to compute.
fn cached_t_quantile(p: f64, df: u32) -> f64 {
    thread_local! {
        static LAST: std::cell::Cell<(u64, u32, f64)> = const { std::cell::Cell::new((u64::MAX, 0, f64::NAN)) };
    }
    LAST.with(|last| {
        let (bits, d, t) = last.get();
        if bits == p.to_bits() && d == df {
            return t;
        }
        let t = student_t_quantile(p, df);
        last.set((p.to_bits(), df, t));
        t
    })
}

/// Batch-means interval centred on `estimate` from per-batch estimates at two-sided `confidence`.
/// `None` with fewer than two batches.
pub fn batch_interval(estimate: f64, batch_estimates: &[f64], confidence: f64) -> Option<Interval> {
    let b = batch_estimates.len();
    if b < 2 {
        return None;
    }
    let mean = batch_estimates.iter().sum::<f64>() / b as f64;
    let var = batch_estimates.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (b - 1) as f64;
    let t = cached_t_quantile(0.5 + confidence / 2.0, (b - 1) as u32);
    let half = t * (var / b as f64).sqrt();
    Some(Interval { lo: estimate - half, hi: estimate + half })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::stats::quantile_sorted;

    #[test]
    fn numpy_linear_percentiles() {
        // np.percentile([1, 2, 3, 4], [0, 25, 50, 95, 100]) = 1, 1.75, 2.5, 3.85, 4.
        let v = [1.0, 2.0, 3.0, 4.0];
        let runs: [&[u64]; 1] = [&[1, 2, 3, 4]];
        let want = [(0.0, 1.0), (25.0, 1.75), (50.0, 2.5), (95.0, 3.85), (100.0, 4.0)];
        for (p, x) in want {
            assert!((quantile_sorted(&v, p / 100.0) - x).abs() < 1e-12, "p{p}");
            assert!((percentile_of_runs(&runs, p).unwrap() - x).abs() < 1e-12, "p{p}");
        }
        let empty: [&[u64]; 1] = [&[]];
        assert!(percentile_of_runs(&empty, 50.0).is_none());
        assert!((percentile_of_runs(&[&[1, 2, 3, 4]], 95.0).unwrap() - 3.85).abs() < 1e-12);
    }

    #[test]
    fn percentile_across_runs_matches_one_sort() {
        let mut x: u64 = 12345;
        let mut all = Vec::new();
        for _ in 0..1000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            all.push((x >> 40) % 5000);
        }
        let mut runs: Vec<Vec<u64>> = all.chunks(77).map(|c| c.to_vec()).collect();
        for r in &mut runs {
            r.sort_unstable();
        }
        let refs: Vec<&[u64]> = runs.iter().map(|r| r.as_slice()).collect();
        let mut sorted: Vec<f64> = all.iter().map(|&v| v as f64).collect();
        sorted.sort_by(f64::total_cmp);
        for p in [0.0, 1.0, 33.3, 50.0, 95.0, 99.0, 99.9, 100.0] {
            let a = percentile_of_runs(&refs, p).unwrap();
            let b = quantile_sorted(&sorted, p / 100.0);
            assert!((a - b).abs() < 1e-9, "p{p}: {a} vs {b}");
            assert_eq!(percentile_by_value_search(&refs, p).unwrap().to_bits(), a.to_bits(), "p{p}");
            assert_eq!(percentile_by_value_search(&refs[..1], p), percentile_of_runs(&refs[..1], p), "p{p}");
        }
    }

    /// Order statistics without reordering, through the band and its fallback, on shapes that defeat a
    /// sample (runs of ties, sorted and reversed input, a spike at the rank) and on random data.
    #[test]
    fn order_statistics_match_a_sort() {
        let mut x: u64 = 7;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            x >> 33
        };
        let mut inputs: Vec<Vec<u64>> = vec![vec![5; 3000], (0..5000).collect(), (0..5000).rev().collect()];
        for n in [1usize, 2, 17, 2047, 2048, 2049, 9500, 30_000] {
            inputs.push((0..n).map(|_| next() % 1000).collect());
            inputs.push((0..n).map(|_| next()).collect());
        }
        // Mostly one value with rare large ones: the sample sees only the common value.
        inputs.push((0..9000).map(|i| if i % 97 == 0 { 1_000_000 + i } else { 3 }).collect());
        let mut scratch = Vec::new();
        for v in &inputs {
            let before = v.clone();
            let mut sorted = v.clone();
            sorted.sort_unstable();
            let n = v.len();
            let mut ranks = vec![0, n - 1, n / 2, n * 95 / 100, n * 99 / 100];
            ranks.extend((0..20).map(|_| (next() as usize) % n));
            for k in ranks {
                let got = order_statistics(v, k, true, &mut scratch);
                assert_eq!(got, (sorted[k], sorted.get(k + 1).copied()), "n {n}, rank {k}");
                assert_eq!(order_statistics(v, k, false, &mut scratch), (sorted[k], None));
            }
            assert_eq!(v, &before, "input reordered");
            let ps = [0.0, 50.0, 95.0, 99.0, 99.9, 100.0];
            let together = percentiles_of(v, &ps, &mut scratch).unwrap();
            for (p, t) in ps.into_iter().zip(together) {
                let want = percentile_unsorted(&mut v.clone(), p).unwrap();
                assert_eq!(percentile_of(v, p, &mut scratch).unwrap().to_bits(), want.to_bits(), "n {n}, p{p}");
                assert_eq!(t.to_bits(), want.to_bits(), "n {n}, p{p} with others");
            }
        }
        assert!(percentile_of(&[], 50.0, &mut scratch).is_none());
        assert!(percentiles_of(&[], &[50.0], &mut scratch).is_none());
    }

    #[test]
    fn radix_sort_sorts() {
        let mut x: u64 = 99;
        for &(n, bits) in &[(10usize, 64u32), (5000, 64), (5000, 20), (100_000, 40), (3000, 0)] {
            let mut v: Vec<u64> = (0..n)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    if bits == 0 {
                        0
                    } else {
                        x >> (64 - bits)
                    }
                })
                .collect();
            let mut w = v.clone();
            w.sort_unstable();
            sort_u64(&mut v);
            assert_eq!(v, w, "n={n} bits={bits}");
        }
    }

    #[test]
    fn quantiles() {
        assert!((normal_quantile(0.975) - 1.959964).abs() < 1e-5);
        assert!((normal_quantile(0.995) - 2.575829).abs() < 1e-5);
        assert!((normal_quantile(0.01) + 2.326348).abs() < 1e-5);
        // Tables of t_{p, df} (e.g. R's qt), to their printed digits; small df included (where the
        // Cornish–Fisher expansion alone is 36 % low at df = 1).
        let table = [
            (0.975, 1, 12.706_204_736),
            (0.975, 2, 4.302_652_730),
            (0.975, 3, 3.182_446_305),
            (0.975, 4, 2.776_445_105),
            (0.995, 1, 63.656_741_163),
            (0.995, 5, 4.032_142_984),
            (0.975, 10, 2.228_138_852),
            (0.995, 31, 2.744_041_919),
            (0.975, 31, 2.039_513_446),
            (0.95, 7, 1.894_578_605),
            (0.9, 1000, 1.282_398_721),
        ];
        for (p, df, want) in table {
            let got = student_t_quantile(p, df);
            assert!((got - want).abs() < 1e-8 * want, "t_({p}, {df}) = {got}, want {want}");
            assert!((student_t_quantile(1.0 - p, df) + want).abs() < 1e-8 * want, "lower tail at ({p}, {df})");
            assert!((student_t_cdf(want, df) - p).abs() < 1e-10, "cdf at ({p}, {df})");
        }
    }

    #[test]
    fn batch_interval_basic() {
        let iv = batch_interval(2.0, &[1.0, 2.0, 3.0], 0.95).unwrap();
        // sd = 1, t_{0.975,2} ≈ 4.303 (the expansion gives ≈ 4.2 at 2 df; only order of magnitude checked).
        assert!(iv.contains(2.0) && iv.half_width() > 2.0 && iv.half_width() < 2.6);
        assert!(batch_interval(1.0, &[1.0], 0.95).is_none());
    }
}
