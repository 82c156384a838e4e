//! The peers of `bench search --suite --peers` are the real libraries from PyPI (Optuna 5, pymoo 0.6):
//! `bench/setup-peers.sh` installs them into `.deps/peers`, and one generated space runs through our
//! strategies and all three peers end to end. Where the installation fails, the test fails with the reason.
use crate::support::{bin, repo};
use std::process::Command;

#[test]
fn the_suite_runs_our_strategies_and_the_optuna_and_pymoo_peers_on_one_generated_space() {
    let setup = Command::new(repo().join("bench/setup-peers.sh")).output().expect("bench/setup-peers.sh runs");
    assert!(
        setup.status.success(),
        "bench/setup-peers.sh could not install Optuna and pymoo (needs python3 with venv and PyPI):\n{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let cache = std::env::temp_dir().join(format!("recpipe-peers-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let out = bin()
        .args(["bench", "search", "--suite", "--spaces", "1", "--seeds", "1", "--fractions", "0.05,0.1", "--peers"])
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for who in ["annealing", "annealing-pareto", "nsga2", "optuna-nsga2", "optuna-tpe", "pymoo-nsga2"] {
        assert!(stdout.contains(&format!("| {who} |")), "no row for {who}:\n{stdout}");
    }
    let results = std::fs::read_to_string(cache.join("bench-search/suite-1/results.csv")).expect("results.csv");
    let rows: Vec<Vec<&str>> = results.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6 * 2, "six searchers × two fractions:\n{results}");
    for r in &rows {
        let ratio: f64 = r[5].parse().expect("a ratio");
        assert!((0.0..=1.0 + 1e-9).contains(&ratio), "{r:?}");
    }
    // Every peer file holds distinct point ids of the space.
    let peers = std::fs::read_dir(cache.join("bench-search/suite-1/peers"))
        .expect("exported tables")
        .map(|e| e.expect("entry").path())
        .find(|p| p.is_dir())
        .expect("one exported space");
    let total: u64 = {
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(peers.join("space.json")).unwrap()).unwrap();
        let t = meta["templates"].as_array().unwrap().last().unwrap().clone();
        t["offset"].as_u64().unwrap()
            + t["radices"].as_array().unwrap().iter().map(|r| r.as_u64().unwrap()).product::<u64>()
    };
    for peer in ["optuna-nsga2", "optuna-tpe", "pymoo-nsga2"] {
        let text = std::fs::read_to_string(peers.join(format!("peer-{peer}-seed1.ids"))).unwrap();
        let ids: Vec<u64> = text.lines().filter(|l| !l.starts_with('#')).map(|l| l.parse().unwrap()).collect();
        let distinct: std::collections::HashSet<u64> = ids.iter().copied().collect();
        assert!(
            !ids.is_empty() && distinct.len() == ids.len(),
            "{peer}: {} ids, {} distinct",
            ids.len(),
            distinct.len()
        );
        assert!(ids.iter().all(|&i| i < total), "{peer}: an id outside the space");
    }
    let _ = std::fs::remove_dir_all(&cache);
}
