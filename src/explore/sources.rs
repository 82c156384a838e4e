//! The real sources of an evaluation, opened for a space: cascade quality from the score cache
//! (`crate::quality`: every zoo model the space uses trained or loaded, every candidate scored once) and
//! CPU/GPU stage latencies from the calibration profiles (`crate::measure`). This is the loader behind
//! `explore` and `compare`; it reads files and may train models and run libtorch.

use super::evaluate::{model_gib, EvalSettings, Evaluator, HOST_VALUE_BYTES};
use super::{QualitySource, StageLatencySource, StageService};
use crate::measure::tables::model_fingerprint;
use crate::measure::{this_host, CalibCache, DeviceKind, HostFingerprint, ModelTables, ProfileKey};
use crate::quality::{prepare, PrepareOptions, ScoreCache};
use crate::spec::metric::Metric;
use crate::spec::{CpuKnobs, Space, StageHardware};
use anyhow::{anyhow, Context};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where sources live.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Trained models and score caches.
    pub cache_dir: PathBuf,
    /// Calibration data (latency profiles).
    pub calib_dir: PathBuf,
    /// Receives training and scoring progress.
    pub progress: Arc<dyn crate::progress::Progress>,
    /// Never train or score (a shard of a run after `prepare`): missing cached scores are an error.
    pub offline: bool,
}

/// Opened sources.
pub struct Opened {
    /// Cascade quality.
    pub quality: Box<dyn QualitySource>,
    /// CPU/GPU stage latencies.
    pub latency: Box<dyn StageLatencySource>,
    /// Parameters of each zoo model at the data set's real table sizes (for the memory-capacity rule,
    /// [`crate::explore::evaluate::Evaluator::with_model_parameters`]).
    pub model_parameters: Vec<u64>,
    /// Bytes of each zoo model in its datatype, where the space gives one.
    pub model_typed_bytes: Vec<Option<u64>>,
    /// Notes for the report.
    pub notes: Vec<String>,
}

impl Opened {
    /// An evaluator of `space` on these sources, with the memory-capacity rule.
    pub fn evaluator<'a>(&'a self, space: &'a Space, settings: EvalSettings) -> Evaluator<'a> {
        Evaluator::new(space, Some(self.quality.as_ref()), self.latency.as_ref(), settings)
            .with_model_parameters(self.model_parameters.clone())
            .with_model_typed_bytes(self.model_typed_bytes.clone())
    }

    /// What the evaluations depend on besides the space and the settings (for the journal fingerprint).
    pub fn descriptions(&self) -> Vec<String> {
        let mut out = vec![
            self.quality.describe(),
            self.latency.describe(),
            format!("model parameters {:?}", self.model_parameters),
        ];
        if self.model_typed_bytes.iter().any(Option::is_some) {
            out.push(format!("model bytes by datatype {:?}", self.model_typed_bytes));
        }
        out
    }
}

/// Open the sources of `space`: prepare the score cache (training or loading models, progress reported to
/// `opts.progress`) and load the calibration profiles.
pub fn open(space: &Space, opts: &SourceOptions) -> anyhow::Result<Opened> {
    let prep =
        PrepareOptions { offline: opts.offline, ..PrepareOptions::new(&opts.cache_dir, Arc::clone(&opts.progress)) };
    let cache = prepare(space, &prep).with_context(|| format!("{}: quality", space.source))?;
    let quality = ScoreQuality::new(space, cache);
    let latency = CalibLatency::open(space, &opts.calib_dir)?;
    let mut notes = Vec::new();
    notes.extend(latency.cache.damaged.iter().map(|d| format!("calibration row ignored: {d}")));
    let needs_profiles = space.cpu.is_some() || space.gpu.is_some();
    if needs_profiles && latency.is_empty() {
        notes.push(format!(
            "no latency profile in {}: every CPU/GPU point is infeasible (run `recpipe-dse calibrate {}`)",
            opts.calib_dir.display(),
            space.source
        ));
    }
    if let Some(cpu) = &space.cpu {
        notes.push(cpu_server_note(cpu, &latency.cpu_hosts()));
    }
    let model_parameters: Vec<u64> = space.zoo.iter().map(|m| m.arch.parameter_count(&latency.tables)).collect();
    let model_typed_bytes: Vec<Option<u64>> = space.zoo.iter().map(|m| m.typed_bytes(&latency.tables)).collect();
    let sizes: Vec<String> = space
        .zoo
        .iter()
        .zip(&model_parameters)
        .zip(&model_typed_bytes)
        .map(|((m, &p), typed)| match typed {
            Some(b) => {
                format!("{} {:.3} GiB ({})", m.name, *b as f64 / (1u64 << 30) as f64, m.compute_datatype().name())
            }
            None => format!("{} {:.3} GiB", m.name, model_gib(p, HOST_VALUE_BYTES)),
        })
        .collect();
    let rule = if model_typed_bytes.iter().any(Option::is_some) {
        "in its datatype where the space gives one, else 4 bytes per value"
    } else {
        "4 bytes per value"
    };
    notes.push(format!("model memory at the real table sizes, {rule}: {}", sizes.join(", ")));
    notes.extend(unchecked_memory(space));
    Ok(Opened { quality: Box::new(quality), latency: Box::new(latency), model_parameters, model_typed_bytes, notes })
}

