//! The calibration workflow: measure the latency profile of every CPU/GPU stage a design space needs and
//! merge it into the calibration cache (`calib/latency-<host>.csv`).
//!
//! [`plan`] lists the keys to measure (keys this host already has are skipped unless `recalibrate`; with
//! `only_missing_everywhere`, what `explore` does before a search, only keys no host has are measured);
//! [`measure`] builds one model at a time (full-size embedding tables; RM-large is ≈ 4.3 GB of fp32) and
//! drops it before the next, and writes each finished key at once, so an interrupted run keeps its
//! progress. Progress goes to the caller's [`Progress`] observer.

use super::interference::measure_interference;
use super::profile::{profile, FeatureStore, LoadedModel, ProfileOptions};
use super::tables::{required_profiles_for, ModelTables};
use super::{this_host, CalibCache, DeviceKind, HostFingerprint, MeasureError, ProfileKey};
use crate::progress::Progress;
use crate::spec::Space;
use std::path::PathBuf;
use std::time::Instant;

/// What to measure and how.
#[derive(Debug, Clone)]
pub struct CalibrationOptions {
    /// Measure only this device's stages; `None`: CPU stages, plus GPU stages when a CUDA device is visible.
    pub device: Option<DeviceKind>,
    /// Measure again keys this host already has.
    pub recalibrate: bool,
    /// Calibration directory.
    pub calib_dir: PathBuf,
    /// Most timed steps per key (≥ 1).
    pub reps: u32,
    /// Untimed warm-up steps per key.
    pub warmup: u32,
    /// Stop adding timed steps to a key after this many seconds (> 0; at least 30 steps are kept).
    pub max_seconds: f64,
    /// Most concurrent engines in the interference measurement (`None`: this host's cores; 0 skips it).
    pub max_engines: Option<u32>,
    /// Seed of the random weights, feature store and candidate sets (recorded in each row).
    pub seed: u64,
    /// Measure only keys that no host in the calibration cache has.
    pub only_missing_everywhere: bool,
}

impl CalibrationOptions {
    /// The settings `explore` uses: default repetitions, profiles written to `calib_dir`; with `recalibrate`
    /// every key of this host is measured again, otherwise only keys no host has.
    pub fn for_explore(calib_dir: PathBuf, recalibrate: bool) -> CalibrationOptions {
        CalibrationOptions {
            device: None,
            recalibrate,
            calib_dir,
            reps: 200,
            warmup: 10,
            max_seconds: 20.0,
            max_engines: None,
            seed: ProfileOptions::default().seed,
            only_missing_everywhere: !recalibrate,
        }
    }
}

/// Why calibration could not run.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// The options or the space's calibration inputs are invalid.
    #[error("{0}")]
    Input(String),
    /// The environment failed (no CUDA device, libtorch, file writes).
    #[error("{0}")]
    Runtime(String),
}

impl From<MeasureError> for CalibrateError {
    fn from(e: MeasureError) -> Self {
        CalibrateError::Runtime(e.to_string())
    }
}

/// The keys one calibration run measures.
#[derive(Debug)]
pub struct CalibrationPlan {
    /// The host measured on.
    pub host: HostFingerprint,
    /// Keys to measure, grouped by (device, model) so each model is built once.
    pub todo: Vec<ProfileKey>,
    /// Keys on devices this run does not measure.
    pub other_devices: usize,
    tables: ModelTables,
    cache: CalibCache,
}

impl CalibrationPlan {
    /// Rows of the calibration files ignored as damaged (`file:line: why`); their keys are in [`Self::todo`].
    pub fn damaged(&self) -> &[String] {
        &self.cache.damaged
    }
}

/// What a calibration run did.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationSummary {
    /// Keys measured.
    pub measured: usize,
    /// Profiles in the calibration folder afterwards.
    pub profiles: usize,
    /// Wall time of the measurements, s.
    pub seconds: f64,
}

