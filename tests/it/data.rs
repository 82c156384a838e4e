//! Criteo data: the Kaggle `train.txt` reader (round trip through the writer, empty and malformed fields,
//! `max_ind_range`, day split, evaluation windows) and the synthetic Criteo-shaped generator (determinism,
//! click rate, id skew, learnable teacher).
use recpipe_dse::data::criteo::{
    self, eval_windows, load_split, load_split_with_progress, CriteoError, CriteoReader, DaySplit, SplitCaps,
};
use recpipe_dse::data::criteo_source::{load_criteo, SplitSizes};
use recpipe_dse::data::synthetic::{mix64, SyntheticConfig, SyntheticCriteo, KAGGLE_CLICK_RATE};
use recpipe_dse::data::tsv_writer::{write_rows, RawCriteoRow};
use recpipe_dse::data::{CriteoSamples, DENSE, SPARSE};
use recpipe_dse::spec::{DatasetKind, DatasetSpec, Protocol};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A file under the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn with_text(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("recpipe-dse-data-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    fn with_rows(name: &str, rows: &[RawCriteoRow]) -> TempFile {
        let path = std::env::temp_dir().join(format!("recpipe-dse-data-{}-{name}", std::process::id()));
        let mut file = std::fs::File::create(&path).unwrap();
        write_rows(&mut file, rows).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn generator(seed: u64, cap: Option<u64>) -> SyntheticCriteo {
    SyntheticCriteo::new(SyntheticConfig::new(seed, cap))
}

/// A row whose `I1` holds `i1` and whose categorical fields hold `cat`.
fn row(label: u8, i1: i64, cat: [Option<u32>; SPARSE]) -> RawCriteoRow {
    let mut dense = [None; DENSE];
    dense[0] = Some(i1);
    RawCriteoRow { label, dense, categorical: cat }
}

/// Area under the ROC curve of `scores` for 0/1 `labels` (ties count one half).
fn auc(scores: &[f64], labels: &[f32]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0f64, 0usize);
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&k| labels[order[k]] > 0.5).count() as f64 * mid_rank;
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&y| y > 0.5).count() as f64;
    let neg = labels.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[test]
fn auc_helper_known_answers() {
    assert!((auc(&[0.1, 0.2, 0.3, 0.4], &[0.0, 0.0, 1.0, 1.0]) - 1.0).abs() < 1e-12);
    assert!((auc(&[0.4, 0.3, 0.2, 0.1], &[0.0, 0.0, 1.0, 1.0])).abs() < 1e-12);
    assert!((auc(&[0.5; 4], &[0.0, 1.0, 0.0, 1.0]) - 0.5).abs() < 1e-12);
}

#[test]
fn written_file_reads_back_as_the_generator_rows() {
    let gen = generator(11, Some(5000));
    let n = 3000u64;
    let raw: Vec<RawCriteoRow> = (0..n).map(|r| gen.raw_row(r)).collect();
    let file = TempFile::with_rows("roundtrip.txt", &raw);
    let mut reader = CriteoReader::open(file.path(), None).unwrap();
    let chunks: Vec<CriteoSamples> = reader.chunks(700).map(Result::unwrap).collect();
    assert_eq!(chunks.iter().map(CriteoSamples::len).collect::<Vec<_>>(), vec![700, 700, 700, 700, 200]);
    let expected = gen.rows(0..n);
    let labels: Vec<f32> = chunks.iter().flat_map(|c| c.labels.iter().copied()).collect();
    let dense: Vec<f32> = chunks.iter().flat_map(|c| c.dense.iter().copied()).collect();
    let sparse: Vec<u32> = chunks.iter().flat_map(|c| c.sparse.iter().copied()).collect();
    assert_eq!(labels, expected.labels);
    assert_eq!(dense, expected.dense);
    // The reader numbers values by first appearance: a bijection with the generator's ids, table by table.
    for t in 0..SPARSE {
        let mut forward: HashMap<u32, u32> = HashMap::new();
        let mut backward: HashMap<u32, u32> = HashMap::new();
        for r in 0..n as usize {
            let (g, f) = (expected.sparse[r * SPARSE + t], sparse[r * SPARSE + t]);
            assert_eq!(*forward.entry(g).or_insert(f), f, "table {t} row {r}");
            assert_eq!(*backward.entry(f).or_insert(g), g, "table {t} row {r}");
        }
        assert_eq!(reader.table_rows()[t], forward.len() as u64);
        // First-appearance order: ids appear in increasing order of first use.
        let mut next = 0;
        for r in 0..n as usize {
            let f = sparse[r * SPARSE + t];
            assert!(f <= next);
            next = next.max(f + 1);
        }
    }
    assert!(raw.iter().any(|r| r.categorical.iter().any(Option::is_none)), "some empty categorical fields");
    assert!(raw.iter().any(|r| r.dense.iter().any(Option::is_none)), "some empty dense fields");
}

