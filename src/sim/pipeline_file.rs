//! The pipeline file of `recpipe-dse simulate`: YAML → raw serde structs (unknown fields rejected) →
//! validation that reports every problem at once, each with file, line:column, field path and value → a
//! [`PipelineSpec`] (model, settings, optional SLA); [`run_pipeline`] simulates it (and, with an SLA, searches
//! the capacity).
//!
//! The field-by-field reference (types, units, defaults) is in `src/sim/README.md`. Parsing is pure apart from
//! reading the sample/trace files a pipeline file may reference (resolved against `base_dir`).

use super::{
    ArrivalProcess, PipelineModel, Precision, ServiceDist, SimSettings, SlaTarget, StageModel, SubBatchGroup,
    DEFAULT_BATCHES, DEFAULT_MAX_QUEUE_LEN, MAX_QUERIES,
};
use crate::input::{position as pos, Checker, InputError};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;
use std::sync::Arc;

/// Default number of simulated queries.
pub const DEFAULT_QUERIES: u64 = 10_000;
/// Default seed.
pub const DEFAULT_SEED: u64 = 1;

type Sp<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    name: Option<Sp<String>>,
    /// Free text, accepted and not used.
    #[allow(dead_code)]
    description: Option<String>,
    seed: Option<Sp<i64>>,
    queries: Option<Sp<i64>>,
    warmup_queries: Option<Sp<i64>>,
    confidence: Option<Sp<f64>>,
    batches: Option<Sp<i64>>,
    max_queue_len: Option<Sp<i64>>,
    arrival: Option<Sp<RawArrival>>,
    stages: Option<Sp<Vec<Sp<RawStage>>>>,
    subbatch: Option<Vec<Sp<RawGroup>>>,
    sla: Option<Sp<RawSla>>,
    precision: Option<Sp<RawPrecision>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArrival {
    process: Option<Sp<String>>,
    qps: Option<Sp<f64>>,
    mean_gap_ms: Option<Sp<f64>>,
    times_ms: Option<Sp<Vec<f64>>>,
    file: Option<Sp<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    name: Option<Sp<String>>,
    servers: Option<Sp<i64>>,
    service: Option<Sp<RawService>>,
    sort_ms: Option<Sp<f64>>,
    overhead_ms: Option<Sp<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    kind: Option<Sp<String>>,
    ms: Option<Sp<f64>>,
    mean_ms: Option<Sp<f64>>,
    cv: Option<Sp<f64>>,
    samples_ms: Option<Sp<Vec<f64>>>,
    file: Option<Sp<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    stages: Option<Sp<Vec<i64>>>,
    sub_batches: Option<Sp<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSla {
    percentile: Option<Sp<f64>>,
    target_ms: Option<Sp<f64>>,
    curve_targets_ms: Option<Sp<Vec<f64>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrecision {
    relative_half_width: Option<Sp<f64>>,
    max_queries: Option<Sp<i64>>,
}

/// A validated pipeline file.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSpec {
    /// Name (the file stem when absent).
    pub name: String,
    /// What to simulate.
    pub model: PipelineModel,
    /// How to run it (the SLA, when given, is in `settings.sla`).
    pub settings: SimSettings,
    /// SLA targets of a capacity curve, ms (empty when not requested).
    pub curve_targets_ms: Vec<f64>,
}

/// Numbers from an inline list or a referenced file (exactly one of the two).
fn numbers(
    cx: &mut Checker,
    inline: &Option<Sp<Vec<f64>>>,
    file: &Option<Sp<String>>,
    at: Option<(u64, u64)>,
    path: &str,
    list_field: &str,
) -> Option<Vec<f64>> {
    match (inline, file) {
        (Some(_), Some(f)) => {
            cx.err_at(pos(f), &format!("{path}.file"), format!("give either {list_field} or file, not both"));
            None
        }
        (None, None) => {
            cx.missing_at(at, &format!("{path}.{list_field}"), "a list of numbers in ms, or `file:` naming one");
            None
        }
        (Some(v), None) => {
            let list_path = format!("{path}.{list_field}");
            if v.value.is_empty() {
                cx.err_at(pos(v), &list_path, "must list at least one value".into());
                return None;
            }
            match v.value.iter().position(|x| !x.is_finite() || *x < 0.0) {
                Some(i) => {
                    cx.err_at(
                        pos(v),
                        &format!("{list_path}[{i}]"),
                        format!("must be a number ≥ 0, got {}", v.value[i]),
                    );
                    None
                }
                None => Some(v.value.clone()),
            }
        }
        (None, Some(f)) => {
            let fpath = format!("{path}.file");
            let full = cx.resolve(&f.value);
            let text = match std::fs::read_to_string(&full) {
                Ok(t) => t,
                Err(e) => {
                    cx.err_at(pos(f), &fpath, format!("cannot read '{}': {e}", full.display()));
                    return None;
                }
            };
            match parse_numbers(&text) {
                Ok(v) if v.is_empty() => {
                    cx.err_at(pos(f), &fpath, format!("'{}' holds no numbers", f.value));
                    None
                }
                Ok(v) => Some(v),
                Err((line, tok)) => {
                    cx.err_at(pos(f), &fpath, format!("'{}' line {line}: expected a number ≥ 0, got '{tok}'", f.value));
                    None
                }
            }
        }
    }
}

/// Numbers separated by whitespace or commas; `#` starts a comment. Error: (1-based line, bad token).
fn parse_numbers(text: &str) -> Result<Vec<f64>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for tok in line.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()) {
            match tok.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => out.push(x),
                _ => return Err((i + 1, tok.to_string())),
            }
        }
    }
    Ok(out)
}

