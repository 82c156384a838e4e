//! Reports of an exploration run, built in memory ([`build`]) and written at the edge ([`write()`]) into
//! `reports/<space>-<timestamp>/`:
//!
//! * `points.csv` and `points.parquet` (polars): one row per evaluated point — knobs, every metric,
//!   feasibility and its reason, front rank ([`table`]);
//! * Pareto plots (plotters, PNG and SVG, DejaVu Sans embedded): quality vs p95 latency, capacity under the
//!   SLA vs quality, area and power vs capacity for accelerator points; the front is highlighted and axes
//!   carry units ([`plots`]);
//! * `report.md`: summary, hypervolume with its reference point and over the search's progress, best points
//!   per SLA, the side-by-side comparison under the SLA, phase times, the hosts the latency profiles came
//!   from, and how to reproduce the run (command, seeds, versions, host) ([`markdown`]);
//! * `report.html`: the same run as one self-contained interactive page — Pareto scatter plots with hover,
//!   filters, the SLA line, a sortable points table, the comparison and the hypervolume progress ([`html`]).
//!
//! Fronts are computed over feasible points on the space's objectives, as an objective matrix (one row per
//! feasible point, one column per objective, minimisation form, see [`crate::pareto`]); the hypervolume
//! reference point is the worst feasible value of each objective plus 10 % of its range, and is printed with
//! the value. Files are written to a temporary name and renamed.

pub mod compare;
pub mod figure;
pub mod html;
pub mod markdown;
pub mod models;
pub mod plots;
pub mod table;

use crate::explore::driver::{PhaseTimes, RunSummary};
use crate::explore::{hardware_label, objective_vector, pipeline_label, Outcome};
use crate::pareto::{hypervolume, non_dominated_ranks, objective_matrix, reference_point};
use crate::spec::metric::Direction;
use crate::spec::{PointId, Space};
use std::path::Path;

/// Margin of the hypervolume reference point beyond the worst feasible value, as a fraction of the range.
pub const REFERENCE_MARGIN: f64 = 0.1;

/// How a run was made (for reproduction).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInfo {
    /// The exact command line.
    pub command: String,
    /// Strategy description.
    pub strategy: String,
    /// Budget of distinct points.
    pub budget: u64,
    /// Seed of the search.
    pub search_seed: u64,
    /// Seed of the simulations.
    pub sim_seed: u64,
    /// Seed of the data set (quality).
    pub dataset_seed: u64,
    /// Crate and library versions.
    pub versions: String,
    /// Host description (name, CPU, cores).
    pub host: String,
    /// Start time, UTC.
    pub started_utc: String,
    /// Where quality comes from.
    pub quality_source: String,
    /// Where CPU/GPU latencies come from.
    pub latency_source: String,
    /// Journal file and fingerprint.
    pub journal: String,
}

/// One evaluated point as a report row.
#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    /// Point id.
    pub id: u64,
    /// Order in which the run accepted it (0-based).
    pub seq: usize,
    /// Pipeline in words.
    pub pipeline: String,
    /// Backends per stage, comma-separated.
    pub backends: String,
    /// Per stage: (model, items, hardware label, service-time source).
    pub stages: Vec<(String, u32, String, String)>,
    /// Feasible?
    pub feasible: bool,
    /// Why not.
    pub reason: Option<String>,
    /// Metrics (complete or partial).
    pub metrics: crate::explore::MetricValues,
    /// Objective vector in minimisation form (feasible points only).
    pub objectives: Option<Vec<f64>>,
    /// Front rank among feasible points (0 = Pareto front).
    pub rank: Option<usize>,
}

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Space name.
    pub space_name: String,
    /// Space file.
    pub space_file: String,
    /// Number of points in the space.
    pub space_points: u64,
    /// Objectives: (metric, direction).
    pub objectives: Vec<(String, Direction)>,
    /// SLA as text (`p95 ≤ 25 ms`).
    pub sla: String,
    /// Percentile the SLA bounds (95).
    pub sla_percentile: f64,
    /// SLA target, ms.
    pub sla_target_ms: f64,
    /// Offered loads, queries/s.
    pub loads_qps: Vec<f64>,
    /// How the run was made.
    pub info: RunInfo,
    /// Rows in acceptance order.
    pub rows: Vec<PointRow>,
    /// Hypervolume reference point (minimisation form), when there are feasible points.
    pub reference: Option<Vec<f64>>,
    /// Hypervolume of the feasible points.
    pub hypervolume: f64,
    /// Hypervolume after n accepted points: (n, value).
    pub progress: Vec<(usize, f64)>,
    /// Phase times.
    pub phases: PhaseTimes,
    /// Counts: (evaluated now, reused from the journal, repeats answered from memory).
    pub counts: (u64, u64, u64),
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// Whether the strategy stalled before the budget.
    pub stalled: bool,
    /// Set when the early stop ended the run (no front growth for `search.early_stop` of the budget).
    pub early_stop: Option<crate::search::budgeted::EarlyStop>,
    /// The comparison under the SLA.
    pub compare: Option<compare::ComparisonTable>,
    /// Extra notes (synthetic data, profile hosts, …).
    pub notes: Vec<String>,
    /// The zoo models with their own quality and size (the model-choice section).
    pub models: Vec<models::ModelInfo>,
    /// Quality metrics of the model-choice section.
    pub model_metrics: Vec<String>,
}

impl Report {
    /// Rows on the Pareto front.
    pub fn front(&self) -> impl Iterator<Item = &PointRow> {
        self.rows.iter().filter(|r| r.rank == Some(0))
    }
}

