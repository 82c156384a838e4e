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
    /// Completed queries per second at the offered load (below the load when queries are dropped).
    ThroughputQps,
    /// Offered load (queries/s) at which the pipeline's utilisation reaches 1 (the capacity search's upper
    /// bound).
    SaturationQps,
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

/// The metrics without a cut-off, by name; the one list behind [`Metric::parse`], `Display` and
/// [`metric_syntax`].
const PLAIN: &[(&str, Metric)] = &[
    ("mean_ms", Metric::MeanMs),
    ("p50_ms", Metric::P50Ms),
    ("p95_ms", Metric::P95Ms),
    ("p99_ms", Metric::P99Ms),
    ("throughput_qps", Metric::ThroughputQps),
    ("saturation_qps", Metric::SaturationQps),
    ("capacity_qps", Metric::CapacityQps),
    ("area_mm2", Metric::AreaMm2),
    ("power_w", Metric::PowerW),
    ("energy_j_per_query", Metric::EnergyJPerQuery),
    ("qps_per_w", Metric::QpsPerW),
    ("qps_per_mm2", Metric::QpsPerMm2),
];

/// Builds a quality metric from its cut-off K.
type AtK = fn(u32) -> Metric;

/// The quality metrics with a cut-off K, by name prefix.
const AT_K: &[(&str, AtK)] =
    &[("ndcg@", Metric::Ndcg), ("recpipe_ndcg@", Metric::RecpipeNdcg), ("hr@", Metric::HitRate)];

/// The names accepted in specs, for error messages: `ndcg@K, recpipe_ndcg@K, hr@K, mean_ms, …`.
pub fn metric_syntax() -> String {
    AT_K.iter()
        .map(|(prefix, _)| format!("{prefix}K"))
        .chain(PLAIN.iter().map(|(n, _)| n.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Metric {
    /// Parse a metric name such as `ndcg@64` or `p95_ms`.
    pub fn parse(text: &str) -> Option<Metric> {
        for (prefix, make) in AT_K {
            if let Some(k) = text.strip_prefix(prefix) {
                return k.parse::<u32>().ok().filter(|k| *k >= 1).map(make);
            }
        }
        PLAIN.iter().find(|(name, _)| *name == text).map(|(_, m)| *m)
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

    /// The key of this metric measured at one offered load (`p95_ms@400qps`); `load_tag` is
    /// `explore::evaluate::load_tag`'s.
    pub fn at_load(self, load_tag: &str) -> String {
        format!("{self}@{load_tag}")
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Ndcg(k) => write!(f, "ndcg@{k}"),
            Metric::RecpipeNdcg(k) => write!(f, "recpipe_ndcg@{k}"),
            Metric::HitRate(k) => write!(f, "hr@{k}"),
            plain => {
                let name = PLAIN.iter().find(|(_, m)| m == plain).map(|(n, _)| *n);
                f.write_str(name.expect("every metric without a cut-off is in PLAIN"))
            }
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
        for name in
            ["ndcg@64", "recpipe_ndcg@8", "hr@10", "p95_ms", "capacity_qps", "energy_j_per_query", "saturation_qps"]
        {
            assert_eq!(Metric::parse(name).map(|m| m.to_string()).as_deref(), Some(name));
        }
        assert_eq!(Metric::parse("ndcg@0"), None);
        assert_eq!(Metric::parse("ndcg@x"), None);
        assert_eq!(Metric::parse("p97_ms"), None);
        for (name, metric) in PLAIN {
            assert_eq!(metric.to_string(), *name);
        }
        assert!(metric_syntax().starts_with("ndcg@K, recpipe_ndcg@K, hr@K, mean_ms, "));
    }
}
