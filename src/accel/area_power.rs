//! Area (mm²) and power (W) of an accelerator configuration from per-component synthesis numbers.
//!
//! The numbers live in `calib/synthesis-gf12lp.yaml` (GF 12LP logic synthesis of the RecPipe artifact's RTL
//! and ARM memory-compiler SRAM macros, with provenance per entry; compiled into the binary). The composition
//! follows the Fig. 11 scale-up of the artifact (`plotting/figure11/synthesis.py`), expressed per PE so that it
//! scales to any array side `s`:
//!
//! * RPAccel: `s²/1024` reconfigurable 32×32 arrays (DYN_MMU), one SIMD accumulator per 16 PEs, one 4×4
//!   crossbar per 64 PEs, `topk_units` filter units, activation SRAM in 4 KiB high-density macros;
//! * baseline: `s²/1024` plain 32×32 arrays (MMU), one SIMD accumulator per array column, no crossbars or
//!   filters, activation SRAM in 32 KiB high-speed macros;
//! * both: weight SRAM and embedding SRAM in 256 KiB high-density macros.
//!
//! SRAM macro counts are `ceil(bytes / macro bytes)`. Power is the synthesized total (dynamic at the tools'
//! default activity plus leakage) of each instance; SRAM macro power is the compiler figure. For the Fig. 11
//! chips (128×128, 4 MiB activation, 4 MiB weight, 16 MiB embedding SRAM) this gives 28.55 mm² / 4.655 W
//! (RPAccel) and 26.52 mm² / 3.653 W (baseline), the artifact's totals (tests below).

use super::hardware::{AccelConfig, Architecture};
use serde::Deserialize;
use std::sync::OnceLock;

const CALIB_YAML: &str = include_str!("../../calib/synthesis-gf12lp.yaml");

/// Area and power of one synthesized block.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Block {
    /// Cell area, µm².
    pub area_um2: f64,
    /// Total power, mW.
    pub power_mw: f64,
}

#[derive(Debug, Deserialize)]
struct RawBlock {
    #[allow(dead_code)]
    description: String,
    #[allow(dead_code)]
    source: String,
    #[serde(default)]
    #[allow(dead_code)]
    pes: Option<u32>,
    #[serde(default)]
    bytes: Option<u64>,
    area_um2: f64,
    power_mw: f64,
}

#[derive(Debug, Deserialize)]
struct RawEnergy {
    value: f64,
    #[allow(dead_code)]
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalib {
    #[allow(dead_code)]
    library: String,
    logic: std::collections::BTreeMap<String, RawBlock>,
    sram: std::collections::BTreeMap<String, RawBlock>,
    scaling: std::collections::BTreeMap<String, u32>,
    access_energy: std::collections::BTreeMap<String, RawEnergy>,
}

/// The calibration numbers the models use.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Baseline 32×32 array.
    pub mmu_32x32: Block,
    /// Reconfigurable 32×32 array.
    pub dyn_mmu_32x32: Block,
    /// 4×4 crossbar.
    pub crossbar_4x4: Block,
    /// SIMD accumulator.
    pub simd: Block,
    /// Top-k filter unit.
    pub topk_filter: Block,
    /// 32 KiB high-speed SRAM macro and its bytes.
    pub sram_hs_32kib: (Block, u64),
    /// 4 KiB high-density SRAM macro and its bytes.
    pub sram_hd_4kib: (Block, u64),
    /// 256 KiB high-density SRAM macro and its bytes.
    pub sram_hd_256kib: (Block, u64),
    /// PEs per SIMD accumulator (RPAccel).
    pub pes_per_simd: u32,
    /// PEs per crossbar (RPAccel).
    pub pes_per_crossbar: u32,
    /// DRAM access energy, pJ/B.
    pub dram_pj_per_byte: f64,
    /// SRAM access energy, pJ/B.
    pub sram_pj_per_byte: f64,
}

