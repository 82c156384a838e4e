//! `report.html`: one self-contained, interactive page beside `report.md` (no network at view time).
//!
//! The page is `html/page.html` with its style (`html/style.css`) and script (`html/app.js`, plain
//! JavaScript, no library) inlined, and the run's data embedded as one JSON document ([`PageData`]) in a
//! `<script type="application/json">` element. The script draws the Pareto scatter plots as inline SVG
//! (hover shows a point's whole design and every metric; front points are outlined; the SLA is a dashed
//! line), filters by backend mapping, stage count and feasible/front, and renders the sortable points
//! table, the comparison under the SLA and the hypervolume progress. `reproduce` pages carry figures
//! instead of points: each plot's series (ours and the published numbers) and the published-vs-ours
//! comparisons.
//!
//! Units: latencies in ms, loads and capacities in queries/s, area in mm², power in W, as in the metric
//! names (`crate::spec::metric`). Building the page is pure; writing it is the caller's (through
//! [`crate::durable`]).

use super::compare::ComparisonTable;
use super::{PointRow, Report};
use crate::spec::metric::{Direction, Metric};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const PAGE: &str = include_str!("html/page.html");
const STYLE: &str = include_str!("html/style.css");
const SCRIPT: &str = include_str!("html/app.js");

/// Everything the page shows; serialised into the page as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageData {
    /// Page title.
    pub title: String,
    /// The space (absent on `reproduce` pages).
    pub space: Option<SpaceInfo>,
    /// How the run was made.
    pub run: RunInfoData,
    /// The SLA (absent on `reproduce` pages).
    pub sla: Option<SlaData>,
    /// Offered loads, queries/s.
    pub loads_qps: Vec<f64>,
    /// Objectives with their directions.
    pub objectives: Vec<ObjectiveData>,
    /// Scatter plots whose metrics exist in this run.
    pub plots: Vec<ScatterPlot>,
    /// Metric columns of the points table, in order.
    pub metrics: Vec<String>,
    /// Every evaluated point, in acceptance order.
    pub points: Vec<PointData>,
    /// The comparison under the SLA.
    pub compare: Option<ComparisonTable>,
    /// Hypervolume and its progress (absent without feasible points).
    pub hypervolume: Option<HypervolumeData>,
    /// Notes (synthetic data, profile hosts, …).
    pub notes: Vec<String>,
    /// `reproduce` figures (empty on exploration pages).
    pub figures: Vec<FigureData>,
}

/// The space of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceInfo {
    /// Space name.
    pub name: String,
    /// Space file.
    pub file: String,
    /// Points in the space.
    pub points: u64,
}

/// How a run was made.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunInfoData {
    /// The command line.
    pub command: String,
    /// Strategy in words.
    pub strategy: String,
    /// Search seed.
    pub search_seed: Option<u64>,
    /// Simulation seed.
    pub sim_seed: Option<u64>,
    /// Start time, UTC.
    pub started_utc: String,
    /// Crate and library versions.
    pub versions: String,
    /// Host description.
    pub host: String,
    /// (evaluated now, reused from the journal, repeats answered from memory).
    pub counts: Option<Counts>,
}

/// Evaluation counts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Points evaluated by this run.
    pub evaluated: u64,
    /// Points reused from the journal.
    pub reused: u64,
    /// Repeated proposals answered from memory.
    pub repeats: u64,
}

/// The latency target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaData {
    /// Percentile, e.g. 95.
    pub percentile: f64,
    /// Target, ms.
    pub target_ms: f64,
    /// In words (`p95 ≤ 25 ms`).
    pub text: String,
    /// The metric the target bounds (`p95_ms`).
    pub metric: String,
}

/// One objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveData {
    /// Metric name.
    pub metric: String,
    /// `maximize` or `minimize`.
    pub direction: String,
}

/// One scatter plot of two metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScatterPlot {
    /// Stable id (`quality_vs_p95`).
    pub id: String,
    /// Title.
    pub title: String,
    /// Metric on x.
    pub x: String,
    /// Metric on y.
    pub y: String,
    /// x label with unit.
    pub x_label: String,
    /// y label with unit.
    pub y_label: String,
    /// Where the SLA target stands on x (the latency plot), else `None`.
    pub sla_x: Option<f64>,
}

