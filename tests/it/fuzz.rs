//! Fuzzing every parser: mutated valid files and hostile snippets through the space, pipeline, accelerator
//! (YAML and RecPipe JSON) and model parsers, calibration CSV, published-figure CSV, journal lines, seal
//! files (the checkpoint and cache headers this crate reads), run state, MovieLens (three formats) and
//! Criteo rows.
//!
//! Every input must return (accepted or rejected with an error) without a panic, within
//! [`HANG_LIMIT`] and under [`MEMORY_LIMIT`] bytes of live heap on its thread (a counting allocator; an
//! input over it is written to `<target tmp>/fuzz-memory-input.bin` before the process aborts). First the
//! committed corpus of hostile inputs (`tests/fuzz-corpus/<target>/`) is replayed, then
//! `RECPIPE_FUZZ_INPUTS` (default 120,000) generated inputs are spread over the targets, from seed
//! `RECPIPE_FUZZ_SEED` (default 20261206). An input that panics or hangs is saved under the cargo target's
//! tmp folder and named in the failure; add it to the corpus once fixed.

use crate::support::{repo, SplitMix as Rng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest time one input may take.
const HANG_LIMIT: Duration = Duration::from_secs(10);
/// Most live heap bytes one input may hold on its thread.
const MEMORY_LIMIT: isize = 1 << 30;

// ---- bounded allocator -------------------------------------------------------------------------------

/// The system allocator, counting live bytes per thread and refusing an allocation that would take a
/// fuzzing thread over [`MEMORY_LIMIT`].
struct Bounded;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static BOUNDED: Cell<bool> = const { Cell::new(false) };
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
    static INPUT: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

#[global_allocator]
static ALLOCATOR: Bounded = Bounded;

/// Account for `delta` more bytes; false when a bounded thread would go over the limit (the current input
/// is saved first).
fn admit(delta: isize) -> bool {
    let live = LIVE.with(|l| {
        let v = l.get() + delta;
        l.set(v);
        v
    });
    if delta <= 0 || live <= MEMORY_LIMIT || !BOUNDED.with(Cell::get) || IN_HOOK.with(Cell::get) {
        return true;
    }
    IN_HOOK.with(|h| h.set(true));
    let (ptr, len) = INPUT.with(Cell::get);
    // SAFETY: the fuzz loop stores the address and length of the input it is parsing, alive during parsing.
    let input = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
    let dump = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-memory-input.bin");
    let _ = std::fs::write(&dump, input);
    eprintln!("fuzz: an input needs over {MEMORY_LIMIT} bytes of heap; saved to {}", dump.display());
    LIVE.with(|l| l.set(l.get() - delta));
    false
}

// SAFETY: every call is forwarded to the system allocator; only the bookkeeping is added.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !admit(layout.size() as isize) {
            return std::ptr::null_mut();
        }
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !admit(layout.size() as isize) {
            return std::ptr::null_mut();
        }
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.with(|l| l.set(l.get() - layout.size() as isize));
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !admit(new_size as isize - layout.size() as isize) {
            return std::ptr::null_mut();
        }
        System.realloc(ptr, layout, new_size)
    }
}

// ---- targets -----------------------------------------------------------------------------------------

type Parse = Box<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// One parser under test: its valid seed inputs and a call that returns whether the input was accepted.
struct Target {
    name: &'static str,
    seeds: Vec<Vec<u8>>,
    parse: Parse,
}

fn files(dir: &str, ext: &str) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    paths.sort();
    // Long files are cut to their first 8 KiB at a line end (their structure repeats).
    paths
        .iter()
        .map(|p| {
            let b = std::fs::read(p).unwrap();
            if b.len() <= 8192 {
                return b;
            }
            let cut = b[..8192].iter().rposition(|&c| c == b'\n').map_or(8192, |i| i + 1);
            b[..cut].to_vec()
        })
        .collect()
}

fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

