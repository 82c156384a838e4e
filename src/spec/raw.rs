//! Raw, untyped-by-meaning serde structures mirroring the design-space YAML one to one.
//!
//! Every struct denies unknown fields. Values that later rules check carry their source position
//! ([`Spanned`]) so that semantic errors can point at a line and column. Counts are read as signed integers
//! so that a negative count is reported by a rule ("must be ≥ 1, got -3") rather than as a type error.
//! Required fields are `Option`s here: the validator reports every missing field at once.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A value with its source position.
pub type Sp<T> = Spanned<T>;

/// The whole design-space document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpace {
    pub name: Option<Sp<String>>,
    pub description: Option<String>,
    pub seed: Option<Sp<i64>>,
    pub dataset: Option<RawDataset>,
    pub models: Option<Vec<RawModel>>,
    pub pipelines: Option<Vec<RawPipeline>>,
    pub quality: Option<RawQuality>,
    pub hardware: Option<RawHardware>,
    pub load: Option<RawLoad>,
    pub sla: Option<RawSla>,
    pub objectives: Option<Vec<RawObjective>>,
    pub constraints: Option<Vec<RawConstraint>>,
    pub quality_floor: Option<Vec<RawConstraint>>,
    pub search: Option<RawSearch>,
    pub output: Option<RawOutput>,
    pub training: Option<RawTraining>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDataset {
    pub kind: Option<Sp<String>>,
    pub path: Option<Sp<String>>,
    pub synthetic_fallback: Option<bool>,
    pub eval_queries: Option<Sp<i64>>,
    pub candidates_per_query: Option<Sp<i64>>,
    pub protocol: Option<Sp<String>>,
    pub sampled_negatives: Option<Sp<i64>>,
    pub max_ind_range: Option<Sp<i64>>,
    pub seed: Option<Sp<i64>>,
    pub synthetic: Option<RawSynthetic>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSynthetic {
    pub click_rate: Option<Sp<f64>>,
    pub informative_ids: Option<Sp<i64>>,
    pub interaction: Option<Sp<f64>>,
    pub dense: Option<Sp<f64>>,
    pub first_order: Option<Sp<f64>>,
    pub noise: Option<Sp<f64>>,
    pub tail: Option<Sp<f64>>,
}

/// A `models:` entry; its family blocks are declared by the model registry (`crate::model`).
pub use crate::model::RawModel;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    pub stages: Option<Sp<i64>>,
    pub models: Option<Vec<Vec<Sp<String>>>>,
    pub items: Option<Vec<Sp<Vec<i64>>>>,
    pub backends: Option<Vec<Vec<Sp<String>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuality {
    pub top_k: Option<Sp<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHardware {
    pub cpu: Option<RawCpu>,
    pub gpu: Option<RawGpu>,
    pub accel: Option<RawAccel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCpu {
    pub engines: Option<Vec<Sp<i64>>>,
    pub threads_per_engine: Option<Vec<Sp<i64>>>,
    pub memory_gib: Option<Sp<f64>>,
    pub cores: Option<Sp<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGpu {
    pub count: Option<Vec<Sp<i64>>>,
    pub max_total: Option<Sp<i64>>,
    pub memory_gib: Option<Sp<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccel {
    pub mode: Option<Sp<String>>,
    pub presets: Option<Vec<Sp<String>>>,
    pub sweep: Option<RawAccelSweep>,
    pub count_per_stage: Option<Vec<Sp<i64>>>,
    pub area_budget_mm2: Option<Sp<f64>>,
    pub top_n: Option<Sp<String>>,
    pub transfers: Option<Sp<String>>,
    pub python2_division: Option<Sp<bool>>,
}

#[derive(Debug, Deserialize)]
pub struct RawAccelSweep {
    pub base: Option<Sp<String>>,
    /// Knob field → values; the knobs are `accel::knobs::SWEEP_KNOBS`.
    #[serde(flatten)]
    pub knobs: std::collections::BTreeMap<String, Vec<Sp<f64>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    pub arrival: Option<Sp<String>>,
    pub qps: Option<Vec<Sp<f64>>>,
    pub queries: Option<Sp<i64>>,
    pub warmup_queries: Option<Sp<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSla {
    pub percentile: Option<Sp<f64>>,
    pub target_ms: Option<Sp<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjective {
    pub metric: Option<Sp<String>>,
    pub direction: Option<Sp<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConstraint {
    pub metric: Option<Sp<String>>,
    pub min: Option<Sp<f64>>,
    pub max: Option<Sp<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSearch {
    pub strategy: Option<Sp<String>>,
    pub budget: Option<Sp<i64>>,
    pub seed: Option<Sp<i64>>,
    pub population: Option<Sp<i64>>,
    pub restarts: Option<Sp<i64>>,
    pub early_stop: Option<Sp<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub dir: Option<Sp<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraining {
    pub epochs: Option<Sp<i64>>,
    pub batch_size: Option<Sp<i64>>,
    pub learning_rate: Option<Sp<f64>>,
    pub patience: Option<Sp<i64>>,
    pub negatives: Option<Sp<i64>>,
    pub dropout: Option<Sp<f64>>,
    pub train_rows: Option<Sp<i64>>,
    pub validation_rows: Option<Sp<i64>>,
    pub table_rows_cap: Option<Sp<i64>>,
    pub seed: Option<Sp<i64>>,
}
