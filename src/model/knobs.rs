//! List-valued architecture knobs of family blocks: a field may hold one value or a list of values, and the
//! block names one architecture per combination. Layer widths may use `d` (or a multiple, `2d`, `4d`) for the
//! variant's embedding dimension, so `bottom_mlp: [[13, 64, d], [13, 512, 256, 64, d]]` with `embedding_dim: [4, 8]` names four
//! bottom MLPs, each ending at its own `d`.
//!
//! Every problem names the field path (with the list index of the bad value where there is one) and the value.

use crate::input::{choice_names, parse_choice, Checker};
use clap::ValueEnum;
use serde::Deserialize;
use serde_saphyr::Spanned as Sp;

/// Widest layer or embedding a block may ask for (elements).
pub const MAX_WIDTH: i64 = 1 << 20;

/// A scalar or a list of scalars.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "a value or a list of values")]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// One value per variant.
    Many(Vec<T>),
    /// A scalar of another type, kept so that the error can name it.
    Other(Scalar),
}

/// Any YAML scalar, as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// A boolean.
    Flag(bool),
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Flag(b) => write!(f, "{b}"),
            Scalar::Number(x) => write!(f, "{x}"),
            Scalar::Text(t) => write!(f, "'{t}'"),
        }
    }
}

impl<T> OneOrMany<T> {
    /// The values, one or many (`many` tells which form was written); `Err` with the scalar of another type.
    fn values(&self) -> Result<(Vec<&T>, bool), &Scalar> {
        match self {
            OneOrMany::One(v) => Ok((vec![v], false)),
            OneOrMany::Many(v) => Ok((v.iter().collect(), true)),
            OneOrMany::Other(s) => Err(s),
        }
    }
}

/// A layer width: a number of elements, or `d` for the variant's embedding dimension.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged, expecting = "a layer width (a number, d or a multiple such as 2d)")]
pub enum Width {
    /// Elements.
    Value(i64),
    /// A multiple of the embedding dimension: `d`, `2d`, `4d`, …
    Name(String),
}

/// One width list, or a list of width lists (one per variant).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged, expecting = "a list of layer widths, or a list of such lists (one per variant)")]
pub enum LayerChoices {
    /// One layer list.
    One(Vec<Width>),
    /// One layer list per variant.
    Many(Vec<Vec<Width>>),
    /// A scalar, kept so that the error can name it.
    Other(Scalar),
}

/// The values of an integer knob, each in `[min, MAX_WIDTH]`, without repeats; `None` (after reporting) when
/// the field is missing or a value is bad.
pub fn ints(cx: &mut Checker, v: &Option<Sp<OneOrMany<i64>>>, path: &str, min: i64, what: &str) -> Option<Vec<u32>> {
    let Some(v) = v else {
        cx.missing(path, what);
        return None;
    };
    let (values, many) = match v.value.values() {
        Ok(values) => values,
        Err(other) => {
            cx.err(v, path, format!("must be an integer or a list of integers, got {other}"));
            return None;
        }
    };
    if values.is_empty() {
        cx.err(v, path, "must list at least one value".into());
        return None;
    }
    let mut out: Vec<u32> = Vec::new();
    let mut ok = true;
    for (i, &&x) in values.iter().enumerate() {
        let at = if many { format!("{path}[{i}]") } else { path.to_string() };
        if x < min || x > MAX_WIDTH {
            cx.err(v, &at, format!("must be an integer in [{min}, {MAX_WIDTH}], got {x}"));
            ok = false;
        } else if out.contains(&(x as u32)) {
            cx.err(v, &at, format!("repeats the value {x}"));
            ok = false;
        } else {
            out.push(x as u32);
        }
    }
    ok.then_some(out)
}

