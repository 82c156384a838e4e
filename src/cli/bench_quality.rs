//! `recpipe-dse bench quality [space.yaml…]`: throughput of the quality engine.
//!
//! Per space (default: `spaces/kaggle.yaml` and `spaces/movielens.yaml`): (1) scoring throughput of every zoo
//! model the space uses, in candidates (items) per second, over the space's evaluation queries (Criteo: the
//! synthetic held-out rows with the quality models' capped tables; MovieLens: the leave-one-out full-ranking
//! candidates) — weights are freshly initialised, which does not change the cost of a forward pass; (2) cascade
//! evaluations per second: every cascade of the space evaluated from a score cache filled with those scores,
//! repeated for at least `--min-seconds`. Rates are per wall-clock second and per second of this thread's CPU
//! time (libtorch may use more threads for scoring; see `--threads`).
use super::CliError;
use crate::data::criteo::eval_windows;
use crate::data::movielens::{leave_one_out, read_movielens};
use crate::data::synthetic::{SyntheticConfig, SyntheticCriteo};
use crate::measure::tables::ModelTables;
use crate::model::{BuildOptions, CountData, Fit, Net, ZooModel};
use crate::quality::protocol::{self, CandidateRefs, EvalQueries, LooTarget};
use crate::quality::{self, ScoreCache};
use crate::spec::{self, DatasetKind, Space};
use crate::zoo::train::{score_pairs, score_rows};
use anyhow::anyhow;
use std::path::PathBuf;
use std::time::Instant;
use tch::nn::VarStore;
use tch::Device;

/// Arguments of `bench quality`.
#[derive(Debug, clap::Args)]
pub struct BenchQualityArgs {
    /// Design spaces to benchmark.
    #[arg(default_values = ["spaces/kaggle.yaml", "spaces/movielens.yaml"])]
    pub spaces: Vec<PathBuf>,
    /// Shortest timed run of the cascade loop, s.
    #[arg(long, default_value_t = 1.0)]
    pub min_seconds: f64,
    /// libtorch intra-op threads for scoring (0 = libtorch's default).
    #[arg(long, default_value_t = 0)]
    pub threads: i32,
}

/// Run the benchmark.
pub fn run(args: &BenchQualityArgs) -> Result<(), CliError> {
    if args.threads > 0 {
        tch::set_num_threads(args.threads);
    }
    println!("quality engine benchmark (libtorch threads: {})", tch::get_num_threads());
    for path in &args.spaces {
        let space = spec::load_space(path).map_err(|e| CliError::input(anyhow!("invalid design space\n{e}")))?;
        bench_space(&space, args.min_seconds)?;
    }
    Ok(())
}

