//! `systolic` figures (RecPipe Fig. 10a): weight-stationary systolic-array cycles and utilisation of the
//! DLRMs' fully connected layers on square arrays of several sizes (`accel::systolic`), against SCALE-Sim's
//! cycle counts (Samajdar et al., ISPASS 2020; the artifact ran SCALE-Sim for its Fig. 10a).
//!
//! Cycles are array clock cycles summed over a model's layers at one batch; utilisation is the
//! cycle-weighted fraction of PE-cycles doing useful MACs, `Σ MACs / (Σ cycles · side²)`.

use super::published;
use super::{compare_numbers, resolve, FigureResult, Issues, Plot, PlotKind, Series, SeriesStyle, Table, Tolerance};
use crate::accel::rpaccel::fc_layers;
use crate::accel::systolic::{ws_cycles, Gemm};
use crate::accel::ModelShape;
use serde::Deserialize;
use std::path::Path;

/// Columns of a SCALE-Sim reference file.
pub const REFERENCE_COLUMNS: [&str; 5] = ["model", "array_side", "batch", "layers", "scalesim_cycles"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSystolic {
    batch: u32,
    models: Vec<String>,
    array_sides: Vec<u32>,
    reference: String,
    tolerance_relative: f64,
}

/// One reference row: SCALE-Sim's total cycles of a model on one array.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceRow {
    /// Model name.
    pub model: String,
    /// Array side.
    pub side: u32,
    /// Batch (items).
    pub batch: u32,
    /// Layers summed.
    pub layers: u32,
    /// SCALE-Sim's cycles.
    pub cycles: f64,
}

/// A loaded `systolic` figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Systolic {
    /// Items streamed per layer (the GEMM's M).
    pub batch: u32,
    /// (name, shape) per model.
    pub models: Vec<(String, ModelShape)>,
    /// Array sides (PEs per side).
    pub array_sides: Vec<u32>,
    /// The reference file, as named.
    pub reference_file: String,
    /// SCALE-Sim's numbers.
    pub reference: Vec<ReferenceRow>,
    /// Relative tolerance of the cycle comparison.
    pub tolerance_relative: f64,
}

pub(crate) fn load(raw: RawSystolic, base_dir: &Path, p: &mut Issues) -> Option<Systolic> {
    let before = p.len();
    if raw.batch == 0 {
        p.push(None, "systolic.batch", "must be a positive item count, got 0");
    }
    let mut models = Vec::new();
    for (i, m) in raw.models.iter().enumerate() {
        match ModelShape::from_preset(m) {
            Some(s) => models.push((m.clone(), s)),
            None => p.push(None, format!("systolic.models[{i}]"), format!("unknown model preset '{m}'")),
        }
    }
    if raw.models.is_empty() {
        p.push(None, "systolic.models", "must name at least one model");
    }
    for (i, &s) in raw.array_sides.iter().enumerate() {
        if s == 0 || s > 4096 {
            p.push(None, format!("systolic.array_sides[{i}]"), format!("must be in [1, 4096], got {s}"));
        }
    }
    if raw.array_sides.is_empty() {
        p.push(None, "systolic.array_sides", "must list at least one array side");
    }
    if !(raw.tolerance_relative.is_finite() && raw.tolerance_relative > 0.0) {
        p.push(
            None,
            "systolic.tolerance_relative",
            format!("must be a positive fraction, got {}", raw.tolerance_relative),
        );
    }
    let reference_file = resolve(base_dir, &raw.reference).display().to_string();
    let mut reference = Vec::new();
    if let Some(csv) = published::read(base_dir, &raw.reference, &REFERENCE_COLUMNS, "systolic.reference", p) {
        for row in &csv.rows {
            let r = (|| {
                Ok::<_, crate::input::Issue>(ReferenceRow {
                    model: csv.names(row, "model")?.remove(0),
                    side: csv.count(row, "array_side")?,
                    batch: csv.count(row, "batch")?,
                    layers: csv.count(row, "layers")?,
                    cycles: csv.number(row, "scalesim_cycles")?,
                })
            })();
            match r {
                Ok(r) => reference.push(r),
                Err(e) => p.extend([e]),
            }
        }
    }
    (p.len() == before).then_some(Systolic {
        batch: raw.batch,
        models,
        array_sides: raw.array_sides,
        reference_file,
        reference,
        tolerance_relative: raw.tolerance_relative,
    })
}

