//! `recpipe-dse bench pareto`: front ranks and hypervolume by the algorithms reports use (rank sweeps, HV3D,
//! WFG; [`crate::pareto`]) side by side with the textbook ones they replaced ([`crate::pareto::reference`]:
//! the quadratic non-dominated sort and hypervolume by slicing), timed in one process on the same sets, with
//! a check that both give the same ranks and the same hypervolume.
//!
//! Sets: uniform points in the unit cube (a small first front, many fronts), points near the unit simplex (a
//! large first front; 4-objective sets are capped at 20,000 and 2,000 points), and the feasible points of explore journals (`--journal`
//! with `--space`: one objective vector per point id, in the space's objectives). The reference ranks need
//! O(N²) time and memory, so they run only up to `--reference-max` points.

use super::output;
use super::{CliError, OutputFormat};
use crate::explore::journal::read_records;
use crate::explore::objective_vector;
use crate::pareto::{hypervolume, non_dominated_ranks, objective_matrix, reference, reference_point};
use crate::spec::load_space;
use anyhow::{anyhow, Context};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `bench pareto`.
#[derive(Debug, Args)]
pub struct BenchParetoArgs {
    /// Points per generated set.
    #[arg(long, default_value_t = 20_000)]
    pub points: usize,
    /// Largest set the reference algorithms run on (their ranks take O(N²) time and memory).
    #[arg(long, default_value_t = 20_000)]
    pub reference_max: usize,
    /// Seed of the generated sets.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Explore journals whose feasible points are ranked too (needs --space; of a journal holding several
    /// evaluations' records, the fingerprint with the most points).
    #[arg(long)]
    pub journal: Vec<PathBuf>,
    /// The space the journals belong to (its objectives make the vectors).
    #[arg(long)]
    pub space: Option<PathBuf>,
    /// Output format (`json`: a list of rows, see [`BenchParetoRow`]).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// One set, both algorithms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchParetoRow {
    /// The set.
    pub set: String,
    /// Points.
    pub points: usize,
    /// Objectives.
    pub objectives: usize,
    /// Points on the first front.
    pub front: usize,
    /// Number of fronts.
    pub fronts: usize,
    /// Ranks by the sweep (or the quadratic sort from 4 objectives), ms.
    pub ranks_ms: f64,
    /// Ranks by the reference quadratic sort, ms (absent above `--reference-max`).
    pub reference_ranks_ms: Option<f64>,
    /// Hypervolume (reference point: worst value plus 10 % of the range), by HV3D/WFG/sweep, ms.
    pub hypervolume_ms: f64,
    /// Hypervolume by slicing, ms (absent above `--reference-max`).
    pub reference_hypervolume_ms: Option<f64>,
    /// The hypervolume.
    pub hypervolume: f64,
    /// Whether both rankings are equal (absent without the reference).
    pub same_ranks: Option<bool>,
    /// |fast − reference| / reference hypervolume (absent without the reference).
    pub hypervolume_rel_diff: Option<f64>,
}

/// xorshift64* in [0, 1).
struct Uniform(u64);

