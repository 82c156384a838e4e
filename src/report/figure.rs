//! Writing `reproduce` results: one folder per figure (`README.md` with the published-vs-ours tables and
//! verdicts, `<id>.csv` with our numbers, `comparisons.csv`, each plot as PNG and SVG) and a top-level
//! `README.md` that summarises every figure. Plots use plotters with the embedded DejaVu Sans font.

use super::plots::{chart_on, register_font, span};
use crate::durable::write_atomic;
use crate::reproduce::{FigureResult, Plot, PlotKind, SeriesStyle, Table, Verdict};
use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A tick label: at most three decimals, no trailing zeros.
fn tick(v: &f64) -> String {
    crate::reproduce::fmt_trimmed(*v, 3)
}

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A table as CSV text.
pub fn table_csv(t: &Table) -> String {
    let mut out = t.columns.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for row in &t.rows {
        out.push_str(&row.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The comparisons as CSV text.
pub fn comparisons_csv(r: &FigureResult) -> String {
    let mut out = String::from("group,item,published,ours,difference,verdict,detail\n");
    for c in &r.comparisons {
        let cells = [&c.group, &c.item, &c.published, &c.ours, &c.difference, c.verdict.word(), c.verdict.detail()];
        out.push_str(&cells.iter().map(|s| csv_cell(s)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Groups shown in full in the README; others (per-run checks) show their mismatches and a count.
const LONG_GROUP_ROWS: usize = 40;

/// The figure's README.md.
pub fn figure_markdown(r: &FigureResult, files: &[String], seconds: f64) -> String {
    let mut md = String::new();
    let (m, d, u) = r.verdict_counts();
    let _ = writeln!(md, "# {} — {}\n", r.paper, r.title);
    if !r.description.is_empty() {
        let _ = writeln!(md, "{}\n", r.description.trim());
    }
    let _ = writeln!(md, "Source: `{}`. Computed in {seconds:.2} s.\n", r.file);
    let _ = writeln!(md, "**Verdicts:** {m} match, {d} differ, {u} not checked.\n");
    let mut groups: Vec<&str> = Vec::new();
    for c in &r.comparisons {
        if !groups.contains(&c.group.as_str()) {
            groups.push(&c.group);
        }
    }
    for g in groups {
        let rows: Vec<_> = r.comparisons.iter().filter(|c| c.group == g).collect();
        let matches = rows.iter().filter(|c| matches!(c.verdict, Verdict::Matches { .. })).count();
        let _ = writeln!(md, "## {g} ({matches} of {} match)\n", rows.len());
        let shown: Vec<_> = if rows.len() > LONG_GROUP_ROWS {
            let off: Vec<_> = rows.iter().filter(|c| !matches!(c.verdict, Verdict::Matches { .. })).copied().collect();
            let _ = writeln!(
                md,
                "{} rows, every one in `comparisons.csv`; {}\n",
                rows.len(),
                if off.is_empty() { "all match.".to_string() } else { format!("the {} that do not match:", off.len()) }
            );
            off
        } else {
            rows
        };
        if shown.is_empty() {
            continue;
        }
        let _ = writeln!(md, "| item | published | ours | difference | verdict |\n|---|---|---|---|---|");
        for c in shown {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                md_cell(&c.item),
                md_cell(&c.published),
                md_cell(&c.ours),
                md_cell(&c.difference),
                md_cell(&c.verdict.describe())
            );
        }
        md.push('\n');
    }
    if !r.notes.is_empty() {
        md.push_str("## Notes\n\n");
        for n in &r.notes {
            let _ = writeln!(md, "- {n}");
        }
        md.push('\n');
    }
    md.push_str("## Files\n\n");
    for f in files {
        let _ = writeln!(md, "- [`{f}`]({f})");
    }
    md
}

/// The legend box of a figure plot, at `$corner`.
macro_rules! draw_legend {
    ($chart:expr, $corner:expr) => {
        $chart
            .configure_series_labels()
            .position($corner)
            .label_font(("sans-serif", 12))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?
    };
}

macro_rules! draw_lines {
    ($root:expr, $plot:expr, $series:expr, $xr:expr, $yr:expr, $corner:expr) => {{
        let mut chart = chart_on!($root, &$plot.title, 18, $xr, $yr);
        chart
            .configure_mesh()
            .x_labels(12)
            .y_labels(14)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .x_desc($plot.x_label.as_str())
            .y_desc($plot.y_label.as_str())
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for s in $series {
            let c = color(s.color);
            match s.style {
                SeriesStyle::Markers => {
                    chart
                        .draw_series(s.points.iter().map(|&(x, y)| Circle::new((x, y), 6, c.stroke_width(2))))
                        .map_err(|e| e.to_string())?
                        .label(s.label.as_str())
                        .legend(move |(x, y)| Circle::new((x + 10, y), 6, c.stroke_width(2)));
                }
                SeriesStyle::Line => {
                    chart
                        .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
                        .map_err(|e| e.to_string())?
                        .label(s.label.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
                    chart
                        .draw_series(s.points.iter().map(|&(x, y)| Circle::new((x, y), 3, c.filled())))
                        .map_err(|e| e.to_string())?;
                }
                SeriesStyle::ThinLine => {
                    let light = c.mix(0.6);
                    chart
                        .draw_series(LineSeries::new(s.points.iter().copied(), light.stroke_width(1)))
                        .map_err(|e| e.to_string())?
                        .label(s.label.as_str())
                        .legend(move |(x, y)| Cross::new((x + 10, y), 4, light.stroke_width(1)));
                    chart
                        .draw_series(s.points.iter().map(|&(x, y)| Cross::new((x, y), 4, light.stroke_width(1))))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        draw_legend!(chart, $corner);
    }};
}

/// The corner of the plot area whose legend box would hide the fewest points: the box spans about a third of
/// the width and one text line per legend entry of the height. Ties keep the order upper left, upper right,
/// lower right, lower left. `x` and `y` are the axis ranges; `log_x`, `log_y` their scales.
fn legend_corner(
    points: &[(f64, f64)],
    entries: usize,
    x: (f64, f64),
    y: (f64, f64),
    log_x: bool,
    log_y: bool,
) -> SeriesLabelPosition {
    let unit = |v: f64, (lo, hi): (f64, f64), log: bool| {
        let (v, lo, hi) = if log { (v.ln(), lo.ln(), hi.ln()) } else { (v, lo, hi) };
        if hi > lo {
            (v - lo) / (hi - lo)
        } else {
            0.5
        }
    };
    let width = 0.34;
    let height = (0.03 * entries as f64 + 0.03).min(1.0);
    let corners = [
        (SeriesLabelPosition::UpperLeft, true, true),
        (SeriesLabelPosition::UpperRight, false, true),
        (SeriesLabelPosition::LowerRight, false, false),
        (SeriesLabelPosition::LowerLeft, true, false),
    ];
    let hidden = |left: bool, upper: bool| {
        points
            .iter()
            .filter(|p| {
                let (u, v) = (unit(p.0, x, log_x), unit(p.1, y, log_y));
                (if left { u <= width } else { u >= 1.0 - width })
                    && (if upper { v >= 1.0 - height } else { v <= height })
            })
            .count()
    };
    let mut best = (usize::MAX, SeriesLabelPosition::UpperLeft);
    for (corner, left, upper) in corners {
        let n = hidden(left, upper);
        if n < best.0 {
            best = (n, corner);
        }
    }
    best.1
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &Plot,
    categories: &[String],
    stacks: &[(String, Vec<f64>)],
) -> Result<(), String> {
    let totals: Vec<f64> =
        (0..categories.len()).map(|i| stacks.iter().map(|s| s.1.get(i).copied().unwrap_or(0.0)).sum()).collect();
    let top = totals.iter().copied().fold(0.0, f64::max).max(1e-9) * 1.15;
    let n = categories.len() as f64;
    let mut chart = chart_on!(root, &plot.title, 18, -0.5..(n - 0.5), 0.0..top);
    let cats = categories.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(categories.len().max(1))
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                cats.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc(plot.x_label.as_str())
        .y_desc(plot.y_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(|e| e.to_string())?;
    let mut base = vec![0.0; categories.len()];
    for (si, (name, values)) in stacks.iter().enumerate() {
        let c = color(si);
        let rects: Vec<Rectangle<(f64, f64)>> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let r = Rectangle::new([(i as f64 - 0.3, base[i]), (i as f64 + 0.3, base[i] + v)], c.filled());
                base[i] += v;
                r
            })
            .collect();
        chart
            .draw_series(rects)
            .map_err(|e| e.to_string())?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    chart
        .draw_series(totals.iter().enumerate().map(|(i, &t)| {
            Text::new(crate::reproduce::fmt_value(t), (i as f64 - 0.12, t + top * 0.02), ("sans-serif", 14))
        }))
        .map_err(|e| e.to_string())?;
    draw_legend!(chart, SeriesLabelPosition::UpperLeft);
    Ok(())
}

/// Draw one plot on a drawing area.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, plot: &Plot) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    match &plot.kind {
        PlotKind::StackedBars { categories, stacks } => draw_bars(root, plot, categories, stacks)?,
        PlotKind::Lines(series) => {
            let pts = || series.iter().flat_map(|s| s.points.iter()).filter(|p| p.0 > 0.0 && p.1 > 0.0);
            if pts().next().is_none() {
                return Err("no positive points to draw".into());
            }
            let (x0, x1) = span(pts().map(|p| p.0), plot.log_x);
            let (y0, y1) = span(pts().map(|p| p.1), plot.log_y);
            let (y0, y1) = if plot.log_y { (y0, y1 * 2.5) } else { (y0, y1 + (y1 - y0) * 0.4) };
            let all: Vec<(f64, f64)> = pts().copied().collect();
            let corner = legend_corner(&all, series.len(), (x0, x1), (y0, y1), plot.log_x, plot.log_y);
            match (plot.log_x, plot.log_y) {
                (true, true) => draw_lines!(root, plot, series, (x0..x1).log_scale(), (y0..y1).log_scale(), corner),
                (true, false) => draw_lines!(root, plot, series, (x0..x1).log_scale(), y0..y1, corner),
                (false, true) => draw_lines!(root, plot, series, x0..x1, (y0..y1).log_scale(), corner),
                (false, false) => draw_lines!(root, plot, series, x0..x1, y0..y1, corner),
            }
        }
    }
    root.present().map_err(|e| e.to_string())
}

/// Write one plot as PNG and SVG into `dir`; returns the file names.
fn write_plot(dir: &Path, plot: &Plot) -> anyhow::Result<Vec<String>> {
    let size = (1000, 700);
    let png = dir.join(format!("{}.png", plot.stem));
    let tmp = crate::durable::temp_path(&png);
    let drawn = {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        draw(&root, plot).map_err(|e| anyhow::anyhow!("cannot draw {}: {e}", png.display()))
    };
    if let Err(e) = drawn {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    crate::durable::commit(&tmp, &png).with_context(|| format!("cannot write {}", png.display()))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root, plot).map_err(|e| anyhow::anyhow!("cannot draw {}.svg: {e}", plot.stem))?;
    }
    let svg_path = dir.join(format!("{}.svg", plot.stem));
    write_atomic(&svg_path, svg.as_bytes()).with_context(|| format!("cannot write {}", svg_path.display()))?;
    Ok(vec![format!("{}.png", plot.stem), format!("{}.svg", plot.stem)])
}

/// Write a figure's folder `<dir>/<id>/`; returns the folder.
pub fn write_figure(dir: &Path, r: &FigureResult, seconds: f64) -> anyhow::Result<PathBuf> {
    register_font();
    let folder = dir.join(&r.id);
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let mut files = Vec::new();
    for plot in &r.plots {
        files.extend(write_plot(&folder, plot)?);
    }
    let data = format!("{}.csv", r.id);
    write_atomic(&folder.join(&data), table_csv(&r.table).as_bytes())
        .with_context(|| format!("cannot write {}", folder.join(&data).display()))?;
    files.push(data);
    if !r.comparisons.is_empty() {
        write_atomic(&folder.join("comparisons.csv"), comparisons_csv(r).as_bytes())
            .with_context(|| format!("cannot write {}", folder.join("comparisons.csv").display()))?;
        files.push("comparisons.csv".into());
    }
    let md = figure_markdown(r, &files, seconds);
    write_atomic(&folder.join("README.md"), md.as_bytes())
        .with_context(|| format!("cannot write {}", folder.join("README.md").display()))?;
    Ok(folder)
}

/// The run's top-level README.md: one row per figure with its verdict counts, then how it was run.
pub fn summary_markdown(results: &[(FigureResult, f64)], command: &str, versions: &str) -> String {
    let mut md = String::from("# RecPipe (MICRO'21) reproduced\n\n");
    md.push_str(
        "Each figure's folder holds its plot (PNG + SVG), our numbers (CSV), every comparison (`comparisons.csv`) \
         and a README with the published numbers beside ours and a verdict per row.\n\n",
    );
    md.push_str("| figure | paper | title | match | differ | not checked | seconds |\n|---|---|---|---|---|---|---|\n");
    for (r, secs) in results {
        let (m, d, u) = r.verdict_counts();
        let _ = writeln!(
            md,
            "| [{id}]({id}/README.md) | {} | {} | {m} | {d} | {u} | {secs:.2} |",
            md_cell(&r.paper),
            md_cell(&r.title),
            id = r.id
        );
    }
    let _ = writeln!(md, "\nCommand: `{command}`\n\nVersions: {versions}");
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_goes_where_it_hides_the_fewest_points() {
        // Points crowd the upper left: the legend moves to the upper right.
        let crowded = [(1.0, 95.0), (2.0, 90.0), (50.0, 10.0)];
        let c = legend_corner(&crowded, 4, (1.0, 100.0), (1.0, 100.0), false, false);
        assert!(matches!(c, SeriesLabelPosition::UpperRight));
        // Nothing in the way: the upper left, as before.
        let c = legend_corner(&[(50.0, 50.0)], 4, (1.0, 100.0), (1.0, 100.0), false, false);
        assert!(matches!(c, SeriesLabelPosition::UpperLeft));
        // Log axes: 10 is the middle of 1..100, not the left third.
        let c = legend_corner(&[(10.0, 95.0)], 2, (1.0, 100.0), (1.0, 100.0), true, false);
        assert!(matches!(c, SeriesLabelPosition::UpperLeft));
        let c = legend_corner(&[(1.5, 95.0), (90.0, 95.0)], 2, (1.0, 100.0), (1.0, 100.0), true, false);
        assert!(matches!(c, SeriesLabelPosition::LowerRight));
    }
}
