//! `import recpipe`: RecPipe experiment configs become spaces that validate, hold RecPipe's designs, and give
//! every accelerator stage the service time the original model and hardware JSONs give through `accel eval`'s
//! path (`ModelShape::load` + `AccelConfig::load` + `evaluate_stage`).
//!
//! The RecPipe checkout is built in a temporary folder: its model and hardware JSONs are the copies under
//! `accel/recpipe2021/`, and the experiment configs are the artifact's accelerator and CPU/GPU grids
//! (`configs/recpipe_configs/*.json`), written out here with the artifact's numbers.
use super::support::bin;
use recpipe_dse::accel::{evaluate_stage, AccelConfig, Dataset, Division, Mode, ModelShape, StageRequest};
use recpipe_dse::cli::import::ImportSummary;
use recpipe_dse::spec::{parse_space, AccelTopN, AccelTransfers, PointId, Space, StageHardware};
use std::path::{Path, PathBuf};

/// The artifact's experiment configs used here: (file stem, JSON text).
fn experiments() -> Vec<(&'static str, String)> {
    let exp = |stages: u32, gaps: &str, models: &str, gpus: &str, accel: Option<&str>, items: &str, queries: u32| {
        let accel = accel.map_or(String::new(), |a| format!("\"accel_configs\": {a},\n"));
        format!(
            "{{\n\"num_queries\": {queries},\n\"nepochs\": 1,\n\"max_cpu_engines\": {},\n\"num_stages\": {stages},\n\
             \"arrival_rates\": [{gaps}],\n\"model_configs\": [{models}],\n\"num_threads_per_engine\": [1{}],\n\
             \"use_gpus\": [{gpus}],\n{accel}\"stage_batch_sizes\": [{items}]\n}}\n",
            if accel.is_empty() { 32 } else { 1 },
            ", 1".repeat(stages as usize - 1),
        )
    };
    let m = |names: &[&str]| {
        format!("\"{}\"", names.iter().map(|n| format!("configs/model_configs/{n}.json")).collect::<Vec<_>>().join(","))
    };
    let (s, med, l) = ("dim_4_0", "dim_16", "dim_32_0");
    vec![
        ("kaggle_accel_1_stage", exp(1, "1, 2, 4", &m(&[l]), "\"False\"", Some("\"all\""), "\"4096\"", 10000)),
        (
            "kaggle_accel_2_stage",
            exp(2, "0.5, 1, 2, 5, 10", &m(&[s, l]), "\"False\"", Some("\"all\""), "\"4096,512\"", 10000),
        ),
        (
            "kaggle_accel_3_stage",
            exp(3, "0.5, 1, 2, 5, 10", &m(&[s, med, l]), "\"False\"", Some("\"all\""), "\"4096,512,128\"", 10000),
        ),
        (
            "kaggle_accel_acc_2_stage_scaling",
            exp(
                2,
                "1, 2, 4",
                &m(&[s, l]),
                "\"False\"",
                Some("\"all\""),
                "\"4096,512\", \"6140,1024\", \"8192,1024\", \"10240,1280\", \"12288,1280\"",
                10000,
            ),
        ),
        ("test_accel", exp(1, "2", &m(&[s]), "\"False\"", Some("[\"1\"]"), "\"4096\"", 10000)),
        (
            "kaggle_2_stage",
            exp(
                2,
                "0.5, 1, 2, 15",
                &format!("{}, {}", m(&[s, l]), m(&[med, l])),
                "\"False,True\", \"False,False\", \"True,False\"",
                None,
                "\"512,128\", \"1024,512\", \"4096,2048\"",
                2000,
            ),
        ),
        // Declares 1 stage but lists 2 per stage, as the artifact's movielens1m_2_stage.json does.
        (
            "movielens1m_2_stage",
            exp(
                1,
                "1, 2, 12",
                "\"configs/model_configs/movie1m_small.json,configs/model_configs/movie1m_large.json\"",
                "\"False,True\", \"True,False\"",
                None,
                "\"1000,400\"",
                2000,
            ),
        ),
    ]
}

/// A RecPipe checkout with `configs/{model_configs,accel_configs,recpipe_configs}` under `root`.
fn checkout(root: &Path) {
    let _ = std::fs::remove_dir_all(root);
    super::support::recpipe_configs(root);
    let exps = root.join("configs/recpipe_configs");
    std::fs::create_dir_all(&exps).unwrap();
    for (stem, text) in experiments() {
        std::fs::write(exps.join(format!("{stem}.json")), text).unwrap();
    }
}

