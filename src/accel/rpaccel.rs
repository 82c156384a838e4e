//! The refined RPAccel stage model (mode `rpaccel`, the default): a physically consistent per-query cost of
//! one stage on one (sub-)accelerator, built from the blocks in this module's siblings.
//!
//! Departures from the original model ([`super::reference2021`]), each with its reason:
//!
//! 1. **Units.** Every term is in cycles of the configured clock; the top-k filter costs
//!    `2·ceil(n/units) + bins` cycles ([`super::topk`]) instead of `n/16` divided by the clock period
//!    (a unit error of the original `SortingUnit`).
//! 2. **PCIe** ([`super::pcie`]): bytes over a configurable link plus a fixed per-transfer cost, not an item count; the
//!    output transfer carries the `min(top_n, n)` survivors (the original always passed 0). A stage pays them only
//!    where the pipeline enters or leaves the chip ([`StageOptions::input_pcie`], [`StageOptions::output_pcie`]);
//!    stages sharing a chip pass data on chip (the original charged both transfers to every stage).
//! 3. **DLRM top-MLP input** is the interaction width (351 + d for 26 tables with the dot interaction) instead
//!    of 27·d, and the **interaction itself is charged**: 351·d MACs per item (dot) or, for NeuMF, the GMF
//!    product (mf MACs per item), at the array's peak rate plus one array fill (the original charged nothing).
//! 4. **Systolic array** cycles per layer are weight-stationary with fill, stream, drain and tiling
//!    ([`super::systolic`]; agreement with SCALE-Sim in `accel/README.md`) instead of `(a + b + n)` per tile.
//! 5. **Weights.** If the whole model's weights fit in the weight SRAM they stay resident across queries and
//!    cost nothing per query; otherwise each layer's weights stream from DRAM in slices of half the weight
//!    SRAM, double-buffered, so loading the next slice overlaps the current slice's compute
//!    (`t = l₀ + Σ max(cⱼ, lⱼ₊₁)`); the original loaded serially with a latency per full-SRAM slice.
//! 6. **Activations** that exceed the activation SRAM spill to DRAM; a layer then takes the longer of its
//!    compute and its spill traffic (the original ignored activation capacity).
//! 7. **Embeddings** ([`super::embedding`]): on-chip hit rate from the configured cache capacity (measured Criteo
//!    characterization, MovieLens row coverage, or a caller-supplied rate from a trace-driven LRU simulation) instead
//!    of a fixed 50%; DRAM misses move whole bursts; SRAM and DRAM ports work in parallel; the embedding gather
//!    overlaps the bottom MLP, which does not depend on it (the original added them serially).
//! 8. **Element size** is the configured `element_bytes` (2 for the 16-bit datapath of the synthesized RTL)
//!    instead of the original's fp32.
//! 9. **Baseline chip** (`architecture: baseline`): no filter units, so all `n` scores return to the host
//!    (always, even inside a pipeline) and the host sorts them ([`super::topk::host_sort_s`]).
//! 10. **Energy** ([`super::energy`]) is computed; the original returned 0.
//!
//! Critical path of one stage: `pcie_in + max(embedding, mlp_bottom) + interaction + mlp_top + topk +
//! pcie_out`. NeuMF's MLP tower is `mlp_bottom` (it needs the gathered embeddings, so it does not overlap
//! them) and its prediction layers are `mlp_top`.
//!
//! A [`GenericShape`](super::model_shape::GenericShape) does its query work first, then the candidates' work:
//! `pcie_in + (query_gather + query_mlp) + front + interaction + topk + pcie_out`, with
//! `front = max(item_gather, item_mlp)` if `layers_overlap_lookups`, else `item_gather + item_mlp`. The query
//! MLP runs on one row, the per-candidate MLP on `items` rows (the same weight-stationary layer cost as the
//! other families; the weights of both count for residency), the interaction is `interaction_macs_per_item ·
//! items` MACs at the array's peak rate plus one fill, and both gathers come from
//! [`embedding::generic_traffic`]. A stage with no candidates does no query work. Components: `embedding` =
//! query gather + candidates' gather, `mlp_bottom` = query MLP + per-candidate MLP, `mlp_top` = 0.
//!
//! [`StageOptions::embedding_row_overhead_bytes`] adds that many bytes to every looked-up row (row-wise
//! quantized tables: an fp32 scale and bias, 8 B, per int8 row), both to the gather traffic and to the cache's
//! capacity per vector ([`embedding`] module docs); 0 (the default) leaves every result unchanged.

