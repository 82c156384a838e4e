//! Layer shapes of the ranking models the accelerator runs: DLRM (Criteo Kaggle) and NeuMF (MovieLens).
//!
//! Widths are element counts; a layer `a → b` is a fully connected `a × b` weight matrix. Sources: the zoo
//! presets of [`crate::model`] (DLRM with the `dot` interaction, Naumov et al. 2019; NeuMF, He et al.
//! WWW 2017) and RecPipe's `configs/model_configs/*.json`, whose fields are `arch_sparse_feature_size` (d),
//! `arch_sparse_mf_feature_size` (GMF width, MovieLens only), `arch_mlp_bot` and `arch_mlp_top` (dash-separated
//! widths). RecPipe's MovieLens configs are kept as written, even where they disagree with the NeuMF structure
//! of its `models/neumf.py`: the original cost model consumed them literally.
//!
//! Data-set constants: Criteo Kaggle has 13 dense features and 26 tables with one lookup each; the standard
//! DLRM Kaggle row counts (the `counts` of facebookresearch/dlrm's processed data) total 33,762,577.
//! MovieLens-1M has 6,040 users and 3,706 rated movies, MovieLens-20M 138,493 users and 26,744 movies
//! (GroupLens data set READMEs).

use super::hardware::AccelError;
use crate::input::Issue;
use crate::model::dlrm::Interaction;
use crate::spec::DatasetKind;
use serde::Deserialize;
use std::path::Path;

/// Number of Criteo dense features.
pub const CRITEO_DENSE: u32 = 13;
/// Number of Criteo embedding tables (one lookup each per item).
pub const CRITEO_TABLES: u32 = 26;

/// The data set a stage serves; selects lookups per item and table sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    /// Criteo Kaggle display advertising (DLRM).
    Kaggle,
    /// MovieLens-1M (NeuMF).
    Movielens1m,
    /// MovieLens-20M (NeuMF).
    Movielens20m,
}

impl Dataset {
    /// Parse `kaggle`, `movielens1m` or `movielens20m`.
    pub fn parse(s: &str) -> Option<Self> {
        crate::input::parse_choice(s)
    }
    /// The name as parsed.
    pub fn name(self) -> String {
        crate::input::choice_name(&self)
    }
    /// (users, items) of a MovieLens set; `None` for Kaggle.
    pub fn movielens_entities(self) -> Option<(u64, u64)> {
        match self {
            Dataset::Kaggle => None,
            Dataset::Movielens1m => Some((6_040, 3_706)),
            Dataset::Movielens20m => Some((138_493, 26_744)),
        }
    }
}

/// DLRM layer shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlrmShape {
    /// Embedding dimension d.
    pub embedding_dim: u32,
    /// Number of embedding tables (one lookup each).
    pub tables: u32,
    /// Bottom MLP widths, input (13 dense features) first, last = d.
    pub bottom_mlp: Vec<u32>,
    /// Top MLP widths after the interaction, ending in the output width.
    pub top_mlp: Vec<u32>,
    /// Feature interaction.
    pub interaction: Interaction,
}

/// NeuMF layer shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeuMfShape {
    /// GMF embedding width per user and per item.
    pub mf_dim: u32,
    /// MLP embedding width per user and per item.
    pub mlp_embedding_dim: u32,
    /// MLP tower widths, input first (RecPipe `arch_mlp_bot`).
    pub mlp_layers: Vec<u32>,
    /// Prediction layers, input first (RecPipe `arch_mlp_top`; for a zoo preset `[last + mf, 1]`).
    pub predict_layers: Vec<u32>,
}

