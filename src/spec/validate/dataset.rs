//! The `dataset:` section (kind, paths, protocol, the synthetic Criteo stand-in's overrides).

use super::*;

pub(super) fn dataset(cx: &mut Checker, d: &RawDataset, master_seed: u64) -> Option<DatasetSpec> {
    let kind = cx.choice(&d.kind, "dataset.kind", "data-set kind", None);
    let eval_queries = cx.opt_int(&d.eval_queries, "dataset.eval_queries", 1, 1000);
    let seed = cx.opt_int(&d.seed, "dataset.seed", 0, master_seed);
    let synthetic_fallback = d.synthetic_fallback.unwrap_or(true);
    let max_ind_range = match &d.max_ind_range {
        Some(v) => cx.int_at_least(v, "dataset.max_ind_range", 1).map(Some),
        None => Some(None),
    };
    let kind = kind?;
    let path_exists = d.path.as_ref().is_some_and(|p| cx.file_exists(&p.value));
    let protocol = match (kind, &d.protocol) {
        (DatasetKind::CriteoKaggle, None) => Some(Protocol::Window),
        (DatasetKind::CriteoKaggle, Some(p)) if p.value == "window" => Some(Protocol::Window),
        (DatasetKind::CriteoKaggle, Some(p)) => {
            cx.err(
                p,
                "dataset.protocol",
                format!("unknown protocol '{}' for criteo-kaggle (expected window)", p.value),
            );
            None
        }
        (DatasetKind::Movielens, None) => Some(Protocol::LooFull),
        (DatasetKind::Movielens, Some(p)) => match p.value.as_str() {
            "loo-full" => Some(Protocol::LooFull),
            "loo-sampled" => {
                let n = cx.opt_int(&d.sampled_negatives, "dataset.sampled_negatives", 1, 999);
                n.map(|n| Protocol::LooSampled { negatives: n as u32 })
            }
            other => {
                cx.err(p, "dataset.protocol", format!("unknown protocol '{other}' (expected loo-full|loo-sampled)"));
                None
            }
        },
    };
    if d.sampled_negatives.is_some() && !matches!(protocol, Some(Protocol::LooSampled { .. }) | None) {
        cx.issues.push(None, "dataset.sampled_negatives", "only allowed with protocol: loo-sampled");
    }
    let candidates_per_query = match (kind, protocol) {
        (DatasetKind::CriteoKaggle, _) => match &d.candidates_per_query {
            Some(c) => cx.int_at_least(c, "dataset.candidates_per_query", 1).map(|c| Some(c as u32)),
            None => {
                cx.missing("dataset.candidates_per_query", "impressions per query window, e.g. 4096");
                None
            }
        },
        (DatasetKind::Movielens, Some(Protocol::LooSampled { negatives })) => {
            if let Some(c) = &d.candidates_per_query {
                cx.err(
                    c,
                    "dataset.candidates_per_query",
                    "not allowed for MovieLens: loo-sampled has sampled_negatives + 1 candidates".into(),
                );
            }
            Some(Some(negatives + 1))
        }
        (DatasetKind::Movielens, _) => {
            if let Some(c) = &d.candidates_per_query {
                cx.err(
                    c,
                    "dataset.candidates_per_query",
                    format!(
                        "not allowed with protocol loo-full (every non-interacted item is a candidate), got {}",
                        c.value
                    ),
                );
            }
            Some(None)
        }
    };
    match (kind, &d.path) {
        (DatasetKind::Movielens, None) => {
            cx.missing("dataset.path", "directory holding the MovieLens files, e.g. data/ml-100k")
        }
        (DatasetKind::Movielens, Some(p)) if !path_exists => cx.err(
            p,
            "dataset.path",
            format!("MovieLens data not found at '{}' (run ./setup.sh to fetch MovieLens-100K)", p.value),
        ),
        (DatasetKind::CriteoKaggle, Some(p)) if !path_exists && !synthetic_fallback => {
            cx.err(p, "dataset.path", format!("Criteo file '{}' not found and synthetic_fallback is false", p.value))
        }
        (DatasetKind::CriteoKaggle, None) if !synthetic_fallback => {
            cx.missing("dataset.path", "Criteo train.txt, or set synthetic_fallback: true")
        }
        _ => {}
    }
    if kind == DatasetKind::Movielens && d.max_ind_range.is_some() {
        cx.issues.push(None, "dataset.max_ind_range", "only allowed for criteo-kaggle");
    }
    if kind == DatasetKind::Movielens && d.synthetic.is_some() {
        cx.issues.push(None, "dataset.synthetic", "only allowed for criteo-kaggle");
    }
    let synthetic = d.synthetic.as_ref().map_or(Some(SyntheticSpec::default()), |raw| synthetic_spec(cx, raw));
    Some(DatasetSpec {
        kind,
        path: d.path.as_ref().map(|p| p.value.clone()),
        path_exists,
        synthetic_fallback,
        eval_queries: eval_queries? as u32,
        candidates_per_query: candidates_per_query?,
        protocol: protocol?,
        max_ind_range: max_ind_range?,
        seed: seed?,
        synthetic: synthetic?,
    })
}

/// The `dataset.synthetic:` section: a click rate in (0, 1), an informative-id count ≥ 1, and non-negative
/// part scales.
pub(super) fn synthetic_spec(cx: &mut Checker, raw: &RawSynthetic) -> Option<SyntheticSpec> {
    let mut ok = true;
    let click_rate = raw.click_rate.as_ref().and_then(|v| {
        let fine = v.value.is_finite() && v.value > 0.0 && v.value < 1.0;
        if !fine {
            cx.err(v, "dataset.synthetic.click_rate", format!("must lie strictly between 0 and 1, got {}", v.value));
            ok = false;
        }
        fine.then_some(v.value)
    });
    let informative_ids = match &raw.informative_ids {
        Some(v) if v.value > i64::from(u32::MAX) => {
            cx.err(v, "dataset.synthetic.informative_ids", format!("too large, got {}", v.value));
            ok = false;
            None
        }
        Some(v) => {
            let n = cx.int_at_least(v, "dataset.synthetic.informative_ids", 1);
            ok &= n.is_some();
            n.map(|n| n as u32)
        }
        None => None,
    };
    let mut scale = |v: &Option<Sp<f64>>, field: &str| {
        v.as_ref().and_then(|v| {
            let fine = v.value.is_finite() && v.value >= 0.0;
            if !fine {
                let path = format!("dataset.synthetic.{field}");
                cx.err(v, &path, format!("must be a non-negative number of logits, got {}", v.value));
                ok = false;
            }
            fine.then_some(v.value)
        })
    };
    let spec = SyntheticSpec {
        click_rate,
        informative_ids,
        interaction: scale(&raw.interaction, "interaction"),
        dense: scale(&raw.dense, "dense"),
        first_order: scale(&raw.first_order, "first_order"),
        noise: scale(&raw.noise, "noise"),
        tail: scale(&raw.tail, "tail"),
    };
    ok.then_some(spec)
}
