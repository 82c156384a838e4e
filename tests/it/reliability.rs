//! Reliability of real `explore` runs: SIGKILL at random moments, damaged caches, two processes on one
//! journal, and resource faults (a file-size limit, a full disk, a read-only cache, an unwritable output
//! folder, a missing data file). Each test runs the binary on a small copy of the bench-search space with
//! tiny models.

use crate::support::{bin, repo, small_space, SplitMix};
use recpipe_dse::durable::read_sealed;
use recpipe_dse::explore::journal::parse_line;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("recpipe-reliability-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `explore space --out out --cache-dir cache`.
fn explore(space: &Path, out: &Path, cache: &Path) -> Command {
    let mut c = bin();
    c.arg("explore").arg(space).arg("--out").arg(out).arg("--cache-dir").arg(cache);
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The report folders of runs under `out` (sorted, oldest first).
fn run_folders(out: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// points.csv of the newest finished run under `out`.
fn finished_points(out: &Path) -> String {
    let dir = run_folders(out)
        .into_iter()
        .rev()
        .find(|d| std::fs::read_to_string(d.join("run.json")).is_ok_and(|t| t.contains("\"finished\": true")))
        .unwrap_or_else(|| panic!("no finished run under {}", out.display()));
    std::fs::read_to_string(dir.join("points.csv")).unwrap()
}

/// Every journal line is whole and verified, and no point appears twice.
fn assert_clean_journal(journal: &Path) -> usize {
    let text = std::fs::read_to_string(journal).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "torn last line in {}", journal.display());
    let mut ids = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let record = parse_line(line).unwrap_or_else(|| panic!("{}:{}: unverified line", journal.display(), i + 1));
        assert!(ids.insert(record.id), "{}:{}: point {} twice", journal.display(), i + 1, record.id);
    }
    ids.len()
}

fn line_count(path: &Path) -> usize {
    std::fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}

#[test]
fn sigkill_at_random_moments_then_resume_gives_the_uninterrupted_points() {
    let dir = temp_dir("sigkill");
    let space = small_space(&dir, 4000);
    let cache = dir.join("cache");
    let (out_plain, out_killed) = (dir.join("plain"), dir.join("killed"));
    let plain = explore(&space, &out_plain, &cache).output().unwrap();
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));
    let expected = finished_points(&out_plain);
    let journal = out_killed.join("bench-search.journal.jsonl");
    let total = 2192usize;

    // Kill moments (seed 20261206): about a quarter at a random time in the first 600 ms (loading, opening
    // the journal, the first points), the others when the journal reaches a random share of the space, and
    // one as soon as the report's first file appears.
    let mut moments = SplitMix(20_261_206);
    let mut kills = 0;
    let mut attempts = 0;
    let mut last_stderr = String::new();
    while kills < 20 {
        attempts += 1;
        assert!(attempts < 60, "only {kills} kills landed in {attempts} runs");
        let before = run_folders(&out_killed).len();
        let mut child = explore(&space, &out_killed, &cache)
            .arg("--resume")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let u = moments.unit();
        let kind = if kills == 10 {
            2
        } else if u < 0.25 {
            0
        } else {
            1
        };
        let done_now = line_count(&journal);
        let target = done_now + ((total - done_now) as f64 * moments.unit() * 0.3) as usize;
        let delay = Duration::from_secs_f64(0.6 * moments.unit());
        let start = Instant::now();
        let report_started = |folders: &[PathBuf]| {
            folders.get(before.max(1) - 1..).is_some_and(|new| new.iter().any(|d| d.join("points.csv").exists()))
        };
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            let due = match kind {
                0 => start.elapsed() >= delay,
                1 => line_count(&journal) >= target,
                _ => report_started(&run_folders(&out_killed)),
            };
            if due {
                child.kill().unwrap();
                kills += 1;
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "run neither ended nor reached its kill moment");
            std::thread::sleep(Duration::from_millis(2));
        }
        let status = child.wait_with_output().unwrap();
        last_stderr = text(&status.stderr);
        if status.status.code() == Some(0) {
            // It finished before its moment: a fresh run starts over on the full journal.
            break;
        }
    }
    assert!(kills >= 20, "{kills} kills; last run:\n{last_stderr}");
    let resumed = explore(&space, &out_killed, &cache).arg("--resume").output().unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert_eq!(finished_points(&out_killed), expected, "points.csv after {kills} kills differs");
    assert_eq!(assert_clean_journal(&journal), total);
    // Temporary files of killed writes are cleaned up by the next run.
    let finished = run_folders(&out_killed).into_iter().last().unwrap();
    for folder in [out_killed.clone(), finished, cache.join("checkpoints"), cache.join("scores")] {
        let temps: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.contains(".tmp"))
            .collect();
        assert!(temps.is_empty(), "{}: {temps:?}", folder.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The cache files of the model whose name starts with `model` (checkpoint, summary, scores).
fn cache_file(cache: &Path, sub: &str, model: &str, ext: &str) -> PathBuf {
    std::fs::read_dir(cache.join(sub))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&format!("{model}-")) && name.ends_with(ext)
        })
        .unwrap_or_else(|| panic!("no {model}*{ext} in {}/{sub}", cache.display()))
}