/// Import `stem` from a folder beside the checkout (so paths climb out of it) and load the space.
fn import(root: &Path, stem: &str) -> (Space, ImportSummary, String) {
    let work = root.join("work");
    // The MovieLens folder a NeuMF space names must exist for it to validate.
    std::fs::create_dir_all(work.join("ml")).unwrap();
    std::fs::write(work.join("ml/ml.inter"), super::support::tiny_movielens()).unwrap();
    let out = bin()
        .current_dir(&work)
        .args(["import", "recpipe", &format!("../configs/recpipe_configs/{stem}.json"), "--out"])
        .arg(format!("{stem}.yaml"))
        .args(["--format", "json", "--movielens", "ml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "import {stem}: {stderr}");
    let summary: ImportSummary = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(work.join(format!("{stem}.yaml"))).unwrap();
    let space = parse_space(&text, &format!("{stem}.yaml"), &work).unwrap_or_else(|e| panic!("{stem}: {e}"));
    assert_eq!(space.point_count(), summary.points);
    assert_eq!(space.search.budget, summary.points, "the exhaustive budget covers the space");
    (space, summary, stderr)
}

fn got_ms(service_s: Option<f64>) -> f64 {
    service_s.expect("an accelerator stage") * 1e3
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("recpipe-dse-import-{name}-{}", std::process::id()))
}

#[test]
fn accelerator_experiments_give_the_original_json_service_times() {
    let root = temp("accel");
    checkout(&root);
    let (mut stages_checked, mut worked_example) = (0, 0);
    for stem in [
        "kaggle_accel_1_stage",
        "kaggle_accel_2_stage",
        "kaggle_accel_3_stage",
        "kaggle_accel_acc_2_stage_scaling",
        "test_accel",
    ] {
        let (space, summary, _) = import(&root, stem);
        let accel = space.accel.as_ref().expect("an accelerator space");
        assert_eq!(accel.mode, Mode::Recpipe2021, "{stem}");
        assert!(
            accel.python2_division && accel.top_n == AccelTopN::Zero && accel.transfers == AccelTransfers::EveryStage
        );
        let json_of_model = |name: &str| {
            let (_, source) = summary.models.iter().find(|(n, _)| n == name).expect("model listed");
            root.join("work").join(source)
        };
        // RecPipe's designs: every size tuple with ⌊S / stages⌋ engines per stage.
        let k = space.templates[0].backends.len();
        let sizes: Vec<u32> = match (stem, k) {
            ("test_accel", _) => vec![1],
            (_, 1) => vec![1, 4, 16, 64],
            _ => vec![4, 16, 64],
        };
        let mut recpipe_designs: Vec<Vec<(String, u32)>> = vec![Vec::new()];
        for _ in 0..k {
            recpipe_designs = recpipe_designs
                .into_iter()
                .flat_map(|d| {
                    sizes
                        .iter()
                        .map(move |s| [d.clone(), vec![(format!("hardconf_{s}"), (*s / k as u32).max(1))]].concat())
                })
                .collect();
        }
        let mut seen = Vec::new();
        for id in 0..space.point_count() {
            let design = space.design(PointId(id)).unwrap();
            let services = recpipe_dse::explore::evaluate::accel_service_s(&space, &design);
            let mut hw_of_design = Vec::new();
            for (i, (st, service)) in design.stages.iter().zip(&services).enumerate() {
                let StageHardware::Accel { choice, count } = st.hardware else {
                    panic!("{stem}: a non-accelerator stage")
                };
                let label = &accel.choices[choice].label;
                hw_of_design.push((label.clone(), count));
                // The original JSON path: the model and hardware files themselves, the same stage request.
                let model = ModelShape::load(&json_of_model(&space.zoo[st.model].name)).unwrap();
                let hw = AccelConfig::load(&root.join("configs/accel_configs").join(format!("{label}.json"))).unwrap();
                // RecPipe's accelerator thread: top_n = 0, PCIe in and out on every stage, Python-2 division.
                let mut req = StageRequest::new(Dataset::Kaggle, st.items, 0, Mode::Recpipe2021);
                req.division = Division::Python2;
                let expected = evaluate_stage(&model, &hw, &req).latency_s;
                if (label.as_str(), space.zoo[st.model].name.as_str(), st.items) == ("hardconf_1", "rm-large", 4096) {
                    // The worked example of the artifact's log: 261,343 cycles × 8 ns = 2.0907438 ms (as printed).
                    assert!((got_ms(*service) - 2.0907438).abs() < 5e-8, "{stem}: {service:?}");
                    worked_example += 1;
                }
                let got = service.expect("accelerator stage has a service time");
                assert_eq!(got.to_bits(), expected.to_bits(), "{stem} point {id} stage {i}: {got} vs {expected}");
                stages_checked += 1;
            }
            seen.push(hw_of_design);
        }
        for d in &recpipe_designs {
            let per_item_tuple = seen.iter().filter(|s| *s == d).count();
            assert!(per_item_tuple >= 1, "{stem}: RecPipe's design {d:?} is missing from the space");
        }
    }
    assert!(stages_checked > 3000 && worked_example == 4, "{stages_checked} stages, {worked_example} worked examples");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn cpu_gpu_experiments_keep_the_grid_and_say_where_they_differ() {
    let root = temp("cpugpu");
    checkout(&root);
    let (space, summary, _) = import(&root, "kaggle_2_stage");
    // {S, M} × {L} models × 3 item pairs × 3 GPU mappings.
    assert_eq!(space.point_count(), 2 * 3 * 3);
    assert_eq!(summary.models.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["rm-large", "rm-med", "rm-small"]);
    let qps = &space.load.qps;
    assert!((qps[0] - 2000.0).abs() < 1e-9 && (qps[3] - 1000.0 / 15.0).abs() < 1e-9, "{qps:?}");
    assert_eq!(space.load.queries, 2000);

    let (space, summary, stderr) = import(&root, "movielens1m_2_stage");
    assert_eq!(space.templates[0].backends.len(), 2, "the per-stage lists decide the depth");
    assert!(stderr.contains("num_stages is 1 but model_configs has 2-stage entries"), "{stderr}");
    assert!(
        summary.warnings.iter().any(|w| w.contains("movie1m_large") && w.contains("arch_sparse_feature_size 384")),
        "{:?}",
        summary.warnings
    );
    // The small model's widths are a NeuMF network's: its accelerator shape is the JSON's exactly.
    let small = space.zoo.iter().position(|m| m.name == "movie1m_small").unwrap();
    let from_json = ModelShape::load(&root.join("configs/model_configs/movie1m_small.json")).unwrap();
    assert_eq!(space.zoo[small].arch.accel_shape(space.dataset.kind), Some(from_json));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn bad_experiments_name_the_file_field_and_value() {
    let root = temp("bad");
    checkout(&root);
    let dir = root.join("configs/recpipe_configs");
    let base = experiments().into_iter().find(|(s, _)| *s == "test_accel").unwrap().1;
    let cases = [
        (
            "gpus",
            base.replace("\"use_gpus\": [\"False\"]", "\"use_gpus\": [\"Maybe\"]"),
            "use_gpus[0]: must be comma-joined True/False flags, got 'Maybe'",
        ),
        (
            "model",
            base.replace("dim_4_0.json", "dim_5.json"),
            "model_configs[0]: 'configs/model_configs/dim_5.json' not found",
        ),
        (
            "size",
            base.replace("[\"1\"]", "[\"2\"]"),
            "accel_configs[0]: must be comma-joined sizes out of 1, 4, 16, 64, got '2'",
        ),
        ("field", base.replace("\"nepochs\"", "\"n_epochs\""), "n_epochs"),
        (
            "gap",
            base.replace("\"arrival_rates\": [2]", "\"arrival_rates\": [0]"),
            "arrival_rates[0]: must be a positive gap in ms, got 0",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.join(format!("bad_{name}.json"));
        std::fs::write(&path, text).unwrap();
        let out_file = root.join(format!("bad_{name}.yaml"));
        let out = bin().args(["import", "recpipe"]).arg(&path).arg("--out").arg(&out_file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(&path.display().to_string()) && stderr.contains(expected), "{name}: {stderr}");
        assert!(!out_file.exists(), "{name}: nothing written");
    }
    let _ = std::fs::remove_dir_all(&root);
}
