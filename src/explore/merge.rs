//! Merging the shards of a run ([`super::shard`]) back into one run: the shard set is checked (one shard
//! count, every index present, one strategy, budget and seed, one fingerprint: [`check_shards`]) and the
//! shards' journal records are folded into a [`RunSummary`] ([`Merger`]) that the usual report is built from.
//!
//! A point met by more than one island is kept once (its first record in shard order; the simulations are
//! seeded per space, so every copy holds the same numbers). The merged order is the one an unsharded run
//! accepts points in: ascending id for exhaustive runs (so a sharded exhaustive run's `points.csv` is the
//! unsharded run's, row for row), island after island in journal order otherwise. File reading is the
//! caller's ([`super::journal::read_records`] streams each journal).

use super::driver::RunSummary;
use super::journal::JournalRecord;
use super::shard::{Shard, ShardState};
use super::Outcome;
use crate::search::StrategyKind;
use crate::spec::PointId;
use std::collections::HashMap;

/// Folds journal records into one run.
#[derive(Debug, Default)]
pub struct Merger {
    outcomes: HashMap<PointId, Outcome>,
    order: Vec<PointId>,
    duplicates: u64,
}

impl Merger {
    /// An empty merge.
    pub fn new() -> Merger {
        Merger::default()
    }

    /// Add a record (of the run's fingerprint); a point already merged counts as a duplicate.
    pub fn add(&mut self, record: JournalRecord) {
        let id = PointId(record.id);
        match self.outcomes.entry(id) {
            std::collections::hash_map::Entry::Occupied(_) => self.duplicates += 1,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(record.outcome);
                self.order.push(id);
            }
        }
    }

    /// Distinct points so far.
    pub fn points(&self) -> usize {
        self.order.len()
    }

    /// Records of points merged before.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// The merged run, in the order an unsharded run of `strategy` accepts its points.
    pub fn finish(mut self, strategy: StrategyKind) -> RunSummary {
        if strategy == StrategyKind::Exhaustive {
            self.order.sort_unstable();
        }
        RunSummary {
            reused: self.order.len() as u64,
            order: self.order,
            outcomes: self.outcomes,
            evaluated: 0,
            repeats: self.duplicates,
            interrupted: false,
            stalled: false,
            early_stop: None,
            wall_s: 0.0,
            journal_error: None,
        }
    }
}

/// What the shard set of a merge is.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardSet {
    /// Number of shards.
    pub count: u32,
    /// Search strategy of every shard.
    pub strategy: StrategyKind,
    /// The run's budget.
    pub run_budget: u64,
    /// The run's search seed.
    pub run_seed: u64,
    /// Shards whose state says unfinished (or that have no state file), by index.
    pub unfinished: Vec<u32>,
}

