//! Command-line interface: clap argument structs and one function per subcommand.
//!
//! Every subcommand returns `Result<(), CliError>`. [`CliError::Input`] (bad YAML, bad flags, bad data or
//! config files, a missing data file) exits with code 2; [`CliError::Runtime`] (the environment: a full disk,
//! a file-size limit, a read-only or unwritable folder, a journal another run holds, a libtorch error) exits
//! with code 1; [`CliError::Interrupted`] (Ctrl-C, finished work kept) exits with code 130.
//! [`CliError::by_cause`] sorts an error by its cause chain.
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

pub mod accel;
pub mod bench;
pub mod bench_accel;
pub mod bench_data;
pub mod bench_explore;
pub mod bench_inference;
pub mod bench_pareto;
pub mod bench_quality;
pub mod bench_search;
pub mod bench_search_suite;
pub mod bench_sim;
pub mod calibrate;
pub mod compare;
pub mod explore;
pub mod fit_synthetic;
pub mod import;
pub mod merge;
pub mod output;
pub mod prepare;
pub mod progress;
pub mod quality;
pub mod reproduce;
pub mod shard;
pub mod simulate;
pub mod train;
pub mod validate;

/// Environment variable naming the cache folder (models, scores, benchmark tables) when `--cache-dir` is not
/// given; default `.cache`.
pub const CACHE_ENV: &str = "RECPIPE_DSE_CACHE";

/// Output format of the commands that print a result (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text (aligned tables).
    Table,
    /// JSON (one object, or an array of objects for several files).
    Json,
}

/// recpipe-dse: design-space exploration for multi-stage recommendation pipelines and their hardware.
#[derive(Debug, Parser)]
#[command(name = "recpipe-dse", version, about, long_about = None)]
pub struct Cli {
    /// Print errors only (no notes, no progress).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print details too (phase times, sources, fingerprints).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check design-space files and summarise their knobs and point counts.
    Validate(validate::ValidateArgs),
    /// Accelerator cost model (RecPipeAccel): evaluate one stage on one accelerator configuration.
    #[command(subcommand)]
    Accel(accel::AccelCommand),
    /// Simulate serving a multi-stage pipeline at scale (virtual-time discrete-event simulation).
    Simulate(simulate::SimulateArgs),
    /// Benchmarks of the tool's own engines.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print the compute devices libtorch can use.
    Devices,
    /// Search a design space: evaluate points, journal them, and write Pareto reports.
    Explore(explore::ExploreArgs),
    /// Make what the shards of a run need, once: missing latency profiles measured, models trained and scored.
    Prepare(prepare::PrepareArgs),
    /// Merge the journals of a sharded run (`explore --shard`) into one report.
    Merge(merge::MergeArgs),
    /// Configurations of a space side by side under SLA targets, best first.
    Compare(compare::CompareArgs),
    /// Train every zoo model a space uses (reusing cached checkpoints) and print per-model metrics.
    Train(train::TrainArgs),
    /// Quality (HR@k, NDCG@k, RecPipe's NDCG@k) of every cascade a space contains, from the score cache.
    Quality(quality::QualityArgs),
    /// Measure the CPU/GPU stage latency profiles a design space needs into the calibration cache.
    Calibrate(calibrate::CalibrateArgs),
    /// Reproduce the RecPipe paper's figures from `spaces/paper/`, beside the published numbers.
    Reproduce(reproduce::ReproduceArgs),
    /// Convert another tool's configuration into a design space (`import recpipe <experiment.json>`).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Fit the synthetic Criteo stand-in so that a trained DLRM reaches the published quality of Fig. 3.
    FitSynthetic(fit_synthetic::FitSyntheticArgs),
    /// Print a shell completion script on stdout (e.g. `recpipe-dse completions bash > /etc/bash_completion.d/recpipe-dse`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, or write one page per command into a folder with `--out`.
    Man {
        /// Folder receiving `recpipe-dse.1` and a `recpipe-dse-<command>.1` page per command.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

/// Why a subcommand failed; decides the exit code.
#[derive(Debug)]
pub enum CliError {
    /// The user's input (files, flags) is invalid: exit code 2.
    Input(anyhow::Error),
    /// Something else went wrong: exit code 1.
    Runtime(anyhow::Error),
    /// Ctrl-C stopped the run after the work in flight; what finished is kept and the run can be resumed:
    /// exit code 130 (128 + SIGINT, the shells' convention).
    Interrupted(anyhow::Error),
}

impl CliError {
    /// Wrap any error as bad input (exit code 2).
    pub fn input(err: impl Into<anyhow::Error>) -> Self {
        CliError::Input(err.into())
    }
    /// Wrap any error as a runtime failure (exit code 1).
    pub fn runtime(err: impl Into<anyhow::Error>) -> Self {
        CliError::Runtime(err.into())
    }
    /// An interruption that left resumable state (exit code 130).
    pub fn interrupted(err: impl Into<anyhow::Error>) -> Self {
        CliError::Interrupted(err.into())
    }
    /// Bad input (exit code 2), unless the cause is the environment (exit code 1): a file-system error other
    /// than a missing file (a full disk, a read-only or unwritable folder) or a libtorch failure.
    pub fn by_cause(err: impl Into<anyhow::Error>) -> Self {
        let err = err.into();
        let environment = err.chain().any(|cause| {
            cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() != std::io::ErrorKind::NotFound)
                || cause.downcast_ref::<tch::TchError>().is_some()
        });
        if environment {
            CliError::Runtime(err)
        } else {
            CliError::Input(err)
        }
    }
}

/// `--version`: the crate version, the commit it was built from, the build's key crates and rustc, the
/// libtorch this process loaded and whether CUDA is usable.
fn version_details() -> String {
    crate::device::load_cuda_backend();
    let cuda = match tch::Cuda::device_count() {
        0 => format!("not available ({:?})", crate::device::load_cuda_backend()),
        n => format!("available, {n} device(s)"),
    };
    format!(
        "{}\ncommit: {}\nbuilt with: {}\nlibtorch: {}\nCUDA: {cuda}",
        env!("CARGO_PKG_VERSION"),
        env!("RECPIPE_GIT_COMMIT"),
        env!("RECPIPE_BUILD_VERSIONS"),
        crate::measure::host::libtorch_version().unwrap_or_else(|| "unknown".into()),
    )
}

/// Print the man page, or write every command's page into `out`.
fn man(out: Option<&std::path::Path>) -> Result<(), CliError> {
    use anyhow::Context;
    let command = Cli::command();
    match out {
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout()).map_err(CliError::runtime),
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))
                .map_err(CliError::runtime)?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))
                .map_err(CliError::runtime)?;
            output::note(&format!("man pages written to {}", dir.display()));
            Ok(())
        }
    }
}

