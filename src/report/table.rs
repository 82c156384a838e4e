//! The points table as a polars `DataFrame`, written as `points.csv` and `points.parquet`.
//!
//! Columns: `id`, `seq` (acceptance order), `pipeline`, `backends`, `stages`, per stage position `i`
//! `stage{i}_model`, `stage{i}_items`, `stage{i}_hardware`, `stage{i}_source` (null beyond a point's depth),
//! `feasible`, `reason`, `front_rank` (null for infeasible points), then one `f64` column per metric name
//! (objectives first, then the rest alphabetically; null where a point lacks the metric).

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
    let mut rest: Vec<String> =
        report.rows.iter().flat_map(|r| r.metrics.keys().cloned()).filter(|k| !names.contains(k)).collect();
    rest.sort();
    rest.dedup();
    names.extend(rest);
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

/// Write `points.csv` and `points.parquet` into `dir`.
pub fn write(dir: &Path, report: &Report) -> anyhow::Result<Vec<PathBuf>> {
    let mut df = frame(report).context("cannot build the points table")?;
    let mut csv = Vec::new();
    CsvWriter::new(&mut csv).include_header(true).finish(&mut df).context("cannot format points.csv")?;
    let csv_path = dir.join("points.csv");
    write_atomic(&csv_path, &csv).with_context(|| format!("cannot write {}", csv_path.display()))?;
    let mut parquet = Vec::new();
    ParquetWriter::new(&mut parquet)
        .with_compression(ParquetCompression::Uncompressed)
        .finish(&mut df)
        .context("cannot format points.parquet")?;
    let pq_path = dir.join("points.parquet");
    write_atomic(&pq_path, &parquet).with_context(|| format!("cannot write {}", pq_path.display()))?;
    Ok(vec![csv_path, pq_path])
}
