//! `report.html` in a real browser: Debian's Chromium, headless, opens the page of an exploration run from
//! `file://`, and the test checks that the script ran without a console error, that the plots drew every
//! feasible point, and that a screenshot of the page is not blank.
//!
//! Chromium comes from `.ci/install-browser` (run by CI, and by this test when no browser is found; it needs
//! root). Where none can be installed the test fails and says why. `RECPIPE_DSE_CHROMIUM` names another
//! binary.
use super::explore::{run, space, temp_dir};
use super::support::repo;
use recpipe_dse::report;
use recpipe_dse::search::StrategyKind;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The browser, installed by the project's script when missing.
fn chromium() -> PathBuf {
    let out = Command::new(repo().join(".ci/install-browser"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run .ci/install-browser: {e}"));
    assert!(
        out.status.success(),
        "no browser for the report.html test: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Run headless Chromium on `page` with `args`; (stdout, stderr).
fn headless(browser: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let profile = page.with_file_name("chromium-profile");
    let out = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=20000", "--hide-scrollbars"])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

/// `dom` without the contents of its `<script>` elements (the inline script's text holds the markup it builds).
fn without_scripts(dom: &str) -> String {
    let mut out = String::with_capacity(dom.len());
    let mut rest = dom;
    while let Some(start) = rest.find("<script") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</script>") {
            Some(end) => rest = &rest[start + end + "</script>".len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The value of attribute `name` on the first element that has it in `dom`.
fn attribute(dom: &str, name: &str) -> Option<String> {
    let at = dom.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(dom[at..at + dom[at..].find('"')?].to_string())
}

/// (pixels, share of pixels unlike the most common colour, distinct colours) of an RGB(A) PNG.
fn picture_stats(path: &Path) -> (usize, f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "an RGB screenshot");
    let mut counts = std::collections::HashMap::new();
    for px in buf[..info.buffer_size()].chunks(channels) {
        *counts.entry((px[0], px[1], px[2])).or_insert(0usize) += 1;
    }
    let total: usize = counts.values().sum();
    let background = counts.values().copied().max().unwrap_or(0);
    (total, 1.0 - background as f64 / total as f64, counts.len())
}

#[test]
fn report_html_draws_every_feasible_point_without_console_errors() {
    let browser = chromium();
    let sp = space("tiny-explore.yaml");
    let dir = temp_dir("browser");
    let summary = run(&sp, &dir.join("j.jsonl"), StrategyKind::Exhaustive, 10_000, None);
    let compare = report::compare::table_of_run(&sp, &summary);
    let rep =
        report::build(&sp, &summary, report::RunInfo::default(), Default::default(), Some(compare), vec![], vec![]);
    let out = dir.join("report");
    report::write(&out, &rep).unwrap();
    let page = out.join("report.html");
    let feasible = rep.rows.iter().filter(|r| r.feasible).count();
    assert!(feasible > 0 && feasible < rep.rows.len(), "the tiny space has feasible and infeasible points");

    let (dom, log) = headless(&browser, &page, &["--dump-dom"]);
    let dom = without_scripts(&dom);
    assert_eq!(attribute(&dom, "data-ready").as_deref(), Some("1"), "the page's script finished: {log}");
    assert_eq!(attribute(&dom, "data-console-errors").as_deref(), Some("0"), "errors caught by the page: {dom}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    assert_eq!(attribute(&dom, "data-feasible-points"), Some(feasible.to_string()));
    assert_eq!(attribute(&dom, "data-drawn-points"), Some(feasible.to_string()), "every feasible point is drawn");
    assert!(dom.matches("class=\"pt").count() >= feasible, "points are SVG marks");

    let shot = out.join("screenshot.png");
    headless(&browser, &page, &["--window-size=1400,2600", &format!("--screenshot={}", shot.display())]);
    let (pixels, not_background, colours) = picture_stats(&shot);
    assert_eq!(pixels, 1400 * 2600, "the screenshot has the window's size");
    assert!(
        not_background > 0.02 && colours > 50,
        "blank screenshot: {not_background:.4} of the pixels drawn, {colours} colours"
    );
    // Keep the screenshot where a person can look at it.
    let keep = repo().join("target/report-html-screenshot.png");
    let _ = std::fs::copy(&shot, keep);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reproduce_page_draws_every_series_point_and_bar() {
    use recpipe_dse::reproduce::{Comparison, FigureResult, Plot, PlotKind, Series, SeriesStyle, Table, Verdict};
    let browser = chromium();
    let series = |label: &str, style, points: Vec<(f64, f64)>| Series { label: label.into(), color: 0, style, points };
    let figure = FigureResult {
        id: "fig7".into(),
        title: "p95 vs load".into(),
        paper: "Fig. 7".into(),
        description: "a test figure".into(),
        file: "fig7.yaml".into(),
        table: Table::default(),
        comparisons: vec![Comparison {
            group: "p95".into(),
            item: "RM-large @ 100 q/s".into(),
            published: "12.0".into(),
            ours: "12.3".into(),
            difference: "+0.3".into(),
            verdict: Verdict::Matches { tolerance: "within 5%".into() },
        }],
        plots: vec![
            Plot {
                stem: "lines".into(),
                title: "p95 latency".into(),
                x_label: "load (queries/s)".into(),
                y_label: "p95 (ms)".into(),
                log_x: false,
                log_y: true,
                kind: PlotKind::Lines(vec![
                    series("published", SeriesStyle::Markers, vec![(100.0, 12.0), (200.0, 15.0), (400.0, 30.0)]),
                    series("ours", SeriesStyle::Line, vec![(100.0, 12.3), (200.0, 15.5), (300.0, 20.0), (400.0, 29.0)]),
                ]),
            },
            Plot {
                stem: "bars".into(),
                title: "area".into(),
                x_label: "component".into(),
                y_label: "mm²".into(),
                log_x: false,
                log_y: false,
                kind: PlotKind::StackedBars {
                    categories: vec!["S=1".into(), "S=4".into()],
                    stacks: vec![("array".into(), vec![10.0, 2.5]), ("SRAM".into(), vec![8.0, 2.0])],
                },
            },
        ],
        values: Default::default(),
        notes: vec!["a note".into()],
    };
    let dir = std::env::temp_dir().join(format!("recpipe-browser-reproduce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("report.html");
    let data = report::html::reproduce_data(&[(figure, 0.1)], "recpipe-dse reproduce fig7", "test");
    std::fs::write(&page, report::html::render(&data)).unwrap();
    let (dom, log) = headless(&browser, &page, &["--dump-dom"]);
    let dom = without_scripts(&dom);
    assert_eq!(attribute(&dom, "data-ready").as_deref(), Some("1"), "the page's script finished: {log}");
    assert_eq!(attribute(&dom, "data-console-errors").as_deref(), Some("0"), "errors caught by the page: {dom}");
    assert!(log.lines().all(|l| !l.contains("CONSOLE")), "console messages: {log}");
    assert_eq!(dom.matches("class=\"card figure\"").count(), 1);
    assert_eq!(dom.matches("class=\"fig-marker\"").count(), 3, "one marker per published point");
    assert_eq!(dom.matches("class=\"fig-dot\"").count(), 4, "one dot per point of our line");
    assert_eq!(dom.matches("class=\"bar\"").count(), 4, "two stacks on two bars");
    assert!(dom.contains("RM-large @ 100 q/s"), "the comparison table is rendered");
    let _ = std::fs::remove_dir_all(&dir);
}
