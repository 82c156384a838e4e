//! `recpipe-dse reproduce <figure>… | all [--out DIR] [--paper-dir DIR] [--quick]`: compute the RecPipe paper's
//! figures from their files in `spaces/paper/` and write `<out>/reproduce-<timestamp>/<figure>/` plus a
//! summary `README.md` and an interactive `report.html` (every figure's plots beside the published numbers).
//!
//! Every figure file of the paper folder is loaded and validated first (all problems reported, exit code 2,
//! nothing written); figures that others cite (`claims`) are added to the run. `--quick` cuts every
//! simulation to a tenth of its queries (at least 1,000) for a smoke run.
use super::explore::{command_line, utc_stamp};
use super::CliError;
use crate::reproduce::{self, Figure, FigureBody, FigureInputs, ValuesById};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// Arguments of `reproduce`.
#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// Figure ids (the `figure:` field of the files in the paper folder, e.g. fig12), or `all`.
    #[arg(required = true)]
    pub figures: Vec<String>,
    /// Folder for the run folder `reproduce-<timestamp>/`.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Folder of the figure files.
    #[arg(long, default_value = "spaces/paper")]
    pub paper_dir: PathBuf,
    /// Smoke run: every simulation with a tenth of its queries (at least 1,000); quality figures train on
    /// 20,000 rows and evaluate 4 queries.
    #[arg(long)]
    pub quick: bool,
    /// Root of the checkpoint and score caches (quality and iso-quality figures).
    #[arg(long, default_value = ".cache", env = super::CACHE_ENV)]
    pub cache_dir: PathBuf,
    /// Folder of the CPU/GPU latency profiles (iso-quality figures).
    #[arg(long, default_value = "calib")]
    pub calib_dir: PathBuf,
}

