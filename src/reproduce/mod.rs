//! `reproduce`: the RecPipe paper's figures (Gupta et al., "RecPipe: Co-designing Models and Hardware to
//! Jointly Optimize Recommendation Quality and Performance", MICRO 2021), each computed through the tool's own
//! accelerator model and serving simulator and set beside the numbers the paper and its artifact's logs
//! publish.
//!
//! Every figure is data: a YAML file under `spaces/paper/` (see `spaces/paper/README.md`) names what to
//! evaluate (pipelines, item grids, accelerator descriptions, loads, views), where the published numbers are
//! (a CSV derived from the artifact's logs, with provenance in its header, or values in the file itself) and
//! the tolerance of each comparison. Loading ([`load_figure`]) reads the file and everything it names;
//! [`run`] is pure computation and returns a [`FigureResult`]: our numbers as a table, one [`Comparison`] per
//! published number with its [`Verdict`], plot data, and named headline values that the `claims` figure
//! cites. Writing the folders is `report::figure`'s job.
//!
//! Figure kinds, one file each: [`serving`] (accelerator pipelines under load: Figs. 12 and 13),
//! [`chips`] (area and power breakdown: Fig. 11), [`systolic`] (array cycles and utilisation against
//! SCALE-Sim: Fig. 10a), [`cache_split`] (dividing the embedding cache between stages: Fig. 10c) and
//! [`claims`] (the paper's headline claims, from the other figures' values).

pub mod cache_split;
pub mod chips;
pub mod claims;
pub mod iso_quality;
pub mod published;
pub mod quality;
pub mod serving;
pub mod systolic;
pub mod training_sweep;

use crate::input::{InputError, Issue, Issues};
use crate::quality::ScoreCache;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A loaded figure file: what to compute and what to compare with, every referenced file already read.
#[derive(Debug, Clone)]
pub struct Figure {
    /// Short id, e.g. `fig12` (the folder name of its output).
    pub id: String,
    /// Title of the output.
    pub title: String,
    /// Where in the paper, e.g. `Fig. 12`.
    pub paper: String,
    /// Free text shown under the title.
    pub description: String,
    /// The file it was loaded from, as named.
    pub file: String,
    /// What to compute.
    pub body: FigureBody,
}

/// The kind-specific part of a figure.
#[derive(Debug, Clone)]
pub enum FigureBody {
    /// Accelerator pipelines under load.
    Serving(serving::Serving),
    /// Area and power breakdown of accelerator chips.
    Chips(chips::Chips),
    /// Systolic-array cycles and utilisation.
    Systolic(systolic::Systolic),
    /// Headline claims computed from other figures' values.
    Claims(claims::Claims),
    /// Division of an embedding cache between two stages.
    CacheSplit(cache_split::CacheSplit),
    /// Quality of trained models and cascades.
    Quality(Box<quality::QualityFigure>),
    /// Best p95 per backend and depth at a quality floor.
    IsoQuality(Box<iso_quality::IsoQuality>),
    /// Test error of trained DLRMs against their MLP size.
    TrainingSweep(Box<training_sweep::TrainingSweep>),
}

impl Figure {
    /// The design space a figure trains models of or evaluates (quality, iso-quality and training-sweep
    /// figures), whose sources the caller opens.
    pub fn space_mut(&mut self) -> Option<&mut crate::spec::Space> {
        match &mut self.body {
            FigureBody::Quality(q) => Some(&mut q.space),
            FigureBody::IsoQuality(q) => Some(&mut q.space),
            FigureBody::TrainingSweep(t) => Some(&mut t.space),
            _ => None,
        }
    }

    /// Ids of the figures whose values this one needs (only `claims` has any).
    pub fn dependencies(&self) -> Vec<String> {
        match &self.body {
            FigureBody::Claims(c) => c.dependencies(),
            _ => Vec::new(),
        }
    }
}

/// How close our number must be to the published one to count as a match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// |ours − published| ≤ this, in the quantity's unit.
    Absolute(f64),
    /// |ours − published| ≤ this · |published|.
    Relative(f64),
}

impl Tolerance {
    /// Whether `ours` is within the tolerance of `published`.
    pub fn holds(self, ours: f64, published: f64) -> bool {
        let d = (ours - published).abs();
        match self {
            Tolerance::Absolute(t) => d <= t,
            Tolerance::Relative(t) => d <= t * published.abs(),
        }
    }

