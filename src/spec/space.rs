//! The typed design space and its points.
//!
//! A space is a union of *templates*: one per (pipeline entry, backend tuple) of the spec. Each template has
//! an ordered list of knobs ([`Param`]), each with a finite domain; only knobs that matter for the template
//! exist (a CPU-only pipeline has no accelerator knobs), so no two ids decode to the same design. A point is a
//! global [`PointId`]: the template's offset plus the mixed-radix number formed by the knob digits, first
//! knob least significant (the Timeloop convention). [`Space::decode`] and [`Space::encode`] are inverse.

use super::metric::{Direction, Metric};
use crate::model::ZooModel;
use serde::Serialize;
use std::fmt;

/// Where a stage runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// CPU inference engines (processes with `threads_per_engine` threads each).
    Cpu,
    /// GPU inference, one engine per GPU.
    Gpu,
    /// RecPipeAccel sub-accelerators.
    Accel,
}

impl Backend {
    /// Parse `cpu`, `gpu` or `accel`.
    pub fn parse(text: &str) -> Option<Backend> {
        crate::input::parse_choice(text)
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::input::choice_name(self))
    }
}

/// Data-set kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// MovieLens (100K, 1M or 20M file formats), implicit feedback.
    Movielens,
    /// Criteo Kaggle display-advertising (`train.txt`), or its synthetic stand-in.
    CriteoKaggle,
}

/// MovieLens evaluation protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Protocol {
    /// Leave-one-out, ranking the test item against every item the user has not interacted with.
    LooFull,
    /// Leave-one-out against `negatives` uniformly sampled non-interacted items.
    LooSampled {
        /// Sampled negatives per user.
        negatives: u32,
    },
    /// Criteo-style: a query is a window of `candidates_per_query` impressions.
    Window,
}

/// The data set a space is evaluated on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetSpec {
    /// Kind of data.
    pub kind: DatasetKind,
    /// Path to the real files (a directory for MovieLens, `train.txt` for Criteo), relative paths as written.
    pub path: Option<String>,
    /// Whether the real files were found at validation time.
    pub path_exists: bool,
    /// Criteo only: use the synthetic Criteo-shaped generator when the files are absent.
    pub synthetic_fallback: bool,
    /// Number of evaluation queries.
    pub eval_queries: u32,
    /// Candidates per query (Criteo windows and sampled MovieLens protocols); `None` for `loo-full`.
    pub candidates_per_query: Option<u32>,
    /// Evaluation protocol.
    pub protocol: Protocol,
    /// Criteo: cap on rows per embedding table (DLRM's `max_ind_range`).
    pub max_ind_range: Option<u64>,
    /// Seed for data generation, sampling and splits.
    pub seed: u64,
    /// Criteo only: settings of the synthetic stand-in that replace its calibrated defaults.
    pub synthetic: SyntheticSpec,
}

/// The optional `dataset.synthetic:` section: each field set replaces the synthetic Criteo generator's
/// calibrated default (see `data::synthetic`); absent fields keep it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct SyntheticSpec {
    /// Mean click probability, in (0, 1).
    pub click_rate: Option<f64>,
    /// Ids per table that carry signal (rarer ids carry none).
    pub informative_ids: Option<u32>,
    /// Standard deviation (logits) of the pairwise-interaction part of the teacher.
    pub interaction: Option<f64>,
    /// Standard deviation (logits) of the dense part.
    pub dense: Option<f64>,
    /// Standard deviation (logits) of the first-order part.
    pub first_order: Option<f64>,
    /// Standard deviation (logits) of the per-row Gaussian logit noise.
    pub noise: Option<f64>,
    /// Right skew κ ≥ 0 of the teacher's logit.
    pub tail: Option<f64>,
}

impl DatasetSpec {
    /// True when quality will be measured on synthetic data.
    pub fn is_synthetic(&self) -> bool {
        self.kind == DatasetKind::CriteoKaggle && !self.path_exists
    }
}

pub use crate::zoo::train::TrainingSpec;

