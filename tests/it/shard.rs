//! Sharded exploration without a scheduler: `prepare`, `explore --shard I/N` and `merge` on the small
//! bench-search space (tiny models): merged equals unsharded byte for byte, islands merge to distinct points,
//! and every way a shard set can be wrong is refused with a message naming it.

use crate::support::{bin, small_space};
use recpipe_dse::cli::output::{ExploreSummary, MergeSummary, PrepareSummary, ShardSummary};
use serde::{de::DeserializeOwned, Serialize};
use std::path::{Path, PathBuf};
use std::process::Output;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("recpipe-shard-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], dir: &Path) -> Output {
    let mut c = bin();
    c.args(args).arg("--cache-dir").arg(dir.join("cache"));
    c.output().unwrap()
}

fn ok(out: Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what} failed ({}): {stderr}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: Output, code: i32, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "'{n}' not in: {stderr}");
    }
}

/// A summary printed by `--format json`, checked to read back into its type `T` without losing a field.
fn json<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(stdout: &str) -> serde_json::Value {
    let typed: T = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let doc: serde_json::Value = serde_json::from_str(stdout).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), doc, "fields lost in the round trip");
    doc
}

/// points.csv of the report folder a summary names.
fn points(summary: &serde_json::Value) -> String {
    std::fs::read_to_string(Path::new(summary["report_dir"].as_str().unwrap()).join("points.csv")).unwrap()
}

