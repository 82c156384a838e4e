//! `recpipe-dse bench explore`: evaluation throughput (valid points per CPU-second, i.e. per core) and peak
//! memory of an exhaustive exploration, side by side with the reference evaluation path, in one process.
//!
//! * **Space.** By default a generated accelerator space of at least `--points` valid points (two RecPipeAccel
//!   stages: 4 model pairs × 4 sub-accelerator sizes × 8 counts per stage × generated item pairs; three
//!   offered loads, 10,000 queries each, as the Kaggle study; objectives p95, capacity and area, so no
//!   quality source is needed). `--space FILE` benches a space file instead, with its sources opened as
//!   `explore` opens them (trained models, calibration profiles).
//! * **Baseline** ([`Evaluator::with_baseline`]): the evaluation path before its exact speed-ups, i.e. every
//!   offered load and every capacity-search step simulated in full by the simulator as first written (fresh
//!   arrival draws per run, percentiles by value-range search, [`crate::sim::simulate_baseline`]). It runs on
//!   `--reference-points` ids drawn uniformly (seeded, fixed seed).
//! * **Full simulation** ([`Evaluator::with_full_simulation`]): the same, with today's simulator (shared
//!   arrival draws, percentiles by selection and index), on the same sample.
//! * **Current path**: the same sample again (the outcomes of all three must be identical; the bench counts
//!   mismatches and fails on any), then every point of the space through the explore driver (exhaustive
//!   strategy, rayon), followed by the front ranks and hypervolume of the feasible points, as a report
//!   computes them. The speed-up is the current path's rate on every point over the baseline's on the sample,
//!   and is also given over the full-simulation path's.
//! * **Throughput** is valid points (those passing the space's structural rules, i.e. reaching the
//!   simulator) per second of process CPU time (user + system), so it is per core whatever the thread count.
//!   **Peak RSS** is the process's `VmHWM` after the full run.

use super::explore::SourceArgs;
use super::output;
use super::{CliError, OutputFormat};
use crate::explore::evaluate::NoProfiles;
use crate::explore::{objective_vector, Driver, DriverOptions, EvalSettings, Evaluator, Outcome};
use crate::pareto::{hypervolume, non_dominated_ranks, objective_matrix, reference, reference_point};
use crate::search::{self, SearchSettings, StrategyKind};
use crate::spec::{load_space, parse_space, PointId, Space};
use anyhow::anyhow;
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `bench explore`.
#[derive(Debug, Args)]
pub struct BenchExploreArgs {
    /// Valid points of the generated space (at least; rounded up to whole item pairs).
    #[arg(long, default_value_t = 1_000_000)]
    pub points: u64,
    /// Sample evaluated by both paths (ids drawn uniformly with a fixed seed).
    #[arg(long, default_value_t = 2_000)]
    pub reference_points: u64,
    /// Bench this space file instead of the generated space.
    #[arg(long)]
    pub space: Option<PathBuf>,
    /// Write the generated space (of `--points` points) to this file and stop, e.g. to `explore` it.
    #[arg(long, conflicts_with = "space")]
    pub write_space: Option<PathBuf>,
    /// Where `--space`'s models and calibration profiles are.
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Output format (`json`: one object, see [`BenchExploreResult`]).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// One timed evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchExploreRow {
    /// What ran.
    pub path: String,
    /// Point ids evaluated.
    pub points: u64,
    /// Of them, valid (structurally allowed: they reach the simulator).
    pub valid_points: u64,
    /// Of them, feasible.
    pub feasible_points: u64,
    /// Process CPU time, s.
    pub cpu_s: f64,
    /// Wall time, s.
    pub wall_s: f64,
    /// Valid points per CPU-second.
    pub valid_points_per_core_s: f64,
}

