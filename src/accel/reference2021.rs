//! The original RecPipeAccel per-query, per-stage cost model (RecPipe, MICRO 2021, artifact file
//! `RecPipeAccelModel.py`, `Accelerator.run_query`), formula for formula, quirks included.
//!
//! Everything is in the model's "cycle" unit and summed serially; seconds = cycles · clock (ns) · 1e-9.
//! With `n` items, clock `C` ns/cycle, `BW` = GiB/s · 2^30 / 1e9 bytes/ns, array side `N`, weight SRAM `W`
//! bytes and DRAM latency `L` cycles:
//!
//! * PCIe in `(5 + 12/4096 · n) · 1000`, PCIe out `(5 + 5/4096 · top_n) · 1000` (constants the comments give
//!   in ms for a Cascade Lake ↔ T4 host, used as cycles; the slope counts items, not bytes);
//! * embeddings: bytes `B` = 4 · d · 26 · n (Kaggle) or 4 · (d + mf) · 2 · n (MovieLens), a fixed 50% on-chip
//!   miss rate, `L + (B/2)/BW/C` DRAM cycles plus `(B/2)/64` SRAM cycles, added, not overlapped;
//! * each MLP layer `a → b`: weight load `(L + min(W, 4ab)/BW/C) · ceil(4ab/W)` plus compute
//!   `(min(b, N) + min(a, N) + n) · ceil(a/N) · ceil(b/N)`, serial, no double buffering; the bottom MLP is
//!   `arch_mlp_bot`, the top MLP `[27·d] + arch_mlp_top` for DLRM (concatenation width, not the dot width) and
//!   `arch_mlp_top` for NeuMF; the interaction is free;
//! * sort `n/16` divided by the clock in ns (a unit error, kept on purpose); with [`Division::Python2`] both
//!   divisions are integer divisions, as in the Python-2 runs that produced the published logs.
//!
//! The data set is implied by the model family (DLRM ↔ Kaggle, NeuMF ↔ MovieLens), exactly as the original
//! picks its lookup count from `--data-set`.
//!
//! A [`GenericShape`](super::model_shape::GenericShape), which the original never saw, gets the same formulas:
//! embedding bytes `B = 4 · (n · Σ_item lookups·width + Σ_query lookups·width)` (query rows once, none when
//! `n = 0`) with the 50% split above; its query MLP (`n = 1` in the layer formula) and per-candidate MLP
//! (`n` items) are `mlp_bottom`; `mlp_top` is 0 and, as in the original, the interaction is free.

use super::hardware::AccelConfig;
use super::model_shape::{layers, ModelShape};
use super::StageCycles;

/// Arithmetic of the sort-unit term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Division {
    /// True division (Python 3), the default.
    #[default]
    Python3,
    /// Integer division where both operands are integers (Python 2), as in the shipped logs.
    Python2,
}

/// Element size of the original model (fp32), bytes.
const ELEMENT_BYTES: f64 = 4.0;
/// Fixed L1 (on-chip) miss rate of the "offline" characterization.
const L1_MISS: f64 = 0.5;
/// On-chip SRAM bytes per cycle (not scaled with the array).
const SRAM_BYTES_PER_CYCLE: f64 = 64.0;

/// PCIe input term, cycles.
#[inline]
pub fn input_pcie_cycles(items: u32) -> f64 {
    (5.0 + (12.0 / 4096.0) * items as f64) * 1000.0
}

/// PCIe output term, cycles.
#[inline]
pub fn output_pcie_cycles(top_n: u32) -> f64 {
    (5.0 + (5.0 / 4096.0) * top_n as f64) * 1000.0
}

/// Sort term after the model's division by the clock (ns per cycle).
#[inline]
pub fn sort_cycles(items: u32, clock_ns: f64, division: Division) -> f64 {
    match division {
        Division::Python3 => (items as f64 / 16.0) / clock_ns,
        Division::Python2 => {
            let per16 = (items / 16) as f64;
            if clock_ns.fract() == 0.0 {
                (per16 / clock_ns).floor()
            } else {
                per16 / clock_ns
            }
        }
    }
}

