//! NSGA-II (Deb, Pratap, Agarwal & Meyarivan, IEEE TEC 2002) over discrete design points.
//!
//! Generation 0 is the best `population` of the points told before the first ask (the seed sample), or else
//! `population` distinct random points (the population is capped at a sixth of the budget,
//! so that small budgets still run several generations). Each generation breeds `population` children by
//! binary tournament on (front rank, crowding distance), uniform crossover of knob digits (probability 0.9,
//! same template only) and mutation ([`super::moves::mutate`], jump probability 0.05); a child
//! already evaluated is re-drawn up to 20 times so the budget buys new points. Survivors are the best
//! `population` of parents ∪ children by (rank, crowding). Infeasible points rank behind every feasible one
//! (constrained domination). Seeded; deterministic given the told results.

use super::moves::{crossover, mutate, random_point};
use super::{Search, SearchSettings};
use crate::pareto::{crowding_distance, non_dominated_ranks, objective_matrix};
use crate::spec::{PointId, Space};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Probability of crossover for a pair of parents.
pub const CROSSOVER_PROBABILITY: f64 = 0.9;
/// Probability that mutation replaces a child by a random point.
pub const JUMP_PROBABILITY: f64 = 0.05;

type Member = (PointId, Option<Vec<f64>>);

/// NSGA-II state.
pub struct Nsga2 {
    space: Arc<Space>,
    size: usize,
    rng: Xoshiro256PlusPlus,
    population: Vec<Member>,
    /// (rank, crowding) of each population member.
    fitness: Vec<(usize, f64)>,
    known: HashMap<PointId, Option<Vec<f64>>>,
    pending: Vec<PointId>,
}

impl Nsga2 {
    /// NSGA-II on `space` with the settings' population and seed.
    pub fn new(space: Arc<Space>, settings: SearchSettings) -> Nsga2 {
        // At least six generations fit in the budget: the population is capped at budget / 6.
        let cap = (settings.budget / 6).max(4) as usize;
        let size = settings.population.min(cap).max(4).min(space.point_count().max(1) as usize);
        Nsga2 {
            space,
            size,
            rng: Xoshiro256PlusPlus::seed_from_u64(settings.seed),
            population: Vec::new(),
            fitness: Vec::new(),
            known: HashMap::new(),
            pending: Vec::new(),
        }
    }

    fn tournament(&mut self) -> PointId {
        let n = self.population.len();
        let a = self.rng.random_range(0..n);
        let b = self.rng.random_range(0..n);
        let (fa, fb) = (self.fitness[a], self.fitness[b]);
        let a_wins = fa.0 < fb.0 || (fa.0 == fb.0 && fa.1 > fb.1);
        self.population[if a_wins { a } else { b }].0
    }

    fn child(&mut self) -> PointId {
        let mut c = self.population[0].0;
        for _ in 0..20 {
            let p1 = self.tournament();
            let p2 = self.tournament();
            let x = if self.rng.random::<f64>() < CROSSOVER_PROBABILITY {
                crossover(&self.space, p1, p2, &mut self.rng)
            } else {
                p1
            };
            c = mutate(&self.space, x, JUMP_PROBABILITY, &mut self.rng);
            if !self.known.contains_key(&c) && !self.pending.contains(&c) {
                break;
            }
        }
        c
    }
}

/// (rank, crowding distance) of each member: feasible points by non-dominated sorting of their objective
/// matrix (one row per feasible member), infeasible points one rank behind the worst feasible front with zero
/// crowding.
pub fn rank_and_crowd(members: &[Member]) -> Vec<(usize, f64)> {
    let feasible: Vec<usize> = (0..members.len()).filter(|&i| members[i].1.is_some()).collect();
    let vectors = objective_matrix(feasible.iter().map(|&i| members[i].1.as_deref().expect("feasible")));
    let ranks = non_dominated_ranks(&vectors);
    let worst = ranks.iter().copied().max().map_or(0, |r| r + 1);
    let mut out = vec![(worst, 0.0); members.len()];
    for r in 0..worst {
        let front: Vec<usize> = (0..vectors.nrows()).filter(|&j| ranks[j] == r).collect();
        let crowd = crowding_distance(&vectors, &front);
        for (k, &j) in front.iter().enumerate() {
            out[feasible[j]] = (r, crowd[k]);
        }
    }
    out
}

impl Search for Nsga2 {
    fn name(&self) -> String {
        format!("nsga2 (population {})", self.size)
    }

    fn ask(&mut self) -> Vec<PointId> {
        self.pending.clear();
        if self.population.is_empty() {
            let mut seen = HashSet::new();
            let mut tries = 0;
            while self.pending.len() < self.size && tries < 100 * self.size {
                let p = random_point(&self.space, &mut self.rng);
                if seen.insert(p) {
                    self.pending.push(p);
                }
                tries += 1;
            }
        } else {
            for _ in 0..self.size {
                let c = self.child();
                self.pending.push(c);
            }
        }
        self.pending.clone()
    }

    fn tell(&mut self, results: &[(PointId, Option<Vec<f64>>)]) {
        for (id, v) in results {
            self.known.insert(*id, v.clone());
        }
        let mut pool: Vec<Member> = self.population.clone();
        let mut in_pool: HashSet<PointId> = pool.iter().map(|m| m.0).collect();
        // Every told point competes, not only this generation's children (a seed sample told before the
        // first ask becomes generation 0).
        for (id, v) in results {
            if in_pool.insert(*id) {
                pool.push((*id, v.clone()));
            }
        }
        let fit = rank_and_crowd(&pool);
        let mut order: Vec<usize> = (0..pool.len()).collect();
        order.sort_by(|&a, &b| {
            fit[a].0.cmp(&fit[b].0).then(fit[b].1.total_cmp(&fit[a].1)).then(pool[a].0.cmp(&pool[b].0))
        });
        order.truncate(self.size);
        self.population = order.iter().map(|&i| pool[i].clone()).collect();
        self.fitness = rank_and_crowd(&self.population);
    }
}
