//! `recpipe-dse quality <space.yaml>`: the quality of every cascade the space contains, from the score cache
//! (models are trained and candidates scored first when the caches lack them).
//!
//! Table: one line per cascade with the hit rate, standard NDCG and RecPipe's NDCG at 10 and at `top_k`, plus
//! every quality metric the space's objectives and constraints name. JSON: an array with one object per
//! cascade: `stages`, `models`, `items`, `data`, `synthetic` and every metric field (`hr@k`, `ndcg@k`,
//! `recpipe_ndcg@k` for k = 1..=top_k).
use super::CliError;
use crate::quality::{self, PrepareOptions};
use crate::spec::{self, Space};
use anyhow::anyhow;
use std::path::PathBuf;

/// Arguments of `quality`.
#[derive(Debug, clap::Args)]
pub struct QualityArgs {
    /// Design-space YAML file.
    pub space: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = super::OutputFormat::Table)]
    pub format: super::OutputFormat,
    /// Root of the checkpoint and score caches.
    #[arg(long, default_value = ".cache", env = super::CACHE_ENV)]
    pub cache_dir: PathBuf,
    /// Retrain and rescore even when cached files exist.
    #[arg(long)]
    pub retrain: bool,
    /// libtorch intra-op threads (0 = libtorch's default, one per core). The default of 1 is fastest on a
    /// small shared machine, where libtorch's spinning worker threads lose most of their time to other processes.
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
}

/// Metric columns of the table: hr/ndcg/recpipe_ndcg at 10 (when ≤ top_k) and at top_k, then the space's own.
fn columns(space: &Space) -> Vec<String> {
    let mut cols = Vec::new();
    for k in [10, space.top_k] {
        if k <= space.top_k {
            for m in ["hr", "ndcg", "recpipe_ndcg"] {
                cols.push(format!("{m}@{k}"));
            }
        }
    }
    for m in space.quality_metrics() {
        let name = m.to_string();
        if !cols.contains(&name) {
            cols.push(name);
        }
    }
    cols.dedup();
    cols
}

/// Run `quality`.
pub fn run(args: &QualityArgs) -> Result<(), CliError> {
    let space = spec::load_space(&args.space).map_err(|e| CliError::input(anyhow!("invalid design space\n{e}")))?;
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    let opts = PrepareOptions {
        cache_dir: args.cache_dir.clone(),
        retrain: args.retrain,
        progress: super::progress::terminal(),
        offline: false,
    };
    let cache = quality::prepare(&space, &opts).map_err(|e| match e {
        quality::QualityError::Data(_) | quality::QualityError::Unsupported(_) => CliError::input(e),
        other => CliError::runtime(other),
    })?;
    let cascades = quality::cascades(&space);
    let name = |m: usize| space.zoo[m].name.clone();
    match args.format {
        super::OutputFormat::Table => {
            let cols = columns(&space);
            println!("quality of {} cascades on {}", cascades.len(), cache.describe());
            if cache.is_synthetic() {
                println!("(synthetic data: quality numbers describe the generator, not Criteo)");
            }
            let width = cascades
                .iter()
                .map(|c| {
                    c.iter().map(|&(m, n)| format!("{}@{n}", name(m))).collect::<Vec<_>>().join(" → ").chars().count()
                })
                .max()
                .unwrap_or(8)
                .max(8);
            let head: Vec<String> = cols.iter().map(|c| format!("{c:>16}")).collect();
            println!("{:<width$} {}", "cascade", head.join(""));
            for c in &cascades {
                let q = cache.cascade(c);
                let label = c.iter().map(|&(m, n)| format!("{}@{n}", name(m))).collect::<Vec<_>>().join(" → ");
                let cells: Vec<String> = cols.iter().map(|k| format!("{:>16.4}", q.metrics[k])).collect();
                println!("{label:<width$} {}", cells.join(""));
            }
        }
        super::OutputFormat::Json => {
            let rows: Vec<super::output::QualityRow> = cascades
                .iter()
                .map(|c| super::output::QualityRow {
                    stages: c.len(),
                    models: c.iter().map(|&(m, _)| name(m).to_string()).collect(),
                    items: c.iter().map(|&(_, n)| n).collect(),
                    data: cache.describe(),
                    synthetic: cache.is_synthetic(),
                    metrics: cache.cascade(c).metrics.into_iter().collect(),
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows).map_err(CliError::runtime)?);
        }
    }
    Ok(())
}
