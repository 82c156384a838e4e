//! Evaluation protocols: which candidates each query ranks and which of them are relevant (pure; no I/O).
//!
//! - **`loo-full`** (MovieLens; RecBole's full-ranking leave-one-out): one query per evaluated user; its
//!   candidates are every item the user has not interacted with in training or validation, plus the test item
//!   (relevant). The validation variant used for early stopping ranks the validation item against every item
//!   not in the user's training items.
//! - **`loo-sampled-N`** (MovieLens; RecPipe's ML-1M protocol with N = 999): the test item plus N items drawn
//!   uniformly without replacement from the items the user never interacted with (fewer when fewer exist).
//! - **`window`** (Criteo; as RecPipe's artifact builds Kaggle queries): query q is the window of
//!   `candidates` consecutive held-out impressions starting at `q · candidates` (wrapping around the set);
//!   clicked impressions are relevant.
//!
//! MovieLens candidates are stored in a seeded random order per query (seed = dataset seed and user), so that a
//! first stage scoring fewer items than the pool sees a uniform random subset of it rather than the lowest
//! item ids. Users evaluated are the first `eval_queries` evaluated users in dense-id (file appearance) order.

use crate::data::movielens::LooSplit;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// What identifies a candidate for scoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CandidateRefs {
    /// MovieLens: the user of every query, and the item of every candidate (flattened over queries).
    UserItem {
        /// User per query.
        query_users: Vec<u32>,
        /// Item per candidate.
        items: Vec<u32>,
    },
    /// Criteo: the row (of the held-out set) of every candidate (flattened over queries).
    Rows(Vec<u32>),
}

/// Evaluation queries: candidates and relevance labels, flattened; query q owns `offsets[q]..offsets[q+1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalQueries {
    /// Start of each query's candidates, plus the total at the end.
    pub offsets: Vec<usize>,
    /// Relevance (0 or 1) per candidate.
    pub labels: Vec<u8>,
    /// What each candidate is.
    pub refs: CandidateRefs,
}

impl EvalQueries {
    /// Number of queries.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when there are no queries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total candidates over all queries.
    pub fn candidates(&self) -> usize {
        self.labels.len()
    }

    /// Candidate range of query `q`.
    pub fn range(&self, q: usize) -> std::ops::Range<usize> {
        self.offsets[q]..self.offsets[q + 1]
    }

    /// Relevant candidates of query `q`.
    pub fn relevant(&self, q: usize) -> usize {
        self.labels[self.range(q)].iter().filter(|&&y| y > 0).count()
    }

    /// For each candidate, its user (MovieLens) — the query's user repeated; `None` for Criteo queries.
    pub fn candidate_users(&self) -> Option<Vec<u32>> {
        let CandidateRefs::UserItem { query_users, .. } = &self.refs else { return None };
        let mut users = Vec::with_capacity(self.candidates());
        for (q, &u) in query_users.iter().enumerate() {
            users.extend(std::iter::repeat_n(u, self.range(q).len()));
        }
        Some(users)
    }
}

/// Which held-out item a leave-one-out query ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LooTarget {
    /// The validation item against every item not in training (early stopping).
    Validation,
    /// The test item against every item not in training or validation.
    Test,
}