/// Embedding term, cycles.
#[inline]
pub fn embedding_cycles(model: &ModelShape, hw: &AccelConfig, items: u32) -> f64 {
    let n = items as f64;
    let bytes = match model {
        ModelShape::Dlrm(d) => ELEMENT_BYTES * d.embedding_dim as f64 * d.tables as f64 * n,
        ModelShape::NeuMf(m) => {
            ELEMENT_BYTES * m.mlp_embedding_dim as f64 * 2.0 * n + ELEMENT_BYTES * m.mf_dim as f64 * 2.0 * n
        }
        ModelShape::Generic(g) => {
            let elements = |groups: &[(u32, u32)]| groups.iter().map(|&(l, w)| l as f64 * w as f64).sum::<f64>();
            let queries = if items > 0 { 1.0 } else { 0.0 };
            ELEMENT_BYTES * (elements(&g.item_lookups) * n + elements(&g.query_lookups) * queries)
        }
    };
    let bw = hw.dram_bandwidth_gib_s * (1u64 << 30) as f64 / 1e9;
    let dram = if bytes > 0.0 { hw.dram_latency_cycles as f64 + (bytes * L1_MISS / bw) / hw.clock_ns() } else { 0.0 };
    let sram = bytes * (1.0 - L1_MISS) / SRAM_BYTES_PER_CYCLE;
    dram + sram
}

/// One layer `a → b` over `items` inputs, cycles (weight load + compute).
#[inline]
pub fn layer_cycles(hw: &AccelConfig, a: u32, b: u32, items: u32) -> f64 {
    let clock = hw.clock_ns();
    let bw = hw.dram_bandwidth_gib_s * (1u64 << 30) as f64 / 1e9;
    let w = hw.weight_sram_bytes as f64;
    let wbytes = ELEMENT_BYTES * a as f64 * b as f64;
    let slices = (wbytes / w).ceil();
    let load = (hw.dram_latency_cycles as f64 + (w.min(wbytes) / bw) / clock) * slices;
    let side = hw.array_size;
    let tiles = (a.div_ceil(side) as u64 * b.div_ceil(side) as u64) as f64;
    let compute = (b.min(side) as f64 + a.min(side) as f64 + items as f64) * tiles;
    load + compute
}

fn mlp_cycles(hw: &AccelConfig, widths: impl Iterator<Item = (u32, u32)>, items: u32) -> f64 {
    widths.map(|(a, b)| layer_cycles(hw, a, b, items)).sum()
}

/// Evaluate one stage: the six serial components (`interaction` is always 0; for a generic shape `mlp_bottom`
/// holds the query MLP and the per-candidate MLP, `mlp_top` is 0).
pub fn stage_cycles(model: &ModelShape, hw: &AccelConfig, items: u32, top_n: u32, division: Division) -> StageCycles {
    let (bottom, top) = match model {
        ModelShape::Dlrm(d) => {
            let cat_width = (d.tables + 1) * d.embedding_dim;
            let bottom = mlp_cycles(hw, layers(&d.bottom_mlp), items);
            let first = d.top_mlp.first().map_or(0.0, |&b| layer_cycles(hw, cat_width, b, items));
            (bottom, first + mlp_cycles(hw, layers(&d.top_mlp), items))
        }
        ModelShape::NeuMf(m) => {
            (mlp_cycles(hw, layers(&m.mlp_layers), items), mlp_cycles(hw, layers(&m.predict_layers), items))
        }
        ModelShape::Generic(g) => {
            let query = if items > 0 { mlp_cycles(hw, layers(&g.query_layers), 1) } else { 0.0 };
            (query + mlp_cycles(hw, layers(&g.item_layers), items), 0.0)
        }
    };
    StageCycles {
        input_pcie: input_pcie_cycles(items),
        embedding: embedding_cycles(model, hw, items),
        mlp_bottom: bottom,
        interaction: 0.0,
        mlp_top: top,
        topk: sort_cycles(items, hw.clock_ns(), division),
        output_pcie: output_pcie_cycles(top_n),
    }
}

