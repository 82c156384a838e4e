//! Moves over discrete design points, on the knob digits of [`Space::decode`] / [`Space::encode`]:
//! random points (a template chosen uniformly, then uniform digits, so small CPU/GPU blocks are visited as
//! often as large accelerator blocks), jumps (a point drawn uniformly from the whole space, so large blocks
//! are visited in proportion to their size), neighbours (one knob digit moved by ±1 or reset at random, a
//! stage-hardware copy, or a jump), stage-hardware copies (one accelerator stage takes another's configuration
//! and count, both knobs at once: a pipeline's capacity is its slowest stage's, so a faster design often needs
//! every stage upgraded together, and the one-knob step in between is dominated or over the area budget),
//! uniform digit crossover and mutation. Every move prefers points that pass the space's structural rules
//! (area budget, engine and GPU counts): it re-draws up to [`TRIES`] times, so the budget is spent on points
//! worth simulating.

use crate::spec::{ParamKind, PointId, Space};
use rand::seq::IndexedRandom;
use rand::Rng;

/// Re-draws a move makes to find a structurally valid point.
pub const TRIES: usize = 64;

/// Whether a point passes the space's structural rules.
pub fn structurally_valid(space: &Space, id: PointId) -> bool {
    space.design(id).is_some_and(|d| space.structural_violation(&d).is_none())
}

/// Walk an invalid draw of template `t` back inside the structural rules: at each step one hardware knob
/// changes to a value that lowers [`Space::structural_excess`] (chosen at random among all such single
/// changes, so repaired draws spread along the boundary of the valid region instead of piling up at its
/// cheapest corner), until the point is valid; `None` when no single change lowers the excess or after
/// `4 × knobs` steps. Model and item knobs never change, so the draw keeps its pipeline.
pub fn repair_draw<R: Rng>(space: &Space, t: usize, digits: &[u64], rng: &mut R) -> Option<Vec<u64>> {
    let params = &space.templates[t].params;
    let excess = |d: &[u64]| {
        let design = space.encode(t, d).and_then(|p| space.design(p))?;
        Some(space.structural_excess(&design))
    };
    let mut current = digits.to_vec();
    let mut now = excess(&current)?;
    for _ in 0..4 * params.len() {
        if now <= 0.0 {
            return Some(current);
        }
        let mut lower: Vec<(usize, u64, f64)> = Vec::new();
        for (k, p) in params.iter().enumerate() {
            if matches!(p.kind, ParamKind::StageModel(_) | ParamKind::Items) {
                continue;
            }
            for v in (0..p.radix).filter(|&v| v != current[k]) {
                let mut d = current.clone();
                d[k] = v;
                if let Some(e) = excess(&d).filter(|e| *e < now) {
                    lower.push((k, v, e));
                }
            }
        }
        let &(k, v, e) = lower.choose(rng)?;
        current[k] = v;
        now = e;
    }
    (now <= 0.0).then_some(current)
}

fn first_valid<R: Rng>(space: &Space, rng: &mut R, mut draw: impl FnMut(&mut R) -> PointId) -> PointId {
    let mut p = draw(rng);
    for _ in 1..TRIES {
        if structurally_valid(space, p) {
            break;
        }
        p = draw(rng);
    }
    p
}

/// A random point: a template chosen uniformly, then uniform knob digits (structurally valid if one is
/// found in [`TRIES`] draws).
pub fn random_point<R: Rng>(space: &Space, rng: &mut R) -> PointId {
    first_valid(space, rng, |rng| raw_random_point(space, rng))
}

/// A jump: a point drawn uniformly from the whole space (so a template is chosen in proportion to its
/// size), structurally valid if one is found in [`TRIES`] draws.
pub fn uniform_point<R: Rng>(space: &Space, rng: &mut R) -> PointId {
    first_valid(space, rng, |rng| PointId(rng.random_range(0..space.point_count().max(1))))
}

fn raw_random_point<R: Rng>(space: &Space, rng: &mut R) -> PointId {
    if space.templates.is_empty() {
        return PointId(0);
    }
    let t = &space.templates[rng.random_range(0..space.templates.len())];
    PointId(t.offset + rng.random_range(0..t.size.max(1)))
}

