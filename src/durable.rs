//! Durable files: the one way this crate writes a file, seals a cache file, and locks a file against a
//! second process.
//!
//! * [`write_atomic`] writes to a unique temporary name in the target's folder (`.<stem>.<pid>-<n>.tmp.<ext>`),
//!   flushes it to disk (`fsync`), renames it over the target and flushes the folder, so a reader (or a run
//!   resumed after a kill or a power cut) sees the old file or the new one, never half a file. On any error
//!   the temporary file is removed and the target is untouched.
//! * [`write_sealed`] / [`read_sealed`]: a cache file `F` carries a sidecar `F.check` holding its length and a 128-bit
//!   checksum (two FNV-1a-64 passes of [`crate::hash`] from different offsets). A cache file whose sidecar
//!   is missing, or whose bytes do not match it (truncated, bytes flipped), is reported as
//!   [`SealError::Corrupt`] and never used; callers rebuild it. The sidecar is written before the file is
//!   renamed into place, so a kill between the two leaves a mismatch (a rebuild), never a wrong match.
//! * [`FileLock`]: an exclusive advisory lock (`flock`) held for a process's lifetime on a file; the holder
//!   writes who it is (pid, host, start time, command) into `<file>.owner`, and a second process is refused
//!   with a message that names the holder. The kernel releases the lock when the holder dies, even by
//!   SIGKILL, so a stale lock never blocks a resume. [`lock_folder`] serialises short read-modify-write
//!   sections on a folder's files.
//!
//! Checksums guard against torn and damaged files, not against tampering.

use crate::hash::{Fnv1a, OFFSET_BASIS, SECOND_OFFSET_BASIS};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// First word of every seal file.
const SEAL_TAG: &str = "recpipe-dse-seal-v1";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary name beside `path`, unique within this host (process id and a counter), keeping `path`'s
/// extension (some writers choose the format from it).
pub fn temp_path(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new(""));
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    dir.join(format!(".{stem}.{}-{n}.tmp{ext}", std::process::id()))
}

/// Remove the temporary files ([`temp_path`]) in `dir` left by processes that no longer run (killed half-way
/// through a write); returns how many were removed. Temporaries of live processes are kept.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = temp_owner(&name) else { continue };
        if !Path::new(&format!("/proc/{pid}")).exists() && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The process id in a [`temp_path`] file name (`.<stem>.<pid>-<n>.tmp[.<ext>]`).
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let at = rest.find(".tmp")?;
    let (pid, n) = rest[..at].rsplit('.').next()?.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Write `bytes` to `path` atomically and durably (see the module docs). The folder must exist.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match written {
        Ok(()) => commit(&tmp, path),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Move a finished temporary file (from [`temp_path`], written by someone else, e.g. an image encoder) into
/// place: flush it, rename it over `path`, flush the folder. The temporary file is removed on error.
pub fn commit(tmp: &Path, path: &Path) -> std::io::Result<()> {
    let done = (|| {
        File::open(tmp)?.sync_all()?;
        std::fs::rename(tmp, path)?;
        sync_folder(path)
    })();
    if done.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    done
}

/// Flush the folder holding `path` so a rename in it survives a power cut (a no-op where folders cannot be
/// opened).
fn sync_folder(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match File::open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}

/// Checksum of `bytes`: 32 hex digits.
pub fn checksum(bytes: &[u8]) -> String {
    let pass = |offset| {
        let mut h = Fnv1a::with_offset(offset);
        h.write(bytes);
        h.finish()
    };
    format!("{:016x}{:016x}", pass(OFFSET_BASIS), pass(SECOND_OFFSET_BASIS))
}

/// The seal file of cache file `path`: `path` + `.check`.
pub fn seal_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".check");
    PathBuf::from(name)
}

/// Text of the seal of `bytes`.
fn seal_text(bytes: &[u8]) -> String {
    format!("{SEAL_TAG} bytes={} checksum={}\n", bytes.len(), checksum(bytes))
}

