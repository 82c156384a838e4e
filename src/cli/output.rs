//! What the commands print, and how much: the global `-q` / `-v` verbosity, notes and details on stderr,
//! and the machine-readable summaries that `--format json` prints on stdout.
//!
//! Streams: stdout carries a command's result only (its text summary, or with `--format json` exactly one
//! JSON document), so scripts can pipe it; everything else — progress, notes, warnings — goes to stderr.
//! `-q` silences notes and progress (errors still print); `-v` adds details (phase times, sources, the
//! journal's fingerprint). The summary types derive `Serialize` and `Deserialize`, so a script (or a test)
//! can read them back into the same values.

use super::OutputFormat;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// How much a command says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors only.
    Quiet,
    /// Notes and progress.
    Normal,
    /// `-v`: also details.
    Verbose,
}

static VERBOSITY: OnceLock<Verbosity> = OnceLock::new();

/// Set the process's verbosity (once, from the global flags).
pub fn set_verbosity(v: Verbosity) {
    let _ = VERBOSITY.set(v);
}

/// The process's verbosity ([`Verbosity::Normal`] unless set).
pub fn verbosity() -> Verbosity {
    VERBOSITY.get().copied().unwrap_or(Verbosity::Normal)
}

/// A note on stderr, unless `-q`.
pub fn note(text: &str) {
    if verbosity() >= Verbosity::Normal {
        eprintln!("{text}");
    }
}

/// A detail on stderr, only with `-v`.
pub fn detail(text: &str) {
    if verbosity() >= Verbosity::Verbose {
        eprintln!("{text}");
    }
}

/// Print a command's result on stdout: `value` as pretty JSON, or the text `text` builds.
pub fn result<T: Serialize>(format: OutputFormat, value: &T, text: impl FnOnce() -> String) {
    match format {
        OutputFormat::Json => {
            println!("{}", serde_json::to_string_pretty(value).expect("summaries serialise"));
        }
        OutputFormat::Table => println!("{}", text()),
    }
}

/// When and why a run's early stop fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopSummary {
    /// Distinct points evaluated when it fired.
    pub at: u64,
    /// Points after which the front last grew.
    pub last_growth: u64,
}

/// `explore --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExploreSummary {
    /// Space name.
    pub space: String,
    /// The space file.
    pub source: String,
    /// Search strategy.
    pub strategy: String,
    /// Budget of distinct points.
    pub budget: u64,
    /// Seed of the search.
    pub search_seed: u64,
    /// Seed of the serving simulations.
    pub sim_seed: u64,
    /// Distinct points of the run.
    pub points: u64,
    /// Points evaluated now.
    pub evaluated: u64,
    /// Points reused from the journal.
    pub reused: u64,
    /// Feasible points.
    pub feasible: u64,
    /// Points on the Pareto front.
    pub front: u64,
    /// Hypervolume of the front (0 without feasible points).
    pub hypervolume: f64,
    /// The report folder.
    pub report_dir: String,
    /// Files written into it.
    pub files: Vec<String>,
    /// The journal.
    pub journal: String,
    /// Fingerprint of the evaluation inputs the journal's records carry.
    pub fingerprint: String,
    /// Whether Ctrl-C stopped the run (it exits 130 and can be resumed).
    pub interrupted: bool,
    /// Set when the early stop ended the run.
    pub early_stop: Option<EarlyStopSummary>,
}

/// `prepare --format json`: what a space's shards need, made ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepareSummary {
    /// Space name.
    pub space: String,
    /// The space file.
    pub source: String,
    /// Fingerprint of the evaluation inputs (every shard's journal records carry it).
    pub fingerprint: String,
    /// Folder of trained models and score caches.
    pub cache_dir: String,
    /// Folder of latency profiles.
    pub calib_dir: String,
    /// Latency-profile keys measured now (0 when every profile was there).
    pub profiles_measured: usize,
    /// Where quality comes from.
    pub quality_source: String,
    /// Where CPU/GPU latencies come from.
    pub latency_source: String,
    /// Wall time, s.
    pub seconds: f64,
}

/// `explore --shard … --format json`: what one shard did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardSummary {
    /// Space name.
    pub space: String,
    /// The shard (`I/N`).
    pub shard: crate::explore::shard::Shard,
    /// Search strategy.
    pub strategy: String,
    /// The shard's budget of distinct points.
    pub budget: u64,
    /// The shard's search seed.
    pub seed: u64,
    /// Seed of the serving simulations.
    pub sim_seed: u64,
    /// Distinct points of the shard so far.
    pub points: u64,
    /// Points evaluated now.
    pub evaluated: u64,
    /// Points reused from the shard's journal.
    pub reused: u64,
    /// Feasible points among them.
    pub feasible: u64,
    /// The shard's journal.
    pub journal: String,
    /// The shard's state file.
    pub state: String,
    /// Fingerprint of the evaluation inputs.
    pub fingerprint: String,
    /// Whether the shard finished.
    pub finished: bool,
}

