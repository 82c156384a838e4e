//! `iso-quality` figures (RecPipe Figs. 7, 8 and 14): the best p95 latency that CPU, GPU and accelerator
//! pipelines of one, two and three stages reach at each offered load, among the designs whose quality meets
//! the design space's `quality_floor` (RecPipe: NDCG@64 ≥ 92.25 %), set beside the artifact's logged values.
//!
//! Every design of the figure's space is evaluated through the explore path: cascade quality from the score
//! cache, per-stage service from the latency profiles (CPU, GPU) or the accelerator cost model, and the
//! serving simulator's p95 at each load ([`crate::explore::evaluate::Evaluator::serve_under`]). A design
//! belongs to the `accel` class when one of its stages runs on the accelerator, else to `gpu` when one runs
//! on a GPU, else to `cpu` (RecPipe's Fig. 8 counts a CPU filter feeding a GPU ranker as a GPU pipeline). A
//! p95 above `unachievable_p95_ms` (RecPipe's Fig. 14 script: 500 ms), or a saturated pipeline, is
//! *unachievable*, as the artifact's parsers call it. Latencies are in ms, loads in queries/s.
//!
//! CPU and GPU numbers come from this tool's measured profiles and are labelled with the host that measured
//! them; the artifact's are a 32-core Cascade Lake and a T4, so absolute values differ by design and the
//! figure file gives the reason per backend. The paper's ratios are checked by `claims` from the values this
//! figure names (`<backend>/<n>-stage/p95_ms@<qps>`, `<backend>/<n>-stage/max_qps`).

