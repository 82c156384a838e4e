//! Rules that turn a [`RawSpace`] into a typed [`Space`], collecting every violation.
//!
//! Each rule names the field path and the offending value and says what is allowed. Rules that need the
//! file system (data-set paths, accelerator description files) take the directory the spec's relative
//! paths are resolved against; everything else is pure.

use super::error::Issues;
use super::metric::{Direction, Metric, METRIC_SYNTAX};
use super::model::{self, DlrmArch, Interaction, ModelArch, NeuMfArch, ZooModel, CRITEO_DENSE_FEATURES};
use super::raw::*;
use super::space::*;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Most stages a pipeline may have.
pub const MAX_STAGES: i64 = 8;
/// Default number of simulated queries per (design, load).
pub const DEFAULT_QUERIES: u64 = 10_000;

use super::position as pos;

/// Validation context: the issue list plus the directory relative paths are resolved against.
struct Ctx<'a> {
    issues: Issues,
    base_dir: &'a Path,
}

impl Ctx<'_> {
    fn err<T>(&mut self, at: &Sp<T>, path: &str, message: String) {
        self.issues.push(pos(at), path, message);
    }

    fn missing(&mut self, path: &str, what: &str) {
        self.issues.push(None, path, format!("missing required field ({what})"));
    }

    /// An integer ≥ `min`, or a recorded problem.
    fn int_at_least(&mut self, v: &Sp<i64>, path: &str, min: i64) -> Option<u64> {
        if v.value < min {
            self.err(v, path, format!("must be ≥ {min}, got {}", v.value));
            None
        } else {
            Some(v.value as u64)
        }
    }

    fn opt_int(&mut self, v: &Option<Sp<i64>>, path: &str, min: i64, default: u64) -> Option<u64> {
        match v {
            Some(v) => self.int_at_least(v, path, min),
            None => Some(default),
        }
    }

    fn req_int(&mut self, v: &Option<Sp<i64>>, path: &str, min: i64, what: &str) -> Option<u64> {
        match v {
            Some(v) => self.int_at_least(v, path, min),
            None => {
                self.missing(path, what);
                None
            }
        }
    }

    fn positive_f64(&mut self, v: &Sp<f64>, path: &str) -> Option<f64> {
        if v.value.is_finite() && v.value > 0.0 {
            Some(v.value)
        } else {
            self.err(v, path, format!("must be a positive number, got {}", v.value));
            None
        }
    }

    /// A non-empty list of integers ≥ `min`, without duplicates.
    fn int_list(&mut self, list: &Option<Vec<Sp<i64>>>, path: &str, min: i64, what: &str) -> Option<Vec<u32>> {
        let Some(list) = list else {
            self.missing(path, what);
            return None;
        };
        if list.is_empty() {
            self.issues.push(None, path, format!("must list at least one value ({what})"));
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, v) in list.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if v.value > u32::MAX as i64 {
                self.err(v, &p, format!("too large, got {}", v.value));
                ok = false;
            } else if let Some(x) = self.int_at_least(v, &p, min) {
                if out.contains(&(x as u32)) {
                    self.err(v, &p, format!("duplicate value {x}"));
                    ok = false;
                }
                out.push(x as u32);
            } else {
                ok = false;
            }
        }
        ok.then_some(out)
    }

    /// One of a fixed set of words; `default` applies when the field is absent (else it is required).
    fn choice<T: Copy>(
        &mut self,
        v: &Option<Sp<String>>,
        path: &str,
        what: &str,
        options: &[(&str, T)],
        default: Option<T>,
    ) -> Option<T> {
        let names = options.iter().map(|(n, _)| *n).collect::<Vec<_>>().join("|");
        match v {
            None if default.is_some() => default,
            None => {
                self.missing(path, &names);
                None
            }
            Some(word) => match options.iter().find(|(n, _)| *n == word.value) {
                Some((_, value)) => Some(*value),
                None => {
                    self.err(word, path, format!("unknown {what} '{}' (expected {names})", word.value));
                    None
                }
            },
        }
    }

    fn file_exists(&self, rel: &str) -> bool {
        self.base_dir.join(rel).exists()
    }
}

