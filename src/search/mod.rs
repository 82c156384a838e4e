//! Search strategies over a design space, all ask/tell and seeded (`Xoshiro256PlusPlus::seed_from_u64`):
//!
//! * [`exhaustive`]: every point, in batches of consecutive mixed-radix id ranges (the driver evaluates a
//!   batch in parallel);
//! * [`anneal`]: simulated annealing with argmin's `SimulatedAnnealing` over neighbouring points
//!   ([`moves`]), several restarts with different objective weights, in two variants: a weighted sum of
//!   log-scaled objectives (`annealing`) and a Pareto-archive cost that counts how much of the restart's
//!   archive dominates a point (`annealing-pareto`);
//! * [`nsga2`]: NSGA-II (Deb et al. 2002): non-dominated sorting and crowding distance selection, uniform
//!   crossover of knob digits within a template, per-digit mutation and template jumps.
//!
//! [`budgeted`] is the loop every run goes through (budget of distinct points, repeats, stalls, early stop),
//! over the real evaluator in `explore` or a precomputed table in `bench search`; [`suite`] generates the
//! held-out spaces the strategies are benchmarked on.
//!
//! Strategies see objective vectors in minimisation form (`None` for an infeasible point) and never
//! evaluate anything themselves; the driver ([`crate::explore::driver`]) does.

pub mod anneal;
pub mod budgeted;
pub mod exhaustive;
pub mod moves;
pub mod nsga2;
pub mod staged;
pub mod suite;

use crate::spec::{PointId, Space};
use std::sync::Arc;

/// An ask/tell search strategy.
pub trait Search {
    /// Name used in reports.
    fn name(&self) -> String;
    /// The next batch of points to evaluate; empty when the strategy is done.
    fn ask(&mut self) -> Vec<PointId>;
    /// Objective vectors (minimisation form; `None` = infeasible) of points asked so far, in ask order.
    fn tell(&mut self, results: &[(PointId, Option<Vec<f64>>)]);
}

/// Strategies by name.
///
/// The one list of strategies: the space's `search.strategy`, `explore --strategy` and `--help` all read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// Every point.
    Exhaustive,
    /// argmin simulated annealing on a weighted sum of log-scaled objectives, restarted with new weights.
    Annealing,
    /// argmin simulated annealing on a Pareto-archive domination cost.
    AnnealingPareto,
    /// NSGA-II.
    Nsga2,
}

impl StrategyKind {
    /// The name as written in spaces and on the command line.
    pub fn name(self) -> String {
        crate::input::choice_name(&self)
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// Settings shared by the strategies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSettings {
    /// Seed of all random choices.
    pub seed: u64,
    /// Budget of distinct points (strategies size their iterations from it).
    pub budget: u64,
    /// NSGA-II population.
    pub population: usize,
    /// Annealing restarts.
    pub restarts: usize,
}

impl SearchSettings {
    /// The space's population and restarts with the given seed and budget.
    pub fn for_space(space: &Space, seed: u64, budget: u64) -> SearchSettings {
        SearchSettings {
            seed,
            budget,
            population: space.search.population as usize,
            restarts: space.search.restarts as usize,
        }
    }
}

/// Build a strategy for `space`: exhaustive as is; annealing and NSGA-II inside [`staged::Staged`]
/// (stratified seed sample, the strategy, local search around the front).
pub fn build(kind: StrategyKind, space: Arc<Space>, settings: SearchSettings) -> Box<dyn Search> {
    let inner = SearchSettings { budget: staged::inner_budget(settings.budget).max(1), ..settings };
    let inner: Box<dyn Search> = match kind {
        StrategyKind::Exhaustive => return Box::new(exhaustive::Exhaustive::new(&space)),
        StrategyKind::Annealing => {
            Box::new(anneal::Annealing::new(Arc::clone(&space), inner, anneal::Cost::WeightedLogSum))
        }
        StrategyKind::AnnealingPareto => {
            Box::new(anneal::Annealing::new(Arc::clone(&space), inner, anneal::Cost::ParetoArchive))
        }
        StrategyKind::Nsga2 => Box::new(nsga2::Nsga2::new(Arc::clone(&space), inner)),
    };
    Box::new(staged::Staged::new(space, settings, inner))
}

/// The small mixed test space of the explore tests (`tests/spaces/tiny-explore.yaml`), for the strategies' unit
/// tests.
#[cfg(test)]
pub(crate) fn tiny_test_space() -> Space {
    let text = include_str!("../../tests/spaces/tiny-explore.yaml");
    crate::spec::parse_space(text, "tiny-explore.yaml", std::path::Path::new(".")).expect("valid test space")
}
