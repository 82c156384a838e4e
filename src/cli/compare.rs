//! `recpipe-dse compare <space.yaml> --sla p95=25ms[,p99=40ms] [--qps 100,400] [--top N]`: accelerator, CPU
//! and GPU configurations of a space side by side under SLA targets — capacity (largest load meeting every
//! target), p95 at the given loads, quality, area, power, queries/s per W and per mm² — best first.
//!
//! The points compared are the space's (every point when it fits `--budget`, else those of the space's
//! search strategy), evaluated through the journal like `explore`, so after an `explore` run they cost
//! nothing; each is then re-simulated under the requested targets and loads. The table is printed and
//! written to `<out>/<space>-compare-<timestamp>/` as `report.md` and the interactive `report.html`.

use super::explore::{command_line, stop_flag, utc_stamp, SourceArgs};
use super::output::{CompareSummary, CompareSummaryRow};
use super::CliError;
use crate::explore::driver::{Driver, DriverOptions};
use crate::explore::evaluate::{fmt_num, EvalSettings};
use crate::explore::journal::fingerprint;
use crate::explore::sources;
use crate::report::compare::{markdown, meets_floors, select, CompareRow, ComparisonTable};
use crate::search::{self, SearchSettings, StrategyKind};
use crate::sim::SlaTarget;
use crate::spec::metric::Metric;
use crate::spec::{load_space_with, QualityFloor};
use anyhow::{anyhow, Context};
use clap::Args;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Design-space file.
    pub space: PathBuf,
    /// SLA targets, comma-separated: `p95=25ms`, `p99=40ms`, `p99.9=60ms` (ms implied when omitted).
    #[arg(long)]
    pub sla: String,
    /// Loads at which p95 is reported, queries/s, comma-separated (default: the space's `load.qps`).
    #[arg(long)]
    pub qps: Option<String>,
    /// Quality floor, comma-separated: `ndcg@64=0.9225[,hr@10=0.1]`; configurations below it are left out, so
    /// the ranking is iso-quality (default: the space's `quality_floor`).
    #[arg(long)]
    pub min: Option<String>,
    /// Rows kept besides the best of each backend mapping.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Most points evaluated (default: the space's `search.budget`).
    #[arg(long)]
    pub budget: Option<u64>,
    /// Folder receiving the table and the journal (default: the space's `output.dir`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Output format on stdout: the Markdown table, or `json` (one object, see `cli::output::CompareSummary`).
    #[arg(long, value_enum, default_value_t = super::OutputFormat::Table)]
    pub format: super::OutputFormat,
    /// Override a field of the space: `--set search.budget=500 --set load.qps=[100,400]` (a field path as
    /// errors print it, and a YAML value; repeatable, applied in order).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Source folders (score cache, calibration).
    #[command(flatten)]
    pub sources: SourceArgs,
}

/// Parse `p95=25ms,p99=40ms` into SLA targets.
pub fn parse_slas(text: &str) -> anyhow::Result<Vec<SlaTarget>> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let (p, t) = part.split_once('=').ok_or_else(|| anyhow!("--sla: '{part}' is not of the form p95=25ms"))?;
            let percentile: f64 = p
                .trim()
                .strip_prefix('p')
                .and_then(|x| x.parse().ok())
                .filter(|x: &f64| *x > 0.0 && *x < 100.0)
                .ok_or_else(|| anyhow!("--sla: '{p}' is not a percentile like p95 (0 < p < 100)"))?;
            let t = t.trim();
            let target_ms: f64 = t
                .strip_suffix("ms")
                .unwrap_or(t)
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x > 0.0)
                .ok_or_else(|| anyhow!("--sla: '{t}' is not a positive target in ms like 25ms"))?;
            Ok(SlaTarget { percentile, target_ms })
        })
        .collect()
}

/// Parse `ndcg@64=0.9225,hr@10=0.1` into quality floors on metrics `space` reports.
pub fn parse_floors(text: &str, space: &crate::spec::Space) -> anyhow::Result<Vec<QualityFloor>> {
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let (m, v) =
                part.split_once('=').ok_or_else(|| anyhow!("--min: '{part}' is not of the form ndcg@64=0.9225"))?;
            let metric = Metric::parse(m.trim())
                .filter(|m| m.cutoff().is_some())
                .ok_or_else(|| anyhow!("--min: '{}' is not a quality metric like ndcg@64", m.trim()))?;
            space.reports_quality_metric(metric).map_err(|e| anyhow!("--min: {e}"))?;
            let min: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| anyhow!("--min: '{}' is not a number", v.trim()))?;
            Ok(QualityFloor { metric, min })
        })
        .collect()
}

