//! `recpipe-dse prepare <space.yaml>`: make everything the shards of a run need, once: the latency profiles
//! no host has are measured, every model the space uses is trained (or loaded) and its candidates scored.
//! Afterwards `explore --shard` and `merge` run offline ([`open_prepared`]): they never train, score or
//! measure, and fail naming what is missing when `prepare` was not run with the same cache and calibration
//! folders.

use super::explore::SourceArgs;
use super::output::{self, note, PrepareSummary};
use super::{CliError, OutputFormat};
use crate::explore::evaluate::EvalSettings;
use crate::explore::journal::fingerprint;
use crate::explore::sources::{self, Opened};
use crate::measure::calibrate::{self, CalibrationOptions};
use crate::spec::{load_space_with, Space};
use anyhow::anyhow;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `prepare`.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// Design-space file.
    pub space: PathBuf,
    /// Measure again, on this host, every CPU/GPU latency profile the space needs.
    #[arg(long)]
    pub recalibrate: bool,
    /// Override a field of the space (`--set KEY=VALUE`, as for `explore`; shards must be given the same).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output format of the summary on stdout (`json`: one object, see `cli::output::PrepareSummary`).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Source folders (score cache, calibration).
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// Run `prepare`.
pub fn run(args: &PrepareArgs) -> Result<(), CliError> {
    let t = Instant::now();
    let space = load_space_with(&args.space, &args.set).map_err(CliError::input)?;
    let calibration = CalibrationOptions::for_explore(args.sources.calib_dir.clone(), args.recalibrate);
    let measured = super::calibrate::calibrate_space(&space, &calibration, false, None)?;
    let opened = sources::open(&space, &args.sources.options()).map_err(CliError::by_cause)?;
    let fp = fingerprint(&space, &EvalSettings::from_space(&space), &opened.descriptions());
    let result = PrepareSummary {
        space: space.name.clone(),
        source: args.space.display().to_string(),
        fingerprint: fp,
        cache_dir: args.sources.cache_dir.display().to_string(),
        calib_dir: args.sources.calib_dir.display().to_string(),
        profiles_measured: measured,
        quality_source: opened.quality.describe(),
        latency_source: opened.latency.describe(),
        seconds: t.elapsed().as_secs_f64(),
    };
    output::result(args.format, &result, || {
        format!(
            "{}: prepared in {:.1} s ({} latency profile(s) measured); fingerprint {}\nquality: {}\nlatency: {}",
            result.space,
            result.seconds,
            result.profiles_measured,
            result.fingerprint,
            result.quality_source,
            result.latency_source
        )
    });
    Ok(())
}

/// The sources of `space` as `prepare` left them, opened without training, scoring or measuring, with the
/// evaluation settings and the fingerprint they give. A missing latency profile or score cache is an input
/// error (exit 2) naming it and saying to run `prepare`.
pub fn open_prepared(space: &Space, sources: &SourceArgs) -> Result<(Opened, EvalSettings, String), CliError> {
    let calibration = CalibrationOptions::for_explore(sources.calib_dir.clone(), false);
    let plan = calibrate::plan(space, &calibration).map_err(|e| CliError::input(anyhow!("{e}")))?;
    for damaged in plan.damaged() {
        note(&format!("calibrate: {damaged}"));
    }
    if !plan.todo.is_empty() {
        let keys: Vec<String> = plan.todo.iter().map(|k| k.to_string()).collect();
        return Err(CliError::input(anyhow!(
            "{}: {} latency profile(s) missing in {}: {}; run `recpipe-dse prepare {}` with the same --calib-dir first",
            space.source,
            keys.len(),
            sources.calib_dir.display(),
            keys.join(", "),
            space.source
        )));
    }
    let options = sources::SourceOptions { offline: true, ..sources.options() };
    let opened = sources::open(space, &options).map_err(CliError::by_cause)?;
    let settings = EvalSettings::from_space(space);
    let fp = fingerprint(space, &settings, &opened.descriptions());
    Ok((opened, settings, fp))
}
