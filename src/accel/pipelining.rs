//! Sub-batch pipelining of the stages of one query on one chip (RPAccel's "processes queries in sub-batches
//! to pipeline recommendation stages", in the RecPipe paper's abstract; absent from the original cost model).
//!
//! Each stage runs on its own sub-accelerator of the chip. A query's `n₀` candidates are cut into `m`
//! sub-batches; stage `i` processes its `nᵢ` items as `m` sub-batches of `ceil(nᵢ/m)`, so stage `i+1` starts
//! on the first sub-batch that survives stage `i`'s top-k filter instead of waiting for the whole query.
//! Assumption: survivors are spread evenly over the sub-batches (each sub-batch contributes `nᵢ₊₁/m`).
//! With `tᵢ` the cycle time of one sub-batch on stage `i` (refined model, no PCIe), the finish time of
//! sub-batch `j` on stage `i` is `F[i][j] = max(F[i−1][j], F[i][j−1]) + tᵢ`, which makes the fill (the first
//! sub-batch crossing all stages), the steady state (the slowest stage) and the drain explicit; the query
//! ends at `F[k−1][m−1]`. The host transfers are paid once: the candidates in before the first stage and the
//! top-n out after the last. Stages may run at different clocks, so everything is in seconds here.

use super::hardware::AccelConfig;
use super::model_shape::{Dataset, ModelShape};
use super::pcie;
use super::rpaccel::{self, StageOptions};

/// One stage of an on-chip pipeline.
#[derive(Debug, Clone, Copy)]
pub struct PipelineStage<'a> {
    /// Model of the stage.
    pub model: &'a ModelShape,
    /// The sub-accelerator it runs on.
    pub hw: &'a AccelConfig,
    /// Items the stage scores per query.
    pub items: u32,
    /// Items it forwards (the next stage's items; for the last stage, the query's result size).
    pub top_n: u32,
}

/// Latency of one query through an on-chip pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineLatency {
    /// With sub-batch pipelining, s.
    pub latency_s: f64,
    /// Stage after stage, each processing its whole item set (m = 1), same PCIe accounting, s.
    pub serial_latency_s: f64,
    /// Time of one sub-batch on each stage, s.
    pub sub_batch_s: Vec<f64>,
    /// Host → chip and chip → host transfer time, s.
    pub pcie_s: f64,
}

/// Finish time of the last sub-batch on the last stage, for per-sub-batch stage times `t` and `m`
/// sub-batches (the recurrence of the module docs).
pub fn pipelined_time(t: &[f64], m: u32) -> f64 {
    let mut finish = vec![0.0_f64; t.len()];
    for _ in 0..m {
        let mut prev_stage = 0.0_f64;
        for (i, &ti) in t.iter().enumerate() {
            let start = prev_stage.max(finish[i]);
            finish[i] = start + ti;
            prev_stage = finish[i];
        }
    }
    finish.last().copied().unwrap_or(0.0)
}

/// Latency of one query through `stages` with `sub_batches` sub-batches (≥ 1).
pub fn pipeline_latency(
    stages: &[PipelineStage<'_>],
    dataset: Dataset,
    sub_batches: u32,
    hit_rates: Option<&[f64]>,
) -> PipelineLatency {
    let m = sub_batches.max(1);
    let opts = |i: usize| StageOptions {
        hit_rate: hit_rates.and_then(|h| h.get(i).copied()),
        input_pcie: false,
        output_pcie: false,
        ..StageOptions::default()
    };
    let stage_s = |i: usize, s: &PipelineStage<'_>, items: u32| {
        let d = rpaccel::stage(s.model, s.hw, dataset, items, s.top_n, &opts(i));
        d.total_cycles / s.hw.clock_hz()
    };
    let sub: Vec<f64> = stages.iter().enumerate().map(|(i, s)| stage_s(i, s, s.items.div_ceil(m))).collect();
    let whole: Vec<f64> = stages.iter().enumerate().map(|(i, s)| stage_s(i, s, s.items)).collect();
    let pcie_s = match (stages.first(), stages.last()) {
        (Some(first), Some(last)) => {
            pcie::transfer_cycles(first.hw, pcie::input_bytes(dataset, first.items)) / first.hw.clock_hz()
                + pcie::transfer_cycles(last.hw, pcie::output_bytes(last.hw, last.top_n.min(last.items)))
                    / last.hw.clock_hz()
        }
        _ => 0.0,
    };
    PipelineLatency {
        latency_s: pcie_s + pipelined_time(&sub, m),
        serial_latency_s: pcie_s + whole.iter().sum::<f64>(),
        sub_batch_s: sub,
        pcie_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurrence_by_hand() {
        // Two stages of 2 and 1 per sub-batch, 3 sub-batches: stage 0 ends at 2, 4, 6; stage 1 at 3, 5, 7.
        assert!((pipelined_time(&[2.0, 1.0], 3) - 7.0).abs() < 1e-12);
        // Fill + (m − 1) × bottleneck + drain for equal stages: 3 stages of 1, 4 sub-batches → 6.
        assert!((pipelined_time(&[1.0, 1.0, 1.0], 4) - 6.0).abs() < 1e-12);
        assert!((pipelined_time(&[5.0], 1) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn pipelining_helps_two_stages() {
        let hw = AccelConfig::from_yaml_str(
            "array_size: 64\nclock_mhz: 125\ndram_bandwidth_gib_s: 8\ndram_latency_cycles: 100\n\
             weight_sram_bytes: 1048576\nactivation_sram_bytes: 1048576\nembedding_cache_bytes: 4194304\n\
             topk_units: 256\n",
            "t.yaml",
        )
        .unwrap();
        let small = ModelShape::from_preset("rm-small").unwrap();
        let large = ModelShape::from_preset("rm-large").unwrap();
        let stages = [
            PipelineStage { model: &small, hw: &hw, items: 4096, top_n: 512 },
            PipelineStage { model: &large, hw: &hw, items: 512, top_n: 64 },
        ];
        let one = pipeline_latency(&stages, Dataset::Kaggle, 1, None);
        assert!((one.latency_s - one.serial_latency_s).abs() < 1e-15);
        // Per-sub-batch fixed costs (array fills, DRAM latency) make very small sub-batches lose; a few
        // sub-batches win.
        let lat: Vec<f64> =
            [2, 4, 8].iter().map(|&m| pipeline_latency(&stages, Dataset::Kaggle, m, None).latency_s).collect();
        assert!(lat.iter().copied().fold(f64::INFINITY, f64::min) < one.latency_s, "{lat:?} {}", one.latency_s);
        let four = pipeline_latency(&stages, Dataset::Kaggle, 4, None);
        // Never faster than the fill: one sub-batch through every stage.
        assert!(four.latency_s >= four.pcie_s + four.sub_batch_s.iter().sum::<f64>() - 1e-15);
    }
}
