//! The reference's accelerator serving experiments (RecPipe 2021, Figure 12/13), rebuilt on the simulator.
//!
//! Service times are the exact per-query, per-stage RPAccel latencies of the reference cost model
//! (`Accelerator.run_query`, ms, with the Python-2 division of the logged runs); engines per stage follow the
//! reference's sweep rule `floor(S / stages)` sub-accelerators of size 1/S (`RecPipeMain.py`). Arrivals are
//! RecPipe's integer-ms Poisson gaps (`legacy-ms`, its load generator) at the Figure-12 mean gaps. The emulation
//! overhead of the original real-time runs (≈ 0.34 ms for one stage plus ≈ 0.25 ms per extra stage: the logged
//! light-load means minus the service sums) can be added as a per-stage overhead to compare with the logged
//! means (`logs/example_logs/figure12_kaggle*.out`).
//!
//! These definitions feed the Figure-12-style benchmark (`recpipe-dse bench sim`), the tests that check
//! saturation points against the logs, and the comparison table in `src/sim/README.md`.

use super::{ArrivalProcess, PipelineModel, ServiceDist, SimError, SimReport, SimSettings, StageModel};
use serde::Serialize;

/// Mean inter-arrival gaps (ms) of the reference's accelerator sweeps (`configs/recpipe_configs/kaggle_accel_*`).
pub const FIG12_GAPS_MS: [f64; 11] = [0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 10.0];

/// Sub-accelerator sizes S (1/S of the full array) the reference sweeps for multi-stage pipelines.
pub const MULTI_STAGE_SIZES: [u32; 3] = [4, 16, 64];

/// Emulation overhead of the reference's first stage, ms (logged light-load mean minus the service time).
pub const OVERHEAD_FIRST_STAGE_MS: f64 = 0.34;
/// Emulation overhead of each further stage, ms (from the logged 2- and 3-stage light-load means).
pub const OVERHEAD_EXTRA_STAGE_MS: f64 = 0.25;

/// RecPipe's Kaggle DLRM sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Rm {
    /// RM-small.
    Small,
    /// RM-med.
    Med,
    /// RM-large.
    Large,
}

/// RPAccel per-query service time (ms) of model `rm` on `items` items on a 1/`size` sub-accelerator
/// (`size` ∈ {1, 4, 16, 64}; `None` otherwise), computed by the original cost model
/// ([`crate::accel::reference2021`], Python-2 division and `top_n = 0` as in the logged runs) on the
/// `accel/recpipe-s{size}.yaml` presets, which carry RecPipe's `hardconf_{size}.json` numbers. These are the
/// values the original Python-2 runs give (e.g. RM-large@4096 on S=1: 2.090744 ms, as logged).
pub fn rpaccel_service_ms(rm: Rm, items: u32, size: u32) -> Option<f64> {
    use crate::accel::{evaluate_stage, AccelConfig, Dataset, Division, Mode, ModelShape, StageRequest};
    let preset = match size {
        1 => include_str!("../../accel/recpipe-s1.yaml"),
        4 => include_str!("../../accel/recpipe-s4.yaml"),
        16 => include_str!("../../accel/recpipe-s16.yaml"),
        64 => include_str!("../../accel/recpipe-s64.yaml"),
        _ => return None,
    };
    let hw = AccelConfig::from_yaml_str(preset, "accel preset").expect("shipped presets are valid");
    let name = match rm {
        Rm::Small => "rm-small",
        Rm::Med => "rm-med",
        Rm::Large => "rm-large",
    };
    let model = ModelShape::from_preset(name).expect("RM presets exist");
    let mut req = StageRequest::new(Dataset::Kaggle, items, 0, Mode::Recpipe2021);
    req.division = Division::Python2;
    Some(evaluate_stage(&model, &hw, &req).latency_s * 1e3)
}

/// One accelerator pipeline configuration of the reference's sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AccelPipeline {
    /// Label, e.g. `S/L [4,16]`.
    pub label: String,
    /// Per stage: model, items, sub-accelerator size S.
    pub stages: Vec<(Rm, u32, u32)>,
    /// Engines per stage: an explicit count, or `floor(S / stages)` for the reference's sweeps.
    pub engines: Vec<u32>,
}

impl AccelPipeline {
    /// A configuration with the reference's engine rule `floor(S / stages)`.
    pub fn swept(label: &str, stages: Vec<(Rm, u32, u32)>) -> AccelPipeline {
        let k = stages.len() as u32;
        let engines = stages.iter().map(|&(_, _, s)| s / k).collect();
        AccelPipeline { label: label.to_string(), stages, engines }
    }