#[test]
fn empty_fields_become_zero_and_share_the_id_of_hex_zero() {
    let mut a = [Some(0x10u32); SPARSE];
    a[0] = None;
    let mut b = a;
    b[0] = Some(0);
    let mut c = a;
    c[0] = Some(0xabc);
    let mut text = Vec::new();
    for r in [row(1, 4, a), row(0, 0, b), row(0, 7, c)] {
        recpipe_dse::data::tsv_writer::format_row(&r, &mut text);
    }
    // An all-empty row except the label, with a Windows line ending and no final line break.
    text.extend_from_slice(b"1");
    text.extend(std::iter::repeat_n(b'\t', DENSE + SPARSE));
    text.extend_from_slice(b"\r");
    let file = TempFile::with_text("empty.txt", std::str::from_utf8(&text).unwrap());
    let mut reader = CriteoReader::open(file.path(), None).unwrap();
    let s = reader.next_chunk(100).unwrap().unwrap();
    assert_eq!(s.len(), 4);
    assert_eq!(s.labels, vec![1.0, 0.0, 0.0, 1.0]);
    assert!((s.dense[0] - 5f32.ln()).abs() < 1e-6);
    assert_eq!(s.dense[DENSE], 0.0);
    assert!(s.dense[1..DENSE].iter().all(|&x| x == 0.0), "empty dense fields are 0");
    let c0: Vec<u32> = (0..4).map(|r| s.sparse[r * SPARSE]).collect();
    assert_eq!(c0, vec![0, 0, 1, 0]);
    assert_eq!(s.sparse[3 * SPARSE + 1], 1, "empty C2 = hex 0, a new value after 0x10");
    assert_eq!(s.table_rows[0], 2);
    assert!(reader.next_chunk(100).is_none());
}

fn first_error(text: &str, name: &str) -> String {
    let file = TempFile::with_text(name, text);
    let mut reader = CriteoReader::open(file.path(), None).unwrap();
    let err = reader.chunks(2).find_map(Result::err).expect("an error");
    assert!(reader.next_chunk(2).is_none(), "iteration stops after an error");
    err.to_string().replace(&file.path().display().to_string(), "FILE")
}

#[test]
fn malformed_lines_name_file_line_field_and_value() {
    let gen = generator(2, Some(100));
    let mut good = Vec::new();
    for r in 0..3 {
        recpipe_dse::data::tsv_writer::format_row(&gen.raw_row(r), &mut good);
    }
    let good = String::from_utf8(good).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let with_field = |line: &str, field: usize, value: &str| {
        let mut f: Vec<&str> = line.split('\t').collect();
        f[field - 1] = value;
        f.join("\t")
    };
    let bad_dense = format!("{}\n{}\n{}\n", lines[0], lines[1], with_field(lines[2], 3, "12x"));
    assert_eq!(first_error(&bad_dense, "bad-dense.txt"), "FILE:3: field 3 (I2): bad value '12x'");
    let bad_cat = format!("{}\n{}\n", lines[0], with_field(lines[1], 40, "xyz"));
    assert_eq!(first_error(&bad_cat, "bad-cat.txt"), "FILE:2: field 40 (C26): bad value 'xyz'");
    let long_hex = format!("{}\n", with_field(lines[0], 15, "123456789"));
    assert_eq!(first_error(&long_hex, "long-hex.txt"), "FILE:1: field 15 (C1): bad value '123456789'");
    let bad_label = format!("{}\n{}\n", lines[0], with_field(lines[1], 1, "yes"));
    assert_eq!(first_error(&bad_label, "bad-label.txt"), "FILE:2: field 1 (label): bad value 'yes'");
    let short = format!("{}\n\n", lines[0]);
    assert_eq!(first_error(&short, "short.txt"), "FILE:2: expected 40 tab-separated fields, found 1");
    let missing = TempFile(std::env::temp_dir().join("recpipe-dse-data-does-not-exist.txt"));
    let err = load_split(missing.path(), None, SplitCaps::default()).unwrap_err();
    assert!(matches!(err, CriteoError::Io { .. }));
    assert!(err.to_string().starts_with(&missing.path().display().to_string()));
}

