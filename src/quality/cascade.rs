//! Multi-stage cascades re-ranked from cached scores (pure; no I/O).
//!
//! RecPipe's semantics (the per-stage `sort_thread` of its artifact's `RecPipe.py`): stage 1 scores the first `items_1`
//! candidates of the query (a stage scores min(items, candidates available)), sorts them by its own scores and keeps
//! the best `items_2`; stage i+1 re-scores those survivors with its own model and keeps the best `items_{i+2}`; the
//! last stage's ranking is cut to the pipeline's final `top_k`. Models are independent, so a stage's score of a
//! candidate does not depend on which other candidates it scores: re-ranking the cached score of each survivor is the
//! same as running the model on the survivors. Ties are broken by candidate position (the lower position first), so
//! rankings are deterministic; RecPipe used an unstable float16 argsort instead.

use std::cmp::Ordering;

/// Order (score descending, position ascending): a total order on candidates.
fn better(scores: &[f32], a: u32, b: u32) -> Ordering {
    scores[b as usize].total_cmp(&scores[a as usize]).then(a.cmp(&b))
}

/// Keep the best `keep` of `ids` by `scores` (indexed by candidate position); sorted best first when `sorted`,
/// else in no particular order (enough between stages: the next stage ranks the survivors itself).
pub fn keep_best(ids: &mut Vec<u32>, scores: &[f32], keep: usize, sorted: bool) {
    if keep < ids.len() {
        if keep == 0 {
            ids.clear();
            return;
        }
        ids.select_nth_unstable_by(keep - 1, |&a, &b| better(scores, a, b));
        ids.truncate(keep);
    }
    if sorted {
        ids.sort_unstable_by(|&a, &b| better(scores, a, b));
    }
}

/// Final ranking (candidate positions, best first) of one query of `pool` candidates through a cascade.
///
/// `stages[i]` is (scores of every candidate of the query by stage i's model, items stage i scores);
/// `top_k` is what the last stage returns. `ids` is scratch space reused across queries.
pub fn rank_query(pool: usize, stages: &[(&[f32], u32)], top_k: u32, ids: &mut Vec<u32>) {
    ids.clear();
    let Some(&(_, first_items)) = stages.first() else { return };
    ids.extend(0..(first_items as usize).min(pool) as u32);
    for (s, &(scores, _)) in stages.iter().enumerate() {
        let next = stages.get(s + 1);
        keep_best(ids, scores, next.map_or(top_k, |n| n.1) as usize, next.is_none());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stage_ranks_the_first_items_of_the_pool() {
        let scores = [0.1, 0.9, 0.5, 0.95, 0.2];
        let mut ids = Vec::new();
        // Scores only the first 3 candidates; candidate 3 (the best) is outside the pool it sees.
        rank_query(5, &[(&scores, 3)], 2, &mut ids);
        assert_eq!(ids, vec![1, 2]);
        rank_query(5, &[(&scores, 10)], 10, &mut ids);
        assert_eq!(ids, vec![3, 1, 2, 4, 0]);
    }

    #[test]
    fn second_stage_reranks_survivors_with_its_own_scores() {
        let cheap = [0.9, 0.8, 0.7, 0.1];
        let large = [0.1, 0.5, 0.9, 1.0];
        let mut ids = Vec::new();
        // Stage 1 keeps {0, 1, 2}; stage 2 ranks them 2, 1, 0 and returns the top 2. Item 3 never survives.
        rank_query(4, &[(&cheap, 4), (&large, 3)], 2, &mut ids);
        assert_eq!(ids, vec![2, 1]);
    }

    #[test]
    fn ties_break_by_position() {
        let scores = [0.5, 0.5, 0.5, 0.5];
        let mut ids = Vec::new();
        rank_query(4, &[(&scores, 4)], 3, &mut ids);
        assert_eq!(ids, vec![0, 1, 2]);
    }
}
