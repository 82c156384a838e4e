//! `recpipe-dse train <space.yaml>`: train every zoo model the space uses (reusing cached checkpoints) and print
//! per-model validation and test metrics — AUC and log-loss for Criteo models, HR@10 and NDCG@10 for MovieLens
//! ones. With `--seeds a,b,c` each model is trained once per training seed and the mean ± sample standard
//! deviation over seeds is printed as well.
use super::CliError;
use crate::quality::{self, PrepareOptions, ScoreCache};
use crate::spec::{self, DatasetKind, Space};
use anyhow::anyhow;
use std::path::PathBuf;

/// Arguments of `train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Design-space YAML file.
    pub space: PathBuf,
    /// Root of the checkpoint and score caches.
    #[arg(long, default_value = ".cache", env = super::CACHE_ENV)]
    pub cache_dir: PathBuf,
    /// Retrain even when a checkpoint exists (it is overwritten).
    #[arg(long)]
    pub retrain: bool,
    /// Training seeds (comma-separated); default: the space's `training.seed`.
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<u64>,
    /// Only these zoo models (comma-separated names); default: every model a pipeline uses.
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = super::OutputFormat::Table)]
    pub format: super::OutputFormat,
    /// libtorch intra-op threads (0 = libtorch's default, one per core). The default of 1 is fastest on a
    /// small shared machine, where libtorch's spinning worker threads lose most of their time to other processes.
    #[arg(long, default_value_t = 1)]
    pub threads: i32,
}

/// The metrics `train` reports for one model, by data kind.
fn model_row(space: &Space, cache: &ScoreCache, m: usize) -> Vec<(String, f64)> {
    let mm = cache.model_metrics(m);
    let mut row: Vec<(String, f64)> = Vec::new();
    let mut push = |name: &str, v: Option<f64>| {
        if let Some(v) = v {
            row.push((name.to_string(), v));
        }
    };
    match space.dataset.kind {
        DatasetKind::Movielens => {
            let q = cache.cascade(&[(m, u32::MAX)]);
            push("valid_ndcg@10", mm.get("valid_ndcg@10").copied());
            push("test_hr@10", q.metrics.get("hr@10").copied());
            push("test_ndcg@10", q.metrics.get("ndcg@10").copied());
        }
        DatasetKind::CriteoKaggle => {
            let k = space.top_k;
            let q = cache.cascade(&[(m, u32::MAX)]);
            push("valid_auc", mm.get("valid_auc").copied());
            push("test_auc", mm.get("auc").copied());
            push("test_log_loss", mm.get("log_loss").copied());
            push("test_error", mm.get("error").copied());
            push(&format!("ndcg@{k}"), q.metrics.get(&format!("ndcg@{k}")).copied());
            push(&format!("recpipe_ndcg@{k}"), q.metrics.get(&format!("recpipe_ndcg@{k}")).copied());
        }
    }
    push("epochs", mm.get("epochs").copied());
    push("best_epoch", mm.get("best_epoch").copied());
    push("train_s", mm.get("train_s").copied());
    row
}

/// Mean and sample standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 { xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

/// Run `train`.
pub fn run(args: &TrainArgs) -> Result<(), CliError> {
    let mut space = spec::load_space(&args.space).map_err(|e| CliError::input(anyhow!("invalid design space\n{e}")))?;
    let models: Vec<usize> = if args.models.is_empty() {
        quality::used_models(&space)
    } else {
        args.models
            .iter()
            .map(|name| {
                space.zoo.iter().position(|m| &m.name == name).ok_or_else(|| {
                    let known: Vec<&str> = space.zoo.iter().map(|m| m.name.as_str()).collect();
                    CliError::input(anyhow!(
                        "--models: no zoo model '{name}' in {} (known: {})",
                        space.source,
                        known.join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let seeds = if args.seeds.is_empty() { vec![space.training.seed] } else { args.seeds.clone() };
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    let opts = PrepareOptions {
        cache_dir: args.cache_dir.clone(),
        retrain: args.retrain,
        progress: super::progress::terminal(),
        offline: false,
    };
    // results[model] = per seed, the metric row.
    let mut results: Results = vec![Vec::new(); models.len()];
    let mut description = String::new();
    for &seed in &seeds {
        space.training.seed = seed;
        let start = std::time::Instant::now();
        let cache = quality::prepare_models(&space, &models, &opts).map_err(|e| match e {
            quality::QualityError::Data(_) | quality::QualityError::Unsupported(_) => CliError::input(e),
            other => CliError::runtime(other),
        })?;
        eprintln!("seed {seed}: done in {:.1} s", start.elapsed().as_secs_f64());
        description = cache.describe();
        for (i, &m) in models.iter().enumerate() {
            results[i].push((seed, model_row(&space, &cache, m)));
        }
    }
    match args.format {
        super::OutputFormat::Table => print!("{}", table(&space, &models, &results, &description)),
        super::OutputFormat::Json => {
            let json = json(&space, &models, &results, &description);
            println!("{}", serde_json::to_string_pretty(&json).map_err(CliError::runtime)?);
        }
    }
    Ok(())
}

type Results = Vec<Vec<(u64, Vec<(String, f64)>)>>;

fn table(space: &Space, models: &[usize], results: &Results, description: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "data: {description}");
    if space.dataset.is_synthetic() {
        let _ = writeln!(out, "(synthetic data: quality numbers describe the generator, not Criteo)");
    }
    for (i, &m) in models.iter().enumerate() {
        let _ = writeln!(out, "{}", space.zoo[m].name);
        for (seed, row) in &results[i] {
            let cells: Vec<String> = row.iter().map(|(k, v)| format!("{k} {}", fmt_value(k, *v))).collect();
            let _ = writeln!(out, "  seed {seed:<6} {}", cells.join("  "));
        }
        if results[i].len() > 1 {
            let cells: Vec<String> = results[i][0]
                .1
                .iter()
                .map(|(k, _)| {
                    let xs: Vec<f64> =
                        results[i].iter().filter_map(|(_, r)| r.iter().find(|(n, _)| n == k).map(|p| p.1)).collect();
                    let (mean, sd) = mean_sd(&xs);
                    format!("{k} {} ± {}", fmt_value(k, mean), fmt_value(k, sd))
                })
                .collect();
            let _ = writeln!(out, "  mean ± sd   {}", cells.join("  "));
        }
    }
    out
}

fn fmt_value(name: &str, v: f64) -> String {
    if name.ends_with("_s") {
        format!("{v:.1}")
    } else if name.contains("epoch") {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

fn json(space: &Space, models: &[usize], results: &Results, description: &str) -> super::output::TrainSummary {
    use super::output::{TrainSummary, TrainedModel, TrainingRun};
    TrainSummary {
        space: space.source.clone(),
        data: description.to_string(),
        synthetic: space.dataset.is_synthetic(),
        training: space.training.clone(),
        models: models
            .iter()
            .enumerate()
            .map(|(i, &m)| TrainedModel {
                model: space.zoo[m].name.clone(),
                runs: results[i]
                    .iter()
                    .map(|(seed, row)| TrainingRun { seed: *seed, metrics: row.iter().cloned().collect() })
                    .collect(),
            })
            .collect(),
    }
}