use super::embedding::{self, EmbeddingTraffic};
use super::energy::Activity;
use super::hardware::{AccelConfig, Architecture};
use super::model_shape::{layers, Dataset, ModelShape};
use super::pcie;
use super::systolic::{ws_cycles, Gemm};
use super::topk;
use super::StageCycles;
use crate::model::dlrm::Interaction;

/// Knobs of a refined-model stage evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageOptions {
    /// On-chip embedding hit rate to use instead of the capacity-derived one (e.g. from an LRU simulation).
    pub hit_rate: Option<f64>,
    /// Charge the host → accelerator transfer (first stage on the chip).
    pub input_pcie: bool,
    /// Charge the accelerator → host transfer (last stage on the chip).
    pub output_pcie: bool,
    /// Bytes fetched with every looked-up embedding row in addition to its elements (row-wise quantized
    /// tables: an fp32 scale and bias per int8 row, 8); also stored with every cached row. Default 0.
    pub embedding_row_overhead_bytes: u32,
    /// Bytes of one embedding element when they differ from the datapath's `element_bytes` (a model served with
    /// int8 tables and fp32 layers: 1); `None` uses `element_bytes`.
    pub embedding_element_bytes: Option<u32>,
}

impl Default for StageOptions {
    fn default() -> Self {
        StageOptions {
            hit_rate: None,
            input_pcie: true,
            output_pcie: true,
            embedding_row_overhead_bytes: 0,
            embedding_element_bytes: None,
        }
    }
}

/// Everything the refined model computes for one stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detail {
    /// Component cycles.
    pub cycles: StageCycles,
    /// Critical-path cycles.
    pub total_cycles: f64,
    /// Embedding hit rate used.
    pub hit_rate: f64,
    /// Whether all weights stay resident in the weight SRAM.
    pub weights_resident: bool,
    /// Busy times and traffic for the energy model (seconds, bytes).
    pub activity: Activity,
}

struct Mlp {
    cycles: f64,
    compute_cycles: f64,
    dram_bytes: f64,
    sram_bytes: f64,
}

fn mlp(hw: &AccelConfig, widths: &[(u32, u32)], items: u32, resident: bool) -> Mlp {
    let side = hw.array_size as u64;
    let e = hw.element_bytes as f64;
    let bw = hw.dram_bytes_per_cycle();
    let half = (hw.weight_sram_bytes as f64 / 2.0).max(1.0);
    let act = hw.activation_sram_bytes as f64;
    let lat = hw.dram_latency_cycles as f64;
    let mut out = Mlp { cycles: 0.0, compute_cycles: 0.0, dram_bytes: 0.0, sram_bytes: 0.0 };
    // Double-buffered pipeline over weight slices: t = l0 + Σ max(c_j, l_{j+1}).
    let mut pending_load: Option<f64> = None;
    for &(a, b) in widths {
        let g = Gemm { m: items as u64, k: a as u64, n: b as u64 };
        let compute = ws_cycles(g, side, side) as f64;
        let act_bytes = items as f64 * (a as f64 + b as f64) * e;
        let spill = (act_bytes - act).max(0.0);
        let layer = if spill > 0.0 { compute.max(lat + spill / bw) } else { compute };
        out.compute_cycles += compute;
        out.dram_bytes += spill;
        out.sram_bytes += act_bytes.min(act);
        let wbytes = a as f64 * b as f64 * e;
        out.sram_bytes += wbytes;
        if resident || wbytes == 0.0 {
            out.cycles += pending_load.take().unwrap_or(0.0) + layer;
            continue;
        }
        out.dram_bytes += wbytes;
        let slices = (wbytes / half).ceil();
        let load = lat + (wbytes / slices) / bw;
        let per = layer / slices;
        // The first load of this layer overlaps the previous layer's last slice (or starts cold).
        let mut t = match pending_load.take() {
            Some(prev_tail) => prev_tail.max(load),
            None => load,
        };
        // slices - 1 overlapped steps, then the last slice's compute is left pending.
        t += (slices - 1.0) * per.max(load);
        out.cycles += t;
        pending_load = Some(per);
    }
    out.cycles += pending_load.unwrap_or(0.0);
    out
}