/// Every `*.yaml` figure file of `dir`, loaded, sorted by file name; all problems at once.
fn load_all(dir: &Path) -> Result<Vec<Figure>, CliError> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("{}: cannot read the paper folder", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map_err(CliError::input)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    let mut figures = Vec::new();
    let mut problems = Vec::new();
    for p in &paths {
        match reproduce::load_figure(p) {
            Ok(f) => figures.push(f),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if !problems.is_empty() {
        return Err(CliError::input(anyhow::anyhow!("{}", problems.join("\n"))));
    }
    let mut ids: Vec<&str> = figures.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(CliError::input(anyhow::anyhow!("{}: two figure files have the id '{}'", dir.display(), w[0])));
    }
    if figures.is_empty() {
        return Err(CliError::input(anyhow::anyhow!("{}: no figure files (*.yaml)", dir.display())));
    }
    Ok(figures)
}

/// The figures asked for, with the ones they depend on, in dependency order.
fn select(all: Vec<Figure>, wanted: &[String]) -> Result<Vec<Figure>, CliError> {
    let known: Vec<String> = all.iter().map(|f| f.id.clone()).collect();
    let mut chosen: Vec<String> = if wanted.iter().any(|w| w == "all") {
        known.clone()
    } else {
        for w in wanted {
            if !known.contains(w) {
                return Err(CliError::input(anyhow::anyhow!(
                    "unknown figure '{w}' (expected all or one of: {})",
                    known.join(", ")
                )));
            }
        }
        wanted.to_vec()
    };
    loop {
        let extra: Vec<String> = all
            .iter()
            .filter(|f| chosen.contains(&f.id))
            .flat_map(Figure::dependencies)
            .filter(|d| !chosen.contains(d))
            .collect();
        if extra.is_empty() {
            break;
        }
        chosen.extend(extra);
    }
    let figures: Vec<Figure> = all.into_iter().filter(|f| chosen.contains(&f.id)).collect();
    reproduce::order_by_dependencies(figures).map_err(|e| CliError::input(anyhow::anyhow!(e)))
}

/// Rows a quality figure trains on with `--quick`.
const QUICK_TRAIN_ROWS: u64 = 20_000;

fn make_quick(f: &mut Figure) {
    if let FigureBody::Serving(s) = &mut f.body {
        s.queries = (s.queries / 10).max(1000).min(s.queries);
    }
    if let Some(space) = f.space_mut() {
        quick_space(space);
    }
}

/// A space's models trained on [`QUICK_TRAIN_ROWS`], 4 queries evaluated, a tenth of the simulated queries.
fn quick_space(space: &mut crate::spec::Space) {
    let t = &mut space.training;
    t.train_rows = Some(t.train_rows.unwrap_or(QUICK_TRAIN_ROWS).min(QUICK_TRAIN_ROWS));
    t.validation_rows = t.validation_rows.min(QUICK_TRAIN_ROWS / 4);
    space.dataset.eval_queries = space.dataset.eval_queries.min(4);
    space.load.queries = (space.load.queries / 10).max(1000).min(space.load.queries);
}

/// Evaluation sources opened in this run, by design-space file.
type OpenedSpaces = std::collections::HashMap<String, Rc<crate::explore::sources::Opened>>;

/// What a figure reads besides its file: the score cache of a quality figure's space, the evaluation sources
/// (scores and latency profiles) of an iso-quality figure's space; models are trained or loaded through
/// `quality::prepare` as `explore` does. Sources already opened for the same space file in this run (`opened`)
/// are reused.
fn inputs_for(f: &Figure, args: &ReproduceArgs, opened: &mut OpenedSpaces) -> Result<FigureInputs, CliError> {
    let data_error = |e: crate::quality::QualityError| match e {
        crate::quality::QualityError::Data(_) | crate::quality::QualityError::Unsupported(_) => {
            CliError::input(anyhow::anyhow!("{}: {e}", f.file))
        }
        other => CliError::runtime(anyhow::anyhow!("{}: {other}", f.file)),
    };
    match &f.body {
        FigureBody::Quality(q) => scores_of(&q.space, args).map_err(data_error),
        FigureBody::TrainingSweep(t) => scores_of(&t.space, args).map_err(data_error),
        FigureBody::IsoQuality(q) => {
            if let Some(o) = opened.get(&q.space.source) {
                return Ok(FigureInputs::Sources(Rc::clone(o)));
            }
            let opts = crate::explore::sources::SourceOptions {
                cache_dir: args.cache_dir.clone(),
                calib_dir: args.calib_dir.clone(),
                progress: super::progress::terminal(),
                offline: false,
            };
            let o = crate::explore::sources::open(&q.space, &opts)
                .map(Rc::new)
                .map_err(|e| CliError::by_cause(e.context(f.file.clone())))?;
            opened.insert(q.space.source.clone(), Rc::clone(&o));
            Ok(FigureInputs::Sources(o))
        }
        _ => Ok(FigureInputs::None),
    }
}

/// The score cache of `space` (models trained or loaded as `explore` does).
fn scores_of(space: &crate::spec::Space, args: &ReproduceArgs) -> Result<FigureInputs, crate::quality::QualityError> {
    let opts = crate::quality::PrepareOptions::new(&args.cache_dir, super::progress::terminal());
    crate::quality::prepare(space, &opts).map(|c| FigureInputs::Scores(Box::new(c)))
}

/// A fresh run folder: `reproduce-<stamp>`, with `-02`, `-03`, … when one from the same second exists.
fn run_folder(out: &Path) -> Result<PathBuf, CliError> {
    crate::durable::claim_folder(out, &format!("reproduce-{}", utc_stamp()))
        .with_context(|| format!("cannot create a run folder in {}", out.display()))
        .map_err(CliError::by_cause)
}

/// Run `reproduce`.
pub fn run(args: &ReproduceArgs) -> Result<(), CliError> {
    let mut figures = select(load_all(&args.paper_dir)?, &args.figures)?;
    if args.quick {
        figures.iter_mut().for_each(make_quick);
    }
    // Compute everything before writing anything.
    let bar = ProgressBar::new(figures.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} figures {msg} ({elapsed})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_prefix("reproduce");
    let mut values = ValuesById::new();
    let mut results = Vec::new();
    let mut opened = OpenedSpaces::new();
    for f in &figures {
        bar.set_message(f.id.clone());
        let t = Instant::now();
        let inputs = bar.suspend(|| inputs_for(f, args, &mut opened))?;
        let r = reproduce::run(f, &values, &inputs).map_err(CliError::input)?;
        values.insert(r.id.clone(), r.values.clone());
        results.push((r, t.elapsed().as_secs_f64()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    let dir = run_folder(&args.out)?;
    for (r, secs) in &results {
        crate::report::figure::write_figure(&dir, r, *secs).map_err(CliError::runtime)?;
    }
    let mut stamp = crate::explore::versions();
    if args.quick {
        stamp.push_str("; --quick (a tenth of the simulated queries; quality models on 20,000 rows, 4 queries)");
    }
    let summary = crate::report::figure::summary_markdown(&results, &command_line(), &stamp);
    crate::durable::write_atomic(&dir.join("README.md"), summary.as_bytes())
        .with_context(|| format!("cannot write {}", dir.join("README.md").display()))
        .map_err(CliError::runtime)?;
    let page = crate::report::html::reproduce_data(&results, &command_line(), &stamp);
    crate::durable::write_atomic(&dir.join("report.html"), crate::report::html::render(&page).as_bytes())
        .with_context(|| format!("cannot write {}", dir.join("report.html").display()))
        .map_err(CliError::runtime)?;
    println!("{:<10} {:>7} {:>7} {:>12} {:>8}", "figure", "match", "differ", "not checked", "seconds");
    for (r, secs) in &results {
        let (m, d, u) = r.verdict_counts();
        println!("{:<10} {m:>7} {d:>7} {u:>12} {secs:>8.2}", r.id);
    }
    println!("wrote {}", dir.display());
    Ok(())
}
