//! The in-order engine: pipelines whose queries leave every centre in the order they reached it, run query by
//! query through all centres in one pass.
//!
//! A centre keeps arrival order when it has one FCFS server, or when its service time is the same for every
//! query (departures then follow starts) ([`keeps_order`]). Through such centres query `i` is the `i`-th to
//! reach each centre and takes that centre's `i`-th service draw, whatever the load, so the tandem recursion
//! of [`super::tandem`] needs no re-sorting between centres: query `i`'s start at a centre is
//! `max(t_i, free)` where `free` is the time its server (the one that took query `i − c` for `c` servers of
//! fixed service, the only one otherwise) becomes free.
//!
//! [`run_in_order`] gives the same latencies as [`super::tandem::run`] (same recursion, same draws in the same
//! order) without its per-centre statistics, and can stop early once a caller's verdict is known. When every
//! service is fixed and there are at most [`FUSED_CENTRES`] centres, one loop computes each arrival instant,
//! passes the query through every centre and records its latency, with every single-server centre's state in a
//! register (the arrival instants' f64 accumulation and the centres' max-plus recursions are independent
//! dependency chains, which the processor overlaps). Units: ns.

use super::arrivals::{PoissonInstants, RunArrivals};
use super::tandem::{Center, Drawer, EngineConfig, One, Ring, Servers};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// Most centres the fused all-fixed loop handles (longer pipelines go query by query through every centre).
pub const FUSED_CENTRES: usize = 3;

/// Whether every centre keeps its queries in arrival order: one server (FCFS), or a service time that is the
/// same for every query (departures then follow starts).
pub fn keeps_order(centers: &[Center]) -> bool {
    centers.iter().all(|c| c.servers <= 1 || c.fixed_ns().is_some())
}

/// What [`run_in_order`] measured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InOrderRun {
    /// End-to-end latencies of the measured queries in id order, ns.
    pub latencies_ns: Vec<u64>,
    /// Arrival instant of the first measured query, ns (0 when none is measured).
    pub first_measured_arrival_ns: u64,
    /// Latest exit of a measured query, ns (0 when none is measured).
    pub last_measured_exit_ns: u64,
}

/// The latencies of a run through centres that keep arrival order ([`keeps_order`]), with arrivals in
/// non-decreasing order and a queue cap no run can reach (`cfg.max_queue_len ≥` the number of arrivals).
/// Returns `None` as soon as `give_up` measured latencies exceeded `exceed_ns` (the caller's verdict is then
/// known); `u64::MAX` and `usize::MAX` ask for the whole run.
pub fn run_in_order(
    centers: &[Center],
    arrivals: &RunArrivals,
    cfg: &EngineConfig,
    exceed_ns: u64,
    give_up: usize,
) -> Option<InOrderRun> {
    let stop = Stop { warmup: usize::try_from(cfg.warmup).unwrap_or(usize::MAX), exceed_ns, give_up };
    match arrivals {
        RunArrivals::Poisson { qps, unit_gaps } => {
            debug_assert!(cfg.max_queue_len >= unit_gaps.len() as u64);
            run_from(centers, PoissonInstants::new(*qps, unit_gaps), cfg, stop)
        }
        RunArrivals::Listed(times) => {
            debug_assert!(cfg.max_queue_len >= times.len() as u64 && arrivals.non_decreasing());
            run_from(centers, times.iter().copied(), cfg, stop)
        }
    }
}

/// Which queries are measured and when a run may stop early.
#[derive(Debug, Clone, Copy)]
struct Stop {
    warmup: usize,
    exceed_ns: u64,
    give_up: usize,
}

