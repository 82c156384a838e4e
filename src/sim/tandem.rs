//! The FCFS multi-server tandem engine.
//!
//! Model (as in RecPipe's `RecPipe.py` and `RecPipeAccelSim.py`): a query passes service centres in order. A centre is
//! one pipeline stage, or a group of consecutive stages that share an engine and are sub-batch pipelined
//! ([`super::subbatch`]). Each centre is a single FCFS queue in front of `c` identical servers; after service a query
//! pays a fixed post-service delay (the stage's top-k sort cost and optional emulation overhead, not holding a server)
//! and then joins the next centre.
//!
//! No global event heap is needed. Under FCFS the k-th query to reach a centre starts at
//! `max(arrival_k, earliest server-free time)` (the Kiefer–Wolfowitz recursion), so each centre is processed in
//! one pass over its queries in arrival order, keeping only its servers' next-free times: one scalar for `c = 1`,
//! a ring of the last `c` departures for deterministic service (departures are then in start order), a linear
//! scan for small `c`, and a binary heap otherwise. Between centres queries are re-sorted by arrival time at the
//! next centre when service variability reordered them; simultaneous arrivals are ordered by query id (FIFO
//! tie-break). Times are integer nanoseconds ([`super::time`]).
//!
//! Queue length (queries waiting, not in service) is tracked exactly from the non-decreasing start times; when
//! it passes the configured cap the run stops feeding that centre and reports why.

use super::service::ServiceSampler;
use super::subbatch::makespan_ns;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// What a centre's servers do for one query.
#[derive(Debug, Clone)]
pub enum CenterService {
    /// One stage: one draw.
    Single(ServiceSampler),
    /// Consecutive stages sharing the engine, pipelined in `sub_batches` sub-batches.
    Group {
        /// Per member stage, its service sampler.
        members: Vec<ServiceSampler>,
        /// Per member stage, its sort cost, ns (charged inside the pipeline).
        sort_ns: Vec<u64>,
        /// Sub-batches per query (≥ 1).
        sub_batches: u32,
    },
}

/// One service centre of the tandem.
#[derive(Debug, Clone)]
pub struct Center {
    /// Identical servers (engines) sharing the centre's FCFS queue.
    pub servers: u32,
    /// Service law.
    pub service: CenterService,
    /// Delay after service, ns, not holding a server (sort cost and overhead).
    pub post_ns: u64,
}

impl Center {
    /// The centre's service time when it is the same for every query.
    pub fn fixed_ns(&self) -> Option<u64> {
        match &self.service {
            CenterService::Single(ServiceSampler::Fixed(ns)) => Some(*ns),
            CenterService::Single(_) => None,
            CenterService::Group { members, sort_ns, sub_batches } => {
                let mut stage_ns = Vec::with_capacity(members.len());
                for (m, s) in members.iter().zip(sort_ns) {
                    match m {
                        ServiceSampler::Fixed(ns) => stage_ns.push(ns + s),
                        _ => return None,
                    }
                }
                Some(makespan_ns(&stage_ns, *sub_batches, &mut Vec::new()))
            }
        }
    }
}

/// Engine limits and bookkeeping settings.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    /// Leading query ids excluded from statistics.
    pub warmup: u64,
    /// Log2 of the mini-batch size (statistics are accumulated per mini-batch of measured query ids).
    pub mini_shift: u32,
    /// Largest number of queries allowed to wait at one centre.
    pub max_queue_len: u64,
    /// Seed of the service streams (centre `k` uses the seeded stream jumped `k + 1` times).
    pub seed: u64,
}

/// Per-centre results.
#[derive(Debug, Clone, Default)]
pub struct CenterOutput {
    /// Sum of waiting times (ns) of measured queries, per mini-batch.
    pub wait_sum_ns: Vec<f64>,
    /// Measured queries served, per mini-batch.
    pub count: Vec<u64>,
    /// Sum of service times (ns) of measured queries, per member stage.
    pub member_service_sum_ns: Vec<f64>,
    /// Total busy time over all queries (warm-up included), ns.
    pub busy_ns: f64,
    /// Queries that completed service here (warm-up included).
    pub served: u64,
    /// Longest queue seen (waiting queries, not counting those in service).
    pub max_queue_len: u64,
    /// Latest service completion, ns.
    pub last_departure_ns: u64,
}

