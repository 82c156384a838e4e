//! Criteo rows for a design space: the real Kaggle `train.txt` when the space's `dataset.path` exists, else the
//! synthetic Criteo-shaped generator ([`super::synthetic`]) when `synthetic_fallback` allows it. The result
//! says which one it is; every report of quality on synthetic rows must say "synthetic".
//!
//! Real file: [`super::criteo::load_split`] with DLRM's day split and `max_ind_range`, keeping the first
//! `sizes` rows of each split. Synthetic: rows `0..train`, then `validation`, then `test` rows of the generator
//! seeded with `dataset.seed` and capped by `dataset.max_ind_range`.
use super::criteo::{load_split_with_progress, CriteoError, CriteoSplit, ReadProgress, SplitCaps};
use super::synthetic::{SyntheticConfig, SyntheticCriteo};
use crate::spec::{DatasetKind, DatasetSpec};
use std::path::Path;

/// Rows wanted per split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitSizes {
    /// Training rows.
    pub train: usize,
    /// Validation rows.
    pub validation: usize,
    /// Test rows.
    pub test: usize,
}

/// Criteo rows and where they come from.
#[derive(Debug, Clone)]
pub struct CriteoData {
    /// The rows.
    pub split: CriteoSplit,
    /// True when the rows are synthetic.
    pub synthetic: bool,
    /// One line naming the source and its settings (seed, cap, rows), for reports and cache keys.
    pub description: String,
}

/// Load the Criteo rows `dataset` describes; relative paths are resolved against `base_dir` (the space
/// file's directory). Real files report reading progress through `progress`.
pub fn load_criteo(
    dataset: &DatasetSpec,
    base_dir: &Path,
    sizes: SplitSizes,
    progress: &mut dyn FnMut(ReadProgress),
) -> Result<CriteoData, CriteoError> {
    if dataset.kind != DatasetKind::CriteoKaggle {
        return Err(CriteoError::NotCriteo);
    }
    let path = dataset.path.as_ref().map(|p| base_dir.join(p));
    let cap = dataset.max_ind_range;
    let cap_text = cap.map_or("uncapped".to_string(), |m| format!("max_ind_range {m}"));
    match path {
        Some(path) if path.exists() => {
            let caps =
                SplitCaps { train: Some(sizes.train), validation: Some(sizes.validation), test: Some(sizes.test) };
            let split = load_split_with_progress(&path, cap, caps, progress)?;
            let description = format!(
                "Criteo Kaggle {} ({cap_text}, DLRM day split, first {}/{}/{} train/validation/test rows)",
                path.display(),
                split.train.len(),
                split.validation.len(),
                split.test.len()
            );
            Ok(CriteoData { split, synthetic: false, description })
        }
        path if dataset.synthetic_fallback => {
            let gen = SyntheticCriteo::new(SyntheticConfig::for_dataset(dataset, cap));
            let split = gen.split(sizes.train as u64, sizes.validation as u64, sizes.test as u64);
            let missing = path.map_or(String::new(), |p| format!("; {} not found", p.display()));
            let description = format!(
                "{}, {}/{}/{} train/validation/test rows{missing}",
                gen.describe(),
                sizes.train,
                sizes.validation,
                sizes.test
            );
            Ok(CriteoData { split, synthetic: true, description })
        }
        path => Err(CriteoError::NotFound { path: path.map_or("(none)".into(), |p| p.display().to_string()) }),
    }
}