/// CPU knobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuKnobs {
    /// Total CPU engine budget choices, split evenly over a design's CPU stages.
    pub engines: Vec<u32>,
    /// Threads per engine choices.
    pub threads_per_engine: Vec<u32>,
    /// Host memory for the models of all CPU stages together (one copy per model, shared by the engines),
    /// GiB; absent: not checked.
    pub memory_gib: Option<f64>,
    /// Physical cores of the CPU server: engines × threads per engine may not exceed it (RecPipe sets its
    /// engine budget to the physical cores); absent: not checked.
    pub cores: Option<u32>,
}

/// GPU knobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuKnobs {
    /// GPUs per GPU stage choices (one engine per GPU).
    pub count: Vec<u32>,
    /// Most GPUs a design may use over all its stages.
    pub max_total: u32,
    /// Memory of one GPU, GiB: each GPU of a stage holds a full copy of the stage's model; absent: not
    /// checked.
    pub memory_gib: Option<f64>,
}

/// One sub-accelerator configuration a stage can use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccelChoice {
    /// Label used in reports (preset file stem, plus the overrides of a sweep point).
    pub label: String,
    /// The accelerator description file it starts from, as written in the spec.
    pub base: String,
    /// Values replaced by a sweep.
    pub overrides: crate::accel::knobs::Overlay,
    /// The resolved, validated configuration (base file with the overrides applied).
    pub config: crate::accel::hardware::AccelConfig,
    /// Silicon area of one such sub-accelerator, mm² (`accel::area_power`).
    pub area_mm2: f64,
    /// Power of one such sub-accelerator, W.
    pub power_w: f64,
}

/// Accelerator knobs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccelKnobs {
    /// Cost-model mode.
    pub mode: crate::accel::Mode,
    /// Sub-accelerator configurations (presets, then sweep points).
    pub choices: Vec<AccelChoice>,
    /// Sub-accelerators per stage choices.
    pub count_per_stage: Vec<u32>,
    /// Total silicon area a design may use, mm².
    pub area_budget_mm2: Option<f64>,
    /// Items an accelerator stage returns to the next stage.
    pub top_n: AccelTopN,
    /// Where host ↔ accelerator transfers are charged.
    pub transfers: AccelTransfers,
    /// `recpipe2021`: integer division in the sort term, as in the Python-2 runs behind RecPipe's logs.
    pub python2_division: bool,
}

/// Items an accelerator stage returns (`hardware.accel.top_n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AccelTopN {
    /// The next stage's items (the last stage: `quality.top_k`).
    #[default]
    NextStage,
    /// None, as RecPipe's accelerator thread passes (`top_n = 0`: only the fixed PCIe-out latency).
    Zero,
}

/// Where an accelerator stage pays the host ↔ accelerator transfers (`hardware.accel.transfers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AccelTransfers {
    /// Only where the pipeline enters or leaves the chip: consecutive accelerator stages pass items on chip.
    #[default]
    ChipBoundary,
    /// Every accelerator stage pays PCIe in and out, as RecPipe's model does.
    EveryStage,
}

/// Arrival process of the load generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ArrivalKind {
    /// Exponential inter-arrival gaps (a true Poisson process).
    Poisson,
    /// RecPipe's integer-millisecond Poisson-distributed gaps with mean 1000/QPS ms.
    LegacyMs,
}

/// Load settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadSpec {
    /// Arrival process.
    pub arrival: ArrivalKind,
    /// Offered loads, queries/s.
    pub qps: Vec<f64>,
    /// Simulated queries per (design, load).
    pub queries: u64,
    /// Leading queries excluded from statistics.
    pub warmup_queries: u64,
}

/// Service-level agreement: the `percentile` of end-to-end latency must be ≤ `target_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sla {
    /// Percentile in (0, 100).
    pub percentile: f64,
    /// Target, ms.
    pub target_ms: f64,
}

/// An optimisation objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Objective {
    /// Metric.
    pub metric: Metric,
    /// Direction.
    pub direction: Direction,
}

