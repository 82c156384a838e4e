//! `recpipe-dse bench data`: throughput of the synthetic Criteo-shaped generator and of the Criteo Kaggle
//! reader, and the reader's peak memory.
//!
//! Steps: (1) generate `--rows` preprocessed rows on one thread (rows/s); (2) write them in the `train.txt`
//! format to a temporary file (rows/s, MB/s); (3) count its lines (the first pass of
//! [`crate::data::criteo::load_split`], MB/s) and stream it through [`crate::data::criteo::CriteoReader`] in
//! chunks that are dropped at once (MB/s, rows/s), reporting the process's peak resident set (`VmHWM` from
//! `/proc/self/status`) before and after reading; (4) optionally (`--full-dictionaries`) fill per-table
//! dictionaries with as many distinct values as the real Kaggle file has (33.76 M) and report their memory. The
//! With `--file` only step (3) runs, on the given file (the real Kaggle file, if present). The
//! last lines extrapolate to the real 45.84 M-row file from the measured rates. Rates are per wall-clock second
//! on a possibly shared machine.
use super::bench::thread_cpu_s;
use super::CliError;
use crate::data::criteo::{self, CategoricalDicts, CriteoReader, KAGGLE_TRAIN_ROWS};
use crate::data::synthetic::{SyntheticConfig, SyntheticCriteo};
use crate::data::tsv_writer::write_rows;
use crate::data::CRITEO_KAGGLE_TABLE_ROWS;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Rows per generator block.
const BLOCK: u64 = 65_536;
/// Size of the real Kaggle `train.txt`, bytes.
const KAGGLE_TRAIN_BYTES: f64 = 11_147_184_845.0;

/// Arguments of `bench data`.
#[derive(Debug, clap::Args)]
pub struct BenchDataArgs {
    /// Rows to generate, write and read.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Cap on rows per embedding table (`max_ind_range`) for the generator and the reader; 0 = none.
    #[arg(long, default_value_t = 0)]
    pub max_ind_range: u64,
    /// Directory for the temporary `train.txt`-format file (deleted afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Rows per reader chunk.
    #[arg(long, default_value_t = 65_536)]
    pub chunk_rows: usize,
    /// Read this `train.txt`-format file (for example the real Kaggle file) instead of generating one.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Keep the generated file (its path is printed) instead of deleting it.
    #[arg(long)]
    pub keep: bool,
    /// Also fill dictionaries with the real file's 33.76 M distinct values and report their memory.
    #[arg(long)]
    pub full_dictionaries: bool,
}

/// Peak resident set size of this process (`VmHWM`), bytes; `None` where /proc is unavailable.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn fmt_rss(bytes: Option<u64>) -> String {
    bytes.map_or("n/a".into(), |b| format!("{:.1} MiB", mib(b)))
}

