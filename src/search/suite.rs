//! Held-out benchmark spaces for the search strategies: seeded random variations of the three test spaces
//! (`tests/spaces/bench-search.yaml`, `movielens-quick.yaml`, `kaggle-quick.yaml`), so that a strategy is
//! judged on spaces it was not developed on.
//!
//! Each variation draws, from one seed:
//! * the pipelines: a subset of each entry's backend tuples, item tuples and per-stage models (entries may
//!   be dropped, at least one stays);
//! * the accelerator: a subset of the presets, optionally a generated sweep over array size, embedding
//!   cache and DRAM bandwidth (`accel.sweep`), 2–6 sub-accelerator counts out of 1–32, and an area budget
//!   from half to 2.8× the base's;
//! * the load: 1–3 offered loads, log-uniform between half the base's smallest and twice its largest, and
//!   1,000–4,000 simulated queries;
//! * the SLA: p95 or p99, target from a quarter to 2.8× the base's (loose to barely feasible);
//! * 2–4 objectives out of quality (where the base measures it), mean/p95/p99 latency, capacity, and for
//!   spaces with accelerator stages area, power and energy per query;
//! * for quality spaces, half the time a quality floor (a `min` constraint) from the base's list of floors.
//!
//! Search settings are dropped (strategies run with their defaults, never tuned per space). Sizes are steered
//! into three bands of structurally valid points — 500–2,000, 2,000–10,000, 10,000–50,000 — by redrawing (at
//! most [`TRIES`] times; the closest draw is kept otherwise). The spaces are YAML texts; the caller counts
//! valid points (`measure`), so this module does no I/O.
//!
//! The quality floors are picked from the base's range of model qualities: `hr@10` of MovieLens-100K's
//! cascades (0.078–0.082 with two training epochs) and `ndcg@64` of the synthetic-Criteo RM cascades
//! (0.58–0.75).

use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::{json, Value};

/// Redraws per space when steering its size into its band.
pub const TRIES: usize = 60;

/// Valid-point bands the spaces cycle through.
pub const SIZE_BANDS: [(u64, u64); 3] = [(500, 2_000), (2_000, 10_000), (10_000, 50_000)];

/// A base space of the suite and the quality floors its variations may impose.
struct Base {
    name: &'static str,
    yaml: &'static str,
    /// `(metric, floors)` for spaces that measure quality.
    floors: Option<(&'static str, &'static [f64])>,
}

const BASES: [Base; 3] = [
    Base { name: "bench-search", yaml: include_str!("../../tests/spaces/bench-search.yaml"), floors: None },
    Base {
        name: "movielens-quick",
        yaml: include_str!("../../tests/spaces/movielens-quick.yaml"),
        floors: Some(("hr@10", &[0.06, 0.079, 0.081])),
    },
    Base {
        name: "kaggle-quick",
        yaml: include_str!("../../tests/spaces/kaggle-quick.yaml"),
        floors: Some(("ndcg@64", &[0.65, 0.7, 0.74])),
    },
];

/// One generated space.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteSpace {
    /// Space name (`suite<seed>-<index>-<base>`), also its `name:` field.
    pub name: String,
    /// Base space it varies.
    pub base: &'static str,
    /// The space, as YAML.
    pub yaml: String,
    /// Structurally valid points, as measured by the caller.
    pub valid_points: u64,
}

/// Draws the suite's spaces one after another from a seed.
pub struct Generator {
    seed: u64,
    rng: Xoshiro256PlusPlus,
    next_index: usize,
}

impl Generator {
    /// The generator of suite `seed`.
    pub fn new(seed: u64) -> Generator {
        Generator { seed, rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x0050_17e5), next_index: 0 }
    }

    /// The next space; `measure` validates a YAML text and returns its structurally valid point count (an
    /// error rejects the draw). A caller that finds the space useless (e.g. nothing feasible) asks for the
    /// next one: the sequence stays the same for a seed.
    pub fn next_space(&mut self, measure: &mut dyn FnMut(&str) -> Result<u64, String>) -> Result<SuiteSpace, String> {
        let i = self.next_index;
        self.next_index += 1;
        let base = &BASES[i % BASES.len()];
        let band = SIZE_BANDS[(i / BASES.len()) % SIZE_BANDS.len()];
        let root: Value = serde_saphyr::from_str(base.yaml).map_err(|e| format!("{}: {e}", base.name))?;
        let name = format!("suite{}-{i:02}-{}", self.seed, base.name);
        let mut best: Option<(f64, String, u64)> = None;
        let mut last_error = None;
        for _ in 0..TRIES {
            let varied = vary(&root, base, &name, &mut self.rng);
            let yaml = serde_saphyr::to_string(&varied).map_err(|e| format!("{name}: {e}"))?;
            match measure(&yaml) {
                Ok(valid) => {
                    let distance = band_distance(valid, band);
                    if best.as_ref().is_none_or(|(d, _, _)| distance < *d) {
                        best = Some((distance, yaml, valid));
                    }
                    if distance == 0.0 {
                        break;
                    }
                }
                Err(e) => last_error = Some(e),
            }
        }
        let Some((_, yaml, valid_points)) = best else {
            let last = last_error.unwrap_or_default();
            return Err(format!("{name}: no valid variation in {TRIES} draws; last error: {last}"));
        };
        Ok(SuiteSpace { name, base: base.name, yaml, valid_points })
    }
}

