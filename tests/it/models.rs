//! Model families through the one extension point: every family trains on tiny data in seconds and beats
//! chance, row-wise int8 scoring equals scoring with the dequantized tables, fp16/bf16 scoring stays close to
//! fp32, and every family's parameter count matches the network it builds.
use recpipe_dse::data::movielens::{leave_one_out, parse_movielens, MovielensFormat};
use recpipe_dse::data::synthetic::{SyntheticConfig, SyntheticCriteo};
use recpipe_dse::data::CriteoSamples;
use recpipe_dse::measure::tables::ModelTables;
use recpipe_dse::model::dlrm::{DlrmArch, Interaction};
use recpipe_dse::model::neumf::NeuMfArch;
use recpipe_dse::model::two_tower::TwoTowerArch;
use recpipe_dse::model::{Arch, BuildOptions, Net};
use recpipe_dse::quality::protocol::{self, LooTarget};
use recpipe_dse::spec::TrainingSpec;
use recpipe_dse::zoo::embedding::{Int8Rows, Table};
use recpipe_dse::zoo::precision::{self, Datatype};
use recpipe_dse::zoo::train::{score_pairs, score_rows, train_pairs, train_rows};
use tch::nn::VarStore;
use tch::Device;

fn criteo_settings() -> TrainingSpec {
    TrainingSpec {
        epochs: 2,
        batch_size: 64,
        validation_rows: 500,
        table_rows_cap: 50,
        seed: 3,
        ..TrainingSpec::CRITEO
    }
}

fn movielens_settings() -> TrainingSpec {
    TrainingSpec { epochs: 20, batch_size: 64, learning_rate: 0.01, patience: 20, seed: 3, ..TrainingSpec::MOVIELENS }
}

fn tiny_criteo() -> (CriteoSamples, CriteoSamples, CriteoSamples) {
    let gen = SyntheticCriteo::new(SyntheticConfig { calibration_rows: 2000, ..SyntheticConfig::new(3, Some(50)) });
    (gen.rows(0..4000), gen.rows(4000..4500), gen.rows(4500..5500))
}

fn criteo_families() -> Vec<Arch> {
    vec![
        Arch::new(DlrmArch {
            embedding_dim: 4,
            bottom_mlp: vec![13, 16, 4],
            top_mlp: vec![8, 1],
            interaction: Interaction::Dot,
        }),
        Arch::new(TwoTowerArch { embedding_dim: 4, tower_mlp: vec![16, 8] }),
    ]
}

fn movielens_families() -> Vec<Arch> {
    vec![
        Arch::new(NeuMfArch { mf_dim: 4, mlp_embedding_dim: 4, mlp_layers: vec![8, 4] }),
        Arch::new(TwoTowerArch { embedding_dim: 8, tower_mlp: vec![16, 8] }),
    ]
}

#[test]
fn every_family_trains_on_tiny_criteo_rows_and_beats_chance() {
    let (train, valid, _) = tiny_criteo();
    let tables = ModelTables::Criteo { rows: train.table_rows };
    for arch in criteo_families() {
        tch::manual_seed(5);
        let vs = VarStore::new(Device::Cpu);
        let net = arch.build(&vs.root(), &tables, BuildOptions { dropout: 0.0, sparse_gradients: true }).unwrap();
        let summary = train_rows(&vs, net.as_ref(), &train, &valid, &criteo_settings(), &mut |_| {});
        assert!(summary.best_metric > 0.6, "{}: validation AUC {}", arch.describe(), summary.best_metric);
    }
}

/// Two taste groups: users 0..40 interact with 10 of items 0..20, users 40..80 with 10 of items 20..40.
fn two_group_movielens() -> String {
    let mut text = String::from("user_id:token\titem_id:token\trating:float\ttimestamp:float\n");
    let mut t = 0;
    for u in 0..80u32 {
        let base = if u < 40 { 0 } else { 20 };
        for k in 0..10u32 {
            t += 1;
            text.push_str(&format!("u{u}\ti{}\t4\t{t}\n", base + (u * 3 + k * 7) % 20));
        }
    }
    text
}

