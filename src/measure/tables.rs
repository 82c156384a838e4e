//! Which latency profiles a design space needs, and the embedding-table sizes its models are built with.
//!
//! Criteo DLRMs use the 26 Criteo Kaggle table sizes after DLRM's preprocessing
//! ([`crate::data::CRITEO_KAGGLE_TABLE_ROWS`], 33.8 M rows), each capped at the space's `max_ind_range`.
//! MovieLens NeuMF and popularity models use the data set's numbers of distinct users and items, counted by
//! [`movielens_entity_counts`] from the interaction file (RecBole `.inter`, ML-100K `u.data`, ML-1M
//! `ratings.dat`, ML-20M `ratings.csv`).
//!
//! A stage's profile key: its model, `items` = the stage's batch, `keep` = the next stage's items (the
//! space's final `top_k`, at most `items`, for the last stage), device `cpu` once per `threads_per_engine`
//! choice or `cuda` with threads 0.

use super::{DeviceKind, MeasureError, ProfileKey};
use crate::data::{CRITEO_KAGGLE_TABLE_ROWS, SPARSE};
use crate::model::{Arch, ZooModel};
use crate::spec::{Backend, DatasetKind, Space};
use crate::zoo::precision::Datatype;
use std::collections::BTreeSet;
use std::path::Path;

/// Embedding-table sizes of the models of one data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelTables {
    /// Criteo-shaped data: rows of each of the 26 DLRM tables.
    Criteo {
        /// Rows per table.
        rows: [u64; SPARSE],
    },
    /// MovieLens: embedding rows of the user and item tables (and the popularity table's length).
    MovieLens {
        /// Distinct users.
        users: u64,
        /// Distinct items.
        items: u64,
    },
}

impl ModelTables {
    /// The Criteo Kaggle tables, each capped at `max_ind_range` rows when given.
    pub fn criteo(max_ind_range: Option<u64>) -> ModelTables {
        let rows = CRITEO_KAGGLE_TABLE_ROWS.map(|r| max_ind_range.map_or(r, |cap| r.min(cap)));
        ModelTables::Criteo { rows }
    }

    /// The tables of a space's data set; reads the MovieLens interaction file (a small loader).
    pub fn for_space(space: &Space) -> Result<ModelTables, MeasureError> {
        match space.dataset.kind {
            DatasetKind::CriteoKaggle => Ok(ModelTables::criteo(space.dataset.max_ind_range)),
            DatasetKind::Movielens => {
                let dir =
                    space.dataset.path.as_deref().ok_or_else(|| {
                        MeasureError::Unsupported("dataset.path is required for MovieLens tables".into())
                    })?;
                let (users, items) = movielens_entity_counts(Path::new(dir))?;
                Ok(ModelTables::MovieLens { users, items })
            }
        }
    }
}

impl ModelTables {
    /// The table part of a fingerprint: `rows33762577#1a2b3c4d` (total rows and a hash of the 26 sizes) or
    /// `users943 items1682`.
    pub fn fingerprint(&self) -> String {
        match self {
            ModelTables::Criteo { rows } => {
                let text = rows.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
                format!("rows{}#{:08x}", rows.iter().sum::<u64>(), crate::hash::fnv1a64(text.as_bytes()) as u32)
            }
            ModelTables::MovieLens { users, items } => format!("users{users} items{items}"),
        }
    }
}

/// A stable text fingerprint of a model architecture with its table sizes, used in [`ProfileKey::arch`]:
/// e.g. `dlrm-dot d4 bot13-64-4 top64-1 rows33762577#1a2b3c4d` or
/// `neumf mf64 emb64 mlp128-128-64 users943 items1682`.
pub fn arch_fingerprint(arch: &Arch, tables: &ModelTables) -> String {
    format!("{} {}", arch.fingerprint(), tables.fingerprint())
}

/// [`arch_fingerprint`] of a zoo model, followed by its datatype when it is set and not fp32
/// (`… users943 items1682 int8`).
pub fn model_fingerprint(model: &ZooModel, tables: &ModelTables) -> String {
    let arch = arch_fingerprint(&model.arch, tables);
    match model.compute_datatype() {
        Datatype::Fp32 => arch,
        other => format!("{arch} {}", other.name()),
    }
}

/// Every profile key a space's CPU and GPU stages need, sorted and without duplicates; reads the data set's
/// table sizes with [`ModelTables::for_space`].
pub fn required_profiles(space: &Space) -> Result<Vec<ProfileKey>, MeasureError> {
    Ok(required_profiles_for(space, &ModelTables::for_space(space)?))
}

