//! Exact 3-D hypervolume in O(N log N): the dimension-sweep algorithm (Fonseca, Paquete & López-Ibáñez,
//! "An improved dimension-sweep algorithm for the hypervolume indicator", IEEE CEC 2006; "HV3D").
//!
//! Points (minimisation form, every objective strictly inside the reference) are swept in increasing third
//! objective. The region the points seen so far dominate in the first two objectives is a staircase kept in
//! a `BTreeMap` (first objective increasing, second strictly decreasing) with its area; inserting a point
//! adds the area it newly covers, summed from non-negative strips (no cancellation), and removes the steps
//! it covers. Between consecutive levels of the third objective the swept volume is that area times the
//! height. Units: the product of the three objectives' units.

use super::sweep::key;
use std::collections::BTreeMap;

/// Steps of the 2-D staircase: key(x) → (x, y).
type Stairs = BTreeMap<u64, (f64, f64)>;

/// Add point `(x, y)` to the staircase bounded by `(rx, ry)`; returns the area it adds.
fn insert(stairs: &mut Stairs, x: f64, y: f64, rx: f64, ry: f64) -> f64 {
    if stairs.range(..=key(x)).next_back().is_some_and(|(_, &(_, qy))| qy <= y) {
        return 0.0;
    }
    let mut height = stairs.range(..key(x)).next_back().map_or(ry, |(_, &(_, qy))| qy);
    let covered: Vec<(u64, f64, f64)> =
        stairs.range(key(x)..).take_while(|(_, &(_, sy))| sy >= y).map(|(&k, &(sx, sy))| (k, sx, sy)).collect();
    let right = stairs.range(key(x)..).nth(covered.len()).map_or(rx, |(_, &(sx, _))| sx);
    let (mut gained, mut left) = (0.0, x);
    for (k, sx, sy) in covered {
        gained += (sx - left) * (height - y);
        (left, height) = (sx, sy);
        stairs.remove(&k);
    }
    gained += (right - left) * (height - y);
    stairs.insert(key(x), (x, y));
    gained
}

/// Hypervolume of `points` (each of length 3, every value finite and below the reference's) bounded by
/// `reference`.
pub fn hv3d(points: &[&[f64]], reference: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a][2].total_cmp(&points[b][2]));
    let mut stairs = Stairs::new();
    let (mut area, mut volume) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        let p = points[i];
        area += insert(&mut stairs, p[0], p[1], reference[0], reference[1]);
        let next = order.get(k + 1).map_or(reference[2], |&j| points[j][2]);
        volume += area * (next - p[2]);
    }
    volume
}
