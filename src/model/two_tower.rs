//! The two-tower retrieval model (the usual first stage of production multi-stage recommenders; e.g. Covington
//! et al., RecSys 2016; Yi et al., RecSys 2019): a query tower and an item tower map their inputs to vectors
//! of the same width, and the score is their dot product. The RecPipe artifact has no such stage; it is
//! usable as any stage of a pipeline and on both data kinds.
//!
//! * MovieLens: query tower = user embedding (d) → `tower_mlp`; item tower = item embedding (d) → `tower_mlp`.
//! * Criteo-shaped data: the 26 categorical columns are anonymous, so by convention the first 13 tables are the
//!   query (context) side and the last 13 the item side. Query tower input: the 13 dense features (`ln(x+1)`)
//!   ⊕ the 13 query-side embeddings (13 + 13·d); item tower input: the 13 item-side embeddings (13·d).
//! * Towers: fully connected layers with ReLU between them and a linear output layer (widths `tower_mlp`,
//!   the last being the vector width w); logit = ⟨query vector, item vector⟩.
//!
//! Trained with binary cross-entropy on logits by the data kind's trainer ([`crate::zoo::train`]): sampled
//! negatives on MovieLens, clicks on Criteo. Initialisation: tables U(−√(1/n), √(1/n)) for n rows, layers as
//! DLRM's ([`crate::zoo::mlp`]).
//!
//! Accelerator cost: per candidate the item-side lookups and the item tower, then a w-wide dot product; the
//! query side (its lookups and tower) once per query.
//!
//! Space block (`two_tower:`): `embedding_dim` (d ≥ 1) and `tower_mlp` (widths after the tower input, ending
//! in the vector width; `d` allowed); each may be a list, naming one architecture per combination.

use serde::Serialize;
use serde_saphyr::Spanned as Sp;
use tch::nn::Path;
use tch::{Kind, Tensor};

use super::dlrm::dense_parameters;
use super::family::{tagged_json, Architecture, BuildOptions, Family, Features, Net, Variant};
use super::knobs::{self, LayerChoices, OneOrMany};
use super::{Arch, CRITEO_DENSE_FEATURES, CRITEO_SPARSE_FEATURES};
use crate::accel::model_shape::{GenericShape, ModelShape};
use crate::accel::Dataset;
use crate::input::Checker;
use crate::measure::tables::ModelTables;
use crate::spec::DatasetKind;
use crate::zoo::embedding::{concatenated_tables, Table};
use crate::zoo::mlp::{Activation, Mlp, MlpInit};

/// Criteo tables on the query (context) side; the remaining tables are the item side.
pub const CRITEO_QUERY_TABLES: u32 = CRITEO_SPARSE_FEATURES / 2;

/// Two-tower architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TwoTowerArch {
    /// Embedding dimension d of every table.
    pub embedding_dim: u32,
    /// Widths of each tower after its input, the last being the width of the vectors whose dot product scores.
    pub tower_mlp: Vec<u32>,
}

/// Input widths of the (query, item) towers on Criteo-shaped data for embedding dimension `d`.
fn criteo_inputs(d: u32) -> (u32, u32) {
    let item_tables = CRITEO_SPARSE_FEATURES - CRITEO_QUERY_TABLES;
    (CRITEO_DENSE_FEATURES + CRITEO_QUERY_TABLES * d, item_tables * d)
}

impl TwoTowerArch {
    /// Tower widths with the input first.
    fn tower(&self, input: u32) -> Vec<u32> {
        std::iter::once(input).chain(self.tower_mlp.iter().copied()).collect()
    }

    /// Width of the scored vectors.
    fn vector_width(&self) -> u32 {
        self.tower_mlp.last().copied().unwrap_or(self.embedding_dim)
    }
}

fn join(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join("-")
}