/// The keys of `space` that `opts` selects.
pub fn plan(space: &Space, opts: &CalibrationOptions) -> Result<CalibrationPlan, CalibrateError> {
    let tables = ModelTables::for_space(space).map_err(|e| CalibrateError::Input(e.to_string()))?;
    if opts.reps == 0 {
        return Err(CalibrateError::Input("--reps: must be at least 1, found 0".into()));
    }
    if opts.max_seconds.is_nan() || opts.max_seconds <= 0.0 {
        return Err(CalibrateError::Input(format!("--max-seconds: must be positive, found {}", opts.max_seconds)));
    }
    let cuda_visible = tch::Cuda::is_available();
    let devices: Vec<DeviceKind> = match opts.device {
        Some(DeviceKind::Cuda) if !cuda_visible => {
            return Err(CalibrateError::Runtime(format!(
                "--device cuda: no CUDA device is visible (libtorch CUDA backend: {:?})",
                crate::device::load_cuda_backend()
            )))
        }
        Some(d) => vec![d],
        None if cuda_visible => vec![DeviceKind::Cpu, DeviceKind::Cuda],
        None => vec![DeviceKind::Cpu],
    };
    let all_keys = required_profiles_for(space, &tables);
    let other_devices = all_keys.iter().filter(|k| !devices.contains(&k.device)).count();
    let host = this_host();
    let cache = CalibCache::load(&opts.calib_dir).map_err(|e| CalibrateError::Input(e.to_string()))?;
    let mut todo: Vec<ProfileKey> = all_keys
        .into_iter()
        .filter(|k| devices.contains(&k.device))
        .filter(|k| {
            if opts.only_missing_everywhere {
                cache.lookup(k, &host).is_none()
            } else {
                opts.recalibrate || cache.lookup_on(k, &host).is_none()
            }
        })
        .collect();
    // One model build per (model, device): group keys so.
    todo.sort_by(|a, b| {
        (&a.device, &a.model, a.items, a.keep, a.threads).cmp(&(&b.device, &b.model, b.items, b.keep, b.threads))
    });
    Ok(CalibrationPlan { host, todo, other_devices, tables, cache })
}

/// Measure every key of `plan` and save each profile as it finishes.
pub fn measure(
    space: &Space,
    mut plan: CalibrationPlan,
    opts: &CalibrationOptions,
    progress: &dyn Progress,
) -> Result<CalibrationSummary, CalibrateError> {
    super::retain_freed_memory();
    let profile_opts = ProfileOptions {
        warmup: opts.warmup,
        reps: opts.reps,
        max_seconds: opts.max_seconds,
        seed: opts.seed,
        ..ProfileOptions::default()
    };
    let host = &plan.host;
    let max_engines = opts.max_engines.unwrap_or(host.cores);
    let store = FeatureStore::generate(&plan.tables, profile_opts.store_rows, profile_opts.seed);
    let started = Instant::now();
    let mut loaded: Option<(String, DeviceKind, LoadedModel)> = None;
    let total = plan.todo.len();
    for (i, key) in plan.todo.iter().enumerate() {
        if loaded.as_ref().is_none_or(|(m, d, _)| *m != key.model || *d != key.device) {
            drop(loaded.take()); // free the previous model before building the next
            let zoo = space.zoo.iter().find(|z| z.name == key.model).expect("keys come from the zoo");
            progress.message(&format!("calibrate: building {} on {} ({})", key.model, key.device, key.arch));
            let t = Instant::now();
            let model =
                LoadedModel::build(&zoo.arch, zoo.compute_datatype(), &plan.tables, key.device, profile_opts.seed)?;
            progress.message(&format!("calibrate: built in {:.1} s", t.elapsed().as_secs_f64()));
            loaded = Some((key.model.clone(), key.device, model));
        }
        let (_, _, model) = loaded.as_ref().expect("built above");
        let t = Instant::now();
        let mut p = profile(model, &store, key, host, &profile_opts)?;
        if key.device == DeviceKind::Cpu && key.threads == 1 && max_engines > 0 {
            let reps = (opts.reps / 4).max(20);
            p.interference =
                measure_interference(model, &store, key, max_engines, opts.warmup, reps, profile_opts.seed)?;
        }
        let slowdowns: Vec<String> = p.interference.iter().map(|(k, s)| format!("{k}:{s:.2}")).collect();
        progress.message(&format!(
            "[{}/{total}] {key}: p50 {:.3} ms, p95 {:.3} ms, n {}{} ({:.1} s, {:.0} s total)",
            i + 1,
            p.p50_ms,
            p.p95_ms,
            p.samples_ms.len(),
            if slowdowns.is_empty() { String::new() } else { format!(", slowdown {}", slowdowns.join(" ")) },
            t.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        ));
        plan.cache.insert_and_save(p)?;
    }
    Ok(CalibrationSummary { measured: total, profiles: plan.cache.len(), seconds: started.elapsed().as_secs_f64() })
}