/// Probability that a neighbour or mutation is a stage-hardware copy, where the point has one.
pub const COPY_PROBABILITY: f64 = 0.2;

/// Every distinct point where one accelerator stage of `id` takes the configuration and sub-accelerator
/// count of another accelerator stage (ordered pairs of stages, earlier target stages first).
pub fn stage_hardware_copies(space: &Space, id: PointId) -> Vec<PointId> {
    let Some((t, digits)) = space.decode(id) else { return Vec::new() };
    let params = &space.templates[t].params;
    let knob = |kind: ParamKind| params.iter().position(|p| p.kind == kind);
    let stages = space.templates[t].backends.len();
    let mut out = Vec::new();
    for to in 0..stages {
        for from in (0..stages).filter(|&s| s != to) {
            let mut d = digits.clone();
            for (target, source) in [
                (ParamKind::AccelConfig(to), ParamKind::AccelConfig(from)),
                (ParamKind::AccelCount(to), ParamKind::AccelCount(from)),
            ] {
                if let (Some(a), Some(b)) = (knob(target), knob(source)) {
                    if params[a].radix == params[b].radix {
                        d[a] = digits[b];
                    }
                }
            }
            if d != digits {
                if let Some(p) = space.encode(t, &d) {
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
    }
    out
}

/// A neighbour of `id`: with probability `jump` a jump ([`uniform_point`]); with probability
/// [`COPY_PROBABILITY`] a stage-hardware copy (if `id` has one); otherwise one knob (chosen uniformly among
/// those with radix > 1) moves one step up or down (wrapping), or, with probability 1/4, to a random value.
pub fn neighbour<R: Rng>(space: &Space, id: PointId, jump: f64, rng: &mut R) -> PointId {
    first_valid(space, rng, |rng| raw_neighbour(space, id, jump, rng))
}

fn raw_neighbour<R: Rng>(space: &Space, id: PointId, jump: f64, rng: &mut R) -> PointId {
    let Some((t, mut digits)) = space.decode(id) else { return random_point(space, rng) };
    let knobs: Vec<usize> =
        space.templates[t].params.iter().enumerate().filter(|(_, p)| p.radix > 1).map(|(i, _)| i).collect();
    if knobs.is_empty() || rng.random::<f64>() < jump {
        return uniform_point(space, rng);
    }
    if let Some(p) = random_copy(space, id, rng) {
        return p;
    }
    let k = knobs[rng.random_range(0..knobs.len())];
    let radix = space.templates[t].params[k].radix;
    digits[k] = if rng.random::<f64>() < 0.25 {
        let r = rng.random_range(0..radix - 1);
        if r >= digits[k] {
            r + 1
        } else {
            r
        }
    } else if rng.random::<bool>() {
        (digits[k] + 1) % radix
    } else {
        (digits[k] + radix - 1) % radix
    };
    space.encode(t, &digits).expect("digits stay in range")
}

/// Uniform crossover: for parents of the same template each digit comes from either parent; otherwise one
/// parent is copied.
pub fn crossover<R: Rng>(space: &Space, a: PointId, b: PointId, rng: &mut R) -> PointId {
    match (space.decode(a), space.decode(b)) {
        (Some((ta, da)), Some((tb, db))) if ta == tb => {
            let child: Vec<u64> = da.iter().zip(&db).map(|(x, y)| if rng.random::<bool>() { *x } else { *y }).collect();
            space.encode(ta, &child).expect("digits from valid parents")
        }
        _ => {
            if rng.random::<bool>() {
                a
            } else {
                b
            }
        }
    }
}

/// With probability [`COPY_PROBABILITY`], one of `id`'s stage-hardware copies (none if it has none).
fn random_copy<R: Rng>(space: &Space, id: PointId, rng: &mut R) -> Option<PointId> {
    if rng.random::<f64>() >= COPY_PROBABILITY {
        return None;
    }
    let copies = stage_hardware_copies(space, id);
    (!copies.is_empty()).then(|| copies[rng.random_range(0..copies.len())])
}

/// Mutation: with probability `jump` the child is replaced by a jump ([`uniform_point`]); with probability
/// [`COPY_PROBABILITY`] it is a stage-hardware copy (if it has one); otherwise each knob digit is reset at
/// random with probability 1/knobs.
pub fn mutate<R: Rng>(space: &Space, id: PointId, jump: f64, rng: &mut R) -> PointId {
    first_valid(space, rng, |rng| raw_mutate(space, id, jump, rng))
}

fn raw_mutate<R: Rng>(space: &Space, id: PointId, jump: f64, rng: &mut R) -> PointId {
    if rng.random::<f64>() < jump {
        return uniform_point(space, rng);
    }
    if let Some(p) = random_copy(space, id, rng) {
        return p;
    }
    let Some((t, mut digits)) = space.decode(id) else { return random_point(space, rng) };
    let params = &space.templates[t].params;
    let p = 1.0 / params.len().max(1) as f64;
    for (d, param) in digits.iter_mut().zip(params) {
        if param.radix > 1 && rng.random::<f64>() < p {
            *d = rng.random_range(0..param.radix);
        }
    }
    space.encode(t, &digits).expect("digits stay in range")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    use crate::search::tiny_test_space as space;

    #[test]
    fn moves_stay_in_the_space_and_prefer_valid_points() {
        let s = space();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut templates = std::collections::BTreeSet::new();
        for _ in 0..300 {
            let p = random_point(&s, &mut rng);
            assert!(p.0 < s.point_count() && structurally_valid(&s, p));
            templates.insert(s.decode(p).unwrap().0);
            let n = neighbour(&s, p, 0.1, &mut rng);
            assert!(n.0 < s.point_count());
            let c = crossover(&s, p, n, &mut rng);
            assert!(mutate(&s, c, 0.05, &mut rng).0 < s.point_count());
        }
        assert_eq!(templates.len(), s.templates.len(), "every template is visited");
    }

    #[test]
    fn a_neighbour_without_jump_differs_in_one_digit_or_is_a_stage_hardware_copy() {
        let s = space();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let mut copies = 0;
        for _ in 0..400 {
            let p = random_point(&s, &mut rng);
            let n = raw_neighbour(&s, p, 0.0, &mut rng);
            let (tp, dp) = s.decode(p).unwrap();
            let (tn, dn) = s.decode(n).unwrap();
            if s.templates[tp].params.iter().any(|q| q.radix > 1) {
                assert_eq!(tp, tn);
                let changed = dp.iter().zip(&dn).filter(|(a, b)| a != b).count();
                if changed != 1 {
                    assert!(stage_hardware_copies(&s, p).contains(&n), "{p:?} -> {n:?}");
                    copies += 1;
                }
            }
        }
        assert!(copies > 0, "copies are drawn");
    }

    #[test]
    fn a_stage_hardware_copy_gives_one_accelerator_stage_another_ones_hardware() {
        let s = space();
        let t = s
            .templates
            .iter()
            .position(|t| t.params.iter().any(|p| p.kind == ParamKind::AccelConfig(1)))
            .expect("a two-stage accelerator template");
        let params = &s.templates[t].params;
        let at = |kind: ParamKind| params.iter().position(|p| p.kind == kind).unwrap();
        let mut digits = vec![0; params.len()];
        digits[at(ParamKind::AccelConfig(0))] = 1;
        digits[at(ParamKind::AccelCount(1))] = 1;
        let id = s.encode(t, &digits).unwrap();
        let copies = stage_hardware_copies(&s, id);
        assert_eq!(copies.len(), 2, "stage 0 from stage 1 and stage 1 from stage 0");
        for c in copies {
            let (tc, d) = s.decode(c).unwrap();
            assert_eq!(tc, t);
            assert_eq!(d[at(ParamKind::AccelConfig(0))], d[at(ParamKind::AccelConfig(1))]);
            assert_eq!(d[at(ParamKind::AccelCount(0))], d[at(ParamKind::AccelCount(1))]);
        }
        // Equal stages have no copy; single-stage and CPU points have none either.
        let same = s.encode(t, &vec![0; params.len()]).unwrap();
        assert!(stage_hardware_copies(&s, same).is_empty());
        assert!(stage_hardware_copies(&s, PointId(0)).is_empty());
    }
}
