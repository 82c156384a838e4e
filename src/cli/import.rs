//! `recpipe-dse import recpipe <experiment.json> [--root DIR] [--out FILE]`: a RecPipe experiment config,
//! with the model and hardware JSONs it names, as a design-space YAML ([`crate::import::recpipe`]).
//!
//! The paths inside an experiment (`configs/model_configs/dim_4_0.json`, and the `hardconf_S.json` of its
//! accelerator sizes) are relative to the RecPipe checkout. They are looked up under `--root`, else under the
//! experiment's folder and each folder above it, also with their leading folders dropped (so a copy of
//! RecPipe's `configs/` folder under any name works). The space refers to the hardware JSONs by paths
//! relative to the working directory (absolute when outside it), the convention of every space file. The
//! space is validated before it is written and its exhaustive budget is set to its point count.
use super::{CliError, OutputFormat};
use crate::import::recpipe::{self, FoundFile, ImportOptions};
use anyhow::anyhow;
use std::path::{Component, Path, PathBuf};

/// What to import.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// A RecPipe experiment config (`configs/recpipe_configs/*.json`) as a design space.
    Recpipe(RecpipeArgs),
}

/// Arguments of `import recpipe`.
#[derive(Debug, clap::Args)]
pub struct RecpipeArgs {
    /// The experiment config.
    pub experiment: PathBuf,
    /// The RecPipe checkout the experiment's paths are relative to (default: searched upwards from the
    /// experiment's folder).
    #[arg(long)]
    pub root: Option<PathBuf>,
    /// Space file to write (default: the YAML on stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Space name (default: the experiment's file name).
    #[arg(long)]
    pub name: Option<String>,
    /// SLA target at p95, ms (RecPipe's configs carry none).
    #[arg(long, default_value_t = 25.0)]
    pub sla_ms: f64,
    /// Seed of the space.
    #[arg(long, default_value_t = 123)]
    pub seed: u64,
    /// MovieLens data folder for a NeuMF experiment.
    #[arg(long, default_value = "data/ml-100k")]
    pub movielens: String,
    /// Criteo Kaggle `train.txt` for a DLRM experiment (the synthetic stand-in is used where it is missing).
    #[arg(long, default_value = "data/criteo/train.txt")]
    pub criteo: String,
    /// Summary on stdout (with `--out`): text, or JSON (`ImportSummary`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
}

/// `import recpipe --format json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImportSummary {
    /// Space name.
    pub space: String,
    /// The experiment imported.
    pub experiment: String,
    /// The space file written (absent when the YAML went to stdout).
    pub written: Option<String>,
    /// Points of the space.
    pub points: u64,
    /// Models: (space name, source JSON).
    pub models: Vec<(String, String)>,
    /// Where the space differs from a literal reading of the experiment.
    pub warnings: Vec<String>,
}

/// Run an import subcommand.
pub fn run(cmd: &ImportCommand) -> Result<(), CliError> {
    match cmd {
        ImportCommand::Recpipe(args) => import_recpipe(args),
    }
}

