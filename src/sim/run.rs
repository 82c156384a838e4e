//! One simulation and its statistics: [`simulate`] runs the engine ([`super::tandem`]) on the planned
//! centres — repeatedly, doubling the length, under a precision target — and assembles the [`SimReport`]:
//! mean and exact numpy-style percentiles of end-to-end latency over the measured queries, batch-means
//! confidence intervals ([`super::stats`]; Law & Kelton, *Simulation Modeling and Analysis*, §9.5.3),
//! throughput, per-stage waiting, service and utilisation, and the saturation verdict.
//!
//! Units: latencies and waits in ms, throughput and offered load in queries/s; the engine's integer
//! nanoseconds are converted once, here.

use super::model::{PipelineModel, PrecisionReport, SimError, SimReport, SimSettings, SlaReport, StageReport};
use super::plan::{offered_loads, plan, validate_settings, CenterPlan};
use super::tandem::{self, Center, EngineConfig};
use super::{stats, Interval};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// How a run's statistics are computed: both give the same report, bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Statistics {
    /// Shared Poisson unit gaps, whole-sample percentiles by selection, a batch's read by index, the SLA
    /// percentile reused when it is p50, p95 or p99.
    Current,
    /// As the simulator was first written ([`simulate_baseline`]).
    Baseline,
}

/// Simulate `model` under `settings`. Pure: no I/O, deterministic for a given seed.
pub fn simulate(model: &PipelineModel, settings: &SimSettings) -> Result<SimReport, SimError> {
    simulate_with(model, settings, Statistics::Current)
}

/// [`simulate`] computed as the simulator was first written, before its exact speed-ups: a fresh arrival
/// generator per run (Poisson gaps drawn again, not shared), every percentile (whole sample and per batch) by
/// a binary search over the value range across the sorted batches ([`stats::percentile_by_value_search`]),
/// and the SLA percentile computed again. The same report bit for bit (a test checks); kept as the baseline
/// that `bench explore` measures the evaluation path against.
pub fn simulate_baseline(model: &PipelineModel, settings: &SimSettings) -> Result<SimReport, SimError> {
    simulate_with(model, settings, Statistics::Baseline)
}

