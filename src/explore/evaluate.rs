//! Evaluation of one design point: `Design → Outcome::Feasible(metrics) | Outcome::Infeasible { reason }`.
//!
//! **Stage service times.**
//! * `accel`: the RecPipeAccel cost model in the space's mode gives one deterministic per-query latency for
//!   (model, items scored, items forwarded, sub-accelerator). Consecutive accelerator stages pass candidates
//!   on chip: the host → chip transfer is charged to the first stage of a run of accelerator stages and the
//!   chip → host transfer to its last. The popularity model has no layers; on the accelerator it costs its
//!   transfers and the top-k filter (`accel::topk`). Items forwarded = the next stage's items, or the space's
//!   `top_k` after the last stage. MovieLens spaces use the cost model's MovieLens-1M table sizes (the
//!   closest it knows; larger than ML-100K, so embedding hit rates are conservative). Energy per query is
//!   the sum of the accelerator stages' energies; power is Σ count · sub-accelerator power, area Σ count ·
//!   area (GF 12LP synthesis numbers).
//! * `cpu` / `gpu`: the [`super::StageLatencySource`] gives a measured sample (ms per query on one engine)
//!   already multiplied by the interference slowdown for the design's concurrent engines on that host: the
//!   total CPU engines of the design for CPU stages (all CPU stages share one host), the stage's GPUs for a
//!   GPU stage. The simulator resamples it uniformly per query (an empirical distribution). Top-k sorting on
//!   CPU/GPU is part of the measured forward pass only as far as the profile includes it; no extra sort cost
//!   is added.
//!
//! **Serving.** Each stage is an FCFS queue with `servers` = its engines (CPU engines of the stage, GPUs, or
//! sub-accelerator count). The simulator runs the space's arrival process at each offered load (`load.qps`,
//! `load.queries`, `load.warmup_queries`, seed [`EvalSettings::seed`]) and the capacity search bisects the
//! largest load meeting the SLA to a relative tolerance of [`EvalSettings::capacity_relative_tolerance`]
//! (same seed at every load: common random numbers). A load at which some stage is offered ρ ≥ 1 is
//! saturated whatever the draws: it is not simulated, and gets what the simulator would report (no latency
//! metrics at that load, the SLA missed). Each step of the capacity search asks an SLA probe
//! ([`crate::sim::probe`]), which gives a full simulation's verdict at a fraction of its cost; the reference
//! path ([`Evaluator::with_full_simulation`]) simulates both in full and gives the same outcomes, as does the
//! baseline ([`Evaluator::with_baseline`]), which also runs the simulator as first written.
//!
//! **Infeasible** points: a structural rule of the space, a model that does not fit in its device's memory
//! (when the evaluator is given the models' parameter counts, [`Evaluator::with_model_parameters`]), a missing
//! latency profile, a failed quality lookup, an SLA not met even at a light load (capacity 0), or a violated
//! metric constraint.
//!
//! Work is memoised: quality once per cascade, service distributions once per (stage model, items, items
//! forwarded, hardware, transfers); the evaluator is `Sync` and points are evaluated in parallel.

use super::{Metrics, Outcome, QualitySource, StageLatencySource};
use crate::accel::{self, evaluate_stage, AccelConfig, Dataset, StageRequest};
use crate::sim::{
    self, ArrivalProcess, CapacityOptions, PipelineModel, ServiceDist, SimSettings, SlaTarget, StageModel,
};
use crate::spec::metric::Metric;
use crate::spec::{AccelTopN, AccelTransfers, ArrivalKind, DatasetKind, Design, PointId, Space, StageHardware};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Settings of the serving part of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalSettings {
    /// Seed of every simulation (arrivals and service draws).
    pub seed: u64,
    /// Relative bracket width at which the capacity bisection stops.
    pub capacity_relative_tolerance: f64,
    /// Queries per simulation (warm-up included).
    pub queries: u64,
    /// Warm-up queries per simulation.
    pub warmup_queries: u64,
}

