//! Moves over discrete design points, on the knob digits of [`Space::decode`] / [`Space::encode`]:
//! random points (a template chosen uniformly, then uniform digits, so small CPU/GPU blocks are visited as
//! often as large accelerator blocks), neighbours (one knob digit moved by ±1, or reset at random, or a jump
//! to a random point), uniform digit crossover and mutation. Every move prefers points that pass the
//! space's structural rules (area budget, engine and GPU counts): it re-draws up to [`TRIES`] times, so the
//! budget is spent on points worth simulating.

use crate::spec::{PointId, Space};
use rand::Rng;

/// Re-draws a move makes to find a structurally valid point.
pub const TRIES: usize = 64;

/// Whether a point passes the space's structural rules.
pub fn structurally_valid(space: &Space, id: PointId) -> bool {
    space.design(id).is_some_and(|d| space.structural_violation(&d).is_none())
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

fn raw_random_point<R: Rng>(space: &Space, rng: &mut R) -> PointId {
    if space.templates.is_empty() {
        return PointId(0);
    }
    let t = &space.templates[rng.random_range(0..space.templates.len())];
    PointId(t.offset + rng.random_range(0..t.size.max(1)))
}

/// A neighbour of `id`: with probability `jump` a random point of the space; otherwise one knob (chosen
/// uniformly among those with radix > 1) moves one step up or down (wrapping), or, with probability 1/4,
/// to a random value.
pub fn neighbour<R: Rng>(space: &Space, id: PointId, jump: f64, rng: &mut R) -> PointId {
    first_valid(space, rng, |rng| raw_neighbour(space, id, jump, rng))
}

fn raw_neighbour<R: Rng>(space: &Space, id: PointId, jump: f64, rng: &mut R) -> PointId {
    let Some((t, mut digits)) = space.decode(id) else { return random_point(space, rng) };
    let knobs: Vec<usize> =
        space.templates[t].params.iter().enumerate().filter(|(_, p)| p.radix > 1).map(|(i, _)| i).collect();
    if knobs.is_empty() || rng.random::<f64>() < jump {
        return random_point(space, rng);
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

/// Mutation: each knob digit is reset at random with probability 1/knobs; with probability `jump` the
/// child is replaced by a random point.
pub fn mutate<R: Rng>(space: &Space, id: PointId, jump: f64, rng: &mut R) -> PointId {
    first_valid(space, rng, |rng| raw_mutate(space, id, jump, rng))
}

fn raw_mutate<R: Rng>(space: &Space, id: PointId, jump: f64, rng: &mut R) -> PointId {
    if rng.random::<f64>() < jump {
        return random_point(space, rng);
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
    fn a_neighbour_without_jump_differs_in_one_digit() {
        let s = space();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        for _ in 0..200 {
            let p = random_point(&s, &mut rng);
            let n = raw_neighbour(&s, p, 0.0, &mut rng);
            let (tp, dp) = s.decode(p).unwrap();
            let (tn, dn) = s.decode(n).unwrap();
            if s.templates[tp].params.iter().any(|q| q.radix > 1) {
                assert_eq!(tp, tn);
                assert_eq!(dp.iter().zip(&dn).filter(|(a, b)| a != b).count(), 1);
            }
        }
    }
}