fn parse_loads(text: &str) -> anyhow::Result<Vec<f64>> {
    text.split(',')
        .map(|x| {
            x.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| anyhow!("--qps: '{}' is not a positive load", x.trim()))
        })
        .collect()
}

/// Run `compare`.
pub fn run(args: &CompareArgs) -> Result<(), CliError> {
    let space = Arc::new(load_space_with(&args.space, &args.set).map_err(CliError::input)?);
    let slas = parse_slas(&args.sla).map_err(CliError::input)?;
    let loads = match &args.qps {
        Some(q) => parse_loads(q).map_err(CliError::input)?,
        None => space.load.qps.clone(),
    };
    let floors = match &args.min {
        Some(text) => parse_floors(text, &space).map_err(CliError::input)?,
        None => space.quality_floor.clone(),
    };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(&space.output_dir));
    let budget = args.budget.unwrap_or(space.search.budget);
    let opened = sources::open(&space, &args.sources.options()).map_err(CliError::by_cause)?;
    let settings = EvalSettings::from_space(&space);
    let evaluator = opened.evaluator(&space, settings);
    let fp = fingerprint(&space, &settings, &opened.descriptions());
    let journal_path = out.join(format!("{}.journal.jsonl", space.name));
    let journal = super::explore::open_journal(&journal_path, &fp)?;
    let kind = if space.point_count() <= budget { StrategyKind::Exhaustive } else { space.search.strategy };
    let search_settings = SearchSettings::for_space(&space, space.search.seed, budget);
    let mut strategy = search::build(kind, Arc::clone(&space), search_settings);
    let options =
        DriverOptions { progress: super::progress::terminal(), stop: stop_flag(), ..DriverOptions::new(budget) };
    let summary = Driver::new(&evaluator, Some(&journal), options).run(strategy.as_mut());
    drop(strategy);
    if let Some(failure) = &summary.journal_error {
        let retry = format!("recpipe-dse compare {} (finished points are reused)", args.space.display());
        return Err(super::explore::journal_failure(failure, &retry));
    }

    let served: Vec<_> = summary
        .order
        .iter()
        .filter(|id| summary.outcomes[id].metrics().get(Metric::SaturationQps).is_some())
        .copied()
        .collect();
    // Iso-quality: a configuration without the floor's metric, or below it, is left out.
    let candidates: Vec<_> =
        served.iter().copied().filter(|id| meets_floors(summary.outcomes[id].metrics(), &floors)).collect();
    let below_floor = served.len() - candidates.len();
    let rows: Vec<CompareRow> = candidates
        .par_iter()
        .filter_map(|&id| {
            let served = evaluator.serve_under(id, &slas, &loads).ok()?;
            if served.capacity_qps <= 0.0 {
                return None;
            }
            CompareRow::of_point(&space, id, summary.outcomes[&id].metrics(), served.capacity_qps, served.p95_ms)
        })
        .collect();
    let mut sla_text = slas
        .iter()
        .map(|s| format!("p{} ≤ {} ms", fmt_num(s.percentile), fmt_num(s.target_ms)))
        .collect::<Vec<_>>()
        .join(" and ");
    let floor_text =
        floors.iter().map(|f| format!("{} ≥ {}", f.metric, fmt_num(f.min))).collect::<Vec<_>>().join(" and ");
    if !floors.is_empty() {
        sla_text.push_str(&format!(" at {floor_text}"));
    }
    let compared = rows.len();
    let quality = crate::report::plots::quality_metric_of(&space).to_string();
    let shown = select(rows, args.top);
    let table_md = markdown(&shown, &sla_text, &loads, Some(&quality));
    let text = format!(
        "# Comparison of `{}` under {sla_text}\n\n{compared} configurations meet the targets at some load \
         ({} points considered{}).\n\n{table_md}\nCommand: `{}`\n",
        space.name,
        summary.order.len(),
        if floors.is_empty() {
            String::new()
        } else {
            format!("; {below_floor} served configurations below the quality floor {floor_text} left out")
        },
        command_line()
    );
    let dir = crate::durable::claim_folder(&out, &format!("{}-compare-{}", space.name, utc_stamp()))
        .with_context(|| format!("cannot create a report folder in {}", out.display()))
        .map_err(CliError::by_cause)?;
    let path = dir.join("report.md");
    crate::durable::write_atomic(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
        .map_err(CliError::by_cause)?;
    let table =
        ComparisonTable { sla: sla_text.clone(), loads_qps: loads.clone(), quality_name: quality.clone(), rows: shown };
    let html_path = dir.join("report.html");
    let page = page_of(&space, &summary, &slas, table.clone(), opened.notes.clone());
    crate::durable::write_atomic(&html_path, crate::report::html::render(&page).as_bytes())
        .with_context(|| format!("cannot write {}", html_path.display()))
        .map_err(CliError::by_cause)?;
    let shown = table.rows;
    let result = CompareSummary {
        space: space.name.clone(),
        targets: sla_text.clone(),
        loads_qps: loads.clone(),
        quality_metric: quality.clone(),
        points_considered: summary.order.len(),
        compared,
        below_floor,
        rows: shown.into_iter().enumerate().map(|(i, row)| CompareSummaryRow { rank: i + 1, row }).collect(),
        written: path.display().to_string(),
        page: html_path.display().to_string(),
        interrupted: summary.interrupted,
    };
    super::output::result(args.format, &result, || table_md.clone());
    super::output::note(&format!("written: {} and {}", path.display(), html_path.display()));
    if summary.interrupted {
        return Err(CliError::interrupted(anyhow!(
            "the table covers the points evaluated so far; the journal keeps them for the next run"
        )));
    }
    Ok(())
}

