//! Calibration cache: measured latency profiles kept as CSV in `calib/`, one file per host.
//!
//! File `calib/latency-<host slug>.csv` (see [`HostFingerprint::slug`]) holds one row per measurement key:
//! the host fingerprint fields, the key (model, architecture fingerprint with table sizes, items, keep,
//! device, threads), the seed of the measurement's inputs, the sample summary in ms (n, mean, sd, p50, p95,
//! p99, min, max), the interference slowdowns as `k:slowdown` pairs joined by `;`, the raw sample in ms
//! joined by `;`, and the row's check (FNV-1a-64 of the other fields; a row whose check does not match is
//! listed in [`CalibCache::damaged`], ignored, and measured again). The summary columns are for people; on
//! load every statistic is recomputed from the raw sample, which is the single source of truth. Writing
//! merges under a lock on the folder: the host's file is re-read, the row with the same key is replaced, and
//! the file is replaced atomically ([`crate::durable::write_atomic`]), so parallel hosts never touch each
//! other's files, two calibrations of one host merge in turn, and an interrupted calibration keeps every
//! finished row.
//!
//! [`CalibCache::lookup`] prefers a profile measured on the current host; otherwise it returns one from
//! another host (the deterministic first by host order), whose [`Profile::host`] says where it came from —
//! callers must show it, nothing is mixed silently.

use super::host::HostFingerprint;
use super::profile::Profile;
use super::{DeviceKind, MeasureError, ProfileKey};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Column names, in file order.
pub const COLUMNS: [&str; 23] = [
    "host_cpu",
    "host_cores",
    "host_memory_gib",
    "host_gpu",
    "host_libtorch",
    "model",
    "arch",
    "items",
    "keep",
    "device",
    "threads",
    "seed",
    "n",
    "mean_ms",
    "sd_ms",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "min_ms",
    "max_ms",
    "interference",
    "samples_ms",
    "check",
];

/// File-name prefix of latency profile files (other CSV files in `calib/` are ignored).
pub const FILE_PREFIX: &str = "latency-";

/// All latency profiles of a calibration directory.
#[derive(Debug, Clone, Default)]
pub struct CalibCache {
    dir: PathBuf,
    profiles: BTreeMap<(HostFingerprint, ProfileKey), Profile>,
    /// Rows ignored because their check does not match (`file:line: why`); their profiles count as missing,
    /// so a calibration measures them again and the rewrite of the file drops the damaged rows.
    pub damaged: Vec<String>,
}

impl CalibCache {
    /// Read every `latency-*.csv` of `dir`; a missing directory is an empty cache.
    pub fn load(dir: &Path) -> Result<CalibCache, MeasureError> {
        let mut cache = CalibCache { dir: dir.to_path_buf(), profiles: BTreeMap::new(), damaged: Vec::new() };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(cache),
            Err(source) => return Err(MeasureError::Io { path: dir.display().to_string(), source }),
        };
        let mut files: Vec<PathBuf> =
            entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| is_profile_file(p)).collect();
        files.sort();
        for file in files {
            let read = read_file(&file)?;
            cache.damaged.extend(read.damaged);
            for profile in read.profiles {
                cache.profiles.insert((profile.host.clone(), profile.key.clone()), profile);
            }
        }
        Ok(cache)
    }

    /// The directory this cache reads and writes.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every profile, ordered by (host, key).
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// Number of profiles.
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// True when no profile is cached.
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// Same-host profile if present, else one from another host (its `host` says which), else `None`.
    pub fn lookup(&self, key: &ProfileKey, this_host: &HostFingerprint) -> Option<&Profile> {
        self.lookup_on(key, this_host).or_else(|| self.profiles.iter().find(|((_, k), _)| k == key).map(|(_, p)| p))
    }

    /// Every profile of `key`, this host's first, then the others in host order.
    pub fn lookup_all<'a>(&'a self, key: &'a ProfileKey, this_host: &HostFingerprint) -> Vec<&'a Profile> {
        let mut out: Vec<&Profile> = self.lookup_on(key, this_host).into_iter().collect();
        out.extend(self.profiles.iter().filter(|((h, k), _)| k == key && h != this_host).map(|(_, p)| p));
        out
    }

    /// The profile of `key` measured on exactly `host`.
    pub fn lookup_on(&self, key: &ProfileKey, host: &HostFingerprint) -> Option<&Profile> {
        self.profiles.get(&(host.clone(), key.clone()))
    }

    /// Add (or replace) a profile and merge it into its host's file on disk.
    pub fn insert_and_save(&mut self, profile: Profile) -> Result<PathBuf, MeasureError> {
        let path = self.dir.join(format!("{FILE_PREFIX}{}.csv", profile.host.slug()));
        std::fs::create_dir_all(&self.dir)
            .map_err(|source| MeasureError::Io { path: self.dir.display().to_string(), source })?;
        // Two calibrations of one host merge in turn, so neither drops the other's new row.
        let _lock = crate::durable::lock_folder(&self.dir)
            .map_err(|source| MeasureError::Io { path: self.dir.display().to_string(), source })?;
        let mut rows: BTreeMap<ProfileKey, Profile> = if path.exists() {
            read_file(&path)?.profiles.into_iter().map(|p| (p.key.clone(), p)).collect()
        } else {
            BTreeMap::new()
        };
        rows.insert(profile.key.clone(), profile.clone());
        write_file(&path, rows.values())?;
        self.profiles.insert((profile.host.clone(), profile.key.clone()), profile);
        Ok(path)
    }
}

