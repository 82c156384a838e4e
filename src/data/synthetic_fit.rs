//! Fit of the synthetic Criteo generator ([`super::synthetic`]) to published quality numbers: the error
//! rate and RecPipe's NDCG@64 of a trained DLRM at several query sizes (RecPipe, MICRO'21, Fig. 3: RM-small
//! 18.55 % error, RecPipe-NDCG@64 0.913 at 4096 items falling to 0.599 at 256).
//!
//! **What is fitted.** Three knobs of the generator ([`FitKnobs`]): a `signal` factor that multiplies the
//! standard deviations of the teacher's three logit parts (interaction, dense, first order; the logit noise
//! is left as it is), the click rate, and the right skew `tail` of the teacher's logit. The structure of the
//! teacher (which parts carry how much of the signal, the informative ids) is the base configuration's.
//!
//! **Surrogate of a trained model.** Training a DLRM per evaluation would make the fit take hours, so the fit
//! scores rows with a surrogate of the trained model: the teacher's noise-free logit plus Gaussian
//! estimation noise, `score = logit + ρ·sd(logit)·η` with `η ~ N(0, 1)` per row (seeded). `ρ` (the *student
//! noise*) stands for what a model of the given size learns short of the teacher; [`student_noise_for_auc`]
//! sets it so that the surrogate's AUC equals a trained model's measured AUC. The surrogate's error rate is
//! that of the best threshold on its score (a calibrated model predicts a click where `E[y | score] > ½`,
//! which for a monotone likelihood is a threshold), its NDCG@64 is RecPipe's position-discounted precision
//! over windows of consecutive rows exactly as the tool evaluates real models.
//!
//! **Objective.** `Σ_n (ndcg_n − target_n)² + w·(error − target)²` over the targets' query sizes, with
//! `w` = [`ERROR_WEIGHT`] (so that half a point of error weighs like 0.05 of NDCG), minimised by argmin's
//! Nelder–Mead over `(ln signal, logit click_rate, √tail)`. Every evaluation uses the same rows and the same
//! `η` (common random numbers), so the objective is a deterministic function of the knobs.
//!
//! Pure computation: no files, no training; the caller measures trained models and passes their AUC.

use super::synthetic::{mix64, SyntheticConfig, SyntheticCriteo};
use crate::quality::metrics::{auc, recpipe_ndcg_at};
use argmin::core::{CostFunction, Error as ArgminError, Executor, State};
use argmin::solver::neldermead::NelderMead;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Weight of the squared error-rate residual against the squared NDCG residuals.
pub const ERROR_WEIGHT: f64 = 100.0;
/// Cut-off of RecPipe's NDCG in the targets.
pub const TOP_K: usize = 64;

/// Published numbers one model should reach.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityTargets {
    /// Error rate (fraction) at the largest query size.
    pub error: f64,
    /// `(items per query, RecPipe-NDCG@64)`.
    pub ndcg: Vec<(u32, f64)>,
}

/// The fitted knobs of the generator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitKnobs {
    /// Factor on the standard deviations of the teacher's interaction, dense and first-order parts.
    pub signal: f64,
    /// Mean click probability.
    pub click_rate: f64,
    /// Right skew κ of the teacher's logit.
    pub tail: f64,
}

impl FitKnobs {
    /// The knobs that leave `base` as it is.
    pub fn of(base: &SyntheticConfig) -> FitKnobs {
        FitKnobs { signal: 1.0, click_rate: base.click_rate, tail: base.tail }
    }

    /// `base` with these knobs applied.
    pub fn apply(&self, base: &SyntheticConfig) -> SyntheticConfig {
        let mut c = base.clone();
        c.mix.interaction *= self.signal;
        c.mix.dense *= self.signal;
        c.mix.first_order *= self.signal;
        c.click_rate = self.click_rate;
        c.tail = self.tail;
        c
    }

    fn to_vector(self) -> Vec<f64> {
        let p = self.click_rate.clamp(1e-4, 1.0 - 1e-4);
        vec![self.signal.max(1e-6).ln(), (p / (1.0 - p)).ln(), self.tail.max(0.0).sqrt()]
    }

    fn from_vector(x: &[f64]) -> FitKnobs {
        FitKnobs {
            signal: x[0].clamp(-10.0, 5.0).exp(),
            click_rate: (1.0 / (1.0 + (-x[1]).exp())).clamp(1e-4, 0.9),
            tail: (x[2] * x[2]).min(9.0),
        }
    }
}

