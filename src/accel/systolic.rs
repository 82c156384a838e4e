//! Weight-stationary systolic-array cycle counts for a fully connected layer (a GEMM).
//!
//! A layer `K → N` over `M` input rows (items) is the GEMM `[M × K] · [K × N]`. On an `R × C` array with the
//! weight-stationary dataflow, the `K × N` weights are cut into `ceil(K/R) · ceil(N/C)` folds; each fold first
//! shifts its weights into the array (`R` cycles), then streams the `M` input rows through it with the
//! diagonal skew of the array (`R − 1` cycles to fill, `C − 1` to drain the partial sums), so a fold costs
//! `2R + C + M − 2` cycles. This is the weight-stationary runtime of SCALE-Sim (Samajdar et al., ISPASS 2020,
//! "A systematic methodology for characterizing scalability of DNN accelerators using SCALE-Sim"), which
//! the RecPipe artifact used for its Fig. 10a; the agreement with SCALE-Sim 3.0's cycle counts for the DLRM
//! layers is recorded in `accel/README.md`. Folds are serial and the array is idle while a fold's weights
//! load (no double-buffered weight registers), as in SCALE-Sim.
//!
//! Units: cycles of the accelerator clock; `macs` counts multiply-accumulates.

/// A fully connected layer over a batch: `m` rows streamed, `k` inputs, `n` outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gemm {
    /// Rows streamed through the array (items in the batch).
    pub m: u64,
    /// Input width (reduction dimension).
    pub k: u64,
    /// Output width.
    pub n: u64,
}

impl Gemm {
    /// Multiply-accumulates of the GEMM.
    pub fn macs(&self) -> u64 {
        self.m * self.k * self.n
    }
}

/// Number of weight folds of `g` on an `rows × cols` array.
#[inline]
pub fn folds(g: Gemm, rows: u64, cols: u64) -> u64 {
    g.k.div_ceil(rows) * g.n.div_ceil(cols)
}

/// Weight-stationary cycles of `g` on an `rows × cols` array: `folds · (2·rows + cols + m − 2)`; zero for an
/// empty GEMM.
#[inline]
pub fn ws_cycles(g: Gemm, rows: u64, cols: u64) -> u64 {
    if g.m == 0 || g.k == 0 || g.n == 0 {
        return 0;
    }
    folds(g, rows, cols) * (2 * rows + cols + g.m - 2)
}

/// Fraction of PE-cycles doing useful MACs.
pub fn utilization(g: Gemm, rows: u64, cols: u64) -> f64 {
    let cycles = ws_cycles(g, rows, cols);
    if cycles == 0 {
        0.0
    } else {
        g.macs() as f64 / (cycles as f64 * (rows * cols) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2×2 array, K = 2, N = 2, M = 3: one fold, 2·2 + 2 + 3 − 2 = 7 cycles.
    #[test]
    fn one_fold_by_hand() {
        let g = Gemm { m: 3, k: 2, n: 2 };
        assert_eq!(folds(g, 2, 2), 1);
        assert_eq!(ws_cycles(g, 2, 2), 7);
        assert!((utilization(g, 2, 2) - 12.0 / 28.0).abs() < 1e-12);
    }

    /// 4×4 array, K = 13, N = 6, M = 10: ceil(13/4)·ceil(6/4) = 8 folds of 8 + 4 + 10 − 2 = 20 cycles.
    #[test]
    fn tiled_by_hand() {
        let g = Gemm { m: 10, k: 13, n: 6 };
        assert_eq!(folds(g, 4, 4), 8);
        assert_eq!(ws_cycles(g, 4, 4), 160);
    }

    #[test]
    fn empty_gemm_is_free() {
        assert_eq!(ws_cycles(Gemm { m: 0, k: 8, n: 8 }, 4, 4), 0);
    }
}
