//! Planning: checks a [`PipelineModel`] and its [`SimSettings`] (every value finite and in range, groups
//! disjoint with equal engine counts, the run within the query cap and the simulated horizon) and turns the
//! stages into the engine's service centres — one per stage, or one per sub-batch group with the group's
//! pipelined makespan ([`super::subbatch`]) as its mean service.
//!
//! Units: durations in ms at the API, integer ns inside the engine ([`super::time`]); offered load
//! ρ = λ·E[S]/c per centre (Kleinrock, *Queueing Systems* vol. 1, §2.1), λ in queries/s.

use super::model::{PipelineModel, SimError, SimSettings, MAX_HORIZON_NS, MAX_QUERIES};
use super::tandem::{Center, CenterService};
use super::time::{ms_from_ns, ns_from_ms};
use super::{subbatch, ArrivalProcess, ServiceDist};

/// A service centre built from one stage or one group, with the stage range it covers.
pub(super) struct CenterPlan {
    /// The engine's service centre.
    pub(super) center: Center,
    /// Stages it covers.
    pub(super) stages: std::ops::Range<usize>,
    /// Mean service time of one query at the centre, ms.
    pub(super) mean_service_ms: f64,
}

fn check(ok: bool, msg: impl FnOnce() -> String) -> Result<(), SimError> {
    if ok {
        Ok(())
    } else {
        Err(SimError::Invalid(msg()))
    }
}

fn validate_service(d: &ServiceDist, what: &str) -> Result<(), SimError> {
    let finite_nonneg = |x: f64| x.is_finite() && x >= 0.0;
    match d {
        ServiceDist::Deterministic { ms } => {
            check(finite_nonneg(*ms), || format!("{what}: service ms must be ≥ 0, got {ms}"))
        }
        ServiceDist::Exponential { mean_ms } => {
            check(mean_ms.is_finite() && *mean_ms > 0.0, || format!("{what}: mean_ms must be > 0, got {mean_ms}"))
        }
        ServiceDist::LogNormal { mean_ms, cv } => {
            check(mean_ms.is_finite() && *mean_ms > 0.0, || format!("{what}: mean_ms must be > 0, got {mean_ms}"))?;
            check(cv.is_finite() && *cv > 0.0, || format!("{what}: cv must be > 0, got {cv}"))
        }
        ServiceDist::Empirical { samples_ms } => {
            check(!samples_ms.is_empty(), || format!("{what}: empirical sample is empty"))?;
            match samples_ms.iter().find(|x| !finite_nonneg(**x)) {
                Some(bad) => Err(SimError::Invalid(format!("{what}: empirical sample value must be ≥ 0, got {bad}"))),
                None => Ok(()),
            }
        }
    }
}

/// Check the model and build its service centres.
pub(super) fn plan(model: &PipelineModel) -> Result<Vec<CenterPlan>, SimError> {
    check(!model.stages.is_empty(), || "the pipeline has no stages".into())?;
    match &model.arrival {
        ArrivalProcess::Poisson { qps } => {
            check(qps.is_finite() && *qps > 0.0, || format!("poisson qps must be > 0, got {qps}"))?
        }
        ArrivalProcess::LegacyMs { mean_gap_ms } => check(mean_gap_ms.is_finite() && *mean_gap_ms > 0.0, || {
            format!("legacy-ms mean_gap_ms must be > 0, got {mean_gap_ms}")
        })?,
        ArrivalProcess::Trace { times_ns, speedup } => {
            check(times_ns.len() >= 2, || "a trace needs at least two arrival times".into())?;
            check(times_ns.windows(2).all(|w| w[0] <= w[1]), || "trace arrival times must be non-decreasing".into())?;
            check(speedup.is_finite() && *speedup > 0.0, || format!("trace speed-up must be > 0, got {speedup}"))?;
        }
    }
    for (i, s) in model.stages.iter().enumerate() {
        let what = format!("stage {i} '{}'", s.name);
        check(s.servers >= 1, || format!("{what}: servers must be ≥ 1"))?;
        validate_service(&s.service, &what)?;
        check(s.sort_ms.is_finite() && s.sort_ms >= 0.0, || format!("{what}: sort_ms must be ≥ 0, got {}", s.sort_ms))?;
        check(s.overhead_ms.is_finite() && s.overhead_ms >= 0.0, || {
            format!("{what}: overhead_ms must be ≥ 0, got {}", s.overhead_ms)
        })?;
    }
    let mut groups = model.groups.clone();
    groups.sort_by_key(|g| g.first_stage);
    for (gi, g) in groups.iter().enumerate() {
        check(g.first_stage < g.last_stage && g.last_stage < model.stages.len(), || {
            format!("sub-batch group {}..={}: needs ≥ 2 existing stages", g.first_stage, g.last_stage)
        })?;
        check(g.sub_batches >= 1, || "sub-batch group: sub_batches must be ≥ 1".into())?;
        if gi > 0 {
            let prev = groups[gi - 1];
            check(prev.last_stage < g.first_stage, || "sub-batch groups overlap".into())?;
        }
        let c = model.stages[g.first_stage].servers;
        check(model.stages[g.first_stage..=g.last_stage].iter().all(|s| s.servers == c), || {
            format!(
                "sub-batch group {}..={}: its stages share engines, so their servers must be equal",
                g.first_stage, g.last_stage
            )
        })?;
    }
    let mut plans = Vec::new();
    let mut i = 0;
    while i < model.stages.len() {
        if let Some(g) = groups.iter().find(|g| g.first_stage == i) {
            let members = &model.stages[g.first_stage..=g.last_stage];
            let sort_ns: Vec<u64> = members.iter().map(|s| ns_from_ms(s.sort_ms)).collect();
            let mean_stage_ns: Vec<u64> =
                members.iter().zip(&sort_ns).map(|(s, so)| ns_from_ms(s.service.mean_ms()) + so).collect();
            let mean_service_ms = ms_from_ns(subbatch::makespan_ns(&mean_stage_ns, g.sub_batches, &mut Vec::new()));
            plans.push(CenterPlan {
                center: Center {
                    servers: members[0].servers,
                    service: CenterService::Group {
                        members: members.iter().map(|s| s.service.sampler()).collect(),
                        sort_ns,
                        sub_batches: g.sub_batches,
                    },
                    post_ns: members.iter().map(|s| ns_from_ms(s.overhead_ms)).sum(),
                },
                stages: g.first_stage..g.last_stage + 1,
                mean_service_ms,
            });
            i = g.last_stage + 1;
        } else {
            let s = &model.stages[i];
            plans.push(CenterPlan {
                center: Center {
                    servers: s.servers,
                    service: CenterService::Single(s.service.sampler()),
                    post_ns: ns_from_ms(s.sort_ms) + ns_from_ms(s.overhead_ms),
                },
                stages: i..i + 1,
                mean_service_ms: s.service.mean_ms(),
            });
            i += 1;
        }
    }
    Ok(plans)
}