/// Total weight bytes of the model.
pub fn weight_bytes(model: &ModelShape, hw: &AccelConfig) -> f64 {
    let e = hw.element_bytes as f64;
    let (bottom, top) = layer_lists(model);
    bottom.iter().chain(top.iter()).map(|&(a, b)| a as f64 * b as f64 * e).sum()
}

/// Fully connected layers as (input, output) widths.
type Layers = Vec<(u32, u32)>;

/// The model's fully connected layers as (input, output) widths, bottom MLP (or NeuMF tower) first, then the
/// top MLP (or prediction layers) with the interaction's output width as its input; for a generic shape the
/// query MLP, then the per-candidate MLP.
pub fn fc_layers(model: &ModelShape) -> Vec<(u32, u32)> {
    let (mut bottom, top) = layer_lists(model);
    bottom.extend(top);
    bottom
}

fn layer_lists(model: &ModelShape) -> (Layers, Layers) {
    match model {
        ModelShape::Dlrm(d) => {
            let mut top = Vec::with_capacity(d.top_mlp.len());
            let width = d.interaction.output_width(d.tables, d.embedding_dim);
            if let Some(&first) = d.top_mlp.first() {
                top.push((width, first));
            }
            top.extend(layers(&d.top_mlp));
            (layers(&d.bottom_mlp).collect(), top)
        }
        ModelShape::NeuMf(n) => (layers(&n.mlp_layers).collect(), layers(&n.predict_layers).collect()),
        ModelShape::Generic(g) => (layers(&g.query_layers).chain(layers(&g.item_layers)).collect(), Vec::new()),
    }
}