/// `merge --format json`: the merged run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeSummary {
    /// Space name.
    pub space: String,
    /// Number of shards of the run.
    pub shards: u32,
    /// The shard journals read, by shard index.
    pub journals: Vec<String>,
    /// Search strategy of the shards.
    pub strategy: String,
    /// Distinct points merged.
    pub points: u64,
    /// Records of a point already merged from another shard (islands meeting the same point).
    pub duplicates: u64,
    /// Damaged journal lines skipped (their points are missing from the merge).
    pub skipped_lines: u64,
    /// Shards merged although unfinished (`--partial`), by index.
    pub unfinished: Vec<u32>,
    /// Feasible points.
    pub feasible: u64,
    /// Points on the Pareto front.
    pub front: u64,
    /// Hypervolume of the front (0 without feasible points).
    pub hypervolume: f64,
    /// The report folder.
    pub report_dir: String,
    /// Files written into it.
    pub files: Vec<String>,
    /// Fingerprint of the evaluation inputs every merged record carries.
    pub fingerprint: String,
}

/// One row of `compare --format json`: its rank and the comparison row's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareSummaryRow {
    /// Rank (1 = highest capacity).
    pub rank: usize,
    /// The configuration (point id, pipeline, backends, hardware, capacity, p95 per load of `loads_qps` —
    /// `null` = saturated —, quality, area, power).
    #[serde(flatten)]
    pub row: crate::report::compare::CompareRow,
}

/// `compare --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareSummary {
    /// Space name.
    pub space: String,
    /// The targets in words (`p95 ≤ 10 ms and p99 ≤ 20 ms at ndcg@64 ≥ 0.3`).
    pub targets: String,
    /// Loads of the p95 columns, queries/s.
    pub loads_qps: Vec<f64>,
    /// The quality metric's name.
    pub quality_metric: String,
    /// Points considered.
    pub points_considered: usize,
    /// Configurations meeting the targets at some load.
    pub compared: usize,
    /// Served configurations left out for the quality floor.
    pub below_floor: usize,
    /// The rows shown, best first.
    pub rows: Vec<CompareSummaryRow>,
    /// The Markdown file written.
    pub written: String,
    /// The interactive page written beside it.
    pub page: String,
    /// Whether Ctrl-C stopped the evaluation (the table covers the points finished).
    pub interrupted: bool,
}

/// `calibrate --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrateSummary {
    /// The host measured on.
    pub host: String,
    /// The calibration folder.
    pub calib_dir: String,
    /// Keys measured (0 for a dry run).
    pub measured: usize,
    /// Keys still to measure (the list of a dry run).
    pub to_measure: Vec<String>,
    /// Profiles in the folder afterwards.
    pub profiles: usize,
    /// Wall time of the measurements, s.
    pub seconds: f64,
    /// Keys on devices this run does not measure.
    pub other_devices: usize,
    /// Damaged rows ignored (`file:line: why`).
    pub damaged_rows: Vec<String>,
}

/// One row of `quality --format json` (the document is an array of them): a cascade and its metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRow {
    /// Number of stages.
    pub stages: usize,
    /// Model per stage.
    pub models: Vec<String>,
    /// Items per stage.
    pub items: Vec<u32>,
    /// The data the metrics were measured on.
    pub data: String,
    /// Whether that data is the synthetic stand-in.
    pub synthetic: bool,
    /// Metric name → value (`ndcg@64`, `hr@10`, …).
    #[serde(flatten)]
    pub metrics: std::collections::BTreeMap<String, f64>,
}

/// `train --format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// The space file.
    pub space: String,
    /// The data trained on.
    pub data: String,
    /// Whether that data is the synthetic stand-in.
    pub synthetic: bool,
    /// The training settings.
    pub training: crate::spec::TrainingSpec,
    /// Per model, one run per seed.
    pub models: Vec<TrainedModel>,
}

/// One model of [`TrainSummary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainedModel {
    /// Zoo model name.
    pub model: String,
    /// One entry per training seed.
    pub runs: Vec<TrainingRun>,
}

/// One training run of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingRun {
    /// Training seed.
    pub seed: u64,
    /// Metric name → value (validation and test metrics, epochs, seconds, parameters).
    #[serde(flatten)]
    pub metrics: std::collections::BTreeMap<String, f64>,
}

/// One file of `validate --format json` (the document is an array, one per valid file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidateSummary {
    /// The file.
    pub file: String,
    /// Space name.
    pub name: String,
    /// Space seed.
    pub seed: u64,
    /// Whether quality will come from the synthetic stand-in.
    pub synthetic_data: bool,
    /// One entry per (pipeline, backend mapping) template.
    pub templates: Vec<TemplateSummary>,
    /// Points before the structural constraints.
    pub points_before_constraints: u64,
    /// Points meeting them (absent when the space is too large to count).
    pub points_after_constraints: Option<u64>,
}

/// One template of [`ValidateSummary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateSummary {
    /// Stages.
    pub stages: usize,
    /// Backend per stage.
    pub backends: Vec<String>,
    /// Points of the template.
    pub points: u64,
    /// Its knobs.
    pub knobs: Vec<KnobSummary>,
}

/// One knob of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnobSummary {
    /// Knob name.
    pub knob: String,
    /// Number of values.
    pub size: u64,
    /// The values in words.
    pub domain: String,
}
