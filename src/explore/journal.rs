//! Journal of evaluated points: one JSON line per point, appended (and flushed) as each evaluation
//! completes, so an interrupted run loses nothing it finished.
//!
//! Each record carries the point id, its knobs in words, the [`Outcome`] with all metrics, the simulation
//! seed, the crate version and a **fingerprint** of everything the evaluation depends on (the space without
//! its search and output settings, the evaluation settings, the descriptions of the quality and latency
//! sources, the crate version). Opening a journal keeps the records whose fingerprint matches the current
//! run; they are reused instead of re-evaluated, which makes `--resume` and a second run of the same space
//! cheap. A record cut short by a kill (a last line without its newline) is dropped, reported
//! ([`Journal::torn_tail_bytes`]) and the file is truncated to its last complete line before appending.
//!
//! Every line ends with a `check` field: 16 hex digits of the FNV-1a-64 hash of the line's JSON without that
//! field. A line whose check does not match (a damaged disk block, an edit by hand) is skipped and counted
//! ([`Journal::skipped_lines`]); its point is evaluated again, so a damaged journal never feeds a wrong
//! number into a report. While a journal is open its process holds an exclusive lock on it
//! ([`crate::durable::FileLock`]): a second process is refused with a message naming the holder, so two runs
//! never interleave lines or truncate each other's.
//!
//! This is the module's only file I/O; everything else works on [`JournalRecord`]s in memory.

use super::{Outcome, VERSION};
use crate::spec::PointId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalRecord {
    /// Fingerprint of the evaluation inputs.
    pub fingerprint: String,
    /// Point id.
    pub id: u64,
    /// The pipeline in words (`rm-small:4096 > rm-large:512`).
    pub pipeline: String,
    /// The hardware of each stage in words.
    pub hardware: Vec<String>,
    /// Seed of the simulations.
    pub seed: u64,
    /// Crate version that evaluated it.
    pub version: String,
    /// The result.
    pub outcome: Outcome,
}

/// An append-only journal file and the records of it that match the current fingerprint.
pub struct Journal {
    path: PathBuf,
    fingerprint: String,
    file: Mutex<File>,
    known: HashMap<PointId, JournalRecord>,
    /// Lines that could not be read (damaged, edited, or from an incompatible version).
    pub skipped_lines: usize,
    /// Length of the torn last line (a record cut short by a kill) dropped on opening; 0 when none.
    pub torn_tail_bytes: usize,
    /// Records of other evaluations (another fingerprint): kept in the file, never reused.
    pub foreign_records: usize,
    _lock: crate::durable::FileLock,
}

/// A journal could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Another process has the journal open.
    #[error(transparent)]
    Busy(#[from] crate::durable::LockError),
    /// File-system problem.
    #[error("{path}: {source}")]
    Io {
        /// The journal.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Name of the check field every line ends with.
const CHECK_FIELD: &str = ",\"check\":\"";

/// `json` (one serialised record, an object) with its check field appended.
fn checked_line(json: &str) -> String {
    let body = json.strip_suffix('}').unwrap_or(json);
    format!("{body}{CHECK_FIELD}{}\"}}", fnv1a_hex(json))
}

/// The record JSON of a checked line, when its check matches.
fn verified(line: &str) -> Option<String> {
    let at = line.rfind(CHECK_FIELD)?;
    let check = line[at + CHECK_FIELD.len()..].strip_suffix("\"}")?;
    let json = format!("{}}}", &line[..at]);
    (fnv1a_hex(&json) == check).then_some(json)
}

/// What reading a journal through found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Verified records read.
    pub records: usize,
    /// Lines that could not be read (damaged, edited, or from an incompatible version).
    pub skipped_lines: usize,
    /// Length of a torn last line (no newline: a record cut short by a kill); 0 when none.
    pub torn_tail_bytes: usize,
    /// Bytes up to the end of the last complete line.
    pub complete_bytes: u64,
}

/// Read a journal from its start, one line at a time (memory bounded by the longest line, never the whole
/// file), handing every verified record to `each` in file order; damaged lines are counted and skipped, and
/// a torn last line is counted, not read.
pub fn read_records(reader: impl Read, mut each: impl FnMut(JournalRecord)) -> std::io::Result<ReadStats> {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let mut stats = ReadStats::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            stats.torn_tail_bytes = n;
            break;
        }
        stats.complete_bytes += n as u64;
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match parse_line(text) {
            Some(record) => {
                stats.records += 1;
                each(record);
            }
            None => stats.skipped_lines += 1,
        }
    }
    Ok(stats)
}

/// Parse one journal line: the record when its check matches and it reads as a record.
pub fn parse_line(line: &str) -> Option<JournalRecord> {
    serde_json::from_str(&verified(line)?).ok()
}