fn run_from<I: ExactSizeIterator<Item = u64>>(
    centers: &[Center],
    arrivals: I,
    cfg: &EngineConfig,
    stop: Stop,
) -> Option<InOrderRun> {
    debug_assert!(keeps_order(centers));
    let fixed: Option<Vec<FixedCenter>> = centers
        .iter()
        .map(|c| c.fixed_ns().map(|s| FixedCenter { s, post: c.post_ns, servers: c.servers.max(1) as usize }))
        .collect();
    if let Some(fixed) = fixed.filter(|f| f.len() <= FUSED_CENTRES) {
        return run_fused_any(&fixed, arrivals, stop);
    }
    let mut stream = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    let mut lanes: Vec<(DrawnServers, Option<u64>, Drawer<'_>, u64)> = centers
        .iter()
        .map(|c| {
            stream.jump();
            let servers = c.servers.max(1) as usize;
            let lane = if servers == 1 {
                DrawnServers::One(One(0))
            } else {
                DrawnServers::Ring(Ring { buf: vec![0; servers], i: 0 })
            };
            let drawer = Drawer { service: &c.service, rng: stream.clone(), stage_ns: Vec::new(), scratch: Vec::new() };
            (lane, c.fixed_ns(), drawer, c.post_ns)
        })
        .collect();
    measure(arrivals, stop, |a| {
        let mut t = a;
        for (servers, fixed, drawer, post) in lanes.iter_mut() {
            // Draws of unmeasured queries book no member sums, so none are passed.
            let s = match fixed {
                Some(ns) => *ns,
                None => drawer.draw(&mut [], false),
            };
            let st = servers.start(t, s);
            t = st.saturating_add(s).saturating_add(*post);
        }
        t
    })
}

/// The servers of a centre with drawn service times that keeps arrival order.
enum DrawnServers {
    One(One),
    Ring(Ring),
}

impl DrawnServers {
    #[inline(always)]
    fn start(&mut self, a: u64, s: u64) -> u64 {
        match self {
            DrawnServers::One(o) => o.start(a, s),
            DrawnServers::Ring(r) => r.start(a, s),
        }
    }
}

/// A centre with a fixed service time `s`, ns, `post` ns after it, and `servers` servers.
#[derive(Debug, Clone, Copy)]
struct FixedCenter {
    s: u64,
    post: u64,
    servers: usize,
}

/// `N` fixed-service centres in one loop. Bit `k` of `SINGLE` says centre `k` has one server, whose
/// next-free time stays in a register; a centre with `c > 1` servers keeps every query's departure, so query
/// `i`'s server is free at the departure of query `i − c`.
fn run_fused<const N: usize, const SINGLE: u8, I: ExactSizeIterator<Item = u64>>(
    fixed: &[FixedCenter],
    arrivals: I,
    stop: Stop,
) -> Option<InOrderRun> {
    let n = arrivals.len();
    let s: [u64; N] = std::array::from_fn(|k| fixed[k].s);
    let post: [u64; N] = std::array::from_fn(|k| fixed[k].post);
    let c: [usize; N] = std::array::from_fn(|k| fixed[k].servers);
    let mut free = [0u64; N];
    let mut deps: [Vec<u64>; N] =
        std::array::from_fn(|k| if SINGLE >> k & 1 == 1 { Vec::new() } else { vec![0; n + c[k]] });
    let mut i = 0usize;
    measure(arrivals, stop, |a| {
        let mut t = a;
        for k in 0..N {
            let dep = if SINGLE >> k & 1 == 1 {
                let dep = t.max(free[k]).saturating_add(s[k]);
                free[k] = dep;
                dep
            } else {
                let dep = t.max(deps[k][i]).saturating_add(s[k]);
                deps[k][i + c[k]] = dep;
                dep
            };
            t = dep.saturating_add(post[k]);
        }
        i += 1;
        t
    })
}

/// [`run_fused`] for the single-server pattern of `fixed`.
fn run_fused_any<I: ExactSizeIterator<Item = u64>>(
    fixed: &[FixedCenter],
    arrivals: I,
    stop: Stop,
) -> Option<InOrderRun> {
    let mask = fixed.iter().enumerate().fold(0u8, |m, (k, c)| m | (u8::from(c.servers == 1) << k));
    match (fixed.len(), mask) {
        (1, 0) => run_fused::<1, 0, I>(fixed, arrivals, stop),
        (1, _) => run_fused::<1, 1, I>(fixed, arrivals, stop),
        (2, 0) => run_fused::<2, 0, I>(fixed, arrivals, stop),
        (2, 1) => run_fused::<2, 1, I>(fixed, arrivals, stop),
        (2, 2) => run_fused::<2, 2, I>(fixed, arrivals, stop),
        (2, _) => run_fused::<2, 3, I>(fixed, arrivals, stop),
        (3, 0) => run_fused::<3, 0, I>(fixed, arrivals, stop),
        (3, 1) => run_fused::<3, 1, I>(fixed, arrivals, stop),
        (3, 2) => run_fused::<3, 2, I>(fixed, arrivals, stop),
        (3, 3) => run_fused::<3, 3, I>(fixed, arrivals, stop),
        (3, 4) => run_fused::<3, 4, I>(fixed, arrivals, stop),
        (3, 5) => run_fused::<3, 5, I>(fixed, arrivals, stop),
        (3, 6) => run_fused::<3, 6, I>(fixed, arrivals, stop),
        (3, _) => run_fused::<3, 7, I>(fixed, arrivals, stop),
        _ => unreachable!("at most FUSED_CENTRES centres"),
    }
}

/// Runs `exit` (the time the query arriving at `a` leaves the last centre, called in query order) over every
/// arrival and records the measured latencies.
#[inline(always)]
fn measure(
    mut arrivals: impl ExactSizeIterator<Item = u64>,
    stop: Stop,
    mut exit: impl FnMut(u64) -> u64,
) -> Option<InOrderRun> {
    let n = arrivals.len();
    for a in arrivals.by_ref().take(stop.warmup) {
        exit(a);
    }
    let mut run = InOrderRun {
        latencies_ns: Vec::with_capacity(n.saturating_sub(stop.warmup)),
        first_measured_arrival_ns: 0,
        last_measured_exit_ns: 0,
    };
    let mut exceeded = 0usize;
    let mut first = true;
    for a in arrivals {
        let out = exit(a);
        if first {
            run.first_measured_arrival_ns = a;
            first = false;
        }
        run.last_measured_exit_ns = run.last_measured_exit_ns.max(out);
        let latency = out - a;
        run.latencies_ns.push(latency);
        if latency > stop.exceed_ns {
            exceeded += 1;
            if exceeded >= stop.give_up {
                return None;
            }
        }
    }
    Some(run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::service::ServiceSampler;
    use crate::sim::tandem::{run, CenterService};
    use rand::Rng;

    fn center(rng: &mut Xoshiro256PlusPlus, fixed: bool) -> Center {
        let servers = if rng.random_bool(0.4) { 1 } else { rng.random_range(2..12) };
        let mean = rng.random_range(200.0..3000.0);
        let service = if fixed || servers > 1 {
            ServiceSampler::Fixed(mean as u64)
        } else {
            ServiceSampler::Exp { mean_ns: mean }
        };
        Center { servers, service: CenterService::Single(service), post_ns: rng.random_range(0..50) }
    }

    /// Random in-order pipelines of 1–6 centres (the fused loop, and query by query beyond three centres or
    /// with drawn services), Poisson and listed arrivals, with and without warm-up: the engine's latencies and
    /// measured span, and the early stop.
    #[test]
    fn in_order_runs_equal_the_engine() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        for case in 0..200 {
            let fixed = rng.random_bool(0.7);
            let centers: Vec<Center> = (0..rng.random_range(1..7)).map(|_| center(&mut rng, fixed)).collect();
            assert!(keeps_order(&centers));
            let n = rng.random_range(50..2000);
            let slowest =
                centers.iter().map(|c| c.fixed_ns().unwrap_or(3000) as f64 / f64::from(c.servers)).fold(0.0, f64::max);
            let qps = 1e9 / slowest * rng.random_range(0.3..1.1);
            let arrivals = crate::sim::ArrivalProcess::Poisson { qps }.seeded_arrivals(n, case);
            let arrivals = if rng.random_bool(0.5) { arrivals } else { RunArrivals::Listed(arrivals.into_vec()) };
            let cfg =
                EngineConfig { warmup: rng.random_range(0..30), mini_shift: 0, max_queue_len: u64::MAX, seed: case };
            let times = arrivals.clone().into_vec();
            let engine = run(&centers, &times, &cfg);
            let got = run_in_order(&centers, &arrivals, &cfg, u64::MAX, usize::MAX).expect("whole run");
            assert_eq!(got.latencies_ns, engine.latencies_ns, "case {case}");
            assert_eq!(got.first_measured_arrival_ns, engine.measured_first_arrival_ns, "case {case}");
            assert_eq!(got.last_measured_exit_ns, engine.measured_last_end_ns, "case {case}");
            // Stopping once 10 latencies exceed the median: exactly when the 10th such query is reached.
            let mut sorted = engine.latencies_ns.clone();
            sorted.sort_unstable();
            let median = sorted[sorted.len() / 2];
            let over = engine.latencies_ns.iter().filter(|&&l| l > median).count();
            let early = run_in_order(&centers, &arrivals, &cfg, median, 10);
            assert_eq!(early.is_none(), over >= 10, "case {case}");
        }
    }
}