#[test]
fn max_ind_range_reduces_values_before_numbering() {
    let m = 10u32;
    let values = [3u32, 13, 0xffff_fff3, 7, 0, 10];
    let rows: Vec<RawCriteoRow> = values.iter().map(|&v| row(0, 1, [Some(v); SPARSE])).collect();
    let file = TempFile::with_rows("mod.txt", &rows);
    let split_none = CriteoReader::open(file.path(), None).unwrap().next_chunk(10).unwrap().unwrap();
    let split_mod = CriteoReader::open(file.path(), Some(u64::from(m))).unwrap().next_chunk(10).unwrap().unwrap();
    let col = |s: &CriteoSamples| (0..s.len()).map(|r| s.sparse[r * SPARSE + 5]).collect::<Vec<_>>();
    assert_eq!(col(&split_none), vec![0, 1, 2, 3, 4, 5]);
    // 3, 13 → 3; 0xfffffff3 = 4294967283 → 3; 7 → 7; 0, 10 → 0.
    assert_eq!(u64::from(0xffff_fff3u32) % u64::from(m), 3);
    assert_eq!(col(&split_mod), vec![0, 0, 0, 1, 2, 2]);
    assert_eq!(split_mod.table_rows, [3; SPARSE]);
    // Every table stays below the cap on generated data.
    let gen = generator(5, None);
    let raw: Vec<RawCriteoRow> = (0..2000).map(|r| gen.raw_row(r)).collect();
    let file = TempFile::with_rows("mod-gen.txt", &raw);
    let mut reader = CriteoReader::open(file.path(), Some(50)).unwrap();
    let s = reader.next_chunk(5000).unwrap().unwrap();
    assert!(s.table_rows.iter().all(|&n| n <= 50));
    assert!(s.table_rows.contains(&50), "big tables fill the cap");
    assert!(s.sparse.chunks(SPARSE).all(|r| r.iter().zip(&s.table_rows).all(|(&id, &n)| u64::from(id) < n)));
}

#[test]
fn load_split_follows_dlrm_days_and_caps() {
    // 100 rows, I1 = row number: days of 15, 15, 14, 14, 14, 14, 14 rows; train 0..86, test 86..93,
    // validation 93..100.
    let rows: Vec<RawCriteoRow> = (0..100).map(|i| row((i % 2) as u8, i, [Some(i as u32); SPARSE])).collect();
    let file = TempFile::with_rows("days.txt", &rows);
    let i1 =
        |s: &CriteoSamples| (0..s.len()).map(|r| (s.dense[r * DENSE].exp() - 1.0).round() as i64).collect::<Vec<_>>();
    let split = load_split(file.path(), None, SplitCaps::default()).unwrap();
    assert_eq!(i1(&split.train), (0..86).collect::<Vec<_>>());
    assert_eq!(i1(&split.test), (86..93).collect::<Vec<_>>());
    assert_eq!(i1(&split.validation), (93..100).collect::<Vec<_>>());
    assert_eq!(split.train.table_rows, [100; SPARSE]);
    assert_eq!(split.test.sparse[0], 86, "ids number values across the whole file");
    let s = DaySplit::new(100).unwrap();
    assert_eq!(s.day_starts, [0, 15, 30, 44, 58, 72, 86, 100]);

    let caps = SplitCaps { train: Some(10), validation: Some(3), test: Some(0) };
    let mut calls = 0;
    let capped = load_split_with_progress(file.path(), None, caps, &mut |p| {
        calls += 1;
        assert_eq!(p.total_rows, 100);
    })
    .unwrap();
    assert!(calls >= 1);
    assert_eq!(i1(&capped.train), (0..10).collect::<Vec<_>>());
    assert!(capped.test.is_empty());
    assert_eq!(i1(&capped.validation), vec![93, 94, 95]);
    // Reading stopped after row 96: values of rows 96..100 were never seen.
    assert_eq!(capped.validation.table_rows, [96; SPARSE]);

    let tiny = TempFile::with_rows("tiny.txt", &rows[..13]);
    let err = load_split(tiny.path(), None, SplitCaps::default()).unwrap_err();
    assert!(err.to_string().ends_with("13 rows are too few for DLRM's 7-day split (at least 14 needed)"), "{err}");
}

