//! `recpipe-dse bench accel`: throughput of the accelerator cost model on one core.
//!
//! 1. Stage evaluations per second: [`crate::accel::evaluate_stage`] over RecPipe's three Kaggle DLRMs, the four
//!    sub-accelerator sizes and a range of item counts, in both modes, cycling until the requested count.
//! 2. Embedding-cache simulation accesses per second: an LRU (and a FIFO) cache over a seeded synthetic Zipf
//!    index stream (generated before timing starts).
//!
//! Each figure is given per wall-clock second and per second of this thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`); on a shared machine the second excludes time spent waiting for a core.
//! Results are printed once at the end; nothing is asserted.
use super::CliError;
use crate::accel::lru::{zipf_trace, CacheSim, Policy};
use crate::accel::{evaluate_stage, AccelConfig, Dataset, Mode, ModelShape, StageRequest};
use anyhow::anyhow;
use std::hint::black_box;
use std::time::Instant;

/// Wall and thread-CPU seconds of `f`.
fn timed(f: impl FnOnce()) -> (f64, f64) {
    let (start, cpu) = (Instant::now(), super::bench::thread_cpu_s());
    f();
    (start.elapsed().as_secs_f64(), super::bench::thread_cpu_s() - cpu)
}

/// Arguments of `bench accel`.
#[derive(Debug, clap::Args)]
pub struct BenchAccelArgs {
    /// Stage evaluations to time.
    #[arg(long, default_value_t = 4_000_000)]
    pub evaluations: u64,
    /// Cache accesses to time (the Zipf stream's length).
    #[arg(long, default_value_t = 20_000_000)]
    pub accesses: usize,
    /// Cache capacity, entries.
    #[arg(long, default_value_t = 131_072)]
    pub cache_entries: u32,
    /// Distinct keys of the Zipf stream.
    #[arg(long, default_value_t = 4_000_000)]
    pub universe: u64,
    /// Zipf exponent of the stream.
    #[arg(long, default_value_t = 1.05)]
    pub zipf_exponent: f64,
    /// Seed of the stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn preset(side: u32, bw: f64) -> AccelConfig {
    let share = (side as f64 / 128.0).powi(2);
    AccelConfig {
        name: None,
        architecture: crate::accel::Architecture::Rpaccel,
        array_size: side,
        clock_mhz: 125.0,
        dram_bandwidth_gib_s: bw,
        dram_capacity_gib: Some(32.0),
        dram_latency_cycles: 100,
        dram_burst_bytes: 64,
        weight_sram_bytes: 1_000_000,
        activation_sram_bytes: ((4u64 << 20) as f64 * share) as u64,
        embedding_cache_bytes: 1_000_000,
        embedding_sram_bytes_per_cycle: 64,
        element_bytes: 2,
        topk_units: ((1024.0 * share) as u32).max(1),
        topk_bins: 16,
        pcie_bandwidth_gb_s: crate::accel::pcie::DEFAULT_LINK_GB_S,
        pcie_latency_us: crate::accel::pcie::DEFAULT_LATENCY_US,
    }
}

/// Run the benchmark.
pub fn run(args: &BenchAccelArgs) -> Result<(), CliError> {
    if args.evaluations == 0 || args.accesses == 0 {
        return Err(CliError::input(anyhow!("--evaluations and --accesses must be positive")));
    }
    let models: Vec<ModelShape> =
        ["rm-small", "rm-med", "rm-large"].iter().map(|n| ModelShape::from_preset(n).expect("zoo preset")).collect();
    let hws = [preset(128, 32.0), preset(64, 8.0), preset(32, 2.0), preset(16, 0.125)];
    let items = [128u32, 512, 1024, 4096, 8192];
    let mut requests = Vec::new();
    for mode in [Mode::Rpaccel, Mode::Recpipe2021] {
        for m in 0..models.len() {
            for h in 0..hws.len() {
                for &n in &items {
                    requests.push((m, h, StageRequest::new(Dataset::Kaggle, n, 64, mode)));
                }
            }
        }
    }
    let per_mode = requests.len() / 2;
    let mut out = String::new();
    for (label, slice) in [("rpaccel", &requests[..per_mode]), ("recpipe2021", &requests[per_mode..])] {
        let mut sum = 0.0;
        let mut done = 0u64;
        let (secs, cpu) = timed(|| 'outer: loop {
            for (m, h, req) in slice {
                sum += evaluate_stage(black_box(&models[*m]), black_box(&hws[*h]), black_box(req)).latency_s;
                done += 1;
                if done == args.evaluations {
                    break 'outer;
                }
            }
        });
        black_box(sum);
        out += &format!(
            "stage evaluations ({label}): {done} in {secs:.3} s wall / {cpu:.3} s CPU = {:.2} M/s wall, \
             {:.2} M/s per CPU-second, one core\n",
            done as f64 / secs / 1e6,
            done as f64 / cpu / 1e6
        );
    }
    let trace = zipf_trace(args.accesses, args.universe, args.zipf_exponent, args.seed);
    for (label, policy) in [("lru", Policy::Lru), ("fifo", Policy::Fifo)] {
        let mut cache = CacheSim::new(args.cache_entries, policy);
        let (secs, cpu) = timed(|| {
            cache.run(&trace);
        });
        let n = trace.len() as f64;
        out += &format!(
            "cache simulation ({label}, {} entries, Zipf {} over {} keys): {} accesses in {secs:.3} s wall / \
             {cpu:.3} s CPU = {:.1} M accesses/s wall, {:.1} M per CPU-second, hit rate {:.4}\n",
            args.cache_entries,
            args.zipf_exponent,
            args.universe,
            trace.len(),
            n / secs / 1e6,
            n / cpu / 1e6,
            cache.hit_rate()
        );
    }
    print!("{out}");
    Ok(())
}
