//! Training loops and batched scoring for the models' tch networks, one trainer per data kind; any family's
//! [`Net`] trains with them.
//!
//! - **(user, item) pairs** (MovieLens, implicit feedback) as RecBole 1.2.1 trains NeuMF: every epoch re-samples
//!   `negatives` items per training interaction, uniformly among the items the user has no training
//!   interaction with; mini-batches of `batch_size` rows (positives with their negatives, shuffled); binary
//!   cross-entropy on logits; Adam with the given learning rate; after each epoch the validation NDCG@10 under
//!   full ranking (validation item against every item not in the user's training items); training stops once
//!   `patience` epochs in a row bring no improvement (RecBole's `stopping_step`), and the best epoch's weights
//!   are kept.
//! - **Criteo-shaped rows** as DLRM trains it: shuffled mini-batches, binary cross-entropy on logits,
//!   plain SGD with sparse embedding gradients (only the rows a batch touches are updated, so a step costs
//!   O(batch) however large the tables are); after each epoch the validation AUC decides early stopping and
//!   the best weights are kept.
//!
//! Progress is reported through a callback (the CLI draws it on stderr). All randomness is seeded: tch's
//! generator (initialisation, dropout) by the caller with `tch::manual_seed`, sampling and shuffling here with
//! `Xoshiro256PlusPlus` from the same seed.

use super::tensor::criteo_batch;
use crate::data::movielens::LooSplit;
use crate::data::CriteoSamples;
use crate::model::{Features, Net};
use crate::quality::metrics::{auc, discount, log_loss, sigmoid};
use crate::quality::protocol::EvalQueries;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Instant;
use tch::nn::{OptimizerConfig, VarStore};
use tch::{Device, Kind, Reduction, Tensor};

/// Candidates scored per forward pass when scoring (no gradients).
pub const SCORE_CHUNK: usize = 1 << 15;

/// Progress of a training run, reported after every `report_every` steps and at the end of every epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainProgress {
    /// Epoch, 1-based.
    pub epoch: u32,
    /// Most epochs.
    pub epochs: u32,
    /// Steps done in this epoch.
    pub step: usize,
    /// Steps per epoch.
    pub steps: usize,
    /// Mean training loss over this epoch's steps so far.
    pub loss: f64,
    /// Validation metric after the epoch (`None` during an epoch).
    pub metric: Option<f64>,
    /// Name of the validation metric (`ndcg@10` or `auc`).
    pub metric_name: &'static str,
    /// Best validation metric so far and its epoch.
    pub best: Option<(f64, u32)>,
    /// Seconds since training started.
    pub elapsed_s: f64,
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrainSummary {
    /// Epochs run.
    pub epochs_run: u32,
    /// Epoch whose weights were kept.
    pub best_epoch: u32,
    /// Validation metric of the kept weights.
    pub best_metric: f64,
    /// Name of the validation metric.
    pub metric_name: String,
    /// Wall time of training, s.
    pub train_s: f64,
}

/// Logits of a pairs model for (user, item) pairs, in chunks, without gradients.
pub fn score_pairs(model: &dyn Net, users: &[u32], items: &[u32]) -> Vec<f32> {
    assert_eq!(users.len(), items.len(), "one item per user");
    let mut out = Vec::with_capacity(users.len());
    tch::no_grad(|| {
        for (u, i) in users.chunks(SCORE_CHUNK).zip(items.chunks(SCORE_CHUNK)) {
            let u = Tensor::from_slice(&u.iter().map(|&x| i64::from(x)).collect::<Vec<_>>());
            let i = Tensor::from_slice(&i.iter().map(|&x| i64::from(x)).collect::<Vec<_>>());
            out.extend(tensor_to_vec(&model.forward_t(&Features::Pairs { users: &u, items: &i }, false)));
        }
    });
    out
}

/// Logits of a rows model for rows `rows` of `samples`, in chunks, without gradients.
pub fn score_rows(model: &dyn Net, samples: &CriteoSamples, rows: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows.len());
    tch::no_grad(|| {
        for chunk in rows.chunks(SCORE_CHUNK) {
            let batch = criteo_batch(samples, chunk, Device::Cpu);
            let x = Features::Rows { dense: &batch.dense, sparse: &batch.sparse };
            out.extend(tensor_to_vec(&model.forward_t(&x, false)));
        }
    });
    out
}

fn tensor_to_vec(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).contiguous().view([-1])).expect("a float tensor converts")
}

/// Mean NDCG@10 over leave-one-out queries of their single relevant candidate, given every candidate's score
/// (ties broken by candidate position, as in cascades).
pub fn mean_ndcg10(queries: &EvalQueries, scores: &[f32]) -> f64 {
    let mut total = 0.0;
    for q in 0..queries.len() {
        let r = queries.range(q);
        let (s, y) = (&scores[r.clone()], &queries.labels[r]);
        let Some(p) = y.iter().position(|&l| l > 0) else { continue };
        let rank = s.iter().enumerate().filter(|&(j, &x)| x > s[p] || (x.total_cmp(&s[p]).is_eq() && j < p)).count();
        if rank < 10 {
            total += discount(rank);
        }
    }
    total / queries.len().max(1) as f64
}