/// Validate a parsed document. `file` names the source in messages; `base_dir` resolves relative paths.
pub(crate) fn validate(mut raw: RawSpace, file: &str, base_dir: &Path) -> Result<Space, super::SpecErrors> {
    // The quality floor names metrics of the finished space, so it is checked once the rest is valid.
    let raw_floor = raw.quality_floor.take();
    let mut cx = Ctx { issues: Issues::new(file), base_dir };
    let name = match &raw.name {
        Some(n) if is_identifier(&n.value) => Some(n.value.clone()),
        Some(n) => {
            cx.err(n, "name", format!("must be a non-empty name of letters, digits, '-' or '_', got '{}'", n.value));
            None
        }
        None => {
            cx.missing("name", "the space's name, used in report folder names");
            None
        }
    };
    let seed = cx.opt_int(&raw.seed, "seed", 0, 0);
    let dataset = match &raw.dataset {
        Some(d) => dataset(&mut cx, d, seed.unwrap_or(0)),
        None => {
            cx.missing("dataset", "the data set quality is measured on");
            None
        }
    };
    let zoo = match &raw.models {
        Some(models) if !models.is_empty() => zoo(&mut cx, models, dataset.as_ref()),
        _ => {
            cx.missing("models", "a non-empty model zoo");
            None
        }
    };
    let training = training(&mut cx, raw.training.as_ref(), dataset.as_ref().map(|d| d.kind), seed.unwrap_or(0));
    let top_k = match raw.quality.as_ref().and_then(|q| q.top_k.as_ref()) {
        Some(k) => cx.int_at_least(k, "quality.top_k", 1).map(|k| k as u32),
        None => Some(64),
    };
    let pipelines = match (&raw.pipelines, &zoo) {
        (Some(p), _) if p.is_empty() => {
            cx.issues.push(None, "pipelines", "must list at least one pipeline entry");
            None
        }
        (Some(p), Some(zoo)) => pipelines(&mut cx, p, zoo, dataset.as_ref(), top_k),
        (Some(_), None) => None,
        (None, _) => {
            cx.missing("pipelines", "the pipeline depths with their model, item and backend choices");
            None
        }
    };
    let used: HashSet<Backend> =
        pipelines.iter().flatten().flat_map(|p| p.backends.iter().flatten().copied()).collect();
    let hw = raw.hardware.as_ref();
    let cpu = hardware_cpu(&mut cx, hw.and_then(|h| h.cpu.as_ref()), used.contains(&Backend::Cpu));
    let gpu = hardware_gpu(&mut cx, hw.and_then(|h| h.gpu.as_ref()), used.contains(&Backend::Gpu));
    let accel = hardware_accel(&mut cx, hw.and_then(|h| h.accel.as_ref()), used.contains(&Backend::Accel));
    if let (Some(pipes), Some(gpu)) = (&pipelines, &gpu) {
        let least = gpu.count.iter().copied().min().unwrap_or(1);
        for (i, p) in pipes.iter().enumerate() {
            for (j, tuple) in p.backends.iter().enumerate() {
                let n = tuple.iter().filter(|b| **b == Backend::Gpu).count() as u32;
                if n * least > gpu.max_total {
                    cx.issues.push(
                        None,
                        format!("pipelines[{i}].backends[{j}]"),
                        format!(
                            "{n} GPU stages need at least {} GPUs but hardware.gpu.max_total is {}",
                            n * least,
                            gpu.max_total
                        ),
                    );
                }
            }
        }
    }
    if let (Some(pipes), Some(accel)) = (&pipelines, &accel) {
        if let Some(budget) = accel.area_budget_mm2 {
            let least_count = f64::from(accel.count_per_stage.iter().copied().min().unwrap_or(1));
            let least_stage_mm2 = accel.choices.iter().map(|c| c.area_mm2).fold(f64::INFINITY, f64::min) * least_count;
            for (i, p) in pipes.iter().enumerate() {
                for (j, tuple) in p.backends.iter().enumerate() {
                    let n = tuple.iter().filter(|b| **b == Backend::Accel).count();
                    if n > 0 && least_stage_mm2 * n as f64 > budget * (1.0 + 1e-9) {
                        cx.issues.push(
                            None,
                            format!("pipelines[{i}].backends[{j}]"),
                            format!(
                                "{n} accelerator stages need at least {:.3} mm² but hardware.accel.area_budget_mm2 is {budget}",
                                least_stage_mm2 * n as f64
                            ),
                        );
                    }
                }
            }
        }
    }
    let load = load(&mut cx, raw.load.as_ref());
    let sla = sla(&mut cx, raw.sla.as_ref());
    let objectives = objectives(&mut cx, raw.objectives.as_deref(), top_k);
    let constraints = constraints(&mut cx, raw.constraints.as_deref(), top_k);
    let search = search(&mut cx, raw.search.as_ref(), seed.unwrap_or(0));
    let output_dir = match raw.output.as_ref().and_then(|o| o.dir.as_ref()) {
        Some(d) if d.value.trim().is_empty() => {
            cx.err(d, "output.dir", "must be a non-empty path".to_string());
            None
        }
        Some(d) => Some(d.value.clone()),
        None => Some("reports".to_string()),
    };
    if let (Some(objs), Some(pipes)) = (&objectives, &pipelines) {
        let any_accel = pipes.iter().any(|p| p.backends.iter().flatten().any(|b| *b == Backend::Accel));
        for (i, o) in objs.iter().enumerate() {
            if o.metric.accelerator_only() && !any_accel {
                cx.issues.push(
                    None,
                    format!("objectives[{i}].metric"),
                    format!(
                        "'{}' is defined only for accelerator stages, but no pipeline uses backend accel",
                        o.metric
                    ),
                );
            }
        }
    }

    if !cx.issues.is_empty() {
        return Err(super::SpecErrors { issues: cx.issues.list });
    }
    // Every Option below is Some: a None always came with a recorded issue.
    let (Some(name), Some(seed), Some(dataset), Some(zoo), Some(top_k), Some(pipelines), Some(training)) =
        (name, seed, dataset, zoo, top_k, pipelines, training)
    else {
        unreachable!("a missing value always records an issue")
    };
    let (Some(load), Some(sla), Some(objectives), Some(constraints), Some(search), Some(output_dir)) =
        (load, sla, objectives, constraints, search, output_dir)
    else {
        unreachable!("a missing value always records an issue")
    };
    let templates = build_templates(&pipelines, cpu.as_ref(), gpu.as_ref(), accel.as_ref());
    Ok(Space {
        source: file.to_string(),
        name,
        description: raw.description,
        seed,
        dataset,
        zoo,
        training,
        top_k,
        pipelines,
        templates,
        cpu,
        gpu,
        accel,
        load,
        sla,
        objectives,
        constraints,
        quality_floor: Vec::new(),
        search,
        output_dir,
    })
    .and_then(|mut space: Space| {
        let mut cx = Ctx { issues: Issues::new(file), base_dir };
        space.quality_floor = quality_floor(&mut cx, raw_floor.as_deref(), &space).unwrap_or_default();
        if cx.issues.is_empty() {
            Ok(space)
        } else {
            Err(super::SpecErrors { issues: cx.issues.list })
        }
    })
}

/// The `quality_floor:` list: `{metric, min}` entries on quality metrics the space reports.
fn quality_floor(cx: &mut Ctx, raw: Option<&[RawConstraint]>, space: &Space) -> Option<Vec<QualityFloor>> {
    let mut out = Vec::new();
    for (i, c) in raw.unwrap_or_default().iter().enumerate() {
        let path = format!("quality_floor[{i}]");
        if let Some(max) = &c.max {
            cx.err(max, &format!("{path}.max"), "a quality floor has only a min".into());
        }
        let metric = metric(cx, &c.metric, &format!("{path}.metric"), Some(space.top_k));
        let min = match &c.min {
            None => {
                cx.missing(&format!("{path}.min"), "the smallest admitted value, e.g. 0.9225");
                None
            }
            Some(v) if v.value.is_finite() => Some(v.value),
            Some(v) => {
                cx.err(v, &format!("{path}.min"), format!("must be a finite number, got {}", v.value));
                None
            }
        };
        if let (Some(metric), Some(sp)) = (metric, &c.metric) {
            if let Err(e) = space.reports_quality_metric(metric) {
                cx.err(sp, &format!("{path}.metric"), e);
                continue;
            }
            if let Some(min) = min {
                out.push(QualityFloor { metric, min });
            }
        }
    }
    Some(out)
}

