//! Capacity under an SLA: the largest offered load whose latency percentile stays within the target.
//!
//! Bisection over the offered load (queries/s) between a light load and the saturation load of the busiest
//! stage (ρ = 1). A load *meets* the SLA when the run is not saturated and the upper bound of the percentile's
//! confidence interval is ≤ the target (the point estimate when too few queries give no interval), so the
//! answer is conservative at the run's confidence level. Every evaluation uses the same seed (common random
//! numbers): arrival gaps are the same draws rescaled, which keeps the percentile monotone in the load for
//! Poisson and trace arrivals and makes the bisection well behaved. Capacity curves repeat the search per
//! target. Each step asks an SLA probe ([`super::probe`]), whose verdict is a full simulation's;
//! [`max_qps_under_sla_by`] runs the same search on full simulations (the reference) or on the simulator as
//! first written ([`StepVerdict`]). Units: queries/s and ms.

use super::{saturation_qps, simulate, PipelineModel, SimError, SimSettings, SlaTarget};
use serde::Serialize;

/// Search settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct CapacityOptions {
    /// Stop when the bracket is narrower than this fraction of its upper end.
    pub relative_tolerance: f64,
    /// Most bisection steps.
    pub max_steps: u32,
    /// Light load checked first, as a fraction of the saturation load.
    pub light_load_fraction: f64,
    /// Upper end used when no stage takes time (saturation load infinite), queries/s.
    pub max_qps: f64,
}

impl Default for CapacityOptions {
    fn default() -> Self {
        CapacityOptions { relative_tolerance: 1e-3, max_steps: 40, light_load_fraction: 1e-3, max_qps: 1e9 }
    }
}

/// Result of a capacity search.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CapacityReport {
    /// The SLA searched for.
    pub sla: SlaTarget,
    /// Largest offered load found to meet the SLA, queries/s (0 when even a light load misses it).
    pub max_qps: f64,
    /// Smallest offered load found to miss it, queries/s (the saturation load if none was found below it).
    pub min_failing_qps: f64,
    /// Offered load at which the busiest stage reaches ρ = 1, queries/s.
    pub saturation_qps: f64,
    /// The SLA percentile at `max_qps`, ms (`None` when no load meets the SLA).
    pub percentile_at_max_ms: Option<f64>,
    /// Simulations run.
    pub evaluations: u32,
}

/// How each step of a capacity search decides whether a load meets the SLA. All give the same report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepVerdict {
    /// An SLA probe ([`super::probe`]): the default.
    Probe,
    /// A full simulation ([`simulate`]): the reference the probe is checked against.
    Simulation,
    /// The simulator as first written ([`super::simulate_baseline`]): the baseline `bench explore` measures
    /// against.
    Baseline,
}

impl StepVerdict {
    /// Whether `model` at its load meets the settings' SLA, and the SLA percentile when it was computed.
    fn decide(self, model: &PipelineModel, settings: &SimSettings) -> Result<(bool, Option<f64>), SimError> {
        let simulated = match self {
            StepVerdict::Probe => {
                let p = super::probe::probe_sla(model, settings)?;
                return Ok((p.met, p.value_ms));
            }
            StepVerdict::Simulation => simulate(model, settings)?,
            StepVerdict::Baseline => super::simulate_baseline(model, settings)?,
        };
        let s = simulated.sla.expect("settings carry the SLA");
        Ok((s.met, Some(s.value_ms)))
    }
}

/// The largest offered load (queries/s) at which `sla` is met; `settings` give the run length and seed.
pub fn max_qps_under_sla(
    model: &PipelineModel,
    settings: &SimSettings,
    sla: SlaTarget,
    opts: &CapacityOptions,
) -> Result<CapacityReport, SimError> {
    max_qps_under_sla_by(model, settings, sla, opts, StepVerdict::Probe)
}

/// [`max_qps_under_sla`] with each step decided as `how` says.
pub fn max_qps_under_sla_by(
    model: &PipelineModel,
    settings: &SimSettings,
    sla: SlaTarget,
    opts: &CapacityOptions,
    how: StepVerdict,
) -> Result<CapacityReport, SimError> {
    let sat = saturation_qps(model)?;
    let settings = SimSettings { sla: Some(sla), ..settings.clone() };
    let meets =
        |qps: f64| how.decide(&PipelineModel { arrival: model.arrival.with_qps(qps), ..model.clone() }, &settings);
    let mut hi = if sat.is_finite() { sat } else { opts.max_qps };
    let mut lo = hi * opts.light_load_fraction.clamp(1e-9, 0.5);
    let mut evaluations = 1;
    let (ok, v) = meets(lo)?;
    if !ok {
        return Ok(CapacityReport {
            sla,
            max_qps: 0.0,
            min_failing_qps: lo,
            saturation_qps: sat,
            percentile_at_max_ms: None,
            evaluations,
        });
    }
    let mut best_v = v;
    for _ in 0..opts.max_steps {
        if (hi - lo) <= opts.relative_tolerance * hi {
            break;
        }
        let mid = 0.5 * (lo + hi);
        evaluations += 1;
        let (ok, v) = meets(mid)?;
        if ok {
            lo = mid;
            best_v = v;
        } else {
            hi = mid;
        }
    }
    Ok(CapacityReport {
        sla,
        max_qps: lo,
        min_failing_qps: hi,
        saturation_qps: sat,
        percentile_at_max_ms: best_v,
        evaluations,
    })
}