/// A feasibility constraint on a metric (inclusive bounds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Constraint {
    /// Metric.
    pub metric: Metric,
    /// Lower bound.
    pub min: Option<f64>,
    /// Upper bound.
    pub max: Option<f64>,
}

/// A lower bound on a quality metric for iso-quality comparisons (`compare`), e.g. `ndcg@64 ≥ 0.9225`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct QualityFloor {
    /// A quality metric the space reports.
    pub metric: Metric,
    /// Its smallest admitted value.
    pub min: f64,
}

/// Search settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SearchSpec {
    /// Strategy.
    pub strategy: crate::search::StrategyKind,
    /// Most design points evaluated.
    pub budget: u64,
    /// Seed of the search's random choices.
    pub seed: u64,
    /// NSGA-II population size.
    pub population: u32,
    /// Annealing restarts (each with different objective weights).
    pub restarts: u32,
    /// Stop once this fraction of the budget was evaluated without the Pareto front growing.
    pub early_stop: Option<f64>,
}

/// One pipeline entry of the spec: a depth with its model, item and backend choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineSpec {
    /// Number of stages.
    pub stages: usize,
    /// Per stage position, the zoo indices allowed there.
    pub models: Vec<Vec<usize>>,
    /// Allowed item tuples (items scored per stage, strictly decreasing).
    pub items: Vec<Vec<u32>>,
    /// Allowed backend tuples.
    pub backends: Vec<Vec<Backend>>,
}

/// What a knob selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "stage")]
pub enum ParamKind {
    /// Model of a stage.
    StageModel(usize),
    /// The item tuple.
    Items,
    /// Total CPU engines.
    CpuEngines,
    /// Threads per CPU engine.
    CpuThreads,
    /// GPUs per GPU stage.
    GpuCount,
    /// Accelerator configuration of a stage.
    AccelConfig(usize),
    /// Sub-accelerator count of a stage.
    AccelCount(usize),
}

/// One knob of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Param {
    /// What it selects.
    pub kind: ParamKind,
    /// Domain size.
    pub radix: u64,
}

/// A (pipeline entry, backend tuple) block of the space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    /// Index into [`Space::pipelines`].
    pub pipeline: usize,
    /// Backend per stage.
    pub backends: Vec<Backend>,
    /// Knobs, least significant first.
    pub params: Vec<Param>,
    /// Number of points (product of radices).
    pub size: u64,
    /// Id of the template's first point.
    pub offset: u64,
}

/// Global id of a design point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PointId(pub u64);

/// The hardware of one stage of a design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "backend")]
pub enum StageHardware {
    /// CPU engines of this stage.
    Cpu {
        /// Engines serving this stage (the total split evenly over CPU stages, rounded down).
        engines: u32,
        /// Threads per engine.
        threads_per_engine: u32,
    },
    /// GPUs of this stage.
    Gpu {
        /// GPUs (engines).
        gpus: u32,
    },
    /// Sub-accelerators of this stage.
    Accel {
        /// Index into [`AccelKnobs::choices`].
        choice: usize,
        /// Number of sub-accelerators.
        count: u32,
    },
}

/// One stage of a design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StageDesign {
    /// Index into [`Space::zoo`].
    pub model: usize,
    /// Items scored.
    pub items: u32,
    /// Hardware.
    pub hardware: StageHardware,
}

/// A typed design point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Design {
    /// Its id.
    pub id: PointId,
    /// Index into [`Space::templates`].
    pub template: usize,
    /// Stages in pipeline order.
    pub stages: Vec<StageDesign>,
    /// Total CPU engine budget when a stage runs on CPU.
    pub cpu_engines_total: Option<u32>,
}

