//! A three-phase wrapper around a search strategy for small evaluation budgets:
//!
//! 1. **seed** ([`SEED_FRACTION`] of the budget): a stratified sample — templates visited round robin, and
//!    within a template each knob draws its values from a shuffled deck (a Latin-hypercube-like design), so
//!    every template and every knob value is seen early, however small its template;
//! 2. **inner**: the wrapped strategy (annealing or NSGA-II), told the seed results first, until
//!    [`POLISH_FRACTION`] of the budget is left;
//! 3. **polish**: a local search around the current non-dominated set — every not yet evaluated point that
//!    differs from a member of the first [`POLISH_RANKS`] fronts in one knob, the front before the next,
//!    members of a front taken round robin, most isolated (largest crowding distance, so extremes first)
//!    first; the front is recomputed after each batch. When no such
//!    point is left the wrapped strategy continues.
//!
//! Budget use is counted from the distinct points told. Deterministic given the seed and the told results.

use super::moves::structurally_valid;
use super::{Search, SearchSettings};
use crate::pareto::{crowding_distance, non_dominated_ranks};
use crate::spec::{PointId, Space};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Share of the budget spent on the stratified seed sample.
pub const SEED_FRACTION: f64 = 0.2;
/// Non-domination ranks whose members' neighbours the local search visits (front first).
pub const POLISH_RANKS: usize = 2;
/// Share of the budget kept for the local search around the front.
pub const POLISH_FRACTION: f64 = 0.3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Seed,
    Inner,
    Polish,
}

/// Seed sample, wrapped strategy, local search around the front.
pub struct Staged {
    space: Arc<Space>,
    inner: Box<dyn Search>,
    budget: u64,
    seed_count: u64,
    phase: Phase,
    known: HashMap<PointId, Option<Vec<f64>>>,
    rng: Xoshiro256PlusPlus,
}

impl Staged {
    /// Wrap `inner` (which was built for the inner phase's share of `settings.budget`).
    pub fn new(space: Arc<Space>, settings: SearchSettings, inner: Box<dyn Search>) -> Staged {
        let seed_count = seed_share(settings.budget);
        Staged {
            space,
            inner,
            budget: settings.budget,
            seed_count,
            phase: Phase::Seed,
            known: HashMap::new(),
            rng: Xoshiro256PlusPlus::seed_from_u64(settings.seed ^ 0x5eed_5eed_5eed_5eed),
        }
    }

    fn polish_start(&self) -> u64 {
        self.budget - polish_share(self.budget)
    }

    fn seed_sample(&mut self) -> Vec<PointId> {
        stratified_sample(&self.space, self.seed_count as usize, &mut self.rng)
    }

    fn seed_sample_excluding_known(&mut self) -> Vec<PointId> {
        let want = (self.budget as usize).saturating_sub(self.known.len()) + self.known.len();
        stratified_sample(&self.space, want.min(self.space.point_count() as usize), &mut self.rng)
    }

    fn front_neighbours(&self) -> Vec<PointId> {
        let feasible: Vec<(PointId, Vec<f64>)> =
            self.known.iter().filter_map(|(id, v)| v.as_ref().map(|v| (*id, v.clone()))).collect();
        let mut feasible = feasible;
        feasible.sort_by_key(|(id, _)| *id);
        let vectors: Vec<Vec<f64>> = feasible.iter().map(|(_, v)| v.clone()).collect();
        let ranks = non_dominated_ranks(&vectors);
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for rank in 0..POLISH_RANKS {
            let front: Vec<usize> = (0..vectors.len()).filter(|&i| ranks[i] == rank).collect();
            let crowd = crowding_distance(&vectors, &front);
            let mut members: Vec<(usize, f64)> = front.iter().copied().zip(crowd).collect();
            members.sort_by(|a, b| b.1.total_cmp(&a.1).then(feasible[a.0].0.cmp(&feasible[b.0].0)));
            let lists: Vec<Vec<PointId>> =
                members.iter().map(|&(i, _)| one_knob_neighbours(&self.space, feasible[i].0)).collect();
            self.push_round_robin(&lists, &mut out, &mut seen);
        }
        out
    }

    fn push_round_robin(&self, lists: &[Vec<PointId>], out: &mut Vec<PointId>, seen: &mut HashSet<PointId>) {
        let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
        for j in 0..longest {
            for list in lists {
                if let Some(&p) = list.get(j) {
                    if !self.known.contains_key(&p) && structurally_valid(&self.space, p) && seen.insert(p) {
                        out.push(p);
                    }
                }
            }
        }
    }
}

fn seed_share(budget: u64) -> u64 {
    ((budget as f64 * SEED_FRACTION).round() as u64).min(budget)
}

fn polish_share(budget: u64) -> u64 {
    ((budget as f64 * POLISH_FRACTION).round() as u64).min(budget - seed_share(budget))
}

/// Budget left to the wrapped strategy.
pub fn inner_budget(budget: u64) -> u64 {
    budget - seed_share(budget) - polish_share(budget)
}

