//! SLA probes and load summaries: whether one offered load meets an SLA, and the few figures an exploration
//! keeps of a load, exactly as [`super::simulate`] reports them, without the rest of its report. The capacity
//! search ([`super::capacity`]) asks a probe at every bisection step; `explore` summarises each offered load
//! ([`load_summary`]).
//!
//! A probe computes exactly what `simulate` computes for the verdict and nothing else:
//! * a load at which some centre is offered ρ ≥ 1 is saturated: not met, not simulated;
//! * the engine's latencies: centres that keep arrival order ([`in_order::keeps_order`]: one server, or a
//!   fixed service time) are run query by query through all centres ([`in_order::run_in_order`], Poisson
//!   arrival instants computed as the run consumes them), other pipelines through the full engine
//!   ([`tandem::run`]); a run stopped by the queue cap is saturated;
//! * the SLA percentile over all measured queries and per batch ([`stats::percentile_of`]: the same order
//!   statistics as sorting, without reordering the latencies), and the batch-means interval's upper end
//!   ([`stats::batch_interval`]).
//!
//! Early verdict. The percentile is at least the order statistic `x₍ₖ₎` below it (numpy's interpolation
//! adds a non-negative amount) and the interval's upper end is at least the percentile, so once `n − k`
//! measured latencies exceed the target the SLA is missed whatever the remaining queries do. In-order runs
//! stop there. The threshold is the largest integer nanosecond count whose value in ms (ns / 10⁶, as the
//! report converts) is within the target, so the comparison is exact.
//!
//! Units: ns inside, ms at the API. Same seed, same verdict as `simulate`; a unit test compares the two on
//! random pipelines.

use super::arrivals::RunArrivals;
use super::in_order::{self, InOrderRun};
use super::model::{PipelineModel, SimError, SimSettings};
use super::plan::{offered_loads, plan, validate_settings};
use super::run::engine_config;
use super::stats;
use super::tandem::{self, Center, EngineConfig};

/// A probe's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlaProbe {
    /// Whether the SLA is met (as `simulate`'s `sla.met`).
    pub met: bool,
    /// The SLA percentile, ms (as `simulate`'s `sla.value_ms`), when the probe computed it: always when the
    /// SLA is met; `None` when the verdict came before it (saturation, early verdict).
    pub value_ms: Option<f64>,
}

const MISSED: SlaProbe = SlaProbe { met: false, value_ms: None };

fn to_ms(ns: f64) -> f64 {
    ns / 1e6
}

/// The largest whole number of ns whose value in ms is ≤ `target_ms`; `None` when there is none to use
/// (negative or non-finite target, or beyond exact integers in f64).
fn last_ns_within(target_ms: f64) -> Option<u64> {
    let ns = target_ms * 1e6;
    if !(ns >= 0.0 && ns < 2f64.powi(52)) {
        return None;
    }
    let mut n = ns.floor() as u64;
    while n > 0 && to_ms(n as f64) > target_ms {
        n -= 1;
    }
    while to_ms((n + 1) as f64) <= target_ms {
        n += 1;
    }
    (to_ms(n as f64) <= target_ms).then_some(n)
}

/// A run set up as `simulate` sets it up.
struct RunSetup {
    arrivals: RunArrivals,
    centers: Vec<Center>,
    cfg: EngineConfig,
    /// Measured queries.
    measured: usize,
    /// Whether [`in_order::run_in_order`] applies: centres keeping arrival order, arrivals in order, a queue
    /// cap no run can reach.
    in_order: bool,
}

