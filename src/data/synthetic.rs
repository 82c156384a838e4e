//! Seeded generator of synthetic Criteo-shaped click data with a planted teacher network, so that model quality
//! can be measured without the real Kaggle file. Everything computed on it must be labelled "synthetic".
//!
//! Shape (after DLRM's preprocessing, see [`super::criteo`]):
//! - 26 categorical features whose tables have the Criteo Kaggle cardinalities
//!   ([`super::CRITEO_KAGGLE_TABLE_ROWS`]), each capped at `max_ind_range` when set. Ids are drawn from a
//!   Zipf-like law: id `k` (0-based) has probability ∝ `(k + 1)^-s` (continuous inverse-CDF approximation,
//!   exponent `s` = [`SyntheticConfig::zipf_exponent`]), so low ids dominate. Some tables have empty fields at
//!   approximately Kaggle's rates; an empty field becomes id 0, as DLRM maps an empty field and `00000000` alike.
//! - 13 dense features: counts drawn from per-feature log-normal laws (`floor(exp(μ + σ·z)) − 1`, many zeros,
//!   heavy right tails, `I5` into the millions), missing at approximately Kaggle's per-column rates (45 % for
//!   I1, 77 % for I12, …), `I2` occasionally −1; the model sees `ln(max(x, 0) + 1)`. The shapes are chosen by
//!   hand to look like Kaggle's columns, not fitted to them.
//! - Labels from a planted teacher with DLRM's structure: a dense "bottom" network
//!   `h = tanh(W₁ x̃ + b₁)` (x̃ the standardised dense features, 16 hidden units) gives a latent vector `U h` and a
//!   scalar `aᵀh`; each categorical id below [`SyntheticConfig::informative_ids`] has a latent vector of
//!   dimension `latent_dim` (default 32) and a first-order weight, both derived from a seeded hash of
//!   (table, id) — nothing is stored, so tables of any size cost nothing; rarer ids carry no signal. The
//!   parts' sum `z = α·Σ_{i<j} c_ij ⟨v_i, v_j⟩ + β·aᵀh + γ·Σ_t w_t(id_t)` over the 27 latent vectors (dense +
//!   26 tables, seeded pair weights `c_ij`) is right-skewed by [`SyntheticConfig::tail`] at its own spread, and
//!   the label is Bernoulli(σ(b + skewed z + δ·ε)) with `ε ~ N(0, 1)` per row. The scales α, β, γ are set on a
//!   calibration sample so that each part has the standard deviation given in [`TeacherMix`], and the bias `b`
//!   by bisection so that the mean click probability is the target click rate. An embedding dimension below
//!   `latent_dim` cannot represent the interaction part exactly, so larger DLRMs can fit the teacher better
//!   than smaller ones.
//!
//! **Calibrated defaults.** The default mix puts most of the signal where a DLRM trained for a few epochs can
//! learn it (the dense part, and the 300 most frequent ids of each table), and its signal factor, click rate
//! and tail are fitted (`recpipe-dse fit-synthetic`, [`super::synthetic_fit`]) so that RM-small trained on
//! 500,000 rows lands on RecPipe's Fig. 3: error 18.55 % and RecPipe-NDCG@64 0.913 at 4096 items falling to
//! 0.599 at 256. The fit's residuals are in `src/quality/README.md`.
//!
//! Row `r` is a pure function of (seed, r): its random stream is a xoshiro256++ generator seeded from a hash of
//! both, so any range of rows can be produced independently (splits, parallel generation).
use super::criteo::{dense_transform, CriteoSplit};
use super::tsv_writer::RawCriteoRow;
use super::{CriteoSamples, CRITEO_KAGGLE_TABLE_ROWS, DENSE, SPARSE};
use crate::spec::{DatasetSpec, SyntheticSpec};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::ops::Range;

/// Click rate of the Criteo Kaggle training file (11,745,438 clicks in 45,840,617 rows).
pub const KAGGLE_CLICK_RATE: f64 = 0.2562;

