//! Export of a stage's fully connected layers to SCALE-Sim (Samajdar et al., ISPASS 2020; PyPI `scalesim`),
//! so the systolic-array cycles of [`super::systolic`] can be cross-checked with SCALE-Sim's own simulator.
//!
//! Each layer `K → N` of the stage's model (the layer list the accelerator model charges,
//! [`super::rpaccel::fc_layers`]) scoring `M` items is one GEMM `M × K · K × N`. Two equivalent topology files
//! are written, because SCALE-Sim reads either (with a layout file giving every layer the default layout):
//!
//! * GEMM mode (`-i gemm`): a header, then `name, M, N, K,` per layer;
//! * convolution mode (the default): `name, IFMAP height, IFMAP width, filter height, filter width,
//!   channels, filters, stride,` with the GEMM as a 1×1 convolution over an `M × 1` input of `K` channels
//!   and `N` filters: `name, M, 1, 1, 1, K, N, 1,` (`M` output pixels, `K` MACs each, `N` filters).
//!
//! The configuration (`.cfg`, SCALE-Sim 2/3 format) gives a square `array_size × array_size` array, the
//! weight-stationary dataflow (`ws`, RecPipeAccel's), the filter SRAM = the weight SRAM and the input and
//! output SRAMs = half the activation SRAM each (KiB, rounded down, at least 1), and the DRAM interface
//! bandwidth in words per cycle (`dram_bandwidth_gib_s · 2³⁰ / clock / element_bytes`, at least 1), used when
//! `InterfaceBandwidth: USER`; the default `CALC` lets SCALE-Sim size it for stall-free compute, which is
//! what [`super::systolic::ws_cycles`] models (SCALE-Sim's "Total Cycles" = ours − 1 per layer, measured in
//! `accel/README.md`).

use super::hardware::AccelConfig;
use super::model_shape::ModelShape;
use super::systolic::{ws_cycles, Gemm};
use std::fmt::Write as _;

/// One exported layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportedLayer {
    /// Rows streamed (items), M.
    pub m: u64,
    /// Input width, K.
    pub k: u64,
    /// Output width, N.
    pub n: u64,
    /// Our weight-stationary cycles of the layer on the exported array ([`ws_cycles`]).
    pub ws_cycles: u64,
}

/// The files of one export: topology (GEMM and convolution forms) and configuration, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleSimExport {
    /// Run name (file stem).
    pub name: String,
    /// The layers, in the order of the topology rows.
    pub layers: Vec<ExportedLayer>,
    /// GEMM-mode topology CSV.
    pub gemm_csv: String,
    /// Convolution-mode topology CSV.
    pub conv_csv: String,
    /// Layout file: SCALE-Sim 3 reads one for every run; this one gives every layer the default layout
    /// (no intraline packing, dimensions in their natural order), which SCALE-Sim uses only with
    /// `IfmapCustomLayout` / `FilterCustomLayout` on (they are off in [`Self::config`]).
    pub layout_csv: String,
    /// Configuration file.
    pub config: String,
}

/// Words per cycle the DRAM interface delivers (at least 1).
pub fn interface_words_per_cycle(hw: &AccelConfig) -> u64 {
    let bytes_per_cycle = hw.dram_bandwidth_gib_s * (1u64 << 30) as f64 / (hw.clock_mhz * 1e6);
    ((bytes_per_cycle / f64::from(hw.element_bytes.max(1))).floor() as u64).max(1)
}