    /// The simulator model at mean gap `gap_ms` (legacy-ms arrivals), with or without the emulation overhead.
    pub fn model(&self, gap_ms: f64, with_overhead: bool) -> Result<PipelineModel, SimError> {
        let mut stages = Vec::new();
        for (i, (&(rm, items, size), &engines)) in self.stages.iter().zip(&self.engines).enumerate() {
            let ms = rpaccel_service_ms(rm, items, size)
                .ok_or_else(|| SimError::Invalid(format!("no RPAccel service time for {rm:?}@{items} on S={size}")))?;
            let overhead_ms = match (with_overhead, i) {
                (false, _) => 0.0,
                (true, 0) => OVERHEAD_FIRST_STAGE_MS,
                (true, _) => OVERHEAD_EXTRA_STAGE_MS,
            };
            stages.push(StageModel {
                name: format!("{rm:?}@{items}/S{size}").to_lowercase(),
                servers: engines,
                service: ServiceDist::Deterministic { ms },
                sort_ms: 0.0,
                overhead_ms,
            });
        }
        Ok(PipelineModel { arrival: ArrivalProcess::LegacyMs { mean_gap_ms: gap_ms }, stages, groups: vec![] })
    }
}

/// The 37 configurations of the reference's Figure-12 accelerator sweep: RM-large@4096 on one full
/// accelerator (1 stage), RM-small@4096 → RM-large@512 on `{4,16,64}²` (9), and RM-small@4096 → RM-med@512 →
/// RM-large@128 on `{4,16,64}³` (27).
pub fn figure12_pipelines() -> Vec<AccelPipeline> {
    let mut out = vec![AccelPipeline::swept("L [1]", vec![(Rm::Large, 4096, 1)])];
    for &a in &MULTI_STAGE_SIZES {
        for &b in &MULTI_STAGE_SIZES {
            out.push(AccelPipeline::swept(&format!("S/L [{a},{b}]"), vec![(Rm::Small, 4096, a), (Rm::Large, 512, b)]));
        }
    }
    for &a in &MULTI_STAGE_SIZES {
        for &b in &MULTI_STAGE_SIZES {
            for &c in &MULTI_STAGE_SIZES {
                out.push(AccelPipeline::swept(
                    &format!("S/M/L [{a},{b},{c}]"),
                    vec![(Rm::Small, 4096, a), (Rm::Med, 512, b), (Rm::Large, 128, c)],
                ));
            }
        }
    }
    out
}

/// One point of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SweepPoint {
    /// Configuration label.
    pub label: String,
    /// Mean gap, ms.
    pub gap_ms: f64,
    /// The run's report.
    pub report: SimReport,
}

/// Simulate every Figure-12 configuration at every gap of [`FIG12_GAPS_MS`] with `queries` queries each.
pub fn figure12_sweep(queries: u64, seed: u64, with_overhead: bool) -> Result<Vec<SweepPoint>, SimError> {
    let settings = SimSettings::new(queries, seed);
    let mut out = Vec::new();
    for p in figure12_pipelines() {
        for &gap_ms in &FIG12_GAPS_MS {
            let report = super::simulate(&p.model(gap_ms, with_overhead)?, &settings)?;
            out.push(SweepPoint { label: p.label.clone(), gap_ms, report });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    /// The original cost model's values, ms, rounded to 6 decimals; most of them appear in RecPipe's published logs.
    #[test]
    fn service_times_match_the_logged_table() {
        let table: [(Rm, u32, [f64; 4]); 5] = [
            (Rm::Small, 4096, [0.446614, 0.557257, 1.163173, 8.194734]),
            (Rm::Med, 512, [0.201712, 0.262544, 0.558335, 4.725967]),
            (Rm::Large, 128, [0.218130, 0.425018, 1.118079, 10.896355]),
            (Rm::Large, 512, [0.399351, 0.837132, 2.333962, 18.947018]),
            (Rm::Large, 4096, [2.090744, 4.683535, 13.682197, 94.086531]),
        ];
        for (rm, items, row) in table {
            for (size, expected) in [1, 4, 16, 64].into_iter().zip(row) {
                let got = rpaccel_service_ms(rm, items, size).expect("known size");
                assert!((got - expected).abs() <= 5e-7, "{rm:?}@{items} S={size}: {got} vs {expected}");
            }
        }
        assert_eq!(rpaccel_service_ms(Rm::Small, 4096, 8), None);
    }

    use super::*;

    #[test]
    fn sweep_shape_matches_the_reference() {
        let p = figure12_pipelines();
        assert_eq!(p.len(), 37);
        assert_eq!(p[0].engines, vec![1]);
        assert_eq!(p[1].engines, vec![2, 2]);
        // [16,4,16] → [5,1,5] as in the log.
        let q = p.iter().find(|x| x.label == "S/M/L [16,4,16]").unwrap();
        assert_eq!(q.engines, vec![5, 1, 5]);
        // Logged multi-stage `Infer mean time` sums: [4,4] = 1.394390, [4,4,4] = 1.244819.
        let sum =
            |x: &AccelPipeline| -> f64 { x.stages.iter().map(|&(r, n, s)| rpaccel_service_ms(r, n, s).unwrap()).sum() };
        assert!((sum(&p[1]) - 1.394390).abs() < 2e-6);
        let q = p.iter().find(|x| x.label == "S/M/L [4,4,4]").unwrap();
        assert!((sum(q) - 1.244819).abs() < 2e-6);
    }
}
