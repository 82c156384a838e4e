//! Simulated annealing with argmin's [`SimulatedAnnealing`] over neighbouring discrete points, restarted
//! with different objective weights to cover the front.
//!
//! Restarts start from the best points told before the first `ask` (the seed sample, each restart's best
//! under its own weights) and their Pareto archives start with every feasible vector told then.
//!
//! The argmin problem's parameter is a [`PointId`]; its [`Anneal`] move is [`super::moves::neighbour`]
//! (one knob digit ±1 or reset, a stage-hardware copy, or a jump with probability 0.05 + 0.25·T/T₀, the move RNG
//! seeded in the problem). Each restart runs its own argmin executor on a worker thread; its cost function
//! hands the point to the driver through this strategy's `ask` and waits for the objective vector from
//! `tell`, so the restarts run in lock step (one point each per batch, evaluated in parallel) and every
//! restart's trajectory depends only on the seed and the results, not on thread timing.
//!
//! Costs (objective vector `v` in minimisation form; each objective log-scaled,
//! `t = ln v` for minimised and `t = −ln(−v)` for maximised metrics, so weights are unit-free):
//! * [`Cost::WeightedLogSum`]: `Σ wⱼ tⱼ`, restart 0 with equal weights, the others with weights drawn
//!   uniformly from the simplex; infeasible points cost [`INFEASIBLE_COST`];
//! * [`Cost::ParetoArchive`]: the fraction of the restart's archive (every feasible vector it has seen) that
//!   dominates `v`, plus 1 % of the weighted log sum as a tie-break — 0 on the restart's current front, so the
//!   walk drifts along the front (an archive-based annealing in the spirit of AMOSA, Bandyopadhyay et al.
//!   2008; the cost of a point is fixed when it is first evaluated).
//!
//! Temperature: Boltzmann schedule T = T₀ / ln(k + 1), re-annealed after 40 iterations without a new best.

use super::moves::{neighbour, random_point};
use super::{Search, SearchSettings};
use crate::pareto::dominates;
use crate::spec::{PointId, Space};
use argmin::core::{CostFunction, Error, Executor};
use argmin::solver::simulatedannealing::{Anneal, SATempFunc, SimulatedAnnealing};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Cost of an infeasible point (log-scaled objectives differ by a few units).
pub const INFEASIBLE_COST: f64 = 50.0;

/// Which scalar cost the annealer minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Weighted sum of log-scaled objectives.
    WeightedLogSum,
    /// Domination count against the restart's archive.
    ParetoArchive,
}

enum Msg {
    Ask(PointId),
    Done,
}

struct Restart {
    requests: Receiver<Msg>,
    replies: Option<Sender<Option<Vec<f64>>>>,
    waiting: Option<PointId>,
    alive: bool,
    handle: Option<JoinHandle<()>>,
}

/// Lock-step restarts of argmin simulated annealing.
pub struct Annealing {
    space: Arc<Space>,
    settings: SearchSettings,
    restarts: Vec<Restart>,
    cost: Cost,
    /// Results told before the restarts started (a seed sample): they pick the starting points and fill
    /// the Pareto archives.
    prior: Vec<(PointId, Option<Vec<f64>>)>,
    started: bool,
}

impl Annealing {
    /// `settings.restarts` restarts on `space`, each allowed about 4·budget/restarts annealing steps
    /// (repeated points are free, so steps exceed evaluations). The restarts start at the first `ask`, each
    /// from the best point told before (under its own weights, a different point per restart where there
    /// are enough), or from a random point when nothing was told.
    pub fn new(space: Arc<Space>, settings: SearchSettings, cost: Cost) -> Annealing {
        Annealing { space, settings, restarts: Vec::new(), cost, prior: Vec::new(), started: false }
    }