/// Rows of the run's points with objectives and front ranks.
pub fn rows(space: &Space, order: &[PointId], outcomes: &std::collections::HashMap<PointId, Outcome>) -> Vec<PointRow> {
    let mut rows: Vec<PointRow> = order
        .iter()
        .enumerate()
        .filter_map(|(seq, id)| {
            let outcome = outcomes.get(id)?;
            let design = space.design(*id)?;
            let m = outcome.metrics();
            let stages = design
                .stages
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    (
                        space.zoo[s.model].name.clone(),
                        s.items,
                        hardware_label(space, &s.hardware),
                        m.stage_sources.get(i).cloned().unwrap_or_default(),
                    )
                })
                .collect();
            let backends =
                space.templates[design.template].backends.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(",");
            Some(PointRow {
                id: id.0,
                seq,
                pipeline: pipeline_label(space, &design),
                backends,
                stages,
                feasible: outcome.is_feasible(),
                reason: match outcome {
                    Outcome::Infeasible { reason, .. } => Some(reason.clone()),
                    Outcome::Feasible(_) => None,
                },
                metrics: m.values.clone(),
                objectives: objective_vector(space, outcome),
                rank: None,
            })
        })
        .collect();
    let idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].objectives.is_some()).collect();
    let vectors = objective_matrix(idx.iter().map(|&i| rows[i].objectives.as_deref().expect("feasible")));
    for (k, r) in non_dominated_ranks(&vectors).into_iter().enumerate() {
        rows[idx[k]].rank = Some(r);
    }
    rows
}

/// The objective matrix of the feasible rows (one matrix row per feasible point, in acceptance order).
pub fn feasible_objectives(rows: &[PointRow]) -> ndarray::Array2<f64> {
    objective_matrix(rows.iter().filter_map(|r| r.objectives.as_deref()))
}

/// Hypervolume of the feasible rows after each of `checkpoints` evenly spaced prefixes (and the whole run).
pub fn progress(rows: &[PointRow], reference: &[f64], checkpoints: usize) -> Vec<(usize, f64)> {
    let n = rows.len();
    if n == 0 {
        return Vec::new();
    }
    let step = n.div_ceil(checkpoints.max(1)).max(1);
    let mut marks: Vec<usize> = (1..=n).filter(|k| k % step == 0).collect();
    if marks.last() != Some(&n) {
        marks.push(n);
    }
    // The feasible points of a prefix are the first rows of the run's feasible matrix.
    let feasible = feasible_objectives(rows);
    marks
        .into_iter()
        .map(|k| {
            let m = rows[..k].iter().filter(|r| r.objectives.is_some()).count();
            (k, hypervolume(&feasible.slice(ndarray::s![..m, ..]), reference))
        })
        .collect()
}

/// Build the report of a run.
pub fn build(
    space: &Space,
    summary: &RunSummary,
    info: RunInfo,
    phases: PhaseTimes,
    compare: Option<compare::ComparisonTable>,
    notes: Vec<String>,
    models: Vec<models::ModelInfo>,
) -> Report {
    let rows = rows(space, &summary.order, &summary.outcomes);
    let feasible = feasible_objectives(&rows);
    let reference = reference_point(&feasible, REFERENCE_MARGIN);
    let hv = reference.as_ref().map_or(0.0, |r| hypervolume(&feasible, r));
    let progress = reference.as_ref().map_or(Vec::new(), |r| progress(&rows, r, 20));
    Report {
        space_name: space.name.clone(),
        space_file: space.source.clone(),
        space_points: space.point_count(),
        objectives: space.objectives.iter().map(|o| (o.metric.to_string(), o.direction)).collect(),
        sla: format!(
            "p{} ≤ {} ms",
            crate::explore::evaluate::fmt_num(space.sla.percentile),
            crate::explore::evaluate::fmt_num(space.sla.target_ms)
        ),
        sla_percentile: space.sla.percentile,
        sla_target_ms: space.sla.target_ms,
        loads_qps: space.load.qps.clone(),
        info,
        rows,
        reference,
        hypervolume: hv,
        progress,
        phases,
        counts: (summary.evaluated, summary.reused, summary.repeats),
        interrupted: summary.interrupted,
        stalled: summary.stalled,
        early_stop: summary.early_stop,
        compare,
        notes,
        models,
        model_metrics: models::shown_metrics(space),
    }
}

/// Write every report file into `dir` (created if needed); returns the files written.
pub fn write(dir: &Path, report: &Report) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut files = write_data(dir, report)?;
    files.push(write_markdown(dir, report, &files)?);
    Ok(files)
}

/// Write the tables, plots and `report.html` into `dir` (created if needed); returns the files written.
pub fn write_data(dir: &Path, report: &Report) -> anyhow::Result<Vec<std::path::PathBuf>> {
    use anyhow::Context;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut files = table::write(dir, report)?;
    files.extend(plots::write(dir, report)?);
    let html_path = dir.join("report.html");
    crate::durable::write_atomic(&html_path, html::render(&html::report_data(report)).as_bytes())
        .with_context(|| format!("cannot write {}", html_path.display()))?;
    files.push(html_path);
    Ok(files)
}

/// Write `report.md`, listing `files` (the others written into `dir`); returns its path.
pub fn write_markdown(dir: &Path, report: &Report, files: &[std::path::PathBuf]) -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    let path = dir.join("report.md");
    crate::durable::write_atomic(&path, markdown::render(report, files).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
