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
}

/// Run one benchmark.
pub fn run(cmd: &BenchCommand) -> Result<(), CliError> {
    match cmd {
        BenchCommand::Accel(args) => super::bench_accel::run(args),
        BenchCommand::Sim(args) => super::bench_sim::run(args),
    }
}
