//! Pareto analysis of evaluated design points: non-dominated sorting into fronts (ranks), crowding
//! distances, and the hypervolume indicator.
//!
//! Convention: every objective vector is in **minimisation form** (a maximised metric is negated by the
//! caller, see [`crate::explore::objective_vector`]), in the metric's own units (ms, queries/s, mm², …).
//! Point `a` dominates `b` when it is no worse in every objective and strictly better in at least one
//! (Deb et al., "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE TEC 2002).
//! Hypervolume is the Lebesgue measure of the region dominated by a set and bounded by a stated reference
//! point (Zitzler & Thiele 1998); [`hypervolume`] is exact in any dimension.
//!
//! Cost for N points: ranks of 1–3 objectives O(N log N) (a sweep), of more objectives O(M·N²); hypervolume
//! of 2–3 objectives O(N log N) (sweep, HV3D), of more objectives WFG. The textbook algorithms they replace
//! are kept in [`mod@reference`] and checked against.
//!
//! A set of points is an objective matrix ([`Objectives`], `ndarray::Array2<f64>`): one row per point, one
//! column per objective.

mod archive;
mod hv3d;
mod hypervolume;
mod matrix;
pub mod reference;
mod sort;
mod sweep;
mod wfg;

pub use archive::Archive;
pub use hypervolume::{hypervolume, reference_point};
pub use matrix::{objective_matrix, Objectives};
pub use sort::{crowding_distance, dominates, non_dominated_ranks};

/// A seeded xorshift64 stream of values `0..levels` for the tests (few levels: many ties).
#[cfg(test)]
pub(crate) fn test_levels(mut state: u64) -> impl FnMut(u64) -> u64 {
    move |levels| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % levels
    }
}
