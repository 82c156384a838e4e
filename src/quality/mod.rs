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
