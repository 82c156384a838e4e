//! The validation toolkit every input reader uses: one [`Issue`] type (file, line:column, field path,
//! message naming the value), one YAML reader ([`parse_yaml`]) and one JSON reader for RecPipe's configs ([`parse_json`]) and one set of field rules ([`Checker`]).
//!
//! Design-space files (`spec`), pipeline files (`sim::pipeline_file`), accelerator and model descriptions
//! (`accel`), figure files and published-number CSVs (`reproduce`) all report through it, so every message
//! has the same shape: `file:line:column: field.path: what is wrong, got <value>`.

mod check;
mod issue;
mod json;
mod yaml;

pub use check::{choice_name, choice_names, parse_choice, Checker};
pub use issue::{InputError, Issue, Issues};
pub use json::parse_json;
pub use yaml::{parse_yaml, position, read_file};
