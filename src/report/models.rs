//! The model-choice section of a report: every zoo model with its architecture, datatype and size, its own
//! quality (the model alone ranking every candidate of every evaluation query), its quality loss against the
//! fp32 model it was derived from, and how often the Pareto front uses it; then, for every first stage of the
//! evaluated two-stage cascades and the items it keeps, how much of the final model's own quality the cascade
//! keeps.
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

/// A first stage: its model and the items it keeps.
pub type FirstStage = (String, u32);

/// Per shown metric, the (mean, lowest) share of the final models' own quality; `None` where unmeasured.
pub type Retention = Vec<Option<(f64, f64)>>;

/// Final model → the metrics of its cascade behind one first stage.
type FinalModels<'a> = BTreeMap<String, &'a crate::explore::MetricValues>;

/// Two-stage cascades of `rows` grouped by (first-stage model, items kept): per metric, the cascade's value
/// as a fraction of its final model's own value, as (mean, min) over the distinct final models.
pub fn first_stage_retention(
    models: &[ModelInfo],
    metrics: &[String],
    rows: &[super::PointRow],
) -> Vec<(FirstStage, Retention)> {
    // Every hardware mapping of a cascade gives the same quality: one entry per final model.
    let mut cascades: BTreeMap<FirstStage, FinalModels<'_>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.stages.len() == 2) {
        let (first, last) = (&r.stages[0], &r.stages[1]);
        cascades.entry((first.0.clone(), last.1)).or_default().entry(last.0.clone()).or_insert(&r.metrics);
    }
    let alone = |name: &str, k: &str| models.iter().find(|m| m.name == name).and_then(|m| m.quality.get(k).copied());
    cascades
        .into_iter()
        .map(|(key, finals)| {
            let per_metric = metrics
                .iter()
                .map(|k| {
                    let ratios: Vec<f64> = finals
                        .iter()
                        .filter_map(|(last, values)| match (values.get(k), alone(last, k)) {
                            (Some(&v), Some(base)) if base > 0.0 => Some(v / base),
                            _ => None,
                        })
                        .collect();
                    (!ratios.is_empty()).then(|| {
                        let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
                        (mean, ratios.iter().copied().fold(f64::INFINITY, f64::min))
                    })
                })
                .collect();
            (key, per_metric)
        })
        .collect()
}

/// The markdown section; `front_uses` counts, per model name, the front points with a stage running it.
pub fn render(
    models: &[ModelInfo],
    metrics: &[String],
    front_uses: &BTreeMap<String, usize>,
    rows: &[super::PointRow],
) -> String {
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
    let retention = first_stage_retention(models, metrics, rows);
    if !retention.is_empty() {
        let _ = writeln!(
            s,
            "\nFirst stages of the evaluated two-stage cascades: the cascade's quality as a share of its final model's \
             own, mean (lowest) over the final models it fed.\n"
        );
        let heads: Vec<String> = metrics.iter().map(|m| format!("{m} kept")).collect();
        let _ = writeln!(s, "| first stage | items kept | {} |", heads.join(" | "));
        let _ = writeln!(s, "|---|---|{}", "---|".repeat(heads.len()));
        for ((first, kept), values) in &retention {
            let cells: Vec<String> = values
                .iter()
                .map(|v| v.map_or("-".into(), |(mean, min)| format!("{:.1} % ({:.1} %)", mean * 100.0, min * 100.0)))
                .collect();
            let _ = writeln!(s, "| {first} | {kept} | {} |", cells.join(" | "));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::PointRow;

    fn info(name: &str, trained_as: &str, datatype: &str, ndcg: f64) -> ModelInfo {
        ModelInfo {
            name: name.into(),
            architecture: String::new(),
            datatype: datatype.into(),
            trained_as: trained_as.into(),
            memory_gib: 0.0,
            quality: BTreeMap::from([("ndcg@10".to_string(), ndcg)]),
        }
    }

    fn cascade(first: &str, kept: u32, last: &str, ndcg: f64) -> PointRow {
        PointRow {
            id: 0,
            seq: 0,
            pipeline: String::new(),
            backends: String::new(),
            stages: vec![
                (first.into(), 1000, String::new(), String::new()),
                (last.into(), kept, String::new(), String::new()),
            ],
            feasible: true,
            reason: None,
            metrics: [("ndcg@10".to_string(), ndcg)].into_iter().collect(),
            objectives: None,
            rank: None,
        }
    }

    #[test]
    fn retention_is_the_cascades_share_of_its_final_models_own_quality() {
        let models = [
            info("big", "big", "fp32", 0.5),
            info("big-int8", "big", "int8", 0.49),
            info("other", "other", "fp32", 0.4),
        ];
        let rows = [
            cascade("pop", 256, "big", 0.45),
            cascade("pop", 256, "big", 0.45), // another hardware mapping of the same cascade
            cascade("pop", 256, "other", 0.4),
            cascade("pop", 128, "big", 0.25),
        ];
        let metrics = ["ndcg@10".to_string()];
        let r = first_stage_retention(&models, &metrics, &rows);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0, ("pop".to_string(), 128));
        let (mean, min) = r[1].1[0].unwrap();
        assert!((mean - 0.95).abs() < 1e-12 && (min - 0.9).abs() < 1e-12, "{mean} {min}");
        let text = render(&models, &metrics, &BTreeMap::new(), &rows);
        assert!(text.contains("| big-int8 |  | int8 | 0.000 | 0.4900 | -2.00 % | 0 |"), "{text}");
        assert!(text.contains("| pop | 256 | 95.0 % (90.0 %) |"), "{text}");
    }
}