/// Per dense column: (probability the field is empty, μ, σ of the log-normal count law).
const DENSE_PROFILE: [(f64, f64, f64); DENSE] = [
    (0.454, 0.5, 1.2),
    (0.0, 2.0, 1.8),
    (0.215, 2.0, 1.3),
    (0.217, 1.6, 1.0),
    (0.026, 7.5, 2.0),
    (0.223, 3.5, 1.7),
    (0.043, 1.3, 1.5),
    (0.0005, 2.5, 1.1),
    (0.043, 4.0, 1.4),
    (0.454, -0.5, 0.8),
    (0.043, 0.8, 1.1),
    (0.766, -0.5, 1.2),
    (0.217, 1.4, 1.1),
];
/// Probability that `I2` holds −1 (Kaggle's `I2` has small negative values).
const I2_NEGATIVE_RATE: f64 = 0.05;
/// Per categorical column: probability the field is empty (approximately Kaggle's rates).
const CATEGORICAL_MISSING: [f64; SPARSE] = [
    0.0, 0.0, 0.034, 0.034, 0.0, 0.121, 0.0, 0.0, 0.0, 0.0, 0.0, 0.034, 0.0, 0.0, 0.0, 0.034, 0.0, 0.0, 0.44, 0.44,
    0.034, 0.763, 0.0, 0.034, 0.44, 0.44,
];
/// Hidden units of the teacher's dense network.
const TEACHER_HIDDEN: usize = 16;
/// Latent vectors in the teacher's interaction: the dense one plus one per table.
const VECTORS: usize = SPARSE + 1;
/// Pairs of latent vectors.
const PAIRS: usize = VECTORS * (VECTORS - 1) / 2;

const SALT_TEACHER: u64 = 0x7465_6163_6865_7221;
const SALT_DATA: u64 = 0x6461_7461_2121_2121;
const SALT_CALIBRATION: u64 = 0x6361_6c69_6272_6174;
const SALT_ID: u64 = 0x6964_6964_6964_6964;
const SALT_SCRAMBLE: u64 = 0x7363_7261_6d62_6c65;

/// SplitMix64 finaliser: a well-mixed 64-bit hash of `x`.
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Standard deviations (in logits) of the teacher's parts on the calibration sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TeacherMix {
    /// Pairwise latent-vector interactions.
    pub interaction: f64,
    /// Nonlinear dense part `aᵀh`.
    pub dense: f64,
    /// First-order per-id weights.
    pub first_order: f64,
    /// Gaussian logit noise per row (the Bernoulli draw adds more).
    pub noise: f64,
}

impl Default for TeacherMix {
    fn default() -> Self {
        TeacherMix { interaction: 0.36, dense: 1.2, first_order: 0.72, noise: 0.3 }
    }
}

/// Settings of the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    /// Seed of everything (teacher, rows, calibration).
    pub seed: u64,
    /// Cap on rows per table (DLRM's `max_ind_range`); `None` = Kaggle's full cardinalities. 0 counts as 1.
    pub max_ind_range: Option<u64>,
    /// Dimension of the teacher's latent vectors (rounded up to an even number ≥ 2).
    pub latent_dim: usize,
    /// Zipf exponent `s` of id popularity.
    pub zipf_exponent: f64,
    /// Target click rate.
    pub click_rate: f64,
    /// Scales of the teacher's parts.
    pub mix: TeacherMix,
    /// Rows of the calibration sample.
    pub calibration_rows: usize,
    /// Ids `0..informative_ids` of each table carry a latent vector and a first-order weight; rarer ids carry
    /// none (they add nothing to the logit), as rare values of real click logs carry little learnable signal.
    /// `None`: every id is informative.
    pub informative_ids: Option<u32>,
    /// Right skew κ ≥ 0 of the teacher's logit: the scaled parts' sum, standardised to `u`, becomes
    /// `σ·(exp(κ·u) − 1) / (κ·s(κ))` with σ its standard deviation and s(κ) the standard deviation of
    /// `(exp(κ·u) − 1)/κ` for Gaussian `u` (κ = 0: the sum unchanged). Monotone, so it changes no ranking; it
    /// stretches the top of the score distribution (a few near-certain clicks among many uncertain
    /// impressions, as click logs have) at about the same spread.
    pub tail: f64,
}

