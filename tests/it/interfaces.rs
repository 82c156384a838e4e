//! The scriptable interface: `--format json` summaries that parse and round-trip, `-q` / `-v`, the cache
//! folder's environment variable, shell completions and man pages.

use crate::support::{bin, repo};
use recpipe_dse::cli::accel::{AccelEvalSummary, AccelExportSummary};
use recpipe_dse::cli::import::ImportSummary;
use recpipe_dse::cli::output::{
    CalibrateSummary, CompareSummary, ExploreSummary, QualityRow, TrainSummary, ValidateSummary,
};
use recpipe_dse::sim::pipeline_file::PipelineRun;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Output;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("recpipe-interfaces-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stdout of a successful run, as JSON that reads back into `T` and serialises to the same document.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(out: &Output) -> T {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let value: T = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: not the summary:\n{stdout}"));
    let again: T = serde_json::from_str(&serde_json::to_string(&value).unwrap()).unwrap();
    assert_eq!(again, value);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(serde_json::to_value(&value).unwrap(), doc, "fields lost in the round trip");
    value
}

/// The bench-search space with tiny models, in `dir`.
fn small_space(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("tests/spaces/bench-search.yaml"))
        .unwrap()
        .replacen("queries: 2000", "queries: 300", 1)
        .replacen("quality:\n", "training:\n  epochs: 1\n  train_rows: 2000\n  validation_rows: 500\n\nquality:\n", 1);
    let path = dir.join("small.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn explore_compare_and_calibrate_print_json_that_round_trips() {
    let dir = temp_dir("json");
    let space = small_space(&dir);
    let out = dir.join("out");
    // The cache folder comes from the environment variable.
    let explore = bin()
        .env("RECPIPE_DSE_CACHE", dir.join("env-cache"))
        .args(["-q", "explore"])
        .arg(&space)
        .arg("--out")
        .arg(&out)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(explore.stderr.is_empty(), "-q printed: {}", text(&explore.stderr));
    let e: ExploreSummary = round_trip(&explore);
    assert_eq!((e.space.as_str(), e.points, e.evaluated, e.reused), ("bench-search", 2192, 2192, 0));
    assert!(e.feasible > 0 && e.front > 0 && e.hypervolume > 0.0 && !e.interrupted);
    assert!(e.files.iter().any(|f| f.ends_with("report.md")) && Path::new(&e.report_dir).is_dir());
    assert!(e.files.iter().any(|f| f.ends_with("report.html")));
    assert!(dir.join("env-cache/checkpoints").is_dir(), "RECPIPE_DSE_CACHE was not used");
    // The tidy long table: one row per point and metric, per-load metrics split into metric and load.
    use polars::prelude::{ParquetReader, SerReader};
    let long = ParquetReader::new(std::fs::File::open(Path::new(&e.report_dir).join("points_long.parquet")).unwrap())
        .finish()
        .unwrap();
    let names: Vec<String> = long.get_column_names().iter().map(|n| n.to_string()).collect();
    assert_eq!(names, ["id", "feasible", "metric", "load_qps", "value"]);
    assert!(long.height() > 4 * 2192, "{} rows", long.height());
    let metric = long.column("metric").unwrap().str().unwrap().clone();
    let load = long.column("load_qps").unwrap().f64().unwrap().clone();
    let at_500 = (0..long.height()).filter(|&i| metric.get(i) == Some("p95_ms") && load.get(i) == Some(500.0)).count();
    let wide = ParquetReader::new(std::fs::File::open(Path::new(&e.report_dir).join("points.parquet")).unwrap())
        .finish()
        .unwrap();
    let simulated = wide.height() - wide.column("p95_ms@500qps").unwrap().null_count();
    assert!(simulated > 0);
    assert_eq!(at_500, simulated, "one long row per point with p95 at 500 q/s");

    let compare = || {
        bin()
            .arg("compare")
            .arg(&space)
            .arg("--out")
            .arg(&out)
            .arg("--cache-dir")
            .arg(dir.join("env-cache"))
            .args(["--sla", "p95=10ms", "--qps", "200,400", "--format", "json"])
            .output()
            .unwrap()
    };
    let c: CompareSummary = round_trip(&compare());
    assert_eq!(c.loads_qps, vec![200.0, 400.0]);
    assert!(c.compared > 0 && !c.rows.is_empty() && c.rows[0].rank == 1, "{c:?}");
    assert!(c.rows.windows(2).all(|w| w[0].rank < w[1].rank));
    assert!(Path::new(&c.written).is_file() && c.written.ends_with("report.md"));
    assert!(Path::new(&c.page).is_file() && Path::new(&c.page).parent() == Path::new(&c.written).parent());
    let page = std::fs::read_to_string(&c.page).unwrap();
    let data = recpipe_dse::report::html::embedded_data(&page).expect("the comparison page embeds its data");
    let shown = data.compare.expect("the page carries the comparison").rows;
    assert_eq!(shown, c.rows.iter().map(|r| r.row.clone()).collect::<Vec<_>>());
    // A second comparison within the same second gets a folder of its own.
    let c2: CompareSummary = round_trip(&compare());
    assert_ne!(c2.written, c.written);
    assert!(Path::new(&c.written).is_file() && Path::new(&c2.written).is_file());

    // train and quality, from the models explore trained.
    let from_cache = |command: &str| {
        bin().arg(command).arg(&space).arg("--cache-dir").arg(dir.join("env-cache")).args(["--format", "json"]).output()
    };
    let t: TrainSummary = round_trip(&from_cache("train").unwrap());
    assert!(
        !t.models.is_empty() && t.models.iter().all(|m| m.runs.len() == 1 && !m.runs[0].metrics.is_empty()),
        "{t:?}"
    );
    let q: Vec<QualityRow> = round_trip(&from_cache("quality").unwrap());
    assert!(
        !q.is_empty()
            && q.iter().all(|r| r.models.len() == r.stages && r.items.len() == r.stages && !r.metrics.is_empty())
    );

    // A dry run of a CPU space lists what would be measured, in an empty calibration folder.
    let cpu_space = dir.join("cpu.yaml");
    let cpu = std::fs::read_to_string(repo().join("tests/spaces/tiny-explore.yaml")).unwrap();
    std::fs::write(&cpu_space, cpu.replace("accel/", &format!("{}/accel/", repo().display()))).unwrap();
    let calibrate = bin()
        .arg("calibrate")
        .arg(&cpu_space)
        .arg("--calib-dir")
        .arg(dir.join("calib"))
        .args(["--dry-run", "--device", "cpu", "--format", "json"])
        .output()
        .unwrap();
    let k: CalibrateSummary = round_trip(&calibrate);
    assert!(!k.to_measure.is_empty() && k.measured == 0 && k.damaged_rows.is_empty(), "{k:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verbose_adds_details_and_quiet_keeps_errors() {
    let dir = temp_dir("verbosity");
    let space = small_space(&dir);
    let run = |flag: &str| {
        bin()
            .arg(flag)
            .arg("explore")
            .arg(&space)
            .arg("--out")
            .arg(dir.join("out"))
            .arg("--cache-dir")
            .arg(dir.join("cache"))
            .output()
            .unwrap()
    };
    let verbose = run("-v");
    assert_eq!(verbose.status.code(), Some(0), "{}", text(&verbose.stderr));
    let stderr = text(&verbose.stderr);
    assert!(stderr.contains("phase search and evaluation:") && stderr.contains("fingerprint"), "{stderr}");
    let quiet = run("--quiet");
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
    assert!(text(&quiet.stdout).contains("2192 points (0 evaluated, 2192 reused)"));
    // Errors still print under -q, with their exit code.
    let bad = bin().args(["-q", "explore", "no/such/space.yaml"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("no/such/space.yaml"));
    assert_eq!(bin().args(["-q", "-v", "validate", "x"]).output().unwrap().status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn completions_and_man_pages_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let script = text(&out.stdout);
        for command in ["explore", "compare", "calibrate", "reproduce"] {
            assert!(script.contains(command), "{shell} completion lacks {command}");
        }
    }
    let page = bin().arg("man").output().unwrap();
    assert!(text(&page.stdout).starts_with(".ie") && text(&page.stdout).contains("explore"));
    let dir = temp_dir("man");
    let out = bin().args(["man", "--out"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for page in ["recpipe-dse.1", "recpipe-dse-explore.1", "recpipe-dse-compare.1", "recpipe-dse-bench-search.1"] {
        let roff = std::fs::read_to_string(dir.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(roff.contains(".TH"), "{page}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn version_names_the_commit_libtorch_and_cuda() {
    let out = bin().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v = text(&out.stdout);
    let commit = v.lines().find_map(|l| l.strip_prefix("commit: ")).unwrap_or_else(|| panic!("{v}"));
    assert!(commit == "unknown" || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{v}");
    assert!(v.contains("libtorch: 2.") && v.contains("CUDA: ") && v.contains("tch 0.24"), "{v}");
    assert_eq!(
        text(&bin().arg("-V").output().unwrap().stdout).trim(),
        format!("recpipe-dse {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn set_overrides_any_field_and_bad_overrides_are_named() {
    let dir = temp_dir("set");
    let space = small_space(&dir);
    let explore = |sets: &[&str]| {
        let mut c = bin();
        c.arg("explore").arg(&space).arg("--out").arg(dir.join("out")).arg("--cache-dir").arg(dir.join("cache"));
        for s in sets {
            c.args(["--set", s]);
        }
        c.args(["--format", "json"]).output().unwrap()
    };
    let run = explore(&["search.strategy=nsga2", "search.budget=90", "load.qps=[300, 600]"]);
    let e: ExploreSummary = round_trip(&run);
    assert!(e.strategy.starts_with("nsga2") && (e.points, e.budget) == (90, 90), "{e:?}");
    let md = std::fs::read_to_string(Path::new(&e.report_dir).join("report.md")).unwrap();
    assert!(md.contains("300, 600 queries/s") || md.contains("300 queries/s"), "{md}");
    for (set, shows) in [
        ("load.qps=[0]", "load.qps[0]: must be a positive number, got 0"),
        ("load.qpz=1", "load.qpz: unknown field `qpz`"),
        ("pipelines[9].stages=1", "index [9] is out of range"),
        ("search budget", "expected key=value"),
    ] {
        let out = explore(&[set]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {stderr}");
        assert!(stderr.contains(shows), "{set}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn validate_simulate_accel_and_import_print_json_that_round_trips() {
    let dir = temp_dir("json-more");
    let validate =
        bin().args(["validate", "spaces/kaggle.yaml", "spaces/movielens.yaml", "--format", "json"]).output().unwrap();
    let v: Vec<ValidateSummary> = round_trip(&validate);
    assert_eq!(v.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["kaggle", "movielens"]);
    assert!(v[0].points_before_constraints > 0 && v[0].templates.iter().all(|t| t.backends.len() == t.stages));

    let simulate =
        bin().args(["simulate", "spaces/pipelines/rpaccel-2stage.yaml", "--format", "json"]).output().unwrap();
    let s: PipelineRun = round_trip(&simulate);
    assert!(!s.name.is_empty());

    let eval = bin()
        .args(["accel", "eval", "--model", "rm-large", "--hardware", "accel/recpipe-s4.yaml", "--dataset", "kaggle"])
        .args(["--items", "4096", "--top-n", "512", "--format", "json"])
        .output()
        .unwrap();
    let a: AccelEvalSummary = round_trip(&eval);
    assert!(a.latency_s > 0.0 && a.components.contains_key("embedding"), "{a:?}");

    let export = bin()
        .args(["accel", "export", "--scalesim", "--model", "rm-small", "--hardware", "accel/recpipe-s64.yaml"])
        .args(["--items", "512", "--format", "json", "--out"])
        .arg(dir.join("scalesim"))
        .output()
        .unwrap();
    let x: AccelExportSummary = round_trip(&export);
    assert_eq!(x.files.len(), 4);
    assert!(x.files.iter().all(|f| Path::new(f).is_file()), "{x:?}");
    assert_eq!(x.total_ws_cycles, x.layers.iter().map(|l| l.ws_cycles).sum::<u64>());

    // A RecPipe checkout of one accelerator experiment.
    let root = dir.join("recpipe");
    crate::support::recpipe_configs(&root);
    let exp = root.join("configs/recpipe_configs/one.json");
    std::fs::create_dir_all(exp.parent().unwrap()).unwrap();
    std::fs::write(
        &exp,
        r#"{"num_queries": 1000, "nepochs": 1, "max_cpu_engines": 1, "num_stages": 1, "arrival_rates": [2],
            "model_configs": ["configs/model_configs/dim_4_0.json"], "num_threads_per_engine": [1],
            "use_gpus": ["False"], "accel_configs": "all", "stage_batch_sizes": ["4096"]}"#,
    )
    .unwrap();
    let import = bin()
        .args(["import", "recpipe"])
        .arg(&exp)
        .arg("--out")
        .arg(dir.join("one.yaml"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let i: ImportSummary = round_trip(&import);
    // Sizes 1, 4, 16, 64, each with RecPipe's ⌊S / 1⌋ = 1, 4, 16 or 64 engines.
    assert_eq!((i.space.as_str(), i.points), ("one", 16), "{i:?}");
    // Paths in the space resolve from the folder the import ran in (the checkout's root here).
    assert!(repo().join(&i.models[0].1).is_file(), "{:?}", i.models);
    let _ = std::fs::remove_dir_all(&dir);
}
