//! `report.md`: summary, hypervolume (value, reference point, progress), best points per SLA objective,
//! the comparison under the SLA, phase times, latency-profile hosts, and how to reproduce the run.

use super::{compare, PointRow, Report};
use crate::explore::evaluate::fmt_num;
use crate::spec::metric::Direction;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

fn fmt_metric(v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if x.abs() >= 1000.0 => format!("{x:.1}"),
        Some(x) if x.abs() >= 1.0 => format!("{x:.3}"),
        Some(x) => format!("{x:.4}"),
    }
}

fn point_line(r: &PointRow, report: &Report) -> String {
    let hw: Vec<&str> = r.stages.iter().map(|s| s.2.as_str()).collect();
    let objectives: Vec<String> =
        report.objectives.iter().map(|(m, _)| format!("{m} = {}", fmt_metric(r.metrics.get(m).copied()))).collect();
    format!("id {} — {} on [{}]: {}", r.id, r.pipeline, hw.join(" + "), objectives.join(", "))
}

/// Render the report.
pub fn render(report: &Report, files: &[PathBuf]) -> String {
    let mut s = String::new();
    let feasible = report.rows.iter().filter(|r| r.feasible).count();
    let front: Vec<&PointRow> = report.front().collect();
    let _ = writeln!(s, "# Exploration of `{}` ({})\n", report.space_name, report.space_file);
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(
        s,
        "- strategy: {}; budget {} of {} points in the space",
        report.info.strategy, report.info.budget, report.space_points
    );
    let (new, reused, repeats) = report.counts;
    let _ = writeln!(
        s,
        "- points: {} ({} evaluated now, {} reused from the journal; {} repeated asks answered from memory)",
        report.rows.len(),
        new,
        reused,
        repeats
    );
    let _ = writeln!(s, "- feasible: {feasible}; on the Pareto front: {}", front.len());
    if report.interrupted {
        let _ = writeln!(s, "- **interrupted**: the run stopped early; `--resume` continues it");
    }
    if report.stalled {
        let _ = writeln!(s, "- the strategy stopped proposing new points before the budget was used");
    }
    if let Some(stop) = report.early_stop {
        let _ = writeln!(
            s,
            "- **stopped early** after {} of {} budgeted points: the Pareto front (and so the hypervolume) had not \
             grown since point {} ({} points without growth)",
            stop.at,
            report.info.budget,
            stop.last_growth,
            stop.at - stop.last_growth
        );
    }
    let objectives: Vec<String> = report
        .objectives
        .iter()
        .map(|(m, d)| format!("{} {m}", if *d == Direction::Maximize { "maximize" } else { "minimize" }))
        .collect();
    let _ = writeln!(s, "- objectives: {}; SLA: {}", objectives.join(", "), report.sla);
    let loads: Vec<String> = report.loads_qps.iter().map(|q| fmt_num(*q)).collect();
    let _ = writeln!(
        s,
        "- offered loads: {} queries/s (latency objectives are at the first, the reference load)",
        loads.join(", ")
    );
    let _ = writeln!(s, "- quality: {}", report.info.quality_source);
    let _ = writeln!(s, "- CPU/GPU latency: {}", report.info.latency_source);
    for n in &report.notes {
        let _ = writeln!(s, "- {n}");
    }

    let _ = writeln!(s, "\n## Hypervolume\n");
    match &report.reference {
        Some(r) => {
            let names: Vec<String> = report
                .objectives
                .iter()
                .zip(r)
                .map(|((m, d), v)| match d {
                    Direction::Minimize => format!("{m} = {}", fmt_metric(Some(*v))),
                    Direction::Maximize => format!("{m} = {}", fmt_metric(Some(-*v))),
                })
                .collect();
            let _ = writeln!(
                s,
                "Hypervolume of the feasible points: **{:.6e}** (objectives in their units, maximised ones negated), \
                 reference point {} (worst feasible value of each objective plus 10 % of its range).\n",
                report.hypervolume,
                names.join(", ")
            );
            let _ = writeln!(s, "| points accepted | hypervolume | fraction of final |\n|---|---|---|");
            for (n, hv) in &report.progress {
                let frac = if report.hypervolume > 0.0 { hv / report.hypervolume } else { 0.0 };
                let _ = writeln!(s, "| {n} | {hv:.6e} | {:.3} |", frac);
            }
        }
        None => {
            let _ = writeln!(s, "No feasible point: no front and no hypervolume.");
        }
    }

    let _ = writeln!(s, "\n## Best points under the SLA ({})\n", report.sla);
    if !report.rows.is_empty() && report.rows.iter().all(|r| !r.feasible) {
        let _ = writeln!(
            s,
            "**No point meets the SLA ({}) and every constraint**: all {} evaluated points are infeasible. Their \
             reasons are counted under *Infeasible points* below; loosen the SLA or the constraints, lower the \
             load, or widen the hardware choices.",
            report.sla,
            report.rows.len()
        );
    }
    for (m, d) in &report.objectives {
        let best = report.rows.iter().filter(|r| r.feasible).filter_map(|r| r.metrics.get(m).map(|v| (r, *v))).min_by(
            |a, b| {
                let (x, y) = if *d == Direction::Minimize { (a.1, b.1) } else { (b.1, a.1) };
                x.total_cmp(&y).then(a.0.id.cmp(&b.0.id))
            },
        );
        if let Some((r, _)) = best {
            let _ = writeln!(s, "- best {m}: {}", point_line(r, report));
        }
    }
    let _ = writeln!(s, "\nPareto front ({} points):\n", front.len());
    for r in front.iter().take(40) {
        let _ = writeln!(s, "- {}", point_line(r, report));
    }
    if front.len() > 40 {
        let _ = writeln!(s, "- … {} more in points.csv (front_rank = 0)", front.len() - 40);
    }

    if !report.models.is_empty() {
        let mut uses: BTreeMap<String, usize> = BTreeMap::new();
        for r in &front {
            let mut names: Vec<&String> = r.stages.iter().map(|st| &st.0).collect();
            names.dedup();
            for n in names {
                *uses.entry(n.clone()).or_default() += 1;
            }
        }
        let _ = writeln!(s, "\n## Model choices\n");
        s.push_str(&super::models::render(&report.models, &report.model_metrics, &uses, &report.rows));
    }

    if let Some(c) = report.compare.as_ref().map(compare::ComparisonTable::markdown) {
        let _ = writeln!(s, "\n## Comparison under the SLA\n\n{c}");
    }

    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for r in report.rows.iter().filter(|r| !r.feasible) {
        *reasons.entry(reason_kind(r.reason.as_deref().unwrap_or_default())).or_default() += 1;
    }
    if !reasons.is_empty() {
        let _ = writeln!(s, "\n## Infeasible points\n\n| reason | points |\n|---|---|");
        for (k, n) in &reasons {
            let _ = writeln!(s, "| {k} | {n} |");
        }
    }

    let mut hosts: BTreeMap<String, usize> = BTreeMap::new();
    for r in &report.rows {
        for st in &r.stages {
            if !st.3.is_empty() {
                *hosts.entry(st.3.clone()).or_default() += 1;
            }
        }
    }
    let _ = writeln!(s, "\n## Where stage latencies came from\n\n| source (host of the profile, or the accelerator model) | stages |\n|---|---|");
    for (h, n) in &hosts {
        let _ = writeln!(s, "| {h} | {n} |");
    }

    let _ = writeln!(s, "\n## Phase times\n\n| phase | wall time (s) |\n|---|---|");
    for (name, sec) in &report.phases.wall_s {
        let _ = writeln!(s, "| {name} | {sec:.2} |");
    }
    let (q, sv, sim) = report.phases.eval_thread_s;
    let _ = writeln!(
        s,
        "\nInside evaluation, summed over worker threads: quality {q:.2} s, service times {sv:.2} s, simulation and \
         capacity search {sim:.2} s."
    );

    let _ = writeln!(s, "\n## Reproduce\n");
    let _ = writeln!(s, "```sh\n{}\n```\n", report.info.command);
    let _ = writeln!(
        s,
        "- seeds: search {}, simulation {}, data set {}",
        report.info.search_seed, report.info.sim_seed, report.info.dataset_seed
    );
    let _ = writeln!(s, "- versions: {}", report.info.versions);
    let _ = writeln!(s, "- host: {}", report.info.host);
    let _ = writeln!(s, "- started (UTC): {}", report.info.started_utc);
    let _ = writeln!(s, "- journal: {}", report.info.journal);
    let _ = writeln!(s, "\n## Files\n");
    for f in files {
        if let Some(name) = f.file_name() {
            let _ = writeln!(s, "- `{}`", name.to_string_lossy());
        }
    }
    let _ = writeln!(s, "- `report.md`");
    s
}

