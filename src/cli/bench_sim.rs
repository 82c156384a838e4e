//! `recpipe-dse bench sim`: throughput of the serving simulator on one core.
//!
//! Prints (1) simulated query-stages per second with deterministic service for the bare tandem engine and for
//! a whole [`crate::sim::simulate`] call (arrival generation, exact percentiles and batch-means intervals
//! included), plus the same with exponential service for comparison; and (2) the wall time of the
//! Figure-12-style sweep: the reference's 37 accelerator pipelines × 11 legacy-ms arrival gaps × 10 000
//! queries ([`crate::sim::recpipe2021`]), which took the original real-time emulation about 6 h. Rates are
//! given per wall-clock second and per second of the thread's CPU time (the latter is what one core delivers
//! when the machine is shared).
use super::CliError;
use crate::sim::{self, recpipe2021, tandem, ArrivalProcess, PipelineModel, ServiceDist, SimSettings, StageModel};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::time::Instant;

/// Wall and thread-CPU seconds of `f`, with its result.
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64, f64) {
    let (w, c) = (Instant::now(), super::bench::thread_cpu_s());
    let out = f();
    (out, w.elapsed().as_secs_f64(), super::bench::thread_cpu_s() - c)
}

/// Arguments of `bench sim`.
#[derive(Debug, clap::Args)]
pub struct BenchSimArgs {
    /// Queries per throughput run.
    #[arg(long, default_value_t = 5_000_000)]
    pub queries: u64,
    /// Queries per sweep point.
    #[arg(long, default_value_t = 10_000)]
    pub sweep_queries: u64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn three_stage(det: bool) -> PipelineModel {
    // RM-small@4096 → RM-med@512 → RM-large@128 on S = 4, 16, 16 sub-accelerators (engines 1, 5, 5), λ = 1 ms.
    let stage = |name: &str, servers: u32, ms: f64| StageModel {
        name: name.into(),
        servers,
        service: if det { ServiceDist::Deterministic { ms } } else { ServiceDist::Exponential { mean_ms: ms } },
        sort_ms: 0.0,
        overhead_ms: 0.0,
    };
    PipelineModel {
        arrival: ArrivalProcess::Poisson { qps: 1000.0 },
        stages: vec![
            stage("rm-small@4096", 1, 0.557257),
            stage("rm-med@512", 5, 0.558335),
            stage("rm-large@128", 5, 1.118079),
        ],
        groups: vec![],
    }
}

/// Run the benchmark and print the figures.
pub fn run(args: &BenchSimArgs) -> Result<(), CliError> {
    let n = args.queries.clamp(1, sim::MAX_QUERIES);
    println!("serving simulator benchmark (one thread)");
    for det in [true, false] {
        let model = three_stage(det);
        let label = if det { "deterministic" } else { "exponential" };
        let centers = sim::engine_centers(&model).map_err(CliError::runtime)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(args.seed);
        let arrivals = model.arrival.generate(n as usize, &mut rng);
        let cfg = tandem::EngineConfig { warmup: 0, mini_shift: 12, max_queue_len: u64::MAX, seed: args.seed };
        let (out, engine_wall, engine_cpu) = timed(|| tandem::run(&centers, &arrivals, &cfg));
        let settings = SimSettings::new(n, args.seed);
        let (report, full_wall, full_cpu) = timed(|| sim::simulate(&model, &settings));
        let report = report.map_err(CliError::runtime)?;
        let rate = |stages: u64, s: f64| stages as f64 / s / 1e6;
        println!(
            "  {label:<13} 3-stage tandem (1/5/5 servers), {n} queries (mean {:.4} ms, p99 {:.4} ms), M query-stages/s \
             per wall / CPU second: engine {:.1} / {:.1}; simulate() incl. arrivals and exact statistics {:.1} / {:.1}",
            report.mean_ms,
            report.p99_ms,
            rate(out.query_stages, engine_wall),
            rate(out.query_stages, engine_cpu),
            rate(report.query_stages, full_wall),
            rate(report.query_stages, full_cpu),
        );
    }
    let (points, sweep_wall, sweep_cpu) = timed(|| recpipe2021::figure12_sweep(args.sweep_queries, args.seed, false));
    let points = points.map_err(CliError::runtime)?;
    let qs: u64 = points.iter().map(|p| p.report.query_stages).sum();
    let saturated = points.iter().filter(|p| p.report.saturated).count();
    println!(
        "  Figure-12 sweep: {} pipelines × {} gaps × {} queries = {} runs, {:.1} M query-stages, {} saturated: \
         {:.3} s wall, {:.3} s CPU",
        recpipe2021::figure12_pipelines().len(),
        recpipe2021::FIG12_GAPS_MS.len(),
        args.sweep_queries,
        points.len(),
        qs as f64 / 1e6,
        saturated,
        sweep_wall,
        sweep_cpu
    );
    Ok(())
}
