//! Integration tests of quality: cascades re-ranked from the score cache equal running the cascade's models
//! directly (tiny DLRMs on tiny synthetic Criteo data, tiny NeuMFs on a tiny MovieLens-format file), and
//! `prepare` trains, caches and reuses on a tiny space.
use crate::support;
use recpipe_dse::data::movielens::{leave_one_out, parse_movielens, MovielensFormat};
use recpipe_dse::data::synthetic::{SyntheticConfig, SyntheticCriteo};
use recpipe_dse::model::dlrm::{Dlrm, DlrmArch, Interaction};
use recpipe_dse::model::neumf::{NeuMf, NeuMfArch};
use recpipe_dse::quality::metrics::ranking_metrics_all_k;
use recpipe_dse::quality::protocol::{self, CandidateRefs, EvalQueries, LooTarget};
use recpipe_dse::quality::{self, PrepareOptions, ScoreCache};
use recpipe_dse::spec::{self, TrainingSpec};
use recpipe_dse::zoo::tensor::criteo_batch;
use recpipe_dse::zoo::train::{score_pairs, score_rows, train_pairs, train_rows};
use std::path::PathBuf;
use tch::nn::VarStore;
use tch::{Device, Tensor};

fn settings(batch: u32, lr: f64, epochs: u32) -> TrainingSpec {
    TrainingSpec {
        epochs,
        batch_size: batch,
        learning_rate: lr,
        patience: 2,
        negatives: 1,
        dropout: 0.1,
        train_rows: None,
        validation_rows: 0,
        table_rows_cap: 50,
        seed: 1,
    }
}

fn dlrm_arch(d: u32) -> DlrmArch {
    DlrmArch { embedding_dim: d, bottom_mlp: vec![13, 16, d], top_mlp: vec![8, 1], interaction: Interaction::Dot }
}

/// Sort `ids` by `scores` (descending, ties by position) and keep `keep`.
fn rank(ids: &mut Vec<u32>, scores: &[f32], keep: usize) {
    let mut pairs: Vec<(f32, u32)> = scores.iter().copied().zip(ids.iter().copied()).collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    pairs.truncate(keep);
    *ids = pairs.into_iter().map(|p| p.1).collect();
}

/// Runs a cascade directly: each stage's model scores only the candidates it receives.
fn direct_cascade(
    queries: &EvalQueries,
    stages: &[(usize, u32)],
    top_k: u32,
    mut score: impl FnMut(usize, usize, &[u32]) -> Vec<f32>,
) -> (Vec<Vec<u32>>, Vec<f64>) {
    let mut rankings = Vec::new();
    let mut ndcg_sum = vec![0.0; top_k as usize];
    for q in 0..queries.len() {
        let r = queries.range(q);
        let mut ids: Vec<u32> = (0..(stages[0].1 as usize).min(r.len()) as u32).collect();
        for (s, &(model, _)) in stages.iter().enumerate() {
            let scores = score(model, q, &ids);
            let keep = stages.get(s + 1).map_or(top_k, |n| n.1) as usize;
            rank(&mut ids, &scores, keep);
        }
        let labels: Vec<u8> = ids.iter().map(|&i| queries.labels[r.start + i as usize]).collect();
        let [_, ndcg, _] = ranking_metrics_all_k(&labels, queries.relevant(q), top_k as usize);
        for (a, b) in ndcg_sum.iter_mut().zip(ndcg) {
            *a += b;
        }
        rankings.push(ids);
    }
    (rankings, ndcg_sum.iter().map(|s| s / queries.len() as f64).collect())
}

fn assert_cache_matches_direct(cache: &ScoreCache, stages: &[(usize, u32)], direct: (Vec<Vec<u32>>, Vec<f64>)) {
    let (rankings, ndcg) = direct;
    for (q, expected) in rankings.iter().enumerate() {
        assert_eq!(&cache.ranking(stages, q), expected, "query {q}, cascade {stages:?}");
    }
    let from_cache = cache.cascade(stages);
    for (k, expected) in ndcg.iter().enumerate() {
        let got = from_cache.metrics[&format!("ndcg@{}", k + 1)];
        assert!((got - expected).abs() < 1e-12, "ndcg@{}: cache {got} vs direct {expected}", k + 1);
    }
}