/// Parse and validate a pipeline file's text. `file` names it in messages; `base_dir` resolves the
/// sample/trace files it references.
pub fn parse_pipeline(text: &str, file: &str, base_dir: &Path) -> Result<PipelineSpec, InputError> {
    let raw: RawFile = crate::input::parse_yaml(text, file)?;
    let mut cx = Checker::new(file, base_dir);

    let name = match &raw.name {
        Some(n) if !n.value.trim().is_empty() => n.value.clone(),
        Some(n) => {
            cx.err_at(pos(n), "name", "must not be empty".into());
            String::new()
        }
        None => Path::new(file).file_stem().map_or_else(|| "pipeline".into(), |s| s.to_string_lossy().into_owned()),
    };
    let seed = cx.int_in(&raw.seed, "seed", 0, i64::MAX, Some(DEFAULT_SEED));
    let queries = cx.int_in(&raw.queries, "queries", 1, MAX_QUERIES as i64, Some(DEFAULT_QUERIES));
    let warmup = cx.int_in(&raw.warmup_queries, "warmup_queries", 0, MAX_QUERIES as i64, Some(0));
    if let (Some(q), Some(w), Some(ws)) = (queries, warmup, &raw.warmup_queries) {
        if w >= q {
            cx.err_at(pos(ws), "warmup_queries", format!("must be less than queries ({q}), got {w}"));
        }
    }
    let confidence = cx.opt_num_in(&raw.confidence, "confidence", (0.0, false, 1.0), 0.95);
    let batches = cx.int_in(&raw.batches, "batches", 2, 1_000_000, Some(u64::from(DEFAULT_BATCHES)));
    let max_queue_len = cx.int_in(&raw.max_queue_len, "max_queue_len", 1, i64::MAX, Some(DEFAULT_MAX_QUEUE_LEN));

    // Arrival process.
    let arrival = match &raw.arrival {
        None => {
            cx.missing_at(None, "arrival", "process: poisson | legacy-ms | trace");
            None
        }
        Some(a) => arrival(&mut cx, a),
    };

    // Stages.
    let mut stages = Vec::new();
    let mut stages_ok = true;
    match &raw.stages {
        None => {
            cx.missing_at(None, "stages", "a list of stages");
            stages_ok = false;
        }
        Some(list) if list.value.is_empty() => {
            cx.err_at(pos(list), "stages", "must list at least one stage".into());
            stages_ok = false;
        }
        Some(list) => {
            for (i, s) in list.value.iter().enumerate() {
                match stage(&mut cx, s, i) {
                    Some(st) => stages.push(st),
                    None => stages_ok = false,
                }
            }
        }
    }
    let n_stages = raw.stages.as_ref().map_or(0, |l| l.value.len());

    // Sub-batch groups.
    let mut groups = Vec::new();
    let mut used = vec![false; n_stages];
    for (gi, g) in raw.subbatch.iter().flatten().enumerate() {
        let path = format!("subbatch[{gi}]");
        let sub = cx.int_in(&g.value.sub_batches, &format!("{path}.sub_batches"), 1, 1_000_000, None);
        let Some(st) = &g.value.stages else {
            cx.missing_at(pos(g), &format!("{path}.stages"), "the indices of ≥ 2 consecutive stages, e.g. [0, 1]");
            continue;
        };
        let idx = &st.value;
        let consecutive = idx.len() >= 2 && idx.windows(2).all(|w| w[1] == w[0] + 1);
        if !consecutive || idx[0] < 0 || (*idx.last().unwrap() as usize) >= n_stages {
            cx.err_at(
                pos(st),
                &format!("{path}.stages"),
                format!("must list ≥ 2 consecutive stage indices in 0..{n_stages}, got {idx:?}"),
            );
            continue;
        }
        let (a, b) = (idx[0] as usize, *idx.last().unwrap() as usize);
        if used[a..=b].iter().any(|&u| u) {
            cx.err_at(pos(st), &format!("{path}.stages"), format!("stages {idx:?} are already in another group"));
            continue;
        }
        used[a..=b].iter_mut().for_each(|u| *u = true);
        if stages_ok {
            let c = stages[a].servers;
            if let Some(k) = (a..=b).find(|&k| stages[k].servers != c) {
                cx.err_at(
                    pos(st),
                    &format!("{path}.stages"),
                    format!(
                        "grouped stages share one engine pool, so their servers must be equal; stage {a} has {c}, stage {k} has {}",
                        stages[k].servers
                    ),
                );
                continue;
            }
        }
        if let Some(sub) = sub {
            groups.push(SubBatchGroup { first_stage: a, last_stage: b, sub_batches: sub as u32 });
        }
    }

    // SLA.
    let mut curve_targets_ms = Vec::new();
    let sla = raw.sla.as_ref().and_then(|s| {
        let p = match &s.value.percentile {
            None => {
                cx.missing_at(pos(s), "sla.percentile", "a percentile in (0, 100), e.g. 95");
                None
            }
            Some(v) => cx.num_in(v, "sla.percentile", 0.0, false, 100.0),
        };
        let t = match &s.value.target_ms {
            None => {
                cx.missing_at(pos(s), "sla.target_ms", "the latency target in ms");
                None
            }
            Some(v) => cx.num_in(v, "sla.target_ms", 0.0, false, f64::INFINITY),
        };
        if let Some(c) = &s.value.curve_targets_ms {
            for (i, x) in c.value.iter().enumerate() {
                if x.is_finite() && *x > 0.0 {
                    curve_targets_ms.push(*x);
                } else {
                    cx.err_at(pos(c), &format!("sla.curve_targets_ms[{i}]"), format!("must be a number > 0, got {x}"));
                }
            }
        }
        Some(SlaTarget { percentile: p?, target_ms: t? })
    });

    // Precision.
    let precision = raw.precision.as_ref().and_then(|p| {
        let rel = match &p.value.relative_half_width {
            None => {
                cx.missing_at(pos(p), "precision.relative_half_width", "e.g. 0.01 for ±1%");
                None
            }
            Some(v) => cx.num_in(v, "precision.relative_half_width", 0.0, false, f64::INFINITY),
        };
        let max =
            cx.int_in(&p.value.max_queries, "precision.max_queries", 1, MAX_QUERIES as i64, Some(MAX_QUERIES / 2));
        if let (Some(m), Some(q), Some(mq)) = (max, queries, &p.value.max_queries) {
            if m < q {
                cx.err_at(pos(mq), "precision.max_queries", format!("must be ≥ queries ({q}), got {m}"));
            }
        }
        Some(Precision { relative_half_width: rel?, max_queries: max? })
    });

    // A trace caps the query count.
    let mut queries = queries;
    if let (Some(ArrivalProcess::Trace { times_ns, .. }), Some(q)) = (&arrival, queries) {
        let n = times_ns.len() as u64;
        match &raw.queries {
            None => queries = Some(n),
            Some(qs) if q > n => {
                cx.err_at(pos(qs), "queries", format!("the trace has only {n} arrivals, got {q}"));
            }
            _ => {}
        }
        if let (Some(p), Some(rp)) = (&precision, &raw.precision) {
            if p.max_queries > n && rp.value.max_queries.is_some() {
                cx.err_at(
                    pos(rp),
                    "precision.max_queries",
                    format!("the trace has only {n} arrivals, got {}", p.max_queries),
                );
            }
        }
    }
    let precision = match (precision, &arrival) {
        (Some(p), Some(ArrivalProcess::Trace { times_ns, .. })) => {
            Some(Precision { max_queries: p.max_queries.min(times_ns.len() as u64), ..p })
        }
        (p, _) => p,
    };

    if !cx.issues.is_empty() {
        return Err(InputError { issues: cx.issues.list });
    }
    let (Some(seed), Some(queries), Some(warmup), Some(confidence), Some(batches), Some(max_queue_len), Some(arrival)) =
        (seed, queries, warmup, confidence, batches, max_queue_len, arrival)
    else {
        unreachable!("every missing value was reported as an issue")
    };
    Ok(PipelineSpec {
        name,
        model: PipelineModel { arrival, stages, groups },
        settings: SimSettings {
            queries,
            warmup_queries: warmup,
            seed,
            confidence,
            batches: batches as u32,
            max_queue_len,
            sla,
            precision,
        },
        curve_targets_ms,
    })
}