fn journal_seeds() -> Vec<Vec<u8>> {
    use recpipe_dse::explore::journal::Journal;
    use recpipe_dse::explore::{Metrics, Outcome};
    use recpipe_dse::spec::metric::Metric;
    let dir = std::env::temp_dir().join(format!("recpipe-fuzz-journal-{}", std::process::id()));
    let path = dir.join("j.jsonl");
    let _ = std::fs::remove_dir_all(&dir);
    {
        let j = Journal::open(&path, "0123456789abcdef").unwrap();
        let mut m = Metrics::default();
        m.set(Metric::P95Ms, 1.25);
        m.set(Metric::CapacityQps, 2235.0);
        m.set(Metric::Ndcg(64), 0.31);
        let hw = vec!["accel recpipe-s1 x1".to_string(), "cpu 4x1".to_string()];
        j.append(&j.record(
            recpipe_dse::spec::PointId(7),
            "rm-small:4096 > rm-large:512".into(),
            hw,
            5,
            Outcome::Feasible(m),
        ))
        .unwrap();
        let reason = "SLA never met: p95 ≤ 10 ms fails even at 50 queries/s".to_string();
        j.append(&j.record(
            recpipe_dse::spec::PointId(9),
            "rm-med:2048".into(),
            vec![],
            5,
            Outcome::Infeasible { reason, partial: Metrics::default() },
        ))
        .unwrap();
    }
    let lines = std::fs::read_to_string(&path).unwrap().lines().map(|l| l.as_bytes().to_vec()).collect();
    let _ = std::fs::remove_dir_all(&dir);
    lines
}