impl EvalSettings {
    /// The space's load settings with its master seed and a 1 % capacity tolerance.
    pub fn from_space(space: &Space) -> EvalSettings {
        EvalSettings {
            seed: space.seed,
            capacity_relative_tolerance: 0.01,
            queries: space.load.queries,
            warmup_queries: space.load.warmup_queries,
        }
    }
}

/// Seconds spent in each phase of evaluation, summed over all points (over threads, so it can exceed wall
/// time).
#[derive(Debug, Default)]
pub struct PhaseClock {
    quality_ns: AtomicU64,
    service_ns: AtomicU64,
    simulate_ns: AtomicU64,
}

impl PhaseClock {
    fn add(counter: &AtomicU64, since: Instant) {
        counter.fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
    /// (quality, service times, simulation) CPU-thread seconds.
    pub fn seconds(&self) -> (f64, f64, f64) {
        let s = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64 * 1e-9;
        (s(&self.quality_ns), s(&self.service_ns), s(&self.simulate_ns))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ServiceKey {
    model: usize,
    items: u32,
    top_n: u32,
    hardware: HwKey,
    input_pcie: bool,
    output_pcie: bool,
    concurrent_engines: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum HwKey {
    Cpu { threads: u32 },
    Gpu,
    Accel { choice: usize },
}

/// The service key of each stage of `design`: model, items, items returned, hardware, transfers charged and
/// the engines running at once.
fn service_keys(space: &Space, design: &Design) -> Vec<ServiceKey> {
    let n = design.stages.len();
    let cpu_engines_total = design.cpu_engines_total.unwrap_or(0);
    let is_accel = |j: usize| matches!(design.stages[j].hardware, StageHardware::Accel { .. });
    let (accel_top_n, transfers) =
        space.accel.as_ref().map_or((AccelTopN::NextStage, AccelTransfers::ChipBoundary), |a| (a.top_n, a.transfers));
    let every_stage = transfers == AccelTransfers::EveryStage;
    design
        .stages
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let top_n = match accel_top_n {
                AccelTopN::Zero if is_accel(i) => 0,
                _ if i + 1 < n => design.stages[i + 1].items,
                _ => space.top_k,
            };
            let (hardware, concurrent_engines) = match st.hardware {
                StageHardware::Cpu { threads_per_engine, .. } => {
                    (HwKey::Cpu { threads: threads_per_engine }, cpu_engines_total)
                }
                StageHardware::Gpu { gpus } => (HwKey::Gpu, gpus),
                StageHardware::Accel { choice, count } => (HwKey::Accel { choice }, count),
            };
            ServiceKey {
                model: st.model,
                items: st.items,
                top_n: top_n.min(st.items),
                hardware,
                input_pcie: is_accel(i) && (every_stage || i == 0 || !is_accel(i - 1)),
                output_pcie: is_accel(i) && (every_stage || i + 1 == n || !is_accel(i + 1)),
                concurrent_engines,
            }
        })
        .collect()
}

/// Servers (engines, GPUs or sub-accelerators) of each stage of `design`.
fn stage_servers(design: &Design) -> Vec<u32> {
    design
        .stages
        .iter()
        .map(|st| match st.hardware {
            StageHardware::Cpu { engines, .. } => engines,
            StageHardware::Gpu { gpus } => gpus,
            StageHardware::Accel { count, .. } => count,
        })
        .collect()
}

/// Service time of each accelerator stage of `design` (s per query, as the evaluator charges it: items,
/// items returned, transfers at the chip's boundaries, the stage's datatype); `None` for CPU and GPU stages.
pub fn accel_service_s(space: &Space, design: &Design) -> Vec<Option<f64>> {
    service_keys(space, design)
        .iter()
        .map(|key| match key.hardware {
            HwKey::Accel { choice } => Some(accel_stage_cost(space, key, choice).0),
            HwKey::Cpu { .. } | HwKey::Gpu => None,
        })
        .collect()
}

/// Latency (s) and energy (J) per query of an accelerator stage.
fn accel_stage_cost(space: &Space, key: &ServiceKey, choice: usize) -> (f64, f64) {
    let knobs = space.accel.as_ref().expect("accel stage has accel knobs");
    let hw = &knobs.choices[choice].config;
    let dataset = match space.dataset.kind {
        DatasetKind::CriteoKaggle => Dataset::Kaggle,
        DatasetKind::Movielens => Dataset::Movielens1m,
    };
    let mode = knobs.mode;
    let mut req = StageRequest::new(dataset, key.items, key.top_n, mode);
    if knobs.python2_division {
        req.division = crate::accel::Division::Python2;
    }
    req.options.input_pcie = key.input_pcie;
    req.options.output_pcie = key.output_pcie;
    let model = &space.zoo[key.model];
    let typed_hw;
    let hw = match model.datatype {
        // A datatype sets the stage's datapath element size (MLP weights and activations) and the bytes of
        // every gathered embedding row.
        Some(dt) => {
            typed_hw = AccelConfig { element_bytes: dt.dense_value_bytes(), ..hw.clone() };
            req.options.embedding_element_bytes = Some(dt.embedding_element_bytes());
            req.options.embedding_row_overhead_bytes = dt.row_overhead_bytes();
            &typed_hw
        }
        None => hw,
    };
    let (latency_s, energy_j) = match model.arch.accel_shape(space.dataset.kind) {
        Some(shape) => {
            let r = evaluate_stage(&shape, hw, &req);
            (r.latency_s, r.energy_j)
        }
        None => {
            // Popularity: no layers; transfers and the top-k filter only.
            let mut cycles = if hw.architecture == accel::Architecture::Baseline {
                accel::topk::host_sort_s(key.items) * hw.clock_hz()
            } else {
                accel::topk::filter_cycles(key.items, hw.topk_units, hw.topk_bins)
            };
            if key.input_pcie {
                cycles += accel::pcie::transfer_cycles(hw, accel::pcie::input_bytes(dataset, key.items));
            }
            if key.output_pcie {
                cycles += accel::pcie::transfer_cycles(hw, accel::pcie::output_bytes(hw, key.top_n));
            }
            let latency_s = cycles / hw.clock_hz();
            (latency_s, knobs.choices[choice].power_w * latency_s)
        }
    };
    (latency_s, energy_j)
}

/// Quality metrics of a cascade, or why there are none.
type QualityResult = Result<BTreeMap<String, f64>, String>;

/// A resolved stage service: distribution, where it came from, and accelerator costs per query.
#[derive(Debug, Clone)]
struct ResolvedService {
    service: ServiceDist,
    source: String,
    energy_j: f64,
}

/// Bytes per model value on a CPU or GPU (f32, as the tch models run).
pub const HOST_VALUE_BYTES: f64 = 4.0;

/// Memory of `parameters` values at `bytes_per_value` bytes each, GiB.
pub fn model_gib(parameters: u64, bytes_per_value: f64) -> f64 {
    parameters as f64 * bytes_per_value / (1u64 << 30) as f64
}

/// Evaluates design points of one space against its sources (see the module docs).
pub struct Evaluator<'a> {
    space: &'a Space,
    quality: Option<&'a dyn QualitySource>,
    latency: &'a dyn StageLatencySource,
    settings: EvalSettings,
    quality_cache: Mutex<HashMap<Vec<(usize, u32)>, QualityResult>>,
    service_cache: Mutex<HashMap<ServiceKey, Result<ResolvedService, String>>>,
    /// Parameters of each zoo model at its real table sizes (memory-capacity rule); `None`: not checked.
    model_parameters: Option<Vec<u64>>,
    /// Bytes of each zoo model in its datatype, where the space gives one (`ZooModel::typed_bytes`).
    model_typed_bytes: Vec<Option<u64>>,
    /// How loads and capacity steps are simulated: `Probe` skips saturated loads and uses load summaries and
    /// SLA probes; `Simulation` and `Baseline` simulate every load and step in full, by `simulate` or by
    /// `simulate_baseline`. Every path gives the same outcomes.
    path: sim::StepVerdict,
    /// Time per phase.
    pub clock: PhaseClock,
}

impl<'a> Evaluator<'a> {
    /// An evaluator of `space`. Without a quality source no quality metric is computed (only allowed when no
    /// objective or constraint names one; see [`Evaluator::needs_quality`]).
    pub fn new(
        space: &'a Space,
        quality: Option<&'a dyn QualitySource>,
        latency: &'a dyn StageLatencySource,
        settings: EvalSettings,
    ) -> Evaluator<'a> {
        Evaluator {
            space,
            quality,
            latency,
            settings,
            quality_cache: Mutex::new(HashMap::new()),
            service_cache: Mutex::new(HashMap::new()),
            model_parameters: None,
            model_typed_bytes: Vec::new(),
            path: sim::StepVerdict::Probe,
            clock: PhaseClock::default(),
        }
    }

