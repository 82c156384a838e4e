//! explore: evaluation join, journal and resume, search strategies, Pareto analysis and reports, on tiny
//! spaces with sources defined here (a closed-form quality table and synthetic CPU/GPU latency samples).

use clap::ValueEnum;
use recpipe_dse::explore::driver::{Driver, DriverOptions};
use recpipe_dse::explore::evaluate::{EvalSettings, Evaluator};
use recpipe_dse::explore::journal::{fingerprint, Journal};
use recpipe_dse::explore::{objective_vector, Outcome, QualitySource, StageLatencySource, StageService};
use recpipe_dse::pareto::dominates;
use recpipe_dse::report;
use recpipe_dse::search::{self, SearchSettings, StrategyKind};
use recpipe_dse::spec::metric::Metric;
use recpipe_dse::spec::{load_space, PointId, Space, StageHardware};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Quality growing with the last stage's model size and the first stage's items (test source).
struct TableQuality;

impl QualitySource for TableQuality {
    fn cascade(&self, stages: &[(usize, u32)]) -> Result<BTreeMap<String, f64>, String> {
        let last = stages.last().expect("a stage").0 as f64;
        let first_items = f64::from(stages[0].1);
        let ndcg = 0.2 + 0.1 * last + first_items / 40_960.0;
        Ok(BTreeMap::from([("ndcg@64".to_string(), ndcg), ("hr@64".to_string(), ndcg + 0.1)]))
    }
    fn describe(&self) -> String {
        "test quality table".into()
    }
    fn is_synthetic(&self) -> bool {
        true
    }
}

/// CPU samples proportional to items (slower for the large model, slowed by concurrency); GPU stages have
/// no profile for rm-large (test source).
struct TestLatency;

impl StageLatencySource for TestLatency {
    fn stage_service(
        &self,
        model: usize,
        items: u32,
        _keep: u32,
        hw: &StageHardware,
        engines: u32,
    ) -> Result<StageService, String> {
        let per_item_ms = if model == 0 { 0.0005 } else { 0.004 };
        let (base, slowdown, host) = match hw {
            StageHardware::Cpu { .. } => {
                (per_item_ms * f64::from(items), 1.0 + 0.01 * f64::from(engines), "test-cpu-host")
            }
            StageHardware::Gpu { .. } if model == 0 => (0.3 + 0.0001 * f64::from(items), 1.0, "test-gpu-host"),
            StageHardware::Gpu { .. } => {
                return Err(format!("no latency profile for model {model} @{items} on gpu on any known host"))
            }
            StageHardware::Accel { .. } => return Err("accelerator stages are modeled".into()),
        };
        let samples: Vec<f64> = (0..20).map(|i| base * slowdown * (0.9 + 0.01 * f64::from(i))).collect();
        Ok(StageService { samples_ms: Arc::new(samples), host: host.into(), slowdown })
    }
    fn describe(&self) -> String {
        "test latency samples".into()
    }
}

pub(crate) fn space(file: &str) -> Arc<Space> {
    // Accelerator presets resolve against the working directory, the package root under `cargo test`.
    let root = crate::support::repo();
    Arc::new(load_space(&root.join("tests/spaces").join(file)).expect("test space is valid"))
}

pub(crate) fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("recpipe-explore-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn settings(space: &Space, budget: u64, seed: u64) -> SearchSettings {
    SearchSettings {
        seed,
        budget,
        population: space.search.population as usize,
        restarts: space.search.restarts as usize,
    }
}

/// Run `kind` on the tiny space with a journal; `stop_after` simulates an interruption.
pub(crate) fn run(
    space: &Arc<Space>,
    journal: &Path,
    kind: StrategyKind,
    budget: u64,
    stop_after: Option<u64>,
) -> recpipe_dse::explore::RunSummary {
    let es = EvalSettings::from_space(space);
    let evaluator = Evaluator::new(space, Some(&TableQuality), &TestLatency, es);
    let fp = fingerprint(space, &es, &["q".into(), "l".into()]);
    let j = Journal::open(journal, &fp).unwrap();
    let mut s = search::build(kind, Arc::clone(space), settings(space, budget, 4));
    let mut opts = DriverOptions::new(budget);
    opts.stop_after_new = stop_after;
    Driver::new(&evaluator, Some(&j), opts).run(s.as_mut())
}

