//! `recpipe-dse merge <space.yaml> [JOURNAL…]`: the report of a sharded run (`explore --shard`).
//!
//! The shard journals (by default every `<out>/<space>.shard-I-of-N.journal.jsonl`) are streamed one line at
//! a time ([`crate::explore::journal::read_records`]) and folded into one run
//! ([`crate::explore::merge::Merger`]): each point once, in the order an unsharded run accepts it. The merge
//! refuses a shard set that is not one whole run ([`crate::explore::merge::check_shards`]), a journal holding
//! records of another fingerprint (another space, sources or version), a shard still running (its journal's
//! lock is held) and, unless `--partial`, a shard that did not finish. The report folder
//! `<out>/<space>-<timestamp>/` holds the files `explore` writes (`points.csv`/`.parquet`, plots,
//! `report.md`, `report.html`).

use super::explore::{command_line, utc_stamp, SourceArgs};
use super::output::{self, note, MergeSummary};
use super::{CliError, OutputFormat};
use crate::explore::driver::PhaseTimes;
use crate::explore::journal::read_records;
use crate::explore::merge::{check_shards, Merger};
use crate::explore::shard::{Shard, ShardState};
use crate::report::{self, RunInfo};
use crate::search::StrategyKind;
use crate::spec::load_space_with;
use anyhow::{anyhow, Context};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Design-space file (the one the shards ran, with the same `--set` overrides).
    pub space: PathBuf,
    /// Shard journals `<space>.shard-I-of-N.journal.jsonl` (default: every one under the output folder).
    pub journals: Vec<PathBuf>,
    /// Folder of the shard journals and of the report folder (default: the space's `output.dir`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Merge even when some shards did not finish (the report says which; their finished points are kept).
    #[arg(long)]
    pub partial: bool,
    /// Override a field of the space (as the shards were given).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output format of the summary on stdout (`json`: one object, see `cli::output::MergeSummary`).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Source folders (score cache, calibration) as `prepare` left them.
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// Run `merge`.
pub fn run(args: &MergeArgs) -> Result<(), CliError> {
    let t_all = Instant::now();
    let started = utc_stamp();
    let mut phases = PhaseTimes::default();
    let space = load_space_with(&args.space, &args.set).map_err(CliError::input)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(&space.output_dir));
    let journals = if args.journals.is_empty() { find_journals(&out, &space.name)? } else { args.journals.clone() };
    let mut shards = Vec::with_capacity(journals.len());
    for path in &journals {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let shard = Shard::from_journal_name(&name, &space.name).ok_or_else(|| {
            CliError::input(anyhow!(
                "{}: not a shard journal of space '{}' (expected {}.shard-I-of-N.journal.jsonl)",
                path.display(),
                space.name,
                space.name
            ))
        })?;
        shards.push((shard, read_state(path)?));
    }
    let t = Instant::now();
    let (opened, settings, fp) = super::prepare::open_prepared(&space, &args.sources)?;
    phases.push("sources (score cache, calibration profiles)", t.elapsed().as_secs_f64());
    let set = check_shards(&shards, &fp).map_err(|e| CliError::input(anyhow!("{}: {e}", out.display())))?;
    if !set.unfinished.is_empty() && !args.partial {
        let names: Vec<String> = set.unfinished.iter().map(|i| format!("{i}/{}", set.count)).collect();
        return Err(CliError::input(anyhow!(
            "shard(s) {} did not finish (see their .json state files beside the journals): run them again — each \
             continues from its journal — or merge what they finished with --partial",
            names.join(", ")
        )));
    }

    // Every shard journal locked (no shard still writes), then streamed in shard order.
    let t = Instant::now();
    let mut order: Vec<usize> = (0..shards.len()).collect();
    order.sort_by_key(|&k| shards[k].0.index);
    let who = command_line();
    let mut locks = Vec::with_capacity(order.len());
    for &k in &order {
        let lock = crate::durable::FileLock::try_acquire(&journals[k], &who)
            .with_context(|| format!("shard {} is still running", shards[k].0))
            .map_err(CliError::runtime)?;
        locks.push(lock);
    }
    let mut merger = Merger::new();
    let mut skipped = 0u64;
    for &k in &order {
        let path = &journals[k];
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot read {}", path.display()))
            .map_err(CliError::runtime)?;
        let mut foreign: Option<(String, u64)> = None;
        let stats = read_records(file, |record| {
            if record.fingerprint == fp {
                merger.add(record);
            } else {
                foreign.get_or_insert_with(|| (record.fingerprint.clone(), 0)).1 += 1;
            }
        })
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(CliError::runtime)?;
        if let Some((other, n)) = foreign {
            return Err(CliError::input(anyhow!(
                "{}: {n} record(s) carry fingerprint {other}, not this run's {fp} (they were evaluated for another \
                 space, other sources or another version); delete the journal and run shard {} again",
                path.display(),
                shards[k].0
            )));
        }
        if stats.skipped_lines > 0 || stats.torn_tail_bytes > 0 {
            note(&format!(
                "{}: {} damaged line(s) skipped{}; their points are missing — run shard {} again to evaluate them",
                path.display(),
                stats.skipped_lines,
                if stats.torn_tail_bytes > 0 { " and a torn last line" } else { "" },
                shards[k].0
            ));
        }
        skipped += stats.skipped_lines as u64 + u64::from(stats.torn_tail_bytes > 0);
    }
    drop(locks);
    let duplicates = merger.duplicates();
    let summary = merger.finish(set.strategy);
    phases.push("reading the shard journals", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let compare = report::compare::table_of_run(&space, &summary);
    phases.push("comparison under the SLA", t.elapsed().as_secs_f64());
    let kind = if set.strategy == StrategyKind::Exhaustive { "shards" } else { "islands" };
    let mut sorted_journals: Vec<String> = order.iter().map(|&k| journals[k].display().to_string()).collect();
    let info = RunInfo {
        command: who,
        strategy: format!("{} ({} {kind}, merged)", set.strategy, set.count),
        budget: set.run_budget,
        search_seed: set.run_seed,
        sim_seed: settings.seed,
        dataset_seed: space.dataset.seed,
        versions: crate::explore::versions(),
        host: crate::measure::host::machine_description(),
        started_utc: started.clone(),
        quality_source: opened.quality.describe(),
        latency_source: opened.latency.describe(),
        journal: format!("{} (fingerprint {fp})", sorted_journals.join(", ")),
    };
    let (mut notes, models) = super::explore::report_context(&space, &opened);
    notes.push(match set.strategy {
        StrategyKind::Exhaustive => {
            format!("merged from {} shards of one exhaustive run; block k of {} ids went to shard k mod {}", set.count, crate::search::exhaustive::CHUNK, set.count)
        }
        _ => format!(
            "merged from {} islands of {} (each its own seed and share of the budget); {duplicates} point(s) met by more than one island are counted once",
            set.count, set.strategy
        ),
    });
    if !set.unfinished.is_empty() {
        let names: Vec<String> = set.unfinished.iter().map(|i| format!("{i}/{}", set.count)).collect();
        notes.push(format!("partial merge: shard(s) {} had not finished", names.join(", ")));
    }
    if skipped > 0 {
        notes.push(format!("{skipped} damaged journal line(s) skipped; their points are missing"));
    }
    let t = Instant::now();
    phases.push("report", 0.0);
    let mut report = report::build(&space, &summary, info, phases, Some(compare), notes, models);
    let dir = crate::durable::claim_folder(&out, &format!("{}-{started}", space.name))
        .with_context(|| format!("cannot create a report folder under {}", out.display()))
        .map_err(CliError::runtime)?;
    let mut files = report::write_data(&dir, &report).map_err(CliError::runtime)?;
    report.phases.wall_s.pop();
    report.phases.push("report (tables, plots, report.html, report.md)", t.elapsed().as_secs_f64());
    report.phases.push("total", t_all.elapsed().as_secs_f64());
    files.push(report::write_markdown(&dir, &report, &files).map_err(CliError::runtime)?);

    let result = MergeSummary {
        space: space.name.clone(),
        shards: set.count,
        journals: std::mem::take(&mut sorted_journals),
        strategy: set.strategy.name(),
        points: report.rows.len() as u64,
        duplicates,
        skipped_lines: skipped,
        unfinished: set.unfinished.clone(),
        feasible: report.rows.iter().filter(|r| r.feasible).count() as u64,
        front: report.front().count() as u64,
        hypervolume: report.hypervolume,
        report_dir: dir.display().to_string(),
        files: files.iter().map(|f| f.display().to_string()).collect(),
        fingerprint: fp,
    };
    output::result(args.format, &result, || {
        format!(
            "{}: merged {} {kind}: {} points ({} duplicates), {} feasible, {} on the front, hypervolume {:.6e}\nreport: {} ({} files)",
            result.space,
            result.shards,
            result.points,
            result.duplicates,
            result.feasible,
            result.front,
            result.hypervolume,
            result.report_dir,
            result.files.len()
        )
    });
    Ok(())
}

/// Every shard journal of `space` under `out`, by name.
fn find_journals(out: &Path, space: &str) -> Result<Vec<PathBuf>, CliError> {
    let entries = std::fs::read_dir(out).map_err(|e| {
        CliError::input(anyhow!("{}: cannot list the shard journals: {e} (give --out or the journals)", out.display()))
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| Shard::from_journal_name(&n.to_string_lossy(), space).is_some()))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(CliError::input(anyhow!(
            "{}: no shard journal {space}.shard-I-of-N.journal.jsonl (run `recpipe-dse explore … --shard I/N` first)",
            out.display()
        )));
    }
    Ok(found)
}

/// The state file beside a shard journal; `None` when there is none (the shard counts as unfinished).
fn read_state(journal: &Path) -> Result<Option<ShardState>, CliError> {
    let path = Shard::state_path_of(journal);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CliError::input(anyhow!("{}: not a shard state file: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::runtime(anyhow!("cannot read {}: {e}", path.display()))),
    }
}