/// How far `valid` lies outside `band`, in log units (0 inside).
fn band_distance(valid: u64, (lo, hi): (u64, u64)) -> f64 {
    let v = (valid.max(1) as f64).ln();
    if valid < lo {
        (lo as f64).ln() - v
    } else if valid > hi {
        v - (hi as f64).ln()
    } else {
        0.0
    }
}

/// A random non-empty subset of `items` (each kept with probability `keep`), in order.
fn subset<T: Clone>(items: &[T], keep: f64, rng: &mut Xoshiro256PlusPlus) -> Vec<T> {
    let mut kept: Vec<T> = items.iter().filter(|_| rng.random_bool(keep)).cloned().collect();
    if kept.is_empty() {
        kept.push(items.choose(rng).expect("non-empty list").clone());
    }
    kept
}

/// `x` rounded to 3 significant digits.
fn round3(x: f64) -> f64 {
    let scale = 10f64.powi(2 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

/// One random variation of `root`.
fn vary(root: &Value, base: &Base, name: &str, rng: &mut Xoshiro256PlusPlus) -> Value {
    let mut v = root.clone();
    let obj = v.as_object_mut().expect("a space is a mapping");
    obj.insert("name".into(), json!(name));
    obj.insert("description".into(), json!(format!("held-out search benchmark: a random variation of {}", base.name)));
    obj.remove("search");

    // Pipelines: subsets of backends, items and models; entries may go.
    let pipelines = obj["pipelines"].as_array().cloned().unwrap_or_default();
    let mut kept: Vec<Value> = Vec::new();
    for p in &pipelines {
        let mut p = p.clone();
        let e = p.as_object_mut().expect("a pipeline entry is a mapping");
        for (field, keep) in [("backends", 0.7), ("items", 0.6)] {
            let list = e[field].as_array().cloned().unwrap_or_default();
            e.insert(field.into(), Value::Array(subset(&list, keep, rng)));
        }
        let models: Vec<Value> = e["models"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|stage| Value::Array(subset(stage.as_array().map_or(&[][..], |a| a.as_slice()), 0.75, rng)))
            .collect();
        e.insert("models".into(), Value::Array(models));
        kept.push(p);
    }
    let kept = subset(&kept, 0.8, rng);
    let uses = |b: &str| kept.iter().any(|p| p["backends"].to_string().contains(&format!("\"{b}\"")));
    let any_accel = uses("accel");
    obj.insert("pipelines".into(), Value::Array(kept.clone()));

    // Hardware: drop unused blocks, vary the accelerator.
    if let Some(hw) = obj.get_mut("hardware").and_then(Value::as_object_mut) {
        for (block, backend) in [("cpu", "cpu"), ("gpu", "gpu"), ("accel", "accel")] {
            if !uses(backend) {
                hw.remove(block);
            }
        }
        if let Some(accel) = hw.get_mut("accel").and_then(Value::as_object_mut) {
            let presets = accel["presets"].as_array().cloned().unwrap_or_default();
            let presets = subset(&presets, 0.6, rng);
            if rng.random_bool(0.5) {
                let sweep_base = presets.choose(rng).cloned().unwrap_or(json!("accel/recpipe-s4.yaml"));
                accel.insert(
                    "sweep".into(),
                    json!({
                        "base": sweep_base,
                        "array_size": subset(&[16, 32, 64, 128], 0.5, rng),
                        "embedding_cache_kib": subset(&[256, 1024, 4096], 0.5, rng),
                        "dram_bandwidth_gib_s": subset(&[8, 16, 32], 0.5, rng),
                    }),
                );
            }
            accel.insert("presets".into(), Value::Array(presets));
            let mut counts = vec![1, 2, 3, 4, 6, 8, 12, 16, 24, 32];
            counts.shuffle(rng);
            let mut counts: Vec<u64> = counts[..rng.random_range(2..=6)].to_vec();
            counts.sort_unstable();
            accel.insert("count_per_stage".into(), json!(counts));
            if let Some(area) = accel.get("area_budget_mm2").and_then(Value::as_f64) {
                accel.insert("area_budget_mm2".into(), json!(round3(area * 2f64.powf(rng.random_range(-1.0..1.5)))));
            }
        }
    }

    // Load and SLA.
    let load = obj.get_mut("load").and_then(Value::as_object_mut).expect("a space has a load");
    let qps = numbers(&load["qps"]);
    let (lo, hi) = qps.iter().fold((f64::INFINITY, 0f64), |(lo, hi), q| (lo.min(*q), hi.max(*q)));
    let mut loads: Vec<f64> = (0..rng.random_range(1..=3))
        .map(|_| round3((lo / 2.0) * ((hi * 2.0) / (lo / 2.0)).powf(rng.random::<f64>())))
        .collect();
    loads.sort_by(f64::total_cmp);
    loads.dedup_by(|a, b| a.total_cmp(b).is_eq());
    load.insert("qps".into(), json!(loads));
    let queries = *[1000u64, 2000, 4000].choose(rng).expect("non-empty");
    load.insert("queries".into(), json!(queries));
    load.insert("warmup_queries".into(), json!(queries / 20));
    let sla = obj.get_mut("sla").and_then(Value::as_object_mut).expect("a space has an SLA");
    let percentile = *[95, 99].choose(rng).expect("non-empty");
    let target = sla.get("target_ms").and_then(Value::as_f64).unwrap_or(20.0);
    sla.insert("percentile".into(), json!(percentile));
    sla.insert("target_ms".into(), json!(round3(target * 2f64.powf(rng.random_range(-2.0..1.5)))));

    // Objectives and constraints.
    let quality = base.floors.map(|(metric, _)| {
        let objectives = root["objectives"].as_array().cloned().unwrap_or_default();
        let first_quality = objectives.iter().find_map(|o| {
            let m = o["metric"].as_str()?;
            m.contains('@').then(|| m.to_string())
        });
        first_quality.unwrap_or_else(|| metric.to_string())
    });
    let mut pool: Vec<(String, &str)> = vec![
        (["mean_ms", "p95_ms", "p99_ms"].choose(rng).expect("non-empty").to_string(), "minimize"),
        ("capacity_qps".into(), "maximize"),
    ];
    if let Some(q) = &quality {
        pool.push((q.clone(), "maximize"));
    }
    if any_accel {
        for m in ["area_mm2", "power_w", "energy_j_per_query"] {
            pool.push((m.into(), "minimize"));
        }
    }
    pool.shuffle(rng);
    let k = rng.random_range(2..=4usize).min(pool.len());
    let objectives: Vec<Value> =
        pool[..k].iter().map(|(metric, direction)| json!({"metric": metric, "direction": direction})).collect();
    obj.insert("objectives".into(), Value::Array(objectives));
    let mut constraints: Vec<Value> = Vec::new();
    if let Some((metric, floors)) = base.floors {
        if rng.random_bool(0.5) {
            constraints.push(json!({"metric": metric, "min": floors.choose(rng).expect("non-empty")}));
        }
    }
    if constraints.is_empty() {
        obj.remove("constraints");
    } else {
        obj.insert("constraints".into(), Value::Array(constraints));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(yaml: &str) -> Result<u64, String> {
        let space =
            crate::spec::parse_space(yaml, "suite.yaml", std::path::Path::new(".")).map_err(|e| e.to_string())?;
        Ok(crate::cli::bench_search::valid_point_count(&space))
    }

    #[test]
    fn spaces_are_valid_seeded_and_varied() {
        let mut measure = |y: &str| count(y);
        let mut draw = |seed: u64| -> Vec<SuiteSpace> {
            let mut g = Generator::new(seed);
            (0..6).map(|_| g.next_space(&mut measure).expect("generated")).collect()
        };
        let a = draw(7);
        let b = draw(7);
        assert_eq!(a, b, "same seed, same spaces");
        let c = draw(8);
        assert_ne!(a, c, "another seed, other spaces");
        for s in &a {
            assert!(s.valid_points > 0, "{}: no valid point", s.name);
            assert!(!s.yaml.contains("strategy:"), "{}: search settings are dropped", s.name);
        }
        let objective_sets: std::collections::HashSet<String> =
            a.iter().map(|s| s.yaml.split("objectives:").nth(1).unwrap_or("").to_string()).collect();
        assert!(objective_sets.len() > 1, "objective sets vary");
    }
}
