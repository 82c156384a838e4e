//! The textbook algorithms the fast ones are checked against (unit tests, and `bench explore`, which times
//! both side by side): Deb et al.'s "fast non-dominated sort" (IEEE TEC 2002, O(M·N²) time and memory) and
//! the exact hypervolume by slicing objectives (While et al., IEEE TEC 2006: sweep the last objective, and
//! between consecutive levels take the (d−1)-D hypervolume of the front seen so far). Same conventions as
//! [`super`]: rows are points in minimisation form, equal vectors share a rank.

use super::sort::dominates;
use super::Objectives;
use ndarray::{s, Array2, ArrayView2, Axis};

/// Front rank of every row, by counting dominators (0 = non-dominated).
pub fn ranks_quadratic(points: &[&[f64]]) -> Vec<usize> {
    let n = points.len();
    let mut dominated_by_count = vec![0usize; n];
    let mut dominates_list: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in (i + 1)..n {
            if dominates(points[i], points[j]) {
                dominates_list[i].push(j);
                dominated_by_count[j] += 1;
            } else if dominates(points[j], points[i]) {
                dominates_list[j].push(i);
                dominated_by_count[i] += 1;
            }
        }
    }
    let mut rank = vec![usize::MAX; n];
    let mut current: Vec<usize> = (0..n).filter(|&i| dominated_by_count[i] == 0).collect();
    let mut r = 0;
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            rank[i] = r;
            for &j in &dominates_list[i] {
                dominated_by_count[j] -= 1;
                if dominated_by_count[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        current = next;
        r += 1;
    }
    rank
}

/// Hypervolume of the rows of `points` bounded by `reference`, by slicing objectives (0 when the dimensions
/// differ; only rows strictly inside the reference in every objective count).
pub fn hypervolume_slicing<P: Objectives + ?Sized>(points: &P, reference: &[f64]) -> f64 {
    let points = points.matrix();
    if points.ncols() != reference.len() || reference.is_empty() {
        return 0.0;
    }
    let inside: Vec<usize> = (0..points.nrows())
        .filter(|&i| points.row(i).iter().zip(reference).all(|(x, r)| x.is_finite() && x < r))
        .collect();
    if inside.is_empty() {
        return 0.0;
    }
    slice(front_rows(points.select(Axis(0), &inside)).view(), reference)
}

/// The rows of `points` on its non-dominated front, in order.
fn front_rows(points: Array2<f64>) -> Array2<f64> {
    let rows: Vec<&[f64]> = points.rows().into_iter().map(|r| r.to_slice().expect("standard layout")).collect();
    let ranks = ranks_quadratic(&rows);
    let front: Vec<usize> = (0..points.nrows()).filter(|&i| ranks[i] == 0).collect();
    points.select(Axis(0), &front)
}

fn slice(pts: ArrayView2<'_, f64>, reference: &[f64]) -> f64 {
    let d = reference.len();
    let n = pts.nrows();
    match d {
        1 => reference[0] - pts.column(0).iter().copied().fold(f64::INFINITY, f64::min),
        2 => {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| pts[[a, 0]].total_cmp(&pts[[b, 0]]).then(pts[[a, 1]].total_cmp(&pts[[b, 1]])));
            let mut area = 0.0;
            let mut best_y = reference[1];
            for &i in &order {
                if pts[[i, 1]] < best_y {
                    area += (reference[0] - pts[[i, 0]]) * (best_y - pts[[i, 1]]);
                    best_y = pts[[i, 1]];
                }
            }
            area
        }
        _ => {
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| pts[[a, d - 1]].total_cmp(&pts[[b, d - 1]]));
            let sub_ref = &reference[..d - 1];
            let mut volume = 0.0;
            let mut seen = Array2::<f64>::zeros((0, d - 1));
            for (k, &i) in order.iter().enumerate() {
                seen.push_row(pts.slice(s![i, ..d - 1])).expect("rows of d − 1 objectives");
                let next_level = if k + 1 < n { pts[[order[k + 1], d - 1]] } else { reference[d - 1] };
                let height = next_level - pts[[i, d - 1]];
                if height > 0.0 {
                    seen = front_rows(seen);
                    volume += slice(seen.view(), sub_ref) * height;
                }
            }
            volume
        }
    }
}