/// [`required_profiles`] with the table sizes given.
pub fn required_profiles_for(space: &Space, tables: &ModelTables) -> Vec<ProfileKey> {
    let cpu_threads: Vec<u32> = space.cpu.as_ref().map(|c| c.threads_per_engine.clone()).unwrap_or_default();
    let mut keys = BTreeSet::new();
    for pipe in &space.pipelines {
        for stage in 0..pipe.stages {
            let backends: Vec<Backend> = pipe.backends.iter().map(|b| b[stage]).collect();
            for &model in &pipe.models[stage] {
                let zoo = &space.zoo[model];
                let arch = model_fingerprint(zoo, tables);
                for items in &pipe.items {
                    let keep = items.get(stage + 1).copied().unwrap_or(space.top_k.min(items[stage]));
                    let key = |device, threads| ProfileKey {
                        model: zoo.name.clone(),
                        arch: arch.clone(),
                        items: items[stage],
                        keep,
                        device,
                        threads,
                    };
                    if backends.contains(&Backend::Cpu) {
                        keys.extend(cpu_threads.iter().map(|&t| key(DeviceKind::Cpu, t)));
                    }
                    if backends.contains(&Backend::Gpu) {
                        keys.insert(key(DeviceKind::Cuda, 0));
                    }
                }
            }
        }
    }
    keys.into_iter().collect()
}

/// Distinct (users, items) of a MovieLens data set in `dir`: the first of `<dir-name>.inter` (RecBole atomic
/// file with a header), `u.data` (tab-separated), `ratings.dat` (`::`-separated) or `ratings.csv` (header).
pub fn movielens_entity_counts(dir: &Path) -> Result<(u64, u64), MeasureError> {
    let stem = dir.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let candidates: [(String, &str, bool); 4] = [
        (format!("{stem}.inter"), "\t", true),
        ("u.data".to_string(), "\t", false),
        ("ratings.dat".to_string(), "::", false),
        ("ratings.csv".to_string(), ",", true),
    ];
    let Some((file, sep, header)) = candidates.iter().find(|(f, _, _)| dir.join(f).is_file()) else {
        return Err(MeasureError::Unsupported(format!(
            "{}: no MovieLens interaction file ({stem}.inter, u.data, ratings.dat or ratings.csv)",
            dir.display()
        )));
    };
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|source| MeasureError::Io { path: path.display().to_string(), source })?;
    let mut users = BTreeSet::new();
    let mut items = BTreeSet::new();
    for (i, line) in text.lines().enumerate().skip(usize::from(*header)) {
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split(sep);
        match (fields.next(), fields.next()) {
            (Some(u), Some(it)) => {
                users.insert(u.trim());
                items.insert(it.trim());
            }
            _ => {
                return Err(MeasureError::Format {
                    path: path.display().to_string(),
                    line: i + 1,
                    message: format!("expected user and item separated by {sep:?}, found {line:?}"),
                })
            }
        }
    }
    Ok((users.len() as u64, items.len() as u64))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parameter_counts_match_the_models_zoo_builds() {
        use crate::model::preset;
        use tch::nn::VarStore;
        let numel = |vs: &VarStore| -> u64 { vs.variables().values().map(|t| t.numel() as u64).sum() };
        let rows = std::array::from_fn(|i| 3 + i as u64);
        let criteo = ModelTables::Criteo { rows };
        let ml = ModelTables::MovieLens { users: 10, items: 20 };
        let two_tower =
            crate::model::Arch::new(crate::model::two_tower::TwoTowerArch { embedding_dim: 8, tower_mlp: vec![16, 8] });
        for (arch, tables) in [
            (preset("rm-small").unwrap(), &criteo),
            (preset("rm-large").unwrap(), &criteo),
            (preset("neumf-recbole").unwrap(), &ml),
            (two_tower.clone(), &criteo),
            (two_tower, &ml),
        ] {
            let vs = VarStore::new(tch::Device::Cpu);
            let _m = arch.build(&vs.root(), tables, crate::model::BuildOptions::SERVING).expect("a network");
            assert_eq!(arch.parameter_count(tables), numel(&vs), "{}", arch.describe());
        }
        assert_eq!(preset("popularity").unwrap().parameter_count(&ml), 20);
        // The full Kaggle tables: RM-large's 33.76 M rows × 32 dominate.
        let full = preset("rm-large").unwrap().parameter_count(&ModelTables::criteo(None));
        assert!(full > 33_762_577 * 32 && full < 33_762_577 * 32 + 1_000_000, "{full}");
    }

    use super::*;
    use crate::model::preset;

    #[test]
    fn criteo_tables_are_capped() {
        let ModelTables::Criteo { rows } = ModelTables::criteo(Some(1000)) else { panic!() };
        assert_eq!(rows.iter().copied().max(), Some(1000));
        assert_eq!(rows[8], 3);
        let ModelTables::Criteo { rows } = ModelTables::criteo(None) else { panic!() };
        assert_eq!(rows.iter().sum::<u64>(), 33_762_577);
    }

    #[test]
    fn fingerprint_depends_on_shape_and_tables() {
        let small = preset("rm-small").unwrap();
        let med = preset("rm-med").unwrap();
        let full = ModelTables::criteo(None);
        let capped = ModelTables::criteo(Some(100));
        let f = arch_fingerprint(&small, &full);
        assert!(f.starts_with("dlrm-dot d4 bot13-64-4 top64-1 rows33762577#"), "{f}");
        assert_ne!(f, arch_fingerprint(&small, &capped));
        assert_ne!(f, arch_fingerprint(&med, &full));
        let ml = ModelTables::MovieLens { users: 943, items: 1682 };
        assert_eq!(
            arch_fingerprint(&preset("neumf-recbole").unwrap(), &ml),
            "neumf mf64 emb64 mlp128-128-64 users943 items1682"
        );
    }
}
