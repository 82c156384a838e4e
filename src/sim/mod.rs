//! At-scale serving simulator: a virtual-time, seeded discrete-event simulation of multi-stage
//! recommendation pipelines.
//!
//! RecPipe measured tail latency by really sleeping for every query's service time (hours per figure, with OS
//! noise; the artifact's `RecPipeAccelSim.py`). This module simulates the same queueing structure in virtual
//! time: exact, seeded, repeatable and thousands of times faster.
//!
//! **Model.** Queries arrive by an [`ArrivalProcess`] (`poisson`, `legacy-ms` integer-millisecond Poisson gaps
//! as in the reference's load generator, or a replayed trace). Each [`StageModel`] is a shared FCFS queue
//! served by `servers` identical engines with a per-stage [`ServiceDist`]. After its service a query pays the
//! stage's top-k sort cost and optional fixed overhead (delays that do not hold an engine), then joins the next
//! stage. Consecutive stages sharing an accelerator may be sub-batch pipelined ([`SubBatchGroup`],
//! [`subbatch`]). The engine ([`tandem`]) keeps only each stage's servers' next-free times; pipelines whose
//! stages keep arrival order also run through the in-order engine ([`in_order`]), which SLA probes and load
//! summaries ([`probe`]) use.
//!
//! **Outputs** ([`SimReport`]): achieved throughput, mean/p50/p95/p99/max end-to-end latency (exact numpy-style
//! percentiles over the measured queries), per-stage waiting, service and utilisation, the offered load ρ per
//! stage, a saturation flag, and batch-means confidence intervals ([`stats`]). Leading warm-up queries are
//! simulated but not measured. With a precision target the run length doubles until the confidence intervals
//! are narrow enough or the query cap is reached. [`capacity`] finds the largest offered load meeting an SLA.
//!
//! **Units.** Simulated time is integer nanoseconds ([`time`]); the API speaks milliseconds (`_ms`) and queries
//! per second (`_qps`). **Determinism.** All randomness comes from `Xoshiro256PlusPlus::seed_from_u64(seed)`:
//! arrivals use the seeded stream, stage `k`'s services the stream jumped `k + 1` times. The same model,
//! settings and seed give bit-identical reports.
//!
//! The file format of `recpipe-dse simulate`, the validation against queueing theory and against the
//! reference's logs, and benchmark numbers are documented in `src/sim/README.md`.

pub mod arrivals;
pub mod capacity;
pub mod in_order;
mod model;
pub mod pipeline_file;
mod plan;
pub mod probe;
pub mod queueing;
pub mod recpipe2021;
mod run;
pub mod service;
pub mod stats;
pub mod subbatch;
pub mod tandem;
pub mod time;

pub use arrivals::ArrivalProcess;
pub use capacity::{
    capacity_curve, max_qps_under_sla, max_qps_under_sla_by, CapacityOptions, CapacityReport, StepVerdict,
};
pub use model::{
    PipelineModel, Precision, PrecisionReport, SimError, SimReport, SimSettings, SlaReport, SlaTarget, StageModel,
    StageReport, SubBatchGroup, DEFAULT_BATCHES, DEFAULT_MAX_QUEUE_LEN, MAX_HORIZON_NS, MAX_QUERIES,
};
pub use pipeline_file::{run_pipeline, PipelineRun};
pub use plan::{engine_centers, saturated_at_offered_load, saturation_qps};
pub use run::{simulate, simulate_baseline};
pub use service::ServiceDist;
pub use stats::Interval;
