//! `recpipe-dse bench search --suite`: every strategy, and optionally the peers (Optuna NSGA-II and TPE,
//! pymoo NSGA-II), on held-out spaces generated from a seed ([`crate::search::suite`]).
//!
//! Files, under `<cache-dir>/bench-search/suite-<seed>/`:
//! * `<space>.yaml`: the generated spaces (each can be explored or benchmarked on its own);
//! * `<space>.journal.jsonl`: their exhaustive evaluations (the cache: a second run evaluates nothing);
//! * `peers/<space>/space.json`, `table.csv`: the exported lookup of point → objectives the peers search
//!   over, and `peer-<name>-seed<k>.ids`, the points each peer evaluated, in order;
//! * `results.csv`: one row per (space, strategy or peer, seed, fraction) with its hypervolume ratio.
//!
//! Our strategies run once per budget (they size their phases from it); the peers are anytime algorithms
//! that do not know the budget, so each runs once at the largest fraction and is scored on the prefixes.

use super::bench_search::{exhaustive_table, search_on_table, searched_strategies, BenchSearchArgs, ExhaustiveTable};
use super::CliError;
use crate::explore::evaluate::{EvalSettings, Evaluator, NoProfiles};
use crate::explore::journal::fingerprint;
use crate::explore::sources;
use crate::search::suite::{self, SuiteSpace};
use crate::spec::{parse_space, PointId, Space};
use anyhow::{anyhow, Context};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Generated spaces with more point ids than this are redrawn (their exhaustive evaluation would be long).
pub const MAX_SUITE_IDS: u64 = 400_000;

/// Generated spaces with fewer feasible points are discarded (nothing to search for).
pub const MIN_FEASIBLE: usize = 10;

/// The peers `bench/peers.py` runs.
pub const PEERS: [&str; 3] = ["optuna-nsga2", "optuna-tpe", "pymoo-nsga2"];

/// Optuna's TPE runs only on spaces whose budget (at the largest fraction) is at most this many points: its
/// cost per trial grows faster than the square of the trials (0.3 s per trial at 2,000 trials, over 1 s at
/// 3,500 on the 2-core development machine), so the 10,000-point budgets of the largest spaces would take
/// days.
pub const TPE_MAX_BUDGET: u64 = 400;

/// Trials TPE may spend per point of its budget before it counts as stalled (the NSGA-II peers get 20):
/// on these discrete spaces TPE re-proposes points it has seen more and more often (5,740 trials for 126
/// distinct points in 9 minutes on one 1,437-point space), and is scored on the distinct points it found.
pub const TPE_TRIAL_CAP: u32 = 5;

/// One scored run.
#[derive(Debug, Clone)]
struct Scored {
    space: usize,
    who: String,
    seed: u64,
    fraction: f64,
    ratio: f64,
}

/// A generated space with its exhaustive table.
struct Evaluated {
    suite: SuiteSpace,
    space: Arc<Space>,
    table: ExhaustiveTable,
}

fn parse(name: &str, yaml: &str) -> Result<Space, String> {
    parse_space(yaml, &format!("{name}.yaml"), Path::new(".")).map_err(|e| e.to_string())
}