/// The `training:` section with defaults by data kind: MovieLens follows RecBole 1.2.1's NeuMF recipe (Adam
/// lr 1e-3, batch 2048, one negative per positive, dropout 0.1, patience 10); Criteo follows DLRM (SGD, lr 0.1
/// on a capped number of rows, early stopping on validation AUC).
fn training(
    cx: &mut Ctx,
    t: Option<&RawTraining>,
    kind: Option<DatasetKind>,
    master_seed: u64,
) -> Option<TrainingSpec> {
    let criteo = kind == Some(DatasetKind::CriteoKaggle);
    let d = if criteo { DEFAULT_TRAINING_CRITEO } else { DEFAULT_TRAINING_MOVIELENS };
    let Some(t) = t else { return Some(TrainingSpec { seed: master_seed, ..d }) };
    let small = |cx: &mut Ctx, v: &Option<Sp<i64>>, path: &str, min: i64, default: u32| -> Option<u32> {
        match v {
            Some(x) if x.value > i64::from(u32::MAX) => {
                cx.err(x, path, format!("too large, got {}", x.value));
                None
            }
            _ => cx.opt_int(v, path, min, u64::from(default)).map(|x| x as u32),
        }
    };
    let epochs = small(cx, &t.epochs, "training.epochs", 1, d.epochs);
    let batch_size = small(cx, &t.batch_size, "training.batch_size", 1, d.batch_size);
    let patience = small(cx, &t.patience, "training.patience", 1, d.patience);
    let negatives = small(cx, &t.negatives, "training.negatives", 1, d.negatives);
    let learning_rate = match &t.learning_rate {
        Some(v) => cx.positive_f64(v, "training.learning_rate"),
        None => Some(d.learning_rate),
    };
    let dropout = match &t.dropout {
        Some(v) if !(0.0..1.0).contains(&v.value) => {
            cx.err(v, "training.dropout", format!("must be in [0, 1), got {}", v.value));
            None
        }
        Some(v) => Some(v.value),
        None => Some(d.dropout),
    };
    let train_rows = match &t.train_rows {
        Some(v) => cx.int_at_least(v, "training.train_rows", 1).map(Some),
        None => Some(d.train_rows),
    };
    let validation_rows = cx.opt_int(&t.validation_rows, "training.validation_rows", 1, d.validation_rows);
    let table_rows_cap = cx.opt_int(&t.table_rows_cap, "training.table_rows_cap", 1, d.table_rows_cap);
    let seed = cx.opt_int(&t.seed, "training.seed", 0, master_seed);
    if !criteo {
        let criteo_only = [
            (t.train_rows.is_some(), "train_rows"),
            (t.validation_rows.is_some(), "validation_rows"),
            (t.table_rows_cap.is_some(), "table_rows_cap"),
        ];
        for (v, name) in criteo_only {
            if v {
                cx.issues.push(None, format!("training.{name}"), "only allowed for criteo-kaggle");
            }
        }
    } else if t.negatives.is_some() {
        cx.issues.push(None, "training.negatives", "only allowed for movielens");
    }
    Some(TrainingSpec {
        epochs: epochs?,
        batch_size: batch_size?,
        learning_rate: learning_rate?,
        patience: patience?,
        negatives: negatives?,
        dropout: dropout?,
        train_rows: train_rows?,
        validation_rows: validation_rows?,
        table_rows_cap: table_rows_cap?,
        seed: seed?,
    })
}

/// Training defaults for MovieLens (RecBole 1.2.1's NeuMF settings; at most 100 epochs).
pub(crate) const DEFAULT_TRAINING_MOVIELENS: TrainingSpec = TrainingSpec {
    epochs: 100,
    batch_size: 2048,
    learning_rate: 1e-3,
    patience: 10,
    negatives: 1,
    dropout: 0.1,
    train_rows: None,
    validation_rows: 0,
    table_rows_cap: 0,
    seed: 0,
};

/// Training defaults for Criteo-shaped data: DLRM's SGD recipe (batch 128, lr 0.1) on 500,000 rows, up to 5
/// epochs with early stopping on validation AUC (patience 1).
pub(crate) const DEFAULT_TRAINING_CRITEO: TrainingSpec = TrainingSpec {
    epochs: 5,
    batch_size: 128,
    learning_rate: 0.1,
    patience: 1,
    negatives: 1,
    dropout: 0.0,
    train_rows: Some(500_000),
    validation_rows: 100_000,
    table_rows_cap: 100_000,
    seed: 0,
};

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn dataset(cx: &mut Ctx, d: &RawDataset, master_seed: u64) -> Option<DatasetSpec> {
    let kinds = [("movielens", DatasetKind::Movielens), ("criteo-kaggle", DatasetKind::CriteoKaggle)];
    let kind = cx.choice(&d.kind, "dataset.kind", "data-set kind", &kinds, None);
    let eval_queries = cx.opt_int(&d.eval_queries, "dataset.eval_queries", 1, 1000);
    let seed = cx.opt_int(&d.seed, "dataset.seed", 0, master_seed);
    let synthetic_fallback = d.synthetic_fallback.unwrap_or(true);
    let max_ind_range = match &d.max_ind_range {
        Some(v) => cx.int_at_least(v, "dataset.max_ind_range", 1).map(Some),
        None => Some(None),
    };
    let kind = kind?;
    let path_exists = d.path.as_ref().is_some_and(|p| cx.file_exists(&p.value));
    let protocol = match (kind, &d.protocol) {
        (DatasetKind::CriteoKaggle, None) => Some(Protocol::Window),
        (DatasetKind::CriteoKaggle, Some(p)) if p.value == "window" => Some(Protocol::Window),
        (DatasetKind::CriteoKaggle, Some(p)) => {
            cx.err(
                p,
                "dataset.protocol",
                format!("unknown protocol '{}' for criteo-kaggle (expected window)", p.value),
            );
            None
        }
        (DatasetKind::Movielens, None) => Some(Protocol::LooFull),
        (DatasetKind::Movielens, Some(p)) => match p.value.as_str() {
            "loo-full" => Some(Protocol::LooFull),
            "loo-sampled" => {
                let n = cx.opt_int(&d.sampled_negatives, "dataset.sampled_negatives", 1, 999);
                n.map(|n| Protocol::LooSampled { negatives: n as u32 })
            }
            other => {
                cx.err(p, "dataset.protocol", format!("unknown protocol '{other}' (expected loo-full|loo-sampled)"));
                None
            }
        },
    };
    if d.sampled_negatives.is_some() && !matches!(protocol, Some(Protocol::LooSampled { .. }) | None) {
        cx.issues.push(None, "dataset.sampled_negatives", "only allowed with protocol: loo-sampled");
    }
    let candidates_per_query = match (kind, protocol) {
        (DatasetKind::CriteoKaggle, _) => match &d.candidates_per_query {
            Some(c) => cx.int_at_least(c, "dataset.candidates_per_query", 1).map(|c| Some(c as u32)),
            None => {
                cx.missing("dataset.candidates_per_query", "impressions per query window, e.g. 4096");
                None
            }
        },
        (DatasetKind::Movielens, Some(Protocol::LooSampled { negatives })) => {
            if let Some(c) = &d.candidates_per_query {
                cx.err(
                    c,
                    "dataset.candidates_per_query",
                    "not allowed for MovieLens: loo-sampled has sampled_negatives + 1 candidates".into(),
                );
            }
            Some(Some(negatives + 1))
        }
        (DatasetKind::Movielens, _) => {
            if let Some(c) = &d.candidates_per_query {
                cx.err(
                    c,
                    "dataset.candidates_per_query",
                    format!(
                        "not allowed with protocol loo-full (every non-interacted item is a candidate), got {}",
                        c.value
                    ),
                );
            }
            Some(None)
        }
    };
    match (kind, &d.path) {
        (DatasetKind::Movielens, None) => {
            cx.missing("dataset.path", "directory holding the MovieLens files, e.g. data/ml-100k")
        }
        (DatasetKind::Movielens, Some(p)) if !path_exists => cx.err(
            p,
            "dataset.path",
            format!("MovieLens data not found at '{}' (run ./setup.sh to fetch MovieLens-100K)", p.value),
        ),
        (DatasetKind::CriteoKaggle, Some(p)) if !path_exists && !synthetic_fallback => {
            cx.err(p, "dataset.path", format!("Criteo file '{}' not found and synthetic_fallback is false", p.value))
        }
        (DatasetKind::CriteoKaggle, None) if !synthetic_fallback => {
            cx.missing("dataset.path", "Criteo train.txt, or set synthetic_fallback: true")
        }
        _ => {}
    }
    if kind == DatasetKind::Movielens && d.max_ind_range.is_some() {
        cx.issues.push(None, "dataset.max_ind_range", "only allowed for criteo-kaggle");
    }
    if kind == DatasetKind::Movielens && d.synthetic.is_some() {
        cx.issues.push(None, "dataset.synthetic", "only allowed for criteo-kaggle");
    }
    let synthetic = d.synthetic.as_ref().map_or(Some(SyntheticSpec::default()), |raw| synthetic_spec(cx, raw));
    Some(DatasetSpec {
        kind,
        path: d.path.as_ref().map(|p| p.value.clone()),
        path_exists,
        synthetic_fallback,
        eval_queries: eval_queries? as u32,
        candidates_per_query: candidates_per_query?,
        protocol: protocol?,
        max_ind_range: max_ind_range?,
        seed: seed?,
        synthetic: synthetic?,
    })
}

