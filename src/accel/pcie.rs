//! Host ↔ accelerator transfers over PCIe on the refined model: a fixed per-transfer cost plus bytes over a
//! configurable link.
//!
//! Defaults come from the PCIe constants of the original `Accelerator.run_query`, which its comments attribute
//! to a measurement between a Cascade Lake host and a T4: 40 µs per transfer and 23.4375 ns per Criteo input item.
//! Read as bytes, one Criteo item is 13 dense fp32 values and 26 int32 indices = 156 B, so the slope is a link
//! of 156 B / 23.4375 ns = 6.656 GB/s. Input per item: Criteo 156 B; MovieLens 4 B (item id) plus 4 B once
//! for the user id. Output: `top_n` × (4 B id + one score element).
//! Stages that share a chip pass candidates on chip, so a pipeline pays the input transfer once before its
//! first stage and the output transfer once after its last (module [`super::pipelining`]).

use super::hardware::AccelConfig;
use super::model_shape::Dataset;

/// Default link bandwidth, 10^9 B/s (156 B per 23.4375 ns).
pub const DEFAULT_LINK_GB_S: f64 = 6.656;
/// Default fixed cost per transfer, µs.
pub const DEFAULT_LATENCY_US: f64 = 40.0;
/// Bytes per Criteo item sent to the accelerator: 13 dense fp32 + 26 int32 indices.
pub const CRITEO_INPUT_BYTES_PER_ITEM: u64 = 13 * 4 + 26 * 4;
/// Bytes of one id.
pub const ID_BYTES: u64 = 4;

/// Bytes sent to the accelerator for `items` candidates.
pub fn input_bytes(dataset: Dataset, items: u32) -> u64 {
    match dataset {
        Dataset::Kaggle => CRITEO_INPUT_BYTES_PER_ITEM * items as u64,
        Dataset::Movielens1m | Dataset::Movielens20m => ID_BYTES * items as u64 + ID_BYTES,
    }
}

/// Bytes returned for `top_n` results (id + score).
pub fn output_bytes(hw: &AccelConfig, top_n: u32) -> u64 {
    (ID_BYTES + hw.element_bytes as u64) * top_n as u64
}

/// Cycles (of `hw`'s clock) of one transfer of `bytes`.
pub fn transfer_cycles(hw: &AccelConfig, bytes: u64) -> f64 {
    let seconds = hw.pcie_latency_us * 1e-6 + bytes as f64 / (hw.pcie_bandwidth_gb_s * 1e9);
    seconds * hw.clock_hz()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_reproduce_reference_slope() {
        let hw = AccelConfig::from_yaml_str(
            "array_size: 16\nclock_mhz: 125\ndram_bandwidth_gib_s: 1\ndram_latency_cycles: 100\n\
             weight_sram_bytes: 1024\nactivation_sram_bytes: 1024\nembedding_cache_bytes: 0\ntopk_units: 1\n",
            "t.yaml",
        )
        .unwrap();
        // 4096 Criteo items: 40 µs + 4096 · 23.4375 ns = 136 µs = 17,000 cycles at 125 MHz, the original's
        // input term.
        let c = transfer_cycles(&hw, input_bytes(Dataset::Kaggle, 4096));
        assert!((c - 17_000.0).abs() < 1e-6, "{c}");
        assert_eq!(output_bytes(&hw, 64), 384);
    }
}
