//! One (sub-)accelerator configuration: [`AccelConfig`], its YAML form, the original RecPipe
//! `hardconf_*.json` form, and validation that reports every problem with file, field and value.
//!
//! Units are in the field names: `_mhz` (clock), `_gib_s` (2^30 bytes per second), `_gb_s` (10^9 bytes per
//! second), `_cycles` (accelerator clock cycles), `_bytes`, `_us`. A "sub-accelerator of size S" in RecPipe
//! terms is 1/S of the full 128×128 chip: array side 128/√S (S = 1, 4, 16, 64 → 128, 64, 32, 16).
//!
//! Mapping of the RecPipe JSON fields (`configs/accel_configs/hardconf_*.json`): `clock` (ns per cycle) → `clock_mhz` =
//! 1000 / clock; `dram_latency` → `dram_latency_cycles`; `dram_bandwidth` (GiB/s) → `dram_bandwidth_gib_s`;
//! `l1_cache_capacity` → `embedding_cache_bytes`; `weight_sram_size` → `weight_sram_bytes`; `arraysize` → `array_size`;
//! `dram_capacity` (GiB) → `dram_capacity_gib`, used only by the explore's memory-capacity rule. The remaining fields
//! (`flash_*`, `weight_sram_latency`, `output_sram_*`, `pe_count`) are accepted and checked for type but not used by
//! any model here (the original never used them either). Fields the JSON does not have are derived from the Fig. 11
//! chip scaled by the array's share of it: activation SRAM 4 MiB · (side/128)², top-k units 1024 · (side/128)²; the
//! PCIe link and the remaining fields take their defaults.

use crate::input::Issue;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which silicon the configuration describes (selects the area/power composition, `area_power`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// RPAccel: reconfigurable array of 4×4 blocks, crossbars, SIMD accumulators, top-k filter units,
    /// activation SRAM in 4 KiB high-density macros.
    #[default]
    Rpaccel,
    /// The Fig. 11 "TPU-like" baseline: monolithic array, one SIMD accumulator per column, no filters, host
    /// sorting, activation SRAM in 32 KiB high-speed macros.
    Baseline,
}

fn default_burst() -> u32 {
    64
}
fn default_sram_port() -> u32 {
    64
}
fn default_element_bytes() -> u32 {
    2
}
fn default_bins() -> u32 {
    16
}
fn default_pcie_bw() -> f64 {
    crate::accel::pcie::DEFAULT_LINK_GB_S
}
fn default_pcie_latency() -> f64 {
    crate::accel::pcie::DEFAULT_LATENCY_US
}

/// One accelerator (a 1/S sub-accelerator or a whole chip).
///
/// YAML field reference with units and defaults: `accel/README.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccelConfig {
    /// Free-form label used in reports.
    #[serde(default)]
    pub name: Option<String>,
    /// Silicon composition for area and power.
    #[serde(default)]
    pub architecture: Architecture,
    /// Processing elements per side of the square systolic array (power of two).
    pub array_size: u32,
    /// Clock frequency, MHz.
    pub clock_mhz: f64,
    /// Off-chip DRAM bandwidth available to this accelerator, GiB/s.
    pub dram_bandwidth_gib_s: f64,
    /// Off-chip DRAM capacity of this accelerator, GiB: the embedding tables and weights of a model it serves
    /// must fit (each sub-accelerator serves whole queries, so it holds a full copy). Absent: not checked.
    #[serde(default)]
    pub dram_capacity_gib: Option<f64>,
    /// Fixed DRAM access latency, cycles.
    pub dram_latency_cycles: u32,
    /// DRAM access granularity (a miss moves at least this many bytes), bytes.
    #[serde(default = "default_burst")]
    pub dram_burst_bytes: u32,
    /// Weight SRAM capacity, bytes.
    pub weight_sram_bytes: u64,
    /// Activation SRAM capacity, bytes.
    pub activation_sram_bytes: u64,
    /// On-chip embedding cache capacity, bytes.
    pub embedding_cache_bytes: u64,
    /// Embedding SRAM read bandwidth, bytes per cycle.
    #[serde(default = "default_sram_port")]
    pub embedding_sram_bytes_per_cycle: u32,
    /// Bytes per datapath element (embedding values, weights, activations, scores).
    #[serde(default = "default_element_bytes")]
    pub element_bytes: u32,
    /// Number of top-k filter units (each consumes one score per cycle).
    pub topk_units: u32,
    /// Histogram bins of a top-k filter unit.
    #[serde(default = "default_bins")]
    pub topk_bins: u32,
    /// Host link bandwidth, 10^9 bytes per second.
    #[serde(default = "default_pcie_bw")]
    pub pcie_bandwidth_gb_s: f64,
    /// Fixed cost of one host transfer (driver, DMA set-up, completion), µs.
    #[serde(default = "default_pcie_latency")]
    pub pcie_latency_us: f64,
}

