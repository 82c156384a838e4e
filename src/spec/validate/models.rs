//! The `models:` zoo (DLRM, NeuMF, popularity entries and presets) and the `training:` section, whose
//! defaults by data kind live beside the trainer (`zoo::train`).

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

pub(super) fn positive_layers(cx: &mut Checker, layers: &Sp<Vec<i64>>, path: &str) -> Option<Vec<u32>> {
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

pub(super) fn zoo(cx: &mut Checker, models: &[RawModel], dataset: Option<&DatasetSpec>) -> Option<Vec<ZooModel>> {
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

pub(super) fn dlrm(cx: &mut Checker, d: &RawDlrm, path: &str) -> Option<ModelArch> {
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
    let interaction = cx.choice(&d.interaction, &format!("{path}.interaction"), "interaction", Some(Interaction::Dot));
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

pub(super) fn neumf(cx: &mut Checker, n: &RawNeuMf, path: &str) -> Option<ModelArch> {
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
