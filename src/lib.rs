//! recpipe-dse: co-design of multi-stage recommendation pipelines and the hardware that serves them.
//!
//! Module map: [`spec`] (design-space YAML → validated [`spec::Space`]), [`accel`] (RecPipeAccel cost,
//! area, power and energy model), [`sim`] (virtual-time serving simulator), [`device`] (libtorch devices),
//! [`data`] (Criteo and MovieLens data), [`zoo`] (DLRM and NeuMF in tch), [`hash`] (the stable FNV-1a hash
//! of fingerprints and cache keys), [`durable`] (atomic writes, sealed cache files, file locks), [`reproduce`] (the RecPipe paper's figures as data, beside the published
//! numbers), [`cli`] (the command line; the only place that does terminal I/O).
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod accel;
pub mod cli;
pub mod data;
pub mod device;
pub mod durable;
pub mod explore;
pub mod hash;
pub mod import;
pub mod input;
pub mod measure;
pub mod model;
pub mod pareto;
pub mod progress;
pub mod quality;
pub mod report;
pub mod reproduce;
pub mod search;
pub mod sim;
pub mod spec;
pub mod zoo;