    /// Evaluate by the reference path: every offered load simulated (saturated ones too) and every step of
    /// the capacity search a full simulation ([`sim::StepVerdict::Simulation`]) instead of an SLA probe.
    /// The outcomes are the same; `bench explore` times both paths and checks that they agree.
    pub fn with_full_simulation(mut self) -> Self {
        self.path = sim::StepVerdict::Simulation;
        self
    }

    /// Evaluate as [`Self::with_full_simulation`] with the simulator as first written
    /// ([`sim::simulate_baseline`]): the evaluation path before any of the exact speed-ups, with the same
    /// outcomes; `bench explore`'s baseline.
    pub fn with_baseline(mut self) -> Self {
        self.path = sim::StepVerdict::Baseline;
        self
    }

    /// Check memory capacity: `parameters[m]` is the parameter count of zoo model `m` at its real table
    /// sizes (`Architecture::parameter_count`). A design is infeasible ("over memory") when an accelerator
    /// stage's model, at the sub-accelerator's `element_bytes` per value, exceeds its `dram_capacity_gib`
    /// (every sub-accelerator holds a copy); a GPU stage's model, at 4 bytes per value, exceeds
    /// `hardware.gpu.memory_gib` (every GPU holds a copy); or the distinct models of all CPU stages together,
    /// at 4 bytes per value, exceed `hardware.cpu.memory_gib` (one copy shared by the engines). Capacities the
    /// space or the accelerator file leave out are not checked.
    pub fn with_model_parameters(mut self, parameters: Vec<u64>) -> Self {
        self.model_parameters = Some(parameters);
        self
    }

