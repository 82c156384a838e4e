//! Host arrays to tch tensors: an `ndarray` matrix or vector is copied into a CPU tensor of the same shape and
//! element type (`f32` → `Float`, `i64` → `Int64`, …), row-major as both libraries store it
//! (<https://docs.rs/ndarray/0.16.1/ndarray/struct.ArrayBase.html>, `torch.from_numpy` semantics without the
//! sharing). Shapes are in elements; the caller moves the tensor to its device.

use ndarray::{Array1, Array2};
use tch::kind::Element;
use tch::Tensor;

/// A `[rows, columns]` tensor holding `matrix` (copied; any memory layout).
pub fn tensor_from_matrix<T: Element + Clone>(matrix: &Array2<T>) -> Tensor {
    let (rows, columns) = matrix.dim();
    let standard = matrix.as_standard_layout();
    let values = standard.as_slice().expect("a standard-layout matrix is contiguous");
    Tensor::from_slice(values).view([rows as i64, columns as i64])
}

/// A `[len]` tensor holding `vector` (copied).
pub fn tensor_from_vector<T: Element + Clone>(vector: &Array1<T>) -> Tensor {
    let standard = vector.as_standard_layout();
    Tensor::from_slice(standard.as_slice().expect("a standard-layout vector is contiguous"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn shapes_and_values_carry_over() {
        let m = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let t = tensor_from_matrix(&m);
        assert_eq!(t.size(), vec![2, 3]);
        assert_eq!(Vec::<f32>::try_from(t.view([-1])).unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        // A transposed (column-major) view is copied in its logical order.
        let t = tensor_from_matrix(&m.t().to_owned());
        assert_eq!(t.size(), vec![3, 2]);
        assert_eq!(Vec::<f32>::try_from(t.contiguous().view([-1])).unwrap(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let ids = tensor_from_matrix(&Array2::<i64>::zeros((0, 26)));
        assert_eq!(ids.size(), vec![0, 26]);
        let v = tensor_from_vector(&array![7i64, 8]);
        assert_eq!(Vec::<i64>::try_from(v).unwrap(), vec![7, 8]);
    }
}
