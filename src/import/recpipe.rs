//! `import recpipe`: a RecPipe experiment config (`configs/recpipe_configs/*.json`, with the model and
//! hardware JSONs it names) as a design-space YAML.
//!
//! The experiment's fields (RecPipe MICRO'21 artifact, `RecPipeMain.py`) map as follows:
//!
//! | RecPipe | space |
//! |---|---|
//! | `model_configs` (comma-joined model JSONs per stage) | one pipeline entry per model tuple; each distinct JSON a `models:` entry: the preset with the same layer shapes, else a `dlrm:` / `neumf:` block with the JSON's widths |
//! | `stage_batch_sizes` (comma-joined items per stage) | `items` tuples |
//! | `use_gpus` (comma-joined `True`/`False` per stage) | `backends` tuples of `gpu` / `cpu` |
//! | `accel_configs` (`"all"` or comma-joined sizes S) | `backends: [[accel, …]]`, `mode: recpipe2021` with RecPipe's stage I/O (`top_n: zero`, `transfers: every-stage`, `python2_division: true`), the `hardconf_S.json` files as presets, `count_per_stage` = RecPipe's ⌊S / stages⌋ engines |
//! | `max_cpu_engines`, `num_threads_per_engine` | `hardware.cpu.engines`, `threads_per_engine`, `cores` |
//! | `arrival_rates` (mean gap between queries, ms) | `load.qps` = 1000 / gap, `arrival: legacy-ms` (RecPipe's integer-ms Poisson gaps) |
//! | `num_queries` | `load.queries` |
//!
//! `"all"` expands as RecPipe's `gen_sweep_accel_configs` does: sizes {1, 4, 16, 64} for one stage and
//! {4, 16, 64} per stage for more. The accelerator choices of a stage are the presets × `count_per_stage`, so
//! the space holds RecPipe's (size, ⌊S / stages⌋) designs and the other (size, count) pairs beside them.
//! RecPipe's `num_stages` is checked against the per-stage lists; where they disagree the lists decide and a
//! warning says so. A MovieLens model JSON whose widths no NeuMF network has (its MLP input is not twice its
//! embedding width, or its prediction input is not the tower's last width plus the GMF width) becomes the
//! nearest buildable NeuMF, with a warning naming the widths the accelerator model then charges differently.
//!
//! The conversion is pure: files are read through the [`Files`] the caller supplies.

use crate::accel::model_shape::{DlrmShape, NeuMfShape};
use crate::accel::ModelShape;
use crate::input::{InputError, Issues};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A RecPipe experiment config.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Queries per (configuration, arrival rate).
    pub num_queries: u64,
    /// Repeated trials (1 everywhere).
    pub nepochs: u64,
    /// CPU engine budget (physical cores).
    pub max_cpu_engines: u32,
    /// Pipeline depth as declared.
    pub num_stages: u32,
    /// Mean inter-arrival gaps, ms.
    pub arrival_rates: Vec<f64>,
    /// Comma-joined model JSON paths per stage.
    pub model_configs: Vec<String>,
    /// Torch threads per engine, per stage.
    pub num_threads_per_engine: Vec<u32>,
    /// Comma-joined `True`/`False` per stage.
    pub use_gpus: Vec<String>,
    /// Accelerator sizes: `"all"` or comma-joined sizes per stage.
    pub accel_configs: Option<AccelConfigs>,
    /// Comma-joined item counts per stage.
    pub stage_batch_sizes: Vec<String>,
}

/// `accel_configs`: `"all"` or a list.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum AccelConfigs {
    /// `"all"`.
    Word(String),
    /// Comma-joined sizes per stage.
    List(Vec<String>),
}

/// A file the experiment names, as found by the caller.
#[derive(Debug, Clone)]
pub struct FoundFile {
    /// The path to write into the space (relative to the directory the space is used from).
    pub path: String,
    /// The file's text.
    pub text: String,
}