/// A model described by its work per query and per candidate, for families without a RecPipe-specific dataflow
/// (e.g. a two-tower retrieval model: user tower once per query, item tower per candidate, dot product). This is
/// the extension point for new model families: describe the family's work here instead of adding a variant to
/// [`ModelShape`]. Widths count elements; the cost model gives every MLP layer `a → b` an `a × b` weight matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericShape {
    /// Family name reported by [`ModelShape::family`] (e.g. `"two-tower"`).
    pub family: &'static str,
    /// Embedding lookups per candidate item, as groups of (lookups per item, vector width in elements); every
    /// lookup fetches one row of `width` elements.
    pub item_lookups: Vec<(u32, u32)>,
    /// Embedding lookups done once per query (e.g. the user side of a two-tower model), same format as
    /// `item_lookups`; not multiplied by the candidate count.
    pub query_lookups: Vec<(u32, u32)>,
    /// MLP run once per query on a batch of one row, widths in elements, input first; empty or at least two
    /// widths.
    pub query_layers: Vec<u32>,
    /// MLP run for every candidate after (or alongside, see `layers_overlap_lookups`) its lookups, widths in
    /// elements, input first; empty or at least two widths.
    pub item_layers: Vec<u32>,
    /// Multiply-accumulates per candidate outside the layers (e.g. a final dot product of width `w`: `w`).
    pub interaction_macs_per_item: u64,
    /// Whether the per-candidate MLP can run while the embedding rows are gathered (`true`, like DLRM's bottom
    /// MLP on dense features) or must wait for them (`false`, like NeuMF's tower).
    pub layers_overlap_lookups: bool,
    /// Data sets the model can serve.
    pub datasets: Vec<Dataset>,
}

impl GenericShape {
    /// The data sets as `kaggle or movielens1m …`, for messages.
    pub fn dataset_names(&self) -> String {
        self.datasets.iter().map(|d| d.name()).collect::<Vec<_>>().join(" or ")
    }
}

/// A model's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelShape {
    /// DLRM.
    Dlrm(DlrmShape),
    /// NeuMF.
    NeuMf(NeuMfShape),
    /// Any other family, described by its work ([`GenericShape`]).
    Generic(GenericShape),
}

/// Consecutive pairs of a width list as (input, output) layers.
pub fn layers(widths: &[u32]) -> impl Iterator<Item = (u32, u32)> + '_ {
    widths.windows(2).map(|w| (w[0], w[1]))
}

impl ModelShape {
    /// Family name.
    pub fn family(&self) -> &'static str {
        match self {
            ModelShape::Dlrm(_) => "dlrm",
            ModelShape::NeuMf(_) => "neumf",
            ModelShape::Generic(g) => g.family,
        }
    }

    /// Whether the model can serve the data set (DLRM ↔ Kaggle, NeuMF ↔ MovieLens, a generic shape ↔ its
    /// `datasets`).
    pub fn fits_dataset(&self, dataset: Dataset) -> bool {
        if let ModelShape::Generic(g) = self {
            return g.datasets.contains(&dataset);
        }
        matches!(
            (self, dataset),
            (ModelShape::Dlrm(_), Dataset::Kaggle)
                | (ModelShape::NeuMf(_), Dataset::Movielens1m | Dataset::Movielens20m)
        )
    }

    /// Embedding elements fetched per item (all lookups, one index per lookup).
    pub fn embedding_elements_per_item(&self) -> u64 {
        match self {
            ModelShape::Dlrm(d) => d.tables as u64 * d.embedding_dim as u64,
            ModelShape::NeuMf(n) => 2 * (n.mf_dim as u64 + n.mlp_embedding_dim as u64),
            ModelShape::Generic(g) => g.item_lookups.iter().map(|&(l, w)| l as u64 * w as u64).sum(),
        }
    }

    /// Every problem with the widths, as (field, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut list = |field: &str, w: &[u32], min_len: usize| {
            if w.len() < min_len {
                out.push((field.to_string(), format!("needs at least {min_len} widths, got {}", w.len())));
            } else if let Some(i) = w.iter().position(|&x| x == 0) {
                out.push((format!("{field}[{i}]"), "must be a positive width, got 0".to_string()));
            }
        };
        match self {
            ModelShape::Dlrm(d) => {
                list("bottom_mlp", &d.bottom_mlp, 2);
                list("top_mlp", &d.top_mlp, 1);
                if d.embedding_dim == 0 {
                    out.push(("embedding_dim".into(), "must be positive, got 0".into()));
                }
                if d.bottom_mlp.first().is_some_and(|&x| x != CRITEO_DENSE) {
                    out.push((
                        "bottom_mlp[0]".into(),
                        format!("must be the {CRITEO_DENSE} dense features, got {}", d.bottom_mlp[0]),
                    ));
                }
                if d.bottom_mlp.len() >= 2 && d.bottom_mlp.last() != Some(&d.embedding_dim) {
                    out.push((
                        format!("bottom_mlp[{}]", d.bottom_mlp.len() - 1),
                        format!(
                            "must equal the embedding dimension {}, got {}",
                            d.embedding_dim,
                            d.bottom_mlp[d.bottom_mlp.len() - 1]
                        ),
                    ));
                }
            }
            ModelShape::NeuMf(n) => {
                list("mlp_layers", &n.mlp_layers, 2);
                list("predict_layers", &n.predict_layers, 2);
                if n.mf_dim == 0 && n.mlp_embedding_dim == 0 {
                    out.push(("mlp_embedding_dim".into(), "needs a positive embedding width".into()));
                }
            }
            ModelShape::Generic(g) => validate_generic(g, &mut out),
        }
        out
    }
}