/// A sealed cache file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The file or its seal does not match: truncated, damaged, or written by a run killed half-way.
    #[error("{path}: corrupt cache file ({why})")]
    Corrupt {
        /// The cache file.
        path: String,
        /// What did not match.
        why: String,
    },
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// Write cache file `path` with its seal, both atomically (the seal first). Creates the folder.
pub fn write_sealed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(&seal_path(path), seal_text(bytes).as_bytes())?;
    write_atomic(path, bytes)
}

/// Move a cache file that another writer has just written to `tmp` (from [`temp_path`]; e.g. libtorch's
/// checkpoint writer) into place at `path` with its seal: reads it back, writes the seal, then commits it.
pub fn commit_sealed(tmp: &Path, path: &Path) -> std::io::Result<()> {
    let sealed = std::fs::read(tmp).and_then(|bytes| write_atomic(&seal_path(path), seal_text(&bytes).as_bytes()));
    if let Err(e) = sealed {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    commit(tmp, path)
}

/// Read sealed cache file `path`: `Ok(None)` when the file is absent, its bytes when they match the seal,
/// [`SealError::Corrupt`] otherwise (also when the file is present without a seal).
pub fn read_sealed(path: &Path) -> Result<Option<Vec<u8>>, SealError> {
    let io = |source| SealError::Io { path: path.display().to_string(), source };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    check_seal(path, &bytes)?;
    Ok(Some(bytes))
}

/// Check `bytes` (the contents of `path`) against `path`'s seal.
fn check_seal(path: &Path, bytes: &[u8]) -> Result<(), SealError> {
    let corrupt = |why: String| SealError::Corrupt { path: path.display().to_string(), why };
    let seal = match std::fs::read_to_string(seal_path(path)) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(corrupt(format!(
                "its seal {} is missing: an older version wrote it, or a run was cut short",
                seal_path(path).display()
            )))
        }
        Err(e) => return Err(corrupt(format!("its seal {} cannot be read: {e}", seal_path(path).display()))),
    };
    seal_matches(&seal, bytes).map_err(corrupt)
}

/// Whether `seal` (the text of a seal file) is the seal of `bytes`; otherwise what does not match.
pub fn seal_matches(seal: &str, bytes: &[u8]) -> Result<(), String> {
    if seal == seal_text(bytes) {
        return Ok(());
    }
    let mut words = seal.split_whitespace();
    let tagged = words.next() == Some(SEAL_TAG);
    let recorded_len = words.find_map(|w| w.strip_prefix("bytes=")).and_then(|n| n.parse::<usize>().ok());
    Err(match recorded_len {
        Some(n) if tagged && n != bytes.len() => format!("{} bytes where its seal records {n}", bytes.len()),
        Some(_) if tagged => "its checksum does not match its seal".to_string(),
        _ => "its seal is unreadable".to_string(),
    })
}

/// An exclusive lock on a file for as long as the value lives (see the module docs).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    owner: PathBuf,
}

/// A lock is held by another process (or could not be taken).
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("{path} is in use by {holder}; wait for that run to finish (or stop it), then try again")]
    Busy {
        /// The locked file.
        path: String,
        /// Who holds it, as the holder wrote it (`pid 123 on host h since 2026-… : recpipe-dse explore …`).
        holder: String,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The locked file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The owner file beside a locked file: `path` + `.owner`.
pub fn owner_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".owner");
    PathBuf::from(name)
}