/// Rows and noise of the surrogate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurrogateSettings {
    /// Query windows evaluated.
    pub queries: usize,
    /// Rows per window (the largest query size).
    pub window: usize,
    /// First generator row of the first window (past the training and validation rows).
    pub first_row: u64,
    /// Student noise ρ (relative to the logit's standard deviation).
    pub student_noise: f64,
    /// Seed of the estimation noise η.
    pub seed: u64,
    /// Threads generating rows.
    pub threads: usize,
}

/// Quality of the surrogate model on a generator.
#[derive(Debug, Clone, PartialEq)]
pub struct SurrogateQuality {
    /// Best-threshold error rate over all rows.
    pub error: f64,
    /// AUC over all rows.
    pub auc: f64,
    /// Click rate of the rows.
    pub click_rate: f64,
    /// `(items, mean RecPipe-NDCG@64)` per query size asked for.
    pub ndcg: Vec<(u32, f64)>,
}

/// Teacher logits and labels of the surrogate's rows (generated once per configuration).
struct Rows {
    logits: Vec<f64>,
    labels: Vec<u8>,
    eta: Vec<f64>,
}

fn rows(gen: &SyntheticCriteo, s: &SurrogateSettings) -> Rows {
    let n = (s.queries * s.window) as u64;
    let threads = s.threads.max(1) as u64;
    let per = n.div_ceil(threads).max(1);
    let parts: Vec<Vec<(f64, u8)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (lo, hi) = ((i * per).min(n), ((i + 1) * per).min(n));
                scope.spawn(move || (lo..hi).map(|r| gen.logit_and_label(s.first_row + r)).collect())
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("surrogate thread panicked")).collect()
    });
    let (logits, labels): (Vec<f64>, Vec<u8>) = parts.into_iter().flatten().unzip();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix64(s.seed ^ 0x7374_7564_656e_7421));
    let eta = (0..logits.len()).map(|_| StandardNormal.sample(&mut rng)).collect();
    Rows { logits, labels, eta }
}

