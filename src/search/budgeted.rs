//! The ask/tell loop of every search run, free of I/O: ask the strategy for a batch, drop repeats (answered
//! from memory, not counted), evaluate the new points through a [`BatchEvaluation`], enforce the budget of
//! distinct points, tell the results in ask order, and stop when the budget is used, the strategy is done,
//! it stalls ([`STALL_ROUNDS`] batches in a row with nothing new), the evaluation is interrupted, or — with an
//! early stop — the Pareto front has not changed for a stated number of points.
//!
//! "The front has not changed" is exactly "the hypervolume has not grown" for every reference point the
//! front dominates: a feasible point raises the hypervolume if and only if no known point dominates or
//! equals it ([`Archive::offer`]).
//!
//! `explore` runs it over the real evaluator (journal, parallel evaluation; `crate::explore::driver`), and
//! `bench search` over a precomputed table of objective vectors, so both make exactly the same choices.

use super::Search;
use crate::pareto::Archive;
use crate::spec::{PointId, Space};
use std::collections::{HashMap, HashSet};

/// Rounds in a row without a new point after which a search is considered stalled and stopped.
pub const STALL_ROUNDS: u32 = 200;

/// Evaluates batches of new points for [`run_budgeted`].
pub trait BatchEvaluation {
    /// Whether to stop before asking for another batch (e.g. Ctrl-C).
    fn stop_requested(&self) -> bool;
    /// Per point of `ids` (distinct, never evaluated in this run): `Some(objectives)` once evaluated, with
    /// `None` objectives for an infeasible point; `None` when the point was not evaluated because a stop was
    /// requested.
    fn evaluate(&mut self, ids: &[PointId]) -> Vec<Option<Option<Vec<f64>>>>;
}

/// Limits of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Most distinct points (capped at the space's size).
    pub budget: u64,
    /// Stop once this many distinct points in a row left the Pareto front unchanged.
    pub early_stop_after: Option<u64>,
}

impl Limits {
    /// A budget without early stop.
    pub fn budget(budget: u64) -> Limits {
        Limits { budget, early_stop_after: None }
    }

    /// `budget` with an early stop after `fraction` of it without front growth (at least one point).
    pub fn with_early_stop(budget: u64, fraction: Option<f64>) -> Limits {
        let early_stop_after = fraction.map(|f| ((budget as f64 * f).ceil() as u64).max(1));
        Limits { budget, early_stop_after }
    }
}

/// Why an early stop ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyStop {
    /// Distinct points evaluated when the run stopped.
    pub at: u64,
    /// Distinct points evaluated when the front last grew.
    pub last_growth: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoopOutcome {
    /// Every distinct point, in the order accepted.
    pub order: Vec<PointId>,
    /// Objective vectors of those points (`None`: infeasible).
    pub vectors: HashMap<PointId, Option<Vec<f64>>>,
    /// Asks answered from memory (repeats).
    pub repeats: u64,
    /// Whether the evaluation was interrupted.
    pub interrupted: bool,
    /// Whether the strategy stopped proposing new points before the budget was used.
    pub stalled: bool,
    /// Set when the early stop ended the run.
    pub early_stop: Option<EarlyStop>,
}

/// Run `search` on `space` within `limits`, evaluating through `evaluation`.
pub fn run_budgeted(
    search: &mut dyn Search,
    space: &Space,
    limits: Limits,
    evaluation: &mut dyn BatchEvaluation,
) -> LoopOutcome {
    let budget = limits.budget.min(space.point_count());
    let mut out = LoopOutcome::default();
    let mut front = Archive::new();
    let mut last_growth = 0u64;
    let mut idle_rounds = 0u32;
    while (out.order.len() as u64) < budget {
        if evaluation.stop_requested() {
            out.interrupted = true;
            break;
        }
        let asked = search.ask();
        if asked.is_empty() {
            break;
        }
        let mut fresh: Vec<PointId> = Vec::new();
        let mut seen = HashSet::new();
        for &id in &asked {
            if out.vectors.contains_key(&id) || !seen.insert(id) {
                out.repeats += 1;
            } else if space.design(id).is_some() {
                fresh.push(id);
            }
        }
        fresh.truncate((budget - out.order.len() as u64) as usize);
        if fresh.is_empty() {
            idle_rounds += 1;
            if idle_rounds >= STALL_ROUNDS {
                out.stalled = true;
                break;
            }
        } else {
            idle_rounds = 0;
        }
        let results = evaluation.evaluate(&fresh);
        let complete = results.len() == fresh.len() && results.iter().all(Option::is_some);
        for (id, r) in fresh.iter().zip(results) {
            let Some(vector) = r else { continue };
            out.order.push(*id);
            if vector.as_ref().is_some_and(|v| front.offer(v)) {
                last_growth = out.order.len() as u64;
            }
            out.vectors.insert(*id, vector);
        }
        if !complete {
            out.interrupted = true;
            break;
        }
        let told: Vec<(PointId, Option<Vec<f64>>)> =
            asked.iter().filter_map(|id| out.vectors.get(id).map(|v| (*id, v.clone()))).collect();
        search.tell(&told);
        let done = out.order.len() as u64;
        if limits.early_stop_after.is_some_and(|patience| done - last_growth >= patience) && done < budget {
            out.early_stop = Some(EarlyStop { at: done, last_growth });
            break;
        }
    }
    out
}

