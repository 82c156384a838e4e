//! Writer for rows in the exact format of the Criteo Kaggle `train.txt`: label, 13 integer fields and 26
//! categorical fields of 8 lowercase hex digits, tab-separated, one row per `\n`-terminated line; a missing
//! value is an empty field. Used to produce small files in the real format (tests, benchmarks) from the
//! synthetic generator; [`super::criteo`] reads them back.
use super::{DENSE, SPARSE};
use std::io::Write;

/// One Criteo row before preprocessing, as the file stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawCriteoRow {
    /// Click label, 0 or 1.
    pub label: u8,
    /// The 13 integer features (`None` = empty field).
    pub dense: [Option<i64>; DENSE],
    /// The 26 categorical features as 32-bit values (`None` = empty field).
    pub categorical: [Option<u32>; SPARSE],
}

/// Append `row` as one line (with its `\n`) to `out`.
pub fn format_row(row: &RawCriteoRow, out: &mut Vec<u8>) {
    out.push(b'0' + row.label.min(1));
    for x in &row.dense {
        out.push(b'\t');
        if let Some(x) = x {
            // Writing to a Vec cannot fail.
            let _ = write!(out, "{x}");
        }
    }
    for c in &row.categorical {
        out.push(b'\t');
        if let Some(c) = c {
            let _ = write!(out, "{c:08x}");
        }
    }
    out.push(b'\n');
}

/// Write `rows` to `w`; returns the bytes written.
pub fn write_rows<'a>(w: &mut impl Write, rows: impl IntoIterator<Item = &'a RawCriteoRow>) -> std::io::Result<u64> {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut written = 0u64;
    for row in rows {
        format_row(row, &mut buf);
        if buf.len() >= 1 << 16 {
            w.write_all(&buf)?;
            written += buf.len() as u64;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    Ok(written + buf.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_a_line_with_empty_fields() {
        let mut dense = [None; DENSE];
        dense[0] = Some(3);
        dense[12] = Some(-1);
        let mut categorical = [None; SPARSE];
        categorical[0] = Some(0x68fd_1e64);
        categorical[25] = Some(7);
        let mut out = Vec::new();
        format_row(&RawCriteoRow { label: 1, dense, categorical }, &mut out);
        let text = String::from_utf8(out).unwrap();
        let fields: Vec<&str> = text.trim_end_matches('\n').split('\t').collect();
        assert_eq!(fields.len(), 40);
        assert_eq!((fields[0], fields[1], fields[2], fields[13]), ("1", "3", "", "-1"));
        assert_eq!((fields[14], fields[15], fields[39]), ("68fd1e64", "", "00000007"));
        assert!(text.ends_with('\n'));
    }
}