impl Journal {
    /// Open (or create) the journal at `path` for runs with `fingerprint`.
    /// The process's command line is recorded as the lock's holder.
    pub fn open(path: &Path, fingerprint: &str) -> Result<Journal, JournalError> {
        let io = |source| JournalError::Io { path: path.display().to_string(), source };
        let who = std::env::args().collect::<Vec<_>>().join(" ");
        let lock = crate::durable::FileLock::try_acquire(path, &who)?;
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(io)?;
        let mut known = HashMap::new();
        let mut foreign_records = 0;
        let read = read_records(&mut file, |record| {
            if record.fingerprint == fingerprint {
                known.insert(PointId(record.id), record);
            } else {
                foreign_records += 1;
            }
        })
        .map_err(io)?;
        if read.torn_tail_bytes > 0 {
            file.set_len(read.complete_bytes).map_err(io)?;
            file.seek(SeekFrom::End(0)).map_err(io)?;
        }
        Ok(Journal {
            path: path.to_path_buf(),
            fingerprint: fingerprint.to_string(),
            file: Mutex::new(file),
            known,
            skipped_lines: read.skipped_lines,
            torn_tail_bytes: read.torn_tail_bytes,
            foreign_records,
            _lock: lock,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The fingerprint records are written with.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Records of earlier runs with the same fingerprint.
    pub fn known(&self) -> usize {
        self.known.len()
    }

    /// A finished point of an earlier run.
    pub fn lookup(&self, id: PointId) -> Option<&Outcome> {
        self.known.get(&id).map(|r| &r.outcome)
    }

    /// Append one record (one line, flushed).
    pub fn append(&self, record: &JournalRecord) -> std::io::Result<()> {
        let json = serde_json::to_string(record).map_err(std::io::Error::other)?;
        let mut line = checked_line(&json);
        line.push('\n');
        let mut f = self.file.lock().expect("journal lock");
        f.write_all(line.as_bytes())?;
        f.flush()
    }

    /// A record for `outcome` of point `id` with this journal's fingerprint.
    pub fn record(
        &self,
        id: PointId,
        pipeline: String,
        hardware: Vec<String>,
        seed: u64,
        outcome: Outcome,
    ) -> JournalRecord {
        JournalRecord {
            fingerprint: self.fingerprint.clone(),
            id: id.0,
            pipeline,
            hardware,
            seed,
            version: VERSION.to_string(),
            outcome,
        }
    }
}

/// 64-bit FNV-1a hash ([`crate::hash`]) of `text` as 16 hex digits (stable across platforms and releases).
pub fn fnv1a_hex(text: &str) -> String {
    format!("{:016x}", crate::hash::fnv1a64(text.as_bytes()))
}

/// Fingerprint of the evaluation inputs: the space without search/output/source fields, the evaluation
/// settings and the sources' descriptions, and the crate version.
pub fn fingerprint(space: &crate::spec::Space, settings: &super::EvalSettings, sources: &[String]) -> String {
    let mut s = space.clone();
    s.source = String::new();
    s.description = None;
    s.output_dir = String::new();
    s.quality_floor = Vec::new();
    s.search = crate::spec::SearchSpec {
        strategy: crate::search::StrategyKind::Exhaustive,
        budget: 0,
        seed: 0,
        population: 0,
        restarts: 0,
        early_stop: None,
    };
    let text =
        format!("{}|{:?}|{}|{}", serde_json::to_string(&s).unwrap_or_default(), settings, sources.join("|"), VERSION);
    fnv1a_hex(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::Metrics;

    #[test]
    fn cut_records_are_dropped_and_others_reused() {
        let dir = std::env::temp_dir().join(format!("recpipe-journal-{}", std::process::id()));
        let path = dir.join("j.jsonl");
        let _ = std::fs::remove_file(&path);
        {
            let j = Journal::open(&path, "abc").unwrap();
            let mut m = Metrics::default();
            m.set(crate::spec::metric::Metric::P95Ms, 1.5);
            j.append(&j.record(PointId(3), "p".into(), vec![], 1, Outcome::Feasible(m))).unwrap();
            // The first holds the lock: a second opening is refused and names the holder.
            assert!(matches!(Journal::open(&path, "zzz"), Err(JournalError::Busy(_))));
        }
        let other = Journal::open(&path, "zzz").unwrap();
        assert_eq!(other.known(), 0);
        drop(other);
        // A kill in the middle of a line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"fingerprint\":\"abc\",\"id\":4")
            .unwrap();
        let j = Journal::open(&path, "abc").unwrap();
        assert_eq!((j.known(), j.torn_tail_bytes), (1, 27));
        assert!(j.lookup(PointId(3)).unwrap().is_feasible());
        j.append(&j.record(
            PointId(5),
            "p".into(),
            vec![],
            1,
            Outcome::Infeasible { reason: "x".into(), partial: Metrics::default() },
        ))
        .unwrap();
        drop(j);
        let j = Journal::open(&path, "abc").unwrap();
        assert_eq!((j.known(), j.skipped_lines, j.torn_tail_bytes), (2, 0, 0));
        drop(j);
        // A changed digit keeps the JSON valid but breaks the line's check: skipped, never trusted.
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("1.5", "2.5", 1)).unwrap();
        let j = Journal::open(&path, "abc").unwrap();
        assert_eq!((j.known(), j.skipped_lines), (1, 1));
        assert!(j.lookup(PointId(3)).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
