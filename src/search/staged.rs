//! A three-phase wrapper around a search strategy for small evaluation budgets:
//!
//! 1. **seed** ([`SEED_FRACTION`] of the budget): half of it a stratified sample — templates visited round
//!    robin, and within a template each knob draws its values from a shuffled deck (a Latin-hypercube-like
//!    design), so every template and every knob value is seen early, however small its template — then
//!    guided batches of a quarter of it ([`FeasibilityStats`]: Thompson sampling of templates and knob values
//!    by their feasible rates so far). While no feasible point is known, the guided batches go on (up to the
//!    polish phase): on spaces where a small block holds every feasible point, there is nothing to search
//!    from until one is found. A draw that breaks a structural rule (area budget, engine or GPU count) is
//!    walked back inside by [`repair_draw`] rather than redrawn, so blocks where valid points are rare (a
//!    3-stage accelerator block under a tight area budget) are still sampled;
//! 2. **inner**: the wrapped strategy (annealing or NSGA-II), told the seed results first, until
//!    [`POLISH_FRACTION`] of the budget is left, or earlier when it stagnates ([`INNER_IDLE_ASKS`] asks in a
//!    row without a new point);
//! 3. **polish**: a Pareto local search (in the spirit of Paquete, Chiarandini & Stützle 2004) around the
//!    current non-dominated set. A member's neighbourhood ([`polish_neighbours`]) holds its stage-hardware
//!    copies, its one-knob neighbours, and, for a one-knob step that breaks the area budget or an engine/GPU
//!    limit, that step repaired by a second hardware knob. Each batch takes one unevaluated neighbour per
//!    member of the best front that has one (most isolated members — largest crowding distance, so
//!    extremes — first; the next front of the first [`POLISH_RANKS`] only when the ones before are
//!    exhausted), and the front is recomputed after every batch, so new front points are expanded at once.
//!    Which neighbour a member offers is chosen by adaptive credit assignment: every kind of step (a copy,
//!    a knob moved up or down, a repaired step) keeps (successes, trials), a success being a point no known
//!    point dominates, and the step kind with the best (successes + 1) / (trials + 2) goes first. When no
//!    neighbour is left, guided samples fill the budget.
//!
//! Budget use is counted from the distinct points told. Deterministic given the seed and the told results.