fn arrival(cx: &mut Checker<'_>, a: &Sp<RawArrival>) -> Option<ArrivalProcess> {
    let r = &a.value;
    let Some(p) = &r.process else {
        cx.missing_at(pos(a), "arrival.process", "poisson | legacy-ms | trace");
        return None;
    };
    match p.value.as_str() {
        "poisson" => {
            cx.unused(&r.mean_gap_ms, "arrival.mean_gap_ms", "by process poisson (give qps)");
            cx.unused(&r.times_ms, "arrival.times_ms", "by process poisson");
            cx.unused(&r.file, "arrival.file", "by process poisson");
            let Some(q) = &r.qps else {
                cx.missing_at(pos(a), "arrival.qps", "offered load in queries/s");
                return None;
            };
            cx.num_in(q, "arrival.qps", 0.0, false, f64::INFINITY).map(|qps| ArrivalProcess::Poisson { qps })
        }
        "legacy-ms" => {
            cx.unused(&r.qps, "arrival.qps", "by process legacy-ms (give mean_gap_ms)");
            cx.unused(&r.times_ms, "arrival.times_ms", "by process legacy-ms");
            cx.unused(&r.file, "arrival.file", "by process legacy-ms");
            let Some(g) = &r.mean_gap_ms else {
                cx.missing_at(pos(a), "arrival.mean_gap_ms", "RecPipe's mean inter-arrival gap λ in ms");
                return None;
            };
            cx.num_in(g, "arrival.mean_gap_ms", 0.0, false, 1.0e9)
                .map(|mean_gap_ms| ArrivalProcess::LegacyMs { mean_gap_ms })
        }
        "trace" => {
            cx.unused(&r.qps, "arrival.qps", "by process trace");
            cx.unused(&r.mean_gap_ms, "arrival.mean_gap_ms", "by process trace");
            let times = numbers(cx, &r.times_ms, &r.file, pos(a), "arrival", "times_ms")?;
            if times.len() < 2 {
                cx.err_at(pos(a), "arrival", format!("a trace needs at least 2 arrival times, got {}", times.len()));
                return None;
            }
            if let Some(i) = times.windows(2).position(|w| w[1] < w[0]) {
                cx.err_at(
                    pos(a),
                    "arrival",
                    format!(
                        "trace times must be non-decreasing; time {} ({} ms) follows {} ms",
                        i + 1,
                        times[i + 1],
                        times[i]
                    ),
                );
                return None;
            }
            if times.last() == times.first() {
                cx.err_at(pos(a), "arrival", "trace times must span a positive duration".into());
                return None;
            }
            let times_ns = times.iter().map(|&t| super::time::ns_from_ms(t)).collect();
            Some(ArrivalProcess::Trace { times_ns: Arc::new(times_ns), speedup: 1.0 })
        }
        other => {
            cx.err_at(
                pos(p),
                "arrival.process",
                format!("unknown arrival process '{other}' (expected poisson|legacy-ms|trace)"),
            );
            None
        }
    }
}