impl SyntheticConfig {
    /// Defaults: latent dimension 32, Zipf exponent 1.05, Kaggle's click rate, [`TeacherMix::default`],
    /// 20,000 calibration rows.
    pub fn new(seed: u64, max_ind_range: Option<u64>) -> SyntheticConfig {
        SyntheticConfig {
            seed,
            max_ind_range,
            latent_dim: 32,
            zipf_exponent: 1.05,
            click_rate: 0.21,
            mix: TeacherMix::default(),
            calibration_rows: 20_000,
            informative_ids: Some(300),
            tail: 0.9,
        }
    }
}

impl SyntheticConfig {
    /// [`SyntheticConfig::new`] with the fields a space's `dataset.synthetic:` section sets replaced.
    pub fn with_overrides(self, o: &SyntheticSpec) -> SyntheticConfig {
        let mix = TeacherMix {
            interaction: o.interaction.unwrap_or(self.mix.interaction),
            dense: o.dense.unwrap_or(self.mix.dense),
            first_order: o.first_order.unwrap_or(self.mix.first_order),
            noise: o.noise.unwrap_or(self.mix.noise),
        };
        SyntheticConfig {
            click_rate: o.click_rate.unwrap_or(self.click_rate),
            informative_ids: o.informative_ids.or(self.informative_ids),
            tail: o.tail.unwrap_or(self.tail),
            mix,
            ..self
        }
    }

    /// The generator of a space's data set: its seed, the table cap, its `dataset.synthetic:` overrides.
    pub fn for_dataset(dataset: &DatasetSpec, cap: Option<u64>) -> SyntheticConfig {
        SyntheticConfig::new(dataset.seed, cap).with_overrides(&dataset.synthetic)
    }
}

/// Inverse-CDF sampler of a bounded continuous power law mapped to ids `0..n`.
#[derive(Debug, Clone, Copy)]
struct ZipfTable {
    n: u64,
    /// `(n + 1)^(1 − s) − 1`, or `ln(n + 1)` when `s = 1`.
    span: f64,
    /// `1 / (1 − s)`, or 0 when `s = 1`.
    inv: f64,
}

impl ZipfTable {
    fn new(n: u64, s: f64) -> ZipfTable {
        let top = (n + 1) as f64;
        if (s - 1.0).abs() < 1e-9 {
            ZipfTable { n, span: top.ln(), inv: 0.0 }
        } else {
            ZipfTable { n, span: top.powf(1.0 - s) - 1.0, inv: 1.0 / (1.0 - s) }
        }
    }

    fn sample(&self, u: f64) -> u32 {
        let x = if self.inv == 0.0 { (u * self.span).exp() } else { (1.0 + u * self.span).powf(self.inv) };
        ((x.floor() as u64).saturating_sub(1)).min(self.n - 1) as u32
    }
}

/// Features of one row before labelling.
#[derive(Debug, Clone, Copy)]
struct Features {
    counts: [Option<i64>; DENSE],
    dense: [f32; DENSE],
    ids: [u32; SPARSE],
    missing: [bool; SPARSE],
}

/// The teacher's logit split into its parts (unscaled).
#[derive(Debug, Clone, Copy)]
struct Parts {
    interaction: f64,
    dense: f64,
    first_order: f64,
}

/// The planted teacher network (weights from the seed; per-id vectors hashed on demand).
#[derive(Debug, Clone)]
struct Teacher {
    dim: usize,
    id_seed: u64,
    informative_ids: Option<u32>,
    w1: Vec<f32>,
    b1: [f32; TEACHER_HIDDEN],
    u: Vec<f32>,
    a: [f32; TEACHER_HIDDEN],
    pair: Vec<f32>,
    dense_mean: [f32; DENSE],
    dense_inv_std: [f32; DENSE],
}