/// A validated design space.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Space {
    /// File it was read from, as named by the user.
    pub source: String,
    /// Space name (used in report folder names).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Master seed; component seeds default to values derived from it.
    pub seed: u64,
    /// Data set.
    pub dataset: DatasetSpec,
    /// Model zoo.
    pub zoo: Vec<ZooModel>,
    /// How the zoo's models are trained.
    pub training: TrainingSpec,
    /// Final top-k returned by the pipeline (quality metrics' largest cut-off).
    pub top_k: u32,
    /// Pipeline entries.
    pub pipelines: Vec<PipelineSpec>,
    /// Templates, in id order.
    pub templates: Vec<Template>,
    /// CPU knobs, when a pipeline uses the CPU.
    pub cpu: Option<CpuKnobs>,
    /// GPU knobs, when a pipeline uses a GPU.
    pub gpu: Option<GpuKnobs>,
    /// Accelerator knobs, when a pipeline uses the accelerator.
    pub accel: Option<AccelKnobs>,
    /// Load.
    pub load: LoadSpec,
    /// SLA.
    pub sla: Sla,
    /// Objectives.
    pub objectives: Vec<Objective>,
    /// Constraints.
    pub constraints: Vec<Constraint>,
    /// Quality floor of iso-quality comparisons (`compare`); `explore` does not use it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quality_floor: Vec<QualityFloor>,
    /// Search settings.
    pub search: SearchSpec,
    /// Output directory for reports.
    pub output_dir: String,
}

impl Template {
    /// The templates of validated pipelines and hardware knobs: one per (pipeline entry, backend tuple), each a
    /// mixed-radix block of parameters, laid out one after another (`offset`) in the space's point ids.
    pub(crate) fn build_all(
        pipelines: &[PipelineSpec],
        cpu: Option<&CpuKnobs>,
        gpu: Option<&GpuKnobs>,
        accel: Option<&AccelKnobs>,
    ) -> Vec<Template> {
        let mut out = Vec::new();
        let mut offset = 0u64;
        for (pi, p) in pipelines.iter().enumerate() {
            for backends in &p.backends {
                let mut params: Vec<Param> = (0..p.stages)
                    .map(|s| Param { kind: ParamKind::StageModel(s), radix: p.models[s].len() as u64 })
                    .collect();
                params.push(Param { kind: ParamKind::Items, radix: p.items.len() as u64 });
                if backends.contains(&Backend::Cpu) {
                    let c = cpu.expect("validated: cpu knobs exist when a cpu backend is used");
                    params.push(Param { kind: ParamKind::CpuEngines, radix: c.engines.len() as u64 });
                    params.push(Param { kind: ParamKind::CpuThreads, radix: c.threads_per_engine.len() as u64 });
                }
                if backends.contains(&Backend::Gpu) {
                    let g = gpu.expect("validated: gpu knobs exist when a gpu backend is used");
                    params.push(Param { kind: ParamKind::GpuCount, radix: g.count.len() as u64 });
                }
                for (s, b) in backends.iter().enumerate() {
                    if *b == Backend::Accel {
                        let a = accel.expect("validated: accel knobs exist when an accel backend is used");
                        params.push(Param { kind: ParamKind::AccelConfig(s), radix: a.choices.len() as u64 });
                        params.push(Param { kind: ParamKind::AccelCount(s), radix: a.count_per_stage.len() as u64 });
                    }
                }
                let size = params.iter().map(|p| p.radix).product();
                out.push(Template { pipeline: pi, backends: backends.clone(), params, size, offset });
                offset += size;
            }
        }
        out
    }
}

impl Space {
    /// Number of design points (before constraints).
    pub fn point_count(&self) -> u64 {
        self.templates.iter().map(|t| t.size).sum()
    }

    /// Split an id into its template and knob digits (least significant first); `None` if out of range.
    pub fn decode(&self, id: PointId) -> Option<(usize, Vec<u64>)> {
        let t = self.templates.partition_point(|t| t.offset + t.size <= id.0);
        let template = self.templates.get(t)?;
        let mut rest = id.0 - template.offset;
        let digits = template
            .params
            .iter()
            .map(|p| {
                let d = rest % p.radix;
                rest /= p.radix;
                d
            })
            .collect();
        Some((t, digits))
    }

    /// Inverse of [`Space::decode`]; `None` if the template or a digit is out of range.
    pub fn encode(&self, template: usize, digits: &[u64]) -> Option<PointId> {
        let t = self.templates.get(template)?;
        if digits.len() != t.params.len() {
            return None;
        }
        let mut local = 0u64;
        for (p, &d) in t.params.iter().zip(digits).rev() {
            if d >= p.radix {
                return None;
            }
            local = local * p.radix + d;
        }
        Some(PointId(t.offset + local))
    }

