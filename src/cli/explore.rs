//! `recpipe-dse explore <space.yaml> [--resume] [--strategy …] [--budget N] [--seed N] [--out DIR]`: search a
//! design space, journal every evaluated point, and write a report folder `<out>/<space>-<timestamp>/`.
//!
//! The journal `<out>/<space>.journal.jsonl` is shared by all runs of a space: points finished by any
//! earlier run with the same evaluation inputs are reused, not re-evaluated. `--resume` continues the most
//! recent unfinished run of the space in its own report folder, with that run's strategy, budget and seed
//! (each can still be overridden). Ctrl-C stops after the points in flight; the journal stays intact.

use super::CliError;
use crate::explore::driver::{Driver, DriverOptions, PhaseTimes};
use crate::explore::evaluate::{fmt_num, EvalSettings};
use crate::explore::journal::{fingerprint, Journal};
use crate::explore::sources::{self, SourceOptions};
use crate::report::{self, compare::CompareRow, RunInfo};
use crate::search::{self, SearchSettings, StrategyKind};
use crate::spec::{load_space, Space};
use anyhow::{anyhow, Context};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// Arguments of `explore`.
#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// Design-space file.
    pub space: PathBuf,
    /// Continue the most recent unfinished run of this space (same folder, strategy, budget and seed).
    #[arg(long)]
    pub resume: bool,
    /// Search strategy (default: the space's `search.strategy`).
    #[arg(long, value_enum)]
    pub strategy: Option<StrategyKind>,
    /// Most design points evaluated (default: the space's `search.budget`).
    #[arg(long)]
    pub budget: Option<u64>,
    /// Seed of the search (default: the space's `search.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder receiving the report folders and the journal (default: the space's `output.dir`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Measure again, on this host, every CPU/GPU latency profile the space needs before searching (without it,
    /// only profiles that no host in the calibration folder has are measured).
    #[arg(long)]
    pub recalibrate: bool,
    /// Source folders (score cache, calibration).
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// Where the evaluation's sources live.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Folder of trained models and score caches.
    #[arg(long, default_value = ".cache")]
    pub cache_dir: PathBuf,
    /// Folder of calibration data (latency profiles).
    #[arg(long, default_value = "calib")]
    pub calib_dir: PathBuf,
}

impl SourceArgs {
    /// As source options.
    pub fn options(&self) -> SourceOptions {
        SourceOptions { cache_dir: self.cache_dir.clone(), calib_dir: self.calib_dir.clone() }
    }
}

/// What a report folder records about its run (`run.json`), for `--resume`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunState {
    strategy: StrategyKind,
    budget: u64,
    seed: u64,
    finished: bool,
    command: String,
}

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The process-wide stop flag raised by Ctrl-C (SIGINT); the handler is installed once.
pub fn stop_flag() -> Arc<AtomicBool> {
    STOP.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&flag);
        let _ = ctrlc::set_handler(move || {
            if f.swap(true, Ordering::SeqCst) {
                // Second Ctrl-C: leave now (the journal holds every finished point).
                std::process::exit(130);
            }
            eprintln!("\ninterrupt: finishing the points in flight (Ctrl-C again to quit now)");
        });
        flag
    })
    .clone()
}

