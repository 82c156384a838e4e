//! Arrival processes of the load generator.
//!
//! * `Poisson { qps }` — a true Poisson process: independent exponential gaps with mean `1000/qps` ms.
//! * `LegacyMs { mean_gap_ms }` — RecPipe's generator (`np.random.poisson(lam=arrival_rate)`): gaps are
//!   Poisson-distributed **integers** of milliseconds with mean λ = `mean_gap_ms` (so the variance is λ ms²,
//!   and for λ = 0.5 about 61% of gaps are 0). The offered rate is `1000/λ` queries/s. The distribution is the
//!   reference's; the random stream is this crate's own seeded generator, not numpy's.
//! * `Trace { times_ns }` — replayed arrival instants (non-decreasing), e.g. from a production log.
//!
//! The first query arrives at time 0 for the generated processes (as the reference enqueues its first query
//! before the first sleep); a trace is replayed relative to its first instant.
//!
//! A run's arrivals come from a fresh generator seeded with the run's seed ([`ArrivalProcess::generate_seeded`]).
//! Poisson gaps are unit-mean exponential draws scaled by the mean gap, so every Poisson run with one seed
//! and length draws the same unit gaps at every load: they are drawn once and shared ([`unit_gaps`], a small
//! process-wide cache), which gives bit-identical arrivals without redrawing them for each design point and
//! load.

use super::time::ns_from_ms;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp1, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;
use std::sync::{Arc, Mutex, OnceLock};

/// Runs whose unit gaps stay cached (one explore uses one seed, at one or a few run lengths).
const CACHED_STREAMS: usize = 8;