impl Uniform {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn generated(args: &BenchParetoArgs) -> Vec<(String, Vec<Vec<f64>>)> {
    let mut rng = Uniform(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut sets = Vec::new();
    for d in 2..=4 {
        // Ranks of 4 objectives are quadratic in both algorithms: those sets stay at 20,000 points.
        let n = if d == 4 { args.points.min(20_000) } else { args.points };
        let cube: Vec<Vec<f64>> = (0..n).map(|_| (0..d).map(|_| rng.next()).collect()).collect();
        sets.push((format!("uniform cube, {d} objectives"), cube));
        // The simplex sets have large fronts; the 4-objective one is kept small enough for WFG's recursion.
        let n = if d == 4 { args.points.min(2_000) } else { args.points };
        let simplex = (0..n)
            .map(|_| {
                let v: Vec<f64> = (0..d).map(|_| -rng.next().max(1e-12).ln()).collect();
                let s: f64 = v.iter().sum();
                v.iter().map(|x| x / s + 0.02 * rng.next()).collect()
            })
            .collect();
        sets.push((format!("near the simplex, {d} objectives"), simplex));
    }
    sets
}

fn journal_set(space: &crate::spec::Space, path: &PathBuf) -> Result<Vec<Vec<f64>>, CliError> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(CliError::input)?;
    // Per fingerprint (one evaluation's inputs), the feasible points by id; the largest evaluation is used.
    let mut runs: BTreeMap<String, BTreeMap<u64, Option<Vec<f64>>>> = BTreeMap::new();
    read_records(file, |record| {
        let v = objective_vector(space, &record.outcome);
        runs.entry(record.fingerprint).or_default().insert(record.id, v);
    })
    .with_context(|| format!("cannot read {}", path.display()))
    .map_err(CliError::runtime)?;
    let largest = runs.into_values().max_by_key(BTreeMap::len).unwrap_or_default();
    Ok(largest.into_values().flatten().collect())
}

fn measure(set: String, rows: &[Vec<f64>], reference_max: usize) -> BenchParetoRow {
    let matrix = objective_matrix(rows.iter().map(Vec::as_slice));
    let t = Instant::now();
    let ranks = non_dominated_ranks(&matrix);
    let ranks_ms = t.elapsed().as_secs_f64() * 1e3;
    let r = reference_point(&matrix, crate::report::REFERENCE_MARGIN).unwrap_or_default();
    let t = Instant::now();
    let hv = hypervolume(&matrix, &r);
    let hypervolume_ms = t.elapsed().as_secs_f64() * 1e3;
    let mut row = BenchParetoRow {
        set,
        points: rows.len(),
        objectives: matrix.ncols(),
        front: ranks.iter().filter(|&&k| k == 0).count(),
        fronts: ranks.iter().max().map_or(0, |m| m + 1),
        ranks_ms,
        reference_ranks_ms: None,
        hypervolume_ms,
        reference_hypervolume_ms: None,
        hypervolume: hv,
        same_ranks: None,
        hypervolume_rel_diff: None,
    };
    if rows.len() <= reference_max {
        let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let t = Instant::now();
        let slow = reference::ranks_quadratic(&refs);
        row.reference_ranks_ms = Some(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let slow_hv = reference::hypervolume_slicing(&matrix, &r);
        row.reference_hypervolume_ms = Some(t.elapsed().as_secs_f64() * 1e3);
        row.same_ranks = Some(slow == ranks);
        row.hypervolume_rel_diff =
            Some(if slow_hv > 0.0 { (hv - slow_hv).abs() / slow_hv } else { (hv - slow_hv).abs() });
    }
    row
}

/// Run `bench pareto`.
pub fn run(args: &BenchParetoArgs) -> Result<(), CliError> {
    if !args.journal.is_empty() && args.space.is_none() {
        return Err(CliError::input(anyhow!("--journal: give the journals' space with --space")));
    }
    let mut sets = generated(args);
    if let Some(space_path) = &args.space {
        let space = load_space(space_path).map_err(CliError::input)?;
        for path in &args.journal {
            sets.push((format!("{} feasible points", path.display()), journal_set(&space, path)?));
        }
    }
    let rows: Vec<BenchParetoRow> = sets
        .into_iter()
        .map(|(name, points)| {
            output::note(&format!("bench pareto: {name} ({} points)", points.len()));
            measure(name, &points, args.reference_max)
        })
        .collect();
    output::result(args.format, &rows, || {
        let ms = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.1}"));
        let ratio =
            |slow: Option<f64>, fast: f64| slow.map_or("—".to_string(), |s| format!("{:.0}×", s / fast.max(1e-6)));
        let mut text = String::from(
            "set | points | objectives | front | fronts | ranks ms (reference) | speed-up | hypervolume ms (reference) | speed-up | same ranks | HV rel. diff\n",
        );
        for r in &rows {
            text += &format!(
                "{} | {} | {} | {} | {} | {:.1} ({}) | {} | {:.1} ({}) | {} | {} | {}\n",
                r.set,
                r.points,
                r.objectives,
                r.front,
                r.fronts,
                r.ranks_ms,
                ms(r.reference_ranks_ms),
                ratio(r.reference_ranks_ms, r.ranks_ms),
                r.hypervolume_ms,
                ms(r.reference_hypervolume_ms),
                ratio(r.reference_hypervolume_ms, r.hypervolume_ms),
                r.same_ranks.map_or("—".into(), |b| b.to_string()),
                r.hypervolume_rel_diff.map_or("—".into(), |d| format!("{d:.1e}")),
            );
        }
        text
    });
    if rows.iter().any(|r| r.same_ranks == Some(false)) {
        return Err(CliError::runtime(anyhow!("the fast and the reference ranks differ (see the table)")));
    }
    Ok(())
}