    /// Sizes of models served in a given datatype (`ZooModel::typed_bytes`): such a model needs these bytes on
    /// every device, instead of its parameters at the device's value size.
    pub fn with_model_typed_bytes(mut self, bytes: Vec<Option<u64>>) -> Self {
        self.model_typed_bytes = bytes;
        self
    }

    /// Why `design` does not fit in memory, if it does not (see [`Evaluator::with_model_parameters`]).
    pub fn memory_violation(&self, design: &Design) -> Option<String> {
        let params = self.model_parameters.as_ref()?;
        let gib = |model: usize, bytes_per_value: f64| match self.model_typed_bytes.get(model).copied().flatten() {
            Some(bytes) => bytes as f64 / (1u64 << 30) as f64,
            None => params.get(model).map_or(0.0, |&p| model_gib(p, bytes_per_value)),
        };
        let name = |model: usize| self.space.zoo[model].name.as_str();
        let mut cpu_models: Vec<usize> = Vec::new();
        for stage in &design.stages {
            match stage.hardware {
                StageHardware::Accel { choice, .. } => {
                    let accel = self.space.accel.as_ref()?;
                    let c = &accel.choices[choice];
                    let need = gib(stage.model, f64::from(c.config.element_bytes));
                    if let Some(cap) = c.config.dram_capacity_gib.filter(|&cap| need > cap) {
                        return Some(format!(
                            "over memory: {} needs {need:.3} GiB, more than the {cap} GiB DRAM of {}",
                            name(stage.model),
                            c.label
                        ));
                    }
                }
                StageHardware::Gpu { .. } => {
                    let need = gib(stage.model, HOST_VALUE_BYTES);
                    if let Some(cap) = self.space.gpu.as_ref().and_then(|g| g.memory_gib).filter(|&cap| need > cap) {
                        return Some(format!(
                            "over memory: {} needs {need:.3} GiB, more than hardware.gpu.memory_gib = {cap}",
                            name(stage.model)
                        ));
                    }
                }
                StageHardware::Cpu { .. } => {
                    if !cpu_models.contains(&stage.model) {
                        cpu_models.push(stage.model);
                    }
                }
            }
        }
        let need: f64 = cpu_models.iter().map(|&m| gib(m, HOST_VALUE_BYTES)).sum();
        let cap = self.space.cpu.as_ref().and_then(|c| c.memory_gib).filter(|&cap| need > cap)?;
        let names: Vec<&str> = cpu_models.iter().map(|&m| name(m)).collect();
        Some(format!(
            "over memory: the CPU stages' models ({}) need {need:.3} GiB, more than hardware.cpu.memory_gib = {cap}",
            names.join(", ")
        ))
    }

