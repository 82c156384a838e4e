//! Pareto plots with plotters, each as PNG and SVG: feasible points in grey, the Pareto front (rank 0 on the
//! space's objectives) in red. Latency, capacity, area and power axes are logarithmic (they span orders of
//! magnitude between CPU, GPU and accelerator designs); quality axes are linear. Text uses DejaVu Sans,
//! embedded in the binary and registered once (Bitstream Vera licence, `src/report/fonts/`).

use super::{PointRow, Report};
use crate::spec::metric::Metric;
use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::Once;

/// DejaVu Sans (fonts-dejavu-core), used for every label.
const DEJAVU_SANS: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

static FONT: Once = Once::new();

pub(crate) fn register_font() {
    FONT.call_once(|| {
        // The font is embedded at build time; a failure here would be a broken build, and plots then
        // render without text rather than abort.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS);
    });
}

/// One plot: file stem, title, axis metrics with their labels, and which rows it shows.
#[derive(Debug, Clone)]
pub struct PlotSpec {
    /// File name without extension.
    pub stem: String,
    /// Title.
    pub title: String,
    /// Metric on x.
    pub x_metric: String,
    /// x label with unit, `name (unit)` (drawn with `, log scale` inside the parentheses on a log axis).
    pub x_label: String,
    /// Metric on y.
    pub y_metric: String,
    /// y label with unit, as `x_label`.
    pub y_label: String,
    /// Only rows with an accelerator stage.
    pub accel_only: bool,
}

fn is_quality(metric: &str) -> bool {
    metric.contains('@') && !metric.contains("qps")
}

/// The quality metric plotted: the first quality objective, else `ndcg@K` with the largest K present.
pub fn quality_metric(report: &Report) -> Option<String> {
    if let Some((m, _)) = report.objectives.iter().find(|(m, _)| is_quality(m)) {
        return Some(m.clone());
    }
    let names: std::collections::BTreeSet<&str> =
        report.rows.iter().flat_map(|r| r.metrics.keys()).filter(|k| k.starts_with("ndcg@")).collect();
    names.into_iter().max_by_key(|k| k[5..].parse::<u32>().unwrap_or(0)).map(str::to_string)
}

/// The quality metric a space's reports show: its first quality objective, else its first quality
/// constraint, else `ndcg@top_k`.
pub fn quality_metric_of(space: &crate::spec::Space) -> crate::spec::metric::Metric {
    space.quality_metrics().next().unwrap_or(crate::spec::metric::Metric::Ndcg(space.top_k))
}

/// The plots a report draws (those whose metrics exist).
pub fn specs(report: &Report) -> Vec<PlotSpec> {
    let mut out = Vec::new();
    let sla = &report.sla;
    if let Some(q) = quality_metric(report) {
        out.push(PlotSpec {
            stem: "quality_vs_p95".into(),
            title: format!(
                "{q} vs p95 latency at {} queries/s",
                crate::explore::evaluate::fmt_num(report.loads_qps[0])
            ),
            x_metric: Metric::P95Ms.to_string(),
            x_label: "p95 end-to-end latency (ms)".into(),
            y_metric: q.clone(),
            y_label: format!("{q} (unitless)"),
            accel_only: false,
        });
        out.push(PlotSpec {
            stem: "capacity_vs_quality".into(),
            title: format!("capacity under SLA ({sla}) vs {q}"),
            x_metric: q.clone(),
            x_label: format!("{q} (unitless)"),
            y_metric: Metric::CapacityQps.to_string(),
            y_label: "capacity under SLA (queries/s)".into(),
            accel_only: false,
        });
    }
    out.push(PlotSpec {
        stem: "accel_area_vs_capacity".into(),
        title: format!("accelerator designs: area vs capacity under SLA ({sla})"),
        x_metric: Metric::CapacityQps.to_string(),
        x_label: "capacity under SLA (queries/s)".into(),
        y_metric: Metric::AreaMm2.to_string(),
        y_label: "accelerator area (mm²)".into(),
        accel_only: true,
    });
    out.push(PlotSpec {
        stem: "accel_power_vs_capacity".into(),
        title: format!("accelerator designs: power vs capacity under SLA ({sla})"),
        x_metric: Metric::CapacityQps.to_string(),
        x_label: "capacity under SLA (queries/s)".into(),
        y_metric: Metric::PowerW.to_string(),
        y_label: "accelerator power (W)".into(),
        accel_only: true,
    });
    out
}

/// (x, y, on front) of the feasible rows having both metrics.
pub fn points(report: &Report, spec: &PlotSpec) -> Vec<(f64, f64, bool)> {
    report
        .rows
        .iter()
        .filter(|r: &&PointRow| r.feasible && (!spec.accel_only || r.backends.contains("accel")))
        .filter_map(|r| {
            let x = *r.metrics.get(&spec.x_metric)?;
            let y = *r.metrics.get(&spec.y_metric)?;
            let log_ok = |m: &str, v: f64| is_quality(m) || v > 0.0;
            (log_ok(&spec.x_metric, x) && log_ok(&spec.y_metric, y)).then_some((x, y, r.rank == Some(0)))
        })
        .collect()
}

