//! Objective matrices: a set of objective vectors as an `ndarray` [`Array2<f64>`] with one row per point and
//! one column per objective (minimisation form, each column in its metric's own unit: ms, queries/s, mm², …).
//!
//! The Pareto functions of [`crate::pareto`] take any [`Objectives`]: an owned matrix, a view (e.g. the
//! first rows of a run's matrix), or a list of objective vectors, which is copied into a matrix once.
//! Layout: row-major (`ndarray`'s standard layout, <https://docs.rs/ndarray/0.16.1/ndarray/struct.ArrayBase.html>).

use ndarray::{Array2, ArrayView2, CowArray, Ix2};

/// A set of objective vectors readable as a matrix (rows = points, columns = objectives).
pub trait Objectives {
    /// The points as a matrix: borrowed when they already are one, copied otherwise.
    fn matrix(&self) -> CowArray<'_, f64, Ix2>;
}

impl Objectives for Array2<f64> {
    fn matrix(&self) -> CowArray<'_, f64, Ix2> {
        self.view().into()
    }
}

impl Objectives for ArrayView2<'_, f64> {
    fn matrix(&self) -> CowArray<'_, f64, Ix2> {
        self.view().into()
    }
}

impl Objectives for Vec<Vec<f64>> {
    fn matrix(&self) -> CowArray<'_, f64, Ix2> {
        objective_matrix(self.iter().map(Vec::as_slice)).into()
    }
}

/// The matrix of `rows` (one objective vector each, in order); `0 × 0` when there are none.
///
/// Panics when the vectors differ in length (a space's objective vectors all have one entry per objective).
pub fn objective_matrix<'a>(rows: impl IntoIterator<Item = &'a [f64]>) -> Array2<f64> {
    let mut flat = Vec::new();
    let mut shape = (0, 0);
    for row in rows {
        if shape.0 == 0 {
            shape.1 = row.len();
        }
        assert_eq!(row.len(), shape.1, "objective vectors of unequal length");
        flat.extend_from_slice(row);
        shape.0 += 1;
    }
    Array2::from_shape_vec(shape, flat).expect("rows × columns values")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, s};

    #[test]
    fn rows_become_matrix_rows() {
        let rows = vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]];
        let m = objective_matrix(rows.iter().map(Vec::as_slice));
        assert_eq!(m, array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(rows.matrix(), m.matrix());
        assert_eq!(m.slice(s![..1, ..]).matrix(), array![[1.0, 2.0, 3.0]]);
        assert_eq!(objective_matrix([]).dim(), (0, 0));
    }

    #[test]
    #[should_panic(expected = "unequal length")]
    fn ragged_rows_are_refused() {
        objective_matrix([[1.0, 2.0].as_slice(), [3.0].as_slice()]);
    }
}