pub(super) fn validate_settings(model: &PipelineModel, s: &SimSettings) -> Result<(), SimError> {
    let cap = s.precision.map_or(s.queries, |p| p.max_queries.max(s.queries));
    check(s.queries >= 1, || "queries must be ≥ 1".into())?;
    check(cap <= MAX_QUERIES, || format!("at most {MAX_QUERIES} queries per run, got {cap}"))?;
    check(s.warmup_queries < s.queries, || {
        format!("warmup_queries ({}) must be < queries ({})", s.warmup_queries, s.queries)
    })?;
    if let Some(n) = model.arrival.max_queries() {
        check(cap <= n, || format!("the trace has {n} arrivals but {cap} queries are requested"))?;
    }
    check(s.confidence > 0.0 && s.confidence < 1.0, || format!("confidence must be in (0, 1), got {}", s.confidence))?;
    check(s.batches >= 2, || format!("batches must be ≥ 2, got {}", s.batches))?;
    check(s.max_queue_len >= 1, || "max_queue_len must be ≥ 1".into())?;
    let gap_ns = match &model.arrival {
        ArrivalProcess::Trace { times_ns, speedup } => {
            let span = (times_ns.last().copied().unwrap_or(0) - times_ns.first().copied().unwrap_or(0)) as f64;
            span / speedup / times_ns.len().max(1) as f64
        }
        other => 1e9 / other.offered_qps(),
    };
    // Even fully serialised, the run must end within the horizon: arrivals plus every query's work.
    let work_ns: f64 = model
        .stages
        .iter()
        .map(|st| (st.service.mean_ms() + st.sort_ms + st.overhead_ms) * 1e6 / st.servers as f64)
        .sum();
    check((gap_ns + work_ns) * cap as f64 <= MAX_HORIZON_NS, || {
        format!(
            "{cap} queries at {} queries/s with {:.3} ms of work per query span more than {:.0e} s of simulated time",
            model.arrival.offered_qps(),
            work_ns / 1e6,
            MAX_HORIZON_NS / 1e9
        )
    })?;
    if let Some(sla) = s.sla {
        check(sla.percentile > 0.0 && sla.percentile < 100.0, || {
            format!("SLA percentile must be in (0, 100), got {}", sla.percentile)
        })?;
        check(sla.target_ms.is_finite() && sla.target_ms > 0.0, || {
            format!("SLA target_ms must be > 0, got {}", sla.target_ms)
        })?;
    }
    if let Some(p) = s.precision {
        check(p.relative_half_width.is_finite() && p.relative_half_width > 0.0, || {
            format!("precision relative_half_width must be > 0, got {}", p.relative_half_width)
        })?;
    }
    Ok(())
}

/// The engine's service centres for `model` (for benchmarks and tools driving [`super::tandem::run`] directly).
pub fn engine_centers(model: &PipelineModel) -> Result<Vec<Center>, SimError> {
    Ok(plan(model)?.into_iter().map(|p| p.center).collect())
}

/// Offered load per centre: ρ = λ·E[S]/c.
pub(super) fn offered_loads(plans: &[CenterPlan], qps: f64) -> Vec<f64> {
    plans.iter().map(|p| qps * p.mean_service_ms / 1000.0 / p.center.servers as f64).collect()
}

/// Whether some stage of `model` is offered ρ ≥ 1 at its arrival process's rate: such a run is saturated
/// whatever its random draws ([`super::simulate`] reports it so, and no SLA is met), so a caller may skip it.
pub fn saturated_at_offered_load(model: &PipelineModel) -> Result<bool, SimError> {
    let plans = plan(model)?;
    Ok(offered_loads(&plans, model.arrival.offered_qps()).iter().any(|&rho| rho >= 1.0))
}

/// The offered load (queries/s) at which the busiest stage reaches ρ = 1 (infinite if no stage takes time).
pub fn saturation_qps(model: &PipelineModel) -> Result<f64, SimError> {
    let plans = plan(model)?;
    let rho_per_qps = offered_loads(&plans, 1.0);
    let worst = rho_per_qps.iter().copied().fold(0.0, f64::max);
    Ok(if worst > 0.0 { 1.0 / worst } else { f64::INFINITY })
}