fn validate_generic(g: &GenericShape, out: &mut Vec<(String, String)>) {
    if g.family.trim().is_empty() {
        out.push(("family".into(), "must be a non-empty name".into()));
    }
    for (field, groups) in [("item_lookups", &g.item_lookups), ("query_lookups", &g.query_lookups)] {
        for (i, &(lookups, width)) in groups.iter().enumerate() {
            if lookups == 0 {
                out.push((format!("{field}[{i}]"), "lookups must be positive, got 0".into()));
            }
            if width == 0 {
                out.push((format!("{field}[{i}]"), "vector width must be positive, got 0".into()));
            }
        }
    }
    for (field, widths) in [("query_layers", &g.query_layers), ("item_layers", &g.item_layers)] {
        if widths.len() == 1 {
            out.push((field.into(), "needs no widths or at least 2 (input first), got 1".into()));
        } else if let Some(i) = widths.iter().position(|&x| x == 0) {
            out.push((format!("{field}[{i}]"), "must be a positive width, got 0".into()));
        }
    }
    if g.item_lookups.is_empty() && g.query_lookups.is_empty() && g.query_layers.is_empty() && g.item_layers.is_empty()
    {
        out.push((
            "item_lookups".into(),
            "needs at least one lookup or layer (item_lookups, query_lookups, query_layers and item_layers are all \
             empty)"
                .into(),
        ));
    }
    if g.datasets.is_empty() {
        out.push(("datasets".into(), "needs at least one data set".into()));
    }
}

/// RecPipe's model config JSON (`configs/model_configs/*.json`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecPipeModelJson {
    arch_sparse_feature_size: i64,
    #[serde(default)]
    arch_sparse_mf_feature_size: Option<i64>,
    arch_mlp_bot: String,
    arch_mlp_top: String,
    #[serde(default)]
    #[allow(dead_code)]
    load_model: Option<String>,
}

