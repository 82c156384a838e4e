//! The score cache: every candidate of every evaluation query scored once per zoo model, and cascade quality
//! computed by re-ranking those scores ([`super::cascade`]).
//!
//! Scores are logits (f32; any monotone transform gives the same rankings), held as a model × candidate
//! matrix (`ndarray::Array2<f32>`: row `m` is zoo model `m`, columns in [`EvalQueries`] order). Quality
//! metrics of a cascade are means over queries of `hr@k`, `ndcg@k` and `recpipe_ndcg@k` for every k in
//! `1..=top_k` (see [`super::metrics`]); the standard NDCG's ideal is taken over the relevant items of the
//! whole query, so a first stage that looks at only part of the pool pays for what it never sees.
//!
//! On disk (see [`encode_scores`]) one model's scores are a little-endian file: the magic `RPDSESC1`, the
//! candidate count (u64) and the f32 scores; the file name carries the cache key, so a stale file is never
//! read for other data, another model or other settings.

use super::cascade::rank_query;
use super::metrics::ranking_metrics_all_k;
use super::protocol::EvalQueries;
use crate::spec::metric::Metric;
use ndarray::{Array2, ArrayView1};
use std::collections::BTreeMap;

/// Quality of one cascade: metric name (as [`Metric`] prints it, e.g. `ndcg@10`) → mean over queries.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CascadeQuality {
    /// Metric values.
    pub metrics: BTreeMap<String, f64>,
}

/// Cached scores of every zoo model over the evaluation queries of a space.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreCache {
    queries: EvalQueries,
    relevant: Vec<u32>,
    model_names: Vec<String>,
    /// Scores: one row per zoo model, one column per candidate ([`EvalQueries`] order); zero in the rows of
    /// models not scored.
    scores: Array2<f32>,
    /// Whether each model's row holds its scores.
    scored: Vec<bool>,
    model_metrics: Vec<BTreeMap<String, f64>>,
    top_k: u32,
    synthetic: bool,
    description: String,
}

impl ScoreCache {
    /// An empty cache for `queries` and the zoo's model names; `top_k` is the final cut-off of every cascade.
    pub fn new(
        queries: EvalQueries,
        model_names: Vec<String>,
        top_k: u32,
        synthetic: bool,
        description: String,
    ) -> ScoreCache {
        let relevant = (0..queries.len()).map(|q| queries.relevant(q) as u32).collect();
        let n = model_names.len();
        ScoreCache {
            scores: Array2::zeros((n, queries.candidates())),
            scored: vec![false; n],
            queries,
            relevant,
            model_names,
            model_metrics: vec![BTreeMap::new(); n],
            top_k,
            synthetic,
            description,
        }
    }

    /// Store model `model`'s score of every candidate (in [`EvalQueries`] order).
    pub fn set_scores(&mut self, model: usize, scores: Vec<f32>) {
        assert_eq!(scores.len(), self.queries.candidates(), "one score per candidate");
        self.scores.row_mut(model).assign(&ArrayView1::from(&scores));
        self.scored[model] = true;
    }

    /// Record a per-model metric measured outside cascades (e.g. `auc`, `log_loss` on held-out rows).
    pub fn set_model_metric(&mut self, model: usize, name: &str, value: f64) {
        self.model_metrics[model].insert(name.to_string(), value);
    }

    /// Per-model metrics recorded with [`ScoreCache::set_model_metric`].
    pub fn model_metrics(&self, model: usize) -> &BTreeMap<String, f64> {
        &self.model_metrics[model]
    }

    /// Model `model`'s scores, when they were computed.
    pub fn scores(&self, model: usize) -> Option<&[f32]> {
        self.scored[model].then(|| self.scores.row(model).to_slice().expect("rows of a standard-layout matrix"))
    }

    /// The evaluation queries.
    pub fn queries(&self) -> &EvalQueries {
        &self.queries
    }

    /// Zoo model names, by zoo index.
    pub fn model_names(&self) -> &[String] {
        &self.model_names
    }

    /// The final cut-off of every cascade.
    pub fn top_k(&self) -> u32 {
        self.top_k
    }

    /// True when quality is measured on synthetic data.
    pub fn is_synthetic(&self) -> bool {
        self.synthetic
    }

    /// Data set, protocol, queries and seed, for reports.
    pub fn describe(&self) -> String {
        self.description.clone()
    }

    /// Final ranking (candidate positions within query `q`, best first) of a cascade.
    pub fn ranking(&self, stages: &[(usize, u32)], q: usize) -> Vec<u32> {
        let mut ids = Vec::new();
        let range = self.queries.range(q);
        let stage_scores = self.stage_scores(stages, range.clone());
        rank_query(range.len(), &stage_scores, self.top_k, &mut ids);
        ids
    }

    fn stage_scores(&self, stages: &[(usize, u32)], range: std::ops::Range<usize>) -> Vec<(&[f32], u32)> {
        stages
            .iter()
            .map(|&(m, items)| {
                let all = self.scores(m).unwrap_or_else(|| {
                    panic!("model '{}' was not scored (not used by the space)", self.model_names[m])
                });
                (&all[range.clone()], items)
            })
            .collect()
    }

