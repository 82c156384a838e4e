//! Model families behind one extension point ([`family::Architecture`], [`family::Family`]): DLRM (Criteo),
//! NeuMF (MovieLens), the popularity baseline (either) and the two-tower retrieval model (either), with
//! RecPipe's presets and the zoo entries a space names.
//!
//! **Adding a family** is one new file `src/model/<family>.rs` (its architecture, space-file block, tch
//! network and the two trait implementations) plus one line in the `families!` list below; `CONTRIBUTING.md`
//! walks through it. Quality, latency measurement, the accelerator model, memory checks and exploration reach
//! every family through the traits only.
//!
//! Shapes follow RecPipe's `configs/model_configs/*.json`: DLRM's bottom MLP starts at the 13 dense
//! features and ends at the embedding dimension `d`; with the `dot` interaction the top MLP's input is the
//! 27·26/2 = 351 pairwise dot products of the 26 embeddings and the dense vector, plus the dense vector itself
//! (351 + d), and `top_mlp` lists the layer widths after that input, ending in the single output unit.
//! NeuMF (He et al., WWW 2017) has a GMF tower of width `mf_dim` and an MLP tower whose first width is the
//! concatenated user+item MLP embedding (2 · `mlp_embedding_dim`); its output layer reads
//! `mlp_layers.last + mf_dim` features.

pub mod family;
pub mod knobs;

pub use family::{Arch, Architecture, BuildOptions, CountData, Family, Features, Fit, Net, Variant};

use crate::input::Checker;
use crate::zoo::precision::Datatype;
use serde::Serialize;
use serde_saphyr::Spanned as Sp;

/// Number of Criteo dense (integer) features.
pub const CRITEO_DENSE_FEATURES: u32 = 13;
/// Number of Criteo categorical features (embedding tables).
pub const CRITEO_SPARSE_FEATURES: u32 = 26;

/// Declares the family modules and the space-file model entry that has one optional block per family.
macro_rules! families {
    ($($module:ident: $family:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// One `models:` entry of a space: a name, then a preset or exactly one family block, and optionally
        /// the datatypes to serve it in.
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawModel {
            /// Name pipelines refer to (the prefix of its variants' names).
            pub name: Option<Sp<String>>,
            /// A built-in architecture.
            pub preset: Option<Sp<String>>,
            /// Datatypes to serve the model in (one zoo model per datatype).
            pub datatypes: Option<Sp<knobs::OneOrMany<String>>>,
            $(
                #[doc = concat!("The `", stringify!($module), ":` block.")]
                pub $module: Option<<$module::$family as Family>::Raw>,
            )*
        }

        impl RawModel {
            /// The YAML keys of the family blocks, in registration order.
            pub const FAMILY_KEYS: &'static [&'static str] = &[$(stringify!($module)),*];

            /// Each family block given, with the architectures it names (`None` where it has problems, which
            /// are reported through `cx`).
            pub fn family_blocks(&self, cx: &mut Checker, path: &str) -> Vec<(&'static str, Option<Vec<Variant>>)> {
                let mut blocks = Vec::new();
                $(
                    if let Some(raw) = &self.$module {
                        let at = format!("{path}.{}", stringify!($module));
                        blocks.push((stringify!($module), <$module::$family as Family>::variants(raw, cx, &at)));
                    }
                )*
                blocks
            }
        }
    };
}

families! {
    dlrm: DlrmFamily,
    neumf: NeuMfFamily,
    popularity: PopularityFamily,
    two_tower: TwoTowerFamily,
}

/// A named zoo entry: one architecture served in one datatype.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZooModel {
    /// Unique name used by pipelines and reports (`rm-d8-int8`).
    pub name: String,
    /// The preset it came from, if any.
    pub preset: Option<String>,
    /// The architecture.
    pub arch: Arch,
    /// The datatype it is served in; `None` when the space does not say (fp32 on CPU/GPU, the accelerator's
    /// own element size on the accelerator, as RecPipe assumed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datatype: Option<Datatype>,
    /// Name of the trained fp32 model it is derived from (its checkpoint); equals `name` without datatypes.
    /// It names cache files only, so it stays out of the serialised form (and of run fingerprints).
    #[serde(skip)]
    pub trained_as: String,
}

impl ZooModel {
    /// The datatype it computes in (`fp32` when unspecified).
    pub fn compute_datatype(&self) -> Datatype {
        self.datatype.unwrap_or(Datatype::Fp32)
    }