/// Run `explore`.
pub fn run(args: &ExploreArgs) -> Result<(), CliError> {
    let t_all = Instant::now();
    let started = utc_stamp();
    let mut phases = PhaseTimes::default();
    let space = load_space(&args.space).map_err(CliError::input)?;
    let space = Arc::new(space);
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(&space.output_dir));
    let command = command_line();

    let previous = if args.resume { latest_unfinished(&out, &space.name).map_err(CliError::runtime)? } else { None };
    if args.resume && previous.is_none() {
        eprintln!("note: no unfinished run of '{}' under {}; starting a new one", space.name, out.display());
    }
    let strategy = match &args.strategy {
        Some(s) => *s,
        None => previous.as_ref().map_or(space.search.strategy, |(_, st)| st.strategy),
    };
    let budget = args.budget.or(previous.as_ref().map(|(_, st)| st.budget)).unwrap_or(space.search.budget);
    let seed = args.seed.or(previous.as_ref().map(|(_, st)| st.seed)).unwrap_or(space.search.seed);
    if budget == 0 {
        return Err(CliError::input(anyhow!("--budget: must be ≥ 1, got 0")));
    }
    if strategy == StrategyKind::Exhaustive && space.point_count() > budget {
        return Err(CliError::input(anyhow!(
            "{}: exhaustive search needs {} points but the budget is {budget}; raise --budget or use --strategy nsga2/annealing",
            space.source,
            space.point_count()
        )));
    }
    let dir = match &previous {
        Some((dir, _)) => dir.clone(),
        None => out.join(format!("{}-{started}", space.name)),
    };
    let t = Instant::now();
    let calibration = super::calibrate::CalibrateArgs::for_explore(
        args.space.clone(),
        args.sources.calib_dir.clone(),
        args.recalibrate,
    );
    super::calibrate::calibrate_space(&space, &calibration)?;
    phases.push("calibration (missing latency profiles)", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let opened = sources::open(&space, &args.sources.options()).map_err(CliError::input)?;
    phases.push("sources (score cache, calibration profiles)", t.elapsed().as_secs_f64());

    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))
        .map_err(CliError::runtime)?;
    let mut state = RunState { strategy, budget, seed, finished: false, command: command.clone() };
    write_state(&dir, &state).map_err(CliError::runtime)?;

    let settings = EvalSettings::from_space(&space);
    let evaluator = opened.evaluator(&space, settings);
    let fp = fingerprint(&space, &settings, &opened.descriptions());
    let journal_path = out.join(format!("{}.journal.jsonl", space.name));
    let journal = Journal::open(&journal_path, &fp)
        .with_context(|| format!("cannot open the journal {}", journal_path.display()))
        .map_err(CliError::runtime)?;
    if journal.known() > 0 {
        eprintln!("journal {}: {} finished points reusable", journal_path.display(), journal.known());
    }

    let search_settings = SearchSettings::for_space(&space, seed, budget);
    let mut strategy_impl = search::build(strategy, Arc::clone(&space), search_settings);
    let options = DriverOptions { budget, progress: true, stop: stop_flag(), stop_after_new: None };
    let driver = Driver::new(&evaluator, Some(&journal), options);
    let t = Instant::now();
    let summary = driver.run(strategy_impl.as_mut());
    let strategy_name = strategy_impl.name();
    drop(strategy_impl);
    phases.push("search and evaluation", t.elapsed().as_secs_f64());
    phases.eval_thread_s = evaluator.clock.seconds();

    let t = Instant::now();
    let compare = compare_from_metrics(&space, &summary);
    phases.push("comparison under the SLA", t.elapsed().as_secs_f64());
    let info = RunInfo {
        command: command.clone(),
        strategy: strategy_name,
        budget,
        search_seed: seed,
        sim_seed: settings.seed,
        dataset_seed: space.dataset.seed,
        versions: versions(),
        host: host_description(),
        started_utc: started,
        quality_source: opened.quality.describe(),
        latency_source: opened.latency.describe(),
        journal: format!("{} (fingerprint {fp})", journal_path.display()),
    };
    let t = Instant::now();
    let mut notes = opened.notes.clone();
    if opened.quality.is_synthetic() {
        notes.push("quality is measured on the seeded synthetic Criteo-shaped data (no train.txt found)".into());
    }
    phases.push("report", 0.0);
    let mut report = report::build(&space, &summary, info, phases.clone(), Some(compare), notes);
    let files = report::write(&dir, &report).map_err(CliError::runtime)?;
    let report_s = t.elapsed().as_secs_f64();
    report.phases.wall_s.pop();
    report.phases.push("report (tables, plots, report.md)", report_s);
    report.phases.push("total", t_all.elapsed().as_secs_f64());
    report::write(&dir, &report).map_err(CliError::runtime)?;

    let feasible = report.rows.iter().filter(|r| r.feasible).count();
    println!(
        "{}: {} points ({} evaluated, {} reused), {feasible} feasible, {} on the front, hypervolume {:.6e}",
        space.name,
        report.rows.len(),
        summary.evaluated,
        summary.reused,
        report.front().count(),
        report.hypervolume
    );
    println!("report: {} ({} files)", dir.display(), files.len());
    if summary.interrupted {
        write_state(&dir, &state).map_err(CliError::runtime)?;
        return Err(CliError::runtime(anyhow!(
            "interrupted after {} points; the journal is intact — continue with: recpipe-dse explore {} --resume",
            report.rows.len(),
            args.space.display()
        )));
    }
    state.finished = true;
    write_state(&dir, &state).map_err(CliError::runtime)?;
    Ok(())
}

