//! DLRM (Naumov et al., "Deep Learning Recommendation Model for Personalization and Recommendation Systems",
//! 2019) as RecPipe's Criteo Kaggle models use it (the artifact's `models/dlrm_model.py`).
//!
//! * Bottom MLP over the 13 dense features (ReLU after every layer) → a vector of width d.
//! * 26 embedding tables, one id per table per sample, sum pooling over a single id (= a row lookup).
//! * Dot interaction: the 27 vectors (bottom output + 26 embeddings) give 27·26/2 = 351 pairwise dot products,
//!   taken in row-major lower-triangle order (pairs (i, j), i > j); the top MLP reads `[bottom ⊕ dots]`, 351 + d
//!   wide, with ReLU between layers and raw logits out (the sigmoid is left to the loss or the caller).
//!
//! **Fused embedding gather.** All tables are stored as one concatenated `[Σ rows, d]` matrix with per-table
//! row offsets; a batch's `[B, 26]` ids are shifted by the offsets and fetched with a single gather, which is what
//! table-batched embedding kernels do. `forward_unfused` performs RecPipe's 26 separate lookups on views of the same
//! matrix, so both paths use identical weights and agree to rounding. The CPU gather goes through fbgemm's
//! `embedding_bag` (sum of one row per bag), the CUDA gather through one `embedding` kernel.
//!
//! Tables are initialised as DLRM does, U(−√(1/n), √(1/n)) for a table of n rows; MLPs as in [`super::mlp`].

use tch::nn::{Init, Path};
use tch::{Device, Kind, Tensor};

use super::mlp::{Activation, Mlp, MlpInit};
use super::tensor::{tensor_from_matrix, tensor_from_vector};
use crate::data::{CriteoSamples, SPARSE};
use crate::model::{DlrmArch, Interaction};

/// A DLRM with concatenated embedding tables.
#[derive(Debug)]
pub struct Dlrm {
    bottom: Mlp,
    top: Mlp,
    /// `[Σ rows, d]` concatenated tables.
    embeddings: Tensor,
    /// `[26]` i64 first row of each table in `embeddings`.
    offsets: Tensor,
    /// Rows per table.
    table_rows: [u64; SPARSE],
    /// Flat indices into the `[27·27]` Gram matrix of the 351 pairs (dot interaction only).
    pair_index: Tensor,
    interaction: Interaction,
    sparse_gradients: bool,
}

impl Dlrm {
    /// Builds the variables under `path` (`bottom/…`, `top/…`, `embeddings`) with tables of `table_rows` rows.
    /// `sparse_gradients` makes the tables produce sparse gradients (for SGD training on large tables).
    pub fn new(path: &Path, arch: &DlrmArch, table_rows: &[u64; SPARSE], sparse_gradients: bool) -> Dlrm {
        let device = path.device();
        let dim = i64::from(arch.embedding_dim);
        let total_rows: u64 = table_rows.iter().sum();
        let embeddings = path.var("embeddings", &[total_rows as i64, dim], Init::Const(0.0));
        let mut starts = Vec::with_capacity(SPARSE);
        let mut start = 0i64;
        tch::no_grad(|| {
            for &rows in table_rows {
                let bound = (1.0 / rows.max(1) as f64).sqrt();
                let _ = embeddings.narrow(0, start, rows as i64).uniform_(-bound, bound);
                starts.push(start);
                start += rows as i64;
            }
        });
        let bottom = Mlp::new(&path.sub("bottom"), &arch.bottom_mlp, MlpInit::Dlrm, Activation::Every, 0.0);
        let top = Mlp::new(&path.sub("top"), &arch.top_mlp_with_input(), MlpInit::Dlrm, Activation::AllButLast, 0.0);
        Dlrm {
            bottom,
            top,
            embeddings,
            offsets: Tensor::from_slice(&starts).to_device(device),
            table_rows: *table_rows,
            pair_index: Tensor::from_slice(&lower_triangle_flat_indices(SPARSE + 1)).to_device(device),
            interaction: arch.interaction,
            sparse_gradients,
        }
    }

