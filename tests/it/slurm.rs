//! A sharded exploration on a real one-node Slurm cluster (Debian's munge, slurmctld and slurmd, brought up
//! by `.ci/slurm-up` as root): `slurm/submit.sh` chains prepare, a 3-task job array and the `afterok` merge;
//! one shard is killed half-way and resubmitted alone, and the merged `points.csv` must equal the unsharded
//! run's byte for byte with the killed shard's finished points reused, not evaluated again.
//! Where Slurm cannot start, the test fails with `.ci/slurm-up`'s reason.

use crate::support::{bin, repo, small_space};
use recpipe_dse::explore::journal::parse_line;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Bring the cluster up (idempotent), or fail with the script's reason.
fn slurm_up() {
    let out = Command::new(repo().join(".ci/slurm-up")).output().expect("run .ci/slurm-up");
    assert!(
        out.status.success(),
        "Slurm could not be started by .ci/slurm-up ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Everything the jobs' logs say (for failure messages).
fn logs(dir: &Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let body = std::fs::read_to_string(e.path()).unwrap_or_default();
        let tail: Vec<&str> = body.lines().rev().take(6).collect();
        text += &format!("--- {}\n{}\n", e.path().display(), tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    text
}

/// Wait until none of `jobs` is queued or running.
fn wait_for(jobs: &[&str], log_dir: &Path) {
    let start = Instant::now();
    loop {
        let queued = sh(Command::new("squeue").args(["-h", "-o", "%i %T %r", "-j", &jobs.join(",")]));
        if queued.is_empty() {
            return;
        }
        assert!(
            !queued.contains("DependencyNeverSatisfied"),
            "a job's dependency failed:\n{queued}\n{}",
            logs(log_dir)
        );
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "jobs still queued after 600 s:\n{queued}\n{}",
            logs(log_dir)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn state_of(job: &str) -> String {
    let text = sh(Command::new("scontrol").args(["show", "job", job]));
    text.split_whitespace().find_map(|w| w.strip_prefix("JobState=")).unwrap_or("?").to_string()
}

fn verified_lines(journal: &Path) -> usize {
    std::fs::read_to_string(journal).map_or(0, |t| t.lines().filter(|l| parse_line(l).is_some()).count())
}

fn newest_points(out: &Path) -> String {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(out).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    std::fs::read_to_string(dirs.last().expect("a report folder").join("points.csv")).unwrap()
}

#[test]
fn slurm_array_with_a_killed_and_resubmitted_shard_merges_to_the_unsharded_run() {
    slurm_up();
    let dir = std::env::temp_dir().join(format!("recpipe-slurm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // 100,000 simulated queries per load: a shard takes seconds, long enough to be killed half-way.
    let space = small_space(&dir, 100_000);
    let (cache, whole, sharded, log_dir) =
        (dir.join("cache"), dir.join("whole"), dir.join("sharded"), dir.join("logs"));
    let binary = env!("CARGO_BIN_EXE_recpipe-dse");

    let unsharded =
        bin().arg("explore").arg(&space).arg("--out").arg(&whole).arg("--cache-dir").arg(&cache).output().unwrap();
    assert!(unsharded.status.success(), "{}", String::from_utf8_lossy(&unsharded.stderr));

    let ids = sh(Command::new(repo().join("slurm/submit.sh"))
        .current_dir(repo())
        .env("RECPIPE_DSE", binary)
        .arg(&space)
        .arg("3")
        .arg("--out")
        .arg(&sharded)
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--logs")
        .arg(&log_dir));
    let ids: Vec<&str> = ids.split_whitespace().collect();
    let [_prepare, array, merge] = ids[..] else { panic!("submit.sh printed '{ids:?}', not three job ids") };

    // Kill shard 1 once it has journaled some points but not all.
    let journal1 = sharded.join("bench-search.shard-1-of-3.journal.jsonl");
    let task1 = format!("{array}_1");
    let start = Instant::now();
    while verified_lines(&journal1) < 40 {
        assert!(start.elapsed() < Duration::from_secs(300), "shard 1 journaled nothing in 300 s:\n{}", logs(&log_dir));
        std::thread::sleep(Duration::from_millis(20));
    }
    sh(Command::new("scancel").args(["--full", "--signal=KILL", &task1]));
    let start = Instant::now();
    while ["RUNNING", "COMPLETING", "PENDING"].contains(&state_of(&task1).as_str()) {
        assert!(start.elapsed() < Duration::from_secs(60), "shard 1 survived SIGKILL");
        std::thread::sleep(Duration::from_millis(100));
    }
    let kept = verified_lines(&journal1);
    assert!((40..768).contains(&kept), "shard 1 was killed half-way: {kept} of 768 points journaled");
    let state1 = std::fs::read_to_string(sharded.join("bench-search.shard-1-of-3.json")).unwrap();
    assert!(state1.contains("\"finished\": false"), "{state1}");
    // The merge waits for every shard to succeed: it never runs; cancel it and let the other shards end.
    let start = Instant::now();
    while state_of(merge) == "PENDING"
        && !sh(Command::new("squeue").args(["-h", "-o", "%r", "-j", merge])).contains("DependencyNeverSatisfied")
    {
        assert!(start.elapsed() < Duration::from_secs(600), "merge neither ran nor was held:\n{}", logs(&log_dir));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_ne!(state_of(merge), "COMPLETED", "the merge ran although shard 1 was killed");
    sh(Command::new("scancel").arg(merge));
    let array_tasks = [format!("{array}_0"), format!("{array}_2")];
    wait_for(&[&array_tasks[0], &array_tasks[1]], &log_dir);

    // Resubmit shard 1 alone, then the merge after it.
    let cache_s = cache.to_str().unwrap();
    let sharded_s = sharded.to_str().unwrap();
    let space_s = space.to_str().unwrap();
    let output = format!("--output={}/%x-%A_%a.out", log_dir.display());
    let errors = format!("--error={}/%x-%A_%a.err", log_dir.display());
    let again = sh(Command::new("sbatch")
        .current_dir(repo())
        .env("RECPIPE_DSE", binary)
        .args(["--parsable", "--array=1", &output, &errors])
        .arg(repo().join("slurm/explore-array.sbatch"))
        .args([space_s, "3", "--cache-dir", cache_s, "--out", sharded_s, "--format", "json"]));
    let again = again.split(';').next().unwrap().to_string();
    let merge_output = format!("--output={}/%x-%j.out", log_dir.display());
    let merged = sh(Command::new("sbatch")
        .current_dir(repo())
        .env("RECPIPE_DSE", binary)
        .args(["--parsable", &format!("--dependency=afterok:{again}"), &merge_output])
        .arg(repo().join("slurm/merge.sbatch"))
        .args([space_s, "--cache-dir", cache_s, "--out", sharded_s]));
    let merged = merged.split(';').next().unwrap().to_string();
    wait_for(&[&again, &merged], &log_dir);
    assert_eq!(state_of(&merged), "COMPLETED", "{}", logs(&log_dir));

    let resumed = std::fs::read_to_string(log_dir.join(format!("recpipe-dse-shard-{again}_1.out"))).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&resumed).unwrap_or_else(|e| panic!("{e}: {resumed}"));
    assert_eq!(summary["reused"].as_u64(), Some(kept as u64), "every point journaled before the kill is reused");
    assert_eq!(summary["points"].as_u64(), Some(768));
    assert_eq!(summary["finished"].as_bool(), Some(true));
    assert_eq!(newest_points(&sharded), newest_points(&whole), "merged points.csv equals the unsharded run's");
    let _ = std::fs::remove_dir_all(&dir);
}