/// Evaluate one stage on the refined model.
pub fn stage(
    model: &ModelShape,
    hw: &AccelConfig,
    dataset: Dataset,
    items: u32,
    top_n: u32,
    opts: &StageOptions,
) -> Detail {
    let pes = hw.pes() as f64;
    let resident = weight_bytes(model, hw) <= hw.weight_sram_bytes as f64;
    // (query MLP on one row, per-candidate MLP before the interaction, per-candidate MLP after it)
    let (query, bottom, top) = match model {
        ModelShape::Generic(g) => {
            let query_layers: Layers = if items > 0 { layers(&g.query_layers).collect() } else { Vec::new() };
            let item_layers: Layers = layers(&g.item_layers).collect();
            (mlp(hw, &query_layers, 1, resident), mlp(hw, &item_layers, items, resident), mlp(hw, &[], items, resident))
        }
        ModelShape::Dlrm(_) | ModelShape::NeuMf(_) => {
            let (bottom_layers, top_layers) = layer_lists(model);
            let bottom = mlp(hw, &bottom_layers, items, resident);
            let top = mlp(hw, &top_layers, items, resident);
            (mlp(hw, &[], 1, resident), bottom, top)
        }
    };

    let interaction_macs = match model {
        ModelShape::Dlrm(d) => match d.interaction {
            Interaction::Dot => (d.tables as f64 + 1.0) * d.tables as f64 / 2.0 * d.embedding_dim as f64,
            Interaction::Cat => 0.0,
        },
        ModelShape::NeuMf(n) => n.mf_dim as f64,
        ModelShape::Generic(g) => g.interaction_macs_per_item as f64,
    } * items as f64;
    let interaction = if interaction_macs > 0.0 { (interaction_macs / pes).ceil() + hw.array_size as f64 } else { 0.0 };

    let overhead = opts.embedding_row_overhead_bytes;
    // The gathers move embedding elements of their own size when the stage's datatype says so.
    let emb_hw_owned;
    let emb_hw = match opts.embedding_element_bytes {
        Some(bytes) if bytes != hw.element_bytes => {
            emb_hw_owned = AccelConfig { element_bytes: bytes, ..hw.clone() };
            &emb_hw_owned
        }
        _ => hw,
    };
    let hit_rate =
        opts.hit_rate.unwrap_or_else(|| embedding::default_hit_rate_with_overhead(model, emb_hw, dataset, overhead));
    // (gather once per query, gather of the candidates' rows)
    let (query_emb, emb) = match model {
        ModelShape::Generic(g) => embedding::generic_traffic(g, emb_hw, items, hit_rate, overhead),
        ModelShape::Dlrm(_) | ModelShape::NeuMf(_) => {
            (EmbeddingTraffic::default(), embedding::traffic_with_overhead(model, emb_hw, items, hit_rate, overhead))
        }
    };
    let baseline = hw.architecture == Architecture::Baseline;
    // The baseline has no filter units: every score goes back to the host, which sorts.
    let (topk, returned) = if baseline {
        (topk::host_sort_s(items) * hw.clock_hz(), items)
    } else {
        (topk::filter_cycles(items, hw.topk_units, hw.topk_bins), top_n.min(items))
    };
    let input = if opts.input_pcie { pcie::transfer_cycles(hw, pcie::input_bytes(dataset, items)) } else { 0.0 };
    let output =
        if opts.output_pcie || baseline { pcie::transfer_cycles(hw, pcie::output_bytes(hw, returned)) } else { 0.0 };

    let cycles = StageCycles {
        input_pcie: input,
        embedding: query_emb.cycles + emb.cycles,
        mlp_bottom: query.cycles + bottom.cycles,
        interaction,
        mlp_top: top.cycles,
        topk,
        output_pcie: output,
    };
    let overlap = match model {
        ModelShape::Dlrm(_) => true,
        ModelShape::NeuMf(_) => false,
        ModelShape::Generic(g) => g.layers_overlap_lookups,
    };
    let front = if overlap { emb.cycles.max(bottom.cycles) } else { emb.cycles + bottom.cycles };
    // Work done once per query before the candidates' (zero for DLRM and NeuMF).
    let query_work = query_emb.cycles + query.cycles;
    let total = input + query_work + front + interaction + top.cycles + topk + output;
    let cycle_s = 1.0 / hw.clock_hz();
    // Scores written and read once by the filters.
    let score_bytes = 2.0 * items as f64 * hw.element_bytes as f64;
    Detail {
        cycles,
        total_cycles: total,
        hit_rate: emb.hit_rate,
        weights_resident: resident,
        activity: Activity {
            array_busy_s: (query.compute_cycles + bottom.compute_cycles + top.compute_cycles + interaction) * cycle_s,
            topk_busy_s: if baseline { 0.0 } else { topk * cycle_s },
            stage_s: total * cycle_s,
            sram_bytes: (query_emb.sram_bytes + emb.sram_bytes)
                + query.sram_bytes
                + bottom.sram_bytes
                + top.sram_bytes
                + score_bytes,
            dram_bytes: (query_emb.dram_bytes + emb.dram_bytes) + query.dram_bytes + bottom.dram_bytes + top.dram_bytes,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::model_shape::GenericShape;

    fn hw(side: u32, wsram: u64, act: u64) -> AccelConfig {
        AccelConfig::from_yaml_str(
            &format!(
                "array_size: {side}\nclock_mhz: 1000\ndram_bandwidth_gib_s: 1\ndram_latency_cycles: 100\n\
                 weight_sram_bytes: {wsram}\nactivation_sram_bytes: {act}\nembedding_cache_bytes: 0\n\
                 topk_units: 4\n"
            ),
            "t.yaml",
        )
        .unwrap()
    }

    /// Resident weights and activations that fit: the MLP is exactly the weight-stationary GEMM cycles.
    #[test]
    fn resident_mlp_is_pure_systolic() {
        let h = hw(4, 1 << 20, 1 << 20);
        let m = mlp(&h, &[(13, 6), (6, 1)], 10, true);
        // 13→6: 8 folds × (8 + 4 + 10 − 2) = 160; 6→1: 2 folds × 20 = 40.
        assert!((m.cycles - 200.0).abs() < 1e-12);
        assert!(m.dram_bytes.abs() < 1e-12);
    }

    /// Streaming weights: one layer of 4·4·2 = 32 B with a 32 B weight SRAM → two 16 B slices, each loaded
    /// in 100 + 16/1.073741824 cycles, overlapped with half the compute.
    #[test]
    fn streamed_weights_double_buffer() {
        let h = hw(4, 32, 1 << 20);
        let m = mlp(&h, &[(4, 4)], 10, false);
        let load = 100.0 + 16.0 / (1073741824.0 / 1e9);
        let compute: f64 = 8.0 + 4.0 + 10.0 - 2.0; // one fold
        let per = compute / 2.0;
        assert!((m.cycles - (load + per.max(load) + per)).abs() < 1e-9, "{}", m.cycles);
        assert!((m.dram_bytes - 32.0).abs() < 1e-12);
    }

    #[test]
    fn dlrm_top_uses_dot_width_and_interaction_is_charged() {
        let h = hw(128, 1 << 20, 1 << 22);
        let m = ModelShape::from_preset("rm-small").unwrap();
        let (_, top) = layer_lists(&m);
        assert_eq!(top, vec![(355, 64), (64, 1)]);
        let d = stage(&m, &h, Dataset::Kaggle, 4096, 64, &StageOptions::default());
        assert!(d.weights_resident);
        // 351 · 4 · 4096 MACs over 16384 PEs + 128 fill.
        assert!((d.cycles.interaction - (351.0 * 4.0 * 4096.0 / 16384.0 + 128.0)).abs() < 1e-9);
        let parts = d.cycles.input_pcie
            + d.cycles.embedding.max(d.cycles.mlp_bottom)
            + d.cycles.interaction
            + d.cycles.mlp_top
            + d.cycles.topk
            + d.cycles.output_pcie;
        assert!((d.total_cycles - parts).abs() < 1e-9);
    }

    #[test]
    fn pcie_switches_and_hit_rate_override() {
        let h = hw(32, 1 << 20, 1 << 20);
        let m = ModelShape::from_preset("rm-med").unwrap();
        let inside = StageOptions { hit_rate: Some(1.0), input_pcie: false, output_pcie: false, ..Default::default() };
        let d = stage(&m, &h, Dataset::Kaggle, 512, 64, &inside);
        assert!(d.cycles.input_pcie.abs() < 1e-12 && d.cycles.output_pcie.abs() < 1e-12);
        assert!(d.activity.dram_bytes.abs() < 1e-9);
        let cold = stage(&m, &h, Dataset::Kaggle, 512, 64, &StageOptions { hit_rate: Some(0.0), ..inside });
        assert!(cold.cycles.embedding > d.cycles.embedding);
    }

    fn chip(side: u32) -> AccelConfig {
        AccelConfig::from_yaml_str(
            &format!(
                "array_size: {side}\nclock_mhz: 125\ndram_bandwidth_gib_s: 8\ndram_latency_cycles: 100\n\
                 weight_sram_bytes: 4194304\nactivation_sram_bytes: 4194304\nembedding_cache_bytes: 1000000\n\
                 topk_units: 256\n"
            ),
            "t.yaml",
        )
        .unwrap()
    }

    /// The shared two-tower shape, serving MovieLens-20M.
    fn two_tower() -> GenericShape {
        GenericShape { datasets: vec![Dataset::Movielens20m], ..super::super::model_shape::tests::two_tower() }
    }

    /// DLRM without its top MLP as a generic shape: 26 lookups of d per item, the bottom MLP overlapping them,
    /// the dot interaction's 351·d MACs.
    fn dlrm_mirror(m: &ModelShape) -> ModelShape {
        let ModelShape::Dlrm(d) = m else { panic!("dlrm") };
        let t = d.tables as u64;
        ModelShape::Generic(GenericShape {
            family: "dlrm-like",
            item_lookups: vec![(d.tables, d.embedding_dim)],
            query_lookups: vec![],
            query_layers: vec![],
            item_layers: d.bottom_mlp.clone(),
            interaction_macs_per_item: (t + 1) * t / 2 * d.embedding_dim as u64,
            layers_overlap_lookups: true,
            datasets: vec![Dataset::Kaggle],
        })
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits()
    }

    /// (a) Every component but the top MLP is DLRM's to the bit, and the total is DLRM's less its top MLP.
    #[test]
    fn generic_mirrors_dlrm_without_top_mlp() {
        for preset in ["rm-small", "rm-med", "rm-large"] {
            let m = ModelShape::from_preset(preset).unwrap();
            let g = dlrm_mirror(&m);
            for side in [16, 128] {
                let h = chip(side);
                for items in [1, 100, 4096] {
                    for opts in [
                        StageOptions::default(),
                        StageOptions { hit_rate: Some(0.25), embedding_row_overhead_bytes: 8, ..Default::default() },
                    ] {
                        let d = stage(&m, &h, Dataset::Kaggle, items, 64, &opts);
                        let e = stage(&g, &h, Dataset::Kaggle, items, 64, &opts);
                        let (c, x) = (d.cycles, e.cycles);
                        assert!(d.weights_resident && e.weights_resident);
                        assert!(same(c.embedding, x.embedding), "{preset} {side} {items}");
                        assert!(same(c.mlp_bottom, x.mlp_bottom), "{preset} {side} {items}");
                        assert!(same(c.interaction, x.interaction), "{preset} {side} {items}");
                        assert!(same(c.input_pcie, x.input_pcie) && same(c.output_pcie, x.output_pcie));
                        assert!(same(c.topk, x.topk) && same(d.hit_rate, e.hit_rate));
                        assert!(x.mlp_top.abs() < 1e-12);
                        let want = d.total_cycles - c.mlp_top;
                        assert!((e.total_cycles - want).abs() <= 1e-12 * want, "{}", e.total_cycles - want);
                    }
                }
            }
        }
    }

    /// NeuMF without its prediction layers: the user's rows once per query, the tower after the gathers.
    /// With every row on chip the gathers add up to NeuMF's single gather.
    #[test]
    fn generic_mirrors_neumf_without_predict_layers() {
        let m = ModelShape::from_preset("neumf-large").unwrap();
        let ModelShape::NeuMf(n) = &m else { panic!("neumf") };
        let rows = vec![(1, n.mf_dim), (1, n.mlp_embedding_dim)];
        let g = ModelShape::Generic(GenericShape {
            family: "neumf-like",
            item_lookups: rows.clone(),
            query_lookups: rows,
            query_layers: vec![],
            item_layers: n.mlp_layers.clone(),
            interaction_macs_per_item: n.mf_dim as u64,
            layers_overlap_lookups: false,
            datasets: vec![Dataset::Movielens20m],
        });
        let h = chip(64);
        let opts = StageOptions { hit_rate: Some(1.0), ..Default::default() };
        for items in [1, 1000] {
            let d = stage(&m, &h, Dataset::Movielens20m, items, 64, &opts);
            let e = stage(&g, &h, Dataset::Movielens20m, items, 64, &opts);
            assert!((e.cycles.embedding - d.cycles.embedding).abs() <= 1e-12 * d.cycles.embedding);
            assert!(same(e.cycles.mlp_bottom, d.cycles.mlp_bottom) && same(e.cycles.interaction, d.cycles.interaction));
            let want = d.total_cycles - d.cycles.mlp_top;
            assert!((e.total_cycles - want).abs() <= 1e-12 * want);
        }
    }

    /// (b) The candidates' gather grows in proportion to the items, the total with them; the query's gather
    /// and MLP cost the same whatever the item count.
    #[test]
    fn generic_item_work_scales_query_work_does_not() {
        let h = chip(64);
        let with = ModelShape::Generic(two_tower());
        let without = ModelShape::Generic(GenericShape { query_lookups: vec![], query_layers: vec![], ..two_tower() });
        let opts = StageOptions { hit_rate: Some(0.0), ..Default::default() };
        let ds = Dataset::Movielens20m;
        let query_mlp = mlp(&h, &[(80, 256), (256, 64)], 1, true).cycles;
        let query_gather = {
            let ModelShape::Generic(g) = &with else { unreachable!() };
            embedding::generic_traffic(g, &h, 1, 0.0, 0).0
        };
        assert!(query_mlp > 0.0 && query_gather.cycles > 0.0);
        let mut last_total = 0.0;
        let mut last_bytes = 0.0;
        for items in [256, 512, 1024, 2048] {
            let a = stage(&with, &h, ds, items, 64, &opts);
            let b = stage(&without, &h, ds, items, 64, &opts);
            // Query work: a constant on the critical path and in its components.
            let extra = query_gather.cycles + query_mlp;
            assert!((a.total_cycles - b.total_cycles - extra).abs() < 1e-6, "{items}");
            assert!((a.cycles.mlp_bottom - b.cycles.mlp_bottom - query_mlp).abs() < 1e-6);
            assert!((a.cycles.embedding - b.cycles.embedding - query_gather.cycles).abs() < 1e-6);
            assert!((a.activity.dram_bytes - b.activity.dram_bytes - query_gather.dram_bytes).abs() < 1e-6);
            // Candidates' work: bytes exactly proportional to the items, cycles increasing.
            let bytes = b.activity.dram_bytes;
            if last_bytes > 0.0 {
                assert!((bytes - 2.0 * last_bytes).abs() < 1e-6, "{items}: {bytes} vs {last_bytes}");
            }
            assert!(b.total_cycles > last_total);
            // 64 MACs per item on 4096 PEs plus one fill.
            assert!((a.cycles.interaction - ((64.0 * items as f64 / 4096.0).ceil() + 64.0)).abs() < 1e-12);
            last_bytes = bytes;
            last_total = b.total_cycles;
        }
    }

    /// (c) Overlapping layers take the longer of gather and MLP; waiting layers take both.
    #[test]
    fn generic_overlap_flag_is_max_or_sum() {
        let h = chip(16);
        let ds = Dataset::Movielens20m;
        let base = GenericShape { query_lookups: vec![], query_layers: vec![], ..two_tower() };
        let waits = ModelShape::Generic(base.clone());
        let overlaps = ModelShape::Generic(GenericShape { layers_overlap_lookups: true, ..base });
        for hit in [0.0, 1.0] {
            let opts = StageOptions { hit_rate: Some(hit), ..Default::default() };
            let s = stage(&waits, &h, ds, 1024, 64, &opts);
            let o = stage(&overlaps, &h, ds, 1024, 64, &opts);
            assert_eq!(s.cycles, o.cycles);
            let c = s.cycles;
            assert!(c.embedding > 0.0 && c.mlp_bottom > 0.0);
            let rest = c.input_pcie + c.interaction + c.mlp_top + c.topk + c.output_pcie;
            assert!((s.total_cycles - (rest + c.embedding + c.mlp_bottom)).abs() < 1e-6);
            assert!((o.total_cycles - (rest + c.embedding.max(c.mlp_bottom))).abs() < 1e-6);
            assert!((s.total_cycles - o.total_cycles - c.embedding.min(c.mlp_bottom)).abs() < 1e-6);
        }
        // With query work, it precedes either form: query gather + query MLP + front.
        let q = stage(
            &ModelShape::Generic(GenericShape { layers_overlap_lookups: true, ..two_tower() }),
            &h,
            ds,
            1024,
            64,
            &StageOptions::default(),
        );
        let g = two_tower();
        let (qg, ig) = embedding::generic_traffic(&g, &h, 1024, q.hit_rate, 0);
        let query_mlp = mlp(&h, &[(80, 256), (256, 64)], 1, q.weights_resident).cycles;
        let item_mlp = q.cycles.mlp_bottom - query_mlp;
        let c = q.cycles;
        let want =
            c.input_pcie + qg.cycles + query_mlp + ig.cycles.max(item_mlp) + c.interaction + c.topk + c.output_pcie;
        assert!((q.total_cycles - want).abs() < 1e-6, "{} vs {want}", q.total_cycles);
    }

    /// (d) on the stage: row overhead adds `lookups × items × overhead` bytes (all on chip at hit rate 1);
    /// with no overhead the options change nothing.
    #[test]
    fn row_overhead_adds_lookup_bytes_to_the_stage() {
        let h = chip(32);
        let m = ModelShape::from_preset("rm-small").unwrap();
        let on_chip = StageOptions { hit_rate: Some(1.0), ..Default::default() };
        let a = stage(&m, &h, Dataset::Kaggle, 1000, 64, &on_chip);
        let b = stage(&m, &h, Dataset::Kaggle, 1000, 64, &StageOptions { embedding_row_overhead_bytes: 8, ..on_chip });
        assert!((b.activity.sram_bytes - a.activity.sram_bytes - 26.0 * 1000.0 * 8.0).abs() < 1e-6);
        assert!(b.cycles.embedding > a.cycles.embedding);
        let g = ModelShape::Generic(two_tower());
        let a = stage(&g, &h, Dataset::Movielens20m, 1000, 64, &on_chip);
        let b = stage(
            &g,
            &h,
            Dataset::Movielens20m,
            1000,
            64,
            &StageOptions { embedding_row_overhead_bytes: 8, ..on_chip },
        );
        // 4 rows per candidate, 21 once for the query.
        assert!((b.activity.sram_bytes - a.activity.sram_bytes - (4.0 * 1000.0 + 21.0) * 8.0).abs() < 1e-6);
        let zero = StageOptions { embedding_row_overhead_bytes: 0, ..StageOptions::default() };
        assert_eq!(zero, StageOptions::default());
        assert_eq!(
            stage(&m, &h, Dataset::Kaggle, 1000, 64, &zero),
            stage(&m, &h, Dataset::Kaggle, 1000, 64, &StageOptions::default())
        );
    }

    #[test]
    fn generic_weights_count_for_residency() {
        let g = ModelShape::Generic(two_tower());
        let h = chip(64);
        assert_eq!(fc_layers(&g), vec![(80, 256), (256, 64), (112, 256), (256, 64)]);
        let bytes = (80.0 * 256.0 + 256.0 * 64.0 + 112.0 * 256.0 + 256.0 * 64.0) * 2.0;
        assert!((weight_bytes(&g, &h) - bytes).abs() < 1e-9);
        let small = AccelConfig { weight_sram_bytes: bytes as u64 - 1, ..h.clone() };
        let d = stage(&g, &small, Dataset::Movielens20m, 100, 10, &StageOptions::default());
        assert!(!d.weights_resident);
        assert!(d.activity.dram_bytes >= bytes);
    }
}
