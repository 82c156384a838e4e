//! Embedding gathers of one stage on the refined model: on-chip cache hit rate from the configured capacity,
//! SRAM and DRAM traffic, and cycles.
//!
//! Hit rate (fraction of vector lookups served on chip), in order of precedence:
//! 1. a caller-supplied value, e.g. from [`simulated_hit_rate`]: a trace-driven LRU/FIFO simulation
//!    ([`super::lru`]) of the configured capacity over the data set's own index stream;
//! 2. Criteo Kaggle: the measured characterization of RecPipe's embedding study (Fig. 10c,
//!    `RPAccel_characterization/embedding/` in the artifact), hit rate vs cache entries, in
//!    `calib/embedding-hit-rate-criteo.csv` (derived from the stage-1 columns of the 735 result files: hits / accesses
//!    per entry count). Entries = cache bytes / vector bytes. Between measured points the rate is interpolated linearly
//!    in log(entries); below the smallest point (81 entries) linearly towards 0 at 0 entries; above the largest
//!    (131,072 entries) it is held constant, which under-states large caches rather than extrapolating a trend;
//! 3. MovieLens: every user and item row is equally likely to be needed, so the hit rate is the cached
//!    fraction of all rows, min(1, entries / (users + items)).
//!
//! Traffic: a hit reads the vector from the embedding SRAM; a miss moves the vector rounded up to whole DRAM
//! bursts (`dram_burst_bytes`). DRAM and SRAM have separate ports, so the gather takes
//! `max(sram_bytes / port_bytes_per_cycle, dram_latency + dram_bytes / dram_bytes_per_cycle)` cycles (the
//! original added the two). NeuMF looks the user up once per query (RecPipe's MovieLens queries hold one user)
//! and each candidate item once.
//!
//! A [`GenericShape`] gathers `Σ lookups` rows of each `item_lookups` group per candidate and each
//! `query_lookups` group once per query (none when the stage has no candidates). Its query rows are gathered
//! first, as a gather of their own (the query's work precedes the candidates'), then the candidates' rows; the
//! gather time is the sum of the two. The default hit rate applies to both:
//! * MovieLens: the cached fraction of the tables, `min(1, cache / (users · U + items · I))`, with `U` (`I`)
//!   the bytes of one row of every query (item) group, i.e. every group is taken as a table with one row per
//!   user (item); for a NeuMF-like shape this is NeuMF's rule;
//! * otherwise the Criteo characterization at `entries = cache / v`, with `v` the lookup-weighted mean row bytes
//!   of the per-candidate lookups (of the query lookups when there are none); for one width `d` this is DLRM's
//!   `d · element_bytes`. The mean, rather than the widest row, keeps the cache's capacity in rows equal to what
//!   the lookup stream actually stores on average.
//!
//! Row overhead: row-wise quantized tables store extra bytes with every row (an fp32 scale and bias: 8 B for
//! row-wise int8). The `*_with_overhead` functions add `row_overhead_bytes` to every looked-up row, both to its
//! traffic (SRAM bytes, and DRAM bytes before rounding to bursts) and to the cache's capacity per vector
//! (a NeuMF entry holds two rows, GMF and MLP). The plain functions are the same with no overhead.

use super::hardware::AccelConfig;
use super::model_shape::{Dataset, GenericShape, ModelShape};
use std::sync::OnceLock;

const CHARACTERIZATION_CSV: &str = include_str!("../../calib/embedding-hit-rate-criteo.csv");

/// The Criteo characterization as (entries, hit rate) points, ascending in entries.
pub fn characterization() -> &'static [(f64, f64)] {
    static TABLE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        CHARACTERIZATION_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (e, h) = l.split_once(',').expect("calib csv: two columns");
                (
                    e.trim().parse::<f64>().expect("calib csv: entries"),
                    h.trim().parse::<f64>().expect("calib csv: hit rate"),
                )
            })
            .collect()
    })
}

