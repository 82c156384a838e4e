//! `quality` figures (RecPipe Fig. 3 and the quality columns of Figs. 7, 8 and 13): RecPipe-NDCG@k and the
//! error rate of trained DLRMs over query sizes, and of multi-stage cascades, set beside the artifact's
//! logged values. The models are trained and scored through the same path as `explore` (`quality::prepare`
//! on the figure's design space); this module only compares the resulting score cache with the published
//! rows. NDCG values are fractions; the error rate is a fraction, shown in per cent.
//!
//! Besides the number-by-number comparison, the figure checks the artifact's rule of thumb for every
//! published cascade: its quality equals the last-stage model's alone on the first stage's items (the
//! candidate pool), within [`RULE_TOLERANCE`].

use super::published::CsvFile;
use super::{
    compare_numbers, fmt_trimmed, Comparison, FigureResult, Issues, Plot, PlotKind, Series, SeriesStyle, Table,
    Tolerance, Verdict,
};
use crate::quality::ScoreCache;
use crate::spec::Space;
use serde::Deserialize;
use std::path::Path;

/// Largest |cascade − last model on the pool| of RecPipe-NDCG@64 for which the rule of thumb holds.
pub const RULE_TOLERANCE: f64 = 0.01;
/// Cut-offs of the published single-model rows.
const CUTOFFS: [u32; 5] = [4, 8, 16, 32, 64];
/// Columns of a published single-model CSV.
const MODEL_COLUMNS: [&str; 8] = ["model", "items", "ndcg@4", "ndcg@8", "ndcg@16", "ndcg@32", "ndcg@64", "error"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuality {
    space: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    published_cascades: Option<String>,
    #[serde(default)]
    tolerance_ndcg: Option<f64>,
    #[serde(default)]
    tolerance_error_points: Option<f64>,
}

/// One published single-model row.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRow {
    /// Zoo model name.
    pub model: String,
    /// Items per query.
    pub items: u32,
    /// RecPipe-NDCG at the cut-offs of `CUTOFFS`.
    pub ndcg: [f64; 5],
    /// Error rate, fraction.
    pub error: f64,
}

/// One published cascade row.
#[derive(Debug, Clone, PartialEq)]
pub struct CascadeRow {
    /// Zoo model names per stage.
    pub models: Vec<String>,
    /// Items per stage.
    pub items: Vec<u32>,
    /// RecPipe-NDCG@8 and @64.
    pub ndcg8: f64,
    /// RecPipe-NDCG@64.
    pub ndcg64: f64,
}

/// A loaded `quality` figure.
#[derive(Debug, Clone)]
pub struct QualityFigure {
    /// The design space whose models are trained and scored.
    pub space: Space,
    /// Published single-model rows.
    pub models: Vec<ModelRow>,
    /// Published cascades.
    pub cascades: Vec<CascadeRow>,
    /// Absolute tolerance on NDCG values.
    pub tolerance_ndcg: f64,
    /// Absolute tolerance on the error rate, percentage points.
    pub tolerance_error_points: f64,
}

/// The published single-model rows of the CSV at `path` (`model,items,ndcg@4,…,ndcg@64,error`), or every
/// problem with its line.
pub fn read_model_rows(path: &Path) -> Result<Vec<ModelRow>, Vec<crate::input::Issue>> {
    let name = path.display().to_string();
    let mut p = Issues::new(&name);
    let rows = super::published::read(Path::new(""), &name, &MODEL_COLUMNS, "published", &mut p)
        .map(|c| model_rows(&c, &mut p));
    match rows {
        Some(rows) if p.is_empty() => Ok(rows),
        _ => Err(p.list),
    }
}

