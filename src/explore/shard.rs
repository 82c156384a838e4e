//! Splitting one exploration over independent processes (`explore --shard I/N`) and putting it back
//! together (`merge`).
//!
//! * **Exhaustive** runs split the space's id range into the blocks the exhaustive strategy asks for
//!   ([`crate::search::exhaustive::CHUNK`] consecutive ids) and deal them out round-robin: shard `I` of `N`
//!   evaluates blocks `I, I + N, I + 2N, …`. Neighbouring ids cost about the same (they differ in the fastest
//!   knob), so shards finish at about the same time; together they cover every id exactly once.
//! * **Other strategies** run as **islands**: shard `I` runs the strategy on the whole space with its own
//!   seed ([`island_seed`], derived from the run's seed and `I`) and its share of the budget
//!   ([`island_budget`]); islands may meet the same point, and `merge` keeps it once.
//!
//! Each shard journals into a file of its own (`<out>/<space>.shard-I-of-N.journal.jsonl`) and records what
//! it ran in a state file beside it (`<space>.shard-I-of-N.json`, [`ShardState`]). Running a shard again
//! reuses what its journal holds, so a killed shard resubmitted as is loses nothing it finished.
//!
//! The shard index and count default to the scheduler's: Slurm job arrays numbered from 0
//! (`SLURM_ARRAY_TASK_ID` of `SLURM_ARRAY_TASK_COUNT`; a resubmitted task, `sbatch --array=I`, keeps its
//! index and takes the count from `--shard auto/N`) and Kubernetes indexed jobs (`JOB_COMPLETION_INDEX`,
//! with the count given as `--shard auto/N`); see [`ShardSpec::resolve`]. This module is free of I/O: the
//! environment comes in as a lookup function.

use crate::search::exhaustive::CHUNK;
use crate::search::StrategyKind;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One shard of a run: index `index` (0-based) of `count` shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Index, `0..count`.
    pub index: u32,
    /// Number of shards, ≥ 1.
    pub count: u32,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `--shard` as written: `I/N`, `auto` (index and count from the scheduler) or `auto/N` (index from the
/// scheduler, count given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// `I/N`.
    Given(Shard),
    /// `auto` or `auto/N`.
    Auto(Option<u32>),
}

/// Environment variables a shard's index and count come from, in order of preference.
pub const SLURM_TASK_ID: &str = "SLURM_ARRAY_TASK_ID";
/// Number of tasks of a Slurm array.
pub const SLURM_TASK_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
/// Index of a Kubernetes indexed job's pod.
pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";

impl std::str::FromStr for ShardSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<ShardSpec, String> {
        let count = |n: &str| -> Result<u32, String> {
            match n.trim().parse::<u32>() {
                Ok(c) if c >= 1 => Ok(c),
                _ => Err(format!("the shard count must be a whole number ≥ 1, got '{n}'")),
            }
        };
        let text = text.trim();
        if text == "auto" {
            return Ok(ShardSpec::Auto(None));
        }
        let Some((i, n)) = text.split_once('/') else {
            return Err(format!("expected I/N (shard I of N, counted from 0), auto or auto/N, got '{text}'"));
        };
        let n = count(n)?;
        if i.trim() == "auto" {
            return Ok(ShardSpec::Auto(Some(n)));
        }
        let index: u32 = i.trim().parse().map_err(|_| format!("the shard index must be a whole number, got '{i}'"))?;
        Shard::new(index, n).map(ShardSpec::Given)
    }
}

