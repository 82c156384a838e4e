//! The popularity model: training-set interaction counts, no learning — a cheap first stage.
//!
//! - MovieLens: an item's score is its number of training interactions (the classic "most popular"
//!   baseline; the same for every user).
//! - Criteo-shaped data: an impression's score is the mean over the 26 categorical features of the smoothed
//!   training click-through rate of its value, `(clicks + m·p) / (impressions + m)` with the global click rate
//!   `p` and `m` = [`CTR_PRIOR_IMPRESSIONS`] pseudo-impressions, so a value seen rarely scores close to `p`.
//!   It only counts, so it costs one table lookup per feature.
//!
//! Space block: `popularity: {}` (no knobs). Its latency profile (MovieLens) times a lookup in a table of
//! counts; on the accelerator it costs transfers and the top-k filter only.

use super::family::{tagged_json, Architecture, BuildOptions, CountData, Family, Features, Fit, Net, Variant};
use super::Arch;
use crate::accel::ModelShape;
use crate::data::{CriteoSamples, SPARSE};
use crate::input::Checker;
use crate::measure::tables::ModelTables;
use crate::spec::DatasetKind;
use serde::Serialize;
use tch::nn::Path;
use tch::{Kind, Tensor};

/// The popularity architecture (no parameters to learn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PopularityArch;

impl Architecture for PopularityArch {
    fn family(&self) -> &'static str {
        "popularity"
    }

    fn serves(&self, _data: DatasetKind) -> bool {
        true
    }

    fn describe(&self) -> String {
        "popularity (training counts)".to_string()
    }

    fn cache_json(&self) -> String {
        tagged_json("popularity", self)
    }

    fn fingerprint(&self) -> String {
        "popularity".to_string()
    }

    fn parameter_count(&self, tables: &ModelTables) -> u64 {
        self.embedding_rows(tables)
    }

    fn embedding_rows(&self, tables: &ModelTables) -> u64 {
        match tables {
            ModelTables::Criteo { rows } => rows.iter().sum(),
            ModelTables::MovieLens { items, .. } => *items,
        }
    }

    fn embedding_values(&self, tables: &ModelTables) -> u64 {
        self.embedding_rows(tables)
    }

    fn accel_shape(&self, _data: DatasetKind) -> Option<ModelShape> {
        None
    }

    fn fit(&self) -> Fit {
        Fit::Counts
    }

    /// A table of counts for latency profiles (MovieLens; random counts, the lookup is the work). Criteo
    /// popularity runs on the host and has no tch network.
    fn build(&self, path: &Path, tables: &ModelTables, _options: BuildOptions) -> Option<Box<dyn Net>> {
        match tables {
            ModelTables::MovieLens { items, .. } => {
                Some(Box::new(CountTable(Tensor::randint(1000, [*items as i64], (Kind::Float, path.device())))))
            }
            ModelTables::Criteo { .. } => None,
        }
    }

    fn count_scores(&self, data: &CountData<'_>) -> Option<Vec<f32>> {
        Some(match data {
            CountData::Movielens { item_train_counts, items } => {
                ItemPopularity::new(item_train_counts.clone()).score(items)
            }
            CountData::Criteo { train, test, rows } => CtrPopularity::fit(train).score(test, rows),
        })
    }
}

/// Per-item counts as a network: the score of an item is its count.
struct CountTable(Tensor);

impl Net for CountTable {
    fn forward_t(&self, x: &Features<'_>, _train: bool) -> Tensor {
        match x {
            Features::Pairs { items, .. } => self.0.index_select(0, items),
            Features::Rows { .. } => unreachable!("count tables are built for MovieLens only"),
        }
    }
}

/// The `popularity: {}` block (no fields).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPopularity {}

/// The popularity family.
pub struct PopularityFamily;

impl Family for PopularityFamily {
    type Raw = RawPopularity;

