//! Journal of evaluated points: one JSON line per point, appended (and flushed) as each evaluation
//! completes, so an interrupted run loses nothing it finished.
//!
//! Each record carries the point id, its knobs in words, the [`Outcome`] with all metrics, the simulation
//! seed, the crate version and a **fingerprint** of everything the evaluation depends on (the space without
//! its search and output settings, the evaluation settings, the descriptions of the quality and latency
//! sources, the crate version). Opening a journal keeps the records whose fingerprint matches the current
//! run; they are reused instead of re-evaluated, which makes `--resume` and a second run of the same space
//! cheap. A record cut short by a kill (a last line without its newline) is dropped and the file is
//! truncated to its last complete line before appending.
//!
//! This is the module's only file I/O; everything else works on [`JournalRecord`]s in memory.

use super::{Outcome, VERSION};
use crate::spec::PointId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
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
    /// Lines that could not be read (corrupt or from an incompatible version).
    pub skipped_lines: usize,
}

impl Journal {
    /// Open (or create) the journal at `path` for runs with `fingerprint`.
    pub fn open(path: &Path, fingerprint: &str) -> std::io::Result<Journal> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        if complete < text.len() {
            file.set_len(complete as u64)?;
            file.seek(SeekFrom::End(0))?;
        }
        let mut known = HashMap::new();
        let mut skipped_lines = 0;
        for line in text[..complete].lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<JournalRecord>(line) {
                Ok(r) if r.fingerprint == fingerprint => {
                    known.insert(PointId(r.id), r);
                }
                Ok(_) => {}
                Err(_) => skipped_lines += 1,
            }
        }
        Ok(Journal {
            path: path.to_path_buf(),
            fingerprint: fingerprint.to_string(),
            file: Mutex::new(file),
            known,
            skipped_lines,
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
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
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
            let other = Journal::open(&path, "zzz").unwrap();
            assert_eq!(other.known(), 0);
        }
        // A kill in the middle of a line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"fingerprint\":\"abc\",\"id\":4")
            .unwrap();
        let j = Journal::open(&path, "abc").unwrap();
        assert_eq!(j.known(), 1);
        assert!(j.lookup(PointId(3)).unwrap().is_feasible());
        j.append(&j.record(
            PointId(5),
            "p".into(),
            vec![],
            1,
            Outcome::Infeasible { reason: "x".into(), partial: Metrics::default() },
        ))
        .unwrap();
        let j = Journal::open(&path, "abc").unwrap();
        assert_eq!((j.known(), j.skipped_lines), (2, 0));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
