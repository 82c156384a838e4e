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
use crate::explore::{objective_vector, QualitySource, StageLatencySource};
use crate::pareto::{hypervolume, reference_point};
use crate::report::REFERENCE_MARGIN;
use crate::search::budgeted::{run_budgeted, Limits, TableEvaluation};
use crate::search::{self, exhaustive, SearchSettings, StrategyKind};
use crate::spec::{load_space, parse_space, PointId, Space};
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
    /// Seeds per strategy (1, 2, …; default 10, or 3 with `--suite`).
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Instead of one space, the held-out suite: `--spaces` generated variations of the test spaces (see
    /// `src/search/suite.rs`), each evaluated exhaustively once (cached under `--cache-dir`), every strategy
    /// scored at each of `--fractions`.
    #[arg(long, conflicts_with_all = ["space", "fraction"])]
    pub suite: bool,
    /// Seed of the suite's generated spaces.
    #[arg(long, default_value_t = 1, requires = "suite")]
    pub suite_seed: u64,
    /// Spaces in the suite.
    #[arg(long, default_value_t = 20, requires = "suite")]
    pub spaces: usize,
    /// Budgets of the suite, as fractions of each space's valid points.
    #[arg(long, value_delimiter = ',', default_value = "0.05,0.1,0.2", requires = "suite")]
    pub fractions: Vec<f64>,
    /// Also run the peers (Optuna NSGA-II and TPE, pymoo NSGA-II; `bench/peers.py`) on the suite.
    #[arg(long, requires = "suite")]
    pub peers: bool,
    /// Python with Optuna and pymoo for `--peers` (`bench/setup-peers.sh` makes it).
    #[arg(long, default_value = ".deps/peers/bin/python", requires = "peers")]
    pub python: PathBuf,
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

/// Every point's objective vector (minimisation form; `None`: infeasible), indexed by point id, with the
/// exhaustive front's hypervolume: the reference that strategies are scored against.
#[derive(Debug, Clone)]
pub struct ExhaustiveTable {
    /// Objective vector of each point id.
    pub vectors: Vec<Option<Vec<f64>>>,
    /// Hypervolume reference point: the worst feasible value of each objective plus [`REFERENCE_MARGIN`] of
    /// its range (empty when no point is feasible).
    pub reference: Vec<f64>,
    /// Hypervolume of all feasible points.
    pub hypervolume: f64,
    /// Structurally valid points (the base of the budget fractions).
    pub valid: u64,
}

impl ExhaustiveTable {
    /// Hypervolume of `ids` as a fraction of the exhaustive hypervolume.
    pub fn hv_ratio(&self, ids: &[PointId]) -> f64 {
        let points: Vec<Vec<f64>> = ids.iter().filter_map(|id| self.vectors[id.0 as usize].clone()).collect();
        if self.hypervolume > 0.0 {
            hypervolume(&points, &self.reference) / self.hypervolume
        } else {
            0.0
        }
    }

    /// The budget of `fraction` of the valid points (at least 1).
    pub fn budget(&self, fraction: f64) -> u64 {
        ((self.valid as f64 * fraction).floor() as u64).max(1)
    }

    /// Feasible points.
    pub fn feasible(&self) -> usize {
        self.vectors.iter().filter(|v| v.is_some()).count()
    }
}

/// Evaluate every point of the evaluator's space (reusing the journal at `journal_path`, which keeps the
/// evaluations for the next call) into an [`ExhaustiveTable`]; `valid` is the space's structurally valid
/// point count ([`valid_point_count`], which callers often have already).
pub fn exhaustive_table(
    evaluator: &Evaluator,
    fingerprint: &str,
    journal_path: &Path,
    valid: u64,
) -> anyhow::Result<ExhaustiveTable> {
    let space = evaluator.space();
    let journal = Journal::open(journal_path, fingerprint)?;
    let n = space.point_count();
    let mut strategy = exhaustive::Exhaustive::new(space);
    let summary = Driver::new(evaluator, Some(&journal), DriverOptions::new(n)).run(&mut strategy);
    let vectors: Vec<Option<Vec<f64>>> =
        (0..n).map(|i| summary.outcomes.get(&PointId(i)).and_then(|o| objective_vector(space, o))).collect();
    let feasible: Vec<Vec<f64>> = vectors.iter().flatten().cloned().collect();
    let reference = reference_point(&feasible, REFERENCE_MARGIN).unwrap_or_default();
    let hypervolume = if feasible.is_empty() { 0.0 } else { hypervolume(&feasible, &reference) };
    Ok(ExhaustiveTable { vectors, reference, hypervolume, valid: valid.max(1) })
}

/// The points `kind` evaluates on `space` with `budget` and `seed`, answered from `table`, in order.
pub fn search_on_table(
    space: &Arc<Space>,
    table: &ExhaustiveTable,
    kind: StrategyKind,
    seed: u64,
    budget: u64,
) -> Vec<PointId> {
    let settings = SearchSettings::for_space(space, seed, budget);
    let mut strategy = search::build(kind, Arc::clone(space), settings);
    run_budgeted(strategy.as_mut(), space, Limits::budget(budget), &mut TableEvaluation::new(&table.vectors)).order
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
    let table = exhaustive_table(&evaluator, &fp, journal_path, valid_point_count(&space))?;
    if table.feasible() == 0 {
        return Err(anyhow!("{}: no feasible point in the space", space.source));
    }
    let budget = table.budget(fraction);
    let mut rows = Vec::new();
    for kind in searched_strategies() {
        for seed in 1..=seeds {
            let order = search_on_table(&space, &table, kind, seed, budget);
            rows.push(BenchRow {
                strategy: kind.name().to_string(),
                seed,
                evaluated_fraction: order.len() as f64 / table.valid as f64,
                hv_ratio: table.hv_ratio(&order),
            });
        }
    }
    Ok((table.hypervolume, rows))
}

/// Run the benchmark and print the ratios.
pub fn run(args: &BenchSearchArgs) -> Result<(), CliError> {
    if args.suite {
        return super::bench_search_suite::run(args);
    }
    let seeds = args.seeds.unwrap_or(10);
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
        Some(crate::explore::sources::open(&space, &args.sources.options()).map_err(CliError::by_cause)?)
    } else {
        None
    };
    let (quality, latency): (Option<&dyn QualitySource>, &dyn StageLatencySource) = match &opened {
        Some(o) => (Some(o.quality.as_ref()), o.latency.as_ref()),
        None => (None, &NoProfiles),
    };
    let params = opened.as_ref().map(|o| o.model_parameters.clone());
    let valid = valid_point_count(&space);
    let (hv, rows) = bench(Arc::clone(&space), quality, latency, params, &journal, args.fraction, seeds)
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
pub fn searched_strategies() -> Vec<StrategyKind> {
    use clap::ValueEnum;
    StrategyKind::value_variants().iter().copied().filter(|k| *k != StrategyKind::Exhaustive).collect()
}
