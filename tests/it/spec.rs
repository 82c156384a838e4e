//! Integration tests of the design-space spec: malformed specs get specific messages (file, position, field
//! path, value), every shipped space validates, and mixed-radix point ids round-trip.
use recpipe_dse::input::InputError;
use recpipe_dse::spec::{self, PointId};
use std::path::{Path, PathBuf};

use crate::support::{bin, repo as repo_root};

/// A small valid space with no file dependencies (synthetic Criteo data, CPU and GPU stages).
const BASE: &str = "\
name: base
seed: 5
dataset:
  kind: criteo-kaggle
  synthetic_fallback: true
  eval_queries: 8
  candidates_per_query: 1024
models:
  - { name: small, preset: rm-small }
  - { name: large, preset: rm-large }
  - name: custom
    dlrm: { embedding_dim: 8, bottom_mlp: [13, 32, 8], top_mlp: [16, 1] }
quality:
  top_k: 64
pipelines:
  - stages: 1
    models: [[small, large]]
    items: [[1024], [512]]
    backends: [[cpu], [gpu]]
  - stages: 2
    models: [[small, custom], [large]]
    items: [[1024, 128], [512, 64]]
    backends: [[cpu, cpu], [cpu, gpu]]
hardware:
  cpu:
    engines: [2, 4]
    threads_per_engine: [1]
  gpu:
    count: [1]
    max_total: 1
load:
  arrival: poisson
  qps: [100, 400]
  queries: 2000
sla:
  percentile: 95
  target_ms: 25
objectives:
  - { metric: ndcg@64, direction: maximize }
  - { metric: p95_ms, direction: minimize }
search:
  strategy: exhaustive
  budget: 100
";

fn parse(text: &str) -> Result<spec::Space, InputError> {
    spec::parse_space(text, "t.yaml", &repo_root())
}

