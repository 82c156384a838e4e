//! Integration tests of the serving simulator: known answers from queueing theory (≥ 1 M queries, checked
//! against the run's own 99% confidence intervals), the reference's logged saturation points and light-load
//! means, determinism, and the `simulate` command on good and bad pipeline files.

use crate::support::{bin, repo};
use recpipe_dse::sim::queueing::{erlang_c, jackson_tandem_mean_sojourn, md1_mean_wait, mm1_mean_wait, mmc_mean_wait};
use recpipe_dse::sim::recpipe2021::{rpaccel_service_ms, AccelPipeline, Rm};
use recpipe_dse::sim::{
    self, ArrivalProcess, Interval, PipelineModel, ServiceDist, SimReport, SimSettings, StageModel, SubBatchGroup,
};
use std::path::PathBuf;
use std::sync::Arc;

const MILLION: u64 = 1_000_000;

fn stage(servers: u32, service: ServiceDist) -> StageModel {
    StageModel { name: format!("c{servers}"), servers, service, sort_ms: 0.0, overhead_ms: 0.0 }
}

fn poisson(qps: f64, stages: Vec<StageModel>) -> PipelineModel {
    PipelineModel { arrival: ArrivalProcess::Poisson { qps }, stages, groups: vec![] }
}

fn settings(queries: u64, seed: u64) -> SimSettings {
    SimSettings { warmup_queries: 10_000, confidence: 0.99, ..SimSettings::new(queries, seed) }
}

/// `want` lies in the interval, and the interval is tight enough for the check to mean something.
fn assert_in(ci: Option<Interval>, want: f64, max_rel_half_width: f64, what: &str) {
    let ci = ci.unwrap_or_else(|| panic!("{what}: no interval"));
    assert!(ci.contains(want), "{what}: theory {want} outside the 99% interval [{}, {}]", ci.lo, ci.hi);
    assert!(
        ci.half_width() <= max_rel_half_width * want,
        "{what}: interval [{}, {}] too wide to test {want}",
        ci.lo,
        ci.hi
    );
}

fn run(model: &PipelineModel, s: &SimSettings) -> SimReport {
    let r = sim::simulate(model, s).expect("valid model");
    assert!(r.measured_queries >= MILLION, "known-answer runs use ≥ 1 M measured queries");
    r
}

#[test]
fn mm1_mean_wait_and_sojourn_percentile_match_theory() {
    // λ = 0.7/ms, μ = 1/ms.
    let m = poisson(700.0, vec![stage(1, ServiceDist::Exponential { mean_ms: 1.0 })]);
    let r = run(&m, &settings(MILLION + 10_000, 11));
    assert_in(r.stages[0].wait_mean_ci_ms, mm1_mean_wait(0.7, 1.0).unwrap(), 0.05, "M/M/1 mean wait");
    // The M/M/1 sojourn time is exponential with rate μ − λ: p95 = ln(20)/(μ − λ).
    assert_in(r.p95_ci_ms, 20f64.ln() / 0.3, 0.05, "M/M/1 p95 sojourn");
    assert!(!r.saturated);
    assert!((r.utilization[0] - 0.7).abs() < 0.01, "{}", r.utilization[0]);
}

#[test]
fn mmc_mean_wait_matches_erlang_c() {
    // c = 4, λ = 3/ms, μ = 1/ms: ρ = 0.75.
    let m = poisson(3000.0, vec![stage(4, ServiceDist::Exponential { mean_ms: 1.0 })]);
    let r = run(&m, &settings(MILLION + 10_000, 12));
    let want = mmc_mean_wait(4, 3.0, 1.0).unwrap();
    assert!((want - erlang_c(4, 3.0).unwrap() / 1.0).abs() < 1e-12);
    assert_in(r.stages[0].wait_mean_ci_ms, want, 0.05, "M/M/4 mean wait");
    // A heap-managed pool (c > 16) too: c = 24, ρ = 0.9.
    let m = poisson(21_600.0, vec![stage(24, ServiceDist::Exponential { mean_ms: 1.0 })]);
    let r = run(&m, &settings(MILLION + 10_000, 13));
    assert_in(r.stages[0].wait_mean_ci_ms, mmc_mean_wait(24, 21.6, 1.0).unwrap(), 0.1, "M/M/24 mean wait");
}

#[test]
fn md1_mean_wait_matches_pollaczek_khinchine() {
    let m = poisson(600.0, vec![stage(1, ServiceDist::Deterministic { ms: 1.0 })]);
    let r = run(&m, &settings(MILLION + 10_000, 14));
    assert_in(r.stages[0].wait_mean_ci_ms, md1_mean_wait(0.6, 1.0).unwrap(), 0.05, "M/D/1 mean wait");
    assert!((r.stages[0].service_mean_ms - 1.0).abs() < 1e-12);
}