/// Run the suite and print its table.
pub fn run(args: &BenchSearchArgs) -> Result<(), CliError> {
    let fractions = &args.fractions;
    if fractions.is_empty() || fractions.iter().any(|f| !(*f > 0.0 && *f <= 1.0)) {
        return Err(CliError::input(anyhow!("--fractions: each must be in (0, 1], got {fractions:?}")));
    }
    if args.spaces == 0 {
        return Err(CliError::input(anyhow!("--spaces: must be ≥ 1, got 0")));
    }
    let seeds = args.seeds.unwrap_or(3).max(1);
    let dir = args.sources.cache_dir.join("bench-search").join(format!("suite-{}", args.suite_seed));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))
        .map_err(CliError::runtime)?;
    let mut measure = |yaml: &str| -> Result<u64, String> {
        let space = parse("generated", yaml)?;
        if space.point_count() > MAX_SUITE_IDS {
            return Err(format!("{} point ids (more than {MAX_SUITE_IDS})", space.point_count()));
        }
        Ok(super::bench_search::valid_point_count(&space))
    };
    let mut generator = suite::Generator::new(args.suite_seed);
    let mut evaluated = Vec::new();
    let mut discarded = Vec::new();
    while evaluated.len() < args.spaces {
        if discarded.len() > args.spaces {
            return Err(CliError::runtime(anyhow!(
                "suite {}: too many generated spaces without a feasible point: {}",
                args.suite_seed,
                discarded.join(", ")
            )));
        }
        let s = generator.next_space(&mut measure).map_err(|e| CliError::runtime(anyhow!(e)))?;
        let path = dir.join(format!("{}.yaml", s.name));
        crate::durable::write_atomic(&path, s.yaml.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
            .map_err(CliError::runtime)?;
        let space = Arc::new(parse(&s.name, &s.yaml).map_err(|e| CliError::runtime(anyhow!(e)))?);
        let t = Instant::now();
        let table =
            match evaluate_space(&space, s.valid_points, &args.sources, &dir.join(format!("{}.journal.jsonl", s.name)))
            {
                Ok(t) if t.feasible() >= MIN_FEASIBLE => t,
                Ok(t) => {
                    eprintln!(
                        "{}: {} feasible points (< {MIN_FEASIBLE}); discarded, drawing another",
                        s.name,
                        t.feasible()
                    );
                    discarded.push(s.name);
                    continue;
                }
                Err(e) => return Err(CliError::runtime(e)),
            };
        eprintln!(
            "{}: {} ids, {} valid, {} feasible, {} objectives; exhaustive table in {:.1} s",
            s.name,
            space.point_count(),
            table.valid,
            table.feasible(),
            space.objectives.len(),
            t.elapsed().as_secs_f64()
        );
        evaluated.push(Evaluated { suite: s, space, table });
    }

    let t = Instant::now();
    let mut jobs = Vec::new();
    for (i, _) in evaluated.iter().enumerate() {
        for kind in searched_strategies() {
            for seed in 1..=seeds {
                for &fraction in fractions {
                    jobs.push((i, kind, seed, fraction));
                }
            }
        }
    }
    let mut scored: Vec<Scored> = jobs
        .par_iter()
        .map(|&(i, kind, seed, fraction)| {
            let e = &evaluated[i];
            let order = search_on_table(&e.space, &e.table, kind, seed, e.table.budget(fraction));
            Scored { space: i, who: kind.name(), seed, fraction, ratio: e.table.hv_ratio(&order) }
        })
        .collect();
    eprintln!("strategies: {} runs in {:.1} s", jobs.len(), t.elapsed().as_secs_f64());
    if args.peers {
        scored.extend(run_peers(&evaluated, &dir, &args.python, seeds, fractions)?);
    }
    write_results(&dir.join("results.csv"), &evaluated, &scored).map_err(CliError::runtime)?;
    print!("{}", table_text(&evaluated, &scored, fractions, seeds, args.suite_seed));
    Ok(())
}

/// The exhaustive table of one generated space, with the real sources when it measures quality.
fn evaluate_space(
    space: &Space,
    valid: u64,
    source_args: &super::explore::SourceArgs,
    journal: &Path,
) -> anyhow::Result<ExhaustiveTable> {
    let settings = EvalSettings::from_space(space);
    if Evaluator::needs_quality(space) {
        let mut options = source_args.options();
        options.progress = crate::progress::quiet();
        let opened = sources::open(space, &options)?;
        let evaluator = opened.evaluator(space, settings);
        exhaustive_table(&evaluator, &fingerprint(space, &settings, &opened.descriptions()), journal, valid)
    } else {
        let evaluator = Evaluator::new(space, None, &NoProfiles, settings);
        exhaustive_table(&evaluator, &fingerprint(space, &settings, &[NoProfiles.describe_static()]), journal, valid)
    }
}

