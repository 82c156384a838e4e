//! RecPipeAccel cost model: per-query, per-stage cycles, latency, area, power and energy of a ranking stage
//! on a (sub-)accelerator, in two modes.
//!
//! * [`Mode::Recpipe2021`]: the original RecPipe model (Gupta et al., "RecPipe: Co-designing Models and
//!   Hardware to Jointly Optimize Recommendation Quality and Performance", MICRO 2021), formula for formula
//!   with its quirks ([`reference2021`]); checked against 720 golden rows of the original.
//! * [`Mode::Rpaccel`] (default): a physically consistent model of the accelerator the paper describes
//!   ([`rpaccel`], whose docs list every departure and its reason).
//!
//! Units: cycles of the accelerator's clock (the original's "cycle" unit in `recpipe2021` mode), seconds,
//! mm², W, J, bytes. Area and power come from per-component synthesis numbers in `calib/`
//! ([`area_power`]); energy from [`energy`] (`recpipe2021`: full-accelerator power × latency, since the
//! original computed none). Multi-stage helpers: [`pipelining`] (sub-batch pipelining on one chip) and
//! [`sweep`] (per-stage sub-accelerator size and count under an area budget).
//!
//! Core logic does no I/O; the loaders [`hardware::AccelConfig::load`] and
//! [`model_shape::ModelShape::load`] are the only functions that read files.

pub mod area_power;
pub mod embedding;
pub mod energy;
pub mod hardware;
pub mod knobs;
pub mod lru;
pub mod model_shape;
pub mod pcie;
pub mod pipelining;
pub mod reference2021;
pub mod rpaccel;
pub mod scalesim;
pub mod sweep;
pub mod systolic;
pub mod topk;

pub use hardware::{AccelConfig, AccelError, Architecture};
pub use model_shape::{Dataset, GenericShape, ModelShape};
pub use reference2021::Division;

use serde::Serialize;

/// Cost-model mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The refined, physically consistent model (default).
    #[default]
    Rpaccel,
    /// The original RecPipe 2021 model, formula for formula.
    Recpipe2021,
}

/// Named per-component cycles of one stage.
///
/// In `recpipe2021` mode `topk` is the original's sort term after its division by the clock period and
/// `interaction` is 0; the total is their plain sum. In `rpaccel` mode the total is the critical path
/// described in [`rpaccel`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct StageCycles {
    /// Host → accelerator transfer.
    pub input_pcie: f64,
    /// Embedding gathers (generic shape: the query's gather plus the candidates' gather).
    pub embedding: f64,
    /// Bottom MLP (DLRM), MLP tower (NeuMF) or query MLP plus per-candidate MLP (generic shape), including
    /// weight loading.
    pub mlp_bottom: f64,
    /// Feature interaction.
    pub interaction: f64,
    /// Top MLP (DLRM) or prediction layers (NeuMF), including weight loading; 0 for a generic shape.
    pub mlp_top: f64,
    /// Top-k filtering (sort).
    pub topk: f64,
    /// Accelerator → host transfer.
    pub output_pcie: f64,
}

impl StageCycles {
    /// (name, cycles) in pipeline order.
    pub fn named(&self) -> [(&'static str, f64); 7] {
        [
            ("input_pcie", self.input_pcie),
            ("embedding", self.embedding),
            ("mlp_bottom", self.mlp_bottom),
            ("interaction", self.interaction),
            ("mlp_top", self.mlp_top),
            ("topk", self.topk),
            ("output_pcie", self.output_pcie),
        ]
    }
}

/// What to evaluate besides model and hardware.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageRequest {
    /// Data set (lookups per item, table sizes, input bytes).
    pub dataset: Dataset,
    /// Items scored by the stage.
    pub items: u32,
    /// Items returned by the stage.
    pub top_n: u32,
    /// Cost-model mode.
    pub mode: Mode,
    /// `recpipe2021` only: division semantics of the sort term.
    pub division: Division,
    /// `rpaccel` only: hit rate override, PCIe placement and embedding row overhead.
    pub options: rpaccel::StageOptions,
}

impl StageRequest {
    /// A request with default options: Python-3 division, capacity-derived hit rate, PCIe in and out.
    pub fn new(dataset: Dataset, items: u32, top_n: u32, mode: Mode) -> Self {
        StageRequest {
            dataset,
            items,
            top_n,
            mode,
            division: Division::Python3,
            options: rpaccel::StageOptions::default(),
        }
    }
}

/// The evaluation of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StageResult {
    /// Mode used.
    pub mode: Mode,
    /// Per-component cycles.
    pub components: StageCycles,
    /// Total cycles (critical path).
    pub cycles: f64,
    /// Latency of the stage for one query, s.
    pub latency_s: f64,
    /// Area of the accelerator, mm².
    pub area_mm2: f64,
    /// Power of the accelerator, W.
    pub power_w: f64,
    /// Energy of the stage for one query, J.
    pub energy_j: f64,
    /// On-chip embedding hit rate (0.5 fixed in `recpipe2021`).
    pub embedding_hit_rate: f64,
}

/// Evaluate one stage: a pure function of model, hardware and request.
pub fn evaluate_stage(model: &ModelShape, hw: &AccelConfig, req: &StageRequest) -> StageResult {
    let breakdown = area_power::breakdown(hw);
    let area_mm2 = breakdown.area_mm2();
    let power_w = breakdown.power_w();
    match req.mode {
        Mode::Recpipe2021 => {
            let c = reference2021::stage_cycles(model, hw, req.items, req.top_n, req.division);
            let cycles = reference2021::total_cycles(&c);
            let latency_s = cycles * hw.clock_ns() * 1e-9;
            StageResult {
                mode: req.mode,
                components: c,
                cycles,
                latency_s,
                area_mm2,
                power_w,
                energy_j: power_w * latency_s,
                embedding_hit_rate: 0.5,
            }
        }
        Mode::Rpaccel => {
            let d = rpaccel::stage(model, hw, req.dataset, req.items, req.top_n, &req.options);
            StageResult {
                mode: req.mode,
                components: d.cycles,
                cycles: d.total_cycles,
                latency_s: d.total_cycles / hw.clock_hz(),
                area_mm2,
                power_w,
                energy_j: energy::stage_energy_j(&breakdown, &d.activity),
                embedding_hit_rate: d.hit_rate,
            }
        }
    }
}
