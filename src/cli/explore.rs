//! `recpipe-dse explore <space.yaml> [--resume] [--strategy …] [--budget N] [--seed N] [--out DIR]`: search a
//! design space, journal every evaluated point, and write a report folder `<out>/<space>-<timestamp>/`.
//!
//! The journal `<out>/<space>.journal.jsonl` is shared by all runs of a space: points finished by any
//! earlier run with the same evaluation inputs are reused, not re-evaluated. `--resume` continues the most
//! recent unfinished run of the space in its own report folder, with that run's strategy, budget and seed
//! (each can still be overridden). Ctrl-C stops after the points in flight; the journal stays intact.
//! `--shard I/N` runs one shard of the run instead ([`super::shard`]).

use super::output::{self, detail, note, EarlyStopSummary, ExploreSummary};
use super::{CliError, OutputFormat, CACHE_ENV};
use crate::explore::driver::{Driver, DriverOptions, PhaseTimes};
use crate::explore::evaluate::EvalSettings;
use crate::explore::journal::{fingerprint, Journal};
pub use crate::explore::run::utc_stamp;
use crate::explore::run::{write_state, RunChoices, RunConfig, RunConfigError};
use crate::explore::sources::{self, SourceOptions};
use crate::report::{self, RunInfo};
use crate::search::budgeted::Limits;
use crate::search::{self, SearchSettings, StrategyKind};
use crate::spec::load_space_with;
use anyhow::{anyhow, Context};
use clap::Args;
use std::path::PathBuf;
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
    /// Stop once this fraction of the budget was evaluated without the Pareto front (and so the hypervolume)
    /// growing (default: the space's `search.early_stop`; exhaustive runs ignore it).
    #[arg(long, value_name = "FRACTION")]
    pub early_stop: Option<f64>,
    /// Folder receiving the report folders and the journal (default: the space's `output.dir`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Measure again, on this host, every CPU/GPU latency profile the space needs before searching (without it,
    /// only profiles that no host in the calibration folder has are measured).
    #[arg(long)]
    pub recalibrate: bool,
    /// Output format of the summary on stdout (`json`: one object, see `cli::output::ExploreSummary`).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Override a field of the space: `--set search.budget=500 --set load.qps=[100,400]` (a field path as
    /// errors print it, and a YAML value; repeatable, applied in order).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run one shard of the exploration and write only its journal: `I/N` (shard I of N, counted from 0),
    /// `auto` (index and count of a Slurm job array) or `auto/N` (index from Slurm or a Kubernetes indexed job's
    /// JOB_COMPLETION_INDEX). Needs `recpipe-dse prepare` first; `recpipe-dse merge` writes the report.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::explore::shard::ShardSpec>,
    /// Source folders (score cache, calibration).
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// Where the evaluation's sources live.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Folder of trained models and score caches.
    #[arg(long, default_value = ".cache", env = CACHE_ENV)]
    pub cache_dir: PathBuf,
    /// Folder of calibration data (latency profiles).
    #[arg(long, default_value = "calib")]
    pub calib_dir: PathBuf,
}