/// What `bench explore` measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchExploreResult {
    /// The space benched.
    pub space: String,
    /// Its point ids.
    pub space_points: u64,
    /// Threads evaluating.
    pub threads: usize,
    /// The baseline, the full-simulation path and the current path on the sample, then the current path on
    /// every point.
    pub rows: Vec<BenchExploreRow>,
    /// Current / baseline valid points per core-second (whole space vs sample).
    pub speedup: f64,
    /// Current / full-simulation valid points per core-second (whole space vs sample).
    pub speedup_vs_full_simulation: f64,
    /// Sample points whose outcome by the baseline or the full-simulation path differs from the current
    /// path's (must be 0).
    pub mismatches: u64,
    /// Whether the sample's front ranks and hypervolume are equal by all paths (outcomes by each path, ranks
    /// and hypervolume by the textbook algorithms for the baseline and full simulation).
    pub sample_front_equal: bool,
    /// Feasible points of the whole space on the first front.
    pub front: usize,
    /// Their hypervolume (reference point: worst value plus 10 % of the range).
    pub hypervolume: f64,
    /// Peak resident set of the process after the full run, MiB.
    pub peak_rss_mib: Option<f64>,
}

/// Generated item pairs (first stage, second stage): `n` pairs, first ≥ 4 × second.
fn item_pairs(n: usize) -> Vec<(u32, u32)> {
    let seconds = [64u32, 96, 128, 192, 256, 384, 512];
    let mut out = Vec::with_capacity(n);
    let mut first = 4096u32;
    while out.len() < n {
        for &second in &seconds {
            if out.len() < n && first >= 4 * second {
                out.push((first, second));
            }
        }
        first -= 32;
        if first < 256 {
            break;
        }
    }
    out
}

/// Points of the generated space per item pair: 4 model pairs × (4 sizes × 8 counts)² sub-accelerators.
const POINTS_PER_PAIR: u64 = 4 * 32 * 32;

/// The generated space's YAML with at least `points` points (all valid).
pub fn generated_space_yaml(points: u64) -> String {
    let pairs = item_pairs(points.div_ceil(POINTS_PER_PAIR).max(1) as usize);
    let items: Vec<String> = pairs.iter().map(|(a, b)| format!("[{a}, {b}]")).collect();
    format!(
        "name: bench-explore
description: generated accelerator space for bench explore
seed: 11
dataset: {{ kind: criteo-kaggle, synthetic_fallback: true, eval_queries: 8, candidates_per_query: 4096 }}
models:
  - {{ name: rm-small, preset: rm-small }}
  - {{ name: rm-med, preset: rm-med }}
  - {{ name: rm-large, preset: rm-large }}
quality: {{ top_k: 64 }}
pipelines:
  - stages: 2
    models: [[rm-small, rm-med], [rm-med, rm-large]]
    items: [{}]
    backends: [[accel, accel]]
hardware:
  accel:
    mode: rpaccel
    presets: [accel/recpipe-s1.yaml, accel/recpipe-s4.yaml, accel/recpipe-s16.yaml, accel/recpipe-s64.yaml]
    count_per_stage: [1, 2, 3, 4, 6, 8, 12, 16]
load: {{ arrival: poisson, qps: [66.7, 400, 2000], queries: 10000, warmup_queries: 500 }}
sla: {{ percentile: 95, target_ms: 25 }}
objectives:
  - {{ metric: p95_ms, direction: minimize }}
  - {{ metric: capacity_qps, direction: maximize }}
  - {{ metric: area_mm2, direction: minimize }}
search: {{ strategy: exhaustive, budget: {}, seed: 1 }}
",
        items.join(", "),
        pairs.len() as u64 * POINTS_PER_PAIR
    )
}

/// Seed of the sample evaluated by both paths.
const SAMPLE_SEED: u64 = 0x5eed;

/// `k` distinct ids of `0..n` drawn uniformly (all of them when `k ≥ n`), in increasing order.
fn sample_ids(n: u64, k: u64, seed: u64) -> Vec<PointId> {
    if k >= n {
        return (0..n).map(PointId).collect();
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut chosen = std::collections::BTreeSet::new();
    while (chosen.len() as u64) < k {
        chosen.insert(rng.random_range(0..n));
    }
    chosen.into_iter().map(PointId).collect()
}

/// Process CPU time (user + system), s.
fn process_cpu_s() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is valid writable memory for one rusage; RUSAGE_SELF is always supported.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return f64::NAN;
    }
    // SAFETY: getrusage returned 0, so it initialised the struct.
    let u = unsafe { usage.assume_init() };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(u.ru_utime) + secs(u.ru_stime)
}