    /// Logits `[B]` for dense `[B, 13]` f32 features (already `ln(x+1)`) and sparse `[B, 26]` i64 per-table ids,
    /// with one fused gather over the concatenated tables.
    ///
    /// On the CPU the gather is one sum-mode `embedding_bag` with one id per bag (fbgemm's table-batched
    /// kernel, about twice as fast as a row gather); on CUDA it is one `embedding` kernel. A bag of one row
    /// sums to that row exactly, so both give the same values.
    pub fn forward(&self, dense: &Tensor, sparse: &Tensor) -> Tensor {
        let bottom = self.bottom.forward_t(dense, false);
        let batch = sparse.size()[0];
        let ids = (sparse + self.offsets.unsqueeze(0)).view([-1]);
        let rows = if self.embeddings.device() == Device::Cpu {
            let bags = Tensor::arange(batch * SPARSE as i64, (Kind::Int64, Device::Cpu));
            let sum_mode = 0;
            Tensor::embedding_bag(
                &self.embeddings,
                &ids,
                &bags,
                false,
                sum_mode,
                self.sparse_gradients,
                None::<Tensor>,
                false,
            )
            .0
        } else {
            Tensor::embedding(&self.embeddings, &ids, -1, false, self.sparse_gradients)
        };
        self.interact_and_top(&bottom, &rows.view([batch, SPARSE as i64, -1]))
    }

    /// The same function with 26 separate table lookups, as RecPipe's DLRM issues them.
    pub fn forward_unfused(&self, dense: &Tensor, sparse: &Tensor) -> Tensor {
        let bottom = self.bottom.forward_t(dense, false);
        let mut start = 0i64;
        let per_table: Vec<Tensor> = self
            .table_rows
            .iter()
            .enumerate()
            .map(|(t, &rows)| {
                let table = self.embeddings.narrow(0, start, rows as i64);
                start += rows as i64;
                Tensor::embedding(&table, &sparse.select(1, t as i64), -1, false, self.sparse_gradients)
            })
            .collect();
        let pooled = Tensor::stack(&per_table, 1);
        self.interact_and_top(&bottom, &pooled)
    }

    /// Interaction of `bottom` `[B, d]` with `pooled` `[B, 26, d]`, then the top MLP; logits `[B]`.
    fn interact_and_top(&self, bottom: &Tensor, pooled: &Tensor) -> Tensor {
        let batch = bottom.size()[0];
        let vectors = Tensor::cat(&[bottom.unsqueeze(1), pooled.shallow_clone()], 1);
        let features = match self.interaction {
            Interaction::Dot => {
                let gram = vectors.bmm(&vectors.transpose(1, 2)).view([batch, -1]);
                Tensor::cat(&[bottom.shallow_clone(), gram.index_select(1, &self.pair_index)], 1)
            }
            Interaction::Cat => vectors.view([batch, -1]),
        };
        self.top.forward_t(&features, false).view([batch])
    }

    /// Rows of each embedding table.
    pub fn table_rows(&self) -> &[u64; SPARSE] {
        &self.table_rows
    }

    /// The concatenated embedding matrix `[Σ rows, d]`.
    pub fn embeddings(&self) -> &Tensor {
        &self.embeddings
    }
}

/// Row-major flat indices `i·n + j` of the strict lower triangle (i > j) of an `n × n` matrix, in the order
/// `(1,0), (2,0), (2,1), (3,0), …` that `torch.tril_indices(n, n, -1)` produces.
pub fn lower_triangle_flat_indices(n: usize) -> Vec<i64> {
    (1..n).flat_map(|i| (0..i).map(move |j| (i * n + j) as i64)).collect()
}

/// Tensors of a batch of Criteo rows.
#[derive(Debug)]
pub struct CriteoBatch {
    /// `[B, 13]` f32 dense features.
    pub dense: Tensor,
    /// `[B, 26]` i64 per-table ids.
    pub sparse: Tensor,
    /// `[B]` f32 labels.
    pub labels: Tensor,
}