    /// E.g. `±0.1 ms` or `±0.5 %`.
    pub fn describe(self, unit: &str) -> String {
        match self {
            Tolerance::Absolute(t) => format!("±{} {unit}", fmt_value(t)),
            Tolerance::Relative(t) => format!("±{} %", fmt_value(t * 100.0)),
        }
    }
}

/// The outcome of one comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Within the stated tolerance.
    Matches {
        /// The tolerance, in words.
        tolerance: String,
    },
    /// Outside the tolerance, with the reason.
    Differs {
        /// Why it differs.
        reason: String,
    },
    /// Could not be checked, with the reason.
    Unchecked {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// `matches`, `differs` or `not checked`.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Matches { .. } => "matches",
            Verdict::Differs { .. } => "differs",
            Verdict::Unchecked { .. } => "not checked",
        }
    }

    /// The tolerance (matches) or the reason (differs, not checked).
    pub fn detail(&self) -> &str {
        match self {
            Verdict::Matches { tolerance } => tolerance,
            Verdict::Differs { reason } | Verdict::Unchecked { reason } => reason,
        }
    }

    /// The word with its tolerance or reason.
    pub fn describe(&self) -> String {
        match self {
            Verdict::Matches { tolerance } => format!("matches ({tolerance})"),
            Verdict::Differs { reason } => format!("differs: {reason}"),
            Verdict::Unchecked { reason } => format!("not checked: {reason}"),
        }
    }
}

/// One published number (or fact) beside ours.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The group it belongs to (one table in the figure's README), e.g. `saturation`.
    pub group: String,
    /// What is compared, e.g. `S/L [4,4] at λ = 10 ms: mean`.
    pub item: String,
    /// The published value, formatted.
    pub published: String,
    /// Our value, formatted.
    pub ours: String,
    /// ours − published (or a ratio, or empty), formatted.
    pub difference: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// Compare two numbers under a tolerance; `unit` is appended to the values.
pub fn compare_numbers(
    group: &str,
    item: String,
    published: f64,
    ours: f64,
    unit: &str,
    tolerance: Tolerance,
    reason_if_differs: &str,
) -> Comparison {
    let verdict = if tolerance.holds(ours, published) {
        Verdict::Matches { tolerance: tolerance.describe(unit) }
    } else {
        Verdict::Differs { reason: reason_if_differs.to_string() }
    };
    let diff = ours - published;
    let rel = if published != 0.0 { format!(" ({:+.2} %)", diff / published.abs() * 100.0) } else { String::new() };
    Comparison {
        group: group.to_string(),
        item,
        published: with_unit(published, unit),
        ours: with_unit(ours, unit),
        difference: format!("{}{rel}", with_unit_signed(diff, unit)),
        verdict,
    }
}

fn with_unit(v: f64, unit: &str) -> String {
    if unit.is_empty() {
        fmt_value(v)
    } else {
        format!("{} {unit}", fmt_value(v))
    }
}

fn with_unit_signed(v: f64, unit: &str) -> String {
    let s = with_unit(v.abs(), unit);
    if v < 0.0 {
        format!("−{s}")
    } else {
        format!("+{s}")
    }
}

/// A number with about four significant digits, without exponent for the usual magnitudes.
pub fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if !(1e-4..1e6).contains(&a) {
        format!("{v:.4e}")
    } else if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else if a >= 1.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    };
    s
}

/// `v` with at most `decimals` decimals and no trailing zeros (`2.5`, `10`, `0.75`).
pub fn fmt_trimmed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Our numbers as a table (written as the figure's CSV).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Column names, with units in the names.
    pub columns: Vec<String>,
    /// Rows of formatted cells, one per column.
    pub rows: Vec<Vec<String>>,
}

/// How a plotted series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStyle {
    /// Published numbers: markers only.
    Markers,
    /// Our main view: a solid line with small markers.
    Line,
    /// A second view of ours: a thin line with cross markers.
    ThinLine,
}

/// One plotted series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Colour index (series that belong together share one).
    pub color: usize,
    /// How it is drawn.
    pub style: SeriesStyle,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
}