#[test]
fn jackson_tandem_of_two_mm1_mean_sojourn() {
    // Two M/M/1 stations, μ = 1/ms and 1.25/ms, λ = 0.5/ms: 1/0.5 + 1/0.75.
    let m = poisson(
        500.0,
        vec![stage(1, ServiceDist::Exponential { mean_ms: 1.0 }), stage(1, ServiceDist::Exponential { mean_ms: 0.8 })],
    );
    let r = run(&m, &settings(MILLION + 10_000, 15));
    assert_in(r.mean_ci_ms, jackson_tandem_mean_sojourn(0.5, &[1.0, 1.25]).unwrap(), 0.05, "tandem sojourn");
    assert_in(r.stages[1].wait_mean_ci_ms, mm1_mean_wait(0.5, 1.25).unwrap(), 0.08, "second station wait");
}

/// The reference's logged accelerator runs (RecPipe's `logs/example_logs/figure12_kaggle*.out` and
/// `figure13_accel_1_stage.out`): configuration, mean gap λ (ms) and the logged mean end-to-end latency (ms).
fn logged_runs() -> Vec<(AccelPipeline, f64, f64)> {
    let l1 = AccelPipeline::swept("L [1]", vec![(Rm::Large, 4096, 1)]);
    let l4 = AccelPipeline { label: "L [4]".into(), stages: vec![(Rm::Large, 4096, 4)], engines: vec![4] };
    let sl = |a, b| AccelPipeline::swept("S/L", vec![(Rm::Small, 4096, a), (Rm::Large, 512, b)]);
    let sml =
        |a, b, c| AccelPipeline::swept("S/M/L", vec![(Rm::Small, 4096, a), (Rm::Med, 512, b), (Rm::Large, 128, c)]);
    let mut v = Vec::new();
    for (gap, mean) in [(0.5, 8568.0), (1.0, 5879.0), (2.0, 964.6), (2.5, 6.52), (4.0, 2.73), (10.0, 2.43)] {
        v.push((l1.clone(), gap, mean));
    }
    for (gap, mean) in [(1.0, 803.0), (2.0, 5.61), (4.0, 5.03)] {
        v.push((l4.clone(), gap, mean));
    }
    for (gap, mean) in [(0.5, 4.65), (1.0, 2.94), (2.0, 2.25), (2.5, 2.10), (4.0, 1.87), (10.0, 1.97)] {
        v.push((sl(4, 4), gap, mean));
    }
    for (gap, mean) in [(0.5, 4.39), (1.0, 3.85), (2.0, 3.78), (4.0, 3.51), (10.0, 3.45)] {
        v.push((sl(4, 16), gap, mean));
    }
    for (gap, mean) in [(0.5, 4.81), (1.0, 4.32), (2.0, 4.33), (2.5, 4.25), (4.0, 4.09), (10.0, 4.14)] {
        v.push((sl(16, 16), gap, mean));
    }
    for (gap, mean) in [(1.0, 28.06), (2.0, 28.08), (4.0, 27.81), (10.0, 27.71)] {
        v.push((sl(64, 64), gap, mean));
    }
    for (gap, mean) in [(0.5, 560.1), (1.0, 3.00), (2.0, 2.41), (2.5, 2.24), (4.0, 2.00), (10.0, 2.03)] {
        v.push((sml(4, 4, 4), gap, mean));
    }
    for (gap, mean) in [(0.5, 4.27), (1.0, 3.77), (2.0, 3.69), (2.5, 3.56), (4.0, 3.33), (10.0, 3.43)] {
        v.push((sml(16, 4, 16), gap, mean));
    }
    v
}

#[test]
fn logged_saturation_points_are_reproduced_exactly() {
    // The reference's parsers treat a tail above 100 ms as unachievable; every logged run with a mean above
    // 100 ms is saturated in the simulator (ρ ≥ 1) and every other one is not.
    for (p, gap, logged_mean) in logged_runs() {
        let r = sim::simulate(&p.model(gap, false).unwrap(), &SimSettings::new(10_000, 123)).unwrap();
        assert_eq!(r.saturated, logged_mean > 100.0, "{} λ={gap}: logged {logged_mean} ms, simulated {r:?}", p.label);
        if r.saturated {
            assert!(r.mean_ms > 100.0, "{} λ={gap}: saturated but mean {}", p.label, r.mean_ms);
        }
    }
}

#[test]
fn light_load_means_match_the_logs_within_the_emulation_overhead() {
    // At λ = 10 ms queueing is negligible; the emulation's overhead (0.34 ms + 0.25 ms per extra stage)
    // accounts for the gap between the logged mean and the pure service sum.
    for (p, gap, logged_mean) in logged_runs().into_iter().filter(|r| r.1 >= 10.0) {
        let pure = sim::simulate(&p.model(gap, false).unwrap(), &SimSettings::new(10_000, 123)).unwrap();
        let with = sim::simulate(&p.model(gap, true).unwrap(), &SimSettings::new(10_000, 123)).unwrap();
        let service_sum: f64 = p.stages.iter().map(|&(rm, n, s)| rpaccel_service_ms(rm, n, s).unwrap()).sum();
        // Service times are rounded to whole nanoseconds in the simulator: ≤ 0.5 ns per stage.
        assert!(pure.mean_ms >= service_sum - 2e-6 && pure.mean_ms < service_sum * 1.01, "{}", p.label);
        assert!(logged_mean > pure.mean_ms, "{}: the emulation is never faster than the model", p.label);
        assert!(
            (with.mean_ms - logged_mean).abs() <= 0.1,
            "{} λ={gap}: simulated with overhead {} ms vs logged {logged_mean} ms",
            p.label,
            with.mean_ms
        );
    }
}