/// Parse the process arguments, run the subcommand and return the exit code.
pub fn main() -> ExitCode {
    let mut command = Cli::command();
    if std::env::args().any(|a| a == "--version") {
        command = command.long_version(version_details());
    }
    let parsed = command.try_get_matches().and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout with success, usage errors to stderr.
            let _ = err.print();
            return if err.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    output::set_verbosity(match (cli.quiet, cli.verbose) {
        (true, _) => output::Verbosity::Quiet,
        (_, true) => output::Verbosity::Verbose,
        _ => output::Verbosity::Normal,
    });
    // A file-size limit (`ulimit -f`) makes a write fail with an error the command reports, naming the file,
    // instead of killing the process with SIGXFSZ half-way through.
    // SAFETY: setting a signal's disposition to "ignore" before any other thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // Load libtorch's CUDA backend before any tch call so that GPUs are visible where they exist.
    crate::device::load_cuda_backend();
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Accel(cmd) => accel::run(&cmd),
        Command::Simulate(args) => simulate::run(&args),
        Command::Bench(cmd) => bench::run(&cmd),
        Command::Explore(args) => explore::run(&args),
        Command::Prepare(args) => prepare::run(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Compare(args) => compare::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Quality(args) => quality::run(&args),
        Command::Calibrate(args) => calibrate::run(&args),
        Command::Reproduce(args) => reproduce::run(&args),
        Command::FitSynthetic(args) => fit_synthetic::run(&args),
        Command::Import(cmd) => import::run(&cmd),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "recpipe-dse", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { out } => man(out.as_deref()),
        Command::Devices => {
            println!("cuda backend: {:?}", crate::device::load_cuda_backend());
            println!("best device: {:?}", crate::device::best_device());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Input(err)) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
        Err(CliError::Runtime(err)) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
        Err(CliError::Interrupted(err)) => {
            eprintln!("interrupted: {err:#}");
            ExitCode::from(130)
        }
    }
}