impl RunSetup {
    /// The run of `model` under `settings`; `None` when some centre is offered ρ ≥ 1 (saturated).
    fn new(model: &PipelineModel, settings: &SimSettings) -> Result<Option<RunSetup>, SimError> {
        let plans = plan(model)?;
        validate_settings(model, settings)?;
        if offered_loads(&plans, model.arrival.offered_qps()).iter().any(|&rho| rho >= 1.0) {
            return Ok(None);
        }
        let queries = settings.queries;
        let arrivals = model.arrival.seeded_arrivals(queries as usize, settings.seed);
        let centers: Vec<Center> = plans.into_iter().map(|p| p.center).collect();
        let in_order =
            in_order::keeps_order(&centers) && settings.max_queue_len >= queries && arrivals.non_decreasing();
        let cfg = engine_config(settings, queries);
        Ok(Some(RunSetup { arrivals, centers, cfg, measured: (queries - settings.warmup_queries) as usize, in_order }))
    }
}

/// Whether `model` meets `settings.sla` at its arrival process's load: `simulate(model, settings).sla.met`,
/// computed as the module docs say. Runs with a precision target are simulated in full.
pub fn probe_sla(model: &PipelineModel, settings: &SimSettings) -> Result<SlaProbe, SimError> {
    let Some(sla) = settings.sla else {
        return Err(SimError::Invalid("an SLA probe needs an SLA in the settings".into()));
    };
    if settings.precision.is_some() {
        let report = super::simulate(model, settings)?;
        let verdict = report.sla.expect("settings carry the SLA");
        return Ok(SlaProbe { met: verdict.met, value_ms: Some(verdict.value_ms) });
    }
    let Some(run) = RunSetup::new(model, settings)? else { return Ok(MISSED) };
    let measured = run.measured;
    let latencies = if run.in_order {
        let (k, _) = stats::percentile_rank(measured, sla.percentile);
        let (exceed_ns, give_up) = last_ns_within(sla.target_ms).map_or((u64::MAX, usize::MAX), |t| (t, measured - k));
        match in_order::run_in_order(&run.centers, &run.arrivals, &run.cfg, exceed_ns, give_up) {
            Some(done) => done.latencies_ns,
            None => return Ok(MISSED),
        }
    } else {
        let out = tandem::run(&run.centers, &run.arrivals.into_vec(), &run.cfg);
        if out.truncated.is_some() {
            return Ok(MISSED);
        }
        out.latencies_ns
    };
    let shift = run.cfg.mini_shift;

    let mut scratch = Vec::new();
    let value_ms = stats::percentile_of(&latencies, sla.percentile, &mut scratch).map_or(f64::NAN, to_ms);
    if value_ms.is_nan() || value_ms > sla.target_ms {
        return Ok(SlaProbe { met: false, value_ms: Some(value_ms) });
    }
    let bound = batch_bound(&latencies, shift, value_ms, sla.percentile, settings, &mut scratch);
    Ok(SlaProbe { met: bound <= sla.target_ms, value_ms: Some(value_ms) })
}

/// The figures of one offered load that an exploration keeps, as [`super::simulate`] reports them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadSummary {
    /// Mean end-to-end latency, ms.
    pub mean_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Achieved throughput, queries/s.
    pub throughput_qps: f64,
    /// Whether the settings' SLA is met.
    pub sla_met: bool,
}

