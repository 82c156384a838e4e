//! Reader for the Criteo Kaggle display-advertising file `train.txt` with DLRM's preprocessing.
//!
//! Format (Criteo Kaggle challenge, 2014): one impression per line, 40 tab-separated fields — the click label
//! (`0`/`1`), 13 integer count features `I1…I13` and 26 categorical features `C1…C26` written as 8 hex digits.
//! Any field but the label may be empty. The real file has 45,840,617 lines (~11 GB).
//!
//! Preprocessing follows DLRM (Naumov et al., 2019; facebookresearch/dlrm `data_utils.py` and
//! `dlrm_data_pytorch.py`):
//! - dense: `ln(max(x, 0) + 1)`, an empty field counts as 0;
//! - categorical: an empty field counts as the hex value `0` (DLRM replaces empty fields by `"0"`), so it shares
//!   its id with a literal `00000000`. With `max_ind_range = Some(m)` the raw value is first reduced modulo `m`.
//!   The (reduced) raw values of each table are then numbered densely in order of first appearance in the file,
//!   which is the order of DLRM's per-table dictionaries. Table `t` therefore has as many rows as it has distinct
//!   values (never more than `m`); reading the whole real file without a cap gives
//!   [`super::CRITEO_KAGGLE_TABLE_ROWS`].
//! - day split: the rows are divided into 7 consecutive "days" of equal size (the first `total mod 7` days one
//!   row longer, as `divmod` in DLRM); days 0–5 are the training set; day 6 is split by `np.array_split(…, 2)`
//!   into the test set (first half, one row longer when odd) and the validation set (second half).
//!
//! Ids are assigned while streaming, so one sequential pass both builds the dictionaries and emits rows: a row's
//! ids depend only on the rows before it. Memory is the dictionaries (at most one entry per distinct value,
//! ~33.8 M entries for the uncapped real file) plus the rows the caller keeps.
//!
//! Evaluation queries follow RecPipe's artifact: a query is a window of `candidates_per_query`
//! consecutive rows; query `q` starts at row `q · candidates_per_query` modulo the set's length and wraps around.
//! RecPipe drew its windows from the first 100,000 rows of the processed file, which DLRM's split puts in the
//! training data; here they are drawn from the held-out test split.
use super::{CriteoSamples, DENSE, SPARSE};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;

/// Tab-separated fields per line: label, 13 dense, 26 categorical.
pub const FIELDS: usize = 1 + DENSE + SPARSE;
/// Days DLRM divides the Kaggle file into.
pub const DAYS: u64 = 7;
/// Lines of the real Kaggle `train.txt`.
pub const KAGGLE_TRAIN_ROWS: u64 = 45_840_617;
/// Longest field value quoted in an error message, in characters.
const MAX_QUOTED_CHARS: usize = 40;

/// Why reading a Criteo file failed.
#[derive(Debug, thiserror::Error)]
pub enum CriteoError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// File name.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A field does not parse.
    #[error("{path}:{line}: field {field} ({name}): bad value '{value}'")]
    BadField {
        /// File name.
        path: String,
        /// 1-based line number.
        line: u64,
        /// 1-based field number (1 = label, 2–14 = I1–I13, 15–40 = C1–C26).
        field: usize,
        /// Field name (`label`, `I1`…, `C1`…).
        name: String,
        /// The offending text (shortened when long).
        value: String,
    },
    /// A line does not have 40 fields.
    #[error("{path}:{line}: expected {FIELDS} tab-separated fields, found {found}")]
    FieldCount {
        /// File name.
        path: String,
        /// 1-based line number.
        line: u64,
        /// Fields found.
        found: usize,
    },
    /// Too few rows for the 7-day split.
    #[error("{path}: {rows} rows are too few for DLRM's 7-day split (at least {min} needed)")]
    TooFewRows {
        /// File name.
        path: String,
        /// Rows in the file.
        rows: u64,
        /// Rows needed.
        min: u64,
    },
    /// The data set is not a Criteo one.
    #[error("dataset.kind is not criteo-kaggle")]
    NotCriteo,
    /// The file is absent and the synthetic fallback is off (or no path is given).
    #[error("Criteo file {path} not found and synthetic_fallback is false")]
    NotFound {
        /// The path as resolved (or `(none)`).
        path: String,
    },
    /// Evaluation windows do not fit the test set.
    #[error("{candidates} candidates per query do not fit a test set of {rows} rows")]
    WindowTooLarge {
        /// Candidates per query.
        candidates: usize,
        /// Rows of the test set.
        rows: usize,
    },
}

