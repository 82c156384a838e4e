//! Design-space specification: YAML → raw serde structs (unknown fields rejected) → validation that reports
//! every problem at once → a typed [`Space`] whose points are mixed-radix [`PointId`]s.
//!
//! The field-by-field reference is `spaces/SPEC.md`. Parsing is pure: [`parse_space`] takes the text, the
//! name to use in messages and the directory relative paths resolve against; [`load_space`] reads a file.

mod error;
pub mod metric;
pub mod model;
pub(crate) mod raw;
mod space;
mod validate;

pub(crate) use error::Issues;
pub use error::{SpecErrors, SpecIssue};
pub use space::*;

use std::path::Path;

/// Parse and validate a design space from YAML text.
pub fn parse_space(text: &str, file: &str, base_dir: &Path) -> Result<Space, SpecErrors> {
    let raw: raw::RawSpace = parse_yaml(text, file)?;
    validate::validate(raw, file, base_dir)
}

/// Read, parse and validate a design-space file; relative paths inside resolve against the working directory.
pub fn load_space(path: &Path) -> Result<Space, SpecErrors> {
    let (file, text) = read_file(path)?;
    parse_space(&text, &file, Path::new("."))
}

/// Read a YAML input file whole: (the name to use in messages, its text), or one issue naming the file.
pub fn read_file(path: &Path) -> Result<(String, String), SpecErrors> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((file, text)),
        Err(e) => Err(SpecErrors {
            issues: vec![SpecIssue {
                file,
                position: None,
                path: String::new(),
                message: format!("cannot read file: {e}"),
            }],
        }),
    }
}

/// 1-based (line, column) of a spanned YAML value, when the parser knows it.
pub fn position<T>(value: &serde_saphyr::Spanned<T>) -> Option<(u64, u64)> {
    let loc = value.referenced;
    (loc.line() > 0).then(|| (loc.line(), loc.column()))
}

/// Deserialize YAML into `T`, turning a syntax or type error into one issue with the parser's position and
/// the field path where it happened.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, SpecErrors> {
    let field_path = std::cell::RefCell::new(String::new());
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            *field_path.borrow_mut() = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|err| {
        let position = err.location().filter(|l| l.line() > 0).map(|l| (l.line(), l.column()));
        let path = field_path.into_inner();
        SpecErrors {
            issues: vec![SpecIssue {
                file: file.to_string(),
                position,
                path: if path == "." { String::new() } else { path.replace(".value", "") },
                message: parser_message(&err.to_string()),
            }],
        }
    })
}

/// The parser's message without its source snippet and without the position we print ourselves.
fn parser_message(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // "line 12 column 1: unknown field ..." → "unknown field ..."
    let message = match first.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((coords, rest)) if coords.contains("column") => rest,
        _ => first,
    };
    match message {
        "invalid i64" | "invalid u64" => "expected an integer".to_string(),
        "invalid f64" => "expected a number".to_string(),
        "invalid bool" | "invalid boolean" => "expected true or false".to_string(),
        other => other.to_string(),
    }
}