/// The export of `model` scoring `items` items on `hw`, named `name` (layers `<name>_fc<i>`).
pub fn export(name: &str, model: &ModelShape, hw: &AccelConfig, items: u32) -> ScaleSimExport {
    let side = u64::from(hw.array_size);
    let layers: Vec<ExportedLayer> = super::rpaccel::fc_layers(model)
        .into_iter()
        .map(|(k, n)| {
            let g = Gemm { m: u64::from(items), k: u64::from(k), n: u64::from(n) };
            ExportedLayer { m: g.m, k: g.k, n: g.n, ws_cycles: ws_cycles(g, side, side) }
        })
        .collect();
    let mut gemm_csv = String::from("Layer, M, N, K,\n");
    let mut conv_csv = String::from(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n",
    );
    let mut layout_csv = String::from(
        "Layer name, IFMAP Height Intraline Factor, IFMAP Width Intraline Factor, Filter Height Intraline Factor, \
         Filter Width Intraline Factor, Channel Intraline Factor, Num Filter Intraline Factor, IFMAP Height Intraline Order, \
         IFMAP Width Intraline Order, Channel Intraline Order, IFMAP Height Interline Order, IFMAP Width Interline Order, \
         Channel Interline Order, Num Filter Intraline Order, Channel Intraline Order, Filter Height Intraline Order, \
         Filter Width Intraline Order, Num Filter Interline Order, Channel Interline Order, Filter Height Interline Order, \
         Filter Width Interline Order,\n",
    );
    for (i, l) in layers.iter().enumerate() {
        let _ = writeln!(gemm_csv, "{name}_fc{i}, {}, {}, {},", l.m, l.n, l.k);
        let _ = writeln!(conv_csv, "{name}_fc{i}, {}, 1, 1, 1, {}, {}, 1,", l.m, l.k, l.n);
        let _ = writeln!(layout_csv, "{name}_fc{i}, 1, 1, 1, 1, 1, 1, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 6, 7,");
    }
    let kib = |bytes: u64| (bytes / 1024).max(1);
    let config = format!(
        "# SCALE-Sim configuration of accelerator '{hw_name}' ({side}x{side} array, {clock} MHz), written by recpipe-dse.\n\
         # Run: python3 -m scalesim.scale -c {name}.cfg -t {name}.gemm.csv -l {name}.layout.csv -i gemm -p results\n\
         # (or -t {name}.conv.csv -i conv)\n\
         [general]\n\
         run_name = {name}\n\
         \n\
         [architecture_presets]\n\
         ArrayHeight: {side}\n\
         ArrayWidth: {side}\n\
         IfmapSramSzkB: {act}\n\
         FilterSramSzkB: {weight}\n\
         OfmapSramSzkB: {act}\n\
         IfmapOffset: 0\n\
         FilterOffset: 10000000\n\
         OfmapOffset: 20000000\n\
         Bandwidth: {bw}\n\
         Dataflow: ws\n\
         ReadRequestBuffer: 32\n\
         WriteRequestBuffer: 32\n\
         \n\
         [layout]\n\
         IfmapCustomLayout: False\n\
         IfmapSRAMBankBandwidth: 10\n\
         IfmapSRAMBankNum: 10\n\
         IfmapSRAMBankPort: 2\n\
         FilterCustomLayout: False\n\
         FilterSRAMBankBandwidth: 10\n\
         FilterSRAMBankNum: 10\n\
         FilterSRAMBankPort: 2\n\
         \n\
         [sparsity]\n\
         SparsitySupport: False\n\
         SparseRep: ellpack_block\n\
         OptimizedMapping: False\n\
         BlockSize: 8\n\
         RandomNumberGeneratorSeed: 40\n\
         \n\
         [run_presets]\n\
         InterfaceBandwidth: CALC\n\
         UseRamulatorTrace: False\n",
        hw_name = hw.name.as_deref().unwrap_or("unnamed"),
        clock = crate::explore::evaluate::fmt_num(hw.clock_mhz),
        act = kib(hw.activation_sram_bytes / 2),
        weight = kib(hw.weight_sram_bytes),
        bw = interface_words_per_cycle(hw),
    );
    ScaleSimExport { name: name.to_string(), layers, gemm_csv, conv_csv, layout_csv, config }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hw(array: u32, bw_gib_s: f64, element_bytes: u32) -> AccelConfig {
        AccelConfig::from_yaml_str(
            &format!(
                "array_size: {array}\nclock_mhz: 125\ndram_bandwidth_gib_s: {bw_gib_s}\ndram_latency_cycles: 100\n\
                 weight_sram_bytes: 1000000\nactivation_sram_bytes: 1048576\nembedding_cache_bytes: 1000000\n\
                 element_bytes: {element_bytes}\ntopk_units: 16\n"
            ),
            "t.yaml",
        )
        .unwrap()
    }

    fn rows(csv: &str) -> Vec<Vec<String>> {
        csv.lines()
            .skip(1)
            .map(|l| l.trim_end_matches(',').split(',').map(|c| c.trim().to_string()).collect())
            .collect()
    }

    #[test]
    fn both_topologies_describe_the_same_gemms_as_the_cost_model() {
        let model = ModelShape::from_preset("rm-small").unwrap();
        let hw = hw(16, 8.0, 2);
        let e = export("rm_small", &model, &hw, 512);
        // RM-small: bottom 13-64-4, top (355)-64-1.
        let expected = [(13, 64), (64, 4), (355, 64), (64, 1)];
        assert_eq!(e.layers.iter().map(|l| (l.k, l.n)).collect::<Vec<_>>(), expected);
        for (i, (g, c)) in rows(&e.gemm_csv).iter().zip(rows(&e.conv_csv)).enumerate() {
            let (k, n) = expected[i];
            assert_eq!(g, &[format!("rm_small_fc{i}"), "512".into(), n.to_string(), k.to_string()]);
            assert_eq!(
                c,
                [
                    format!("rm_small_fc{i}"),
                    "512".into(),
                    "1".into(),
                    "1".into(),
                    "1".into(),
                    k.to_string(),
                    n.to_string(),
                    "1".into()
                ]
            );
        }
        let total: u64 = e.layers.iter().map(|l| l.ws_cycles).sum();
        assert_eq!(total, 58_032, "the hand-checked RM-small cycles on a 16x16 array at 512 items (accel/README.md)");
        assert!(e.config.contains("ArrayHeight: 16\n") && e.config.contains("ArrayWidth: 16\n"));
        assert!(e.config.contains("Dataflow: ws\n") && e.config.contains("run_name = rm_small\n"));
        assert!(e.config.contains("FilterSramSzkB: 976\n") && e.config.contains("IfmapSramSzkB: 512\n"));
    }

    #[test]
    fn interface_bandwidth_is_words_per_cycle() {
        let hw = hw(64, 8.0, 2);
        // 8 GiB/s at 125 MHz = 68.72 bytes per cycle = 34 two-byte words.
        assert_eq!(interface_words_per_cycle(&hw), 34);
    }
}
