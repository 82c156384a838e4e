//! Side-by-side comparison of configurations under SLA targets (`recpipe-dse compare`, and the comparison
//! section of `report.md`): capacity (largest load meeting every target), p95 latency at given loads,
//! quality, area, power, queries/s per W and per mm², best (highest capacity) first. The table keeps the
//! best `top` designs overall plus the best design of every backend mapping (so CPU, GPU and accelerator
//! pipelines stand side by side even when one kind dominates).

use crate::explore::evaluate::{fmt_num, load_tag};
use crate::explore::{hardware_label, pipeline_label, Metrics, RunSummary};
use crate::spec::metric::Metric;
use crate::spec::{PointId, Space};
use std::fmt::Write as _;

/// One configuration under the SLA targets.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CompareRow {
    /// Point id.
    pub id: u64,
    /// Pipeline in words.
    pub pipeline: String,
    /// Backends per stage (`cpu,gpu`).
    pub backends: String,
    /// Hardware per stage in words.
    pub hardware: String,
    /// Largest load meeting every SLA target, queries/s.
    pub capacity_qps: f64,
    /// p95 at each load of the table, ms (`None` = saturated).
    pub p95_ms: Vec<Option<f64>>,
    /// Quality metric value.
    pub quality: Option<f64>,
    /// Accelerator area, mm².
    pub area_mm2: Option<f64>,
    /// Accelerator power, W.
    pub power_w: Option<f64>,
}

impl CompareRow {
    /// The row of point `id` of `space`: pipeline, backends and hardware in words, quality (the space's report
    /// metric), area and power from its `metrics`, with the capacity and the p95 list measured under the
    /// comparison's targets. `None` when `id` is not a point of the space.
    pub fn of_point(
        space: &Space,
        id: PointId,
        metrics: &Metrics,
        capacity_qps: f64,
        p95_ms: Vec<Option<f64>>,
    ) -> Option<CompareRow> {
        let design = space.design(id)?;
        let words = |parts: Vec<String>, sep: &str| parts.join(sep);
        Some(CompareRow {
            id: id.0,
            pipeline: pipeline_label(space, &design),
            backends: words(space.templates[design.template].backends.iter().map(|b| b.to_string()).collect(), ","),
            hardware: words(design.stages.iter().map(|s| hardware_label(space, &s.hardware)).collect(), " + "),
            capacity_qps,
            p95_ms,
            quality: metrics.get(crate::report::plots::quality_metric_of(space)),
            area_mm2: metrics.get(Metric::AreaMm2),
            power_w: metrics.get(Metric::PowerW),
        })
    }

    /// Capacity per watt.
    pub fn qps_per_w(&self) -> Option<f64> {
        self.power_w.filter(|p| *p > 0.0).map(|p| self.capacity_qps / p)
    }
    /// Capacity per mm².
    pub fn qps_per_mm2(&self) -> Option<f64> {
        self.area_mm2.filter(|a| *a > 0.0).map(|a| self.capacity_qps / a)
    }
}

/// The rows shown: best first by capacity (ties by id), the best `top` plus the best of each backend mapping.
pub fn select(mut rows: Vec<CompareRow>, top: usize) -> Vec<CompareRow> {
    rows.sort_by(|a, b| b.capacity_qps.total_cmp(&a.capacity_qps).then(a.id.cmp(&b.id)));
    let mut seen_backends = std::collections::HashSet::new();
    rows.into_iter()
        .enumerate()
        .filter(|(i, r)| {
            let first_of_kind = seen_backends.insert(r.backends.clone());
            *i < top || first_of_kind
        })
        .map(|(_, r)| r)
        .collect()
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".to_string(), |x| format!("{x:.digits$}"))
}

/// Whether `metrics` reach every quality floor; a point without a floor's metric does not.
pub fn meets_floors(metrics: &crate::explore::Metrics, floors: &[crate::spec::QualityFloor]) -> bool {
    floors.iter().all(|f| metrics.get(f.metric).is_some_and(|v| v >= f.min))
}

/// A comparison ready to show: the selected rows, best first, with the targets and loads they were measured
/// under.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComparisonTable {
    /// The targets in words (`p95 ≤ 25 ms`).
    pub sla: String,
    /// Loads of the p95 columns, queries/s.
    pub loads_qps: Vec<f64>,
    /// Name of the quality metric of the quality column.
    pub quality_name: String,
    /// Rows, best first.
    pub rows: Vec<CompareRow>,
}

impl ComparisonTable {
    /// The table as Markdown.
    pub fn markdown(&self) -> String {
        markdown(&self.rows, &self.sla, &self.loads_qps, Some(&self.quality_name))
    }
}