/// The kind of an infeasibility reason, for grouping: the whole sentence with each number that stands on its
/// own (not part of a name such as `rm-d8`) replaced by `…` — "saturated at the reference load of …
/// queries/s", "accelerator area … mm² exceeds the budget of … mm²".
pub fn reason_kind(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut prev: Option<char> = None;
    let mut chars = reason.chars().peekable();
    while let Some(c) = chars.next() {
        let standalone = prev.is_none_or(|p| !(p.is_alphanumeric() || p == '-' || p == '_' || p == '.'));
        if c.is_ascii_digit() && standalone {
            while chars.peek().is_some_and(|d| d.is_ascii_digit() || *d == '.' || *d == ',') {
                let d = chars.next().expect("peeked");
                prev = Some(d);
            }
            // A trailing full stop or comma belongs to the sentence.
            if matches!(prev, Some('.') | Some(',')) {
                out.push('…');
                out.push(prev.expect("set"));
            } else {
                out.push('…');
            }
            prev = Some('0');
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::reason_kind;

    #[test]
    fn reasons_group_by_their_whole_sentence_without_the_numbers() {
        assert_eq!(
            reason_kind("saturated at the reference load of 109 queries/s"),
            "saturated at the reference load of … queries/s"
        );
        assert_eq!(
            reason_kind("accelerator area 92.125 mm² exceeds the budget of 28.55 mm²"),
            "accelerator area … mm² exceeds the budget of … mm²"
        );
        assert_eq!(
            reason_kind("no latency profile for zoo model rm-d8-b1 @4096 on cpu"),
            "no latency profile for zoo model rm-d8-b1 @… on cpu"
        );
        assert_eq!(
            reason_kind("SLA never met: p95 ≤ 34.1 ms fails even at 0.5 queries/s."),
            "SLA never met: p95 ≤ … ms fails even at … queries/s."
        );
        assert_eq!(reason_kind(""), "");
    }
}