use super::moves::{repair_draw, stage_hardware_copies, structurally_valid};
use super::{Search, SearchSettings};
use crate::pareto::{crowding_distance, dominates, non_dominated_ranks, objective_matrix};
use crate::spec::{Param, ParamKind, PointId, Space};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Share of the budget spent on the stratified seed sample.
pub const SEED_FRACTION: f64 = 0.2;
/// Non-domination ranks whose members' neighbours the local search visits (front first).
pub const POLISH_RANKS: usize = 2;
/// Share of the budget kept for the local search around the front.
pub const POLISH_FRACTION: f64 = 0.5;
/// Inner asks in a row without a new point after which the inner phase ends early.
pub const INNER_IDLE_ASKS: u32 = 3;

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
    /// (successes, trials) of each local-search step kind.
    credits: HashMap<Step, (u32, u32)>,
    /// The step that proposed each local-search point not yet told.
    pending_steps: HashMap<PointId, Step>,
    /// Structurally valid [`polish_neighbours`] of each front member seen so far.
    neighbourhoods: HashMap<PointId, Vec<(PointId, Step)>>,
    /// Feasibility counts that steer the guided samples.
    feasibility: FeasibilityStats,
    /// Whether the inner strategy has been told the seed sample.
    inner_seeded: bool,
    /// Inner asks in a row without a new point.
    inner_idle: u32,
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
            credits: HashMap::new(),
            pending_steps: HashMap::new(),
            neighbourhoods: HashMap::new(),
            feasibility: FeasibilityStats::default(),
            inner_seeded: false,
            inner_idle: 0,
        }
    }

    fn polish_start(&self) -> u64 {
        self.budget - polish_share(self.budget)
    }

    /// The next seed-phase batch: first half of the seed share stratified, the rest in guided batches of a
    /// quarter of it; past the seed share, more guided batches while no feasible point is known. Empty when
    /// the seed phase is over.
    fn seed_batch(&mut self) -> Vec<PointId> {
        let used = self.known.len() as u64;
        if used == 0 {
            let first = self.seed_count.div_ceil(2).max(1) as usize;
            return stratified_sample(&self.space, first, &mut self.rng);
        }
        let any_feasible = self.feasibility.any_feasible();
        if used >= self.seed_count && (any_feasible || used >= self.polish_start()) {
            return Vec::new();
        }
        let batch = (self.seed_count / 4).max(1) as usize;
        let batch = if used < self.seed_count { batch.min((self.seed_count - used) as usize) } else { batch };
        self.guided_sample(batch)
    }

    /// Up to `count` new structurally valid points, template and knob values drawn by [`FeasibilityStats`].
    fn guided_sample(&mut self, count: usize) -> Vec<PointId> {
        let mut out: Vec<PointId> = Vec::new();
        let mut closed: HashSet<usize> = HashSet::new();
        while out.len() < count && closed.len() < self.space.templates.len() {
            let t = self.feasibility.pick_template(&self.space, &closed, &mut self.rng);
            let mut found = None;
            for _ in 0..super::moves::TRIES {
                let digits = self.feasibility.draw_digits(&self.space, t, &mut self.rng);
                let Some(p) = valid_draw(&self.space, t, &digits, &mut self.rng) else { continue };
                if !self.known.contains_key(&p) && !out.contains(&p) {
                    found = Some(p);
                    break;
                }
            }
            match found {
                Some(p) => out.push(p),
                None => {
                    closed.insert(t);
                }
            }
        }
        out
    }

    /// The next local-search batch: for each member of the best non-dominated front that still has an
    /// unevaluated neighbour, one of them (members most isolated first); the next front only once every
    /// neighbour of the ones before is evaluated. A member's neighbour is the one whose step kind has the
    /// best credit so far (successes + 1) / (trials + 2), in neighbourhood order among equals. Small
    /// batches keep the search adaptive: a point found on the front has its own neighbours visited in the
    /// next batch.
    fn front_neighbours(&mut self) -> Vec<(PointId, Step)> {
        let mut feasible: Vec<(PointId, Vec<f64>)> =
            self.known.iter().filter_map(|(id, v)| v.as_ref().map(|v| (*id, v.clone()))).collect();
        feasible.sort_by_key(|(id, _)| *id);
        let vectors = objective_matrix(feasible.iter().map(|(_, v)| v.as_slice()));
        let ranks = non_dominated_ranks(&vectors);
        let mut out: Vec<(PointId, Step)> = Vec::new();
        for rank in 0..POLISH_RANKS {
            let front: Vec<usize> = (0..vectors.nrows()).filter(|&i| ranks[i] == rank).collect();
            let crowd = crowding_distance(&vectors, &front);
            let mut members: Vec<(usize, f64)> = front.iter().copied().zip(crowd).collect();
            members.sort_by(|a, b| b.1.total_cmp(&a.1).then(feasible[a.0].0.cmp(&feasible[b.0].0)));
            for &(i, _) in &members {
                let space = &self.space;
                self.neighbourhoods.entry(feasible[i].0).or_insert_with_key(|&id| {
                    polish_neighbours(space, id).into_iter().filter(|(p, _)| structurally_valid(space, *p)).collect()
                });
            }
            for &(i, _) in &members {
                let next = self.neighbourhoods[&feasible[i].0]
                    .iter()
                    .copied()
                    .filter(|(p, _)| !self.known.contains_key(p) && !out.iter().any(|(q, _)| q == p))
                    .enumerate()
                    .max_by(|(ia, a), (ib, b)| self.credit(a.1).total_cmp(&self.credit(b.1)).then(ib.cmp(ia)))
                    .map(|(_, n)| n);
                out.extend(next);
            }
            if !out.is_empty() {
                break;
            }
        }
        out
    }

    fn credit(&self, step: Step) -> f64 {
        let (successes, trials) = self.credits.get(&step).copied().unwrap_or((0, 0));
        (successes as f64 + 1.0) / (trials as f64 + 2.0)
    }

    /// Credit the steps of told local-search points: a success when the point is feasible and no known
    /// point dominates it.
    fn credit_steps(&mut self, results: &[(PointId, Option<Vec<f64>>)]) {
        for (id, v) in results {
            let Some(step) = self.pending_steps.remove(id) else { continue };
            let success = v
                .as_ref()
                .is_some_and(|v| !self.known.values().any(|other| other.as_ref().is_some_and(|o| dominates(o, v))));
            let entry = self.credits.entry(step).or_insert((0, 0));
            entry.0 += u32::from(success);
            entry.1 += 1;
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

/// The kind of step from a front member to a neighbour; the local search credits each kind with how often
/// it led to a non-dominated point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// A stage-hardware copy ([`stage_hardware_copies`]).
    Copy,
    /// One knob moved.
    Knob {
        /// The knob.
        kind: ParamKind,
        /// To a later value of its domain.
        up: bool,
    },
    /// One knob moved past a structural limit and a second hardware knob changed to respect it again.
    Repair {
        /// The first knob.
        kind: ParamKind,
        /// To a later value of its domain.
        up: bool,
    },
}

/// The local search's neighbourhood of `id`, each neighbour with the step that reaches it: its
/// stage-hardware copies, then its one-knob neighbours (knobs in order, values nearest first); a one-knob
/// neighbour that breaks a structural rule (area budget, engine or GPU count) is replaced by its repairs —
/// the same step plus one change of another hardware knob that makes the point valid again (e.g. a bigger
/// array for one stage paid for by a smaller one elsewhere).
pub fn polish_neighbours(space: &Space, id: PointId) -> Vec<(PointId, Step)> {
    let Some((t, digits)) = space.decode(id) else { return Vec::new() };
    let params = &space.templates[t].params;
    let mut out: Vec<(PointId, Step)> = stage_hardware_copies(space, id).into_iter().map(|p| (p, Step::Copy)).collect();
    for (k, v) in one_knob_steps(params, &digits) {
        let mut d = digits.clone();
        d[k] = v;
        let Some(n) = space.encode(t, &d) else { continue };
        let (kind, up) = (params[k].kind, v > digits[k]);
        if structurally_valid(space, n) {
            out.push((n, Step::Knob { kind, up }));
            continue;
        }
        for (k2, v2) in one_knob_steps(params, &d) {
            if k2 != k && is_hardware(params[k2].kind) {
                let mut r = d.clone();
                r[k2] = v2;
                if let Some(n) = space.encode(t, &r).filter(|&n| structurally_valid(space, n)) {
                    out.push((n, Step::Repair { kind, up }));
                }
            }
        }
    }
    out
}

fn is_hardware(kind: ParamKind) -> bool {
    !matches!(kind, ParamKind::StageModel(_) | ParamKind::Items)
}

/// Every (knob, value) one step away from `digits`: values nearest first, knobs in order at each distance.
fn one_knob_steps(params: &[Param], digits: &[u64]) -> Vec<(usize, u64)> {
    let max_radix = params.iter().map(|p| p.radix).max().unwrap_or(1);
    let mut out = Vec::new();
    for dist in 1..max_radix {
        for (k, p) in params.iter().enumerate() {
            for v in [digits[k].checked_sub(dist), Some(digits[k] + dist)].into_iter().flatten() {
                if v < p.radix {
                    out.push((k, v));
                }
            }
        }
    }
    out
}

/// The point of `digits` in template `t` if it is structurally valid, else its repair ([`repair_draw`]).
fn valid_draw<R: Rng>(space: &Space, t: usize, digits: &[u64], rng: &mut R) -> Option<PointId> {
    let p = space.encode(t, digits)?;
    if structurally_valid(space, p) {
        return Some(p);
    }
    repair_draw(space, t, digits, rng).and_then(|d| space.encode(t, &d))
}

/// Up to `count` distinct, structurally valid points (invalid draws repaired): templates round robin (a shuffled order), each knob's
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
                if let Some(p) = valid_draw(space, t, &digits, rng).filter(|p| !seen.contains(p)) {
                    found = Some(p);
                    break;
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

/// Feasibility counts of the points evaluated so far, per template and per (template, knob, value), for
/// Thompson sampling (Thompson 1933; Beta(feasible + 1, infeasible + 1) posteriors): a template is picked
/// with the probability that its feasible rate is the highest, and within it each knob value with the
/// probability its own rate wins. Templates and values never tried keep the uniform prior, so they are
/// still explored; those seen many times without a feasible point fade. On spaces where a small block
/// holds every feasible point (a tight area budget or SLA), the samples move there after a few misses.
#[derive(Debug, Clone, Default)]
pub struct FeasibilityStats {
    /// (points, feasible) per template.
    templates: HashMap<usize, (u32, u32)>,
    /// (points, feasible) per (template, knob, value).
    values: HashMap<(usize, usize, u64), (u32, u32)>,
}

impl FeasibilityStats {
    /// Count one evaluated point.
    pub fn record(&mut self, template: usize, digits: &[u64], feasible: bool) {
        let e = self.templates.entry(template).or_insert((0, 0));
        e.0 += 1;
        e.1 += u32::from(feasible);
        for (k, &v) in digits.iter().enumerate() {
            let e = self.values.entry((template, k, v)).or_insert((0, 0));
            e.0 += 1;
            e.1 += u32::from(feasible);
        }
    }

    /// Whether any counted point was feasible.
    pub fn any_feasible(&self) -> bool {
        self.templates.values().any(|(_, f)| *f > 0)
    }

    fn beta_draw<R: Rng>((points, feasible): (u32, u32), rng: &mut R) -> f64 {
        let beta =
            Beta::new(f64::from(feasible) + 1.0, f64::from(points - feasible) + 1.0).expect("positive Beta parameters");
        beta.sample(rng)
    }

    /// A template (not in `closed`) by Thompson sampling.
    fn pick_template<R: Rng>(&self, space: &Space, closed: &HashSet<usize>, rng: &mut R) -> usize {
        let mut best = (f64::NEG_INFINITY, 0);
        for t in (0..space.templates.len()).filter(|t| !closed.contains(t)) {
            let draw = Self::beta_draw(self.templates.get(&t).copied().unwrap_or((0, 0)), rng);
            if draw > best.0 {
                best = (draw, t);
            }
        }
        best.1
    }

    /// Knob digits of template `t`, each value by Thompson sampling.
    fn draw_digits<R: Rng>(&self, space: &Space, t: usize, rng: &mut R) -> Vec<u64> {
        space.templates[t]
            .params
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let mut best = (f64::NEG_INFINITY, 0);
                for v in 0..p.radix.max(1) {
                    let draw = Self::beta_draw(self.values.get(&(t, k, v)).copied().unwrap_or((0, 0)), rng);
                    if draw > best.0 {
                        best = (draw, v);
                    }
                }
                best.1
            })
            .collect()
    }
}