/// The first `n` unit-mean exponential draws of `Xoshiro256PlusPlus::seed_from_u64(seed)`, shared between
/// the runs that need them.
pub fn unit_gaps(seed: u64, n: usize) -> Arc<Vec<f64>> {
    type Streams = Mutex<Vec<(u64, usize, Arc<Vec<f64>>)>>;
    static CACHE: OnceLock<Streams> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let hit = cache.lock().expect("gap cache").iter().find(|(s, m, _)| *s == seed && *m == n).map(|e| Arc::clone(&e.2));
    if let Some(gaps) = hit {
        return gaps;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let gaps: Arc<Vec<f64>> = Arc::new((0..n).map(|_| Exp1.sample(&mut rng)).collect());
    let mut streams = cache.lock().expect("gap cache");
    if streams.len() >= CACHED_STREAMS {
        streams.remove(0);
    }
    streams.push((seed, n, Arc::clone(&gaps)));
    gaps
}

/// How queries arrive.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "process", rename_all = "kebab-case")]
pub enum ArrivalProcess {
    /// Exponential inter-arrival gaps at `qps` queries per second.
    Poisson {
        /// Offered load, queries/s (> 0).
        qps: f64,
    },
    /// Integer-millisecond Poisson gaps with mean `mean_gap_ms` (RecPipe's `arrival_rate`).
    LegacyMs {
        /// Mean gap λ, ms (> 0).
        mean_gap_ms: f64,
    },
    /// Replayed arrival instants, ns, non-decreasing, at least two.
    Trace {
        /// Arrival instants, ns.
        #[serde(skip)]
        times_ns: Arc<Vec<u64>>,
        /// Time-compression factor applied on replay (1 = as recorded; 2 = twice the rate).
        speedup: f64,
    },
}

impl ArrivalProcess {
    /// Offered load in queries per second (for a trace: its mean rate after speed-up).
    pub fn offered_qps(&self) -> f64 {
        match self {
            ArrivalProcess::Poisson { qps } => *qps,
            ArrivalProcess::LegacyMs { mean_gap_ms } => 1000.0 / mean_gap_ms,
            ArrivalProcess::Trace { times_ns, speedup } => {
                let n = times_ns.len();
                let span_ns = times_ns.last().copied().unwrap_or(0) - times_ns.first().copied().unwrap_or(0);
                if n < 2 || span_ns == 0 {
                    f64::INFINITY
                } else {
                    (n - 1) as f64 / (span_ns as f64 / 1e9) * speedup
                }
            }
        }
    }

    /// The same kind of process at offered load `qps` (a trace is replayed faster or slower).
    pub fn with_qps(&self, qps: f64) -> ArrivalProcess {
        match self {
            ArrivalProcess::Poisson { .. } => ArrivalProcess::Poisson { qps },
            ArrivalProcess::LegacyMs { .. } => ArrivalProcess::LegacyMs { mean_gap_ms: 1000.0 / qps },
            ArrivalProcess::Trace { times_ns, speedup } => {
                let base = self.offered_qps() / speedup;
                ArrivalProcess::Trace { times_ns: times_ns.clone(), speedup: qps / base }
            }
        }
    }

    /// Most queries this process can supply (`None` = unbounded).
    pub fn max_queries(&self) -> Option<u64> {
        match self {
            ArrivalProcess::Trace { times_ns, .. } => Some(times_ns.len() as u64),
            _ => None,
        }
    }

    /// Arrival instants (ns) of the first `n` queries, drawn from `rng`.
    ///
    /// For a trace, `n` is capped at its length.
    pub fn generate(&self, n: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<u64> {
        if let ArrivalProcess::Poisson { qps } = self {
            let gaps: Vec<f64> = (0..n).map(|_| Exp1.sample(rng)).collect();
            return poisson_instants(*qps, &gaps);
        }
        let mut out = Vec::with_capacity(n);
        match self {
            ArrivalProcess::Poisson { .. } => unreachable!("handled above"),
            ArrivalProcess::LegacyMs { mean_gap_ms } => {
                let pois = Poisson::new(*mean_gap_ms).expect("validated: mean gap > 0 and finite");
                let mut t = 0u64;
                for _ in 0..n {
                    out.push(t);
                    let k: f64 = pois.sample(rng);
                    t += ns_from_ms(k);
                }
            }
            ArrivalProcess::Trace { times_ns, speedup } => {
                let t0 = times_ns.first().copied().unwrap_or(0);
                for &t in times_ns.iter().take(n) {
                    let rel = (t - t0) as f64 / speedup;
                    out.push((rel + 0.5) as u64);
                }
            }
        }
        out
    }
}

impl ArrivalProcess {
    /// The first `n` arrival instants (ns) of a generator seeded with `seed`: [`Self::generate`] on
    /// `Xoshiro256PlusPlus::seed_from_u64(seed)`, with Poisson gaps taken from [`unit_gaps`].
    pub fn generate_seeded(&self, n: usize, seed: u64) -> Vec<u64> {
        self.seeded_arrivals(n, seed).into_vec()
    }

    /// [`Self::generate_seeded`]'s instants, Poisson ones left to be computed as a run consumes them.
    pub fn seeded_arrivals(&self, n: usize, seed: u64) -> RunArrivals {
        match self {
            ArrivalProcess::Poisson { qps } => RunArrivals::Poisson { qps: *qps, unit_gaps: unit_gaps(seed, n) },
            _ => RunArrivals::Listed(self.generate(n, &mut Xoshiro256PlusPlus::seed_from_u64(seed))),
        }
    }
}

/// Arrival instants (ns) of a Poisson process at `qps` from unit-mean exponential gaps ([`PoissonInstants`]).
fn poisson_instants(qps: f64, unit_gaps: &[f64]) -> Vec<u64> {
    PoissonInstants::new(qps, unit_gaps).collect()
}

/// Poisson arrival instants (ns) computed one by one from unit-mean exponential gaps: the first at 0, then
/// each gap scaled by the mean gap, accumulated in f64 ns and rounded per instant (so rounding errors do not
/// build up). Non-decreasing by construction (gaps are ≥ 0 and rounding is monotone).
#[derive(Debug, Clone)]
pub struct PoissonInstants<'a> {
    gaps: std::slice::Iter<'a, f64>,
    mean_ns: f64,
    t: f64,
}

impl<'a> PoissonInstants<'a> {
    /// The instants of a process at `qps` queries/s driven by `unit_gaps`.
    pub fn new(qps: f64, unit_gaps: &'a [f64]) -> Self {
        PoissonInstants { gaps: unit_gaps.iter(), mean_ns: 1e9 / qps, t: 0.0 }
    }
}

impl Iterator for PoissonInstants<'_> {
    type Item = u64;

    #[inline(always)]
    fn next(&mut self) -> Option<u64> {
        let e = self.gaps.next()?;
        let at = (self.t + 0.5) as u64;
        self.t += e * self.mean_ns;
        Some(at)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.gaps.size_hint()
    }
}

