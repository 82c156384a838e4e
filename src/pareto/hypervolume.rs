//! Exact hypervolume of a set of points in minimisation form with respect to a reference point.
//!
//! Only points strictly better than the reference in every objective contribute. 1-D and 2-D are sweeps
//! (O(N log N)); higher dimensions slice along the last objective (the "hypervolume by slicing objectives"
//! recursion, While et al., IEEE TEC 2006), which is exact and fast enough for the fronts of a design-space
//! run (hundreds of points, 3–5 objectives).

use super::sort::non_dominated_ranks;

/// Hypervolume dominated by `points` and bounded by `reference` (same dimension, minimisation form).
pub fn hypervolume(points: &[Vec<f64>], reference: &[f64]) -> f64 {
    let inside: Vec<Vec<f64>> = points
        .iter()
        .filter(|p| p.len() == reference.len() && p.iter().zip(reference).all(|(x, r)| x.is_finite() && x < r))
        .cloned()
        .collect();
    if inside.is_empty() || reference.is_empty() {
        return 0.0;
    }
    let ranks = non_dominated_ranks(&inside);
    let front: Vec<Vec<f64>> = inside.into_iter().zip(ranks).filter(|(_, r)| *r == 0).map(|(p, _)| p).collect();
    slice(front, reference)
}

fn slice(mut pts: Vec<Vec<f64>>, reference: &[f64]) -> f64 {
    let d = reference.len();
    match d {
        1 => reference[0] - pts.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min),
        2 => {
            pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
            let mut area = 0.0;
            let mut best_y = reference[1];
            for p in &pts {
                if p[1] < best_y {
                    area += (reference[0] - p[0]) * (best_y - p[1]);
                    best_y = p[1];
                }
            }
            area
        }
        _ => {
            // Sweep the last objective from best to worst; between consecutive levels the dominated
            // cross-section is the (d−1)-D hypervolume of the points seen so far.
            pts.sort_by(|a, b| a[d - 1].total_cmp(&b[d - 1]));
            let sub_ref = &reference[..d - 1];
            let mut volume = 0.0;
            let mut seen: Vec<Vec<f64>> = Vec::with_capacity(pts.len());
            for i in 0..pts.len() {
                seen.push(pts[i][..d - 1].to_vec());
                let next_level = if i + 1 < pts.len() { pts[i + 1][d - 1] } else { reference[d - 1] };
                let height = next_level - pts[i][d - 1];
                if height > 0.0 {
                    let ranks = non_dominated_ranks(&seen);
                    seen = seen.into_iter().zip(ranks).filter(|(_, r)| *r == 0).map(|(p, _)| p).collect();
                    volume += slice(seen.clone(), sub_ref) * height;
                }
            }
            volume
        }
    }
}

/// A reference point for a set of points: per objective, the worst finite value plus `margin` times the
/// value range (at least `margin` times the worst value's magnitude, so a one-point range still encloses it).
pub fn reference_point(points: &[Vec<f64>], margin: f64) -> Option<Vec<f64>> {
    let d = points.first()?.len();
    let mut out = Vec::with_capacity(d);
    for j in 0..d {
        let vals = points.iter().map(|p| p[j]).filter(|v| v.is_finite());
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

    #[test]
    fn two_d_staircase() {
        let pts = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0], vec![2.5, 2.5]];
        // Union of rectangles to (4,4): 3·1 + 2·1 + 1·1 = 6.
        assert!((hypervolume(&pts, &[4.0, 4.0]) - 6.0).abs() < 1e-12);
        assert!(hypervolume(&[vec![5.0, 1.0]], &[4.0, 4.0]).abs() < 1e-12);
    }

    #[test]
    fn three_d_matches_inclusion_exclusion() {
        let pts = vec![vec![1.0, 2.0, 3.0], vec![2.0, 1.0, 2.0]];
        let r = [4.0, 4.0, 4.0];
        let a = 3.0 * 2.0 * 1.0;
        let b = 2.0 * 3.0 * 2.0;
        let both = 2.0 * 2.0 * 1.0;
        assert!((hypervolume(&pts, &r) - (a + b - both)).abs() < 1e-12);
    }

    #[test]
    fn four_d_single_box_and_duplicates() {
        let pts = vec![vec![1.0; 4], vec![1.0; 4], vec![2.0; 4]];
        assert!((hypervolume(&pts, &[3.0; 4]) - 16.0).abs() < 1e-12);
        let r = reference_point(&pts, 0.1).unwrap();
        assert!((r[0] - 2.1).abs() < 1e-12);
    }
}