impl Shard {
    /// Shard `index` of `count`; `Err` when the index is not below the count.
    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be ≥ 1, got 0".into());
        }
        if index >= count {
            return Err(format!("shard index {index} is not below the shard count {count} (shards count from 0)"));
        }
        Ok(Shard { index, count })
    }

    /// The ids of `0..points` this shard evaluates in an exhaustive run, as ascending half-open ranges.
    pub fn exhaustive_ranges(&self, points: u64) -> impl Iterator<Item = std::ops::Range<u64>> + '_ {
        let blocks = points.div_ceil(CHUNK);
        (u64::from(self.index)..blocks)
            .step_by(self.count as usize)
            .map(move |b| b * CHUNK..((b + 1) * CHUNK).min(points))
    }

    /// How many ids of `0..points` this shard evaluates in an exhaustive run.
    pub fn exhaustive_points(&self, points: u64) -> u64 {
        self.exhaustive_ranges(points).map(|r| r.end - r.start).sum()
    }

    /// The shard's file stem under the output folder: `<space>.shard-I-of-N`.
    pub fn stem(&self, space: &str) -> String {
        format!("{space}.shard-{}-of-{}", self.index, self.count)
    }

    /// The shard's journal under `out`.
    pub fn journal_path(&self, out: &Path, space: &str) -> PathBuf {
        out.join(format!("{}.journal.jsonl", self.stem(space)))
    }

    /// The shard a journal's file name names, when it is `<space>.shard-I-of-N.journal.jsonl`.
    pub fn from_journal_name(name: &str, space: &str) -> Option<Shard> {
        let rest = name.strip_prefix(space)?.strip_prefix(".shard-")?.strip_suffix(".journal.jsonl")?;
        let (i, n) = rest.split_once("-of-")?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(i) || !digits(n) {
            return None;
        }
        Shard::new(i.parse().ok()?, n.parse().ok()?).ok()
    }

    /// The state file beside a shard journal.
    pub fn state_path_of(journal: &Path) -> PathBuf {
        let name = journal.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        journal.with_file_name(format!("{}.json", name.strip_suffix(".journal.jsonl").unwrap_or(&name)))
    }

    /// The shard's state file under `out`.
    pub fn state_path(&self, out: &Path, space: &str) -> PathBuf {
        out.join(format!("{}.json", self.stem(space)))
    }
}

impl ShardSpec {
    /// The shard this spec names, reading the scheduler's variables through `env` for `auto`; `Err` names
    /// the variable that is missing or malformed.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let given_count = match self {
            ShardSpec::Given(s) => return Ok(*s),
            ShardSpec::Auto(count) => *count,
        };
        let number = |var: &str| -> Result<Option<u32>, String> {
            match env(var) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u32>()
                    .map(Some)
                    .map_err(|_| format!("environment variable {var}: expected a whole number, got '{v}'")),
            }
        };
        let (index, count) = if let Some(index) = number(SLURM_TASK_ID)? {
            let count = match given_count {
                Some(n) => n,
                None => number(SLURM_TASK_COUNT)?.ok_or_else(|| {
                    format!("--shard auto: {SLURM_TASK_ID} is set but {SLURM_TASK_COUNT} is not; give the count as --shard auto/N")
                })?,
            };
            (index, count)
        } else if let Some(index) = number(K8S_INDEX)? {
            let count = given_count.ok_or_else(|| {
                format!("--shard auto: {K8S_INDEX} gives the index but not the count; give it as --shard auto/N (the job's completions)")
            })?;
            (index, count)
        } else {
            return Err(format!(
                "--shard auto: neither {SLURM_TASK_ID} (a Slurm job array) nor {K8S_INDEX} (a Kubernetes indexed job) is set; give the shard as --shard I/N"
            ));
        };
        Shard::new(index, count).map_err(|e| format!("--shard auto: {e}"))
    }
}

