//! Host arrays to tch tensors: an `ndarray` matrix or vector is copied into a CPU tensor of the same shape and
//! element type (`f32` → `Float`, `i64` → `Int64`, …), row-major as both libraries store it
//! (<https://docs.rs/ndarray/0.16.1/ndarray/struct.ArrayBase.html>, `torch.from_numpy` semantics without the
//! sharing). Shapes are in elements; the caller moves the tensor to its device.

use crate::data::CriteoSamples;
use ndarray::{Array1, Array2};
use tch::kind::Element;
use tch::{Device, Kind, Tensor};

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

/// Tensors of a batch of Criteo rows.
#[derive(Debug)]
pub struct CriteoBatch {
    /// `[B, 13]` f32 dense features.
    pub dense: Tensor,
    /// `[B, 26]` i64 per-table ids.
    pub sparse: Tensor,
    /// `[B]` f32 labels.
    pub labels: Tensor,
}

/// Copies rows `rows` of `samples` into tensors on `device` (through their matrices, [`CriteoSamples::batch`]).
pub fn criteo_batch(samples: &CriteoSamples, rows: &[usize], device: Device) -> CriteoBatch {
    let arrays = samples.batch(rows);
    CriteoBatch {
        dense: tensor_from_matrix(&arrays.dense).to_device(device),
        sparse: tensor_from_matrix(&arrays.sparse).to_device(device),
        labels: tensor_from_vector(&arrays.labels).to_kind(Kind::Float).to_device(device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DENSE;
    use ndarray::array;

    #[test]
    fn batch_copies_rows_in_order() {
        // Ids (r + c) mod 3 in tables of 3 rows.
        let samples = crate::data::numbered_rows(3, 3);
        let batch = criteo_batch(&samples, &[2, 0], Device::Cpu);
        assert_eq!(batch.dense.size(), vec![2, DENSE as i64]);
        assert!((batch.dense.double_value(&[0, 1]) - 201.0).abs() < 1e-9);
        assert_eq!(batch.sparse.int64_value(&[1, 4]), 1);
        assert!(batch.labels.double_value(&[0]).abs() < 1e-9);
    }

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