impl Architecture for TwoTowerArch {
    fn family(&self) -> &'static str {
        "two-tower"
    }

    fn serves(&self, _data: DatasetKind) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("two-tower d={}, towers {}, dot product", self.embedding_dim, join(&self.tower_mlp))
    }

    fn cache_json(&self) -> String {
        tagged_json("two-tower", self)
    }

    fn fingerprint(&self) -> String {
        format!("two-tower d{} tower{}", self.embedding_dim, join(&self.tower_mlp))
    }

    fn parameter_count(&self, tables: &ModelTables) -> u64 {
        let d = self.embedding_dim;
        let towers = match tables {
            ModelTables::MovieLens { .. } => 2 * dense_parameters(&self.tower(d)),
            ModelTables::Criteo { .. } => {
                let (query, item) = criteo_inputs(d);
                dense_parameters(&self.tower(query)) + dense_parameters(&self.tower(item))
            }
        };
        self.embedding_rows(tables) * u64::from(d) + towers
    }

    fn embedding_rows(&self, tables: &ModelTables) -> u64 {
        match tables {
            ModelTables::MovieLens { users, items } => users + items,
            ModelTables::Criteo { rows } => rows.iter().sum(),
        }
    }

    fn embedding_values(&self, tables: &ModelTables) -> u64 {
        self.embedding_rows(tables) * u64::from(self.embedding_dim)
    }

    fn accel_shape(&self, data: DatasetKind) -> Option<ModelShape> {
        let d = self.embedding_dim;
        let (query_lookups, item_lookups, query_input, item_input, datasets) = match data {
            DatasetKind::CriteoKaggle => {
                let (q, i) = criteo_inputs(d);
                let item_tables = CRITEO_SPARSE_FEATURES - CRITEO_QUERY_TABLES;
                ((CRITEO_QUERY_TABLES, d), (item_tables, d), q, i, vec![Dataset::Kaggle])
            }
            DatasetKind::Movielens => ((1, d), (1, d), d, d, vec![Dataset::Movielens1m, Dataset::Movielens20m]),
        };
        Some(ModelShape::Generic(GenericShape {
            family: "two-tower",
            item_lookups: vec![item_lookups],
            query_lookups: vec![query_lookups],
            query_layers: self.tower(query_input),
            item_layers: self.tower(item_input),
            interaction_macs_per_item: u64::from(self.vector_width()),
            layers_overlap_lookups: false,
            datasets,
        }))
    }

    fn build(&self, path: &Path, tables: &ModelTables, options: BuildOptions) -> Option<Box<dyn Net>> {
        Some(Box::new(TwoTower::new(path, self, tables, options.sparse_gradients)))
    }
}

/// The `two_tower:` block of a space's model entry; every field may hold a list.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTwoTower {
    /// Embedding dimension(s) d.
    pub embedding_dim: Option<Sp<OneOrMany<i64>>>,
    /// Tower width list(s) after the input, ending in the vector width.
    pub tower_mlp: Option<Sp<LayerChoices>>,
}

/// The two-tower family.
pub struct TwoTowerFamily;

impl Family for TwoTowerFamily {
    type Raw = RawTwoTower;

    fn variants(raw: &RawTwoTower, cx: &mut Checker, path: &str) -> Option<Vec<Variant>> {
        let dims = knobs::ints(cx, &raw.embedding_dim, &format!("{path}.embedding_dim"), 1, "embedding dimension d");
        let towers = knobs::layers(
            cx,
            &raw.tower_mlp,
            &format!("{path}.tower_mlp"),
            true,
            "tower widths after the input, ending in the vector width",
        );
        let (dims, towers) = (dims?, towers?);
        let counts = [dims.len(), towers.len()];
        let variants = knobs::combinations(&counts)
            .into_iter()
            .map(|c| {
                let d = dims[c[0]];
                let arch = TwoTowerArch { embedding_dim: d, tower_mlp: knobs::resolve(&towers[c[1]], d) };
                let label = knobs::label(&[("d", d.to_string(), counts[0]), ("t", c[1].to_string(), counts[1])]);
                Variant { label, arch: Arch::new(arch) }
            })
            .collect();
        Some(variants)
    }
}

