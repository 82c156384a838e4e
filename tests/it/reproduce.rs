//! Integration tests of `reproduce`: every figure file of `spaces/paper/` validates, a `--quick` run writes
//! every figure's PNG, SVG, CSV and README, the exact parts are pinned (Fig. 11 totals, Fig. 10a cycles, the
//! accelerator figures' saturation and light-load verdicts, the claims), and bad figure files are rejected
//! with file, field and value.
use crate::support::{bin, repo};
use recpipe_dse::reproduce::{self, FigureResult, ValuesById, Verdict};
use std::path::{Path, PathBuf};

fn paper_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("spaces/paper"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn figure(id: &str) -> FigureResult {
    let f = reproduce::load_figure(&repo().join(format!("spaces/paper/{id}.yaml"))).unwrap_or_else(|e| panic!("{e}"));
    reproduce::run(&f, &ValuesById::new(), &reproduce::FigureInputs::None).unwrap()
}

fn group<'a>(r: &'a FigureResult, g: &str) -> Vec<&'a reproduce::Comparison> {
    r.comparisons.iter().filter(|c| c.group == g).collect()
}

fn matching(cs: &[&reproduce::Comparison]) -> usize {
    cs.iter().filter(|c| matches!(c.verdict, Verdict::Matches { .. })).count()
}

#[test]
fn every_paper_file_validates() {
    let files = paper_files();
    assert!(files.len() >= 5, "{files:?}");
    let mut ids = Vec::new();
    for f in &files {
        let fig = reproduce::load_figure(f).unwrap_or_else(|e| panic!("{e}"));
        ids.push(fig.id);
    }
    for id in ["fig3", "fig7", "fig8", "fig10a", "fig10c", "fig11", "fig12", "fig12-runs", "fig13", "fig14", "claims"] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
}

#[test]
fn fig11_totals_are_within_half_a_percent() {
    let r = figure("fig11");
    let totals = group(&r, "totals");
    assert_eq!(totals.len(), 4);
    assert_eq!(matching(&totals), 4, "{totals:#?}");
    for (key, published) in [
        ("baseline/area_mm2", 26.52),
        ("baseline/power_w", 3.653),
        ("rpaccel/area_mm2", 28.55),
        ("rpaccel/power_w", 4.655),
    ] {
        let v = r.values[key];
        assert!((v - published).abs() <= 0.005 * published, "{key}: {v} vs {published}");
    }
    let area = r.values["rpaccel/area_overhead_pct"];
    let power = r.values["rpaccel/power_overhead_pct"];
    assert!((area - 7.670).abs() < 0.01 && (power - 27.21).abs() < 0.01, "{area} {power}");
}

#[test]
fn fig10a_cycles_are_within_a_few_cycles_of_scalesim() {
    let r = figure("fig10a");
    let cycles = group(&r, "cycles");
    assert_eq!(cycles.len(), 12);
    assert_eq!(matching(&cycles), 12, "{cycles:#?}");
    // Hand-checkable pin: RM-large on 128×128 at batch 512 has 4 + 8 + 2 + 1 + 1 + 3 + 1 = 20 weight folds
    // (13→512, 512→256, 256→128, 128→64, 64→32, 383→96, 96→1) of 2·128 + 128 + 512 − 2 cycles each.
    let row = r.table.rows.iter().find(|row| row[0] == "rm-large" && row[1] == "128").unwrap();
    assert_eq!(row[4], (20 * (3 * 128 + 510)).to_string());
    // Small models waste big arrays: utilisation falls with the array side.
    let u = |side: u32| r.values[&format!("rm-small/{side}x{side}/utilization_pct")];
    assert!(u(16) > u(32) && u(32) > u(64) && u(64) > u(128), "{:?}", r.values);
}

#[test]
fn fig10c_recomputes_the_published_best_splits() {
    let r = figure("fig10c");
    assert_eq!(r.comparisons.len(), 9);
    assert_eq!(matching(&r.comparisons.iter().collect::<Vec<_>>()), 9, "{:#?}", r.comparisons);
    let best = r.values["best_amat_cycles/filter=0.125/12MiB"];
    assert!((best - 56.04).abs() < 0.01, "{best}");
    // Every capacity gains from a split over giving everything to one stage.
    assert!(r.values.iter().filter(|(k, _)| k.starts_with("gain_over_endpoint")).all(|(_, &g)| g > 0.0));
}