fn table(space: &Space, s: &recpipe_dse::explore::RunSummary) -> Vec<(u64, bool, BTreeMap<String, u64>)> {
    report::rows(space, &s.order, &s.outcomes)
        .into_iter()
        .map(|r| (r.id, r.feasible, r.metrics.iter().map(|(k, v)| (k.to_string(), v.to_bits())).collect()))
        .collect()
}

#[test]
fn exhaustive_evaluates_every_point_once_with_reasons() {
    let sp = space("tiny-explore.yaml");
    let dir = temp_dir("exh");
    let s = run(&sp, &dir.join("j.jsonl"), StrategyKind::Exhaustive, 10_000, None);
    assert_eq!(s.order.len() as u64, sp.point_count());
    assert_eq!(s.evaluated, sp.point_count());
    let reasons: Vec<String> = s
        .outcomes
        .values()
        .filter_map(|o| match o {
            Outcome::Infeasible { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert!(reasons.iter().any(|r| r.contains("no latency profile")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("constraint hr@64")), "{reasons:?}");
    // Feasible points carry every metric the objectives and the report need; accel points their costs.
    for (id, o) in &s.outcomes {
        if let Outcome::Feasible(m) = o {
            for k in [Metric::Ndcg(64), Metric::P95Ms, Metric::CapacityQps] {
                assert!(m.get(k).is_some(), "{id:?} lacks {k}");
            }
            assert!(m.get_at(Metric::P95Ms, "100qps").is_some(), "{id:?} lacks p95_ms@100qps");
            let d = sp.design(*id).unwrap();
            if d.stages.iter().any(|st| matches!(st.hardware, StageHardware::Accel { .. })) {
                assert!(m.get(Metric::AreaMm2).unwrap() > 0.0 && m.get(Metric::EnergyJPerQuery).unwrap() > 0.0);
                assert!(m.stage_sources.iter().all(|h| h == "accel model"));
            }
            if d.stages.iter().any(|st| matches!(st.hardware, StageHardware::Cpu { .. })) {
                assert!(m.stage_sources.iter().any(|h| h == "test-cpu-host"));
            }
        }
    }
    // A second run reuses every point from the journal.
    let again = run(&sp, &dir.join("j.jsonl"), StrategyKind::Exhaustive, 10_000, None);
    assert_eq!((again.evaluated, again.reused), (0, sp.point_count()));
    assert_eq!(table(&sp, &s), table(&sp, &again));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interrupted_and_resumed_runs_match_uninterrupted_ones() {
    let sp = space("tiny-explore.yaml");
    for kind in [StrategyKind::Nsga2, StrategyKind::Annealing, StrategyKind::AnnealingPareto] {
        let dir = temp_dir(&kind.name());
        let full = run(&sp, &dir.join("full.jsonl"), kind, 40, None);
        assert!(full.order.len() <= 40 && !full.interrupted);
        let cut = run(&sp, &dir.join("cut.jsonl"), kind, 40, Some(13));
        assert!(cut.interrupted && cut.evaluated >= 13 && (cut.order.len() as u64) < 40, "{kind:?}");
        let resumed = run(&sp, &dir.join("cut.jsonl"), kind, 40, None);
        assert!(resumed.reused >= 13, "{kind:?}: {}", resumed.reused);
        let ids = |s: &recpipe_dse::explore::RunSummary| s.order.iter().map(|p| p.0).collect::<Vec<_>>();
        assert_eq!(ids(&full), ids(&resumed), "{kind:?}: points accepted");
        assert_eq!(table(&sp, &full), table(&sp, &resumed), "{kind:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn journals_are_the_same_bytes_whatever_the_thread_timing() {
    let sp = space("tiny-explore.yaml");
    let dir = temp_dir("journal-bytes");
    // Rayon pools of different sizes finish the points of a batch in different orders.
    let journal_with_threads = |threads: usize, name: &str| {
        let path = dir.join(name);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(&sp, &path, StrategyKind::Exhaustive, 10_000, None));
        std::fs::read(&path).unwrap()
    };
    let one = journal_with_threads(1, "one.jsonl");
    let four = journal_with_threads(4, "four.jsonl");
    assert!(!one.is_empty());
    assert!(one == four, "journals differ between 1 and 4 worker threads");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn strategies_respect_the_budget_and_dedup() {
    let sp = space("tiny-explore.yaml");
    for kind in StrategyKind::value_variants().iter().copied().filter(|k| *k != StrategyKind::Exhaustive) {
        let dir = temp_dir(&format!("budget-{}", kind.name()));
        let s = run(&sp, &dir.join("j.jsonl"), kind, 25, None);
        let mut ids = s.order.clone();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), s.order.len(), "{kind:?} repeated a point");
        assert!(s.order.len() <= 25, "{kind:?}");
        assert!(s.order.iter().all(|id| id.0 < sp.point_count()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn report_files_are_written_and_the_front_is_non_dominated() {
    let sp = space("tiny-explore.yaml");
    let dir = temp_dir("report");
    let s = run(&sp, &dir.join("j.jsonl"), StrategyKind::Exhaustive, 10_000, None);
    let compare = report::compare::table_of_run(&sp, &s);
    let rep = report::build(&sp, &s, report::RunInfo::default(), Default::default(), Some(compare), vec![], vec![]);
    let front: Vec<Vec<f64>> = rep.front().map(|r| r.objectives.clone().unwrap()).collect();
    assert!(!front.is_empty());
    for r in rep.rows.iter().filter(|r| r.feasible) {
        let v = r.objectives.as_ref().unwrap();
        let dominated = front.iter().any(|f| dominates(f, v));
        assert_eq!(dominated, r.rank != Some(0), "row {}", r.id);
    }
    assert!(rep.hypervolume > 0.0);
    let last = rep.progress.last().unwrap();
    assert_eq!(last.0, rep.rows.len());
    assert!((last.1 - rep.hypervolume).abs() <= 1e-9 * rep.hypervolume);
    // Never decreasing, up to rounding (the sums of a prefix and of a longer run split the volume differently).
    assert!(rep.progress.windows(2).all(|w| w[0].1 <= w[1].1 * (1.0 + 1e-12)));
    let out = dir.join("report");
    let files = report::write(&out, &rep).unwrap();
    for name in [
        "points.csv",
        "points.parquet",
        "quality_vs_p95.png",
        "quality_vs_p95.svg",
        "capacity_vs_quality.png",
        "accel_area_vs_capacity.svg",
        "report.html",
        "report.md",
    ] {
        let p = out.join(name);
        assert!(files.contains(&p) && std::fs::metadata(&p).unwrap().len() > 0, "{name}");
    }
    let csv = std::fs::read_to_string(out.join("points.csv")).unwrap();
    assert_eq!(csv.lines().count(), rep.rows.len() + 1);
    assert!(csv.lines().next().unwrap().contains("front_rank"));
    let svg = std::fs::read_to_string(out.join("quality_vs_p95.svg")).unwrap();
    assert!(svg.contains("p95 end-to-end latency (ms"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("reference point") && md.contains("test-cpu-host"));
    assert!(md.contains("## Comparison under the SLA"));
    // The interactive page carries the same run: every point, the front, the comparison and the hypervolume.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    let data = report::html::embedded_data(&page).expect("the page embeds its data");
    assert_eq!(data.points.len(), rep.rows.len());
    assert_eq!(data.points.iter().filter(|p| p.front_rank == Some(0)).count(), rep.front().count());
    assert_eq!(data.compare, rep.compare);
    assert_eq!(data.hypervolume.as_ref().map(|h| h.value), Some(rep.hypervolume));
    assert!(
        !data.plots.is_empty() && data.plots.iter().all(|p| data.metrics.contains(&p.x) && data.metrics.contains(&p.y))
    );
    assert!(!page.contains("http://") && !page.contains("https://"), "nothing is fetched at view time");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn objective_vectors_are_in_minimisation_form() {
    let sp = space("tiny-explore.yaml");
    let es = EvalSettings::from_space(&sp);
    let ev = Evaluator::new(&sp, Some(&TableQuality), &TestLatency, es);
    let id = (0..sp.point_count()).map(PointId).find(|id| ev.evaluate(*id).is_feasible()).expect("a feasible point");
    let o = ev.evaluate(id);
    let v = objective_vector(&sp, &o).unwrap();
    let m = o.metrics();
    assert_eq!(
        v,
        vec![-m.get(Metric::Ndcg(64)).unwrap(), m.get(Metric::P95Ms).unwrap(), -m.get(Metric::CapacityQps).unwrap()]
    );
    // Deterministic: the same point twice gives bit-identical metrics.
    assert_eq!(ev.evaluate(id), o);
}

#[test]
fn the_search_benchmark_budgets_a_fraction_of_the_valid_points() {
    use recpipe_dse::cli::bench_search::{bench, valid_point_count};
    let sp = space("tiny-explore.yaml");
    let valid = valid_point_count(&sp);
    assert!(valid < sp.point_count(), "the tiny space has over-area points");
    let dir = temp_dir("bench-search");
    let (hv, rows) =
        bench(Arc::clone(&sp), Some(&TableQuality), &TestLatency, None, &dir.join("j.jsonl"), 0.5, 2).unwrap();
    assert!(hv > 0.0);
    assert_eq!(rows.len(), 3 * 2, "three strategies, two seeds");
    for r in &rows {
        let evaluated = (r.evaluated_fraction * valid as f64).round() as u64;
        assert!(evaluated <= valid / 2, "{}: {evaluated} of {valid}", r.strategy);
        assert!((0.0..=1.0 + 1e-9).contains(&r.hv_ratio), "{}: {}", r.strategy, r.hv_ratio);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn models_that_do_not_fit_in_memory_make_points_infeasible() {
    let mut sp = (*space("tiny-explore.yaml")).clone();
    // rm-small is tiny; rm-large has 400 M values: 1.49 GiB at 4 bytes (CPU, GPU), 0.75 GiB at the
    // accelerators' 2 bytes per value.
    let parameters = vec![1_000, 400_000_000];
    sp.cpu.as_mut().unwrap().memory_gib = Some(1.0);
    sp.gpu.as_mut().unwrap().memory_gib = Some(1.0);
    for dram in [1.0, 0.5] {
        for c in &mut sp.accel.as_mut().unwrap().choices {
            c.config.dram_capacity_gib = Some(dram);
        }
        let es = EvalSettings::from_space(&sp);
        let evaluator =
            Evaluator::new(&sp, Some(&TableQuality), &TestLatency, es).with_model_parameters(parameters.clone());
        let mut over = 0;
        for i in 0..sp.point_count() {
            let design = sp.design(PointId(i)).unwrap();
            if sp.structural_violation(&design).is_some() {
                continue;
            }
            let large_on = |accel: bool| {
                design.stages.iter().any(|s| s.model == 1 && matches!(s.hardware, StageHardware::Accel { .. }) == accel)
            };
            let expected = large_on(false) || (dram < 0.75 && large_on(true));
            let why = evaluator.memory_violation(&design);
            assert_eq!(why.is_some(), expected, "point {i} with DRAM {dram} GiB: {why:?}");
            if let Some(why) = why {
                over += 1;
                assert!(why.starts_with("over memory: ") && why.contains("rm-large"), "{why}");
                match evaluator.evaluate(PointId(i)) {
                    Outcome::Infeasible { reason, .. } => assert_eq!(reason, why),
                    Outcome::Feasible(_) => panic!("point {i} fits although {why}"),
                }
            }
        }
        assert!(over > 0);
    }
}

#[test]
fn the_search_benchmark_replays_exactly_the_choices_explore_makes() {
    use recpipe_dse::cli::bench_search::{exhaustive_table, search_on_table, valid_point_count};
    let sp = space("tiny-explore.yaml");
    let dir = temp_dir("bench-replay");
    let es = EvalSettings::from_space(&sp);
    let evaluator = Evaluator::new(&sp, Some(&TableQuality), &TestLatency, es);
    let fp = fingerprint(&sp, &es, &["q".into(), "l".into()]);
    let table = exhaustive_table(&evaluator, &fp, &dir.join("all.jsonl"), valid_point_count(&sp)).unwrap();
    for kind in [StrategyKind::Annealing, StrategyKind::AnnealingPareto, StrategyKind::Nsga2] {
        let live = run(&sp, &dir.join(format!("{kind}.jsonl")), kind, 25, None);
        let replayed = search_on_table(&sp, &table, kind, 4, 25);
        assert_eq!(live.order, replayed, "{kind}: the benchmark must search as explore does");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_early_stop_ends_a_run_whose_front_stopped_growing_and_says_so() {
    let sp = space("tiny-explore.yaml");
    let budget = sp.point_count();
    let dir = temp_dir("early-stop");
    let es = EvalSettings::from_space(&sp);
    let evaluator = Evaluator::new(&sp, Some(&TableQuality), &TestLatency, es);
    let mut s = search::build(StrategyKind::Nsga2, Arc::clone(&sp), settings(&sp, budget, 4));
    let mut opts = DriverOptions::new(budget);
    opts.early_stop_after = Some(5);
    let summary = Driver::new(&evaluator, None, opts).run(s.as_mut());
    let stop = summary.early_stop.expect("a front that stops growing for 5 points ends the run");
    assert_eq!(stop.at, summary.order.len() as u64);
    assert!(stop.at - stop.last_growth >= 5 && stop.at < budget, "{stop:?}");
    // No point after the last growth joined the front: each is dominated by, or equal to, an earlier point.
    let vector = |id: &PointId| objective_vector(&sp, &summary.outcomes[id]);
    let before: Vec<Vec<f64>> = summary.order[..stop.last_growth as usize].iter().filter_map(vector).collect();
    for v in summary.order[stop.last_growth as usize..].iter().filter_map(vector) {
        assert!(before.iter().any(|w| dominates(w, &v) || w == &v), "{v:?} would have grown the front");
    }
    // The report says so.
    let info = report::RunInfo { budget, ..Default::default() };
    let rep = report::build(&sp, &summary, info, Default::default(), None, vec![], vec![]);
    let md = report::markdown::render(&rep, &[]);
    let expected = format!("**stopped early** after {} of {budget} budgeted points", stop.at);
    assert!(md.contains(&expected), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_exits_130_keeps_the_journal_and_resume_finishes_the_run() {
    use crate::support::bin;
    let dir = temp_dir("sigint");
    // The bench-search space with tiny models and long simulations, so that the run is still going when
    // SIGINT arrives.
    let text = std::fs::read_to_string(crate::support::repo().join("tests/spaces/bench-search.yaml"))
        .unwrap()
        .replacen("queries: 2000", "queries: 200000", 1)
        .replacen("quality:\n", "training:\n  epochs: 1\n  train_rows: 2000\n  validation_rows: 500\n\nquality:\n", 1);
    assert!(text.contains("queries: 200000") && text.contains("train_rows: 2000"));
    let space = dir.join("slow.yaml");
    std::fs::write(&space, text).unwrap();
    let out = dir.join("out");
    let cache = dir.join("cache");
    let explore = || {
        let mut c = bin();
        c.arg("explore").arg(&space).arg("--out").arg(&out).arg("--cache-dir").arg(&cache);
        c
    };
    let child = explore().stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let journal = out.join("bench-search.journal.jsonl");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&journal).map_or(0, |t| t.lines().count()) < 3 {
        assert!(started.elapsed().as_secs() < 120, "no journal lines after 2 minutes");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    let kept = std::fs::read_to_string(&journal).unwrap().lines().count();
    let resumed = explore().arg("--resume").output().unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", String::from_utf8_lossy(&resumed.stderr));
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(stdout.contains("2192 points") && stdout.contains(&format!("{kept} reused")), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_fast_evaluation_path_gives_the_reference_outcomes_on_every_point() {
    // SLA probes and load summaries against full simulations at every load and capacity step, and against the
    // simulator as first written, on a space with CPU stages of several engines (not order-keeping: the full
    // engine) and accelerator stages.
    let sp = space("tiny-explore.yaml");
    let settings = EvalSettings::from_space(&sp);
    let fast = Evaluator::new(&sp, Some(&TableQuality), &TestLatency, settings);
    let reference = Evaluator::new(&sp, Some(&TableQuality), &TestLatency, settings).with_full_simulation();
    let baseline = Evaluator::new(&sp, Some(&TableQuality), &TestLatency, settings).with_baseline();
    let mut feasible = 0;
    for id in (0..sp.point_count()).map(PointId) {
        let o = fast.evaluate(id);
        feasible += usize::from(matches!(o, Outcome::Feasible(_)));
        assert_eq!(o, reference.evaluate(id), "point {}", id.0);
        assert_eq!(o, baseline.evaluate(id), "point {} (baseline)", id.0);
    }
    assert!(feasible > 10, "{feasible} feasible points");
}

#[test]
fn bench_explore_compares_the_paths_and_finds_them_equal() {
    let out = crate::support::bin()
        .args(["-q", "bench", "explore", "--points", "4096", "--reference-points", "48", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: recpipe_dse::cli::bench_explore::BenchExploreResult = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r.space_points, 4096);
    assert_eq!(r.rows.len(), 4);
    let points: Vec<u64> = r.rows.iter().map(|row| row.points).collect();
    assert_eq!(points, [48, 48, 48, 4096]);
    assert_eq!(r.rows[3].valid_points, 4096, "every generated point is valid");
    assert_eq!(r.mismatches, 0);
    assert!(r.sample_front_equal);
    assert!(r.front > 0 && r.hypervolume > 0.0 && r.speedup > 0.0 && r.speedup_vs_full_simulation > 0.0);
}
