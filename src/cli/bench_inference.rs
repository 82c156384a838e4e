//! `recpipe-dse bench inference`: our tch DLRM forward (fused: one gather over the concatenated table; and
//! RecPipe's unfused 26 lookups) against an equivalent PyTorch eager model, in one process run.
//!
//! The eager model is a small Python script embedded here ([`EAGER_SCRIPT`]): 26 separate
//! `nn.EmbeddingBag(mode="sum")` tables with one index per bag, bottom MLP, dot interaction over the 27
//! vectors (`bmm` + lower-triangle indexing), top MLP ending in a sigmoid — the shape of RecPipe's DLRM.
//! Both sides use RecPipe's RM-small/med/large, the full Criteo Kaggle table sizes (unless
//! `--max-ind-range`), uniform random ids and dense features, the same thread count and the same glibc
//! allocator settings ([`crate::measure::MALLOC_THRESHOLDS`]). Per (model, batch) the implementations
//! alternate for `--rounds` rounds of `--warmup` untimed and `--runs` timed forwards, so that a busy machine
//! slows both alike; the median over all timed forwards is reported (ms, wall clock; on CUDA inputs are
//! already on the device and the clock is read after `synchronize`). Ours applies the sigmoid too, so both
//! do the same work. The eager process holds its model while ours holds the same one (two copies in memory).
//! Without `--python`, or when that interpreter cannot import torch, the eager column is absent and the
//! reason is printed.

use super::CliError;
use crate::data::{CRITEO_KAGGLE_TABLE_ROWS, DENSE, SPARSE};
use crate::measure::stats::summarize;
use crate::measure::{this_host, DeviceKind};
use crate::model::dlrm::{Dlrm, DlrmArch};
use crate::model::preset;
use anyhow::anyhow;
use clap::Args;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;
use tch::{Kind, Tensor};

/// The PyTorch eager baseline as a line-oriented server. argv: device, threads (0: leave), runs, warmup, seed,
/// table rows (JSON list). It prints `TORCH <version> <gpu>`, then answers each stdin line: `build <JSON [d,
/// bottom widths, top widths]>` → `READY`; `time <batch>` → `TIMES <ms>,<ms>,…` (`runs` timed forwards after
/// `warmup` untimed ones on fresh random inputs); `drop` → `DROPPED`; `quit` ends it.
pub const EAGER_SCRIPT: &str = r#"
import json, sys, time
import torch, torch.nn as nn
dev, threads, runs, warmup, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows = json.loads(sys.argv[6])
if threads > 0:
    torch.set_num_threads(threads)
torch.manual_seed(seed)
torch.set_grad_enabled(False)
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
print("TORCH", torch.__version__, name.replace(" ", "_"), flush=True)
sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
m, dense_width = None, 13
for line in sys.stdin:
    cmd = line.split(maxsplit=1)
    if not cmd:
        continue
    if cmd[0] == "build":
        d, bottom, top = json.loads(cmd[1])
        m, dense_width = DLRM(d, bottom, top).to(dev).eval(), bottom[0]
        print("READY", flush=True)
    elif cmd[0] == "time":
        B = int(cmd[1])
        x = torch.rand(B, dense_width, device=dev)
        idx = torch.stack([torch.randint(0, n, (B,), device=dev) for n in rows], 1)
        off = torch.arange(B, device=dev)
        ts = []
        for r in range(warmup + runs):
            sync(); t0 = time.perf_counter(); y = m(x, idx, off); sync()
            if r >= warmup:
                ts.append((time.perf_counter() - t0) * 1e3)
        print("TIMES", ",".join("%.6f" % t for t in ts), flush=True)
    elif cmd[0] == "drop":
        m = None
        if dev == "cuda":
            torch.cuda.empty_cache()
        print("DROPPED", flush=True)
    elif cmd[0] == "quit":
        break
"#;