#[test]
fn fig12_original_view_lands_on_the_logged_saturation_points_and_light_load_means() {
    let r = figure("fig12");
    let sat = group(&r, "saturation");
    assert_eq!(sat.len(), 407);
    // The six that differ are the 3-stage pipelines whose last stage is S = 64 at λ = 0.5 ms, ρ = 1.038.
    let off: Vec<_> = sat.iter().filter(|c| !matches!(c.verdict, Verdict::Matches { .. })).collect();
    assert_eq!(off.len(), 6, "{off:#?}");
    assert!(off.iter().all(|c| c.item.ends_with(",64] at λ = 0.5 ms") && c.ours.contains("ρ = 1.038")), "{off:#?}");
    let light = group(&r, "light-load mean");
    assert_eq!(light.len(), 37);
    assert_eq!(matching(&light), 31);
    // The overhead fit lands near the artifact's light-load gaps (0.34 ms + about 0.25–0.3 ms per stage).
    let (a, b) = (r.values["overhead/first_stage_ms"], r.values["overhead/further_stage_ms"]);
    assert!((0.25..0.4).contains(&a) && (0.2..0.4).contains(&b), "{a} {b}");
    // The 1-stage curve saturates at 500 q/s in the log and in the simulation.
    assert!(r.values.contains_key("original/best_p95_ms/1-stage/gap=2.5ms"));
    assert!(!r.values.contains_key("original/best_p95_ms/1-stage/gap=2ms"));
    assert!(!r.values.contains_key("published/best_p95_ms/1-stage/gap=2ms"));
    assert_eq!(r.values["original/max_qps_p95_within_100ms/2-stage"], 2000.0);
    assert_eq!(r.values["published/max_qps_p95_within_100ms/1-stage"], 400.0);
    // Both views are in the table, for every pipeline and gap.
    assert_eq!(r.table.rows.len(), 2 * 37 * 11);
}

#[test]
fn fig12_runs_match_the_logged_light_load_means_and_saturation_of_every_selected_configuration() {
    let r = figure("fig12-runs");
    let sat = group(&r, "saturation");
    assert_eq!(sat.len(), 45);
    assert_eq!(matching(&sat), 45);
    let light = group(&r, "light-load mean");
    assert_eq!(light.len(), 7);
    assert_eq!(matching(&light), 7, "{light:#?}");
    // The fitted overhead lands on the artifact's light-load gaps: about 0.34 ms plus 0.25 ms per stage.
    let (a, b) = (r.values["overhead/first_stage_ms"], r.values["overhead/further_stage_ms"]);
    assert!((a - 0.34).abs() < 0.01 && (b - 0.25).abs() < 0.03, "{a} {b}");
    // Every achievable logged run has a mean and a p95 comparison; the S=4 single-stage runs come from the
    // second published file.
    let runs = group(&r, "runs");
    assert_eq!(runs.len(), 78);
    assert!(runs.iter().any(|c| c.item.starts_with("rm-large@4096 [4] at λ = 2 ms")), "{runs:#?}");
}