fn valid_count(space: &Space, ids: impl Iterator<Item = PointId>) -> u64 {
    ids.filter(|&id| space.design(id).is_some_and(|d| space.structural_violation(&d).is_none())).count() as u64
}

fn row(path: &str, space: &Space, ids: &[PointId], outcomes: &[&Outcome], cpu_s: f64, wall_s: f64) -> BenchExploreRow {
    let valid = valid_count(space, ids.iter().copied());
    BenchExploreRow {
        path: path.to_string(),
        points: ids.len() as u64,
        valid_points: valid,
        feasible_points: outcomes.iter().filter(|o| matches!(o, Outcome::Feasible(_))).count() as u64,
        cpu_s,
        wall_s,
        valid_points_per_core_s: valid as f64 / cpu_s,
    }
}

/// Timed parallel evaluation of `ids`.
fn evaluate_timed(evaluator: &Evaluator<'_>, ids: &[PointId]) -> (Vec<Outcome>, f64, f64) {
    let (cpu, wall) = (process_cpu_s(), Instant::now());
    let outcomes: Vec<Outcome> = ids.par_iter().map(|&id| evaluator.evaluate(id)).collect();
    (outcomes, process_cpu_s() - cpu, wall.elapsed().as_secs_f64())
}

/// Front ranks and hypervolume of the feasible outcomes, by the report's algorithms or by the textbook ones.
fn front_of(space: &Space, outcomes: &[&Outcome], textbook: bool) -> (Vec<usize>, f64) {
    let vectors: Vec<Vec<f64>> = outcomes.iter().filter_map(|o| objective_vector(space, o)).collect();
    if vectors.is_empty() {
        return (Vec::new(), 0.0);
    }
    let m = objective_matrix(vectors.iter().map(Vec::as_slice));
    let ranks = if textbook {
        reference::ranks_quadratic(&vectors.iter().map(Vec::as_slice).collect::<Vec<_>>())
    } else {
        non_dominated_ranks(&m)
    };
    let front: Vec<&[f64]> = vectors.iter().zip(&ranks).filter(|(_, &r)| r == 0).map(|(v, _)| v.as_slice()).collect();
    let front = objective_matrix(front);
    let hv = reference_point(&m, 0.1).map_or(0.0, |r| {
        if textbook {
            reference::hypervolume_slicing(&front, &r)
        } else {
            hypervolume(&front, &r)
        }
    });
    (ranks, hv)
}

