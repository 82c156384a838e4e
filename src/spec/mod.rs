//! Design-space specification: YAML → raw serde structs (unknown fields rejected) → validation that reports
//! every problem at once → a typed [`Space`] whose points are mixed-radix [`PointId`]s.
//!
//! The field-by-field reference is `spaces/SPEC.md`. Parsing is pure: [`parse_space`] takes the text, the
//! name to use in messages and the directory relative paths resolve against; [`load_space`] reads a file.

pub mod metric;
pub mod overrides;
pub(crate) mod raw;
mod space;
mod validate;

use crate::input::{parse_yaml, read_file, InputError};
pub use space::*;

use std::path::Path;

/// Parse and validate a design space from YAML text.
pub fn parse_space(text: &str, file: &str, base_dir: &Path) -> Result<Space, InputError> {
    let raw: raw::RawSpace = parse_yaml(text, file)?;
    validate::validate(raw, file, base_dir)
}

/// Read, parse and validate a design-space file; relative paths inside resolve against the working directory.
pub fn load_space(path: &Path) -> Result<Space, InputError> {
    load_space_with(path, &[])
}

/// [`load_space`] with `--set key=value` overrides ([`overrides`]) applied before validation.
pub fn load_space_with(path: &Path, sets: &[String]) -> Result<Space, InputError> {
    let (file, text) = read_file(path)?;
    if sets.is_empty() {
        return parse_space(&text, &file, Path::new("."));
    }
    let parsed = sets.iter().map(|s| overrides::parse_override(s)).collect::<Result<Vec<_>, _>>()?;
    let (doc, label) = overrides::apply_overrides(&text, &file, &parsed)?;
    parse_space(&doc, &label, Path::new("."))
}
