//! The real sources of an evaluation, opened for a space: quality from the score cache and CPU/GPU stage
//! latencies from the calibration profiles.

use super::{QualitySource, StageLatencySource};
use crate::spec::Space;
use std::path::PathBuf;

/// Where sources live.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Trained models and score caches.
    pub cache_dir: PathBuf,
    /// Calibration data (latency profiles).
    pub calib_dir: PathBuf,
}

/// Opened sources.
pub struct Opened {
    /// Cascade quality.
    pub quality: Box<dyn QualitySource>,
    /// CPU/GPU stage latencies.
    pub latency: Box<dyn StageLatencySource>,
    /// Notes for the report.
    pub notes: Vec<String>,
}

/// Open the sources of `space`.
pub fn open(space: &Space, opts: &SourceOptions) -> anyhow::Result<Opened> {
    let _ = (space, opts);
    anyhow::bail!("quality and latency sources are not available in this build")
}
