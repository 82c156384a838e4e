//! The model extension point: what a model family implements once so that quality, latency measurement, the
//! accelerator model, memory checks and exploration can use it without knowing which family it is.
//!
//! A family has two sides:
//! * [`Family`], the space-file side: its YAML block (list-valued knobs allowed) and the architectures the block
//!   names, one per combination ([`Variant`]), with every impossible combination reported as an input issue.
//! * [`Architecture`], one concrete architecture: which data kinds it serves, its cache identity and latency
//!   fingerprint, parameter count and embedding rows at real table sizes, its accelerator shape, and its tch
//!   network ([`Net`]) built on given table sizes. Learned families are trained by the generic trainers of
//!   [`crate::zoo::train`] (one per data kind); count-based families (popularity) score from training counts.
//!
//! Families register in `src/model/mod.rs` with one line of the `families!` list.

use crate::accel::ModelShape;
use crate::data::CriteoSamples;
use crate::input::Checker;
use crate::measure::tables::ModelTables;
use crate::spec::DatasetKind;
use crate::zoo::embedding::Table;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;
use tch::{nn, Tensor};

/// Inputs of one forward pass, by data kind.
#[derive(Debug)]
pub enum Features<'a> {
    /// Criteo-shaped rows: dense `[B, 13]` f32 features (already `ln(x+1)`) and per-table ids `[B, 26]` i64.
    Rows {
        /// Dense features.
        dense: &'a Tensor,
        /// Categorical ids, one column per table.
        sparse: &'a Tensor,
    },
    /// (user, item) pairs: ids `[B]` i64 each.
    Pairs {
        /// User ids.
        users: &'a Tensor,
        /// Item ids.
        items: &'a Tensor,
    },
}

/// How a network is built: for training (dropout, sparse embedding gradients) or for serving (neither).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildOptions {
    /// Dropout probability where the family uses dropout (training only).
    pub dropout: f64,
    /// Whether embedding tables produce sparse gradients (SGD on large tables).
    pub sparse_gradients: bool,
}

impl BuildOptions {
    /// Serving: no dropout, dense gradients (none are taken).
    pub const SERVING: BuildOptions = BuildOptions { dropout: 0.0, sparse_gradients: false };
}

/// A network in tch: logits (scores before the sigmoid) for a batch.
pub trait Net: Send {
    /// Logits `[B]`; dropout is active only when `train`.
    fn forward_t(&self, x: &Features<'_>, train: bool) -> Tensor;

    /// Every embedding table, so that datatype conversions (row-wise int8, [`crate::zoo::embedding`]) reach
    /// them; families without tables keep the default, none.
    fn tables_mut(&mut self) -> Vec<&mut Table> {
        Vec::new()
    }
}

/// How a family's models are fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Gradient training by the data kind's trainer, with early stopping; checkpoints cached.
    Gradient,
    /// Counting over the training data (no parameters to learn, nothing to cache but the scores).
    Counts,
}

/// What a count-based family scores from.
#[derive(Debug)]
pub enum CountData<'a> {
    /// MovieLens: training interactions per item, and the candidate items to score.
    Movielens {
        /// Training interactions of every item.
        item_train_counts: Vec<u32>,
        /// Candidates.
        items: &'a [u32],
    },
    /// Criteo-shaped data: the training rows, and the candidate rows of the held-out samples.
    Criteo {
        /// Training rows.
        train: &'a CriteoSamples,
        /// Held-out rows.
        test: &'a CriteoSamples,
        /// Candidates (rows of `test`).
        rows: &'a [usize],
    },
}