    /// Whether some objective or constraint of `space` is a quality metric.
    pub fn needs_quality(space: &Space) -> bool {
        space.quality_metrics().next().is_some()
    }

    /// The settings used.
    pub fn settings(&self) -> EvalSettings {
        self.settings
    }

    /// The space evaluated.
    pub fn space(&self) -> &Space {
        self.space
    }

    /// Evaluate one point.
    pub fn evaluate(&self, id: PointId) -> Outcome {
        let mut outcome = self.evaluate_uncompacted(id);
        // Every evaluated point is kept until the report: no spare capacity.
        let metrics = match &mut outcome {
            Outcome::Feasible(m) | Outcome::Infeasible { partial: m, .. } => m,
        };
        metrics.values.shrink_to_fit();
        metrics.stage_sources.shrink_to_fit();
        outcome
    }

    fn evaluate_uncompacted(&self, id: PointId) -> Outcome {
        let Some(design) = self.space.design(id) else {
            return infeasible(format!("point {} is outside the space", id.0), Metrics::default());
        };
        let mut metrics = Metrics::default();
        if let Some(why) = self.space.structural_violation(&design).or_else(|| self.memory_violation(&design)) {
            return infeasible(why, metrics);
        }
        self.accel_totals(&design, &mut metrics);

        let t = Instant::now();
        let stages = self.stage_models(&design, &mut metrics);
        PhaseClock::add(&self.clock.service_ns, t);
        let stages = match stages {
            Ok(s) => s,
            Err(why) => return infeasible(why, metrics),
        };

        if let Some(q) = self.quality {
            let t = Instant::now();
            let result = self.cascade_quality(q, &design);
            PhaseClock::add(&self.clock.quality_ns, t);
            match result {
                Ok(values) => metrics.set_quality(values),
                Err(why) => return infeasible(why, metrics),
            }
        }

        let t = Instant::now();
        let served = self.serve(&stages, &mut metrics);
        PhaseClock::add(&self.clock.simulate_ns, t);
        if let Err(why) = served {
            return infeasible(why, metrics);
        }
        match self.constraint_violation(&metrics) {
            Some(why) => infeasible(why, metrics),
            None => Outcome::Feasible(metrics),
        }
    }

