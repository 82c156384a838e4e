//! `recpipe-dse calibrate <space.yaml>`: measure the latency profile of every CPU/GPU stage a design space
//! needs and merge it into the calibration cache (`calib/latency-<host>.csv`).
//!
//! Keys already measured on this host are skipped unless `--recalibrate`. Models are built one at a time
//! (full-size embedding tables; RM-large is ≈ 4.3 GB of fp32) and dropped before the next. Each finished
//! key is written at once, so an interrupted run keeps its progress. Progress goes to stderr.

use super::CliError;
use crate::measure::interference::measure_interference;
use crate::measure::profile::{profile, FeatureStore, LoadedModel, ProfileOptions};
use crate::measure::tables::{required_profiles_for, ModelTables};
use crate::measure::{this_host, CalibCache, DeviceKind, ProfileKey};
use anyhow::anyhow;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Design-space file.
    pub space: PathBuf,
    /// Measure only this device's stages (`cpu` or `cuda`); default: CPU stages, plus GPU stages when a
    /// CUDA device is visible.
    #[arg(long, value_parser = ["cpu", "cuda"])]
    pub device: Option<String>,
    /// Measure again keys this host already has.
    #[arg(long)]
    pub recalibrate: bool,
    /// Calibration directory.
    #[arg(long, default_value = "calib")]
    pub calib_dir: PathBuf,
    /// Most timed steps per key.
    #[arg(long, default_value_t = 200)]
    pub reps: u32,
    /// Untimed warm-up steps per key.
    #[arg(long, default_value_t = 10)]
    pub warmup: u32,
    /// Stop adding timed steps to a key after this many seconds (at least 30 steps are kept).
    #[arg(long, default_value_t = 20.0)]
    pub max_seconds: f64,
    /// Most concurrent engines in the interference measurement (default: this host's cores; 0 skips it).
    #[arg(long)]
    pub max_engines: Option<u32>,
    /// List the keys that would be measured and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// Seed of the random weights, feature store and candidate sets (recorded in each row).
    #[arg(long, default_value_t = ProfileOptions::default().seed)]
    pub seed: u64,
    /// Measure only keys that no host in the calibration cache has (what `explore` does before a search).
    #[arg(skip)]
    pub only_missing_everywhere: bool,
}

impl CalibrateArgs {
    /// The settings `explore` uses: default repetitions, profiles written to `calib_dir`; with `recalibrate`
    /// every key of this host is measured again, otherwise only keys no host has.
    pub fn for_explore(space: PathBuf, calib_dir: PathBuf, recalibrate: bool) -> CalibrateArgs {
        CalibrateArgs {
            space,
            device: None,
            recalibrate,
            calib_dir,
            reps: 200,
            warmup: 10,
            max_seconds: 20.0,
            max_engines: None,
            dry_run: false,
            seed: ProfileOptions::default().seed,
            only_missing_everywhere: !recalibrate,
        }
    }
}

/// Run `calibrate`.
pub fn run(args: &CalibrateArgs) -> Result<(), CliError> {
    let space = crate::spec::load_space(&args.space).map_err(CliError::input)?;
    calibrate_space(&space, args).map(|_| ())
}

