//! `recpipe-dse fit-synthetic [space.yaml]`: fit the synthetic Criteo stand-in's signal, click rate and tail
//! so that a DLRM trained on it reaches the published quality of RecPipe's Fig. 3 (error rate and
//! RecPipe-NDCG@64 over 256…4096 items), see `data::synthetic_fit`.
//!
//! Each round trains the model on the current generator (cached checkpoints are reused), prints its
//! residuals against the targets, sets the surrogate's student noise from the trained AUC, and refits the
//! knobs on the surrogate. `--direct-iters N` then refines by Nelder–Mead on trained models (each evaluation
//! trains once). Every trained evaluation is kept and the best trained one is the result, printed as the
//! `dataset.synthetic:` section that selects it: the surrogate only proposes points. Progress goes to stderr.

use super::CliError;
use crate::data::synthetic::SyntheticConfig;
use crate::data::synthetic_fit::{self, FitKnobs, QualityTargets, Residual, SurrogateSettings};
use crate::quality::{self, PrepareOptions};
use crate::spec::{self, Space, SyntheticSpec};
use anyhow::anyhow;
use std::path::PathBuf;

/// Arguments of `fit-synthetic`.
#[derive(Debug, clap::Args)]
pub struct FitSyntheticArgs {
    /// Design space whose data set and zoo are used (a Criteo space on synthetic data).
    #[arg(default_value = "spaces/paper/spaces/fig3.yaml")]
    pub space: PathBuf,
    /// Published targets: `model,items,ndcg@4,…,ndcg@64,error` rows.
    #[arg(long, default_value = "spaces/paper/fig3-published.csv")]
    pub targets: PathBuf,
    /// Zoo model fitted (its rows of the targets file).
    #[arg(long, default_value = "rm-small")]
    pub model: String,
    /// Train-then-refit rounds on the surrogate (0: none, start the direct refinement at the base knobs).
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Nelder–Mead iterations per round.
    #[arg(long, default_value_t = 60)]
    pub max_iters: u64,
    /// Query windows the surrogate evaluates.
    #[arg(long, default_value_t = 32)]
    pub queries: usize,
    /// After the surrogate rounds, refine by Nelder–Mead on models trained at every evaluated point (at most
    /// this many iterations; 0 = no refinement). Each evaluation trains the model once (cached).
    #[arg(long, default_value_t = 0)]
    pub direct_iters: u64,
    /// Root of the checkpoint and score caches.
    #[arg(long, default_value = ".cache", env = super::CACHE_ENV)]
    pub cache_dir: PathBuf,
}

/// The targets of `model` from the published file: NDCG@64 per items, the error at the largest items.
pub fn read_targets(path: &std::path::Path, model: &str) -> Result<QualityTargets, CliError> {
    let rows = crate::reproduce::quality::read_model_rows(path).map_err(|issues| {
        CliError::input(anyhow!("{}", issues.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("\n")))
    })?;
    let mine: Vec<_> = rows.iter().filter(|r| r.model == model).collect();
    let Some(largest) = mine.iter().max_by_key(|r| r.items) else {
        return Err(CliError::input(anyhow!("{}: no rows for model '{model}'", path.display())));
    };
    Ok(QualityTargets { error: largest.error, ndcg: mine.iter().map(|r| (r.items, r.ndcg[4])).collect() })
}

/// The `dataset.synthetic:` overrides that select `c`.
pub fn spec_of(c: &SyntheticConfig) -> SyntheticSpec {
    SyntheticSpec {
        click_rate: Some(c.click_rate),
        informative_ids: c.informative_ids,
        interaction: Some(c.mix.interaction),
        dense: Some(c.mix.dense),
        first_order: Some(c.mix.first_order),
        noise: Some(c.mix.noise),
        tail: Some(c.tail),
    }
}

/// Train `model` on `space`'s data and return its residuals against `targets` and its test AUC.
fn trained(
    space: &Space,
    model: usize,
    targets: &QualityTargets,
    cache_dir: &std::path::Path,
) -> Result<(Vec<Residual>, f64), CliError> {
    let opts = PrepareOptions::new(cache_dir, super::progress::terminal());
    let cache = quality::prepare_models(space, &[model], &opts).map_err(CliError::runtime)?;
    let mm = cache.model_metrics(model);
    let auc = mm.get("auc").copied().unwrap_or(0.5);
    let mut out = vec![Residual {
        name: "error".into(),
        target: targets.error,
        value: mm.get("error").copied().unwrap_or(f64::NAN),
    }];
    for &(items, t) in &targets.ndcg {
        let q = cache.cascade(&[(model, items)]);
        let value = q.metrics.get(&format!("recpipe_ndcg@{}", synthetic_fit::TOP_K)).copied().unwrap_or(f64::NAN);
        out.push(Residual { name: format!("ndcg@64 {items}"), target: t, value });
    }
    Ok((out, auc))
}