fn stage(cx: &mut Checker<'_>, s: &Sp<RawStage>, i: usize) -> Option<StageModel> {
    let r = &s.value;
    let path = format!("stages[{i}]");
    let name = match &r.name {
        Some(n) if n.value.trim().is_empty() => {
            cx.err_at(pos(n), &format!("{path}.name"), "must not be empty".into());
            None
        }
        Some(n) => Some(n.value.clone()),
        None => Some(format!("stage{i}")),
    };
    let servers = match &r.servers {
        None => {
            cx.missing_at(pos(s), &format!("{path}.servers"), "engines sharing the stage's queue, ≥ 1");
            None
        }
        Some(_) => cx.int_in(&r.servers, &format!("{path}.servers"), 1, 1_000_000, None),
    };
    let service = match &r.service {
        None => {
            cx.missing_at(
                pos(s),
                &format!("{path}.service"),
                "kind: deterministic | exponential | lognormal | empirical",
            );
            None
        }
        Some(sv) => service(cx, sv, &format!("{path}.service")),
    };
    let sort_ms = cx.opt_num_in(&r.sort_ms, &format!("{path}.sort_ms"), (0.0, true, f64::INFINITY), 0.0);
    let overhead_ms = cx.opt_num_in(&r.overhead_ms, &format!("{path}.overhead_ms"), (0.0, true, f64::INFINITY), 0.0);
    Some(StageModel {
        name: name?,
        servers: servers? as u32,
        service: service?,
        sort_ms: sort_ms?,
        overhead_ms: overhead_ms?,
    })
}