#[test]
fn criteo_cascade_from_cache_equals_running_the_models_directly() {
    tch::manual_seed(7);
    let gen = SyntheticCriteo::new(SyntheticConfig { calibration_rows: 2000, ..SyntheticConfig::new(3, Some(50)) });
    let train = gen.rows(0..3000);
    let valid = gen.rows(3000..3500);
    let test = gen.rows(3500..3500 + 4 * 96);
    let windows = (0..4).map(|q| (q * 96..(q + 1) * 96).collect::<Vec<usize>>());
    let queries = protocol::windows(&test.labels, windows);
    let mut models = Vec::new();
    for d in [2u32, 8] {
        let vs = VarStore::new(Device::Cpu);
        let net = Dlrm::new(&vs.root(), &dlrm_arch(d), &train.table_rows, true);
        train_rows(&vs, &net, &train, &valid, &settings(64, 0.1, 1), &mut |_| {});
        models.push((vs, net));
    }
    let CandidateRefs::Rows(rows) = &queries.refs else { panic!("window queries") };
    let rows: Vec<usize> = rows.iter().map(|&r| r as usize).collect();
    let mut cache = ScoreCache::new(queries.clone(), vec!["d2".into(), "d8".into()], 16, true, "tiny".into());
    for (m, (_, net)) in models.iter().enumerate() {
        cache.set_scores(m, score_rows(net, &test, &rows));
    }
    let direct_score = |m: usize, q: usize, ids: &[u32]| -> Vec<f32> {
        let r: Vec<usize> = ids.iter().map(|&i| rows[queries.range(q).start + i as usize]).collect();
        let b = criteo_batch(&test, &r, Device::Cpu);
        let logits = tch::no_grad(|| models[m].1.forward(&b.dense, &b.sparse));
        Vec::<f32>::try_from(logits).unwrap()
    };
    for stages in [vec![(1, 96)], vec![(0, 96), (1, 32)], vec![(0, 80), (1, 40), (0, 20)], vec![(1, 64), (0, 16)]] {
        let direct = direct_cascade(&queries, &stages, 16, direct_score);
        assert_cache_matches_direct(&cache, &stages, direct);
    }
}

#[test]
fn movielens_cascade_from_cache_equals_running_the_models_directly() {
    tch::manual_seed(11);
    let data = parse_movielens(&support::tiny_movielens(), MovielensFormat::RecboleAtomic, "tiny.inter").unwrap();
    let split = leave_one_out(&data);
    let valid = protocol::loo_full(&split, LooTarget::Validation, usize::MAX, 5);
    let queries = protocol::loo_full(&split, LooTarget::Test, usize::MAX, 5);
    let arch = |d: u32| NeuMfArch { mf_dim: d, mlp_embedding_dim: d, mlp_layers: vec![2 * d, d] };
    let mut models = Vec::new();
    for d in [2u32, 8] {
        let vs = VarStore::new(Device::Cpu);
        let net = NeuMf::new(&vs.root(), &arch(d), split.users as i64, split.items as i64, 0.1);
        let summary = train_pairs(&vs, &net, &split, &valid, &settings(64, 0.01, 3), &mut |_| {});
        assert!(summary.best_epoch >= 1 && summary.epochs_run <= 3);
        models.push((vs, net));
    }
    let CandidateRefs::UserItem { query_users, items } = &queries.refs else { panic!("loo queries") };
    let users = queries.candidate_users().unwrap();
    let mut cache = ScoreCache::new(queries.clone(), vec!["d2".into(), "d8".into()], 5, false, "tiny".into());
    for (m, (_, net)) in models.iter().enumerate() {
        cache.set_scores(m, score_pairs(net, &users, items));
    }
    let direct_score = |m: usize, q: usize, ids: &[u32]| -> Vec<f32> {
        let it: Vec<i64> = ids.iter().map(|&i| i64::from(items[queries.range(q).start + i as usize])).collect();
        let us = vec![i64::from(query_users[q]); ids.len()];
        let logits = tch::no_grad(|| models[m].1.forward_t(&Tensor::from_slice(&us), &Tensor::from_slice(&it), false));
        Vec::<f32>::try_from(logits).unwrap()
    };
    for stages in [vec![(1, 30)], vec![(0, 30), (1, 10)], vec![(0, 12), (1, 6)]] {
        let direct = direct_cascade(&queries, &stages, 5, direct_score);
        assert_cache_matches_direct(&cache, &stages, direct);
    }
}