use super::published::CsvFile;
use super::{
    compare_numbers, fmt_trimmed, Comparison, FigureResult, Issues, Plot, PlotKind, Series, SeriesStyle, Table,
    Tolerance, Verdict,
};
use crate::explore::evaluate::{fmt_num, EvalSettings};
use crate::explore::sources::Opened;
use crate::explore::{hardware_label, pipeline_label};
use crate::report::compare::meets_floors;
use crate::spec::{PointId, Space, StageHardware};
use rayon::prelude::*;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Backend classes in plotting order.
const CLASSES: [&str; 3] = ["cpu", "gpu", "accel"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIsoQuality {
    space: String,
    loads_qps: Vec<f64>,
    #[serde(default)]
    unachievable_p95_ms: Option<f64>,
    published: String,
    #[serde(default)]
    tolerance_relative: Option<f64>,
    reasons: BTreeMap<String, String>,
    #[serde(default)]
    backends: Option<Vec<String>>,
}

/// One published best p95 (`None`: logged as unachievable).
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedBest {
    /// `cpu`, `gpu` or `accel`.
    pub class: String,
    /// Pipeline depth.
    pub stages: usize,
    /// Offered load, queries/s.
    pub qps: f64,
    /// Best p95, ms.
    pub p95_ms: Option<f64>,
}

/// A loaded `iso-quality` figure.
#[derive(Debug, Clone)]
pub struct IsoQuality {
    /// The design space evaluated (its `quality_floor` is the iso-quality floor).
    pub space: Space,
    /// Offered loads, queries/s, ascending.
    pub loads_qps: Vec<f64>,
    /// p95 above which a load counts as unachievable, ms.
    pub unachievable_p95_ms: f64,
    /// Published values.
    pub published: Vec<PublishedBest>,
    /// Relative tolerance of the p95 comparisons.
    pub tolerance_relative: f64,
    /// Why our numbers differ from the published ones, per backend class.
    pub reasons: BTreeMap<String, String>,
    /// Backend classes evaluated and shown (default: all).
    pub backends: Vec<String>,
}

fn published_rows(csv: &CsvFile, p: &mut Issues) -> Vec<PublishedBest> {
    let mut out = Vec::new();
    for row in &csv.rows {
        let class = row.fields[0].clone();
        if !CLASSES.contains(&class.as_str()) {
            p.extend([super::published::issue_at(
                &csv.file,
                row.line,
                format!("column 'backend': must be one of {}, got '{class}'", CLASSES.join(", ")),
            )]);
            continue;
        }
        let p95 = csv.number_or_word(row, "p95_ms", "unachievable");
        match (csv.count(row, "stages"), csv.number(row, "qps"), p95) {
            (Ok(stages), Ok(qps), Ok(p95_ms)) if qps > 0.0 => {
                out.push(PublishedBest { class, stages: stages as usize, qps, p95_ms })
            }
            (Ok(_), Ok(_), Ok(_)) => {
                p.extend([super::published::issue_at(&csv.file, row.line, "column 'qps': must be > 0".into())])
            }
            (a, b, c) => p.extend(a.err().into_iter().chain(b.err()).chain(c.err())),
        }
    }
    out
}

pub(crate) fn load(raw: RawIsoQuality, base_dir: &Path, p: &mut Issues) -> Option<IsoQuality> {
    let before = p.len();
    let space = super::load_figure_space(base_dir, &raw.space, p);
    let published = super::published::read(
        base_dir,
        &raw.published,
        &["backend", "stages", "qps", "p95_ms"],
        "iso_quality.published",
        p,
    )
    .map(|c| published_rows(&c, p));
    if raw.loads_qps.is_empty() {
        p.push(None, "iso_quality.loads_qps", "must list at least one load");
    }
    for (i, q) in raw.loads_qps.iter().enumerate() {
        if !(q.is_finite() && *q > 0.0) {
            p.push(None, format!("iso_quality.loads_qps[{i}]"), format!("must be a positive load, got {q}"));
        }
    }
    let unachievable = raw.unachievable_p95_ms.unwrap_or(500.0);
    let tolerance_relative = raw.tolerance_relative.unwrap_or(0.15);
    super::require_positive(
        p,
        &[("iso_quality.unachievable_p95_ms", unachievable), ("iso_quality.tolerance_relative", tolerance_relative)],
    );
    for class in raw.reasons.keys() {
        if !CLASSES.contains(&class.as_str()) {
            p.push(None, format!("iso_quality.reasons.{class}"), format!("not a backend ({})", CLASSES.join(", ")));
        }
    }
    let backends = raw.backends.unwrap_or_else(|| CLASSES.map(String::from).to_vec());
    for (i, b) in backends.iter().enumerate() {
        if !CLASSES.contains(&b.as_str()) {
            p.push(
                None,
                format!("iso_quality.backends[{i}]"),
                format!("must be one of {}, got '{b}'", CLASSES.join(", ")),
            );
        }
    }
    let (space, published) = (space?, published?);
    if space.quality_floor.is_empty() {
        p.push(
            None,
            "iso_quality.space",
            format!("{} has no quality_floor: an iso-quality figure needs one", space.source),
        );
    }
    for r in &published {
        if !backends.contains(&r.class) {
            p.push(None, "iso_quality.published", format!("backend '{}' is not among iso_quality.backends", r.class));
        }
        if !raw.reasons.contains_key(&r.class) {
            p.push(None, "iso_quality.reasons", format!("no reason given for backend '{}'", r.class));
        }
    }
    let mut loads_qps = raw.loads_qps;
    loads_qps.sort_by(f64::total_cmp);
    loads_qps.dedup();
    (p.len() == before).then_some(IsoQuality {
        space,
        loads_qps,
        unachievable_p95_ms: unachievable,
        published,
        tolerance_relative,
        reasons: raw.reasons,
        backends,
    })
}

/// The backend class of a design: `accel` if any stage is on the accelerator, else `gpu` if any is on a GPU,
/// else `cpu`.
pub fn class_of(stages: &[StageHardware]) -> &'static str {
    if stages.iter().any(|s| matches!(s, StageHardware::Accel { .. })) {
        "accel"
    } else if stages.iter().any(|s| matches!(s, StageHardware::Gpu { .. })) {
        "gpu"
    } else {
        "cpu"
    }
}

/// The best design of one (class, depth) at one load.
#[derive(Debug, Clone, PartialEq)]
struct Best {
    p95_ms: f64,
    label: String,
}

