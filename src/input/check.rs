//! [`Checker`]: the field rules shared by every validator (integers and numbers in ranges, lists, one-of
//! choices, required and unused fields, files named relative to the input). Each rule records an [`Issue`]
//! naming the field path and the offending value and returns `None`, so a validator reports every problem
//! of a file at once.
//!
//! Choices are the `clap::ValueEnum` enums the command line uses too, so a list of allowed words is
//! declared once, on its enum, and `--help` and the file validators agree.

use super::{position, InputError, Issues};
use clap::ValueEnum;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};

type Sp<T> = Spanned<T>;

/// Validation context of one input file: the issues found so far and the folder its relative paths resolve
/// against.
pub struct Checker<'a> {
    /// Problems found so far.
    pub issues: Issues,
    base_dir: &'a Path,
}

/// The names of a choice enum's values, `a|b|c`, as `--help` lists them.
pub fn choice_names<T: ValueEnum>() -> String {
    T::value_variants()
        .iter()
        .filter_map(|v| v.to_possible_value())
        .map(|p| p.get_name().to_string())
        .collect::<Vec<_>>()
        .join("|")
}

/// The value of a choice enum named `word`, if any.
pub fn parse_choice<T: ValueEnum + Clone>(word: &str) -> Option<T> {
    T::value_variants().iter().find(|v| v.to_possible_value().is_some_and(|p| p.get_name() == word)).cloned()
}

/// The name of a choice enum's value, as written in files and on the command line.
pub fn choice_name<T: ValueEnum>(value: &T) -> String {
    value.to_possible_value().map(|p| p.get_name().to_string()).unwrap_or_default()
}

impl<'a> Checker<'a> {
    /// A checker for `file`, resolving relative paths against `base_dir`.
    pub fn new(file: &str, base_dir: &'a Path) -> Self {
        Checker { issues: Issues::new(file), base_dir }
    }

    /// `Ok(value)` when no problem was recorded, else every problem.
    pub fn finish<T>(self, value: T) -> Result<T, InputError> {
        self.issues.finish(value)
    }

    /// Record a problem at `path`, positioned at the spanned value `at`.
    pub fn err<T>(&mut self, at: &Sp<T>, path: &str, message: String) {
        self.issues.push(position(at), path, message);
    }

    /// Record a problem at `path` with an optional position.
    pub fn err_at(&mut self, at: Option<(u64, u64)>, path: &str, message: String) {
        self.issues.push(at, path, message);
    }

    /// Record a missing required field, saying what it should hold.
    pub fn missing(&mut self, path: &str, what: &str) {
        self.missing_at(None, path, what);
    }

    /// Record a missing required field, positioned at its parent.
    pub fn missing_at(&mut self, at: Option<(u64, u64)>, path: &str, what: &str) {
        self.issues.push(at, path, format!("missing required field ({what})"));
    }

    /// A field that must not be given in this context.
    pub fn unused<T>(&mut self, v: &Option<Sp<T>>, path: &str, why: &str) {
        if let Some(v) = v {
            self.err(v, path, format!("not used {why}; remove it"));
        }
    }

    /// An integer ≥ `min`.
    pub fn int_at_least(&mut self, v: &Sp<i64>, path: &str, min: i64) -> Option<u64> {
        if v.value < min {
            self.err(v, path, format!("must be ≥ {min}, got {}", v.value));
            None
        } else {
            Some(v.value as u64)
        }
    }

    /// An optional integer ≥ `min`, `default` when absent.
    pub fn opt_int(&mut self, v: &Option<Sp<i64>>, path: &str, min: i64, default: u64) -> Option<u64> {
        match v {
            Some(v) => self.int_at_least(v, path, min),
            None => Some(default),
        }
    }

    /// A required integer ≥ `min`.
    pub fn req_int(&mut self, v: &Option<Sp<i64>>, path: &str, min: i64, what: &str) -> Option<u64> {
        match v {
            Some(v) => self.int_at_least(v, path, min),
            None => {
                self.missing(path, what);
                None
            }
        }
    }

    /// An integer in `[min, max]`; `default` when absent (required when `default` is `None`).
    pub fn int_in(&mut self, v: &Option<Sp<i64>>, path: &str, min: i64, max: i64, default: Option<u64>) -> Option<u64> {
        match v {
            None if default.is_some() => default,
            None => {
                self.missing(path, &format!("an integer ≥ {min}"));
                None
            }
            Some(x) if x.value < min || x.value > max => {
                let range = if max == i64::MAX { format!("≥ {min}") } else { format!("in [{min}, {max}]") };
                self.err(x, path, format!("must be an integer {range}, got {}", x.value));
                None
            }
            Some(x) => Some(x.value as u64),
        }
    }

    /// A finite number > 0.
    pub fn positive_f64(&mut self, v: &Sp<f64>, path: &str) -> Option<f64> {
        if v.value.is_finite() && v.value > 0.0 {
            Some(v.value)
        } else {
            self.err(v, path, format!("must be a positive number, got {}", v.value));
            None
        }
    }

