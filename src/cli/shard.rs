//! `recpipe-dse explore <space.yaml> --shard I/N`: one shard of a run ([`crate::explore::shard`]) on sources
//! `prepare` made. It journals into `<out>/<space>.shard-I-of-N.journal.jsonl`, records what it ran in
//! `<space>.shard-I-of-N.json` and writes no report (`merge` writes the run's). Run again, it reuses its
//! journal, so a killed shard resubmitted as is continues where it stopped.

use super::explore::{command_line, driver_options, journal_failure, open_journal, ExploreArgs};
use super::output::{self, ShardSummary};
use super::CliError;
use crate::explore::driver::Driver;
use crate::explore::shard::{island_budget, island_seed, Shard, ShardSpec, ShardState};
use crate::search::exhaustive::Exhaustive;
use crate::search::{self, Search, SearchSettings, StrategyKind};
use crate::spec::load_space_with;
use anyhow::{anyhow, Context};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Run shard `spec` of `explore`.
pub fn run(args: &ExploreArgs, spec: ShardSpec) -> Result<(), CliError> {
    if args.resume || args.recalibrate {
        return Err(CliError::input(anyhow!(
            "--shard: a shard always continues from its own journal and never measures; drop --resume/--recalibrate \
             (run `recpipe-dse prepare` to measure)"
        )));
    }
    let shard = resolve(spec).map_err(|e| CliError::input(anyhow!(e)))?;
    let space = Arc::new(load_space_with(&args.space, &args.set).map_err(CliError::input)?);
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(&space.output_dir));
    let strategy = args.strategy.unwrap_or(space.search.strategy);
    let run_budget = args.budget.unwrap_or(space.search.budget);
    let run_seed = args.seed.unwrap_or(space.search.seed);
    let points = space.point_count();
    let (budget, seed) = if strategy == StrategyKind::Exhaustive {
        if points > run_budget {
            return Err(CliError::input(anyhow!(
                "{}: exhaustive search needs {points} points but the budget is {run_budget}; raise --budget or use --strategy nsga2/annealing",
                space.source
            )));
        }
        (shard.exhaustive_points(points), run_seed)
    } else {
        let share = island_budget(run_budget, shard);
        if share == 0 {
            return Err(CliError::input(anyhow!(
                "--budget {run_budget} leaves island {shard} no point; give at least one point per shard"
            )));
        }
        (share, island_seed(run_seed, shard))
    };
    let (opened, settings, fp) = super::prepare::open_prepared(&space, &args.sources)?;
    let evaluator = opened.evaluator(&space, settings);
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create {}", out.display()))
        .map_err(CliError::runtime)?;
    crate::durable::remove_stale_temps(&out);
    let journal_path = shard.journal_path(&out, &space.name);
    let journal = open_journal(&journal_path, &fp)?;
    if journal.foreign_records > 0 {
        super::output::note(&format!(
            "warning: {} holds {} record(s) of another evaluation (the space, its --set overrides, the sources or \
             the version changed); `merge` refuses such a journal — delete it to run shard {shard} afresh",
            journal_path.display(),
            journal.foreign_records
        ));
    }
    let state_path = shard.state_path(&out, &space.name);
    let mut state = ShardState {
        space: space.name.clone(),
        shard,
        strategy,
        run_budget,
        run_seed,
        budget,
        seed,
        sim_seed: settings.seed,
        fingerprint: fp.clone(),
        points: 0,
        finished: false,
        command: command_line(),
    };
    write_state(&state_path, &state)?;

    let mut strategy_impl: Box<dyn Search> = match strategy {
        StrategyKind::Exhaustive => Box::new(Exhaustive::shard(&space, shard)),
        _ => search::build(strategy, Arc::clone(&space), SearchSettings::for_space(&space, seed, budget)),
    };
    let early_stop = args.early_stop.or(space.search.early_stop).filter(|_| strategy != StrategyKind::Exhaustive);
    let summary =
        Driver::new(&evaluator, Some(&journal), driver_options(budget, early_stop)).run(strategy_impl.as_mut());
    let rerun = command_line();
    if let Some(failure) = &summary.journal_error {
        return Err(journal_failure(failure, &rerun));
    }
    state.points = summary.order.len() as u64;
    state.finished = !summary.interrupted;
    write_state(&state_path, &state)?;
    let result = ShardSummary {
        space: space.name.clone(),
        shard,
        strategy: strategy_impl.name(),
        budget,
        seed,
        sim_seed: settings.seed,
        points: state.points,
        evaluated: summary.evaluated,
        reused: summary.reused,
        feasible: summary.outcomes.values().filter(|o| o.is_feasible()).count() as u64,
        journal: journal_path.display().to_string(),
        state: state_path.display().to_string(),
        fingerprint: fp,
        finished: state.finished,
    };
    output::result(args.format, &result, || {
        format!(
            "{} shard {}: {} points ({} evaluated, {} reused), {} feasible\njournal: {}",
            result.space, shard, result.points, result.evaluated, result.reused, result.feasible, result.journal
        )
    });
    if summary.interrupted {
        return Err(CliError::interrupted(anyhow!(
            "shard {shard} stopped after {} points; the journal is intact — continue with: {rerun}",
            state.points
        )));
    }
    Ok(())
}

fn write_state(path: &Path, state: &ShardState) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(state).expect("shard state serialises");
    crate::durable::write_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
        .map_err(CliError::runtime)
}

/// The shard a `--shard` value names in this process's environment.
pub fn resolve(spec: ShardSpec) -> Result<Shard, String> {
    spec.resolve(&|var| std::env::var(var).ok())
}