/// The comparison table under the space's SLA, from the metrics already computed.
pub fn compare_from_metrics(space: &Space, summary: &crate::explore::RunSummary) -> String {
    let quality = crate::report::plots::quality_metric_of(space);
    let rows: Vec<CompareRow> = summary
        .order
        .iter()
        .filter_map(|id| {
            let o = summary.outcomes.get(id)?;
            let m = o.metrics();
            let cap = m.get("capacity_qps").filter(|c| *c > 0.0)?;
            if !o.is_feasible() {
                return None;
            }
            let design = space.design(*id)?;
            Some(CompareRow {
                id: id.0,
                pipeline: crate::explore::pipeline_label(space, &design),
                backends: space.templates[design.template]
                    .backends
                    .iter()
                    .map(|b| b.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                hardware: design
                    .stages
                    .iter()
                    .map(|s| crate::explore::hardware_label(space, &s.hardware))
                    .collect::<Vec<_>>()
                    .join(" + "),
                capacity_qps: cap,
                p95_ms: space
                    .load
                    .qps
                    .iter()
                    .map(|q| m.get(&format!("p95_ms@{}", crate::explore::evaluate::load_tag(*q))))
                    .collect(),
                quality: quality.as_ref().and_then(|q| m.get(q)),
                area_mm2: m.get("area_mm2"),
                power_w: m.get("power_w"),
            })
        })
        .collect();
    let sla = format!("p{} ≤ {} ms", fmt_num(space.sla.percentile), fmt_num(space.sla.target_ms));
    let rows = crate::report::compare::select(rows, 15);
    crate::report::compare::markdown(&rows, &sla, &space.load.qps, quality.as_deref())
}

fn write_state(dir: &Path, state: &RunState) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(state)?;
    let path = dir.join("run.json");
    report::write_atomic(&path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// The newest report folder of `name` under `out` whose `run.json` says unfinished.
fn latest_unfinished(out: &Path, name: &str) -> anyhow::Result<Option<(PathBuf, RunState)>> {
    let Ok(entries) = std::fs::read_dir(out) else { return Ok(None) };
    let prefix = format!("{name}-");
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix)))
        .collect();
    dirs.sort();
    for dir in dirs.into_iter().rev() {
        let Ok(text) = std::fs::read_to_string(dir.join("run.json")) else { continue };
        let state: RunState = serde_json::from_str(&text).with_context(|| format!("{}/run.json", dir.display()))?;
        if !state.finished {
            return Ok(Some((dir, state)));
        }
    }
    Ok(None)
}

/// The command line as typed (arguments with spaces quoted).
pub fn command_line() -> String {
    std::env::args()
        .map(|a| if a.contains(' ') || a.is_empty() { format!("'{a}'") } else { a })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Versions of the tool and the libraries behind its numbers.
pub fn versions() -> String {
    format!(
        "recpipe-dse {}; tch 0.24.0 (libtorch 2.11.0); polars 0.55; plotters 0.3.7; argmin 0.11; rustc-built release profile",
        crate::explore::VERSION
    )
}

/// Host name, CPU model and logical cores of this machine.
pub fn host_description() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{name}: {cpu}, {cores} logical cores")
}

/// Current UTC time as `YYYYmmddTHHMMSSZ`.
pub fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