/// The comparison under the space's own SLA and loads, from the metrics a search computed (the comparison
/// section of `report.md` and `report.html`): every feasible point with a positive capacity, best 15 plus the
/// best of each backend mapping.
pub fn table_of_run(space: &Space, summary: &RunSummary) -> ComparisonTable {
    let rows: Vec<CompareRow> = summary
        .order
        .iter()
        .filter_map(|id| {
            let outcome = summary.outcomes.get(id).filter(|o| o.is_feasible())?;
            let m = outcome.metrics();
            let capacity = m.get(Metric::CapacityQps).filter(|c| *c > 0.0)?;
            let p95 = space.load.qps.iter().map(|q| m.get_at(Metric::P95Ms, &load_tag(*q))).collect();
            CompareRow::of_point(space, *id, m, capacity, p95)
        })
        .collect();
    ComparisonTable {
        sla: format!("p{} ≤ {} ms", fmt_num(space.sla.percentile), fmt_num(space.sla.target_ms)),
        loads_qps: space.load.qps.clone(),
        quality_name: crate::report::plots::quality_metric_of(space).to_string(),
        rows: select(rows, 15),
    }
}

/// Markdown table of `rows` (already selected and ordered).
pub fn markdown(rows: &[CompareRow], sla: &str, loads_qps: &[f64], quality_name: Option<&str>) -> String {
    let mut s = String::new();
    if rows.is_empty() {
        let _ = writeln!(s, "No configuration meets the SLA {sla}: there is nothing to compare.");
        return s;
    }
    let _ = writeln!(s, "Configurations under the SLA {sla}, best (highest capacity) first.\n");
    let mut header = "| # | id | backends | pipeline | hardware | capacity (q/s) |".to_string();
    for q in loads_qps {
        let _ = write!(header, " p95 @{} q/s (ms) |", fmt_num(*q));
    }
    let _ =
        write!(header, " {} | area (mm²) | power (W) | q/s per W | q/s per mm² |", quality_name.unwrap_or("quality"));
    let cols = header.matches('|').count() - 1;
    let _ = writeln!(s, "{header}");
    let _ = writeln!(s, "|{}", "---|".repeat(cols));
    for (i, r) in rows.iter().enumerate() {
        let _ = write!(
            s,
            "| {} | {} | {} | {} | {} | {:.1} |",
            i + 1,
            r.id,
            r.backends,
            r.pipeline,
            r.hardware,
            r.capacity_qps
        );
        for p in &r.p95_ms {
            let _ = write!(s, " {} |", opt(*p, 3));
        }
        let _ = writeln!(
            s,
            " {} | {} | {} | {} | {} |",
            opt(r.quality, 4),
            opt(r.area_mm2, 2),
            opt(r.power_w, 2),
            opt(r.qps_per_w(), 1),
            opt(r.qps_per_mm2(), 1)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_admit_only_points_at_or_above_every_bound() {
        use crate::spec::{metric::Metric, QualityFloor};
        let floors = [
            QualityFloor { metric: Metric::Ndcg(64), min: 0.9225 },
            QualityFloor { metric: Metric::HitRate(10), min: 0.5 },
        ];
        let mut m = crate::explore::Metrics::default();
        m.set(Metric::Ndcg(64), 0.9225);
        m.set(Metric::HitRate(10), 0.7);
        assert!(meets_floors(&m, &floors));
        m.set(Metric::HitRate(10), 0.49);
        assert!(!meets_floors(&m, &floors));
        let mut no_quality = crate::explore::Metrics::default();
        no_quality.set(Metric::P95Ms, 3.0);
        assert!(!meets_floors(&no_quality, &floors), "a point without the metric is below the floor");
        assert!(meets_floors(&no_quality, &[]), "no floor admits everything");
    }

    fn row(id: u64, backends: &str, cap: f64) -> CompareRow {
        CompareRow {
            id,
            pipeline: "m:10".into(),
            backends: backends.into(),
            hardware: "x".into(),
            capacity_qps: cap,
            p95_ms: vec![Some(1.0), None],
            quality: Some(0.5),
            area_mm2: Some(2.0),
            power_w: Some(4.0),
        }
    }

    #[test]
    fn best_first_and_every_kind_kept() {
        let rows = vec![row(1, "accel", 100.0), row(2, "accel", 300.0), row(3, "cpu", 10.0), row(4, "accel", 200.0)];
        let sel = select(rows, 2);
        assert_eq!(sel.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2, 4, 3]);
        let md = markdown(&sel, "p95 ≤ 25 ms", &[10.0, 20.0], Some("ndcg@64"));
        assert!(
            md.contains("| 1 | 2 | accel | m:10 | x | 300.0 | 1.000 | – | 0.5000 | 2.00 | 4.00 | 75.0 | 150.0 |"),
            "{md}"
        );
    }
}