fn simulate_with(model: &PipelineModel, settings: &SimSettings, how: Statistics) -> Result<SimReport, SimError> {
    let plans = plan(model)?;
    validate_settings(model, settings)?;
    let Some(prec) = settings.precision else {
        return Ok(run_once(model, &plans, settings, settings.queries, how));
    };
    let cap = prec.max_queries.max(settings.queries);
    let mut n = settings.queries;
    let mut runs = 0;
    let mut total_stages = 0;
    loop {
        let mut report = run_once(model, &plans, settings, n, how);
        runs += 1;
        total_stages += report.query_stages;
        let tracked = settings.sla.map_or(95.0, |s| s.percentile);
        let rel = |v: f64, ci: Option<Interval>| ci.map(|c| if v > 0.0 { c.half_width() / v } else { 0.0 });
        let achieved = match (
            rel(report.mean_ms, report.mean_ci_ms),
            report.percentile_ms(tracked).and_then(|(v, ci)| rel(v, ci)),
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        let reached = achieved.is_some_and(|a| a <= prec.relative_half_width);
        if reached || n >= cap || report.saturated {
            report.precision = Some(PrecisionReport {
                relative_half_width: prec.relative_half_width,
                achieved_relative_half_width: achieved,
                reached,
                runs,
            });
            report.query_stages = total_stages;
            return Ok(report);
        }
        n = (n * 2).min(cap);
    }
}

/// Mini-batch size exponent: about 8–16 mini-batches per batch.
fn mini_shift(measured: u64, batches: u32) -> u32 {
    let per = measured / (8 * u64::from(batches)).max(1);
    if per <= 1 {
        0
    } else {
        63 - per.leading_zeros()
    }
}

/// The engine's settings for a run of `queries` queries under `settings`.
pub(super) fn engine_config(settings: &SimSettings, queries: u64) -> EngineConfig {
    EngineConfig {
        warmup: settings.warmup_queries,
        mini_shift: mini_shift(queries - settings.warmup_queries, settings.batches),
        max_queue_len: settings.max_queue_len,
        seed: settings.seed,
    }
}

fn run_once(
    model: &PipelineModel,
    plans: &[CenterPlan],
    settings: &SimSettings,
    queries: u64,
    how: Statistics,
) -> SimReport {
    let arrivals = match how {
        Statistics::Current => model.arrival.generate_seeded(queries as usize, settings.seed),
        Statistics::Baseline => {
            model.arrival.generate(queries as usize, &mut Xoshiro256PlusPlus::seed_from_u64(settings.seed))
        }
    };
    let cfg = engine_config(settings, queries);
    let shift = cfg.mini_shift;
    let centers: Vec<Center> = plans.iter().map(|p| p.center.clone()).collect();
    let mut out = tandem::run(&centers, &arrivals, &cfg);
    let first_arrival_ns = arrivals.first().copied().unwrap_or(0);
    drop(arrivals);

    // Batches: contiguous groups of mini-batches.
    let minis = out.centers[0].count.len();
    let nb = (settings.batches as usize).min(minis).max(1);
    let bounds: Vec<(usize, usize)> = (0..nb).map(|j| (j * minis / nb, (j + 1) * minis / nb)).collect();
    // Sort each batch's slice of the latency array in place (not-completed entries, u64::MAX, sort last).
    let mut latencies = std::mem::take(&mut out.latencies_ns);
    let mut scratch = Vec::new();
    let mut cuts = Vec::with_capacity(nb);
    for &(a, b) in &bounds {
        let lo = (a << shift).min(latencies.len());
        let hi = (b << shift).min(latencies.len());
        stats::sort_u64_with(&mut latencies[lo..hi], &mut scratch);
        let valid = latencies[lo..hi].partition_point(|&l| l != u64::MAX);
        cuts.push((lo, lo + valid));
    }
    let runs: Vec<&[u64]> = cuts.iter().map(|&(lo, hi)| &latencies[lo..hi]).filter(|r| !r.is_empty()).collect();
    let refs = &runs;
    let measured: u64 = runs.iter().map(|r| r.len() as u64).sum();
    let to_ms = |ns: f64| ns / 1e6;
    let sum_ns: f64 = runs.iter().flat_map(|r| r.iter()).map(|&x| x as f64).sum();
    let mean_ms = if measured > 0 { to_ms(sum_ns / measured as f64) } else { f64::NAN };
    let batch_means: Vec<f64> =
        runs.iter().map(|r| to_ms(r.iter().map(|&x| x as f64).sum::<f64>() / r.len() as f64)).collect();
    let conf = settings.confidence;
    // A run stopped by the queue cap is not a sample of a steady state: no intervals.
    let ci_ok = runs.len() >= 2 && out.truncated.is_none();
    let mean_ci_ms = if ci_ok { stats::batch_interval(mean_ms, &batch_means, conf) } else { None };
    // The union of the batches, for percentiles by selection (reordered by each).
    let mut union: Vec<u64> = if how == Statistics::Current { runs.concat() } else { Vec::new() };
    let mut pct = |p: f64| -> (f64, Option<Interval>) {
        let whole = match how {
            Statistics::Current => stats::percentile_unsorted(&mut union, p),
            Statistics::Baseline => stats::percentile_by_value_search(refs, p),
        };
        let v = whole.map_or(f64::NAN, to_ms);
        let of_batch = |r: &&[u64]| match how {
            Statistics::Current => stats::percentile_of_runs(&[r], p),
            Statistics::Baseline => stats::percentile_by_value_search(&[r], p),
        };
        let ci = if ci_ok {
            let per: Vec<f64> = refs.iter().filter_map(of_batch).map(to_ms).collect();
            stats::batch_interval(v, &per, conf)
        } else {
            None
        };
        (v, ci)
    };
    let (p50_ms, p50_ci_ms) = pct(50.0);
    let (p95_ms, p95_ci_ms) = pct(95.0);
    let (p99_ms, p99_ci_ms) = pct(99.0);
    let max_ms = runs.iter().filter_map(|r| r.last()).copied().max().map_or(f64::NAN, |x| to_ms(x as f64));

    // Saturation.
    let qps = model.arrival.offered_qps();
    let rho = offered_loads(plans, qps);
    let mut reasons = Vec::new();
    for (p, r) in plans.iter().zip(&rho) {
        if *r >= 1.0 {
            let names: Vec<&str> = model.stages[p.stages.clone()].iter().map(|s| s.name.as_str()).collect();
            reasons.push(format!("stage {} ρ = {:.3} ≥ 1", names.join("+"), r));
        }
    }
    if let (Some(t), Some(k)) = (&out.truncated, out.truncated_center) {
        let names: Vec<&str> = model.stages[plans[k].stages.clone()].iter().map(|s| s.name.as_str()).collect();
        reasons.push(format!("stage {}: {t}", names.join("+")));
    }
    let saturated = !reasons.is_empty();

    let sla = settings.sla.map(|s| {
        // The SLA's percentile is usually one of those above: reused, not computed again.
        let known = [(50.0f64, (p50_ms, p50_ci_ms)), (95.0, (p95_ms, p95_ci_ms)), (99.0, (p99_ms, p99_ci_ms))];
        let (value_ms, ci_ms) = known
            .iter()
            .find(|(q, _)| how == Statistics::Current && q.to_bits() == s.percentile.to_bits())
            .map_or_else(|| pct(s.percentile), |(_, v)| *v);
        let bound = ci_ms.map_or(value_ms, |c| c.hi);
        SlaReport {
            percentile: s.percentile,
            target_ms: s.target_ms,
            value_ms,
            ci_ms,
            met: !saturated && bound <= s.target_ms,
        }
    });

    // Per stage.
    let span_end = out.centers.iter().map(|c| c.last_departure_ns).max().unwrap_or(0);
    let span_ns = span_end.saturating_sub(first_arrival_ns).max(1) as f64;
    let mut stages = Vec::with_capacity(model.stages.len());
    for (ci, (p, c)) in plans.iter().zip(&out.centers).enumerate() {
        let count: u64 = c.count.iter().sum();
        let util = c.busy_ns / (p.center.servers as f64 * span_ns);
        let wait_mean_ms = if count > 0 { to_ms(c.wait_sum_ns.iter().sum::<f64>() / count as f64) } else { f64::NAN };
        let wait_ci = if ci_ok {
            let per: Vec<f64> = bounds
                .iter()
                .filter_map(|&(a, b)| {
                    let n: u64 = c.count[a..b].iter().sum();
                    (n > 0).then(|| to_ms(c.wait_sum_ns[a..b].iter().sum::<f64>() / n as f64))
                })
                .collect();
            stats::batch_interval(wait_mean_ms, &per, conf)
        } else {
            None
        };
        let grouped = p.stages.len() > 1;
        for (j, si) in p.stages.clone().enumerate() {
            let s = &model.stages[si];
            let first = j == 0;
            stages.push(StageReport {
                name: s.name.clone(),
                servers: s.servers,
                group: grouped.then_some(ci),
                offered_load: rho[ci],
                utilization: util,
                saturated: rho[ci] >= 1.0 || out.truncated_center == Some(ci),
                wait_mean_ms: if first { wait_mean_ms } else { 0.0 },
                wait_mean_ci_ms: if first { wait_ci } else { None },
                service_mean_ms: if count > 0 { to_ms(c.member_service_sum_ns[j] / count as f64) } else { f64::NAN },
                sort_ms: s.sort_ms,
                overhead_ms: s.overhead_ms,
                max_queue_len: if first { c.max_queue_len } else { 0 },
            });
        }
    }
    let dur_s = out.measured_last_end_ns.saturating_sub(out.measured_first_arrival_ns) as f64 / 1e9;
    SimReport {
        seed: settings.seed,
        queries,
        warmup_queries: settings.warmup_queries,
        measured_queries: measured,
        offered_qps: qps,
        throughput_qps: if dur_s > 0.0 { measured as f64 / dur_s } else { f64::NAN },
        mean_ms,
        p50_ms,
        p95_ms,
        p99_ms,
        max_ms,
        utilization: stages.iter().map(|s| s.utilization).collect(),
        saturated,
        saturation_reason: saturated.then(|| reasons.join("; ")),
        confidence: conf,
        batches: runs.len() as u32,
        mean_ci_ms,
        p50_ci_ms,
        p95_ci_ms,
        p99_ci_ms,
        sla,
        precision: None,
        stages,
        query_stages: out.query_stages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{saturation_qps, ArrivalProcess, Precision, ServiceDist, StageModel, SubBatchGroup, MAX_QUERIES};

    fn one_stage(service: ServiceDist, servers: u32, qps: f64) -> PipelineModel {
        PipelineModel {
            arrival: ArrivalProcess::Poisson { qps },
            stages: vec![StageModel { name: "s".into(), servers, service, sort_ms: 0.0, overhead_ms: 0.0 }],
            groups: vec![],
        }
    }

    #[test]
    fn light_load_latency_is_the_service_plus_delays() {
        let mut m = one_stage(ServiceDist::Deterministic { ms: 1.0 }, 1, 0.001);
        m.stages[0].sort_ms = 0.25;
        m.stages[0].overhead_ms = 0.5;
        let r = simulate(&m, &SimSettings::new(100, 3)).unwrap();
        assert!((r.mean_ms - 1.75).abs() < 1e-9 && (r.p99_ms - 1.75).abs() < 1e-9);
        assert!(!r.saturated);
        assert!((r.stages[0].service_mean_ms - 1.0).abs() < 1e-12);
    }

    #[test]
    fn overload_is_flagged() {
        let m = one_stage(ServiceDist::Deterministic { ms: 2.0 }, 1, 600.0);
        let r = simulate(&m, &SimSettings::new(10_000, 3)).unwrap();
        assert!(r.saturated, "{r:?}");
        assert!(r.saturation_reason.unwrap().contains("ρ = 1.200"));
        // Achieved throughput is the service capacity, 500 q/s.
        assert!((r.throughput_qps - 500.0).abs() < 5.0, "{}", r.throughput_qps);
    }

    #[test]
    fn invalid_inputs_are_errors_not_panics() {
        let m = one_stage(ServiceDist::Deterministic { ms: 1.0 }, 0, 100.0);
        assert!(simulate(&m, &SimSettings::new(10, 1)).is_err());
        let m = one_stage(ServiceDist::Exponential { mean_ms: -1.0 }, 1, 100.0);
        assert!(simulate(&m, &SimSettings::new(10, 1)).is_err());
        let m = one_stage(ServiceDist::Deterministic { ms: 1.0 }, 1, 100.0);
        assert!(simulate(&m, &SimSettings::new(MAX_QUERIES + 1, 1)).is_err());
        let mut s = SimSettings::new(10, 1);
        s.warmup_queries = 10;
        assert!(simulate(&m, &s).is_err());
        // Horizons that would not fit in u64 nanoseconds.
        let m = one_stage(ServiceDist::Deterministic { ms: 1.0 }, 1, 1e-12);
        assert!(simulate(&m, &SimSettings::new(10, 1)).unwrap_err().to_string().contains("simulated time"));
        let m = one_stage(ServiceDist::Deterministic { ms: 1e12 }, 1, 100.0);
        assert!(simulate(&m, &SimSettings::new(1000, 1)).is_err());
    }

    #[test]
    fn warmup_is_left_out() {
        let m = one_stage(ServiceDist::Exponential { mean_ms: 1.0 }, 1, 500.0);
        let mut s = SimSettings::new(5000, 9);
        s.warmup_queries = 1000;
        let r = simulate(&m, &s).unwrap();
        assert_eq!(r.measured_queries, 4000);
        assert_eq!(r.queries, 5000);
    }

    #[test]
    fn precision_loop_stops_when_reached() {
        let m = one_stage(ServiceDist::Exponential { mean_ms: 1.0 }, 1, 500.0);
        let mut s = SimSettings::new(4096, 5);
        s.precision = Some(Precision { relative_half_width: 0.05, max_queries: 4_000_000 });
        let r = simulate(&m, &s).unwrap();
        let p = r.precision.unwrap();
        assert!(p.reached && p.runs > 1 && p.achieved_relative_half_width.unwrap() <= 0.05, "{p:?}");
        assert!(r.queries < 4_000_000);
    }

    #[test]
    fn subbatch_group_uses_the_pipelined_makespan() {
        let mut m = one_stage(ServiceDist::Deterministic { ms: 0.4 }, 1, 0.001);
        m.stages.push(StageModel {
            name: "t".into(),
            servers: 1,
            service: ServiceDist::Deterministic { ms: 0.8 },
            sort_ms: 0.0,
            overhead_ms: 0.0,
        });
        m.groups.push(SubBatchGroup { first_stage: 0, last_stage: 1, sub_batches: 4 });
        let r = simulate(&m, &SimSettings::new(50, 1)).unwrap();
        assert!((r.mean_ms - 0.9).abs() < 1e-9, "{}", r.mean_ms);
        assert_eq!(r.stages[1].group, Some(0));
        assert!((r.stages[1].service_mean_ms - 0.8).abs() < 1e-12);
        // Saturation follows the group's makespan: 0.9 ms per query on one engine → 1111 q/s.
        assert!((saturation_qps(&m).unwrap() - 1000.0 / 0.9).abs() < 1e-6);
    }
}
