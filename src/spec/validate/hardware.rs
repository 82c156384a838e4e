//! The `hardware:` section: CPU, GPU and accelerator knobs, with accelerator presets and sweeps resolved
//! into validated configurations (area and power computed) through `accel`.

use super::*;
use crate::accel::knobs::{Overlay, SweepKnob, SWEEP_KNOBS};

pub(super) fn hardware_cpu(cx: &mut Checker, raw: Option<&RawCpu>, used: bool) -> Option<CpuKnobs> {
    let Some(raw) = raw else {
        if used {
            cx.missing("hardware.cpu", "a pipeline uses backend cpu");
        }
        return None;
    };
    let engines = cx.int_list(&raw.engines, "hardware.cpu.engines", 1, "total CPU engine choices");
    let threads = match &raw.threads_per_engine {
        None => Some(vec![1]),
        list => cx.int_list(list, "hardware.cpu.threads_per_engine", 1, "threads per engine choices"),
    };
    let memory = cx.opt_positive_f64(&raw.memory_gib, "hardware.cpu.memory_gib");
    let cores = match &raw.cores {
        Some(v) if v.value > i64::from(u32::MAX) => {
            cx.err(v, "hardware.cpu.cores", format!("too large, got {}", v.value));
            None
        }
        Some(v) => cx.int_at_least(v, "hardware.cpu.cores", 1).map(|c| Some(c as u32)),
        None => Some(None),
    };
    Some(CpuKnobs { engines: engines?, threads_per_engine: threads?, memory_gib: memory?, cores: cores? })
}

pub(super) fn hardware_gpu(cx: &mut Checker, raw: Option<&RawGpu>, used: bool) -> Option<GpuKnobs> {
    let Some(raw) = raw else {
        if used {
            cx.missing("hardware.gpu", "a pipeline uses backend gpu");
        }
        return None;
    };
    let count = match &raw.count {
        None => Some(vec![1]),
        list => cx.int_list(list, "hardware.gpu.count", 1, "GPUs per GPU stage"),
    };
    let max_total = cx.opt_int(&raw.max_total, "hardware.gpu.max_total", 1, 1);
    let memory = cx.opt_positive_f64(&raw.memory_gib, "hardware.gpu.memory_gib");
    Some(GpuKnobs { count: count?, max_total: max_total? as u32, memory_gib: memory? })
}

pub(super) fn hardware_accel(cx: &mut Checker, raw: Option<&RawAccel>, used: bool) -> Option<AccelKnobs> {
    let Some(raw) = raw else {
        if used {
            cx.missing("hardware.accel", "a pipeline uses backend accel");
        }
        return None;
    };
    let mode = cx.choice(&raw.mode, "hardware.accel.mode", "mode", Some(crate::accel::Mode::Rpaccel));
    let mut choices = Vec::new();
    let mut ok = true;
    for (i, p) in raw.presets.iter().flatten().enumerate() {
        let path = format!("hardware.accel.presets[{i}]");
        match resolve_accel(cx, p, &path, file_stem(&p.value), &Overlay::default()) {
            Some(choice) => choices.push(choice),
            None => ok = false,
        }
    }
    if let Some(sweep) = &raw.sweep {
        match sweep_choices(cx, sweep) {
            Some(mut c) => choices.append(&mut c),
            None => ok = false,
        }
    }
    if ok && choices.is_empty() {
        cx.issues.push(None, "hardware.accel", "needs at least one accelerator: presets and/or sweep");
        ok = false;
    }
    let counts = match &raw.count_per_stage {
        None => Some(vec![1]),
        list => cx.int_list(list, "hardware.accel.count_per_stage", 1, "sub-accelerators per stage"),
    };
    let budget = cx.opt_positive_f64(&raw.area_budget_mm2, "hardware.accel.area_budget_mm2");
    let top_n = cx.choice(&raw.top_n, "hardware.accel.top_n", "top_n", Some(AccelTopN::NextStage));
    let transfers =
        cx.choice(&raw.transfers, "hardware.accel.transfers", "transfers", Some(AccelTransfers::ChipBoundary));
    let python2_division = match &raw.python2_division {
        Some(v) if v.value && mode == Some(crate::accel::Mode::Rpaccel) => {
            cx.err(
                v,
                "hardware.accel.python2_division",
                "applies to mode recpipe2021 only, got true with mode rpaccel".into(),
            );
            None
        }
        Some(v) => Some(v.value),
        None => Some(false),
    };
    if !ok {
        return None;
    }
    let (counts, budget) = (counts?, budget?);
    if let (Some(b), Some(sp)) = (budget, &raw.area_budget_mm2) {
        let least_count = counts.iter().copied().min().unwrap_or(1);
        let smallest = choices.iter().min_by(|x, y| x.area_mm2.total_cmp(&y.area_mm2)).expect("non-empty choices");
        let least_mm2 = smallest.area_mm2 * f64::from(least_count);
        if least_mm2 > b {
            cx.err(
                sp,
                "hardware.accel.area_budget_mm2",
                format!(
                    "area budget {b} mm² is below the smallest accelerator option: {least_count} × {} = {least_mm2:.3} mm²",
                    smallest.label
                ),
            );
            return None;
        }
    }
    Some(AccelKnobs {
        mode: mode?,
        choices,
        count_per_stage: counts,
        area_budget_mm2: budget,
        top_n: top_n?,
        transfers: transfers?,
        python2_division: python2_division?,
    })
}