/// How referenced files are found and read: `(field path, path as written in the experiment)` → the file.
pub type Files<'a> = dyn Fn(&str, &str) -> Result<FoundFile, String> + 'a;

/// Settings the experiment does not carry.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Space name.
    pub name: String,
    /// SLA target, ms (RecPipe's configs carry none).
    pub sla_ms: f64,
    /// Space seed.
    pub seed: u64,
    /// Data set path for a MovieLens space.
    pub movielens_path: String,
    /// Data set path for a Criteo Kaggle space (the synthetic stand-in is used where it is missing).
    pub criteo_path: String,
}

/// The result of an import.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The space YAML.
    pub yaml: String,
    /// Where the space differs from a literal reading of the experiment.
    pub warnings: Vec<String>,
    /// The model entries: (space model name, source JSON path).
    pub models: Vec<(String, String)>,
}

fn split_list<T>(
    issues: &mut Issues,
    field: &str,
    text: &str,
    parse: impl Fn(&str) -> Option<T>,
    expected: &str,
) -> Option<Vec<T>> {
    let parts: Option<Vec<T>> = text.split(',').map(|p| parse(p.trim())).collect();
    if parts.is_none() {
        issues.push(None, field, format!("must be comma-joined {expected}, got '{text}'"));
    }
    parts
}

fn flag(word: &str) -> Option<bool> {
    match word {
        "True" => Some(true),
        "False" => Some(false),
        _ => None,
    }
}

/// A YAML-safe model name from a file stem.
fn model_name(stem: &str) -> String {
    let clean: String =
        stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if clean.is_empty() {
        "model".into()
    } else {
        clean
    }
}

fn widths(w: &[u32]) -> String {
    format!("[{}]", w.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))
}

/// The preset whose accelerator shape is `shape`, if any.
fn matching_preset(shape: &ModelShape) -> Option<&'static str> {
    crate::model::PRESET_NAMES.iter().copied().find(|n| ModelShape::from_preset(n).as_ref() == Some(shape))
}

/// The `models:` entry of one model JSON, and a warning where the space's network differs from it.
fn model_entry(name: &str, shape: &ModelShape, source: &str) -> (String, Option<String>) {
    if let Some(preset) = matching_preset(shape) {
        return (format!("  - {{ name: {name}, preset: {preset} }}   # {source}\n"), None);
    }
    match shape {
        ModelShape::Dlrm(DlrmShape { embedding_dim, bottom_mlp, top_mlp, .. }) => (
            format!(
                "  - name: {name}   # {source}\n    dlrm: {{ embedding_dim: {embedding_dim}, bottom_mlp: {}, top_mlp: {}, interaction: dot }}\n",
                widths(bottom_mlp),
                widths(top_mlp)
            ),
            None,
        ),
        ModelShape::NeuMf(NeuMfShape { mf_dim, mlp_embedding_dim, mlp_layers, predict_layers }) => {
            let first = mlp_layers.first().copied().unwrap_or(2 * mlp_embedding_dim);
            let emb = if first % 2 == 0 { first / 2 } else { *mlp_embedding_dim };
            let last = mlp_layers.last().copied().unwrap_or(0);
            let network_predict = vec![last + mf_dim, 1];
            let mut differences = Vec::new();
            if emb != *mlp_embedding_dim {
                differences.push(format!(
                    "arch_sparse_feature_size {mlp_embedding_dim} → MLP embedding {emb} (half the tower input {first})"
                ));
            }
            if *predict_layers != network_predict {
                differences.push(format!(
                    "arch_mlp_top {} → prediction layer {} (tower output {last} + GMF {mf_dim})",
                    widths(predict_layers),
                    widths(&network_predict)
                ));
            }
            let warning = (!differences.is_empty()).then(|| {
                format!(
                    "{source}: no NeuMF network has these widths, so model '{name}' is the nearest one that does ({}); \
                     its accelerator cost follows the network, not the JSON's literal widths",
                    differences.join("; ")
                )
            });
            (
                format!(
                    "  - name: {name}   # {source}\n    neumf: {{ mf_dim: {mf_dim}, mlp_embedding_dim: {emb}, mlp_layers: {} }}\n",
                    widths(mlp_layers)
                ),
                warning,
            )
        }
        ModelShape::Generic(_) => unreachable!("RecPipe model JSONs describe DLRM or NeuMF"),
    }
}

