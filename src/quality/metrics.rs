//! Ranking and classification metrics as pure functions over ranked label lists and score vectors.
//!
//! A ranked list is the relevance labels (0 or 1) of the items a pipeline returns, best first. Definitions:
//! - `hr@k`: 1 when a relevant item is among the first k, else 0 (RecBole's `Hit`; with one relevant item per
//!   query, as in leave-one-out, this is the usual hit ratio);
//! - `ndcg@k`: standard NDCG with binary gains, `DCG@k / IDCG@k`, `DCG@k = Σ_{i<k} y_i / log2(i + 2)`, where the
//!   ideal ranks all `relevant` items of the query first; 0 when the query has no relevant item. With one
//!   relevant item this is `1 / log2(rank + 2)` when it is in the top k (RecBole's `NDCG`);
//! - `recpipe_ndcg@k`: RecPipe's "NDCG" exactly as the artifact's `utils.ndcg_score` computes it:
//!   `Σ_{i<k} y_i / log2(i + 2)` divided by `Σ_{i<k} 1 / log2(i + 2)`, i.e. an ideal in which all k positions are
//!   relevant — a position-discounted precision@k. Positions past the end of a short list count as
//!   non-relevant;
//! - `auc`: the area under the ROC curve, the probability that a random positive outscores a random negative
//!   (ties count one half), by the rank-sum (Mann–Whitney U) formula;
//! - `error_rate`: RecPipe's "Error", the fraction of items with `round(p) != y`;
//! - `log_loss`: mean binary cross-entropy of predicted probabilities, clamped to [1e-7, 1 − 1e-7], natural log.

/// `1 / log2(i + 2)`, the discount of 0-based position `i`.
pub fn discount(position: usize) -> f64 {
    1.0 / ((position + 2) as f64).log2()
}

/// Hit rate at `k`: 1.0 when one of the first `k` ranked labels is relevant.
pub fn hit_rate_at(ranked: &[u8], k: usize) -> f64 {
    if ranked.iter().take(k).any(|&y| y > 0) {
        1.0
    } else {
        0.0
    }
}

/// Standard NDCG@k with binary gains; `relevant` is the number of relevant items of the whole query.
pub fn ndcg_at(ranked: &[u8], relevant: usize, k: usize) -> f64 {
    if relevant == 0 {
        return 0.0;
    }
    let dcg: f64 = ranked.iter().take(k).enumerate().filter(|(_, &y)| y > 0).map(|(i, _)| discount(i)).sum();
    let idcg: f64 = (0..relevant.min(k)).map(discount).sum();
    dcg / idcg
}

/// RecPipe's position-discounted "NDCG@k" (all-relevant ideal of length k).
pub fn recpipe_ndcg_at(ranked: &[u8], k: usize) -> f64 {
    let dcg: f64 = ranked.iter().take(k).enumerate().filter(|(_, &y)| y > 0).map(|(i, _)| discount(i)).sum();
    let ideal: f64 = (0..k).map(discount).sum();
    dcg / ideal
}

/// All three ranking metrics for every cut-off `1..=max_k` at once, in O(max_k): `(hr, ndcg, recpipe_ndcg)`,
/// each indexed by `k − 1`.
pub fn ranking_metrics_all_k(ranked: &[u8], relevant: usize, max_k: usize) -> [Vec<f64>; 3] {
    let mut hr = Vec::with_capacity(max_k);
    let mut ndcg = Vec::with_capacity(max_k);
    let mut rp = Vec::with_capacity(max_k);
    let (mut dcg, mut idcg, mut ideal_all, mut hit) = (0.0, 0.0, 0.0, false);
    for i in 0..max_k {
        let d = discount(i);
        if ranked.get(i).is_some_and(|&y| y > 0) {
            dcg += d;
            hit = true;
        }
        if i < relevant {
            idcg += d;
        }
        ideal_all += d;
        hr.push(if hit { 1.0 } else { 0.0 });
        ndcg.push(if relevant == 0 { 0.0 } else { dcg / idcg });
        rp.push(dcg / ideal_all);
    }
    [hr, ndcg, rp]
}

