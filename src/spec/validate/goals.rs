//! What a search optimises: `objectives:`, `constraints:`, `quality_floor:` (metrics named with the
//! vocabulary of `spec::metric`) and the `search:` section.

use super::*;

pub(super) fn metric(cx: &mut Checker, m: &Option<Sp<String>>, path: &str, top_k: Option<u32>) -> Option<Metric> {
    let Some(m) = m else {
        cx.missing(path, &metric_syntax());
        return None;
    };
    let Some(metric) = Metric::parse(&m.value) else {
        cx.err(m, path, format!("unknown metric '{}' (expected one of {})", m.value, metric_syntax()));
        return None;
    };
    if let (Some(k), Some(top)) = (metric.cutoff(), top_k) {
        if k > top {
            cx.err(m, path, format!("cut-off {k} exceeds quality.top_k = {top}"));
            return None;
        }
    }
    Some(metric)
}

pub(super) fn objectives(cx: &mut Checker, raw: Option<&[RawObjective]>, top_k: Option<u32>) -> Option<Vec<Objective>> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        cx.missing("objectives", "at least one {metric, direction}");
        return None;
    };
    let mut out: Vec<Objective> = Vec::new();
    let mut ok = true;
    for (i, o) in raw.iter().enumerate() {
        let m = metric(cx, &o.metric, &format!("objectives[{i}].metric"), top_k);
        let d = cx.choice(&o.direction, &format!("objectives[{i}].direction"), "direction", None);
        match (m, d) {
            (Some(metric), Some(direction)) => {
                if out.iter().any(|x| x.metric == metric) {
                    cx.issues.push(None, format!("objectives[{i}].metric"), format!("duplicate objective '{metric}'"));
                    ok = false;
                }
                out.push(Objective { metric, direction })
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}

pub(super) fn constraints(
    cx: &mut Checker,
    raw: Option<&[RawConstraint]>,
    top_k: Option<u32>,
) -> Option<Vec<Constraint>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, c) in raw.unwrap_or_default().iter().enumerate() {
        let m = metric(cx, &c.metric, &format!("constraints[{i}].metric"), top_k);
        let (min, max) = (c.min.as_ref().map(|v| v.value), c.max.as_ref().map(|v| v.value));
        if min.is_none() && max.is_none() {
            cx.issues.push(None, format!("constraints[{i}]"), "needs min and/or max");
            ok = false;
        }
        if let (Some(lo), Some(hi), Some(sp)) = (min, max, &c.max) {
            if lo > hi {
                cx.err(sp, &format!("constraints[{i}].max"), format!("max {hi} is below min {lo}"));
                ok = false;
            }
        }
        for (v, name) in [(&c.min, "min"), (&c.max, "max")] {
            if let Some(v) = v {
                if !v.value.is_finite() {
                    cx.err(v, &format!("constraints[{i}].{name}"), format!("must be a finite number, got {}", v.value));
                    ok = false;
                }
            }
        }
        match m {
            Some(metric) => out.push(Constraint { metric, min, max }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

pub(super) fn search(cx: &mut Checker, raw: Option<&RawSearch>, master_seed: u64) -> Option<SearchSpec> {
    let strategy = cx.choice(
        &raw.and_then(|r| r.strategy.clone()),
        "search.strategy",
        "strategy",
        Some(crate::search::StrategyKind::Exhaustive),
    );
    let empty =
        RawSearch { strategy: None, budget: None, seed: None, population: None, restarts: None, early_stop: None };
    let raw = raw.unwrap_or(&empty);
    let budget = cx.opt_int(&raw.budget, "search.budget", 1, 1000);
    let seed = cx.opt_int(&raw.seed, "search.seed", 0, master_seed);
    let population = cx.opt_int(&raw.population, "search.population", 4, 32);
    let restarts = cx.opt_int(&raw.restarts, "search.restarts", 1, 4);
    let early_stop = match &raw.early_stop {
        Some(v) if !(v.value > 0.0 && v.value <= 1.0) => {
            let got = v.value;
            cx.err(v, "search.early_stop", format!("must be a fraction of the budget in (0, 1], got {got}"));
            return None;
        }
        v => v.as_ref().map(|v| v.value),
    };
    Some(SearchSpec {
        strategy: strategy?,
        budget: budget?,
        seed: seed?,
        population: population? as u32,
        restarts: restarts? as u32,
        early_stop,
    })
}

/// The `quality_floor:` list: `{metric, min}` entries on quality metrics the space reports.
pub(super) fn quality_floor(
    cx: &mut Checker,
    raw: Option<&[RawConstraint]>,
    space: &Space,
) -> Option<Vec<QualityFloor>> {
    let mut out = Vec::new();
    for (i, c) in raw.unwrap_or_default().iter().enumerate() {
        let path = format!("quality_floor[{i}]");
        if let Some(max) = &c.max {
            cx.err(max, &format!("{path}.max"), "a quality floor has only a min".into());
        }
        let metric = metric(cx, &c.metric, &format!("{path}.metric"), Some(space.top_k));
        let min = match &c.min {
            None => {
                cx.missing(&format!("{path}.min"), "the smallest admitted value, e.g. 0.9225");
                None
            }
            Some(v) if v.value.is_finite() => Some(v.value),
            Some(v) => {
                cx.err(v, &format!("{path}.min"), format!("must be a finite number, got {}", v.value));
                None
            }
        };
        if let (Some(metric), Some(sp)) = (metric, &c.metric) {
            if let Err(e) = space.reports_quality_metric(metric) {
                cx.err(sp, &format!("{path}.metric"), e);
                continue;
            }
            if let Some(min) = min {
                out.push(QualityFloor { metric, min });
            }
        }
    }
    Some(out)
}