fn service(cx: &mut Checker<'_>, sv: &Sp<RawService>, path: &str) -> Option<ServiceDist> {
    let r = &sv.value;
    let Some(kind) = &r.kind else {
        cx.missing_at(pos(sv), &format!("{path}.kind"), "deterministic | exponential | lognormal | empirical");
        return None;
    };
    let k = kind.value.as_str();
    let by = format!("by kind {k}");
    let req = |cx: &mut Checker<'_>, v: &Option<Sp<f64>>, field: &str, what: &str, lo_incl: bool| -> Option<f64> {
        match v {
            None => {
                cx.missing_at(pos(sv), &format!("{path}.{field}"), what);
                None
            }
            Some(v) => cx.num_in(v, &format!("{path}.{field}"), 0.0, lo_incl, f64::INFINITY),
        }
    };
    match k {
        "deterministic" => {
            cx.unused(&r.mean_ms, &format!("{path}.mean_ms"), &format!("{by} (give ms)"));
            cx.unused(&r.cv, &format!("{path}.cv"), &by);
            cx.unused(&r.samples_ms, &format!("{path}.samples_ms"), &by);
            cx.unused(&r.file, &format!("{path}.file"), &by);
            req(cx, &r.ms, "ms", "the service time in ms", true).map(|ms| ServiceDist::Deterministic { ms })
        }
        "exponential" => {
            cx.unused(&r.ms, &format!("{path}.ms"), &format!("{by} (give mean_ms)"));
            cx.unused(&r.cv, &format!("{path}.cv"), &by);
            cx.unused(&r.samples_ms, &format!("{path}.samples_ms"), &by);
            cx.unused(&r.file, &format!("{path}.file"), &by);
            req(cx, &r.mean_ms, "mean_ms", "the mean service time in ms", false)
                .map(|mean_ms| ServiceDist::Exponential { mean_ms })
        }
        "lognormal" => {
            cx.unused(&r.ms, &format!("{path}.ms"), &format!("{by} (give mean_ms and cv)"));
            cx.unused(&r.samples_ms, &format!("{path}.samples_ms"), &by);
            cx.unused(&r.file, &format!("{path}.file"), &by);
            let m = req(cx, &r.mean_ms, "mean_ms", "the mean service time in ms", false);
            let c = req(cx, &r.cv, "cv", "the coefficient of variation, > 0", false);
            Some(ServiceDist::LogNormal { mean_ms: m?, cv: c? })
        }
        "empirical" => {
            cx.unused(&r.ms, &format!("{path}.ms"), &by);
            cx.unused(&r.mean_ms, &format!("{path}.mean_ms"), &by);
            cx.unused(&r.cv, &format!("{path}.cv"), &by);
            let v = numbers(cx, &r.samples_ms, &r.file, pos(sv), path, "samples_ms")?;
            Some(ServiceDist::Empirical { samples_ms: Arc::new(v) })
        }
        other => {
            cx.err_at(
                pos(kind),
                &format!("{path}.kind"),
                format!("unknown service kind '{other}' (expected deterministic|exponential|lognormal|empirical)"),
            );
            None
        }
    }
}

