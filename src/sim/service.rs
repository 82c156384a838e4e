//! Per-stage service-time distributions.
//!
//! A stage's engine is busy for one draw per query. Supported laws (all parameters in milliseconds):
//! * `Deterministic` — the same time for every query; this is what the RPAccel cost model gives
//!   (it is deterministic, so RecPipe's accelerator runs gave every query the same per-stage times);
//! * `Empirical` — a measured latency sample, resampled uniformly with replacement from the seeded stream;
//! * `Exponential` and `LogNormal` (given its mean and coefficient of variation) — for validation against
//!   queueing theory and for sensitivity studies.
//!
//! Draws are rounded to whole nanoseconds ([`super::time`]).

use super::time::ns_from_ms;
use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;
use std::sync::Arc;

/// Largest single draw, ns (draws of unbounded laws are clipped here so that sums of times cannot overflow).
pub const MAX_DRAW_NS: f64 = 1.0e16;

/// A service-time distribution.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ServiceDist {
    /// Always `ms` milliseconds.
    Deterministic {
        /// Service time, ms.
        ms: f64,
    },
    /// Exponential with mean `mean_ms`.
    Exponential {
        /// Mean, ms.
        mean_ms: f64,
    },
    /// Log-normal with mean `mean_ms` and coefficient of variation `cv` (standard deviation / mean).
    LogNormal {
        /// Mean, ms.
        mean_ms: f64,
        /// Coefficient of variation (> 0).
        cv: f64,
    },
    /// Uniform resampling of a measured sample.
    Empirical {
        /// The sample, ms (non-empty, each ≥ 0).
        #[serde(serialize_with = "serialize_samples")]
        samples_ms: Arc<Vec<f64>>,
    },
}

fn serialize_samples<S: serde::Serializer>(v: &Arc<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(v.as_slice(), s)
}

impl ServiceDist {
    /// Mean service time, ms.
    pub fn mean_ms(&self) -> f64 {
        match self {
            ServiceDist::Deterministic { ms } => *ms,
            ServiceDist::Exponential { mean_ms } | ServiceDist::LogNormal { mean_ms, .. } => *mean_ms,
            ServiceDist::Empirical { samples_ms } => samples_ms.iter().sum::<f64>() / samples_ms.len().max(1) as f64,
        }
    }

    /// The constant service time in ns when the law is deterministic.
    pub fn deterministic_ns(&self) -> Option<u64> {
        match self {
            ServiceDist::Deterministic { ms } => Some(ns_from_ms(*ms)),
            _ => None,
        }
    }

    /// A sampler producing nanosecond draws.
    pub fn sampler(&self) -> ServiceSampler {
        match self {
            ServiceDist::Deterministic { ms } => ServiceSampler::Fixed(ns_from_ms(*ms)),
            ServiceDist::Exponential { mean_ms } => ServiceSampler::Exp { mean_ns: mean_ms * 1e6 },
            ServiceDist::LogNormal { mean_ms, cv } => {
                let sigma2 = (1.0 + cv * cv).ln();
                let mu = (mean_ms * 1e6).ln() - sigma2 / 2.0;
                ServiceSampler::LogNormal { mu, sigma: sigma2.sqrt() }
            }
            ServiceDist::Empirical { samples_ms } => {
                ServiceSampler::Table(samples_ms.iter().map(|&x| ns_from_ms(x)).collect())
            }
        }
    }
}

/// A prepared sampler drawing service times in nanoseconds.
#[derive(Debug, Clone)]
pub enum ServiceSampler {
    /// A constant.
    Fixed(u64),
    /// Exponential with the given mean, ns.
    Exp {
        /// Mean, ns.
        mean_ns: f64,
    },
    /// exp(N(mu, sigma²)) in ns.
    LogNormal {
        /// Location of the underlying normal (ln ns).
        mu: f64,
        /// Scale of the underlying normal.
        sigma: f64,
    },
    /// Uniform choice from a table of ns values.
    Table(Vec<u64>),
}

impl ServiceSampler {
    /// One draw, ns.
    #[inline]
    pub fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        match self {
            ServiceSampler::Fixed(ns) => *ns,
            ServiceSampler::Exp { mean_ns } => {
                let e: f64 = Exp1.sample(rng);
                (e * mean_ns + 0.5).min(MAX_DRAW_NS) as u64
            }
            ServiceSampler::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                ((mu + sigma * z).exp() + 0.5).min(MAX_DRAW_NS) as u64
            }
            ServiceSampler::Table(t) => t[rng.random_range(0..t.len())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn sample_mean(d: &ServiceDist, n: usize) -> f64 {
        let s = d.sampler();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        (0..n).map(|_| s.draw(&mut rng) as f64).sum::<f64>() / n as f64 / 1e6
    }

    #[test]
    fn means_match() {
        let det = ServiceDist::Deterministic { ms: 0.837132 };
        assert_eq!(det.deterministic_ns(), Some(837_132));
        assert!((sample_mean(&det, 10) - 0.837132).abs() < 1e-12);
        let exp = ServiceDist::Exponential { mean_ms: 2.0 };
        assert!((sample_mean(&exp, 200_000) / 2.0 - 1.0).abs() < 0.01);
        let ln = ServiceDist::LogNormal { mean_ms: 1.5, cv: 0.5 };
        assert!((sample_mean(&ln, 200_000) / 1.5 - 1.0).abs() < 0.01);
        let emp = ServiceDist::Empirical { samples_ms: Arc::new(vec![1.0, 2.0, 6.0]) };
        assert!((emp.mean_ms() - 3.0).abs() < 1e-12);
        assert!((sample_mean(&emp, 300_000) / 3.0 - 1.0).abs() < 0.01);
        assert_eq!(emp.deterministic_ns(), None);
    }
}