    fn start(&mut self) {
        self.started = true;
        let n = self.settings.restarts.max(1);
        let dims = self.space.objectives.len().max(1);
        let iters = (4 * self.settings.budget / n as u64).max(10);
        let mut seeder = Xoshiro256PlusPlus::seed_from_u64(self.settings.seed);
        let archive: Vec<Vec<f64>> = self.prior.iter().filter_map(|(_, v)| v.clone()).collect();
        let mut taken = Vec::new();
        for r in 0..n {
            let weights = if r == 0 { vec![1.0 / dims as f64; dims] } else { simplex_weights(dims, &mut seeder) };
            let seed = seeder.random::<u64>();
            let start = best_start(&self.prior, &weights, &taken);
            taken.extend(start);
            let (ask_tx, ask_rx) = channel();
            let (reply_tx, reply_rx) = channel();
            let space = Arc::clone(&self.space);
            let restart = RestartSetup { weights, cost: self.cost, seed, iters, start, archive: archive.clone() };
            let handle = std::thread::spawn(move || {
                run_restart(space, restart, ask_tx.clone(), reply_rx);
                let _ = ask_tx.send(Msg::Done);
            });
            self.restarts.push(Restart {
                requests: ask_rx,
                replies: Some(reply_tx),
                waiting: None,
                alive: true,
                handle: Some(handle),
            });
        }
    }
}

/// The feasible told point with the lowest weighted log-sum under `weights`, preferring points no earlier
/// restart starts from.
fn best_start(prior: &[(PointId, Option<Vec<f64>>)], weights: &[f64], taken: &[PointId]) -> Option<PointId> {
    let score = |v: &[f64]| -> f64 { log_scaled(v).iter().zip(weights).map(|(t, w)| t * w).sum() };
    let best = |skip_taken: bool| {
        prior
            .iter()
            .filter(|(id, _)| !(skip_taken && taken.contains(id)))
            .filter_map(|(id, v)| v.as_ref().map(|v| (*id, score(v))))
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
            .map(|(id, _)| id)
    };
    best(true).or_else(|| best(false))
}

/// What one restart needs besides its channels.
struct RestartSetup {
    weights: Vec<f64>,
    cost: Cost,
    seed: u64,
    iters: u64,
    start: Option<PointId>,
    archive: Vec<Vec<f64>>,
}

fn simplex_weights(d: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
    let e: Vec<f64> = (0..d).map(|_| Exp1.sample(rng)).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

/// Log-scaled objective vector (see the module docs).
pub fn log_scaled(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| if x < 0.0 { -(-x).max(1e-12).ln() } else { x.max(1e-12).ln() }).collect()
}

struct Problem {
    space: Arc<Space>,
    weights: Vec<f64>,
    cost: Cost,
    init_temp: f64,
    rng: Mutex<Xoshiro256PlusPlus>,
    archive: Mutex<Vec<Vec<f64>>>,
    ask: Sender<Msg>,
    reply: Mutex<Receiver<Option<Vec<f64>>>>,
}

impl Problem {
    fn scalar(&self, v: &Option<Vec<f64>>) -> f64 {
        let Some(v) = v else { return INFEASIBLE_COST };
        let weighted: f64 = log_scaled(v).iter().zip(&self.weights).map(|(t, w)| t * w).sum();
        match self.cost {
            Cost::WeightedLogSum => weighted,
            Cost::ParetoArchive => {
                let mut archive = self.archive.lock().expect("archive lock");
                let dominated = archive.iter().filter(|a| dominates(a, v)).count();
                let fraction = dominated as f64 / (archive.len() + 1) as f64;
                archive.push(v.clone());
                fraction + 0.01 * weighted
            }
        }
    }
}

impl CostFunction for Problem {
    type Param = PointId;
    type Output = f64;
    fn cost(&self, p: &PointId) -> Result<f64, Error> {
        self.ask.send(Msg::Ask(*p)).map_err(|_| Error::msg("search finished"))?;
        let v = self.reply.lock().expect("reply lock").recv().map_err(|_| Error::msg("search finished"))?;
        Ok(self.scalar(&v))
    }
}

impl Anneal for Problem {
    type Param = PointId;
    type Output = PointId;
    type Float = f64;
    fn anneal(&self, p: &PointId, temp: f64) -> Result<PointId, Error> {
        let jump = 0.05 + 0.25 * (temp / self.init_temp).clamp(0.0, 1.0);
        let mut rng = self.rng.lock().expect("move rng lock");
        Ok(neighbour(&self.space, *p, jump, &mut *rng))
    }
}