/// Raw results of one engine run.
#[derive(Debug, Clone)]
pub struct EngineOutput {
    /// End-to-end latency (ns) per measured query id (`id − warmup`); `u64::MAX` if it did not complete.
    pub latencies_ns: Vec<u64>,
    /// Per centre.
    pub centers: Vec<CenterOutput>,
    /// Why the run stopped early, if it did.
    pub truncated: Option<String>,
    /// The centre whose queue cap stopped the run.
    pub truncated_center: Option<usize>,
    /// Earliest arrival of a measured query, ns.
    pub measured_first_arrival_ns: u64,
    /// Latest completion of a measured query, ns.
    pub measured_last_end_ns: u64,
    /// Query-stage services simulated (a grouped centre counts once per member stage).
    pub query_stages: u64,
}

#[derive(Clone, Copy)]
struct Q {
    t: u64,
    id: u32,
}

impl Q {
    #[inline(always)]
    fn key(&self) -> (u64, u32) {
        (self.t, self.id)
    }
}

/// Sort nearly sorted queries by (time, id): insertion sort while the disorder is small (a multi-server
/// centre reorders only queries that overlap in service), falling back to a full sort when it is not.
fn resort(qs: &mut [Q]) {
    let budget = 32 * qs.len() as u64;
    let mut moves = 0u64;
    for i in 1..qs.len() {
        let cur = qs[i];
        let mut j = i;
        while j > 0 && qs[j - 1].key() > cur.key() {
            qs[j] = qs[j - 1];
            j -= 1;
        }
        qs[j] = cur;
        moves += (i - j) as u64;
        if moves > budget {
            qs.sort_unstable_by_key(Q::key);
            return;
        }
    }
}

pub(super) trait Servers {
    /// Start time of a query arriving at `a` that needs `s` ns; marks the chosen server busy until start + s.
    fn start(&mut self, a: u64, s: u64) -> u64;
}

pub(super) struct One(pub(super) u64);
impl Servers for One {
    #[inline(always)]
    fn start(&mut self, a: u64, s: u64) -> u64 {
        let st = a.max(self.0);
        self.0 = st.saturating_add(s);
        st
    }
}

/// Deterministic service: departures are in start order, so the earliest free server is the one that took
/// the query `c` places earlier.
pub(super) struct Ring {
    pub(super) buf: Vec<u64>,
    pub(super) i: usize,
}
impl Servers for Ring {
    #[inline(always)]
    fn start(&mut self, a: u64, s: u64) -> u64 {
        let st = a.max(self.buf[self.i]);
        self.buf[self.i] = st.saturating_add(s);
        self.i += 1;
        if self.i == self.buf.len() {
            self.i = 0;
        }
        st
    }
}

struct Scan(Vec<u64>);
impl Servers for Scan {
    #[inline(always)]
    fn start(&mut self, a: u64, s: u64) -> u64 {
        let mut best = 0;
        for (i, &v) in self.0.iter().enumerate() {
            if v < self.0[best] {
                best = i;
            }
        }
        let st = a.max(self.0[best]);
        self.0[best] = st.saturating_add(s);
        st
    }
}

struct Heap(BinaryHeap<Reverse<u64>>);
impl Servers for Heap {
    #[inline(always)]
    fn start(&mut self, a: u64, s: u64) -> u64 {
        let mut top = self.0.peek_mut().expect("at least one server");
        let st = a.max(top.0);
        top.0 = st.saturating_add(s);
        st
    }
}