/// Name of 1-based field `field`: `label`, `I1`…`I13`, `C1`…`C26`.
pub fn field_name(field: usize) -> String {
    match field {
        1 => "label".into(),
        f if f <= 1 + DENSE => format!("I{}", f - 1),
        f => format!("C{}", f - 1 - DENSE),
    }
}

/// One line parsed but not yet mapped to dense ids.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParsedRow {
    /// Click label, 0 or 1.
    pub label: u8,
    /// `ln(max(x, 0) + 1)` of the 13 integer fields (0 when empty).
    pub dense: [f32; DENSE],
    /// Raw categorical values (empty = 0), already reduced modulo `max_ind_range` when set.
    pub raw_categorical: [u32; SPARSE],
}

/// DLRM's dense transform of one raw count: `ln(max(x, 0) + 1)`, with `None` (empty) as 0.
pub fn dense_transform(x: Option<i64>) -> f32 {
    (x.unwrap_or(0).max(0) as f64).ln_1p() as f32
}

/// A field-level parse failure (line-independent; the reader adds the file and line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Wrong number of fields.
    FieldCount(usize),
    /// 1-based field number and its text.
    BadField(usize, String),
}

fn quoted(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > MAX_QUOTED_CHARS {
        format!("{}…", text.chars().take(MAX_QUOTED_CHARS).collect::<String>())
    } else {
        text.into_owned()
    }
}

fn parse_int(bytes: &[u8]) -> Option<i64> {
    let (neg, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(b - b'0');
    }
    Some(if neg { -v } else { v })
}

fn parse_hex(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    let mut v: u32 = 0;
    for &b in bytes {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u32::from(d);
    }
    Some(v)
}

/// Parse one line (without its line break; a trailing `\r` is ignored) with DLRM's preprocessing; categorical
/// values are reduced modulo `max_ind_range` when set.
pub fn parse_line(line: &[u8], max_ind_range: Option<u64>) -> Result<ParsedRow, LineError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let n = 1 + line.iter().filter(|&&b| b == b'\t').count();
    if n != FIELDS {
        return Err(LineError::FieldCount(n));
    }
    let mut row = ParsedRow { label: 0, dense: [0.0; DENSE], raw_categorical: [0; SPARSE] };
    for (i, field) in line.split(|&b| b == b'\t').enumerate() {
        if i == 0 {
            row.label = match field {
                b"0" => 0,
                b"1" => 1,
                _ => return Err(LineError::BadField(1, quoted(field))),
            };
        } else if i <= DENSE {
            let x = if field.is_empty() {
                None
            } else {
                Some(parse_int(field).ok_or_else(|| LineError::BadField(i + 1, quoted(field)))?)
            };
            row.dense[i - 1] = dense_transform(x);
        } else {
            let raw = if field.is_empty() {
                0
            } else {
                parse_hex(field).ok_or_else(|| LineError::BadField(i + 1, quoted(field)))?
            };
            row.raw_categorical[i - 1 - DENSE] = match max_ind_range {
                Some(m) => (u64::from(raw) % m) as u32,
                None => raw,
            };
        }
    }
    Ok(row)
}

/// A fast hasher for 32-bit keys (folded 64×64→128-bit multiply); the keys are not adversarial.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let m = u128::from(self.0 ^ 0x243F_6A88_85A3_08D3) * 0x9E37_79B9_7F4A_7C15;
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u32(&mut self, v: u32) {
        self.0 = (self.0 << 32) ^ u64::from(v);
    }
}

/// Per-table dictionaries from raw categorical value to dense id, numbered in order of first appearance.
#[derive(Debug, Clone, Default)]
pub struct CategoricalDicts {
    maps: Vec<HashMap<u32, u32, BuildHasherDefault<IdHasher>>>,
}