fn bench_space(space: &Space, min_seconds: f64) -> Result<(), CliError> {
    tch::manual_seed(space.training.seed as i64);
    let names: Vec<String> = space.zoo.iter().map(|m| m.name.clone()).collect();
    let mut cache;
    println!("{}:", space.source);
    match space.dataset.kind {
        DatasetKind::CriteoKaggle => {
            let cap = space
                .dataset
                .max_ind_range
                .map_or(space.training.table_rows_cap, |m| m.min(space.training.table_rows_cap));
            let gen = SyntheticCriteo::new(SyntheticConfig::for_dataset(&space.dataset, Some(cap)));
            let c = space.dataset.candidates_per_query.unwrap_or(1) as usize;
            let rows = gen.rows_parallel(0..(c * space.dataset.eval_queries as usize) as u64, 2);
            let windows =
                eval_windows(rows.len(), c, space.dataset.eval_queries as usize).map_err(CliError::runtime)?;
            let queries = protocol::windows(&rows.labels, windows.iter().map(|w| w.rows().collect::<Vec<_>>()));
            println!(
                "  data: {} ({} queries × {c} candidates; tables capped at {cap} rows)",
                gen.describe(),
                queries.len()
            );
            cache = ScoreCache::new(queries, names, space.top_k, true, gen.describe());
            let all: Vec<usize> = match &cache.queries().refs {
                CandidateRefs::Rows(r) => r.iter().map(|&x| x as usize).collect(),
                CandidateRefs::UserItem { .. } => unreachable!("window queries"),
            };
            for m in quality::used_models(space) {
                let tables = ModelTables::Criteo { rows: rows.table_rows };
                let data = CountData::Criteo { train: &rows, test: &rows, rows: &all };
                let (scores, secs) =
                    score_untrained(&space.zoo[m], &tables, &data, |net| score_rows(net, &rows, &all))?;
                print_scoring(&space.zoo[m].name, scores.len(), secs);
                cache.set_scores(m, scores);
            }
        }
        DatasetKind::Movielens => {
            let data = read_movielens(std::path::Path::new(space.dataset.path.as_deref().unwrap_or(".")))
                .map_err(CliError::input)?;
            let split = leave_one_out(&data);
            let queries: EvalQueries =
                protocol::loo_full(&split, LooTarget::Test, space.dataset.eval_queries as usize, space.dataset.seed);
            println!(
                "  data: MovieLens, {} users × {} items, {} loo-full queries",
                split.users,
                split.items,
                queries.len()
            );
            cache = ScoreCache::new(queries, names, space.top_k, false, "movielens".into());
            let users = cache.queries().candidate_users().expect("user/item queries");
            let CandidateRefs::UserItem { items, .. } = cache.queries().refs.clone() else { unreachable!() };
            for m in quality::used_models(space) {
                let tables = ModelTables::MovieLens { users: split.users as u64, items: split.items as u64 };
                let data = CountData::Movielens { item_train_counts: split.item_train_counts(), items: &items };
                let (scores, secs) =
                    score_untrained(&space.zoo[m], &tables, &data, |net| score_pairs(net, &users, &items))?;
                print_scoring(&space.zoo[m].name, scores.len(), secs);
                cache.set_scores(m, scores);
            }
        }
    }
    let cascades = quality::cascades(space);
    let (wall0, cpu0) = (Instant::now(), super::bench::thread_cpu_s());
    let mut evaluations = 0u64;
    let mut checksum = 0.0;
    while wall0.elapsed().as_secs_f64() < min_seconds || evaluations == 0 {
        for c in &cascades {
            checksum += cache.cascade(c).metrics.values().next().copied().unwrap_or(0.0);
            evaluations += 1;
        }
    }
    let (wall, cpu) = (wall0.elapsed().as_secs_f64(), super::bench::thread_cpu_s() - cpu0);
    println!(
        "  cascades: {} distinct, {evaluations} evaluations over {} queries in {wall:.2} s: {:.1} evaluations/s \
         per wall second, {:.1} per CPU second (checksum {checksum:.3})",
        cascades.len(),
        cache.queries().len(),
        evaluations as f64 / wall,
        evaluations as f64 / cpu
    );
    Ok(())
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64())
}

fn print_scoring(name: &str, items: usize, secs: f64) {
    println!("  scoring {name:<16} {items:>9} items in {secs:>7.3} s: {:>12.0} items/s", items as f64 / secs);
}

/// Scores of one zoo model with untrained (seeded random) weights in its datatype, or from counts, and the
/// seconds scoring took (counting included for count-based models).
fn score_untrained(
    model: &ZooModel,
    tables: &ModelTables,
    counts: &CountData<'_>,
    score: impl FnOnce(&dyn Net) -> Vec<f32>,
) -> Result<(Vec<f32>, f64), CliError> {
    let no_network = || CliError::runtime(anyhow::anyhow!("model '{}' has no network on this data set", model.name));
    match model.arch.fit() {
        Fit::Counts => {
            let (scores, secs) = timed(|| model.arch.count_scores(counts));
            Ok((scores.ok_or_else(no_network)?, secs))
        }
        Fit::Gradient => {
            let mut vs = VarStore::new(Device::Cpu);
            let net = model.arch.build(&vs.root(), tables, BuildOptions::SERVING).ok_or_else(no_network)?;
            let net = crate::zoo::precision::convert(&mut vs, net, model.compute_datatype());
            Ok(timed(|| score(net.as_ref())))
        }
    }
}