/// Export each space's lookup table, run `bench/peers.py`, and score the points each peer evaluated.
fn run_peers(
    evaluated: &[Evaluated],
    dir: &Path,
    python: &Path,
    seeds: u64,
    fractions: &[f64],
) -> Result<Vec<Scored>, CliError> {
    let largest = fractions.iter().copied().fold(0.0, f64::max);
    let peers_dir = dir.join("peers");
    for e in evaluated {
        export_table(&peers_dir.join(&e.suite.name), e, e.table.budget(largest)).map_err(CliError::runtime)?;
    }
    // TPE gets a folder of links to the spaces small enough for it.
    let tpe_dir = dir.join("peers-tpe");
    let _ = std::fs::remove_dir_all(&tpe_dir);
    std::fs::create_dir_all(&tpe_dir)
        .with_context(|| format!("cannot create {}", tpe_dir.display()))
        .map_err(CliError::runtime)?;
    let tpe_runs = |e: &Evaluated| e.table.budget(largest) <= TPE_MAX_BUDGET;
    for e in evaluated.iter().filter(|e| tpe_runs(e)) {
        let target = std::path::absolute(peers_dir.join(&e.suite.name))
            .map_err(|e| CliError::runtime(anyhow::Error::from(e)))?;
        std::os::unix::fs::symlink(&target, tpe_dir.join(&e.suite.name))
            .with_context(|| format!("cannot link {}", target.display()))
            .map_err(CliError::runtime)?;
    }
    let seed_list: Vec<String> = (1..=seeds).map(|s| s.to_string()).collect();
    // Trial caps (× the budget): TPE re-proposes known points more and more often on these discrete spaces
    // while its cost per trial grows, so it stops after TPE_TRIAL_CAP × budget trials.
    for (folder, peers, cap) in [(&peers_dir, "optuna-nsga2,pymoo-nsga2", 20), (&tpe_dir, "optuna-tpe", TPE_TRIAL_CAP)]
    {
        let t = Instant::now();
        let status = std::process::Command::new(python)
            .arg("bench/peers.py")
            .arg(folder)
            .args(["--seeds", &seed_list.join(","), "--fraction", &largest.to_string(), "--peers", peers])
            .args(["--trial-cap", &cap.to_string()])
            .args(["--jobs", &rayon::current_num_threads().to_string()])
            .status()
            .with_context(|| format!("cannot run {} (make it with bench/setup-peers.sh)", python.display()))
            .map_err(CliError::runtime)?;
        if !status.success() {
            return Err(CliError::runtime(anyhow!("bench/peers.py failed ({status})")));
        }
        eprintln!("peers {peers}: {:.1} s", t.elapsed().as_secs_f64());
    }
    let mut out = Vec::new();
    for (i, e) in evaluated.iter().enumerate() {
        for peer in PEERS.into_iter().filter(|p| *p != "optuna-tpe" || tpe_runs(e)) {
            for seed in 1..=seeds {
                let path = peers_dir.join(&e.suite.name).join(format!("peer-{peer}-seed{seed}.ids"));
                let ids = read_ids(&path).map_err(CliError::runtime)?;
                for &fraction in fractions {
                    let prefix = &ids[..ids.len().min(e.table.budget(fraction) as usize)];
                    out.push(Scored {
                        space: i,
                        who: peer.to_string(),
                        seed,
                        fraction,
                        ratio: e.table.hv_ratio(prefix),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// `space.json` (templates' offsets and radices, objective count, budget) and `table.csv` (`id,o1,…`; empty
/// cells for an infeasible point) for the peers.
fn export_table(dir: &Path, e: &Evaluated, budget: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let templates: Vec<serde_json::Value> = e
        .space
        .templates
        .iter()
        .map(|t| serde_json::json!({"offset": t.offset, "radices": t.params.iter().map(|p| p.radix).collect::<Vec<_>>()}))
        .collect();
    let n = e.space.objectives.len();
    let meta = serde_json::json!({"name": e.suite.name, "objectives": n, "budget": budget, "templates": templates});
    let meta_text = serde_json::to_string_pretty(&meta)?;
    let mut csv = String::from("id");
    for k in 1..=n {
        let _ = write!(csv, ",o{k}");
    }
    csv.push('\n');
    for (id, v) in e.table.vectors.iter().enumerate() {
        let _ = write!(csv, "{id}");
        match v {
            Some(v) => v.iter().for_each(|x| {
                let _ = write!(csv, ",{x:e}");
            }),
            None => csv.push_str(&",".repeat(n)),
        }
        csv.push('\n');
    }
    let unchanged = std::fs::read_to_string(dir.join("space.json")).is_ok_and(|t| t == meta_text)
        && std::fs::read_to_string(dir.join("table.csv")).is_ok_and(|t| t == csv);
    if !unchanged {
        // A changed table invalidates the peers' earlier results.
        for entry in std::fs::read_dir(dir)?.flatten() {
            if entry.path().extension().is_some_and(|x| x == "ids") {
                std::fs::remove_file(entry.path())?;
            }
        }
        crate::durable::write_atomic(&dir.join("space.json"), meta_text.as_bytes())?;
        crate::durable::write_atomic(&dir.join("table.csv"), csv.as_bytes())?;
    }
    Ok(())
}

/// The point ids of a peer's `.ids` file (lines starting with `#` are notes).
fn read_ids(path: &PathBuf) -> anyhow::Result<Vec<PointId>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            l.trim()
                .parse::<u64>()
                .map(PointId)
                .map_err(|_| anyhow!("{}:{}: not a point id: {l:?}", path.display(), i + 1))
        })
        .collect()
}

fn write_results(path: &Path, evaluated: &[Evaluated], scored: &[Scored]) -> anyhow::Result<()> {
    let mut text = String::from("space,valid_points,strategy,seed,fraction,hv_ratio\n");
    for s in scored {
        let e = &evaluated[s.space];
        let _ = writeln!(text, "{},{},{},{},{},{:.6}", e.suite.name, e.table.valid, s.who, s.seed, s.fraction, s.ratio);
    }
    crate::durable::write_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// The summary table (strategies and peers × fractions: mean over spaces and seeds, worst single run) and
/// the per-space table of worst-seed ratios at the largest fraction.
fn table_text(evaluated: &[Evaluated], scored: &[Scored], fractions: &[f64], seeds: u64, suite_seed: u64) -> String {
    let mut who: Vec<String> = Vec::new();
    for s in scored {
        if !who.contains(&s.who) {
            who.push(s.who.clone());
        }
    }
    let valid: Vec<u64> = evaluated.iter().map(|e| e.table.valid).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "held-out suite (seed {suite_seed}): {} spaces, {}–{} valid points; seeds 1–{seeds}; hypervolume ratio to exhaustive search",
        evaluated.len(),
        valid.iter().min().unwrap_or(&0),
        valid.iter().max().unwrap_or(&0)
    );
    let _ = write!(out, "| strategy |");
    for f in fractions {
        let _ = write!(out, " {:.0} % mean | {:.0} % worst |", f * 100.0, f * 100.0);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|{}", "---|---|".repeat(fractions.len()));
    for w in &who {
        let _ = write!(out, "| {w} |");
        for &f in fractions {
            let v: Vec<f64> =
                scored.iter().filter(|s| &s.who == w && (s.fraction - f).abs() < 1e-12).map(|s| s.ratio).collect();
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            let worst = v.iter().copied().fold(f64::INFINITY, f64::min);
            let _ = write!(out, " {mean:.4} | {worst:.4} |");
        }
        let _ = writeln!(out);
    }
    // Peers that ran on fewer spaces, compared with everyone on their spaces only.
    let spaces_of = |w: &String| -> Vec<usize> {
        let mut v: Vec<usize> = scored.iter().filter(|s| &s.who == w).map(|s| s.space).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    for w in &who {
        let subset = spaces_of(w);
        if subset.len() == evaluated.len() {
            continue;
        }
        let _ = writeln!(out, "\non the {} spaces {w} ran on (mean over spaces and seeds):", subset.len());
        for other in &who {
            let _ = write!(out, "| {other} |");
            for &f in fractions {
                let v: Vec<f64> = scored
                    .iter()
                    .filter(|s| &s.who == other && (s.fraction - f).abs() < 1e-12 && subset.contains(&s.space))
                    .map(|s| s.ratio)
                    .collect();
                let _ = write!(out, " {:.4} |", v.iter().sum::<f64>() / v.len().max(1) as f64);
            }
            let _ = writeln!(out);
        }
    }
    let largest = fractions.iter().copied().fold(0.0, f64::max);
    let _ = writeln!(out, "\nworst seed per space at {:.0} %:", largest * 100.0);
    let _ = write!(out, "| space | valid | feasible | objectives |");
    for w in &who {
        let _ = write!(out, " {w} |");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|---|---|---|{}", "---|".repeat(who.len()));
    for (i, e) in evaluated.iter().enumerate() {
        let objectives: Vec<String> = e.space.objectives.iter().map(|o| o.metric.to_string()).collect();
        let _ =
            write!(out, "| {} | {} | {} | {} |", e.suite.name, e.table.valid, e.table.feasible(), objectives.join(" "));
        for w in &who {
            let worst = scored
                .iter()
                .filter(|s| s.space == i && &s.who == w && (s.fraction - largest).abs() < 1e-12)
                .map(|s| s.ratio)
                .fold(f64::INFINITY, f64::min);
            if worst.is_finite() {
                let _ = write!(out, " {worst:.4} |");
            } else {
                let _ = write!(out, " — |");
            }
        }
        let _ = writeln!(out);
    }
    out
}