    fn cascade_quality(&self, q: &dyn QualitySource, design: &Design) -> Result<BTreeMap<String, f64>, String> {
        let key: Vec<(usize, u32)> = design.stages.iter().map(|s| (s.model, s.items)).collect();
        if let Some(hit) = self.quality_cache.lock().expect("quality cache lock").get(&key) {
            return hit.clone();
        }
        let value = q.cascade(&key);
        self.quality_cache.lock().expect("quality cache lock").insert(key, value.clone());
        value
    }

    /// Area, power of the accelerator stages (energy is added per stage in [`Self::stage_models`]).
    fn accel_totals(&self, design: &Design, m: &mut Metrics) {
        let Some(accel) = &self.space.accel else { return };
        if let Some(area) = self.space.accel_area_mm2(design) {
            m.set(Metric::AreaMm2, area);
            let power: f64 = design
                .stages
                .iter()
                .filter_map(|s| match s.hardware {
                    StageHardware::Accel { choice, count } => Some(accel.choices[choice].power_w * f64::from(count)),
                    _ => None,
                })
                .sum();
            m.set(Metric::PowerW, power);
        }
    }

    fn stage_models(&self, design: &Design, m: &mut Metrics) -> Result<Vec<StageModel>, String> {
        let n = design.stages.len();
        let mut out = Vec::with_capacity(n);
        let mut energy_j = 0.0;
        let mut any_accel = false;
        let keys = service_keys(self.space, design).into_iter().zip(stage_servers(design));
        for (i, (st, (key, servers))) in design.stages.iter().zip(keys).enumerate() {
            let resolved = self.service(&key, &st.hardware)?;
            if matches!(st.hardware, StageHardware::Accel { .. }) {
                any_accel = true;
                energy_j += resolved.energy_j;
            }
            m.stage_sources.push(resolved.source.clone());
            out.push(StageModel {
                name: format!("s{i} {}", self.space.zoo[st.model].name),
                servers,
                service: resolved.service,
                sort_ms: 0.0,
                overhead_ms: 0.0,
            });
        }
        if any_accel {
            m.set(Metric::EnergyJPerQuery, energy_j);
        }
        Ok(out)
    }

    fn service(&self, key: &ServiceKey, hw: &StageHardware) -> Result<ResolvedService, String> {
        if let Some(hit) = self.service_cache.lock().expect("service cache lock").get(key) {
            return hit.clone();
        }
        let value = match key.hardware {
            HwKey::Accel { choice } => {
                let (latency_s, energy_j) = accel_stage_cost(self.space, key, choice);
                Ok(ResolvedService {
                    service: ServiceDist::Deterministic { ms: latency_s * 1e3 },
                    source: "accel model".to_string(),
                    energy_j,
                })
            }
            HwKey::Cpu { .. } | HwKey::Gpu => self
                .latency
                .stage_service(key.model, key.items, key.top_n, hw, key.concurrent_engines)
                .map(|s| ResolvedService {
                    service: ServiceDist::Empirical { samples_ms: s.samples_ms },
                    source: s.host,
                    energy_j: 0.0,
                }),
        };
        self.service_cache.lock().expect("service cache lock").insert(key.clone(), value.clone());
        value
    }

    fn arrival(&self, qps: f64) -> ArrivalProcess {
        match self.space.load.arrival {
            ArrivalKind::Poisson => ArrivalProcess::Poisson { qps },
            ArrivalKind::LegacyMs => ArrivalProcess::LegacyMs { mean_gap_ms: 1000.0 / qps },
        }
    }

    fn sim_settings(&self) -> SimSettings {
        let mut s = SimSettings::new(self.settings.queries, self.settings.seed);
        s.warmup_queries = self.settings.warmup_queries;
        s.sla = Some(self.sla());
        s
    }

