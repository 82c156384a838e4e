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

pub use error::{SpecErrors, SpecIssue};
pub use space::*;

use std::path::Path;

/// Parse and validate a design space from YAML text.
pub fn parse_space(text: &str, file: &str, base_dir: &Path) -> Result<Space, SpecErrors> {
    let raw: raw::RawSpace = serde_saphyr::from_str(text).map_err(|e| yaml_error(&e, file))?;
    validate::validate(raw, file, base_dir)
}

/// Read, parse and validate a design-space file; relative paths inside resolve against the working directory.
pub fn load_space(path: &Path) -> Result<Space, SpecErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SpecErrors {
        issues: vec![SpecIssue { file: file.clone(), position: None, path: String::new(), message: format!("cannot read file: {e}") }],
    })?;
    parse_space(&text, &file, Path::new("."))
}

/// Convert a YAML/serde error into one issue with the parser's position.
fn yaml_error(err: &serde_saphyr::Error, file: &str) -> SpecErrors {
    let position = err.location().filter(|l| l.line() > 0).map(|l| (l.line(), l.column()));
    let mut message = err.to_string();
    // The parser's rendering may add a source snippet after the first line; keep the first line only and
    // strip a trailing position that we print ourselves.
    if let Some(first) = message.lines().next() {
        message = first.trim().to_string();
    }
    SpecErrors { issues: vec![SpecIssue { file: file.to_string(), position, path: String::new(), message }] }
}
