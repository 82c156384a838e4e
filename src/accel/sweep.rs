//! Accelerator allocations for a `k`-stage pipeline: which sub-accelerator configuration each stage uses and
//! how many copies, under an explicit area budget.
//!
//! The original sweep (`gen_sweep_accel_configs` in RecPipe's `RecPipeMain.py`) kept only the per-stage
//! sizes of the (size, count) pairs it enumerated and then gave every stage `floor(S/k)` sub-accelerators of
//! size 1/S, so every 2-stage design split the chip 50/50 and S = 1 never appeared for k ≥ 2.
//! [`enumerate`] instead lists every per-stage (configuration, count) tuple whose total area
//! `Σ countᵢ · areaᵢ` fits the budget; [`legacy_recpipe2021`] reproduces the original's choices for
//! comparison. Areas are in mm²; enumeration order is lexicographic in (option, count) per stage, stage 0
//! outermost, so results are deterministic.

/// One stage's share of the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct StageAlloc {
    /// Index into the candidate configurations.
    pub option: usize,
    /// Copies of that configuration serving the stage (servers of its queue).
    pub count: u32,
}

/// Every allocation of `stages` stages over candidate configurations with areas `option_area_mm2`, each
/// stage getting `1..=max_count` copies of one configuration, whose total area is at most `budget_mm2`
/// (plus a relative tolerance of 1e-9 for rounding). Options with non-positive or non-finite area are
/// skipped.
pub fn enumerate(option_area_mm2: &[f64], stages: usize, budget_mm2: f64, max_count: u32) -> Vec<Vec<StageAlloc>> {
    let mut out = Vec::new();
    if stages == 0 || budget_mm2.is_nan() || budget_mm2 <= 0.0 {
        return out;
    }
    let cheapest = option_area_mm2.iter().copied().filter(|a| a.is_finite() && *a > 0.0).fold(f64::INFINITY, f64::min);
    if !cheapest.is_finite() {
        return out;
    }
    let e = Enumerator { areas: option_area_mm2, stages, limit: budget_mm2 * (1.0 + 1e-9), cheapest, max_count };
    e.rec(0.0, &mut Vec::with_capacity(stages), &mut out);
    out
}

struct Enumerator<'a> {
    areas: &'a [f64],
    stages: usize,
    limit: f64,
    cheapest: f64,
    max_count: u32,
}

impl Enumerator<'_> {
    fn rec(&self, used: f64, current: &mut Vec<StageAlloc>, out: &mut Vec<Vec<StageAlloc>>) {
        if current.len() == self.stages {
            out.push(current.clone());
            return;
        }
        // Area the remaining stages need at least (one copy of the cheapest option each).
        let rest = (self.stages - current.len() - 1) as f64 * self.cheapest;
        for (option, &area) in self.areas.iter().enumerate() {
            if !(area.is_finite() && area > 0.0) {
                continue;
            }
            for count in 1..=self.max_count {
                let total = used + area * count as f64;
                if total + rest > self.limit {
                    break;
                }
                current.push(StageAlloc { option, count });
                self.rec(total, current, out);
                current.pop();
            }
        }
    }
}

/// The original generator's result for `stages` stages: per-stage (size S, engines) with engines
/// `floor(S / stages)`, for every size tuple that some (size, count) choice of
/// `[(1,1),(4,1),(4,2),(4,4),(16,1..16 by ×2),(64,1..64 by ×2)]` admits under `Σ (64/S)·count ≤ 64`.
pub fn legacy_recpipe2021(stages: usize) -> Vec<Vec<(u32, u32)>> {
    let mut pairs: Vec<(u32, u32)> = vec![(1, 1), (4, 1), (4, 2), (4, 4)];
    for s in [16u32, 64] {
        let mut c = 1;
        while c <= s {
            pairs.push((s, c));
            c *= 2;
        }
    }
    let mut tuples: Vec<Vec<u32>> = Vec::new();
    let mut cur: Vec<(u32, u32)> = Vec::new();
    fn rec(pairs: &[(u32, u32)], k: usize, cur: &mut Vec<(u32, u32)>, out: &mut Vec<Vec<u32>>) {
        if cur.len() == k {
            let units: u32 = cur.iter().map(|&(s, c)| (64 / s) * c).sum();
            let sizes: Vec<u32> = cur.iter().map(|&(s, _)| s).collect();
            if units <= 64 && !out.contains(&sizes) {
                out.push(sizes);
            }
            return;
        }
        for &p in pairs {
            cur.push(p);
            rec(pairs, k, cur, out);
            cur.pop();
        }
    }
    if stages > 0 {
        rec(&pairs, stages, &mut cur, &mut tuples);
    }
    tuples.sort();
    let k = stages as u32;
    tuples
        .into_iter()
        .map(|sizes| sizes.into_iter().map(|s| (s, s / k)).filter(|&(_, e)| e > 0).collect::<Vec<_>>())
        .filter(|t: &Vec<(u32, u32)>| t.len() == stages)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerate_by_hand() {
        // Options of 1 and 3 mm², two stages, budget 4 mm², at most 3 copies:
        // (0×1,0×1) (0×1,0×2) (0×1,0×3) (0×1,1×1) (0×2,0×1) (0×2,0×2) (0×3,0×1) (1×1,0×1).
        let all = enumerate(&[1.0, 3.0], 2, 4.0, 3);
        let flat: Vec<Vec<(usize, u32)>> =
            all.iter().map(|v| v.iter().map(|a| (a.option, a.count)).collect()).collect();
        assert_eq!(
            flat,
            vec![
                vec![(0, 1), (0, 1)],
                vec![(0, 1), (0, 2)],
                vec![(0, 1), (0, 3)],
                vec![(0, 1), (1, 1)],
                vec![(0, 2), (0, 1)],
                vec![(0, 2), (0, 2)],
                vec![(0, 3), (0, 1)],
                vec![(1, 1), (0, 1)],
            ]
        );
        assert!(enumerate(&[5.0], 1, 4.0, 3).is_empty());
        assert!(enumerate(&[1.0], 0, 4.0, 3).is_empty());
    }

    #[test]
    fn legacy_matches_reference() {
        // RecPipe's `gen_sweep_accel_configs`: k=1 → [1],[4],[16],[64]; k=2 → {4,16,64}² with S/2 engines;
        // k=3 → {4,16,64}³ with floor(S/3) engines.
        let one = legacy_recpipe2021(1);
        assert_eq!(one, vec![vec![(1, 1)], vec![(4, 4)], vec![(16, 16)], vec![(64, 64)]]);
        let two = legacy_recpipe2021(2);
        assert_eq!(two.len(), 9);
        assert!(two.contains(&vec![(4, 2), (64, 32)]));
        let three = legacy_recpipe2021(3);
        assert_eq!(three.len(), 27);
        assert!(three.contains(&vec![(16, 5), (4, 1), (16, 5)]));
    }
}
