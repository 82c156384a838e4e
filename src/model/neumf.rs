//! NeuMF (He et al., "Neural Collaborative Filtering", WWW 2017) as RecBole 1.2.1 builds it: the family's
//! architecture, its space-file block and its tch network.
//!
//! * GMF tower: user and item embeddings of width `mf_dim`, multiplied element-wise.
//! * MLP tower: user and item embeddings of width `mlp_embedding_dim`, concatenated (2·`mlp_embedding_dim`) and
//!   passed through `mlp_layers` (dropout before each linear layer in training, ReLU after each).
//! * Predict layer: `Linear(mf_dim + mlp_layers.last, 1)` over `[GMF ⊕ MLP]`, returning logits.
//!
//! Initialisation follows RecBole: embeddings N(0, 0.01), linear layers PyTorch's default (see
//! [`crate::zoo::mlp`]). Users and items are dense ids `0..users` and `0..items`.
//!
//! Space block (`neumf:`): `mf_dim`, `mlp_embedding_dim` and `mlp_layers` (starting at 2·`mlp_embedding_dim`;
//! `d` stands for `mlp_embedding_dim`, so `[2d, 64]` fits every embedding width); each may be a list, naming one
//! architecture per combination.

use serde::Serialize;
use serde_saphyr::Spanned as Sp;
use tch::nn::{Init, Path};
use tch::Tensor;

use super::dlrm::dense_parameters;
use super::family::{tagged_json, Architecture, BuildOptions, Family, Features, Net, Variant};
use super::knobs::{self, LayerChoices, OneOrMany};
use super::Arch;
use crate::accel::model_shape::{ModelShape, NeuMfShape};
use crate::input::Checker;
use crate::measure::tables::ModelTables;
use crate::spec::DatasetKind;
use crate::zoo::embedding::Table;
use crate::zoo::mlp::{Activation, Mlp, MlpInit};

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

impl NeuMfArch {
    fn last_width(&self) -> u32 {
        self.mlp_layers.last().copied().unwrap_or(2 * self.mlp_embedding_dim)
    }
}

fn join(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join("-")
}

impl Architecture for NeuMfArch {
    fn family(&self) -> &'static str {
        "neumf"
    }

    fn serves(&self, data: DatasetKind) -> bool {
        data == DatasetKind::Movielens
    }

    fn describe(&self) -> String {
        format!("NeuMF mf {}, MLP embedding {}, MLP {}", self.mf_dim, self.mlp_embedding_dim, join(&self.mlp_layers))
    }

    fn cache_json(&self) -> String {
        // The tag of the original tagged enum (`NeuMf` in kebab-case); it keys existing caches.
        tagged_json("neu-mf", self)
    }

    fn fingerprint(&self) -> String {
        format!("neumf mf{} emb{} mlp{}", self.mf_dim, self.mlp_embedding_dim, join(&self.mlp_layers))
    }

    fn parameter_count(&self, tables: &ModelTables) -> u64 {
        let entities = self.embedding_rows(tables) / 2;
        entities * u64::from(self.mf_dim + self.mlp_embedding_dim)
            + dense_parameters(&self.mlp_layers)
            + u64::from(self.mf_dim + self.last_width())
            + 1
    }

    fn embedding_rows(&self, tables: &ModelTables) -> u64 {
        match tables {
            ModelTables::MovieLens { users, items } => 2 * (users + items),
            ModelTables::Criteo { .. } => 0,
        }
    }

    fn embedding_values(&self, tables: &ModelTables) -> u64 {
        self.embedding_rows(tables) / 2 * u64::from(self.mf_dim + self.mlp_embedding_dim)
    }

    fn accel_shape(&self, _data: DatasetKind) -> Option<ModelShape> {
        let last = self.mlp_layers.last().copied().unwrap_or(0);
        Some(ModelShape::NeuMf(NeuMfShape {
            mf_dim: self.mf_dim,
            mlp_embedding_dim: self.mlp_embedding_dim,
            mlp_layers: self.mlp_layers.clone(),
            predict_layers: vec![last + self.mf_dim, 1],
        }))
    }

    fn build(&self, path: &Path, tables: &ModelTables, options: BuildOptions) -> Option<Box<dyn Net>> {
        match tables {
            ModelTables::MovieLens { users, items } => {
                Some(Box::new(NeuMf::new(path, self, *users as i64, *items as i64, options.dropout)))
            }
            ModelTables::Criteo { .. } => None,
        }
    }
}

