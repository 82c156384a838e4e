//! The accelerator fields a design space may sweep (`hardware.accel.sweep` in `spaces/SPEC.md`), declared
//! once as a table: the YAML field name, its unit, how a value is checked, the label fragment it adds to a
//! swept configuration's name, and how it is written into an [`AccelConfig`].
//!
//! A sweep point is an [`Overlay`]: the values of some knobs, applied over a base description. Adding a knob
//! is one row in [`SWEEP_KNOBS`] (plus its line in the spec reference).

use super::AccelConfig;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// How a knob's values are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnobValues {
    /// Whole numbers ≥ 1 (at most 2³²−1).
    Whole,
    /// Whole numbers ≥ 1 that are powers of two.
    PowerOfTwo,
    /// Finite numbers > 0.
    Positive,
}

/// One sweepable field.
#[derive(Debug, Clone, Copy)]
pub struct SweepKnob {
    /// The field name under `hardware.accel.sweep`, with its unit.
    pub field: &'static str,
    /// Which values are allowed.
    pub values: KnobValues,
    /// Label fragment: a swept configuration is named `<base stem>-<prefix><value><suffix>…`.
    pub label_prefix: &'static str,
    /// Label suffix after the value (a unit letter).
    pub label_suffix: &'static str,
    /// Write a value into a configuration.
    pub apply: fn(&mut AccelConfig, f64),
}

/// Every sweepable field, in label and enumeration order (the first knob varies slowest).
pub const SWEEP_KNOBS: &[SweepKnob] = &[
    SweepKnob {
        field: "array_size",
        values: KnobValues::PowerOfTwo,
        label_prefix: "a",
        label_suffix: "",
        apply: |c, v| c.array_size = v as u32,
    },
    SweepKnob {
        field: "weight_sram_kib",
        values: KnobValues::Whole,
        label_prefix: "w",
        label_suffix: "k",
        apply: |c, v| c.weight_sram_bytes = v as u64 * 1024,
    },
    SweepKnob {
        field: "activation_sram_kib",
        values: KnobValues::Whole,
        label_prefix: "act",
        label_suffix: "k",
        apply: |c, v| c.activation_sram_bytes = v as u64 * 1024,
    },
    SweepKnob {
        field: "embedding_cache_kib",
        values: KnobValues::Whole,
        label_prefix: "emb",
        label_suffix: "k",
        apply: |c, v| c.embedding_cache_bytes = v as u64 * 1024,
    },
    SweepKnob {
        field: "dram_bandwidth_gib_s",
        values: KnobValues::Positive,
        label_prefix: "bw",
        label_suffix: "",
        apply: |c, v| c.dram_bandwidth_gib_s = v,
    },
    SweepKnob {
        field: "clock_mhz",
        values: KnobValues::Positive,
        label_prefix: "clk",
        label_suffix: "",
        apply: |c, v| c.clock_mhz = v,
    },
];

/// Knobs are identified by their field name.
impl PartialEq for SweepKnob {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field
    }
}

impl SweepKnob {
    /// The knob of a field name.
    pub fn named(field: &str) -> Option<&'static SweepKnob> {
        SWEEP_KNOBS.iter().find(|k| k.field == field)
    }

    /// Why `v` is not an allowed value, if it is not.
    pub fn check(&self, v: f64) -> Option<String> {
        let whole = v.is_finite() && v >= 1.0 && v.fract().abs() < f64::EPSILON && v <= f64::from(u32::MAX);
        match self.values {
            KnobValues::Positive if !(v.is_finite() && v > 0.0) => Some(format!("must be a positive number, got {v}")),
            KnobValues::Whole | KnobValues::PowerOfTwo if !whole => {
                Some(format!("must be a whole number ≥ 1, got {v}"))
            }
            KnobValues::PowerOfTwo if !(v as u64).is_power_of_two() => Some(format!("must be a power of two, got {v}")),
            _ => None,
        }
    }
}

/// The swept values of one configuration: `(knob, value)` in [`SWEEP_KNOBS`] order; knobs not listed keep
/// the base description's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overlay(pub Vec<(&'static SweepKnob, f64)>);

impl Overlay {
    /// `stem` followed by each swept value's label fragment.
    pub fn label(&self, stem: &str) -> String {
        let mut label = stem.to_string();
        for (knob, v) in &self.0 {
            label += &format!("-{}{v}{}", knob.label_prefix, knob.label_suffix);
        }
        label
    }

    /// Every combination of the listed values, the first knob of the table varying slowest.
    pub fn cartesian(lists: &[(&'static SweepKnob, Vec<f64>)]) -> Vec<Overlay> {
        let mut out = vec![Overlay::default()];
        for knob in SWEEP_KNOBS {
            let Some((_, values)) = lists.iter().find(|(k, _)| std::ptr::eq(*k, knob)) else { continue };
            out = out
                .into_iter()
                .flat_map(|o| {
                    values.iter().map(move |&v| {
                        let mut next = o.clone();
                        next.0.push((knob, v));
                        next
                    })
                })
                .collect();
        }
        out
    }
}

/// Serialised as one entry per knob of the table (`null` when not swept; whole-number knobs as integers), so
/// a fingerprint over a space changes only when a swept value does.
impl Serialize for Overlay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(SWEEP_KNOBS.len()))?;
        for knob in SWEEP_KNOBS {
            let value = self.0.iter().find(|(k, _)| std::ptr::eq(*k, knob)).map(|(_, v)| *v);
            match (value, knob.values) {
                (None, _) => map.serialize_entry(knob.field, &None::<u64>)?,
                (Some(v), KnobValues::Positive) => map.serialize_entry(knob.field, &v)?,
                (Some(v), _) => map.serialize_entry(knob.field, &(v as u64))?,
            }
        }
        map.end()
    }
}

impl AccelConfig {
    /// A copy with a sweep point's values applied; validate the result.
    pub fn with_overlay(&self, overlay: &Overlay) -> Self {
        let mut c = self.clone();
        for (knob, v) in &overlay.0 {
            (knob.apply)(&mut c, *v);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_products_follow_the_table_order() {
        let clock = SweepKnob::named("clock_mhz").unwrap();
        let array = SweepKnob::named("array_size").unwrap();
        let points = Overlay::cartesian(&[(clock, vec![125.0, 250.0]), (array, vec![32.0, 64.0])]);
        let labels: Vec<String> = points.iter().map(|o| o.label("s4")).collect();
        assert_eq!(labels, ["s4-a32-clk125", "s4-a32-clk250", "s4-a64-clk125", "s4-a64-clk250"]);
        let json = serde_json::to_string(&points[0]).unwrap();
        assert_eq!(
            json,
            r#"{"array_size":32,"weight_sram_kib":null,"activation_sram_kib":null,"embedding_cache_kib":null,"dram_bandwidth_gib_s":null,"clock_mhz":125.0}"#
        );
    }

    #[test]
    fn values_are_checked_per_knob() {
        let array = SweepKnob::named("array_size").unwrap();
        assert_eq!(array.check(48.0).as_deref(), Some("must be a power of two, got 48"));
        assert_eq!(array.check(0.0).as_deref(), Some("must be a whole number ≥ 1, got 0"));
        assert!(array.check(64.0).is_none());
        let clock = SweepKnob::named("clock_mhz").unwrap();
        assert_eq!(clock.check(-1.0).as_deref(), Some("must be a positive number, got -1"));
    }
}