    /// Bytes that hold it on `tables` in its datatype (embedding elements, dense weights and per-row int8 scale
    /// and bias); `None` when the space gives no datatype (the memory rule then uses the device's value size).
    pub fn typed_bytes(&self, tables: &crate::measure::tables::ModelTables) -> Option<u64> {
        let dt = self.datatype?;
        let embedding = self.arch.embedding_values(tables);
        let dense = self.arch.parameter_count(tables).saturating_sub(embedding);
        Some(
            embedding * u64::from(dt.embedding_element_bytes())
                + dense * u64::from(dt.dense_value_bytes())
                + self.arch.embedding_rows(tables) * u64::from(dt.row_overhead_bytes()),
        )
    }
}

/// Names of the built-in presets, in documentation order.
pub const PRESET_NAMES: [&str; 8] =
    ["rm-small", "rm-med", "rm-large", "neumf-small", "neumf-medium", "neumf-large", "neumf-recbole", "popularity"];

/// The architecture of a built-in preset.
///
/// RM-small/med/large are RecPipe's `dim_4_0`, `dim_16`, `dim_32_0` DLRMs. The NeuMF small/medium/large
/// presets keep the GMF width and MLP tower of RecPipe's `movie1m_*` configs; where those configs' `d` disagrees
/// with the tower input (medium: 800 vs 2·128, large: 1024 vs 2·384), the tower input wins and the MLP
/// embedding is half of it. `neumf-recbole` is RecBole 1.2.1's default NeuMF (mf 64, MLP embedding 64, hidden [128, 64]; its tower
/// input is 2·64, so the widths here are [128, 128, 64]).
pub fn preset(name: &str) -> Option<Arch> {
    use dlrm::{DlrmArch, Interaction};
    use neumf::NeuMfArch;
    let dlrm = |d: u32, bottom: &[u32], top: &[u32]| {
        Arch::new(DlrmArch {
            embedding_dim: d,
            bottom_mlp: bottom.to_vec(),
            top_mlp: top.to_vec(),
            interaction: Interaction::Dot,
        })
    };
    let neumf = |mf: u32, emb: u32, layers: &[u32]| {
        Arch::new(NeuMfArch { mf_dim: mf, mlp_embedding_dim: emb, mlp_layers: layers.to_vec() })
    };
    Some(match name {
        "rm-small" => dlrm(4, &[13, 64, 4], &[64, 1]),
        "rm-med" => dlrm(16, &[13, 64, 16], &[64, 1]),
        "rm-large" => dlrm(32, &[13, 512, 256, 128, 64, 32], &[96, 1]),
        "neumf-small" => neumf(128, 32, &[64, 32]),
        "neumf-medium" => neumf(16, 400, &[800, 512, 256, 128, 64, 32]),
        "neumf-large" => neumf(128, 512, &[1024, 512, 256, 128]),
        "neumf-recbole" => neumf(64, 64, &[128, 128, 64]),
        "popularity" => Arch::new(popularity::PopularityArch),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::dlrm::{DlrmArch, Interaction};
    use super::*;

    #[test]
    fn every_preset_name_resolves() {
        for name in PRESET_NAMES {
            assert!(preset(name).is_some(), "{name}");
        }
        assert!(preset("rm-huge").is_none());
    }

    #[test]
    fn dot_interaction_width_matches_dlrm() {
        // 27 vectors → 351 pairs, plus the dense vector of width d.
        assert_eq!(Interaction::Dot.output_width(26, 4), 355);
        assert_eq!(Interaction::Dot.output_width(26, 32), 383);
        assert_eq!(Interaction::Cat.output_width(26, 32), 864);
        let large = preset("rm-large").unwrap();
        assert_eq!(large.downcast::<DlrmArch>().unwrap().top_mlp_with_input(), vec![383, 96, 1]);
    }

    #[test]
    fn cache_identities_keep_the_tagged_enum_format() {
        // These strings key the checkpoint and score caches: they must not change.
        assert_eq!(
            preset("rm-small").unwrap().cache_json(),
            r#"{"kind":"dlrm","embedding_dim":4,"bottom_mlp":[13,64,4],"top_mlp":[64,1],"interaction":"dot"}"#
        );
        assert_eq!(
            preset("neumf-small").unwrap().cache_json(),
            r#"{"kind":"neu-mf","mf_dim":128,"mlp_embedding_dim":32,"mlp_layers":[64,32]}"#
        );
        assert_eq!(preset("popularity").unwrap().cache_json(), r#"{"kind":"popularity"}"#);
        assert_eq!(serde_json::to_string(&preset("popularity").unwrap()).unwrap(), r#"{"kind":"popularity"}"#);
    }
}