    /// The typed design of an id.
    pub fn design(&self, id: PointId) -> Option<Design> {
        let (t, digits) = self.decode(id)?;
        let template = &self.templates[t];
        let pipe = &self.pipelines[template.pipeline];
        let digit = |kind: ParamKind| -> usize {
            let i = template.params.iter().position(|p| p.kind == kind).expect("template has the knob");
            digits[i] as usize
        };
        let items = &pipe.items[digit(ParamKind::Items)];
        let cpu_stages = template.backends.iter().filter(|b| **b == Backend::Cpu).count() as u32;
        let cpu = (cpu_stages > 0).then(|| {
            let knobs = self.cpu.as_ref().expect("validated: cpu knobs exist");
            (knobs.engines[digit(ParamKind::CpuEngines)], knobs.threads_per_engine[digit(ParamKind::CpuThreads)])
        });
        let stages = (0..pipe.stages)
            .map(|s| {
                let hardware = match template.backends[s] {
                    Backend::Cpu => {
                        let (total, threads) = cpu.expect("cpu stage has cpu knobs");
                        StageHardware::Cpu { engines: total / cpu_stages, threads_per_engine: threads }
                    }
                    Backend::Gpu => {
                        let knobs = self.gpu.as_ref().expect("validated: gpu knobs exist");
                        StageHardware::Gpu { gpus: knobs.count[digit(ParamKind::GpuCount)] }
                    }
                    Backend::Accel => {
                        let knobs = self.accel.as_ref().expect("validated: accel knobs exist");
                        StageHardware::Accel {
                            choice: digit(ParamKind::AccelConfig(s)),
                            count: knobs.count_per_stage[digit(ParamKind::AccelCount(s))],
                        }
                    }
                };
                StageDesign { model: pipe.models[s][digit(ParamKind::StageModel(s))], items: items[s], hardware }
            })
            .collect();
        Some(Design { id, template: t, stages, cpu_engines_total: cpu.map(|c| c.0) })
    }