/// Read and validate a pipeline file; referenced files resolve against the file's directory.
pub fn load_pipeline(path: &Path) -> Result<PipelineSpec, InputError> {
    let (file, text) = crate::input::read_file(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse_pipeline(&text, &file, base)
}

/// Everything `recpipe-dse simulate` reports for one pipeline file: the run, and the capacity under the SLA.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PipelineRun {
    /// Pipeline name.
    pub name: String,
    /// The simulation at the file's offered load.
    #[serde(flatten)]
    pub report: super::SimReport,
    /// Largest offered load meeting the SLA, queries/s (when an SLA is given).
    pub max_qps_under_sla: Option<f64>,
    /// Details of that capacity search.
    pub capacity: Option<super::CapacityReport>,
    /// Capacity for each of the file's curve targets (same percentile as the SLA).
    pub capacity_curve: Vec<super::CapacityReport>,
}

/// Simulate a validated pipeline file and, when it gives an SLA, search its capacity (and curve).
pub fn run_pipeline(spec: &PipelineSpec) -> Result<PipelineRun, super::SimError> {
    let report = super::simulate(&spec.model, &spec.settings)?;
    let opts = super::CapacityOptions::default();
    let (capacity, capacity_curve) = match spec.settings.sla {
        Some(sla) => (
            Some(super::max_qps_under_sla(&spec.model, &spec.settings, sla, &opts)?),
            super::capacity_curve(&spec.model, &spec.settings, sla.percentile, &spec.curve_targets_ms, &opts)?,
        ),
        None => (None, Vec::new()),
    };
    Ok(PipelineRun {
        name: spec.name.clone(),
        report,
        max_qps_under_sla: capacity.as_ref().map(|c| c.max_qps),
        capacity,
        capacity_curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PipelineSpec, InputError> {
        parse_pipeline(text, "p.yaml", Path::new("."))
    }

    #[test]
    fn good_file() {
        let s = parse(
            "seed: 7\nqueries: 500\narrival: {process: legacy-ms, mean_gap_ms: 2}\nstages:\n  - {name: a, servers: 2, \
             service: {kind: deterministic, ms: 0.5}, sort_ms: 0.01}\n  - {servers: 1, service: {kind: lognormal, \
             mean_ms: 0.3, cv: 0.4}}\nsubbatch: []\nsla: {percentile: 95, target_ms: 5}\n",
        )
        .unwrap();
        assert_eq!(s.settings.seed, 7);
        assert_eq!(s.settings.queries, 500);
        assert_eq!(s.model.stages[1].name, "stage1");
        assert_eq!(s.model.arrival, ArrivalProcess::LegacyMs { mean_gap_ms: 2.0 });
        assert!(s.settings.sla.is_some());
        assert_eq!(s.name, "p");
    }

    #[test]
    fn every_problem_is_reported_with_path_and_value() {
        let e = parse(
            "seed: -4\nqueries: 0\narrival: {process: poison, qps: 5}\nstages:\n  - {servers: 0, service: {kind: deterministic, \
             ms: -1}}\n  - {servers: 1, service: {kind: exponential}}\nsla: {percentile: 120, target_ms: 5}\n",
        )
        .unwrap_err();
        let text = e.to_string();
        for want in [
            "p.yaml:1:7: seed: must be an integer ≥ 0, got -4",
            "p.yaml:2:10: queries: must be an integer in [1, 20000000], got 0",
            "arrival.process: unknown arrival process 'poison'",
            "stages[0].servers: must be an integer in [1, 1000000], got 0",
            "stages[0].service.ms: must be a number ≥ 0, got -1",
            "stages[1].service.mean_ms: missing required field",
            "sla.percentile: must be a number in (0, 100), got 120",
        ] {
            assert!(text.contains(want), "missing `{want}` in:\n{text}");
        }
        assert_eq!(e.issues.len(), 7, "{text}");
    }

    #[test]
    fn unknown_fields_and_misused_fields() {
        let e = parse("arrival: {process: poisson, qps: 5}\nstages: [{servers: 1, service: {kind: deterministic, ms: 1}}]\nfoo: 1\n")
            .unwrap_err();
        assert!(e.to_string().starts_with("p.yaml:3:1: foo: unknown field `foo`"), "{e}");
        let e = parse("arrival: {process: poisson, qps: 5, mean_gap_ms: 3}\nstages: [{servers: 1, service: {kind: deterministic, ms: 1}}]\n")
            .unwrap_err();
        assert!(e.to_string().contains("arrival.mean_gap_ms: not used by process poisson"), "{e}");
    }

    #[test]
    fn trace_and_groups() {
        let s = parse(
            "arrival: {process: trace, times_ms: [0, 1, 1.5, 4]}\nstages:\n  - {servers: 2, service: {kind: \
             deterministic, ms: 0.4}}\n  - {servers: 2, service: {kind: empirical, samples_ms: [0.1, 0.2]}}\n\
             subbatch: [{stages: [0, 1], sub_batches: 4}]\n",
        )
        .unwrap();
        assert_eq!(s.settings.queries, 4);
        assert_eq!(s.model.groups, vec![SubBatchGroup { first_stage: 0, last_stage: 1, sub_batches: 4 }]);
        let e = parse(
            "arrival: {process: trace, times_ms: [0, 2, 1]}\nstages:\n  - {servers: 2, service: {kind: \
             deterministic, ms: 0.4}}\n  - {servers: 1, service: {kind: deterministic, ms: 0.4}}\n\
             subbatch: [{stages: [0, 1], sub_batches: 4}, {stages: [1, 3], sub_batches: 1}]\n",
        )
        .unwrap_err();
        let t = e.to_string();
        assert!(t.contains("non-decreasing"), "{t}");
        assert!(t.contains("servers must be equal"), "{t}");
        assert!(t.contains("subbatch[1].stages: must list ≥ 2 consecutive stage indices"), "{t}");
    }

    #[test]
    fn number_files() {
        assert_eq!(parse_numbers("# header\n1, 2\n 3.5 # c\n").unwrap(), vec![1.0, 2.0, 3.5]);
        assert_eq!(parse_numbers("1\nx\n").unwrap_err(), (2, "x".to_string()));
        let e = parse(
            "arrival: {process: poisson, qps: 5}\nstages: [{servers: 1, service: {kind: empirical, file: no/such.txt}}]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("stages[0].service.file: cannot read"), "{e}");
    }
}
