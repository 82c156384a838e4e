//! At-scale serving simulator: a virtual-time, seeded discrete-event simulation of multi-stage
//! recommendation pipelines.
//!
//! RecPipe measured tail latency by really sleeping for every query's service time (hours per figure, with OS
//! noise; the artifact's `RecPipeAccelSim.py`). This module simulates the same queueing structure in virtual
//! time: exact, seeded, repeatable and thousands of times faster.
//!
//! **Model.** Queries arrive by an [`ArrivalProcess`] (`poisson`, `legacy-ms` integer-millisecond Poisson gaps
//! as in the reference's load generator, or a replayed trace). Each [`StageModel`] is a shared FCFS queue
//! served by `servers` identical engines with a per-stage [`ServiceDist`]. After its service a query pays the
//! stage's top-k sort cost and optional fixed overhead (delays that do not hold an engine), then joins the next
//! stage. Consecutive stages sharing an accelerator may be sub-batch pipelined ([`SubBatchGroup`],
//! [`subbatch`]). The engine ([`tandem`]) keeps only each stage's servers' next-free times.
//!
//! **Outputs** ([`SimReport`]): achieved throughput, mean/p50/p95/p99/max end-to-end latency (exact numpy-style
//! percentiles over the measured queries), per-stage waiting, service and utilisation, the offered load ρ per
//! stage, a saturation flag, and batch-means confidence intervals ([`stats`]). Leading warm-up queries are
//! simulated but not measured. With a precision target the run length doubles until the confidence intervals
//! are narrow enough or the query cap is reached. [`capacity`] finds the largest offered load meeting an SLA.
//!
//! **Units.** Simulated time is integer nanoseconds ([`time`]); the API speaks milliseconds (`_ms`) and queries
//! per second (`_qps`). **Determinism.** All randomness comes from `Xoshiro256PlusPlus::seed_from_u64(seed)`:
//! arrivals use the seeded stream, stage `k`'s services the stream jumped `k + 1` times. The same model,
//! settings and seed give bit-identical reports.
//!
//! The file format of `recpipe-dse simulate`, the validation against queueing theory and against the
//! reference's logs, and benchmark numbers are documented in `src/sim/README.md`.

pub mod arrivals;
pub mod capacity;
pub mod pipeline_file;
pub mod queueing;
pub mod recpipe2021;
pub mod service;
pub mod stats;
pub mod subbatch;
pub mod tandem;
pub mod time;

pub use arrivals::ArrivalProcess;
pub use capacity::{capacity_curve, max_qps_under_sla, CapacityOptions, CapacityReport};
pub use service::ServiceDist;
pub use stats::Interval;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;
use tandem::{Center, CenterService, EngineConfig};
use time::ns_from_ms;

/// Largest number of queries one run may simulate (memory: about 40 bytes per query).
pub const MAX_QUERIES: u64 = 20_000_000;
/// Longest simulated horizon and longest single delay a run may need, ns (about 3 years; keeps every sum of
/// instants and durations far from `u64` overflow).
pub const MAX_HORIZON_NS: f64 = 1.0e17;
/// Default cap on queries waiting at one stage.
pub const DEFAULT_MAX_QUEUE_LEN: u64 = 1_000_000;
/// Default number of batches for confidence intervals.
pub const DEFAULT_BATCHES: u32 = 32;

/// One pipeline stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageModel {
    /// Name used in reports.
    pub name: String,
    /// Identical engines sharing the stage's FCFS queue (≥ 1).
    pub servers: u32,
    /// Per-query service time on one engine.
    pub service: ServiceDist,
    /// Top-k sort/filter cost paid after service, ms (does not hold an engine).
    pub sort_ms: f64,
    /// Fixed extra delay after service, ms (e.g. the reference emulation's IPC/sleep overhead).
    pub overhead_ms: f64,
}