/// The search seed of island `index` of a run seeded with `seed` (SplitMix64 of the pair, so islands draw
/// unrelated streams); island 0 of a single-shard run keeps `seed` itself.
pub fn island_seed(seed: u64, shard: Shard) -> u64 {
    if shard.count == 1 {
        return seed;
    }
    let mut z = seed ^ (u64::from(shard.index) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Island `shard`'s share of a budget of `budget` distinct points: the budget split as evenly as whole
/// points allow (the shares add up to `budget`).
pub fn island_budget(budget: u64, shard: Shard) -> u64 {
    let (i, n) = (u64::from(shard.index), u64::from(shard.count));
    budget * (i + 1) / n - budget * i / n
}

/// What a shard ran, written beside its journal (`<space>.shard-I-of-N.json`) when it starts and again when
/// it ends; `merge` reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardState {
    /// The space's name.
    pub space: String,
    /// This shard.
    pub shard: Shard,
    /// Search strategy.
    pub strategy: StrategyKind,
    /// The whole run's budget of distinct points.
    pub run_budget: u64,
    /// The whole run's search seed.
    pub run_seed: u64,
    /// This shard's budget (its share of the ids, or the island's share of the budget).
    pub budget: u64,
    /// This shard's search seed ([`island_seed`]).
    pub seed: u64,
    /// Seed of the simulations.
    pub sim_seed: u64,
    /// Fingerprint of the evaluation inputs (as in the journal).
    pub fingerprint: String,
    /// Distinct points finished so far.
    pub points: u64,
    /// Whether the shard finished (used its budget or, for islands, stopped proposing).
    pub finished: bool,
    /// The command line that ran it.
    pub command: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn exhaustive_shards_cover_every_id_once() {
        for points in [0, 1, 255, 256, 257, 5000, 2192] {
            for count in 1..=5 {
                let mut seen = vec![0u8; points as usize];
                let mut total = 0;
                for index in 0..count {
                    let s = Shard::new(index, count).unwrap();
                    for r in s.exhaustive_ranges(points) {
                        for id in r {
                            seen[id as usize] += 1;
                        }
                    }
                    total += s.exhaustive_points(points);
                }
                assert!(seen.iter().all(|&c| c == 1), "{points} points, {count} shards");
                assert_eq!(total, points);
            }
        }
    }

    #[test]
    fn file_names_round_trip() {
        let s = Shard::new(2, 12).unwrap();
        let journal = s.journal_path(Path::new("out"), "kaggle");
        let name = journal.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, "kaggle.shard-2-of-12.journal.jsonl");
        assert_eq!(Shard::from_journal_name(name, "kaggle"), Some(s));
        assert_eq!(Shard::state_path_of(&journal), s.state_path(Path::new("out"), "kaggle"));
        for other in
            ["kaggle.journal.jsonl", "kaggle-x.shard-0-of-2.journal.jsonl", "kaggle.shard-2-of-2.journal.jsonl"]
        {
            assert_eq!(Shard::from_journal_name(other, "kaggle"), None, "{other}");
        }
    }

    #[test]
    fn spec_parsing_and_scheduler_defaults() {
        assert_eq!("1/3".parse::<ShardSpec>(), Ok(ShardSpec::Given(Shard { index: 1, count: 3 })));
        assert_eq!("auto".parse::<ShardSpec>(), Ok(ShardSpec::Auto(None)));
        assert_eq!("auto/4".parse::<ShardSpec>(), Ok(ShardSpec::Auto(Some(4))));
        for bad in ["3/3", "1/0", "x/2", "2", "1/two", ""] {
            assert!(bad.parse::<ShardSpec>().is_err(), "{bad}");
        }
        let env = |vars: &[(&str, &str)]| {
            let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            move |k: &str| map.get(k).cloned()
        };
        let slurm = env(&[(SLURM_TASK_ID, "2"), (SLURM_TASK_COUNT, "3")]);
        assert_eq!(ShardSpec::Auto(None).resolve(&slurm), Ok(Shard { index: 2, count: 3 }));
        // A resubmitted task (`sbatch --array=1`) keeps its index; the count comes from `auto/N`.
        let resubmitted = env(&[(SLURM_TASK_ID, "1"), (SLURM_TASK_COUNT, "1")]);
        assert_eq!(ShardSpec::Auto(Some(3)).resolve(&resubmitted), Ok(Shard { index: 1, count: 3 }));
        let k8s = env(&[(K8S_INDEX, "0")]);
        assert_eq!(ShardSpec::Auto(Some(2)).resolve(&k8s), Ok(Shard { index: 0, count: 2 }));
        let err = ShardSpec::Auto(None).resolve(&k8s).unwrap_err();
        assert!(err.contains(K8S_INDEX) && err.contains("auto/N"), "{err}");
        let err = ShardSpec::Auto(None).resolve(&env(&[])).unwrap_err();
        assert!(err.contains(SLURM_TASK_ID) && err.contains(K8S_INDEX), "{err}");
        let err = ShardSpec::Auto(None).resolve(&env(&[(SLURM_TASK_ID, "x")])).unwrap_err();
        assert!(err.contains("'x'"), "{err}");
        let err = ShardSpec::Auto(Some(2)).resolve(&env(&[(K8S_INDEX, "2")])).unwrap_err();
        assert!(err.contains("not below"), "{err}");
    }

    #[test]
    fn islands_split_the_budget_and_draw_their_own_seeds() {
        for budget in [0, 1, 7, 100, 1001] {
            let total: u64 = (0..3).map(|i| island_budget(budget, Shard { index: i, count: 3 })).sum();
            assert_eq!(total, budget);
        }
        assert_eq!(island_seed(42, Shard { index: 0, count: 1 }), 42);
        let seeds: std::collections::HashSet<u64> =
            (0..8).map(|i| island_seed(42, Shard { index: i, count: 8 })).collect();
        assert_eq!(seeds.len(), 8);
    }
}