#[test]
fn every_family_trains_on_tiny_movielens_pairs_and_beats_chance() {
    let data = parse_movielens(&two_group_movielens(), MovielensFormat::RecboleAtomic, "tiny.inter").unwrap();
    let split = leave_one_out(&data);
    let valid = protocol::loo_full(&split, LooTarget::Validation, usize::MAX, 5);
    let tables = ModelTables::MovieLens { users: split.users as u64, items: split.items as u64 };
    // A random ranking of the ~31 unseen items gives NDCG@10 ≈ 4.5 / 31 ≈ 0.15; a model that learned the
    // groups ranks the held-out item among ~11 items of its group.
    let random: f64 = (0..10).map(|r| 1.0 / ((r + 2) as f64).log2()).sum::<f64>() / 31.0;
    for arch in movielens_families() {
        tch::manual_seed(5);
        let vs = VarStore::new(Device::Cpu);
        let net = arch.build(&vs.root(), &tables, BuildOptions { dropout: 0.0, sparse_gradients: false }).unwrap();
        let summary = train_pairs(&vs, net.as_ref(), &split, &valid, &movielens_settings(), &mut |_| {});
        assert!(
            summary.best_metric > 1.5 * random,
            "{}: validation NDCG@10 {} against {random} at random",
            arch.describe(),
            summary.best_metric
        );
    }
}

/// Replace every float table of `net` by its int8-then-dequantized values (the reference of int8 scoring).
fn dequantize_in_place(net: &mut dyn Net) {
    tch::no_grad(|| {
        for table in net.tables_mut() {
            if let Table::Float(t) = table {
                t.copy_(&Int8Rows::quantize(t).dequantize());
            }
        }
    });
}

#[test]
fn int8_scoring_equals_dequantize_then_score_for_every_family() {
    let (_, _, test) = tiny_criteo();
    let rows: Vec<usize> = (0..test.len()).collect();
    let criteo = ModelTables::Criteo { rows: test.table_rows };
    let movielens = ModelTables::MovieLens { users: 40, items: 30 };
    let users: Vec<u32> = (0..600).map(|i| i % 40).collect();
    let items: Vec<u32> = (0..600).map(|i| (i * 7) % 30).collect();
    let cases = criteo_families()
        .into_iter()
        .map(|a| (a, &criteo))
        .chain(movielens_families().into_iter().map(|a| (a, &movielens)));
    for (arch, tables) in cases {
        let score = |net: &dyn Net| match tables {
            ModelTables::Criteo { .. } => score_rows(net, &test, &rows),
            ModelTables::MovieLens { .. } => score_pairs(net, &users, &items),
        };
        let build = || {
            tch::manual_seed(9);
            let vs = VarStore::new(Device::Cpu);
            let net = arch.build(&vs.root(), tables, BuildOptions::SERVING).unwrap();
            (vs, net)
        };
        let (mut vs, net) = build();
        let quantized = precision::convert(&mut vs, net, Datatype::Int8);
        let (_reference_vs, mut reference) = build();
        dequantize_in_place(reference.as_mut());
        let (q, r) = (score(quantized.as_ref()), score(reference.as_ref()));
        let worst = q.iter().zip(&r).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst <= 1e-6, "{}: int8 scores differ from dequantize-then-score by {worst}", arch.describe());
        // Not trivially equal: quantization moves the scores away from fp32.
        let (_fp32_vs, fp32) = build();
        let f = score(fp32.as_ref());
        assert!(q.iter().zip(&f).any(|(a, b)| (a - b).abs() > 0.0), "{}", arch.describe());
    }
}

#[test]
fn half_precision_scores_stay_close_to_fp32() {
    let (_, _, test) = tiny_criteo();
    let rows: Vec<usize> = (0..200).collect();
    let tables = ModelTables::Criteo { rows: test.table_rows };
    for arch in criteo_families() {
        let mut scores = Vec::new();
        for dt in [Datatype::Fp32, Datatype::Fp16, Datatype::Bf16] {
            tch::manual_seed(9);
            let mut vs = VarStore::new(Device::Cpu);
            let net = arch.build(&vs.root(), &tables, BuildOptions::SERVING).unwrap();
            let net = precision::convert(&mut vs, net, dt);
            scores.push(score_rows(net.as_ref(), &test, &rows));
        }
        for (dt, tolerance, s) in [("fp16", 1e-2f32, &scores[1]), ("bf16", 5e-2, &scores[2])] {
            let worst = s.iter().zip(&scores[0]).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst <= tolerance, "{} {dt}: off fp32 by {worst}", arch.describe());
            assert!(worst > 0.0, "{} {dt}: identical to fp32, so it did not run in {dt}", arch.describe());
        }
    }
}
