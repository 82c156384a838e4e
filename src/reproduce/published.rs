//! Published-number files: small CSVs derived from the paper and its artifact's logs, each with its
//! provenance in leading `#` comment lines, one header line naming the columns, then one row per published
//! value. Fields are plain (no quoting); multi-valued fields are `;`-separated in stage order.
//!
//! Issues are reported as `file:line: column 'name': message naming the value`.

use crate::input::{Issue, Issues};
use std::path::Path;

/// One data row: its 1-based line number and its fields, one per header column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line in the file.
    pub line: u64,
    /// Fields in header order.
    pub fields: Vec<String>,
}

/// A parsed file: header and rows.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvFile {
    /// The file, as named.
    pub file: String,
    /// Column names.
    pub columns: Vec<String>,
    /// Data rows.
    pub rows: Vec<Row>,
}

/// An issue at `file:line`.
pub(crate) fn issue_at(file: &str, line: u64, message: String) -> Issue {
    issue(file, line, message)
}

fn issue(file: &str, line: u64, message: String) -> Issue {
    Issue { file: file.to_string(), position: Some((line, 1)), path: String::new(), message }
}

/// Parse `text`; the header must hold exactly `expected` columns, in order.
pub fn parse(text: &str, file: &str, expected: &[&str]) -> Result<CsvFile, Vec<Issue>> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i as u64 + 1, l.trim_end_matches('\r')));
    let header = lines.by_ref().find(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let Some((hline, header)) = header else {
        return Err(vec![issue(file, 1, format!("no header line (expected '{}')", expected.join(",")))]);
    };
    let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
    if columns != expected {
        return Err(vec![issue(file, hline, format!("header is '{header}', expected '{}'", expected.join(",")))]);
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (n, l) in lines {
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        let fields: Vec<String> = l.split(',').map(|f| f.trim().to_string()).collect();
        if fields.len() != columns.len() {
            problems.push(issue(file, n, format!("has {} fields, expected {}", fields.len(), columns.len())));
            continue;
        }
        rows.push(Row { line: n, fields });
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(issue(file, hline, "no data rows".into()));
    }
    if problems.is_empty() {
        Ok(CsvFile { file: file.to_string(), columns, rows })
    } else {
        Err(problems)
    }
}

/// Read and parse the file a figure file names at `field` (resolved against `base_dir`, the figure file's
/// folder); a missing file or any bad line is recorded in `issues`.
pub(crate) fn read(base_dir: &Path, file: &str, columns: &[&str], field: &str, issues: &mut Issues) -> Option<CsvFile> {
    let path = super::resolve(base_dir, file);
    let name = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Err(e) => {
            issues.push(None, field, format!("cannot read '{name}': {e}"));
            None
        }
        Ok(text) => match parse(&text, &name, columns) {
            Ok(c) => Some(c),
            Err(found) => {
                issues.extend(found);
                None
            }
        },
    }
}

impl CsvFile {
    fn index(&self, column: &str) -> usize {
        self.columns.iter().position(|c| c == column).expect("column checked by parse")
    }

    fn field<'a>(&self, row: &'a Row, column: &str) -> &'a str {
        &row.fields[self.index(column)]
    }

    fn bad(&self, row: &Row, column: &str, what: &str) -> Issue {
        issue(&self.file, row.line, format!("column '{column}': {what}, got '{}'", self.field(row, column)))
    }

    /// A finite number ≥ 0.
    pub fn number(&self, row: &Row, column: &str) -> Result<f64, Issue> {
        match self.field(row, column).parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(self.bad(row, column, "must be a finite number ≥ 0")),
        }
    }

    /// A finite number ≥ 0, or `None` where the field is `word` (e.g. `unachievable`).
    pub fn number_or_word(&self, row: &Row, column: &str, word: &str) -> Result<Option<f64>, Issue> {
        if self.field(row, column) == word {
            return Ok(None);
        }
        self.number(row, column)
            .map(Some)
            .map_err(|_| self.bad(row, column, &format!("must be a number ≥ 0 or '{word}'")))
    }

    /// A positive integer.
    pub fn count(&self, row: &Row, column: &str) -> Result<u32, Issue> {
        match self.field(row, column).parse::<u32>() {
            Ok(v) if v > 0 => Ok(v),
            _ => Err(self.bad(row, column, "must be a positive integer")),
        }
    }

    /// A `;`-separated list of positive integers.
    pub fn counts(&self, row: &Row, column: &str) -> Result<Vec<u32>, Issue> {
        self.field(row, column)
            .split(';')
            .map(|v| v.trim().parse::<u32>().ok().filter(|&v| v > 0))
            .collect::<Option<Vec<u32>>>()
            .ok_or_else(|| self.bad(row, column, "must be ';'-separated positive integers"))
    }

    /// A `;`-separated list of names.
    pub fn names(&self, row: &Row, column: &str) -> Result<Vec<String>, Issue> {
        let v: Vec<String> = self.field(row, column).split(';').map(|s| s.trim().to_string()).collect();
        if v.iter().any(String::is_empty) {
            return Err(self.bad(row, column, "must be ';'-separated names"));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_header_rows_and_errors() {
        let text = "# provenance\n# more\na,b,c\n1,x;y,3;4\n\n2.5,z,5\n";
        let f = parse(text, "p.csv", &["a", "b", "c"]).unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[0].line, 4);
        assert!((f.number(&f.rows[1], "a").unwrap() - 2.5).abs() < 1e-15);
        assert_eq!(f.names(&f.rows[0], "b").unwrap(), vec!["x", "y"]);
        assert_eq!(f.counts(&f.rows[0], "c").unwrap(), vec![3, 4]);
        let err = f.number(&f.rows[0], "b").unwrap_err().to_string();
        assert_eq!(err, "p.csv:4:1: column 'b': must be a finite number ≥ 0, got 'x;y'");
        let err = parse("a,b\n1,2\n", "p.csv", &["a", "c"]).unwrap_err();
        assert_eq!(err[0].to_string(), "p.csv:1:1: header is 'a,b', expected 'a,c'");
        let err = parse("a,b\n1\n", "p.csv", &["a", "b"]).unwrap_err();
        assert_eq!(err[0].to_string(), "p.csv:2:1: has 1 fields, expected 2");
        let bad = parse("a\nNaN\n", "p.csv", &["a"]).unwrap();
        assert!(bad.number(&bad.rows[0], "a").is_err());
    }
}