/// Per-query seed of a MovieLens user.
fn user_rng(seed: u64, user: u32) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ (u64::from(user) + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Full-ranking leave-one-out queries for at most `max_queries` users.
pub fn loo_full(split: &LooSplit, target: LooTarget, max_queries: usize, seed: u64) -> EvalQueries {
    let mut out = builder();
    for user in split.evaluated_users().into_iter().take(max_queries) {
        let u = user as usize;
        let (positive, also_excluded) = match target {
            LooTarget::Validation => (split.valid[u].expect("evaluated user"), None),
            LooTarget::Test => (split.test[u].expect("evaluated user"), split.valid[u]),
        };
        let mut items: Vec<u32> = (0..split.items as u32)
            .filter(|&i| i == positive || (!split.is_train_item(user, i) && Some(i) != also_excluded))
            .collect();
        items.shuffle(&mut user_rng(seed, user));
        push_query(&mut out, user, &items, positive);
    }
    finish(out)
}

/// Sampled leave-one-out queries: the test item plus `negatives` never-interacted items per user.
pub fn loo_sampled(split: &LooSplit, negatives: usize, max_queries: usize, seed: u64) -> EvalQueries {
    let mut out = builder();
    for user in split.evaluated_users().into_iter().take(max_queries) {
        let u = user as usize;
        let (valid, test) = (split.valid[u], split.test[u].expect("evaluated user"));
        let mut rng = user_rng(seed, user);
        let mut pool: Vec<u32> = (0..split.items as u32)
            .filter(|&i| i != test && Some(i) != valid && !split.is_train_item(user, i))
            .collect();
        let n = negatives.min(pool.len());
        let (chosen, _) = pool.partial_shuffle(&mut rng, n);
        let mut items = chosen.to_vec();
        items.push(test);
        items.shuffle(&mut rng);
        push_query(&mut out, user, &items, test);
    }
    finish(out)
}

/// Criteo window queries over held-out rows with click labels `labels`; `query_rows` lists each query's rows
/// in window order.
pub fn windows<W: IntoIterator<Item = usize>>(labels: &[f32], query_rows: impl IntoIterator<Item = W>) -> EvalQueries {
    let mut offsets = vec![0];
    let mut rows = Vec::new();
    let mut out_labels = Vec::new();
    for w in query_rows {
        for r in w {
            rows.push(r as u32);
            out_labels.push(u8::from(labels[r] > 0.5));
        }
        offsets.push(rows.len());
    }
    EvalQueries { offsets, labels: out_labels, refs: CandidateRefs::Rows(rows) }
}

struct Builder {
    offsets: Vec<usize>,
    labels: Vec<u8>,
    users: Vec<u32>,
    items: Vec<u32>,
}

fn builder() -> Builder {
    Builder { offsets: vec![0], labels: Vec::new(), users: Vec::new(), items: Vec::new() }
}

fn push_query(b: &mut Builder, user: u32, items: &[u32], positive: u32) {
    b.users.push(user);
    b.items.extend_from_slice(items);
    b.labels.extend(items.iter().map(|&i| u8::from(i == positive)));
    b.offsets.push(b.items.len());
}

fn finish(b: Builder) -> EvalQueries {
    EvalQueries {
        offsets: b.offsets,
        labels: b.labels,
        refs: CandidateRefs::UserItem { query_users: b.users, items: b.items },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::movielens::{leave_one_out, parse_movielens, MovielensFormat};

    fn split() -> LooSplit {
        // Items a..e; u1 rates a, b, c (test c, valid b), u2 rates d, e, a, b (train d, e; valid a; test b).
        let text = "user_id:token\titem_id:token\ttimestamp:float\n\
            u1\ta\t1\nu1\tb\t2\nu1\tc\t3\nu2\td\t1\nu2\te\t2\nu2\ta\t3\nu2\tb\t4\n";
        leave_one_out(&parse_movielens(text, MovielensFormat::RecboleAtomic, "t").unwrap())
    }

    #[test]
    fn full_test_candidates_exclude_training_and_validation_items() {
        let q = loo_full(&split(), LooTarget::Test, 10, 1);
        assert_eq!(q.len(), 2);
        let CandidateRefs::UserItem { items, query_users } = &q.refs else { panic!() };
        assert_eq!(query_users, &vec![0, 1]);
        let mut u1: Vec<u32> = items[q.range(0)].to_vec();
        u1.sort();
        // u1: train {a}, valid b, test c → candidates c, d, e.
        assert_eq!(u1, vec![2, 3, 4]);
        let mut u2: Vec<u32> = items[q.range(1)].to_vec();
        u2.sort();
        // u2: train {d, e}, valid a, test b → candidates b, c.
        assert_eq!(u2, vec![1, 2]);
        assert_eq!((q.relevant(0), q.relevant(1)), (1, 1));
        assert_eq!(items[q.range(1)].iter().zip(&q.labels[q.range(1)]).find(|(_, &y)| y == 1).unwrap().0, &1);
    }

    #[test]
    fn validation_candidates_keep_the_test_item() {
        let q = loo_full(&split(), LooTarget::Validation, 1, 1);
        let CandidateRefs::UserItem { items, .. } = &q.refs else { panic!() };
        let mut u1: Vec<u32> = items[q.range(0)].to_vec();
        u1.sort();
        assert_eq!(u1, vec![1, 2, 3, 4]);
    }

    #[test]
    fn sampled_queries_have_one_positive_and_n_negatives() {
        let q = loo_sampled(&split(), 1, 10, 3);
        assert_eq!(q.range(0).len(), 2);
        assert_eq!(q.relevant(0), 1);
        // u2 never interacted with c only: 1 negative available.
        assert_eq!(q.range(1).len(), 2);
        assert_eq!(loo_sampled(&split(), 1, 10, 3), q, "seeded");
    }
}