/// Interpolated Criteo hit rate for a cache of `entries` vectors.
pub fn criteo_hit_rate(entries: f64) -> f64 {
    let t = characterization();
    let (e0, h0) = t[0];
    if entries <= 0.0 {
        return 0.0;
    }
    if entries <= e0 {
        return h0 * entries / e0;
    }
    let (el, hl) = t[t.len() - 1];
    if entries >= el {
        return hl;
    }
    let i = t.partition_point(|&(e, _)| e <= entries);
    let (ea, ha) = t[i - 1];
    let (eb, hb) = t[i];
    let f = (entries.ln() - ea.ln()) / (eb.ln() - ea.ln());
    ha + f * (hb - ha)
}

/// Cache key of row `row` of embedding table `table` (the table id in the top 24 bits).
#[inline]
pub fn table_key(table: u32, row: u64) -> u64 {
    ((table as u64) << 40) | (row & ((1 << 40) - 1))
}

/// Vectors the configured cache holds for `model` (one entry per vector; DLRM vectors are `d` elements,
/// NeuMF caches a user's or item's GMF and MLP vectors together, a generic shape's entry is its mean row, see
/// the module docs).
pub fn cache_entries(model: &ModelShape, hw: &AccelConfig) -> u32 {
    cache_entries_with_overhead(model, hw, 0)
}

/// [`cache_entries`] with `row_overhead_bytes` stored with every row (module docs).
pub fn cache_entries_with_overhead(model: &ModelShape, hw: &AccelConfig, row_overhead_bytes: u32) -> u32 {
    let e = hw.element_bytes as u64;
    let ov = row_overhead_bytes as u64;
    let vector = match model {
        ModelShape::Dlrm(d) => d.embedding_dim as u64 * e + ov,
        ModelShape::NeuMf(n) => (n.mf_dim + n.mlp_embedding_dim) as u64 * e + 2 * ov,
        ModelShape::Generic(g) => {
            let v = generic_mean_row_bytes(g, hw, row_overhead_bytes).max(1.0);
            return (hw.embedding_cache_bytes as f64 / v).floor().min(u32::MAX as f64) as u32;
        }
    };
    (hw.embedding_cache_bytes / vector.max(1)).min(u32::MAX as u64) as u32
}

/// Lookup-weighted mean bytes of one looked-up row of `g`: over the per-candidate lookups, or over the query
/// lookups when there are none; 0 without lookups.
pub fn generic_mean_row_bytes(g: &GenericShape, hw: &AccelConfig, row_overhead_bytes: u32) -> f64 {
    let groups = if g.item_lookups.is_empty() { &g.query_lookups } else { &g.item_lookups };
    let e = hw.element_bytes as u64;
    let lookups: u64 = groups.iter().map(|&(l, _)| l as u64).sum();
    let bytes: u64 = groups.iter().map(|&(l, w)| l as u64 * (w as u64 * e + row_overhead_bytes as u64)).sum();
    if lookups == 0 {
        0.0
    } else {
        bytes as f64 / lookups as f64
    }
}

/// Hit rate of the configured cache over a data set's own index stream (keys from [`table_key`]), after a
/// warm-up pass; pass the result as the stage's hit rate to use it instead of the characterization.
pub fn simulated_hit_rate(
    model: &ModelShape,
    hw: &AccelConfig,
    trace: &[u64],
    warmup: &[u64],
    policy: super::lru::Policy,
) -> f64 {
    super::lru::simulate_hit_rate(trace, warmup, cache_entries(model, hw), policy)
}

/// Traffic and time of one stage's embedding gathers.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct EmbeddingTraffic {
    /// Fraction of vector lookups served on chip.
    pub hit_rate: f64,
    /// Bytes read from the embedding SRAM.
    pub sram_bytes: f64,
    /// Bytes moved from DRAM (whole bursts).
    pub dram_bytes: f64,
    /// Cycles of the gather.
    pub cycles: f64,
}

/// Hit rate for `model` on `hw` when none is supplied (module docs, items 2 and 3).
pub fn default_hit_rate(model: &ModelShape, hw: &AccelConfig, dataset: Dataset) -> f64 {
    default_hit_rate_with_overhead(model, hw, dataset, 0)
}

