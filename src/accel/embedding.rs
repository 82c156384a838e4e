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

use super::hardware::AccelConfig;
use super::model_shape::{Dataset, ModelShape};
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
/// NeuMF caches a user's or item's GMF and MLP vectors together).
pub fn cache_entries(model: &ModelShape, hw: &AccelConfig) -> u32 {
    let e = hw.element_bytes as u64;
    let vector = match model {
        ModelShape::Dlrm(d) => d.embedding_dim as u64 * e,
        ModelShape::NeuMf(n) => (n.mf_dim + n.mlp_embedding_dim) as u64 * e,
    };
    (hw.embedding_cache_bytes / vector.max(1)).min(u32::MAX as u64) as u32
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
    let e = hw.element_bytes as f64;
    let cache = hw.embedding_cache_bytes as f64;
    match (model, dataset.movielens_entities()) {
        (ModelShape::Dlrm(d), _) => criteo_hit_rate(cache / (d.embedding_dim as f64 * e)),
        (ModelShape::NeuMf(n), Some((users, items))) => {
            let row_bytes = (n.mf_dim + n.mlp_embedding_dim) as f64 * e;
            (cache / row_bytes / (users + items) as f64).min(1.0)
        }
        (ModelShape::NeuMf(n), None) => criteo_hit_rate(cache / ((n.mf_dim + n.mlp_embedding_dim) as f64 * e)),
    }
}

/// Gather traffic for `items` candidates with on-chip hit rate `hit_rate`.
pub fn traffic(model: &ModelShape, hw: &AccelConfig, items: u32, hit_rate: f64) -> EmbeddingTraffic {
    let e = hw.element_bytes as f64;
    let burst = hw.dram_burst_bytes as f64;
    let n = items as f64;
    let h = hit_rate.clamp(0.0, 1.0);
    // (vector lookups, bytes per vector)
    let groups: [(f64, f64); 3] = match model {
        ModelShape::Dlrm(d) => [(n * d.tables as f64, d.embedding_dim as f64 * e), (0.0, 0.0), (0.0, 0.0)],
        ModelShape::NeuMf(m) => {
            let users = if items > 0 { 1.0 } else { 0.0 };
            [(n + users, m.mf_dim as f64 * e), (n + users, m.mlp_embedding_dim as f64 * e), (0.0, 0.0)]
        }
    };
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
}