/// Arguments of `bench inference`.
#[derive(Debug, Args)]
pub struct BenchInferenceArgs {
    /// Device.
    #[arg(long, value_enum, default_value_t = DeviceKind::Cpu)]
    pub device: DeviceKind,
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
    /// Timed forwards per implementation and round.
    #[arg(long, default_value_t = 10)]
    pub runs: u32,
    /// Rounds per case; the implementations alternate round by round so that both see the same machine load,
    /// and the median is taken over all rounds' timed forwards.
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Untimed forwards before each round.
    #[arg(long, default_value_t = 3)]
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
    let device = args.device;
    if device == DeviceKind::Cuda && !tch::Cuda::is_available() {
        return Err(CliError::runtime(anyhow!(
            "--device cuda: no CUDA device is visible (libtorch CUDA backend: {:?})",
            crate::device::load_cuda_backend()
        )));
    }
    if args.runs == 0 || args.rounds == 0 || args.batches.contains(&0) {
        return Err(CliError::input(anyhow!("--runs, --rounds and every --batches value must be at least 1")));
    }
    let archs = args
        .models
        .iter()
        .map(|name| match preset(name).and_then(|a| a.downcast::<DlrmArch>().cloned()) {
            Some(a) => Ok((name.clone(), a)),
            None => Err(CliError::input(anyhow!("--models: {name:?} is not a DLRM preset (rm-small|rm-med|rm-large)"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rows = CRITEO_KAGGLE_TABLE_ROWS.map(|r| args.max_ind_range.map_or(r, |cap| r.min(cap)));
    let host = this_host();
    let retained = crate::measure::retain_freed_memory();
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
    let (mmap, trim) = crate::measure::MALLOC_THRESHOLDS;
    println!(
        "allocator: glibc mmap threshold {} MiB, trim threshold {} MiB on both sides{}",
        mmap >> 20,
        trim >> 20,
        if retained { "" } else { " (not accepted by this libc: defaults)" }
    );
    let capped = if args.max_ind_range.is_some() { "capped" } else { "full Criteo Kaggle sizes" };
    println!("tables: {} rows in 26 tables ({capped})", rows.iter().sum::<u64>());
    println!(
        "timing: median of {} rounds x {} forwards after {} warm-up forwards per round, implementations alternating",
        args.rounds, args.runs, args.warmup
    );
    let mut table = Vec::new();
    let mut eager_note = String::from("eager: absent (no --python given)");
    for &t in &threads {
        let mut eager = match &args.python {
            None => None,
            Some(python) => match EagerSession::start(python, device, t, args, &rows) {
                Ok(session) => {
                    eager_note = format!("eager: PyTorch {} ({})", session.version, python.display());
                    Some(session)
                }
                Err(e) => {
                    eager_note = format!("eager: absent ({e:#})");
                    eprintln!("bench inference: {eager_note}");
                    None
                }
            },
        };
        if device == DeviceKind::Cpu {
            tch::set_num_threads(t.max(1) as i32);
        }
        for (name, arch) in &archs {
            eprintln!(
                "bench inference: {name} on {device}{}",
                if t > 0 { format!(", {t} thread(s)") } else { String::new() }
            );
            let dev = device.tch_device();
            tch::manual_seed(args.seed as i64);
            let _guard = tch::no_grad_guard();
            let vs = tch::nn::VarStore::new(dev);
            let model = Dlrm::new(&vs.root(), arch, &rows, false);
            if let Some(session) = eager.as_mut() {
                if let Err(e) = session.build(arch) {
                    eager_note = format!("eager: absent ({e:#})");
                    eprintln!("bench inference: {eager_note}");
                    eager = None;
                }
            }
            for &batch in &args.batches {
                let b = i64::from(batch);
                let dense = Tensor::rand([b, DENSE as i64], (Kind::Float, dev));
                let ids: Vec<Tensor> =
                    rows.iter().map(|&n| Tensor::randint(n as i64, [b], (Kind::Int64, dev))).collect();
                let sparse = Tensor::stack(&ids, 1);
                let (mut fused, mut unfused, mut eager_ms) = (Vec::new(), Vec::new(), Vec::new());
                for _ in 0..args.rounds {
                    if let Some(session) = eager.as_mut() {
                        match session.time(batch) {
                            Ok(times) => eager_ms.extend(times),
                            Err(e) => {
                                eager_note = format!("eager: absent ({e:#})");
                                eprintln!("bench inference: {eager_note}");
                                eager = None;
                                eager_ms.clear();
                            }
                        }
                    }
                    fused.extend(time_ms(device, args.warmup, args.runs, || model.forward(&dense, &sparse).sigmoid()));
                    unfused.extend(time_ms(device, args.warmup, args.runs, || {
                        model.forward_unfused(&dense, &sparse).sigmoid()
                    }));
                }
                let median = |v: &[f64]| summarize(v).map(|s| s.p50);
                let row = Row {
                    threads: t,
                    model: name.clone(),
                    batch,
                    fused_ms: median(&fused).unwrap_or(f64::NAN),
                    unfused_ms: median(&unfused).unwrap_or(f64::NAN),
                    eager_ms: if eager.is_some() { median(&eager_ms) } else { None },
                };
                eprintln!(
                    "  batch {batch}: ours {:.3} ms, unfused {:.3} ms, eager {}",
                    row.fused_ms,
                    row.unfused_ms,
                    row.eager_ms.map_or("absent".to_string(), |e| format!("{e:.3} ms"))
                );
                table.push(row);
            }
            if let Some(session) = eager.as_mut() {
                if let Err(e) = session.drop_model() {
                    eager_note = format!("eager: absent ({e:#})");
                    eager = None;
                }
            }
        }
        if let Some(session) = eager {
            session.finish();
        }
    }
    print_table(device, &table);
    println!("{eager_note}");
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

/// `runs` timed calls (ms) after `warmup` untimed ones; on CUDA synchronised around each call.
fn time_ms(device: DeviceKind, warmup: u32, runs: u32, mut f: impl FnMut() -> Tensor) -> Vec<f64> {
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
    samples
}

/// A running [`EAGER_SCRIPT`] process.
struct EagerSession {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Option<std::thread::JoinHandle<String>>,
    python: PathBuf,
    version: String,
}

impl EagerSession {
    /// Start the script for one device and thread count; waits for its `TORCH` line.
    fn start(
        python: &Path,
        device: DeviceKind,
        threads: u32,
        args: &BenchInferenceArgs,
        rows: &[u64; SPARSE],
    ) -> anyhow::Result<EagerSession> {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(EAGER_SCRIPT)
            .args([
                device.to_string(),
                threads.to_string(),
                args.runs.to_string(),
                args.warmup.to_string(),
                args.seed.to_string(),
                serde_json::json!(rows).to_string(),
            ])
            .env("MALLOC_MMAP_THRESHOLD_", crate::measure::MALLOC_THRESHOLDS.0.to_string())
            .env("MALLOC_TRIM_THRESHOLD_", crate::measure::MALLOC_THRESHOLDS.1.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| anyhow!("cannot start {}: {e}", python.display()))?;
        let mut stderr_pipe = child.stderr.take().expect("piped");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr_pipe, &mut text);
            text
        });
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut session = EagerSession {
            child,
            stdin,
            stdout,
            stderr: Some(stderr),
            python: python.to_path_buf(),
            version: String::new(),
        };
        let first = session.read_line()?;
        session.version = first
            .strip_prefix("TORCH ")
            .ok_or_else(|| anyhow!("{}: unexpected first line {first:?}", python.display()))?
            .replace('_', " ");
        Ok(session)
    }

    /// The next stdout line; when the process ended, an error with the last line of its stderr.
    fn read_line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            let status = self.child.wait()?;
            let stderr = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
            return Err(anyhow!("{} exited with {status}: {last}", self.python.display()));
        }
        Ok(line.trim_end().to_string())
    }

    /// Send one command and read its one-line answer.
    fn request(&mut self, command: &str) -> anyhow::Result<String> {
        writeln!(self.stdin, "{command}")?;
        self.stdin.flush()?;
        self.read_line()
    }

    fn build(&mut self, arch: &DlrmArch) -> anyhow::Result<()> {
        let spec = serde_json::json!([arch.embedding_dim, arch.bottom_mlp, arch.top_mlp]);
        match self.request(&format!("build {spec}"))?.as_str() {
            "READY" => Ok(()),
            other => Err(anyhow!("unexpected answer to build: {other:?}")),
        }
    }

    fn time(&mut self, batch: u32) -> anyhow::Result<Vec<f64>> {
        let answer = self.request(&format!("time {batch}"))?;
        let list = answer.strip_prefix("TIMES ").ok_or_else(|| anyhow!("unexpected answer to time: {answer:?}"))?;
        list.split(',').map(|t| t.parse::<f64>().map_err(|e| anyhow!("bad time {t:?}: {e}"))).collect()
    }

    fn drop_model(&mut self) -> anyhow::Result<()> {
        match self.request("drop")?.as_str() {
            "DROPPED" => Ok(()),
            other => Err(anyhow!("unexpected answer to drop: {other:?}")),
        }
    }

    fn finish(mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}