impl CategoricalDicts {
    /// Empty dictionaries for the 26 tables.
    pub fn new() -> CategoricalDicts {
        CategoricalDicts { maps: vec![HashMap::default(); SPARSE] }
    }

    /// Dense id of `raw` in table `t`, assigning the next id on first appearance.
    pub fn id(&mut self, t: usize, raw: u32) -> u32 {
        let map = &mut self.maps[t];
        let next = map.len() as u32;
        *map.entry(raw).or_insert(next)
    }

    /// Distinct values seen per table (the embedding-table sizes).
    pub fn table_rows(&self) -> [u64; SPARSE] {
        std::array::from_fn(|t| self.maps[t].len() as u64)
    }

    /// Bytes the dictionaries' hash tables hold (capacity × (key + value + control byte)).
    pub fn heap_bytes(&self) -> u64 {
        self.maps.iter().map(|m| m.capacity() as u64 * 9).sum()
    }
}

/// Bytes a first-appearance dictionary for tables of the given sizes needs once built (hash tables at
/// std's 7/8 load factor with power-of-two bucket counts, 9 bytes per bucket); growing a table briefly holds
/// the old and the new allocation.
pub fn dictionary_bytes_estimate(table_rows: &[u64; SPARSE]) -> u64 {
    table_rows.iter().map(|&n| if n == 0 { 0 } else { (n * 8).div_ceil(7).next_power_of_two() * 9 }).sum()
}

/// Streaming reader: parses lines, maps categorical values to dense ids and emits chunks of rows.
pub struct CriteoReader<R: BufRead> {
    src: R,
    name: String,
    max_ind_range: Option<u64>,
    dicts: CategoricalDicts,
    line_no: u64,
    bytes_read: u64,
    buf: Vec<u8>,
    failed: bool,
}

impl CriteoReader<BufReader<std::fs::File>> {
    /// Open `path` for reading.
    pub fn open(path: &Path, max_ind_range: Option<u64>) -> Result<Self, CriteoError> {
        let file = std::fs::File::open(path).map_err(|source| io_error(path, source))?;
        Ok(CriteoReader::new(BufReader::with_capacity(1 << 20, file), path.display().to_string(), max_ind_range))
    }
}

fn io_error(path: &Path, source: std::io::Error) -> CriteoError {
    CriteoError::Io { path: path.display().to_string(), source }
}

impl<R: BufRead> CriteoReader<R> {
    /// A reader over `src`; `name` is the file name used in error messages.
    pub fn new(src: R, name: impl Into<String>, max_ind_range: Option<u64>) -> Self {
        CriteoReader {
            src,
            name: name.into(),
            max_ind_range,
            dicts: CategoricalDicts::new(),
            line_no: 0,
            bytes_read: 0,
            buf: Vec::with_capacity(512),
            failed: false,
        }
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.line_no
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Distinct values per table among the rows read so far; every id emitted so far lies below it.
    pub fn table_rows(&self) -> [u64; SPARSE] {
        self.dicts.table_rows()
    }

    /// The dictionaries built so far.
    pub fn dictionaries(&self) -> &CategoricalDicts {
        &self.dicts
    }

    fn line_error(&self, err: LineError) -> CriteoError {
        match err {
            LineError::FieldCount(found) => {
                CriteoError::FieldCount { path: self.name.clone(), line: self.line_no, found }
            }
            LineError::BadField(field, value) => CriteoError::BadField {
                path: self.name.clone(),
                line: self.line_no,
                field,
                name: field_name(field),
                value,
            },
        }
    }

    /// Read one row and append it to `out`; `Ok(false)` at the end of the input.
    pub fn read_row_into(&mut self, out: &mut CriteoSamples) -> Result<bool, CriteoError> {
        self.buf.clear();
        let n = self
            .src
            .read_until(b'\n', &mut self.buf)
            .map_err(|source| CriteoError::Io { path: self.name.clone(), source })?;
        if n == 0 {
            return Ok(false);
        }
        self.bytes_read += n as u64;
        self.line_no += 1;
        let line = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        let row = parse_line(line, self.max_ind_range).map_err(|e| self.line_error(e))?;
        out.labels.push(f32::from(row.label));
        out.dense.extend_from_slice(&row.dense);
        for (t, &raw) in row.raw_categorical.iter().enumerate() {
            let id = self.dicts.id(t, raw);
            out.sparse.push(id);
        }
        Ok(true)
    }

    /// The next chunk of at most `chunk_rows` rows; `None` at the end of the input or after an error.
    /// The chunk's `table_rows` are the dictionary sizes after its last row.
    pub fn next_chunk(&mut self, chunk_rows: usize) -> Option<Result<CriteoSamples, CriteoError>> {
        if self.failed {
            return None;
        }
        let mut out = CriteoSamples::empty([0; SPARSE]);
        while out.len() < chunk_rows.max(1) {
            match self.read_row_into(&mut out) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        if out.is_empty() {
            return None;
        }
        out.table_rows = self.table_rows();
        Some(Ok(out))
    }

    /// Iterator over chunks of at most `chunk_rows` rows (see [`CriteoReader::next_chunk`]).
    pub fn chunks(&mut self, chunk_rows: usize) -> impl Iterator<Item = Result<CriteoSamples, CriteoError>> + '_ {
        std::iter::from_fn(move || self.next_chunk(chunk_rows))
    }
}

/// Lines in `src` (a final line without a line break counts).
pub fn count_rows(mut src: impl Read) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    Ok(lines + u64::from(last != b'\n'))
}