/// The interactive page of a comparison: the points considered (plots, table, hypervolume on the space's own
/// objectives) and the comparison under the requested targets.
fn page_of(
    space: &crate::spec::Space,
    summary: &crate::explore::RunSummary,
    slas: &[SlaTarget],
    table: ComparisonTable,
    notes: Vec<String>,
) -> crate::report::html::PageData {
    let info = crate::report::RunInfo {
        command: command_line(),
        strategy: format!("points of the space's search ({} considered)", summary.order.len()),
        search_seed: space.search.seed,
        sim_seed: space.seed,
        started_utc: utc_stamp(),
        versions: crate::explore::versions(),
        host: crate::measure::host::machine_description(),
        ..Default::default()
    };
    let mut report = crate::report::build(space, summary, info, Default::default(), None, notes, Vec::new());
    report.sla.clone_from(&table.sla);
    if let Some(first) = slas.first() {
        report.sla_percentile = first.percentile;
        report.sla_target_ms = first.target_ms;
    }
    report.compare = Some(table);
    let mut page = crate::report::html::report_data(&report);
    page.title = format!("{}: comparison under {}", space.name, page.sla.as_ref().map_or("", |s| s.text.as_str()));
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_lists_parse_and_bad_values_are_named() {
        let s = parse_slas("p95=25ms, p99.9=60").unwrap();
        assert_eq!(s.len(), 2);
        assert!((s[1].percentile - 99.9).abs() < 1e-12 && (s[1].target_ms - 60.0).abs() < 1e-12);
        assert!(parse_slas("p95").unwrap_err().to_string().contains("'p95'"));
        assert!(parse_slas("q95=3ms").unwrap_err().to_string().contains("'q95'"));
        assert!(parse_slas("p95=-3ms").unwrap_err().to_string().contains("'-3ms'"));
        assert!(parse_loads("10,x").unwrap_err().to_string().contains("'x'"));
    }

    #[test]
    fn quality_floors_parse_and_name_unreported_metrics() {
        let space = crate::search::tiny_test_space();
        let k = space.top_k;
        let f = parse_floors(&format!("ndcg@{k}=0.9, hr@{k}=0.5"), &space).unwrap();
        assert_eq!(f.len(), 2);
        assert!((f[0].min - 0.9).abs() < 1e-12 && f[1].metric == Metric::HitRate(k));
        assert!(parse_floors("p95_ms=3", &space).unwrap_err().to_string().contains("'p95_ms' is not a quality"));
        let err = parse_floors("ndcg@9999=0.5", &space).unwrap_err().to_string();
        assert!(err.contains("not a quality metric this space reports"), "{err}");
        assert!(parse_floors(&format!("ndcg@{k}=x"), &space).unwrap_err().to_string().contains("'x'"));
    }
}