/// Which measured host stands for the space's CPU server, and for how many concurrent engines.
fn cpu_server_note(cpu: &CpuKnobs, hosts: &[(String, u32, u32)]) -> String {
    let cores = cpu.cores.map_or("cores not given".to_string(), |c| format!("{c} cores"));
    let memory = cpu.memory_gib.map_or("memory not given".to_string(), |m| format!("{m} GiB"));
    let server = format!("CPU server (hardware.cpu: {cores}, {memory})");
    if hosts.is_empty() {
        return format!("{server}: no host has CPU latency profiles");
    }
    let stand_ins: Vec<String> = hosts
        .iter()
        .map(|(h, c, k)| format!("{h} ({c} cores, interference measured up to {k} concurrent engines)"))
        .collect();
    let most = hosts.iter().map(|h| h.2).max().unwrap_or(1);
    format!(
        "{server} is stood for by the CPU profiles of {}; designs with more than {most} CPU engines are infeasible \
         (no measurement covers them)",
        stand_ins.join("; ")
    )
}

/// Report notes for the memory capacities a space leaves out (those devices' memory is not checked).
pub fn unchecked_memory(space: &Space) -> Vec<String> {
    let mut notes = Vec::new();
    if space.cpu.as_ref().is_some_and(|c| c.memory_gib.is_none()) {
        notes.push("CPU memory is not checked (no hardware.cpu.memory_gib)".to_string());
    }
    if space.gpu.as_ref().is_some_and(|g| g.memory_gib.is_none()) {
        notes.push("GPU memory is not checked (no hardware.gpu.memory_gib)".to_string());
    }
    let unchecked: Vec<&str> = space
        .accel
        .iter()
        .flat_map(|a| &a.choices)
        .filter(|c| c.config.dram_capacity_gib.is_none())
        .map(|c| c.label.as_str())
        .collect();
    if !unchecked.is_empty() {
        notes.push(format!(
            "accelerator DRAM capacity is not checked for {} (no dram_capacity_gib)",
            unchecked.join(", ")
        ));
    }
    notes
}

/// Cascade quality from a prepared [`ScoreCache`], reduced to the metrics a run reports: every quality
/// metric named by an objective or constraint, plus `ndcg`, `hr` and `recpipe_ndcg` at 10 (when ≤ top_k)
/// and at `top_k`.
pub struct ScoreQuality {
    cache: ScoreCache,
    keep: BTreeSet<String>,
}

impl ScoreQuality {
    /// Wrap a score cache for `space`.
    pub fn new(space: &Space, cache: ScoreCache) -> ScoreQuality {
        let mut keep: BTreeSet<String> = space.quality_metrics().map(|m| m.to_string()).collect();
        for k in [10, space.top_k].into_iter().filter(|k| *k <= space.top_k) {
            keep.extend([Metric::Ndcg(k), Metric::HitRate(k), Metric::RecpipeNdcg(k)].map(|m| m.to_string()));
        }
        ScoreQuality { cache, keep }
    }
}

impl QualitySource for ScoreQuality {
    fn cascade(&self, stages: &[(usize, u32)]) -> Result<BTreeMap<String, f64>, String> {
        if let Some(&(m, _)) = stages.iter().find(|(m, _)| self.cache.scores(*m).is_none()) {
            return Err(format!("model '{}' has no cached scores", self.cache.model_names()[m]));
        }
        let q = self.cache.cascade(stages);
        Ok(q.metrics.into_iter().filter(|(k, _)| self.keep.contains(k)).collect())
    }
    fn describe(&self) -> String {
        self.cache.describe()
    }
    fn is_synthetic(&self) -> bool {
        self.cache.is_synthetic()
    }
}