const TINY_SPACE: &str = "\
name: tiny-quality
seed: 3
dataset:
  kind: criteo-kaggle
  synthetic_fallback: true
  eval_queries: 3
  candidates_per_query: 128
models:
  - { name: pop, preset: popularity }
  - name: d2
    dlrm: { embedding_dim: 2, bottom_mlp: [13, 8, 2], top_mlp: [8, 1] }
  - name: d4
    dlrm: { embedding_dim: 4, bottom_mlp: [13, 8, 4], top_mlp: [8, 1] }
quality:
  top_k: 16
training:
  batch_size: 64
  train_rows: 2000
  validation_rows: 400
  table_rows_cap: 40
pipelines:
  - stages: 1
    models: [[d2, d4]]
    items: [[128]]
    backends: [[cpu]]
  - stages: 2
    models: [[pop, d2], [d4]]
    items: [[128, 32], [96, 16]]
    backends: [[cpu, cpu]]
hardware:
  cpu:
    engines: [2]
load:
  qps: [100]
sla:
  target_ms: 25
objectives:
  - { metric: ndcg@16, direction: maximize }
  - { metric: p95_ms, direction: minimize }
";

#[test]
fn prepare_trains_caches_and_reuses_on_a_tiny_space() {
    let space = spec::parse_space(TINY_SPACE, "tiny.yaml", &crate::support::repo()).unwrap();
    assert_eq!(space.training.train_rows, Some(2000));
    let dir = std::env::temp_dir().join(format!("rpdse-quality-it-{}", std::process::id()));
    let opts = PrepareOptions::new(dir.clone(), recpipe_dse::progress::quiet());
    let first = quality::prepare(&space, &opts).unwrap();
    assert!(first.is_synthetic());
    assert!(first.describe().contains("synthetic"), "{}", first.describe());
    let cascades = quality::cascades(&space);
    assert_eq!(cascades.len(), 2 + 2 * 2);
    for c in &cascades {
        let q = first.cascade(c);
        assert_eq!(q.metrics.len(), 3 * 16);
        assert!(q.metrics.values().all(|v| (0.0..=1.0).contains(v)), "{c:?}: {q:?}");
    }
    for m in 1..3 {
        let auc = first.model_metrics(m)["auc"];
        assert!(auc > 0.5 && auc < 1.0, "model {m} auc {auc}");
    }
    let checkpoints = cache_files(&dir.join("checkpoints"));
    assert_eq!(checkpoints, 4, "two safetensors files and two training summaries (each with its seal)");
    // A second run reads every score from the cache and gives identical quality.
    let second = quality::prepare(&space, &opts).unwrap();
    for c in &cascades {
        assert_eq!(first.cascade(c), second.cascade(c));
    }
    // Other training settings miss the cache.
    let mut other = space.clone();
    other.training.seed = 4;
    let third = quality::prepare(&other, &opts).unwrap();
    assert_ne!(third.scores(1), first.scores(1));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parallel_training_gives_the_weights_of_one_at_a_time_training_and_datatypes_share_a_checkpoint() {
    let text = TINY_SPACE.replace("  - name: d4\n    dlrm:", "  - name: d4\n    datatypes: [fp32, int8]\n    dlrm:");
    let space = spec::parse_space(&text, "tiny.yaml", &crate::support::repo()).unwrap();
    let names: Vec<&str> = space.zoo.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["pop", "d2", "d4-fp32", "d4-int8"]);
    let base = std::env::temp_dir().join(format!("rpdse-parallel-it-{}", std::process::id()));
    let opts = |sub: &str| PrepareOptions::new(base.join(sub), recpipe_dse::progress::quiet());
    // d2 and d4 are missing together: trained side by side.
    let together = quality::prepare(&space, &opts("together")).unwrap();
    let checkpoints = cache_files(&base.join("together/checkpoints"));
    assert_eq!(checkpoints, 4, "d4's datatypes share one trained checkpoint (and its summary)");
    for m in 1..4 {
        // One model per call: a single missing checkpoint, trained alone.
        let alone = quality::prepare_models(&space, &[m], &opts(&format!("alone-{m}"))).unwrap();
        assert_eq!(alone.scores(m), together.scores(m), "{}", space.zoo[m].name);
    }
    let (fp32, int8) = (together.scores(2).unwrap(), together.scores(3).unwrap());
    assert_ne!(fp32, int8, "int8 scores come from the quantized network");
    let worst = fp32.iter().zip(int8).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 0.1, "int8 logits stay close to fp32: {worst}");
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_folder_without_interaction_files_is_reported_by_name() {
    let err = recpipe_dse::data::movielens::read_movielens(&PathBuf::from("tests")).unwrap_err();
    assert!(err.to_string().starts_with("tests: no MovieLens interaction file found"), "{err}");
}