/// Consecutive stages sharing one accelerator and pipelined in sub-batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SubBatchGroup {
    /// First stage index of the group.
    pub first_stage: usize,
    /// Last stage index of the group (inclusive, > `first_stage`).
    pub last_stage: usize,
    /// Sub-batches a query is cut into (≥ 1).
    pub sub_batches: u32,
}

/// What is simulated: the arrival process and the stages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineModel {
    /// How queries arrive.
    pub arrival: ArrivalProcess,
    /// The stages, in order.
    pub stages: Vec<StageModel>,
    /// Sub-batch pipelined groups (disjoint, each of ≥ 2 consecutive stages with equal `servers`).
    pub groups: Vec<SubBatchGroup>,
}

/// An SLA: the `percentile` of end-to-end latency must be ≤ `target_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SlaTarget {
    /// Percentile, in (0, 100).
    pub percentile: f64,
    /// Target, ms.
    pub target_ms: f64,
}

/// Stop-early precision target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Precision {
    /// Required confidence-interval half-width relative to the estimate, for the mean and for the SLA
    /// percentile (p95 without an SLA), e.g. 0.01.
    pub relative_half_width: f64,
    /// Query cap: the run length doubles from `SimSettings::queries` up to this many queries.
    pub max_queries: u64,
}

/// How to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimSettings {
    /// Queries to simulate (the first run's length when a precision target is set), warm-up included.
    pub queries: u64,
    /// Leading queries simulated but left out of the statistics.
    pub warmup_queries: u64,
    /// Seed of all random streams.
    pub seed: u64,
    /// Two-sided confidence level of the intervals, in (0, 1).
    pub confidence: f64,
    /// Batches for the batch-means intervals (≥ 2).
    pub batches: u32,
    /// Cap on queries waiting at one stage; reaching it stops the run and marks it saturated.
    pub max_queue_len: u64,
    /// Optional SLA whose percentile is reported with its interval.
    pub sla: Option<SlaTarget>,
    /// Optional stop-early precision target.
    pub precision: Option<Precision>,
}

impl SimSettings {
    /// `queries` queries, no warm-up, the given seed, 95% intervals over 32 batches, default caps.
    pub fn new(queries: u64, seed: u64) -> SimSettings {
        SimSettings {
            queries,
            warmup_queries: 0,
            seed,
            confidence: 0.95,
            batches: DEFAULT_BATCHES,
            max_queue_len: DEFAULT_MAX_QUEUE_LEN,
            sla: None,
            precision: None,
        }
    }
}

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// The model or the settings are inconsistent.
    #[error("invalid simulation input: {0}")]
    Invalid(String),
}

/// Per-stage results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageReport {
    /// Stage name.
    pub name: String,
    /// Engines.
    pub servers: u32,
    /// Index of the sub-batch group the stage belongs to, if any.
    pub group: Option<usize>,
    /// Offered load ρ = λ·E(S)/c of the stage's service centre (a group's centre for grouped stages).
    pub offered_load: f64,
    /// Achieved utilisation: busy engine time / (engines × simulated span).
    pub utilization: f64,
    /// Whether this stage is overloaded: ρ ≥ 1, or its queue cap stopped the run.
    pub saturated: bool,
    /// Mean wait in the stage's queue, ms (for a group: the group's queue, on its first stage; 0 on the others).
    pub wait_mean_ms: f64,
    /// Confidence interval of `wait_mean_ms`.
    pub wait_mean_ci_ms: Option<Interval>,
    /// Mean service time of this stage, ms.
    pub service_mean_ms: f64,
    /// Sort cost, ms.
    pub sort_ms: f64,
    /// Fixed overhead, ms.
    pub overhead_ms: f64,
    /// Longest queue seen (queries waiting, not in service).
    pub max_queue_len: u64,
}