    /// Quality metrics (those with a cutoff, `ndcg@64`, …) named by an objective or a constraint: objectives
    /// first, in spec order, repeats kept.
    pub fn quality_metrics(&self) -> impl Iterator<Item = Metric> + '_ {
        self.objectives
            .iter()
            .map(|o| o.metric)
            .chain(self.constraints.iter().map(|c| c.metric))
            .filter(|m| m.cutoff().is_some())
    }

    /// Whether every evaluation of this space reports quality metric `m`: `ndcg`, `hr` and `recpipe_ndcg` at
    /// 10 (when ≤ `top_k`) and at `top_k`, and any quality metric an objective or constraint names. `Err`
    /// says what is reported instead.
    pub fn reports_quality_metric(&self, m: Metric) -> Result<(), String> {
        let default_k = |k: u32| k == self.top_k || (k == 10 && 10 <= self.top_k);
        let ok = match m {
            Metric::Ndcg(k) | Metric::HitRate(k) | Metric::RecpipeNdcg(k) => {
                default_k(k) || self.quality_metrics().any(|q| q == m)
            }
            _ => false,
        };
        if ok {
            return Ok(());
        }
        let mut names: Vec<String> = self.quality_metrics().map(|q| q.to_string()).collect();
        for k in [10, self.top_k].into_iter().filter(|k| *k <= self.top_k) {
            names.extend([Metric::Ndcg(k), Metric::HitRate(k), Metric::RecpipeNdcg(k)].map(|q| q.to_string()));
        }
        names.sort();
        names.dedup();
        Err(format!("'{m}' is not a quality metric this space reports (reported: {})", names.join(", ")))
    }

    /// Why a design violates a structural rule of the space (CPU engines too few for its CPU stages, more
    /// GPUs than allowed, accelerator area over the budget), or `None`. Metric constraints are checked after
    /// evaluation, not here.
    pub fn structural_violation(&self, design: &Design) -> Option<String> {
        self.structural_breaches(design).into_iter().next().map(|(why, _)| why)
    }

    /// How far a design lies outside the structural rules: 0 when [`Space::structural_violation`] finds
    /// none, otherwise the sum of the relative excesses (CPU stages over engines, engines × threads over
    /// cores, GPUs over `max_total`, area over the budget). Lets a search walk an invalid draw back inside.
    pub fn structural_excess(&self, design: &Design) -> f64 {
        self.structural_breaches(design).iter().map(|(_, excess)| excess).sum()
    }

    /// Every structural rule a design breaks, in the order they are checked: why, and by how much (relative
    /// to the limit, > 0).
    fn structural_breaches(&self, design: &Design) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        let cpu_stages = design.stages.iter().filter(|s| matches!(s.hardware, StageHardware::Cpu { .. })).count();
        if let Some(total) = design.cpu_engines_total {
            if (total as usize) < cpu_stages {
                let excess = (cpu_stages - total as usize) as f64 / cpu_stages as f64;
                out.push((format!("{total} CPU engines cannot serve {cpu_stages} CPU stages"), excess));
            }
            let threads = design
                .stages
                .iter()
                .find_map(|s| match s.hardware {
                    StageHardware::Cpu { threads_per_engine, .. } => Some(threads_per_engine),
                    _ => None,
                })
                .unwrap_or(1);
            if let Some(cores) = self.cpu.as_ref().and_then(|c| c.cores) {
                let need = u64::from(total) * u64::from(threads);
                if need > u64::from(cores) {
                    out.push((
                        format!(
                            "{total} CPU engines × {threads} thread(s) need more than the server's hardware.cpu.cores = {cores}"
                        ),
                        (need - u64::from(cores)) as f64 / f64::from(cores),
                    ));
                }
            }
        }
        let gpus: u32 =
            design.stages.iter().map(|s| if let StageHardware::Gpu { gpus } = s.hardware { gpus } else { 0 }).sum();
        if let Some(gpu) = self.gpu.as_ref().filter(|g| gpus > g.max_total) {
            out.push((
                format!("{gpus} GPUs exceed hardware.gpu.max_total = {}", gpu.max_total),
                f64::from(gpus - gpu.max_total) / f64::from(gpu.max_total.max(1)),
            ));
        }
        if let (Some(area), Some(budget)) =
            (self.accel_area_mm2(design), self.accel.as_ref().and_then(|a| a.area_budget_mm2))
        {
            if area > budget * (1.0 + 1e-9) {
                out.push((
                    format!("accelerator area {area:.3} mm² exceeds the budget of {budget} mm²"),
                    (area - budget) / budget,
                ));
            }
        }
        out
    }

    /// Total silicon area of a design's accelerator stages (Σ count · sub-accelerator area), mm²; `None` when
    /// no stage runs on the accelerator.
    pub fn accel_area_mm2(&self, design: &Design) -> Option<f64> {
        let accel = self.accel.as_ref()?;
        let mut any = false;
        let area = design
            .stages
            .iter()
            .filter_map(|s| match s.hardware {
                StageHardware::Accel { choice, count } => {
                    any = true;
                    Some(accel.choices[choice].area_mm2 * f64::from(count))
                }
                _ => None,
            })
            .sum();
        any.then_some(area)
    }

    /// Human-readable name of a knob.
    pub fn param_name(kind: ParamKind) -> String {
        match kind {
            ParamKind::StageModel(s) => format!("stage[{s}].model"),
            ParamKind::Items => "items".to_string(),
            ParamKind::CpuEngines => "cpu.engines".to_string(),
            ParamKind::CpuThreads => "cpu.threads_per_engine".to_string(),
            ParamKind::GpuCount => "gpu.count".to_string(),
            ParamKind::AccelConfig(s) => format!("stage[{s}].accel"),
            ParamKind::AccelCount(s) => format!("stage[{s}].accel_count"),
        }
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::input::choice_name(self))
    }
}

impl fmt::Display for ArrivalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::input::choice_name(self))
    }
}
