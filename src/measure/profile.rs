//! Timing one stage step on a tch device: feature gather of the stage's candidates from an in-memory
//! feature store, the model's forward pass, and the top-k of the survivors.
//!
//! Units: milliseconds of wall clock (`std::time::Instant`). Procedure: `warmup` untimed steps, then up to
//! `reps` timed steps (at least `min_reps`, stopping early once `max_seconds` of timed work have passed);
//! every step gets a fresh seeded random candidate set, prepared before the timed region. The feature store
//! holds `store_rows` Criteo-shaped rows (13 dense features, 26 ids drawn uniformly from each table — the
//! cache-unfriendly case) or MovieLens item ids, always in host memory, as a serving host keeps them.
//!
//! Timed region: gather (`index_select` into preallocated, on CUDA pinned, host buffers), on CUDA the
//! host-to-device copy into preallocated device buffers, the forward pass (`forward` of the fused DLRM,
//! NeuMF `forward_t` without dropout, a count lookup for popularity), `topk(keep)` and the survivors' ids
//! back in host memory. On CUDA `tch::Cuda::synchronize` runs right before the clock starts and before it
//! stops (never on CPU). CPU keys set `tch::set_num_threads(threads)` first, CUDA keys one host thread; the
//! weights are random (seeded with [`ProfileOptions::seed`]), which does not change the work.

use super::host::HostFingerprint;
use super::stats::summarize;
use super::tables::ModelTables;
use super::{DeviceKind, MeasureError, ProfileKey};
use crate::data::{DENSE, SPARSE};
use crate::model::{Arch, BuildOptions, Features, Net};
use crate::zoo::precision::{self, Datatype};
use crate::zoo::tensor::tensor_from_matrix;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// A measured latency profile: the raw sample of step latencies and its summary, ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// What was measured.
    pub key: ProfileKey,
    /// Where it was measured.
    pub host: HostFingerprint,
    /// Step latencies in measurement order, ms.
    pub samples_ms: Vec<f64>,
    /// Mean, ms.
    pub mean_ms: f64,
    /// Sample standard deviation, ms.
    pub sd_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Fastest step, ms.
    pub min_ms: f64,
    /// Slowest step, ms.
    pub max_ms: f64,
    /// (k concurrent single-threaded engines, median step latency with k engines / with one), k = 1, 2, …;
    /// empty when not measured (GPU keys, CPU keys with more than one thread per engine).
    pub interference: Vec<(u32, f64)>,
    /// Seed of the random weights and inputs.
    pub seed: u64,
}

impl Profile {
    /// A profile whose statistics are computed from `samples_ms`; `None` for an empty or non-finite sample.
    pub fn from_samples(
        key: ProfileKey,
        host: HostFingerprint,
        samples_ms: Vec<f64>,
        interference: Vec<(u32, f64)>,
        seed: u64,
    ) -> Option<Profile> {
        let s = summarize(&samples_ms)?;
        Some(Profile {
            key,
            host,
            samples_ms,
            mean_ms: s.mean,
            sd_ms: s.sd,
            p50_ms: s.p50,
            p95_ms: s.p95,
            p99_ms: s.p99,
            min_ms: s.min,
            max_ms: s.max,
            interference,
            seed,
        })
    }

    /// Most concurrent engines the interference measurement covered (1 when it was skipped: a single
    /// engine is what the latency sample itself measures).
    pub fn measured_engines(&self) -> u32 {
        self.interference.iter().map(|(k, _)| *k).max().unwrap_or(1).max(1)
    }

    /// Whether the profile stands for `k` concurrent engines: `k` ≤ [`Profile::measured_engines`].
    pub fn covers_engines(&self, k: u32) -> bool {
        k <= self.measured_engines()
    }

    /// Slowdown factor with `k` concurrent engines: the measured value for the largest measured k' ≤ k
    /// (1.0 when nothing was measured). Beyond the largest measured k the last factor would hold, which is
    /// an extrapolation: callers check [`Profile::covers_engines`] first.
    pub fn slowdown(&self, k: u32) -> f64 {
        self.interference.iter().filter(|(kk, _)| *kk <= k).max_by_key(|(kk, _)| *kk).map_or(1.0, |(_, s)| *s)
    }
}

/// How a profile is measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileOptions {
    /// Untimed steps first.
    pub warmup: u32,
    /// Most timed steps.
    pub reps: u32,
    /// Fewest timed steps (even past `max_seconds`).
    pub min_reps: u32,
    /// Stop adding steps once the timed steps took this long, s.
    pub max_seconds: f64,
    /// Rows of the in-memory feature store.
    pub store_rows: usize,
    /// Seed of weights, feature store and candidate sets.
    pub seed: u64,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions { warmup: 10, reps: 200, min_reps: 30, max_seconds: 20.0, store_rows: 1 << 17, seed: 0x5eed }
    }
}

