//! The one issue type of every input file the tool reads (design spaces, pipeline files, accelerator and
//! model descriptions, figure files, published-number CSVs): file, position (when known), field path, message.

use std::fmt;

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The file the problem is in, as the user named it.
    pub file: String,
    /// 1-based line and column where the YAML parser knows them.
    pub position: Option<(u64, u64)>,
    /// Field path, e.g. `pipelines[1].backends[0][1]`; empty for document-level problems.
    pub path: String,
    /// What is wrong, naming the offending value and what is allowed.
    pub message: String,
}

impl Issue {
    /// A problem at a field path whose source position is not known.
    pub fn field(file: impl Into<String>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Issue { file: file.into(), position: None, path: path.into(), message: message.into() }
    }
}

impl InputError {
    /// The one issue of a parser error at `position` and field `path` (`.` or empty for the document). A
    /// missing required field, which serde reports at its parent, is reported at its own path.
    pub(crate) fn from_parser(file: &str, position: Option<(u64, u64)>, path: &str, message: String) -> Self {
        let mut path = if path == "." { String::new() } else { path.to_string() };
        let mut message = message;
        if let Some(name) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            path = if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
            message = "missing required field".to_string();
        }
        InputError::single(file, position, &path, message)
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if self.path.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one input file and the files it names (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The problems, in order of discovery.
    pub issues: Vec<Issue>,
}

impl InputError {
    /// One problem.
    pub fn single(file: &str, position: Option<(u64, u64)>, path: &str, message: impl Into<String>) -> Self {
        InputError {
            issues: vec![Issue { file: file.to_string(), position, path: path.to_string(), message: message.into() }],
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for issue in &self.issues {
            writeln!(f, "{issue}")?;
        }
        let n = self.issues.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for InputError {}

/// Collects issues for one file while validating.
#[derive(Debug)]
pub struct Issues {
    file: String,
    /// The problems recorded, in order.
    pub list: Vec<Issue>,
}

impl Issues {
    /// An empty collection for `file`.
    pub fn new(file: &str) -> Self {
        Issues { file: file.to_string(), list: Vec::new() }
    }

    /// Record a problem at `path`, with an optional source position.
    pub fn push(&mut self, position: Option<(u64, u64)>, path: impl Into<String>, message: impl Into<String>) {
        self.list.push(Issue { file: self.file.clone(), position, path: path.into(), message: message.into() });
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Problems found so far.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Record problems reported by another file's reader (their own file names and positions are kept).
    pub fn extend(&mut self, issues: impl IntoIterator<Item = Issue>) {
        self.list.extend(issues);
    }
}

impl Issues {
    /// `Ok(value)` when nothing was recorded, else every recorded problem.
    pub fn finish<T>(self, value: T) -> Result<T, InputError> {
        if self.list.is_empty() {
            Ok(value)
        } else {
            Err(InputError { issues: self.list })
        }
    }
}
