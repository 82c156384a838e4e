//! `recpipe-dse bench search`: search quality of each strategy on a small space where exhaustive search is
//! possible — the hypervolume each reaches with a fraction of the evaluations, relative to the exhaustive
//! hypervolume (same reference point: the exhaustive run's worst feasible value plus 10 % of the range).
//! The budget is a fraction of the space's structurally valid points (points over the area budget or the
//! engine/GPU limits need no simulation, so an exhaustive search of them costs nothing worth counting);
//! every distinct point a strategy proposes counts against it, valid or not.
//!
//! The default space (`tests/spaces/bench-search.yaml`, embedded) is accelerator-only with latency,
//! capacity and area objectives, so it needs neither a score cache nor latency profiles; a space given with
//! `--space` that has quality objectives is evaluated with the real sources (score cache, calibration). Every point is
//! evaluated once (exhaustive run, into a temporary journal); the strategies then replay from it, so the
//! numbers measure search quality, not evaluation speed.

use super::CliError;
use crate::explore::driver::{Driver, DriverOptions};
use crate::explore::evaluate::{EvalSettings, Evaluator, NoProfiles};
use crate::explore::journal::{fingerprint, Journal};
use crate::explore::{QualitySource, StageLatencySource};
use crate::pareto::{hypervolume, reference_point};
use crate::report::REFERENCE_MARGIN;
use crate::search::{self, SearchSettings, StrategyKind};
use crate::spec::{load_space, parse_space, Space};
use anyhow::anyhow;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// The embedded default space.
pub const BENCH_SPACE: &str = include_str!("../../tests/spaces/bench-search.yaml");

/// Arguments of `bench search`.
#[derive(Debug, Args)]
pub struct BenchSearchArgs {
    /// A design space without quality objectives (default: the embedded bench-search space).
    #[arg(long)]
    pub space: Option<PathBuf>,
    /// Fraction of the space's structurally valid points each strategy may evaluate.
    #[arg(long, default_value_t = 0.2)]
    pub fraction: f64,
    /// Seeds per strategy (1, 2, …).
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// Source folders (score cache, calibration), for spaces with quality objectives.
    #[command(flatten)]
    pub sources: super::explore::SourceArgs,
}

/// One strategy's result.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// Strategy.
    pub strategy: String,
    /// Seed.
    pub seed: u64,
    /// Distinct points evaluated / structurally valid points in the space.
    pub evaluated_fraction: f64,
    /// Hypervolume / exhaustive hypervolume.
    pub hv_ratio: f64,
}

/// Points of `space` that pass its structural rules.
pub fn valid_point_count(space: &Space) -> u64 {
    // Spaces too large to enumerate are too large for an exhaustive reference run anyway.
    super::validate::count_points(space).1.unwrap_or_else(|| space.point_count())
}

/// Run every strategy on `space` against its exhaustive front; `journal` receives the evaluations. Without
/// a quality source the space must have no quality objective or constraint; with `model_parameters` the
/// memory-capacity rule applies.
pub fn bench(
    space: Arc<Space>,
    quality: Option<&dyn QualitySource>,
    latency: &dyn StageLatencySource,
    model_parameters: Option<Vec<u64>>,
    journal_path: &Path,
    fraction: f64,
    seeds: u64,
) -> anyhow::Result<(f64, Vec<BenchRow>)> {
    if quality.is_none() && Evaluator::needs_quality(&space) {
        return Err(anyhow!("{}: a quality objective or constraint needs a quality source", space.source));
    }
    let settings = EvalSettings::from_space(&space);
    let mut evaluator = Evaluator::new(&space, quality, latency, settings);
    if let Some(p) = &model_parameters {
        evaluator = evaluator.with_model_parameters(p.clone());
    }
    let fp = fingerprint(
        &space,
        &settings,
        &[
            quality.map_or("none".into(), |q| q.describe()),
            latency.describe(),
            format!("model parameters {model_parameters:?}"),
        ],
    );
    let _ = std::fs::remove_file(journal_path);
    let n = space.point_count();
    let run = |kind: StrategyKind, seed: u64, budget: u64| -> anyhow::Result<(usize, Vec<Vec<f64>>)> {
        let journal = Journal::open(journal_path, &fp)?;
        let s = SearchSettings::for_space(&space, seed, budget);
        let mut strategy = search::build(kind, Arc::clone(&space), s);
        let summary = Driver::new(&evaluator, Some(&journal), DriverOptions::new(budget)).run(strategy.as_mut());
        let vectors = summary
            .order
            .iter()
            .filter_map(|id| crate::explore::objective_vector(&space, &summary.outcomes[id]))
            .collect();
        Ok((summary.order.len(), vectors))
    };
    let (_, all) = run(StrategyKind::Exhaustive, 0, n)?;
    let reference = reference_point(&all, REFERENCE_MARGIN).ok_or_else(|| anyhow!("no feasible point in the space"))?;
    let hv_all = hypervolume(&all, &reference);
    let valid = valid_point_count(&space).max(1);
    let budget = ((valid as f64 * fraction).floor() as u64).max(1);
    let mut rows = Vec::new();
    for kind in searched_strategies() {
        for seed in 1..=seeds {
            let (evaluated, pts) = run(kind, seed, budget)?;
            rows.push(BenchRow {
                strategy: kind.name().to_string(),
                seed,
                evaluated_fraction: evaluated as f64 / valid as f64,
                hv_ratio: if hv_all > 0.0 { hypervolume(&pts, &reference) / hv_all } else { 0.0 },
            });
        }
    }
    Ok((hv_all, rows))
}