/// Mean, p50/p95/p99, throughput and the SLA verdict of `model` at its load, bit for bit as `simulate`
/// reports them, for pipelines whose centres keep arrival order under a load no centre saturates; `None`
/// where that does not hold (or the latency sum is too large for the exact shortcut), for the caller to
/// simulate in full. The mean is the integer sum of the latencies converted once: `simulate` adds them as
/// f64 in another order, which gives the same value while every partial sum is an integer below 2⁵³.
pub fn load_summary(model: &PipelineModel, settings: &SimSettings) -> Result<Option<LoadSummary>, SimError> {
    let Some(sla) = settings.sla else {
        return Err(SimError::Invalid("a load summary needs an SLA in the settings".into()));
    };
    if settings.precision.is_some() {
        return Ok(None);
    }
    let Some(run) = RunSetup::new(model, settings)?.filter(|r| r.in_order) else { return Ok(None) };
    let (measured, shift) = (run.measured, run.cfg.mini_shift);
    let InOrderRun { latencies_ns: latencies, first_measured_arrival_ns, last_measured_exit_ns } =
        in_order::run_in_order(&run.centers, &run.arrivals, &run.cfg, u64::MAX, usize::MAX)
            .expect("no early verdict asked");
    let sum: u128 = latencies.iter().map(|&x| u128::from(x)).sum();
    if sum >= 1u128 << 53 {
        return Ok(None);
    }
    let dur_s = last_measured_exit_ns.saturating_sub(first_measured_arrival_ns) as f64 / 1e9;
    let throughput_qps = if dur_s > 0.0 { measured as f64 / dur_s } else { f64::NAN };
    let mean_ms = to_ms(sum as f64 / measured as f64);
    let mut scratch = Vec::new();
    let [p50_ms, p95_ms, p99_ms] = match stats::percentiles_of(&latencies, &[50.0, 95.0, 99.0], &mut scratch) {
        Some(v) => [v[0], v[1], v[2]].map(to_ms),
        None => [f64::NAN; 3],
    };
    let mut pct = |p: f64| stats::percentile_of(&latencies, p, &mut scratch).map_or(f64::NAN, to_ms);
    let known = [(50.0f64, p50_ms), (95.0, p95_ms), (99.0, p99_ms)];
    let value_ms = known
        .iter()
        .find(|(q, _)| q.to_bits() == sla.percentile.to_bits())
        .map_or_else(|| pct(sla.percentile), |k| k.1);
    let sla_met = value_ms <= sla.target_ms
        && batch_bound(&latencies, shift, value_ms, sla.percentile, settings, &mut scratch) <= sla.target_ms;
    Ok(Some(LoadSummary { mean_ms, p50_ms, p95_ms, p99_ms, throughput_qps, sla_met }))
}

