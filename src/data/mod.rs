//! Data sets quality is measured on: Criteo-shaped click logs (the real Kaggle `train.txt` or the seeded
//! synthetic generator) and MovieLens interaction files.
//!
//! Criteo rows follow DLRM's preprocessing (Naumov et al., 2019, `dlrm_data_pytorch.py`): the 13 integer
//! features become `ln(max(x, 0) + 1)` and each of the 26 categorical features becomes a dense per-table id in
//! `0..table_rows[t]`.

pub mod movielens;

use crate::model::{CRITEO_DENSE_FEATURES, CRITEO_SPARSE_FEATURES};

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
}