/// Copies rows `rows` of `samples` into tensors on `device` (through their matrices, [`CriteoSamples::batch`]).
pub fn criteo_batch(samples: &CriteoSamples, rows: &[usize], device: Device) -> CriteoBatch {
    let arrays = samples.batch(rows);
    CriteoBatch {
        dense: tensor_from_matrix(&arrays.dense).to_device(device),
        sparse: tensor_from_matrix(&arrays.sparse).to_device(device),
        labels: tensor_from_vector(&arrays.labels).to_kind(Kind::Float).to_device(device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DENSE;
    use crate::model::{preset, ModelArch};
    use tch::nn::VarStore;

    fn rm(name: &str) -> DlrmArch {
        match preset(name) {
            Some(ModelArch::Dlrm(a)) => a,
            other => panic!("{name} is not a DLRM: {other:?}"),
        }
    }

    fn small_tables() -> [u64; SPARSE] {
        let mut rows = [0u64; SPARSE];
        for (t, r) in rows.iter_mut().enumerate() {
            *r = 3 + (t as u64 * 7) % 50;
        }
        rows
    }

    fn random_inputs(rows: &[u64; SPARSE], batch: i64) -> (Tensor, Tensor) {
        let dense = Tensor::rand([batch, DENSE as i64], (Kind::Float, Device::Cpu));
        let cols: Vec<Tensor> =
            rows.iter().map(|&n| Tensor::randint(n as i64, [batch], (Kind::Int64, Device::Cpu))).collect();
        (dense, Tensor::stack(&cols, 1))
    }

    #[test]
    fn pair_indices_follow_tril_order() {
        assert_eq!(lower_triangle_flat_indices(3), vec![3, 6, 7]);
        assert_eq!(lower_triangle_flat_indices(27).len(), 351);
    }

    #[test]
    fn fused_equals_unfused_for_every_preset() {
        tch::manual_seed(5);
        let rows = small_tables();
        for name in ["rm-small", "rm-med", "rm-large"] {
            let vs = VarStore::new(Device::Cpu);
            let model = Dlrm::new(&vs.root(), &rm(name), &rows, false);
            let (dense, sparse) = random_inputs(&rows, 64);
            let fused = tch::no_grad(|| model.forward(&dense, &sparse));
            let unfused = tch::no_grad(|| model.forward_unfused(&dense, &sparse));
            assert_eq!(fused.size(), vec![64]);
            let diff = (&fused - &unfused).abs().max().double_value(&[]);
            assert!(diff <= 1e-6, "{name}: fused and unfused differ by {diff}");
        }
    }

    #[test]
    fn interaction_matches_explicit_dot_products() {
        tch::manual_seed(9);
        let rows = small_tables();
        let arch = rm("rm-small");
        let vs = VarStore::new(Device::Cpu);
        let model = Dlrm::new(&vs.root(), &arch, &rows, false);
        let (dense, sparse) = random_inputs(&rows, 2);
        // Recompute the top MLP input by hand for sample 0 and compare the top layer's output.
        let bottom = model.bottom.forward_t(&dense, false);
        let mut vectors = vec![bottom.get(0)];
        for t in 0..SPARSE {
            let start: i64 = rows[..t].iter().map(|&r| r as i64).sum();
            let id = sparse.int64_value(&[0, t as i64]);
            vectors.push(model.embeddings.get(start + id));
        }
        let mut features = vec![bottom.get(0)];
        for i in 1..vectors.len() {
            for j in 0..i {
                features.push(vectors[i].dot(&vectors[j]).view([1]));
            }
        }
        let input = Tensor::cat(&features, 0).unsqueeze(0);
        let expected = model.top.forward_t(&input, false).double_value(&[0, 0]);
        let got = model.forward(&dense, &sparse).double_value(&[0]);
        assert!((expected - got).abs() < 1e-5, "{expected} vs {got}");
    }

    #[test]
    fn tables_are_initialised_per_table() {
        tch::manual_seed(1);
        let mut rows = small_tables();
        rows[0] = 4;
        rows[1] = 10_000;
        let vs = VarStore::new(Device::Cpu);
        let model = Dlrm::new(&vs.root(), &rm("rm-small"), &rows, false);
        let first = model.embeddings.narrow(0, 0, 4).abs().max().double_value(&[]);
        let second = model.embeddings.narrow(0, 4, 10_000).abs().max().double_value(&[]);
        assert!(first <= 0.5 && first > 0.05, "table of 4 rows bounded by 0.5, max {first}");
        assert!(second <= 0.01, "table of 10k rows bounded by 0.01, max {second}");
    }

    #[test]
    fn batch_copies_rows_in_order() {
        let mut samples = CriteoSamples::empty(small_tables());
        for r in 0..3u32 {
            samples.dense.extend((0..DENSE).map(|c| (r * 100 + c as u32) as f32));
            samples.sparse.extend((0..SPARSE).map(|c| (r + c as u32) % 3));
            samples.labels.push((r % 2) as f32);
        }
        let batch = criteo_batch(&samples, &[2, 0], Device::Cpu);
        assert_eq!(batch.dense.size(), vec![2, DENSE as i64]);
        assert!((batch.dense.double_value(&[0, 1]) - 201.0).abs() < 1e-9);
        assert_eq!(batch.sparse.int64_value(&[1, 4]), 1);
        assert!(batch.labels.double_value(&[0]).abs() < 1e-9);
    }
}