/// What a plot shows.
#[derive(Debug, Clone, PartialEq)]
pub enum PlotKind {
    /// x–y series.
    Lines(Vec<Series>),
    /// One stacked bar per category; `stacks` are (component, value per category).
    StackedBars {
        /// Bar labels.
        categories: Vec<String>,
        /// Components stacked in order, each with one value per category.
        stacks: Vec<(String, Vec<f64>)>,
    },
}

/// One plot of a figure (written as `<stem>.png` and `<stem>.svg`).
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// File name without extension.
    pub stem: String,
    /// Title.
    pub title: String,
    /// x-axis label with unit.
    pub x_label: String,
    /// y-axis label with unit.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// The data.
    pub kind: PlotKind,
}

/// Everything a figure computed.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureResult {
    /// Figure id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Where in the paper.
    pub paper: String,
    /// Free text from the figure file.
    pub description: String,
    /// The figure file.
    pub file: String,
    /// Our numbers.
    pub table: Table,
    /// Published numbers beside ours.
    pub comparisons: Vec<Comparison>,
    /// Plots.
    pub plots: Vec<Plot>,
    /// Named headline values (`claims` cites them as `<figure id>:<name>`).
    pub values: BTreeMap<String, f64>,
    /// Notes for the README: settings, calibrated terms, what is left out.
    pub notes: Vec<String>,
}

