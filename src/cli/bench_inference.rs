//! `recpipe-dse bench inference`: our tch DLRM forward (fused: one gather over the concatenated table; and
//! RecPipe's unfused 26 lookups) against an equivalent PyTorch eager model, in one process run.
//!
//! The eager model is a small Python script embedded here ([`EAGER_SCRIPT`]): 26 separate
//! `nn.EmbeddingBag(mode="sum")` tables with one index per bag, bottom MLP, dot interaction over the 27
//! vectors (`bmm` + lower-triangle indexing), top MLP ending in a sigmoid — the shape of RecPipe's DLRM.
//! Both sides use RecPipe's RM-small/med/large, the full Criteo Kaggle table sizes (unless
//! `--max-ind-range`), uniform random ids and dense features, the same thread count, `--warmup` untimed
//! forwards, then the median of `--runs` timed forwards (ms, wall clock; on CUDA inputs are already on the
//! device and the clock is read after `synchronize`). Ours applies the sigmoid too, so both do the same work.
//! Without `--python`, or when that interpreter cannot import torch, the eager column is absent and the
//! reason is printed.

use super::CliError;
use crate::data::{CRITEO_KAGGLE_TABLE_ROWS, DENSE, SPARSE};
use crate::measure::stats::summarize;
use crate::measure::{this_host, DeviceKind};
use crate::spec::model::{preset, DlrmArch, ModelArch};
use crate::zoo::dlrm::Dlrm;
use anyhow::anyhow;
use clap::Args;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;
use tch::{Kind, Tensor};

/// The PyTorch eager baseline. argv: device, threads, runs, warmup, batches (comma list), models (JSON:
/// name → [d, bottom widths, top widths]), table rows (JSON list), seed. Prints `TORCH <version> <gpu>` and
/// one `EAGER <model> <batch> <median ms>` line per case.
pub const EAGER_SCRIPT: &str = r#"
import json, statistics, sys, time
import torch, torch.nn as nn
dev, threads, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
batches = [int(b) for b in sys.argv[5].split(",")]
models, rows, seed = json.loads(sys.argv[6]), json.loads(sys.argv[7]), int(sys.argv[8])
if threads > 0:
    torch.set_num_threads(threads)
torch.manual_seed(seed)
def mlp(widths, sigmoid_last):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        layers.append(nn.Sigmoid() if sigmoid_last and i == len(widths) - 2 else nn.ReLU())
    return nn.Sequential(*layers)