/// Apply `from → to` replacements to BASE (each must match) and return the validation errors as text.
fn errors_of(edits: &[(&str, &str)]) -> String {
    let mut text = BASE.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "test edit target not found: {from}");
        text = text.replacen(from, to, 1);
    }
    match parse(&text) {
        Ok(_) => panic!("expected validation errors for edits {edits:?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_has(errors: &str, expected: &str) {
    assert!(errors.contains(expected), "expected `{expected}` in:\n{errors}");
}

#[test]
fn base_space_is_valid_and_counts_points() {
    let space = parse(BASE).expect("base is valid");
    // 1-stage: cpu 2 models × 2 items × 2 engines × 1 thread = 8; gpu 2 × 2 × 1 = 4
    // 2-stage: cpu,cpu 2 × 1 × 2 × 2 × 1 = 8; cpu,gpu 2 × 1 × 2 × 2 × 1 × 1 = 8
    assert_eq!(space.point_count(), 28);
    assert!(space.dataset.is_synthetic());
    assert_eq!(space.templates.len(), 4);
}

#[test]
fn unknown_top_level_key_names_field_and_line() {
    let e = errors_of(&[("seed: 5\n", "seed: 5\nbogus: 1\n")]);
    assert_has(&e, "t.yaml:3:1: bogus: unknown field `bogus`");
}

#[test]
fn unknown_nested_key() {
    let e = errors_of(&[("    threads_per_engine: [1]\n", "    threads_per_engine: [1]\n    turbo: true\n")]);
    assert_has(&e, "hardware.cpu.turbo: unknown field `turbo`, expected one of engines, threads_per_engine");
}

#[test]
fn wrong_type_reports_path_and_position() {
    let e = errors_of(&[("eval_queries: 8", "eval_queries: lots")]);
    assert_has(&e, "t.yaml:6:17: dataset.eval_queries: expected an integer");
}

#[test]
fn yaml_syntax_error_reports_its_line() {
    let e = errors_of(&[("  qps: [100, 400]\n", "  qps: [100, 400\n")]);
    let first = e.lines().next().unwrap();
    assert!(first.starts_with("t.yaml:"), "{e}");
    let line: u64 = first.split(':').nth(1).unwrap().parse().expect("a line number follows the file name");
    // The unterminated flow sequence opens on line 33; the parser notices on the line after.
    assert!((33..=34).contains(&line), "syntax error reported at line {line}: {e}");
}

#[test]
fn unknown_model_name() {
    let e = errors_of(&[("models: [[small, large]]", "models: [[small, huge]]")]);
    assert_has(&e, "pipelines[0].models[0][1]: unknown model 'huge' (the zoo has small|large|custom)");
}

#[test]
fn items_must_strictly_decrease() {
    let e = errors_of(&[("[512, 64]", "[64, 512]")]);
    assert_has(&e, "pipelines[1].items[1]: items must strictly decrease across stages, got [64, 512]");
    let e = errors_of(&[("[512, 64]", "[128, 128]")]);
    assert_has(&e, "items must strictly decrease across stages, got [128, 128]");
}

#[test]
fn item_tuple_needs_one_count_per_stage() {
    let e = errors_of(&[("[1024, 128]", "[1024, 128, 64]")]);
    assert_has(&e, "pipelines[1].items[0]: must give 2 item counts (one per stage), got [1024, 128, 64]");
}

#[test]
fn zero_count_is_rejected() {
    let e = errors_of(&[("eval_queries: 8", "eval_queries: 0")]);
    assert_has(&e, "t.yaml:6:17: dataset.eval_queries: must be ≥ 1, got 0");
}

#[test]
fn negative_count_is_rejected() {
    let e = errors_of(&[("engines: [2, 4]", "engines: [2, -4]")]);
    assert_has(&e, "hardware.cpu.engines[1]: must be ≥ 1, got -4");
    let e = errors_of(&[("queries: 2000", "queries: -1")]);
    assert_has(&e, "load.queries: must be ≥ 1, got -1");
}

#[test]
fn percentile_must_be_inside_0_100() {
    for bad in ["0", "100", "150", "-5"] {
        let e = errors_of(&[("percentile: 95", &format!("percentile: {bad}"))]);
        assert_has(&e, &format!("sla.percentile: must be in the open interval (0, 100), got {bad}"));
    }
}

#[test]
fn unknown_backend() {
    let e = errors_of(&[("backends: [[cpu], [gpu]]", "backends: [[cpu], [tpu]]")]);
    assert_has(&e, "pipelines[0].backends[1][0]: unknown backend 'tpu' (expected cpu|gpu|accel)");
}

#[test]
fn duplicate_model_names() {
    let e = errors_of(&[("name: custom", "name: small")]);
    assert_has(&e, "models[2].name: duplicate model name 'small' (also models[0])");
}

#[test]
fn missing_sla_target() {
    let e = errors_of(&[("  target_ms: 25\n", "")]);
    assert_has(&e, "sla.target_ms: missing required field");
}

#[test]
fn missing_sla_section() {
    let e = errors_of(&[("sla:\n  percentile: 95\n  target_ms: 25\n", "")]);
    assert_has(&e, "t.yaml: sla: missing required field");
}

#[test]
fn non_positive_sla_target() {
    let e = errors_of(&[("target_ms: 25", "target_ms: 0")]);
    assert_has(&e, "sla.target_ms: must be a positive number, got 0");
}

#[test]
fn unknown_dataset_kind() {
    let e = errors_of(&[("kind: criteo-kaggle", "kind: netflix")]);
    assert_has(&e, "dataset.kind: unknown data-set kind 'netflix' (expected movielens|criteo-kaggle)");
}

#[test]
fn unknown_metric_and_direction() {
    let e = errors_of(&[("metric: p95_ms, direction: minimize", "metric: p97_ms, direction: smaller")]);
    assert_has(&e, "objectives[1].metric: unknown metric 'p97_ms'");
    assert_has(&e, "objectives[1].direction: unknown direction 'smaller' (expected maximize|minimize)");
}

#[test]
fn metric_cutoff_beyond_top_k() {
    let e = errors_of(&[("metric: ndcg@64", "metric: ndcg@128")]);
    assert_has(&e, "objectives[0].metric: cut-off 128 exceeds quality.top_k = 64");
}

#[test]
fn last_stage_must_keep_top_k_items() {
    let e = errors_of(&[("top_k: 64", "top_k: 100")]);
    assert_has(&e, "pipelines[1].items[1]: last stage keeps 64 items, fewer than quality.top_k = 100");
}

#[test]
fn first_stage_cannot_exceed_candidates() {
    let e = errors_of(&[("items: [[1024], [512]]", "items: [[4096], [512]]")]);
    assert_has(&e, "pipelines[0].items[0]: first stage scores 4096 items but dataset.candidates_per_query is 1024");
}

#[test]
fn model_family_must_match_dataset() {
    let e = errors_of(&[("preset: rm-large", "preset: neumf-small")]);
    assert_has(&e, "models[1]: a neumf model cannot score criteo-kaggle data");
}

#[test]
fn unknown_preset() {
    let e = errors_of(&[("preset: rm-large", "preset: rm-xxl")]);
    assert_has(&e, "models[1].preset: unknown preset 'rm-xxl' (expected one of rm-small|rm-med|rm-large");
}

#[test]
fn dlrm_shape_rules() {
    let e = errors_of(&[("bottom_mlp: [13, 32, 8]", "bottom_mlp: [13, 32, 16]")]);
    assert_has(&e, "models[2].dlrm.bottom_mlp: must start at 13 (dense features) and end at embedding_dim 8");
    let e = errors_of(&[("top_mlp: [16, 1]", "top_mlp: [16, 2]")]);
    assert_has(&e, "models[2].dlrm.top_mlp: must end with the single output unit 1, got [16, 2]");
}

#[test]
fn gpu_stages_limited_by_max_total() {
    let e = errors_of(&[("backends: [[cpu, cpu], [cpu, gpu]]", "backends: [[cpu, cpu], [gpu, gpu]]")]);
    assert_has(&e, "pipelines[1].backends[1]: 2 GPU stages need at least 2 GPUs but hardware.gpu.max_total is 1");
}

#[test]
fn used_backend_needs_hardware_section() {
    let e = errors_of(&[("backends: [[cpu], [gpu]]", "backends: [[cpu], [accel]]")]);
    assert_has(&e, "hardware.accel: missing required field (a pipeline uses backend accel)");
}

#[test]
fn missing_accelerator_file() {
    let e = errors_of(&[
        ("backends: [[cpu], [gpu]]", "backends: [[cpu], [accel]]"),
        ("  gpu:\n", "  accel:\n    presets: [accel/does-not-exist.yaml]\n  gpu:\n"),
    ]);
    assert_has(&e, "hardware.accel.presets[0]: accelerator description 'accel/does-not-exist.yaml' not found");
}

/// BASE with its 1-stage GPU mapping replaced by the accelerator, using `accel` as the accelerator section.
fn with_accel(accel: &str) -> Vec<(&'static str, String)> {
    vec![
        ("backends: [[cpu], [gpu]]", "backends: [[cpu], [accel]]".to_string()),
        ("  gpu:\n", format!("{accel}  gpu:\n")),
    ]
}

fn errors_of_owned(edits: &[(&'static str, String)]) -> String {
    let borrowed: Vec<(&str, &str)> = edits.iter().map(|(a, b)| (*a, b.as_str())).collect();
    errors_of(&borrowed)
}

#[test]
fn area_budget_below_smallest_accelerator() {
    let e = errors_of_owned(&with_accel(
        "  accel:\n    presets: [accel/recpipe-s16.yaml, accel/recpipe-s4.yaml]\n    area_budget_mm2: 0.5\n",
    ));
    assert_has(&e, "hardware.accel.area_budget_mm2: area budget 0.5 mm² is below the smallest accelerator option: 1 × recpipe-s16 = ");
}

#[test]
fn accelerator_stages_must_fit_the_budget_together() {
    let space = spec::parse_space(
        &BASE.replace("backends: [[cpu], [gpu]]", "backends: [[cpu], [accel]]").replace(
            "  gpu:\n",
            "  accel:\n    presets: [accel/recpipe-s4.yaml]\n    count_per_stage: [1, 2]\n  gpu:\n",
        ),
        "t.yaml",
        &repo_root(),
    )
    .expect("valid");
    let one = space.accel.as_ref().unwrap().choices[0].area_mm2;
    let two_stages =
        BASE.replace("backends: [[cpu, cpu], [cpu, gpu]]", "backends: [[cpu, cpu], [accel, accel]]").replace(
            "  gpu:\n",
            &format!("  accel:\n    presets: [accel/recpipe-s4.yaml]\n    area_budget_mm2: {}\n  gpu:\n", one * 1.5),
        );
    let e = spec::parse_space(&two_stages, "t.yaml", &repo_root()).unwrap_err().to_string();
    assert_has(&e, "pipelines[1].backends[1]: 2 accelerator stages need at least");
}

#[test]
fn over_budget_designs_are_structurally_infeasible() {
    let text = BASE.replace("backends: [[cpu], [gpu]]", "backends: [[cpu], [accel]]").replace(
        "  gpu:\n",
        "  accel:\n    presets: [accel/recpipe-s4.yaml]\n    count_per_stage: [1, 2, 4]\n    area_budget_mm2: 0\n  gpu:\n",
    );
    let e = spec::parse_space(&text, "t.yaml", &repo_root()).unwrap_err().to_string();
    assert_has(&e, "hardware.accel.area_budget_mm2: must be a positive number, got 0");
    let probe = spec::parse_space(&text.replace("area_budget_mm2: 0", "area_budget_mm2: 1000"), "t.yaml", &repo_root())
        .expect("valid");
    let one = probe.accel.as_ref().unwrap().choices[0].area_mm2;
    let space = spec::parse_space(
        &text.replace("area_budget_mm2: 0", &format!("area_budget_mm2: {}", one * 2.5)),
        "t.yaml",
        &repo_root(),
    )
    .expect("valid");
    let mut over = 0;
    for i in 0..space.point_count() {
        let d = space.design(PointId(i)).unwrap();
        if let Some(area) = space.accel_area_mm2(&d) {
            let violation = space.structural_violation(&d);
            assert_eq!(violation.is_some(), area > one * 2.5, "{d:?}");
            over += usize::from(violation.is_some());
        }
    }
    // 2 models × 2 item tuples with 4 sub-accelerators exceed 2.5 sub-accelerators of area.
    assert_eq!(over, 4);
}

#[test]
fn swept_accelerators_are_validated() {
    let e = errors_of_owned(&with_accel(
        "  accel:\n    sweep:\n      base: accel/recpipe-s4.yaml\n      array_size: [64, 48]\n      clock_mhz: [125, -1]\n",
    ));
    assert_has(&e, "hardware.accel.sweep.array_size[1]: must be a power of two, got 48");
    assert_has(&e, "hardware.accel.sweep.clock_mhz[1]: must be a positive number, got -1");
}

#[test]
fn sweep_expands_to_the_cartesian_product() {
    let text = BASE.replace("backends: [[cpu], [gpu]]", "backends: [[cpu], [accel]]").replace(
        "  gpu:\n",
        "  accel:\n    presets: [accel/recpipe-s16.yaml]\n    sweep:\n      base: accel/recpipe-s4.yaml\n      array_size: [32, 64]\n      embedding_cache_kib: [512, 1024, 4096]\n  gpu:\n",
    );
    let space = spec::parse_space(&text, "t.yaml", &repo_root()).expect("valid");
    let accel = space.accel.as_ref().unwrap();
    assert_eq!(accel.choices.len(), 1 + 2 * 3);
    let last = accel.choices.last().unwrap();
    assert_eq!(last.label, "recpipe-s4-a64-emb4096k");
    assert_eq!((last.config.array_size, last.config.embedding_cache_bytes), (64, 4096 * 1024));
    // A bigger embedding cache costs area.
    assert!(accel.choices[3].area_mm2 > accel.choices[1].area_mm2);
}

#[test]
fn invalid_accelerator_file_is_reported_with_both_files() {
    let dir = std::env::temp_dir().join(format!("recpipe-dse-badaccel-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("accel")).expect("temp dir");
    let good = std::fs::read_to_string(repo_root().join("accel/recpipe-s4.yaml")).expect("preset");
    std::fs::write(dir.join("accel/bad.yaml"), good.replace("array_size: 64", "array_size: 0")).expect("write");
    let text = BASE
        .replace("backends: [[cpu], [gpu]]", "backends: [[cpu], [accel]]")
        .replace("  gpu:\n", "  accel:\n    presets: [accel/bad.yaml]\n  gpu:\n");
    let e = spec::parse_space(&text, "t.yaml", &dir).unwrap_err().to_string();
    assert_has(&e, "hardware.accel.presets[0]: invalid accelerator description 'accel/bad.yaml'");
    // The description's own problem keeps its file and field path.
    let bad = dir.join("accel/bad.yaml").display().to_string();
    assert_has(&e, &format!("{bad}: array_size: must be a positive power of two, got 0"));
}

#[test]
fn unknown_sweep_knobs_are_named_with_the_knobs_there_are() {
    let e = errors_of_owned(&with_accel(
        "  accel:\n    sweep:\n      base: accel/recpipe-s4.yaml\n      array_sise: [64]\n      clock_mhz: [125, 125]\n",
    ));
    assert_has(
        &e,
        "hardware.accel.sweep.array_sise: unknown sweep knob 'array_sise' (expected base or one of array_size, ",
    );
    assert_has(&e, "hardware.accel.sweep.clock_mhz[1]: duplicate value 125");
}

#[test]
fn stage_count_out_of_range() {
    let e = errors_of(&[("stages: 1", "stages: 0")]);
    assert_has(&e, "pipelines[0].stages: must be between 1 and 8, got 0");
}

#[test]
fn duplicate_pipeline_depth() {
    let e = errors_of(&[("stages: 2", "stages: 1")]);
    assert_has(&e, "pipelines[1].stages: duplicate pipeline depth 1 (also pipelines[0])");
}

#[test]
fn models_need_one_list_per_stage() {
    let e = errors_of(&[("models: [[small, custom], [large]]", "models: [[small, custom]]")]);
    assert_has(&e, "pipelines[1].models: must have one list per stage (2), got 1");
}

#[test]
fn constraint_needs_a_bound() {
    let e = errors_of(&[("search:\n", "constraints:\n  - { metric: p99_ms }\nsearch:\n")]);
    assert_has(&e, "constraints[0]: needs min and/or max");
}

#[test]
fn unknown_search_strategy() {
    let e = errors_of(&[("strategy: exhaustive", "strategy: random-walk")]);
    assert_has(
        &e,
        "search.strategy: unknown strategy 'random-walk' (expected exhaustive|annealing|annealing-pareto|nsga2)",
    );
}

#[test]
fn every_strategy_of_the_command_line_is_accepted_in_a_space() {
    use clap::ValueEnum;
    use recpipe_dse::search::StrategyKind;
    for kind in StrategyKind::value_variants() {
        let text = BASE.replacen("strategy: exhaustive", &format!("strategy: {kind}"), 1);
        let space = parse(&text).unwrap_or_else(|e| panic!("strategy {kind} rejected:\n{e}"));
        assert_eq!(space.search.strategy, *kind);
    }
}

#[test]
fn offered_load_must_be_positive() {
    let e = errors_of(&[("qps: [100, 400]", "qps: [100, -400]")]);
    assert_has(&e, "load.qps[1]: must be a positive number, got -400");
}

#[test]
fn movielens_requires_existing_data_path() {
    let e = errors_of(&[
        ("kind: criteo-kaggle\n  synthetic_fallback: true\n", "kind: movielens\n  path: data/nowhere\n"),
        ("  candidates_per_query: 1024\n", ""),
    ]);
    assert_has(&e, "dataset.path: MovieLens data not found at 'data/nowhere'");
}

#[test]
fn all_problems_are_reported_at_once() {
    let e = errors_of(&[
        ("eval_queries: 8", "eval_queries: 0"),
        ("backends: [[cpu], [gpu]]", "backends: [[cpu], [tpu]]"),
        ("percentile: 95", "percentile: 101"),
        ("metric: p95_ms", "metric: latency"),
    ]);
    assert_has(&e, "4 problems found");
    assert_eq!(e.lines().filter(|l| l.starts_with("t.yaml:")).count(), 4, "{e}");
}

/// Every shipped space validates.
#[test]
fn every_shipped_space_validates() {
    let dir = repo_root().join("spaces");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("spaces/ exists") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).expect("readable");
            if let Err(e) = spec::parse_space(&text, &path.display().to_string(), &repo_root()) {
                panic!("{e}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 2, "expected at least kaggle.yaml and movielens.yaml");
}

/// Every id of a small space decodes to a distinct design and encodes back to itself.
#[test]
fn mixed_radix_ids_round_trip_exhaustively() {
    let space = parse(BASE).expect("valid");
    let mut designs = Vec::new();
    for i in 0..space.point_count() {
        let (t, digits) = space.decode(PointId(i)).expect("in range");
        assert_eq!(space.encode(t, &digits), Some(PointId(i)));
        let design = space.design(PointId(i)).expect("in range");
        assert!(!designs.contains(&(design.template, design.stages.clone(), design.cpu_engines_total)));
        designs.push((design.template, design.stages, design.cpu_engines_total));
    }
    assert!(space.decode(PointId(space.point_count())).is_none());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(template_pick in 0usize..64, raw_digits in proptest::collection::vec(0u64..1000, 8)) {
            let space = parse(BASE).expect("valid");
            let t = template_pick % space.templates.len();
            let digits: Vec<u64> = space.templates[t]
                .params
                .iter()
                .zip(&raw_digits)
                .map(|(p, d)| d % p.radix)
                .collect();
            let id = space.encode(t, &digits).expect("digits in range");
            prop_assert!(id.0 < space.point_count());
            prop_assert_eq!(space.decode(id), Some((t, digits)));
        }
    }
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("recpipe-dse-spec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

#[test]
fn cli_validate_exits_2_with_all_messages() {
    let bad = BASE.replace("percentile: 95", "percentile: 0").replace("[cpu], [gpu]]", "[cpu], [fpga]]");
    let path = write_temp("bad.yaml", &bad);
    let out = bin().arg("validate").arg(&path).current_dir(repo_root()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sla.percentile: must be in the open interval (0, 100), got 0"), "{stderr}");
    assert!(stderr.contains("unknown backend 'fpga'"), "{stderr}");
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(out.stdout.is_empty(), "no summary for an invalid file");
}

#[test]
fn cli_validate_summarises_a_valid_space() {
    // One engine cannot serve two CPU stages: 2 models × 2 item tuples of the [cpu, cpu] block drop out.
    let path = write_temp("good.yaml", &BASE.replace("engines: [2, 4]", "engines: [1, 4]"));
    let out = bin().arg("validate").arg(&path).current_dir(repo_root()).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("design points: 28 before constraints"), "{stdout}");
    assert!(stdout.contains("design points: 24 after structural constraints"), "{stdout}");
    assert!(stdout.contains("stage[0].model"), "{stdout}");
}

#[test]
fn cli_validate_missing_file_exits_2() {
    let out = bin().args(["validate", "spaces/no-such-space.yaml"]).current_dir(repo_root()).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("spaces/no-such-space.yaml: cannot read file"));
}

#[test]
fn cli_rejects_unknown_flag_with_exit_2() {
    let out = bin().args(["validate", "--colour", "x.yaml"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn relative_paths_resolve_against_the_given_directory() {
    let movielens = BASE
        .replace("kind: criteo-kaggle\n  synthetic_fallback: true\n", "kind: movielens\n  path: ml\n")
        .replace("  candidates_per_query: 1024\n", "")
        .replace("preset: rm-small", "preset: popularity")
        .replace("preset: rm-large", "preset: neumf-recbole")
        .replace(
            "dlrm: { embedding_dim: 8, bottom_mlp: [13, 32, 8], top_mlp: [16, 1] }",
            "neumf: { mf_dim: 4, mlp_embedding_dim: 4, mlp_layers: [8, 4] }",
        );
    let dir = std::env::temp_dir().join(format!("recpipe-dse-rel-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("ml")).expect("temp dir");
    assert!(spec::parse_space(&movielens, "m.yaml", &dir).is_ok());
    assert!(spec::parse_space(&movielens, "m.yaml", Path::new("/nonexistent")).is_err());
}

#[test]
fn memory_capacities_must_be_positive_numbers() {
    let e = errors_of(&[
        ("    engines: [2, 4]\n", "    engines: [2, 4]\n    memory_gib: -8\n"),
        ("    count: [1]\n", "    count: [1]\n    memory_gib: 0\n"),
    ]);
    assert_has(&e, "hardware.cpu.memory_gib: must be a positive number, got -8");
    assert_has(&e, "hardware.gpu.memory_gib: must be a positive number, got 0");
    let ok = BASE.replacen("    count: [1]\n", "    count: [1]\n    memory_gib: 80\n", 1);
    assert_eq!(spec::parse_space(&ok, "t.yaml", &repo_root()).expect("valid").gpu.unwrap().memory_gib, Some(80.0));
}

#[test]
fn quality_floor_is_parsed_and_checked_against_the_reported_metrics() {
    let floor = "quality_floor:\n  - { metric: ndcg@64, min: 0.9225 }\n  - { metric: hr@10, min: 0.5 }\nsearch:\n";
    let space = parse(&BASE.replacen("search:\n", floor, 1)).unwrap();
    assert_eq!(space.quality_floor.len(), 2);
    assert_eq!(space.quality_floor[0].metric.to_string(), "ndcg@64");
    assert!((space.quality_floor[0].min - 0.9225).abs() < 1e-12);
    let e = errors_of(&[("search:\n", "quality_floor:\n  - { metric: ndcg@32, min: 0.9 }\nsearch:\n")]);
    assert_has(&e, "quality_floor[0].metric: 'ndcg@32' is not a quality metric this space reports");
    let e = errors_of(&[("search:\n", "quality_floor:\n  - { metric: hr@64, min: 0.1, max: 0.9 }\nsearch:\n")]);
    assert_has(&e, "quality_floor[0].max: a quality floor has only a min");
    let e = errors_of(&[("search:\n", "quality_floor:\n  - { metric: ndcg@64 }\nsearch:\n")]);
    assert_has(&e, "quality_floor[0].min");
    // The floor is for `compare` only: it does not change the journal's fingerprint.
    let plain = parse(BASE).unwrap();
    let settings = recpipe_dse::explore::evaluate::EvalSettings::from_space(&plain);
    assert_eq!(
        recpipe_dse::explore::journal::fingerprint(&plain, &settings, &[]),
        recpipe_dse::explore::journal::fingerprint(&space, &settings, &[])
    );
}

#[test]
fn synthetic_stand_in_settings_are_validated_and_applied() {
    let e = errors_of(&[(
        "  candidates_per_query: 1024\n",
        "  candidates_per_query: 1024\n  synthetic: { click_rate: 1.5, informative_ids: 0, tail: -1, dense: .nan }\n",
    )]);
    assert_has(&e, "t.yaml:8:28: dataset.synthetic.click_rate: must lie strictly between 0 and 1, got 1.5");
    assert_has(&e, "dataset.synthetic.informative_ids: must be ≥ 1, got 0");
    assert_has(&e, "dataset.synthetic.tail: must be a non-negative number of logits, got -1");
    assert_has(&e, "dataset.synthetic.dense: must be a non-negative number of logits, got NaN");
    let e =
        errors_of(&[("  candidates_per_query: 1024\n", "  candidates_per_query: 1024\n  synthetic: { skew: 1 }\n")]);
    assert_has(&e, "dataset.synthetic.skew: unknown field `skew`");
    let text = BASE.replace(
        "  candidates_per_query: 1024\n",
        "  candidates_per_query: 1024\n  synthetic: { click_rate: 0.3, tail: 0.5, informative_ids: 50 }\n",
    );
    let space = parse(&text).expect("valid");
    let c = recpipe_dse::data::synthetic::SyntheticConfig::for_dataset(&space.dataset, Some(100));
    assert_eq!((c.click_rate, c.tail, c.informative_ids), (0.3, 0.5, Some(50)));
    let default = recpipe_dse::data::synthetic::SyntheticConfig::new(5, Some(100));
    assert_eq!(c.mix, default.mix, "fields left out keep the calibrated defaults");
}

#[test]
fn cpu_server_cores_bound_the_engines() {
    let e = errors_of(&[("    threads_per_engine: [1]\n", "    threads_per_engine: [1]\n    cores: 0\n")]);
    assert_has(&e, "hardware.cpu.cores: must be ≥ 1, got 0");
    let text = BASE.replace("    threads_per_engine: [1]\n", "    threads_per_engine: [1]\n    cores: 2\n");
    let space = parse(&text).expect("valid");
    let designs: Vec<_> = (0..space.point_count()).filter_map(|i| space.design(PointId(i))).collect();
    let four = designs.iter().find(|d| d.cpu_engines_total == Some(4)).expect("a 4-engine design");
    let why = space.structural_violation(four).expect("4 engines on a 2-core server");
    assert!(why.contains("4 CPU engines × 1 thread(s) need more than the server's hardware.cpu.cores = 2"), "{why}");
    let two = designs.iter().find(|d| d.cpu_engines_total == Some(2) && d.stages.len() == 1).expect("2 engines");
    assert_eq!(space.structural_violation(two), None);
}

/// BASE with the `custom` DLRM replaced by a list-valued block served in two datatypes.
const VARIANTS: (&str, &str) = (
    "  - name: custom\n    dlrm: { embedding_dim: 8, bottom_mlp: [13, 32, 8], top_mlp: [16, 1] }\n",
    "  - name: custom\n    datatypes: [fp32, int8]\n    dlrm:\n      embedding_dim: [4, 8]\n      \
     bottom_mlp: [[13, 32, d], [13, 64, 32, d]]\n      top_mlp: [16, 1]\n",
);

#[test]
fn list_valued_architecture_knobs_and_datatypes_make_one_model_per_combination() {
    let space = parse(&BASE.replace(VARIANTS.0, VARIANTS.1)).unwrap();
    let names: Vec<&str> = space.zoo.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "small",
            "large",
            "custom-d4-b0-fp32",
            "custom-d4-b0-int8",
            "custom-d4-b1-fp32",
            "custom-d4-b1-int8",
            "custom-d8-b0-fp32",
            "custom-d8-b0-int8",
            "custom-d8-b1-fp32",
            "custom-d8-b1-int8",
        ]
    );
    let v = &space.zoo[5];
    assert_eq!(v.trained_as, "custom-d4-b1");
    assert_eq!(v.arch.describe(), "DLRM d=4, bottom 13-64-32-4, top (355)-16-1, dot");
    // The entry name stands for all eight variants in the pipelines.
    let two_stage = &space.pipelines[1];
    assert_eq!(two_stage.models[0].len(), 1 + 8);
    // validate prints every variant with its architecture and datatype.
    let dir = std::env::temp_dir().join(format!("recpipe-dse-variants-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("variants.yaml");
    std::fs::write(&file, BASE.replace(VARIANTS.0, VARIANTS.1)).unwrap();
    let out = bin().arg("validate").arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("custom-d8-b1-int8  DLRM d=8, bottom 13-64-32-8, top (359)-16-1, dot; served in int8 (trained once as custom-d8-b1)"), "{text}");
}

#[test]
fn impossible_architecture_combinations_are_reported_with_their_values() {
    // A bottom MLP without `d` fits one embedding dimension only: the other combination is reported.
    let e = errors_of(&[
        VARIANTS,
        ("bottom_mlp: [[13, 32, d], [13, 64, 32, d]]", "bottom_mlp: [[13, 32, d], [13, 64, 4]]"),
    ]);
    assert_has(
        &e,
        "t.yaml:15:19: models[2].dlrm.bottom_mlp[1]: must start at 13 (dense features) and end at embedding_dim 8, got [13, 64, 4]",
    );
    assert!(!e.contains("embedding_dim 4, got [13, 64, 4]"), "{e}");
    let e = errors_of(&[VARIANTS, ("embedding_dim: [4, 8]", "embedding_dim: [4, 0]")]);
    assert_has(&e, "models[2].dlrm.embedding_dim[1]: must be an integer in [1, 1048576], got 0");
    let e = errors_of(&[VARIANTS, ("[13, 32, d]", "[13, 32, e]")]);
    assert_has(&e, "models[2].dlrm.bottom_mlp[0]: layer widths must be a width, d (the embedding dimension) or a multiple such as 2d, got 'e'");
    let e = errors_of(&[VARIANTS, ("datatypes: [fp32, int8]", "datatypes: [fp32, fp8]")]);
    assert_has(&e, "models[2].datatypes[1]: unknown datatype 'fp8' (expected fp32|fp16|bf16|int8)");
    let direct =
        BASE.replace(VARIANTS.0, VARIANTS.1).replace("[[small, custom], [large]]", "[[small], [custom-d4-b0-fp32]]");
    assert_eq!(parse(&direct).unwrap().pipelines[1].models[1].len(), 1, "a variant is named directly");
    let e = errors_of(&[(
        "    dlrm: { embedding_dim: 8",
        "    two_tower: { embedding_dim: 8, tower_mlp: [16, 8] }\n    dlrm: { embedding_dim: 8",
    )]);
    assert_has(&e, "models[2]: needs exactly one of preset, dlrm, neumf, popularity, two_tower");
    let e = errors_of(&[VARIANTS, ("bottom_mlp: [[13, 32, d], [13, 64, 32, d]]", "bottom_mlp: wide")]);
    assert_has(&e, "models[2].dlrm.bottom_mlp: must be a list of layer widths or a list of such lists, got 'wide'");
    let e = errors_of(&[VARIANTS, ("embedding_dim: [4, 8]", "embedding_dim: 4.5")]);
    assert_has(&e, "models[2].dlrm.embedding_dim: must be an integer or a list of integers, got 4.5");
    let e = errors_of(&[VARIANTS, ("datatypes: [fp32, int8]", "datatypes: 8")]);
    assert_has(&e, "models[2].datatypes: must be a datatype or a list of them (fp32|fp16|bf16|int8), got 8");
    let e = errors_of(&[(
        "  - { name: small, preset: rm-small }",
        "  - { name: small, preset: popularity, datatypes: [int8] }",
    )]);
    assert_has(
        &e,
        "models[0].datatypes: a popularity model has no parameters to serve in another datatype; remove datatypes",
    );
}

#[test]
fn a_two_tower_first_stage_validates_for_both_data_kinds() {
    let text = BASE.replace(
        "  - { name: small, preset: rm-small }\n",
        "  - { name: small, two_tower: { embedding_dim: [8, 16], tower_mlp: [64, d] } }\n",
    );
    let space = parse(&text).unwrap();
    assert_eq!(space.zoo[0].name, "small-d8");
    assert_eq!(space.zoo[1].arch.describe(), "two-tower d=16, towers 64-16, dot product");
    let ml = std::fs::read_to_string(repo_root().join("spaces/movielens-codesign.yaml")).unwrap();
    let space = spec::parse_space(&ml, "movielens-codesign.yaml", &repo_root()).unwrap();
    assert!(space.zoo.iter().any(|m| m.arch.family() == "two-tower"));
}

#[test]
fn early_stop_is_a_fraction_of_the_budget() {
    let space = parse(&BASE.replacen("  budget: 100\n", "  budget: 100\n  early_stop: 0.25\n", 1)).unwrap();
    assert_eq!(space.search.early_stop, Some(0.25));
    assert_eq!(parse(BASE).unwrap().search.early_stop, None);
    for bad in ["0", "1.5", "-0.1"] {
        let e = errors_of(&[("  budget: 100\n", &format!("  budget: 100\n  early_stop: {bad}\n"))]);
        assert_has(
            &e,
            &format!("t.yaml:44:15: search.early_stop: must be a fraction of the budget in (0, 1], got {bad}"),
        );
    }
}

#[test]
fn accelerator_stage_io_knobs_are_checked() {
    let with_accel = |knobs: &str| {
        BASE.replace("backends: [[cpu], [gpu]]", "backends: [[cpu], [accel]]")
            .replace("  gpu:\n", &format!("  accel:\n    presets: [accel/recpipe-s4.yaml]\n{knobs}  gpu:\n"))
    };
    let ok = parse(&with_accel(
        "    mode: recpipe2021\n    top_n: zero\n    transfers: every-stage\n    python2_division: true\n",
    ))
    .expect("RecPipe's stage I/O is valid");
    let accel = ok.accel.as_ref().unwrap();
    assert!(accel.python2_division);
    assert_eq!((accel.top_n, accel.transfers), (spec::AccelTopN::Zero, spec::AccelTransfers::EveryStage));
    let defaults = parse(&with_accel("")).expect("valid");
    let accel = defaults.accel.as_ref().unwrap();
    assert_eq!((accel.top_n, accel.transfers), (spec::AccelTopN::NextStage, spec::AccelTransfers::ChipBoundary));
    assert!(!accel.python2_division);
    let e = parse(&with_accel("    top_n: none\n    transfers: always\n    python2_division: true\n"))
        .unwrap_err()
        .to_string();
    assert_has(&e, "hardware.accel.top_n: unknown top_n 'none' (expected next-stage|zero)");
    assert_has(&e, "hardware.accel.transfers: unknown transfers 'always' (expected chip-boundary|every-stage)");
    assert_has(&e, "hardware.accel.python2_division: applies to mode recpipe2021 only, got true with mode rpaccel");
}