/// Row ranges of DLRM's split of a file of `total_rows` rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySplit {
    /// Start row of each of the 7 days, plus `total_rows` at the end.
    pub day_starts: [u64; DAYS as usize + 1],
    /// Training rows (days 0–5).
    pub train: Range<u64>,
    /// Validation rows (second half of day 6).
    pub validation: Range<u64>,
    /// Test rows (first half of day 6).
    pub test: Range<u64>,
}

impl DaySplit {
    /// Fewest rows that give every split at least one row.
    pub const MIN_ROWS: u64 = 2 * DAYS;

    /// DLRM's split of `total_rows` rows; `None` when there are fewer than [`DaySplit::MIN_ROWS`].
    pub fn new(total_rows: u64) -> Option<DaySplit> {
        if total_rows < Self::MIN_ROWS {
            return None;
        }
        let (per_day, extra) = (total_rows / DAYS, total_rows % DAYS);
        let mut day_starts = [0u64; DAYS as usize + 1];
        for d in 0..DAYS as usize {
            day_starts[d + 1] = day_starts[d] + per_day + u64::from((d as u64) < extra);
        }
        let (d6, end) = (day_starts[6], day_starts[7]);
        let mid = d6 + (end - d6).div_ceil(2);
        Some(DaySplit { day_starts, train: 0..d6, test: d6..mid, validation: mid..end })
    }
}

/// Most rows kept per split by [`load_split`] (`None` = all). Each split keeps its first rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SplitCaps {
    /// Training rows kept.
    pub train: Option<usize>,
    /// Validation rows kept.
    pub validation: Option<usize>,
    /// Test rows kept.
    pub test: Option<usize>,
}

impl SplitCaps {
    /// The same cap for every split.
    pub fn all(rows: usize) -> SplitCaps {
        SplitCaps { train: Some(rows), validation: Some(rows), test: Some(rows) }
    }
}

/// Training, validation and test rows sharing one set of table sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct CriteoSplit {
    /// Training rows.
    pub train: CriteoSamples,
    /// Validation rows.
    pub validation: CriteoSamples,
    /// Test rows (evaluation queries are windows of these).
    pub test: CriteoSamples,
}

/// Progress of a long read: rows and bytes so far, out of the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadProgress {
    /// Rows read.
    pub rows: u64,
    /// Rows in the file.
    pub total_rows: u64,
    /// Bytes read.
    pub bytes: u64,
}