fn is_profile_file(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.starts_with(FILE_PREFIX) && name.ends_with(".csv") && path.is_file()
}

/// Write profiles as one CSV file atomically (temporary file in the same directory, then rename).
pub fn write_file<'a>(path: &Path, profiles: impl Iterator<Item = &'a Profile>) -> Result<(), MeasureError> {
    let mut text = COLUMNS.join(",");
    text.push('\n');
    for p in profiles {
        let mut row = profile_row(p);
        row.push(row_check(&row));
        text.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    crate::durable::write_atomic(path, text.as_bytes())
        .map_err(|source| MeasureError::Io { path: path.display().to_string(), source })
}

/// The fields of one row, unquoted.
fn profile_row(p: &Profile) -> Vec<String> {
    let join = |v: &mut dyn Iterator<Item = String>| v.collect::<Vec<_>>().join(";");
    vec![
        p.host.cpu_model.clone(),
        p.host.cores.to_string(),
        p.host.memory_gib.to_string(),
        p.host.gpu.clone(),
        p.host.libtorch.clone(),
        p.key.model.clone(),
        p.key.arch.clone(),
        p.key.items.to_string(),
        p.key.keep.to_string(),
        p.key.device.to_string(),
        p.key.threads.to_string(),
        p.seed.to_string(),
        p.samples_ms.len().to_string(),
        format!("{:.6}", p.mean_ms),
        format!("{:.6}", p.sd_ms),
        format!("{:.6}", p.p50_ms),
        format!("{:.6}", p.p95_ms),
        format!("{:.6}", p.p99_ms),
        format!("{:.6}", p.min_ms),
        format!("{:.6}", p.max_ms),
        join(&mut p.interference.iter().map(|(k, s)| format!("{k}:{s:.6}"))),
        join(&mut p.samples_ms.iter().map(|x| format!("{x:.6}"))),
    ]
}

/// The check of a row: FNV-1a-64 ([`crate::hash`]) of its other fields (unquoted, each followed by a 0x1f
/// unit separator), 16 hex digits.
pub fn row_check(fields: &[String]) -> String {
    let mut h = crate::hash::Fnv1a::new();
    for f in fields {
        h.write(f.as_bytes());
        h.write(&[0x1f]);
    }
    format!("{:016x}", h.finish())
}

/// Quote a field when it holds a comma, quote or line break (RFC 4180).
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Split one RFC 4180 line (no embedded line breaks) into fields; `None` on an unterminated quote.
fn split_csv_line(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

/// The rows of one profile file.
#[derive(Debug, Clone, Default)]
pub struct ProfileFile {
    /// Profiles of the rows whose check matches.
    pub profiles: Vec<Profile>,
    /// Rows whose check does not match, as `file:line: why`.
    pub damaged: Vec<String>,
}

/// Read one profile file; every problem names the file, line and column.
pub fn read_file(path: &Path) -> Result<ProfileFile, MeasureError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| MeasureError::Io { path: name.clone(), source })?;
    parse_profiles(&text, &name)
}