#[test]
fn same_seed_same_report_bit_for_bit() {
    let m = PipelineModel {
        arrival: ArrivalProcess::LegacyMs { mean_gap_ms: 0.75 },
        stages: vec![
            stage(2, ServiceDist::LogNormal { mean_ms: 0.9, cv: 0.7 }),
            stage(3, ServiceDist::Empirical { samples_ms: Arc::new(vec![0.5, 1.5, 2.25, 0.75]) }),
            stage(3, ServiceDist::Exponential { mean_ms: 0.6 }),
        ],
        groups: vec![SubBatchGroup { first_stage: 1, last_stage: 2, sub_batches: 3 }],
    };
    let s = SimSettings::new(50_000, 42);
    let a = serde_json::to_string(&sim::simulate(&m, &s).unwrap()).unwrap();
    let b = serde_json::to_string(&sim::simulate(&m, &s).unwrap()).unwrap();
    assert_eq!(a, b);
    let c = serde_json::to_string(&sim::simulate(&m, &SimSettings::new(50_000, 43)).unwrap()).unwrap();
    assert_ne!(a, c);
}

#[test]
fn overload_is_reported_never_hangs() {
    // ρ = 3 with a small queue cap: the run stops early with a message and is marked saturated.
    let m = poisson(3000.0, vec![stage(1, ServiceDist::Deterministic { ms: 1.0 })]);
    let s = SimSettings { max_queue_len: 1000, ..SimSettings::new(MILLION, 1) };
    let r = sim::simulate(&m, &s).unwrap();
    assert!(r.saturated);
    let why = r.saturation_reason.unwrap();
    assert!(why.contains("ρ = 3.000") && why.contains("stage c1: more than 1000 queries waiting"), "{why}");
    assert!(r.measured_queries < 10_000);
    assert!(r.stages[0].saturated);
    assert!(r.mean_ci_ms.is_none(), "a capped run has no steady-state intervals");
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("recpipe-dse-sim-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn cli_simulate_json_has_the_fields_and_is_repeatable() {
    let file = repo().join("spaces/pipelines/rpaccel-2stage.yaml");
    let out = bin().arg("simulate").arg(&file).args(["--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["throughput_qps", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms", "saturated", "max_qps_under_sla"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["utilization"].as_array().unwrap().len(), 2);
    assert_eq!(v["seed"], 123);
    assert!(v["max_qps_under_sla"].as_f64().unwrap() > 0.0);
    let again = bin().arg("simulate").arg(&file).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.stdout, again.stdout, "same seed ⇒ bit-identical output");
    let table = bin().arg("simulate").arg(&file).output().unwrap();
    assert!(table.status.success());
    assert!(String::from_utf8_lossy(&table.stdout).contains("max offered load under the SLA"));
}

#[test]
fn cli_simulate_reads_trace_and_sample_files() {
    temp_file("trace.txt", "# arrival times, ms\n0\n0.5\n1.0, 1.7\n2.0\n3.1\n");
    temp_file("samples.txt", "0.2 0.3\n0.25\n");
    let p = temp_file(
        "traced.yaml",
        "arrival: {process: trace, file: trace.txt}\nstages:\n  - {servers: 1, service: {kind: empirical, file: samples.txt}}\n",
    );
    let out = bin().args(["simulate", p.to_str().unwrap(), "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["queries"], 6);
}

#[test]
fn cli_simulate_bad_file_exits_2_with_every_problem() {
    let p = temp_file(
        "bad.yaml",
        "queries: 100\narrival: {process: legacy-ms, mean_gap_ms: 0}\nstages:\n  - {servers: 0, service: {kind: \
         uniform, ms: 1}}\nsla: {percentile: 95}\n",
    );
    let out = bin().args(["simulate", p.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no half result on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    let name = p.display().to_string();
    for want in [
        format!("{name}:2:"),
        "arrival.mean_gap_ms: must be a number in (0, 1000000000), got 0".to_string(),
        "stages[0].servers: must be an integer in [1, 1000000], got 0".to_string(),
        "stages[0].service.kind: unknown service kind 'uniform'".to_string(),
        "sla.target_ms: missing required field".to_string(),
        "4 problems found".to_string(),
    ] {
        assert!(err.contains(&want), "missing `{want}` in:\n{err}");
    }
    let missing = bin().args(["simulate", "/no/such/pipeline.yaml"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/pipeline.yaml: cannot read file"));
    let yaml = temp_file("broken.yaml", "stages: [\n");
    let out = bin().args(["simulate", yaml.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("broken.yaml"));
}