    /// An optional positive number: `Some(None)` when absent, `None` (an issue recorded) when invalid.
    pub fn opt_positive_f64(&mut self, v: &Option<Sp<f64>>, path: &str) -> Option<Option<f64>> {
        match v {
            Some(b) => self.positive_f64(b, path).map(Some),
            None => Some(None),
        }
    }

    /// A finite number with `lo < x` (or `lo ≤ x` when `lo_inclusive`) and `x < hi`.
    pub fn num_in(&mut self, v: &Sp<f64>, path: &str, lo: f64, lo_inclusive: bool, hi: f64) -> Option<f64> {
        let x = v.value;
        let ok = x.is_finite() && (if lo_inclusive { x >= lo } else { x > lo }) && x < hi;
        if ok {
            return Some(x);
        }
        let range = match (lo_inclusive, hi.is_finite()) {
            (true, false) => format!("≥ {lo}"),
            (false, false) => format!("> {lo}"),
            (true, true) => format!("in [{lo}, {hi})"),
            (false, true) => format!("in ({lo}, {hi})"),
        };
        self.err(v, path, format!("must be a number {range}, got {x}"));
        None
    }

    /// [`Checker::num_in`] with `default` when absent.
    pub fn opt_num_in(
        &mut self,
        v: &Option<Sp<f64>>,
        path: &str,
        (lo, lo_inclusive, hi): (f64, bool, f64),
        default: f64,
    ) -> Option<f64> {
        match v {
            None => Some(default),
            Some(v) => self.num_in(v, path, lo, lo_inclusive, hi),
        }
    }

    /// A non-empty list of integers ≥ `min` (at most `u32::MAX`), without duplicates.
    pub fn int_list(&mut self, list: &Option<Vec<Sp<i64>>>, path: &str, min: i64, what: &str) -> Option<Vec<u32>> {
        let Some(list) = list else {
            self.missing(path, what);
            return None;
        };
        if list.is_empty() {
            self.issues.push(None, path, format!("must list at least one value ({what})"));
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for (i, v) in list.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if v.value > u32::MAX as i64 {
                self.err(v, &p, format!("too large, got {}", v.value));
                ok = false;
            } else if let Some(x) = self.int_at_least(v, &p, min) {
                if out.contains(&(x as u32)) {
                    self.err(v, &p, format!("duplicate value {x}"));
                    ok = false;
                }
                out.push(x as u32);
            } else {
                ok = false;
            }
        }
        ok.then_some(out)
    }

    /// One value of the choice enum `T` by its name; `default` applies when the field is absent (else it is
    /// required). `what` names the kind of choice in the message.
    pub fn choice<T: ValueEnum + Clone>(
        &mut self,
        v: &Option<Sp<String>>,
        path: &str,
        what: &str,
        default: Option<T>,
    ) -> Option<T> {
        match v {
            None if default.is_some() => default,
            None => {
                self.missing(path, &choice_names::<T>());
                None
            }
            Some(word) => match parse_choice::<T>(&word.value) {
                Some(value) => Some(value),
                None => {
                    self.err(word, path, format!("unknown {what} '{}' (expected {})", word.value, choice_names::<T>()));
                    None
                }
            },
        }
    }

    /// `rel` resolved against the input's folder (absolute paths are kept).
    pub fn resolve(&self, rel: &str) -> PathBuf {
        self.base_dir.join(rel)
    }

    /// Whether the file `rel` names exists.
    pub fn file_exists(&self, rel: &str) -> bool {
        self.resolve(rel).exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
    enum Colour {
        Red,
        DeepBlue,
    }

    #[test]
    fn choices_list_the_enum_names() {
        assert_eq!(choice_names::<Colour>(), "red|deep-blue");
        assert_eq!(parse_choice::<Colour>("deep-blue"), Some(Colour::DeepBlue));
        assert_eq!(parse_choice::<Colour>("green"), None);
        assert_eq!(choice_name(&Colour::Red), "red");
    }

    #[test]
    fn every_rule_records_path_and_value() {
        let mut cx = Checker::new("f.yaml", Path::new("."));
        let values: Vec<Sp<i64>> = serde_saphyr::from_str("[0, 2, 2]").unwrap();
        assert_eq!(cx.int_in(&Some(values[0].clone()), "a.b", 1, 10, None), None);
        assert_eq!(cx.int_list(&Some(values[1..].to_vec()), "xs", 1, "sizes"), None);
        assert_eq!(cx.choice::<Colour>(&None, "colour", "colour", None), None);
        let e = cx.finish(()).unwrap_err().to_string();
        assert!(e.contains("f.yaml:1:2: a.b: must be an integer in [1, 10], got 0"), "{e}");
        assert!(e.contains("f.yaml:1:8: xs[1]: duplicate value 2"), "{e}");
        assert!(e.contains("f.yaml: colour: missing required field (red|deep-blue)"), "{e}");
    }
}