/// What one (class, depth) group reached.
#[derive(Debug, Clone, Default)]
struct Group {
    /// Per load (index into the loads), the best achievable design.
    best: BTreeMap<usize, Best>,
    /// Designs of the group that meet the floor.
    at_floor: usize,
    /// Designs of the group below the floor.
    below_floor: usize,
    /// Why designs at the floor could not be served (first reason seen, and how many).
    not_served: BTreeMap<String, usize>,
}

fn group_key(class: &str, stages: usize) -> String {
    format!("{class}/{stages}-stage")
}

/// One colour per (class, depth): classes in [`CLASSES`] order, depths 1–3 within each.
fn color_of(key: &str) -> usize {
    let class = CLASSES.iter().position(|c| key.starts_with(c)).unwrap_or(0);
    let depth = key.split('/').nth(1).and_then(|d| d.split('-').next()).and_then(|d| d.parse::<usize>().ok());
    class * 3 + depth.unwrap_or(1).clamp(1, 3) - 1
}

/// Evaluate every design of the figure's space on `sources` and compare with the published values.
pub fn run(f: &IsoQuality, sources: &Opened, out: &mut FigureResult) {
    let space = &f.space;
    let evaluator = sources.evaluator(space, EvalSettings::from_space(space));
    let floors = &space.quality_floor;
    let floor_text =
        floors.iter().map(|x| format!("{} ≥ {}", x.metric, fmt_num(x.min))).collect::<Vec<_>>().join(" and ");
    // (class, stages) → group; evaluated in parallel, merged in point order.
    type PointResult = (String, Option<Result<Vec<Option<f64>>, String>>, String);
    // Whether each distinct cascade meets the floor, computed once (many designs share a cascade).
    let at_floor: BTreeMap<Vec<(usize, u32)>, bool> = crate::quality::cascades(space)
        .into_par_iter()
        .map(|cascade| {
            let mut metrics = crate::explore::Metrics::default();
            if let Ok(q) = sources.quality.cascade(&cascade) {
                metrics.set_quality(q);
            }
            let meets = meets_floors(&metrics, floors);
            (cascade, meets)
        })
        .collect();
    let results: Vec<PointResult> = (0..space.point_count())
        .into_par_iter()
        .filter_map(|i| {
            let id = PointId(i);
            let design = space.design(id)?;
            let hw: Vec<StageHardware> = design.stages.iter().map(|s| s.hardware).collect();
            let class = class_of(&hw);
            if !f.backends.iter().any(|b| b == class) {
                return None;
            }
            let key = group_key(class, design.stages.len());
            let cascade: Vec<(usize, u32)> = design.stages.iter().map(|s| (s.model, s.items)).collect();
            if !at_floor.get(&cascade).copied().unwrap_or(false) {
                return Some((key, None, String::new()));
            }
            let label = format!(
                "{} on {}",
                pipeline_label(space, &design),
                hw.iter().map(|h| hardware_label(space, h)).collect::<Vec<_>>().join(" + ")
            );
            // No SLA target: only the p95 at each load is needed, not a capacity search.
            let served = evaluator.serve_under(id, &[], &f.loads_qps).map(|s| s.p95_ms);
            Some((key, Some(served), label))
        })
        .collect();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (key, served, label) in results {
        let g = groups.entry(key).or_default();
        match served {
            None => g.below_floor += 1,
            Some(Err(why)) => {
                g.at_floor += 1;
                *g.not_served.entry(why).or_default() += 1;
            }
            Some(Ok(p95s)) => {
                g.at_floor += 1;
                for (li, p95) in p95s.into_iter().enumerate() {
                    let Some(p95) = p95.filter(|v| *v <= f.unachievable_p95_ms) else { continue };
                    let better = g.best.get(&li).is_none_or(|b| p95 < b.p95_ms);
                    if better {
                        g.best.insert(li, Best { p95_ms: p95, label: label.clone() });
                    }
                }
            }
        }
    }

    let mut table = Table {
        columns: ["backend", "stages", "qps", "best_p95_ms", "design"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    let mut series = Vec::new();
    for (key, g) in &groups {
        let mut pts = Vec::new();
        for (li, qps) in f.loads_qps.iter().enumerate() {
            let (class, depth) = key.split_once('/').expect("group key");
            let depth = depth.trim_end_matches("-stage");
            match g.best.get(&li) {
                Some(b) => {
                    table.rows.push(vec![
                        class.into(),
                        depth.into(),
                        fmt_num(*qps),
                        fmt_trimmed(b.p95_ms, 4),
                        b.label.clone(),
                    ]);
                    out.values.insert(format!("{key}/p95_ms@{}", fmt_num(*qps)), b.p95_ms);
                    pts.push((*qps, b.p95_ms));
                }
                None => {
                    let served_none = g.not_served.values().sum::<usize>() == g.at_floor;
                    let what = if g.at_floor == 0 {
                        "below the floor"
                    } else if served_none {
                        "not served"
                    } else {
                        "unachievable"
                    };
                    table.rows.push(vec![class.into(), depth.into(), fmt_num(*qps), what.into(), String::new()])
                }
            }
        }
        if let Some(max) = g.best.keys().max() {
            out.values.insert(format!("{key}/max_qps"), f.loads_qps[*max]);
        }
        if !pts.is_empty() {
            series.push(Series {
                label: format!("{key} (ours)"),
                color: color_of(key),
                style: SeriesStyle::Line,
                points: pts,
            });
        }
        let reasons = summarise_reasons(&g.not_served);
        out.notes.push(format!(
            "{key}: {} design(s) at the floor, {} below it{}",
            g.at_floor,
            g.below_floor,
            if reasons.is_empty() { String::new() } else { format!("; not served: {}", reasons.join("; ")) }
        ));
    }
    let mut published_series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for r in &f.published {
        let key = group_key(&r.class, r.stages);
        if let Some(v) = r.p95_ms {
            published_series.entry(key.clone()).or_default().push((r.qps, v));
        }
        out.comparisons.push(compare_one(f, r, &key, groups.get(&key)));
    }
    for (key, mut pts) in published_series {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let color = color_of(&key);
        series.push(Series { label: format!("{key} (RecPipe)"), color, style: SeriesStyle::Markers, points: pts });
    }
    out.plots.push(Plot {
        stem: "p95_vs_load".into(),
        title: format!("Best p95 at {floor_text}"),
        x_label: "offered load (queries/s)".into(),
        y_label: "best p95 latency (ms)".into(),
        log_x: true,
        log_y: true,
        kind: PlotKind::Lines(series),
    });
    out.table = table;
    out.notes.insert(0, format!("iso-quality floor: {floor_text} (the design space's quality_floor)"));
    out.notes.insert(1, format!("quality data: {}", sources.quality.describe()));
    out.notes.insert(2, format!("latency profiles: {}", sources.latency.describe()));
    out.notes.extend(sources.notes.iter().cloned());
    out.notes.push(format!(
        "a load is unachievable when the pipeline saturates or its p95 exceeds {} ms; classes: accel if any stage \
         runs on the accelerator, else gpu if any runs on a GPU, else cpu",
        fmt_num(f.unachievable_p95_ms)
    ));
}

/// Reasons grouped by their wording with the numbers left out (`accelerator area # mm² exceeds …`), most
/// frequent first, each with its count and one example; at most three groups.
fn summarise_reasons(reasons: &BTreeMap<String, usize>) -> Vec<String> {
    let mut groups: BTreeMap<String, (usize, &str)> = BTreeMap::new();
    for (why, n) in reasons {
        let shape: String = why
            .split(|c: char| c.is_ascii_digit() || c == '.')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("#");
        let e = groups.entry(shape).or_insert((0, why.as_str()));
        e.0 += n;
    }
    let mut list: Vec<(usize, &str)> = groups.into_values().collect();
    list.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let more = list.len().saturating_sub(3);
    let mut out: Vec<String> = list.into_iter().take(3).map(|(n, example)| format!("{n}× like '{example}'")).collect();
    if more > 0 {
        out.push(format!("{more} other kind(s) of reason"));
    }
    out
}

fn compare_one(f: &IsoQuality, r: &PublishedBest, key: &str, group: Option<&Group>) -> Comparison {
    let item = format!("{key} at {} q/s", fmt_num(r.qps));
    let reason = f.reasons.get(&r.class).cloned().unwrap_or_default();
    let group_name = "best p95 at the quality floor";
    let unchecked = |why: String| Comparison {
        group: group_name.into(),
        item: item.clone(),
        published: r.p95_ms.map_or("unachievable".into(), |v| format!("{} ms", super::fmt_value(v))),
        ours: "—".into(),
        difference: String::new(),
        verdict: Verdict::Unchecked { reason: why },
    };
    let Some(g) = group else {
        return unchecked("the design space has no design of this backend and depth".into());
    };
    if g.at_floor == 0 {
        return unchecked(format!("no design of this backend and depth meets the floor ({} below it)", g.below_floor));
    }
    if g.best.is_empty() && !g.not_served.is_empty() && g.not_served.values().sum::<usize>() == g.at_floor {
        let why = g.not_served.keys().next().cloned().unwrap_or_default();
        return unchecked(format!("no design at the floor can be served here: {why}"));
    }
    let ours = f.loads_qps.iter().position(|q| (q - r.qps).abs() <= 1e-9 * r.qps.max(1.0)).map(|li| g.best.get(&li));
    let Some(ours) = ours else {
        return unchecked(format!("{} q/s is not among the figure's loads_qps", fmt_num(r.qps)));
    };
    match (r.p95_ms, ours) {
        (Some(p), Some(b)) => {
            let mut c = compare_numbers(
                group_name,
                item,
                p,
                b.p95_ms,
                "ms",
                Tolerance::Relative(f.tolerance_relative),
                &reason,
            );
            c.ours = format!("{} ({})", c.ours, b.label);
            c
        }
        (None, None) => Comparison {
            group: group_name.into(),
            item,
            published: "unachievable".into(),
            ours: "unachievable".into(),
            difference: String::new(),
            verdict: Verdict::Matches { tolerance: "both unachievable".into() },
        },
        (Some(p), None) => Comparison {
            group: group_name.into(),
            item,
            published: format!("{} ms", super::fmt_value(p)),
            ours: "unachievable".into(),
            difference: String::new(),
            verdict: Verdict::Differs { reason },
        },
        (None, Some(b)) => Comparison {
            group: group_name.into(),
            item,
            published: "unachievable".into(),
            ours: format!("{} ms ({})", super::fmt_value(b.p95_ms), b.label),
            difference: String::new(),
            verdict: Verdict::Differs { reason },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_grouped_by_their_wording() {
        let mut r = BTreeMap::new();
        r.insert("accelerator area 30.7 mm² exceeds the budget of 28.55 mm²".to_string(), 2);
        r.insert("accelerator area 61.4 mm² exceeds the budget of 28.55 mm²".to_string(), 3);
        r.insert("2 CPU engines cannot serve 3 CPU stages".to_string(), 1);
        let s = summarise_reasons(&r);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("5× like 'accelerator area"), "{s:?}");
        assert_eq!(s[1], "1× like '2 CPU engines cannot serve 3 CPU stages'");
    }

    #[test]
    fn classes_follow_the_most_specialised_stage() {
        let cpu = StageHardware::Cpu { engines: 2, threads_per_engine: 1 };
        let gpu = StageHardware::Gpu { gpus: 1 };
        let accel = StageHardware::Accel { choice: 0, count: 1 };
        assert_eq!(class_of(&[cpu]), "cpu");
        assert_eq!(class_of(&[cpu, gpu]), "gpu");
        assert_eq!(class_of(&[gpu, accel]), "accel");
    }
}