fn fmt_f(x: f64) -> String {
    crate::explore::evaluate::fmt_num(x)
}

/// Convert an experiment config (`text`, named `file`) into a space.
pub fn import(text: &str, file: &str, options: &ImportOptions, files: &Files<'_>) -> Result<Imported, InputError> {
    let exp: Experiment = crate::input::parse_json(text, file)?;
    let mut issues = Issues::new(file);
    let mut warnings = Vec::new();

    // Per-stage tuples.
    let model_tuples: Vec<Option<Vec<String>>> = exp
        .model_configs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            split_list(
                &mut issues,
                &format!("model_configs[{i}]"),
                t,
                |p| (!p.is_empty()).then(|| p.to_string()),
                "model JSON paths",
            )
        })
        .collect();
    let item_tuples: Vec<Option<Vec<u32>>> = exp
        .stage_batch_sizes
        .iter()
        .enumerate()
        .map(|(i, t)| {
            split_list(
                &mut issues,
                &format!("stage_batch_sizes[{i}]"),
                t,
                |p| p.parse().ok().filter(|v| *v > 0),
                "positive item counts",
            )
        })
        .collect();
    let gpu_tuples: Vec<Option<Vec<bool>>> = exp
        .use_gpus
        .iter()
        .enumerate()
        .map(|(i, t)| split_list(&mut issues, &format!("use_gpus[{i}]"), t, flag, "True/False flags"))
        .collect();
    for (field, empty) in [
        ("model_configs", exp.model_configs.is_empty()),
        ("stage_batch_sizes", exp.stage_batch_sizes.is_empty()),
        ("arrival_rates", exp.arrival_rates.is_empty()),
    ] {
        if empty {
            issues.push(None, field, "must not be empty");
        }
    }
    for (i, gap) in exp.arrival_rates.iter().enumerate() {
        if !(gap.is_finite() && *gap > 0.0) {
            issues.push(None, format!("arrival_rates[{i}]"), format!("must be a positive gap in ms, got {gap}"));
        }
    }
    if exp.max_cpu_engines == 0 {
        issues.push(None, "max_cpu_engines", "must be ≥ 1, got 0");
    }
    if exp.num_queries == 0 {
        issues.push(None, "num_queries", "must be ≥ 1, got 0");
    }
    let accel_sizes: Option<Vec<Vec<u32>>> = match &exp.accel_configs {
        None => None,
        Some(AccelConfigs::Word(w)) if w == "all" => Some(Vec::new()),
        Some(AccelConfigs::Word(w)) => {
            issues.push(None, "accel_configs", format!("must be \"all\" or a list of comma-joined sizes, got '{w}'"));
            None
        }
        Some(AccelConfigs::List(list)) => Some(
            list.iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    split_list(
                        &mut issues,
                        &format!("accel_configs[{i}]"),
                        t,
                        |p| p.parse().ok().filter(|s: &u32| matches!(s, 1 | 4 | 16 | 64)),
                        "sizes out of 1, 4, 16, 64",
                    )
                })
                .collect(),
        ),
    };
    if !issues.is_empty() {
        return Err(InputError { issues: issues.list });
    }
    let model_tuples: Vec<Vec<String>> = model_tuples.into_iter().flatten().collect();
    let item_tuples: Vec<Vec<u32>> = item_tuples.into_iter().flatten().collect();
    let gpu_tuples: Vec<Vec<bool>> = gpu_tuples.into_iter().flatten().collect();

    // Stage counts: the per-stage lists decide.
    let mut depths: Vec<usize> = model_tuples.iter().map(Vec::len).collect();
    depths.sort_unstable();
    depths.dedup();
    for &k in &depths {
        if k != exp.num_stages as usize {
            warnings.push(format!(
                "{file}: num_stages is {} but model_configs has {k}-stage entries; the per-stage lists decide ({k} stage{})",
                exp.num_stages,
                if k == 1 { "" } else { "s" }
            ));
        }
        if !item_tuples.iter().any(|t| t.len() == k) {
            issues.push(None, "stage_batch_sizes", format!("has no {k}-stage entry for the {k}-stage model_configs"));
        }
        if accel_sizes.is_none() && !gpu_tuples.iter().any(|t| t.len() == k) {
            issues.push(None, "use_gpus", format!("has no {k}-stage entry for the {k}-stage model_configs"));
        }
    }
    for (i, t) in item_tuples.iter().enumerate() {
        if !depths.contains(&t.len()) {
            warnings.push(format!(
                "{file}: stage_batch_sizes[{i}] has {} stages, like no model_configs entry; left out",
                t.len()
            ));
        }
        if t.windows(2).any(|w| w[1] >= w[0]) {
            issues.push(
                None,
                format!("stage_batch_sizes[{i}]"),
                format!("items must decrease from stage to stage, got '{}'", exp.stage_batch_sizes[i]),
            );
        }
    }

    // Models.
    let mut shapes: BTreeMap<String, (String, ModelShape, String)> = BTreeMap::new(); // as written → (name, shape, found path)
    let mut names_taken: Vec<String> = Vec::new();
    for (i, tuple) in model_tuples.iter().enumerate() {
        for written in tuple {
            if shapes.contains_key(written) {
                continue;
            }
            let field = format!("model_configs[{i}]");
            let found = match files(&field, written) {
                Ok(f) => f,
                Err(message) => {
                    issues.push(None, field, message);
                    continue;
                }
            };
            match ModelShape::from_recpipe_json_str(&found.text, &found.path) {
                Ok(shape) => {
                    let stem = std::path::Path::new(written)
                        .file_stem()
                        .map_or("model".into(), |s| s.to_string_lossy().to_string());
                    let base = matching_preset(&shape).map_or_else(|| model_name(&stem), str::to_string);
                    let mut name = base.clone();
                    let mut n = 2;
                    while names_taken.contains(&name) {
                        name = format!("{base}-{n}");
                        n += 1;
                    }
                    names_taken.push(name.clone());
                    shapes.insert(written.clone(), (name, shape, found.path));
                }
                Err(crate::accel::hardware::AccelError::Invalid(list)) => issues.extend(list),
                Err(other) => issues.push(None, field, other.to_string()),
            }
        }
    }
    let families: std::collections::BTreeSet<&str> = shapes.values().map(|(_, s, _)| s.family()).collect();
    if families.len() > 1 {
        issues.push(
            None,
            "model_configs",
            format!(
                "mixes model families ({}); a space serves one data set",
                families.iter().copied().collect::<Vec<_>>().join(", ")
            ),
        );
    }

    // Accelerator presets.
    let stage_counts: Vec<usize> = depths.clone();
    let mut hardconfs: BTreeMap<u32, String> = BTreeMap::new();
    let mut accel_counts: Vec<u32> = Vec::new();
    if let Some(sizes) = &accel_sizes {
        let mut used: Vec<(usize, u32)> = Vec::new(); // (stages, size)
        for &k in &stage_counts {
            if sizes.is_empty() {
                let all: &[u32] = if k == 1 { &[1, 4, 16, 64] } else { &[4, 16, 64] };
                used.extend(all.iter().map(|&s| (k, s)));
            } else {
                for (i, t) in sizes.iter().enumerate() {
                    if t.len() != k && t.len() != 1 {
                        warnings.push(format!(
                            "{file}: accel_configs[{i}] has {} sizes for {k}-stage pipelines; left out for them",
                            t.len()
                        ));
                        continue;
                    }
                    used.extend(t.iter().map(|&s| (k, s)));
                }
            }
        }
        for &(k, size) in &used {
            let engines = (size as usize / k).max(1) as u32;
            if size as usize / k == 0 {
                warnings.push(format!(
                    "{file}: size {size} split over {k} stages gives RecPipe ⌊{size}/{k}⌋ = 0 engines; the space uses 1"
                ));
            }
            if !accel_counts.contains(&engines) {
                accel_counts.push(engines);
            }
            if let std::collections::btree_map::Entry::Vacant(slot) = hardconfs.entry(size) {
                let written = format!("configs/accel_configs/hardconf_{size}.json");
                match files("accel_configs", &written) {
                    Ok(found) => match crate::accel::AccelConfig::from_recpipe_json_str(&found.text, &found.path) {
                        Ok(_) => {
                            slot.insert(found.path);
                        }
                        Err(crate::accel::hardware::AccelError::Invalid(list)) => issues.extend(list),
                        Err(other) => issues.push(None, "accel_configs", other.to_string()),
                    },
                    Err(message) => issues.push(None, "accel_configs", message),
                }
            }
        }
        accel_counts.sort_unstable();
    }
    if !issues.is_empty() {
        return Err(InputError { issues: issues.list });
    }

    // The space.
    let kaggle = families.contains("dlrm");
    let max_first_items = item_tuples.iter().filter_map(|t| t.first()).copied().max().unwrap_or(1);
    let min_last_items =
        item_tuples.iter().filter(|t| depths.contains(&t.len())).filter_map(|t| t.last()).copied().min().unwrap_or(64);
    let top_k = min_last_items.min(64);
    let mut model_entries = String::new();
    let mut model_list: Vec<(String, String)> = Vec::new();
    let mut ordered: Vec<&(String, ModelShape, String)> = shapes.values().collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, shape, path) in ordered {
        let (entry, warning) = model_entry(name, shape, path);
        model_entries.push_str(&entry);
        warnings.extend(warning);
        model_list.push((name.clone(), path.clone()));
    }
    let mut y = String::new();
    let _ = writeln!(y, "# Imported from the RecPipe experiment config {file} by `recpipe-dse import recpipe`.");
    let _ = writeln!(
        y,
        "# Arrival gaps {:?} ms are offered loads of 1000/gap queries/s; RecPipe's configs carry no SLA.",
        exp.arrival_rates
    );
    for w in &warnings {
        let _ = writeln!(y, "# warning: {w}");
    }
    let _ = writeln!(y, "name: {}", options.name);
    let _ = writeln!(y, "description: RecPipe experiment {file}, imported");
    let _ = writeln!(y, "seed: {}\n", options.seed);
    let _ = writeln!(y, "dataset:");
    if kaggle {
        let _ = writeln!(y, "  kind: criteo-kaggle\n  path: {}\n  synthetic_fallback: true\n  eval_queries: 64\n  candidates_per_query: {max_first_items}", options.criteo_path);
    } else {
        let _ = writeln!(
            y,
            "  kind: movielens\n  path: {}\n  protocol: loo-sampled\n  sampled_negatives: 999",
            options.movielens_path
        );
    }
    let _ = writeln!(y, "\nmodels:");
    y.push_str(&model_entries);
    let _ = writeln!(y, "\nquality:\n  top_k: {top_k}\n\npipelines:");
    // One pipeline entry per depth (a space allows one): each stage's models are those RecPipe pairs at that
    // stage; where its tuples are not every combination of them, the space holds the other combinations too.
    for &k in &depths {
        let tuples: Vec<&Vec<String>> = model_tuples.iter().filter(|t| t.len() == k).collect();
        let per_stage: Vec<Vec<String>> = (0..k)
            .map(|s| {
                let mut names: Vec<String> = Vec::new();
                for t in &tuples {
                    let name = &shapes[&t[s]].0;
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                }
                names
            })
            .collect();
        let combinations: usize = per_stage.iter().map(Vec::len).product();
        let mut distinct: Vec<&Vec<String>> = tuples.clone();
        distinct.sort();
        distinct.dedup();
        if combinations > distinct.len() {
            warnings.push(format!(
                "{file}: the {k}-stage model_configs pair {} of the {combinations} model combinations; the space holds all {combinations}",
                distinct.len()
            ));
        }
        let names: Vec<String> = per_stage.iter().map(|n| format!("[{}]", n.join(", "))).collect();
        let items: Vec<String> = item_tuples.iter().filter(|t| t.len() == k).map(|t| widths(t)).collect();
        let backends: Vec<String> = if accel_sizes.is_some() {
            vec![format!("[{}]", vec!["accel"; k].join(", "))]
        } else {
            let mut b: Vec<String> = Vec::new();
            for t in gpu_tuples.iter().filter(|t| t.len() == k) {
                let tuple =
                    format!("[{}]", t.iter().map(|g| if *g { "gpu" } else { "cpu" }).collect::<Vec<_>>().join(", "));
                if !b.contains(&tuple) {
                    b.push(tuple);
                }
            }
            b
        };
        let _ = writeln!(
            y,
            "  - stages: {k}\n    models: [{}]\n    items: [{}]\n    backends: [{}]",
            names.join(", "),
            items.join(", "),
            backends.join(", ")
        );
    }
    let _ = writeln!(y, "\nhardware:");
    if accel_sizes.is_none() {
        let mut threads = exp.num_threads_per_engine.clone();
        threads.sort_unstable();
        threads.dedup();
        threads.retain(|t| *t > 0);
        if threads.is_empty() {
            threads.push(1);
        }
        let _ = writeln!(
            y,
            "  cpu:\n    engines: [{}]\n    threads_per_engine: {}\n    cores: {}",
            exp.max_cpu_engines,
            widths(&threads),
            exp.max_cpu_engines
        );
        if gpu_tuples.iter().any(|t| t.iter().any(|g| *g)) {
            let _ = writeln!(y, "  gpu:\n    count: [1]\n    max_total: 1");
        }
    } else {
        let presets: Vec<String> = hardconfs.values().cloned().collect();
        let _ = writeln!(
            y,
            "  accel:\n    mode: recpipe2021\n    presets: [{}]\n    count_per_stage: {}   # RecPipe: ⌊S / stages⌋ engines of size 1/S\n    \
             # RecPipe's stage I/O: no items returned (top_n = 0), PCIe in and out on every stage, Python-2 arithmetic\n    \
             top_n: zero\n    transfers: every-stage\n    python2_division: true",
            presets.join(", "),
            widths(&accel_counts)
        );
    }
    let qps: Vec<String> = exp.arrival_rates.iter().map(|g| format!("{}", 1000.0 / g)).collect();
    let _ = writeln!(y, "\nload:\n  arrival: legacy-ms\n  qps: [{}]\n  queries: {}", qps.join(", "), exp.num_queries);
    let _ = writeln!(y, "\nsla:\n  percentile: 95\n  target_ms: {}", fmt_f(options.sla_ms));
    let _ = writeln!(
        y,
        "\nobjectives:\n  - {{ metric: ndcg@{top_k}, direction: maximize }}\n  - {{ metric: p95_ms, direction: minimize }}\n  - {{ metric: capacity_qps, direction: maximize }}"
    );
    let _ = writeln!(y, "\nsearch:\n  strategy: exhaustive\n  budget: @BUDGET@\n\noutput:\n  dir: reports");
    Ok(Imported { yaml: y, warnings, models: model_list })
}

/// The space text with its exhaustive search budget set to `points` (the space's point count).
pub fn with_budget(yaml: &str, points: u64) -> String {
    yaml.replace("@BUDGET@", &points.to_string())
}
