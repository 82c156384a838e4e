//! NeuMF (He et al., "Neural Collaborative Filtering", WWW 2017) as RecBole 1.2.1 builds it.
//!
//! * GMF tower: user and item embeddings of width `mf_dim`, multiplied element-wise.
//! * MLP tower: user and item embeddings of width `mlp_embedding_dim`, concatenated (2·`mlp_embedding_dim`) and
//!   passed through `mlp_layers` (dropout before each linear layer in training, ReLU after each).
//! * Predict layer: `Linear(mf_dim + mlp_layers.last, 1)` over `[GMF ⊕ MLP]`, returning logits.
//!
//! Initialisation follows RecBole: embeddings N(0, 0.01), linear layers PyTorch's default (see [`super::mlp`]).
//! Users and items are dense ids `0..users` and `0..items`.

use tch::nn::{Init, Path};
use tch::Tensor;

use super::mlp::{Activation, Mlp, MlpInit};
use crate::model::NeuMfArch;

/// Standard deviation of RecBole's embedding initialisation.
const EMBEDDING_INIT_STDEV: f64 = 0.01;

/// A NeuMF model.
#[derive(Debug)]
pub struct NeuMf {
    user_mf: Tensor,
    item_mf: Tensor,
    user_mlp: Tensor,
    item_mlp: Tensor,
    tower: Mlp,
    predict: Mlp,
}

impl NeuMf {
    /// Builds the variables under `path` for `users` users and `items` items; `dropout` is the MLP tower's
    /// dropout probability in training (RecBole's default 0.1).
    pub fn new(path: &Path, arch: &NeuMfArch, users: i64, items: i64, dropout: f64) -> NeuMf {
        let emb = |name: &str, rows: i64, dim: u32| {
            path.var(name, &[rows, i64::from(dim)], Init::Randn { mean: 0.0, stdev: EMBEDDING_INIT_STDEV })
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
        let lookup = |table: &Tensor, ids: &Tensor| Tensor::embedding(table, ids, -1, false, false);
        let gmf = lookup(&self.user_mf, users) * lookup(&self.item_mf, items);
        let mlp_in = Tensor::cat(&[lookup(&self.user_mlp, users), lookup(&self.item_mlp, items)], 1);
        let mlp = self.tower.forward_t(&mlp_in, train);
        let joined = Tensor::cat(&[gmf, mlp], 1);
        let batch = users.size()[0];
        self.predict.forward_t(&joined, false).view([batch])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{preset, ModelArch};
    use tch::nn::VarStore;
    use tch::{Device, Kind};

    #[test]
    fn recbole_shape_has_the_expected_parameters() {
        let Some(ModelArch::NeuMf(arch)) = preset("neumf-recbole") else { panic!("neumf-recbole is NeuMF") };
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
