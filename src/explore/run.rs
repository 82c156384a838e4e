//! One `explore` run, resolved before any work: the command line's choices over those of the run being
//! resumed over the space's defaults (strategy, budget, seed, output folder), the report folder and the
//! journal it uses, and the run's state file (`run.json` in the report folder) that `--resume` reads back.
//!
//! The journal `<out>/<space>.journal.jsonl` is shared by all runs of a space; `--resume` continues the most
//! recent unfinished run of the space in its own report folder, with that run's strategy, budget and seed
//! unless the command line overrides them.

use crate::search::StrategyKind;
use crate::spec::Space;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the command line chose (`None`: not given).
#[derive(Debug, Clone, Default)]
pub struct RunChoices {
    /// `--strategy`.
    pub strategy: Option<StrategyKind>,
    /// `--budget`.
    pub budget: Option<u64>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--early-stop`.
    pub early_stop: Option<f64>,
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--resume`.
    pub resume: bool,
}

/// What a report folder records about its run (`run.json`), for `--resume`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Search strategy.
    pub strategy: StrategyKind,
    /// Most points evaluated.
    pub budget: u64,
    /// Seed of the search.
    pub seed: u64,
    /// Early stop: the fraction of the budget evaluated without front growth that ends the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stop: Option<f64>,
    /// Whether the run completed (an interrupted run can be resumed).
    pub finished: bool,
    /// The command line that started it.
    pub command: String,
}

/// A run with every choice made.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// Folder of the report folders and the journal.
    pub out: PathBuf,
    /// This run's report folder.
    pub dir: PathBuf,
    /// The space's journal.
    pub journal: PathBuf,
    /// Search strategy.
    pub strategy: StrategyKind,
    /// Most points evaluated (≥ 1).
    pub budget: u64,
    /// Seed of the search.
    pub seed: u64,
    /// Early stop fraction of the budget, if any.
    pub early_stop: Option<f64>,
    /// Whether an unfinished run is continued (in its own folder).
    pub resumed: bool,
    /// `--resume` was asked but there was nothing to resume: a new run starts.
    pub nothing_to_resume: bool,
}

/// Why a run cannot start as asked.
#[derive(Debug, thiserror::Error)]
pub enum RunConfigError {
    /// The choices contradict each other or the space.
    #[error("{0}")]
    Input(String),
    /// An earlier run's state could not be read.
    #[error("{0:#}")]
    Io(anyhow::Error),
}

impl RunConfig {
    /// Resolve `choices` for `space`; a new run's folder is named `<space>-<started>`.
    pub fn resolve(space: &Space, choices: &RunChoices, started: &str) -> Result<RunConfig, RunConfigError> {
        let out = choices.out.clone().unwrap_or_else(|| PathBuf::from(&space.output_dir));
        let previous =
            if choices.resume { latest_unfinished(&out, &space.name).map_err(RunConfigError::Io)? } else { None };
        let strategy =
            choices.strategy.or(previous.as_ref().map(|(_, st)| st.strategy)).unwrap_or(space.search.strategy);
        let budget = choices.budget.or(previous.as_ref().map(|(_, st)| st.budget)).unwrap_or(space.search.budget);
        let seed = choices.seed.or(previous.as_ref().map(|(_, st)| st.seed)).unwrap_or(space.search.seed);
        let early_stop =
            choices.early_stop.or(previous.as_ref().and_then(|(_, st)| st.early_stop)).or(space.search.early_stop);
        if let Some(f) = early_stop.filter(|f| !(*f > 0.0 && *f <= 1.0)) {
            return Err(RunConfigError::Input(format!(
                "--early-stop: must be a fraction of the budget in (0, 1], got {f}"
            )));
        }
        if budget == 0 {
            return Err(RunConfigError::Input("--budget: must be ≥ 1, got 0".into()));
        }
        if strategy == StrategyKind::Exhaustive && space.point_count() > budget {
            return Err(RunConfigError::Input(format!(
                "{}: exhaustive search needs {} points but the budget is {budget}; raise --budget or use --strategy nsga2/annealing",
                space.source,
                space.point_count()
            )));
        }
        let dir = match &previous {
            Some((dir, _)) => dir.clone(),
            None => fresh_run_folder(&out, &format!("{}-{started}", space.name)),
        };
        Ok(RunConfig {
            journal: out.join(format!("{}.journal.jsonl", space.name)),
            dir,
            out,
            strategy,
            budget,
            seed,
            early_stop,
            resumed: previous.is_some(),
            nothing_to_resume: choices.resume && previous.is_none(),
        })
    }

    /// The state file content of this run.
    pub fn state(&self, finished: bool, command: &str) -> RunState {
        RunState {
            strategy: self.strategy,
            budget: self.budget,
            seed: self.seed,
            early_stop: self.early_stop,
            finished,
            command: command.into(),
        }
    }
}

