//! What every integration-test module shares: where the checkout under test is, and the binary.
//!
//! The checkout is the package root, unless `RECPIPE_DSE_TEST_CHECKOUT` names another folder: the
//! `checkout` module sets it to run tests from a copy of the checkout with nothing beside it, which proves
//! that no test reads a file outside the repository.
use std::path::PathBuf;
use std::process::Command;

/// The environment variable that points the tests at another copy of the checkout.
pub const CHECKOUT_VAR: &str = "RECPIPE_DSE_TEST_CHECKOUT";

/// The root of the checkout under test.
pub fn repo() -> PathBuf {
    match std::env::var_os(CHECKOUT_VAR) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    }
}

/// The `recpipe-dse` binary, run from the checkout's root (relative paths in arguments resolve there).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_recpipe-dse"));
    c.current_dir(repo());
    c
}

/// A tiny MovieLens-format file: 40 users × 30 items, popular low ids, increasing timestamps.
pub fn tiny_movielens() -> String {
    let mut text = String::from("user_id:token\titem_id:token\trating:float\ttimestamp:float\n");
    let mut t = 0;
    for u in 0..40u32 {
        for k in 0..8u32 {
            let item = (u * 7 + k * k * 3 + k) % 30;
            t += 1;
            text.push_str(&format!("u{u}\ti{item}\t4\t{t}\n"));
        }
    }
    text
}

/// A small seeded generator for tests' random choices (SplitMix64, Steele, Lea & Flood 2014).
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A RecPipe checkout's `configs/model_configs` and `configs/accel_configs` under `root`, from the copies of
/// the artifact's model and hardware JSONs in `accel/recpipe2021/` (for `import recpipe`).
pub fn recpipe_configs(root: &std::path::Path) {
    for (from, to) in [("models", "model_configs"), ("hardware", "accel_configs")] {
        let dst = root.join("configs").join(to);
        std::fs::create_dir_all(&dst).unwrap();
        for entry in std::fs::read_dir(repo().join("accel/recpipe2021").join(from)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dst.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// The bench-search space (2,192 accelerator points) with tiny models and `queries` simulated queries per
/// load, written into `dir` as `small.yaml`.
pub fn small_space(dir: &std::path::Path, queries: u32) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("tests/spaces/bench-search.yaml"))
        .unwrap()
        .replacen("queries: 2000", &format!("queries: {queries}"), 1)
        .replacen("quality:\n", "training:\n  epochs: 1\n  train_rows: 2000\n  validation_rows: 500\n\nquality:\n", 1);
    assert!(text.contains(&format!("queries: {queries}")) && text.contains("train_rows: 2000"));
    let path = dir.join("small.yaml");
    std::fs::write(&path, text).unwrap();
    path
}
