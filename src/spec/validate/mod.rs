//! Rules that turn a [`RawSpace`] into a typed [`Space`], collecting every violation, one file per section
//! of the spec: [`dataset`], [`models`] (zoo and training), [`pipelines`], [`hardware`], [`serving`] (load and
//! SLA) and [`goals`] (objectives, constraints, quality floor, search).
//!
//! Each rule names the field path and the offending value and says what is allowed, through the shared
//! [`Checker`](crate::input::Checker). Rules that need the file system (data-set paths, accelerator
//! description files) resolve against the directory of the spec; everything else is pure.

mod dataset;
mod goals;
mod hardware;
mod models;
mod pipelines;
mod serving;

use super::metric::{metric_syntax, Metric};
use super::raw::*;
use super::space::*;
use crate::input::{Checker, InputError};
use crate::model::{self, knobs, Fit, Variant, ZooModel};
use crate::zoo::precision::Datatype;
use dataset::dataset;
use goals::{constraints, objectives, quality_floor, search};
use hardware::{hardware_accel, hardware_cpu, hardware_gpu};
use models::{training, zoo};
use pipelines::pipelines;
use serving::{load, sla};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Most stages a pipeline may have.
pub const MAX_STAGES: i64 = 8;

type Sp<T> = serde_saphyr::Spanned<T>;