#[test]
fn query_windows_are_consecutive_and_wrap() {
    let windows = eval_windows(1000, 300, 5).unwrap();
    let starts: Vec<usize> = windows.iter().map(|w| w.start).collect();
    assert_eq!(starts, vec![0, 300, 600, 900, 200]);
    let rows: Vec<usize> = windows[3].rows().collect();
    assert_eq!(rows.len(), 300);
    assert_eq!(&rows[..3], &[900, 901, 902]);
    assert_eq!(&rows[99..102], &[999, 0, 1]);
    assert!(windows.iter().all(|w| w.len == 300 && w.set_rows == 1000));
    assert!(matches!(eval_windows(100, 101, 1), Err(CriteoError::WindowTooLarge { .. })));
    assert!(eval_windows(100, 0, 1).is_err());
    // Consecutive queries tile the set: 10 windows of 100 cover each of 1000 rows once.
    let mut seen = vec![0u32; 1000];
    for w in eval_windows(1000, 100, 10).unwrap() {
        w.rows().for_each(|r| seen[r] += 1);
    }
    assert!(seen.iter().all(|&c| c == 1));
    let _ = criteo::KAGGLE_TRAIN_ROWS;
}

#[test]
fn generator_is_deterministic_per_seed() {
    let (a, b, c) = (generator(7, Some(1000)), generator(7, Some(1000)), generator(8, Some(1000)));
    assert_eq!(a.calibration(), b.calibration());
    let (ra, rb, rc) = (a.rows(100..600), b.rows(100..600), c.rows(100..600));
    assert_eq!(ra, rb);
    assert_ne!(ra.sparse, rc.sparse);
    assert_ne!(ra.labels, rc.labels);
    assert_eq!(a.raw_row(123), b.raw_row(123));
    let split = a.split(400, 100, 100);
    assert_eq!(split.validation, a.rows(400..500));
    assert_eq!(split.test.len(), 100);
    assert!(a.describe().contains("synthetic"));
}

#[test]
fn click_rate_matches_its_target_on_200k_rows() {
    let gen = generator(1, Some(100_000));
    let s = gen.rows_parallel(0..200_000, 2);
    let rate = s.click_rate();
    let target = gen.config().click_rate;
    assert!((rate - target).abs() < 0.015, "click rate {rate}, target {target}");
    let kaggle = SyntheticCriteo::new(SyntheticConfig { click_rate: KAGGLE_CLICK_RATE, ..gen.config().clone() });
    let rate = kaggle.rows_parallel(0..200_000, 2).click_rate();
    assert!((rate - KAGGLE_CLICK_RATE).abs() < 0.015, "click rate {rate} at Kaggle's target");
    // Dense features: missing or zero counts are common, and tails are heavy.
    let col = |j: usize| (0..s.len()).map(|r| s.dense[r * DENSE + j]).collect::<Vec<f32>>();
    let i1 = col(0);
    let zero_share = i1.iter().filter(|&&x| x == 0.0).count() as f64 / i1.len() as f64;
    assert!(zero_share > 0.45 && zero_share < 0.8, "I1 zero share {zero_share}");
    let i5 = col(4);
    let max = i5.iter().copied().fold(0f32, f32::max);
    let mean = i5.iter().map(|&x| f64::from(x)).sum::<f64>() / i5.len() as f64;
    assert!(f64::from(max) > mean + 5.0, "I5 heavy tail: max {max}, mean {mean}");
}

#[test]
fn popular_ids_dominate_each_large_table() {
    let gen = generator(3, Some(100_000));
    let s = gen.rows(0..30_000);
    for t in [2usize, 3, 11, 15, 20] {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for r in 0..s.len() {
            *counts.entry(s.sparse[r * SPARSE + t]).or_default() += 1;
        }
        let top100: u32 = (0..100).map(|id| counts.get(&id).copied().unwrap_or(0)).sum();
        let share = f64::from(top100) / s.len() as f64;
        // Uniform ids would give 100 / 100,000 = 0.1 %.
        assert!(share > 0.35, "table {t}: top-100 share {share}");
        assert!(counts[&0] > counts.get(&10).copied().unwrap_or(0));
        assert!(counts.len() > 3000, "table {t}: a long tail of {} distinct ids", counts.len());
    }
}

/// Logistic regression on the dense features and hashed per-(table, id) indicators, plain SGD.
struct Logistic {
    w: Vec<f64>,
    buckets: usize,
}

impl Logistic {
    fn new(buckets: usize) -> Logistic {
        Logistic { w: vec![0.0; DENSE + 1 + buckets], buckets }
    }

