//! Front ranks of points with 2 or 3 objectives in O(N log N · log R) time and O(N) memory (R = number of
//! fronts), the sweep used by [`super::non_dominated_ranks`] for the objective counts a design-space report
//! has.
//!
//! Points (rows of an objective matrix, minimisation form) are visited in lexicographic order, so every
//! point's dominators come before it. Each front keeps a summary of its members seen so far: for 2
//! objectives the least second objective, for 3 a staircase of the non-dominated (second, third) pairs in a
//! `BTreeMap`. A point's rank is the first front none of whose members dominates it; since a member of front
//! `r + 1` is dominated by a member of front `r` that came before it, "dominated by front r" is monotone in
//! `r` and the rank is found by binary search (the sweep of Jensen, "Reducing the run-time complexity of
//! multiobjective EAs: the NSGA-II and other algorithms", IEEE TEC 2003, specialised to 2–3 objectives).
//! Equal vectors share a rank, as in [`super::sort`]. Values must not be NaN (the caller falls back to the
//! quadratic sort otherwise); −0 and +0 are the same value.

use std::collections::BTreeMap;

/// An order-preserving integer key of a non-NaN float (`a < b` ⇔ `key(a) < key(b)`, with −0 = +0).
pub(super) fn key(x: f64) -> u64 {
    let b = (x + 0.0).to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// One front's members seen so far, reduced to what decides domination of later points.
enum Front {
    /// Least second objective (2 objectives).
    Two(f64),
    /// Non-dominated (second, third) pairs keyed by the second objective; the third strictly decreases.
    Three(BTreeMap<u64, f64>),
}

impl Front {
    fn new(p: &[f64]) -> Front {
        match p.len() {
            2 => Front::Two(p[1]),
            _ => Front::Three(BTreeMap::from([(key(p[1]), p[2])])),
        }
    }

    /// Whether a member dominates `p` (every member comes before `p` in lexicographic order and differs
    /// from it, so being no worse in the last objectives is enough).
    fn dominates(&self, p: &[f64]) -> bool {
        match self {
            Front::Two(least) => *least <= p[1],
            Front::Three(stairs) => stairs.range(..=key(p[1])).next_back().is_some_and(|(_, &z)| z <= p[2]),
        }
    }

    /// Add `p` (not dominated by a member).
    fn add(&mut self, p: &[f64]) {
        match self {
            Front::Two(least) => *least = least.min(p[1]),
            Front::Three(stairs) => {
                let covered: Vec<u64> =
                    stairs.range(key(p[1])..).take_while(|(_, &z)| z >= p[2]).map(|(&k, _)| k).collect();
                for k in covered {
                    stairs.remove(&k);
                }
                stairs.insert(key(p[1]), p[2]);
            }
        }
    }
}

/// Front rank of every row of `points` (each of length 2 or 3, no NaN).
pub fn ranks_2d_3d(points: &[&[f64]]) -> Vec<usize> {
    let n = points.len();
    let mut order: Vec<usize> = (0..n).collect();
    let cmp = |a: &[f64], b: &[f64]| {
        a.iter().zip(b).map(|(x, y)| key(*x).cmp(&key(*y))).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
    };
    order.sort_by(|&a, &b| cmp(points[a], points[b]));
    let mut rank = vec![0usize; n];
    let mut fronts: Vec<Front> = Vec::new();
    let mut k = 0;
    while k < n {
        let p = points[order[k]];
        // Equal vectors share the rank of the first.
        let mut same = k + 1;
        while same < n && cmp(points[order[same]], p).is_eq() {
            same += 1;
        }
        let r = fronts.partition_point(|f| f.dominates(p));
        if r == fronts.len() {
            fronts.push(Front::new(p));
        } else {
            fronts[r].add(p);
        }
        for &i in &order[k..same] {
            rank[i] = r;
        }
        k = same;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_order_of_floats() {
        let xs = [f64::NEG_INFINITY, -3.5, -1e-300, -0.0, 0.0, 1e-300, 2.0, f64::INFINITY];
        for w in xs.windows(2) {
            assert!(key(w[0]) <= key(w[1]), "{} {}", w[0], w[1]);
        }
        assert_eq!(key(-0.0), key(0.0));
    }

    #[test]
    fn ties_and_staircases() {
        let rows: Vec<Vec<f64>> = vec![
            vec![1.0, 5.0, 0.0],
            vec![1.0, 5.0, 0.0],
            vec![1.0, 5.0, 1.0],
            vec![0.0, 6.0, 2.0],
            vec![2.0, 6.0, 3.0],
            vec![2.0, 4.0, 0.5],
        ];
        let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        assert_eq!(ranks_2d_3d(&refs), vec![0, 0, 1, 0, 2, 0]);
    }
}
