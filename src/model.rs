//! Model-zoo entries: DLRM (Criteo), NeuMF (MovieLens) and the popularity baseline, with RecPipe's presets.
//!
//! Shapes follow RecPipe's `configs/model_configs/*.json`: DLRM's bottom MLP starts at the 13 dense
//! features and ends at the embedding dimension `d`; with the `dot` interaction the top MLP's input is the
//! 27·26/2 = 351 pairwise dot products of the 26 embeddings and the dense vector, plus the dense vector itself
//! (351 + d), and `top_mlp` lists the layer widths after that input, ending in the single output unit.
//! NeuMF (He et al., WWW 2017) has a GMF tower of width `mf_dim` and an MLP tower whose first width is the
//! concatenated user+item MLP embedding (2 · `mlp_embedding_dim`); its output layer reads
//! `mlp_layers.last + mf_dim` features.

use serde::Serialize;

/// Number of Criteo dense (integer) features.
pub const CRITEO_DENSE_FEATURES: u32 = 13;
/// Number of Criteo categorical features (embedding tables).
pub const CRITEO_SPARSE_FEATURES: u32 = 26;

/// DLRM feature interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Interaction {
    /// Pairwise dot products of the 27 vectors plus the dense vector: width 351 + d.
    Dot,
    /// Concatenation of the 27 vectors: width 27 · d.
    Cat,
}

impl Interaction {
    /// Width of the interaction output for `tables` sparse features and embedding dimension `dim`.
    pub fn output_width(self, tables: u32, dim: u32) -> u32 {
        let vectors = tables + 1;
        match self {
            Interaction::Dot => vectors * (vectors - 1) / 2 + dim,
            Interaction::Cat => vectors * dim,
        }
    }
}

/// DLRM architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlrmArch {
    /// Embedding dimension d (elements per vector).
    pub embedding_dim: u32,
    /// Bottom MLP widths, input first: starts at 13, ends at `embedding_dim`.
    pub bottom_mlp: Vec<u32>,
    /// Top MLP widths after the interaction, ending with the output width 1.
    pub top_mlp: Vec<u32>,
    /// Feature interaction.
    pub interaction: Interaction,
}

impl DlrmArch {
    /// Top MLP widths including the interaction width as the input.
    pub fn top_mlp_with_input(&self) -> Vec<u32> {
        let mut layers = vec![self.interaction.output_width(CRITEO_SPARSE_FEATURES, self.embedding_dim)];
        layers.extend_from_slice(&self.top_mlp);
        layers
    }
}

/// NeuMF architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeuMfArch {
    /// GMF embedding dimension (per user and per item).
    pub mf_dim: u32,
    /// MLP embedding dimension (per user and per item).
    pub mlp_embedding_dim: u32,
    /// MLP tower widths, input first (= 2 · `mlp_embedding_dim`).
    pub mlp_layers: Vec<u32>,
}

/// A model architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ModelArch {
    /// DLRM for Criteo-shaped data.
    Dlrm(DlrmArch),
    /// NeuMF for MovieLens.
    NeuMf(NeuMfArch),
    /// Training-set interaction counts (no learning); a cheap first stage.
    Popularity,
}

impl ModelArch {
    /// Short family name: `dlrm`, `neumf` or `popularity`.
    pub fn family(&self) -> &'static str {
        match self {
            ModelArch::Dlrm(_) => "dlrm",
            ModelArch::NeuMf(_) => "neumf",
            ModelArch::Popularity => "popularity",
        }
    }
}

/// A named zoo entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZooModel {
    /// Unique name used by pipelines.
    pub name: String,
    /// The preset it came from, if any.
    pub preset: Option<String>,
    /// The architecture.
    pub arch: ModelArch,
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
pub fn preset(name: &str) -> Option<ModelArch> {
    let dlrm = |d: u32, bottom: &[u32], top: &[u32]| {
        ModelArch::Dlrm(DlrmArch {
            embedding_dim: d,
            bottom_mlp: bottom.to_vec(),
            top_mlp: top.to_vec(),
            interaction: Interaction::Dot,
        })
    };
    let neumf = |mf: u32, emb: u32, layers: &[u32]| {
        ModelArch::NeuMf(NeuMfArch { mf_dim: mf, mlp_embedding_dim: emb, mlp_layers: layers.to_vec() })
    };
    Some(match name {
        "rm-small" => dlrm(4, &[13, 64, 4], &[64, 1]),
        "rm-med" => dlrm(16, &[13, 64, 16], &[64, 1]),
        "rm-large" => dlrm(32, &[13, 512, 256, 128, 64, 32], &[96, 1]),
        "neumf-small" => neumf(128, 32, &[64, 32]),
        "neumf-medium" => neumf(16, 400, &[800, 512, 256, 128, 64, 32]),
        "neumf-large" => neumf(128, 512, &[1024, 512, 256, 128]),
        "neumf-recbole" => neumf(64, 64, &[128, 128, 64]),
        "popularity" => ModelArch::Popularity,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
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
        let Some(ModelArch::Dlrm(large)) = preset("rm-large") else { panic!("rm-large is a DLRM") };
        assert_eq!(large.top_mlp_with_input(), vec![383, 96, 1]);
    }
}