    fn features(&self, s: &CriteoSamples, r: usize) -> Vec<(usize, f64)> {
        let mut f: Vec<(usize, f64)> = (0..DENSE).map(|j| (j, f64::from(s.dense[r * DENSE + j]) / 4.0)).collect();
        f.push((DENSE, 1.0));
        for t in 0..SPARSE {
            let h = mix64(((t as u64) << 32) | u64::from(s.sparse[r * SPARSE + t])) as usize % self.buckets;
            f.push((DENSE + 1 + h, 1.0));
        }
        f
    }

    fn score(&self, s: &CriteoSamples, r: usize) -> f64 {
        self.features(s, r).iter().map(|&(i, x)| self.w[i] * x).sum()
    }

    fn train(&mut self, s: &CriteoSamples, epochs: usize, lr: f64) {
        for _ in 0..epochs {
            for r in 0..s.len() {
                let f = self.features(s, r);
                let z: f64 = f.iter().map(|&(i, x)| self.w[i] * x).sum();
                let g = 1.0 / (1.0 + (-z).exp()) - f64::from(s.labels[r]);
                for (i, x) in f {
                    self.w[i] -= lr * g * x;
                }
            }
        }
    }
}

#[test]
fn teacher_signal_is_learnable() {
    let gen = generator(4, Some(10_000));
    let split = gen.split(60_000, 0, 20_000);
    let teacher: Vec<f64> = (60_000..80_000).map(|r| gen.teacher_logit(r)).collect();
    let teacher_auc = auc(&teacher, &split.test.labels);
    let mut model = Logistic::new(1 << 18);
    model.train(&split.train, 2, 0.05);
    let scores: Vec<f64> = (0..split.test.len()).map(|r| model.score(&split.test, r)).collect();
    let model_auc = auc(&scores, &split.test.labels);
    eprintln!("synthetic teacher AUC {teacher_auc:.4}, logistic AUC {model_auc:.4}");
    assert!(teacher_auc > 0.75, "teacher AUC {teacher_auc}");
    assert!(model_auc > 0.57, "logistic AUC {model_auc}");
    assert!(model_auc < teacher_auc, "a first-order model cannot reach the teacher");
}

fn criteo_dataset(path: Option<String>, fallback: bool, kind: DatasetKind) -> DatasetSpec {
    DatasetSpec {
        kind,
        path,
        path_exists: false,
        synthetic_fallback: fallback,
        eval_queries: 10,
        candidates_per_query: Some(64),
        protocol: Protocol::Window,
        max_ind_range: Some(1000),
        seed: 9,
        synthetic: Default::default(),
    }
}

#[test]
fn spaces_get_the_real_file_or_the_synthetic_fallback() {
    let sizes = SplitSizes { train: 300, validation: 20, test: 30 };
    let gen = generator(9, Some(1000));
    let raw: Vec<RawCriteoRow> = (0..700).map(|r| gen.raw_row(r)).collect();
    let file = TempFile::with_rows("source.txt", &raw);
    let dir = file.path().parent().unwrap();
    let name = file.path().file_name().unwrap().to_str().unwrap().to_string();

    let real =
        load_criteo(&criteo_dataset(Some(name), false, DatasetKind::CriteoKaggle), dir, sizes, &mut |_| {}).unwrap();
    assert!(!real.synthetic);
    assert!(real.description.starts_with("Criteo Kaggle"), "{}", real.description);
    let caps = SplitCaps { train: Some(300), validation: Some(20), test: Some(30) };
    let direct = load_split(file.path(), Some(1000), caps).unwrap();
    assert_eq!((real.split.train.len(), real.split.validation.len(), real.split.test.len()), (300, 20, 30));
    assert_eq!(real.split.test, direct.test);

    let absent = criteo_dataset(Some("no-such-train.txt".into()), true, DatasetKind::CriteoKaggle);
    let synthetic = load_criteo(&absent, dir, sizes, &mut |_| {}).unwrap();
    assert!(synthetic.synthetic);
    assert!(synthetic.description.starts_with("synthetic") && synthetic.description.contains("not found"));
    assert_eq!(synthetic.split.test, gen.rows(320..350));
    assert_eq!(synthetic.split.train.table_rows, gen.table_rows());

    let strict = criteo_dataset(Some("no-such-train.txt".into()), false, DatasetKind::CriteoKaggle);
    let err = load_criteo(&strict, dir, sizes, &mut |_| {}).unwrap_err();
    assert!(matches!(err, CriteoError::NotFound { .. }), "{err}");
    let movielens = criteo_dataset(None, true, DatasetKind::Movielens);
    assert!(matches!(load_criteo(&movielens, dir, sizes, &mut |_| {}), Err(CriteoError::NotCriteo)));
}