/// The upper end of the batch-means interval of the percentile `p` (estimate `value_ms`) over the measured
/// `latencies` in id order, batched as `simulate` batches them; `value_ms` itself without an interval.
/// `scratch` is working space for the percentiles.
fn batch_bound(
    latencies: &[u64],
    shift: u32,
    value_ms: f64,
    p: f64,
    settings: &SimSettings,
    scratch: &mut Vec<u64>,
) -> f64 {
    let n = latencies.len();
    let minis = n.div_ceil(1usize << shift).max(1);
    let nb = (settings.batches as usize).min(minis).max(1);
    let per_batch: Vec<f64> = (0..nb)
        .filter_map(|j| {
            let lo = ((j * minis / nb) << shift).min(n);
            let hi = (((j + 1) * minis / nb) << shift).min(n);
            stats::percentile_of(&latencies[lo..hi], p, scratch)
        })
        .map(to_ms)
        .collect();
    let interval =
        if per_batch.len() >= 2 { stats::batch_interval(value_ms, &per_batch, settings.confidence) } else { None };
    interval.map_or(value_ms, |c| c.hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{simulate, ArrivalProcess, ServiceDist, SlaTarget, StageModel, SubBatchGroup};
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn threshold_is_the_last_ns_within_the_target() {
        for target in [25.0, 0.1, 1e-6, 3.3, 7.123456789, 0.0] {
            let t = last_ns_within(target).unwrap();
            assert!(to_ms(t as f64) <= target && to_ms((t + 1) as f64) > target, "{target}: {t}");
        }
        assert_eq!(last_ns_within(-1.0), None);
        assert_eq!(last_ns_within(f64::NAN), None);
    }

    fn random_service(rng: &mut Xoshiro256PlusPlus) -> ServiceDist {
        let mean = rng.random_range(0.2..3.0);
        match rng.random_range(0..4) {
            0 => ServiceDist::Deterministic { ms: mean },
            1 => ServiceDist::Exponential { mean_ms: mean },
            2 => ServiceDist::LogNormal { mean_ms: mean, cv: 0.5 },
            _ => ServiceDist::Empirical {
                samples_ms: std::sync::Arc::new((0..7).map(|i| mean * (0.5 + 0.2 * f64::from(i))).collect()),
            },
        }
    }

    /// Random pipelines (in order and not, groups, warm-up, several SLA percentiles and loads): the probe's
    /// verdict is simulate's, and so is its percentile whenever it gives one; the simulator as first written gives
    /// the same report.
    #[test]
    fn probe_agrees_with_simulate() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
        let (mut early, mut summaries) = (0, 0);
        for case in 0..300 {
            let n = rng.random_range(1..4);
            let deterministic = rng.random_bool(0.5);
            let stages: Vec<StageModel> = (0..n)
                .map(|i| StageModel {
                    name: format!("s{i}"),
                    servers: if rng.random_bool(0.5) { 1 } else { rng.random_range(2..24) },
                    service: if deterministic {
                        ServiceDist::Deterministic { ms: rng.random_range(0.2..3.0) }
                    } else {
                        random_service(&mut rng)
                    },
                    sort_ms: if rng.random_bool(0.3) { 0.05 } else { 0.0 },
                    overhead_ms: 0.0,
                })
                .collect();
            let mut model = PipelineModel { arrival: ArrivalProcess::Poisson { qps: 1.0 }, stages, groups: vec![] };
            if n >= 2 && rng.random_bool(0.2) {
                let servers = model.stages[0].servers;
                model.stages[1].servers = servers;
                model.groups.push(SubBatchGroup { first_stage: 0, last_stage: 1, sub_batches: 4 });
            }
            let sat = crate::sim::saturation_qps(&model).unwrap();
            let mut settings = SimSettings::new(rng.random_range(200..3000), case);
            settings.warmup_queries = if rng.random_bool(0.5) { 0 } else { 50 };
            settings.batches = if rng.random_bool(0.2) { 2 } else { 32 };
            let percentile = [50.0, 95.0, 99.0, 90.0][rng.random_range(0..4)];
            let total_mean: f64 = model.stages.iter().map(|s| s.service.mean_ms()).sum();
            let sla = SlaTarget { percentile, target_ms: total_mean * rng.random_range(1.0..6.0) };
            settings.sla = Some(sla);
            for fraction in [0.05, 0.4, 0.8, 0.97, 1.2] {
                model.arrival = ArrivalProcess::Poisson { qps: sat * fraction };
                let report = simulate(&model, &settings).unwrap();
                let baseline = crate::sim::simulate_baseline(&model, &settings).unwrap();
                assert_eq!(format!("{baseline:?}"), format!("{report:?}"), "case {case} at {fraction}: baseline");
                let full = report.sla.unwrap();
                let probe = probe_sla(&model, &settings).unwrap();
                assert_eq!(probe.met, full.met, "case {case} at {fraction}: {probe:?} vs {full:?}");
                match probe.value_ms {
                    Some(v) => assert_eq!(v.to_bits(), full.value_ms.to_bits(), "case {case} at {fraction}"),
                    None => early += 1,
                }
                if let Some(sum) = load_summary(&model, &settings).unwrap() {
                    summaries += 1;
                    let r = simulate(&model, &settings).unwrap();
                    assert!(!r.saturated);
                    let want = [r.mean_ms, r.p50_ms, r.p95_ms, r.p99_ms, r.throughput_qps];
                    let got = [sum.mean_ms, sum.p50_ms, sum.p95_ms, sum.p99_ms, sum.throughput_qps];
                    assert_eq!(want.map(f64::to_bits), got.map(f64::to_bits), "case {case} at {fraction}");
                    assert_eq!(sum.sla_met, full.met);
                }
            }
        }
        assert!(early > 0, "no probe ended early");
        assert!(summaries > 100, "{summaries} load summaries");
    }
}