/// One stage of a point's design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageData {
    /// Zoo model.
    pub model: String,
    /// Items the stage scores.
    pub items: u32,
    /// Hardware in words.
    pub hardware: String,
    /// Where its service time came from.
    pub source: String,
}

/// One evaluated point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointData {
    /// Point id.
    pub id: u64,
    /// Acceptance order.
    pub seq: usize,
    /// Pipeline in words.
    pub pipeline: String,
    /// Backends per stage (`cpu,gpu`).
    pub backends: String,
    /// Number of stages.
    pub stages: usize,
    /// The stages.
    pub design: Vec<StageData>,
    /// Feasible?
    pub feasible: bool,
    /// Front rank among feasible points (0 = Pareto front).
    pub front_rank: Option<usize>,
    /// Why infeasible.
    pub reason: Option<String>,
    /// Finite metric values.
    pub metrics: BTreeMap<String, f64>,
}

/// Hypervolume of the feasible points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HypervolumeData {
    /// Value.
    pub value: f64,
    /// Reference point (minimisation form).
    pub reference: Vec<f64>,
    /// (points accepted, hypervolume).
    pub progress: Vec<(usize, f64)>,
}

/// One `reproduce` figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureData {
    /// Figure id (`fig12`).
    pub id: String,
    /// Title.
    pub title: String,
    /// Where in the paper.
    pub paper: String,
    /// Description.
    pub description: String,
    /// (matches, differs, not checked).
    pub verdicts: (usize, usize, usize),
    /// Plots.
    pub plots: Vec<FigurePlot>,
    /// Published numbers beside ours.
    pub comparisons: Vec<FigureComparison>,
    /// Notes.
    pub notes: Vec<String>,
}

/// One plot of a figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigurePlot {
    /// Title.
    pub title: String,
    /// x label with unit.
    pub x_label: String,
    /// y label with unit.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// `lines` or `bars`.
    pub kind: String,
    /// Series of a `lines` plot.
    pub series: Vec<FigureSeries>,
    /// Bar labels of a `bars` plot.
    pub categories: Vec<String>,
    /// Stacked components of a `bars` plot: (component, value per category).
    pub stacks: Vec<(String, Vec<f64>)>,
}

/// One series of a figure plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureSeries {
    /// Legend label.
    pub label: String,
    /// Colour index (series that belong together share one).
    pub color: usize,
    /// `markers` (published numbers), `line` (our main view) or `thin` (a second view of ours).
    pub style: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
}

/// One published-vs-ours comparison of a figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FigureComparison {
    /// Group.
    pub group: String,
    /// Item.
    pub item: String,
    /// Published value.
    pub published: String,
    /// Our value.
    pub ours: String,
    /// Difference.
    pub difference: String,
    /// `matches`, `differs` or `not checked`.
    pub verdict: String,
    /// Tolerance or reason.
    pub detail: String,
}

/// The points of `rows` as page data (non-finite metric values left out).
pub fn points(rows: &[PointRow]) -> Vec<PointData> {
    rows.iter()
        .map(|r| PointData {
            id: r.id,
            seq: r.seq,
            pipeline: r.pipeline.clone(),
            backends: r.backends.clone(),
            stages: r.stages.len(),
            design: r
                .stages
                .iter()
                .map(|(model, items, hardware, source)| StageData {
                    model: model.clone(),
                    items: *items,
                    hardware: hardware.clone(),
                    source: source.clone(),
                })
                .collect(),
            feasible: r.feasible,
            front_rank: r.rank,
            reason: r.reason.clone(),
            metrics: r.metrics.iter().filter(|(_, v)| v.is_finite()).map(|(k, v)| (k.to_string(), *v)).collect(),
        })
        .collect()
}

/// Every metric any row has: the objectives first, then the rest in name order.
pub fn metric_columns(rows: &[PointRow], objectives: &[(String, Direction)]) -> Vec<String> {
    let mut names: Vec<String> = objectives.iter().map(|(m, _)| m.clone()).collect();
    let rest: std::collections::BTreeSet<&str> = rows.iter().flat_map(|r| r.metrics.keys()).collect();
    names.extend(rest.into_iter().filter(|m| !objectives.iter().any(|(o, _)| o == m)).map(str::to_string));
    names
}