fn targets() -> Vec<Target> {
    use recpipe_dse::accel::hardware::AccelConfig;
    use recpipe_dse::accel::model_shape::ModelShape;
    use recpipe_dse::data::movielens::{parse_movielens, MovielensFormat};
    let root = repo();
    let pipelines = root.join("spaces/pipelines");
    let mut space_seeds = files("spaces", "yaml");
    space_seeds.extend(files("tests/spaces", "yaml"));
    let mut accel_yaml = files("accel", "yaml");
    accel_yaml.push(b"preset: rm-small\n".to_vec());
    accel_yaml.push(
        b"dlrm:\n  dense: 13\n  bottom: [512, 256, 64, 16]\n  top: [512, 256, 1]\n  sparse: 26\n  dim: 16\n".to_vec(),
    );
    let mut accel_json = files("accel/recpipe2021/hardware", "json");
    accel_json.extend(files("accel/recpipe2021/models", "json"));
    let movielens_seeds = vec![
        crate::support::tiny_movielens().into_bytes(),
        b"1::10::4::978300760\n1::11::5::978300761\n2::10::3::978300762\n2::12::4::978300763\n".to_vec(),
        b"userId,movieId,rating,timestamp\n1,10,4.0,1112486027\n1,11,3.5,1112486028\n2,10,5.0,1112486029\n".to_vec(),
    ];
    // Rows of the seeded synthetic generator, in the Criteo text format.
    let generator = recpipe_dse::data::synthetic::SyntheticCriteo::new(
        recpipe_dse::data::synthetic::SyntheticConfig::new(3, Some(100_000)),
    );
    let criteo_seeds = (0..8)
        .map(|r| {
            let mut line = Vec::new();
            recpipe_dse::data::tsv_writer::format_row(&generator.raw_row(r), &mut line);
            line
        })
        .collect();
    let checksum = recpipe_dse::durable::checksum(b"0123456789");
    let seal_seeds = vec![
        format!("recpipe-dse-seal-v1 bytes=10 checksum={checksum}\n").into_bytes(),
        format!("recpipe-dse-seal-v1 bytes=11 checksum={checksum}\n").into_bytes(),
    ];
    let run_state = br#"{"strategy":"nsga2","budget":1500,"seed":7,"early_stop":0.1,"command":"recpipe-dse explore spaces/kaggle.yaml","started_utc":"20261206T111823Z","finished":false}"#;
    vec![
        Target {
            name: "space-yaml",
            seeds: space_seeds,
            parse: Box::new(move |b| recpipe_dse::spec::parse_space(&text(b), "fuzz.yaml", &root).is_ok()),
        },
        Target {
            name: "pipeline-yaml",
            seeds: files("spaces/pipelines", "yaml"),
            parse: Box::new(move |b| {
                recpipe_dse::sim::pipeline_file::parse_pipeline(&text(b), "fuzz.yaml", &pipelines).is_ok()
            }),
        },
        Target {
            name: "accel-yaml",
            seeds: accel_yaml,
            parse: Box::new(|b| {
                let t = text(b);
                let hw = AccelConfig::from_yaml_str(&t, "fuzz.yaml").is_ok();
                ModelShape::from_yaml_str(&t, "fuzz.yaml").is_ok() || hw
            }),
        },
        Target {
            name: "accel-json",
            seeds: accel_json,
            parse: Box::new(|b| {
                let t = text(b);
                let hw = AccelConfig::from_recpipe_json_str(&t, "fuzz.json").is_ok();
                ModelShape::from_recpipe_json_str(&t, "fuzz.json").is_ok() || hw
            }),
        },
        Target {
            name: "calibration-csv",
            seeds: files("calib", "csv").into_iter().filter(|s| s.starts_with(b"host_cpu")).collect(),
            parse: Box::new(|b| recpipe_dse::measure::calib_cache::parse_profiles(&text(b), "fuzz.csv").is_ok()),
        },
        Target {
            name: "published-csv",
            seeds: files("spaces/paper", "csv"),
            parse: Box::new(|b| {
                let t = text(b);
                let header = t.lines().find(|l| !l.starts_with('#') && !l.trim().is_empty()).unwrap_or("");
                let expected: Vec<&str> = header.split(',').collect();
                recpipe_dse::reproduce::published::parse(&t, "fuzz.csv", &expected).is_ok()
            }),
        },
        Target {
            name: "journal-line",
            seeds: journal_seeds(),
            parse: Box::new(|b| recpipe_dse::explore::journal::parse_line(&text(b)).is_some()),
        },
        Target {
            name: "seal",
            seeds: seal_seeds,
            parse: Box::new(|b| recpipe_dse::durable::seal_matches(&text(b), b"0123456789").is_ok()),
        },
        Target {
            name: "run-state",
            seeds: vec![run_state.to_vec()],
            parse: Box::new(|b| serde_json::from_str::<recpipe_dse::explore::run::RunState>(&text(b)).is_ok()),
        },
        Target {
            name: "movielens",
            seeds: movielens_seeds,
            parse: Box::new(|b| {
                let t = text(b);
                [MovielensFormat::RecboleAtomic, MovielensFormat::Ml1mDat, MovielensFormat::Ml20mCsv]
                    .into_iter()
                    .any(|f| parse_movielens(&t, f, "fuzz").is_ok())
            }),
        },
        Target {
            name: "criteo-row",
            seeds: criteo_seeds,
            parse: Box::new(|b| {
                let capped = recpipe_dse::data::criteo::parse_line(b, Some(1000)).is_ok();
                recpipe_dse::data::criteo::parse_line(b, None).is_ok() || capped
            }),
        },
    ]
}

// ---- mutations ---------------------------------------------------------------------------------------

const BYTES: &[u8] = b"\x00\xff\n\r\t :-[]{},\"'&*!|>#%@`?\\0123456789.e+-_abcxyz\xc3\xa9";
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1",
    "nan",
    "NaN",
    ".nan",
    ".NaN",
    "inf",
    "-inf",
    ".inf",
    "-.inf",
    "1e308",
    "1e309",
    "-1e308",
    "1e-320",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    "0x10",
    "1_000",
    "0.0000001",
    "3.4e38",
    "99999999999999999999999",
    "true",
    "null",
    "~",
    "''",
    "[]",
    "{}",
];
const SNIPPETS: &[&str] = &[
    "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
    "x: *undefined\n",
    "<<: *a\n",
    "? [a, b]\n: c\n",
    "!!binary aGVsbG8=",
    "!custom {a: 1}",
    "- - - - - - - -\n",
    "%YAML 1.2\n---\n",
    "---\n...\n---\n",
    "\u{feff}",
    "\"\\u0000\\ud800\"",
    "key: |\n  multi\n  line\n",
    "{\"a\": [1, 2, {\"b\": null}]}",
    ",,,,,,,,,,,,,,,,,,,,",
    "\"unterminated",
    "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t",
];