/// The `dataset.synthetic:` section: a click rate in (0, 1), an informative-id count ≥ 1, and non-negative
/// part scales.
fn synthetic_spec(cx: &mut Ctx, raw: &RawSynthetic) -> Option<SyntheticSpec> {
    let mut ok = true;
    let click_rate = raw.click_rate.as_ref().and_then(|v| {
        let fine = v.value.is_finite() && v.value > 0.0 && v.value < 1.0;
        if !fine {
            cx.err(v, "dataset.synthetic.click_rate", format!("must lie strictly between 0 and 1, got {}", v.value));
            ok = false;
        }
        fine.then_some(v.value)
    });
    let informative_ids = match &raw.informative_ids {
        Some(v) if v.value > i64::from(u32::MAX) => {
            cx.err(v, "dataset.synthetic.informative_ids", format!("too large, got {}", v.value));
            ok = false;
            None
        }
        Some(v) => {
            let n = cx.int_at_least(v, "dataset.synthetic.informative_ids", 1);
            ok &= n.is_some();
            n.map(|n| n as u32)
        }
        None => None,
    };
    let mut scale = |v: &Option<Sp<f64>>, field: &str| {
        v.as_ref().and_then(|v| {
            let fine = v.value.is_finite() && v.value >= 0.0;
            if !fine {
                let path = format!("dataset.synthetic.{field}");
                cx.err(v, &path, format!("must be a non-negative number of logits, got {}", v.value));
                ok = false;
            }
            fine.then_some(v.value)
        })
    };
    let spec = SyntheticSpec {
        click_rate,
        informative_ids,
        interaction: scale(&raw.interaction, "interaction"),
        dense: scale(&raw.dense, "dense"),
        first_order: scale(&raw.first_order, "first_order"),
        noise: scale(&raw.noise, "noise"),
        tail: scale(&raw.tail, "tail"),
    };
    ok.then_some(spec)
}

fn positive_layers(cx: &mut Ctx, layers: &Sp<Vec<i64>>, path: &str) -> Option<Vec<u32>> {
    if layers.value.is_empty() {
        cx.err(layers, path, "must list at least one layer width".into());
        return None;
    }
    if let Some(bad) = layers.value.iter().find(|w| **w < 1 || **w > 1 << 20) {
        cx.err(layers, path, format!("layer widths must be between 1 and 1048576, got {bad}"));
        return None;
    }
    Some(layers.value.iter().map(|w| *w as u32).collect())
}