/// Read `path` with DLRM's preprocessing and split, keeping at most `caps` rows per split (see
/// [`load_split_with_progress`]).
pub fn load_split(path: &Path, max_ind_range: Option<u64>, caps: SplitCaps) -> Result<CriteoSplit, CriteoError> {
    load_split_with_progress(path, max_ind_range, caps, &mut |_| {})
}

/// Read `path` with DLRM's preprocessing and split, keeping at most `caps` rows per split.
///
/// Two passes: one counts the lines (for the day boundaries), one parses. Reading stops once every split is
/// full, so `table_rows` are the distinct values among the rows read up to then (the whole file's counts when
/// the validation split, the file's last rows, is read in full). Memory: the dictionaries (≈ 0.4–0.7 GB for
/// the uncapped real file) plus the kept rows at 160 bytes each — uncapped, the real file's 39.3 M training rows
/// alone take ≈ 6.3 GB, so cap the training split (or stream with [`CriteoReader::chunks`]) to stay within a
/// few GB. `progress` is called every 2^20 rows.
pub fn load_split_with_progress(
    path: &Path,
    max_ind_range: Option<u64>,
    caps: SplitCaps,
    progress: &mut dyn FnMut(ReadProgress),
) -> Result<CriteoSplit, CriteoError> {
    let file = std::fs::File::open(path).map_err(|source| io_error(path, source))?;
    let total_rows = count_rows(file).map_err(|source| io_error(path, source))?;
    let split = DaySplit::new(total_rows).ok_or_else(|| CriteoError::TooFewRows {
        path: path.display().to_string(),
        rows: total_rows,
        min: DaySplit::MIN_ROWS,
    })?;
    let mut reader = CriteoReader::open(path, max_ind_range)?;
    let mut parts = [
        (split.train.clone(), caps.train, CriteoSamples::empty([0; SPARSE])),
        (split.test.clone(), caps.test, CriteoSamples::empty([0; SPARSE])),
        (split.validation.clone(), caps.validation, CriteoSamples::empty([0; SPARSE])),
    ];
    let wanted = |range: &Range<u64>, cap: Option<usize>| {
        cap.map_or(range.end, |c| range.start + (c as u64).min(range.end - range.start))
    };
    let last_needed = parts.iter().map(|(r, c, _)| wanted(r, *c)).max().unwrap_or(0);
    let mut scratch = CriteoSamples::empty([0; SPARSE]);
    while reader.rows_read() < last_needed {
        let row = reader.rows_read();
        let part = parts.iter_mut().find(|(r, _, _)| r.contains(&row)).map(|p| (wanted(&p.0, p.1), &mut p.2));
        match part {
            Some((end, out)) if row < end => reader.read_row_into(out)?,
            _ => {
                scratch.labels.clear();
                scratch.dense.clear();
                scratch.sparse.clear();
                reader.read_row_into(&mut scratch)?
            }
        };
        if reader.rows_read() % (1 << 20) == 0 {
            progress(ReadProgress { rows: reader.rows_read(), total_rows, bytes: reader.bytes_read() });
        }
    }
    progress(ReadProgress { rows: reader.rows_read(), total_rows, bytes: reader.bytes_read() });
    let table_rows = reader.table_rows();
    let [(_, _, mut train), (_, _, mut test), (_, _, mut validation)] = parts;
    for s in [&mut train, &mut test, &mut validation] {
        s.table_rows = table_rows;
    }
    Ok(CriteoSplit { train, validation, test })
}

/// One evaluation query: `len` consecutive rows of a set of `set_rows` rows starting at `start`, wrapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryWindow {
    /// Query number.
    pub query: usize,
    /// First row.
    pub start: usize,
    /// Candidates (rows) in the window.
    pub len: usize,
    /// Rows of the set the window is taken from.
    pub set_rows: usize,
}

impl QueryWindow {
    /// Row of candidate `j` (0-based).
    pub fn row(&self, j: usize) -> usize {
        (self.start + j) % self.set_rows
    }

    /// Rows of all candidates, in order.
    pub fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).map(|j| self.row(j))
    }
}

