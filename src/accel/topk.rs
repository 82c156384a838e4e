//! Top-k filtering of a stage's scores on the refined model.
//!
//! RPAccel's filter unit (module `sortvals` in the artifact's `RPAccel_characterization/RTL/filtering.v`) is a
//! histogram threshold filter: one pass bins each score by its top bits (one score per unit per cycle), a scan of the
//! `bins` counters picks the threshold bin that keeps at least `k` items, and a second pass forwards the scores above
//! the threshold. With `u` units working on disjoint slices of the `n` scores: `cycles = 2 · ceil(n / u) + bins`, and
//! nothing when `n = 0`.
//!
//! The baseline chip has no filter units: the host sorts all `n` scores. Its cost follows the original's
//! host-sort branch (`SortingUnit` with `on_chip_sorting=False`, never taken there), read as nanoseconds: 30 µs for
//! n < 512, 70 µs for n ≤ 1024, 350 µs for n ≤ 4096, and above 4096 the 4096 point scaled by n·log₂n.
//!
//! The original model charged `n/16` and then divided by the clock period (a unit error); that term
//! lives in [`super::reference2021`].

/// Cycles to select the top `k` of `items` scores with `units` filter units of `bins` bins.
#[inline]
pub fn filter_cycles(items: u32, units: u32, bins: u32) -> f64 {
    if items == 0 {
        return 0.0;
    }
    (2 * items.div_ceil(units.max(1)) as u64 + bins as u64) as f64
}

/// Host sort of `items` scores, seconds (baseline chip).
pub fn host_sort_s(items: u32) -> f64 {
    let ns = match items {
        0 => 0.0,
        1..=511 => 30_000.0,
        512..=1024 => 70_000.0,
        1025..=4096 => 350_000.0,
        n => 350_000.0 * (n as f64 * (n as f64).log2()) / (4096.0 * 12.0),
    };
    ns * 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand() {
        // 4096 scores over 256 units: 16 per unit, two passes, plus 16 bins.
        assert!((filter_cycles(4096, 256, 16) - 48.0).abs() < 1e-12);
        assert!((filter_cycles(100, 16, 16) - 30.0).abs() < 1e-12);
        assert!(filter_cycles(0, 16, 16).abs() < 1e-12);
        assert!((host_sort_s(4096) - 350e-6).abs() < 1e-15);
        assert!((host_sort_s(8192) - 350e-6 * 2.0 * 13.0 / 12.0).abs() < 1e-15);
    }
}
