//! `recpipe-dse bench …`: benchmarks of the tool's own engines. Each prints throughput figures measured in
//! one process run; nothing here is asserted in tests.
use super::CliError;
use clap::Subcommand;

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Accelerator cost model: stage evaluations per second and cache-simulation accesses per second.
    Accel(super::bench_accel::BenchAccelArgs),
    /// Serving simulator: simulated query-stages per second and the Figure-12-style sweep wall time.
    Sim(super::bench_sim::BenchSimArgs),
    /// Search strategies: hypervolume reached vs exhaustive search with a fraction of the evaluations.
    Search(super::bench_search::BenchSearchArgs),
    /// Criteo data: synthetic generator rows/s, Kaggle reader MB/s and rows/s, reader peak RSS.
    Data(super::bench_data::BenchDataArgs),
    /// Quality engine: model scoring throughput (items/s) and cascade evaluations per second.
    Quality(super::bench_quality::BenchQualityArgs),
    /// Pareto analysis: front ranks and hypervolume, the report's algorithms vs the textbook ones, same sets.
    Pareto(super::bench_pareto::BenchParetoArgs),
    /// Exploration: valid points per core-second and peak RSS over a generated space of 10⁶ points, the
    /// current evaluation path vs the reference (full simulations), with a check that both agree.
    Explore(super::bench_explore::BenchExploreArgs),
    /// DLRM inference: our tch forward (fused and unfused) against PyTorch eager, per model and batch.
    Inference(super::bench_inference::BenchInferenceArgs),
}

/// Run one benchmark.
pub fn run(cmd: &BenchCommand) -> Result<(), CliError> {
    match cmd {
        BenchCommand::Accel(args) => super::bench_accel::run(args),
        BenchCommand::Sim(args) => super::bench_sim::run(args),
        BenchCommand::Search(args) => super::bench_search::run(args),
        BenchCommand::Quality(args) => super::bench_quality::run(args),
        BenchCommand::Data(args) => super::bench_data::run(args),
        BenchCommand::Inference(args) => super::bench_inference::run(args),
        BenchCommand::Pareto(args) => super::bench_pareto::run(args),
        BenchCommand::Explore(args) => super::bench_explore::run(args),
    }
}

/// CPU time consumed by the calling thread, s (excludes time the thread waited for a core on a busy machine).
pub(crate) fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call; CLOCK_THREAD_CPUTIME_ID is
    // supported on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    } else {
        f64::NAN
    }
}
