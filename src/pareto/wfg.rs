//! Exact hypervolume in 4 and more objectives: the WFG algorithm (While, Bradstreet & Barone, "A fast way of
//! calculating exact hypervolumes", IEEE TEC 2012).
//!
//! The hypervolume of a set is the sum over its points of each point's exclusive contribution: the volume of
//! its box to the reference minus the hypervolume of its "limit set" (the later points, each clipped to be no
//! better than it), reduced to its non-dominated points. With the points sorted from worst to best in the
//! last objective, every point of a limit set shares the last objective of the point it was clipped to, so
//! the limit set's hypervolume is that height times a hypervolume in one objective fewer; 3 objectives go to
//! [`super::hv3d`]. Points are in minimisation form and strictly inside the reference; the result's unit is
//! the product of the objectives' units.

use super::hv3d::hv3d;
use super::sort::non_dominated_ranks;

/// Volume of the box between `p` and `reference`.
fn box_volume(p: &[f64], reference: &[f64]) -> f64 {
    p.iter().zip(reference).map(|(x, r)| r - x).product()
}

/// The distinct non-dominated points of `set`, sorted from worst to best in the last objective.
fn prepared(set: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let ranks = non_dominated_ranks(&set);
    let mut front: Vec<Vec<f64>> = set.into_iter().zip(ranks).filter(|(_, r)| *r == 0).map(|(p, _)| p).collect();
    front.sort_by(|a, b| {
        b.iter()
            .rev()
            .zip(a.iter().rev())
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    front.dedup();
    front
}

/// Hypervolume of `points` (all of one length ≥ 3, finite, below the reference) bounded by `reference`.
pub fn wfg(points: &[&[f64]], reference: &[f64]) -> f64 {
    volume(&prepared(points.iter().map(|p| p.to_vec()).collect()), reference)
}

/// Hypervolume of `set` (as [`prepared`] leaves it).
fn volume(set: &[Vec<f64>], reference: &[f64]) -> f64 {
    let d = reference.len();
    if set.len() == 1 {
        return box_volume(&set[0], reference);
    }
    if d == 3 {
        let refs: Vec<&[f64]> = set.iter().map(Vec::as_slice).collect();
        return hv3d(&refs, reference);
    }
    (0..set.len())
        .map(|k| {
            let p = &set[k];
            let limit: Vec<Vec<f64>> =
                set[k + 1..].iter().map(|q| q[..d - 1].iter().zip(p).map(|(a, b)| a.max(*b)).collect()).collect();
            let shadow = if limit.is_empty() { 0.0 } else { volume(&prepared(limit), &reference[..d - 1]) };
            box_volume(p, reference) - (reference[d - 1] - p[d - 1]) * shadow
        })
        .sum()
}