#[test]
fn fig13_checks_every_logged_run() {
    let r = figure("fig13");
    assert_eq!(group(&r, "saturation").len(), 240);
    assert!(matching(&group(&r, "saturation")) >= 237);
    assert_eq!(group(&r, "curve").len(), 10);
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("recpipe-reproduce-it-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn only_run_folder(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[test]
fn quick_run_of_every_figure_writes_plots_tables_and_readmes() {
    let out = temp_dir("quick");
    let cache = temp_dir("quick-cache");
    let run =
        bin().args(["reproduce", "all", "--quick", "--cache-dir"]).arg(&cache).arg("--out").arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let dir = only_run_folder(&out);
    assert!(dir.file_name().unwrap().to_str().unwrap().starts_with("reproduce-"));
    let summary = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for f in paper_files() {
        let id = reproduce::load_figure(&f).unwrap().id;
        let folder = dir.join(&id);
        assert!(summary.contains(&format!("[{id}]({id}/README.md)")), "{summary}");
        let names: Vec<String> =
            std::fs::read_dir(&folder).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert!(names.contains(&"README.md".to_string()) && names.contains(&format!("{id}.csv")), "{id}: {names:?}");
        if id != "claims" {
            for ext in [".png", ".svg"] {
                assert!(names.iter().any(|n| n.ends_with(ext)), "{id}: no {ext} in {names:?}");
            }
        }
        let png = names.iter().find(|n| n.ends_with(".png"));
        if let Some(png) = png {
            assert!(std::fs::metadata(folder.join(png)).unwrap().len() > 10_000, "{id}/{png} looks empty");
        }
        let readme = std::fs::read_to_string(folder.join("README.md")).unwrap();
        assert!(readme.contains("| item | published | ours | difference | verdict |"), "{id}: {readme}");
    }
    assert!(summary.contains("--quick"), "{summary}");
    // The quality figure trained its models and compared every published row and cascade.
    let fig3 = std::fs::read_to_string(dir.join("fig3/README.md")).unwrap();
    for item in ["rm-small @4096", "rm-large @256", "rm-small→rm-large 4096/512", "rule: quality = last model"] {
        assert!(fig3.contains(item), "fig3 README lacks '{item}': {fig3}");
    }
    // The iso-quality figures compared every published row, each with a verdict.
    let fig14 = std::fs::read_to_string(dir.join("fig14/README.md")).unwrap();
    for item in ["cpu/1-stage at 66.7 q/s", "accel/2-stage at 2000 q/s", "iso-quality floor: recpipe_ndcg@64 ≥ 0.9225"]
    {
        assert!(fig14.contains(item), "fig14 README lacks '{item}': {fig14}");
    }
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn claims_pull_in_the_figures_they_cite_and_two_runs_do_not_collide() {
    let out = temp_dir("claims");
    for _ in 0..2 {
        let run = bin()
            .args(["reproduce", "claims", "--quick", "--cache-dir"])
            .arg(out.join("cache"))
            .arg("--out")
            .arg(out.join("runs"))
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(stdout.contains("fig11") && stdout.contains("fig12") && stdout.contains("claims"), "{stdout}");
        assert!(stdout.contains("fig7"), "the CPU claim pulls in fig7: {stdout}");
    }
    assert_eq!(std::fs::read_dir(out.join("runs")).unwrap().count(), 2, "two runs, two folders");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_figure_files_name_file_field_and_value_and_write_nothing() {
    let dir = temp_dir("bad");
    let good = std::fs::read_to_string(repo().join("spaces/paper/fig12.yaml")).unwrap();
    let bad = good
        .replace(
            "accel: ../../accel/recpipe-s{size}.yaml",
            &format!("accel: {}/accel/recpipe-s{{size}}.yaml", repo().display()),
        )
        .replace(
            "published: [fig12-logged.csv]",
            &format!("published: [{}/spaces/paper/fig12-logged.csv]", repo().display()),
        )
        .replace("mode: rpaccel", "mode: turbo")
        .replace("sizes: [[1]]", "sizes: [[3]]");
    std::fs::write(dir.join("fig12.yaml"), bad).unwrap();
    let out = dir.join("out");
    let run = bin().args(["reproduce", "all", "--paper-dir"]).arg(&dir).arg("--out").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("fig12.yaml: serving.views[1].mode: unknown mode 'turbo'"), "{err}");
    assert!(err.contains("serving.sweeps[0].sizes[0][0]") && err.contains("recpipe-s3.yaml"), "{err}");
    assert!(!out.exists(), "nothing written on bad input");
    let run = bin().args(["reproduce", "fig99"]).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("unknown figure 'fig99'"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Quality stand-in for the iso-quality test: RecPipe-NDCG@64 0.93 for cascades that end in RM-large and start
/// from 4096 items, 0.80 otherwise.
struct PoolQuality {
    large: usize,
}

impl recpipe_dse::explore::QualitySource for PoolQuality {
    fn cascade(&self, stages: &[(usize, u32)]) -> Result<std::collections::BTreeMap<String, f64>, String> {
        let good = stages.last().unwrap().0 == self.large && stages[0].1 == 4096;
        Ok([("recpipe_ndcg@64".to_string(), if good { 0.93 } else { 0.80 })].into_iter().collect())
    }
    fn describe(&self) -> String {
        "test quality".into()
    }
    fn is_synthetic(&self) -> bool {
        true
    }
}

#[test]
fn iso_quality_takes_the_best_design_at_the_floor_per_backend_depth_and_load() {
    use recpipe_dse::explore::evaluate::NoProfiles;
    use recpipe_dse::explore::sources::Opened;
    use recpipe_dse::reproduce::{FigureBody, FigureInputs};
    let f = reproduce::load_figure(&repo().join("spaces/paper/fig14.yaml")).unwrap();
    let FigureBody::IsoQuality(q) = &f.body else { panic!("fig14 is an iso-quality figure") };
    let space = q.space.clone();
    let large = space.zoo.iter().position(|m| m.name == "rm-large").unwrap();
    let opened = Opened {
        quality: Box::new(PoolQuality { large }),
        latency: Box::new(NoProfiles),
        model_parameters: vec![0; space.zoo.len()],
        model_typed_bytes: vec![None; space.zoo.len()],
        notes: vec![],
    };
    let r = reproduce::run(&f, &ValuesById::new(), &FigureInputs::Sources(std::rc::Rc::new(opened))).unwrap();
    // Without CPU/GPU profiles those rows are not checked, with the reason.
    let cpu = r.comparisons.iter().find(|c| c.item == "cpu/1-stage at 66.7 q/s").unwrap();
    assert!(matches!(&cpu.verdict, Verdict::Unchecked { reason } if reason.contains("no latency profile")), "{cpu:?}");
    // Brute force: the best accelerator p95 of each depth at each load among the designs at the floor.
    let evaluator = recpipe_dse::explore::Evaluator::new(
        &space,
        None,
        &NoProfiles,
        recpipe_dse::explore::EvalSettings::from_space(&space),
    );
    for depth in 1..=3usize {
        let mut best = vec![f64::INFINITY; q.loads_qps.len()];
        for i in 0..space.point_count() {
            let Some(d) = space.design(recpipe_dse::spec::PointId(i)) else { continue };
            let accel = d.stages.iter().all(|s| matches!(s.hardware, recpipe_dse::spec::StageHardware::Accel { .. }));
            let at_floor = d.stages.last().unwrap().model == large && d.stages[0].items == 4096;
            if d.stages.len() != depth || !accel || !at_floor {
                continue;
            }
            let Ok(s) = evaluator.serve_under(recpipe_dse::spec::PointId(i), &[], &q.loads_qps) else { continue };
            for (b, p) in best.iter_mut().zip(s.p95_ms) {
                if let Some(p) = p.filter(|p| *p <= q.unachievable_p95_ms) {
                    *b = b.min(p);
                }
            }
        }
        let mut previous = 0.0;
        for (qps, b) in q.loads_qps.iter().zip(&best) {
            let key = format!("accel/{depth}-stage/p95_ms@{}", recpipe_dse::explore::evaluate::fmt_num(*qps));
            match r.values.get(&key) {
                Some(v) => {
                    assert!((v - b).abs() < 1e-12, "{key}: figure {v}, brute force {b}");
                    assert!(*v >= previous, "{key}: the best p95 falls with the load");
                    previous = *v;
                }
                None => assert!(b.is_infinite(), "{key}: brute force found {b}, the figure nothing"),
            }
        }
    }
    // The published 2-stage accelerator row at 2000 q/s has our value beside it.
    let high = r.comparisons.iter().find(|c| c.item == "accel/2-stage at 2000 q/s").unwrap();
    assert!(high.ours.contains("ms (rm-"), "{high:?}");
}

#[test]
fn bad_iso_quality_files_name_the_field_and_value() {
    let dir = temp_dir("bad-iso");
    let good = std::fs::read_to_string(repo().join("spaces/paper/fig14.yaml")).unwrap();
    let bad = good
        .replace("space: spaces/fig14.yaml", &format!("space: {}/spaces/paper/spaces/fig14.yaml", repo().display()))
        .replace("published: fig14-published.csv", "published: published.csv")
        .replace("loads_qps: [5, 10,", "loads_qps: [-5, 10,")
        .replace("    gpu: \"host", "    tpu: \"host");
    std::fs::write(dir.join("fig14.yaml"), bad).unwrap();
    std::fs::write(dir.join("published.csv"), "backend,stages,qps,p95_ms\ncpu,1,66.7,fast\nfpga,1,66.7,3\n").unwrap();
    let run =
        bin().args(["reproduce", "all", "--paper-dir"]).arg(&dir).arg("--out").arg(dir.join("out")).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    for needle in [
        "iso_quality.loads_qps[0]: must be a positive load, got -5",
        "iso_quality.reasons.tpu: not a backend",
        "published.csv:2:1: column 'p95_ms': must be a number ≥ 0 or 'unachievable', got 'fast'",
        "published.csv:3:1: column 'backend': must be one of cpu, gpu, accel, got 'fpga'",
    ] {
        assert!(err.contains(needle), "stderr lacks '{needle}': {err}");
    }
    assert!(!dir.join("out").exists(), "nothing written on bad input");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_training_sweep_files_name_the_line_column_and_value() {
    let dir = temp_dir("bad-sweep");
    let good = std::fs::read_to_string(repo().join("spaces/paper/fig2.yaml")).unwrap();
    let bad = good
        .replace("space: spaces/fig2.yaml", &format!("space: {}/spaces/paper/spaces/fig2.yaml", repo().display()))
        .replace("published: fig2-published.csv", "published: sweep.csv")
        .replace("tolerance_gain_points: 0.15", "tolerance_gain_points: -1");
    std::fs::write(dir.join("fig2.yaml"), bad).unwrap();
    std::fs::write(
        dir.join("sweep.csv"),
        "# a comment\nembedding_dim,bottom_mlp,top_mlp,mlp_macs,error_pct\n4,13-64-4,64-1,1152,21.4\n8,13-x-8,64-1,1408,21.3\n",
    )
    .unwrap();
    let run =
        bin().args(["reproduce", "all", "--paper-dir"]).arg(&dir).arg("--out").arg(dir.join("out")).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    for needle in [
        "sweep.csv:4:1: column 'bottom_mlp': must be '-'-separated positive widths, got '13-x-8'",
        "training_sweep.tolerance_gain_points: must be a positive number, got -1",
    ] {
        assert!(err.contains(needle), "stderr lacks '{needle}': {err}");
    }
    assert!(!dir.join("out").exists(), "nothing written on bad input");
    let _ = std::fs::remove_dir_all(&dir);
}