/// A [`BatchEvaluation`] over precomputed objective vectors (`table[id]`; `None` = infeasible), for
/// benchmarks of search alone.
pub struct TableEvaluation<'a> {
    table: &'a [Option<Vec<f64>>],
}

impl<'a> TableEvaluation<'a> {
    /// Answer from `table`, indexed by point id.
    pub fn new(table: &'a [Option<Vec<f64>>]) -> TableEvaluation<'a> {
        TableEvaluation { table }
    }
}

impl BatchEvaluation for TableEvaluation<'_> {
    fn stop_requested(&self) -> bool {
        false
    }

    fn evaluate(&mut self, ids: &[PointId]) -> Vec<Option<Option<Vec<f64>>>> {
        ids.iter().map(|id| Some(self.table.get(id.0 as usize).cloned().flatten())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{self, SearchSettings, StrategyKind};
    use std::sync::Arc;

    /// Asks the ids 0, 1, 2, … in batches of `batch`.
    struct Sequential {
        next: u64,
        batch: u64,
        end: u64,
    }

    impl Search for Sequential {
        fn name(&self) -> String {
            "sequential".into()
        }
        fn ask(&mut self) -> Vec<PointId> {
            let ids: Vec<PointId> = (self.next..(self.next + self.batch).min(self.end)).map(PointId).collect();
            self.next += self.batch;
            ids
        }
        fn tell(&mut self, _: &[(PointId, Option<Vec<f64>>)]) {}
    }

    #[test]
    fn early_stop_fires_after_the_stated_points_without_front_growth() {
        let space = search::tiny_test_space();
        let n = space.point_count();
        // The front grows at points 0, 3 and 5 only.
        let table: Vec<Option<Vec<f64>>> = (0..n)
            .map(|i| match i {
                0 => Some(vec![5.0, 5.0]),
                3 => Some(vec![4.0, 6.0]),
                5 => Some(vec![1.0, 1.0]),
                _ => Some(vec![9.0, 9.0]),
            })
            .collect();
        let mut s = Sequential { next: 0, batch: 2, end: n };
        let run = run_budgeted(
            &mut s,
            &space,
            Limits { budget: n, early_stop_after: Some(4) },
            &mut TableEvaluation::new(&table),
        );
        // Growth at the 6th point; 4 points without growth are complete after the 10th (batches of 2).
        assert_eq!(run.early_stop, Some(EarlyStop { at: 10, last_growth: 6 }));
        assert_eq!(run.order.len(), 10);
        let mut s = Sequential { next: 0, batch: 2, end: n };
        let full = run_budgeted(&mut s, &space, Limits::budget(n), &mut TableEvaluation::new(&table));
        assert_eq!(full.early_stop, None);
        assert_eq!(full.order.len() as u64, n);
        assert_eq!(Limits::with_early_stop(100, Some(0.25)).early_stop_after, Some(25));
        assert_eq!(Limits::with_early_stop(3, Some(0.01)).early_stop_after, Some(1));
    }

    #[test]
    fn budget_counts_distinct_points_and_repeats_are_free() {
        let space = search::tiny_test_space();
        let table: Vec<Option<Vec<f64>>> =
            (0..space.point_count()).map(|i| Some(vec![i as f64, -(i as f64)])).collect();
        let space = Arc::new(space);
        for kind in [StrategyKind::Nsga2, StrategyKind::Annealing] {
            let mut s = search::build(kind, Arc::clone(&space), SearchSettings::for_space(&space, 3, 20));
            let run = run_budgeted(s.as_mut(), &space, Limits::budget(20), &mut TableEvaluation::new(&table));
            assert_eq!(run.order.len(), 20, "{kind}");
            let distinct: HashSet<PointId> = run.order.iter().copied().collect();
            assert_eq!(distinct.len(), 20, "{kind}: every counted point is new");
        }
    }
}