/// The two description formats: RecPipe's original JSON configs and our YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DescriptionFormat {
    /// `.json`: a RecPipe config file.
    RecpipeJson,
    /// `.yaml` / `.yml`: our form.
    Yaml,
}

/// Read an accelerator or model description file: (name for messages, format by extension, text).
pub(crate) fn read_description(path: &Path) -> Result<(String, DescriptionFormat, String), AccelError> {
    let file = path.display().to_string();
    let format = match path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase().as_str() {
        "json" => DescriptionFormat::RecpipeJson,
        "yaml" | "yml" => DescriptionFormat::Yaml,
        _ => return Err(AccelError::UnknownFormat { file }),
    };
    let text = std::fs::read_to_string(path).map_err(|error| AccelError::Io { file: file.clone(), error })?;
    Ok((file, format, text))
}

/// Why an accelerator or model description could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AccelError {
    /// The file could not be read.
    #[error("{file}: cannot read file: {error}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The file extension selects no known format.
    #[error("{file}: unknown file type (expected .yaml, .yml or .json)")]
    UnknownFormat {
        /// The file.
        file: String,
    },
    /// Syntax, type or unknown-field errors from the parser, and validation problems; never empty.
    #[error("{}", join_issues(.0))]
    Invalid(Vec<Issue>),
}

fn join_issues(issues: &[Issue]) -> String {
    issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

impl AccelError {
    /// One issue.
    pub fn issue(file: &str, field: &str, message: impl Into<String>) -> Self {
        AccelError::Invalid(vec![Issue {
            file: file.to_string(),
            position: None,
            path: field.to_string(),
            message: message.into(),
        }])
    }
    /// The issues (empty for I/O and format errors).
    pub fn issues(&self) -> &[Issue] {
        match self {
            AccelError::Invalid(v) => v,
            _ => &[],
        }
    }

    /// Every problem as input issues: the parser's and validator's own, or one naming the file.
    pub fn into_issues(self) -> Vec<Issue> {
        match self {
            AccelError::Invalid(v) => v,
            AccelError::Io { file, error } => vec![Issue::field(file, "", format!("cannot read file: {error}"))],
            AccelError::UnknownFormat { file } => {
                vec![Issue::field(file, "", "unknown file type (expected .yaml, .yml or .json)")]
            }
        }
    }
}

impl From<crate::input::InputError> for AccelError {
    fn from(e: crate::input::InputError) -> Self {
        AccelError::Invalid(e.issues)
    }
}

/// RecPipe's `configs/accel_configs/hardconf_*.json`; every key of the shipped files, all required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecPipeHardconf {
    clock: f64,
    dram_latency: f64,
    flash_latency: f64,
    dram_bandwidth: f64,
    flash_bandwidth: f64,
    dram_capacity: f64,
    flash_capacity: f64,
    l1_cache_capacity: f64,
    weight_sram_latency: f64,
    weight_sram_size: f64,
    output_sram_latency: f64,
    output_sram_size: f64,
    pe_count: f64,
    arraysize: f64,
}

/// Side of the full RPAccel chip's array (Fig. 11), PEs.
pub const FULL_CHIP_ARRAY_SIZE: u32 = 128;
/// Activation SRAM of the full chip (Fig. 11), bytes.
pub const FULL_CHIP_ACTIVATION_SRAM_BYTES: u64 = 4 << 20;
/// Top-k filter units of the full chip (Fig. 11).
pub const FULL_CHIP_TOPK_UNITS: u32 = 1024;

fn whole(file: &str, field: &str, v: f64, issues: &mut Vec<Issue>) -> Option<u64> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64 * 4096.0 {
        Some(v as u64)
    } else {
        issues.push(Issue::field(file, field, format!("must be a non-negative whole number, got {v}")));
        None
    }
}

