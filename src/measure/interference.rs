//! Interference of concurrent CPU engines: k single-threaded engines run the same stage step at the same
//! time on one host (sharing the model's weights and the feature store, as engines of one serving process
//! do), and the slowdown of the per-step latency is recorded for k = 1 … `max_engines`.
//!
//! Slowdown(k) = median step latency over all k engines' steps / the median with one engine, both measured
//! by this procedure (each engine: `warmup` untimed steps, then `reps` timed ones, started together behind a
//! barrier). Memory bandwidth, shared last-level cache and SMT siblings are what slow engines down; the
//! simulator multiplies service times by the factor of its engine count (RecPipe ran 32 such engines).
//! libtorch's thread count is set to 1 for the whole measurement (the intra-op pool is process-wide).

use super::profile::{candidate_sets, FeatureStore, LoadedModel, StepRunner};
use super::stats::summarize;
use super::{DeviceKind, MeasureError, ProfileKey};
use std::sync::Barrier;
use std::time::Instant;

/// Read-only access to the model and store from several engine threads.
struct Shared<'a>(&'a LoadedModel, &'a FeatureStore);

// SAFETY: engine threads only read the shared tensors (inference under `no_grad`: no parameter, gradient or
// store tensor is written); libtorch tensors are safe for concurrent reads and their reference counts are
// atomic. Each thread owns its own gather buffers (`StepRunner`).
unsafe impl Sync for Shared<'_> {}

/// Slowdowns `(k, factor)` for k = 1 … `max_engines` (factor 1 for k = 1), each engine timing `reps` steps
/// after `warmup` untimed ones. CPU keys only.
pub fn measure_interference(
    model: &LoadedModel,
    store: &FeatureStore,
    key: &ProfileKey,
    max_engines: u32,
    warmup: u32,
    reps: u32,
    seed: u64,
) -> Result<Vec<(u32, f64)>, MeasureError> {
    if key.device != DeviceKind::Cpu || model.device != DeviceKind::Cpu {
        return Err(MeasureError::Unsupported(format!("{key}: interference is measured for CPU engines only")));
    }
    tch::set_num_threads(1);
    let shared = Shared(model, store);
    let mut medians = Vec::new();
    for k in 1..=max_engines.max(1) {
        let barrier = Barrier::new(k as usize);
        let samples: Vec<f64> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..k)
                .map(|engine| {
                    let shared = &shared;
                    let barrier = &barrier;
                    scope.spawn(move || {
                        let (model, store) = (shared.0, shared.1);
                        let steps = (warmup + reps) as usize;
                        let sets = candidate_sets(store, key.items, steps, seed.wrapping_add(u64::from(engine)));
                        let mut runner = StepRunner::new(model, store, key.items, key.keep);
                        barrier.wait();
                        let mut out = Vec::with_capacity(reps as usize);
                        for (i, (cand, user)) in sets.iter().enumerate() {
                            let t0 = Instant::now();
                            let _ = runner.step(cand, *user);
                            if i >= warmup as usize {
                                out.push(t0.elapsed().as_secs_f64() * 1e3);
                            }
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("engine thread panicked")).collect()
        });
        let median = summarize(&samples)
            .ok_or_else(|| MeasureError::Unsupported(format!("{key}: no interference sample for k = {k}")))?
            .p50;
        medians.push((k, median));
    }
    let base = medians[0].1;
    Ok(medians.into_iter().map(|(k, m)| (k, if k == 1 { 1.0 } else { m / base })).collect())
}