    fn variants(_raw: &RawPopularity, _cx: &mut Checker, _path: &str) -> Option<Vec<Variant>> {
        Some(vec![Variant { label: String::new(), arch: Arch::new(PopularityArch) }])
    }
}

/// Pseudo-impressions of the global click rate added to every categorical value's counts.
pub const CTR_PRIOR_IMPRESSIONS: f64 = 20.0;

/// Item popularity for MovieLens: training interaction counts per item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemPopularity {
    counts: Vec<u32>,
}

impl ItemPopularity {
    /// From per-item training interaction counts.
    pub fn new(counts: Vec<u32>) -> ItemPopularity {
        ItemPopularity { counts }
    }

    /// Scores of `items` (their training counts).
    pub fn score(&self, items: &[u32]) -> Vec<f32> {
        items.iter().map(|&i| self.counts.get(i as usize).copied().unwrap_or(0) as f32).collect()
    }
}

/// Smoothed per-value click-through rates of the 26 categorical features of Criteo-shaped data.
#[derive(Debug, Clone, PartialEq)]
pub struct CtrPopularity {
    /// Per table, the smoothed CTR of every id.
    rates: Vec<Vec<f32>>,
    /// Global click rate of the training rows (the score of unseen values).
    prior: f32,
}

impl CtrPopularity {
    /// Count impressions and clicks of every categorical value in `train`.
    pub fn fit(train: &CriteoSamples) -> CtrPopularity {
        let prior = train.click_rate();
        let rates = (0..SPARSE)
            .map(|t| {
                let rows = train.table_rows[t] as usize;
                let (mut shown, mut clicked) = (vec![0u32; rows], vec![0u32; rows]);
                for (r, &y) in train.labels.iter().enumerate() {
                    let id = train.sparse[r * SPARSE + t] as usize;
                    if id < rows {
                        shown[id] += 1;
                        clicked[id] += u32::from(y > 0.5);
                    }
                }
                shown
                    .iter()
                    .zip(&clicked)
                    .map(|(&n, &c)| {
                        ((f64::from(c) + CTR_PRIOR_IMPRESSIONS * prior) / (f64::from(n) + CTR_PRIOR_IMPRESSIONS)) as f32
                    })
                    .collect()
            })
            .collect();
        CtrPopularity { rates, prior: prior as f32 }
    }

    /// Scores of rows `rows` of `samples`.
    pub fn score(&self, samples: &CriteoSamples, rows: &[usize]) -> Vec<f32> {
        rows.iter()
            .map(|&r| {
                let ids = &samples.sparse[r * SPARSE..(r + 1) * SPARSE];
                let sum: f32 = ids
                    .iter()
                    .zip(&self.rates)
                    .map(|(&id, rates)| rates.get(id as usize).copied().unwrap_or(self.prior))
                    .sum();
                sum / SPARSE as f32
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DENSE;

    #[test]
    fn items_score_by_training_count() {
        let p = ItemPopularity::new(vec![3, 0, 7]);
        assert_eq!(p.score(&[2, 0, 1, 9]), vec![7.0, 3.0, 0.0, 0.0]);
    }

    #[test]
    fn values_that_click_more_score_higher() {
        let mut s = CriteoSamples::empty([2; SPARSE]);
        for (id, label) in [(0u32, 1.0f32), (0, 1.0), (1, 0.0), (1, 0.0)] {
            s.dense.extend_from_slice(&[0.0; DENSE]);
            s.sparse.extend(std::iter::repeat_n(id, SPARSE));
            s.labels.push(label);
        }
        let p = CtrPopularity::fit(&s);
        let scores = p.score(&s, &[0, 2]);
        assert!(scores[0] > 0.5 && scores[1] < 0.5, "{scores:?}");
        // Smoothing: (2 + 20·0.5) / (2 + 20).
        assert!((scores[0] - 12.0 / 22.0).abs() < 1e-6);
    }
}
