//! The `models:` zoo (presets and family blocks of any registered family, expanded into their variants and
//! datatypes) and the `training:` section, whose defaults by data kind live beside the trainer (`zoo::train`).

use super::*;

/// The `training:` section with defaults by data kind: MovieLens follows RecBole 1.2.1's NeuMF recipe (Adam
/// lr 1e-3, batch 2048, one negative per positive, dropout 0.1, patience 10); Criteo follows DLRM (SGD, lr 0.1
/// on a capped number of rows, early stopping on validation AUC).
pub(super) fn training(
    cx: &mut Checker,
    t: Option<&RawTraining>,
    kind: Option<DatasetKind>,
    master_seed: u64,
) -> Option<TrainingSpec> {
    let criteo = kind == Some(DatasetKind::CriteoKaggle);
    let d = if criteo { TrainingSpec::CRITEO } else { TrainingSpec::MOVIELENS };
    let Some(t) = t else { return Some(TrainingSpec { seed: master_seed, ..d }) };
    let small = |cx: &mut Checker, v: &Option<Sp<i64>>, path: &str, min: i64, default: u32| -> Option<u32> {
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

/// Zoo models of a `models:` list, and the entries whose names stand for several zoo models (their variants):
/// entry name → zoo indices.
pub(super) type Zoo = (Vec<ZooModel>, BTreeMap<String, Vec<usize>>);

/// Every model entry expanded into zoo models: one per architecture its family block names (list-valued knobs)
/// and per datatype. A variant is named `<name>-<label>` (label of its multi-valued knobs, e.g. `d8-b1`), then
/// `-<datatype>` when the entry lists datatypes; the entry's name refers to all of them in pipelines.
pub(super) fn zoo(cx: &mut Checker, models: &[RawModel], dataset: Option<&DatasetSpec>) -> Option<Zoo> {
    let mut out: Vec<ZooModel> = Vec::new();
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut ok = true;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, m) in models.iter().enumerate() {
        let path = format!("models[{i}]");
        let name = match &m.name {
            Some(n) if is_identifier(&n.value) => Some(n.value.clone()),
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
        let blocks = m.family_blocks(cx, &path);
        let variants = if usize::from(m.preset.is_some()) + blocks.len() != 1 {
            let keys: Vec<&str> = std::iter::once("preset").chain(RawModel::FAMILY_KEYS.iter().copied()).collect();
            cx.issues.push(None, &path, format!("needs exactly one of {}", keys.join(", ")));
            None
        } else if let Some(p) = &m.preset {
            match model::preset(&p.value) {
                Some(arch) => Some(vec![Variant { label: String::new(), arch }]),
                None => {
                    cx.err(
                        p,
                        &format!("{path}.preset"),
                        format!("unknown preset '{}' (expected one of {})", p.value, model::PRESET_NAMES.join("|")),
                    );
                    None
                }
            }
        } else {
            blocks.into_iter().next().and_then(|(_, v)| v)
        };
        let datatypes: Option<Vec<Option<Datatype>>> = match &m.datatypes {
            None => Some(vec![None]),
            Some(_) => knobs::choices(cx, &m.datatypes, &format!("{path}.datatypes"), "datatype", Datatype::Fp32)
                .map(|v| v.into_iter().map(Some).collect()),
        };
        if let (Some(variants), Some(dt)) = (&variants, &m.datatypes) {
            if let Some(v) = variants.iter().find(|v| v.arch.fit() == Fit::Counts) {
                cx.err(
                    dt,
                    &format!("{path}.datatypes"),
                    format!(
                        "a {} model has no parameters to serve in another datatype; remove datatypes",
                        v.arch.family()
                    ),
                );
                ok = false;
            }
        }
        if let (Some(variants), Some(ds)) = (&variants, dataset) {
            let kind = if ds.kind == DatasetKind::Movielens { "movielens" } else { "criteo-kaggle" };
            if let Some(v) = variants.iter().find(|v| !v.arch.serves(ds.kind)) {
                cx.issues.push(None, &path, format!("a {} model cannot score {kind} data", v.arch.family()));
                ok = false;
            }
        }
        let (Some(name), Some(variants), Some(datatypes)) = (name, variants, datatypes) else {
            ok = false;
            continue;
        };
        let mut members = Vec::new();
        for v in &variants {
            let trained_as = if v.label.is_empty() { name.clone() } else { format!("{name}-{}", v.label) };
            for dt in &datatypes {
                let full = match dt {
                    Some(dt) => format!("{trained_as}-{}", dt.name()),
                    None => trained_as.clone(),
                };
                if let Some(first) = seen.insert(full.clone(), path.clone()) {
                    let at = m.name.as_ref().expect("named above");
                    let also = if first == path { "another variant of this entry".to_string() } else { first };
                    cx.err(at, &format!("{path}.name"), format!("duplicate model name '{full}' (also {also})"));
                    ok = false;
                }
                members.push(out.len());
                out.push(ZooModel {
                    name: full,
                    preset: m.preset.as_ref().map(|p| p.value.clone()),
                    arch: v.arch.clone(),
                    datatype: *dt,
                    trained_as: trained_as.clone(),
                });
            }
        }
        if members.len() > 1 || out[members[0]].name != name {
            if let Some(first) = seen.get(&name).filter(|p| **p != path) {
                let at = m.name.as_ref().expect("named above");
                cx.err(at, &format!("{path}.name"), format!("duplicate model name '{name}' (also {first})"));
                ok = false;
            }
            seen.insert(name.clone(), path.clone());
            groups.insert(name, members);
        }
    }
    ok.then_some((out, groups))
}