/// Measure the keys of an already loaded space that `args` selects; returns how many were measured.
pub fn calibrate_space(space: &crate::spec::Space, args: &CalibrateArgs) -> Result<usize, CliError> {
    let tables = ModelTables::for_space(space).map_err(CliError::input)?;
    if args.reps == 0 {
        return Err(CliError::input(anyhow!("--reps: must be at least 1, found 0")));
    }
    if args.max_seconds.is_nan() || args.max_seconds <= 0.0 {
        return Err(CliError::input(anyhow!("--max-seconds: must be positive, found {}", args.max_seconds)));
    }
    let cuda_visible = tch::Cuda::is_available();
    let devices: Vec<DeviceKind> = match args.device.as_deref() {
        Some("cuda") if !cuda_visible => {
            return Err(CliError::runtime(anyhow!(
                "--device cuda: no CUDA device is visible (libtorch CUDA backend: {:?})",
                crate::device::load_cuda_backend()
            )))
        }
        Some(d) => vec![DeviceKind::parse(d).expect("clap allows cpu|cuda only")],
        None if cuda_visible => vec![DeviceKind::Cpu, DeviceKind::Cuda],
        None => vec![DeviceKind::Cpu],
    };
    let all_keys = required_profiles_for(space, &tables);
    let skipped_gpu = all_keys.iter().filter(|k| !devices.contains(&k.device)).count();
    if skipped_gpu > 0 && !args.only_missing_everywhere {
        eprintln!("calibrate: {skipped_gpu} key(s) on other devices are not measured in this run");
    }
    let host = this_host();
    crate::measure::retain_freed_memory();
    let mut cache = CalibCache::load(&args.calib_dir).map_err(CliError::input)?;
    let mut todo: Vec<ProfileKey> = all_keys
        .into_iter()
        .filter(|k| devices.contains(&k.device))
        .filter(|k| {
            if args.only_missing_everywhere {
                cache.lookup(k, &host).is_none()
            } else {
                args.recalibrate || cache.lookup_on(k, &host).is_none()
            }
        })
        .collect();
    if args.only_missing_everywhere && todo.is_empty() {
        return Ok(0);
    }
    // One model build per (model, device): group keys so.
    todo.sort_by(|a, b| {
        (&a.device, &a.model, a.items, a.keep, a.threads).cmp(&(&b.device, &b.model, b.items, b.keep, b.threads))
    });
    eprintln!("calibrate: host {host}");
    eprintln!("calibrate: {} key(s) to measure, written to {}", todo.len(), args.calib_dir.display());
    if args.dry_run {
        for key in &todo {
            println!("{key} ({})", key.arch);
        }
        return Ok(0);
    }
    let opts = ProfileOptions {
        warmup: args.warmup,
        reps: args.reps,
        max_seconds: args.max_seconds,
        seed: args.seed,
        ..ProfileOptions::default()
    };
    let max_engines = args.max_engines.unwrap_or(host.cores);
    let store = FeatureStore::generate(&tables, opts.store_rows, opts.seed);
    let started = Instant::now();
    let mut loaded: Option<(String, DeviceKind, LoadedModel)> = None;
    for (i, key) in todo.iter().enumerate() {
        if loaded.as_ref().is_none_or(|(m, d, _)| *m != key.model || *d != key.device) {
            drop(loaded.take()); // free the previous model before building the next
            let zoo = space.zoo.iter().find(|z| z.name == key.model).expect("keys come from the zoo");
            eprintln!("calibrate: building {} on {} ({})", key.model, key.device, key.arch);
            let t = Instant::now();
            let model = LoadedModel::build(&zoo.arch, &tables, key.device, opts.seed).map_err(CliError::runtime)?;
            eprintln!("calibrate: built in {:.1} s", t.elapsed().as_secs_f64());
            loaded = Some((key.model.clone(), key.device, model));
        }
        let (_, _, model) = loaded.as_ref().expect("built above");
        let t = Instant::now();
        let mut p = profile(model, &store, key, &host, &opts).map_err(CliError::runtime)?;
        if key.device == DeviceKind::Cpu && key.threads == 1 && max_engines > 0 {
            let reps = (args.reps / 4).max(20);
            p.interference = measure_interference(model, &store, key, max_engines, args.warmup, reps, opts.seed)
                .map_err(CliError::runtime)?;
        }
        let slowdowns: Vec<String> = p.interference.iter().map(|(k, s)| format!("{k}:{s:.2}")).collect();
        eprintln!(
            "[{}/{}] {key}: p50 {:.3} ms, p95 {:.3} ms, n {}{} ({:.1} s, {:.0} s total)",
            i + 1,
            todo.len(),
            p.p50_ms,
            p.p95_ms,
            p.samples_ms.len(),
            if slowdowns.is_empty() { String::new() } else { format!(", slowdown {}", slowdowns.join(" ")) },
            t.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        cache.insert_and_save(p).map_err(CliError::runtime)?;
    }
    println!(
        "calibrated {} key(s) on {host} in {:.1} s; {} profile(s) in {}",
        todo.len(),
        started.elapsed().as_secs_f64(),
        cache.len(),
        args.calib_dir.display()
    );
    Ok(todo.len())
}