impl FileLock {
    /// Lock `path` (created if absent) exclusively without waiting; `who` describes this process (the
    /// command) for the message a second process prints.
    pub fn try_acquire(path: &Path, who: &str) -> Result<FileLock, LockError> {
        let io = |source| LockError::Io { path: path.display().to_string(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(owner_path(path))
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "another process".to_string());
                return Err(LockError::Busy { path: path.display().to_string(), holder });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let owner = owner_path(path);
        let text = format!(
            "pid {} on host {} since {}: {who}\n",
            std::process::id(),
            crate::measure::host::hostname(),
            crate::explore::run::utc_stamp()
        );
        write_atomic(&owner, text.as_bytes()).map_err(io)?;
        Ok(FileLock { _file: file, owner })
    }
}

/// Lock folder `dir` exclusively, waiting while another process holds it, until the returned handle is
/// dropped (for short read-modify-write sections on files in it, which are replaced by rename and so cannot
/// carry the lock themselves).
pub fn lock_folder(dir: &Path) -> std::io::Result<File> {
    let handle = File::open(dir)?;
    handle.lock()?;
    Ok(handle)
}

/// Create a new folder `<parent>/<base>` (and `parent` if needed), or `<base>-02`, `<base>-03`, … when that
/// name is taken: the creation itself claims the name, so two runs started within the same second (the
/// resolution of the time stamps in folder names) never share a folder.
pub fn claim_folder(parent: &Path, base: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(parent)?;
    for n in 1u32.. {
        let dir = if n == 1 { parent.join(base) } else { parent.join(format!("{base}-{n:02}")) };
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("an unbounded counter ends only by returning")
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rpdse-durable-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporaries() {
        let dir = scratch("atomic");
        let path = dir.join("a.csv");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        let t = temp_path(&path);
        assert!(t.to_string_lossy().ends_with(".csv") && t != temp_path(&path));
        // A folder that does not exist: an error, nothing written.
        assert!(write_atomic(&dir.join("absent").join("x"), b"x").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn temporaries_of_dead_processes_are_removed_and_live_ones_kept() {
        let dir = scratch("stale");
        let mine = temp_path(&dir.join("points.csv"));
        std::fs::write(&mine, "x").unwrap();
        // pid 4194305 is above Linux's largest pid, so never alive.
        let dead = dir.join(".points.4194305-7.tmp.csv");
        std::fs::write(&dead, "x").unwrap();
        std::fs::write(dir.join("points.csv"), "kept").unwrap();
        assert_eq!(temp_owner(".scores.12-0.tmp.bin"), Some(12));
        assert_eq!(temp_owner("points.csv"), None);
        assert_eq!(remove_stale_temps(&dir), 1);
        assert!(mine.exists() && !dead.exists() && dir.join("points.csv").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn seals_catch_truncation_flipped_bytes_and_missing_seals() {
        let dir = scratch("seal");
        let path = dir.join("scores.bin");
        assert!(read_sealed(&path).unwrap().is_none());
        write_sealed(&path, b"0123456789").unwrap();
        assert_eq!(read_sealed(&path).unwrap().unwrap(), b"0123456789");
        std::fs::write(&path, b"01234").unwrap();
        let e = read_sealed(&path).unwrap_err().to_string();
        assert!(e.contains("scores.bin") && e.contains("5 bytes where its seal records 10"), "{e}");
        std::fs::write(&path, b"0123456780").unwrap();
        assert!(read_sealed(&path).unwrap_err().to_string().contains("checksum does not match"));
        std::fs::remove_file(seal_path(&path)).unwrap();
        assert!(read_sealed(&path).unwrap_err().to_string().contains("seal"));
        std::fs::remove_file(&path).unwrap();
        assert!(read_sealed(&path).unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_until_the_first_is_dropped() {
        let dir = scratch("lock");
        let path = dir.join("j.jsonl");
        let first = FileLock::try_acquire(&path, "recpipe-dse explore a.yaml").unwrap();
        let e = FileLock::try_acquire(&path, "second").unwrap_err().to_string();
        assert!(e.contains(&format!("pid {}", std::process::id())) && e.contains("explore a.yaml"), "{e}");
        drop(first);
        assert!(!owner_path(&path).exists());
        let _again = FileLock::try_acquire(&path, "third").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