impl ExactSizeIterator for PoissonInstants<'_> {}

/// A run's arrival instants as [`ArrivalProcess::seeded_arrivals`] gives them: Poisson instants left to be
/// computed while the run consumes them ([`PoissonInstants`]), or a list.
#[derive(Debug, Clone)]
pub enum RunArrivals {
    /// A Poisson process at `qps` driven by shared unit gaps ([`unit_gaps`]).
    Poisson {
        /// Offered load, queries/s.
        qps: f64,
        /// Unit-mean exponential gaps, one per query.
        unit_gaps: Arc<Vec<f64>>,
    },
    /// Instants computed up front, ns.
    Listed(Vec<u64>),
}

impl RunArrivals {
    /// Whether the instants never decrease (always so for Poisson).
    pub fn non_decreasing(&self) -> bool {
        match self {
            RunArrivals::Poisson { .. } => true,
            RunArrivals::Listed(v) => v.windows(2).all(|w| w[0] <= w[1]),
        }
    }

    /// The instants, ns.
    pub fn into_vec(self) -> Vec<u64> {
        match self {
            RunArrivals::Poisson { qps, unit_gaps } => poisson_instants(qps, &unit_gaps),
            RunArrivals::Listed(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn shared_unit_gaps_give_the_arrivals_of_a_fresh_generator() {
        for qps in [66.7, 400.0, 2000.0] {
            let p = ArrivalProcess::Poisson { qps };
            let fresh = p.generate(5000, &mut Xoshiro256PlusPlus::seed_from_u64(123));
            assert_eq!(p.generate_seeded(5000, 123), fresh);
            assert_eq!(p.generate_seeded(5000, 123), fresh, "from the cache");
        }
        let legacy = ArrivalProcess::LegacyMs { mean_gap_ms: 2.0 };
        assert_eq!(legacy.generate_seeded(100, 9), legacy.generate(100, &mut Xoshiro256PlusPlus::seed_from_u64(9)));
    }

    #[test]
    fn legacy_ms_gaps_are_integer_ms_with_poisson_moments() {
        let p = ArrivalProcess::LegacyMs { mean_gap_ms: 0.5 };
        assert!((p.offered_qps() - 2000.0).abs() < 1e-9);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(123);
        let t = p.generate(200_001, &mut rng);
        assert_eq!(t[0], 0);
        let gaps: Vec<u64> = t.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| g % 1_000_000 == 0));
        let zero = gaps.iter().filter(|&&g| g == 0).count() as f64 / gaps.len() as f64;
        // P(0) = e^{-0.5} = 0.6065.
        assert!((zero - 0.6065).abs() < 0.005, "{zero}");
        let mean = gaps.iter().map(|&g| g as f64 / 1e6).sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|&g| (g as f64 / 1e6 - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!((mean - 0.5).abs() < 0.01 && (var - 0.5).abs() < 0.02, "{mean} {var}");
    }

    #[test]
    fn poisson_and_trace_rates() {
        let p = ArrivalProcess::Poisson { qps: 1000.0 };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let t = p.generate(100_001, &mut rng);
        let mean_gap_ms = *t.last().unwrap() as f64 / 1e6 / 100_000.0;
        assert!((mean_gap_ms - 1.0).abs() < 0.02);
        let tr = ArrivalProcess::Trace { times_ns: Arc::new(vec![5, 1_000_005, 2_000_005]), speedup: 1.0 };
        assert!((tr.offered_qps() - 1000.0).abs() < 1e-9);
        let fast = tr.with_qps(2000.0);
        assert!((fast.offered_qps() - 2000.0).abs() < 1e-9);
        assert_eq!(fast.generate(10, &mut rng), vec![0, 500_000, 1_000_000]);
        assert_eq!(tr.max_queries(), Some(3));
        let lm = ArrivalProcess::LegacyMs { mean_gap_ms: 2.0 }.with_qps(250.0);
        assert_eq!(lm, ArrivalProcess::LegacyMs { mean_gap_ms: 4.0 });
    }
}