/// Total cycles: the plain sum of the components.
#[inline]
pub fn total_cycles(c: &StageCycles) -> f64 {
    c.input_pcie + c.embedding + c.mlp_bottom + c.mlp_top + c.topk + c.output_pcie
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::model_shape::GenericShape;

    fn hw(array: u32, bw: f64) -> AccelConfig {
        AccelConfig::from_recpipe_json_str(
            &format!(
                r#"{{"clock": 8, "dram_latency": 100, "flash_latency": 20000, "dram_bandwidth": {bw},
                "flash_bandwidth": 0.1, "dram_capacity": 32, "flash_capacity": 256,
                "l1_cache_capacity": 1000000, "weight_sram_latency": 1, "weight_sram_size": 1000000,
                "output_sram_latency": 1, "output_sram_size": 100, "pe_count": 1, "arraysize": {array}}}"#
            ),
            "hardconf.json",
        )
        .unwrap()
    }

    /// RM-large, S = 1, n = 4096, top_n = 0: 2.0907438 ms, the `Infer mean time` of RecPipe's published log.
    #[test]
    fn worked_example_rm_large() {
        let m = ModelShape::from_preset("rm-large").unwrap();
        let c = stage_cycles(&m, &hw(128, 32.0), 4096, 0, Division::Python3);
        assert!((c.input_pcie - 17_000.0).abs() < 1e-9);
        assert!((c.embedding - 131_391.5).abs() < 0.1, "{}", c.embedding);
        assert!((c.mlp_bottom - 72_078.1).abs() < 0.1, "{}", c.mlp_bottom);
        assert!((c.mlp_top - 35_841.4).abs() < 0.1, "{}", c.mlp_top);
        assert!((c.topk - 32.0).abs() < 1e-12);
        assert!((c.output_pcie - 5000.0).abs() < 1e-12);
        let ms = total_cycles(&c) * 8.0 * 1e-6;
        assert!((ms - 2.0907438).abs() < 1e-6, "{ms}");
    }

    /// Hand-computed layer: 13 → 512 on a 128² array at 4096 items: load 100 + 26624/34.36/8, compute
    /// (128 + 13 + 4096) · 1 · 4.
    #[test]
    fn single_layer_by_hand() {
        let h = hw(128, 32.0);
        let bw = 32.0 * 1073741824.0 / 1e9;
        let expected = 100.0 + 26624.0 / bw / 8.0 + 4237.0 * 4.0;
        assert!((layer_cycles(&h, 13, 512, 4096) - expected).abs() < 1e-9);
    }

    #[test]
    fn python2_sort_floors_both_divisions() {
        assert!((sort_cycles(6140, 8.0, Division::Python3) - 47.96875).abs() < 1e-12);
        assert!((sort_cycles(6140, 8.0, Division::Python2) - 47.0).abs() < 1e-12);
        assert!((sort_cycles(4096, 8.0, Division::Python2) - 32.0).abs() < 1e-12);
    }

    /// A generic shape gets the original's formulas: DLRM's lookups give DLRM's embedding term to the bit;
    /// query rows and the query MLP are charged once.
    #[test]
    fn generic_uses_the_original_formulas() {
        let h = hw(128, 32.0);
        let m = ModelShape::from_preset("rm-large").unwrap();
        let ModelShape::Dlrm(d) = &m else { panic!("dlrm") };
        let generic = |query_lookups: Vec<(u32, u32)>, query_layers: Vec<u32>| {
            ModelShape::Generic(GenericShape {
                family: "dlrm-like",
                item_lookups: vec![(d.tables, d.embedding_dim)],
                query_lookups,
                query_layers,
                item_layers: d.bottom_mlp.clone(),
                interaction_macs_per_item: 351 * d.embedding_dim as u64,
                layers_overlap_lookups: true,
                datasets: vec![crate::accel::Dataset::Kaggle],
            })
        };
        let g = generic(vec![], vec![]);
        let (c, x) =
            (stage_cycles(&m, &h, 4096, 64, Division::Python3), stage_cycles(&g, &h, 4096, 64, Division::Python3));
        assert_eq!(c.embedding.to_bits(), x.embedding.to_bits());
        assert_eq!(c.mlp_bottom.to_bits(), x.mlp_bottom.to_bits());
        assert!(x.mlp_top.abs() < 1e-12 && x.interaction.abs() < 1e-12);
        assert!((total_cycles(&x) - (total_cycles(&c) - c.mlp_top)).abs() < 1e-6);
        // 10 query rows of 32 fp32 elements: 1280 B, half from DRAM, half from SRAM, on top of the items'.
        let q = generic(vec![(10, 32)], vec![64, 32]);
        let bw = 32.0 * 1073741824.0 / 1e9;
        for items in [16, 4096] {
            let (a, b) = (embedding_cycles(&q, &h, items), embedding_cycles(&g, &h, items));
            assert!((a - b - (640.0 / bw / 8.0 + 640.0 / 64.0)).abs() < 1e-9, "{items}");
            let (a, b) =
                (stage_cycles(&q, &h, items, 0, Division::Python3), stage_cycles(&g, &h, items, 0, Division::Python3));
            assert!((a.mlp_bottom - b.mlp_bottom - layer_cycles(&h, 64, 32, 1)).abs() < 1e-9);
        }
    }
}