impl Search for Staged {
    fn name(&self) -> String {
        format!("{} + stratified seed + front polish", self.inner.name())
    }

    fn ask(&mut self) -> Vec<PointId> {
        let used = self.known.len() as u64;
        if self.phase == Phase::Seed {
            let sample = self.seed_batch();
            if !sample.is_empty() {
                return sample;
            }
            self.phase = Phase::Inner;
        }
        if self.phase == Phase::Inner && !self.inner_seeded {
            self.inner_seeded = true;
            let mut seeded: Vec<(PointId, Option<Vec<f64>>)> =
                self.known.iter().map(|(k, v)| (*k, v.clone())).collect();
            seeded.sort_by_key(|(id, _)| *id);
            self.inner.tell(&seeded);
        }
        if self.phase == Phase::Inner && used >= self.polish_start() {
            self.phase = Phase::Polish;
        }
        if self.phase == Phase::Inner {
            let next = self.inner.ask();
            if next.iter().any(|p| !self.known.contains_key(p)) {
                self.inner_idle = 0;
                return next;
            }
            // An inner strategy that only re-proposes known points has stagnated: its budget goes to the
            // local search.
            self.inner_idle += 1;
            if next.is_empty() || self.inner_idle >= INNER_IDLE_ASKS {
                self.phase = Phase::Polish;
            } else {
                return next;
            }
        }
        let next = self.front_neighbours();
        if !next.is_empty() {
            self.pending_steps = next.iter().copied().collect();
            return next.into_iter().map(|(p, _)| p).collect();
        }
        // Nothing left next to the front: fresh guided points.
        self.guided_sample((self.budget / 20).max(1) as usize)
    }