/// Run the benchmark and print the ratios.
pub fn run(args: &BenchSearchArgs) -> Result<(), CliError> {
    if !(args.fraction > 0.0 && args.fraction <= 1.0) {
        return Err(CliError::input(anyhow!("--fraction: must be in (0, 1], got {}", args.fraction)));
    }
    let space = match &args.space {
        Some(p) => load_space(p).map_err(CliError::input)?,
        None => parse_space(BENCH_SPACE, "tests/spaces/bench-search.yaml (embedded)", Path::new("."))
            .map_err(CliError::input)?,
    };
    let n = space.point_count();
    let journal = std::env::temp_dir().join(format!("recpipe-bench-search-{}.jsonl", std::process::id()));
    let t = Instant::now();
    let space = Arc::new(space);
    // Spaces with quality objectives use the real sources (score cache, calibration profiles).
    let opened = if Evaluator::needs_quality(&space) {
        Some(crate::explore::sources::open(&space, &args.sources.options()).map_err(CliError::input)?)
    } else {
        None
    };
    let (quality, latency): (Option<&dyn QualitySource>, &dyn StageLatencySource) = match &opened {
        Some(o) => (Some(o.quality.as_ref()), o.latency.as_ref()),
        None => (None, &NoProfiles),
    };
    let params = opened.as_ref().map(|o| o.model_parameters.clone());
    let valid = valid_point_count(&space);
    let (hv, rows) = bench(Arc::clone(&space), quality, latency, params, &journal, args.fraction, args.seeds)
        .map_err(CliError::runtime)?;
    let _ = std::fs::remove_file(&journal);
    println!(
        "space: {n} points ({valid} structurally valid); exhaustive hypervolume {hv:.6e}; budget per strategy {:.0} % of the valid points",
        args.fraction * 100.0
    );
    println!("{:<18} {:>5} {:>12} {:>10}", "strategy", "seed", "evaluated", "HV ratio");
    for r in &rows {
        println!("{:<18} {:>5} {:>11.1}% {:>10.4}", r.strategy, r.seed, r.evaluated_fraction * 100.0, r.hv_ratio);
    }
    for kind in searched_strategies().into_iter().map(StrategyKind::name) {
        let v: Vec<f64> = rows.iter().filter(|r| r.strategy == kind).map(|r| r.hv_ratio).collect();
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "{kind:<18} mean HV ratio {mean:.4}, worst {min:.4} with {:.0} % of the valid points (target: ≥ 0.95 with ≤ 20 %)",
            args.fraction * 100.0
        );
    }
    println!("wall time (exhaustive evaluation included): {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Every strategy that searches (all but exhaustive), from the one list of strategies.
fn searched_strategies() -> Vec<StrategyKind> {
    use clap::ValueEnum;
    StrategyKind::value_variants().iter().copied().filter(|k| *k != StrategyKind::Exhaustive).collect()
}