fn zoo(cx: &mut Ctx, models: &[RawModel], dataset: Option<&DatasetSpec>) -> Option<Vec<ZooModel>> {
    let mut out = Vec::new();
    let mut ok = true;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, m) in models.iter().enumerate() {
        let path = format!("models[{i}]");
        let name = match &m.name {
            Some(n) if is_identifier(&n.value) => {
                if let Some(first) = seen.insert(n.value.clone(), i) {
                    cx.err(
                        n,
                        &format!("{path}.name"),
                        format!("duplicate model name '{}' (also models[{first}])", n.value),
                    );
                    ok = false;
                }
                Some(n.value.clone())
            }
            Some(n) => {
                cx.err(
                    n,
                    &format!("{path}.name"),
                    format!("must be a non-empty name of letters, digits, '-', '_' or '.', got '{}'", n.value),
                );
                None
            }
            None => {
                cx.missing(&format!("{path}.name"), "the name pipelines refer to");
                None
            }
        };
        let given = [m.preset.is_some(), m.dlrm.is_some(), m.neumf.is_some(), m.popularity.is_some()];
        let arch = if given.iter().filter(|g| **g).count() != 1 {
            cx.issues.push(None, &path, "needs exactly one of preset, dlrm, neumf, popularity");
            None
        } else if let Some(p) = &m.preset {
            match model::preset(&p.value) {
                Some(a) => Some(a),
                None => {
                    cx.err(
                        p,
                        &format!("{path}.preset"),
                        format!("unknown preset '{}' (expected one of {})", p.value, model::PRESET_NAMES.join("|")),
                    );
                    None
                }
            }
        } else if let Some(d) = &m.dlrm {
            dlrm(cx, d, &format!("{path}.dlrm"))
        } else if let Some(n) = &m.neumf {
            neumf(cx, n, &format!("{path}.neumf"))
        } else {
            Some(ModelArch::Popularity)
        };
        if let (Some(arch), Some(ds)) = (&arch, dataset) {
            let fits = matches!(
                (arch, ds.kind),
                (ModelArch::Dlrm(_), DatasetKind::CriteoKaggle)
                    | (ModelArch::NeuMf(_), DatasetKind::Movielens)
                    | (ModelArch::Popularity, _)
            );
            if !fits {
                let kind = if ds.kind == DatasetKind::Movielens { "movielens" } else { "criteo-kaggle" };
                cx.issues.push(
                    None,
                    &path,
                    format!(
                        "a {} model cannot score {kind} data (DLRM needs criteo-kaggle, NeuMF needs movielens)",
                        arch.family()
                    ),
                );
                ok = false;
            }
        }
        match (name, arch) {
            (Some(name), Some(arch)) => {
                out.push(ZooModel { name, preset: m.preset.as_ref().map(|p| p.value.clone()), arch })
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn dlrm(cx: &mut Ctx, d: &RawDlrm, path: &str) -> Option<ModelArch> {
    let dim = cx.req_int(&d.embedding_dim, &format!("{path}.embedding_dim"), 1, "embedding dimension d");
    let bottom = match &d.bottom_mlp {
        Some(b) => positive_layers(cx, b, &format!("{path}.bottom_mlp")).map(|l| (l, b)),
        None => {
            cx.missing(&format!("{path}.bottom_mlp"), "bottom MLP widths, 13 first, d last");
            None
        }
    };
    let top = match &d.top_mlp {
        Some(t) => positive_layers(cx, t, &format!("{path}.top_mlp")).map(|l| (l, t)),
        None => {
            cx.missing(&format!("{path}.top_mlp"), "top MLP widths after the interaction, ending in 1");
            None
        }
    };
    let interactions = [("dot", Interaction::Dot), ("cat", Interaction::Cat)];
    let interaction =
        cx.choice(&d.interaction, &format!("{path}.interaction"), "interaction", &interactions, Some(Interaction::Dot));
    let (dim, (bottom, bsp), (top, tsp), interaction) = (dim?, bottom?, top?, interaction?);
    let mut ok = true;
    if bottom.len() < 2 || bottom[0] != CRITEO_DENSE_FEATURES || *bottom.last().unwrap_or(&0) as u64 != dim {
        cx.err(
            bsp,
            &format!("{path}.bottom_mlp"),
            format!(
                "must start at {CRITEO_DENSE_FEATURES} (dense features) and end at embedding_dim {dim}, got {:?}",
                bottom
            ),
        );
        ok = false;
    }
    if top.last() != Some(&1) {
        cx.err(tsp, &format!("{path}.top_mlp"), format!("must end with the single output unit 1, got {:?}", top));
        ok = false;
    }
    ok.then_some(ModelArch::Dlrm(DlrmArch { embedding_dim: dim as u32, bottom_mlp: bottom, top_mlp: top, interaction }))
}

fn neumf(cx: &mut Ctx, n: &RawNeuMf, path: &str) -> Option<ModelArch> {
    let mf = cx.req_int(&n.mf_dim, &format!("{path}.mf_dim"), 1, "GMF embedding dimension");
    let emb = cx.req_int(&n.mlp_embedding_dim, &format!("{path}.mlp_embedding_dim"), 1, "MLP embedding dimension");
    let layers = match &n.mlp_layers {
        Some(l) => positive_layers(cx, l, &format!("{path}.mlp_layers")).map(|v| (v, l)),
        None => {
            cx.missing(&format!("{path}.mlp_layers"), "MLP tower widths, 2·mlp_embedding_dim first");
            None
        }
    };
    let (mf, emb, (layers, lsp)) = (mf?, emb?, layers?);
    if layers[0] as u64 != 2 * emb {
        cx.err(
            lsp,
            &format!("{path}.mlp_layers"),
            format!("first width must be 2·mlp_embedding_dim = {}, got {}", 2 * emb, layers[0]),
        );
        return None;
    }
    Some(ModelArch::NeuMf(NeuMfArch { mf_dim: mf as u32, mlp_embedding_dim: emb as u32, mlp_layers: layers }))
}

fn pipelines(
    cx: &mut Ctx,
    raw: &[RawPipeline],
    zoo: &[ZooModel],
    dataset: Option<&DatasetSpec>,
    top_k: Option<u32>,
) -> Option<Vec<PipelineSpec>> {
    let mut out = Vec::new();
    let mut ok = true;
    let mut depths: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, p) in raw.iter().enumerate() {
        let path = format!("pipelines[{i}]");
        let Some(stages_sp) = &p.stages else {
            cx.missing(&format!("{path}.stages"), "number of stages, 1 to 8");
            ok = false;
            continue;
        };
        let stages = stages_sp.value;
        if !(1..=MAX_STAGES).contains(&stages) {
            cx.err(stages_sp, &format!("{path}.stages"), format!("must be between 1 and {MAX_STAGES}, got {stages}"));
            ok = false;
            continue;
        }
        if let Some(first) = depths.insert(stages as u64, i) {
            cx.err(
                stages_sp,
                &format!("{path}.stages"),
                format!("duplicate pipeline depth {stages} (also pipelines[{first}]); merge the entries"),
            );
            ok = false;
        }
        let k = stages as usize;
        // models: one list of zoo names per stage position
        let models = match &p.models {
            None => {
                cx.missing(&format!("{path}.models"), "per stage position, the list of allowed model names");
                None
            }
            Some(m) if m.len() != k => {
                cx.issues.push(
                    None,
                    format!("{path}.models"),
                    format!("must have one list per stage ({k}), got {}", m.len()),
                );
                None
            }
            Some(m) => {
                let mut per_stage = Vec::new();
                let mut good = true;
                for (s, choices) in m.iter().enumerate() {
                    if choices.is_empty() {
                        cx.issues.push(None, format!("{path}.models[{s}]"), "must name at least one model");
                        good = false;
                    }
                    let mut ids = Vec::new();
                    for (c, name) in choices.iter().enumerate() {
                        match zoo.iter().position(|z| z.name == name.value) {
                            Some(id) if ids.contains(&id) => {
                                cx.err(
                                    name,
                                    &format!("{path}.models[{s}][{c}]"),
                                    format!("model '{}' listed twice", name.value),
                                );
                                good = false;
                            }
                            Some(id) => ids.push(id),
                            None => {
                                let known: Vec<&str> = zoo.iter().map(|z| z.name.as_str()).collect();
                                cx.err(
                                    name,
                                    &format!("{path}.models[{s}][{c}]"),
                                    format!("unknown model '{}' (the zoo has {})", name.value, known.join("|")),
                                );
                                good = false;
                            }
                        }
                    }
                    per_stage.push(ids);
                }
                good.then_some(per_stage)
            }
        };
        // items: explicit tuples, strictly decreasing
        let items = match &p.items {
            None => {
                cx.missing(&format!("{path}.items"), "list of item tuples, one count per stage");
                None
            }
            Some(list) if list.is_empty() => {
                cx.issues.push(None, format!("{path}.items"), "must list at least one item tuple");
                None
            }
            Some(list) => {
                let mut tuples: Vec<Vec<u32>> = Vec::new();
                let mut good = true;
                for (t, tuple) in list.iter().enumerate() {
                    let tp = format!("{path}.items[{t}]");
                    let v = &tuple.value;
                    if v.len() != k {
                        cx.err(tuple, &tp, format!("must give {k} item counts (one per stage), got {v:?}"));
                        good = false;
                        continue;
                    }
                    if let Some(bad) = v.iter().find(|n| **n < 1 || **n > u32::MAX as i64) {
                        cx.err(tuple, &tp, format!("item counts must be ≥ 1, got {bad} in {v:?}"));
                        good = false;
                        continue;
                    }
                    if v.windows(2).any(|w| w[1] >= w[0]) {
                        cx.err(tuple, &tp, format!("items must strictly decrease across stages, got {v:?}"));
                        good = false;
                        continue;
                    }
                    let v: Vec<u32> = v.iter().map(|n| *n as u32).collect();
                    if let Some(Some(cands)) = dataset.map(|d| d.candidates_per_query) {
                        if v[0] > cands {
                            cx.err(
                                tuple,
                                &tp,
                                format!(
                                    "first stage scores {} items but dataset.candidates_per_query is {cands}",
                                    v[0]
                                ),
                            );
                            good = false;
                        }
                    }
                    if let Some(k_final) = top_k {
                        if v[k - 1] < k_final {
                            cx.err(
                                tuple,
                                &tp,
                                format!("last stage keeps {} items, fewer than quality.top_k = {k_final}", v[k - 1]),
                            );
                            good = false;
                        }
                    }
                    if tuples.contains(&v) {
                        cx.err(tuple, &tp, format!("duplicate item tuple {v:?}"));
                        good = false;
                    }
                    tuples.push(v);
                }
                good.then_some(tuples)
            }
        };
        let backends = match &p.backends {
            None => {
                cx.missing(&format!("{path}.backends"), "list of backend tuples, one of cpu|gpu|accel per stage");
                None
            }
            Some(list) if list.is_empty() => {
                cx.issues.push(None, format!("{path}.backends"), "must list at least one backend tuple");
                None
            }
            Some(list) => {
                let mut tuples: Vec<Vec<Backend>> = Vec::new();
                let mut good = true;
                for (t, tuple) in list.iter().enumerate() {
                    if tuple.len() != k {
                        cx.issues.push(
                            None,
                            format!("{path}.backends[{t}]"),
                            format!("must give {k} backends (one per stage), got {}", tuple.len()),
                        );
                        good = false;
                        continue;
                    }
                    let mut parsed = Vec::new();
                    for (s, b) in tuple.iter().enumerate() {
                        match Backend::parse(&b.value) {
                            Some(x) => parsed.push(x),
                            None => {
                                cx.err(
                                    b,
                                    &format!("{path}.backends[{t}][{s}]"),
                                    format!("unknown backend '{}' (expected cpu|gpu|accel)", b.value),
                                );
                                good = false;
                            }
                        }
                    }
                    if parsed.len() == k {
                        if tuples.contains(&parsed) {
                            cx.issues.push(None, format!("{path}.backends[{t}]"), "duplicate backend tuple");
                            good = false;
                        }
                        tuples.push(parsed);
                    }
                }
                good.then_some(tuples)
            }
        };
        match (models, items, backends) {
            (Some(models), Some(items), Some(backends)) => {
                out.push(PipelineSpec { stages: k, models, items, backends })
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn hardware_cpu(cx: &mut Ctx, raw: Option<&RawCpu>, used: bool) -> Option<CpuKnobs> {
    let Some(raw) = raw else {
        if used {
            cx.missing("hardware.cpu", "a pipeline uses backend cpu");
        }
        return None;
    };
    let engines = cx.int_list(&raw.engines, "hardware.cpu.engines", 1, "total CPU engine choices");
    let threads = match &raw.threads_per_engine {
        None => Some(vec![1]),
        list => cx.int_list(list, "hardware.cpu.threads_per_engine", 1, "threads per engine choices"),
    };
    let memory = opt_positive_f64(cx, &raw.memory_gib, "hardware.cpu.memory_gib");
    let cores = match &raw.cores {
        Some(v) if v.value > i64::from(u32::MAX) => {
            cx.err(v, "hardware.cpu.cores", format!("too large, got {}", v.value));
            None
        }
        Some(v) => cx.int_at_least(v, "hardware.cpu.cores", 1).map(|c| Some(c as u32)),
        None => Some(None),
    };
    Some(CpuKnobs { engines: engines?, threads_per_engine: threads?, memory_gib: memory?, cores: cores? })
}

fn hardware_gpu(cx: &mut Ctx, raw: Option<&RawGpu>, used: bool) -> Option<GpuKnobs> {
    let Some(raw) = raw else {
        if used {
            cx.missing("hardware.gpu", "a pipeline uses backend gpu");
        }
        return None;
    };
    let count = match &raw.count {
        None => Some(vec![1]),
        list => cx.int_list(list, "hardware.gpu.count", 1, "GPUs per GPU stage"),
    };
    let max_total = cx.opt_int(&raw.max_total, "hardware.gpu.max_total", 1, 1);
    let memory = opt_positive_f64(cx, &raw.memory_gib, "hardware.gpu.memory_gib");
    Some(GpuKnobs { count: count?, max_total: max_total? as u32, memory_gib: memory? })
}

/// An optional positive number: `Some(None)` when absent, `None` (an issue recorded) when invalid.
fn opt_positive_f64(cx: &mut Ctx, v: &Option<Sp<f64>>, path: &str) -> Option<Option<f64>> {
    match v {
        Some(b) => cx.positive_f64(b, path).map(Some),
        None => Some(None),
    }
}

fn hardware_accel(cx: &mut Ctx, raw: Option<&RawAccel>, used: bool) -> Option<AccelKnobs> {
    let Some(raw) = raw else {
        if used {
            cx.missing("hardware.accel", "a pipeline uses backend accel");
        }
        return None;
    };
    let modes = [("rpaccel", AccelMode::Rpaccel), ("recpipe2021", AccelMode::Recpipe2021)];
    let mode = cx.choice(&raw.mode, "hardware.accel.mode", "mode", &modes, Some(AccelMode::Rpaccel));
    let mut choices = Vec::new();
    let mut ok = true;
    for (i, p) in raw.presets.iter().flatten().enumerate() {
        let path = format!("hardware.accel.presets[{i}]");
        match resolve_accel(cx, p, &path, file_stem(&p.value), &AccelOverrides::default()) {
            Some(choice) => choices.push(choice),
            None => ok = false,
        }
    }
    if let Some(sweep) = &raw.sweep {
        match sweep_choices(cx, sweep) {
            Some(mut c) => choices.append(&mut c),
            None => ok = false,
        }
    }
    if ok && choices.is_empty() {
        cx.issues.push(None, "hardware.accel", "needs at least one accelerator: presets and/or sweep");
        ok = false;
    }
    let counts = match &raw.count_per_stage {
        None => Some(vec![1]),
        list => cx.int_list(list, "hardware.accel.count_per_stage", 1, "sub-accelerators per stage"),
    };
    let budget = opt_positive_f64(cx, &raw.area_budget_mm2, "hardware.accel.area_budget_mm2");
    if !ok {
        return None;
    }
    let (counts, budget) = (counts?, budget?);
    if let (Some(b), Some(sp)) = (budget, &raw.area_budget_mm2) {
        let least_count = counts.iter().copied().min().unwrap_or(1);
        let smallest = choices.iter().min_by(|x, y| x.area_mm2.total_cmp(&y.area_mm2)).expect("non-empty choices");
        let least_mm2 = smallest.area_mm2 * f64::from(least_count);
        if least_mm2 > b {
            cx.err(
                sp,
                "hardware.accel.area_budget_mm2",
                format!(
                    "area budget {b} mm² is below the smallest accelerator option: {least_count} × {} = {least_mm2:.3} mm²",
                    smallest.label
                ),
            );
            return None;
        }
    }
    Some(AccelKnobs { mode: mode?, choices, count_per_stage: counts, area_budget_mm2: budget })
}

fn file_stem(path: &str) -> String {
    Path::new(path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.to_string())
}

fn sweep_choices(cx: &mut Ctx, s: &RawAccelSweep) -> Option<Vec<AccelChoice>> {
    let base = match &s.base {
        Some(b) if cx.file_exists(&b.value) => Some(b),
        Some(b) => {
            cx.err(b, "hardware.accel.sweep.base", format!("accelerator description '{}' not found", b.value));
            None
        }
        None => {
            cx.missing("hardware.accel.sweep.base", "the accelerator description the sweep modifies");
            None
        }
    };
    let opt_ints = |cx: &mut Ctx, list: &Option<Vec<Sp<i64>>>, path: &str| -> Option<Vec<Option<u64>>> {
        match list {
            None => Some(vec![None]),
            l => cx.int_list(l, path, 1, "values to sweep").map(|v| v.into_iter().map(|x| Some(x as u64)).collect()),
        }
    };
    let opt_floats = |cx: &mut Ctx, list: &Option<Vec<Sp<f64>>>, path: &str| -> Option<Vec<Option<f64>>> {
        match list {
            None => Some(vec![None]),
            Some(l) if l.is_empty() => {
                cx.issues.push(None, path, "must list at least one value (values to sweep)");
                None
            }
            Some(l) => {
                let v: Vec<Option<f64>> =
                    l.iter().enumerate().map(|(i, x)| cx.positive_f64(x, &format!("{path}[{i}]"))).collect();
                v.iter().all(Option::is_some).then_some(v)
            }
        }
    };
    let mut array = opt_ints(cx, &s.array_size, "hardware.accel.sweep.array_size");
    for (i, a) in s.array_size.iter().flatten().enumerate() {
        if a.value >= 1 && !(a.value as u64).is_power_of_two() {
            cx.err(
                a,
                &format!("hardware.accel.sweep.array_size[{i}]"),
                format!("must be a power of two, got {}", a.value),
            );
            array = None;
        }
    }
    let wsram = opt_ints(cx, &s.weight_sram_kib, "hardware.accel.sweep.weight_sram_kib");
    let asram = opt_ints(cx, &s.activation_sram_kib, "hardware.accel.sweep.activation_sram_kib");
    let ecache = opt_ints(cx, &s.embedding_cache_kib, "hardware.accel.sweep.embedding_cache_kib");
    let bw = opt_floats(cx, &s.dram_bandwidth_gib_s, "hardware.accel.sweep.dram_bandwidth_gib_s");
    let clock = opt_floats(cx, &s.clock_mhz, "hardware.accel.sweep.clock_mhz");
    let (base, array, wsram, asram, ecache, bw, clock) = (base?, array?, wsram?, asram?, ecache?, bw?, clock?);
    let stem = file_stem(&base.value);
    let mut out = Vec::new();
    let mut ok = true;
    for &a in &array {
        for &w in &wsram {
            for &act in &asram {
                for &e in &ecache {
                    for &b in &bw {
                        for &c in &clock {
                            let o = AccelOverrides {
                                array_size: a.map(|x| x as u32),
                                weight_sram_kib: w,
                                activation_sram_kib: act,
                                embedding_cache_kib: e,
                                dram_bandwidth_gib_s: b,
                                clock_mhz: c,
                            };
                            let label = sweep_label(&stem, &o);
                            match resolve_accel(cx, base, "hardware.accel.sweep", label, &o) {
                                Some(choice) => out.push(choice),
                                None => ok = false,
                            }
                        }
                    }
                }
            }
        }
    }
    ok.then_some(out)
}

/// Load the accelerator description `file` (a spec value), apply sweep overrides, validate the result and
/// compute its area and power. Problems are reported at `path` with the description file named.
fn resolve_accel(
    cx: &mut Ctx,
    file: &Sp<String>,
    path: &str,
    label: String,
    overrides: &AccelOverrides,
) -> Option<AccelChoice> {
    use crate::accel::{area_power, hardware::AccelConfig};
    if !cx.file_exists(&file.value) {
        cx.err(file, path, format!("accelerator description '{}' not found", file.value));
        return None;
    }
    let full = cx.base_dir.join(&file.value);
    let config = match AccelConfig::load(&full) {
        Ok(c) => c,
        Err(e) => {
            cx.err(
                file,
                path,
                format!(
                    "invalid accelerator description '{}':\n    {}",
                    file.value,
                    e.to_string().replace('\n', "\n    ")
                ),
            );
            return None;
        }
    };
    let config = config.with_overrides(overrides);
    let problems = config.validate();
    if !problems.is_empty() {
        for (field, message) in problems {
            cx.err(file, path, format!("accelerator '{label}' (from '{}'): {field}: {message}", file.value));
        }
        return None;
    }
    let (area_mm2, power_w) = (area_power::area_mm2(&config), area_power::power_w(&config));
    Some(AccelChoice { label, base: file.value.clone(), overrides: overrides.clone(), config, area_mm2, power_w })
}

fn sweep_label(stem: &str, o: &AccelOverrides) -> String {
    let mut label = stem.to_string();
    if let Some(a) = o.array_size {
        label += &format!("-a{a}");
    }
    if let Some(w) = o.weight_sram_kib {
        label += &format!("-w{w}k");
    }
    if let Some(a) = o.activation_sram_kib {
        label += &format!("-act{a}k");
    }
    if let Some(e) = o.embedding_cache_kib {
        label += &format!("-emb{e}k");
    }
    if let Some(b) = o.dram_bandwidth_gib_s {
        label += &format!("-bw{b}");
    }
    if let Some(c) = o.clock_mhz {
        label += &format!("-clk{c}");
    }
    label
}

fn load(cx: &mut Ctx, raw: Option<&RawLoad>) -> Option<LoadSpec> {
    let Some(raw) = raw else {
        cx.missing("load", "arrival process and offered loads");
        return None;
    };
    let arrivals = [("poisson", ArrivalKind::Poisson), ("legacy-ms", ArrivalKind::LegacyMs)];
    let arrival = cx.choice(&raw.arrival, "load.arrival", "arrival process", &arrivals, Some(ArrivalKind::Poisson));
    let qps = match &raw.qps {
        None => {
            cx.missing("load.qps", "offered loads in queries per second");
            None
        }
        Some(l) if l.is_empty() => {
            cx.issues.push(None, "load.qps", "must list at least one offered load");
            None
        }
        Some(l) => {
            let v: Vec<Option<f64>> =
                l.iter().enumerate().map(|(i, q)| cx.positive_f64(q, &format!("load.qps[{i}]"))).collect();
            v.iter().all(Option::is_some).then(|| v.into_iter().flatten().collect())
        }
    };
    let queries = cx.opt_int(&raw.queries, "load.queries", 1, DEFAULT_QUERIES);
    let warmup = cx.opt_int(&raw.warmup_queries, "load.warmup_queries", 0, 0);
    if let (Some(q), Some(w), Some(sp)) = (queries, warmup, &raw.warmup_queries) {
        if w >= q {
            cx.err(sp, "load.warmup_queries", format!("must be smaller than load.queries ({q}), got {w}"));
            return None;
        }
    }
    Some(LoadSpec { arrival: arrival?, qps: qps?, queries: queries?, warmup_queries: warmup? })
}

fn sla(cx: &mut Ctx, raw: Option<&RawSla>) -> Option<Sla> {
    let Some(raw) = raw else {
        cx.missing("sla", "latency percentile and target, e.g. {percentile: 95, target_ms: 25}");
        return None;
    };
    let percentile = match &raw.percentile {
        None => Some(95.0),
        Some(p) if p.value > 0.0 && p.value < 100.0 => Some(p.value),
        Some(p) => {
            cx.err(p, "sla.percentile", format!("must be in the open interval (0, 100), got {}", p.value));
            None
        }
    };
    let target = match &raw.target_ms {
        None => {
            cx.missing("sla.target_ms", "latency target in milliseconds");
            None
        }
        Some(t) => cx.positive_f64(t, "sla.target_ms"),
    };
    Some(Sla { percentile: percentile?, target_ms: target? })
}

fn metric(cx: &mut Ctx, m: &Option<Sp<String>>, path: &str, top_k: Option<u32>) -> Option<Metric> {
    let Some(m) = m else {
        cx.missing(path, METRIC_SYNTAX);
        return None;
    };
    let Some(metric) = Metric::parse(&m.value) else {
        cx.err(m, path, format!("unknown metric '{}' (expected one of {METRIC_SYNTAX})", m.value));
        return None;
    };
    if let (Some(k), Some(top)) = (metric.cutoff(), top_k) {
        if k > top {
            cx.err(m, path, format!("cut-off {k} exceeds quality.top_k = {top}"));
            return None;
        }
    }
    Some(metric)
}

fn objectives(cx: &mut Ctx, raw: Option<&[RawObjective]>, top_k: Option<u32>) -> Option<Vec<Objective>> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        cx.missing("objectives", "at least one {metric, direction}");
        return None;
    };
    let mut out: Vec<Objective> = Vec::new();
    let mut ok = true;
    for (i, o) in raw.iter().enumerate() {
        let m = metric(cx, &o.metric, &format!("objectives[{i}].metric"), top_k);
        let directions = [("maximize", Direction::Maximize), ("minimize", Direction::Minimize)];
        let d = cx.choice(&o.direction, &format!("objectives[{i}].direction"), "direction", &directions, None);
        match (m, d) {
            (Some(metric), Some(direction)) => {
                if out.iter().any(|x| x.metric == metric) {
                    cx.issues.push(None, format!("objectives[{i}].metric"), format!("duplicate objective '{metric}'"));
                    ok = false;
                }
                out.push(Objective { metric, direction })
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

fn constraints(cx: &mut Ctx, raw: Option<&[RawConstraint]>, top_k: Option<u32>) -> Option<Vec<Constraint>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, c) in raw.unwrap_or_default().iter().enumerate() {
        let m = metric(cx, &c.metric, &format!("constraints[{i}].metric"), top_k);
        let (min, max) = (c.min.as_ref().map(|v| v.value), c.max.as_ref().map(|v| v.value));
        if min.is_none() && max.is_none() {
            cx.issues.push(None, format!("constraints[{i}]"), "needs min and/or max");
            ok = false;
        }
        if let (Some(lo), Some(hi), Some(sp)) = (min, max, &c.max) {
            if lo > hi {
                cx.err(sp, &format!("constraints[{i}].max"), format!("max {hi} is below min {lo}"));
                ok = false;
            }
        }
        for (v, name) in [(&c.min, "min"), (&c.max, "max")] {
            if let Some(v) = v {
                if !v.value.is_finite() {
                    cx.err(v, &format!("constraints[{i}].{name}"), format!("must be a finite number, got {}", v.value));
                    ok = false;
                }
            }
        }
        match m {
            Some(metric) => out.push(Constraint { metric, min, max }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn search(cx: &mut Ctx, raw: Option<&RawSearch>, master_seed: u64) -> Option<SearchSpec> {
    let strategies =
        [("exhaustive", Strategy::Exhaustive), ("annealing", Strategy::Annealing), ("nsga2", Strategy::Nsga2)];
    let strategy = cx.choice(
        &raw.and_then(|r| r.strategy.clone()),
        "search.strategy",
        "strategy",
        &strategies,
        Some(Strategy::Exhaustive),
    );
    let empty = RawSearch { strategy: None, budget: None, seed: None, population: None, restarts: None };
    let raw = raw.unwrap_or(&empty);
    let budget = cx.opt_int(&raw.budget, "search.budget", 1, 1000);
    let seed = cx.opt_int(&raw.seed, "search.seed", 0, master_seed);
    let population = cx.opt_int(&raw.population, "search.population", 4, 32);
    let restarts = cx.opt_int(&raw.restarts, "search.restarts", 1, 4);
    Some(SearchSpec {
        strategy: strategy?,
        budget: budget?,
        seed: seed?,
        population: population? as u32,
        restarts: restarts? as u32,
    })
}

fn build_templates(
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
