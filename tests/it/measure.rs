//! Integration tests of latency measurement: the fused DLRM forward equals the unfused one, a profile's
//! structure and survivors, the calibration cache's round trip and host preference, and `calibrate` on a
//! tiny space writing a CSV.
use recpipe_dse::data::{CRITEO_KAGGLE_TABLE_ROWS, SPARSE};
use recpipe_dse::measure::calib_cache::{read_file, FILE_PREFIX};
use recpipe_dse::measure::profile::{candidate_sets, profile, FeatureStore, LoadedModel, ProfileOptions, StepRunner};
use recpipe_dse::measure::tables::{arch_fingerprint, required_profiles_for, ModelTables};
use recpipe_dse::measure::{CalibCache, DeviceKind, HostFingerprint, MeasureError, Profile, ProfileKey};
use recpipe_dse::model::dlrm::{Dlrm, DlrmArch};
use recpipe_dse::model::{preset, Features};
use recpipe_dse::zoo::precision::Datatype;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("recpipe-dse-measure-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn dlrm_arch(name: &str) -> DlrmArch {
    preset(name).and_then(|a| a.downcast::<DlrmArch>().cloned()).expect("a DLRM preset")
}

/// Random dense features and per-table ids within `rows`.
fn criteo_inputs(rows: &[u64; SPARSE], batch: i64) -> (Tensor, Tensor) {
    let dense = Tensor::rand([batch, 13], (Kind::Float, Device::Cpu)) * 5.0;
    let ids: Vec<Tensor> =
        rows.iter().map(|&n| Tensor::randint(n as i64, [batch], (Kind::Int64, Device::Cpu))).collect();
    (dense, Tensor::stack(&ids, 1))
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn fused_forward_equals_unfused_on_small_tables() {
    let _guard = tch::no_grad_guard();
    tch::manual_seed(3);
    let ModelTables::Criteo { rows } = ModelTables::criteo(Some(50)) else { unreachable!() };
    for name in ["rm-small", "rm-med", "rm-large"] {
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let model = Dlrm::new(&vs.root(), &dlrm_arch(name), &rows, false);
        let (dense, sparse) = criteo_inputs(&rows, 97);
        let fused = model.forward(&dense, &sparse);
        let unfused = model.forward_unfused(&dense, &sparse);
        assert_eq!(fused.size(), vec![97], "{name}: logits [B]");
        assert!(max_abs_diff(&fused, &unfused) <= 1e-6, "{name}: {}", max_abs_diff(&fused, &unfused));
        // Not trivially equal: different rows give different logits.
        assert!(fused.std(false).double_value(&[]) > 0.0, "{name}: constant output");
    }
}

#[test]
fn fused_forward_equals_unfused_with_full_kaggle_tables() {
    let _guard = tch::no_grad_guard();
    tch::manual_seed(4);
    let rows = CRITEO_KAGGLE_TABLE_ROWS;
    let vs = tch::nn::VarStore::new(Device::Cpu);
    let model = Dlrm::new(&vs.root(), &dlrm_arch("rm-small"), &rows, false);
    let (dense, sparse) = criteo_inputs(&rows, 16);
    let fused = model.forward(&dense, &sparse);
    let unfused = model.forward_unfused(&dense, &sparse);
    assert!(max_abs_diff(&fused, &unfused) <= 1e-6, "{}", max_abs_diff(&fused, &unfused));
}

fn tiny_key(tables: &ModelTables, items: u32, keep: u32, threads: u32) -> ProfileKey {
    ProfileKey {
        model: "rm-small".into(),
        arch: arch_fingerprint(&preset("rm-small").unwrap(), tables),
        items,
        keep,
        device: DeviceKind::Cpu,
        threads,
    }
}

fn host(cpu: &str, gpu: &str) -> HostFingerprint {
    HostFingerprint { cpu_model: cpu.into(), cores: 2, memory_gib: 23, gpu: gpu.into(), libtorch: "2.11.0".into() }
}

#[test]
fn profile_has_the_requested_sample_and_ordered_statistics() {
    let tables = ModelTables::criteo(Some(1000));
    let model = LoadedModel::build(&preset("rm-small").unwrap(), Datatype::Fp32, &tables, DeviceKind::Cpu, 7).unwrap();
    let store = FeatureStore::generate(&tables, 4096, 7);
    let key = tiny_key(&tables, 256, 32, 1);
    let opts = ProfileOptions { warmup: 2, reps: 25, min_reps: 5, max_seconds: 60.0, store_rows: 4096, seed: 7 };
    let p = profile(&model, &store, &key, &host("cpu", "none"), &opts).unwrap();
    assert_eq!(p.key, key);
    assert_eq!(p.samples_ms.len(), 25);
    assert!(p.samples_ms.iter().all(|&x| x > 0.0 && x.is_finite()));
    assert!(p.min_ms <= p.p50_ms && p.p50_ms <= p.p95_ms && p.p95_ms <= p.p99_ms && p.p99_ms <= p.max_ms, "{p:?}");
    assert!(p.min_ms <= p.mean_ms && p.mean_ms <= p.max_ms);
    assert!(p.interference.is_empty());
    assert_eq!(p.seed, 7);
    // A CUDA key cannot be timed on a CPU model.
    let cuda = ProfileKey { device: DeviceKind::Cuda, threads: 0, ..key };
    assert!(matches!(profile(&model, &store, &cuda, &host("cpu", "none"), &opts), Err(MeasureError::Unsupported(_))));
}

#[test]
fn stage_step_keeps_the_best_scored_candidates() {
    let _guard = tch::no_grad_guard();
    let tables = ModelTables::criteo(Some(500));
    let loaded = LoadedModel::build(&preset("rm-med").unwrap(), Datatype::Fp32, &tables, DeviceKind::Cpu, 11).unwrap();
    let store = FeatureStore::generate(&tables, 2000, 11);
    let (cand, user) = candidate_sets(&store, 300, 1, 11).remove(0);
    let mut runner = StepRunner::new(&loaded, &store, 300, 20);
    let survivors = runner.step(&cand, user);
    assert_eq!(survivors.size(), vec![20]);
    let FeatureStore::Criteo { dense, sparse } = &store else { panic!("Criteo store") };
    let forward = |rows: &Tensor| {
        let (d, s) = (dense.index_select(0, rows), sparse.index_select(0, rows));
        loaded.net.forward_t(&Features::Rows { dense: &d, sparse: &s }, false)
    };
    let scores = forward(&cand);
    let twentieth = scores.topk(20, 0, true, true).0.double_value(&[19]);
    let survivor_scores = forward(&survivors);
    assert!(survivor_scores.min().double_value(&[]) >= twentieth - 1e-6);
    // Survivors are candidates.
    let cand_ids: Vec<i64> = Vec::try_from(&cand).unwrap();
    let surv_ids: Vec<i64> = Vec::try_from(&survivors).unwrap();
    assert!(surv_ids.iter().all(|s| cand_ids.contains(s)));
}

fn made_profile(key: ProfileKey, host: HostFingerprint, base: f64) -> Profile {
    let samples: Vec<f64> = (0..40).map(|i| base + 0.01 * f64::from(i % 7)).collect();
    Profile::from_samples(key, host, samples, vec![(1, 1.0), (2, 1.25)], 9).unwrap()
}

#[test]
fn calib_cache_round_trips_and_merges_on_write() {
    let dir = temp_dir("roundtrip");
    let tables = ModelTables::criteo(Some(10));
    let a = host("AMD EPYC, \"test\" CPU", "none");
    let k1 = tiny_key(&tables, 128, 16, 1);
    let k2 = tiny_key(&tables, 256, 16, 2);
    let mut cache = CalibCache::load(&dir).unwrap();
    assert!(cache.is_empty());
    let path = cache.insert_and_save(made_profile(k1.clone(), a.clone(), 1.0)).unwrap();
    cache.insert_and_save(made_profile(k2.clone(), a.clone(), 2.0)).unwrap();
    assert!(path.file_name().unwrap().to_string_lossy().starts_with(FILE_PREFIX));
    // Replace k1: still two rows.
    cache.insert_and_save(made_profile(k1.clone(), a.clone(), 3.0)).unwrap();
    assert_eq!(read_file(&path).unwrap().profiles.len(), 2);
    let loaded = CalibCache::load(&dir).unwrap();
    assert_eq!(loaded.len(), 2);
    let p1 = loaded.lookup_on(&k1, &a).expect("k1 on host a");
    let want = made_profile(k1.clone(), a.clone(), 3.0);
    assert_eq!(p1.key, want.key);
    assert_eq!(p1.host, a);
    assert_eq!(p1.samples_ms.len(), 40);
    for (x, y) in p1.samples_ms.iter().zip(&want.samples_ms) {
        assert!((x - y).abs() < 1e-6);
    }
    assert!((p1.p95_ms - want.p95_ms).abs() < 1e-6 && (p1.sd_ms - want.sd_ms).abs() < 1e-6);
    assert_eq!(p1.interference.len(), 2);
    // A damaged row (one digit of a sample changed) and a row cut short are detected by their checks, named,
    // and left out, so a calibration measures them again; rewriting the file drops them.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = lines[1].rfind(';').expect("samples joined by ';'") + 1;
    let digit = if lines[1].as_bytes()[at] == b'7' { "8" } else { "7" };
    lines[1].replace_range(at..at + 1, digit);
    let half = lines[2].len() / 2;
    lines[2].truncate(half);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let mut damaged = CalibCache::load(&dir).unwrap();
    assert_eq!(damaged.len(), 0);
    assert_eq!(damaged.damaged.len(), 2, "{:?}", damaged.damaged);
    assert!(damaged.damaged[0].contains(&format!("{}:2:", path.display())), "{:?}", damaged.damaged);
    damaged.insert_and_save(made_profile(k2.clone(), a.clone(), 2.0)).unwrap();
    let again = CalibCache::load(&dir).unwrap();
    assert_eq!((again.len(), again.damaged.len()), (1, 0));
    assert!((p1.slowdown(2) - 1.25).abs() < 1e-9 && (p1.slowdown(8) - 1.25).abs() < 1e-9);
    assert_eq!(p1.seed, 9);
}

#[test]
fn lookup_prefers_this_host_and_labels_others() {
    let dir = temp_dir("hosts");
    let tables = ModelTables::criteo(Some(10));
    let key = ProfileKey { device: DeviceKind::Cuda, threads: 0, ..tiny_key(&tables, 512, 64, 0) };
    let gpu_host = host("Intel Xeon", "NVIDIA H200");
    let other_gpu = host("AMD EPYC", "NVIDIA H100 80GB HBM3");
    let mut cache = CalibCache::load(&dir).unwrap();
    cache.insert_and_save(made_profile(key.clone(), gpu_host.clone(), 0.4)).unwrap();
    cache.insert_and_save(made_profile(key.clone(), other_gpu.clone(), 0.5)).unwrap();
    let cache = CalibCache::load(&dir).unwrap();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2, "one file per host");
    assert_eq!(cache.lookup(&key, &gpu_host).unwrap().host, gpu_host);
    assert_eq!(cache.lookup(&key, &other_gpu).unwrap().host, other_gpu);
    // A CPU-only host gets a profile labelled with the GPU host it came from.
    let here = host("AMD EPYC 7B13", "none");
    let found = cache.lookup(&key, &here).expect("a profile from another host");
    assert_ne!(found.host, here);
    assert!(cache.lookup_on(&key, &here).is_none());
    let missing = ProfileKey { items: 1024, ..key };
    assert!(cache.lookup(&missing, &here).is_none());
}