fn model_rows(csv: &CsvFile, p: &mut Issues) -> Vec<ModelRow> {
    let mut out = Vec::new();
    for row in &csv.rows {
        let mut ndcg = [0.0; 5];
        let mut ok = true;
        for (i, k) in CUTOFFS.iter().enumerate() {
            match csv.number(row, &format!("ndcg@{k}")) {
                Ok(v) => ndcg[i] = v,
                Err(e) => {
                    p.extend([e]);
                    ok = false;
                }
            }
        }
        match (csv.count(row, "items"), csv.number(row, "error")) {
            (Ok(items), Ok(error)) if ok => out.push(ModelRow { model: row.fields[0].clone(), items, ndcg, error }),
            (a, b) => p.extend(a.err().into_iter().chain(b.err())),
        }
    }
    out
}

fn cascade_rows(csv: &CsvFile, p: &mut Issues) -> Vec<CascadeRow> {
    let mut out = Vec::new();
    for row in &csv.rows {
        match (
            csv.names(row, "models"),
            csv.counts(row, "items"),
            csv.number(row, "ndcg@8"),
            csv.number(row, "ndcg@64"),
        ) {
            (Ok(models), Ok(items), Ok(ndcg8), Ok(ndcg64)) if models.len() == items.len() => {
                out.push(CascadeRow { models, items, ndcg8, ndcg64 })
            }
            (Ok(_), Ok(_), Ok(_), Ok(_)) => p.extend([super::published::issue_at(
                &csv.file,
                row.line,
                "columns 'models' and 'items' must list as many stages".into(),
            )]),
            (a, b, c, d) => p.extend(a.err().into_iter().chain(b.err()).chain(c.err()).chain(d.err())),
        }
    }
    out
}

pub(crate) fn load(raw: RawQuality, base_dir: &Path, p: &mut Issues) -> Option<QualityFigure> {
    let before = p.len();
    let space = super::load_figure_space(base_dir, &raw.space, p);
    if raw.published.is_none() && raw.published_cascades.is_none() {
        p.push(None, "quality", "needs published, published_cascades or both");
    }
    let models = match &raw.published {
        Some(f) => {
            super::published::read(base_dir, f, &MODEL_COLUMNS, "quality.published", p).map(|c| model_rows(&c, p))
        }
        None => Some(Vec::new()),
    };
    let cascades = match &raw.published_cascades {
        Some(f) => super::published::read(
            base_dir,
            f,
            &["models", "items", "ndcg@8", "ndcg@64"],
            "quality.published_cascades",
            p,
        )
        .map(|c| cascade_rows(&c, p)),
        None => Some(Vec::new()),
    };
    let tolerance_ndcg = raw.tolerance_ndcg.unwrap_or(0.05);
    let tolerance_error_points = raw.tolerance_error_points.unwrap_or(0.5);
    super::require_positive(
        p,
        &[("quality.tolerance_ndcg", tolerance_ndcg), ("quality.tolerance_error_points", tolerance_error_points)],
    );
    let (space, models, cascades) = (space?, models?, cascades?);
    let known = |m: &str| space.zoo.iter().any(|z| z.name == m);
    for m in models.iter().map(|r| &r.model).chain(cascades.iter().flat_map(|c| &c.models)) {
        if !known(m) {
            p.push(None, "quality.published", format!("model '{m}' is not in the zoo of {}", space.source));
        }
    }
    let pool = space.dataset.candidates_per_query.unwrap_or(0);
    for items in models.iter().map(|r| r.items).chain(cascades.iter().filter_map(|c| c.items.first().copied())) {
        if items > pool {
            p.push(None, "quality.published", format!("{items} items exceed the space's {pool} candidates per query"));
        }
    }
    (p.len() == before).then_some(QualityFigure { space, models, cascades, tolerance_ndcg, tolerance_error_points })
}

fn zoo_index(space: &Space, name: &str) -> usize {
    space.zoo.iter().position(|m| m.name == name).expect("checked at load")
}