/// One concrete model architecture of some family.
pub trait Architecture: Debug + Send + Sync + AsAny + 'static {
    /// Family name (`dlrm`, `neumf`, `popularity`, `two-tower`), as reports print it.
    fn family(&self) -> &'static str;

    /// Whether it can score data of this kind.
    fn serves(&self, data: DatasetKind) -> bool;

    /// One line for `validate` and reports, e.g. `DLRM d=8, bottom 13-64-8, top (359)-64-1`.
    fn describe(&self) -> String;

    /// JSON of the architecture with its `kind` tag; it enters checkpoint and score cache keys, so it must stay
    /// stable across releases.
    fn cache_json(&self) -> String;

    /// The architecture part of a latency-profile fingerprint (`dlrm-dot d4 bot13-64-4 top64-1`); the table
    /// sizes are appended by [`arch_fingerprint`](crate::measure::tables::arch_fingerprint).
    fn fingerprint(&self) -> String;

    /// Parameters (values) of the model built on `tables`: embedding rows × widths plus every weight and bias.
    fn parameter_count(&self, tables: &ModelTables) -> u64;

    /// Embedding rows of all its tables on `tables` (row-wise int8 storage adds a scale and a bias per row).
    fn embedding_rows(&self, tables: &ModelTables) -> u64;

    /// Embedding values (rows × widths) of all its tables on `tables`; the rest of
    /// [`parameter_count`](Architecture::parameter_count) is dense weights and biases.
    fn embedding_values(&self, tables: &ModelTables) -> u64;

    /// Its work on data of kind `data` as the accelerator model sees it; `None` when it has no layers
    /// (popularity: a lookup).
    fn accel_shape(&self, data: DatasetKind) -> Option<ModelShape>;

    /// How it is fitted.
    fn fit(&self) -> Fit {
        Fit::Gradient
    }

    /// Its tch network on `tables`, variables created under `path` (initialised from tch's global generator:
    /// seed it first). `None` when the family has no network on these tables.
    fn build(&self, path: &nn::Path, tables: &ModelTables, options: BuildOptions) -> Option<Box<dyn Net>>;

    /// Scores of a count-based family ([`Fit::Counts`]); `None` for learned families.
    fn count_scores(&self, data: &CountData<'_>) -> Option<Vec<f32>> {
        let _ = data;
        None
    }
}

/// The architecture as [`Any`], for code that needs the concrete type (e.g. the DLRM-only training sweep of
/// `reproduce`); implemented for every type.
pub trait AsAny {
    /// `self` as `Any`.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A shared, cheaply cloned architecture of any family.
#[derive(Clone)]
pub struct Arch(Arc<dyn Architecture>);

impl Arch {
    /// Wrap an architecture.
    pub fn new(architecture: impl Architecture) -> Arch {
        Arch(Arc::new(architecture))
    }

    /// The architecture as its concrete type, if it is a `T`.
    pub fn downcast<T: Architecture>(&self) -> Option<&T> {
        // Through the trait object's vtable: the concrete architecture, not the `Arc` around it.
        AsAny::as_any(self.0.as_ref()).downcast_ref::<T>()
    }
}

impl std::ops::Deref for Arch {
    type Target = dyn Architecture;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

impl Debug for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq for Arch {
    fn eq(&self, other: &Self) -> bool {
        self.cache_json() == other.cache_json()
    }
}

impl Eq for Arch {}

/// Serialises as [`Architecture::cache_json`] with its fields in their written order (the form a tagged enum of
/// the architectures had, which run fingerprints keep).
impl serde::Serialize for Arch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields: indexmap::IndexMap<String, serde_json::Value> =
            serde_json::from_str(&self.cache_json()).map_err(serde::ser::Error::custom)?;
        fields.serialize(serializer)
    }
}

/// JSON of `value` with a leading `"kind": kind` tag, as a tagged enum would write it.
pub fn tagged_json<T: serde::Serialize>(kind: &str, value: &T) -> String {
    #[derive(serde::Serialize)]
    struct Tagged<'a, T> {
        kind: &'a str,
        #[serde(flatten)]
        value: &'a T,
    }
    serde_json::to_string(&Tagged { kind, value }).expect("architectures serialise")
}

/// One architecture named by a family block, with the label that sets it apart from its siblings (empty when
/// the block names a single architecture), e.g. `d8-b1` for the second bottom MLP at embedding dimension 8.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Distinguishing label (letters, digits and `-`), empty for a single architecture.
    pub label: String,
    /// The architecture.
    pub arch: Arch,
}

/// The space-file side of a family: its YAML block and the architectures it names.
pub trait Family {
    /// The YAML block under the family's key (`dlrm: {…}`); unknown fields are errors.
    type Raw: DeserializeOwned + Debug;

    /// Every architecture `raw` names, one per combination of its list-valued knobs; problems (including
    /// impossible combinations) are reported through `cx` at `path` and give `None`.
    fn variants(raw: &Self::Raw, cx: &mut Checker, path: &str) -> Option<Vec<Variant>>;
}