#[test]
fn damaged_or_malformed_calibration_rows_name_file_and_line() {
    let dir = temp_dir("malformed");
    let tables = ModelTables::criteo(Some(10));
    let mut cache = CalibCache::load(&dir).unwrap();
    let path = cache.insert_and_save(made_profile(tiny_key(&tables, 128, 16, 1), host("c", "none"), 1.0)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap().replace(",cpu,", ",tpu,");
    std::fs::write(&path, &text).unwrap();
    // Edited without its check: named and ignored (measured again).
    let loaded = CalibCache::load(&dir).unwrap();
    assert!(loaded.is_empty());
    assert!(loaded.damaged[0].contains(&format!("{}:2:", path.display())), "{:?}", loaded.damaged);
    // Edited with a matching check: the bad value is an error naming file, line and value.
    let row = text.lines().nth(1).unwrap();
    let fields: Vec<&str> = row.rsplitn(2, ',').collect();
    let cells: Vec<String> = fields[1].split(',').map(str::to_string).collect();
    let check = recpipe_dse::measure::calib_cache::row_check(&cells);
    let header = text.lines().next().unwrap();
    std::fs::write(&path, format!("{header}\n{},{check}\n", fields[1])).unwrap();
    let err = CalibCache::load(&dir).unwrap_err().to_string();
    assert!(err.contains(&format!("{}:2:", path.display())), "{err}");
    assert!(err.contains("device: expected cpu|cuda, found \"tpu\""), "{err}");
}

const TINY_SPACE: &str = "\
name: tiny
seed: 5
dataset:
  kind: criteo-kaggle
  synthetic_fallback: true
  eval_queries: 4
  candidates_per_query: 256
  max_ind_range: 100
models:
  - { name: small, preset: rm-small }
  - name: custom
    dlrm: { embedding_dim: 8, bottom_mlp: [13, 16, 8], top_mlp: [16, 1] }
quality:
  top_k: 16
pipelines:
  - stages: 2
    models: [[small], [custom]]
    items: [[256, 32]]
    backends: [[cpu, cpu], [cpu, gpu]]
hardware:
  cpu:
    engines: [2]
    threads_per_engine: [1, 2]
  gpu:
    count: [1]
    max_total: 1
load:
  arrival: poisson
  qps: [100]
  queries: 1000
sla:
  percentile: 95
  target_ms: 25
objectives:
  - { metric: ndcg@16, direction: maximize }
  - { metric: p95_ms, direction: minimize }
search:
  strategy: exhaustive
  budget: 10
";

#[test]
fn required_profiles_cover_every_cpu_and_gpu_stage() {
    let space = recpipe_dse::spec::parse_space(TINY_SPACE, "tiny.yaml", Path::new(".")).unwrap();
    let tables = ModelTables::for_space(&space).unwrap();
    let keys = required_profiles_for(&space, &tables);
    let summary: Vec<(String, u32, u32, DeviceKind, u32)> =
        keys.iter().map(|k| (k.model.clone(), k.items, k.keep, k.device, k.threads)).collect();
    assert_eq!(
        summary,
        vec![
            ("custom".into(), 32, 16, DeviceKind::Cpu, 1),
            ("custom".into(), 32, 16, DeviceKind::Cpu, 2),
            ("custom".into(), 32, 16, DeviceKind::Cuda, 0),
            ("small".into(), 256, 32, DeviceKind::Cpu, 1),
            ("small".into(), 256, 32, DeviceKind::Cpu, 2),
        ]
    );
    assert!(keys[0].arch.starts_with("dlrm-dot d8 bot13-16-8 top16-1 rows"), "{}", keys[0].arch);
}

fn calibrate(space: &Path, calib: &Path, extra: &[&str]) -> std::process::Output {
    crate::support::bin()
        .arg("calibrate")
        .arg(space)
        .arg("--calib-dir")
        .arg(calib)
        .args(["--device", "cpu", "--reps", "8", "--warmup", "1"])
        .args(extra)
        .output()
        .expect("runs")
}

#[test]
fn calibrate_writes_profiles_and_skips_measured_keys() {
    let dir = temp_dir("calibrate");
    let space = dir.join("tiny.yaml");
    std::fs::write(&space, TINY_SPACE).unwrap();
    let calib = dir.join("calib");
    let out = calibrate(&space, &calib, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("[4/4]"), "progress on stderr: {stderr}");
    assert!(stderr.contains("1 key(s) on other devices are not measured"), "{stderr}");
    let cache = CalibCache::load(&calib).unwrap();
    assert_eq!(cache.len(), 4);
    for p in cache.profiles() {
        assert_eq!(p.key.device, DeviceKind::Cpu);
        assert!(p.samples_ms.len() >= 8, "{}", p.key);
        // Single-threaded engines carry interference factors for k = 1 .. cores.
        assert_eq!(!p.interference.is_empty(), p.key.threads == 1, "{}", p.key);
        if let Some((1, s)) = p.interference.first() {
            assert!((s - 1.0).abs() < 1e-12);
        }
    }
    let files: Vec<_> = std::fs::read_dir(&calib).unwrap().collect();
    assert_eq!(files.len(), 1, "one file for this host, no temporary left behind");
    // A second run measures nothing new; --recalibrate measures all again.
    let again = calibrate(&space, &calib, &[]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 key(s) to measure"));
    let re = calibrate(&space, &calib, &["--recalibrate", "--max-engines", "0"]);
    assert!(String::from_utf8_lossy(&re.stderr).contains("4 key(s) to measure"));
    assert!(CalibCache::load(&calib).unwrap().profiles().all(|p| p.interference.is_empty()));
}

#[test]
fn calibrate_rejects_bad_input_with_exit_2() {
    let dir = temp_dir("bad");
    let space = dir.join("tiny.yaml");
    std::fs::write(&space, TINY_SPACE).unwrap();
    let out = crate::support::bin()
        .arg("calibrate")
        .arg(&space)
        .args(["--reps", "0", "--calib-dir"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reps: must be at least 1"));
    let missing = calibrate(&dir.join("none.yaml"), &dir, &[]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn cpu_stages_need_a_profile_that_covers_their_engine_count() {
    use recpipe_dse::explore::sources::CalibLatency;
    use recpipe_dse::explore::StageLatencySource;
    use recpipe_dse::spec::StageHardware;
    let dir = temp_dir("coverage");
    let yaml = TINY_SPACE.replace("engines: [2]", "engines: [2, 4, 8]\n    cores: 4");
    let space = recpipe_dse::spec::parse_space(&yaml, "tiny.yaml", Path::new(".")).unwrap();
    let tables = ModelTables::for_space(&space).unwrap();
    let key =
        required_profiles_for(&space, &tables).into_iter().find(|k| k.model == "small" && k.threads == 1).unwrap();
    // Host a measured two engines; host b (not this host either) measured four.
    let a = host("AMD EPYC", "none");
    let b = HostFingerprint { cores: 4, ..host("Intel Xeon", "none") };
    let mut cache = CalibCache::load(&dir).unwrap();
    cache.insert_and_save(made_profile(key.clone(), a.clone(), 1.0)).unwrap();
    let four = Profile::from_samples(key.clone(), b, vec![2.0; 10], vec![(1, 1.0), (2, 1.1), (4, 1.5)], 9).unwrap();
    cache.insert_and_save(four).unwrap();
    let latency = CalibLatency::open(&space, &dir).unwrap();
    let small = space.zoo.iter().position(|m| m.name == "small").unwrap();
    let hw = StageHardware::Cpu { engines: 1, threads_per_engine: 1 };
    // Two engines: either host covers them; four: only host b (slowdown 1.5); eight: nobody.
    let two = latency.stage_service(small, 256, 32, &hw, 2).unwrap();
    assert!(two.slowdown == 1.25 || two.slowdown == 1.1, "{}", two.slowdown);
    let four = latency.stage_service(small, 256, 32, &hw, 4).unwrap();
    assert!(four.host.contains("Intel Xeon") && (four.slowdown - 1.5).abs() < 1e-12, "{} {}", four.host, four.slowdown);
    let eight = latency.stage_service(small, 256, 32, &hw, 8).unwrap_err();
    assert!(eight.contains("no profile for 8 concurrent CPU engines") && eight.contains("has 4 cores"), "{eight}");
    let hosts = latency.cpu_hosts();
    assert_eq!(hosts.iter().map(|h| (h.1, h.2)).collect::<Vec<_>>(), vec![(2, 2), (4, 4)]);
    // The server has 4 cores: eight engines are excluded before any profile is looked up.
    let design = (0..space.point_count())
        .filter_map(|i| space.design(recpipe_dse::spec::PointId(i)))
        .find(|d| d.cpu_engines_total == Some(8))
        .expect("an 8-engine design");
    let why = space.structural_violation(&design).expect("over the server's cores");
    assert!(why.contains("hardware.cpu.cores = 4"), "{why}");
}

#[test]
fn committed_calibration_files_have_no_damaged_row() {
    let cache = CalibCache::load(&crate::support::repo().join("calib")).unwrap();
    assert!(cache.damaged.is_empty(), "{:?}", cache.damaged);
    assert!(cache.len() >= 250, "{} profiles", cache.len());
}
