//! Per-query energy of one stage: component power × busy time plus SRAM and DRAM access energy.
//!
//! `E = P_array · t_array + P_filters · t_topk + P_sram · t_stage + B_sram · e_sram + B_dram · e_dram`, with
//! `P_array` the systolic blocks plus SIMD accumulators plus crossbars and `P_filters` the top-k units from
//! the synthesis numbers ([`super::area_power`]), busy times from the cycle model, SRAM macros powered for
//! the whole stage, and access energies `e_sram`, `e_dram` (pJ/B) from `calib/synthesis-gf12lp.yaml`, where
//! their provenance and their status as assumptions are recorded. Host-side PCIe energy is not the
//! accelerator's and is left out. Units: joules, watts, seconds, bytes.

use super::area_power::{calibration, names, Breakdown};

/// Busy time and traffic of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Activity {
    /// Seconds the array (with SIMD and crossbars) computes.
    pub array_busy_s: f64,
    /// Seconds the top-k filters run.
    pub topk_busy_s: f64,
    /// Seconds from the stage's start to its end.
    pub stage_s: f64,
    /// Bytes read from or written to on-chip SRAM.
    pub sram_bytes: f64,
    /// Bytes moved to or from DRAM.
    pub dram_bytes: f64,
}

/// Energy of one stage, J.
pub fn stage_energy_j(b: &Breakdown, a: &Activity) -> f64 {
    let cal = calibration();
    let array_w = b.component_power_w(names::ARRAY)
        + b.component_power_w(names::SIMD)
        + b.component_power_w(names::CROSSBAR);
    let filters_w = b.component_power_w(names::FILTERS);
    let sram_w = b.component_power_w(names::ACTIVATION_SRAM)
        + b.component_power_w(names::WEIGHT_SRAM)
        + b.component_power_w(names::EMBEDDING_SRAM);
    array_w * a.array_busy_s
        + filters_w * a.topk_busy_s
        + sram_w * a.stage_s
        + (a.sram_bytes * cal.sram_pj_per_byte + a.dram_bytes * cal.dram_pj_per_byte) * 1e-12
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accel::area_power::Component;

    #[test]
    fn by_hand() {
        let c = |name, power_mw| Component {
            name,
            count: 1.0,
            area_um2: 0.0,
            power_mw,
        };
        let b = Breakdown {
            components: vec![
                c(names::ARRAY, 100.0),
                c(names::SIMD, 10.0),
                c(names::FILTERS, 5.0),
                c(names::WEIGHT_SRAM, 2.0),
            ],
        };
        let a = Activity {
            array_busy_s: 1e-3,
            topk_busy_s: 1e-4,
            stage_s: 2e-3,
            sram_bytes: 0.0,
            dram_bytes: 0.0,
        };
        let e = stage_energy_j(&b, &a);
        assert!((e - (0.110e-3 + 0.005e-4 + 0.002 * 2e-3)).abs() < 1e-15);
        let cal = calibration();
        let with_bytes = Activity {
            sram_bytes: 1e6,
            dram_bytes: 1e6,
            ..a
        };
        let extra = stage_energy_j(&b, &with_bytes) - e;
        assert!((extra - (cal.sram_pj_per_byte + cal.dram_pj_per_byte) * 1e-6).abs() < 1e-12);
    }
}