/// RecPipe's evaluation queries over a set of `set_rows` rows: query `q` is the window of `candidates` rows
/// starting at `q · candidates mod set_rows`, wrapping around the end of the set.
pub fn eval_windows(set_rows: usize, candidates: usize, queries: usize) -> Result<Vec<QueryWindow>, CriteoError> {
    if candidates == 0 || candidates > set_rows {
        return Err(CriteoError::WindowTooLarge { candidates, rows: set_rows });
    }
    Ok((0..queries)
        .map(|q| QueryWindow {
            query: q,
            start: ((q as u128 * candidates as u128) % set_rows as u128) as usize,
            len: candidates,
            set_rows,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(label: &str, dense: &[&str; DENSE], cat: &[&str; SPARSE]) -> String {
        let mut fields = vec![label.to_string()];
        fields.extend(dense.iter().map(|s| s.to_string()));
        fields.extend(cat.iter().map(|s| s.to_string()));
        fields.join("\t")
    }

    #[test]
    fn parses_values_and_empty_fields() {
        let mut dense = [""; DENSE];
        dense[0] = "5";
        dense[1] = "-3";
        let mut cat = [""; SPARSE];
        cat[0] = "68fd1e64";
        cat[1] = "00000000";
        let row = parse_line(line("1", &dense, &cat).as_bytes(), None).unwrap();
        assert_eq!(row.label, 1);
        assert!((row.dense[0] - 6f32.ln()).abs() < 1e-6);
        assert!(row.dense[1].abs() < 1e-12, "negative counts clamp to 0");
        assert!(row.dense[2..].iter().all(|&x| x == 0.0));
        assert_eq!(row.raw_categorical[0], 0x68fd_1e64);
        assert_eq!(row.raw_categorical[1], 0);
        assert_eq!(row.raw_categorical[2], 0);
    }

    #[test]
    fn max_ind_range_reduces_raw_values() {
        let mut cat = ["0000000a"; SPARSE];
        cat[0] = "ffffffff";
        let row = parse_line(line("0", &[""; DENSE], &cat).as_bytes(), Some(7)).unwrap();
        assert_eq!(row.raw_categorical[0], (0xffff_ffffu64 % 7) as u32);
        assert_eq!(row.raw_categorical[1], 10 % 7);
    }

    #[test]
    fn reports_the_bad_field() {
        let mut dense = [""; DENSE];
        dense[4] = "1.5";
        let err = parse_line(line("0", &dense, &[""; SPARSE]).as_bytes(), None).unwrap_err();
        assert_eq!(err, LineError::BadField(6, "1.5".into()));
        assert_eq!(field_name(6), "I5");
        let mut cat = [""; SPARSE];
        cat[25] = "xyz";
        let err = parse_line(line("0", &[""; DENSE], &cat).as_bytes(), None).unwrap_err();
        assert_eq!(err, LineError::BadField(40, "xyz".into()));
        assert_eq!(field_name(40), "C26");
        assert_eq!(parse_line(b"1\t2\t3", None).unwrap_err(), LineError::FieldCount(3));
        assert_eq!(
            parse_line(line("2", &[""; DENSE], &[""; SPARSE]).as_bytes(), None).unwrap_err(),
            LineError::BadField(1, "2".into())
        );
    }

    #[test]
    fn day_split_follows_divmod_and_array_split() {
        let s = DaySplit::new(100).unwrap();
        // 100 = 7 × 14 + 2: days 0 and 1 have 15 rows.
        assert_eq!(s.day_starts, [0, 15, 30, 44, 58, 72, 86, 100]);
        assert_eq!(s.train, 0..86);
        assert_eq!(s.test, 86..93);
        assert_eq!(s.validation, 93..100);
        assert!(DaySplit::new(13).is_none());
    }

    #[test]
    fn windows_wrap_around() {
        let w = eval_windows(10, 4, 4).unwrap();
        assert_eq!(w.iter().map(|w| w.start).collect::<Vec<_>>(), vec![0, 4, 8, 2]);
        assert_eq!(w[2].rows().collect::<Vec<_>>(), vec![8, 9, 0, 1]);
        assert!(eval_windows(3, 4, 1).is_err());
    }
}
