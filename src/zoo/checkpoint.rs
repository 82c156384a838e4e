//! Model checkpoints and cache keys.
//!
//! A trained model is stored as a safetensors file of its `VarStore` in `<cache>/checkpoints/`, named
//! `<model>-<key>.safetensors`. The key is a 128-bit hash (two FNV-1a-64 passes of [`crate::hash`] with
//! different offsets, hex) of everything that determines the trained weights: the data fingerprint, the model
//! configuration, the training settings and the seed, plus a format version. A present file with the right
//! key is reused; a write goes to a temporary file first and is renamed into place with a seal
//! ([`crate::durable`]), so a killed run never leaves a half-written checkpoint, and a damaged or truncated
//! one is detected ([`Loaded::Corrupt`]) and never handed to libtorch. Score-cache files use the same keys
//! (see `crate::quality`).

use crate::hash::{Fnv1a, OFFSET_BASIS, SECOND_OFFSET_BASIS};
use std::path::{Path, PathBuf};
use tch::nn::VarStore;

/// Version of everything that feeds a key; bump it when training or scoring code changes its results.
pub const CACHE_FORMAT: &str = "recpipe-dse-cache-v1";

/// FNV-1a-64 from `offset` of every part followed by a `0xff` separator byte (never part of UTF-8 text).
fn parts_hash(offset: u64, parts: &[&str]) -> u64 {
    let mut h = Fnv1a::with_offset(offset);
    for part in parts {
        h.write(part.as_bytes());
        h.write(&[0xff]);
    }
    h.finish()
}

/// A stable 32-hex-digit key of `parts` (order matters), including [`CACHE_FORMAT`].
pub fn cache_key(parts: &[&str]) -> String {
    let mut all = vec![CACHE_FORMAT];
    all.extend_from_slice(parts);
    format!("{:016x}{:016x}", parts_hash(OFFSET_BASIS, &all), parts_hash(SECOND_OFFSET_BASIS, &all))
}

/// Path of a model's checkpoint under `cache_dir`.
pub fn checkpoint_path(cache_dir: &Path, model: &str, key: &str) -> PathBuf {
    cache_dir.join("checkpoints").join(format!("{model}-{key}.safetensors"))
}

/// A checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// File-system problem.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// libtorch could not save or load the variables.
    #[error("{path}: {source}")]
    Torch {
        /// The file.
        path: String,
        /// The cause.
        source: tch::TchError,
    },
}

/// Save `vs` to `path` atomically and sealed (temporary file in the same folder, seal, rename).
pub fn save(vs: &VarStore, path: &Path) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io { path: path.display().to_string(), source };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = crate::durable::temp_path(path);
    if let Err(source) = vs.save(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(CheckpointError::Torch { path: path.display().to_string(), source });
    }
    crate::durable::commit_sealed(&tmp, path).map_err(io)
}

/// What [`load_if_present`] found.
#[derive(Debug)]
pub enum Loaded {
    /// No checkpoint at the path.
    Absent,
    /// The checkpoint matched its seal and was loaded.
    Loaded,
    /// The file is damaged, truncated or unsealed (the error says how); nothing was loaded.
    Corrupt(crate::durable::SealError),
}

/// Whether an intact (sealed, matching) checkpoint is at `path`.
pub fn is_intact(path: &Path) -> bool {
    matches!(crate::durable::read_sealed(path), Ok(Some(_)))
}

/// Load `path` into `vs` when an intact checkpoint is there.
pub fn load_if_present(vs: &mut VarStore, path: &Path) -> Result<Loaded, CheckpointError> {
    match crate::durable::read_sealed(path) {
        Ok(None) => Ok(Loaded::Absent),
        Err(e @ crate::durable::SealError::Corrupt { .. }) => Ok(Loaded::Corrupt(e)),
        Err(crate::durable::SealError::Io { path, source }) => Err(CheckpointError::Io { path, source }),
        Ok(Some(_)) => {
            vs.load(path).map_err(|source| CheckpointError::Torch { path: path.display().to_string(), source })?;
            Ok(Loaded::Loaded)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::Init;
    use tch::Device;

    #[test]
    fn keys_are_stable_and_order_sensitive() {
        let a = cache_key(&["data", "model"]);
        assert_eq!(a.len(), 32);
        assert_eq!(a, cache_key(&["data", "model"]));
        assert_ne!(a, cache_key(&["model", "data"]));
        assert_ne!(a, cache_key(&["datam", "odel"]));
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = std::env::temp_dir().join(format!("rpdse-ckpt-{}", std::process::id()));
        let path = checkpoint_path(&dir, "m", &cache_key(&["x"]));
        let vs = VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[3, 2], Init::Randn { mean: 0.0, stdev: 1.0 });
        save(&vs, &path).unwrap();
        let mut other = VarStore::new(Device::Cpu);
        let w2 = other.root().var("w", &[3, 2], Init::Const(0.0));
        assert!(matches!(load_if_present(&mut other, &path).unwrap(), Loaded::Loaded));
        assert!(w.equal(&w2));
        assert!(matches!(load_if_present(&mut other, &dir.join("absent.safetensors")).unwrap(), Loaded::Absent));
        // One flipped byte: detected, nothing loaded.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(load_if_present(&mut other, &path).unwrap(), Loaded::Corrupt(_)));
        assert!(!is_intact(&path));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