/// `path` without `.` and with `..` folded (lexically).
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` (absolute, tidy) relative to the folder `from` (absolute), with `..` steps where needed; absolute
/// when the two share no folder below the root.
fn relative_to(path: &Path, from: &Path) -> PathBuf {
    let from = tidy(from);
    let common = path.components().zip(from.components()).take_while(|(a, b)| a == b).count();
    // Sharing only the root: the absolute path says more than a climb to it.
    if common <= 1 {
        return path.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in from.components().skip(common) {
        out.push("..");
    }
    for c in path.components().skip(common) {
        out.push(c.as_os_str());
    }
    out
}

/// Where a path written in the experiment is looked for, and how the space names what is found.
struct Finder {
    bases: Vec<PathBuf>,
    cwd: PathBuf,
}

impl Finder {
    fn new(experiment: &Path, root: Option<&Path>) -> std::io::Result<Finder> {
        let cwd = std::env::current_dir()?;
        let bases = match root {
            Some(r) => vec![tidy(&std::path::absolute(r)?)],
            None => {
                let dir = tidy(&std::path::absolute(experiment)?);
                dir.parent().map(|p| p.ancestors().map(Path::to_path_buf).collect()).unwrap_or_default()
            }
        };
        Ok(Finder { bases, cwd })
    }

    fn find(&self, written: &str) -> Result<FoundFile, String> {
        let parts: Vec<&str> = Path::new(written).iter().filter_map(|p| p.to_str()).collect();
        for base in &self.bases {
            for skip in 0..parts.len() {
                let candidate = parts[skip..].iter().fold(base.clone(), |p, c| p.join(c));
                if candidate.is_file() {
                    let text = std::fs::read_to_string(&candidate)
                        .map_err(|e| format!("cannot read {}: {e}", candidate.display()))?;
                    let shown = relative_to(&candidate, &self.cwd);
                    return Ok(FoundFile { path: shown.display().to_string(), text });
                }
            }
        }
        let looked: Vec<String> = self.bases.iter().take(4).map(|b| b.display().to_string()).collect();
        Err(format!("'{written}' not found under {} (give --root <RecPipe folder>)", looked.join(", ")))
    }
}

fn import_recpipe(args: &RecpipeArgs) -> Result<(), CliError> {
    let file = args.experiment.display().to_string();
    let text = std::fs::read_to_string(&args.experiment)
        .map_err(|e| CliError::input(anyhow!("{file}: cannot read file: {e}")))?;
    if !(args.sla_ms.is_finite() && args.sla_ms > 0.0) {
        return Err(CliError::input(anyhow!("--sla-ms: must be a positive target in ms, got {}", args.sla_ms)));
    }
    let name = match &args.name {
        Some(n) => n.clone(),
        None => {
            let stem = args.experiment.file_stem().map_or("recpipe".into(), |s| s.to_string_lossy().to_string());
            stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
        }
    };
    let finder = Finder::new(&args.experiment, args.root.as_deref()).map_err(CliError::runtime)?;
    let options = ImportOptions {
        name,
        sla_ms: args.sla_ms,
        seed: args.seed,
        movielens_path: args.movielens.clone(),
        criteo_path: args.criteo.clone(),
    };
    let imported =
        recpipe::import(&text, &file, &options, &|_, written| finder.find(written)).map_err(CliError::input)?;
    // Validate what is written; the point count sets the exhaustive budget.
    let label = args.out.as_ref().map_or_else(|| format!("{file} (imported)"), |p| p.display().to_string());
    let space = crate::spec::parse_space(&recpipe::with_budget(&imported.yaml, 1), &label, Path::new("."))
        .map_err(|e| CliError::runtime(anyhow!("the imported space does not validate:\n{e}")))?;
    let points = space.point_count();
    let yaml = recpipe::with_budget(&imported.yaml, points);
    for w in &imported.warnings {
        super::output::note(&format!("warning: {w}"));
    }
    let summary = ImportSummary {
        space: space.name.clone(),
        experiment: file,
        written: args.out.as_ref().map(|p| p.display().to_string()),
        points,
        models: imported.models,
        warnings: imported.warnings,
    };
    match &args.out {
        None => print!("{yaml}"),
        Some(out) => {
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    CliError::by_cause(anyhow::Error::new(e).context(format!("cannot create {}", dir.display())))
                })?;
            }
            crate::durable::write_atomic(out, yaml.as_bytes()).map_err(|e| {
                CliError::by_cause(anyhow::Error::new(e).context(format!("cannot write {}", out.display())))
            })?;
            super::output::result(args.format, &summary, || {
                format!(
                    "{}: {} points, {} models → {}",
                    summary.space,
                    summary.points,
                    summary.models.len(),
                    out.display()
                )
            });
        }
    }
    Ok(())
}