/// A model ready for inference on one device.
pub struct LoadedModel {
    /// Owns the weights.
    _vs: tch::nn::VarStore,
    /// The network, converted to its datatype.
    pub net: Box<dyn Net>,
    /// Where it lives.
    pub device: DeviceKind,
}

impl LoadedModel {
    /// Build a model with random weights (seeded) and the given table sizes directly on `device`, converted to
    /// `datatype` (the weights are random either way, which does not change the work).
    pub fn build(
        arch: &Arch,
        datatype: Datatype,
        tables: &ModelTables,
        device: DeviceKind,
        seed: u64,
    ) -> Result<LoadedModel, MeasureError> {
        tch::manual_seed(seed as i64);
        let mut vs = tch::nn::VarStore::new(device.tch_device());
        let _guard = tch::no_grad_guard();
        let net = arch.build(&vs.root(), tables, BuildOptions::SERVING).ok_or_else(|| {
            MeasureError::Unsupported(format!("a {} model cannot be built on this data set's tables", arch.family()))
        })?;
        let net = precision::convert(&mut vs, net, datatype);
        Ok(LoadedModel { _vs: vs, net, device })
    }
}

/// Candidate features in host memory.
pub enum FeatureStore {
    /// Criteo rows: dense `[N, 13]` f32 (ln(x+1)-scaled) and sparse ids `[N, 26]` i64.
    Criteo {
        /// Dense features.
        dense: Tensor,
        /// Per-table ids.
        sparse: Tensor,
    },
    /// MovieLens item ids `[N]` i64 and the number of users to draw query users from.
    Items {
        /// Item ids.
        items: Tensor,
        /// Users of the data set.
        users: u64,
    },
}

impl FeatureStore {
    /// A seeded store of `rows` candidates for a data set's tables.
    pub fn generate(tables: &ModelTables, rows: usize, seed: u64) -> FeatureStore {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        match tables {
            ModelTables::Criteo { rows: table_rows } => {
                // Row-major draws: every dense feature of the store, then every id (row by row).
                let dense: Vec<f32> = (0..rows * DENSE).map(|_| rng.random_range(0.0f32..8.0)).collect();
                let sparse: Vec<i64> =
                    (0..rows * SPARSE).map(|i| rng.random_range(0..table_rows[i % SPARSE].max(1)) as i64).collect();
                let dense = Array2::from_shape_vec((rows, DENSE), dense).expect("rows × 13 values");
                let sparse = Array2::from_shape_vec((rows, SPARSE), sparse).expect("rows × 26 values");
                FeatureStore::Criteo { dense: tensor_from_matrix(&dense), sparse: tensor_from_matrix(&sparse) }
            }
            ModelTables::MovieLens { users, items } => {
                let ids: Vec<i64> = (0..rows).map(|_| rng.random_range(0..(*items).max(1)) as i64).collect();
                FeatureStore::Items { items: Tensor::from_slice(&ids), users: *users }
            }
        }
    }

    /// Rows held.
    pub fn rows(&self) -> i64 {
        match self {
            FeatureStore::Criteo { dense, .. } => dense.size()[0],
            FeatureStore::Items { items, .. } => items.size()[0],
        }
    }
}

/// One engine's preallocated buffers for steps of a fixed batch size.
pub struct StepRunner<'a> {
    model: &'a LoadedModel,
    store: &'a FeatureStore,
    keep: i64,
    /// Host gather buffers (pinned on CUDA), then device buffers (the same tensors on CPU).
    host: Vec<Tensor>,
    dev: Vec<Tensor>,
}

