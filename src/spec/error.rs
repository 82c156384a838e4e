//! Problems found in a design-space file, each with file, position (when known), field path and message.

use std::fmt;

/// One problem in a design-space file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecIssue {
    /// The file the problem is in, as the user named it.
    pub file: String,
    /// 1-based line and column where the YAML parser knows them.
    pub position: Option<(u64, u64)>,
    /// Field path, e.g. `pipelines[1].backends[0][1]`; empty for document-level problems.
    pub path: String,
    /// What is wrong, naming the offending value and what is allowed.
    pub message: String,
}

impl fmt::Display for SpecIssue {
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

/// Every problem found in one design-space file (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors {
    /// The problems, in document order of discovery.
    pub issues: Vec<SpecIssue>,
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for issue in &self.issues {
            writeln!(f, "{issue}")?;
        }
        let n = self.issues.len();
        write!(f, "{n} problem{} found", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for SpecErrors {}

/// Collects issues for one file while validating.
#[derive(Debug)]
pub(crate) struct Issues {
    file: String,
    pub(crate) list: Vec<SpecIssue>,
}

impl Issues {
    pub(crate) fn new(file: &str) -> Self {
        Issues { file: file.to_string(), list: Vec::new() }
    }

    /// Record a problem at `path`, with an optional source position.
    pub(crate) fn push(&mut self, position: Option<(u64, u64)>, path: impl Into<String>, message: impl Into<String>) {
        self.list.push(SpecIssue { file: self.file.clone(), position, path: path.into(), message: message.into() });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Problems found so far.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Record problems reported by another file's reader (their own file names and positions are kept).
    pub(crate) fn extend(&mut self, issues: impl IntoIterator<Item = SpecIssue>) {
        self.list.extend(issues);
    }
}
