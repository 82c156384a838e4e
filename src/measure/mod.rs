//! Measured CPU/GPU stage latency: profiling with tch, interference of concurrent engines, and the
//! calibration cache in `calib/` that keeps profiles per host.
//!
//! A *stage step* is what one inference engine does for one query of a pipeline stage (RecPipe, MICRO'21,
//! §III): gather the features of the stage's `items` candidates from an in-memory feature store, run the
//! model's forward pass on them, and keep the `keep` best (top-k) for the next stage. [`profile`] times that
//! step on a tch device (milliseconds, wall clock) after warm-up and keeps the raw sample; [`interference`]
//! measures how the step slows down when k single-threaded engines run at once on one host; [`calib_cache`]
//! stores both as CSV rows keyed by host fingerprint ([`host`]) and measurement key ([`ProfileKey`]).
//!
//! Embedding tables have their real sizes (the 26 Criteo Kaggle tables, 33.8 M rows, unless the space caps
//! them with `max_ind_range`; MovieLens users and items from the data set) because the memory footprint
//! changes the gather's latency; weights are random, which does not change the work done.

pub mod calib_cache;
pub mod calibrate;
pub mod host;
pub mod interference;
pub mod profile;
pub mod stats;
pub mod tables;

pub use calib_cache::CalibCache;
pub use host::{this_host, HostFingerprint};
pub use profile::{Profile, ProfileOptions};
pub use tables::{required_profiles, ModelTables};

use std::fmt;

/// glibc `malloc` settings that keep freed memory in the process: (mmap threshold, trim threshold), bytes.
pub const MALLOC_THRESHOLDS: (usize, usize) = (32 << 20, 1 << 30);

/// Make glibc keep freed heap memory in the process instead of returning it to the OS after every step.
///
/// By default glibc serves blocks above a dynamic threshold (128 KiB at start) with fresh `mmap`s and trims
/// the heap top on `free`, so a forward pass whose activations are megabytes page-faults and zero-fills
/// them anew on every call — on this project's 2-core machine that tripled DLRM latency at batch 4096.
/// Serving processes avoid this with such settings (or another allocator); profiles and benchmarks apply
/// [`MALLOC_THRESHOLDS`] (the eager baseline gets the same values through `MALLOC_MMAP_THRESHOLD_` and
/// `MALLOC_TRIM_THRESHOLD_`). Returns whether glibc accepted both; a no-op elsewhere.
pub fn retain_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let (mmap, trim) = MALLOC_THRESHOLDS;
        // SAFETY: mallopt only changes allocator tuning parameters; it is safe to call at any time.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, mmap as libc::c_int) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, trim as libc::c_int) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Errors of profiling and of the calibration cache.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// A calibration file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A calibration file has a malformed line.
    #[error("{path}:{line}: {message}")]
    Format {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong, with the bad value.
        message: String,
    },
    /// The space or its data cannot be profiled (a model without a tch implementation, missing data).
    #[error("{0}")]
    Unsupported(String),
    /// libtorch failed.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Kind of device a profile was measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum DeviceKind {
    /// The host CPU (tch `Device::Cpu`).
    Cpu,
    /// A CUDA GPU (tch `Device::Cuda(0)`).
    Cuda,
}

impl DeviceKind {
    /// The tch device (CUDA device 0 for [`DeviceKind::Cuda`]).
    pub fn tch_device(self) -> tch::Device {
        match self {
            DeviceKind::Cpu => tch::Device::Cpu,
            DeviceKind::Cuda => tch::Device::Cuda(0),
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::input::choice_name(self))
    }
}

/// What one latency profile measures: a model (name and architecture fingerprint, which includes its table
/// sizes) scoring `items` candidates and keeping `keep` of them, on a device with a thread count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfileKey {
    /// Zoo name of the model.
    pub model: String,
    /// Architecture fingerprint including the embedding-table sizes ([`tables::arch_fingerprint`]).
    pub arch: String,
    /// Candidates scored per step (the stage's batch size).
    pub items: u32,
    /// Survivors kept by the top-k (the next stage's items, or the final top-k).
    pub keep: u32,
    /// Device kind.
    pub device: DeviceKind,
    /// CPU: intra-op threads per engine (`tch::set_num_threads`). CUDA: 0 (not a knob of GPU stages).
    pub threads: u32,
}

impl fmt::Display for ProfileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} items={} keep={} {}", self.model, self.items, self.keep, self.device)?;
        if self.device == DeviceKind::Cpu {
            write!(f, " threads={}", self.threads)?;
        }
        Ok(())
    }
}