/// Mean NDCG@10 of a pairs model on leave-one-out queries.
pub fn pairs_ndcg10(model: &dyn Net, queries: &EvalQueries) -> f64 {
    let crate::quality::protocol::CandidateRefs::UserItem { items, .. } = &queries.refs else {
        panic!("leave-one-out queries have user/item candidates")
    };
    let users = queries.candidate_users().expect("user/item candidates");
    mean_ndcg10(queries, &score_pairs(model, &users, items))
}

/// A copy of every variable of `vs`, to restore the best epoch.
fn snapshot(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().map(|(k, v)| (k, v.detach().copy())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

fn restore(vs: &VarStore, saved: &[(String, Tensor)]) {
    let vars = vs.variables();
    tch::no_grad(|| {
        for (name, value) in saved {
            vars[name].shallow_clone().copy_(value);
        }
    });
}

/// Train a pairs model on `split`'s training interactions with early stopping on `valid` (see the module docs).
pub fn train_pairs(
    vs: &VarStore,
    model: &dyn Net,
    split: &LooSplit,
    valid: &EvalQueries,
    settings: &TrainingSpec,
    progress: &mut dyn FnMut(&TrainProgress),
) -> TrainSummary {
    let start = Instant::now();
    let mut opt = tch::nn::Adam::default().build(vs, settings.learning_rate).expect("Adam builds on a VarStore");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(settings.seed ^ 0x006e_6575_6d66);
    let per_positive = 1 + settings.negatives as usize;
    let rows = split.train.len() * per_positive;
    let batch = settings.batch_size.max(1) as usize;
    let steps = rows.div_ceil(batch);
    let (mut users, mut items, mut labels) = (vec![0i64; rows], vec![0i64; rows], vec![0f32; rows]);
    let mut order: Vec<usize> = (0..split.train.len()).collect();
    let mut best: Option<(f64, u32)> = None;
    let mut best_weights = snapshot(vs);
    let mut epochs_run = 0;
    for epoch in 1..=settings.epochs {
        epochs_run = epoch;
        order.shuffle(&mut rng);
        // Each positive followed by its freshly sampled negatives, in shuffled order of positives.
        for (slot, &p) in order.iter().enumerate() {
            let (u, i) = split.train[p];
            let base = slot * per_positive;
            users[base..base + per_positive].fill(i64::from(u));
            items[base] = i64::from(i);
            labels[base] = 1.0;
            for k in 1..per_positive {
                items[base + k] = i64::from(sample_negative(split, u, &mut rng));
                labels[base + k] = 0.0;
            }
        }
        let mut loss_sum = 0.0;
        for step in 0..steps {
            let r = step * batch..((step + 1) * batch).min(rows);
            let (u, i) = (Tensor::from_slice(&users[r.clone()]), Tensor::from_slice(&items[r.clone()]));
            let logits = model.forward_t(&Features::Pairs { users: &u, items: &i }, true);
            let target = Tensor::from_slice(&labels[r]);
            let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&target, None, None, Reduction::Mean);
            opt.backward_step(&loss);
            loss_sum += loss.double_value(&[]);
            if (step + 1) % 20 == 0 {
                progress(&report(epoch, settings.epochs, step + 1, steps, loss_sum, None, "ndcg@10", best, start));
            }
        }
        let metric = pairs_ndcg10(model, valid);
        if best.is_none_or(|(b, _)| metric > b) {
            best = Some((metric, epoch));
            best_weights = snapshot(vs);
        }
        progress(&report(epoch, settings.epochs, steps, steps, loss_sum, Some(metric), "ndcg@10", best, start));
        if best.is_some_and(|(_, e)| epoch - e >= settings.patience) {
            break;
        }
    }
    restore(vs, &best_weights);
    let (best_metric, best_epoch) = best.unwrap_or((0.0, 0));
    TrainSummary {
        epochs_run,
        best_epoch,
        best_metric,
        metric_name: "ndcg@10".into(),
        train_s: start.elapsed().as_secs_f64(),
    }
}

/// An item `user` has no training interaction with, uniformly (rejection sampling).
fn sample_negative(split: &LooSplit, user: u32, rng: &mut Xoshiro256PlusPlus) -> u32 {
    let seen = &split.train_items[user as usize];
    if seen.len() >= split.items {
        return rng.random_range(0..split.items as u32);
    }
    loop {
        let j = rng.random_range(0..split.items as u32);
        if seen.binary_search(&j).is_err() {
            return j;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    epoch: u32,
    epochs: u32,
    step: usize,
    steps: usize,
    loss_sum: f64,
    metric: Option<f64>,
    metric_name: &'static str,
    best: Option<(f64, u32)>,
    start: Instant,
) -> TrainProgress {
    TrainProgress {
        epoch,
        epochs,
        step,
        steps,
        loss: loss_sum / step.max(1) as f64,
        metric,
        metric_name,
        best,
        elapsed_s: start.elapsed().as_secs_f64(),
    }
}

/// AUC and log-loss of a rows model on `samples`.
pub fn rows_auc_logloss(model: &dyn Net, samples: &CriteoSamples) -> (f64, f64) {
    let rows: Vec<usize> = (0..samples.len()).collect();
    let logits = score_rows(model, samples, &rows);
    let labels: Vec<u8> = samples.labels.iter().map(|&y| u8::from(y > 0.5)).collect();
    let probs: Vec<f32> = logits.iter().map(|&l| sigmoid(l)).collect();
    (auc(&logits, &labels).unwrap_or(0.5), log_loss(&probs, &labels))
}

/// Train a rows model (built with sparse embedding gradients) on `train`, early stopping on `validation` AUC.
pub fn train_rows(
    vs: &VarStore,
    model: &dyn Net,
    train: &CriteoSamples,
    validation: &CriteoSamples,
    settings: &TrainingSpec,
    progress: &mut dyn FnMut(&TrainProgress),
) -> TrainSummary {
    let start = Instant::now();
    let mut opt = tch::nn::Sgd::default().build(vs, settings.learning_rate).expect("SGD builds on a VarStore");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(settings.seed ^ 0x646c_726d);
    let batch = settings.batch_size.max(1) as usize;
    let steps = train.len().div_ceil(batch);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut best: Option<(f64, u32)> = None;
    let mut best_weights = Vec::new();
    let mut epochs_run = 0;
    for epoch in 1..=settings.epochs {
        epochs_run = epoch;
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        for (step, rows) in order.chunks(batch).enumerate() {
            let b = criteo_batch(train, rows, Device::Cpu);
            let logits = model.forward_t(&Features::Rows { dense: &b.dense, sparse: &b.sparse }, true);
            let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&b.labels, None, None, Reduction::Mean);
            opt.backward_step(&loss);
            loss_sum += loss.double_value(&[]);
            if (step + 1) % 200 == 0 {
                progress(&report(epoch, settings.epochs, step + 1, steps, loss_sum, None, "auc", best, start));
            }
        }
        let (metric, _) = rows_auc_logloss(model, validation);
        if best.is_none_or(|(b, _)| metric > b) {
            best = Some((metric, epoch));
            if epoch < settings.epochs {
                best_weights = snapshot(vs);
            }
        }
        progress(&report(epoch, settings.epochs, steps, steps, loss_sum, Some(metric), "auc", best, start));
        if best.is_some_and(|(_, e)| epoch - e >= settings.patience) {
            break;
        }
    }
    if best.is_some_and(|(_, e)| e != epochs_run) {
        restore(vs, &best_weights);
    }
    let (best_metric, best_epoch) = best.unwrap_or((0.0, 0));
    TrainSummary {
        epochs_run,
        best_epoch,
        best_metric,
        metric_name: "auc".into(),
        train_s: start.elapsed().as_secs_f64(),
    }
}

/// How zoo models are trained (the optional `training:` section of a space; defaults by data kind below).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingSpec {
    /// Most training epochs; validation-based early stopping usually ends sooner.
    pub epochs: u32,
    /// Training rows per mini-batch (sampled negatives included).
    pub batch_size: u32,
    /// Optimizer learning rate (Adam for NeuMF; SGD for DLRM).
    pub learning_rate: f64,
    /// Epochs without a better validation metric before training stops.
    pub patience: u32,
    /// MovieLens: negatives sampled per positive interaction, re-sampled every epoch.
    pub negatives: u32,
    /// NeuMF: dropout probability in the MLP tower during training.
    pub dropout: f64,
    /// Criteo: most training rows used (`None` = all).
    pub train_rows: Option<u64>,
    /// Criteo: held-out rows for validation (early stopping, validation AUC / log-loss).
    pub validation_rows: u64,
    /// Criteo: most rows per embedding table of the quality models and their data (categorical ids beyond it
    /// are hashed modulo the cap, DLRM's `max_ind_range`; the synthetic generator draws ids within it). Keeps
    /// training in memory and minutes; latency profiles use the real table sizes regardless.
    pub table_rows_cap: u64,
    /// Seed of initialisation, negative sampling and shuffling.
    pub seed: u64,
}

impl TrainingSpec {
    /// Training defaults for MovieLens (RecBole 1.2.1's NeuMF settings; at most 100 epochs).
    pub const MOVIELENS: TrainingSpec = TrainingSpec {
        epochs: 100,
        batch_size: 2048,
        learning_rate: 1e-3,
        patience: 10,
        negatives: 1,
        dropout: 0.1,
        train_rows: None,
        validation_rows: 0,
        table_rows_cap: 0,
        seed: 0,
    };

    /// Training defaults for Criteo-shaped data: DLRM's SGD recipe (batch 128, lr 0.1) on 500,000 rows, up to 5
    /// epochs with early stopping on validation AUC (patience 1).
    pub const CRITEO: TrainingSpec = TrainingSpec {
        epochs: 5,
        batch_size: 128,
        learning_rate: 0.1,
        patience: 1,
        negatives: 1,
        dropout: 0.0,
        train_rows: Some(500_000),
        validation_rows: 100_000,
        table_rows_cap: 100_000,
        seed: 0,
    };
}
