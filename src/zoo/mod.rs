//! The model zoo in tch (libtorch): DLRM for Criteo-shaped data and NeuMF for MovieLens.
//!
//! Models return logits (scores before the sigmoid); ranking by logits equals ranking by click probability, and
//! training uses the numerically stable BCE-with-logits. Variables live in a `tch::nn::VarStore` so that
//! checkpoints are plain safetensors files. Host-side batches are `ndarray` arrays, copied into tensors by
//! [`tensor`].

pub mod checkpoint;
pub mod embedding;
pub mod mlp;
pub mod precision;
pub mod tensor;
pub mod train;