pub(super) fn file_stem(path: &str) -> String {
    Path::new(path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.to_string())
}

pub(super) fn sweep_choices(cx: &mut Checker, s: &RawAccelSweep) -> Option<Vec<AccelChoice>> {
    let base = match &s.base {
        Some(b) if cx.file_exists(&b.value) => Some(b),
        Some(b) => {
            cx.err(b, "hardware.accel.sweep.base", format!("accelerator description '{}' not found", b.value));
            None
        }
        None => {
            cx.missing("hardware.accel.sweep.base", "the accelerator description the sweep modifies");
            None
        }
    };
    let mut lists = Vec::new();
    let mut ok = true;
    for (field, values) in &s.knobs {
        let path = format!("hardware.accel.sweep.{field}");
        let Some(knob) = SweepKnob::named(field) else {
            let known: Vec<&str> = SWEEP_KNOBS.iter().map(|k| k.field).collect();
            let message = format!("unknown sweep knob '{field}' (expected base or one of {})", known.join(", "));
            match values.first() {
                Some(v) => cx.err(v, &path, message),
                None => cx.issues.push(None, path, message),
            }
            ok = false;
            continue;
        };
        if values.is_empty() {
            cx.issues.push(None, path, "must list at least one value (values to sweep)");
            ok = false;
            continue;
        }
        let mut list = Vec::new();
        for (i, v) in values.iter().enumerate() {
            if let Some(why) = knob.check(v.value) {
                cx.err(v, &format!("{path}[{i}]"), why);
                ok = false;
            } else if list.iter().any(|x: &f64| x.total_cmp(&v.value).is_eq()) {
                cx.err(v, &format!("{path}[{i}]"), format!("duplicate value {}", v.value));
                ok = false;
            } else {
                list.push(v.value);
            }
        }
        lists.push((knob, list));
    }
    let base = base?;
    if !ok {
        return None;
    }
    let stem = file_stem(&base.value);
    let mut out = Vec::new();
    for overlay in Overlay::cartesian(&lists) {
        let label = overlay.label(&stem);
        match resolve_accel(cx, base, "hardware.accel.sweep", label, &overlay) {
            Some(choice) => out.push(choice),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Load the accelerator description `file` (a spec value), apply a sweep point's values, validate the result
/// and compute its area and power. The description's own problems are reported with its file and field
/// paths, after one issue at `path` that says which spec entry named it.
pub(super) fn resolve_accel(
    cx: &mut Checker,
    file: &Sp<String>,
    path: &str,
    label: String,
    overlay: &Overlay,
) -> Option<AccelChoice> {
    use crate::accel::{area_power, hardware::AccelConfig};
    if !cx.file_exists(&file.value) {
        cx.err(file, path, format!("accelerator description '{}' not found", file.value));
        return None;
    }
    let config = match AccelConfig::load(&cx.resolve(&file.value)) {
        Ok(c) => c,
        Err(e) => {
            cx.err(file, path, format!("invalid accelerator description '{}' (its problems follow)", file.value));
            cx.issues.extend(e.into_issues());
            return None;
        }
    };
    let config = config.with_overlay(overlay);
    let problems = config.validate();
    if !problems.is_empty() {
        for (field, message) in problems {
            cx.err(file, path, format!("accelerator '{label}' (from '{}'): {field}: {message}", file.value));
        }
        return None;
    }
    let (area_mm2, power_w) = (area_power::area_mm2(&config), area_power::power_w(&config));
    Some(AccelChoice { label, base: file.value.clone(), overrides: overlay.clone(), config, area_mm2, power_w })
}
