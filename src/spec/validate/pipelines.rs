//! The `pipelines:` section: depths with their per-stage model, item-count and backend choices.

use super::*;

pub(super) fn pipelines(
    cx: &mut Checker,
    raw: &[RawPipeline],
    zoo: &[ZooModel],
    groups: &BTreeMap<String, Vec<usize>>,
    dataset: Option<&DatasetSpec>,
    top_k: Option<u32>,
) -> Option<Vec<PipelineSpec>> {
    let mut out = Vec::new();
    let mut ok = true;
    let mut depths: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, p) in raw.iter().enumerate() {
        let path = format!("pipelines[{i}]");
        let Some(stages_sp) = &p.stages else {
            cx.missing(&format!("{path}.stages"), "number of stages, 1 to 8");
            ok = false;
            continue;
        };
        let stages = stages_sp.value;
        if !(1..=MAX_STAGES).contains(&stages) {
            cx.err(stages_sp, &format!("{path}.stages"), format!("must be between 1 and {MAX_STAGES}, got {stages}"));
            ok = false;
            continue;
        }
        if let Some(first) = depths.insert(stages as u64, i) {
            cx.err(
                stages_sp,
                &format!("{path}.stages"),
                format!("duplicate pipeline depth {stages} (also pipelines[{first}]); merge the entries"),
            );
            ok = false;
        }
        let k = stages as usize;
        // models: one list of zoo names per stage position
        let models = match &p.models {
            None => {
                cx.missing(&format!("{path}.models"), "per stage position, the list of allowed model names");
                None
            }
            Some(m) if m.len() != k => {
                cx.issues.push(
                    None,
                    format!("{path}.models"),
                    format!("must have one list per stage ({k}), got {}", m.len()),
                );
                None
            }
            Some(m) => {
                let mut per_stage = Vec::new();
                let mut good = true;
                for (s, choices) in m.iter().enumerate() {
                    if choices.is_empty() {
                        cx.issues.push(None, format!("{path}.models[{s}]"), "must name at least one model");
                        good = false;
                    }
                    let mut ids = Vec::new();
                    for (c, name) in choices.iter().enumerate() {
                        // A zoo model by name, or an entry name standing for all its variants.
                        let named: Option<Vec<usize>> = zoo
                            .iter()
                            .position(|z| z.name == name.value)
                            .map(|id| vec![id])
                            .or_else(|| groups.get(&name.value).cloned());
                        match named {
                            Some(named) if named.iter().any(|id| ids.contains(id)) => {
                                cx.err(
                                    name,
                                    &format!("{path}.models[{s}][{c}]"),
                                    format!("model '{}' listed twice", name.value),
                                );
                                good = false;
                            }
                            Some(named) => ids.extend(named),
                            None => {
                                let known: Vec<&str> = groups
                                    .keys()
                                    .map(String::as_str)
                                    .chain(zoo.iter().map(|z| z.name.as_str()))
                                    .collect();
                                cx.err(
                                    name,
                                    &format!("{path}.models[{s}][{c}]"),
                                    format!("unknown model '{}' (the zoo has {})", name.value, known.join("|")),
                                );
                                good = false;
                            }
                        }
                    }
                    per_stage.push(ids);
                }
                good.then_some(per_stage)
            }
        };
        // items: explicit tuples, strictly decreasing
        let items = match &p.items {
            None => {
                cx.missing(&format!("{path}.items"), "list of item tuples, one count per stage");
                None
            }
            Some(list) if list.is_empty() => {
                cx.issues.push(None, format!("{path}.items"), "must list at least one item tuple");
                None
            }
            Some(list) => {
                let mut tuples: Vec<Vec<u32>> = Vec::new();
                let mut good = true;
                for (t, tuple) in list.iter().enumerate() {
                    let tp = format!("{path}.items[{t}]");
                    let v = &tuple.value;
                    if v.len() != k {
                        cx.err(tuple, &tp, format!("must give {k} item counts (one per stage), got {v:?}"));
                        good = false;
                        continue;
                    }
                    if let Some(bad) = v.iter().find(|n| **n < 1 || **n > u32::MAX as i64) {
                        cx.err(tuple, &tp, format!("item counts must be ≥ 1, got {bad} in {v:?}"));
                        good = false;
                        continue;
                    }
                    if v.windows(2).any(|w| w[1] >= w[0]) {
                        cx.err(tuple, &tp, format!("items must strictly decrease across stages, got {v:?}"));
                        good = false;
                        continue;
                    }
                    let v: Vec<u32> = v.iter().map(|n| *n as u32).collect();
                    if let Some(Some(cands)) = dataset.map(|d| d.candidates_per_query) {
                        if v[0] > cands {
                            cx.err(
                                tuple,
                                &tp,
                                format!(
                                    "first stage scores {} items but dataset.candidates_per_query is {cands}",
                                    v[0]
                                ),
                            );
                            good = false;
                        }
                    }
                    if let Some(k_final) = top_k {
                        if v[k - 1] < k_final {
                            cx.err(
                                tuple,
                                &tp,
                                format!("last stage keeps {} items, fewer than quality.top_k = {k_final}", v[k - 1]),
                            );
                            good = false;
                        }
                    }
                    if tuples.contains(&v) {
                        cx.err(tuple, &tp, format!("duplicate item tuple {v:?}"));
                        good = false;
                    }
                    tuples.push(v);
                }
                good.then_some(tuples)
            }
        };
        let backends = match &p.backends {
            None => {
                cx.missing(&format!("{path}.backends"), "list of backend tuples, one of cpu|gpu|accel per stage");
                None
            }
            Some(list) if list.is_empty() => {
                cx.issues.push(None, format!("{path}.backends"), "must list at least one backend tuple");
                None
            }
            Some(list) => {
                let mut tuples: Vec<Vec<Backend>> = Vec::new();
                let mut good = true;
                for (t, tuple) in list.iter().enumerate() {
                    if tuple.len() != k {
                        cx.issues.push(
                            None,
                            format!("{path}.backends[{t}]"),
                            format!("must give {k} backends (one per stage), got {}", tuple.len()),
                        );
                        good = false;
                        continue;
                    }
                    let mut parsed = Vec::new();
                    for (s, b) in tuple.iter().enumerate() {
                        match Backend::parse(&b.value) {
                            Some(x) => parsed.push(x),
                            None => {
                                cx.err(
                                    b,
                                    &format!("{path}.backends[{t}][{s}]"),
                                    format!("unknown backend '{}' (expected cpu|gpu|accel)", b.value),
                                );
                                good = false;
                            }
                        }
                    }
                    if parsed.len() == k {
                        if tuples.contains(&parsed) {
                            cx.issues.push(None, format!("{path}.backends[{t}]"), "duplicate backend tuple");
                            good = false;
                        }
                        tuples.push(parsed);
                    }
                }
                good.then_some(tuples)
            }
        };
        match (models, items, backends) {
            (Some(models), Some(items), Some(backends)) => {
                out.push(PipelineSpec { stages: k, models, items, backends })
            }
            _ => ok = false,
        }
    }
    ok.then_some(out)
}
