//! Host fingerprint: what a latency profile depends on besides its key — CPU model, logical cores, memory,
//! GPU name and the libtorch version that ran it.
//!
//! Read on Linux from `/proc/cpuinfo`, `/proc/meminfo`, `/proc/driver/nvidia/gpus/*/information` (or
//! `nvidia-smi` when the proc file is absent) and the `version.py` / `build-version` file next to the
//! `libtorch_cpu.so` this process mapped (`/proc/self/maps`). Fields that cannot be read are `unknown`
//! (GPU: `none` when no NVIDIA GPU is visible). Two profiles come from the same host when all fields agree;
//! memory is compared in whole GiB so that small changes of MemTotal do not split a host.

use std::fmt;
use std::path::{Path, PathBuf};

/// The machine (and libtorch build) a profile was measured on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostFingerprint {
    /// CPU model name (`model name` of `/proc/cpuinfo`).
    pub cpu_model: String,
    /// Logical cores available to this process.
    pub cores: u32,
    /// Physical memory, GiB (rounded).
    pub memory_gib: u64,
    /// Name of CUDA GPU 0, or `none`.
    pub gpu: String,
    /// libtorch version (e.g. `2.11.0+cu130`), or `unknown`.
    pub libtorch: String,
}

impl fmt::Display for HostFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} cores, {} GiB), GPU {}, libtorch {}",
            self.cpu_model, self.cores, self.memory_gib, self.gpu, self.libtorch
        )
    }
}

impl HostFingerprint {
    /// A short file-name-safe label: lower-case letters, digits and dashes, from the CPU and GPU names plus a
    /// hash of all fields (so two hosts never share a calibration file by accident).
    pub fn slug(&self) -> String {
        let mut text = format!("{}-{}", self.cpu_model, self.gpu);
        text.make_ascii_lowercase();
        let mut slug = String::new();
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug.trim_matches('-').chars().take(48).collect();
        let all = format!("{}|{}|{}|{}|{}", self.cpu_model, self.cores, self.memory_gib, self.gpu, self.libtorch);
        format!("{}-{:08x}", slug.trim_end_matches('-'), crate::hash::fnv1a64(all.as_bytes()) as u32)
    }
}

/// The fingerprint of the machine this process runs on. Call after `crate::device::load_cuda_backend` so
/// the CUDA libtorch is mapped where it exists.
pub fn this_host() -> HostFingerprint {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
    HostFingerprint {
        cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".to_string()),
        cores,
        memory_gib: memory_gib(&meminfo).unwrap_or(0),
        gpu: gpu_name().unwrap_or_else(|| "none".to_string()),
        libtorch: libtorch_version().unwrap_or_else(|| "unknown".to_string()),
    }
}

/// The first `model name` of a `/proc/cpuinfo` text, whitespace-normalised.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "model name").then(|| value.split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

/// `MemTotal` of a `/proc/meminfo` text in GiB, rounded to the nearest integer.
pub fn memory_gib(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib + (1 << 19)) >> 20)
}

/// This machine's host name (`/proc/sys/kernel/hostname`), `unknown` where it cannot be read.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "unknown".into(), |s| s.trim().to_string())
}

/// Host name, CPU model and logical cores of this machine, for reports: `name: CPU model, N logical cores`.
pub fn machine_description() -> String {
    let name = hostname();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpu_model(&cpuinfo).unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{name}: {cpu}, {cores} logical cores")
}

/// Name of NVIDIA GPU 0 from the driver's proc files, else from `nvidia-smi`; `None` without a GPU.
fn gpu_name() -> Option<String> {
    if !tch::Cuda::is_available() {
        return None;
    }
    let from_proc = std::fs::read_dir("/proc/driver/nvidia/gpus").ok().and_then(|dir| {
        let mut entries: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        let info = std::fs::read_to_string(entries.first()?.join("information")).ok()?;
        info.lines().find_map(|l| l.strip_prefix("Model:").map(|m| m.trim().to_string()))
    });
    from_proc
        .or_else(|| {
            let out = std::process::Command::new("nvidia-smi")
                .args(["--query-gpu=name", "--format=csv,noheader", "--id=0"])
                .output()
                .ok()?;
            let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (out.status.success() && !name.is_empty()).then_some(name)
        })
        .or_else(|| Some("cuda (name unknown)".to_string()))
}

/// Version of the libtorch this process mapped: `version.py` of the Python wheel (`torch/version.py` beside
/// `torch/lib`) or `build-version` of a libtorch archive.
pub fn libtorch_version() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let lib = maps.lines().find_map(|l| {
        let path = l.split_whitespace().nth(5)?;
        path.ends_with("/libtorch_cpu.so").then(|| PathBuf::from(path))
    })?;
    let root = lib.parent()?.parent()?;
    version_from_dir(root)
}

/// The version recorded in a torch directory (the parent of `lib/`).
pub fn version_from_dir(root: &Path) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(root.join("version.py")) {
        let found = text.lines().find_map(|l| {
            let rest = l.strip_prefix("__version__")?.trim_start().strip_prefix('=')?.trim();
            Some(rest.trim_matches(|c| c == '\'' || c == '"').to_string())
        });
        if found.is_some() {
            return found;
        }
    }
    let text = std::fs::read_to_string(root.join("build-version")).ok()?;
    Some(text.trim().to_string()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC  7B13 64-Core Processor\nflags\t: x\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13 64-Core Processor"));
        assert_eq!(memory_gib("MemTotal:       24587440 kB\nMemFree: 1 kB\n"), Some(23));
        assert_eq!(cpu_model("flags: x"), None);
    }

    #[test]
    fn slug_is_file_safe_and_distinguishes_hosts() {
        let a = HostFingerprint {
            cpu_model: "AMD EPYC 7B13 64-Core Processor".into(),
            cores: 2,
            memory_gib: 23,
            gpu: "none".into(),
            libtorch: "2.11.0+cpu".into(),
        };
        let b = HostFingerprint { cores: 16, ..a.clone() };
        let slug = a.slug();
        assert!(slug.starts_with("amd-epyc-7b13-64-core-processor-none-"), "{slug}");
        assert!(slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        assert_ne!(slug, b.slug());
    }
}