/// Service draws for one centre, with per-member accounting for groups.
pub(super) struct Drawer<'a> {
    pub(super) service: &'a CenterService,
    pub(super) rng: Xoshiro256PlusPlus,
    pub(super) stage_ns: Vec<u64>,
    pub(super) scratch: Vec<u64>,
}

impl Drawer<'_> {
    /// One query's service (ns); `members` receives each member stage's own draw.
    #[inline(always)]
    pub(super) fn draw(&mut self, member_sums: &mut [f64], measured: bool) -> u64 {
        match self.service {
            CenterService::Single(s) => {
                let x = s.draw(&mut self.rng);
                if measured {
                    member_sums[0] += x as f64;
                }
                x
            }
            CenterService::Group { members, sort_ns, sub_batches } => {
                self.stage_ns.clear();
                for (j, (m, s)) in members.iter().zip(sort_ns).enumerate() {
                    let x = m.draw(&mut self.rng);
                    if measured {
                        member_sums[j] += x as f64;
                    }
                    self.stage_ns.push(x + s);
                }
                makespan_ns(&self.stage_ns, *sub_batches, &mut self.scratch)
            }
        }
    }
}

struct Ctx<'a> {
    cfg: &'a EngineConfig,
    /// Start times of the queries still waiting at the current arrival (non-decreasing).
    waiting: &'a mut VecDeque<u64>,
}

/// Serve `qs` (sorted by arrival) at one centre. Returns the number of queries that got through (all unless
/// the queue cap was hit) and whether they leave in (time, id) order; updates `qs[..n].t` to the arrival time
/// at the next centre.
fn serve<S: Servers, const FIXED: bool>(
    servers: &mut S,
    fixed_ns: u64,
    drawer: &mut Drawer<'_>,
    post_ns: u64,
    qs: &mut [Q],
    out: &mut CenterOutput,
    cx: &mut Ctx<'_>,
) -> (usize, bool) {
    let warmup = cx.cfg.warmup;
    let shift = cx.cfg.mini_shift;
    let cap = cx.cfg.max_queue_len;
    let waiting = &mut *cx.waiting;
    waiting.clear();
    let mut busy: u128 = 0;
    let mut max_q = 0u64;
    let mut last_dep = 0u64;
    let mut member_sums = std::mem::take(&mut out.member_service_sum_ns);
    // Running sums for the current mini-batch, flushed when the mini-batch changes (rare in arrival order).
    let mut cur_mb = usize::MAX;
    let mut acc_wait: u128 = 0;
    let mut acc_n: u64 = 0;
    let mut measured_fixed: u64 = 0;
    let mut done = qs.len();
    let mut in_order = true;
    let mut prev_key = (0u64, 0u32);
    for (pos, slot) in qs.iter_mut().enumerate() {
        let q = *slot;
        let a = q.t;
        while waiting.front().is_some_and(|&st| st <= a) {
            waiting.pop_front();
        }
        let queued = waiting.len() as u64;
        if queued > max_q {
            max_q = queued;
            if queued > cap {
                done = pos;
                break;
            }
        }
        let measured = u64::from(q.id) >= warmup;
        let s = if FIXED {
            measured_fixed += u64::from(measured);
            fixed_ns
        } else {
            drawer.draw(&mut member_sums, measured)
        };
        let st = servers.start(a, s);
        if st > a {
            waiting.push_back(st);
        }
        let dep = st.saturating_add(s);
        busy += u128::from(s);
        last_dep = last_dep.max(dep);
        if measured {
            let mb = ((u64::from(q.id) - warmup) >> shift) as usize;
            if mb != cur_mb {
                if acc_n > 0 {
                    out.wait_sum_ns[cur_mb] += acc_wait as f64;
                    out.count[cur_mb] += acc_n;
                }
                cur_mb = mb;
                acc_wait = 0;
                acc_n = 0;
            }
            acc_wait += u128::from(st - a);
            acc_n += 1;
        }
        let next = dep.saturating_add(post_ns);
        slot.t = next;
        in_order &= (next, q.id) >= prev_key;
        prev_key = (next, q.id);
    }
    if acc_n > 0 {
        out.wait_sum_ns[cur_mb] += acc_wait as f64;
        out.count[cur_mb] += acc_n;
    }
    if FIXED {
        member_sums[0] += fixed_ns as f64 * measured_fixed as f64;
    }
    out.member_service_sum_ns = member_sums;
    out.busy_ns += busy as f64;
    out.served += done as u64;
    out.max_queue_len = out.max_queue_len.max(max_q);
    out.last_departure_ns = out.last_departure_ns.max(last_dep);
    (done, in_order)
}