impl AccelConfig {
    /// Parse our YAML form and validate it. `origin` names the file in error messages.
    pub fn from_yaml_str(text: &str, origin: &str) -> Result<Self, AccelError> {
        let cfg: AccelConfig = crate::input::parse_yaml(text, origin)?;
        cfg.check(origin)?;
        Ok(cfg)
    }

    /// Parse an original RecPipe `hardconf_*.json` and validate the result. `origin` names the file.
    pub fn from_recpipe_json_str(text: &str, origin: &str) -> Result<Self, AccelError> {
        let raw: RecPipeHardconf = crate::input::parse_json(text, origin)?;
        let mut issues = Vec::new();
        if !(raw.clock.is_finite() && raw.clock > 0.0) {
            issues.push(Issue {
                file: origin.into(),
                position: None,
                path: "clock".into(),
                message: format!("must be a positive number of ns per cycle, got {}", raw.clock),
            });
        }
        let array = whole(origin, "arraysize", raw.arraysize, &mut issues);
        let latency = whole(origin, "dram_latency", raw.dram_latency, &mut issues);
        let l1 = whole(origin, "l1_cache_capacity", raw.l1_cache_capacity, &mut issues);
        let wsram = whole(origin, "weight_sram_size", raw.weight_sram_size, &mut issues);
        // Unused by every model; still must be sane numbers.
        for (field, v) in [
            ("flash_latency", raw.flash_latency),
            ("flash_bandwidth", raw.flash_bandwidth),
            ("dram_capacity", raw.dram_capacity),
            ("flash_capacity", raw.flash_capacity),
            ("weight_sram_latency", raw.weight_sram_latency),
            ("output_sram_latency", raw.output_sram_latency),
            ("output_sram_size", raw.output_sram_size),
            ("pe_count", raw.pe_count),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                issues.push(Issue {
                    file: origin.into(),
                    position: None,
                    path: field.into(),
                    message: format!("must be a non-negative number, got {v}"),
                });
            }
        }
        if !issues.is_empty() {
            return Err(AccelError::Invalid(issues));
        }
        let array_size = array.unwrap_or(0).min(u32::MAX as u64) as u32;
        let share = (array_size as f64 / FULL_CHIP_ARRAY_SIZE as f64).powi(2);
        let cfg = AccelConfig {
            name: None,
            architecture: Architecture::Rpaccel,
            array_size,
            clock_mhz: 1000.0 / raw.clock,
            dram_bandwidth_gib_s: raw.dram_bandwidth,
            dram_capacity_gib: Some(raw.dram_capacity),
            dram_latency_cycles: latency.unwrap_or(0).min(u32::MAX as u64) as u32,
            dram_burst_bytes: default_burst(),
            weight_sram_bytes: wsram.unwrap_or(0),
            activation_sram_bytes: (FULL_CHIP_ACTIVATION_SRAM_BYTES as f64 * share).round() as u64,
            embedding_cache_bytes: l1.unwrap_or(0),
            embedding_sram_bytes_per_cycle: default_sram_port(),
            element_bytes: default_element_bytes(),
            topk_units: ((FULL_CHIP_TOPK_UNITS as f64 * share).round() as u32).max(1),
            topk_bins: default_bins(),
            pcie_bandwidth_gb_s: default_pcie_bw(),
            pcie_latency_us: default_pcie_latency(),
        };
        // Report problems under the JSON's own field names.
        let rename = |f: &str| -> String {
            match f {
                "array_size" => "arraysize",
                "clock_mhz" => "clock",
                "dram_bandwidth_gib_s" => "dram_bandwidth",
                "dram_latency_cycles" => "dram_latency",
                "weight_sram_bytes" => "weight_sram_size",
                "embedding_cache_bytes" => "l1_cache_capacity",
                other => other,
            }
            .to_string()
        };
        let problems = cfg.validate();
        if !problems.is_empty() {
            return Err(AccelError::Invalid(
                problems
                    .into_iter()
                    .map(|(field, message)| Issue {
                        file: origin.into(),
                        position: None,
                        path: rename(&field),
                        message: if field == "clock_mhz" {
                            format!("must give a positive clock, got {} ns per cycle", raw.clock)
                        } else {
                            message
                        },
                    })
                    .collect(),
            ));
        }
        Ok(cfg)
    }

    /// Read and parse a file: `.json` → RecPipe hardconf, `.yaml`/`.yml` → our form.
    pub fn load(path: &Path) -> Result<Self, AccelError> {
        let (file, format, text) = read_description(path)?;
        match format {
            DescriptionFormat::RecpipeJson => Self::from_recpipe_json_str(&text, &file),
            DescriptionFormat::Yaml => Self::from_yaml_str(&text, &file),
        }
    }

    fn check(&self, origin: &str) -> Result<(), AccelError> {
        let problems = self.validate();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AccelError::Invalid(
                problems.into_iter().map(|(field, message)| Issue::field(origin, field, message)).collect(),
            ))
        }
    }

    /// Every problem with the values, as (field, message naming the value); empty when valid.
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut bad = |field: &str, msg: String| out.push((field.to_string(), msg));
        if self.array_size == 0 || !self.array_size.is_power_of_two() {
            bad("array_size", format!("must be a positive power of two, got {}", self.array_size));
        } else if self.array_size > 4096 {
            bad("array_size", format!("must be at most 4096, got {}", self.array_size));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.clock_mhz) {
            bad("clock_mhz", format!("must be a positive number, got {}", self.clock_mhz));
        }
        if !positive(self.dram_bandwidth_gib_s) {
            bad("dram_bandwidth_gib_s", format!("must be a positive number, got {}", self.dram_bandwidth_gib_s));
        }
        if self.dram_burst_bytes == 0 {
            bad("dram_burst_bytes", "must be positive, got 0".into());
        }
        if self.weight_sram_bytes == 0 {
            bad("weight_sram_bytes", "must be positive, got 0".into());
        }
        if self.activation_sram_bytes == 0 {
            bad("activation_sram_bytes", "must be positive, got 0".into());
        }
        if self.embedding_sram_bytes_per_cycle == 0 {
            bad("embedding_sram_bytes_per_cycle", "must be positive, got 0".into());
        }
        if !matches!(self.element_bytes, 1 | 2 | 4 | 8) {
            bad("element_bytes", format!("must be 1, 2, 4 or 8, got {}", self.element_bytes));
        }
        if self.topk_units == 0 {
            bad("topk_units", "must be positive, got 0".into());
        }
        if self.topk_bins == 0 {
            bad("topk_bins", "must be positive, got 0".into());
        }
        if !positive(self.pcie_bandwidth_gb_s) {
            bad("pcie_bandwidth_gb_s", format!("must be a positive number, got {}", self.pcie_bandwidth_gb_s));
        }
        if !(self.pcie_latency_us.is_finite() && self.pcie_latency_us >= 0.0) {
            bad("pcie_latency_us", format!("must be a non-negative number, got {}", self.pcie_latency_us));
        }
        if let Some(c) = self.dram_capacity_gib.filter(|c| !positive(*c)) {
            bad("dram_capacity_gib", format!("must be a positive number, got {c}"));
        }
        out
    }

    /// Nanoseconds per cycle.
    #[inline]
    pub fn clock_ns(&self) -> f64 {
        1000.0 / self.clock_mhz
    }

    /// Clock, Hz.
    #[inline]
    pub fn clock_hz(&self) -> f64 {
        self.clock_mhz * 1e6
    }

    /// DRAM bandwidth in bytes per cycle.
    #[inline]
    pub fn dram_bytes_per_cycle(&self) -> f64 {
        self.dram_bandwidth_gib_s * (1u64 << 30) as f64 / self.clock_hz()
    }

    /// Processing elements (array_size²).
    #[inline]
    pub fn pes(&self) -> u64 {
        (self.array_size as u64) * (self.array_size as u64)
    }

    /// The label: `name` if given, else `array<side>`.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("array{}", self.array_size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HARDCONF_4: &str = r#"{ "clock": 8, "dram_latency": 100, "flash_latency": 20000,
        "dram_bandwidth": 8, "flash_bandwidth": 0.1, "dram_capacity": 32, "flash_capacity": 256,
        "l1_cache_capacity": 1000000, "weight_sram_latency": 1, "weight_sram_size": 1000000,
        "output_sram_latency": 1, "output_sram_size": 100, "pe_count": 1, "arraysize": 64 }"#;

    #[test]
    fn recpipe_json_maps_fields() {
        let c = AccelConfig::from_recpipe_json_str(HARDCONF_4, "h4.json").unwrap();
        assert_eq!(c.array_size, 64);
        assert!((c.clock_mhz - 125.0).abs() < 1e-12);
        assert!((c.clock_ns() - 8.0).abs() < 1e-12);
        assert_eq!(c.dram_latency_cycles, 100);
        assert_eq!(c.weight_sram_bytes, 1_000_000);
        assert_eq!(c.embedding_cache_bytes, 1_000_000);
        assert_eq!(c.activation_sram_bytes, 1 << 20);
        assert_eq!(c.topk_units, 256);
    }

    #[test]
    fn json_errors_name_field_and_value() {
        let bad = HARDCONF_4.replace("\"arraysize\": 64", "\"arraysize\": 48");
        let err = AccelConfig::from_recpipe_json_str(&bad, "h.json").unwrap_err().to_string();
        assert_eq!(err, "h.json: arraysize: must be a positive power of two, got 48");
        let unknown = HARDCONF_4.replace("\"pe_count\"", "\"pe_cnt\"");
        let err = AccelConfig::from_recpipe_json_str(&unknown, "h.json").unwrap_err().to_string();
        assert!(err.contains("pe_cnt"), "{err}");
    }

    #[test]
    fn yaml_reports_every_problem() {
        let text = "array_size: 0\nclock_mhz: -1\ndram_bandwidth_gib_s: 8\ndram_latency_cycles: 100\n\
                    weight_sram_bytes: 0\nactivation_sram_bytes: 1024\nembedding_cache_bytes: 0\n\
                    topk_units: 16\n";
        let err = AccelConfig::from_yaml_str(text, "x.yaml").unwrap_err();
        let msgs: Vec<String> = err.issues().iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            vec![
                "x.yaml: array_size: must be a positive power of two, got 0",
                "x.yaml: clock_mhz: must be a positive number, got -1",
                "x.yaml: weight_sram_bytes: must be positive, got 0",
            ]
        );
    }

    #[test]
    fn overrides_apply_in_bytes() {
        let c = AccelConfig::from_recpipe_json_str(HARDCONF_4, "h4.json").unwrap();
        let knob = |f| crate::accel::knobs::SweepKnob::named(f).unwrap();
        let o = crate::accel::knobs::Overlay(vec![(knob("array_size"), 32.0), (knob("embedding_cache_kib"), 2048.0)]);
        let d = c.with_overlay(&o);
        assert_eq!(d.array_size, 32);
        assert_eq!(d.embedding_cache_bytes, 2 << 20);
        assert_eq!(d.weight_sram_bytes, c.weight_sram_bytes);
        assert!(d.validate().is_empty());
    }

    #[test]
    fn yaml_type_errors_name_field_and_value() {
        let text = "array_size: -1\nclock_mhz: 125\ndram_bandwidth_gib_s: 8\ndram_latency_cycles: 100\n\
                    weight_sram_bytes: 1\nactivation_sram_bytes: 1\nembedding_cache_bytes: 0\ntopk_units: 16\n";
        let err = AccelConfig::from_yaml_str(text, "x.yaml").unwrap_err().to_string();
        assert!(err.starts_with("x.yaml:1:") && err.contains(": array_size: "), "{err}");
        let missing = text.replace("clock_mhz: 125\n", "").replace("-1", "16");
        let err = AccelConfig::from_yaml_str(&missing, "x.yaml").unwrap_err().to_string();
        assert!(err.starts_with("x.yaml") && err.ends_with(": clock_mhz: missing required field"), "{err}");
    }

    #[test]
    fn yaml_rejects_unknown_fields() {
        let text = "array_size: 16\nclock_mhz: 125\ndram_bandwidth_gib_s: 8\ndram_latency_cycles: 100\n\
                    weight_sram_bytes: 1\nactivation_sram_bytes: 1\nembedding_cache_bytes: 0\n\
                    topk_units: 16\ncolour: red\n";
        let err = AccelConfig::from_yaml_str(text, "x.yaml").unwrap_err().to_string();
        assert!(err.starts_with("x.yaml:9:1: colour: unknown field `colour`"), "{err}");
    }
}