impl<'a> StepRunner<'a> {
    /// Buffers for steps of `items` candidates keeping `keep`.
    pub fn new(model: &'a LoadedModel, store: &'a FeatureStore, items: u32, keep: u32) -> StepRunner<'a> {
        let b = i64::from(items);
        let shapes: Vec<(Vec<i64>, Kind)> = match store {
            FeatureStore::Criteo { .. } => {
                vec![(vec![b, DENSE as i64], Kind::Float), (vec![b, SPARSE as i64], Kind::Int64)]
            }
            FeatureStore::Items { .. } => vec![(vec![b], Kind::Int64), (vec![b], Kind::Int64)],
        };
        let device = model.device.tch_device();
        let host: Vec<Tensor> = shapes
            .iter()
            .map(|(s, k)| {
                let t = Tensor::zeros(s.as_slice(), (*k, Device::Cpu));
                match model.device {
                    // Page-locked host memory makes the host-to-device copy a direct DMA; unpinned still works.
                    DeviceKind::Cuda => t.f_pin_memory(device).unwrap_or(t),
                    DeviceKind::Cpu => t,
                }
            })
            .collect();
        let dev = match model.device {
            DeviceKind::Cpu => host.iter().map(Tensor::shallow_clone).collect(),
            DeviceKind::Cuda => shapes.iter().map(|(s, k)| Tensor::zeros(s.as_slice(), (*k, device))).collect(),
        };
        StepRunner { model, store, keep: i64::from(keep.min(items)), host, dev }
    }

    /// One stage step for the candidate store rows `candidates` (`[items]` i64, host) and query user `user`
    /// (MovieLens only); returns the survivors' store rows (`[keep]` i64, host).
    pub fn step(&mut self, candidates: &Tensor, user: i64) -> Tensor {
        let _guard = tch::no_grad_guard();
        match self.store {
            FeatureStore::Criteo { dense, sparse } => {
                let _ = dense.index_select_out(&self.host[0], 0, candidates);
                let _ = sparse.index_select_out(&self.host[1], 0, candidates);
            }
            FeatureStore::Items { items, .. } => {
                let _ = items.index_select_out(&self.host[0], 0, candidates);
                let _ = self.host[1].fill_(user);
            }
        }
        if self.model.device == DeviceKind::Cuda {
            for (d, h) in self.dev.iter_mut().zip(&self.host) {
                d.copy_(h);
            }
        }
        let features = match self.store {
            FeatureStore::Criteo { .. } => Features::Rows { dense: &self.dev[0], sparse: &self.dev[1] },
            FeatureStore::Items { .. } => Features::Pairs { users: &self.dev[1], items: &self.dev[0] },
        };
        let scores = self.model.net.forward_t(&features, false);
        let (_, top) = scores.topk(self.keep, 0, true, false);
        candidates.index_select(0, &top.to_device(Device::Cpu))
    }
}

/// Seeded candidate sets (`[items]` i64 store rows) and query users, one per step.
pub fn candidate_sets(store: &FeatureStore, items: u32, steps: usize, seed: u64) -> Vec<(Tensor, i64)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xc0ffee);
    let rows = store.rows().max(1);
    let users = match store {
        FeatureStore::Items { users, .. } => (*users).max(1) as i64,
        FeatureStore::Criteo { .. } => 1,
    };
    (0..steps)
        .map(|_| {
            let idx: Vec<i64> = (0..items).map(|_| rng.random_range(0..rows)).collect();
            (Tensor::from_slice(&idx), rng.random_range(0..users))
        })
        .collect()
}

/// Set libtorch's intra-op threads for a key: the key's threads on the CPU; one host thread driving the GPU
/// (the host-side gather of a CUDA step) for CUDA keys.
pub fn apply_threads(key: &ProfileKey) {
    let threads = match key.device {
        DeviceKind::Cpu => key.threads.max(1),
        DeviceKind::Cuda => 1,
    };
    tch::set_num_threads(threads as i32);
}

/// Time stage steps of `key` on `model`: warm-up, then the timed sample in ms (see the module docs).
pub fn time_steps(
    model: &LoadedModel,
    store: &FeatureStore,
    key: &ProfileKey,
    opts: &ProfileOptions,
) -> Result<Vec<f64>, MeasureError> {
    if model.device != key.device {
        return Err(MeasureError::Unsupported(format!(
            "model lives on {} but the key asks for {}",
            model.device, key.device
        )));
    }
    apply_threads(key);
    let cuda = key.device == DeviceKind::Cuda;
    let sets = candidate_sets(store, key.items, (opts.warmup + opts.reps.max(1)) as usize, opts.seed);
    let mut runner = StepRunner::new(model, store, key.items, key.keep);
    let mut samples = Vec::with_capacity(opts.reps as usize);
    let mut timed_s = 0.0;
    for (i, (cand, user)) in sets.iter().enumerate() {
        if cuda {
            tch::Cuda::synchronize(0);
        }
        let t0 = Instant::now();
        let survivors = runner.step(cand, *user);
        if cuda {
            tch::Cuda::synchronize(0);
        }
        let dt = t0.elapsed().as_secs_f64();
        debug_assert_eq!(survivors.size(), vec![runner.keep]);
        if i >= opts.warmup as usize {
            samples.push(dt * 1e3);
            timed_s += dt;
            if samples.len() >= opts.min_reps.max(1) as usize && timed_s >= opts.max_seconds {
                break;
            }
        }
    }
    Ok(samples)
}

/// Measure the profile of `key` (no interference; see [`super::interference`]).
pub fn profile(
    model: &LoadedModel,
    store: &FeatureStore,
    key: &ProfileKey,
    host: &HostFingerprint,
    opts: &ProfileOptions,
) -> Result<Profile, MeasureError> {
    let samples = time_steps(model, store, key, opts)?;
    Profile::from_samples(key.clone(), host.clone(), samples, Vec::new(), opts.seed)
        .ok_or_else(|| MeasureError::Unsupported(format!("{key}: no finite timed step")))
}