fn sd(xs: &[f64]) -> f64 {
    let n = xs.len().max(1) as f64;
    let mean = xs.iter().sum::<f64>() / n;
    (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// Error of the best threshold rule `score > t` (ties of equal scores move together).
fn best_threshold_error(scores: &[f64], labels: &[u8]) -> f64 {
    let n = scores.len();
    if n == 0 {
        return 0.0;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Threshold below everything: predict all clicks; errors = negatives. Moving it up past item i flips i.
    let mut errors = labels.iter().filter(|&&y| y == 0).count() as i64;
    let mut best = errors;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && scores[order[j]].total_cmp(&scores[order[i]]).is_eq() {
            errors += if labels[order[j]] > 0 { 1 } else { -1 };
            j += 1;
        }
        best = best.min(errors);
        i = j;
    }
    best as f64 / n as f64
}

fn quality_of(rows: &Rows, s: &SurrogateSettings, items: &[u32]) -> SurrogateQuality {
    let spread = s.student_noise * sd(&rows.logits);
    let scores: Vec<f64> = rows.logits.iter().zip(&rows.eta).map(|(z, e)| z + spread * e).collect();
    let scores32: Vec<f32> = scores.iter().map(|&x| x as f32).collect();
    let ndcg = items
        .iter()
        .map(|&m| {
            let m = (m as usize).min(s.window);
            let total: f64 = (0..s.queries)
                .map(|q| {
                    let lo = q * s.window;
                    let mut idx: Vec<usize> = (lo..lo + m).collect();
                    let k = TOP_K.min(idx.len());
                    if k < idx.len() {
                        idx.select_nth_unstable_by(k - 1, |&a, &b| scores[b].total_cmp(&scores[a]));
                        idx.truncate(k);
                    }
                    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
                    let ranked: Vec<u8> = idx.iter().map(|&i| rows.labels[i]).collect();
                    recpipe_ndcg_at(&ranked, TOP_K)
                })
                .sum();
            (m as u32, total / s.queries.max(1) as f64)
        })
        .collect();
    SurrogateQuality {
        error: best_threshold_error(&scores, &rows.labels),
        auc: auc(&scores32, &rows.labels).unwrap_or(0.5),
        click_rate: rows.labels.iter().map(|&y| f64::from(y)).sum::<f64>() / rows.labels.len().max(1) as f64,
        ndcg,
    }
}

/// Quality of the surrogate model on the generator `config` at query sizes `items`.
pub fn surrogate_quality(config: &SyntheticConfig, s: &SurrogateSettings, items: &[u32]) -> SurrogateQuality {
    let gen = SyntheticCriteo::new(config.clone());
    quality_of(&rows(&gen, s), s, items)
}

/// The student noise ρ at which the surrogate's AUC on `config` equals `target_auc` (bisection on
/// ρ ∈ [0, 20]; 0 when even the teacher's AUC is below the target).
pub fn student_noise_for_auc(config: &SyntheticConfig, s: &SurrogateSettings, target_auc: f64) -> f64 {
    let gen = SyntheticCriteo::new(config.clone());
    let r = rows(&gen, s);
    let auc_at = |rho: f64| quality_of(&r, &SurrogateSettings { student_noise: rho, ..*s }, &[]).auc;
    if auc_at(0.0) <= target_auc {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0, 20.0);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if auc_at(mid) > target_auc {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// One fitted number beside its target.
#[derive(Debug, Clone, PartialEq)]
pub struct Residual {
    /// `error` or `ndcg@64 <items>`.
    pub name: String,
    /// Published value.
    pub target: f64,
    /// The surrogate's value at the fitted knobs.
    pub value: f64,
}

/// Result of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct FitResult {
    /// Fitted knobs.
    pub knobs: FitKnobs,
    /// The base configuration with the knobs applied.
    pub config: SyntheticConfig,
    /// The surrogate's quality there.
    pub quality: SurrogateQuality,
    /// Per target: target and fitted value.
    pub residuals: Vec<Residual>,
    /// Objective value at the fitted knobs.
    pub cost: f64,
    /// Objective evaluations (each generates the surrogate's rows once).
    pub evaluations: u64,
}

/// Residuals of `q` against `targets`.
pub fn residuals(q: &SurrogateQuality, targets: &QualityTargets) -> Vec<Residual> {
    let mut out = vec![Residual { name: "error".into(), target: targets.error, value: q.error }];
    for &(items, t) in &targets.ndcg {
        let value = q.ndcg.iter().find(|(m, _)| *m == items).map_or(f64::NAN, |(_, v)| *v);
        out.push(Residual { name: format!("ndcg@{TOP_K} {items}"), target: t, value });
    }
    out
}

/// The fit's objective for residuals `r` (first the error, then the NDCG values).
pub fn objective(r: &[Residual]) -> f64 {
    r.iter()
        .map(|x| {
            let w = if x.name == "error" { ERROR_WEIGHT } else { 1.0 };
            let d = x.value - x.target;
            if d.is_finite() {
                w * d * d
            } else {
                1e6
            }
        })
        .sum()
}

struct Problem<F: Fn(FitKnobs) -> Vec<Residual>> {
    evaluate: F,
    evaluations: std::sync::atomic::AtomicU64,
}

impl<F: Fn(FitKnobs) -> Vec<Residual>> CostFunction for Problem<F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, x: &Vec<f64>) -> Result<f64, ArgminError> {
        self.evaluations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(objective(&(self.evaluate)(FitKnobs::from_vector(x))))
    }
}

/// Initial simplex steps in `(ln signal, logit click_rate, √tail)` of a fit from afar ([`fit`]).
pub const WIDE_STEPS: [f64; 3] = [0.25, 0.5, 0.3];
/// Initial simplex steps of a local refinement.
pub const NARROW_STEPS: [f64; 3] = [0.06, 0.12, 0.08];

/// Nelder–Mead over the knobs from `start` (initial simplex: `start` plus one step along each coordinate;
/// at most `max_iters` iterations) on any evaluation of their residuals: the surrogate ([`fit`]) or, by the
/// caller, models trained at each point. Returns the best knobs and the number of evaluations.
pub fn fit_with<F>(start: FitKnobs, steps: [f64; 3], max_iters: u64, evaluate: F) -> Result<(FitKnobs, u64), String>
where
    F: Fn(FitKnobs) -> Vec<Residual>,
{
    let x0 = start.to_vector();
    let mut simplex = vec![x0.clone()];
    for (d, step) in steps.iter().enumerate() {
        let mut v = x0.clone();
        v[d] += step;
        simplex.push(v);
    }
    let problem = Problem { evaluate, evaluations: std::sync::atomic::AtomicU64::new(0) };
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-6).map_err(|e| e.to_string())?;
    let result = Executor::new(problem, solver)
        .configure(|state| state.max_iters(max_iters))
        .run()
        .map_err(|e| format!("Nelder–Mead failed: {e}"))?;
    let best = result.state().get_best_param().cloned().unwrap_or(x0);
    let evaluations =
        result.problem.problem.as_ref().map_or(0, |p| p.evaluations.load(std::sync::atomic::Ordering::Relaxed));
    Ok((FitKnobs::from_vector(&best), evaluations))
}

