//! Numeric datatypes of a served model: `fp32`, `fp16`, `bf16`, `int8`.
//!
//! * `fp16` / `bf16`: every parameter is converted (`VarStore::half` / `bfloat16`) and the network computes in
//!   that type; float inputs are cast on the way in and logits back to f32 on the way out.
//! * `int8`: embedding tables become row-wise int8 with an fp32 scale and bias per row
//!   ([`super::embedding::Int8Rows`], FBGEMM's 8-bit rowwise format, as production DLRM serving stores them);
//!   MLPs stay fp32.
//!
//! Quality under a datatype is measured by scoring with the converted network, never assumed. Storage sizes
//! (bytes): embedding element 4 / 2 / 2 / 1, dense weight 4 / 2 / 2 / 4, plus 8 bytes per int8 table row.

use crate::model::{Features, Net};
use serde::Serialize;
use tch::nn::VarStore;
use tch::{Kind, Tensor};

/// A numeric datatype of a served model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Datatype {
    /// 32-bit IEEE floats throughout (the trained model).
    Fp32,
    /// 16-bit IEEE floats throughout.
    Fp16,
    /// bfloat16 throughout.
    Bf16,
    /// Row-wise int8 embedding tables (fp32 scale and bias per row), fp32 MLPs.
    Int8,
}

impl Datatype {
    /// The name spaces use (`fp32`, …).
    pub fn name(self) -> String {
        crate::input::choice_name(&self)
    }

    /// Bytes of one embedding element.
    pub fn embedding_element_bytes(self) -> u32 {
        match self {
            Datatype::Fp32 => 4,
            Datatype::Fp16 | Datatype::Bf16 => 2,
            Datatype::Int8 => 1,
        }
    }

    /// Bytes of one dense (MLP) weight or bias.
    pub fn dense_value_bytes(self) -> u32 {
        match self {
            Datatype::Fp32 | Datatype::Int8 => 4,
            Datatype::Fp16 | Datatype::Bf16 => 2,
        }
    }

    /// Bytes stored per embedding row besides its elements (int8: fp32 scale and bias).
    pub fn row_overhead_bytes(self) -> u32 {
        match self {
            Datatype::Int8 => 8,
            _ => 0,
        }
    }

    /// The tch type the network computes in.
    pub fn compute_kind(self) -> Kind {
        match self {
            Datatype::Fp16 => Kind::Half,
            Datatype::Bf16 => Kind::BFloat16,
            Datatype::Fp32 | Datatype::Int8 => Kind::Float,
        }
    }
}

/// A network computing in a reduced float type: float inputs cast in, logits cast back to f32.
struct Reduced {
    net: Box<dyn Net>,
    kind: Kind,
}

impl Net for Reduced {
    fn forward_t(&self, x: &Features<'_>, train: bool) -> Tensor {
        let out = match x {
            Features::Rows { dense, sparse } => {
                let dense = dense.to_kind(self.kind);
                self.net.forward_t(&Features::Rows { dense: &dense, sparse }, train)
            }
            Features::Pairs { .. } => self.net.forward_t(x, train),
        };
        out.to_kind(Kind::Float)
    }
}

/// `net` (built on `vs`, weights loaded) converted to `datatype` for serving.
pub fn convert(vs: &mut VarStore, mut net: Box<dyn Net>, datatype: Datatype) -> Box<dyn Net> {
    match datatype {
        Datatype::Fp32 => net,
        Datatype::Int8 => {
            for table in net.tables_mut() {
                table.quantize_int8();
            }
            net
        }
        Datatype::Fp16 | Datatype::Bf16 => {
            match datatype {
                Datatype::Fp16 => vs.half(),
                _ => vs.bfloat16(),
            }
            Box::new(Reduced { net, kind: datatype.compute_kind() })
        }
    }
}
