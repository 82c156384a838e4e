//! Exploration of a design space: one evaluation per design point joining four sources, a journal of
//! evaluated points, and the ask/tell driver that runs a search strategy.
//!
//! * **Quality** comes from a [`QualitySource`]: the cascade's NDCG@k / HR@k computed from cached scores
//!   (quality does not depend on hardware, so it is computed once per cascade of (model, items) stages).
//! * **CPU/GPU stage service times** come from a [`StageLatencySource`]: measured latency samples of one
//!   forward pass of the stage's model over its items, on a known host, used as an empirical distribution
//!   (resampled uniformly per query) and scaled by the measured interference slowdown for the number of
//!   engines the design runs concurrently on that host (see [`evaluate`]).
//! * **Accelerator stages** come from the RecPipeAccel cost model ([`crate::accel::evaluate_stage`]): a
//!   deterministic service time, area, power and energy per query.
//! * **Serving** comes from the virtual-time simulator ([`crate::sim`]): p50/p95/p99 and throughput at each
//!   offered load of the space, and the capacity under the SLA (largest load meeting it).
//!
//! An evaluation gives [`Outcome::Feasible`] with its [`Metrics`], or [`Outcome::Infeasible`] with the reason
//! (structural rule, over memory, missing latency profile, SLA never met, constraint violated) — an infeasible point is
//! data, not an error. Metric names follow [`crate::spec::metric::Metric`]'s spelling (`ndcg@64`, `p95_ms`,
//! `capacity_qps`, `area_mm2`, …); per-load values carry the load: `p95_ms@400qps`. Latency metrics without a
//! load suffix are those at the space's **reference load, the first entry of `load.qps`**.
//!
//! Objective vectors for Pareto analysis and search are in minimisation form ([`objective_vector`]).

pub mod driver;
pub mod evaluate;
pub mod journal;
pub mod merge;
pub mod metric_values;
pub mod run;
pub mod shard;
pub mod sources;

pub use driver::{Driver, DriverOptions, PhaseTimes, RunSummary};
pub use evaluate::{EvalSettings, Evaluator};
pub use journal::{Journal, JournalRecord};
pub use metric_values::MetricValues;

use crate::spec::metric::{Direction, Metric};
use crate::spec::{Space, StageHardware};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Crate version written into journals and reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Versions of the tool and of what its numbers depend on: the crates resolved in `Cargo.lock`, rustc and the
/// build profile (recorded by the build script), and the libtorch this process loaded.
pub fn versions() -> String {
    let libtorch = crate::measure::host::libtorch_version().unwrap_or_else(|| "unknown".into());
    format!("recpipe-dse {VERSION}; {}; libtorch {libtorch}", env!("RECPIPE_BUILD_VERSIONS"))
}

/// Quality of cascades: the source of `ndcg@K`, `recpipe_ndcg@K` and `hr@K` metrics.
pub trait QualitySource: Sync {
    /// Quality metrics of a cascade given per stage as (zoo index, items scored), keyed as metrics print
    /// (`ndcg@64`). `Err` carries a reason that makes the point infeasible.
    fn cascade(&self, stages: &[(usize, u32)]) -> Result<BTreeMap<String, f64>, String>;
    /// One line saying where the scores come from (data set, models, synthetic or real).
    fn describe(&self) -> String;
    /// Whether quality is measured on synthetic data.
    fn is_synthetic(&self) -> bool;
}

/// A measured per-query service-time sample of one CPU or GPU stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageService {
    /// Service times of one query on one engine, ms (already scaled for interference).
    pub samples_ms: Arc<Vec<f64>>,
    /// Host the profile was measured on.
    pub host: String,
    /// Interference slowdown factor applied to the raw sample (1 = none).
    pub slowdown: f64,
}

/// Per-stage service times of CPU and GPU stages.
pub trait StageLatencySource: Sync {
    /// Service-time sample of stage model `model` (zoo index) scoring `items` items and keeping the best
    /// `keep` on `hardware` (a CPU or GPU stage), when `concurrent_engines` engines of the design share that
    /// host's processors. `Err` carries the reason (e.g. no profile on any known host), which makes the point
    /// infeasible.
    fn stage_service(
        &self,
        model: usize,
        items: u32,
        keep: u32,
        hardware: &StageHardware,
        concurrent_engines: u32,
    ) -> Result<StageService, String>;
    /// One line saying where the profiles come from.
    fn describe(&self) -> String;
}