/// Deletes the file when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Print the generator's throughput on one thread and on all cores.
fn bench_generator(gen: &SyntheticCriteo, rows: u64) {
    let (t, c) = (Instant::now(), thread_cpu_s());
    let mut clicks = 0f64;
    for lo in (0..rows).step_by(BLOCK as usize) {
        let chunk = gen.rows(lo..(lo + BLOCK).min(rows));
        clicks += chunk.click_rate() * chunk.len() as f64;
    }
    let (gen_s, gen_cpu_s) = (t.elapsed().as_secs_f64(), thread_cpu_s() - c);
    println!(
        "  generator, 1 thread: {rows} rows in {gen_s:.2} s wall, {gen_cpu_s:.2} s CPU = {:.0} rows/s per wall \
         second, {:.0} per CPU second (click rate {:.4})",
        rows as f64 / gen_s,
        rows as f64 / gen_cpu_s,
        clicks / rows as f64
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let mut par_rows = 0usize;
    for lo in (0..rows).step_by(4 * BLOCK as usize) {
        par_rows += gen.rows_parallel(lo..(lo + 4 * BLOCK).min(rows), threads).len();
    }
    let par_s = t.elapsed().as_secs_f64();
    println!("  generator, {threads} threads: {par_rows} rows in {par_s:.2} s = {:.0} rows/s", par_rows as f64 / par_s);
}

/// Write `rows` generated rows to a fresh file in `dir` (temp file + rename); the guard deletes it.
fn write_bench_file(gen: &SyntheticCriteo, rows: u64, dir: &Path, seed: u64) -> anyhow::Result<TempFile> {
    let path = dir.join(format!("recpipe-dse-bench-data-{}-{seed}.txt", std::process::id()));
    let tmp = TempFile(crate::durable::temp_path(&path));
    let t = Instant::now();
    let file = std::fs::File::create(&tmp.0).with_context(|| format!("creating {}", tmp.0.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut bytes = 0u64;
    for lo in (0..rows).step_by(BLOCK as usize) {
        let raw: Vec<_> = (lo..(lo + BLOCK).min(rows)).map(|r| gen.raw_row(r)).collect();
        bytes += write_rows(&mut w, &raw).with_context(|| format!("writing {}", tmp.0.display()))?;
        eprint!("\r  writing {}/{rows} rows", (lo + BLOCK).min(rows));
    }
    eprintln!();
    w.flush().with_context(|| format!("writing {}", tmp.0.display()))?;
    drop(w);
    crate::durable::commit(&tmp.0, &path).with_context(|| format!("renaming to {}", path.display()))?;
    let write_s = t.elapsed().as_secs_f64();
    println!(
        "  writer (generate raw rows + format): {} in {write_s:.2} s = {:.0} rows/s, {:.1} MB/s; {:.1} bytes/row",
        path.display(),
        rows as f64 / write_s,
        bytes as f64 / write_s / 1e6,
        bytes as f64 / rows as f64
    );
    Ok(TempFile(path))
}

/// Count and stream-read `path`; print rates, memory and the extrapolation to the real file.
fn bench_reader(path: &Path, cap: Option<u64>, chunk_rows: usize) -> Result<(), CliError> {
    let bytes =
        std::fs::metadata(path).with_context(|| format!("reading {}", path.display())).map_err(CliError::input)?.len();
    let t = Instant::now();
    let counted = std::fs::File::open(path)
        .and_then(criteo::count_rows)
        .with_context(|| format!("counting lines of {}", path.display()))
        .map_err(CliError::input)?;
    let count_s = t.elapsed().as_secs_f64();
    println!(
        "  line count (pass 1 of load_split): {counted} lines, {:.1} MB in {count_s:.3} s = {:.0} MB/s",
        bytes as f64 / 1e6,
        bytes as f64 / count_s / 1e6
    );

    let rss_before = peak_rss_bytes();
    let (t, c) = (Instant::now(), thread_cpu_s());
    let mut reader = CriteoReader::open(path, cap).map_err(CliError::input)?;
    let mut read_rows = 0usize;
    for chunk in reader.chunks(chunk_rows) {
        read_rows += chunk.map_err(CliError::input)?.len();
        if read_rows % (1 << 20) < chunk_rows {
            eprint!("\r  reading {read_rows}/{counted} rows");
        }
    }
    eprintln!();
    let (read_s, read_cpu_s) = (t.elapsed().as_secs_f64(), thread_cpu_s() - c);
    let rss_after = peak_rss_bytes();
    let distinct: u64 = reader.table_rows().iter().sum();
    println!(
        "  reader (parse + dictionaries, chunks of {chunk_rows} rows): {read_rows} rows in {read_s:.2} s wall, \
         {read_cpu_s:.2} s CPU = {:.0} rows/s, {:.1} MB/s per wall second; {:.0} rows/s, {:.1} MB/s per CPU second",
        read_rows as f64 / read_s,
        bytes as f64 / read_s / 1e6,
        read_rows as f64 / read_cpu_s,
        bytes as f64 / read_cpu_s / 1e6
    );
    println!(
        "  reader memory: process peak RSS {} before reading, {} after; dictionaries {distinct} distinct values, \
         {:.1} MiB of hash tables",
        fmt_rss(rss_before),
        fmt_rss(rss_after),
        mib(reader.dictionaries().heap_bytes())
    );
    let full_dict = criteo::dictionary_bytes_estimate(&CRITEO_KAGGLE_TABLE_ROWS);
    println!(
        "  extrapolation to the real train.txt ({KAGGLE_TRAIN_ROWS} rows, {:.1} GB) at these rates: line count ≈ {:.1} \
         min, parse pass ≈ {:.1} min wall ({:.1} min of one free core); uncapped dictionaries for its 33.76 M \
         distinct values ≈ {:.0} MiB (hash-table estimate)",
        KAGGLE_TRAIN_BYTES / 1e9,
        KAGGLE_TRAIN_BYTES / (bytes as f64 / count_s) / 60.0,
        KAGGLE_TRAIN_ROWS as f64 / (read_rows as f64 / read_s) / 60.0,
        KAGGLE_TRAIN_ROWS as f64 / (read_rows as f64 / read_cpu_s) / 60.0,
        mib(full_dict),
    );
    Ok(())
}

/// Fill dictionaries with as many distinct values as the real file has and print their memory.
fn bench_full_dictionaries() {
    let t = Instant::now();
    let mut dicts = CategoricalDicts::new();
    for (tab, &n) in CRITEO_KAGGLE_TABLE_ROWS.iter().enumerate() {
        for v in 0..n as u32 {
            dicts.id(tab, v.wrapping_mul(0x9E37_79B1));
        }
    }
    println!(
        "  full-size dictionaries: {} values inserted in {:.2} s, {:.1} MiB of hash tables, process peak RSS {}",
        dicts.table_rows().iter().sum::<u64>(),
        t.elapsed().as_secs_f64(),
        mib(dicts.heap_bytes()),
        fmt_rss(peak_rss_bytes())
    );
}

/// Run the benchmark and print the figures.
pub fn run(args: &BenchDataArgs) -> Result<(), CliError> {
    let cap = (args.max_ind_range > 0).then_some(args.max_ind_range);
    let chunk_rows = args.chunk_rows.max(1);
    match &args.file {
        Some(path) => {
            println!("data benchmark: reading {}", path.display());
            bench_reader(path, cap, chunk_rows)?;
        }
        None => {
            let rows = args.rows.max(14);
            let t = Instant::now();
            let gen = SyntheticCriteo::new(SyntheticConfig::new(args.seed, cap));
            println!("data benchmark: {}", gen.describe());
            println!(
                "  generator set-up (teacher + calibration on {} rows): {:.3} s",
                gen.config().calibration_rows,
                t.elapsed().as_secs_f64()
            );
            bench_generator(&gen, rows);
            let dir = args.dir.clone().unwrap_or_else(std::env::temp_dir);
            let file = write_bench_file(&gen, rows, &dir, args.seed).map_err(CliError::runtime)?;
            bench_reader(&file.0, cap, chunk_rows)?;
            if args.keep {
                println!("  kept {}", file.0.display());
                std::mem::forget(file);
            }
        }
    }
    if args.full_dictionaries {
        bench_full_dictionaries();
    }
    Ok(())
}