/// The scatter plots of a run: those of `report.md` whose metrics some feasible point has; without a quality
/// metric, capacity against p95 instead, so every feasible point is drawn at least once.
/// The SLA line stands on the p95 axis when the SLA bounds p95 (`sla_p95_ms`).
pub fn scatter_plots(report: &Report, sla_p95_ms: Option<f64>) -> Vec<ScatterPlot> {
    let mut specs = super::plots::specs(report);
    if super::plots::quality_metric(report).is_none() {
        specs.insert(
            0,
            super::plots::PlotSpec {
                stem: "capacity_vs_p95".into(),
                title: format!("capacity under SLA ({}) vs p95 latency", report.sla),
                x_metric: Metric::P95Ms.to_string(),
                x_label: "p95 end-to-end latency (ms)".into(),
                y_metric: Metric::CapacityQps.to_string(),
                y_label: "capacity under SLA (queries/s)".into(),
                accel_only: false,
            },
        );
    }
    let has = |m: &str| report.rows.iter().any(|r| r.feasible && r.metrics.get(m).is_some_and(|v| v.is_finite()));
    specs
        .into_iter()
        .filter(|s| has(&s.x_metric) && has(&s.y_metric))
        .map(|s| ScatterPlot {
            sla_x: sla_p95_ms.filter(|_| s.x_metric == Metric::P95Ms.to_string()),
            id: s.stem,
            title: s.title,
            x: s.x_metric,
            y: s.y_metric,
            x_label: s.x_label,
            y_label: s.y_label,
        })
        .collect()
}

/// The page data of an exploration report (explore, compare).
pub fn report_data(report: &Report) -> PageData {
    let sla = SlaData {
        percentile: report.sla_percentile,
        target_ms: report.sla_target_ms,
        text: report.sla.clone(),
        metric: Metric::P95Ms.to_string(),
    };
    let hypervolume = report.reference.as_ref().map(|reference| HypervolumeData {
        value: report.hypervolume,
        reference: reference.clone(),
        progress: report.progress.clone(),
    });
    PageData {
        title: format!("{}: design-space exploration", report.space_name),
        space: Some(SpaceInfo {
            name: report.space_name.clone(),
            file: report.space_file.clone(),
            points: report.space_points,
        }),
        run: RunInfoData {
            command: report.info.command.clone(),
            strategy: report.info.strategy.clone(),
            search_seed: Some(report.info.search_seed),
            sim_seed: Some(report.info.sim_seed),
            started_utc: report.info.started_utc.clone(),
            versions: report.info.versions.clone(),
            host: report.info.host.clone(),
            counts: Some(Counts { evaluated: report.counts.0, reused: report.counts.1, repeats: report.counts.2 }),
        },
        plots: scatter_plots(report, ((sla.percentile - 95.0).abs() < 1e-9).then_some(sla.target_ms)),
        sla: Some(sla),
        loads_qps: report.loads_qps.clone(),
        objectives: report
            .objectives
            .iter()
            .map(|(m, d)| ObjectiveData { metric: m.clone(), direction: crate::input::choice_name(d) })
            .collect(),
        metrics: metric_columns(&report.rows, &report.objectives),
        points: points(&report.rows),
        compare: report.compare.clone(),
        hypervolume,
        notes: report.notes.clone(),
        figures: Vec::new(),
    }
}