/// Metrics of one evaluated point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Named values (finite only), e.g. `ndcg@64`, `p95_ms`, `p95_ms@400qps`, `capacity_qps`, `area_mm2`.
    pub values: MetricValues,
    /// Per stage, where its service time came from: `accel model`, or the host of the latency profile.
    pub stage_sources: Vec<String>,
}

/// Key prefix of the per-load SLA verdicts (`sla_met@400qps`: 1 when the SLA percentile meets its target at
/// that load, else 0).
pub const SLA_MET: &str = "sla_met";

impl Metrics {
    /// Set a metric at the design's reference load (or a load-independent one). Non-finite values are left out
    /// (JSON has no NaN and a missing metric reads as absent).
    pub fn set(&mut self, metric: Metric, value: f64) {
        self.set_key(metric.to_string(), value);
    }
    /// Set a metric measured at one offered load (`load_tag` from [`evaluate::load_tag`]).
    pub fn set_at(&mut self, metric: Metric, load_tag: &str, value: f64) {
        self.set_key(metric.at_load(load_tag), value);
    }
    /// Record whether the SLA is met at one offered load.
    pub fn set_sla_met(&mut self, load_tag: &str, met: bool) {
        self.set_key(format!("{SLA_MET}@{load_tag}"), if met { 1.0 } else { 0.0 });
    }
    /// Add quality values keyed by their metric names (as the score cache reports them).
    pub fn set_quality(&mut self, values: BTreeMap<String, f64>) {
        values.into_iter().for_each(|(k, v)| self.set_key(k, v));
    }
    fn set_key(&mut self, key: String, value: f64) {
        if value.is_finite() {
            self.values.insert(&key, value);
        }
    }
    /// A metric's value at the reference load.
    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.values.get(&metric.to_string()).copied()
    }
    /// A metric's value at one offered load.
    pub fn get_at(&self, metric: Metric, load_tag: &str) -> Option<f64> {
        self.values.get(&metric.at_load(load_tag)).copied()
    }
}

/// Result of evaluating one design point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// The point can be served; all metrics are present.
    Feasible(Metrics),
    /// The point cannot be served as specified.
    Infeasible {
        /// Why.
        reason: String,
        /// What was computed before the point was found infeasible.
        partial: Metrics,
    },
}

impl Outcome {
    /// The metrics (complete or partial).
    pub fn metrics(&self) -> &Metrics {
        match self {
            Outcome::Feasible(m) => m,
            Outcome::Infeasible { partial, .. } => partial,
        }
    }
    /// Whether the point is feasible.
    pub fn is_feasible(&self) -> bool {
        matches!(self, Outcome::Feasible(_))
    }
}

/// The objective vector of an outcome in minimisation form (maximised metrics negated), or `None` when the
/// point is infeasible or lacks an objective metric.
pub fn objective_vector(space: &Space, outcome: &Outcome) -> Option<Vec<f64>> {
    let Outcome::Feasible(m) = outcome else { return None };
    space
        .objectives
        .iter()
        .map(|o| {
            let v = m.get(o.metric)?;
            Some(match o.direction {
                Direction::Minimize => v,
                Direction::Maximize => -v,
            })
        })
        .collect()
}

/// Human-readable description of a design's pipeline, e.g. `rm-small:4096 > rm-large:512`.
pub fn pipeline_label(space: &Space, design: &crate::spec::Design) -> String {
    design.stages.iter().map(|s| format!("{}:{}", space.zoo[s.model].name, s.items)).collect::<Vec<_>>().join(" > ")
}

/// Human-readable description of one stage's hardware, e.g. `cpu 16x1t`, `gpu x1`, `accel recpipe-s4 x8`.
pub fn hardware_label(space: &Space, hw: &StageHardware) -> String {
    match *hw {
        StageHardware::Cpu { engines, threads_per_engine } => format!("cpu {engines}x{threads_per_engine}t"),
        StageHardware::Gpu { gpus } => format!("gpu x{gpus}"),
        StageHardware::Accel { choice, count } => {
            let label = space.accel.as_ref().map_or("?", |a| a.choices[choice].label.as_str());
            format!("accel {label} x{count}")
        }
    }
}