fn flip_bytes(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let n = bytes.len();
    for at in [n / 3, n / 2, n - 2] {
        bytes[at] ^= 0x15;
    }
    std::fs::write(path, bytes).unwrap();
}

fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() * 2 / 3]).unwrap();
}

#[test]
fn every_cache_kind_damaged_is_detected_named_and_rebuilt() {
    let dir = temp_dir("corrupt");
    let space = small_space(&dir, 300);
    let (cache, out) = (dir.join("cache"), dir.join("out"));
    let first = explore(&space, &out, &cache).output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let expected = finished_points(&out);
    let journal = out.join("bench-search.journal.jsonl");

    type Damage = fn(&Path);
    let damages: [(&str, Damage); 2] = [("truncated", truncate), ("flipped", flip_bytes)];
    for (how, damage) in damages {
        for kind in ["checkpoint", "training summary", "scores", "journal"] {
            let (target, needs) = match kind {
                "checkpoint" => (cache_file(&cache, "checkpoints", "rm-med", ".safetensors"), "retraining"),
                "training summary" => (cache_file(&cache, "checkpoints", "rm-med", ".json"), "retraining"),
                "scores" => (cache_file(&cache, "scores", "rm-med", ".bin"), "rescoring"),
                _ => (journal.clone(), "evaluated again"),
            };
            damage(&target);
            if kind != "scores" && kind != "journal" {
                // A checkpoint is read only when its model's scores must be computed again.
                std::fs::remove_file(cache_file(&cache, "scores", "rm-med", ".bin")).unwrap();
            }
            let run = explore(&space, &out, &cache).output().unwrap();
            let stderr = text(&run.stderr);
            assert_eq!(run.status.code(), Some(0), "{kind} {how}: {stderr}");
            let named = target.file_name().unwrap().to_string_lossy().into_owned();
            assert!(stderr.contains(&named) && stderr.contains(needs), "{kind} {how} not reported:\n{stderr}");
            assert_eq!(finished_points(&out), expected, "{kind} {how}: results changed");
            if kind == "journal" {
                // A truncation tears the last line; flipped bytes break lines' checks.
                let said = if how == "truncated" { "torn last line" } else { "damaged or unreadable" };
                assert!(stderr.contains(said), "{stderr}");
            } else {
                assert!(read_sealed(&target).unwrap().is_some(), "{} not rebuilt", target.display());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_explores_of_one_space_never_share_the_journal() {
    let dir = temp_dir("concurrent");
    let space = small_space(&dir, 1000);
    let (cache, out) = (dir.join("cache"), dir.join("out"));
    let spawn = || explore(&space, &out, &cache).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let results: Vec<Output> = [a, b].into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let mut finished = 0;
    for r in &results {
        let stderr = text(&r.stderr);
        match r.status.code() {
            Some(0) => finished += 1,
            Some(1) => assert!(
                stderr.contains("is in use by pid") && stderr.contains("explore"),
                "refused without naming the holder:\n{stderr}"
            ),
            other => panic!("exit {other:?}:\n{stderr}"),
        }
    }
    assert!(finished >= 1);
    assert_eq!(assert_clean_journal(&out.join("bench-search.journal.jsonl")), 2192);
    // Only the runs that got the journal left a report folder.
    assert_eq!(run_folders(&out).len(), finished);

    // A second explore while the first is evaluating is refused, naming the first's pid.
    let out = dir.join("out-2");
    let space = small_space(&dir, 8000);
    let mut first = explore(&space, &out, &cache).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let journal = out.join("bench-search.journal.jsonl");
    let start = Instant::now();
    while line_count(&journal) < 5 {
        assert!(start.elapsed() < Duration::from_secs(120), "the first run journaled nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = explore(&space, &out, &cache).output().unwrap();
    let still_running = first.try_wait().unwrap().is_none();
    assert!(first.wait().unwrap().success());
    if still_running {
        let stderr = text(&second.stderr);
        assert_eq!(second.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&format!("in use by pid {}", first.id())), "{stderr}");
    }
    assert_eq!(assert_clean_journal(&journal), 2192);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Mount a tmpfs of `size` at `at` (read-only when asked); panics naming the reason where mounting is not
/// permitted (the test needs root, as CI has).
fn mount_tmpfs(at: &Path, size: &str, read_only: bool) {
    std::fs::create_dir_all(at).unwrap();
    let mut options = format!("size={size}");
    if read_only {
        options.push_str(",ro");
    }
    let out = Command::new("mount").args(["-t", "tmpfs", "-o", &options, "tmpfs"]).arg(at).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("cannot mount a tmpfs at {} (needs root): {}", at.display(), text(&o.stderr)),
        Err(e) => panic!("cannot run mount: {e}"),
    }
}

fn unmount(at: &Path) {
    let _ = Command::new("umount").arg(at).status();
}

/// A run that failed with exit 1 naming `path`, leaving no report.md anywhere under `out`.
fn assert_failed_cleanly(run: &Output, path: &Path, out: &Path, what: &str) {
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{what}: {stderr}");
    assert!(
        stderr.contains(&path.display().to_string()),
        "{what}: the error does not name {}:\n{stderr}",
        path.display()
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    for d in run_folders(out) {
        assert!(!d.join("report.md").exists(), "{what}: a report was written in {}", d.display());
        let leftovers: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{what}: temporary files left in {}", d.display());
    }
}

#[test]
fn resource_faults_fail_cleanly_naming_the_path() {
    let dir = temp_dir("faults");
    let space = small_space(&dir, 300);
    let cache = dir.join("cache");
    let warm = explore(&space, &dir.join("warm"), &cache).output().unwrap();
    assert_eq!(warm.status.code(), Some(0), "{}", text(&warm.stderr));

    // A file-size limit (ulimit -f, 100 KiB): the journal outgrows it; the run stops, resumable.
    let out = dir.join("ulimit");
    let cmd = format!(
        "ulimit -f 100; exec '{}' explore '{}' --out '{}' --cache-dir '{}'",
        env!("CARGO_BIN_EXE_recpipe-dse"),
        space.display(),
        out.display(),
        cache.display()
    );
    let run = Command::new("sh").arg("-c").arg(&cmd).current_dir(repo()).output().unwrap();
    let journal = out.join("bench-search.journal.jsonl");
    assert_failed_cleanly(&run, &journal, &out, "file-size limit");
    assert!(text(&run.stderr).contains("--resume"));
    let kept = line_count(&journal);
    let resumed = explore(&space, &out, &cache).arg("--resume").output().unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert!(text(&resumed.stdout).contains(&format!("{kept} reused")), "{}", text(&resumed.stdout));

    // A full disk: a 160 KiB tmpfs holds the journal but not the whole report.
    let full = dir.join("full");
    mount_tmpfs(&full, "160k", false);
    let run = explore(&space, &full, &cache).output().unwrap();
    let failed_on = full.join("bench-search.journal.jsonl");
    let stderr = text(&run.stderr);
    unmount(&full);
    assert_eq!(run.status.code(), Some(1), "full disk: {stderr}");
    assert!(stderr.contains("No space left on device") && stderr.contains(&full.display().to_string()), "{stderr}");
    let _ = failed_on;

    // A read-only cache that lacks the models: the first write names the folder.
    let ro = dir.join("ro-cache");
    mount_tmpfs(&ro, "1m", true);
    let run = explore(&space, &dir.join("ro-out"), &ro).output().unwrap();
    unmount(&ro);
    assert_failed_cleanly(&run, &ro, &dir.join("ro-out"), "read-only cache");
    assert!(text(&run.stderr).contains("Read-only file system"), "{}", text(&run.stderr));

    // An output folder that cannot be created (a regular file is in the way).
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "a file").unwrap();
    let run = explore(&space, &blocker.join("out"), &cache).output().unwrap();
    assert_failed_cleanly(&run, &blocker.join("out"), &blocker, "unwritable output folder");

    // A data file that does not exist: bad input (exit 2), named.
    let missing = dir.join("absent.tsv");
    let text_space = std::fs::read_to_string(&space).unwrap().replacen(
        "  synthetic_fallback: true\n",
        &format!("  synthetic_fallback: false\n  path: {}\n", missing.display()),
        1,
    );
    let no_data = dir.join("no-data.yaml");
    std::fs::write(&no_data, text_space).unwrap();
    let run = explore(&no_data, &dir.join("no-data-out"), &dir.join("empty-cache")).output().unwrap();
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "missing data file: {stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(!dir.join("no-data-out").exists() || run_folders(&dir.join("no-data-out")).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_load_that_saturates_every_point_and_an_sla_nobody_meets_are_reported_as_such() {
    let dir = temp_dir("edges");
    let space = small_space(&dir, 2000);
    let cache = dir.join("cache");
    let base = std::fs::read_to_string(&space).unwrap();
    for (tag, from, to) in
        [("saturated", "qps: [500]", "qps: [10000000]"), ("no-sla", "target_ms: 10", "target_ms: 0.0001")]
    {
        let path = dir.join(format!("{tag}.yaml"));
        assert!(base.contains(from));
        std::fs::write(&path, base.replacen(from, to, 1)).unwrap();
        let out = dir.join(tag);
        let run = explore(&path, &out, &cache).output().unwrap();
        assert_eq!(run.status.code(), Some(0), "{tag}: {}", text(&run.stderr));
        assert!(
            text(&run.stdout).contains("2192 points (2192 evaluated, 0 reused), 0 feasible"),
            "{}",
            text(&run.stdout)
        );
        let dir = &run_folders(&out)[0];
        let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
        assert!(
            md.contains("**No point meets the SLA") && md.contains("No configuration meets the SLA"),
            "{tag}:\n{md}"
        );
        let points = std::fs::read_to_string(dir.join("points.csv")).unwrap();
        assert_eq!(points.lines().count(), 2193);
        if tag == "saturated" {
            assert!(md.contains("saturated at the reference load of … queries/s"), "{md}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nan_infinite_and_negative_numbers_in_profiles_and_service_files_are_refused_with_file_and_row() {
    let dir = temp_dir("numbers");
    // A calibration file: a sample that is NaN, on line 3.
    let calib = dir.join("calib");
    std::fs::create_dir_all(&calib).unwrap();
    let header = recpipe_dse::measure::calib_cache::COLUMNS.join(",");
    // Rows with a matching check (as a person writing a file by hand would compute it), so the values are read.
    let row = |samples: &str| {
        let fields = format!("cpu,2,24,none,2.11,rm-small,a,4096,512,cpu,1,1,2,1,0,1,1,1,1,1,,{samples}");
        let cells: Vec<String> = fields.split(',').map(str::to_string).collect();
        format!("{fields},{}\n", recpipe_dse::measure::calib_cache::row_check(&cells))
    };
    for (bad, shows) in [("0.5;NaN", "NaN"), ("0.5;inf", "inf"), ("-0.5;0.5", "-0.5")] {
        let file = calib.join("latency-test.csv");
        std::fs::write(&file, format!("{header}\n{}{}", row("0.4;0.5"), row(bad))).unwrap();
        let e = recpipe_dse::measure::calib_cache::CalibCache::load(&calib).unwrap_err().to_string();
        assert!(e.contains("latency-test.csv") && e.contains(":3") && e.contains(shows), "{bad}: {e}");
    }
    // A service-time file of a pipeline: the bad number's line is named, exit code 2.
    for (bad, line) in [("0.5\n0.6\nnan\n", 3), ("0.5, -1\n", 1), ("inf\n", 1)] {
        std::fs::write(dir.join("service.txt"), bad).unwrap();
        let pipeline = dir.join("p.yaml");
        std::fs::write(
            &pipeline,
            "name: p\nseed: 1\nqueries: 100\narrival: {process: poisson, qps: 100}\nstages:\n  - {servers: 1, \
             service: {kind: empirical, file: service.txt}}\nsla: {percentile: 95, target_ms: 5}\n",
        )
        .unwrap();
        let run = bin().arg("simulate").arg(&pipeline).output().unwrap();
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("p.yaml") && stderr.contains(&format!("line {line}")), "{bad:?}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn train_killed_at_random_moments_leaves_only_whole_sealed_files() {
    let dir = temp_dir("train-kill");
    let space = small_space(&dir, 300);
    let cache = dir.join("cache");
    let train = || {
        let mut c = bin();
        c.arg("train").arg(&space).arg("--cache-dir").arg(&cache).stdout(Stdio::null()).stderr(Stdio::piped());
        c
    };
    let mut moments = SplitMix(7);
    for _ in 0..6 {
        let mut child = train().spawn().unwrap();
        std::thread::sleep(Duration::from_secs_f64(2.5 * moments.unit()));
        let _ = child.kill();
        let _ = child.wait();
    }
    let done = train().output().unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    let mut sealed = 0;
    for sub in ["checkpoints", "scores"] {
        for entry in std::fs::read_dir(cache.join(sub)).unwrap().filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(!name.contains(".tmp"), "temporary file left: {name}");
            if !name.ends_with(".check") {
                assert!(read_sealed(&entry.path()).unwrap().is_some(), "{name}");
                sealed += 1;
            }
        }
    }
    // Three models: a checkpoint and a training summary each (scores are written by explore).
    assert!(sealed >= 6, "{sealed} sealed files");
    let _ = std::fs::remove_dir_all(&dir);
}