/// Area under the ROC curve of `scores` against binary `labels`; `None` without both classes.
pub fn auc(scores: &[f32], labels: &[u8]) -> Option<f64> {
    assert_eq!(scores.len(), labels.len(), "one label per score");
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let positives = labels.iter().filter(|&&y| y > 0).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    // Sum of the (average, 1-based) ranks of the positives; tied scores share their mean rank.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]].total_cmp(&scores[order[i]]).is_eq() {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += order[i..=j].iter().filter(|&&r| labels[r] > 0).count() as f64 * mean_rank;
        i = j + 1;
    }
    let (p, n) = (positives as f64, negatives as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Mean binary cross-entropy (natural log) of probabilities `probs` against binary `labels`.
pub fn log_loss(probs: &[f32], labels: &[u8]) -> f64 {
    assert_eq!(probs.len(), labels.len(), "one label per probability");
    if probs.is_empty() {
        return 0.0;
    }
    let eps = 1e-7;
    let total: f64 = probs
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = f64::from(p).clamp(eps, 1.0 - eps);
            if y > 0 {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    total / probs.len() as f64
}

/// RecPipe's "Error": the fraction of items whose rounded probability differs from the label
/// (`round(p) != y`, 0.5 rounds to 0 as numpy's round-half-to-even does).
pub fn error_rate(probs: &[f32], labels: &[u8]) -> f64 {
    assert_eq!(probs.len(), labels.len(), "one label per probability");
    if probs.is_empty() {
        return 0.0;
    }
    let wrong = probs.iter().zip(labels).filter(|(&p, &y)| u8::from(p > 0.5) != u8::from(y > 0)).count();
    wrong as f64 / probs.len() as f64
}

/// Logistic sigmoid of a logit.
pub fn sigmoid(logit: f32) -> f32 {
    1.0 / (1.0 + (-logit).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn ideal_ranking_has_ndcg_one() {
        assert!(close(ndcg_at(&[1, 1, 0, 0], 2, 4), 1.0));
        assert!(close(ndcg_at(&[1, 0, 0], 1, 1), 1.0));
        // RecPipe's metric reaches 1 only when all k positions are relevant.
        assert!(close(recpipe_ndcg_at(&[1, 1, 1, 1], 4), 1.0));
        assert!(recpipe_ndcg_at(&[1, 1, 0, 0], 4) < 1.0);
    }

    #[test]
    fn single_relevant_item_ndcg_is_inverse_log_rank() {
        // Relevant item at 0-based rank 2: 1/log2(4) = 0.5.
        assert!(close(ndcg_at(&[0, 0, 1, 0], 1, 10), 0.5));
        assert!(close(ndcg_at(&[0, 0, 1, 0], 1, 2), 0.0));
        assert!(close(hit_rate_at(&[0, 0, 1], 3), 1.0));
        assert!(close(hit_rate_at(&[0, 0, 1], 2), 0.0));
        assert!(close(ndcg_at(&[0, 0], 0, 2), 0.0));
    }

    #[test]
    fn recpipe_ndcg_matches_hand_computation() {
        // y = [1, 0, 1]: (1 + 1/log2 4) / (1 + 1/log2 3 + 1/log2 4).
        let expected = (1.0 + 0.5) / (1.0 + 1.0 / 3f64.log2() + 0.5);
        assert!(close(recpipe_ndcg_at(&[1, 0, 1], 3), expected));
        // A list shorter than k counts the missing positions as misses.
        assert!(close(recpipe_ndcg_at(&[1], 2), 1.0 / (1.0 + 1.0 / 3f64.log2())));
    }

    #[test]
    fn all_k_agrees_with_single_k() {
        let ranked = [0, 1, 0, 0, 1, 1, 0, 1];
        let [hr, ndcg, rp] = ranking_metrics_all_k(&ranked, 5, 10);
        for k in 1..=10 {
            assert!(close(hr[k - 1], hit_rate_at(&ranked, k)), "hr@{k}");
            assert!(close(ndcg[k - 1], ndcg_at(&ranked, 5, k)), "ndcg@{k}");
            assert!(close(rp[k - 1], recpipe_ndcg_at(&ranked, k)), "recpipe@{k}");
        }
    }

    #[test]
    fn auc_known_answers() {
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]), Some(0.75));
        assert_eq!(auc(&[0.5, 0.5], &[0, 1]), Some(0.5));
        assert_eq!(auc(&[0.9, 0.1], &[1, 0]), Some(1.0));
        assert_eq!(auc(&[0.9, 0.1], &[1, 1]), None);
    }

    #[test]
    fn error_rate_counts_rounded_mistakes() {
        assert!((error_rate(&[0.9, 0.2, 0.5, 0.7], &[1, 1, 0, 0]) - 0.5).abs() < 1e-15);
        assert!(error_rate(&[], &[]).abs() < 1e-15);
    }

    #[test]
    fn log_loss_known_answer() {
        let l = log_loss(&[0.5, 0.5], &[0, 1]);
        assert!(close(l, std::f64::consts::LN_2));
        assert!(log_loss(&[0.9, 0.1], &[1, 0]) < log_loss(&[0.6, 0.4], &[1, 0]));
    }
}