/// The compiled-in calibration (parsed once).
pub fn calibration() -> &'static Calibration {
    static CAL: OnceLock<Calibration> = OnceLock::new();
    CAL.get_or_init(|| {
        let raw: RawCalib = serde_saphyr::from_str(CALIB_YAML).expect("calib/synthesis-gf12lp.yaml parses");
        let block = |m: &std::collections::BTreeMap<String, RawBlock>, k: &str| {
            let b = m.get(k).unwrap_or_else(|| panic!("calib: missing {k}"));
            Block { area_um2: b.area_um2, power_mw: b.power_mw }
        };
        let sram = |k: &str| (block(&raw.sram, k), raw.sram[k].bytes.expect("calib: sram bytes"));
        Calibration {
            mmu_32x32: block(&raw.logic, "mmu_32x32"),
            dyn_mmu_32x32: block(&raw.logic, "dyn_mmu_32x32"),
            crossbar_4x4: block(&raw.logic, "crossbar_4x4"),
            simd: block(&raw.logic, "simd_accumulator"),
            topk_filter: block(&raw.logic, "topk_filter"),
            sram_hs_32kib: sram("hs_32kib"),
            sram_hd_4kib: sram("hd_4kib"),
            sram_hd_256kib: sram("hd_256kib"),
            pes_per_simd: raw.scaling["rpaccel_pes_per_simd"],
            pes_per_crossbar: raw.scaling["rpaccel_pes_per_crossbar"],
            dram_pj_per_byte: raw.access_energy["dram_pj_per_byte"].value,
            sram_pj_per_byte: raw.access_energy["sram_pj_per_byte"].value,
        }
    })
}

/// One line of a breakdown.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Component {
    /// Component name.
    pub name: &'static str,
    /// Instances (fractional for arrays smaller than 32×32).
    pub count: f64,
    /// Area, µm².
    pub area_um2: f64,
    /// Power, mW.
    pub power_mw: f64,
}

/// Per-component area and power of a configuration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Breakdown {
    /// Array (+ SIMD accumulators, + crossbars), filters, activation, weight and embedding SRAM.
    pub components: Vec<Component>,
}

impl Breakdown {
    /// Total area, mm².
    pub fn area_mm2(&self) -> f64 {
        self.components.iter().map(|c| c.area_um2).sum::<f64>() * 1e-6
    }
    /// Total power, W.
    pub fn power_w(&self) -> f64 {
        self.components.iter().map(|c| c.power_mw).sum::<f64>() * 1e-3
    }
    /// Power of one named component, W (0 when absent).
    pub fn component_power_w(&self, name: &str) -> f64 {
        self.components.iter().filter(|c| c.name == name).map(|c| c.power_mw).sum::<f64>() * 1e-3
    }
}

/// Names used in [`Breakdown`].
pub mod names {
    /// Systolic array blocks.
    pub const ARRAY: &str = "systolic_array";
    /// SIMD accumulators.
    pub const SIMD: &str = "simd_accumulators";
    /// Crossbars.
    pub const CROSSBAR: &str = "crossbars";
    /// Top-k filter units.
    pub const FILTERS: &str = "topk_filters";
    /// Activation SRAM.
    pub const ACTIVATION_SRAM: &str = "activation_sram";
    /// Weight SRAM.
    pub const WEIGHT_SRAM: &str = "weight_sram";
    /// Embedding SRAM.
    pub const EMBEDDING_SRAM: &str = "embedding_sram";
}

fn line(name: &'static str, count: f64, b: Block) -> Component {
    Component { name, count, area_um2: count * b.area_um2, power_mw: count * b.power_mw }
}

fn macros(bytes: u64, macro_: (Block, u64)) -> (f64, Block) {
    (bytes.div_ceil(macro_.1) as f64, macro_.0)
}

