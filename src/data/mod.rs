//! Data sets quality is measured on: Criteo-shaped click logs (the real Kaggle `train.txt` or the seeded
//! synthetic generator) and MovieLens interaction files.
//!
//! Criteo rows follow DLRM's preprocessing (Naumov et al., 2019, `dlrm_data_pytorch.py`): the 13 integer
//! features become `ln(max(x, 0) + 1)` and each of the 26 categorical features becomes a dense per-table id in
//! `0..table_rows[t]`.
//!
//! Batches of Criteo rows are `ndarray` matrices ([`CriteoArrays`]: a `B × 13` f32 dense matrix, a `B × 26` i64
//! id matrix and `B` f32 labels), the shapes DLRM's `dlrm_s_pytorch.py` feeds its model; the zoo turns them
//! into tch tensors.

pub mod movielens;

use crate::model::{CRITEO_DENSE_FEATURES, CRITEO_SPARSE_FEATURES};
use ndarray::{Array1, Array2, ArrayView2};

pub mod criteo;
pub mod criteo_source;
pub mod synthetic;
pub mod synthetic_fit;
pub mod tsv_writer;

/// Dense features per Criteo row.
pub const DENSE: usize = CRITEO_DENSE_FEATURES as usize;
/// Categorical features (embedding tables) per Criteo row.
pub const SPARSE: usize = CRITEO_SPARSE_FEATURES as usize;

/// Rows per embedding table of the Criteo Kaggle data set after DLRM's preprocessing without a cap
/// (`max_ind_range = -1`); 33,762,577 rows in total.
pub const CRITEO_KAGGLE_TABLE_ROWS: [u64; SPARSE] = [
    1460, 583, 10_131_227, 2_202_608, 305, 24, 12_517, 633, 3, 93_145, 5683, 8_351_593, 3194, 27, 14_992, 5_461_306,
    10, 5652, 2173, 4, 7_046_547, 18, 15, 286_181, 105, 142_572,
];

/// Criteo-shaped rows held in memory, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct CriteoSamples {
    /// `len × 13` preprocessed dense features, `ln(max(x, 0) + 1)`.
    pub dense: Vec<f32>,
    /// `len × 26` categorical ids; column `t` lies in `0..table_rows[t]`.
    pub sparse: Vec<u32>,
    /// `len` click labels, 0.0 or 1.0.
    pub labels: Vec<f32>,
    /// Rows of each embedding table (the id range of each categorical column).
    pub table_rows: [u64; SPARSE],
}

impl CriteoSamples {
    /// An empty set with the given table sizes.
    pub fn empty(table_rows: [u64; SPARSE]) -> CriteoSamples {
        CriteoSamples { dense: Vec::new(), sparse: Vec::new(), labels: Vec::new(), table_rows }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Fraction of rows with label 1 (0 when empty).
    pub fn click_rate(&self) -> f64 {
        if self.labels.is_empty() {
            return 0.0;
        }
        self.labels.iter().map(|&y| f64::from(y)).sum::<f64>() / self.labels.len() as f64
    }

    /// The dense features as a `len × 13` matrix.
    pub fn dense_matrix(&self) -> ArrayView2<'_, f32> {
        ArrayView2::from_shape((self.len(), DENSE), &self.dense).expect("13 dense features per row")
    }

    /// The categorical ids as a `len × 26` matrix.
    pub fn sparse_matrix(&self) -> ArrayView2<'_, u32> {
        ArrayView2::from_shape((self.len(), SPARSE), &self.sparse).expect("26 categorical ids per row")
    }

    /// Rows `rows` (in that order, repeats allowed) as matrices.
    pub fn batch(&self, rows: &[usize]) -> CriteoArrays {
        let (dense, sparse) = (self.dense_matrix(), self.sparse_matrix());
        let mut out = CriteoArrays {
            dense: Array2::zeros((rows.len(), DENSE)),
            sparse: Array2::zeros((rows.len(), SPARSE)),
            labels: rows.iter().map(|&r| self.labels[r]).collect(),
        };
        for ((mut d, mut s), &r) in out.dense.rows_mut().into_iter().zip(out.sparse.rows_mut()).zip(rows) {
            d.assign(&dense.row(r));
            s.zip_mut_with(&sparse.row(r), |id, &raw| *id = i64::from(raw));
        }
        out
    }
}

/// A batch of Criteo rows as matrices, one matrix row per batch row.
#[derive(Debug, Clone, PartialEq)]
pub struct CriteoArrays {
    /// `B × 13` dense features.
    pub dense: Array2<f32>,
    /// `B × 26` per-table ids.
    pub sparse: Array2<i64>,
    /// `B` click labels.
    pub labels: Array1<f32>,
}

/// Test rows whose values tell where they came from: row r has dense feature c = 100·r + c, id of table c
/// = (r + c) mod `table_rows`, label r mod 2.
#[cfg(test)]
pub(crate) fn numbered_rows(rows: u32, table_rows: u32) -> CriteoSamples {
    let mut samples = CriteoSamples::empty([u64::from(table_rows); SPARSE]);
    for r in 0..rows {
        samples.dense.extend((0..DENSE).map(|c| (r * 100 + c as u32) as f32));
        samples.sparse.extend((0..SPARSE).map(|c| (r + c as u32) % table_rows));
        samples.labels.push((r % 2) as f32);
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_the_selected_rows_in_order() {
        let samples = numbered_rows(3, 5);
        assert_eq!(samples.dense_matrix().dim(), (3, DENSE));
        let b = samples.batch(&[2, 0, 2]);
        assert_eq!(b.dense.dim(), (3, DENSE));
        assert_eq!(b.dense.row(0).to_vec(), samples.dense[2 * DENSE..3 * DENSE].to_vec());
        assert_eq!(b.dense.row(1).to_vec(), samples.dense[..DENSE].to_vec());
        assert_eq!(b.sparse.dim(), (3, SPARSE));
        assert_eq!(b.sparse[[1, 4]], 4);
        assert_eq!(b.sparse[[2, 4]], 1);
        assert_eq!(b.labels.to_vec(), vec![0.0, 0.0, 0.0]);
        assert_eq!(samples.batch(&[]).dense.dim(), (0, DENSE));
    }
}