    fn sla(&self) -> SlaTarget {
        SlaTarget { percentile: self.space.sla.percentile, target_ms: self.space.sla.target_ms }
    }

    /// Simulate at each load and search the capacity under the SLA.
    fn serve(&self, stages: &[StageModel], m: &mut Metrics) -> Result<(), String> {
        let settings = self.sim_settings();
        let loads = &self.space.load.qps;
        for (i, &qps) in loads.iter().enumerate() {
            let model = PipelineModel { arrival: self.arrival(qps), stages: stages.to_vec(), groups: vec![] };
            let tag = load_tag(qps);
            // ρ ≥ 1 at this load: the simulation would report saturation and a missed SLA, and nothing else.
            if self.path == sim::StepVerdict::Probe
                && sim::saturated_at_offered_load(&model).map_err(|e| format!("simulation failed: {e}"))?
            {
                m.set_sla_met(&tag, false);
                continue;
            }
            let fail = |e: sim::SimError| format!("simulation failed: {e}");
            // The figures kept, by the exact shortcut where it applies, else from a full simulation.
            let summary = match self.path {
                sim::StepVerdict::Probe => sim::probe::load_summary(&model, &settings).map_err(fail)?,
                sim::StepVerdict::Simulation | sim::StepVerdict::Baseline => None,
            };
            let simulate = if self.path == sim::StepVerdict::Baseline { sim::simulate_baseline } else { sim::simulate };
            let (figures, saturated, sla_met) = match summary {
                Some(f) => ([f.mean_ms, f.p50_ms, f.p95_ms, f.p99_ms, f.throughput_qps], false, f.sla_met),
                None => {
                    let r = simulate(&model, &settings).map_err(fail)?;
                    let met = r.sla.as_ref().is_some_and(|s| s.met);
                    ([r.mean_ms, r.p50_ms, r.p95_ms, r.p99_ms, r.throughput_qps], r.saturated, met)
                }
            };
            let metrics = [Metric::MeanMs, Metric::P50Ms, Metric::P95Ms, Metric::P99Ms, Metric::ThroughputQps];
            for (metric, v) in metrics.into_iter().zip(figures) {
                if !saturated {
                    m.set_at(metric, &tag, v);
                    if i == 0 {
                        m.set(metric, v);
                    }
                }
            }
            m.set_sla_met(&tag, sla_met);
        }
        let model = PipelineModel { arrival: self.arrival(loads[0]), stages: stages.to_vec(), groups: vec![] };
        let opts =
            CapacityOptions { relative_tolerance: self.settings.capacity_relative_tolerance, ..Default::default() };
        let cap = sim::max_qps_under_sla_by(&model, &settings, self.sla(), &opts, self.path)
            .map_err(|e| format!("capacity search failed: {e}"))?;
        m.set(Metric::SaturationQps, cap.saturation_qps);
        m.set(Metric::CapacityQps, cap.max_qps);
        if let (Some(p), Some(a)) = (m.get(Metric::PowerW), m.get(Metric::AreaMm2)) {
            m.set(Metric::QpsPerW, cap.max_qps / p);
            m.set(Metric::QpsPerMm2, cap.max_qps / a);
        }
        if cap.max_qps <= 0.0 {
            return Err(format!(
                "SLA never met: p{} ≤ {} ms fails even at {:.3} queries/s",
                fmt_num(self.space.sla.percentile),
                fmt_num(self.space.sla.target_ms),
                cap.min_failing_qps
            ));
        }
        if m.get(Metric::P95Ms).is_none() {
            return Err(format!("saturated at the reference load of {} queries/s", fmt_num(loads[0])));
        }
        Ok(())
    }