/// Capacity for each SLA target (same percentile), in the order given.
pub fn capacity_curve(
    model: &PipelineModel,
    settings: &SimSettings,
    percentile: f64,
    targets_ms: &[f64],
    opts: &CapacityOptions,
) -> Result<Vec<CapacityReport>, SimError> {
    targets_ms
        .iter()
        .map(|&target_ms| max_qps_under_sla(model, settings, SlaTarget { percentile, target_ms }, opts))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{ArrivalProcess, ServiceDist, StageModel};

    fn md1(service_ms: f64) -> PipelineModel {
        PipelineModel {
            arrival: ArrivalProcess::Poisson { qps: 100.0 },
            stages: vec![StageModel {
                name: "s".into(),
                servers: 1,
                service: ServiceDist::Deterministic { ms: service_ms },
                sort_ms: 0.0,
                overhead_ms: 0.0,
            }],
            groups: vec![],
        }
    }

    #[test]
    fn capacity_brackets_the_sla_crossing() {
        let m = md1(1.0);
        let s = SimSettings::new(20_000, 11);
        let sla = SlaTarget { percentile: 95.0, target_ms: 5.0 };
        let c = max_qps_under_sla(&m, &s, sla, &CapacityOptions::default()).unwrap();
        assert!(c.max_qps > 0.0 && c.max_qps < c.saturation_qps && c.max_qps <= c.min_failing_qps);
        assert!((c.saturation_qps - 1000.0).abs() < 1e-9);
        assert!(c.percentile_at_max_ms.unwrap() <= 5.0);
        // Just above the answer the SLA is missed.
        let above = simulate(
            &PipelineModel { arrival: ArrivalProcess::Poisson { qps: c.min_failing_qps }, ..m.clone() },
            &SimSettings { sla: Some(sla), ..s.clone() },
        )
        .unwrap();
        assert!(!above.sla.unwrap().met);
    }

    #[test]
    fn unreachable_sla_gives_zero_and_curve_is_monotone() {
        let m = md1(2.0);
        let s = SimSettings::new(5000, 2);
        let c = max_qps_under_sla(&m, &s, SlaTarget { percentile: 99.0, target_ms: 1.0 }, &CapacityOptions::default())
            .unwrap();
        assert!(c.max_qps.abs() < 1e-12);
        assert!(c.percentile_at_max_ms.is_none());
        let curve = capacity_curve(&m, &s, 95.0, &[3.0, 5.0, 10.0, 50.0], &CapacityOptions::default()).unwrap();
        assert!(curve.windows(2).all(|w| w[0].max_qps <= w[1].max_qps), "{curve:?}");
        assert!(curve.iter().all(|c| c.max_qps < 500.0));
    }

    #[test]
    fn probed_search_equals_the_simulated_one() {
        for (service_ms, servers, target_ms) in [(1.0, 1, 5.0), (0.7, 4, 3.0), (2.0, 1, 2.5), (0.3, 12, 1.0)] {
            let mut m = md1(service_ms);
            m.stages[0].servers = servers;
            m.stages.push(StageModel {
                name: "t".into(),
                servers: 2,
                service: ServiceDist::Exponential { mean_ms: 0.4 },
                sort_ms: 0.0,
                overhead_ms: 0.0,
            });
            let mut s = SimSettings::new(4000, 5);
            s.warmup_queries = 100;
            let sla = SlaTarget { percentile: 95.0, target_ms };
            let opts = CapacityOptions { relative_tolerance: 0.01, ..Default::default() };
            let a = max_qps_under_sla(&m, &s, sla, &opts).unwrap();
            let b = max_qps_under_sla_by(&m, &s, sla, &opts, StepVerdict::Simulation).unwrap();
            assert_eq!(a, b);
            assert_eq!(max_qps_under_sla_by(&m, &s, sla, &opts, StepVerdict::Baseline).unwrap(), b);
        }
    }
}