/// (cycles, MACs, layers) of `model` at `batch` on a `side × side` array.
pub fn model_cycles(model: &ModelShape, batch: u32, side: u32) -> (u64, u64, usize) {
    let layers = fc_layers(model);
    let mut cycles = 0;
    let mut macs = 0;
    for &(k, n) in &layers {
        let g = Gemm { m: batch as u64, k: k as u64, n: n as u64 };
        cycles += ws_cycles(g, side as u64, side as u64);
        macs += g.macs();
    }
    (cycles, macs, layers.len())
}

pub(crate) fn run(s: &Systolic, out: &mut FigureResult) {
    let mut table = Table {
        columns: ["model", "array_side", "batch", "layers", "cycles", "macs", "utilization", "scalesim_cycles"]
            .map(String::from)
            .to_vec(),
        rows: Vec::new(),
    };
    let mut series = Vec::new();
    for (mi, (name, shape)) in s.models.iter().enumerate() {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for &side in &s.array_sides {
            let (cycles, macs, layers) = model_cycles(shape, s.batch, side);
            let util = macs as f64 / (cycles as f64 * (side as f64).powi(2));
            let reference = s.reference.iter().find(|r| r.model == *name && r.side == side && r.batch == s.batch);
            table.rows.push(vec![
                name.clone(),
                side.to_string(),
                s.batch.to_string(),
                layers.to_string(),
                cycles.to_string(),
                macs.to_string(),
                format!("{util:.6}"),
                reference.map_or(String::new(), |r| r.cycles.to_string()),
            ]);
            ours.push((side as f64, util * 100.0));
            out.values.insert(format!("{name}/{side}x{side}/utilization_pct"), util * 100.0);
            if let Some(r) = reference {
                out.comparisons.push(compare_numbers(
                    "cycles",
                    format!("{name} on {side}×{side}, batch {}", s.batch),
                    r.cycles,
                    cycles as f64,
                    "cycles",
                    Tolerance::Relative(s.tolerance_relative),
                    "the weight-stationary cycle formula departs from SCALE-Sim",
                ));
                theirs.push((side as f64, macs as f64 / (r.cycles * (side as f64).powi(2)) * 100.0));
            }
        }
        series.push(Series { label: format!("{name} (ours)"), color: mi, style: SeriesStyle::Line, points: ours });
        if !theirs.is_empty() {
            series.push(Series {
                label: format!("{name} (SCALE-Sim)"),
                color: mi,
                style: SeriesStyle::Markers,
                points: theirs,
            });
        }
    }
    out.table = table;
    out.plots.push(Plot {
        stem: "utilization".into(),
        title: format!("systolic-array utilisation, weight-stationary, batch {}", s.batch),
        x_label: "array side (PEs per side)".into(),
        y_label: "utilisation (% of PE-cycles)".into(),
        log_x: false,
        log_y: false,
        kind: PlotKind::Lines(series),
    });
    out.notes.push(format!(
        "Cycles: `folds · (2·side + side + M − 2)` per layer (`accel::systolic::ws_cycles`), summed over each \
         model's fully connected layers as the accelerator model sees them; SCALE-Sim numbers from `{}`.",
        s.reference_file
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rm_small_on_a_16_array_is_hand_checked() {
        // 13→64, 64→4, 355→64, 64→1 at M = 512 on 16×16: folds 1·4, 4·1, 23·4, 4·1 of (2·16 + 16 + 512 − 2).
        let shape = ModelShape::from_preset("rm-small").unwrap();
        let (cycles, _, layers) = model_cycles(&shape, 512, 16);
        assert_eq!(layers, 4);
        assert_eq!(cycles, (4 + 4 + 92 + 4) * 558);
    }
}