    /// Quality of a cascade: stages as (zoo model index, items scored by that stage).
    ///
    /// Panics when a stage's model has no scores (every model a space's pipelines use is scored by
    /// [`super::prepare`]).
    pub fn cascade(&self, stages: &[(usize, u32)]) -> CascadeQuality {
        let k_max = self.top_k as usize;
        let mut sums = [vec![0.0; k_max], vec![0.0; k_max], vec![0.0; k_max]];
        let mut ids = Vec::new();
        let mut ranked = Vec::with_capacity(k_max);
        for q in 0..self.queries.len() {
            let range = self.queries.range(q);
            let stage_scores = self.stage_scores(stages, range.clone());
            rank_query(range.len(), &stage_scores, self.top_k, &mut ids);
            let labels = &self.queries.labels[range];
            ranked.clear();
            ranked.extend(ids.iter().map(|&i| labels[i as usize]));
            let per_k = ranking_metrics_all_k(&ranked, self.relevant[q] as usize, k_max);
            for (sum, values) in sums.iter_mut().zip(&per_k) {
                for (s, v) in sum.iter_mut().zip(values) {
                    *s += v;
                }
            }
        }
        let n = self.queries.len().max(1) as f64;
        let mut metrics = BTreeMap::new();
        for k in 1..=self.top_k {
            let i = k as usize - 1;
            metrics.insert(Metric::HitRate(k).to_string(), sums[0][i] / n);
            metrics.insert(Metric::Ndcg(k).to_string(), sums[1][i] / n);
            metrics.insert(Metric::RecpipeNdcg(k).to_string(), sums[2][i] / n);
        }
        CascadeQuality { metrics }
    }
}

const MAGIC: &[u8; 8] = b"RPDSESC1";

/// Serialise one model's scores (magic, count, little-endian f32s).
pub fn encode_scores(scores: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 4 * scores.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(scores.len() as u64).to_le_bytes());
    for s in scores {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// Parse [`encode_scores`]' output; `None` when the bytes are not a score file of `expected` scores.
pub fn decode_scores(bytes: &[u8], expected: usize) -> Option<Vec<f32>> {
    let body = bytes.strip_prefix(MAGIC.as_slice())?;
    let (count, data) = body.split_at_checked(8)?;
    let count = u64::from_le_bytes(count.try_into().ok()?) as usize;
    if count != expected || data.len() != 4 * count {
        return None;
    }
    Some(data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::super::protocol::CandidateRefs;
    use super::*;

    fn two_queries() -> ScoreCache {
        let queries = EvalQueries {
            offsets: vec![0, 4, 8],
            labels: vec![0, 0, 1, 0, 1, 0, 0, 1],
            refs: CandidateRefs::Rows((0..8).collect()),
        };
        let mut cache = ScoreCache::new(queries, vec!["cheap".into(), "large".into()], 2, true, "t".into());
        cache.set_scores(0, vec![0.9, 0.8, 0.1, 0.7, 0.2, 0.9, 0.8, 0.1]);
        cache.set_scores(1, vec![0.0, 0.1, 0.9, 0.2, 0.9, 0.1, 0.2, 0.8]);
        cache
    }

    #[test]
    fn scores_are_matrix_rows_of_scored_models() {
        let queries = EvalQueries { offsets: vec![0, 2], labels: vec![1, 0], refs: CandidateRefs::Rows(vec![0, 1]) };
        let mut cache = ScoreCache::new(queries, vec!["a".into(), "b".into(), "c".into()], 1, true, "t".into());
        cache.set_scores(2, vec![0.5, -1.0]);
        assert_eq!(cache.scores(2), Some([0.5f32, -1.0].as_slice()));
        assert_eq!(cache.scores(0), None);
        assert_eq!(cache.scores.dim(), (3, 2));
    }

    #[test]
    fn single_stage_of_the_better_model_is_perfect() {
        let cache = two_queries();
        let q = cache.cascade(&[(1, 4)]);
        assert!((q.metrics["hr@1"] - 1.0).abs() < 1e-12);
        assert!((q.metrics["ndcg@2"] - 1.0).abs() < 1e-12);
        assert_eq!(q.metrics.len(), 6);
    }

    #[test]
    fn a_narrow_first_stage_loses_what_it_filters() {
        let cache = two_queries();
        // Cheap model keeps 2 of 4: query 0 keeps {0, 1} (misses item 2); query 1 keeps {5, 6} (misses 4, 7).
        let q = cache.cascade(&[(0, 4), (1, 2)]);
        assert!((q.metrics["hr@2"] - 0.0).abs() < 1e-12);
        // Keeping 3: query 0 still misses (cheap ranks its item last); query 1 keeps {5, 6, 4}: a hit at rank 0.
        let q = cache.cascade(&[(0, 4), (1, 3)]);
        assert!((q.metrics["hr@1"] - 0.5).abs() < 1e-12);
        assert_eq!(cache.ranking(&[(0, 4), (1, 3)], 1), vec![0, 2]);
    }

    #[test]
    fn score_files_round_trip() {
        let s = vec![1.5f32, -2.0, f32::MIN_POSITIVE];
        assert_eq!(decode_scores(&encode_scores(&s), 3), Some(s.clone()));
        assert_eq!(decode_scores(&encode_scores(&s), 4), None);
        assert_eq!(decode_scores(b"garbage", 0), None);
    }
}
