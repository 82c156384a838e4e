//! Recommendation quality from real inference: evaluation protocols, metrics, the per-model score cache and
//! cascades re-ranked from it.
//!
//! [`prepare`] trains or loads every zoo model a space uses (`crate::zoo`), scores every candidate of every
//! evaluation query once per model, and keeps the scores on disk (keyed like checkpoints: data fingerprint,
//! protocol, model config, seed and training settings). [`ScoreCache::cascade`] then gives the quality of any
//! cascade by re-ranking cached scores, with no further inference. Protocols are in [`protocol`], metric
//! definitions in [`metrics`] (RecPipe's position-discounted "NDCG" is `recpipe_ndcg@k`,
//! recpipe-reference.md §1.7), the cascade semantics in [`cascade`].

pub mod cascade;
pub mod metrics;
pub mod protocol;
pub mod score_cache;

pub use score_cache::{CascadeQuality, ScoreCache};
mod prepare;

pub use prepare::{prepare, used_models, PrepareOptions};

/// Why quality could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    /// The data set is missing or malformed (the message names the file and line).
    #[error("{0}")]
    Data(String),
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
