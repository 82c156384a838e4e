//! Sub-batch pipelining of consecutive stages that share one accelerator.
//!
//! When stages `j = 1..m` run on the same engine (e.g. an RPAccel-style chip whose stage units are chained
//! on-chip), a query can be cut into `b` sub-batches that flow through the stages overlapped: sub-batch `k`
//! enters stage `j` once it has left stage `j − 1` and sub-batch `k − 1` has left stage `j`. This is a
//! permutation flow shop; the query holds the engine for the makespan
//!
//! `C[k][j] = max(C[k−1][j], C[k][j−1]) + t[k][j]`,
//!
//! where `t[k][j]` is stage `j`'s time for sub-batch `k`: its service draw plus its top-k sort cost, split into
//! `b` near-equal integer parts. With equal parts this is the familiar fill/drain formula
//! `Σ_j T_j/b + (b − 1)·max_j T_j/b` (a pipelined flow shop's fill and drain).
//! `b = 1` gives the plain sum (the stages run back-to-back on the engine). Times are integer nanoseconds.

/// Makespan (ns) of `sub_batches` equal splits of per-stage whole-query times `stage_ns` through a flow shop.
///
/// `scratch` is reused working memory (resized to the number of stages).
pub fn makespan_ns(stage_ns: &[u64], sub_batches: u32, scratch: &mut Vec<u64>) -> u64 {
    let b = u64::from(sub_batches.max(1));
    scratch.clear();
    scratch.resize(stage_ns.len(), 0);
    for k in 0..b {
        let mut prev_done = 0u64;
        for (j, &total) in stage_ns.iter().enumerate() {
            // Split `total` into b parts that differ by at most 1 ns and sum exactly to `total`.
            let part = total / b + u64::from(k < total % b);
            let ready = scratch[j].max(prev_done);
            scratch[j] = ready + part;
            prev_done = scratch[j];
        }
    }
    scratch.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_drain_formula() {
        let mut s = Vec::new();
        // b = 1: plain sum.
        assert_eq!(makespan_ns(&[400, 800], 1, &mut s), 1200);
        // b = 4, parts 100 and 200: Σ parts + 3·max = 300 + 600.
        assert_eq!(makespan_ns(&[400, 800], 4, &mut s), 900);
        // Bottleneck first: parts 200, 100: 300 + 3·200.
        assert_eq!(makespan_ns(&[800, 400], 4, &mut s), 900);
        // Three stages, b = 2: parts 50, 100, 25 → 175 + 100.
        assert_eq!(makespan_ns(&[100, 200, 50], 2, &mut s), 275);
        // Uneven split keeps the total: one stage of 10 ns in 3 parts.
        assert_eq!(makespan_ns(&[10], 3, &mut s), 10);
    }

    #[test]
    fn never_longer_than_serial_nor_shorter_than_bottleneck() {
        let mut s = Vec::new();
        for b in 1..10 {
            let m = makespan_ns(&[3000, 7000, 1000], b, &mut s);
            assert!((7000..=11000).contains(&m), "b={b}: {m}");
        }
    }
}