/// The SLA percentile of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SlaReport {
    /// Percentile.
    pub percentile: f64,
    /// Target, ms.
    pub target_ms: f64,
    /// Measured percentile, ms.
    pub value_ms: f64,
    /// Its confidence interval.
    pub ci_ms: Option<Interval>,
    /// Whether the run meets the SLA: not saturated and the interval's upper bound (the value when no
    /// interval is available) ≤ target.
    pub met: bool,
}

/// Precision bookkeeping of a stop-early run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrecisionReport {
    /// Requested relative half-width.
    pub relative_half_width: f64,
    /// Achieved relative half-width (the worse of the mean and the tracked percentile).
    pub achieved_relative_half_width: Option<f64>,
    /// Whether the target was reached before the query cap.
    pub reached: bool,
    /// Runs made (each doubling the length).
    pub runs: u32,
}

/// Results of one simulation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimReport {
    /// Seed of the run.
    pub seed: u64,
    /// Queries simulated (warm-up included).
    pub queries: u64,
    /// Warm-up queries left out of the statistics.
    pub warmup_queries: u64,
    /// Queries measured (completed, after warm-up).
    pub measured_queries: u64,
    /// Offered load, queries/s.
    pub offered_qps: f64,
    /// Achieved throughput: measured queries / (last completion − first arrival), queries/s.
    pub throughput_qps: f64,
    /// Mean end-to-end latency, ms.
    pub mean_ms: f64,
    /// Median end-to-end latency, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Maximum, ms.
    pub max_ms: f64,
    /// Per-stage achieved utilisation (same order as `stages`).
    pub utilization: Vec<f64>,
    /// Whether the system is overloaded: some stage has ρ ≥ 1, or a cap stopped the run.
    pub saturated: bool,
    /// Why it is saturated.
    pub saturation_reason: Option<String>,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// Batches behind the intervals.
    pub batches: u32,
    /// Interval of `mean_ms`.
    pub mean_ci_ms: Option<Interval>,
    /// Interval of `p50_ms`.
    pub p50_ci_ms: Option<Interval>,
    /// Interval of `p95_ms`.
    pub p95_ci_ms: Option<Interval>,
    /// Interval of `p99_ms`.
    pub p99_ci_ms: Option<Interval>,
    /// The SLA percentile, when an SLA was given.
    pub sla: Option<SlaReport>,
    /// Precision bookkeeping, when a target was given.
    pub precision: Option<PrecisionReport>,
    /// Per-stage results.
    pub stages: Vec<StageReport>,
    /// Query-stage services simulated (over all runs of a precision loop).
    pub query_stages: u64,
}

impl SimReport {
    /// Percentile `p` of the measured latencies, with its interval, among those reported (p50/p95/p99 or the
    /// SLA's).
    pub fn percentile_ms(&self, p: f64) -> Option<(f64, Option<Interval>)> {
        let same = |a: f64| (a - p).abs() < 1e-9;
        if let Some(s) = &self.sla {
            if same(s.percentile) {
                return Some((s.value_ms, s.ci_ms));
            }
        }
        [(50.0, self.p50_ms, self.p50_ci_ms), (95.0, self.p95_ms, self.p95_ci_ms), (99.0, self.p99_ms, self.p99_ci_ms)]
            .into_iter()
            .find(|(q, _, _)| same(*q))
            .map(|(_, v, ci)| (v, ci))
    }
}

/// Everything `recpipe-dse simulate` reports for one pipeline file: the run, and the capacity under the SLA.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineRun {
    /// Pipeline name.
    pub name: String,
    /// The simulation at the file's offered load.
    #[serde(flatten)]
    pub report: SimReport,
    /// Largest offered load meeting the SLA, queries/s (when an SLA is given).
    pub max_qps_under_sla: Option<f64>,
    /// Details of that capacity search.
    pub capacity: Option<CapacityReport>,
    /// Capacity for each of the file's curve targets (same percentile as the SLA).
    pub capacity_curve: Vec<CapacityReport>,
}