/// Run the benchmark.
pub fn run(args: &BenchExploreArgs) -> Result<(), CliError> {
    if let Some(path) = &args.write_space {
        let text = generated_space_yaml(args.points);
        crate::durable::write_atomic(path, text.as_bytes())
            .map_err(|e| CliError::runtime(anyhow!("cannot write {}: {e}", path.display())))?;
        output::note(&format!("bench explore: generated space written to {}", path.display()));
        return Ok(());
    }
    let space = match &args.space {
        Some(path) => load_space(path).map_err(CliError::input)?,
        None => parse_space(&generated_space_yaml(args.points), "bench-explore (generated)", Path::new("."))
            .map_err(CliError::input)?,
    };
    let space = Arc::new(space);
    let opened = match &args.space {
        Some(_) => Some(crate::explore::sources::open(&space, &args.sources.options()).map_err(CliError::by_cause)?),
        None => None,
    };
    let settings = EvalSettings::from_space(&space);
    let evaluator = || match &opened {
        Some(o) => o.evaluator(&space, settings),
        None => Evaluator::new(&space, None, &NoProfiles, settings),
    };
    let n = space.point_count();
    let sample = sample_ids(n, args.reference_points, SAMPLE_SEED);
    output::note(&format!(
        "bench explore: {} ({n} points); baseline and full simulation on {} sampled points",
        space.name,
        sample.len()
    ));

    let mut rows = Vec::new();
    let mut sample_outcomes = Vec::new();
    for (label, eval) in [
        ("baseline (simulator as first written), sample", evaluator().with_baseline()),
        ("full simulation, sample", evaluator().with_full_simulation()),
        ("current, sample", evaluator()),
    ] {
        let (out, cpu, wall) = evaluate_timed(&eval, &sample);
        rows.push(row(label, &space, &sample, &out.iter().collect::<Vec<_>>(), cpu, wall));
        sample_outcomes.push(out);
    }
    let current_out = sample_outcomes.pop().expect("three paths");
    let current_refs: Vec<&Outcome> = current_out.iter().collect();
    let (cur_ranks, cur_hv) = front_of(&space, &current_refs, false);
    let mismatches =
        (0..sample.len()).filter(|&i| sample_outcomes.iter().any(|outs| outs[i] != current_out[i])).count();
    let sample_front_equal = sample_outcomes.iter().all(|outs| {
        let (ranks, hv) = front_of(&space, &outs.iter().collect::<Vec<_>>(), true);
        ranks == cur_ranks && (hv - cur_hv).abs() <= 1e-12 * hv.abs().max(1.0)
    });
    drop((sample_outcomes, current_out));

    output::note(&format!("bench explore: current path on all {n} points"));
    let full_eval = evaluator();
    let search_settings = SearchSettings::for_space(&space, 1, n);
    let mut strategy = search::build(StrategyKind::Exhaustive, Arc::clone(&space), search_settings);
    let mut options = DriverOptions::new(n);
    options.progress = super::progress::terminal();
    let (cpu, wall) = (process_cpu_s(), Instant::now());
    let summary = Driver::new(&full_eval, None, options).run(strategy.as_mut());
    let outcomes: Vec<&Outcome> = summary.order.iter().filter_map(|id| summary.outcomes.get(id)).collect();
    let (ranks, hv) = front_of(&space, &outcomes, false);
    let (cpu, wall) = (process_cpu_s() - cpu, wall.elapsed().as_secs_f64());
    rows.push(row("current, every point (driver, ranks, hypervolume)", &space, &summary.order, &outcomes, cpu, wall));
    let result = BenchExploreResult {
        space: space.name.clone(),
        space_points: n,
        threads: rayon::current_num_threads(),
        speedup: rows[3].valid_points_per_core_s / rows[0].valid_points_per_core_s,
        speedup_vs_full_simulation: rows[3].valid_points_per_core_s / rows[1].valid_points_per_core_s,
        rows,
        mismatches: mismatches as u64,
        sample_front_equal,
        front: ranks.iter().filter(|&&r| r == 0).count(),
        hypervolume: hv,
        peak_rss_mib: super::bench_data::peak_rss_bytes().map(|b| b as f64 / (1024.0 * 1024.0)),
    };
    output::result(args.format, &result, || {
        let mut text = format!(
            "{} ({} points, {} threads)\n{:<52} {:>9} {:>9} {:>9} {:>9} {:>8} {:>14}\n",
            result.space,
            result.space_points,
            result.threads,
            "path",
            "points",
            "valid",
            "feasible",
            "CPU s",
            "wall s",
            "valid/core-s"
        );
        for r in &result.rows {
            text += &format!(
                "{:<52} {:>9} {:>9} {:>9} {:>9.1} {:>8.1} {:>14.1}\n",
                r.path, r.points, r.valid_points, r.feasible_points, r.cpu_s, r.wall_s, r.valid_points_per_core_s
            );
        }
        text += &format!(
            "speed-up {:.2}x per core over the baseline ({:.2}x over full simulation); sample outcomes differing: {}; \
             sample front and hypervolume equal: {}\n",
            result.speedup,
            result.speedup_vs_full_simulation,
            result.mismatches,
            if result.sample_front_equal { "yes" } else { "NO" }
        );
        text += &format!(
            "front {} points, hypervolume {:.6e}; peak RSS {}",
            result.front,
            result.hypervolume,
            result.peak_rss_mib.map_or("unknown".into(), |m| format!("{m:.0} MiB"))
        );
        text
    });
    if result.mismatches > 0 || !result.sample_front_equal {
        return Err(CliError::runtime(anyhow!(
            "the current path's outcomes differ from the baseline's or the full simulation's on {} sampled points",
            result.mismatches
        )));
    }
    Ok(())
}