/// [`default_hit_rate`] with `row_overhead_bytes` stored with every row (module docs).
pub fn default_hit_rate_with_overhead(
    model: &ModelShape,
    hw: &AccelConfig,
    dataset: Dataset,
    row_overhead_bytes: u32,
) -> f64 {
    let e = hw.element_bytes as f64;
    let ov = row_overhead_bytes as f64;
    let cache = hw.embedding_cache_bytes as f64;
    match (model, dataset.movielens_entities()) {
        (ModelShape::Dlrm(d), _) => criteo_hit_rate(cache / (d.embedding_dim as f64 * e + ov)),
        (ModelShape::NeuMf(n), Some((users, items))) => {
            let row_bytes = (n.mf_dim + n.mlp_embedding_dim) as f64 * e + 2.0 * ov;
            (cache / row_bytes / (users + items) as f64).min(1.0)
        }
        (ModelShape::NeuMf(n), None) => {
            criteo_hit_rate(cache / ((n.mf_dim + n.mlp_embedding_dim) as f64 * e + 2.0 * ov))
        }
        (ModelShape::Generic(g), Some((users, items))) => {
            let row = |groups: &[(u32, u32)]| groups.iter().map(|&(_, w)| w as f64 * e + ov).sum::<f64>();
            let table_bytes = users as f64 * row(&g.query_lookups) + items as f64 * row(&g.item_lookups);
            if table_bytes > 0.0 {
                (cache / table_bytes).min(1.0)
            } else {
                0.0
            }
        }
        (ModelShape::Generic(g), None) => {
            let v = generic_mean_row_bytes(g, hw, row_overhead_bytes);
            if v > 0.0 {
                criteo_hit_rate(cache / v)
            } else {
                0.0
            }
        }
    }
}

/// Gather traffic for `items` candidates with on-chip hit rate `hit_rate`.
pub fn traffic(model: &ModelShape, hw: &AccelConfig, items: u32, hit_rate: f64) -> EmbeddingTraffic {
    traffic_with_overhead(model, hw, items, hit_rate, 0)
}

/// [`traffic`] with `row_overhead_bytes` fetched with every looked-up row. For a generic shape this is the query
/// gather followed by the candidates' gather ([`generic_traffic`]): bytes and cycles add.
pub fn traffic_with_overhead(
    model: &ModelShape,
    hw: &AccelConfig,
    items: u32,
    hit_rate: f64,
    row_overhead_bytes: u32,
) -> EmbeddingTraffic {
    let e = hw.element_bytes as f64;
    let ov = row_overhead_bytes as f64;
    let n = items as f64;
    // (vector lookups, bytes per vector)
    let groups: [(f64, f64); 3] = match model {
        ModelShape::Dlrm(d) => [(n * d.tables as f64, d.embedding_dim as f64 * e + ov), (0.0, 0.0), (0.0, 0.0)],
        ModelShape::NeuMf(m) => {
            let users = if items > 0 { 1.0 } else { 0.0 };
            [(n + users, m.mf_dim as f64 * e + ov), (n + users, m.mlp_embedding_dim as f64 * e + ov), (0.0, 0.0)]
        }
        ModelShape::Generic(g) => {
            let (query, item) = generic_traffic(g, hw, items, hit_rate, row_overhead_bytes);
            return EmbeddingTraffic {
                hit_rate: item.hit_rate,
                sram_bytes: query.sram_bytes + item.sram_bytes,
                dram_bytes: query.dram_bytes + item.dram_bytes,
                cycles: query.cycles + item.cycles,
            };
        }
    };
    gather(hw, groups, hit_rate)
}

/// A generic shape's two gathers, (once per query, per-candidate rows of all `items` candidates), with
/// `row_overhead_bytes` fetched with every row. The query gather is empty when `items` is 0.
pub fn generic_traffic(
    g: &GenericShape,
    hw: &AccelConfig,
    items: u32,
    hit_rate: f64,
    row_overhead_bytes: u32,
) -> (EmbeddingTraffic, EmbeddingTraffic) {
    let e = hw.element_bytes as f64;
    let ov = row_overhead_bytes as f64;
    let queries = if items > 0 { 1.0 } else { 0.0 };
    let groups = |groups: &[(u32, u32)], times: f64| {
        groups.iter().map(move |&(l, w)| (times * l as f64, w as f64 * e + ov)).collect::<Vec<_>>()
    };
    (
        gather(hw, groups(&g.query_lookups, queries), hit_rate),
        gather(hw, groups(&g.item_lookups, items as f64), hit_rate),
    )
}