/// Embedding tables of one side.
#[derive(Debug)]
struct Side {
    /// `[Σ rows, d]` concatenated tables.
    table: Table,
    /// `[tables]` i64 first row of each table in `table`.
    offsets: Tensor,
    tower: Mlp,
}

impl Side {
    fn new(path: &Path, rows: &[u64], dim: u32, tower: &[u32]) -> Side {
        let (table, starts) = concatenated_tables(path, "embeddings", rows, dim);
        Side {
            table: Table::Float(table),
            offsets: Tensor::from_slice(&starts).to_device(path.device()),
            tower: Mlp::new(&path.sub("tower"), tower, MlpInit::Dlrm, Activation::AllButLast, 0.0),
        }
    }

    /// `[B, tables·d]` embeddings of ids `[B, tables]`.
    fn embed(&self, ids: &Tensor, sparse_gradients: bool) -> Tensor {
        let batch = ids.size()[0];
        let rows = self.table.lookup(&(ids + self.offsets.unsqueeze(0)), sparse_gradients);
        rows.reshape([batch, -1])
    }
}

/// A two-tower network.
#[derive(Debug)]
pub struct TwoTower {
    query: Side,
    item: Side,
    /// Criteo-shaped input (dense features and 26 id columns) rather than (user, item) pairs.
    criteo: bool,
    sparse_gradients: bool,
}

impl TwoTower {
    /// Variables under `path` (`query/…`, `item/…`) for the data set's tables.
    pub fn new(path: &Path, arch: &TwoTowerArch, tables: &ModelTables, sparse_gradients: bool) -> TwoTower {
        let d = arch.embedding_dim;
        let (query, item, criteo) = match tables {
            ModelTables::MovieLens { users, items } => (
                Side::new(&path.sub("query"), &[*users], d, &arch.tower(d)),
                Side::new(&path.sub("item"), &[*items], d, &arch.tower(d)),
                false,
            ),
            ModelTables::Criteo { rows } => {
                let (q_in, i_in) = criteo_inputs(d);
                let split = CRITEO_QUERY_TABLES as usize;
                (
                    Side::new(&path.sub("query"), &rows[..split], d, &arch.tower(q_in)),
                    Side::new(&path.sub("item"), &rows[split..], d, &arch.tower(i_in)),
                    true,
                )
            }
        };
        TwoTower { query, item, criteo, sparse_gradients }
    }
}

impl Net for TwoTower {
    fn forward_t(&self, x: &Features<'_>, _train: bool) -> Tensor {
        let sg = self.sparse_gradients;
        let (q, i) = match x {
            Features::Pairs { users, items } => {
                assert!(!self.criteo, "a two-tower model built for Criteo-shaped rows scores rows");
                (self.query.embed(&users.unsqueeze(1), sg), self.item.embed(&items.unsqueeze(1), sg))
            }
            Features::Rows { dense, sparse } => {
                let split = i64::from(CRITEO_QUERY_TABLES);
                let query_ids = sparse.narrow(1, 0, split);
                let item_ids = sparse.narrow(1, split, sparse.size()[1] - split);
                let query_emb = self.query.embed(&query_ids, sg);
                let query_in = Tensor::cat(&[dense.to_kind(query_emb.kind()), query_emb], 1);
                (query_in, self.item.embed(&item_ids, sg))
            }
        };
        let qv = self.query.tower.forward_t(&q, false);
        let iv = self.item.tower.forward_t(&i, false);
        (qv * iv).sum_dim_intlist(1, false, Kind::Float)
    }

    fn tables_mut(&mut self) -> Vec<&mut Table> {
        vec![&mut self.query.table, &mut self.item.table]
    }
}
