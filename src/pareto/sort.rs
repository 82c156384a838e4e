//! Non-dominated sorting (Deb et al. 2002, "fast non-dominated sort", O(M·N²)) and crowding distance, over an
//! objective matrix ([`super::Objectives`]: rows = points, columns = objectives in minimisation form, each in
//! its metric's unit).

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
    let points: Vec<&[f64]> =
        m.rows().into_iter().map(|r| r.to_slice().expect("rows of a standard-layout matrix")).collect();
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
    fn crowding_marks_the_extremes() {
        let pts = array![[0.0, 4.0], [1.0, 2.0], [3.0, 1.0], [4.0, 0.0]];
        let d = crowding_distance(&pts, &[0, 1, 2, 3]);
        assert!(d[0].is_infinite() && d[3].is_infinite());
        assert!((d[1] - (3.0 / 4.0 + 3.0 / 4.0)).abs() < 1e-12);
        assert!((d[2] - (3.0 / 4.0 + 2.0 / 4.0)).abs() < 1e-12);
    }
}