/// The `neumf:` block of a space's model entry; every field may hold a list.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNeuMf {
    /// GMF width(s).
    pub mf_dim: Option<Sp<OneOrMany<i64>>>,
    /// MLP embedding width(s).
    pub mlp_embedding_dim: Option<Sp<OneOrMany<i64>>>,
    /// MLP tower width list(s), 2·`mlp_embedding_dim` first.
    pub mlp_layers: Option<Sp<LayerChoices>>,
}

/// The NeuMF family.
pub struct NeuMfFamily;

impl Family for NeuMfFamily {
    type Raw = RawNeuMf;

    fn variants(n: &RawNeuMf, cx: &mut Checker, path: &str) -> Option<Vec<Variant>> {
        let mfs = knobs::ints(cx, &n.mf_dim, &format!("{path}.mf_dim"), 1, "GMF embedding dimension");
        let embs =
            knobs::ints(cx, &n.mlp_embedding_dim, &format!("{path}.mlp_embedding_dim"), 1, "MLP embedding dimension");
        let towers = knobs::layers(
            cx,
            &n.mlp_layers,
            &format!("{path}.mlp_layers"),
            true,
            "MLP tower widths, 2·mlp_embedding_dim first",
        );
        let (mfs, embs, towers) = (mfs?, embs?, towers?);
        let lsp = n.mlp_layers.as_ref()?;
        let many = matches!(lsp.value, LayerChoices::Many(_));
        let mut ok = true;
        for (i, tower) in towers.iter().enumerate() {
            for &emb in &embs {
                let layers = knobs::resolve(tower, emb);
                if layers[0] != 2 * emb {
                    let at = if many { format!("{path}.mlp_layers[{i}]") } else { format!("{path}.mlp_layers") };
                    cx.err(lsp, &at, format!("first width must be 2·mlp_embedding_dim = {}, got {}", 2 * emb, layers[0]));
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        let counts = [mfs.len(), embs.len(), towers.len()];
        let variants = knobs::combinations(&counts)
            .into_iter()
            .map(|c| {
                let emb = embs[c[1]];
                let arch = NeuMfArch { mf_dim: mfs[c[0]], mlp_embedding_dim: emb, mlp_layers: knobs::resolve(&towers[c[2]], emb) };
                let label = knobs::label(&[
                    ("mf", mfs[c[0]].to_string(), counts[0]),
                    ("e", emb.to_string(), counts[1]),
                    ("m", c[2].to_string(), counts[2]),
                ]);
                Variant { label, arch: Arch::new(arch) }
            })
            .collect();
        Some(variants)
    }
}

/// Standard deviation of RecBole's embedding initialisation.
const EMBEDDING_INIT_STDEV: f64 = 0.01;

/// A NeuMF model.
#[derive(Debug)]
pub struct NeuMf {
    user_mf: Table,
    item_mf: Table,
    user_mlp: Table,
    item_mlp: Table,
    tower: Mlp,
    predict: Mlp,
}

impl NeuMf {
    /// Builds the variables under `path` for `users` users and `items` items; `dropout` is the MLP tower's
    /// dropout probability in training (RecBole's default 0.1).
    pub fn new(path: &Path, arch: &NeuMfArch, users: i64, items: i64, dropout: f64) -> NeuMf {
        let emb = |name: &str, rows: i64, dim: u32| {
            Table::Float(path.var(name, &[rows, i64::from(dim)], Init::Randn { mean: 0.0, stdev: EMBEDDING_INIT_STDEV }))
        };
        let last = arch.mlp_layers.last().copied().unwrap_or(2 * arch.mlp_embedding_dim);
        NeuMf {
            user_mf: emb("user_mf", users, arch.mf_dim),
            item_mf: emb("item_mf", items, arch.mf_dim),
            user_mlp: emb("user_mlp", users, arch.mlp_embedding_dim),
            item_mlp: emb("item_mlp", items, arch.mlp_embedding_dim),
            tower: Mlp::new(&path.sub("tower"), &arch.mlp_layers, MlpInit::TorchDefault, Activation::Every, dropout),
            predict: Mlp::new(
                &path.sub("predict"),
                &[arch.mf_dim + last, 1],
                MlpInit::TorchDefault,
                Activation::AllButLast,
                0.0,
            ),
        }
    }

    /// Logits `[B]` for user ids `[B]` and item ids `[B]` (i64); dropout is active only when `train`.
    pub fn forward_t(&self, users: &Tensor, items: &Tensor, train: bool) -> Tensor {
        let lookup = |table: &Table, ids: &Tensor| table.lookup(ids, false);
        let gmf = lookup(&self.user_mf, users) * lookup(&self.item_mf, items);
        let mlp_in = Tensor::cat(&[lookup(&self.user_mlp, users), lookup(&self.item_mlp, items)], 1);
        let mlp = self.tower.forward_t(&mlp_in, train);
        let joined = Tensor::cat(&[gmf, mlp], 1);
        let batch = users.size()[0];
        self.predict.forward_t(&joined, false).view([batch])
    }
}

impl Net for NeuMf {
    fn forward_t(&self, x: &Features<'_>, train: bool) -> Tensor {
        match x {
            Features::Pairs { users, items } => NeuMf::forward_t(self, users, items, train),
            Features::Rows { .. } => unreachable!("NeuMF scores (user, item) pairs (validated by `serves`)"),
        }
    }

    fn tables_mut(&mut self) -> Vec<&mut Table> {
        vec![&mut self.user_mf, &mut self.item_mf, &mut self.user_mlp, &mut self.item_mlp]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::preset;
    use tch::nn::VarStore;
    use tch::{Device, Kind};

    #[test]
    fn recbole_shape_has_the_expected_parameters() {
        let arch = preset("neumf-recbole").and_then(|a| a.downcast::<NeuMfArch>().cloned()).expect("NeuMF");
        let vs = VarStore::new(Device::Cpu);
        let _model = NeuMf::new(&vs.root(), &arch, 10, 20, 0.1);
        // Embeddings (10+20)·(64+64), tower 128·128+128 + 128·64+64, predict (64+64)+1.
        let expected = 30 * 128 + (128 * 128 + 128) + (128 * 64 + 64) + 129;
        let count: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
        assert_eq!(count, expected);
    }

    #[test]
    fn dropout_only_in_training_and_scores_are_per_pair() {
        tch::manual_seed(3);
        let arch = NeuMfArch { mf_dim: 4, mlp_embedding_dim: 4, mlp_layers: vec![8, 4] };
        let vs = VarStore::new(Device::Cpu);
        let model = NeuMf::new(&vs.root(), &arch, 5, 7, 0.5);
        let users = Tensor::from_slice(&[0i64, 1, 4]);
        let items = Tensor::from_slice(&[6i64, 0, 3]);
        let a = model.forward_t(&users, &items, false);
        let b = model.forward_t(&users, &items, false);
        assert_eq!(a.size(), vec![3]);
        assert!(a.equal(&b), "evaluation is deterministic");
        // Scoring one pair alone gives the same logit as inside a batch.
        let single = model.forward_t(&users.narrow(0, 1, 1), &items.narrow(0, 1, 1), false);
        let diff = (single.get(0) - a.get(1)).abs().double_value(&[]);
        assert!(diff < 1e-6);
        assert_eq!(a.kind(), Kind::Float);
    }
}