/// A hostile structure: deep nesting or a long run of one character.
fn big_snippet(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => "[".repeat(2000 + rng.below(20_000)),
        1 => "{a: ".repeat(1000 + rng.below(5000)),
        2 => "- ".repeat(1000 + rng.below(5000)),
        _ => "9".repeat(1000 + rng.below(100_000)),
    }
}

/// Start of a number token at or after `from`, and its end.
fn number_at(input: &[u8], from: usize) -> Option<(usize, usize)> {
    let start = from + input[from..].iter().position(|c| c.is_ascii_digit())?;
    let end = start
        + input[start..]
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == b'.' || *c == b'e'))
            .unwrap_or(input.len() - start);
    Some((start, end))
}

fn mutate(seed: &[u8], others: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let n = v.len();
        let at = rng.below(n + 1);
        match rng.below(11) {
            0 if n > 0 => v[at.min(n - 1)] ^= 1 << rng.below(8),
            1 if n > 0 => v[at.min(n - 1)] = BYTES[rng.below(BYTES.len())],
            2 => {
                let k = 1 + rng.below(8);
                let ins: Vec<u8> = (0..k).map(|_| BYTES[rng.below(BYTES.len())]).collect();
                v.splice(at..at, ins);
            }
            3 if n > 0 => {
                let end = (at + 1 + rng.below(32)).min(n);
                v.drain(at.min(end)..end);
            }
            4 if n > 0 => {
                let start = at.min(n - 1);
                let end = (start + 1 + rng.below(64)).min(n);
                let chunk = v[start..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, chunk);
            }
            5 if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                v.truncate(at);
                v.extend_from_slice(&other[from..]);
            }
            6 | 7 => {
                if let Some((s, e)) = number_at(&v, rng.below(n + 1).min(n)) {
                    v.splice(s..e, NUMBERS[rng.below(NUMBERS.len())].bytes());
                }
            }
            8 => v.truncate(at),
            9 => {
                let snippet =
                    if rng.below(8) == 0 { big_snippet(rng) } else { SNIPPETS[rng.below(SNIPPETS.len())].to_string() };
                v.splice(at..at, snippet.into_bytes());
            }
            _ => {
                // Swap two lines.
                let lines: Vec<&[u8]> = v.split(|&c| c == b'\n').collect();
                if lines.len() > 2 {
                    let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                    let mut owned: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
                    owned.swap(i, j);
                    v = owned.join(&b'\n');
                }
            }
        }
    }
    v
}

// ---- driver ------------------------------------------------------------------------------------------

/// What one target's run found.
#[derive(Default)]
struct Tally {
    inputs: u64,
    accepted: u64,
    slowest: Duration,
    failures: Vec<String>,
}

/// Parse `input` on this thread under the memory bound; a panic is returned as its message.
fn run_one(target: &Target, input: &[u8]) -> Result<bool, String> {
    INPUT.with(|i| i.set((input.as_ptr() as usize, input.len())));
    LIVE.with(|l| l.set(0));
    BOUNDED.with(|b| b.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| (target.parse)(input)));
    BOUNDED.with(|b| b.set(false));
    result.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

fn save_failure(kind: &str, target: &str, input: &[u8]) -> PathBuf {
    let name = format!("fuzz-{kind}-{target}-{:016x}.bin", recpipe_dse::hash::fnv1a64(input));
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::write(&path, input);
    path
}

/// The input a worker is parsing and since when (read by the watchdog).
type Slot = Mutex<(Instant, Vec<u8>)>;