fn print_residuals(title: &str, r: &[Residual]) {
    eprintln!("{title}");
    for x in r {
        eprintln!(
            "  {:<14} target {:>8.4}  value {:>8.4}  residual {:>+8.4}",
            x.name,
            x.target,
            x.value,
            x.value - x.target
        );
    }
    eprintln!("  objective {:.6}", synthetic_fit::objective(r));
}

/// Run `fit-synthetic`.
pub fn run(args: &FitSyntheticArgs) -> Result<(), CliError> {
    let mut space = spec::load_space(&args.space).map_err(|e| CliError::input(anyhow!("invalid design space\n{e}")))?;
    if !space.dataset.is_synthetic() {
        return Err(CliError::input(anyhow!(
            "{}: dataset is not the synthetic stand-in (a real file is present)",
            space.source
        )));
    }
    let model = space
        .zoo
        .iter()
        .position(|m| m.name == args.model)
        .ok_or_else(|| CliError::input(anyhow!("--model: no zoo model '{}' in {}", args.model, space.source)))?;
    let targets = read_targets(&args.targets, &args.model)?;
    let t = &space.training;
    let cap = space.dataset.max_ind_range.map_or(t.table_rows_cap, |m| m.min(t.table_rows_cap));
    let train_rows = t.train_rows.unwrap_or(quality::DEFAULT_SYNTHETIC_TRAIN_ROWS);
    let base = SyntheticConfig::for_dataset(&space.dataset, Some(cap));
    let window = targets.ndcg.iter().map(|(m, _)| *m as usize).max().unwrap_or(4096);
    let mut settings = SurrogateSettings {
        queries: args.queries.max(1),
        window,
        first_row: train_rows + t.validation_rows,
        student_noise: 0.0,
        seed: space.dataset.seed,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    // Every trained evaluation is kept: the result is the best *trained* point, so a surrogate step that
    // does not carry over to a trained model never makes the fit worse than its start.
    let best: std::cell::RefCell<Option<(FitKnobs, f64)>> = std::cell::RefCell::new(None);
    let train_at = |sp: &mut Space, k: FitKnobs, title: &str| -> Result<(Vec<Residual>, f64), CliError> {
        sp.dataset.synthetic = spec_of(&k.apply(&base));
        let (r, auc) = trained(sp, model, &targets, &args.cache_dir)?;
        print_residuals(&format!("{title}: trained {} at {k:?} (test AUC {auc:.4})", args.model), &r);
        let cost = synthetic_fit::objective(&r);
        let mut b = best.borrow_mut();
        if b.is_none_or(|(_, c)| cost < c) {
            *b = Some((k, cost));
        }
        Ok((r, auc))
    };
    let mut knobs = FitKnobs::of(&base);
    for round in 1..=args.rounds {
        let (_, auc) = train_at(&mut space, knobs, &format!("round {round}"))?;
        let config = knobs.apply(&base);
        settings.student_noise = synthetic_fit::student_noise_for_auc(&config, &settings, auc);
        eprintln!("round {round}: student noise ρ = {:.4}", settings.student_noise);
        let fit = synthetic_fit::fit(&base, knobs, &targets, &settings, args.max_iters)
            .map_err(|e| CliError::runtime(anyhow!(e)))?;
        print_residuals(
            &format!("round {round}: surrogate fit {:?} ({} evaluations)", fit.knobs, fit.evaluations),
            &fit.residuals,
        );
        knobs = fit.knobs;
    }
    if args.direct_iters > 0 {
        let failure = std::cell::RefCell::new(None);
        let space_cell = std::cell::RefCell::new(space.clone());
        let (_, evaluations) = synthetic_fit::fit_with(knobs, synthetic_fit::NARROW_STEPS, args.direct_iters, |k| {
            match train_at(&mut space_cell.borrow_mut(), k, "direct") {
                Ok((r, _)) => r,
                Err(e) => {
                    failure.borrow_mut().get_or_insert(e);
                    vec![Residual { name: "error".into(), target: 0.0, value: f64::NAN }]
                }
            }
        })
        .map_err(|e| CliError::runtime(anyhow!(e)))?;
        if let Some(e) = failure.into_inner() {
            return Err(e);
        }
        eprintln!("direct refinement: {evaluations} trained evaluations");
    } else {
        train_at(&mut space, knobs, "final")?;
    }
    let (knobs, cost) = best.into_inner().expect("at least one trained evaluation");
    eprintln!("best trained point: {knobs:?} (objective {cost:.6})");
    let config = knobs.apply(&base);
    let s = spec_of(&config);
    println!("dataset:");
    println!("  synthetic:");
    println!("    click_rate: {:.5}", s.click_rate.unwrap_or_default());
    println!("    tail: {:.5}", s.tail.unwrap_or_default());
    println!("    interaction: {:.5}", s.interaction.unwrap_or_default());
    println!("    dense: {:.5}", s.dense.unwrap_or_default());
    println!("    first_order: {:.5}", s.first_order.unwrap_or_default());
    println!("    noise: {:.5}", s.noise.unwrap_or_default());
    if let Some(n) = s.informative_ids {
        println!("    informative_ids: {n}");
    }
    Ok(())
}
