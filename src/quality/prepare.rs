//! The loader behind [`super::prepare`]: reads or generates the data, trains or loads every zoo model a space
//! uses, scores every candidate of every evaluation query once per model, and caches scores on disk. This is
//! the only part of `quality` that touches files, clocks and libtorch.
//!
//! Cache layout under `PrepareOptions::cache_dir` (the git-ignored `.cache/` by default):
//! `checkpoints/<model>-<key>.safetensors` (+ `.json` with the training summary) and
//! `scores/<model>-<key>.bin`. A checkpoint key covers the data identity, the model configuration, the training
//! settings and seed; a score key adds the evaluation protocol and queries. Data identity: MovieLens, a
//! fingerprint of the interactions; synthetic Criteo, the generator's description and row counts; a real
//! Criteo file, its path, size and modification time plus the row caps.

use super::protocol::{self, EvalQueries, LooTarget};
use super::score_cache::{decode_scores, encode_scores, ScoreCache};
use super::QualityError;
use crate::data::criteo::{eval_windows, load_split_with_progress, SplitCaps};
use crate::data::movielens::{leave_one_out, read_movielens, Interactions, LooSplit};
use crate::data::synthetic::{SyntheticConfig, SyntheticCriteo};
use crate::data::CriteoSamples;
use crate::hash::Fnv1a;
use crate::measure::tables::ModelTables;
use crate::model::{BuildOptions, CountData, Fit, ZooModel};
use crate::spec::{DatasetKind, Protocol, Space, TrainingSpec};
use crate::zoo::checkpoint::{self, cache_key, checkpoint_path};
use crate::zoo::precision::{self, Datatype};
use crate::zoo::train::{self, TrainProgress, TrainSummary};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::nn::VarStore;
use tch::Device;

/// Training rows generated for synthetic Criteo data when `training.train_rows` is unset.
pub const DEFAULT_SYNTHETIC_TRAIN_ROWS: u64 = 500_000;

/// Where caches live and whether to ignore them.
#[derive(Debug, Clone)]
pub struct PrepareOptions {
    /// Root of the model and score caches (`.cache` at the repository root by default).
    pub cache_dir: PathBuf,
    /// Retrain and rescore even when cached files exist (they are overwritten).
    pub retrain: bool,
    /// Receives progress messages (data loading, training epochs, scoring).
    pub progress: std::sync::Arc<dyn crate::progress::Progress>,
    /// Never train or score: a model without intact cached scores is an error
    /// ([`QualityError::NotPrepared`]) that names its cache file (shards of a run, after `prepare`).
    pub offline: bool,
}

impl PrepareOptions {
    /// Caches under `cache_dir`, reused when present, progress reported to `progress`.
    pub fn new(
        cache_dir: impl Into<PathBuf>,
        progress: std::sync::Arc<dyn crate::progress::Progress>,
    ) -> PrepareOptions {
        PrepareOptions { cache_dir: cache_dir.into(), retrain: false, progress, offline: false }
    }
}

/// Zoo indices of every model some pipeline of the space uses, ascending.
pub fn used_models(space: &Space) -> Vec<usize> {
    let set: BTreeSet<usize> = space.pipelines.iter().flat_map(|p| p.models.iter().flatten().copied()).collect();
    set.into_iter().collect()
}

/// The data a space is evaluated on, loaded (one value per `prepare` call, so variant sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum Loaded {
    Movielens { data: Interactions, split: LooSplit, identity: String, file: String },
    Criteo(CriteoData),
}

/// Criteo-shaped data: the test rows are always loaded; training and validation rows on first use.
struct CriteoData {
    identity: String,
    description: String,
    synthetic: Option<SyntheticCriteo>,
    file: Option<PathBuf>,
    caps: SplitCaps,
    table_rows_cap: u64,
    test: CriteoSamples,
    train_valid: Option<(CriteoSamples, CriteoSamples)>,
}

