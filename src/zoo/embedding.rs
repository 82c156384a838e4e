//! Embedding tables for serving in fp32 or row-wise int8.
//!
//! Row-wise int8 is how production DLRM serving stores large tables (FBGEMM's "8-bit rowwise" format): every
//! row keeps its own fp32 scale `s = (max − min) / 255` and bias `b = min`, and each element is the byte
//! `q = round((x − b) / s)`, clamped to 0..=255; a lookup returns `q·s + b` in fp32. A row whose values are all
//! equal gets `s = 1` and `q = 0`, so it dequantizes to itself. Storage: `d` bytes plus 8 bytes of scale and
//! bias per row, against `4·d` in fp32. The absolute error of a value is at most `s/2` (half a step).

use tch::{Kind, Tensor};

/// Quantization levels of one byte.
const LEVELS: f64 = 255.0;

/// A table stored as row-wise int8 with an fp32 scale and bias per row.
#[derive(Debug)]
pub struct Int8Rows {
    /// `[rows, d]` u8 codes.
    pub codes: Tensor,
    /// `[rows]` f32 step of each row.
    pub scale: Tensor,
    /// `[rows]` f32 value of code 0 of each row.
    pub bias: Tensor,
}

impl Int8Rows {
    /// Quantize a `[rows, d]` float table row by row (in blocks of rows, so that a table of tens of millions
    /// of rows needs little memory beyond its codes).
    pub fn quantize(table: &Tensor) -> Int8Rows {
        const BLOCK: i64 = 1 << 20;
        tch::no_grad(|| {
            let rows = table.size()[0];
            let (mut codes, mut scales, mut biases) = (Vec::new(), Vec::new(), Vec::new());
            let mut start = 0;
            loop {
                let n = BLOCK.min(rows - start);
                let t = table.narrow(0, start, n).detach().to_kind(Kind::Float);
                let min = t.amin(1, true);
                let range = t.amax(1, true) - &min;
                // Constant rows: step 1, every code 0.
                let scale = range.divide_scalar(LEVELS).where_self(&range.gt(0.0), &range.ones_like());
                codes.push(((&t - &min) / &scale).round().clamp(0.0, LEVELS).to_kind(Kind::Uint8));
                scales.push(scale.squeeze_dim(1));
                biases.push(min.squeeze_dim(1));
                start += n;
                if start >= rows {
                    break;
                }
            }
            Int8Rows { codes: Tensor::cat(&codes, 0), scale: Tensor::cat(&scales, 0), bias: Tensor::cat(&biases, 0) }
        })
    }

    /// Rows `ids` (any shape, i64) dequantized: shape `ids.size() + [d]`, f32.
    pub fn lookup(&self, ids: &Tensor) -> Tensor {
        let flat = ids.reshape([-1]);
        let codes = self.codes.index_select(0, &flat).to_kind(Kind::Float);
        let rows =
            codes * self.scale.index_select(0, &flat).unsqueeze(1) + self.bias.index_select(0, &flat).unsqueeze(1);
        let mut shape = ids.size();
        shape.push(self.codes.size()[1]);
        rows.reshape(shape)
    }

    /// The whole table dequantized `[rows, d]` f32 (the reference a quantized lookup must equal).
    pub fn dequantize(&self) -> Tensor {
        self.codes.to_kind(Kind::Float) * self.scale.unsqueeze(1) + self.bias.unsqueeze(1)
    }
}

/// An embedding table as a network holds it.
#[derive(Debug)]
pub enum Table {
    /// Trainable fp32 (or, after a datatype conversion of its variable store, fp16/bf16) rows.
    Float(Tensor),
    /// Row-wise int8 rows for serving.
    Int8(Int8Rows),
}

impl Table {
    /// Rows `ids` (any shape): `ids.size() + [d]` in the table's compute type (int8 dequantizes to f32).
    pub fn lookup(&self, ids: &Tensor, sparse_gradients: bool) -> Tensor {
        match self {
            Table::Float(t) => Tensor::embedding(t, ids, -1, false, sparse_gradients),
            Table::Int8(q) => q.lookup(ids),
        }
    }

    /// Replace fp32 rows by their row-wise int8 form (no-op when already int8).
    pub fn quantize_int8(&mut self) {
        if let Table::Float(t) = self {
            *self = Table::Int8(Int8Rows::quantize(t));
        }
    }

    /// The float tensor, when the table is not quantized.
    pub fn as_float(&self) -> Option<&Tensor> {
        match self {
            Table::Float(t) => Some(t),
            Table::Int8(_) => None,
        }
    }
}

/// Tables of `rows` rows each and `dim` columns stored as one concatenated `[Σ rows, dim]` variable `name`
/// under `path`, each initialised as DLRM does, U(−√(1/n), √(1/n)) for a table of n rows (in table order,
/// from tch's global generator); returns the variable and the first row of every table.
pub fn concatenated_tables(path: &tch::nn::Path, name: &str, rows: &[u64], dim: u32) -> (Tensor, Vec<i64>) {
    let total: u64 = rows.iter().sum();
    let tables = path.var(name, &[total as i64, i64::from(dim)], tch::nn::Init::Const(0.0));
    let mut starts = Vec::with_capacity(rows.len());
    let mut start = 0i64;
    tch::no_grad(|| {
        for &n in rows {
            let bound = (1.0 / n.max(1) as f64).sqrt();
            let _ = tables.narrow(0, start, n as i64).uniform_(-bound, bound);
            starts.push(start);
            start += n as i64;
        }
    });
    (tables, starts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn quantized_lookup_equals_the_dequantized_table_and_stays_within_half_a_step() {
        tch::manual_seed(4);
        let table = Tensor::randn([50, 8], (Kind::Float, Device::Cpu));
        let _ = table.get(3).fill_(0.25); // a constant row
        let q = Int8Rows::quantize(&table);
        let ids = Tensor::from_slice(&[3i64, 0, 49, 3, 17, 8]).view([2, 3]);
        let got = q.lookup(&ids);
        assert_eq!(got.size(), vec![2, 3, 8]);
        let reference = Tensor::embedding(&q.dequantize(), &ids, -1, false, false);
        assert!((&got - &reference).abs().max().double_value(&[]) <= 1e-6);
        let step = q.scale.unsqueeze(1);
        let err = ((q.dequantize() - &table).abs() - step / 2.0).max().double_value(&[]);
        assert!(err <= 1e-6, "error beyond half a step: {err}");
        assert!((q.lookup(&Tensor::from_slice(&[3i64])).double_value(&[0, 5]) - 0.25).abs() < 1e-7);
        assert_eq!(q.codes.kind(), Kind::Uint8);
    }
}