/// Replay the committed corpus, then `count` generated inputs; a watchdog flags an input over the hang limit.
fn fuzz_target(target: &Target, count: u64, seed: u64, current: &Slot) -> Tally {
    let mut tally = Tally::default();
    let corpus_dir = repo().join("tests/fuzz-corpus").join(target.name);
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(&corpus_dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| std::fs::read(e.path()).unwrap()).collect())
        .unwrap_or_default();
    // Every committed hostile input must be refused with an error.
    for input in &corpus {
        if run_one(target, input) == Ok(true) {
            tally.failures.push(format!("{}: a hostile corpus input was accepted: {}", target.name, text(input)));
        }
    }
    corpus.extend(target.seeds.iter().cloned());
    let mut rng = Rng(seed);
    let generated = (0..count).map(|_| {
        let base = &target.seeds[rng.below(target.seeds.len())];
        mutate(base, &target.seeds, &mut rng)
    });
    for input in corpus.into_iter().chain(generated) {
        *current.lock().unwrap() = (Instant::now(), input.clone());
        let t = Instant::now();
        match run_one(target, &input) {
            Ok(accepted) => tally.accepted += u64::from(accepted),
            Err(message) => {
                let saved = save_failure("panic", target.name, &input);
                tally.failures.push(format!("{}: panic '{message}' on {}", target.name, saved.display()));
            }
        }
        tally.slowest = tally.slowest.max(t.elapsed());
        tally.inputs += 1;
    }
    tally
}

#[test]
fn every_parser_survives_hostile_and_mutated_inputs() {
    let total: u64 = std::env::var("RECPIPE_FUZZ_INPUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(120_000);
    let seed: u64 = std::env::var("RECPIPE_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20_261_206);
    let targets = Arc::new(targets());
    for t in targets.iter() {
        assert!(!t.seeds.is_empty(), "{}: no seed inputs", t.name);
    }
    let per_target = total.div_ceil(targets.len() as u64);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(targets.len());
    let next = Arc::new(AtomicU64::new(0));
    let slots: Arc<Vec<Slot>> = Arc::new((0..threads).map(|_| Mutex::new((Instant::now(), Vec::new()))).collect());
    let names: Arc<Vec<Mutex<&'static str>>> = Arc::new((0..threads).map(|_| Mutex::new("")).collect());
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|w| {
            let (targets, next, slots, names) =
                (Arc::clone(&targets), Arc::clone(&next), Arc::clone(&slots), Arc::clone(&names));
            std::thread::spawn(move || {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst) as usize;
                    let Some(target) = targets.get(i) else { break };
                    *names[w].lock().unwrap() = target.name;
                    out.push((target.name, fuzz_target(target, per_target, seed.wrapping_add(i as u64), &slots[w])));
                }
                out
            })
        })
        .collect();
    // Watchdog: an input running past the hang limit fails the test (its input saved).
    while !workers.iter().all(|w| w.is_finished()) {
        for (slot, name) in slots.iter().zip(names.iter()) {
            let (since, input) = {
                let s = slot.lock().unwrap();
                (s.0, s.1.clone())
            };
            if since.elapsed() > HANG_LIMIT {
                let target = *name.lock().unwrap();
                let saved = save_failure("hang", target, &input);
                panic!("{target}: an input ran over {HANG_LIMIT:?}: {}", saved.display());
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut failures = Vec::new();
    let mut inputs = 0;
    for w in workers {
        for (name, tally) in w.join().expect("a fuzz worker") {
            eprintln!(
                "fuzz {name:16} {:7} inputs, {:6} accepted, slowest {:.1} ms",
                tally.inputs,
                tally.accepted,
                tally.slowest.as_secs_f64() * 1e3
            );
            inputs += tally.inputs;
            failures.extend(tally.failures);
        }
    }
    eprintln!(
        "fuzz: {inputs} inputs over {} parsers in {:.1} s (seed {seed})",
        targets.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(inputs >= total, "only {inputs} inputs ran");
}