/// Check that `shards` (each with its state file, when there is one) are the whole of one run evaluated
/// with `fingerprint`: one shard count, every index `0..N` once, the same strategy, budget, seeds and
/// fingerprint. `Err` says what differs, naming the shards.
pub fn check_shards(shards: &[(Shard, Option<ShardState>)], fingerprint: &str) -> Result<ShardSet, String> {
    let Some((first, _)) = shards.first() else {
        return Err("no shard journals to merge".into());
    };
    let count = first.count;
    if let Some((other, _)) = shards.iter().find(|(s, _)| s.count != count) {
        return Err(format!("shards of different runs: {first} and {other} (one run has one shard count)"));
    }
    let mut seen = vec![false; count as usize];
    for (s, _) in shards {
        if std::mem::replace(&mut seen[s.index as usize], true) {
            return Err(format!("shard {s} is given twice"));
        }
    }
    let missing: Vec<String> =
        seen.iter().enumerate().filter(|(_, &s)| !s).map(|(i, _)| format!("{i}/{count}")).collect();
    if !missing.is_empty() {
        return Err(format!("shard(s) {} of the run have no journal", missing.join(", ")));
    }
    let states: Vec<&ShardState> = shards.iter().filter_map(|(_, st)| st.as_ref()).collect();
    if let Some(st) = states.iter().find(|st| st.fingerprint != fingerprint) {
        return Err(format!(
            "shard {} was evaluated with fingerprint {} but the space and its sources now give {fingerprint} (the \
             space, its --set overrides, the sources or the version changed): run every shard again",
            st.shard, st.fingerprint
        ));
    }
    let reference = states.first().copied();
    let search = |st: &ShardState| (st.strategy, st.run_budget, st.run_seed, st.sim_seed);
    if let Some(a) = reference {
        if let Some(b) = states.iter().find(|st| search(st) != search(a)) {
            return Err(format!(
                "shards {} and {} ran different searches ({} budget {} seed {} vs {} budget {} seed {})",
                a.shard, b.shard, a.strategy, a.run_budget, a.run_seed, b.strategy, b.run_budget, b.run_seed
            ));
        }
    }
    let unfinished =
        shards.iter().filter(|(_, st)| !st.as_ref().is_some_and(|st| st.finished)).map(|(s, _)| s.index).collect();
    Ok(ShardSet {
        count,
        strategy: reference.map_or(StrategyKind::Exhaustive, |r| r.strategy),
        run_budget: reference.map_or(0, |r| r.run_budget),
        run_seed: reference.map_or(0, |r| r.run_seed),
        unfinished,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::Metrics;

    fn state(index: u32, count: u32, fingerprint: &str, finished: bool) -> (Shard, Option<ShardState>) {
        let shard = Shard { index, count };
        let st = ShardState {
            space: "s".into(),
            shard,
            strategy: StrategyKind::Exhaustive,
            run_budget: 100,
            run_seed: 1,
            budget: 50,
            seed: 1,
            sim_seed: 7,
            fingerprint: fingerprint.into(),
            points: 50,
            finished,
            command: String::new(),
        };
        (shard, Some(st))
    }

    fn record(id: u64, p95: f64) -> JournalRecord {
        let mut m = Metrics::default();
        m.set(crate::spec::metric::Metric::P95Ms, p95);
        JournalRecord {
            fingerprint: "f".into(),
            id,
            pipeline: String::new(),
            hardware: Vec::new(),
            seed: 0,
            version: String::new(),
            outcome: Outcome::Feasible(m),
        }
    }

    #[test]
    fn merged_points_are_distinct_and_in_run_order() {
        let mut m = Merger::new();
        for (id, p) in [(9, 1.0), (2, 2.0), (9, 3.0), (4, 4.0)] {
            m.add(record(id, p));
        }
        assert_eq!((m.points(), m.duplicates()), (3, 1));
        let run = m.finish(StrategyKind::Exhaustive);
        assert_eq!(run.order, vec![PointId(2), PointId(4), PointId(9)]);
        assert_eq!(run.outcomes[&PointId(9)].metrics().get(crate::spec::metric::Metric::P95Ms), Some(1.0));
        let mut m = Merger::new();
        for id in [9, 2, 4] {
            m.add(record(id, 1.0));
        }
        assert_eq!(m.finish(StrategyKind::Nsga2).order, vec![PointId(9), PointId(2), PointId(4)]);
    }

    #[test]
    fn shard_sets_are_checked() {
        let good = vec![state(1, 2, "f", true), state(0, 2, "f", false)];
        let set = check_shards(&good, "f").unwrap();
        assert_eq!((set.count, set.unfinished), (2, vec![0]));
        let err = check_shards(&good, "g").unwrap_err();
        assert!(err.contains("fingerprint f") && err.contains("give g"), "{err}");
        let err = check_shards(&[state(0, 3, "f", true), state(2, 3, "f", true)], "f").unwrap_err();
        assert!(err.contains("1/3"), "{err}");
        let err = check_shards(&[state(0, 2, "f", true), state(0, 3, "f", true)], "f").unwrap_err();
        assert!(err.contains("different runs"), "{err}");
        let err = check_shards(&[state(0, 1, "f", true), state(0, 1, "f", true)], "f").unwrap_err();
        assert!(err.contains("twice"), "{err}");
        let mut other = state(1, 2, "f", true);
        other.1.as_mut().unwrap().run_seed = 5;
        let err = check_shards(&[state(0, 2, "f", true), other], "f").unwrap_err();
        assert!(err.contains("different searches"), "{err}");
        assert!(check_shards(&[], "f").is_err());
    }
}