fn run_restart(space: Arc<Space>, setup: RestartSetup, ask: Sender<Msg>, reply: Receiver<Option<Vec<f64>>>) {
    let init_temp = match setup.cost {
        Cost::WeightedLogSum => 0.5,
        Cost::ParetoArchive => 0.2,
    };
    let mut move_rng = Xoshiro256PlusPlus::seed_from_u64(setup.seed);
    let start = setup.start.unwrap_or_else(|| random_point(&space, &mut move_rng));
    let accept_rng = Xoshiro256PlusPlus::seed_from_u64(setup.seed ^ 0x9e37_79b9_7f4a_7c15);
    let problem = Problem {
        space,
        weights: setup.weights,
        cost: setup.cost,
        init_temp,
        rng: Mutex::new(move_rng),
        archive: Mutex::new(setup.archive),
        ask,
        reply: Mutex::new(reply),
    };
    let Ok(solver) = SimulatedAnnealing::new_with_rng(init_temp, accept_rng) else { return };
    let solver = solver.with_temp_func(SATempFunc::Boltzmann).with_reannealing_best(40);
    // Ends with an error when the driver stops asking (budget used); either way the restart is over.
    let _ = Executor::new(problem, solver).configure(|state| state.param(start).max_iters(setup.iters)).run();
}

impl Search for Annealing {
    fn name(&self) -> String {
        let cost = match self.cost {
            Cost::WeightedLogSum => "annealing (weighted log-sum",
            Cost::ParetoArchive => "annealing-pareto (archive domination",
        };
        format!("{cost}, {} restarts)", self.settings.restarts.max(1))
    }

    fn ask(&mut self) -> Vec<PointId> {
        if !self.started {
            self.start();
        }
        let mut out = Vec::new();
        for r in self.restarts.iter_mut().filter(|r| r.alive) {
            if r.waiting.is_none() {
                match r.requests.recv() {
                    Ok(Msg::Ask(p)) => r.waiting = Some(p),
                    Ok(Msg::Done) | Err(_) => r.alive = false,
                }
            }
            if let Some(p) = r.waiting {
                out.push(p);
            }
        }
        out
    }

    fn tell(&mut self, results: &[(PointId, Option<Vec<f64>>)]) {
        if !self.started {
            self.prior.extend(results.iter().cloned());
            return;
        }
        for r in self.restarts.iter_mut() {
            let Some(p) = r.waiting else { continue };
            if let Some((_, v)) = results.iter().find(|(id, _)| *id == p) {
                if let Some(tx) = &r.replies {
                    let _ = tx.send(v.clone());
                }
                r.waiting = None;
            }
        }
    }
}

impl Drop for Annealing {
    fn drop(&mut self) {
        for r in &mut self.restarts {
            r.replies = None;
        }
        for r in &mut self.restarts {
            if let Some(h) = r.handle.take() {
                let _ = h.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tiny_test_space as space;

    #[test]
    fn restarts_start_from_the_best_points_told_before_the_first_ask() {
        let s = Arc::new(space());
        let settings = SearchSettings { seed: 5, budget: 20, population: 4, restarts: 2 };
        let mut annealing = Annealing::new(Arc::clone(&s), settings, Cost::WeightedLogSum);
        // Minimisation form: the second point is better in both objectives, the third is third best.
        let prior = vec![
            (PointId(3), Some(vec![-0.1, 9.0, -10.0])),
            (PointId(7), Some(vec![-0.5, 1.0, -500.0])),
            (PointId(9), Some(vec![-0.4, 2.0, -300.0])),
            (PointId(11), None),
        ];
        annealing.tell(&prior);
        let first = annealing.ask();
        assert_eq!(first.len(), 2);
        assert_eq!(first[0], PointId(7), "equal weights start from the best point");
        assert_eq!(first[1], PointId(9), "the second restart starts from the best point not taken");
    }
}
