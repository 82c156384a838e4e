//! Exact hypervolume of a set of points in minimisation form with respect to a reference point.
//!
//! Only points strictly better than the reference in every objective contribute. 1-D is a minimum, 2-D a
//! sweep (O(N log N)), 3-D the dimension sweep HV3D ([`super::hv3d`], O(N log N)), 4 and more objectives the
//! WFG algorithm ([`super::wfg`]). Points are the rows of an objective matrix ([`super::Objectives`]), each
//! column in its metric's unit; the hypervolume's unit is the product of the columns' units.

use super::Objectives;

/// Hypervolume dominated by `points` (rows) and bounded by `reference` (one value per column, minimisation
/// form); 0 when the dimensions differ.
pub fn hypervolume<P: Objectives + ?Sized>(points: &P, reference: &[f64]) -> f64 {
    let points = points.matrix();
    let points = points.as_standard_layout();
    if points.ncols() != reference.len() || reference.is_empty() {
        return 0.0;
    }
    let inside: Vec<&[f64]> = points
        .rows()
        .into_iter()
        .map(|r| r.to_slice().expect("rows of a standard-layout matrix"))
        .filter(|r| r.iter().zip(reference).all(|(x, r)| x.is_finite() && x < r))
        .collect();
    if inside.is_empty() {
        return 0.0;
    }
    match reference.len() {
        1 => reference[0] - inside.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
        2 => area_2d(&inside, reference),
        3 => super::hv3d::hv3d(&inside, reference),
        _ => super::wfg::wfg(&inside, reference),
    }
}

/// Area dominated by 2-D points: sorted by the first objective, each point adds the strip below the best
/// second objective so far.
fn area_2d(points: &[&[f64]], reference: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| points[a][0].total_cmp(&points[b][0]).then(points[a][1].total_cmp(&points[b][1])));
    let mut area = 0.0;
    let mut best_y = reference[1];
    for &i in &order {
        if points[i][1] < best_y {
            area += (reference[0] - points[i][0]) * (best_y - points[i][1]);
            best_y = points[i][1];
        }
    }
    area
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
    use ndarray::{array, Array2};

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
    fn hv3d_and_wfg_agree_with_slicing() {
        let mut draw = crate::pareto::test_levels(0x9e37_79b9_7f4a_7c15);
        let mut next = |levels: u64| draw(levels) as f64 / levels as f64;
        for d in 3..=5 {
            for n in [1, 2, 5, 30, 80] {
                for levels in [4, 1000] {
                    // Points on and near a simplex (a front with many members), ties when levels are few.
                    let rows: Vec<Vec<f64>> = (0..n)
                        .map(|_| {
                            let v: Vec<f64> = (0..d).map(|_| next(levels)).collect();
                            let s: f64 = v.iter().sum::<f64>().max(1e-9);
                            v.iter().map(|x| x / s + 0.1 * next(levels)).collect()
                        })
                        .collect();
                    let r = vec![1.5; d];
                    let fast = hypervolume(&rows, &r);
                    let slow = crate::pareto::reference::hypervolume_slicing(&rows, &r);
                    assert!((fast - slow).abs() <= 1e-12 * slow.abs().max(1e-300), "d={d} n={n}: {fast} vs {slow}");
                }
            }
        }
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
