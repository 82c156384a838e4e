//! `recpipe-dse calibrate <space.yaml>`: measure the latency profile of every CPU/GPU stage a design space
//! needs and merge it into the calibration cache (`calib/latency-<host>.csv`).
//!
//! Keys already measured on this host are skipped unless `--recalibrate`; the workflow itself is
//! [`crate::measure::calibrate`]. Progress goes to stderr.

use super::output::{self, note, CalibrateSummary};
use super::{CliError, OutputFormat};
use crate::measure::calibrate::{self, CalibrateError, CalibrationOptions};
use crate::measure::{DeviceKind, ProfileOptions};
use crate::spec::Space;
use anyhow::anyhow;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Design-space file.
    pub space: PathBuf,
    /// Measure only this device's stages; default: CPU stages, plus GPU stages when a CUDA device is visible.
    #[arg(long, value_enum)]
    pub device: Option<DeviceKind>,
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
    /// Output format of the summary on stdout (`json`: one object, see `cli::output::CalibrateSummary`).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

impl CalibrateArgs {
    /// The library's calibration options.
    pub fn options(&self) -> CalibrationOptions {
        CalibrationOptions {
            device: self.device,
            recalibrate: self.recalibrate,
            calib_dir: self.calib_dir.clone(),
            reps: self.reps,
            warmup: self.warmup,
            max_seconds: self.max_seconds,
            max_engines: self.max_engines,
            seed: self.seed,
            only_missing_everywhere: false,
        }
    }
}

/// Run `calibrate`.
pub fn run(args: &CalibrateArgs) -> Result<(), CliError> {
    let space = crate::spec::load_space(&args.space).map_err(CliError::input)?;
    calibrate_space(&space, &args.options(), args.dry_run, Some(args.format)).map(|_| ())
}

/// Measure the keys of an already loaded space that `opts` selects (with `dry_run`, list them); returns how
/// many were measured. `format` prints the summary on stdout; `None` (calibration as a step of another
/// command) says it on stderr instead.
pub fn calibrate_space(
    space: &Space,
    opts: &CalibrationOptions,
    dry_run: bool,
    format: Option<OutputFormat>,
) -> Result<usize, CliError> {
    let plan = calibrate::plan(space, opts).map_err(calibrate_error)?;
    for damaged in plan.damaged() {
        note(&format!("calibrate: {damaged}"));
    }
    if plan.other_devices > 0 && !opts.only_missing_everywhere {
        note(&format!("calibrate: {} key(s) on other devices are not measured in this run", plan.other_devices));
    }
    let mut result = CalibrateSummary {
        host: plan.host.to_string(),
        calib_dir: opts.calib_dir.display().to_string(),
        measured: 0,
        to_measure: plan.todo.iter().map(|k| format!("{k} ({})", k.arch)).collect(),
        profiles: 0,
        seconds: 0.0,
        other_devices: plan.other_devices,
        damaged_rows: plan.damaged().to_vec(),
    };
    if opts.only_missing_everywhere && plan.todo.is_empty() {
        return Ok(0);
    }
    note(&format!("calibrate: host {}", plan.host));
    note(&format!("calibrate: {} key(s) to measure, written to {}", plan.todo.len(), opts.calib_dir.display()));
    if dry_run {
        if let Some(format) = format {
            output::result(format, &result, || result.to_measure.join("\n"));
        }
        return Ok(0);
    }
    let done = calibrate::measure(space, plan, opts, super::progress::terminal().as_ref()).map_err(calibrate_error)?;
    result.measured = done.measured;
    result.profiles = done.profiles;
    result.seconds = done.seconds;
    result.to_measure.clear();
    let text = || {
        format!(
            "calibrated {} key(s) on {} in {:.1} s; {} profile(s) in {}",
            result.measured, result.host, result.seconds, result.profiles, result.calib_dir
        )
    };
    match format {
        Some(format) => output::result(format, &result, text),
        None => note(&text()),
    }
    Ok(done.measured)
}

fn calibrate_error(e: CalibrateError) -> CliError {
    match e {
        CalibrateError::Input(m) => CliError::input(anyhow!(m)),
        CalibrateError::Runtime(m) => CliError::runtime(anyhow!(m)),
    }
}