/// Parse the text of one profile file named `name`. A row whose check does not match (damaged, cut short,
/// or edited by hand) is listed in [`ProfileFile::damaged`] and skipped; a row with a matching check that
/// still does not parse is an error naming the file, line, column and value.
pub fn parse_profiles(text: &str, name: &str) -> Result<ProfileFile, MeasureError> {
    let name = name.to_string();
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, l)| l.trim_end_matches('\r')).unwrap_or("");
    if header != COLUMNS.join(",") {
        let older = header == COLUMNS[..COLUMNS.len() - 1].join(",");
        let hint = if older { " (an older version wrote it without row checks: measure it again)" } else { "" };
        return Err(MeasureError::Format {
            path: name,
            line: 1,
            message: format!("expected the header {:?}, found {header:?}{hint}", COLUMNS.join(",")),
        });
    }
    let mut out = ProfileFile::default();
    for (i, line) in lines {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let err = |message: String| MeasureError::Format { path: name.clone(), line: i + 1, message };
        let checked = split_csv_line(line).filter(|f| f.len() == COLUMNS.len()).filter(|f| {
            let (check, row) = f.split_last().expect("a full row");
            *check == row_check(row)
        });
        let Some(fields) = checked else {
            out.damaged.push(format!(
                "{name}:{}: the row is damaged, cut short or edited by hand (its check does not match); it is \
                 ignored and its profile measured again",
                i + 1
            ));
            continue;
        };
        out.profiles.push(parse_row(&fields).map_err(err)?);
    }
    Ok(out)
}

fn parse_row(f: &[String]) -> Result<Profile, String> {
    fn num<T: std::str::FromStr>(f: &[String], col: usize) -> Result<T, String> {
        f[col].trim().parse().map_err(|_| format!("{}: not a valid number: {:?}", COLUMNS[col], f[col]))
    }
    let device = crate::input::parse_choice::<DeviceKind>(&f[9])
        .ok_or_else(|| format!("device: expected {}, found {:?}", crate::input::choice_names::<DeviceKind>(), f[9]))?;
    let host = HostFingerprint {
        cpu_model: f[0].clone(),
        cores: num(f, 1)?,
        memory_gib: num(f, 2)?,
        gpu: f[3].clone(),
        libtorch: f[4].clone(),
    };
    let key = ProfileKey {
        model: f[5].clone(),
        arch: f[6].clone(),
        items: num(f, 7)?,
        keep: num(f, 8)?,
        device,
        threads: num(f, 10)?,
    };
    let seed: u64 = num(f, 11)?;
    let n: usize = num(f, 12)?;
    let samples_ms = f[21]
        .split(';')
        .filter(|s| !s.is_empty())
        .enumerate()
        .map(|(i, s)| {
            s.trim().parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0).ok_or_else(|| {
                format!("samples_ms: value {} is {:?}; expected finite numbers ≥ 0 joined by ';'", i + 1, s.trim())
            })
        })
        .collect::<Result<Vec<f64>, String>>()?;
    if samples_ms.len() != n {
        return Err(format!("n = {n} but samples_ms holds {} values", samples_ms.len()));
    }
    let interference = f[20]
        .split(';')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, s) = pair.split_once(':')?;
            Some((k.trim().parse().ok()?, s.trim().parse().ok().filter(|x: &f64| x.is_finite() && *x > 0.0)?))
        })
        .collect::<Option<Vec<(u32, f64)>>>()
        .ok_or_else(|| {
            format!("interference: expected k:slowdown pairs (finite slowdowns > 0) joined by ';', found {:?}", f[20])
        })?;
    Profile::from_samples(key, host, samples_ms, interference, seed).ok_or_else(|| "samples_ms: empty sample".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_round_trips() {
        for field in ["plain", "a,b", "say \"hi\"", ""] {
            let line = format!("{},x", csv_field(field));
            assert_eq!(split_csv_line(&line).unwrap(), vec![field.to_string(), "x".to_string()]);
        }
        assert!(split_csv_line("\"open,x").is_none());
    }
}
