//! The metric vocabulary of objectives and constraints, with units in the names.
//!
//! Quality metrics are computed on the final stage's ranking of a query: `ndcg@K` (standard NDCG with the
//! ideal ordering of the query's own labels), `recpipe_ndcg@K` (RecPipe's position-discounted precision,
//! `utils.ndcg_score` in its artifact), `hr@K` (hit rate), `auc`. Latency metrics are end-to-end per query at the
//! design point's reference load; `capacity_qps` is the largest offered load meeting the SLA.

use serde::Serialize;
use std::fmt;

/// A metric an objective or constraint can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Metric {
    /// Standard NDCG at cut-off K.
    Ndcg(u32),
    /// RecPipe's NDCG at cut-off K (normalised by an all-relevant ideal).
    RecpipeNdcg(u32),
    /// Hit rate at cut-off K.
    HitRate(u32),
    /// Mean end-to-end latency, ms.
    MeanMs,
    /// Median end-to-end latency, ms.
    P50Ms,
    /// 95th-percentile end-to-end latency, ms.
    P95Ms,
    /// 99th-percentile end-to-end latency, ms.
    P99Ms,
    /// Largest offered load (queries/s) whose SLA percentile meets the SLA target.
    CapacityQps,
    /// Accelerator silicon area, mm².
    AreaMm2,
    /// Accelerator power, W.
    PowerW,
    /// Accelerator energy per query, J.
    EnergyJPerQuery,
    /// Capacity per watt, queries/s/W.
    QpsPerW,
    /// Capacity per mm², queries/s/mm².
    QpsPerMm2,
}

/// The names accepted in specs, for error messages.
pub const METRIC_SYNTAX: &str = "ndcg@K, recpipe_ndcg@K, hr@K, mean_ms, p50_ms, p95_ms, p99_ms, capacity_qps, \
area_mm2, power_w, energy_j_per_query, qps_per_w, qps_per_mm2";

impl Metric {
    /// Parse a metric name such as `ndcg@64` or `p95_ms`.
    pub fn parse(text: &str) -> Option<Metric> {
        let at_k = |prefix: &str| -> Option<u32> {
            let k: u32 = text.strip_prefix(prefix)?.parse().ok()?;
            (k >= 1).then_some(k)
        };
        if let Some(k) = at_k("ndcg@") {
            return Some(Metric::Ndcg(k));
        }
        if let Some(k) = at_k("recpipe_ndcg@") {
            return Some(Metric::RecpipeNdcg(k));
        }
        if let Some(k) = at_k("hr@") {
            return Some(Metric::HitRate(k));
        }
        Some(match text {
            "mean_ms" => Metric::MeanMs,
            "p50_ms" => Metric::P50Ms,
            "p95_ms" => Metric::P95Ms,
            "p99_ms" => Metric::P99Ms,
            "capacity_qps" => Metric::CapacityQps,
            "area_mm2" => Metric::AreaMm2,
            "power_w" => Metric::PowerW,
            "energy_j_per_query" => Metric::EnergyJPerQuery,
            "qps_per_w" => Metric::QpsPerW,
            "qps_per_mm2" => Metric::QpsPerMm2,
            _ => return None,
        })
    }

    /// The cut-off K of a quality metric.
    pub fn cutoff(self) -> Option<u32> {
        match self {
            Metric::Ndcg(k) | Metric::RecpipeNdcg(k) | Metric::HitRate(k) => Some(k),
            _ => None,
        }
    }

    /// Whether the metric only exists for designs with accelerator stages.
    pub fn accelerator_only(self) -> bool {
        matches!(self, Metric::AreaMm2 | Metric::PowerW | Metric::EnergyJPerQuery | Metric::QpsPerW | Metric::QpsPerMm2)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Ndcg(k) => write!(f, "ndcg@{k}"),
            Metric::RecpipeNdcg(k) => write!(f, "recpipe_ndcg@{k}"),
            Metric::HitRate(k) => write!(f, "hr@{k}"),
            Metric::MeanMs => f.write_str("mean_ms"),
            Metric::P50Ms => f.write_str("p50_ms"),
            Metric::P95Ms => f.write_str("p95_ms"),
            Metric::P99Ms => f.write_str("p99_ms"),
            Metric::CapacityQps => f.write_str("capacity_qps"),
            Metric::AreaMm2 => f.write_str("area_mm2"),
            Metric::PowerW => f.write_str("power_w"),
            Metric::EnergyJPerQuery => f.write_str("energy_j_per_query"),
            Metric::QpsPerW => f.write_str("qps_per_w"),
            Metric::QpsPerMm2 => f.write_str("qps_per_mm2"),
        }
    }
}

/// Optimisation direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Larger is better.
    Maximize,
    /// Smaller is better.
    Minimize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ["ndcg@64", "recpipe_ndcg@8", "hr@10", "p95_ms", "capacity_qps", "energy_j_per_query"] {
            assert_eq!(Metric::parse(name).map(|m| m.to_string()).as_deref(), Some(name));
        }
        assert_eq!(Metric::parse("ndcg@0"), None);
        assert_eq!(Metric::parse("ndcg@x"), None);
        assert_eq!(Metric::parse("p97_ms"), None);
    }
}
