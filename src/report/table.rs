//! The points table as a polars `DataFrame`, written as `points.csv` and `points.parquet`.
//!
//! Columns: `id`, `seq` (acceptance order), `pipeline`, `backends`, `stages`, per stage position `i`
//! `stage{i}_model`, `stage{i}_items`, `stage{i}_hardware`, `stage{i}_source` (null beyond a point's depth),
//! `feasible`, `reason`, `front_rank` (null for infeasible points), then one `f64` column per metric name
//! (objectives first, then the rest alphabetically; null where a point lacks the metric).
//!
//! `points_long.parquet` holds the same numbers as a tidy long table for pandas, R or DuckDB: one row per
//! point and metric, columns `id`, `feasible`, `metric` (the name without a load suffix: `p95_ms`,
//! `ndcg@64`), `load_qps` (the offered load of a per-load metric such as `p95_ms@500qps`, in queries/s;
//! null for metrics that do not depend on a load or are taken at the reference load) and `value`.

use super::{PointRow, Report};
use crate::durable::write_atomic;
use anyhow::Context;
use polars::prelude::{Column, CsvWriter, DataFrame, ParquetCompression, ParquetWriter, PolarsResult, SerWriter};
use std::path::{Path, PathBuf};

/// Per stage: (model, items, hardware, service-time source).
type StageCells = (String, u32, String, String);

/// Metric column names: the objectives first, then every other metric alphabetically.
pub fn metric_columns(report: &Report) -> Vec<String> {
    let mut names: Vec<String> = report.objectives.iter().map(|(m, _)| m.clone()).collect();
    let rest: std::collections::BTreeSet<&str> = report.rows.iter().flat_map(|r| r.metrics.keys()).collect();
    names.extend(rest.into_iter().filter(|k| !names.iter().any(|n| n == k)).map(str::to_string).collect::<Vec<_>>());
    names
}

/// The points table.
pub fn frame(report: &Report) -> PolarsResult<DataFrame> {
    let rows = &report.rows;
    let depth = rows.iter().map(|r| r.stages.len()).max().unwrap_or(0);
    let mut cols: Vec<Column> = vec![
        Column::new("id".into(), rows.iter().map(|r| r.id).collect::<Vec<u64>>()),
        Column::new("seq".into(), rows.iter().map(|r| r.seq as u64).collect::<Vec<u64>>()),
        Column::new("pipeline".into(), rows.iter().map(|r| r.pipeline.clone()).collect::<Vec<String>>()),
        Column::new("backends".into(), rows.iter().map(|r| r.backends.clone()).collect::<Vec<String>>()),
        Column::new("stages".into(), rows.iter().map(|r| r.stages.len() as u32).collect::<Vec<u32>>()),
    ];
    for i in 0..depth {
        let get = |f: &dyn Fn(&StageCells) -> String| -> Vec<Option<String>> {
            rows.iter().map(|r| r.stages.get(i).map(f)).collect()
        };
        cols.push(Column::new(format!("stage{i}_model").into(), get(&|s| s.0.clone())));
        cols.push(Column::new(
            format!("stage{i}_items").into(),
            rows.iter().map(|r| r.stages.get(i).map(|s| s.1)).collect::<Vec<Option<u32>>>(),
        ));
        cols.push(Column::new(format!("stage{i}_hardware").into(), get(&|s| s.2.clone())));
        cols.push(Column::new(format!("stage{i}_source").into(), get(&|s| s.3.clone())));
    }
    cols.push(Column::new("feasible".into(), rows.iter().map(|r| r.feasible).collect::<Vec<bool>>()));
    cols.push(Column::new("reason".into(), rows.iter().map(|r| r.reason.clone()).collect::<Vec<Option<String>>>()));
    cols.push(Column::new(
        "front_rank".into(),
        rows.iter().map(|r| r.rank.map(|k| k as u32)).collect::<Vec<Option<u32>>>(),
    ));
    for name in metric_columns(report) {
        let values: Vec<Option<f64>> = rows.iter().map(|r: &PointRow| r.metrics.get(&name).copied()).collect();
        cols.push(Column::new(name.as_str().into(), values));
    }
    DataFrame::new(rows.len(), cols)
}

/// A metric column name split into its base name and the load it was measured at: `p95_ms@500qps` →
/// (`p95_ms`, 500); `ndcg@64` and `p95_ms` carry no load.
pub fn split_load(name: &str) -> (&str, Option<f64>) {
    if let Some((base, suffix)) = name.rsplit_once('@') {
        if let Some(qps) = suffix.strip_suffix("qps").and_then(|q| q.parse::<f64>().ok()) {
            return (base, Some(qps));
        }
    }
    (name, None)
}

/// The long table (see the module docs).
pub fn long_frame(report: &Report) -> PolarsResult<DataFrame> {
    let (mut ids, mut feasible, mut metrics, mut loads, mut values) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in &report.rows {
        for (name, value) in &r.metrics {
            let (metric, load) = split_load(name);
            ids.push(r.id);
            feasible.push(r.feasible);
            metrics.push(metric.to_string());
            loads.push(load);
            values.push(*value);
        }
    }
    let n = ids.len();
    DataFrame::new(
        n,
        vec![
            Column::new("id".into(), ids),
            Column::new("feasible".into(), feasible),
            Column::new("metric".into(), metrics),
            Column::new("load_qps".into(), loads),
            Column::new("value".into(), values),
        ],
    )
}

/// `df` as uncompressed Parquet bytes.
fn parquet_bytes(df: &mut DataFrame, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_compression(ParquetCompression::Uncompressed)
        .finish(df)
        .with_context(|| format!("cannot format {name}"))?;
    Ok(bytes)
}

/// Write `points.csv`, `points.parquet` and `points_long.parquet` into `dir`.
pub fn write(dir: &Path, report: &Report) -> anyhow::Result<Vec<PathBuf>> {
    let mut df = frame(report).context("cannot build the points table")?;
    let mut csv = Vec::new();
    CsvWriter::new(&mut csv).include_header(true).finish(&mut df).context("cannot format points.csv")?;
    let csv_path = dir.join("points.csv");
    write_atomic(&csv_path, &csv).with_context(|| format!("cannot write {}", csv_path.display()))?;
    let mut paths = vec![csv_path];
    let mut long = long_frame(report).context("cannot build the long points table")?;
    for (name, frame) in [("points.parquet", &mut df), ("points_long.parquet", &mut long)] {
        let path = dir.join(name);
        write_atomic(&path, &parquet_bytes(frame, name)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::split_load;

    #[test]
    fn per_load_metric_names_split_and_quality_cutoffs_do_not() {
        assert_eq!(split_load("p95_ms@500qps"), ("p95_ms", Some(500.0)));
        assert_eq!(split_load("mean_ms@1e3qps"), ("mean_ms", Some(1000.0)));
        assert_eq!(split_load("ndcg@64"), ("ndcg@64", None));
        assert_eq!(split_load("p95_ms"), ("p95_ms", None));
        assert_eq!(split_load("weird@qps"), ("weird@qps", None));
    }
}
