//! The model-choice section of a report: every zoo model with its architecture, datatype and size, its own
//! quality (the model alone ranking every candidate of every evaluation query), its quality loss against the
//! fp32 model it was derived from, and how often the Pareto front uses it.
//!
//! Quality comes from the run's quality source (measured scores); sizes are at the data set's real table sizes
//! (GiB = 2³⁰ bytes) in the model's datatype, or at 4 bytes per value when the space gives none.

use crate::explore::evaluate::model_gib;
use crate::explore::QualitySource;
use crate::spec::Space;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One zoo model as the report lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// Zoo name.
    pub name: String,
    /// Architecture in words.
    pub architecture: String,
    /// Datatype served in (`fp32` when the space gives none).
    pub datatype: String,
    /// Name of the trained model it derives from (same for every datatype of one architecture).
    pub trained_as: String,
    /// Memory at the real table sizes, GiB.
    pub memory_gib: f64,
    /// Quality of the model alone (metric → value); empty when quality is not measured.
    pub quality: BTreeMap<String, f64>,
}

/// Quality metrics the section shows: the space's quality objectives and constraints, then HR@10 and NDCG@10.
pub fn shown_metrics(space: &Space) -> Vec<String> {
    let mut names: Vec<String> = space.quality_metrics().map(|m| m.to_string()).collect();
    if space.top_k >= 10 {
        names.extend(["hr@10".to_string(), "ndcg@10".to_string()]);
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

/// Every zoo model's row: `parameters` and `typed_bytes` per zoo model as the evaluator's memory rule uses them.
pub fn infos(
    space: &Space,
    quality: Option<&dyn QualitySource>,
    parameters: &[u64],
    typed_bytes: &[Option<u64>],
) -> Vec<ModelInfo> {
    let metrics = shown_metrics(space);
    space
        .zoo
        .iter()
        .enumerate()
        .map(|(m, model)| {
            let memory_gib = match typed_bytes.get(m).copied().flatten() {
                Some(b) => b as f64 / (1u64 << 30) as f64,
                None => model_gib(parameters.get(m).copied().unwrap_or(0), crate::explore::evaluate::HOST_VALUE_BYTES),
            };
            let quality = quality
                .and_then(|q| q.cascade(&[(m, u32::MAX)]).ok())
                .map(|all| all.into_iter().filter(|(k, _)| metrics.contains(k)).collect())
                .unwrap_or_default();
            ModelInfo {
                name: model.name.clone(),
                architecture: model.arch.describe(),
                datatype: model.compute_datatype().name(),
                trained_as: model.trained_as.clone(),
                memory_gib,
                quality,
            }
        })
        .collect()
}

/// The markdown section; `front_uses` counts, per model name, the front points with a stage running it.
pub fn render(models: &[ModelInfo], metrics: &[String], front_uses: &BTreeMap<String, usize>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Each model alone ranking every candidate (measured on the evaluation queries), its loss against the fp32 \
         model of the same architecture, its memory, and the Pareto-front points that run it in some stage.\n"
    );
    let heads: Vec<String> = metrics.iter().map(|m| format!("{m} alone")).collect();
    let first = metrics.first().cloned().unwrap_or_default();
    let _ = writeln!(
        s,
        "| model | architecture | datatype | memory (GiB) | {} | {first} vs fp32 | front points |",
        heads.join(" | ")
    );
    let _ = writeln!(s, "|---|---|---|---|{}---|---|", "---|".repeat(heads.len()));
    for m in models {
        let values: Vec<String> =
            metrics.iter().map(|k| m.quality.get(k).map_or("-".into(), |v| format!("{v:.4}"))).collect();
        let reference = models.iter().find(|r| r.trained_as == m.trained_as && r.datatype == "fp32");
        let loss = match (reference, m.quality.get(&first)) {
            (Some(r), Some(&v)) if r.name != m.name => match r.quality.get(&first) {
                Some(&base) if base > 0.0 => format!("{:+.2} %", (v - base) / base * 100.0),
                _ => "-".into(),
            },
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.3} | {} | {loss} | {} |",
            m.name,
            m.architecture,
            m.datatype,
            m.memory_gib,
            values.join(" | "),
            front_uses.get(&m.name).copied().unwrap_or(0)
        );
    }
    s
}