impl SourceArgs {
    /// As source options.
    pub fn options(&self) -> SourceOptions {
        SourceOptions {
            cache_dir: self.cache_dir.clone(),
            calib_dir: self.calib_dir.clone(),
            progress: super::progress::terminal(),
            offline: false,
        }
    }
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
    if let Some(spec) = args.shard {
        return super::shard::run(args, spec);
    }
    let t_all = Instant::now();
    let started = utc_stamp();
    let mut phases = PhaseTimes::default();
    let space = Arc::new(load_space_with(&args.space, &args.set).map_err(CliError::input)?);
    let command = command_line();
    let choices = RunChoices {
        strategy: args.strategy,
        budget: args.budget,
        seed: args.seed,
        early_stop: args.early_stop,
        out: args.out.clone(),
        resume: args.resume,
    };
    let config = RunConfig::resolve(&space, &choices, &started).map_err(|e| match e {
        RunConfigError::Input(m) => CliError::input(anyhow!(m)),
        RunConfigError::Io(e) => CliError::runtime(e),
    })?;
    if config.nothing_to_resume {
        note(&format!(
            "note: no unfinished run of '{}' under {}; starting a new one",
            space.name,
            config.out.display()
        ));
    }
    let (strategy, budget, seed) = (config.strategy, config.budget, config.seed);
    let t = Instant::now();
    let calibration =
        crate::measure::calibrate::CalibrationOptions::for_explore(args.sources.calib_dir.clone(), args.recalibrate);
    super::calibrate::calibrate_space(&space, &calibration, false, None)?;
    phases.push("calibration (missing latency profiles)", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let opened = sources::open(&space, &args.sources.options()).map_err(CliError::by_cause)?;
    phases.push("sources (score cache, calibration profiles)", t.elapsed().as_secs_f64());

    let settings = EvalSettings::from_space(&space);
    let evaluator = opened.evaluator(&space, settings);
    let fp = fingerprint(&space, &settings, &opened.descriptions());
    let journal_path = config.journal.clone();
    let journal = open_journal(&journal_path, &fp)?;
    // A new run's folder is named while the journal's lock is held: a run of the space that finished within
    // the same second has created its folder by now, so this one gets a `-02` of its own.
    let dir = if config.resumed {
        config.dir.clone()
    } else {
        crate::explore::run::fresh_run_folder(&config.out, &format!("{}-{started}", space.name))
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))
        .map_err(CliError::runtime)?;
    crate::durable::remove_stale_temps(&config.out);
    crate::durable::remove_stale_temps(&dir);
    let mut state = config.state(false, &command);
    write_state(&dir, &state).map_err(CliError::runtime)?;

    let search_settings = SearchSettings::for_space(&space, seed, budget);
    let mut strategy_impl = search::build(strategy, Arc::clone(&space), search_settings);
    let early_stop = config.early_stop.filter(|_| strategy != StrategyKind::Exhaustive);
    let driver = Driver::new(&evaluator, Some(&journal), driver_options(budget, early_stop));
    let t = Instant::now();
    let summary = driver.run(strategy_impl.as_mut());
    let strategy_name = strategy_impl.name();
    drop(strategy_impl);
    phases.push("search and evaluation", t.elapsed().as_secs_f64());
    if let Some(failure) = &summary.journal_error {
        return Err(journal_failure(failure, &format!("recpipe-dse explore {} --resume", args.space.display())));
    }
    phases.eval_thread_s = evaluator.clock.seconds();

    let t = Instant::now();
    let compare = crate::report::compare::table_of_run(&space, &summary);
    phases.push("comparison under the SLA", t.elapsed().as_secs_f64());
    let info = RunInfo {
        command: command.clone(),
        strategy: strategy_name.clone(),
        budget,
        search_seed: seed,
        sim_seed: settings.seed,
        dataset_seed: space.dataset.seed,
        versions: crate::explore::versions(),
        host: crate::measure::host::machine_description(),
        started_utc: started,
        quality_source: opened.quality.describe(),
        latency_source: opened.latency.describe(),
        journal: format!("{} (fingerprint {fp})", journal_path.display()),
    };
    let t = Instant::now();
    let (notes, models) = report_context(&space, &opened);
    phases.push("report", 0.0);
    let mut report = report::build(&space, &summary, info, phases.clone(), Some(compare), notes, models);
    // report.md lists the phase times, the report's own included: it is written last.
    let mut files = report::write_data(&dir, &report).map_err(CliError::runtime)?;
    let report_s = t.elapsed().as_secs_f64();
    report.phases.wall_s.pop();
    report.phases.push("report (tables, plots, report.html, report.md)", report_s);
    report.phases.push("total", t_all.elapsed().as_secs_f64());
    files.push(report::write_markdown(&dir, &report, &files).map_err(CliError::runtime)?);