/// Every point that differs from `id` in exactly one knob, knobs in order, values nearest first.
pub fn one_knob_neighbours(space: &Space, id: PointId) -> Vec<PointId> {
    let Some((t, digits)) = space.decode(id) else { return Vec::new() };
    let mut out = Vec::new();
    let params = &space.templates[t].params;
    let max_radix = params.iter().map(|p| p.radix).max().unwrap_or(1);
    for dist in 1..max_radix {
        for (k, p) in params.iter().enumerate() {
            for v in [digits[k].checked_sub(dist), Some(digits[k] + dist)].into_iter().flatten() {
                if v < p.radix {
                    let mut d = digits.clone();
                    d[k] = v;
                    if let Some(n) = space.encode(t, &d) {
                        out.push(n);
                    }
                }
            }
        }
    }
    out
}

/// Up to `count` distinct, structurally valid points: templates round robin (a shuffled order), each knob's
/// value drawn from a per-template shuffled deck of its values that is refilled when empty.
pub fn stratified_sample<R: Rng>(space: &Space, count: usize, rng: &mut R) -> Vec<PointId> {
    let mut decks: Vec<Vec<Vec<u64>>> = space.templates.iter().map(|t| vec![Vec::new(); t.params.len()]).collect();
    let mut order: Vec<usize> = (0..space.templates.len()).collect();
    order.shuffle(rng);
    let mut open: Vec<bool> = vec![true; space.templates.len()];
    let mut chosen = Vec::new();
    let mut seen = HashSet::new();
    while chosen.len() < count && open.iter().any(|&o| o) {
        for &t in &order {
            if chosen.len() >= count || !open[t] {
                continue;
            }
            let template = &space.templates[t];
            let mut found = None;
            for _ in 0..super::moves::TRIES {
                let digits: Vec<u64> = template
                    .params
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        let deck = &mut decks[t][k];
                        if deck.is_empty() {
                            *deck = (0..p.radix.max(1)).collect();
                            deck.shuffle(rng);
                        }
                        deck.pop().expect("refilled deck")
                    })
                    .collect();
                if let Some(p) = space.encode(t, &digits) {
                    if !seen.contains(&p) && structurally_valid(space, p) {
                        found = Some(p);
                        break;
                    }
                }
            }
            match found {
                Some(p) => {
                    seen.insert(p);
                    chosen.push(p);
                }
                None => open[t] = false,
            }
        }
    }
    chosen
}

impl Search for Staged {
    fn name(&self) -> String {
        format!("{} + stratified seed + front polish", self.inner.name())
    }

    fn ask(&mut self) -> Vec<PointId> {
        let used = self.known.len() as u64;
        if self.phase == Phase::Seed {
            let sample = self.seed_sample();
            if !sample.is_empty() {
                return sample;
            }
            self.phase = Phase::Inner;
        }
        if self.phase == Phase::Inner && used >= self.polish_start() {
            self.phase = Phase::Polish;
        }
        if self.phase == Phase::Inner {
            let next = self.inner.ask();
            if !next.is_empty() {
                return next;
            }
            self.phase = Phase::Polish;
        }
        let next = self.front_neighbours();
        if !next.is_empty() {
            return next;
        }
        // Nothing left next to the front: fresh points of the stratified design.
        let fresh: Vec<PointId> =
            self.seed_sample_excluding_known().into_iter().filter(|p| !self.known.contains_key(p)).collect();
        fresh
    }

    fn tell(&mut self, results: &[(PointId, Option<Vec<f64>>)]) {
        for (id, v) in results {
            self.known.insert(*id, v.clone());
        }
        if self.phase == Phase::Seed {
            self.phase = Phase::Inner;
            let mut seeded: Vec<(PointId, Option<Vec<f64>>)> =
                self.known.iter().map(|(k, v)| (*k, v.clone())).collect();
            seeded.sort_by_key(|(id, _)| *id);
            self.inner.tell(&seeded);
        } else {
            self.inner.tell(results);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::search::tiny_test_space as space;

    #[test]
    fn the_seed_sample_covers_every_template_without_repeats() {
        let s = space();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let sample = stratified_sample(&s, 2 * s.templates.len(), &mut rng);
        let distinct: HashSet<PointId> = sample.iter().copied().collect();
        assert_eq!(distinct.len(), sample.len());
        let templates: HashSet<usize> = sample.iter().map(|p| s.decode(*p).unwrap().0).collect();
        assert_eq!(templates.len(), s.templates.len());
    }

    #[test]
    fn one_knob_neighbours_differ_in_one_digit() {
        let s = space();
        let p = PointId(s.point_count() - 1);
        let (t, d) = s.decode(p).unwrap();
        let n = one_knob_neighbours(&s, p);
        let expected: u64 = s.templates[t].params.iter().map(|q| q.radix - 1).sum();
        assert_eq!(n.len() as u64, expected);
        for q in n {
            let (tq, dq) = s.decode(q).unwrap();
            assert_eq!(tq, t);
            assert_eq!(d.iter().zip(&dq).filter(|(a, b)| a != b).count(), 1);
        }
    }
}