#[test]
fn three_shards_merge_to_the_unsharded_run_and_bad_shard_sets_are_refused() {
    let dir = temp_dir("exhaustive");
    let space = small_space(&dir, 300);
    let s = space.to_str().unwrap();
    let (whole, sharded) = (dir.join("whole"), dir.join("sharded"));
    let (whole, sharded) = (whole.to_str().unwrap(), sharded.to_str().unwrap());

    // A shard never trains: without `prepare` it stops, naming what is missing and what to run.
    refused(run(&["explore", s, "--out", sharded, "--shard", "0/3"], &dir), 2, &["no cached scores", "prepare"]);
    assert!(!Path::new(sharded).join("bench-search.shard-0-of-3.journal.jsonl").exists());

    let prepared = json::<PrepareSummary>(&ok(run(&["prepare", s, "--format", "json"], &dir), "prepare"));
    let unsharded =
        json::<ExploreSummary>(&ok(run(&["explore", s, "--out", whole, "--format", "json"], &dir), "explore"));
    assert_eq!(prepared["fingerprint"], unsharded["fingerprint"], "prepare and explore evaluate the same inputs");
    let mut shard_points = 0;
    for i in 0..3 {
        let shard = format!("{i}/3");
        let out = json::<ShardSummary>(&ok(
            run(&["explore", s, "--out", sharded, "--shard", &shard, "--format", "json"], &dir),
            &format!("shard {shard}"),
        ));
        assert_eq!(
            (out["finished"].as_bool(), out["fingerprint"].clone()),
            (Some(true), prepared["fingerprint"].clone())
        );
        shard_points += out["points"].as_u64().unwrap();
        if i == 1 {
            // Merging an incomplete set names the missing shard.
            refused(run(&["merge", s, "--out", sharded], &dir), 2, &["2/3", "no journal"]);
        }
    }
    assert_eq!(shard_points, 2192, "the shards cover the space once");
    let merged = json::<MergeSummary>(&ok(run(&["merge", s, "--out", sharded, "--format", "json"], &dir), "merge"));
    assert_eq!((merged["points"].as_u64(), merged["duplicates"].as_u64()), (Some(2192), Some(0)));
    assert_eq!(points(&merged), points(&unsharded), "merged points.csv equals the unsharded one byte for byte");
    for key in ["feasible", "front", "hypervolume"] {
        assert_eq!(merged[key], unsharded[key], "{key}");
    }
    let html = std::fs::read_to_string(Path::new(merged["report_dir"].as_str().unwrap()).join("report.html")).unwrap();
    assert!(html.contains("3 shards, merged"));

    // A shard still running (its journal locked) is not merged.
    let journal1 = Path::new(sharded).join("bench-search.shard-1-of-3.journal.jsonl");
    {
        let _held = recpipe_dse::durable::FileLock::try_acquire(&journal1, "a test holding shard 1").unwrap();
        refused(
            run(&["merge", s, "--out", sharded], &dir),
            1,
            &["shard 1/3 is still running", "a test holding shard 1"],
        );
    }
    // An unfinished shard is refused unless --partial, which says so in the report.
    let state1 = Path::new(sharded).join("bench-search.shard-1-of-3.json");
    let state = std::fs::read_to_string(&state1).unwrap();
    std::fs::write(&state1, state.replace("\"finished\": true", "\"finished\": false")).unwrap();
    refused(run(&["merge", s, "--out", sharded], &dir), 2, &["1/3 did not finish", "--partial"]);
    let partial = json::<MergeSummary>(&ok(
        run(&["merge", s, "--out", sharded, "--partial", "--format", "json"], &dir),
        "partial",
    ));
    assert_eq!(partial["unfinished"], serde_json::json!([1]));
    std::fs::write(&state1, &state).unwrap();
    // Records of another evaluation (another fingerprint) in a shard journal are refused, naming the file.
    let other = dir.join("other");
    ok(
        run(&["explore", s, "--out", other.to_str().unwrap(), "--set", "load.queries=301", "--budget", "3000"], &dir),
        "other explore",
    );
    let foreign = std::fs::read_to_string(other.join("bench-search.journal.jsonl")).unwrap();
    let first_line = foreign.lines().next().unwrap();
    let mut text = std::fs::read_to_string(&journal1).unwrap();
    text.push_str(first_line);
    text.push('\n');
    std::fs::write(&journal1, text).unwrap();
    refused(
        run(&["merge", s, "--out", sharded], &dir),
        2,
        &["shard-1-of-3.journal.jsonl", "1 record(s) carry fingerprint"],
    );
    // The shard itself warns about them when it runs again (and reuses every point of its own).
    let again = run(&["explore", s, "--out", sharded, "--shard", "1/3", "--format", "json"], &dir);
    let stderr = String::from_utf8_lossy(&again.stderr).into_owned();
    assert!(stderr.contains("1 record(s) of another evaluation") && stderr.contains("merge"), "{stderr}");
    let again = json::<ShardSummary>(&ok(again, "shard 1 again"));
    assert_eq!((again["evaluated"].as_u64(), again["reused"].as_u64()), (Some(0), Some(768)));
    // Shards of a changed space are refused by their state files' fingerprint.
    refused(
        run(&["merge", s, "--out", sharded, "--set", "load.queries=301"], &dir),
        2,
        &["was evaluated with fingerprint", "run every shard again"],
    );
    // Bad --shard values exit 2 naming the flag.
    refused(run(&["explore", s, "--shard", "3/3"], &dir), 2, &["--shard", "not below"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn islands_run_with_their_own_seeds_and_merge_to_distinct_points() {
    let dir = temp_dir("islands");
    let space = small_space(&dir, 300);
    let s = space.to_str().unwrap();
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    ok(run(&["prepare", s], &dir), "prepare");
    let mut seeds = std::collections::HashSet::new();
    let mut total = 0;
    for i in 0..3 {
        let shard = format!("{i}/3");
        let args =
            ["explore", s, "--out", o, "--strategy", "nsga2", "--budget", "150", "--shard", &shard, "--format", "json"];
        let summary = json::<ShardSummary>(&ok(run(&args, &dir), "island"));
        assert_eq!(summary["budget"].as_u64(), Some(50), "each island has a third of the budget");
        seeds.insert(summary["seed"].as_u64().unwrap());
        total += summary["points"].as_u64().unwrap();
    }
    assert_eq!(seeds.len(), 3, "every island draws its own seed");
    let merged = json::<MergeSummary>(&ok(run(&["merge", s, "--out", o, "--format", "json"], &dir), "merge"));
    let (points, duplicates) = (merged["points"].as_u64().unwrap(), merged["duplicates"].as_u64().unwrap());
    assert_eq!(points + duplicates, total);
    let csv = std::fs::read_to_string(Path::new(merged["report_dir"].as_str().unwrap()).join("points.csv")).unwrap();
    let ids: std::collections::HashSet<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(ids.len() as u64, points, "each point once");
    let _ = std::fs::remove_dir_all(&dir);
}
