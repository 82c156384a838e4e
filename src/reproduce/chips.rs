//! `area-power` figures (RecPipe Fig. 11): per-component area and power of accelerator chips from the
//! synthesis calibration (`accel::area_power`, `calib/synthesis-gf12lp.yaml`), set beside the published chip
//! totals, and the overhead of each design over the first one (the paper: RPAccel's features cost +7.6 %
//! area and +27.4 % power over a "TPU-like" baseline). Area mm², power W, overheads in per cent.

use super::{compare_numbers, resolve, FigureResult, Issues, Plot, PlotKind, Table, Tolerance};
use crate::accel::{area_power, AccelConfig};
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChips {
    designs: Vec<RawDesign>,
    #[serde(default)]
    tolerance_relative: Option<f64>,
    overhead: Option<RawOverhead>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDesign {
    name: String,
    hardware: String,
    published_area_mm2: f64,
    published_power_w: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverhead {
    published_area_pct: f64,
    published_power_pct: f64,
    tolerance_points: f64,
}

/// One chip.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    /// Label.
    pub name: String,
    /// The description file, as named.
    pub file: String,
    /// The description.
    pub hardware: AccelConfig,
    /// Published total area, mm².
    pub published_area_mm2: f64,
    /// Published total power, W.
    pub published_power_w: f64,
}

/// A loaded `area-power` figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Chips {
    /// The chips; overheads are of each later one over the first.
    pub designs: Vec<Design>,
    /// Relative tolerance of the totals.
    pub tolerance_relative: f64,
    /// Published overheads of the second design over the first: (area %, power %, tolerance in points).
    pub overhead: Option<(f64, f64, f64)>,
}

pub(crate) fn load(raw: RawChips, base_dir: &Path, p: &mut Issues) -> Option<Chips> {
    let before = p.len();
    if raw.designs.is_empty() {
        p.push(None, "chips.designs", "must list at least one design");
    }
    let tolerance_relative = raw.tolerance_relative.unwrap_or(0.005);
    if !(tolerance_relative.is_finite() && tolerance_relative > 0.0) {
        p.push(None, "chips.tolerance_relative", format!("must be a positive fraction, got {tolerance_relative}"));
    }
    let mut designs = Vec::new();
    for (i, d) in raw.designs.iter().enumerate() {
        for (f, v) in [("published_area_mm2", d.published_area_mm2), ("published_power_w", d.published_power_w)] {
            if !(v.is_finite() && v > 0.0) {
                p.push(None, format!("chips.designs[{i}].{f}"), format!("must be a positive number, got {v}"));
            }
        }
        let path = resolve(base_dir, &d.hardware);
        match AccelConfig::load(&path) {
            Ok(hw) => designs.push(Design {
                name: d.name.clone(),
                file: d.hardware.clone(),
                hardware: hw,
                published_area_mm2: d.published_area_mm2,
                published_power_w: d.published_power_w,
            }),
            Err(e) => p.push(None, format!("chips.designs[{i}].hardware"), e.to_string()),
        }
    }
    let overhead = raw.overhead.map(|o| (o.published_area_pct, o.published_power_pct, o.tolerance_points));
    if let Some((_, _, t)) = overhead {
        if !(t.is_finite() && t > 0.0) {
            p.push(None, "chips.overhead.tolerance_points", format!("must be a positive number, got {t}"));
        }
        if raw.designs.len() < 2 {
            p.push(None, "chips.overhead", "needs at least two designs (overheads are over the first)");
        }
    }
    (p.len() == before).then_some(Chips { designs, tolerance_relative, overhead })
}

