//! `recpipe-dse validate <space.yaml>…`: check design-space files, report every problem of every file, and
//! summarise valid ones (knobs with their domains, design points before and after structural constraints).
use super::{CliError, OutputFormat};
use crate::spec::{self, Backend, ParamKind, Space};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Design-space YAML files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// Run `validate`.
pub fn run(args: &ValidateArgs) -> Result<(), CliError> {
    let mut failures = Vec::new();
    let mut json = Vec::new();
    for file in &args.files {
        match spec::load_space(file) {
            Ok(space) => {
                let counts = count_points(&space);
                match args.format {
                    OutputFormat::Table => print!("{}", summary(&space, counts)),
                    OutputFormat::Json => json.push(summary_json(&space, counts)),
                }
            }
            Err(errors) => failures.push(errors.to_string()),
        }
    }
    if args.format == OutputFormat::Json && !json.is_empty() {
        let text = serde_json::to_string_pretty(&json).map_err(CliError::runtime)?;
        println!("{text}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::input(anyhow::anyhow!("invalid design space\n{}", failures.join("\n"))))
    }
}

/// Points before and after structural constraints (`None` when the space is too large to enumerate here).
pub fn count_points(space: &Space) -> (u64, Option<u64>) {
    const ENUMERATION_LIMIT: u64 = 20_000_000;
    let total = space.point_count();
    if total > ENUMERATION_LIMIT {
        return (total, None);
    }
    let feasible = (0..total)
        .filter(|&i| {
            let design = space.design(spec::PointId(i)).expect("id in range");
            space.structural_violation(&design).is_none()
        })
        .count() as u64;
    (total, Some(feasible))
}

fn domain_text(space: &Space, template: &spec::Template, kind: ParamKind) -> String {
    let pipe = &space.pipelines[template.pipeline];
    let join = |v: Vec<String>| v.join(", ");
    match kind {
        ParamKind::StageModel(s) => join(pipe.models[s].iter().map(|m| space.zoo[*m].name.clone()).collect()),
        ParamKind::Items => join(pipe.items.iter().map(|t| format!("{t:?}")).collect()),
        ParamKind::CpuEngines => {
            join(space.cpu.as_ref().map_or(vec![], |c| c.engines.iter().map(u32::to_string).collect()))
        }
        ParamKind::CpuThreads => {
            join(space.cpu.as_ref().map_or(vec![], |c| c.threads_per_engine.iter().map(u32::to_string).collect()))
        }
        ParamKind::GpuCount => {
            join(space.gpu.as_ref().map_or(vec![], |g| g.count.iter().map(u32::to_string).collect()))
        }
        ParamKind::AccelConfig(_) => join(space.accel.as_ref().map_or(vec![], |a| {
            a.choices.iter().map(|c| format!("{} ({:.3} mm², {:.3} W)", c.label, c.area_mm2, c.power_w)).collect()
        })),
        ParamKind::AccelCount(_) => {
            join(space.accel.as_ref().map_or(vec![], |a| a.count_per_stage.iter().map(u32::to_string).collect()))
        }
    }
}

fn backends_text(b: &[Backend]) -> String {
    b.iter().map(Backend::to_string).collect::<Vec<_>>().join(",")
}

/// The text summary of a valid space.
pub fn summary(space: &Space, (total, feasible): (u64, Option<u64>)) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: valid design space '{}'", space.source, space.name);
    let ds = &space.dataset;
    let data = match (&ds.path, ds.is_synthetic()) {
        (_, true) => "synthetic Criteo-shaped data (no Criteo file found)".to_string(),
        (Some(p), false) => p.clone(),
        (None, false) => "-".to_string(),
    };
    let _ =
        writeln!(out, "  dataset: {} from {data}; {} evaluation queries; seed {}", ds.kind, ds.eval_queries, ds.seed);
    let _ = writeln!(
        out,
        "  models ({}, each with its own quality, latency, accelerator cost and memory):",
        space.zoo.len()
    );
    let width = space.zoo.iter().map(|m| m.name.len()).max().unwrap_or(0);
    for m in &space.zoo {
        let served = match m.datatype {
            Some(dt) => format!("; served in {} (trained once as {})", dt.name(), m.trained_as),
            None => String::new(),
        };
        let _ = writeln!(out, "    {:<width$}  {}{served}", m.name, m.arch.describe());
    }
    let _ = writeln!(out, "  knobs:");
    for t in &space.templates {
        let _ = writeln!(
            out,
            "    {}-stage pipeline on [{}]: {} points",
            space.pipelines[t.pipeline].stages,
            backends_text(&t.backends),
            t.size
        );
        for p in &t.params {
            let _ = writeln!(
                out,
                "      {:<24} ({:>3}) {}",
                Space::param_name(p.kind),
                p.radix,
                domain_text(space, t, p.kind)
            );
        }
    }
    let loads: Vec<String> = space.load.qps.iter().map(|q| format!("{q}")).collect();
    let _ = writeln!(
        out,
        "  load: {} arrivals at {} QPS, {} queries per simulation; SLA p{} <= {} ms",
        space.load.arrival,
        loads.join(", "),
        space.load.queries,
        space.sla.percentile,
        space.sla.target_ms
    );
    let objs: Vec<String> = space
        .objectives
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                if o.direction == crate::spec::metric::Direction::Maximize { "maximize" } else { "minimize" },
                o.metric
            )
        })
        .collect();
    let _ = writeln!(out, "  objectives: {}", objs.join(", "));
    let _ = writeln!(
        out,
        "  search: {}, budget {}, seed {}",
        space.search.strategy, space.search.budget, space.search.seed
    );
    let _ = writeln!(out, "  design points: {total} before constraints");
    match feasible {
        Some(f) => {
            let _ = writeln!(out, "  design points: {f} after structural constraints");
        }
        None => {
            let _ = writeln!(out, "  design points after structural constraints: not enumerated (space too large)");
        }
    }
    out
}

fn summary_json(space: &Space, (total, feasible): (u64, Option<u64>)) -> super::output::ValidateSummary {
    use super::output::{KnobSummary, TemplateSummary, ValidateSummary};
    ValidateSummary {
        file: space.source.clone(),
        name: space.name.clone(),
        seed: space.seed,
        synthetic_data: space.dataset.is_synthetic(),
        templates: space
            .templates
            .iter()
            .map(|t| TemplateSummary {
                stages: space.pipelines[t.pipeline].stages,
                backends: t.backends.iter().map(ToString::to_string).collect(),
                points: t.size,
                knobs: t
                    .params
                    .iter()
                    .map(|p| KnobSummary {
                        knob: Space::param_name(p.kind).to_string(),
                        size: p.radix,
                        domain: domain_text(space, t, p.kind),
                    })
                    .collect(),
            })
            .collect(),
        points_before_constraints: total,
        points_after_constraints: feasible,
    }
}