/// The page data of a `reproduce` run: every figure's plots and published-vs-ours comparisons.
pub fn reproduce_data(results: &[(crate::reproduce::FigureResult, f64)], command: &str, versions: &str) -> PageData {
    use crate::reproduce::{PlotKind, SeriesStyle};
    let figures = results
        .iter()
        .map(|(r, _)| FigureData {
            id: r.id.clone(),
            title: r.title.clone(),
            paper: r.paper.clone(),
            description: r.description.clone(),
            verdicts: r.verdict_counts(),
            plots: r
                .plots
                .iter()
                .map(|p| {
                    let mut plot = FigurePlot {
                        title: p.title.clone(),
                        x_label: p.x_label.clone(),
                        y_label: p.y_label.clone(),
                        log_x: p.log_x,
                        log_y: p.log_y,
                        kind: String::new(),
                        series: Vec::new(),
                        categories: Vec::new(),
                        stacks: Vec::new(),
                    };
                    match &p.kind {
                        PlotKind::Lines(series) => {
                            plot.kind = "lines".into();
                            plot.series = series
                                .iter()
                                .map(|s| FigureSeries {
                                    label: s.label.clone(),
                                    color: s.color,
                                    style: match s.style {
                                        SeriesStyle::Markers => "markers",
                                        SeriesStyle::Line => "line",
                                        SeriesStyle::ThinLine => "thin",
                                    }
                                    .into(),
                                    points: s
                                        .points
                                        .iter()
                                        .copied()
                                        .filter(|(x, y)| x.is_finite() && y.is_finite())
                                        .collect(),
                                })
                                .collect();
                        }
                        PlotKind::StackedBars { categories, stacks } => {
                            plot.kind = "bars".into();
                            plot.categories.clone_from(categories);
                            plot.stacks.clone_from(stacks);
                        }
                    }
                    plot
                })
                .collect(),
            comparisons: r
                .comparisons
                .iter()
                .map(|c| FigureComparison {
                    group: c.group.clone(),
                    item: c.item.clone(),
                    published: c.published.clone(),
                    ours: c.ours.clone(),
                    difference: c.difference.clone(),
                    verdict: c.verdict.word().to_string(),
                    detail: c.verdict.detail().to_string(),
                })
                .collect(),
            notes: r.notes.clone(),
        })
        .collect();
    PageData {
        title: "RecPipe paper figures, reproduced".into(),
        space: None,
        run: RunInfoData {
            command: command.into(),
            versions: versions.into(),
            started_utc: crate::explore::run::utc_stamp(),
            host: crate::measure::host::machine_description(),
            ..Default::default()
        },
        sla: None,
        loads_qps: Vec::new(),
        objectives: Vec::new(),
        plots: Vec::new(),
        metrics: Vec::new(),
        points: Vec::new(),
        compare: None,
        hypervolume: None,
        notes: Vec::new(),
        figures,
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The whole page for `data`: the template with its style, script and data inlined. The JSON escapes `<`
/// (`\u003c`) so that no value can close the data element.
pub fn render(data: &PageData) -> String {
    let json = serde_json::to_string(data).expect("page data serialises").replace('<', "\\u003c");
    let title = escape_html(&data.title);
    let markers =
        [("/*@STYLE@*/", STYLE), ("/*@SCRIPT@*/", SCRIPT), ("@DATA@", json.as_str()), ("@TITLE@", title.as_str())];
    // Substitute in one pass over the template so that no inlined text is searched for markers again.
    let mut out = String::with_capacity(PAGE.len() + STYLE.len() + SCRIPT.len() + json.len());
    let mut rest = PAGE;
    while let Some(at) = rest.find(['/', '@']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match markers.iter().find(|(marker, _)| rest.starts_with(marker)) {
            Some((marker, text)) => {
                out.push_str(text);
                rest = &rest[marker.len()..];
            }
            None => {
                out.push_str(&rest[..1]);
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The data embedded in a page written by [`render`] (for tests and tools that read reports back).
pub fn embedded_data(page: &str) -> Option<PageData> {
    let start = page.find("id=\"report-data\">")? + "id=\"report-data\">".len();
    let end = start + page[start..].find("</script>")?;
    serde_json::from_str(&page[start..end]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_page(title: &str, note: &str) -> PageData {
        PageData {
            title: title.into(),
            space: None,
            run: RunInfoData::default(),
            sla: None,
            loads_qps: vec![100.0],
            objectives: Vec::new(),
            plots: Vec::new(),
            metrics: Vec::new(),
            points: Vec::new(),
            compare: None,
            hypervolume: None,
            notes: vec![note.into()],
            figures: Vec::new(),
        }
    }

    #[test]
    fn markers_are_replaced_once_and_data_round_trips() {
        let data = tiny_page("a <b> & \"c\"", "</script><script>alert(1)</script> @DATA@ /*@SCRIPT@*/");
        let page = render(&data);
        assert!(page.contains("<title>a &lt;b&gt; &amp; &quot;c&quot;</title>"));
        assert_eq!(page.matches("</script>").count(), PAGE.matches("</script>").count());
        assert_eq!(embedded_data(&page), Some(data));
        assert!(page.contains(STYLE.trim()) && page.contains(SCRIPT.trim()));
    }
}
