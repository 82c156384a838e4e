//! Recommendation quality from real inference: evaluation protocols, metrics, the per-model score cache and
//! cascades re-ranked from it.
//!
//! [`prepare`] trains or loads every zoo model a space uses (`crate::zoo`), scores every candidate of every
//! evaluation query once per model, and keeps the scores on disk (keyed like checkpoints: data fingerprint,
//! protocol, model config, seed and training settings). [`ScoreCache::cascade`] then gives the quality of any
//! cascade by re-ranking cached scores, with no further inference. Protocols are in [`protocol`], metric
//! definitions in [`metrics`] (RecPipe's position-discounted "NDCG" is `recpipe_ndcg@k`,
//! as the RecPipe artifact's `utils.ndcg_score` computes it), the cascade semantics in [`cascade`].

pub mod cascade;
pub mod metrics;
pub mod protocol;
pub mod score_cache;

pub use score_cache::{CascadeQuality, ScoreCache};
mod prepare;

pub use prepare::{prepare, prepare_models, used_models, PrepareOptions, DEFAULT_SYNTHETIC_TRAIN_ROWS};

/// Every cascade a space's pipelines contain: each model choice per stage × each item tuple, as
/// `(zoo model index, items)` per stage, in spec order (pipelines, then item tuples, then models with the first
/// stage varying fastest).
pub fn cascades(space: &crate::spec::Space) -> Vec<Vec<(usize, u32)>> {
    let mut out = Vec::new();
    for p in &space.pipelines {
        for items in &p.items {
            let combos: usize = p.models.iter().map(Vec::len).product();
            for mut c in 0..combos {
                let stages = p
                    .models
                    .iter()
                    .zip(items)
                    .map(|(choices, &n)| {
                        let m = choices[c % choices.len()];
                        c /= choices.len();
                        (m, n)
                    })
                    .collect();
                out.push(stages);
            }
        }
    }
    out
}

/// Why quality could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// The data set is missing or malformed (the message names the file and line).
    #[error("{0}")]
    Data(String),
    /// Offline (a shard of a run): a model's scores are not in the cache; `prepare` makes them.
    #[error("{0}; run `recpipe-dse prepare` on the space with the same --cache-dir first")]
    NotPrepared(String),
    /// A model does not fit the data set.
    #[error("{0}")]
    Unsupported(String),
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] crate::zoo::checkpoint::CheckpointError),
    /// A cache file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}