    fn tell(&mut self, results: &[(PointId, Option<Vec<f64>>)]) {
        for (id, v) in results {
            if self.known.insert(*id, v.clone()).is_none() {
                if let Some((t, digits)) = self.space.decode(*id) {
                    self.feasibility.record(t, &digits, v.is_some());
                }
            }
        }
        self.credit_steps(results);
        if self.inner_seeded {
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
        let n: Vec<PointId> = one_knob_steps(&s.templates[t].params, &d)
            .into_iter()
            .map(|(k, v)| {
                let mut e = d.clone();
                e[k] = v;
                s.encode(t, &e).unwrap()
            })
            .collect();
        let expected: u64 = s.templates[t].params.iter().map(|q| q.radix - 1).sum();
        assert_eq!(n.len() as u64, expected);
        for q in n {
            let (tq, dq) = s.decode(q).unwrap();
            assert_eq!(tq, t);
            assert_eq!(d.iter().zip(&dq).filter(|(a, b)| a != b).count(), 1);
        }
    }

    #[test]
    fn polish_neighbours_are_copies_one_knob_steps_or_valid_repairs() {
        let s = space();
        let mut repairs = 0;
        for i in 0..s.point_count() {
            let id = PointId(i);
            let (t, d) = s.decode(id).unwrap();
            for (n, step) in polish_neighbours(&s, id) {
                let (tn, dn) = s.decode(n).unwrap();
                assert_eq!(tn, t);
                let changed = d.iter().zip(&dn).filter(|(a, b)| a != b).count();
                match step {
                    Step::Copy => assert!(stage_hardware_copies(&s, id).contains(&n)),
                    Step::Knob { .. } => assert_eq!(changed, 1),
                    Step::Repair { .. } => {
                        repairs += 1;
                        assert_eq!(changed, 2);
                        assert!(structurally_valid(&s, n), "a repair respects the structural rules");
                    }
                }
            }
        }
        assert!(repairs > 0, "the tiny space has over-area steps to repair");
    }

    #[test]
    fn repaired_draws_are_valid_and_keep_their_pipeline() {
        let s = space();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut repaired = 0;
        for i in 0..s.point_count() {
            let design = s.design(PointId(i)).unwrap();
            let excess = s.structural_excess(&design);
            assert_eq!(excess > 0.0, s.structural_violation(&design).is_some(), "point {i}: excess {excess}");
            if excess <= 0.0 {
                continue;
            }
            let (t, digits) = s.decode(PointId(i)).unwrap();
            let Some(fixed) = repair_draw(&s, t, &digits, &mut rng) else { continue };
            repaired += 1;
            let p = s.encode(t, &fixed).unwrap();
            assert!(structurally_valid(&s, p), "point {i} repaired to an invalid {p:?}");
            for (k, param) in s.templates[t].params.iter().enumerate() {
                if !is_hardware(param.kind) {
                    assert_eq!(fixed[k], digits[k], "point {i}: the repair changed {:?}", param.kind);
                }
            }
        }
        assert!(repaired > 0, "the tiny space has over-area points to repair");
    }

    #[test]
    fn thompson_sampling_follows_the_feasible_template() {
        let s = space();
        let mut stats = FeasibilityStats::default();
        let feasible_template = s.templates.len() - 1;
        for t in 0..s.templates.len() {
            let digits = vec![0; s.templates[t].params.len()];
            for _ in 0..20 {
                stats.record(t, &digits, t == feasible_template);
            }
        }
        assert!(stats.any_feasible());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let picks =
            (0..200).filter(|_| stats.pick_template(&s, &HashSet::new(), &mut rng) == feasible_template).count();
        assert!(picks > 190, "{picks} of 200 picks went to the only template with feasible points");
        let closed: HashSet<usize> = [feasible_template].into_iter().collect();
        assert_ne!(stats.pick_template(&s, &closed, &mut rng), feasible_template, "closed templates are skipped");
    }

    #[test]
    fn the_local_search_credits_steps_that_reach_the_front() {
        let s = Arc::new(space());
        let settings = SearchSettings { seed: 1, budget: 10, population: 4, restarts: 1 };
        let inner = Box::new(crate::search::nsga2::Nsga2::new(Arc::clone(&s), settings));
        let mut staged = Staged::new(Arc::clone(&s), settings, inner);
        let good = Step::Copy;
        let bad = Step::Knob { kind: ParamKind::Items, up: true };
        staged.known.insert(PointId(0), Some(vec![1.0, 1.0]));
        staged.pending_steps.insert(PointId(1), good);
        staged.pending_steps.insert(PointId(2), bad);
        staged.tell(&[(PointId(1), Some(vec![0.5, 2.0])), (PointId(2), Some(vec![2.0, 2.0]))]);
        assert_eq!(staged.credits[&good], (1, 1));
        assert_eq!(staged.credits[&bad], (0, 1));
        assert!(staged.credit(good) > staged.credit(Step::Repair { kind: ParamKind::Items, up: false }));
        assert!(staged.credit(bad) < 0.5, "an untried step (credit 1/2) goes before a failed one");
    }
}