/// Compare the score cache of the figure's space with the published rows.
pub fn run(q: &QualityFigure, cache: &ScoreCache, out: &mut FigureResult) {
    let synthetic = cache.is_synthetic();
    let reason = if synthetic {
        "synthetic stand-in for Criteo (calibrated to this figure, see fit-synthetic)"
    } else {
        "our training and test rows differ from the artifact's"
    };
    out.notes.push(format!("quality data: {}", cache.describe()));
    let ndcg_tol = Tolerance::Absolute(q.tolerance_ndcg);
    let mut table = Table {
        columns: ["model", "items", "ndcg@4", "ndcg@8", "ndcg@16", "ndcg@32", "ndcg@64", "error_pct", "auc"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    let mut models_seen: Vec<String> = Vec::new();
    for r in &q.models {
        if !models_seen.contains(&r.model) {
            models_seen.push(r.model.clone());
        }
    }
    let items_grid: Vec<u32> = {
        let mut v: Vec<u32> =
            q.space.pipelines.iter().filter(|p| p.stages == 1).flat_map(|p| p.items.iter().map(|i| i[0])).collect();
        v.extend(q.models.iter().map(|r| r.items));
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut ours_series = Vec::new();
    let mut published_series = Vec::new();
    for (color, name) in models_seen.iter().enumerate() {
        let m = zoo_index(&q.space, name);
        let metrics = cache.model_metrics(m).clone();
        let error = metrics.get("error").copied().unwrap_or(f64::NAN);
        let auc = metrics.get("auc").copied().unwrap_or(f64::NAN);
        let mut pts = Vec::new();
        for &items in &items_grid {
            let got = cache.cascade(&[(m, items)]).metrics;
            let ndcg: Vec<f64> =
                CUTOFFS.iter().map(|k| got.get(&format!("recpipe_ndcg@{k}")).copied().unwrap_or(f64::NAN)).collect();
            pts.push((f64::from(items), ndcg[4]));
            let mut row = vec![name.clone(), items.to_string()];
            row.extend(ndcg.iter().map(|v| fmt_trimmed(*v, 4)));
            row.push(fmt_trimmed(error * 100.0, 3));
            row.push(fmt_trimmed(auc, 4));
            table.rows.push(row);
            if let Some(p) = q.models.iter().find(|r| &r.model == name && r.items == items) {
                for (i, k) in CUTOFFS.iter().enumerate() {
                    out.values.insert(format!("{name}@{items}:ndcg@{k}"), ndcg[i]);
                    out.comparisons.push(compare_numbers(
                        &format!("ndcg@{k}"),
                        format!("{name} @{items}"),
                        p.ndcg[i],
                        ndcg[i],
                        "",
                        ndcg_tol,
                        reason,
                    ));
                }
                out.comparisons.push(compare_numbers(
                    "error",
                    format!("{name} @{items}"),
                    p.error * 100.0,
                    error * 100.0,
                    "%",
                    Tolerance::Absolute(q.tolerance_error_points),
                    reason,
                ));
            }
        }
        out.values.insert(format!("{name}:error"), error);
        out.values.insert(format!("{name}:auc"), auc);
        ours_series.push(Series { label: format!("{name} (ours)"), color, style: SeriesStyle::Line, points: pts });
        let published: Vec<(f64, f64)> =
            q.models.iter().filter(|r| &r.model == name).map(|r| (f64::from(r.items), r.ndcg[4])).collect();
        let mut published = published;
        published.sort_by(|a, b| a.0.total_cmp(&b.0));
        published_series.push(Series {
            label: format!("{name} (RecPipe)"),
            color,
            style: SeriesStyle::Markers,
            points: published,
        });
    }
    let mut series = ours_series;
    series.extend(published_series);
    if !q.models.is_empty() {
        out.plots.push(Plot {
            stem: "ndcg64".into(),
            title: "RecPipe-NDCG@64 against items per query".into(),
            x_label: "items per query".into(),
            y_label: "RecPipe-NDCG@64".into(),
            log_x: true,
            log_y: false,
            kind: PlotKind::Lines(series),
        });
    }
    // Cascades by their models, against the first stage's items.
    // (models, ours, published), each curve as (first-stage items, NDCG@64).
    type Points = Vec<(f64, f64)>;
    let mut cascade_series: Vec<(String, Points, Points)> = Vec::new();
    for c in &q.cascades {
        let stages: Vec<(usize, u32)> =
            c.models.iter().zip(&c.items).map(|(m, &i)| (zoo_index(&q.space, m), i)).collect();
        let got = cache.cascade(&stages).metrics;
        let label =
            format!("{} {}", c.models.join("→"), c.items.iter().map(u32::to_string).collect::<Vec<_>>().join("/"));
        let mut row = vec![c.models.join("→"), c.items.iter().map(u32::to_string).collect::<Vec<_>>().join("/")];
        row.extend(
            CUTOFFS.iter().map(|k| fmt_trimmed(got.get(&format!("recpipe_ndcg@{k}")).copied().unwrap_or(f64::NAN), 4)),
        );
        row.extend([String::new(), String::new()]);
        table.rows.push(row);
        let n8 = got.get("recpipe_ndcg@8").copied().unwrap_or(f64::NAN);
        let n64 = got.get("recpipe_ndcg@64").copied().unwrap_or(f64::NAN);
        out.values.insert(format!("{label}:ndcg@64"), n64);
        let shape = c.models.join("→");
        let at = match cascade_series.iter().position(|(k, _, _)| *k == shape) {
            Some(i) => i,
            None => {
                cascade_series.push((shape, Vec::new(), Vec::new()));
                cascade_series.len() - 1
            }
        };
        cascade_series[at].1.push((f64::from(c.items[0]), n64));
        cascade_series[at].2.push((f64::from(c.items[0]), c.ndcg64));
        out.comparisons.push(compare_numbers("cascade ndcg@8", label.clone(), c.ndcg8, n8, "", ndcg_tol, reason));
        out.comparisons.push(compare_numbers("cascade ndcg@64", label.clone(), c.ndcg64, n64, "", ndcg_tol, reason));
        if stages.len() < 2 {
            continue;
        }
        let last = *stages.last().expect("at least one stage");
        let alone = cache.cascade(&[(last.0, c.items[0])]).metrics.get("recpipe_ndcg@64").copied().unwrap_or(f64::NAN);
        let gap = n64 - alone;
        let verdict = if gap.abs() <= RULE_TOLERANCE {
            Verdict::Matches { tolerance: format!("±{RULE_TOLERANCE}") }
        } else {
            Verdict::Differs { reason: format!("{reason}: the cascade is {gap:+.4} from its last model on the pool") }
        };
        out.comparisons.push(Comparison {
            group: "rule: quality = last model on the first stage's pool".into(),
            item: label,
            published: "equal (artifact's rule of thumb)".into(),
            ours: format!("{} vs {} alone", fmt_trimmed(n64, 4), fmt_trimmed(alone, 4)),
            difference: format!("{gap:+.4}"),
            verdict,
        });
    }
    if !cascade_series.is_empty() {
        let mut series = Vec::new();
        for (color, (shape, mut ours, mut published)) in cascade_series.into_iter().enumerate() {
            ours.sort_by(|a, b| a.0.total_cmp(&b.0));
            published.sort_by(|a, b| a.0.total_cmp(&b.0));
            series.push(Series { label: format!("{shape} (ours)"), color, style: SeriesStyle::Line, points: ours });
            series.push(Series {
                label: format!("{shape} (RecPipe)"),
                color,
                style: SeriesStyle::Markers,
                points: published,
            });
        }
        out.plots.push(Plot {
            stem: "cascades_ndcg64".into(),
            title: "RecPipe-NDCG@64 of the logged pipelines".into(),
            x_label: "first-stage items per query".into(),
            y_label: "RecPipe-NDCG@64".into(),
            log_x: true,
            log_y: false,
            kind: PlotKind::Lines(series),
        });
    }
    out.table = table;
    out.notes.push(format!(
        "tolerances: NDCG ±{}, error ±{} points; RecPipe's error is the fraction of items with round(p) ≠ label",
        q.tolerance_ndcg, q.tolerance_error_points
    ));
}