pub(crate) fn run(c: &Chips, out: &mut FigureResult) {
    let breakdowns: Vec<area_power::Breakdown> = c.designs.iter().map(|d| area_power::breakdown(&d.hardware)).collect();
    let mut components: Vec<&'static str> = Vec::new();
    for b in &breakdowns {
        for comp in &b.components {
            if !components.contains(&comp.name) {
                components.push(comp.name);
            }
        }
    }
    let mut table = Table {
        columns: ["design", "component", "count", "area_mm2", "power_w"].map(String::from).to_vec(),
        rows: Vec::new(),
    };
    for (d, b) in c.designs.iter().zip(&breakdowns) {
        for comp in &b.components {
            table.rows.push(vec![
                d.name.clone(),
                comp.name.to_string(),
                format!("{}", comp.count),
                format!("{:.6}", comp.area_um2 * 1e-6),
                format!("{:.6}", comp.power_mw * 1e-3),
            ]);
        }
        table.rows.push(vec![
            d.name.clone(),
            "total".into(),
            String::new(),
            format!("{:.6}", b.area_mm2()),
            format!("{:.6}", b.power_w()),
        ]);
        let tol = Tolerance::Relative(c.tolerance_relative);
        let reason = "the synthesis calibration differs from the published totals";
        for (what, published, ours, unit) in
            [("area", d.published_area_mm2, b.area_mm2(), "mm²"), ("power", d.published_power_w, b.power_w(), "W")]
        {
            out.comparisons.push(compare_numbers(
                "totals",
                format!("{}: {what}", d.name),
                published,
                ours,
                unit,
                tol,
                reason,
            ));
        }
        let key = d.name.to_lowercase();
        out.values.insert(format!("{key}/area_mm2"), b.area_mm2());
        out.values.insert(format!("{key}/power_w"), b.power_w());
    }
    if let (Some((pa, pp, t)), Some(first)) = (c.overhead, breakdowns.first()) {
        for (d, b) in c.designs.iter().zip(&breakdowns).skip(1) {
            let area = (b.area_mm2() / first.area_mm2() - 1.0) * 100.0;
            let power = (b.power_w() / first.power_w() - 1.0) * 100.0;
            let reason = "the totals behind the overhead differ";
            let what = format!("{} over {}", d.name, c.designs[0].name);
            for (kind, published, ours) in [("area", pa, area), ("power", pp, power)] {
                let item = format!("{what}: {kind}");
                out.comparisons.push(compare_numbers(
                    "overhead",
                    item,
                    published,
                    ours,
                    "%",
                    Tolerance::Absolute(t),
                    reason,
                ));
            }
            let key = d.name.to_lowercase();
            out.values.insert(format!("{key}/area_overhead_pct"), area);
            out.values.insert(format!("{key}/power_overhead_pct"), power);
        }
    }
    let categories: Vec<String> = c.designs.iter().map(|d| d.name.clone()).collect();
    let stack = |f: fn(&area_power::Component) -> f64| -> Vec<(String, Vec<f64>)> {
        components
            .iter()
            .map(|&name| {
                let values = breakdowns
                    .iter()
                    .map(|b| b.components.iter().filter(|x| x.name == name).map(f).sum::<f64>())
                    .collect();
                (name.to_string(), values)
            })
            .collect()
    };
    for (stem, title, unit, f) in [
        ("area", "area by component", "area (mm²)", (|x: &area_power::Component| x.area_um2 * 1e-6) as fn(&_) -> f64),
        ("power", "power by component", "power (W)", |x: &area_power::Component| x.power_mw * 1e-3),
    ] {
        out.plots.push(Plot {
            stem: stem.into(),
            title: title.into(),
            x_label: "design".into(),
            y_label: unit.into(),
            log_x: false,
            log_y: false,
            kind: PlotKind::StackedBars { categories: categories.clone(), stacks: stack(f) },
        });
    }
    out.table = table;
    out.notes.push(
        "Component area and power come from the synthesis calibration in `calib/synthesis-gf12lp.yaml` \
         (GlobalFoundries 12LP cell areas, SRAM macro constants) composed by `accel::area_power`."
            .into(),
    );
    for d in &c.designs {
        out.notes.push(format!("{}: `{}`.", d.name, d.file));
    }
}