/// Write `run.json` into a report folder (atomically).
pub fn write_state(dir: &Path, state: &RunState) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(state)?;
    let path = dir.join("run.json");
    crate::durable::write_atomic(&path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

/// The newest report folder of `name` under `out` whose `run.json` says unfinished.
pub fn latest_unfinished(out: &Path, name: &str) -> anyhow::Result<Option<(PathBuf, RunState)>> {
    let Ok(entries) = std::fs::read_dir(out) else { return Ok(None) };
    let prefix = format!("{name}-");
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| is_run_folder_of(&n.to_string_lossy(), &prefix)))
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

/// Whether a folder name is `<prefix><stamp>` or `<prefix><stamp>-NN` with a [`utc_stamp`] (so the runs of
/// space `kaggle` never include those of `kaggle-codesign`).
fn is_run_folder_of(name: &str, prefix: &str) -> bool {
    let Some(rest) = name.strip_prefix(prefix) else { return false };
    let (stamp, suffix) = rest.split_at(rest.len().min(16));
    let stamp_ok = stamp.len() == 16
        && stamp.char_indices().all(|(i, c)| match i {
            8 => c == 'T',
            15 => c == 'Z',
            _ => c.is_ascii_digit(),
        });
    stamp_ok
        && (suffix.is_empty()
            || suffix.strip_prefix('-').is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit())))
}

/// A report folder `<out>/<base>` that does not exist yet: `<base>`, else `<base>-02`, `<base>-03`, … (two runs
/// of one space started within the same second get folders of their own).
pub fn fresh_run_folder(out: &Path, base: &str) -> PathBuf {
    let first = out.join(base);
    if !first.exists() {
        return first;
    }
    (2..).map(|i| out.join(format!("{base}-{i:02}"))).find(|p| !p.exists()).expect("a free folder name")
}

/// Current UTC time as `YYYYmmddTHHMMSSZ` (report folder names, report headers).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_over_resumed_run_over_space_defaults() {
        let space = crate::search::tiny_test_space();
        let out = std::env::temp_dir().join(format!("recpipe-dse-runconfig-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let fresh =
            RunConfig::resolve(&space, &RunChoices { out: Some(out.clone()), ..Default::default() }, T1).unwrap();
        assert_eq!(
            (fresh.strategy, fresh.budget, fresh.seed),
            (space.search.strategy, space.search.budget, space.search.seed)
        );
        assert_eq!(fresh.dir, out.join(format!("{}-{T1}", space.name)));
        std::fs::create_dir_all(&fresh.dir).unwrap();
        let state = RunState {
            strategy: StrategyKind::Nsga2,
            budget: 7,
            seed: 99,
            early_stop: None,
            finished: false,
            command: "x".into(),
        };
        write_state(&fresh.dir, &state).unwrap();
        let choices = RunChoices { out: Some(out.clone()), resume: true, seed: Some(5), ..Default::default() };
        let resumed = RunConfig::resolve(&space, &choices, T2).unwrap();
        assert!(resumed.resumed && !resumed.nothing_to_resume);
        assert_eq!((resumed.strategy, resumed.budget, resumed.seed), (StrategyKind::Nsga2, 7, 5));
        assert_eq!(resumed.dir, fresh.dir);
        let zero = RunChoices { out: Some(out.clone()), budget: Some(0), ..Default::default() };
        assert!(RunConfig::resolve(&space, &zero, T2).unwrap_err().to_string().contains("--budget"));
        let _ = std::fs::remove_dir_all(&out);
    }

    const T1: &str = "20261206T101500Z";
    const T2: &str = "20261206T101501Z";

    #[test]
    fn runs_started_in_the_same_second_get_their_own_folders_and_other_spaces_are_never_resumed() {
        let space = crate::search::tiny_test_space();
        let out = std::env::temp_dir().join(format!("recpipe-dse-runfolders-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        let new_run = || RunConfig::resolve(&space, &RunChoices { out: Some(out.clone()), ..Default::default() }, T1);
        let first = new_run().unwrap();
        std::fs::create_dir_all(&first.dir).unwrap();
        let second = new_run().unwrap();
        assert_eq!(second.dir, out.join(format!("{}-{T1}-02", space.name)));
        std::fs::create_dir_all(&second.dir).unwrap();
        assert_eq!(new_run().unwrap().dir, out.join(format!("{}-{T1}-03", space.name)));
        // An unfinished run of a space whose name merely starts with this one's is not this space's run.
        let other = out.join(format!("{}-codesign-{T2}", space.name));
        std::fs::create_dir_all(&other).unwrap();
        let state = RunState {
            strategy: StrategyKind::Nsga2,
            budget: 7,
            seed: 1,
            early_stop: None,
            finished: false,
            command: "x".into(),
        };
        write_state(&other, &state).unwrap();
        assert!(latest_unfinished(&out, &space.name).unwrap().is_none());
        write_state(&second.dir, &state).unwrap();
        assert_eq!(latest_unfinished(&out, &space.name).unwrap().map(|(d, _)| d), Some(second.dir.clone()));
        let _ = std::fs::remove_dir_all(&out);
    }

    #[test]
    fn stamps_are_utc_basic_format() {
        let s = utc_stamp();
        assert_eq!(s.len(), 16);
        assert!(s.ends_with('Z') && s.as_bytes()[8] == b'T');
    }
}
