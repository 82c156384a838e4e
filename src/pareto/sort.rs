//! Non-dominated sorting and crowding distance over an objective matrix ([`super::Objectives`]: rows =
//! points, columns = objectives in minimisation form, each in its metric's unit).
//!
//! Ranks of 1–3 objectives come from sweeps in O(N log N) ([`super::sweep`]); 4 and more objectives (or a
//! NaN) use Deb et al.'s "fast non-dominated sort" (2002, O(M·N²) time and memory).

use super::Objectives;

/// Whether `a` dominates `b` (both in minimisation form, same length).
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut strictly = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        if x < y {
            strictly = true;
        }
    }
    strictly
}

/// Front rank of every point (row): 0 for the non-dominated set, 1 for the set non-dominated once rank 0 is
/// removed, and so on. Equal vectors share a rank.
pub fn non_dominated_ranks<P: Objectives + ?Sized>(points: &P) -> Vec<usize> {
    let m = points.matrix();
    let m = m.as_standard_layout();
    let rows: Vec<&[f64]> =
        m.rows().into_iter().map(|r| r.to_slice().expect("rows of a standard-layout matrix")).collect();
    let any_nan = rows.iter().any(|r| r.iter().any(|x| x.is_nan()));
    match m.ncols() {
        1 if !any_nan => {
            let mut values: Vec<f64> = rows.iter().map(|r| r[0] + 0.0).collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            rows.iter().map(|r| values.partition_point(|v| *v < r[0])).collect()
        }
        2 | 3 if !any_nan => super::sweep::ranks_2d_3d(&rows),
        _ => super::reference::ranks_quadratic(&rows),
    }
}

/// Crowding distance of each point within one front (`members` index rows of `points`): the sum over
/// objectives of the normalised gap between its two neighbours; boundary points get infinity.
pub fn crowding_distance<P: Objectives + ?Sized>(points: &P, members: &[usize]) -> Vec<f64> {
    let points = points.matrix();
    let k = members.len();
    let mut dist = vec![0.0; k];
    if k == 0 {
        return dist;
    }
    let at = |member: usize, obj: usize| points[[members[member], obj]];
    for obj in 0..points.ncols() {
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| at(a, obj).total_cmp(&at(b, obj)).then(a.cmp(&b)));
        let lo = at(order[0], obj);
        let hi = at(order[k - 1], obj);
        dist[order[0]] = f64::INFINITY;
        dist[order[k - 1]] = f64::INFINITY;
        let span = hi - lo;
        if span <= 0.0 || !span.is_finite() {
            continue;
        }
        for w in 1..k.saturating_sub(1) {
            let gap = at(order[w + 1], obj) - at(order[w - 1], obj);
            dist[order[w]] += gap / span;
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn ranks_of_a_known_set() {
        let pts = array![[1.0, 5.0], [2.0, 2.0], [5.0, 1.0], [3.0, 3.0], [4.0, 4.0], [2.0, 2.0]];
        assert_eq!(non_dominated_ranks(&pts), vec![0, 0, 0, 1, 2, 0]);
        assert!(dominates(&[1.0, 1.0], &[1.0, 2.0]));
        assert!(!dominates(&[1.0, 1.0], &[1.0, 1.0]));
    }

    #[test]
    fn sweeps_agree_with_the_quadratic_sort() {
        let mut draw = crate::pareto::test_levels(0x2545_f491_4f6c_dd1d);
        let mut next = |levels: u64| draw(levels) as f64 - 3.0;
        for m in 1..=4 {
            for n in [0, 1, 2, 7, 60, 400] {
                // Few levels per objective: many ties and equal vectors.
                let rows: Vec<Vec<f64>> = (0..n).map(|_| (0..m).map(|_| next(9)).collect()).collect();
                let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
                assert_eq!(non_dominated_ranks(&rows), crate::pareto::reference::ranks_quadratic(&refs), "m={m} n={n}");
            }
        }
        let with_nan = vec![vec![1.0, f64::NAN], vec![0.0, 0.0]];
        assert_eq!(non_dominated_ranks(&with_nan).len(), 2);
    }

    #[test]
    fn crowding_marks_the_extremes() {
        let pts = array![[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]];
        let d = crowding_distance(&pts, &[0, 1, 2, 3]);
        assert!(d[0].is_infinite() && d[3].is_infinite());
        assert!((d[1] - (3.0 / 4.0 + 3.0 / 4.0)).abs() < 1e-12);
        assert!((d[2] - (3.0 / 4.0 + 2.0 / 4.0)).abs() < 1e-12);
    }
}