/// Our model YAML: a zoo preset by name, or an explicit DLRM or NeuMF shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModelFile {
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    dlrm: Option<RawDlrm>,
    #[serde(default)]
    neumf: Option<RawNeuMf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDlrm {
    embedding_dim: u32,
    bottom_mlp: Vec<u32>,
    top_mlp: Vec<u32>,
    #[serde(default)]
    interaction: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNeuMf {
    mf_dim: u32,
    mlp_embedding_dim: u32,
    mlp_layers: Vec<u32>,
    #[serde(default)]
    predict_layers: Option<Vec<u32>>,
}

fn parse_widths(text: &str, file: &str, field: &str) -> Result<Vec<u32>, Issue> {
    text.split('-')
        .map(|p| p.trim().parse::<u32>().ok().filter(|&v| v > 0))
        .collect::<Option<Vec<u32>>>()
        .ok_or_else(|| Issue::field(file, field, format!("must be dash-separated positive widths, got '{text}'")))
}

fn checked(shape: ModelShape, file: &str, rename: &dyn Fn(&str) -> String) -> Result<ModelShape, AccelError> {
    let problems = shape.validate();
    if problems.is_empty() {
        Ok(shape)
    } else {
        Err(AccelError::Invalid(
            problems.into_iter().map(|(field, message)| Issue::field(file, rename(&field), message)).collect(),
        ))
    }
}

impl ModelShape {
    /// Parse a RecPipe model config. A config with `arch_sparse_mf_feature_size` is NeuMF, otherwise DLRM
    /// with the `dot` interaction (the original's CLI default).
    pub fn from_recpipe_json_str(text: &str, origin: &str) -> Result<Self, AccelError> {
        let raw: RecPipeModelJson = crate::input::parse_json(text, origin)?;
        let mut issues = Vec::new();
        let bot = parse_widths(&raw.arch_mlp_bot, origin, "arch_mlp_bot").map_err(|e| issues.push(e));
        let top = parse_widths(&raw.arch_mlp_top, origin, "arch_mlp_top").map_err(|e| issues.push(e));
        let dim = |v: i64, field: &str, issues: &mut Vec<Issue>| -> u32 {
            if (1..=1 << 20).contains(&v) {
                v as u32
            } else {
                issues.push(Issue::field(origin, field, format!("must be a positive width, got {v}")));
                0
            }
        };
        let d = dim(raw.arch_sparse_feature_size, "arch_sparse_feature_size", &mut issues);
        let mf = raw.arch_sparse_mf_feature_size.map(|v| dim(v, "arch_sparse_mf_feature_size", &mut issues));
        let (Ok(bot), Ok(top)) = (bot, top) else {
            return Err(AccelError::Invalid(issues));
        };
        if !issues.is_empty() {
            return Err(AccelError::Invalid(issues));
        }
        let shape = match mf {
            None => ModelShape::Dlrm(DlrmShape {
                embedding_dim: d,
                tables: CRITEO_TABLES,
                bottom_mlp: bot,
                top_mlp: top,
                interaction: Interaction::Dot,
            }),
            Some(mf) => {
                ModelShape::NeuMf(NeuMfShape { mf_dim: mf, mlp_embedding_dim: d, mlp_layers: bot, predict_layers: top })
            }
        };
        let rename = |f: &str| -> String {
            match f.split('[').next().unwrap_or(f) {
                "bottom_mlp" | "mlp_layers" => "arch_mlp_bot".into(),
                "top_mlp" | "predict_layers" => "arch_mlp_top".into(),
                "embedding_dim" | "mlp_embedding_dim" => "arch_sparse_feature_size".into(),
                other => other.into(),
            }
        };
        checked(shape, origin, &rename)
    }

    /// Parse our model YAML (`preset: rm-small`, or a `dlrm:` / `neumf:` block).
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, AccelError> {
        let raw: RawModelFile = crate::input::parse_yaml(text, origin)?;
        let set = [raw.preset.is_some(), raw.dlrm.is_some(), raw.neumf.is_some()];
        if set.iter().filter(|&&b| b).count() != 1 {
            return Err(AccelError::issue(origin, "", "needs exactly one of preset, dlrm, neumf"));
        }
        if let Some(name) = raw.preset {
            return Self::from_preset(&name).ok_or_else(|| AccelError::issue(origin, "preset", preset_error(&name)));
        }
        if let Some(d) = raw.dlrm {
            let interaction = match d.interaction.as_deref() {
                None => Interaction::Dot,
                Some(word) => crate::input::parse_choice(word).ok_or_else(|| {
                    let names = crate::input::choice_names::<Interaction>();
                    AccelError::issue(
                        origin,
                        "dlrm.interaction",
                        format!("unknown interaction '{word}' (expected {names})"),
                    )
                })?,
            };
            let shape = ModelShape::Dlrm(DlrmShape {
                embedding_dim: d.embedding_dim,
                tables: CRITEO_TABLES,
                bottom_mlp: d.bottom_mlp,
                top_mlp: d.top_mlp,
                interaction,
            });
            return checked(shape, origin, &|f| format!("dlrm.{f}"));
        }
        let n = raw.neumf.expect("exactly one block is set");
        let last = n.mlp_layers.last().copied().unwrap_or(0);
        let shape = ModelShape::NeuMf(NeuMfShape {
            mf_dim: n.mf_dim,
            mlp_embedding_dim: n.mlp_embedding_dim,
            predict_layers: n.predict_layers.unwrap_or_else(|| vec![last + n.mf_dim, 1]),
            mlp_layers: n.mlp_layers,
        });
        checked(shape, origin, &|f| format!("neumf.{f}"))
    }

    /// A zoo preset by name (`rm-small`, `neumf-large`, …); `None` for unknown names and `popularity`.
    pub fn from_preset(name: &str) -> Option<Self> {
        let arch = crate::model::preset(name)?;
        let kind =
            if arch.serves(DatasetKind::CriteoKaggle) { DatasetKind::CriteoKaggle } else { DatasetKind::Movielens };
        arch.accel_shape(kind)
    }

    /// Load `.json` (RecPipe), `.yaml`/`.yml` (ours), or, when no such file exists, a zoo preset name.
    pub fn load(path: &Path) -> Result<Self, AccelError> {
        let file = path.display().to_string();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        if !path.exists() && ext.is_empty() {
            return Self::from_preset(&file).ok_or_else(|| AccelError::issue(&file, "", preset_error(&file)));
        }
        let (file, format, text) = super::hardware::read_description(path)?;
        match format {
            super::hardware::DescriptionFormat::RecpipeJson => Self::from_recpipe_json_str(&text, &file),
            super::hardware::DescriptionFormat::Yaml => Self::from_yaml_str(&text, &file),
        }
    }
}

fn preset_error(name: &str) -> String {
    let names: Vec<&str> = crate::model::PRESET_NAMES.iter().copied().filter(|&n| n != "popularity").collect();
    format!("unknown model '{name}' (not a file; presets: {})", names.join(", "))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn recpipe_json_dlrm_and_neumf() {
        let dlrm = r#"{"arch_sparse_feature_size": 32, "arch_mlp_bot": "13-512-256-128-64-32",
                       "arch_mlp_top": "96-1", "load_model": "x.pth"}"#;
        let ModelShape::Dlrm(d) = ModelShape::from_recpipe_json_str(dlrm, "m.json").unwrap() else { panic!("dlrm") };
        assert_eq!(d.bottom_mlp, vec![13, 512, 256, 128, 64, 32]);
        assert_eq!(d.top_mlp, vec![96, 1]);
        let neumf = r#"{"arch_sparse_mf_feature_size": 128, "arch_sparse_feature_size": 32,
                        "arch_mlp_bot": "64-32-1", "arch_mlp_top": "129-1", "load_model": "x"}"#;
        let m = ModelShape::from_recpipe_json_str(neumf, "m.json").unwrap();
        assert_eq!(m.embedding_elements_per_item(), 2 * (128 + 32));
        assert!(m.fits_dataset(Dataset::Movielens1m) && !m.fits_dataset(Dataset::Kaggle));
    }

    #[test]
    fn json_errors_name_field_and_value() {
        let bad = r#"{"arch_sparse_feature_size": 4, "arch_mlp_bot": "13-x-4", "arch_mlp_top": "64-1"}"#;
        let err = ModelShape::from_recpipe_json_str(bad, "m.json").unwrap_err().to_string();
        assert_eq!(err, "m.json: arch_mlp_bot: must be dash-separated positive widths, got '13-x-4'");
        let bad = r#"{"arch_sparse_feature_size": 8, "arch_mlp_bot": "13-64-4", "arch_mlp_top": "64-1"}"#;
        let err = ModelShape::from_recpipe_json_str(bad, "m.json").unwrap_err().to_string();
        assert_eq!(err, "m.json: arch_mlp_bot: must equal the embedding dimension 8, got 4");
    }

    #[test]
    fn yaml_preset_and_explicit() {
        let m = ModelShape::from_yaml_str("preset: rm-large\n", "m.yaml").unwrap();
        let ModelShape::Dlrm(d) = m else { panic!("dlrm") };
        assert_eq!(d.embedding_dim, 32);
        let m = ModelShape::from_yaml_str(
            "neumf:\n  mf_dim: 64\n  mlp_embedding_dim: 64\n  mlp_layers: [128, 64]\n",
            "m.yaml",
        )
        .unwrap();
        let ModelShape::NeuMf(n) = m else { panic!("neumf") };
        assert_eq!(n.predict_layers, vec![128, 1]);
        let err = ModelShape::from_yaml_str("preset: rm-huge\n", "m.yaml").unwrap_err().to_string();
        assert!(err.starts_with("m.yaml: preset: unknown model 'rm-huge'"), "{err}");
    }

    /// A two-tower shape (user id row and a pooled 20-row history on the query side), shared by the accel tests.
    pub(crate) fn two_tower() -> GenericShape {
        GenericShape {
            family: "two-tower",
            item_lookups: vec![(1, 64), (3, 16)],
            query_lookups: vec![(1, 64), (20, 16)],
            query_layers: vec![80, 256, 64],
            item_layers: vec![112, 256, 64],
            interaction_macs_per_item: 64,
            layers_overlap_lookups: false,
            datasets: vec![Dataset::Movielens1m, Dataset::Movielens20m],
        }
    }

    #[test]
    fn generic_family_datasets_and_elements() {
        let m = ModelShape::Generic(two_tower());
        assert!(m.validate().is_empty(), "{:?}", m.validate());
        assert_eq!(m.family(), "two-tower");
        assert!(m.fits_dataset(Dataset::Movielens20m) && !m.fits_dataset(Dataset::Kaggle));
        // Per candidate: 1 · 64 + 3 · 16; the query's lookups do not count.
        assert_eq!(m.embedding_elements_per_item(), 112);
        let ModelShape::Generic(g) = m else { panic!("generic") };
        assert_eq!(g.dataset_names(), "movielens1m or movielens20m");
        // Layers only (e.g. a model on dense features) is a valid shape.
        let dense = GenericShape { item_lookups: vec![], query_lookups: vec![], ..g };
        assert!(ModelShape::Generic(dense).validate().is_empty());
    }

    #[test]
    fn generic_validation_names_fields() {
        let bad = GenericShape {
            family: "",
            item_lookups: vec![(0, 8), (2, 0)],
            query_lookups: vec![(1, 0)],
            query_layers: vec![5],
            item_layers: vec![16, 0, 1],
            datasets: vec![],
            ..two_tower()
        };
        let got = ModelShape::Generic(bad).validate();
        let want: Vec<(String, String)> = [
            ("family", "must be a non-empty name"),
            ("item_lookups[0]", "lookups must be positive, got 0"),
            ("item_lookups[1]", "vector width must be positive, got 0"),
            ("query_lookups[0]", "vector width must be positive, got 0"),
            ("query_layers", "needs no widths or at least 2 (input first), got 1"),
            ("item_layers[1]", "must be a positive width, got 0"),
            ("datasets", "needs at least one data set"),
        ]
        .iter()
        .map(|&(f, m)| (f.to_string(), m.to_string()))
        .collect();
        assert_eq!(got, want);
        let empty = GenericShape {
            item_lookups: vec![],
            query_lookups: vec![],
            query_layers: vec![],
            item_layers: vec![],
            ..two_tower()
        };
        let got = ModelShape::Generic(empty).validate();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "item_lookups");
        assert!(got[0].1.starts_with("needs at least one lookup or layer"), "{}", got[0].1);
    }
}