/// Run the tandem on the given arrival instants (non-decreasing, ns). Query ids are arrival indices.
pub fn run(centers: &[Center], arrivals_ns: &[u64], cfg: &EngineConfig) -> EngineOutput {
    let n = arrivals_ns.len();
    let measured_n = n.saturating_sub(cfg.warmup as usize);
    let minis = measured_n.div_ceil(1usize << cfg.mini_shift).max(1);
    let mut qs: Vec<Q> = arrivals_ns.iter().enumerate().map(|(i, &t)| Q { t, id: i as u32 }).collect();
    if qs.windows(2).any(|w| w[0].t > w[1].t) {
        qs.sort_by_key(Q::key);
    }
    let mut waiting = VecDeque::new();
    let mut outs = Vec::with_capacity(centers.len());
    let mut truncated = None;
    let mut truncated_center = None;
    let mut query_stages = 0u64;
    let mut stream = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
    for (k, c) in centers.iter().enumerate() {
        stream.jump();
        let members = match &c.service {
            CenterService::Single(_) => 1,
            CenterService::Group { members, .. } => members.len(),
        };
        let mut out = CenterOutput {
            wait_sum_ns: vec![0.0; minis],
            count: vec![0; minis],
            member_service_sum_ns: vec![0.0; members],
            ..Default::default()
        };
        let mut drawer = Drawer { service: &c.service, rng: stream.clone(), stage_ns: Vec::new(), scratch: Vec::new() };
        let mut cx = Ctx { cfg, waiting: &mut waiting };
        let fixed = c.fixed_ns();
        let servers = c.servers.max(1) as usize;
        let post = c.post_ns;
        let (done, in_order) = match (fixed, servers) {
            (Some(f), 1) if members == 1 => {
                serve::<_, true>(&mut One(0), f, &mut drawer, post, &mut qs, &mut out, &mut cx)
            }
            (Some(f), _) if members == 1 => serve::<_, true>(
                &mut Ring { buf: vec![0; servers], i: 0 },
                f,
                &mut drawer,
                post,
                &mut qs,
                &mut out,
                &mut cx,
            ),
            (Some(f), 1) => {
                // A deterministic group: treat its makespan as a single fixed service, members accounted after.
                let d = serve::<_, true>(&mut One(0), f, &mut drawer, post, &mut qs, &mut out, &mut cx);
                fixed_group_members(c, &mut out);
                d
            }
            (Some(f), _) => {
                let d = serve::<_, true>(
                    &mut Ring { buf: vec![0; servers], i: 0 },
                    f,
                    &mut drawer,
                    post,
                    &mut qs,
                    &mut out,
                    &mut cx,
                );
                fixed_group_members(c, &mut out);
                d
            }
            (None, 1) => serve::<_, false>(&mut One(0), 0, &mut drawer, post, &mut qs, &mut out, &mut cx),
            (None, 2..=16) => {
                serve::<_, false>(&mut Scan(vec![0; servers]), 0, &mut drawer, post, &mut qs, &mut out, &mut cx)
            }
            (None, _) => {
                let heap = BinaryHeap::from(vec![Reverse(0u64); servers]);
                serve::<_, false>(&mut Heap(heap), 0, &mut drawer, post, &mut qs, &mut out, &mut cx)
            }
        };
        query_stages += done as u64 * members as u64;
        if done < qs.len() {
            let at = qs[done].t;
            truncated = Some(format!(
                "more than {} queries waiting at t = {:.3} ms; the run stopped feeding it after {done} of {} queries",
                cfg.max_queue_len,
                at as f64 / 1e6,
                qs.len()
            ));
            truncated_center = Some(k);
            qs.truncate(done);
        }
        outs.push(out);
        // Re-sort by arrival at the next centre if service variability reordered the queries.
        if !in_order {
            resort(&mut qs);
        }
    }
    let mut latencies_ns = vec![u64::MAX; measured_n];
    let mut first = u64::MAX;
    let mut last = 0u64;
    for q in &qs {
        if u64::from(q.id) >= cfg.warmup {
            let t0 = arrivals_ns[q.id as usize];
            latencies_ns[(u64::from(q.id) - cfg.warmup) as usize] = q.t - t0;
            first = first.min(t0);
            last = last.max(q.t);
        }
    }
    EngineOutput {
        latencies_ns,
        centers: outs,
        truncated,
        truncated_center,
        measured_first_arrival_ns: if first == u64::MAX { 0 } else { first },
        measured_last_end_ns: last,
        query_stages,
    }
}