#[test]
fn training_section_defaults_by_data_kind_and_reports_bad_values() {
    let root = crate::support::repo();
    let no_training = TINY_SPACE
        .replace("training:\n  batch_size: 64\n  train_rows: 2000\n  validation_rows: 400\n  table_rows_cap: 40\n", "");
    let space = spec::parse_space(&no_training, "t.yaml", &root).unwrap();
    assert_eq!((space.training.epochs, space.training.batch_size, space.training.patience), (5, 128, 1));
    assert_eq!((space.training.train_rows, space.training.table_rows_cap), (Some(500_000), 100_000));
    assert_eq!(space.training.seed, 3, "defaults to the top-level seed");
    let movielens = std::fs::read_to_string(root.join("spaces/movielens.yaml")).unwrap();
    let space = spec::parse_space(&movielens, "movielens.yaml", &root).unwrap();
    let t = &space.training;
    assert_eq!((t.batch_size, t.negatives, t.patience, t.epochs), (2048, 1, 10, 100));
    assert!((t.learning_rate - 1e-3).abs() < 1e-15 && (t.dropout - 0.1).abs() < 1e-15);
    let bad = TINY_SPACE.replace("  batch_size: 64\n", "  batch_size: 0\n  dropout: 1.5\n  negatives: 2\n");
    let err = spec::parse_space(&bad, "t.yaml", &root).unwrap_err().to_string();
    assert!(err.contains("training.batch_size: must be ≥ 1, got 0"), "{err}");
    assert!(err.contains("training.dropout: must be in [0, 1), got 1.5"), "{err}");
    assert!(err.contains("training.negatives: only allowed for movielens"), "{err}");
    let unknown = TINY_SPACE.replace("  batch_size: 64\n", "  batch: 64\n");
    let err = spec::parse_space(&unknown, "t.yaml", &root).unwrap_err().to_string();
    assert!(err.contains("unknown field `batch`"), "{err}");
}

/// Cache files in `dir`, not counting their seals (`*.check`), each of which is checked to exist.
fn cache_files(dir: &std::path::Path) -> usize {
    let names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let files: Vec<&String> = names.iter().filter(|n| !n.ends_with(".check")).collect();
    for f in &files {
        assert!(names.contains(&format!("{f}.check")), "{f} has no seal");
    }
    files.len()
}
