//! The simulator's inputs and outputs: the pipeline model (arrivals, stages, sub-batch groups), the run
//! settings, the error type, and the reports (whole run, per stage, SLA, precision).
//!
//! Units as in the rest of [`crate::sim`]: durations in milliseconds (`_ms`), loads in queries per second
//! (`_qps`), offered load ρ = λ·E[S]/c dimensionless (Kleinrock, *Queueing Systems* vol. 1, §2.1); the model
//! follows RecPipe's serving emulation (`RecPipeAccelSim.py`), see `src/sim/README.md`.

use super::{ArrivalProcess, Interval, ServiceDist};
use serde::Serialize;

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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SubBatchGroup {
    /// First stage index of the group.
    pub first_stage: usize,
    /// Last stage index of the group (inclusive, > `first_stage`).
    pub last_stage: usize,
    /// Sub-batches a query is cut into (≥ 1).
    pub sub_batches: u32,
}

/// What is simulated: the arrival process and the stages.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct PipelineModel {
    /// How queries arrive.
    pub arrival: ArrivalProcess,
    /// The stages, in order.
    pub stages: Vec<StageModel>,
    /// Sub-batch pipelined groups (disjoint, each of ≥ 2 consecutive stages with equal `servers`).
    pub groups: Vec<SubBatchGroup>,
}

/// An SLA: the `percentile` of end-to-end latency must be ≤ `target_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct SlaTarget {
    /// Percentile, in (0, 100).
    pub percentile: f64,
    /// Target, ms.
    pub target_ms: f64,
}

/// Stop-early precision target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Precision {
    /// Required confidence-interval half-width relative to the estimate, for the mean and for the SLA
    /// percentile (p95 without an SLA), e.g. 0.01.
    pub relative_half_width: f64,
    /// Query cap: the run length doubles from `SimSettings::queries` up to this many queries.
    pub max_queries: u64,
}

/// How to run.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
