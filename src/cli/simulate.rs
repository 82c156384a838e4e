//! `recpipe-dse simulate <pipeline.yaml> [--format table|json]`: simulate serving one pipeline at scale.
//!
//! Reads and validates the pipeline file (every problem reported at once, exit code 2), runs the virtual-time
//! simulation ([`crate::sim`]) and, when the file gives an SLA, the capacity search; prints a table or the
//! JSON report. The whole output is built in memory before anything is printed.
use super::{CliError, OutputFormat};
use crate::sim::{self, pipeline_file, PipelineRun};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

/// Arguments of `simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Pipeline file (YAML): arrival process, stages, query count, seed, optional SLA.
    pub pipeline: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Run `simulate`.
pub fn run(args: &SimulateArgs) -> Result<(), CliError> {
    let spec = pipeline_file::load_pipeline(&args.pipeline).map_err(CliError::input)?;
    let result =
        sim::run_pipeline(&spec).map_err(|e| CliError::input(anyhow::anyhow!("{}: {e}", args.pipeline.display())))?;
    let text = match args.format {
        OutputFormat::Json => {
            let mut t = serde_json::to_string_pretty(&result).map_err(CliError::runtime)?;
            t.push('\n');
            t
        }
        OutputFormat::Table => table(&result),
    };
    std::io::stdout().write_all(text.as_bytes()).map_err(CliError::runtime)
}

fn ci(iv: Option<sim::Interval>) -> String {
    iv.map_or_else(String::new, |c| format!("[{:.4}, {:.4}]", c.lo, c.hi))
}

/// Render a run as a plain-text table.
pub fn table(run: &PipelineRun) -> String {
    let r = &run.report;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "pipeline {}  seed {}  queries {} (warm-up {}, measured {})",
        run.name, r.seed, r.queries, r.warmup_queries, r.measured_queries
    );
    let _ = writeln!(
        s,
        "offered {:.3} q/s  achieved {:.3} q/s  saturated: {}",
        r.offered_qps,
        r.throughput_qps,
        if r.saturated { "YES" } else { "no" }
    );
    if let Some(why) = &r.saturation_reason {
        let _ = writeln!(s, "  saturation: {why}");
    }
    let _ = writeln!(s, "\nend-to-end latency, ms ({}% intervals over {} batches)", r.confidence * 100.0, r.batches);
    let _ = writeln!(s, "  {:<6} {:>12}  interval", "stat", "value");
    for (name, v, iv) in [
        ("mean", r.mean_ms, r.mean_ci_ms),
        ("p50", r.p50_ms, r.p50_ci_ms),
        ("p95", r.p95_ms, r.p95_ci_ms),
        ("p99", r.p99_ms, r.p99_ci_ms),
        ("max", r.max_ms, None),
    ] {
        let _ = writeln!(s, "  {name:<6} {v:>12.4}  {}", ci(iv));
    }
    let _ = writeln!(s, "\nstages");
    let _ = writeln!(
        s,
        "  {:<3} {:<20} {:>7} {:>7} {:>8} {:>8} {:>11} {:>11} {:>9} {:>9}",
        "#", "name", "servers", "group", "rho", "util", "wait_ms", "service_ms", "sort_ms", "max_queue"
    );
    for (i, st) in r.stages.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {:<3} {:<20} {:>7} {:>7} {:>8.4} {:>8.4} {:>11.4} {:>11.4} {:>9.4} {:>9}",
            i,
            st.name,
            st.servers,
            st.group.map_or("-".to_string(), |g| g.to_string()),
            st.offered_load,
            st.utilization,
            st.wait_mean_ms,
            st.service_mean_ms,
            st.sort_ms,
            st.max_queue_len
        );
    }
    if let Some(p) = &r.precision {
        let _ = writeln!(
            s,
            "\nprecision: target ±{:.3}%, achieved {}, {} after {} run(s)",
            p.relative_half_width * 100.0,
            p.achieved_relative_half_width.map_or("n/a".into(), |a| format!("±{:.3}%", a * 100.0)),
            if p.reached { "reached" } else { "NOT reached (query cap)" },
            p.runs
        );
    }
    if let Some(sla) = &r.sla {
        let _ = writeln!(
            s,
            "\nSLA p{} ≤ {} ms: p{} = {:.4} ms {} → {}",
            sla.percentile,
            sla.target_ms,
            sla.percentile,
            sla.value_ms,
            ci(sla.ci_ms),
            if sla.met { "met" } else { "MISSED" }
        );
    }
    if let Some(c) = &run.capacity {
        let _ = writeln!(
            s,
            "max offered load under the SLA: {:.3} q/s (saturation at {:.3} q/s, {} simulations)",
            c.max_qps, c.saturation_qps, c.evaluations
        );
    }
    if !run.capacity_curve.is_empty() {
        let _ = writeln!(s, "\ncapacity curve\n  {:>12} {:>14}", "target_ms", "max_qps");
        for c in &run.capacity_curve {
            let _ = writeln!(s, "  {:>12} {:>14.3}", c.sla.target_ms, c.max_qps);
        }
    }
    s
}