/// One gather of `groups` of (vector lookups, bytes per vector).
fn gather(hw: &AccelConfig, groups: impl IntoIterator<Item = (f64, f64)>, hit_rate: f64) -> EmbeddingTraffic {
    let burst = hw.dram_burst_bytes as f64;
    let h = hit_rate.clamp(0.0, 1.0);
    let mut sram = 0.0;
    let mut dram = 0.0;
    for (count, bytes) in groups {
        if count > 0.0 && bytes > 0.0 {
            sram += count * h * bytes;
            dram += count * (1.0 - h) * (bytes / burst).ceil() * burst;
        }
    }
    let sram_cycles = sram / hw.embedding_sram_bytes_per_cycle as f64;
    let dram_cycles = if dram > 0.0 { hw.dram_latency_cycles as f64 + dram / hw.dram_bytes_per_cycle() } else { 0.0 };
    EmbeddingTraffic { hit_rate: h, sram_bytes: sram, dram_bytes: dram, cycles: sram_cycles.max(dram_cycles) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characterization_points_and_interpolation() {
        let t = characterization();
        assert_eq!(t.len(), 97);
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        // The study's stage-1 hit rates: ≈22.0% @4096, 46.8% @65536, 52.3% @131072 entries.
        assert!((criteo_hit_rate(4096.0) - 0.220).abs() < 0.002);
        assert!((criteo_hit_rate(65536.0) - 0.468).abs() < 0.002);
        assert!((criteo_hit_rate(1e9) - 0.5231).abs() < 0.001);
        assert!(criteo_hit_rate(40.0) > 0.0 && criteo_hit_rate(40.0) < t[0].1);
        let mid = criteo_hit_rate(6000.0);
        assert!(mid > criteo_hit_rate(4096.0) && mid < criteo_hit_rate(8192.0));
    }

    #[test]
    fn traffic_by_hand() {
        // RM-small (d = 4, 2-byte elements → 8-byte vectors), 10 items, half the lookups hit:
        // 260 lookups, 130 hits × 8 B SRAM, 130 misses × 64 B bursts.
        let hw = AccelConfig::from_yaml_str(
            "array_size: 16\nclock_mhz: 1000\ndram_bandwidth_gib_s: 1\ndram_latency_cycles: 100\n\
             weight_sram_bytes: 1024\nactivation_sram_bytes: 1024\nembedding_cache_bytes: 0\n\
             embedding_sram_bytes_per_cycle: 8\ntopk_units: 1\n",
            "t.yaml",
        )
        .unwrap();
        let m = ModelShape::from_preset("rm-small").unwrap();
        let t = traffic(&m, &hw, 10, 0.5);
        assert!((t.sram_bytes - 1040.0).abs() < 1e-9);
        assert!((t.dram_bytes - 8320.0).abs() < 1e-9);
        let dram_cycles = 100.0 + 8320.0 / (1073741824.0 / 1e9);
        assert!((t.cycles - dram_cycles).abs() < 1e-9);
        assert!(default_hit_rate(&m, &hw, Dataset::Kaggle).abs() < 1e-12);
    }

    #[test]
    fn simulated_hit_rate_uses_configured_capacity() {
        let text = |bytes: u64| {
            format!(
                "array_size: 16\nclock_mhz: 1000\ndram_bandwidth_gib_s: 1\ndram_latency_cycles: 100\n\
                 weight_sram_bytes: 1024\nactivation_sram_bytes: 1024\nembedding_cache_bytes: {bytes}\n\
                 topk_units: 1\n"
            )
        };
        let m = ModelShape::from_preset("rm-small").unwrap(); // 8-byte vectors
        let small = AccelConfig::from_yaml_str(&text(8 * 2), "t.yaml").unwrap();
        let big = AccelConfig::from_yaml_str(&text(8 * 1000), "t.yaml").unwrap();
        assert_eq!(cache_entries(&m, &small), 2);
        // Rows 0, 1, 2 of table 3 in a loop: 2 entries thrash under LRU, 1000 hold everything.
        let trace: Vec<u64> = (0..300).map(|i| table_key(3, i % 3)).collect();
        let policy = crate::accel::lru::Policy::Lru;
        assert!(simulated_hit_rate(&m, &small, &trace, &[], policy).abs() < 1e-12);
        assert!((simulated_hit_rate(&m, &big, &trace, &trace, policy) - 1.0).abs() < 1e-12);
        assert_ne!(table_key(1, 5), table_key(2, 5));
    }

    fn hw(cache: u64) -> AccelConfig {
        AccelConfig::from_yaml_str(
            &format!(
                "array_size: 16\nclock_mhz: 1000\ndram_bandwidth_gib_s: 1\ndram_latency_cycles: 100\n\
                 weight_sram_bytes: 1024\nactivation_sram_bytes: 1024\nembedding_cache_bytes: {cache}\n\
                 embedding_sram_bytes_per_cycle: 8\ntopk_units: 1\n"
            ),
            "t.yaml",
        )
        .unwrap()
    }

    fn generic(item: Vec<(u32, u32)>, query: Vec<(u32, u32)>) -> GenericShape {
        GenericShape {
            family: "two-tower",
            item_lookups: item,
            query_lookups: query,
            query_layers: vec![],
            item_layers: vec![],
            interaction_macs_per_item: 0,
            layers_overlap_lookups: false,
            datasets: vec![Dataset::Kaggle, Dataset::Movielens1m],
        }
    }

    #[test]
    fn generic_traffic_counts_query_rows_once() {
        let h = hw(0);
        // 2-byte elements: item rows 1 × 64 B + 2 × 16 B per candidate, query rows 5 × 32 B once.
        let g = generic(vec![(1, 32), (2, 8)], vec![(5, 16)]);
        let (q, i) = generic_traffic(&g, &h, 10, 1.0, 0);
        assert!((q.sram_bytes - 160.0).abs() < 1e-12);
        assert!((i.sram_bytes - 10.0 * 96.0).abs() < 1e-12);
        let (q2, i2) = generic_traffic(&g, &h, 20, 1.0, 0);
        assert_eq!(q2, q);
        assert!((i2.sram_bytes - 2.0 * i.sram_bytes).abs() < 1e-12);
        // Misses: whole 64-byte bursts; the two gathers each pay the DRAM latency.
        let (q, i) = generic_traffic(&g, &h, 10, 0.0, 0);
        assert!((q.dram_bytes - 5.0 * 64.0).abs() < 1e-12);
        assert!((i.dram_bytes - 10.0 * 3.0 * 64.0).abs() < 1e-12);
        let per_byte = 1.0 / (1073741824.0 / 1e9);
        assert!((q.cycles - (100.0 + 320.0 * per_byte)).abs() < 1e-9);
        let all = traffic(&ModelShape::Generic(g.clone()), &h, 10, 0.0);
        assert!((all.cycles - (q.cycles + i.cycles)).abs() < 1e-9);
        assert!((all.dram_bytes - (q.dram_bytes + i.dram_bytes)).abs() < 1e-9);
        // No candidates, no query work.
        let (q0, i0) = generic_traffic(&g, &h, 0, 0.0, 0);
        assert!(q0.cycles.abs() < 1e-12 && i0.cycles.abs() < 1e-12);
    }

    /// (d) Row overhead: `lookups × items × overhead` more bytes served on chip; misses round up to bursts;
    /// the cache holds fewer, larger rows.
    #[test]
    fn row_overhead_adds_bytes_per_lookup() {
        let h = hw(1 << 20);
        let rm_small = ModelShape::from_preset("rm-small").unwrap(); // 26 lookups of 8 B
        let a = traffic_with_overhead(&rm_small, &h, 100, 1.0, 0);
        let b = traffic_with_overhead(&rm_small, &h, 100, 1.0, 8);
        assert!((b.sram_bytes - a.sram_bytes - 26.0 * 100.0 * 8.0).abs() < 1e-9);
        assert_eq!(traffic_with_overhead(&rm_small, &h, 100, 0.3, 0), traffic(&rm_small, &h, 100, 0.3));
        // RM-med: 32-byte rows; + 8 B still fits one 64-byte burst, + 40 B needs two.
        let rm_med = ModelShape::from_preset("rm-med").unwrap();
        let miss = |ov| traffic_with_overhead(&rm_med, &h, 100, 0.0, ov).dram_bytes;
        assert!((miss(8) - miss(0)).abs() < 1e-9);
        assert!((miss(40) - 2.0 * miss(0)).abs() < 1e-9);
        assert_eq!(cache_entries_with_overhead(&rm_small, &h, 8), (1 << 20) / 16);
        assert_eq!(cache_entries_with_overhead(&rm_small, &h, 0), cache_entries(&rm_small, &h));
        let neumf = ModelShape::from_preset("neumf-small").unwrap();
        let ModelShape::NeuMf(n) = &neumf else { panic!("neumf") };
        let entry = (n.mf_dim + n.mlp_embedding_dim) as u64 * 2 + 2 * 8;
        assert_eq!(cache_entries_with_overhead(&neumf, &h, 8) as u64, (1 << 20) / entry);
        let hit = |ov| default_hit_rate_with_overhead(&rm_small, &h, Dataset::Kaggle, ov);
        assert!(hit(8) < hit(0));
        // Generic: item rows per candidate and query rows once.
        let g = ModelShape::Generic(generic(vec![(1, 32), (2, 8)], vec![(5, 16)]));
        let a = traffic_with_overhead(&g, &h, 100, 1.0, 0);
        let b = traffic_with_overhead(&g, &h, 100, 1.0, 8);
        assert!((b.sram_bytes - a.sram_bytes - (3.0 * 100.0 + 5.0) * 8.0).abs() < 1e-9);
    }

    /// One width `d` gives DLRM's capacity and hit rate exactly; NeuMF's rows give NeuMF's MovieLens coverage.
    #[test]
    fn generic_hit_rate_mirrors_dlrm_and_neumf() {
        let h = hw(1_000_000);
        for preset in ["rm-small", "rm-med", "rm-large"] {
            let m = ModelShape::from_preset(preset).unwrap();
            let ModelShape::Dlrm(d) = &m else { panic!("dlrm") };
            let g = ModelShape::Generic(generic(vec![(d.tables, d.embedding_dim)], vec![]));
            assert_eq!(cache_entries(&g, &h), cache_entries(&m, &h));
            for ov in [0, 8] {
                let (a, b) = (
                    default_hit_rate_with_overhead(&g, &h, Dataset::Kaggle, ov),
                    default_hit_rate_with_overhead(&m, &h, Dataset::Kaggle, ov),
                );
                assert_eq!(a.to_bits(), b.to_bits(), "{preset}: {a} vs {b}");
            }
        }
        for preset in ["neumf-small", "neumf-large"] {
            let m = ModelShape::from_preset(preset).unwrap();
            let ModelShape::NeuMf(n) = &m else { panic!("neumf") };
            let rows = vec![(1, n.mf_dim), (1, n.mlp_embedding_dim)];
            let g = ModelShape::Generic(generic(rows.clone(), rows));
            for ds in [Dataset::Movielens1m, Dataset::Movielens20m] {
                let (a, b) = (default_hit_rate(&g, &h, ds), default_hit_rate(&m, &h, ds));
                assert!((a - b).abs() <= 1e-12 * b, "{preset} {ds:?}: {a} vs {b}");
            }
        }
        // Mixed widths: capacity in lookup-weighted mean rows, (1 · 64 + 3 · 16) · 2 B / 4 lookups = 56 B.
        let g = ModelShape::Generic(generic(vec![(1, 64), (3, 16)], vec![(9, 1000)]));
        assert_eq!(cache_entries(&g, &h), 1_000_000 / 56);
        assert!(default_hit_rate(&ModelShape::Generic(generic(vec![], vec![])), &h, Dataset::Kaggle).abs() < 1e-12);
    }
}