/// For a deterministic group the fixed path booked the whole makespan on member 0; book each member's own
/// service instead.
fn fixed_group_members(c: &Center, out: &mut CenterOutput) {
    if let CenterService::Group { members, .. } = &c.service {
        let measured: u64 = out.count.iter().sum();
        for (j, m) in members.iter().enumerate() {
            if let ServiceSampler::Fixed(ns) = m {
                out.member_service_sum_ns[j] = *ns as f64 * measured as f64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> EngineConfig {
        EngineConfig { warmup: 0, mini_shift: 0, max_queue_len: u64::MAX, seed: 1 }
    }

    fn fixed(servers: u32, ns: u64, post: u64) -> Center {
        Center { servers, service: CenterService::Single(ServiceSampler::Fixed(ns)), post_ns: post }
    }

    #[test]
    fn single_server_by_hand() {
        // Arrivals 0, 1, 2, 10; service 3; post 1.
        let out = run(&[fixed(1, 3, 1)], &[0, 1, 2, 10], &cfg());
        // Starts 0, 3, 6, 10 → ends 3, 6, 9, 13 → +1 post → latencies 4, 6, 8, 4.
        assert_eq!(out.latencies_ns, vec![4, 6, 8, 4]);
        assert_eq!(out.centers[0].wait_sum_ns.iter().sum::<f64>() as u64, 2 + 4);
        assert_eq!(out.centers[0].max_queue_len, 1);
    }

    #[test]
    fn ring_scan_and_heap_agree_for_fixed_service() {
        let arrivals: Vec<u64> = (0..500u64).map(|i| i * 7 + (i % 5)).collect();
        let a = run(&[fixed(3, 20, 0), fixed(2, 13, 2)], &arrivals, &cfg());
        // The same deterministic service through the generic paths (an empirical one-value table).
        let gen = |servers: u32, ns: u64, post: u64| Center {
            servers,
            service: CenterService::Single(ServiceSampler::Table(vec![ns])),
            post_ns: post,
        };
        let b = run(&[gen(3, 20, 0), gen(2, 13, 2)], &arrivals, &cfg());
        assert_eq!(a.latencies_ns, b.latencies_ns);
        let c = run(&[gen(20, 200, 0)], &arrivals, &cfg());
        let d = run(&[fixed(20, 200, 0)], &arrivals, &cfg());
        assert_eq!(c.latencies_ns, d.latencies_ns);
    }

    /// An independent event-list simulation (explicit queues, a time-ordered event heap) to check the
    /// one-pass recursion, including reordering between multi-server centres.
    fn brute_force(centers: &[Center], arrivals: &[u64], seed: u64) -> Vec<u64> {
        use std::collections::VecDeque;
        // Event: (time, kind (0 = departure, 1 = arrival), query id, centre).
        let mut heap: BinaryHeap<Reverse<(u64, u8, u32, usize)>> = BinaryHeap::new();
        for (i, &t) in arrivals.iter().enumerate() {
            heap.push(Reverse((t, 1, i as u32, 0)));
        }
        let mut stream = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut rngs = Vec::new();
        for _ in centers {
            stream.jump();
            rngs.push(stream.clone());
        }
        let mut free: Vec<u32> = centers.iter().map(|c| c.servers).collect();
        let mut queues: Vec<VecDeque<u32>> = vec![VecDeque::new(); centers.len()];
        let mut lat = vec![0u64; arrivals.len()];
        let draw = |k: usize, rngs: &mut Vec<Xoshiro256PlusPlus>| match &centers[k].service {
            CenterService::Single(s) => s.draw(&mut rngs[k]),
            CenterService::Group { members, sort_ns, sub_batches } => {
                let times: Vec<u64> = members.iter().zip(sort_ns).map(|(m, s)| m.draw(&mut rngs[k]) + s).collect();
                makespan_ns(&times, *sub_batches, &mut Vec::new())
            }
        };
        while let Some(Reverse((t, kind, id, k))) = heap.pop() {
            if kind == 1 {
                if k == centers.len() {
                    lat[id as usize] = t - arrivals[id as usize];
                    continue;
                }
                if free[k] > 0 {
                    free[k] -= 1;
                    let s = draw(k, &mut rngs);
                    heap.push(Reverse((t + s, 0, id, k)));
                } else {
                    queues[k].push_back(id);
                }
            } else {
                heap.push(Reverse((t + centers[k].post_ns, 1, id, k + 1)));
                if let Some(next) = queues[k].pop_front() {
                    let s = draw(k, &mut rngs);
                    heap.push(Reverse((t + s, 0, next, k)));
                } else {
                    free[k] += 1;
                }
            }
        }
        lat
    }

    #[test]
    fn matches_an_event_list_simulation_with_reordering() {
        let exp = |servers: u32, mean_ns: f64, post: u64| Center {
            servers,
            service: CenterService::Single(ServiceSampler::Exp { mean_ns }),
            post_ns: post,
        };
        let centers = [exp(2, 1900.0, 5), exp(3, 2500.0, 0), exp(1, 700.0, 11), exp(20, 15_000.0, 0)];
        let arrivals: Vec<u64> = (0..3000u64).map(|i| i * 1000 + (i * 7919 % 13) * 37).collect();
        let out = run(&centers, &arrivals, &cfg());
        assert_eq!(out.latencies_ns, brute_force(&centers, &arrivals, cfg().seed));
        assert_eq!(out.query_stages, 4 * 3000);
        // A sub-batch group of two random stages on three shared engines, between single stages.
        let group = Center {
            servers: 3,
            service: CenterService::Group {
                members: vec![ServiceSampler::Exp { mean_ns: 1500.0 }, ServiceSampler::Table(vec![300, 2600, 900])],
                sort_ns: vec![40, 7],
                sub_batches: 4,
            },
            post_ns: 3,
        };
        let centers = [exp(2, 1200.0, 5), group, exp(1, 600.0, 0)];
        let out = run(&centers, &arrivals, &cfg());
        assert_eq!(out.latencies_ns, brute_force(&centers, &arrivals, cfg().seed));
        assert_eq!(out.query_stages, 4 * 3000);
    }

    #[test]
    fn queue_cap_stops_the_run_with_a_message() {
        let arrivals: Vec<u64> = (0..10_000u64).collect();
        let mut c = cfg();
        c.max_queue_len = 100;
        let out = run(&[fixed(1, 10, 0)], &arrivals, &c);
        let msg = out.truncated.expect("cap hit");
        assert!(msg.contains("more than 100 queries waiting"), "{msg}");
        assert!(out.latencies_ns.iter().filter(|&&l| l != u64::MAX).count() < 200);
    }
}