pub(crate) fn span(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if log {
        let (lo, hi) = if hi / lo < 1.5 { (lo / 1.25, hi * 1.25) } else { (lo / 1.1, hi * 1.1) };
        (lo, hi)
    } else {
        let pad = ((hi - lo) * 0.05).max(1e-3);
        (lo - pad, hi + pad)
    }
}

/// A chart on `root` with a caption and the label areas every plot of the reports uses; `?` on failure
/// (the enclosing function returns `Result<_, String>`).
macro_rules! chart_on {
    ($root:expr, $title:expr, $caption_size:expr, $xr:expr, $yr:expr) => {
        ChartBuilder::on($root)
            .caption($title, ("sans-serif", $caption_size))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d($xr, $yr)
            .map_err(|e| e.to_string())?
    };
}
pub(crate) use chart_on;

/// An axis label `name (unit)` as drawn: `name (unit, log scale)` on a logarithmic axis.
fn axis_label(label: &str, log: bool) -> String {
    match label.strip_suffix(')') {
        Some(open) if log => format!("{open}, log scale)"),
        _ => label.to_string(),
    }
}

macro_rules! draw_chart {
    ($root:expr, $spec:expr, $pts:expr, $xr:expr, $yr:expr) => {{
        let mut chart = chart_on!($root, &$spec.title, 20, $xr, $yr);
        chart
            .configure_mesh()
            .x_desc(axis_label(&$spec.x_label, !is_quality(&$spec.x_metric)))
            .y_desc(axis_label(&$spec.y_label, !is_quality(&$spec.y_metric)))
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                $pts.iter().filter(|p| !p.2).map(|p| Circle::new((p.0, p.1), 3, RGBColor(150, 150, 150).filled())),
            )
            .map_err(|e| e.to_string())?
            .label("feasible point")
            .legend(|(x, y)| Circle::new((x, y), 3, RGBColor(150, 150, 150).filled()));
        chart
            .draw_series($pts.iter().filter(|p| p.2).map(|p| Circle::new((p.0, p.1), 5, RED.filled())))
            .map_err(|e| e.to_string())?
            .label("Pareto front")
            .legend(|(x, y)| Circle::new((x, y), 5, RED.filled()));
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }};
}

/// Draw one plot on a drawing area.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &PlotSpec,
    pts: &[(f64, f64, bool)],
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let x_log = !is_quality(&spec.x_metric);
    let y_log = !is_quality(&spec.y_metric);
    let (x0, x1) = span(pts.iter().map(|p| p.0), x_log);
    let (y0, y1) = span(pts.iter().map(|p| p.1), y_log);
    match (x_log, y_log) {
        (true, true) => draw_chart!(root, spec, pts, (x0..x1).log_scale(), (y0..y1).log_scale()),
        (true, false) => draw_chart!(root, spec, pts, (x0..x1).log_scale(), y0..y1),
        (false, true) => draw_chart!(root, spec, pts, x0..x1, (y0..y1).log_scale()),
        (false, false) => draw_chart!(root, spec, pts, x0..x1, y0..y1),
    }
    root.present().map_err(|e| e.to_string())
}

/// Write every plot with points as `<stem>.png` and `<stem>.svg` into `dir`.
pub fn write(dir: &Path, report: &Report) -> anyhow::Result<Vec<PathBuf>> {
    register_font();
    let mut files = Vec::new();
    for spec in specs(report) {
        let pts = points(report, &spec);
        if pts.is_empty() {
            continue;
        }
        let size = (960, 680);
        let png = dir.join(format!("{}.png", spec.stem));
        let tmp_png = crate::durable::temp_path(&png);
        let drawn = {
            let root = BitMapBackend::new(&tmp_png, size).into_drawing_area();
            draw(&root, &spec, &pts).map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", png.display()))
        };
        if let Err(e) = drawn {
            let _ = std::fs::remove_file(&tmp_png);
            return Err(e);
        }
        crate::durable::commit(&tmp_png, &png).with_context(|| format!("cannot write {}", png.display()))?;
        let mut svg_text = String::new();
        {
            let root = SVGBackend::with_string(&mut svg_text, size).into_drawing_area();
            draw(&root, &spec, &pts).map_err(|e| anyhow::anyhow!("cannot draw {}.svg: {e}", spec.stem))?;
        }
        let svg = dir.join(format!("{}.svg", spec.stem));
        crate::durable::write_atomic(&svg, svg_text.as_bytes())?;
        files.push(png);
        files.push(svg);
    }
    Ok(files)
}