/// Per-component area and power of `hw`.
pub fn breakdown(hw: &AccelConfig) -> Breakdown {
    let cal = calibration();
    let pes = hw.pes() as f64;
    let arrays = pes / 1024.0;
    let mut components = Vec::with_capacity(7);
    match hw.architecture {
        Architecture::Rpaccel => {
            components.push(line(names::ARRAY, arrays, cal.dyn_mmu_32x32));
            components.push(line(names::SIMD, pes / cal.pes_per_simd as f64, cal.simd));
            components.push(line(names::CROSSBAR, pes / cal.pes_per_crossbar as f64, cal.crossbar_4x4));
            components.push(line(names::FILTERS, hw.topk_units as f64, cal.topk_filter));
            let (n, b) = macros(hw.activation_sram_bytes, cal.sram_hd_4kib);
            components.push(line(names::ACTIVATION_SRAM, n, b));
        }
        Architecture::Baseline => {
            components.push(line(names::ARRAY, arrays, cal.mmu_32x32));
            components.push(line(names::SIMD, hw.array_size as f64, cal.simd));
            let (n, b) = macros(hw.activation_sram_bytes, cal.sram_hs_32kib);
            components.push(line(names::ACTIVATION_SRAM, n, b));
        }
    }
    let (n, b) = macros(hw.weight_sram_bytes, cal.sram_hd_256kib);
    components.push(line(names::WEIGHT_SRAM, n, b));
    let (n, b) = macros(hw.embedding_cache_bytes, cal.sram_hd_256kib);
    components.push(line(names::EMBEDDING_SRAM, n, b));
    Breakdown { components }
}

/// Area of `hw`, mm².
pub fn area_mm2(hw: &AccelConfig) -> f64 {
    breakdown(hw).area_mm2()
}

/// Power of `hw`, W.
pub fn power_w(hw: &AccelConfig) -> f64 {
    breakdown(hw).power_w()
}

/// Area and power of `count` copies of `hw` on one chip, (mm², W).
pub fn chip_totals(hw: &AccelConfig, count: u32) -> (f64, f64) {
    let b = breakdown(hw);
    (b.area_mm2() * count as f64, b.power_w() * count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chip(arch: &str) -> AccelConfig {
        AccelConfig::from_yaml_str(
            &format!(
                "architecture: {arch}\narray_size: 128\nclock_mhz: 125\ndram_bandwidth_gib_s: 32\n\
                 dram_latency_cycles: 100\nweight_sram_bytes: 4194304\nactivation_sram_bytes: 4194304\n\
                 embedding_cache_bytes: 16777216\ntopk_units: 1024\n"
            ),
            "chip.yaml",
        )
        .unwrap()
    }

    #[test]
    fn fig11_totals_within_half_percent() {
        let rp = chip("rpaccel");
        let base = chip("baseline");
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(rel(area_mm2(&rp), 28.55) < 0.005, "{}", area_mm2(&rp));
        assert!(rel(power_w(&rp), 4.655) < 0.005, "{}", power_w(&rp));
        assert!(rel(area_mm2(&base), 26.52) < 0.005, "{}", area_mm2(&base));
        assert!(rel(power_w(&base), 3.653) < 0.005, "{}", power_w(&base));
    }

    #[test]
    fn fig11_component_counts() {
        let b = breakdown(&chip("rpaccel"));
        let count = |n: &str| b.components.iter().find(|c| c.name == n).unwrap().count;
        assert!((count(names::ARRAY) - 16.0).abs() < 1e-12);
        assert!((count(names::SIMD) - 1024.0).abs() < 1e-12);
        assert!((count(names::CROSSBAR) - 256.0).abs() < 1e-12);
        assert!((count(names::ACTIVATION_SRAM) - 1024.0).abs() < 1e-12);
        assert!((count(names::WEIGHT_SRAM) - 16.0).abs() < 1e-12);
        assert!((count(names::EMBEDDING_SRAM) - 64.0).abs() < 1e-12);
    }

    #[test]
    fn quarter_array_is_quarter_logic() {
        let mut small = chip("rpaccel");
        small.array_size = 64;
        let big = breakdown(&chip("rpaccel"));
        let b = breakdown(&small);
        let a0 = big.components[0].area_um2;
        assert!((b.components[0].area_um2 * 4.0 - a0).abs() < 1e-6);
    }
}
