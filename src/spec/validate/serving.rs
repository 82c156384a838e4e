//! The `load:` (arrival process, offered loads, query counts) and `sla:` sections.

use super::*;

pub(super) fn load(cx: &mut Checker, raw: Option<&RawLoad>) -> Option<LoadSpec> {
    let Some(raw) = raw else {
        cx.missing("load", "arrival process and offered loads");
        return None;
    };
    let arrival = cx.choice(&raw.arrival, "load.arrival", "arrival process", Some(ArrivalKind::Poisson));
    let qps = match &raw.qps {
        None => {
            cx.missing("load.qps", "offered loads in queries per second");
            None
        }
        Some(l) if l.is_empty() => {
            cx.issues.push(None, "load.qps", "must list at least one offered load");
            None
        }
        Some(l) => {
            let v: Vec<Option<f64>> =
                l.iter().enumerate().map(|(i, q)| cx.positive_f64(q, &format!("load.qps[{i}]"))).collect();
            v.iter().all(Option::is_some).then(|| v.into_iter().flatten().collect())
        }
    };
    let queries = cx.opt_int(&raw.queries, "load.queries", 1, crate::sim::pipeline_file::DEFAULT_QUERIES);
    let warmup = cx.opt_int(&raw.warmup_queries, "load.warmup_queries", 0, 0);
    if let (Some(q), Some(w), Some(sp)) = (queries, warmup, &raw.warmup_queries) {
        if w >= q {
            cx.err(sp, "load.warmup_queries", format!("must be smaller than load.queries ({q}), got {w}"));
            return None;
        }
    }
    Some(LoadSpec { arrival: arrival?, qps: qps?, queries: queries?, warmup_queries: warmup? })
}

pub(super) fn sla(cx: &mut Checker, raw: Option<&RawSla>) -> Option<Sla> {
    let Some(raw) = raw else {
        cx.missing("sla", "latency percentile and target, e.g. {percentile: 95, target_ms: 25}");
        return None;
    };
    let percentile = match &raw.percentile {
        None => Some(95.0),
        Some(p) if p.value > 0.0 && p.value < 100.0 => Some(p.value),
        Some(p) => {
            cx.err(p, "sla.percentile", format!("must be in the open interval (0, 100), got {}", p.value));
            None
        }
    };
    let target = match &raw.target_ms {
        None => {
            cx.missing("sla.target_ms", "latency target in milliseconds");
            None
        }
        Some(t) => cx.positive_f64(t, "sla.target_ms"),
    };
    Some(Sla { percentile: percentile?, target_ms: target? })
}