    /// Serving figures of one point under several SLA targets at once (for `compare`): the capacity meeting
    /// every target (the smallest of the per-target capacities, each being monotone in the load) and the
    /// p95 latency at each of `loads_qps` (`None` where the pipeline saturates). `Err` when the point is
    /// infeasible before serving (structure, missing profile).
    pub fn serve_under(&self, id: PointId, slas: &[SlaTarget], loads_qps: &[f64]) -> Result<ServingUnder, String> {
        let design = self.space.design(id).ok_or_else(|| format!("point {} is outside the space", id.0))?;
        if let Some(why) = self.space.structural_violation(&design).or_else(|| self.memory_violation(&design)) {
            return Err(why);
        }
        let mut scratch = Metrics::default();
        let stages = self.stage_models(&design, &mut scratch)?;
        let mut settings = self.sim_settings();
        let first = loads_qps.first().copied().unwrap_or(self.space.load.qps[0]);
        let model = PipelineModel { arrival: self.arrival(first), stages: stages.clone(), groups: vec![] };
        let opts =
            CapacityOptions { relative_tolerance: self.settings.capacity_relative_tolerance, ..Default::default() };
        let mut capacity_qps = f64::INFINITY;
        for sla in slas {
            let c = sim::max_qps_under_sla(&model, &settings, *sla, &opts).map_err(|e| e.to_string())?;
            capacity_qps = capacity_qps.min(c.max_qps);
        }
        settings.sla = None;
        let p95_ms = loads_qps
            .iter()
            .map(|&qps| {
                let m = PipelineModel { arrival: self.arrival(qps), stages: stages.clone(), groups: vec![] };
                sim::simulate(&m, &settings).ok().filter(|r| !r.saturated).map(|r| r.p95_ms)
            })
            .collect();
        Ok(ServingUnder { capacity_qps: if capacity_qps.is_finite() { capacity_qps } else { 0.0 }, p95_ms })
    }

    fn constraint_violation(&self, m: &Metrics) -> Option<String> {
        for c in &self.space.constraints {
            let name = c.metric.to_string();
            let Some(v) = m.get(c.metric) else {
                return Some(format!("constraint on {name}: metric not available"));
            };
            if let Some(lo) = c.min {
                if v < lo {
                    return Some(format!("constraint {name} ≥ {} violated: {v:.4}", fmt_num(lo)));
                }
            }
            if let Some(hi) = c.max {
                if v > hi {
                    return Some(format!("constraint {name} ≤ {} violated: {v:.4}", fmt_num(hi)));
                }
            }
        }
        None
    }
}

/// Serving figures of one point under a set of SLA targets ([`Evaluator::serve_under`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ServingUnder {
    /// Largest offered load meeting every target, queries/s (0 when none does).
    pub capacity_qps: f64,
    /// p95 end-to-end latency at each requested load, ms (`None` where saturated).
    pub p95_ms: Vec<Option<f64>>,
}

fn infeasible(reason: String, partial: Metrics) -> Outcome {
    Outcome::Infeasible { reason, partial }
}

/// The suffix naming an offered load in per-load metric names: `400qps`, `66.7qps`.
pub fn load_tag(qps: f64) -> String {
    format!("{}qps", fmt_num(qps))
}

/// A number without trailing zeros (`66.7`, `400`).
pub fn fmt_num(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// The latency source of a run without calibration profiles: every CPU/GPU stage is infeasible with that
/// reason, accelerator stages are unaffected (used for accelerator-only spaces).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProfiles;

impl StageLatencySource for NoProfiles {
    fn stage_service(
        &self,
        model: usize,
        items: u32,
        _: u32,
        hw: &StageHardware,
        _: u32,
    ) -> Result<super::StageService, String> {
        let backend = match hw {
            StageHardware::Gpu { .. } => "gpu",
            _ => "cpu",
        };
        Err(format!("no latency profile for zoo model {model} @{items} on {backend}: no calibration loaded"))
    }
    fn describe(&self) -> String {
        self.describe_static()
    }
}

impl NoProfiles {
    /// The description, without a trait object.
    pub fn describe_static(&self) -> String {
        "no CPU/GPU latency profiles".to_string()
    }
}