impl FigureResult {
    fn new(figure: &Figure) -> FigureResult {
        FigureResult {
            id: figure.id.clone(),
            title: figure.title.clone(),
            paper: figure.paper.clone(),
            description: figure.description.clone(),
            file: figure.file.clone(),
            table: Table::default(),
            comparisons: Vec::new(),
            plots: Vec::new(),
            values: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// (matches, differs, not checked) counts.
    pub fn verdict_counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for x in &self.comparisons {
            match x.verdict {
                Verdict::Matches { .. } => c.0 += 1,
                Verdict::Differs { .. } => c.1 += 1,
                Verdict::Unchecked { .. } => c.2 += 1,
            }
        }
        c
    }
}

/// Why a figure could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReproduceError {
    /// The figure's inputs are inconsistent in a way loading could not see.
    #[error("{file}: {message}")]
    Invalid {
        /// The figure file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// Values of figures computed earlier in the same run, by figure id (what `claims` reads).
pub type ValuesById = BTreeMap<String, BTreeMap<String, f64>>;

/// What a figure reads besides its file, opened by the caller (training models and loading profiles is I/O).
pub enum FigureInputs {
    /// Nothing (accelerator, chip, systolic, cache and claims figures).
    None,
    /// The score cache of a `quality` or `training-sweep` figure's space (`quality::prepare`).
    Scores(Box<ScoreCache>),
    /// The evaluation sources of an `iso-quality` figure's space (`explore::sources::open`), shared by the
    /// figures of one run that name the same space.
    Sources(std::rc::Rc<crate::explore::sources::Opened>),
}

/// Compute one figure. `earlier` holds the values of the figures already computed in this run (`claims`
/// needs those named by [`Figure::dependencies`]); `inputs` what its kind reads besides its file.
pub fn run(figure: &Figure, earlier: &ValuesById, inputs: &FigureInputs) -> Result<FigureResult, ReproduceError> {
    let mut out = FigureResult::new(figure);
    let missing = |what: &str| ReproduceError::Invalid {
        file: figure.file.clone(),
        message: format!("this figure needs {what}, which the caller did not open"),
    };
    match &figure.body {
        FigureBody::Serving(s) => serving::run(s, &figure.file, &mut out)?,
        FigureBody::Chips(c) => chips::run(c, &mut out),
        FigureBody::Systolic(s) => systolic::run(s, &mut out),
        FigureBody::Claims(c) => claims::run(c, earlier, &mut out),
        FigureBody::CacheSplit(c) => cache_split::run(c, &mut out),
        FigureBody::Quality(q) => match inputs {
            FigureInputs::Scores(cache) => quality::run(q, cache, &mut out),
            _ => return Err(missing("the score cache of its space")),
        },
        FigureBody::TrainingSweep(t) => match inputs {
            FigureInputs::Scores(cache) => training_sweep::run(t, cache, &mut out),
            _ => return Err(missing("the score cache of its space")),
        },
        FigureBody::IsoQuality(f) => match inputs {
            FigureInputs::Sources(sources) => iso_quality::run(f, sources, &mut out),
            _ => return Err(missing("the evaluation sources of its space")),
        },
    }
    Ok(out)
}

// ---------- loading ----------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RawKind {
    AccelServing,
    AreaPower,
    Systolic,
    Claims,
    CacheSplit,
    Quality,
    IsoQuality,
    TrainingSweep,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFigure {
    figure: String,
    title: String,
    paper: String,
    kind: RawKind,
    #[serde(default)]
    description: String,
    serving: Option<serving::RawServing>,
    chips: Option<chips::RawChips>,
    systolic: Option<systolic::RawSystolic>,
    claims: Option<Vec<claims::RawClaim>>,
    cache_split: Option<cache_split::RawCacheSplit>,
    quality: Option<quality::RawQuality>,
    iso_quality: Option<iso_quality::RawIsoQuality>,
    training_sweep: Option<training_sweep::RawTrainingSweep>,
}

fn finish<T>(issues: Issues, value: Option<T>) -> Result<T, InputError> {
    match value {
        Some(v) if issues.is_empty() => Ok(v),
        _ => {
            let mut list = issues.list;
            if list.is_empty() {
                list.push(Issue {
                    file: String::new(),
                    position: None,
                    path: String::new(),
                    message: "invalid figure file".into(),
                });
            }
            Err(InputError { issues: list })
        }
    }
}

/// A path written in a figure file, resolved against the file's folder.
/// Record every `(field, value)` that is not a finite number > 0 (tolerances, thresholds).
pub(crate) fn require_positive(issues: &mut Issues, fields: &[(&str, f64)]) {
    for &(field, v) in fields {
        if !(v.is_finite() && v > 0.0) {
            issues.push(None, field, format!("must be a positive number, got {v}"));
        }
    }
}

/// The design space a figure file names at `file` (relative to its folder); its problems go to `issues`.
pub(crate) fn load_figure_space(base_dir: &Path, file: &str, issues: &mut Issues) -> Option<crate::spec::Space> {
    match crate::spec::load_space(&resolve(base_dir, file)) {
        Ok(s) => Some(s),
        Err(e) => {
            issues.extend(e.issues);
            None
        }
    }
}

pub(crate) fn resolve(base_dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}

/// Parse a figure file's text. `file` names it in messages; relative paths inside resolve against
/// `base_dir` (the file's folder). Files the figure names (published CSVs, accelerator descriptions) are read.
pub fn parse_figure(text: &str, file: &str, base_dir: &Path) -> Result<Figure, InputError> {
    let raw: RawFigure = crate::input::parse_yaml(text, file)?;
    let mut problems = Issues::new(file);
    if raw.figure.is_empty() || !raw.figure.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        problems.push(
            None,
            "figure",
            format!("must be a non-empty name of letters, digits, '-' or '_', got '{}'", raw.figure),
        );
    }
    let sections = [
        ("serving", raw.serving.is_some(), matches!(raw.kind, RawKind::AccelServing)),
        ("chips", raw.chips.is_some(), matches!(raw.kind, RawKind::AreaPower)),
        ("systolic", raw.systolic.is_some(), matches!(raw.kind, RawKind::Systolic)),
        ("claims", raw.claims.is_some(), matches!(raw.kind, RawKind::Claims)),
        ("cache_split", raw.cache_split.is_some(), matches!(raw.kind, RawKind::CacheSplit)),
        ("quality", raw.quality.is_some(), matches!(raw.kind, RawKind::Quality)),
        ("iso_quality", raw.iso_quality.is_some(), matches!(raw.kind, RawKind::IsoQuality)),
        ("training_sweep", raw.training_sweep.is_some(), matches!(raw.kind, RawKind::TrainingSweep)),
    ];
    let kind_name = match raw.kind {
        RawKind::AccelServing => "accel-serving",
        RawKind::AreaPower => "area-power",
        RawKind::Systolic => "systolic",
        RawKind::Claims => "claims",
        RawKind::CacheSplit => "cache-split",
        RawKind::Quality => "quality",
        RawKind::IsoQuality => "iso-quality",
        RawKind::TrainingSweep => "training-sweep",
    };
    for (name, present, wanted) in sections {
        if wanted && !present {
            problems.push(None, name, format!("required for kind '{kind_name}'"));
        }
        if present && !wanted {
            problems.push(None, name, format!("not allowed for kind '{kind_name}'"));
        }
    }
    let body = match raw.kind {
        RawKind::AccelServing => {
            raw.serving.and_then(|s| serving::load(s, base_dir, &mut problems)).map(FigureBody::Serving)
        }
        RawKind::AreaPower => raw.chips.and_then(|c| chips::load(c, base_dir, &mut problems)).map(FigureBody::Chips),
        RawKind::Systolic => {
            raw.systolic.and_then(|s| systolic::load(s, base_dir, &mut problems)).map(FigureBody::Systolic)
        }
        RawKind::Claims => raw.claims.and_then(|c| claims::load(c, &mut problems)).map(FigureBody::Claims),
        RawKind::CacheSplit => {
            raw.cache_split.and_then(|c| cache_split::load(c, base_dir, &mut problems)).map(FigureBody::CacheSplit)
        }
        RawKind::Quality => raw
            .quality
            .and_then(|q| quality::load(q, base_dir, &mut problems))
            .map(|q| FigureBody::Quality(Box::new(q))),
        RawKind::IsoQuality => raw
            .iso_quality
            .and_then(|q| iso_quality::load(q, base_dir, &mut problems))
            .map(|q| FigureBody::IsoQuality(Box::new(q))),
        RawKind::TrainingSweep => raw
            .training_sweep
            .and_then(|t| training_sweep::load(t, base_dir, &mut problems))
            .map(|t| FigureBody::TrainingSweep(Box::new(t))),
    };
    let figure = body.map(|body| Figure {
        id: raw.figure,
        title: raw.title,
        paper: raw.paper,
        description: raw.description,
        file: file.to_string(),
        body,
    });
    finish(problems, figure)
}

/// Read and parse a figure file.
pub fn load_figure(path: &Path) -> Result<Figure, InputError> {
    let (file, text) = crate::input::read_file(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse_figure(&text, &file, &base)
}

/// Order `figures` so that every figure comes after those it depends on; `Err` names a missing dependency.
pub fn order_by_dependencies(figures: Vec<Figure>) -> Result<Vec<Figure>, String> {
    let ids: Vec<String> = figures.iter().map(|f| f.id.clone()).collect();
    for f in &figures {
        for d in f.dependencies() {
            if !ids.contains(&d) {
                return Err(format!("{}: needs figure '{d}', which is not in this run", f.file));
            }
        }
    }
    let (mut plain, mut dependent): (Vec<Figure>, Vec<Figure>) =
        figures.into_iter().partition(|f| f.dependencies().is_empty());
    plain.append(&mut dependent);
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_and_verdicts() {
        assert!(Tolerance::Absolute(0.1).holds(2.05, 2.0));
        assert!(!Tolerance::Absolute(0.1).holds(2.2, 2.0));
        assert!(Tolerance::Relative(0.005).holds(26.517, 26.52));
        assert!(!Tolerance::Relative(0.001).holds(26.4, 26.52));
        let c = compare_numbers("g", "x".into(), 2.0, 2.2, "ms", Tolerance::Absolute(0.1), "jitter");
        assert_eq!(c.verdict, Verdict::Differs { reason: "jitter".into() });
        assert_eq!(c.difference, "+0.2000 ms (+10.00 %)");
        let c = compare_numbers("g", "x".into(), 2.0, 1.95, "ms", Tolerance::Absolute(0.1), "jitter");
        assert_eq!(c.verdict.describe(), "matches (±0.1000 ms)");
    }

    #[test]
    fn kind_sections_are_checked() {
        let text = "figure: f\ntitle: t\npaper: Fig. 1\nkind: systolic\n";
        let err = parse_figure(text, "f.yaml", Path::new(".")).unwrap_err().to_string();
        assert!(err.contains("f.yaml: systolic: required for kind 'systolic'"), "{err}");
        let text = "figure: 'a b'\ntitle: t\npaper: Fig. 1\nkind: claims\nclaims: []\nchips: {designs: []}\n";
        let err = parse_figure(text, "f.yaml", Path::new(".")).unwrap_err().to_string();
        assert!(err.contains("figure: must be a non-empty name"), "{err}");
        assert!(err.contains("chips: not allowed for kind 'claims'"), "{err}");
        let err = parse_figure("figure: f\ntitle: t\npaper: p\nkind: movie\n", "f.yaml", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("f.yaml:4") && err.contains("movie"), "{err}");
    }
}