/// Validate a parsed document. `file` names the source in messages; `base_dir` resolves relative paths.
pub(crate) fn validate(mut raw: RawSpace, file: &str, base_dir: &Path) -> Result<Space, InputError> {
    // The quality floor names metrics of the finished space, so it is checked once the rest is valid.
    let raw_floor = raw.quality_floor.take();
    let mut cx = Checker::new(file, base_dir);
    let name = match &raw.name {
        Some(n) if is_identifier(&n.value) => Some(n.value.clone()),
        Some(n) => {
            cx.err(n, "name", format!("must be a non-empty name of letters, digits, '-' or '_', got '{}'", n.value));
            None
        }
        None => {
            cx.missing("name", "the space's name, used in report folder names");
            None
        }
    };
    let seed = cx.opt_int(&raw.seed, "seed", 0, 0);
    let dataset = match &raw.dataset {
        Some(d) => dataset(&mut cx, d, seed.unwrap_or(0)),
        None => {
            cx.missing("dataset", "the data set quality is measured on");
            None
        }
    };
    let zoo = match &raw.models {
        Some(models) if !models.is_empty() => zoo(&mut cx, models, dataset.as_ref()),
        _ => {
            cx.missing("models", "a non-empty model zoo");
            None
        }
    };
    let training = training(&mut cx, raw.training.as_ref(), dataset.as_ref().map(|d| d.kind), seed.unwrap_or(0));
    let top_k = match raw.quality.as_ref().and_then(|q| q.top_k.as_ref()) {
        Some(k) => cx.int_at_least(k, "quality.top_k", 1).map(|k| k as u32),
        None => Some(64),
    };
    let pipelines = match (&raw.pipelines, &zoo) {
        (Some(p), _) if p.is_empty() => {
            cx.issues.push(None, "pipelines", "must list at least one pipeline entry");
            None
        }
        (Some(p), Some((zoo, groups))) => pipelines(&mut cx, p, zoo, groups, dataset.as_ref(), top_k),
        (Some(_), None) => None,
        (None, _) => {
            cx.missing("pipelines", "the pipeline depths with their model, item and backend choices");
            None
        }
    };
    let used: HashSet<Backend> =
        pipelines.iter().flatten().flat_map(|p| p.backends.iter().flatten().copied()).collect();
    let hw = raw.hardware.as_ref();
    let cpu = hardware_cpu(&mut cx, hw.and_then(|h| h.cpu.as_ref()), used.contains(&Backend::Cpu));
    let gpu = hardware_gpu(&mut cx, hw.and_then(|h| h.gpu.as_ref()), used.contains(&Backend::Gpu));
    let accel = hardware_accel(&mut cx, hw.and_then(|h| h.accel.as_ref()), used.contains(&Backend::Accel));
    if let (Some(pipes), Some(gpu)) = (&pipelines, &gpu) {
        let least = gpu.count.iter().copied().min().unwrap_or(1);
        for (i, p) in pipes.iter().enumerate() {
            for (j, tuple) in p.backends.iter().enumerate() {
                let n = tuple.iter().filter(|b| **b == Backend::Gpu).count() as u32;
                if n * least > gpu.max_total {
                    cx.issues.push(
                        None,
                        format!("pipelines[{i}].backends[{j}]"),
                        format!(
                            "{n} GPU stages need at least {} GPUs but hardware.gpu.max_total is {}",
                            n * least,
                            gpu.max_total
                        ),
                    );
                }
            }
        }
    }
    if let (Some(pipes), Some(accel)) = (&pipelines, &accel) {
        if let Some(budget) = accel.area_budget_mm2 {
            let least_count = f64::from(accel.count_per_stage.iter().copied().min().unwrap_or(1));
            let least_stage_mm2 = accel.choices.iter().map(|c| c.area_mm2).fold(f64::INFINITY, f64::min) * least_count;
            for (i, p) in pipes.iter().enumerate() {
                for (j, tuple) in p.backends.iter().enumerate() {
                    let n = tuple.iter().filter(|b| **b == Backend::Accel).count();
                    if n > 0 && least_stage_mm2 * n as f64 > budget * (1.0 + 1e-9) {
                        cx.issues.push(
                            None,
                            format!("pipelines[{i}].backends[{j}]"),
                            format!(
                                "{n} accelerator stages need at least {:.3} mm² but hardware.accel.area_budget_mm2 is {budget}",
                                least_stage_mm2 * n as f64
                            ),
                        );
                    }
                }
            }
        }
    }
    let load = load(&mut cx, raw.load.as_ref());
    let sla = sla(&mut cx, raw.sla.as_ref());
    let objectives = objectives(&mut cx, raw.objectives.as_deref(), top_k);
    let constraints = constraints(&mut cx, raw.constraints.as_deref(), top_k);
    let search = search(&mut cx, raw.search.as_ref(), seed.unwrap_or(0));
    let output_dir = match raw.output.as_ref().and_then(|o| o.dir.as_ref()) {
        Some(d) if d.value.trim().is_empty() => {
            cx.err(d, "output.dir", "must be a non-empty path".to_string());
            None
        }
        Some(d) => Some(d.value.clone()),
        None => Some("reports".to_string()),
    };
    if let (Some(objs), Some(pipes)) = (&objectives, &pipelines) {
        let any_accel = pipes.iter().any(|p| p.backends.iter().flatten().any(|b| *b == Backend::Accel));
        for (i, o) in objs.iter().enumerate() {
            if o.metric.accelerator_only() && !any_accel {
                cx.issues.push(
                    None,
                    format!("objectives[{i}].metric"),
                    format!(
                        "'{}' is defined only for accelerator stages, but no pipeline uses backend accel",
                        o.metric
                    ),
                );
            }
        }
    }

    if !cx.issues.is_empty() {
        return Err(InputError { issues: cx.issues.list });
    }
    // Every Option below is Some: a None always came with a recorded issue.
    let zoo = zoo.map(|(models, _groups)| models);
    let (Some(name), Some(seed), Some(dataset), Some(zoo), Some(top_k), Some(pipelines), Some(training)) =
        (name, seed, dataset, zoo, top_k, pipelines, training)
    else {
        unreachable!("a missing value always records an issue")
    };
    let (Some(load), Some(sla), Some(objectives), Some(constraints), Some(search), Some(output_dir)) =
        (load, sla, objectives, constraints, search, output_dir)
    else {
        unreachable!("a missing value always records an issue")
    };
    let templates = Template::build_all(&pipelines, cpu.as_ref(), gpu.as_ref(), accel.as_ref());
    Ok(Space {
        source: file.to_string(),
        name,
        description: raw.description,
        seed,
        dataset,
        zoo,
        training,
        top_k,
        pipelines,
        templates,
        cpu,
        gpu,
        accel,
        load,
        sla,
        objectives,
        constraints,
        quality_floor: Vec::new(),
        search,
        output_dir,
    })
    .and_then(|mut space: Space| {
        let mut cx = Checker::new(file, base_dir);
        space.quality_floor = quality_floor(&mut cx, raw_floor.as_deref(), &space).unwrap_or_default();
        cx.finish(space)
    })
}

pub(super) fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}