class DLRM(nn.Module):
    def __init__(self, d, bottom, top):
        super().__init__()
        self.emb = nn.ModuleList([nn.EmbeddingBag(n, d, mode="sum") for n in rows])
        self.bot = mlp(bottom, False)
        self.top = mlp([len(rows) * (len(rows) + 1) // 2 + d] + top, True)
        self.li, self.lj = torch.tril_indices(len(rows) + 1, len(rows) + 1, offset=-1)
    def forward(self, x, idx, off):
        b = self.bot(x)
        e = [t(idx[:, k], off) for k, t in enumerate(self.emb)]
        t = torch.stack([b] + e, 1)
        z = torch.bmm(t, t.transpose(1, 2))[:, self.li, self.lj]
        return self.top(torch.cat([b, z], 1))
name = torch.cuda.get_device_name(0) if dev == "cuda" else "none"
print("TORCH", torch.__version__, name, flush=True)
sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
with torch.no_grad():
    for mname, (d, bottom, top) in models.items():
        m = DLRM(d, bottom, top).to(dev).eval()
        for B in batches:
            x = torch.rand(B, bottom[0], device=dev)
            idx = torch.stack([torch.randint(0, n, (B,), device=dev) for n in rows], 1)
            off = torch.arange(B, device=dev)
            ts = []
            for r in range(warmup + runs):
                sync(); t0 = time.perf_counter(); y = m(x, idx, off); sync()
                if r >= warmup:
                    ts.append((time.perf_counter() - t0) * 1e3)
            print("EAGER", mname, B, statistics.median(ts), flush=True)
        del m
        if dev == "cuda":
            torch.cuda.empty_cache()
"#;

/// Arguments of `bench inference`.
#[derive(Debug, Args)]
pub struct BenchInferenceArgs {
    /// Device: `cpu` or `cuda`.
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    pub device: String,
    /// Python interpreter with torch for the eager baseline (absent: no eager column).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// CPU thread counts to compare (default: 1 and all cores); ignored on CUDA.
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<u32>,
    /// Batch sizes.
    #[arg(long, value_delimiter = ',', default_values_t = [128u32, 512, 1024, 4096])]
    pub batches: Vec<u32>,
    /// Models (zoo presets).
    #[arg(long, value_delimiter = ',', default_values_t = ["rm-small".to_string(), "rm-med".to_string(), "rm-large".to_string()])]
    pub models: Vec<String>,
    /// Timed forwards per case (the median is reported).
    #[arg(long, default_value_t = 30)]
    pub runs: u32,
    /// Untimed forwards per case.
    #[arg(long, default_value_t = 5)]
    pub warmup: u32,
    /// Cap on rows per embedding table (default: the full Criteo Kaggle sizes).
    #[arg(long)]
    pub max_ind_range: Option<u64>,
    /// Seed of weights and inputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// One row of the result table.
#[derive(Debug, Clone)]
struct Row {
    threads: u32,
    model: String,
    batch: u32,
    fused_ms: f64,
    unfused_ms: f64,
    eager_ms: Option<f64>,
}

/// Run `bench inference`.
pub fn run(args: &BenchInferenceArgs) -> Result<(), CliError> {
    let device = DeviceKind::parse(&args.device).expect("clap allows cpu|cuda only");
    if device == DeviceKind::Cuda && !tch::Cuda::is_available() {
        return Err(CliError::runtime(anyhow!(
            "--device cuda: no CUDA device is visible (libtorch CUDA backend: {:?})",
            crate::device::load_cuda_backend()
        )));
    }
    if args.runs == 0 || args.batches.iter().any(|&b| b == 0) {
        return Err(CliError::input(anyhow!("--runs and every --batches value must be at least 1")));
    }
    let archs = args
        .models
        .iter()
        .map(|name| match preset(name) {
            Some(ModelArch::Dlrm(a)) => Ok((name.clone(), a)),
            _ => Err(CliError::input(anyhow!("--models: {name:?} is not a DLRM preset (rm-small|rm-med|rm-large)"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rows = CRITEO_KAGGLE_TABLE_ROWS.map(|r| args.max_ind_range.map_or(r, |cap| r.min(cap)));
    let host = this_host();
    let threads: Vec<u32> = match device {
        DeviceKind::Cuda => vec![0],
        DeviceKind::Cpu if args.threads.is_empty() => {
            let mut t = vec![1, host.cores];
            t.dedup();
            t
        }
        DeviceKind::Cpu => args.threads.clone(),
    };
    println!("host: {host}");
    println!("tables: {} rows in 26 tables{}", rows.iter().sum::<u64>(), if args.max_ind_range.is_some() { " (capped)" } else { " (full Criteo Kaggle)" });
    let mut table = Vec::new();
    let mut eager_note = None;
    for &t in &threads {
        let eager = match &args.python {
            None => {
                eager_note = Some("eager: absent (no --python given)".to_string());
                BTreeMap::new()
            }
            Some(python) => match run_eager(python, device, t, args, &archs, &rows) {
                Ok((version, cases)) => {
                    eager_note = Some(format!("eager: PyTorch {version}"));
                    cases
                }
                Err(e) => {
                    eprintln!("bench inference: eager baseline failed: {e:#}");
                    eager_note = Some(format!("eager: absent ({e:#})"));
                    BTreeMap::new()
                }
            },
        };
        for (name, arch) in &archs {
            let cases = run_ours(device, t, args, arch, &rows).map_err(CliError::runtime)?;
            for (batch, fused_ms, unfused_ms) in cases {
                let eager_ms = eager.get(&(name.clone(), batch)).copied();
                eprintln!("  {name} batch {batch}: fused {fused_ms:.3} ms, unfused {unfused_ms:.3} ms");
                table.push(Row { threads: t, model: name.clone(), batch, fused_ms, unfused_ms, eager_ms });
            }
        }
    }
    print_table(device, &table);
    if let Some(note) = eager_note {
        println!("{note}");
    }
    Ok(())
}

fn print_table(device: DeviceKind, rows: &[Row]) {
    println!(
        "{:<6} {:>7} {:<9} {:>6} {:>10} {:>12} {:>10} {:>11}",
        "device", "threads", "model", "batch", "ours_ms", "unfused_ms", "eager_ms", "eager/ours"
    );
    for r in rows {
        let threads = if device == DeviceKind::Cuda { "-".to_string() } else { r.threads.to_string() };
        let (eager, ratio) = match r.eager_ms {
            Some(e) => (format!("{e:.3}"), format!("{:.2}", e / r.fused_ms)),
            None => ("absent".to_string(), "-".to_string()),
        };
        println!(
            "{:<6} {:>7} {:<9} {:>6} {:>10.3} {:>12.3} {:>10} {:>11}",
            device, threads, r.model, r.batch, r.fused_ms, r.unfused_ms, eager, ratio
        );
    }
}

/// Median ms of `runs` timed calls after `warmup` untimed ones; on CUDA synchronised around each call.
fn median_ms(device: DeviceKind, warmup: u32, runs: u32, mut f: impl FnMut() -> Tensor) -> f64 {
    let cuda = device == DeviceKind::Cuda;
    let mut samples = Vec::with_capacity(runs as usize);
    for r in 0..warmup + runs {
        if cuda {
            tch::Cuda::synchronize(0);
        }
        let t0 = Instant::now();
        let y = f();
        if cuda {
            tch::Cuda::synchronize(0);
        }
        let dt = t0.elapsed().as_secs_f64() * 1e3;
        drop(y);
        if r >= warmup {
            samples.push(dt);
        }
    }
    summarize(&samples).map_or(f64::NAN, |s| s.p50)
}

/// Our fused and unfused forwards (plus sigmoid) per batch: (batch, fused ms, unfused ms).
fn run_ours(
    device: DeviceKind,
    threads: u32,
    args: &BenchInferenceArgs,
    arch: &DlrmArch,
    rows: &[u64; SPARSE],
) -> Result<Vec<(u32, f64, f64)>, tch::TchError> {
    if device == DeviceKind::Cpu {
        tch::set_num_threads(threads.max(1) as i32);
    }
    let dev = device.tch_device();
    tch::manual_seed(args.seed as i64);
    let _guard = tch::no_grad_guard();
    let vs = tch::nn::VarStore::new(dev);
    let model = Dlrm::new(&vs.root(), arch, rows, false);
    let mut out = Vec::new();
    for &batch in &args.batches {
        let b = i64::from(batch);
        let dense = Tensor::rand([b, DENSE as i64], (Kind::Float, dev));
        let sparse = Tensor::stack(
            &rows.iter().map(|&n| Tensor::randint(n as i64, [b], (Kind::Int64, dev))).collect::<Vec<_>>(),
            1,
        );
        let fused = median_ms(device, args.warmup, args.runs, || model.forward(&dense, &sparse).sigmoid());
        let unfused =
            median_ms(device, args.warmup, args.runs, || model.forward_unfused(&dense, &sparse).sigmoid());
        out.push((batch, fused, unfused));
    }
    Ok(out)
}

/// Run the eager script for one thread count: (torch version and GPU, median ms per (model, batch)).
#[allow(clippy::type_complexity)]
fn run_eager(
    python: &PathBuf,
    device: DeviceKind,
    threads: u32,
    args: &BenchInferenceArgs,
    archs: &[(String, DlrmArch)],
    rows: &[u64; SPARSE],
) -> anyhow::Result<(String, BTreeMap<(String, u32), f64>)> {
    let models: serde_json::Map<String, serde_json::Value> = archs
        .iter()
        .map(|(name, a)| (name.clone(), serde_json::json!([a.embedding_dim, a.bottom_mlp, a.top_mlp])))
        .collect();
    let batches = args.batches.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    eprintln!("bench inference: PyTorch eager on {device}, threads {threads} ({})", python.display());
    let mut child = Command::new(python)
        .arg("-c")
        .arg(EAGER_SCRIPT)
        .args([
            device.as_str().to_string(),
            threads.to_string(),
            args.runs.to_string(),
            args.warmup.to_string(),
            batches,
            serde_json::Value::Object(models).to_string(),
            serde_json::json!(rows).to_string(),
            args.seed.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow!("cannot start {}: {e}", python.display()))?;
    let stdout = child.stdout.take().expect("piped");
    let mut stderr_pipe = child.stderr.take().expect("piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr_pipe, &mut text);
        text
    });
    let mut version = String::from("unknown");
    let mut cases = BTreeMap::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["TORCH", rest @ ..] => version = rest.join(" "),
            ["EAGER", model, batch, ms] => {
                eprintln!("  eager {model} batch {batch}: {ms} ms");
                cases.insert((model.to_string(), batch.parse()?), ms.parse()?);
            }
            _ => {}
        }
    }
    let status = child.wait()?;
    let stderr = stderr_reader.join().unwrap_or_default();
    if !status.success() {
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(anyhow!("{} exited with {status}: {last}", python.display()));
    }
    Ok((version, cases))
}