/// CPU/GPU stage latencies from the calibration profiles (`calib/latency-*.csv`, `crate::measure`).
///
/// A stage's profile key is its model (with the data set's table sizes), items, survivors kept, device and
/// threads per engine. The profile measured on this host is preferred; otherwise one measured on another
/// host is used and that host is named as the stage's source. The raw sample is the empirical distribution;
/// CPU samples are multiplied by the profile's interference slowdown for the design's total CPU engines
/// (`Profile::slowdown`). A CPU stage is served only by a profile whose interference measurement covers the
/// design's engine count: a profile of this host if it does, else another host's that does; with none the
/// design is infeasible ("no profile for 32 concurrent CPU engines: profiled host … has 2 cores …") rather
/// than extrapolated from fewer engines. GPU stages run one engine per GPU and take no slowdown.
pub struct CalibLatency {
    cache: CalibCache,
    this_host: HostFingerprint,
    tables: ModelTables,
    space: Space,
}

impl CalibLatency {
    /// Profiles of `dir` for `space` (reads the MovieLens interaction file for table sizes).
    pub fn open(space: &Space, dir: &Path) -> anyhow::Result<CalibLatency> {
        let cache =
            CalibCache::load(dir).with_context(|| format!("cannot read calibration profiles in {}", dir.display()))?;
        let tables = ModelTables::for_space(space).map_err(|e| anyhow!("{}: {e}", space.source))?;
        Ok(CalibLatency { cache, this_host: this_host(), tables, space: space.clone() })
    }

    /// Hosts with CPU profiles: `(host, cores, most concurrent engines any of its profiles covers)`.
    pub fn cpu_hosts(&self) -> Vec<(String, u32, u32)> {
        let mut hosts: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for p in self.cache.profiles().filter(|p| p.key.device == DeviceKind::Cpu) {
            let e = hosts.entry(p.host.to_string()).or_insert((p.host.cores, 0));
            e.1 = e.1.max(p.measured_engines());
        }
        hosts.into_iter().map(|(h, (c, k))| (h, c, k)).collect()
    }

    /// Profiles loaded.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether no profile is loaded.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    fn key(&self, model: usize, items: u32, keep: u32, hw: &StageHardware) -> Option<ProfileKey> {
        let zoo = &self.space.zoo[model];
        let (device, threads) = match *hw {
            StageHardware::Cpu { threads_per_engine, .. } => (DeviceKind::Cpu, threads_per_engine),
            StageHardware::Gpu { .. } => (DeviceKind::Cuda, 0),
            StageHardware::Accel { .. } => return None,
        };
        Some(ProfileKey {
            model: zoo.name.clone(),
            arch: model_fingerprint(zoo, &self.tables),
            items,
            keep,
            device,
            threads,
        })
    }
}

impl StageLatencySource for CalibLatency {
    fn stage_service(
        &self,
        model: usize,
        items: u32,
        keep: u32,
        hw: &StageHardware,
        engines: u32,
    ) -> Result<StageService, String> {
        let key =
            self.key(model, items, keep, hw).ok_or_else(|| "accelerator stages use the cost model".to_string())?;
        let candidates = self.cache.lookup_all(&key, &self.this_host);
        if candidates.is_empty() {
            let device = match key.device {
                DeviceKind::Cpu => {
                    format!("cpu ({} thread{} per engine)", key.threads, if key.threads == 1 { "" } else { "s" })
                }
                DeviceKind::Cuda => "gpu".to_string(),
            };
            return Err(format!(
                "no latency profile for {} @{} (keep {}) on {device} on any known host (recpipe-dse calibrate measures it)",
                key.model, key.items, key.keep
            ));
        }
        let covering = candidates.iter().find(|p| key.device != DeviceKind::Cpu || p.covers_engines(engines));
        let Some(&profile) = covering else {
            let best = candidates.iter().max_by_key(|p| p.measured_engines()).expect("not empty");
            return Err(format!(
                "no profile for {engines} concurrent CPU engines of {} @{}: profiled host {} has {} cores and its \
                 interference measurement covers {} engine(s) (calibrate on a server with ≥ {engines} cores)",
                key.model,
                key.items,
                best.host.cpu_model,
                best.host.cores,
                best.measured_engines()
            ));
        };
        let slowdown = if key.device == DeviceKind::Cpu { profile.slowdown(engines) } else { 1.0 };
        let samples: Vec<f64> = profile.samples_ms.iter().map(|x| x * slowdown).collect();
        let here = if profile.host == self.this_host { " (this host)" } else { "" };
        Ok(StageService { samples_ms: Arc::new(samples), host: format!("{}{here}", profile.host), slowdown })
    }

    fn describe(&self) -> String {
        let mut hosts: Vec<String> = self.cache.profiles().map(|p| p.host.to_string()).collect();
        hosts.sort();
        hosts.dedup();
        if hosts.is_empty() {
            return format!("no calibration profiles in {}", self.cache.dir().display());
        }
        format!("{} calibration profiles from {} host(s): {}", self.cache.len(), hosts.len(), hosts.join("; "))
    }
}