impl CriteoData {
    fn train_valid(&mut self, say: &dyn Fn(&str)) -> Result<&(CriteoSamples, CriteoSamples), QualityError> {
        if self.train_valid.is_none() {
            let (train, valid) = match (&self.synthetic, &self.file) {
                (Some(gen), _) => {
                    let (t, v) = (self.caps.train.unwrap_or(0) as u64, self.caps.validation.unwrap_or(0) as u64);
                    say(&format!("generating {t} training and {v} validation rows ({})", self.description));
                    (gen.rows_parallel(0..t, threads()), gen.rows_parallel(t..t + v, threads()))
                }
                (None, Some(path)) => {
                    let split = read_criteo(path, self.table_rows_cap, self.caps, say)?;
                    (split.train, split.validation)
                }
                (None, None) => unreachable!("Criteo data is synthetic or a file"),
            };
            self.train_valid = Some((train, valid));
        }
        Ok(self.train_valid.as_ref().expect("just loaded"))
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn read_criteo(
    path: &Path,
    cap: u64,
    caps: SplitCaps,
    say: &dyn Fn(&str),
) -> Result<crate::data::criteo::CriteoSplit, QualityError> {
    say(&format!("reading {} (tables capped at {cap} rows)", path.display()));
    load_split_with_progress(path, Some(cap), caps, &mut |p| {
        say(&format!("  {} of {} rows read", p.rows, p.total_rows));
    })
    .map_err(|e| QualityError::Data(e.to_string()))
}

fn load(space: &Space, say: &dyn Fn(&str)) -> Result<Loaded, QualityError> {
    let ds = &space.dataset;
    let t = &space.training;
    match ds.kind {
        DatasetKind::Movielens => {
            let path = Path::new(ds.path.as_deref().unwrap_or("."));
            let data = read_movielens(path).map_err(|e| QualityError::Data(e.to_string()))?;
            let split = leave_one_out(&data);
            let identity = format!("movielens:{:016x}", data.fingerprint());
            Ok(Loaded::Movielens { data, split, identity, file: path.display().to_string() })
        }
        DatasetKind::CriteoKaggle => {
            let candidates = ds.candidates_per_query.unwrap_or(1) as usize;
            let test_rows = candidates * ds.eval_queries as usize;
            let caps = SplitCaps {
                train: Some(t.train_rows.unwrap_or(u64::MAX).min(usize::MAX as u64) as usize),
                validation: Some(t.validation_rows as usize),
                test: Some(test_rows),
            };
            let cap = ds.max_ind_range.map_or(t.table_rows_cap, |m| m.min(t.table_rows_cap));
            if ds.is_synthetic() {
                let train = t.train_rows.unwrap_or(DEFAULT_SYNTHETIC_TRAIN_ROWS);
                let caps = SplitCaps { train: Some(train as usize), ..caps };
                let gen = SyntheticCriteo::new(SyntheticConfig::for_dataset(ds, Some(cap)));
                let description = gen.describe();
                let start = train + t.validation_rows;
                say(&format!("generating {test_rows} held-out rows ({description})"));
                let test = gen.rows_parallel(start..start + test_rows as u64, threads());
                // The held-out rows' fingerprint changes whenever the generator's output does.
                let identity = format!(
                    "synthetic:{description}:train={train}:valid={}:test={test_rows}:cap={cap}:rows={:016x}",
                    t.validation_rows,
                    samples_fingerprint(&test)
                );
                Ok(Loaded::Criteo(CriteoData {
                    identity,
                    description,
                    synthetic: Some(gen),
                    file: None,
                    caps,
                    table_rows_cap: cap,
                    test,
                    train_valid: None,
                }))
            } else {
                let path = PathBuf::from(ds.path.as_deref().unwrap_or("train.txt"));
                let meta =
                    std::fs::metadata(&path).map_err(|e| QualityError::Data(format!("{}: {e}", path.display())))?;
                let mtime = meta.modified().ok().and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok());
                let identity = format!(
                    "criteo-file:{}:{}:{:?}:{caps:?}:cap={cap}",
                    path.display(),
                    meta.len(),
                    mtime.map(|d| d.as_nanos())
                );
                let split = read_criteo(&path, cap, caps, say)?;
                Ok(Loaded::Criteo(CriteoData {
                    identity,
                    description: format!("Criteo Kaggle {} (tables capped at {cap} rows)", path.display()),
                    synthetic: None,
                    file: Some(path),
                    caps,
                    table_rows_cap: cap,
                    test: split.test,
                    train_valid: Some((split.train, split.validation)),
                }))
            }
        }
    }
}

/// FNV-1a-64 of every value of `samples` (features, ids, labels, table sizes).
fn samples_fingerprint(samples: &CriteoSamples) -> u64 {
    let mut h = Fnv1a::new();
    samples.dense.iter().for_each(|x| h.write_u64_le(u64::from(x.to_bits())));
    samples.sparse.iter().for_each(|&x| h.write_u64_le(u64::from(x)));
    samples.labels.iter().for_each(|x| h.write_u64_le(u64::from(x.to_bits())));
    samples.table_rows.iter().for_each(|&x| h.write_u64_le(x));
    h.finish()
}

/// Evaluation queries and their description.
fn queries(space: &Space, loaded: &Loaded) -> Result<(EvalQueries, String), QualityError> {
    let ds = &space.dataset;
    match loaded {
        Loaded::Movielens { data, split, file, .. } => {
            let n = ds.eval_queries as usize;
            let (q, name) = match ds.protocol {
                Protocol::LooSampled { negatives } => {
                    (protocol::loo_sampled(split, negatives as usize, n, ds.seed), format!("loo-sampled-{negatives}"))
                }
                _ => (protocol::loo_full(split, LooTarget::Test, n, ds.seed), "loo-full".to_string()),
            };
            let text = format!(
                "MovieLens {file} ({} users, {} items, {} interactions, implicit feedback), protocol {name}, \
                 {} queries, seed {}",
                data.user_count(),
                data.item_count(),
                data.len(),
                q.len(),
                ds.seed
            );
            Ok((q, text))
        }
        Loaded::Criteo(c) => {
            let candidates = ds.candidates_per_query.unwrap_or(1) as usize;
            let windows = eval_windows(c.test.len(), candidates, ds.eval_queries as usize)
                .map_err(|e| QualityError::Data(e.to_string()))?;
            let q = protocol::windows(&c.test.labels, windows.iter().map(|w| w.rows().collect::<Vec<_>>()));
            let text = format!(
                "{}, protocol window ({} queries × {candidates} held-out impressions, click rate {:.4}), seed {}",
                c.description,
                q.len(),
                c.test.click_rate(),
                ds.seed
            );
            Ok((q, text))
        }
    }
}

fn training_json(t: &TrainingSpec) -> String {
    serde_json::to_string(t).expect("training settings serialise")
}

/// The score-cache key of a model: its checkpoint key and the queries, plus the datatype when it is not fp32
/// (fp32 scores are the trained model's, keyed as before datatypes existed).
fn score_key(model: &ZooModel, model_key: &str, queries_id: &str) -> String {
    match model.compute_datatype() {
        Datatype::Fp32 => cache_key(&[model_key, queries_id]),
        other => cache_key(&[model_key, queries_id, &format!("datatype={}", other.name())]),
    }
}

/// Train or load every used model, score every candidate once per model (cached), and return the cache.
pub fn prepare(space: &Space, opts: &PrepareOptions) -> Result<ScoreCache, QualityError> {
    prepare_models(space, &used_models(space), opts)
}

/// [`prepare`] for the zoo models `models` only (zoo indices); other models stay unscored.
pub fn prepare_models(space: &Space, models: &[usize], opts: &PrepareOptions) -> Result<ScoreCache, QualityError> {
    let progress = std::sync::Arc::clone(&opts.progress);
    let say = move |msg: &str| progress.message(msg);
    let mut loaded = load(space, &say)?;
    let (queries, description) = queries(space, &loaded)?;
    let queries_id = format!("{description}:{:?}", queries.offsets.len());
    let names = space.zoo.iter().map(|m| m.name.clone()).collect();
    let mut cache = ScoreCache::new(queries, names, space.top_k, space.dataset.is_synthetic(), description);
    let data_id = match &loaded {
        Loaded::Movielens { identity, .. } => identity.clone(),
        Loaded::Criteo(c) => c.identity.clone(),
    };
    let paths = |m: usize| {
        let model = &space.zoo[m];
        let learned = model.arch.fit() == Fit::Gradient;
        let training = if learned { training_json(&space.training) } else { String::new() };
        let model_key = cache_key(&[&data_id, &model.arch.cache_json(), &training]);
        let score_key = score_key(model, &model_key, &queries_id);
        let scores_path = opts.cache_dir.join("scores").join(format!("{}-{score_key}.bin", model.name));
        (scores_path, checkpoint_path(&opts.cache_dir, &model.trained_as, &model_key))
    };
    for sub in ["checkpoints", "scores"] {
        crate::durable::remove_stale_temps(&opts.cache_dir.join(sub));
    }
    // Every model's cache paths and cached scores, read once.
    let planned: Vec<(usize, PathBuf, PathBuf, Option<Vec<f32>>)> = models
        .iter()
        .map(|&m| {
            let (scores_path, ckpt) = paths(m);
            let cached =
                if opts.retrain { None } else { read_scores(&scores_path, cache.queries().candidates(), &say) };
            (m, scores_path, ckpt, cached)
        })
        .collect();
    if opts.offline {
        let unscored: Vec<String> = planned
            .iter()
            .filter(|(_, _, _, cached)| cached.is_none())
            .map(|(m, scores_path, _, _)| format!("{} ({})", space.zoo[*m].name, scores_path.display()))
            .collect();
        if !unscored.is_empty() {
            return Err(QualityError::NotPrepared(format!(
                "no cached scores for {} under {}",
                unscored.join(", "),
                opts.cache_dir.display()
            )));
        }
    }
    // Checkpoints that some unscored model needs and nobody has trained yet, each once.
    let mut missing: Vec<(usize, PathBuf)> = Vec::new();
    for (m, _, ckpt, cached) in &planned {
        let learned = space.zoo[*m].arch.fit() == Fit::Gradient;
        let needed = learned && cached.is_none() && missing.iter().all(|(_, c)| c != ckpt);
        if needed && (opts.retrain || !trained_intact(ckpt, &say)) {
            missing.push((*m, ckpt.clone()));
        }
    }
    let fresh = train_in_parallel(space, &missing, &mut loaded, &say)?;
    for (m, scores_path, ckpt, cached) in planned {
        let model = &space.zoo[m];
        let learned = model.arch.fit() == Fit::Gradient;
        let scores = match cached {
            Some(s) => {
                say(&format!("{}: cached scores {}", model.name, scores_path.display()));
                s
            }
            None => {
                let retrain = opts.retrain && !fresh.contains(&ckpt);
                let s = score_model(space, model, &mut loaded, cache.queries(), &ckpt, retrain, &say)?;
                write_sealed(&scores_path, &encode_scores(&s))?;
                s
            }
        };
        cache.set_scores(m, scores);
        if let Some(summary) = read_summary(&ckpt) {
            cache.set_model_metric(m, &format!("valid_{}", summary.metric_name), summary.best_metric);
            cache.set_model_metric(m, "epochs", f64::from(summary.epochs_run));
            cache.set_model_metric(m, "best_epoch", f64::from(summary.best_epoch));
            cache.set_model_metric(m, "train_s", summary.train_s);
        }
        if let Loaded::Criteo(_) = loaded {
            add_classification_metrics(&mut cache, m, !learned);
        }
    }
    Ok(cache)
}

/// Test AUC, log-loss and RecPipe's error rate of a Criteo model over the distinct held-out rows of the queries; `probabilities`
/// when the scores are click probabilities already (popularity), else logits.
fn add_classification_metrics(cache: &mut ScoreCache, m: usize, probabilities: bool) {
    let Some(scores) = cache.scores(m) else { return };
    let super::protocol::CandidateRefs::Rows(rows) = &cache.queries().refs else { return };
    let mut seen = std::collections::HashSet::new();
    let (mut s, mut y) = (Vec::new(), Vec::new());
    for (j, &r) in rows.iter().enumerate() {
        if seen.insert(r) {
            s.push(scores[j]);
            y.push(cache.queries().labels[j]);
        }
    }
    let probs: Vec<f32> =
        if probabilities { s.clone() } else { s.iter().map(|&x| super::metrics::sigmoid(x)).collect() };
    if let Some(a) = super::metrics::auc(&s, &y) {
        cache.set_model_metric(m, "auc", a);
    }
    cache.set_model_metric(m, "log_loss", super::metrics::log_loss(&probs, &y));
    cache.set_model_metric(m, "error", super::metrics::error_rate(&probs, &y));
}

/// Cached scores at `path` when present, intact and of the expected length; a damaged file is reported
/// through `say` (and rescored).
fn read_scores(path: &Path, expected: usize, say: &dyn Fn(&str)) -> Option<Vec<f32>> {
    match crate::durable::read_sealed(path) {
        Ok(bytes) => decode_scores(&bytes?, expected),
        Err(e) => {
            say(&format!("{e}: rescoring"));
            None
        }
    }
}

/// Whether the sealed cache file at `path` is present and intact; a damaged one is reported through `say`
/// (and retrained).
fn sealed_intact(path: &Path, say: &dyn Fn(&str)) -> bool {
    match crate::durable::read_sealed(path) {
        Ok(found) => found.is_some(),
        Err(e) => {
            say(&format!("{e}: retraining"));
            false
        }
    }
}

/// Whether the checkpoint at `ckpt` and its training summary are both present and intact.
fn trained_intact(ckpt: &Path, say: &dyn Fn(&str)) -> bool {
    sealed_intact(ckpt, say) && summary_intact(ckpt, say)
}

/// Whether the training summary of `ckpt` is present and intact.
fn summary_intact(ckpt: &Path, say: &dyn Fn(&str)) -> bool {
    sealed_intact(&summary_path(ckpt), say)
}

/// Load the checkpoint at `ckpt` into `vs` when it is present and intact; a damaged one is reported through
/// `say` (and retrained).
fn checkpoint_loaded(vs: &mut VarStore, ckpt: &Path, say: &dyn Fn(&str)) -> Result<bool, QualityError> {
    Ok(match checkpoint::load_if_present(vs, ckpt)? {
        checkpoint::Loaded::Loaded => true,
        checkpoint::Loaded::Absent => false,
        checkpoint::Loaded::Corrupt(e) => {
            say(&format!("{e}: retraining"));
            false
        }
    })
}

fn summary_path(ckpt: &Path) -> PathBuf {
    ckpt.with_extension("json")
}

fn read_summary(ckpt: &Path) -> Option<TrainSummary> {
    let bytes = crate::durable::read_sealed(&summary_path(ckpt)).ok()??;
    let text = String::from_utf8(bytes).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(TrainSummary {
        epochs_run: v.get("epochs_run")?.as_u64()? as u32,
        best_epoch: v.get("best_epoch")?.as_u64()? as u32,
        best_metric: v.get("best_metric")?.as_f64()?,
        metric_name: v.get("metric_name")?.as_str()?.to_string(),
        train_s: v.get("train_s")?.as_f64()?,
    })
}

/// Write cache file `path` with its seal ([`crate::durable::write_sealed`]).
fn write_sealed(path: &Path, bytes: &[u8]) -> Result<(), QualityError> {
    crate::durable::write_sealed(path, bytes)
        .map_err(|source| QualityError::Io { path: path.display().to_string(), source })
}

/// A progress printer for training epochs.
fn epoch_printer<'a>(name: &'a str, say: &'a dyn Fn(&str)) -> impl FnMut(&TrainProgress) + 'a {
    let mut last_s = 0.0;
    move |p: &TrainProgress| {
        let best = p.best.map_or(String::new(), |(b, e)| format!(", best {b:.4} @ epoch {e}"));
        match p.metric {
            Some(v) => say(&format!(
                "{name}: epoch {}/{} loss {:.4} valid {} {v:.4}{best} [{:.1} s]",
                p.epoch, p.epochs, p.loss, p.metric_name, p.elapsed_s
            )),
            None if p.elapsed_s - last_s >= 5.0 => {
                last_s = p.elapsed_s;
                say(&format!(
                    "{name}: epoch {}/{} step {}/{} loss {:.4} [{:.1} s]",
                    p.epoch, p.epochs, p.step, p.steps, p.loss, p.elapsed_s
                ))
            }
            None => {}
        }
    }
}

/// The tables a learned model of this data is built on, and how it is built for training: the space's
/// dropout, and sparse embedding gradients for SGD on Criteo-shaped rows.
fn training_network(loaded: &Loaded, t: &TrainingSpec) -> (ModelTables, BuildOptions) {
    match loaded {
        Loaded::Movielens { split, .. } => (
            ModelTables::MovieLens { users: split.users as u64, items: split.items as u64 },
            BuildOptions { dropout: t.dropout, sparse_gradients: false },
        ),
        Loaded::Criteo(c) => (
            ModelTables::Criteo { rows: c.test.table_rows },
            BuildOptions { dropout: t.dropout, sparse_gradients: true },
        ),
    }
}

/// MovieLens: the validation queries early stopping ranks (full ranking of each user's validation item);
/// Criteo-shaped data validates on its own rows.
fn validation_queries(space: &Space, loaded: &Loaded) -> Option<EvalQueries> {
    match loaded {
        Loaded::Movielens { split, .. } => {
            Some(protocol::loo_full(split, LooTarget::Validation, usize::MAX, space.dataset.seed))
        }
        Loaded::Criteo(_) => None,
    }
}

/// Train `net` (variables in `vs`) with its data kind's trainer. Criteo training rows must have been loaded
/// (`CriteoData::train_valid`); MovieLens needs its `valid` queries.
fn train_network(
    vs: &VarStore,
    net: &dyn crate::model::Net,
    loaded: &Loaded,
    valid: Option<&EvalQueries>,
    t: &TrainingSpec,
    progress: &mut dyn FnMut(&TrainProgress),
) -> TrainSummary {
    match loaded {
        Loaded::Movielens { split, .. } => {
            let valid = valid.expect("MovieLens training validates on its queries");
            train::train_pairs(vs, net, split, valid, t, progress)
        }
        Loaded::Criteo(c) => {
            let (train_rows, valid_rows) = c.train_valid.as_ref().expect("training rows are loaded first");
            train::train_rows(vs, net, train_rows, valid_rows, t, progress)
        }
    }
}

/// Logits of `net` for every candidate of `queries`.
fn score_candidates(net: &dyn crate::model::Net, loaded: &Loaded, queries: &EvalQueries) -> Vec<f32> {
    match (&queries.refs, loaded) {
        (super::protocol::CandidateRefs::UserItem { items, .. }, _) => {
            let users = queries.candidate_users().expect("user/item candidates");
            train::score_pairs(net, &users, items)
        }
        (super::protocol::CandidateRefs::Rows(rows), Loaded::Criteo(c)) => {
            let rows: Vec<usize> = rows.iter().map(|&r| r as usize).collect();
            train::score_rows(net, &c.test, &rows)
        }
        (super::protocol::CandidateRefs::Rows(_), Loaded::Movielens { .. }) => {
            unreachable!("MovieLens queries have user/item candidates")
        }
    }
}

/// Train the checkpoints `missing` (zoo index of a model that needs it, checkpoint path) several at a time, one
/// per core, when that gives the same weights as training them one after another: every network is built in
/// turn from the seeded global generator (as the one-at-a-time path does), and training itself must not draw
/// from that generator, which holds when there is no dropout (the Criteo default; MovieLens trains with
/// dropout and stays sequential). Returns the checkpoints written.
fn train_in_parallel(
    space: &Space,
    missing: &[(usize, PathBuf)],
    loaded: &mut Loaded,
    say: &(dyn Fn(&str) + Sync),
) -> Result<HashSet<PathBuf>, QualityError> {
    let t = &space.training;
    if missing.len() < 2 || threads() < 2 || t.dropout > 0.0 {
        return Ok(HashSet::new());
    }
    if let Loaded::Criteo(c) = loaded {
        c.train_valid(say)?;
    }
    let (tables, options) = training_network(loaded, t);
    let mut built = Vec::new();
    for (m, ckpt) in missing {
        let model = &space.zoo[*m];
        tch::manual_seed(t.seed as i64);
        let vs = VarStore::new(Device::Cpu);
        match model.arch.build(&vs.root(), &tables, options) {
            Some(net) => built.push((vs, net, model.trained_as.clone(), ckpt.clone())),
            None => return Ok(HashSet::new()),
        }
    }
    say(&format!("training {} models, up to {} at a time", built.len(), threads().min(built.len())));
    let valid = validation_queries(space, loaded);
    let loaded = &*loaded;
    let trained: Vec<Result<PathBuf, QualityError>> = built
        .into_par_iter()
        .map(|(vs, net, name, ckpt)| {
            let summary = train_network(&vs, net.as_ref(), loaded, valid.as_ref(), t, &mut epoch_printer(&name, say));
            save_checkpoint(&vs, &ckpt, &summary)?;
            Ok(ckpt)
        })
        .collect();
    trained.into_iter().collect()
}

/// Scores of every candidate by one model, training or loading it first.
fn score_model(
    space: &Space,
    model: &ZooModel,
    loaded: &mut Loaded,
    queries: &EvalQueries,
    ckpt: &Path,
    retrain: bool,
    say: &dyn Fn(&str),
) -> Result<Vec<f32>, QualityError> {
    let t = &space.training;
    let start = Instant::now();
    let kind = space.dataset.kind;
    if !model.arch.serves(kind) {
        return Err(QualityError::Unsupported(format!(
            "model '{}' ({}) does not fit the data set {kind}",
            model.name,
            model.arch.family()
        )));
    }
    let unsupported =
        || QualityError::Unsupported(format!("model '{}' has no network on the data set {kind}", model.name));
    let scores = match (model.arch.fit(), loaded) {
        (Fit::Counts, Loaded::Movielens { split, .. }) => {
            let super::protocol::CandidateRefs::UserItem { items, .. } = &queries.refs else { unreachable!() };
            let data = CountData::Movielens { item_train_counts: split.item_train_counts(), items };
            model.arch.count_scores(&data).ok_or_else(unsupported)?
        }
        (Fit::Counts, Loaded::Criteo(c)) => {
            let super::protocol::CandidateRefs::Rows(rows) = &queries.refs else { unreachable!() };
            let rows: Vec<usize> = rows.iter().map(|&r| r as usize).collect();
            c.train_valid(say)?;
            let (train, _) = c.train_valid.as_ref().expect("loaded above");
            let data = CountData::Criteo { train, test: &c.test, rows: &rows };
            model.arch.count_scores(&data).ok_or_else(unsupported)?
        }
        (Fit::Gradient, loaded) => {
            let (tables, options) = training_network(loaded, t);
            tch::manual_seed(t.seed as i64);
            let mut vs = VarStore::new(Device::Cpu);
            let net = model.arch.build(&vs.root(), &tables, options).ok_or_else(unsupported)?;
            // The checkpoint's seal is checked once, by the load itself.
            let reused = !retrain && summary_intact(ckpt, say) && checkpoint_loaded(&mut vs, ckpt, say)?;
            if !reused {
                let what = match loaded {
                    Loaded::Movielens { split, .. } => format!(
                        "training ({} interactions, {} users, {} items)",
                        split.train.len(),
                        split.users,
                        split.items
                    ),
                    Loaded::Criteo(c) => format!("training on {} rows", c.train_valid(say)?.0.len()),
                };
                say(&format!("{}: {what}", model.trained_as));
                let valid = validation_queries(space, loaded);
                let mut printer = epoch_printer(&model.trained_as, say);
                let summary = train_network(&vs, net.as_ref(), loaded, valid.as_ref(), t, &mut printer);
                save_checkpoint(&vs, ckpt, &summary)?;
            } else {
                say(&format!("{}: checkpoint {}", model.name, ckpt.display()));
            }
            let net = precision::convert(&mut vs, net, model.compute_datatype());
            score_candidates(net.as_ref(), loaded, queries)
        }
    };
    say(&format!(
        "{}: ready ({} candidates scored) after {:.1} s",
        model.name,
        scores.len(),
        start.elapsed().as_secs_f64()
    ));
    Ok(scores)
}

fn save_checkpoint(vs: &VarStore, ckpt: &Path, summary: &TrainSummary) -> Result<(), QualityError> {
    checkpoint::save(vs, ckpt)?;
    let json = serde_json::to_string_pretty(summary).expect("summaries serialise");
    write_sealed(&summary_path(ckpt), json.as_bytes())
}