impl Teacher {
    fn new(seed: u64, dim: usize) -> Teacher {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix64(seed ^ SALT_TEACHER));
        let mut normal = |scale: f64| (rng.sample::<f64, _>(StandardNormal) * scale) as f32;
        let w1 = (0..TEACHER_HIDDEN * DENSE).map(|_| normal(1.5 / (DENSE as f64).sqrt())).collect();
        let b1 = std::array::from_fn(|_| normal(0.5));
        let u = (0..dim * TEACHER_HIDDEN).map(|_| normal(1.0 / (TEACHER_HIDDEN as f64).sqrt())).collect();
        let a = std::array::from_fn(|_| normal(1.0 / (TEACHER_HIDDEN as f64).sqrt()));
        let pair = (0..PAIRS).map(|_| normal(1.0)).collect();
        Teacher {
            dim,
            id_seed: mix64(seed ^ SALT_ID),
            informative_ids: None,
            w1,
            b1,
            u,
            a,
            pair,
            dense_mean: [0.0; DENSE],
            dense_inv_std: [1.0; DENSE],
        }
    }

    /// Latent vector (variance 1/dim per component) and first-order weight (variance 1) of `id` in table `t`.
    fn id_vector(&self, t: usize, id: u32, out: &mut [f32]) -> f32 {
        if self.informative_ids.is_some_and(|n| id >= n) {
            out.iter_mut().for_each(|v| *v = 0.0);
            return 0.0;
        }
        let key = mix64(self.id_seed ^ ((t as u64) << 40) ^ u64::from(id));
        let scale = (3.0 / self.dim as f32).sqrt();
        let unit = |bits: u32| (bits as f32 / 2_147_483_648.0 - 1.0) * scale;
        for (p, pair) in out.chunks_exact_mut(2).enumerate() {
            let h = mix64(key.wrapping_add((p as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
            pair[0] = unit(h as u32);
            pair[1] = unit((h >> 32) as u32);
        }
        let h = mix64(key ^ 0xF1F1_F1F1_F1F1_F1F1);
        ((h >> 32) as f32 / 2_147_483_648.0 - 1.0) * 3f32.sqrt()
    }

    fn parts(&self, f: &Features) -> Parts {
        self.parts_in_dims(f, self.dim)
    }

    /// [`Teacher::parts`] with the interaction computed on the first `dims` latent components only (an
    /// embedding of dimension `dims` sees at most that much of it).
    fn parts_in_dims(&self, f: &Features, dims: usize) -> Parts {
        let dim = self.dim;
        let dims = dims.min(dim);
        let mut hidden = [0f32; TEACHER_HIDDEN];
        for (k, h) in hidden.iter_mut().enumerate() {
            let row = &self.w1[k * DENSE..(k + 1) * DENSE];
            let z: f32 = (0..DENSE).map(|j| row[j] * (f.dense[j] - self.dense_mean[j]) * self.dense_inv_std[j]).sum();
            *h = (z + self.b1[k]).tanh();
        }
        let mut vectors = vec![0f32; VECTORS * dim];
        for (c, v) in vectors[..dim].iter_mut().enumerate() {
            *v = (0..TEACHER_HIDDEN).map(|k| self.u[c * TEACHER_HIDDEN + k] * hidden[k]).sum();
        }
        let mut first_order = 0f64;
        for t in 0..SPARSE {
            let out = &mut vectors[(t + 1) * dim..(t + 2) * dim];
            first_order += f64::from(self.id_vector(t, f.ids[t], out));
        }
        // Σ_{i<j} c_ij ⟨v_i, v_j⟩ = Σ_i ⟨v_i, Σ_{j>i} c_ij v_j⟩ (element-wise sums vectorise).
        let mut interaction = 0f64;
        let mut acc = vec![0f32; dims];
        let mut p = 0;
        for i in 0..VECTORS {
            acc.iter_mut().for_each(|a| *a = 0.0);
            for j in i + 1..VECTORS {
                let c = self.pair[p];
                for (a, &v) in acc.iter_mut().zip(&vectors[j * dim..j * dim + dims]) {
                    *a += c * v;
                }
                p += 1;
            }
            interaction += f64::from(dot(&vectors[i * dim..i * dim + dims], &acc));
        }
        let dense = f64::from(self.a.iter().zip(&hidden).map(|(a, h)| a * h).sum::<f32>());
        Parts { interaction, dense, first_order }
    }
}

/// The scales and bias fixed by calibration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Scale α of the interaction part.
    pub interaction_scale: f64,
    /// Scale β of the dense part.
    pub dense_scale: f64,
    /// Scale γ of the first-order part.
    pub first_order_scale: f64,
    /// Bias `b` of the logit.
    pub bias: f64,
    /// Mean click probability on the calibration sample with that bias.
    pub calibrated_click_rate: f64,
    /// Mean of the scaled parts' sum on the calibration sample (logits).
    pub sum_mean: f64,
    /// Standard deviation of the scaled parts' sum on the calibration sample (logits).
    pub sum_std: f64,
}

/// The synthetic Criteo-shaped data source.
#[derive(Debug, Clone)]
pub struct SyntheticCriteo {
    config: SyntheticConfig,
    table_rows: [u64; SPARSE],
    zipf: [ZipfTable; SPARSE],
    teacher: Teacher,
    calibration: Calibration,
    data_seed: u64,
}

/// Dot product with eight partial sums (lets the compiler vectorise).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (xa, xb) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += xa[k] * xb[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The teacher's right skew of a standardised logit `u` (see [`SyntheticConfig::tail`]):
/// `(exp(κ·u) − 1) / κ` divided by its standard deviation under `u ~ N(0, 1)`,
/// `√(e^{κ²}(e^{κ²} − 1)) / κ`, so that a Gaussian `u` keeps unit variance; `u` itself for κ = 0.
fn skew(u: f64, kappa: f64) -> f64 {
    if kappa > 1e-9 {
        let k2 = kappa * kappa;
        let sd = (k2.exp() * k2.exp_m1()).sqrt() / kappa;
        (kappa * u).exp_m1() / kappa / sd
    } else {
        u
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn mean_std(xs: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = xs.clone().count().max(1) as f64;
    let mean = xs.clone().sum::<f64>() / n;
    let var = xs.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

impl SyntheticCriteo {
    /// Build the generator: draw the teacher from the seed and calibrate its scales and bias.
    pub fn new(config: SyntheticConfig) -> SyntheticCriteo {
        let dim = config.latent_dim.max(2).next_multiple_of(2);
        let table_rows = std::array::from_fn(|t| match config.max_ind_range {
            Some(m) => CRITEO_KAGGLE_TABLE_ROWS[t].min(m.max(1)),
            None => CRITEO_KAGGLE_TABLE_ROWS[t],
        });
        let zipf = std::array::from_fn(|t| ZipfTable::new(table_rows[t], config.zipf_exponent));
        let placeholder = Calibration {
            interaction_scale: 0.0,
            dense_scale: 0.0,
            first_order_scale: 0.0,
            bias: 0.0,
            calibrated_click_rate: 0.0,
            sum_mean: 0.0,
            sum_std: 0.0,
        };
        let mut gen = SyntheticCriteo {
            teacher: Teacher::new(config.seed, dim),
            data_seed: mix64(config.seed ^ SALT_DATA),
            config,
            table_rows,
            zipf,
            calibration: placeholder,
        };
        gen.teacher.informative_ids = gen.config.informative_ids;
        gen.calibrate();
        gen
    }

    fn calibrate(&mut self) {
        let cal_seed = mix64(self.config.seed ^ SALT_CALIBRATION);
        let n = self.config.calibration_rows.max(100);
        let sample: Vec<(Features, f64)> = (0..n as u64)
            .map(|r| {
                let mut rng = self.row_rng(cal_seed, r);
                let f = self.features(&mut rng);
                (f, rng.sample::<f64, _>(StandardNormal))
            })
            .collect();
        for j in 0..DENSE {
            let (mean, std) = mean_std(sample.iter().map(|(f, _)| f64::from(f.dense[j])));
            self.teacher.dense_mean[j] = mean as f32;
            self.teacher.dense_inv_std[j] = if std > 1e-9 { (1.0 / std) as f32 } else { 0.0 };
        }
        let parts: Vec<Parts> = sample.iter().map(|(f, _)| self.teacher.parts(f)).collect();
        let scale = |target: f64, std: f64| if std > 1e-12 { target / std } else { 0.0 };
        let mix = self.config.mix;
        let c = &mut self.calibration;
        c.interaction_scale = scale(mix.interaction, mean_std(parts.iter().map(|p| p.interaction)).1);
        c.dense_scale = scale(mix.dense, mean_std(parts.iter().map(|p| p.dense)).1);
        c.first_order_scale = scale(mix.first_order, mean_std(parts.iter().map(|p| p.first_order)).1);
        let (mean, std) = mean_std(parts.iter().map(|p| self.scaled_sum(p)));
        self.calibration.sum_mean = mean;
        self.calibration.sum_std = std;
        let centred: Vec<f64> =
            parts.iter().zip(&sample).map(|(p, (_, eps))| self.logit_without_bias(p) + mix.noise * eps).collect();
        let rate = |b: f64| centred.iter().map(|z| sigmoid(z + b)).sum::<f64>() / centred.len() as f64;
        let target = self.config.click_rate.clamp(1e-6, 1.0 - 1e-6);
        let (mut lo, mut hi) = (-50.0, 50.0);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if rate(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        self.calibration.bias = 0.5 * (lo + hi);
        self.calibration.calibrated_click_rate = rate(self.calibration.bias);
    }

    fn scaled_sum(&self, p: &Parts) -> f64 {
        let c = &self.calibration;
        c.interaction_scale * p.interaction + c.dense_scale * p.dense + c.first_order_scale * p.first_order
    }

    fn logit_without_bias(&self, p: &Parts) -> f64 {
        let c = &self.calibration;
        let z = self.scaled_sum(p);
        if c.sum_std > 0.0 {
            c.sum_std * skew((z - c.sum_mean) / c.sum_std, self.config.tail)
        } else {
            z
        }
    }

    fn row_rng(&self, stream: u64, r: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(mix64(stream ^ mix64(r)))
    }

    fn features(&self, rng: &mut Xoshiro256PlusPlus) -> Features {
        let mut f = Features { counts: [None; DENSE], dense: [0.0; DENSE], ids: [0; SPARSE], missing: [false; SPARSE] };
        for (j, &(missing, mu, sigma)) in DENSE_PROFILE.iter().enumerate() {
            let u: f64 = rng.random();
            let z: f64 = rng.sample(StandardNormal);
            if u < missing {
                continue;
            }
            let count = if j == 1 && u > 1.0 - I2_NEGATIVE_RATE {
                -1
            } else {
                ((mu + sigma * z).exp().floor() as i64 - 1).max(0)
            };
            f.counts[j] = Some(count);
            f.dense[j] = dense_transform(Some(count));
        }
        for (t, &missing) in CATEGORICAL_MISSING.iter().enumerate() {
            let u_missing: f64 = rng.random();
            let u_id: f64 = rng.random();
            if u_missing < missing {
                f.missing[t] = true;
            } else {
                f.ids[t] = self.zipf[t].sample(u_id);
            }
        }
        f
    }

    /// Features, noise-free teacher logit and label of row `r`.
    fn generate(&self, r: u64) -> (Features, f64, u8) {
        let mut rng = self.row_rng(self.data_seed, r);
        let f = self.features(&mut rng);
        let logit = self.logit_without_bias(&self.teacher.parts(&f)) + self.calibration.bias;
        let eps: f64 = rng.sample(StandardNormal);
        let u: f64 = rng.random();
        let label = u8::from(u < sigmoid(logit + self.config.mix.noise * eps));
        (f, logit, label)
    }

    /// The settings.
    pub fn config(&self) -> &SyntheticConfig {
        &self.config
    }

    /// The calibrated scales and bias.
    pub fn calibration(&self) -> Calibration {
        self.calibration
    }

    /// Rows per embedding table.
    pub fn table_rows(&self) -> [u64; SPARSE] {
        self.table_rows
    }

    /// One line naming the data and its settings (for reports).
    pub fn describe(&self) -> String {
        let c = &self.config;
        let cap = c.max_ind_range.map_or("uncapped".to_string(), |m| format!("tables capped at {m}"));
        let informative = c.informative_ids.map_or("all ids".to_string(), |n| format!("ids < {n}"));
        let m = c.mix;
        format!(
            "synthetic Criteo-shaped data (seed {}, {cap}, teacher latent dim {}, Zipf s = {}, target click rate \
             {}, signal in {informative}, logit parts interaction {} / dense {} / first-order {} / noise {}, tail {})",
            c.seed,
            self.teacher.dim,
            c.zipf_exponent,
            c.click_rate,
            m.interaction,
            m.dense,
            m.first_order,
            m.noise,
            c.tail
        )
    }

    /// Append row `r` to `out`.
    pub fn push_row(&self, r: u64, out: &mut CriteoSamples) {
        let (f, _, label) = self.generate(r);
        out.dense.extend_from_slice(&f.dense);
        out.sparse.extend_from_slice(&f.ids);
        out.labels.push(f32::from(label));
    }

    /// Rows `range` (preprocessed), on the calling thread.
    pub fn rows(&self, range: Range<u64>) -> CriteoSamples {
        let n = (range.end.saturating_sub(range.start)) as usize;
        let mut out = CriteoSamples::empty(self.table_rows);
        out.dense.reserve(n * DENSE);
        out.sparse.reserve(n * SPARSE);
        out.labels.reserve(n);
        for r in range {
            self.push_row(r, &mut out);
        }
        out
    }

    /// Rows `range` generated on `threads` threads (identical to [`SyntheticCriteo::rows`]).
    pub fn rows_parallel(&self, range: Range<u64>, threads: usize) -> CriteoSamples {
        let threads = threads.max(1) as u64;
        let n = range.end.saturating_sub(range.start);
        let per = n.div_ceil(threads).max(1);
        let parts: Vec<CriteoSamples> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let lo = (range.start + i * per).min(range.end);
                    let hi = (lo + per).min(range.end);
                    s.spawn(move || self.rows(lo..hi))
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("generator thread panicked")).collect()
        });
        let mut out = CriteoSamples::empty(self.table_rows);
        for p in parts {
            out.dense.extend_from_slice(&p.dense);
            out.sparse.extend_from_slice(&p.sparse);
            out.labels.extend_from_slice(&p.labels);
        }
        out
    }

    /// Consecutive splits: rows `0..train`, then `validation` rows, then `test` rows (generated on all
    /// available cores; identical to [`SyntheticCriteo::rows`] of those ranges).
    pub fn split(&self, train: u64, validation: u64, test: u64) -> CriteoSplit {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        CriteoSplit {
            train: self.rows_parallel(0..train, threads),
            validation: self.rows_parallel(train..train + validation, threads),
            test: self.rows_parallel(train + validation..train + validation + test, threads),
        }
    }

    /// The teacher's noise-free logit and the label of row `r`.
    pub fn logit_and_label(&self, r: u64) -> (f64, u8) {
        let (_, logit, label) = self.generate(r);
        (logit, label)
    }

    /// The teacher's noise-free logit of row `r` (the Bayes-optimal score up to the logit noise).
    pub fn teacher_logit(&self, r: u64) -> f64 {
        self.generate(r).1
    }

    /// The 32-bit value written to the file for id `id` of table `t`: an odd multiplier per table, a bijection
    /// of the 32-bit values that maps id 0 to `00000000` (which DLRM treats like an empty field).
    pub fn raw_categorical(&self, t: usize, id: u32) -> u32 {
        let odd = (mix64(self.config.seed ^ SALT_SCRAMBLE ^ t as u64) as u32) | 1;
        id.wrapping_mul(odd)
    }

    /// Row `r` as the file stores it (counts and 32-bit categorical values; empty fields as `None`).
    pub fn raw_row(&self, r: u64) -> RawCriteoRow {
        let (f, _, label) = self.generate(r);
        RawCriteoRow {
            label,
            dense: f.counts,
            categorical: std::array::from_fn(|t| (!f.missing[t]).then(|| self.raw_categorical(t, f.ids[t]))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_sampler_covers_the_table_and_favours_low_ids() {
        let z = ZipfTable::new(1000, 1.05);
        assert_eq!(z.sample(0.0), 0);
        assert_eq!(z.sample(1.0 - 1e-12), 999);
        assert!(z.sample(0.3) < z.sample(0.9));
        let tiny = ZipfTable::new(3, 1.0);
        assert!((0..100).map(|i| tiny.sample(i as f64 / 100.0)).all(|id| id < 3));
    }

    #[test]
    fn rows_are_a_function_of_seed_and_index() {
        let g = SyntheticCriteo::new(SyntheticConfig { calibration_rows: 500, ..SyntheticConfig::new(3, Some(1000)) });
        let all = g.rows(0..50);
        let tail = g.rows(20..50);
        assert_eq!(&all.sparse[20 * SPARSE..], &tail.sparse[..]);
        assert_eq!(&all.labels[20..], &tail.labels[..]);
        assert_eq!(g.rows_parallel(0..50, 3), all);
        assert!(all
            .sparse
            .chunks(SPARSE)
            .all(|row| row.iter().zip(&g.table_rows()).all(|(&id, &n)| u64::from(id) < n)));
    }

    /// Area under the ROC curve (scores without ties).
    fn auc(scores: &[f64], labels: &[u8]) -> f64 {
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        let pos = labels.iter().filter(|&&y| y == 1).count() as f64;
        let neg = labels.len() as f64 - pos;
        let rank_sum: f64 =
            order.iter().enumerate().filter(|(_, &i)| labels[i] == 1).map(|(k, _)| k as f64 + 1.0).sum();
        (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
    }

    #[test]
    fn fewer_latent_dimensions_explain_less_of_the_labels() {
        // An interaction-heavy teacher without skew, so that the interaction part dominates.
        let config = SyntheticConfig {
            mix: TeacherMix { interaction: 1.2, dense: 0.5, first_order: 0.6, noise: 0.4 },
            informative_ids: None,
            tail: 0.0,
            ..SyntheticConfig::new(6, Some(10_000))
        };
        let g = SyntheticCriteo::new(config);
        let rows: Vec<(Features, f64, u8)> = (0..20_000).map(|r| g.generate(r)).collect();
        let labels: Vec<u8> = rows.iter().map(|r| r.2).collect();
        let auc_in = |dims: usize| {
            let scores: Vec<f64> =
                rows.iter().map(|(f, _, _)| g.logit_without_bias(&g.teacher.parts_in_dims(f, dims))).collect();
            auc(&scores, &labels)
        };
        let full: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let (a4, a16, a32) = (auc_in(4), auc_in(16), auc_in(32));
        assert!((a32 - auc(&full, &labels)).abs() < 1e-9);
        eprintln!("teacher AUC with 4 / 16 / 32 latent dims: {a4:.4} / {a16:.4} / {a32:.4}");
        assert!(a4 + 0.02 < a16 && a16 + 0.02 < a32, "AUC with 4 / 16 / 32 latent dims: {a4} / {a16} / {a32}");
    }
}