/// The width lists of a layer knob; every width is 1..=`MAX_WIDTH` or `d` (when `allow_d`).
pub fn layers(
    cx: &mut Checker,
    v: &Option<Sp<LayerChoices>>,
    path: &str,
    allow_d: bool,
    what: &str,
) -> Option<Vec<Vec<Width>>> {
    let Some(v) = v else {
        cx.missing(path, what);
        return None;
    };
    let (lists, many): (Vec<&Vec<Width>>, bool) = match &v.value {
        LayerChoices::One(l) => (vec![l], false),
        LayerChoices::Many(ls) => (ls.iter().collect(), true),
        LayerChoices::Other(other) => {
            cx.err(v, path, format!("must be a list of layer widths or a list of such lists, got {other}"));
            return None;
        }
    };
    if lists.is_empty() {
        cx.err(v, path, "must list at least one layer list".into());
        return None;
    }
    let mut ok = true;
    for (i, list) in lists.iter().enumerate() {
        let at = if many { format!("{path}[{i}]") } else { path.to_string() };
        if list.is_empty() {
            cx.err(v, &at, "must list at least one layer width".into());
            ok = false;
            continue;
        }
        for w in list.iter() {
            match w {
                Width::Value(x) if !(1..=MAX_WIDTH).contains(x) => {
                    cx.err(v, &at, format!("layer widths must be between 1 and {MAX_WIDTH}, got {x}"));
                    ok = false;
                }
                Width::Name(n) if !(allow_d && multiple_of_d(n).is_some()) => {
                    let allowed = if allow_d {
                        "a width, d (the embedding dimension) or a multiple such as 2d"
                    } else {
                        "a width"
                    };
                    cx.err(v, &at, format!("layer widths must be {allowed}, got '{n}'"));
                    ok = false;
                }
                _ => {}
            }
        }
    }
    ok.then(|| lists.into_iter().cloned().collect())
}

/// The values of a choice knob (`T` a `clap::ValueEnum`); `default` when the field is absent.
pub fn choices<T: ValueEnum + Clone + PartialEq>(
    cx: &mut Checker,
    v: &Option<Sp<OneOrMany<String>>>,
    path: &str,
    what: &str,
    default: T,
) -> Option<Vec<T>> {
    let Some(v) = v else { return Some(vec![default]) };
    let (words, many) = match v.value.values() {
        Ok(words) => words,
        Err(other) => {
            cx.err(v, path, format!("must be a {what} or a list of them ({}), got {other}", choice_names::<T>()));
            return None;
        }
    };
    if words.is_empty() {
        cx.err(v, path, "must list at least one value".into());
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, w) in words.iter().enumerate() {
        let at = if many { format!("{path}[{i}]") } else { path.to_string() };
        match parse_choice::<T>(w) {
            Some(x) if out.contains(&x) => {
                cx.err(v, &at, format!("repeats the value '{w}'"));
                ok = false;
            }
            Some(x) => out.push(x),
            None => {
                cx.err(v, &at, format!("unknown {what} '{w}' (expected {})", choice_names::<T>()));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// The factor of a `d` name: `d` → 1, `2d` → 2; `None` for other words.
fn multiple_of_d(name: &str) -> Option<u32> {
    let factor = name.strip_suffix('d')?;
    if factor.is_empty() {
        return Some(1);
    }
    factor.parse::<u32>().ok().filter(|&k| (1..=64).contains(&k))
}

/// `widths` with `d` (and `kd`) replaced by `dim` (and `k·dim`).
pub fn resolve(widths: &[Width], dim: u32) -> Vec<u32> {
    widths
        .iter()
        .map(|w| match w {
            Width::Value(x) => *x as u32,
            Width::Name(n) => multiple_of_d(n).unwrap_or(1) * dim,
        })
        .collect()
}

/// A variant label from the knobs with more than one value: `(prefix, index or value, values)` parts give e.g.
/// `d8-b1` (parts with a single value are left out).
pub fn label(parts: &[(&str, String, usize)]) -> String {
    parts.iter().filter(|(_, _, n)| *n > 1).map(|(p, v, _)| format!("{p}{v}")).collect::<Vec<_>>().join("-")
}

/// The cartesian product of index ranges `0..counts[i]`, first knob slowest.
pub fn combinations(counts: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &n in counts {
        out = out.into_iter().flat_map(|prefix| (0..n).map(move |i| [prefix.clone(), vec![i]].concat())).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_enumerate_first_knob_slowest() {
        assert_eq!(combinations(&[2, 1, 2]), vec![vec![0, 0, 0], vec![0, 0, 1], vec![1, 0, 0], vec![1, 0, 1]]);
        assert_eq!(combinations(&[]), vec![Vec::<usize>::new()]);
    }

    #[test]
    fn labels_name_only_multi_valued_knobs() {
        assert_eq!(label(&[("d", "8".into(), 4), ("b", "1".into(), 2), ("t", "0".into(), 1)]), "d8-b1");
        assert_eq!(label(&[("d", "8".into(), 1)]), "");
    }

    #[test]
    fn d_resolves_to_the_embedding_dimension() {
        let w = vec![Width::Value(13), Width::Value(64), Width::Name("d".into())];
        assert_eq!(resolve(&w, 8), vec![13, 64, 8]);
        assert_eq!(resolve(&[Width::Name("2d".into()), Width::Value(1)], 16), vec![32, 1]);
        assert_eq!(multiple_of_d("x"), None);
        assert_eq!(multiple_of_d("0d"), None);
    }
}