    for (phase, seconds) in &report.phases.wall_s {
        detail(&format!("phase {phase}: {seconds:.2} s"));
    }
    detail(&format!("quality: {}", opened.quality.describe()));
    detail(&format!("latency: {}", opened.latency.describe()));
    detail(&format!("journal: {} (fingerprint {fp})", journal_path.display()));
    let result = ExploreSummary {
        space: space.name.clone(),
        source: args.space.display().to_string(),
        strategy: strategy_name,
        budget,
        search_seed: seed,
        sim_seed: settings.seed,
        points: report.rows.len() as u64,
        evaluated: summary.evaluated,
        reused: summary.reused,
        feasible: report.rows.iter().filter(|r| r.feasible).count() as u64,
        front: report.front().count() as u64,
        hypervolume: report.hypervolume,
        report_dir: dir.display().to_string(),
        files: files.iter().map(|f| f.display().to_string()).collect(),
        journal: journal_path.display().to_string(),
        fingerprint: fp.clone(),
        interrupted: summary.interrupted,
        early_stop: summary.early_stop.map(|e| EarlyStopSummary { at: e.at, last_growth: e.last_growth }),
    };
    output::result(args.format, &result, || {
        format!(
            "{}: {} points ({} evaluated, {} reused), {} feasible, {} on the front, hypervolume {:.6e}\nreport: {} ({} \
             files)",
            result.space,
            result.points,
            result.evaluated,
            result.reused,
            result.feasible,
            result.front,
            result.hypervolume,
            result.report_dir,
            result.files.len()
        )
    });
    if summary.interrupted {
        write_state(&dir, &state).map_err(CliError::runtime)?;
        return Err(CliError::interrupted(anyhow!(
            "stopped after {} points; the journal is intact — continue with: recpipe-dse explore {} --resume",
            report.rows.len(),
            args.space.display()
        )));
    }
    state.finished = true;
    write_state(&dir, &state).map_err(CliError::runtime)?;
    Ok(())
}

/// How `explore` drives a run of `budget` points: progress on the terminal, Ctrl-C stops after the points in
/// flight, the early stop after `early_stop` of the budget without front growth.
pub fn driver_options(budget: u64, early_stop: Option<f64>) -> DriverOptions {
    DriverOptions {
        budget,
        progress: super::progress::terminal(),
        stop: stop_flag(),
        stop_after_new: None,
        early_stop_after: Limits::with_early_stop(budget, early_stop).early_stop_after,
    }
}

/// The report's notes (the sources' notes, synthetic data) and model-choice section for `space` evaluated on
/// `opened`.
pub fn report_context(
    space: &crate::spec::Space,
    opened: &sources::Opened,
) -> (Vec<String>, Vec<report::models::ModelInfo>) {
    let mut notes = opened.notes.clone();
    if opened.quality.is_synthetic() {
        notes.push("quality is measured on the seeded synthetic Criteo-shaped data (no train.txt found)".into());
    }
    let models = report::models::infos(
        space,
        Some(opened.quality.as_ref()),
        &opened.model_parameters,
        &opened.model_typed_bytes,
    );
    (notes, models)
}

/// Open (and lock) a space's journal, saying what it holds: reusable points, a torn last line dropped, damaged
/// lines skipped.
pub fn open_journal(path: &std::path::Path, fingerprint: &str) -> Result<Journal, CliError> {
    let journal = Journal::open(path, fingerprint)
        .with_context(|| format!("cannot open the journal {}", path.display()))
        .map_err(CliError::runtime)?;
    if journal.torn_tail_bytes > 0 {
        note(&format!(
            "journal {}: dropped a torn last line ({} bytes) left by an interrupted run; its point is evaluated again",
            path.display(),
            journal.torn_tail_bytes
        ));
    }
    if journal.skipped_lines > 0 {
        note(&format!(
            "journal {}: skipped {} damaged or unreadable lines (their points are evaluated again)",
            path.display(),
            journal.skipped_lines
        ));
    }
    if journal.known() > 0 {
        note(&format!("journal {}: {} finished points reusable", path.display(), journal.known()));
    }
    Ok(journal)
}

/// The error of a run stopped by a failed journal append: nothing is reported (the disk is likely full), the
/// journal keeps every point appended before the failure.
/// `retry` is the command that continues.
pub fn journal_failure(failure: &str, retry: &str) -> CliError {
    CliError::runtime(anyhow!(
        "{failure}\nthe run stopped without a report; every point journaled before the failure is kept — free \
         space (or fix the folder), then continue with: {retry}"
    ))
}

/// The command line as typed (arguments with spaces quoted).
pub fn command_line() -> String {
    std::env::args()
        .map(|a| if a.contains(' ') || a.is_empty() { format!("'{a}'") } else { a })
        .collect::<Vec<_>>()
        .join(" ")
}