/// Fit the knobs of `base` (starting from `start`) so that the surrogate model reaches `targets`; at most
/// `max_iters` Nelder–Mead iterations.
pub fn fit(
    base: &SyntheticConfig,
    start: FitKnobs,
    targets: &QualityTargets,
    settings: &SurrogateSettings,
    max_iters: u64,
) -> Result<FitResult, String> {
    let items: Vec<u32> = targets.ndcg.iter().map(|(m, _)| *m).collect();
    let (knobs, evaluations) = fit_with(start, WIDE_STEPS, max_iters, |k| {
        residuals(&surrogate_quality(&k.apply(base), settings, &items), targets)
    })?;
    let config = knobs.apply(base);
    let quality = surrogate_quality(&config, settings, &items);
    let residuals = residuals(&quality, targets);
    Ok(FitResult { knobs, config, cost: objective(&residuals), quality, residuals, evaluations })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SurrogateSettings {
        SurrogateSettings { queries: 4, window: 1024, first_row: 0, student_noise: 0.0, seed: 1, threads: 2 }
    }

    fn small_base() -> SyntheticConfig {
        SyntheticConfig { calibration_rows: 2000, ..SyntheticConfig::new(5, Some(1000)) }
    }

    #[test]
    fn best_threshold_error_known_answers() {
        assert!(best_threshold_error(&[0.1, 0.2, 0.8, 0.9], &[0, 0, 1, 1]).abs() < 1e-15);
        // All negatives: predicting no click is right everywhere.
        assert!(best_threshold_error(&[0.3, 0.7], &[0, 0]).abs() < 1e-15);
        // One positive below a negative: one mistake at best.
        assert!((best_threshold_error(&[0.1, 0.2, 0.3], &[1, 0, 1]) - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn student_noise_lowers_quality_and_inverts_auc() {
        let base = small_base();
        let s = settings();
        let teacher = surrogate_quality(&base, &s, &[1024, 256]);
        let noisy = surrogate_quality(&base, &SurrogateSettings { student_noise: 1.0, ..s }, &[1024, 256]);
        assert!(noisy.auc < teacher.auc && noisy.ndcg[0].1 < teacher.ndcg[0].1, "{teacher:?} {noisy:?}");
        let rho = student_noise_for_auc(&base, &s, noisy.auc);
        assert!((rho - 1.0).abs() < 0.02, "ρ recovered as {rho}");
    }

    #[test]
    fn knobs_round_trip_and_fit_moves_toward_reachable_targets() {
        let k = FitKnobs { signal: 0.7, click_rate: 0.21, tail: 0.5 };
        let back = FitKnobs::from_vector(&k.to_vector());
        assert!((back.signal - 0.7).abs() < 1e-12 && (back.click_rate - 0.21).abs() < 1e-12);
        assert!((back.tail - 0.5).abs() < 1e-12);
        // Targets made by the surrogate itself at known knobs are reached closely from elsewhere.
        let base = small_base();
        let s = settings();
        let truth = FitKnobs { signal: 0.8, click_rate: 0.22, tail: 0.4 };
        let q = surrogate_quality(&truth.apply(&base), &s, &[1024, 512, 256]);
        let targets = QualityTargets { error: q.error, ndcg: q.ndcg.clone() };
        let start = FitKnobs { signal: 1.2, click_rate: 0.28, tail: 0.1 };
        let start_cost =
            objective(&residuals(&surrogate_quality(&start.apply(&base), &s, &[1024, 512, 256]), &targets));
        let r = fit(&base, start, &targets, &s, 40).unwrap();
        assert!(r.cost < start_cost / 10.0, "cost {} from {start_cost}", r.cost);
        assert!(r.evaluations > 5);
    }
}
