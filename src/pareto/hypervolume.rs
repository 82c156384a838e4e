//! Exact hypervolume of a set of points in minimisation form with respect to a reference point.
//!
//! Only points strictly better than the reference in every objective contribute. 1-D and 2-D are sweeps
//! (O(N log N)); higher dimensions slice along the last objective (the "hypervolume by slicing objectives"
//! recursion, While et al., IEEE TEC 2006), which is exact and fast enough for the fronts of a design-space
//! run (hundreds of points, 3–5 objectives). Points are the rows of an objective matrix ([`super::Objectives`]),
//! each column in its metric's unit; the hypervolume's unit is the product of the columns' units.

use super::sort::non_dominated_ranks;
use super::Objectives;
use ndarray::{s, Array2, ArrayView2, Axis};

/// Hypervolume dominated by `points` (rows) and bounded by `reference` (one value per column, minimisation
/// form); 0 when the dimensions differ.
pub fn hypervolume<P: Objectives + ?Sized>(points: &P, reference: &[f64]) -> f64 {
    let points = points.matrix();
    if points.ncols() != reference.len() {
        return 0.0;
    }
    let inside: Vec<usize> = (0..points.nrows())
        .filter(|&i| points.row(i).iter().zip(reference).all(|(x, r)| x.is_finite() && x < r))
        .collect();
    if inside.is_empty() || reference.is_empty() {
        return 0.0;
    }
    let inside = points.select(Axis(0), &inside);
    let front = front_rows(inside);
    slice(front.view(), reference)
}

/// The rows of `points` on its non-dominated front, in order.
fn front_rows(points: Array2<f64>) -> Array2<f64> {
    let ranks = non_dominated_ranks(&points);
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
            // Sweep the last objective from best to worst; between consecutive levels the dominated
            // cross-section is the (d−1)-D hypervolume of the points seen so far.
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

/// A reference point for a set of points (rows): per objective (column), the worst finite value plus `margin`
/// times the value range (at least `margin` times the worst value's magnitude, so a one-point range still
/// encloses it). `None` without points or when a column has no finite value.
pub fn reference_point<P: Objectives + ?Sized>(points: &P, margin: f64) -> Option<Vec<f64>> {
    let points = points.matrix();
    if points.nrows() == 0 {
        return None;
    }
    let mut out = Vec::with_capacity(points.ncols());
    for column in points.columns() {
        let vals = column.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !hi.is_finite() {
            return None;
        }
        let range = hi - lo;
        let pad = if range > 0.0 { margin * range } else { margin * hi.abs().max(1e-12) };
        out.push(hi + pad);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn two_d_staircase() {
        let pts = array![[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [2.5, 2.5]];
        // Union of rectangles to (4,4): 3·1 + 2·1 + 1·1 = 6.
        assert!((hypervolume(&pts, &[4.0, 4.0]) - 6.0).abs() < 1e-12);
        assert!(hypervolume(&array![[5.0, 1.0]], &[4.0, 4.0]).abs() < 1e-12);
        assert!(hypervolume(&pts, &[4.0, 4.0, 4.0]).abs() < 1e-12, "dimensions differ");
        // A list of vectors gives the same as its matrix.
        let rows: Vec<Vec<f64>> = pts.rows().into_iter().map(|r| r.to_vec()).collect();
        assert!((hypervolume(&rows, &[4.0, 4.0]) - 6.0).abs() < 1e-12);
    }

    #[test]
    fn three_d_matches_inclusion_exclusion() {
        let pts = array![[1.0, 2.0, 3.0], [2.0, 1.0, 2.0]];
        let r = [4.0, 4.0, 4.0];
        let a = 3.0 * 2.0 * 1.0;
        let b = 2.0 * 3.0 * 2.0;
        let both = 2.0 * 2.0 * 1.0;
        assert!((hypervolume(&pts, &r) - (a + b - both)).abs() < 1e-12);
    }

    #[test]
    fn four_d_single_box_and_duplicates() {
        let pts = array![[1.0; 4], [1.0; 4], [2.0; 4]];
        assert!((hypervolume(&pts, &[3.0; 4]) - 16.0).abs() < 1e-12);
        let r = reference_point(&pts, 0.1).unwrap();
        assert!((r[0] - 2.1).abs() < 1e-12);
        assert!(reference_point(&Array2::<f64>::zeros((0, 4)), 0.1).is_none());
    }
}