/// Simulate a validated pipeline file and, when it gives an SLA, search its capacity (and curve).
pub fn run_pipeline(spec: &pipeline_file::PipelineSpec) -> Result<PipelineRun, SimError> {
    let report = simulate(&spec.model, &spec.settings)?;
    let opts = CapacityOptions::default();
    let (capacity, capacity_curve) = match spec.settings.sla {
        Some(sla) => (
            Some(max_qps_under_sla(&spec.model, &spec.settings, sla, &opts)?),
            capacity_curve(&spec.model, &spec.settings, sla.percentile, &spec.curve_targets_ms, &opts)?,
        ),
        None => (None, Vec::new()),
    };
    Ok(PipelineRun {
        name: spec.name.clone(),
        report,
        max_qps_under_sla: capacity.as_ref().map(|c| c.max_qps),
        capacity,
        capacity_curve,
    })
}

/// A service centre built from one stage or one group, with the stage range it covers.
struct CenterPlan {
    center: Center,
    stages: std::ops::Range<usize>,
    mean_service_ms: f64,
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
fn plan(model: &PipelineModel) -> Result<Vec<CenterPlan>, SimError> {
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
            let mean_service_ms =
                time::ms_from_ns(subbatch::makespan_ns(&mean_stage_ns, g.sub_batches, &mut Vec::new()));
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

fn validate_settings(model: &PipelineModel, s: &SimSettings) -> Result<(), SimError> {
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

/// The engine's service centres for `model` (for benchmarks and tools driving [`tandem::run`] directly).
pub fn engine_centers(model: &PipelineModel) -> Result<Vec<Center>, SimError> {
    Ok(plan(model)?.into_iter().map(|p| p.center).collect())
}

/// Offered load per centre: ρ = λ·E[S]/c.
fn offered_loads(plans: &[CenterPlan], qps: f64) -> Vec<f64> {
    plans.iter().map(|p| qps * p.mean_service_ms / 1000.0 / p.center.servers as f64).collect()
}

/// The offered load (queries/s) at which the busiest stage reaches ρ = 1 (infinite if no stage takes time).
pub fn saturation_qps(model: &PipelineModel) -> Result<f64, SimError> {
    let plans = plan(model)?;
    let rho_per_qps = offered_loads(&plans, 1.0);
    let worst = rho_per_qps.iter().copied().fold(0.0, f64::max);
    Ok(if worst > 0.0 { 1.0 / worst } else { f64::INFINITY })
}

/// Simulate `model` under `settings`. Pure: no I/O, deterministic for a given seed.
pub fn simulate(model: &PipelineModel, settings: &SimSettings) -> Result<SimReport, SimError> {
    let plans = plan(model)?;
    validate_settings(model, settings)?;
    let Some(prec) = settings.precision else {
        return Ok(run_once(model, &plans, settings, settings.queries));
    };
    let cap = prec.max_queries.max(settings.queries);
    let mut n = settings.queries;
    let mut runs = 0;
    let mut total_stages = 0;
    loop {
        let mut report = run_once(model, &plans, settings, n);
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

fn run_once(model: &PipelineModel, plans: &[CenterPlan], settings: &SimSettings, queries: u64) -> SimReport {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(settings.seed);
    let arrivals = model.arrival.generate(queries as usize, &mut rng);
    let measured_planned = queries - settings.warmup_queries;
    let shift = mini_shift(measured_planned, settings.batches);
    let cfg = EngineConfig {
        warmup: settings.warmup_queries,
        mini_shift: shift,
        max_queue_len: settings.max_queue_len,
        seed: settings.seed,
    };
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
    let pct = |p: f64| -> (f64, Option<Interval>) {
        let v = stats::percentile_of_runs(refs, p).map_or(f64::NAN, to_ms);
        let ci = if ci_ok {
            let per: Vec<f64> = refs.iter().filter_map(|r| stats::percentile_of_runs(&[r], p)).map(to_ms).collect();
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
        let (value_ms, ci_ms) = pct(s.percentile);
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
