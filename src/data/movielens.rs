//! MovieLens interaction files as implicit feedback, and the leave-one-out split.
//!
//! Three file formats are read (every rating, whatever its value, is one interaction):
//! - RecBole atomic files (`<name>.inter`, tab-separated, header `user_id:token  item_id:token  rating:float
//!   timestamp:float`), as the `recbole` 1.2.1 wheel ships MovieLens-100K and `./setup.sh` fetches it into
//!   `data/ml-100k`;
//! - MovieLens-1M `ratings.dat` (`UserID::MovieID::Rating::Timestamp`, no header);
//! - MovieLens-20M `ratings.csv` (header `userId,movieId,rating,timestamp`).
//!
//! Raw user and item tokens are remapped to dense ids `0..users` / `0..items` in order of first appearance in
//! the file (RecBole does the same, with an extra padding id 0 that we do not need). Timestamps are seconds
//! since the epoch as written in the file.
//!
//! The leave-one-out split follows RecBole's `LS` split on time-ordered interactions (He et al., WWW 2017
//! protocol): per user, interactions sorted by timestamp with equal timestamps kept in file order; the last is
//! the test item, the one before it the validation item, the rest is training data. Users with fewer than three
//! interactions keep everything in training and are not evaluated.
//!
//! Parsing ([`parse_movielens`]) is pure; [`read_movielens`] is the small loader that touches the file system.
//! Malformed files are reported with file, line and the offending value.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Which MovieLens file format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MovielensFormat {
    /// RecBole atomic `.inter` file (tab-separated, typed header), e.g. ML-100K from the recbole wheel.
    RecboleAtomic,
    /// MovieLens-1M `ratings.dat`: `user::item::rating::timestamp`.
    Ml1mDat,
    /// MovieLens-20M `ratings.csv`: header `userId,movieId,rating,timestamp`.
    Ml20mCsv,
}

impl fmt::Display for MovielensFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MovielensFormat::RecboleAtomic => "recbole-atomic",
            MovielensFormat::Ml1mDat => "ml-1m-dat",
            MovielensFormat::Ml20mCsv => "ml-20m-csv",
        })
    }
}

/// A malformed or missing MovieLens file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovielensError {
    /// The file (or directory) as named to the reader.
    pub file: String,
    /// 1-based line of the problem, when it is in a line.
    pub line: Option<usize>,
    /// What is wrong, naming the offending value.
    pub message: String,
}

impl fmt::Display for MovielensError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for MovielensError {}

/// Implicit-feedback interactions in file order, with dense ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Interactions {
    /// Dense user id per interaction, `0..user_tokens.len()`.
    pub users: Vec<u32>,
    /// Dense item id per interaction, `0..item_tokens.len()`.
    pub items: Vec<u32>,
    /// Timestamp per interaction, s since the epoch.
    pub timestamps_s: Vec<f64>,
    /// Raw user token of each dense user id.
    pub user_tokens: Vec<String>,
    /// Raw item token of each dense item id.
    pub item_tokens: Vec<String>,
    /// The format the file was in.
    pub format: MovielensFormat,
}

impl Interactions {
    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when there are no interactions.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Number of distinct users.
    pub fn user_count(&self) -> usize {
        self.user_tokens.len()
    }

    /// Number of distinct items.
    pub fn item_count(&self) -> usize {
        self.item_tokens.len()
    }

    /// A 64-bit FNV-1a ([`crate::hash`]) fingerprint of the interactions (ids, tokens, timestamps): changes
    /// whenever the data changes; used to key model and score caches.
    pub fn fingerprint(&self) -> u64 {
        let mut h = crate::hash::Fnv1a::new();
        h.write(b"movielens-interactions-v1");
        for i in 0..self.len() {
            h.write(&self.users[i].to_le_bytes());
            h.write(&self.items[i].to_le_bytes());
            h.write(&self.timestamps_s[i].to_bits().to_le_bytes());
        }
        for t in self.user_tokens.iter().chain(&self.item_tokens) {
            h.write(t.as_bytes());
            h.write(&[0]);
        }
        h.finish()
    }
}

/// Leave-one-out split of interactions (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct LooSplit {
    /// Number of users (dense ids `0..users`).
    pub users: usize,
    /// Number of items (dense ids `0..items`).
    pub items: usize,
    /// Training interactions as (user, item), in time order per user, users ascending.
    pub train: Vec<(u32, u32)>,
    /// Per user, the items of its training interactions, sorted and deduplicated.
    pub train_items: Vec<Vec<u32>>,
    /// Per user, the validation item (`None` for users with fewer than three interactions).
    pub valid: Vec<Option<u32>>,
    /// Per user, the test item (`None` for users with fewer than three interactions).
    pub test: Vec<Option<u32>>,
}

impl LooSplit {
    /// Users with a validation and a test item, ascending.
    pub fn evaluated_users(&self) -> Vec<u32> {
        (0..self.users as u32).filter(|&u| self.test[u as usize].is_some()).collect()
    }

    /// Training interaction count of every item (the popularity model's scores).
    pub fn item_train_counts(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.items];
        for &(_, i) in &self.train {
            counts[i as usize] += 1;
        }
        counts
    }

    /// Whether `item` is among `user`'s training items.
    pub fn is_train_item(&self, user: u32, item: u32) -> bool {
        self.train_items[user as usize].binary_search(&item).is_ok()
    }
}

/// Split interactions leave-one-out by time: per user the latest interaction is the test item, the one before
/// it the validation item (equal timestamps keep file order).
pub fn leave_one_out(data: &Interactions) -> LooSplit {
    let users = data.user_count();
    let mut per_user: Vec<Vec<usize>> = vec![Vec::new(); users];
    for (row, &u) in data.users.iter().enumerate() {
        per_user[u as usize].push(row);
    }
    let mut split = LooSplit {
        users,
        items: data.item_count(),
        train: Vec::with_capacity(data.len()),
        train_items: vec![Vec::new(); users],
        valid: vec![None; users],
        test: vec![None; users],
    };
    for (u, rows) in per_user.iter_mut().enumerate() {
        // Stable sort: equal timestamps keep file order.
        rows.sort_by(|&a, &b| data.timestamps_s[a].total_cmp(&data.timestamps_s[b]));
        let held_out = if rows.len() >= 3 { 2 } else { 0 };
        let train_len = rows.len() - held_out;
        if held_out == 2 {
            split.valid[u] = Some(data.items[rows[train_len]]);
            split.test[u] = Some(data.items[rows[train_len + 1]]);
        }
        let mut items: Vec<u32> = rows[..train_len].iter().map(|&r| data.items[r]).collect();
        split.train.extend(items.iter().map(|&i| (u as u32, i)));
        items.sort_unstable();
        items.dedup();
        split.train_items[u] = items;
    }
    split
}

/// Find the interaction file of a MovieLens folder (or accept a file path): a single `*.inter` file,
/// `ratings.dat` or `ratings.csv`.
pub fn locate_movielens(path: &Path) -> Result<(PathBuf, MovielensFormat), MovielensError> {
    let err = |message: String| MovielensError { file: path.display().to_string(), line: None, message };
    if path.is_file() {
        return Ok((path.to_path_buf(), format_of(path).ok_or_else(|| err(unknown_format_message()))?));
    }
    let entries = std::fs::read_dir(path).map_err(|e| err(format!("cannot read the MovieLens folder: {e}")))?;
    let mut found: Vec<(PathBuf, MovielensFormat)> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter_map(|p| format_of(&p).map(|f| (p, f))).collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    match found.len() {
        0 => Err(err(format!("no MovieLens interaction file found ({})", unknown_format_message()))),
        1 => Ok(found.remove(0)),
        _ => Err(err(format!(
            "several interaction files found ({}); point dataset.path at one of them",
            found.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn unknown_format_message() -> String {
    "expected a RecBole `*.inter` file, ML-1M `ratings.dat` or ML-20M `ratings.csv`".to_string()
}

fn format_of(path: &Path) -> Option<MovielensFormat> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".inter") {
        Some(MovielensFormat::RecboleAtomic)
    } else if name == "ratings.dat" {
        Some(MovielensFormat::Ml1mDat)
    } else if name == "ratings.csv" {
        Some(MovielensFormat::Ml20mCsv)
    } else {
        None
    }
}

/// Read a MovieLens folder or interaction file from disk.
pub fn read_movielens(path: &Path) -> Result<Interactions, MovielensError> {
    let (file, format) = locate_movielens(path)?;
    let name = file.display().to_string();
    let text = std::fs::read_to_string(&file).map_err(|e| MovielensError {
        file: name.clone(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    parse_movielens(&text, format, &name)
}

/// Parse the text of a MovieLens interaction file; `file` names it in error messages.
pub fn parse_movielens(text: &str, format: MovielensFormat, file: &str) -> Result<Interactions, MovielensError> {
    let mut builder = Builder::new(format);
    let err = |line: usize, message: String| MovielensError { file: file.to_string(), line: Some(line), message };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
    let columns = match format {
        MovielensFormat::RecboleAtomic => {
            let (n, header) = lines.next().ok_or_else(|| err(1, "empty file: expected a header".into()))?;
            atomic_columns(header).map_err(|m| err(n, m))?
        }
        MovielensFormat::Ml20mCsv => {
            let (n, header) = lines.next().ok_or_else(|| err(1, "empty file: expected a header".into()))?;
            csv_columns(header).map_err(|m| err(n, m))?
        }
        MovielensFormat::Ml1mDat => Columns { user: 0, item: 1, timestamp: 3, count: 4 },
    };
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = match format {
            MovielensFormat::RecboleAtomic => line.split('\t').collect(),
            MovielensFormat::Ml1mDat => line.split("::").collect(),
            MovielensFormat::Ml20mCsv => line.split(',').collect(),
        };
        if fields.len() != columns.count {
            return Err(err(n, format!("expected {} fields, found {}: '{line}'", columns.count, fields.len())));
        }
        let user = fields[columns.user].trim();
        let item = fields[columns.item].trim();
        let ts_text = fields[columns.timestamp].trim();
        if user.is_empty() || item.is_empty() {
            return Err(err(n, format!("empty user or item id: '{line}'")));
        }
        let ts: f64 = ts_text
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite())
            .ok_or_else(|| err(n, format!("bad timestamp '{ts_text}' (expected a number of seconds)")))?;
        builder.push(user, item, ts);
    }
    if builder.users.is_empty() {
        return Err(MovielensError { file: file.to_string(), line: None, message: "no interactions".into() });
    }
    Ok(builder.finish())
}

/// Column positions of the fields we read.
struct Columns {
    user: usize,
    item: usize,
    timestamp: usize,
    count: usize,
}

fn find_columns(names: &[&str], user: &str, item: &str, timestamp: &str) -> Result<Columns, String> {
    let pos = |want: &str| {
        names.iter().position(|n| *n == want).ok_or_else(|| format!("header lacks a '{want}' column: {names:?}"))
    };
    Ok(Columns { user: pos(user)?, item: pos(item)?, timestamp: pos(timestamp)?, count: names.len() })
}

/// RecBole atomic header: `name:type` fields separated by tabs.
fn atomic_columns(header: &str) -> Result<Columns, String> {
    let names: Vec<&str> = header.split('\t').map(|f| f.split(':').next().unwrap_or("").trim()).collect();
    find_columns(&names, "user_id", "item_id", "timestamp")
}

fn csv_columns(header: &str) -> Result<Columns, String> {
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    find_columns(&names, "userId", "movieId", "timestamp")
}

/// Accumulates interactions, remapping tokens to dense ids in order of first appearance.
struct Builder {
    format: MovielensFormat,
    user_ids: HashMap<String, u32>,
    item_ids: HashMap<String, u32>,
    user_tokens: Vec<String>,
    item_tokens: Vec<String>,
    users: Vec<u32>,
    items: Vec<u32>,
    timestamps_s: Vec<f64>,
}

impl Builder {
    fn new(format: MovielensFormat) -> Builder {
        Builder {
            format,
            user_ids: HashMap::new(),
            item_ids: HashMap::new(),
            user_tokens: Vec::new(),
            item_tokens: Vec::new(),
            users: Vec::new(),
            items: Vec::new(),
            timestamps_s: Vec::new(),
        }
    }

    fn intern(ids: &mut HashMap<String, u32>, tokens: &mut Vec<String>, token: &str) -> u32 {
        if let Some(&id) = ids.get(token) {
            return id;
        }
        let id = tokens.len() as u32;
        ids.insert(token.to_string(), id);
        tokens.push(token.to_string());
        id
    }

    fn push(&mut self, user: &str, item: &str, ts: f64) {
        let u = Self::intern(&mut self.user_ids, &mut self.user_tokens, user);
        let i = Self::intern(&mut self.item_ids, &mut self.item_tokens, item);
        self.users.push(u);
        self.items.push(i);
        self.timestamps_s.push(ts);
    }

    fn finish(self) -> Interactions {
        Interactions {
            users: self.users,
            items: self.items,
            timestamps_s: self.timestamps_s,
            user_tokens: self.user_tokens,
            item_tokens: self.item_tokens,
            format: self.format,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ATOMIC: &str = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n\
        u1\ta\t3\t10\nu1\tb\t4\t30\nu2\ta\t1\t5\nu1\tc\t5\t20\nu1\td\t2\t30\nu2\tb\t2\t6\nu2\tc\t2\t7\n";

    #[test]
    fn atomic_file_remaps_tokens_in_order_of_appearance() {
        let data = parse_movielens(ATOMIC, MovielensFormat::RecboleAtomic, "x.inter").unwrap();
        assert_eq!(data.len(), 7);
        assert_eq!(data.user_tokens, vec!["u1", "u2"]);
        assert_eq!(data.item_tokens, vec!["a", "b", "c", "d"]);
        assert_eq!(data.users, vec![0, 0, 1, 0, 0, 1, 1]);
    }

    #[test]
    fn leave_one_out_takes_latest_and_keeps_file_order_on_ties() {
        let data = parse_movielens(ATOMIC, MovielensFormat::RecboleAtomic, "x.inter").unwrap();
        let split = leave_one_out(&data);
        // u1: a@10, c@20, b@30, d@30 → train a,c; valid b (earlier in the file); test d.
        assert_eq!(split.valid[0], Some(1));
        assert_eq!(split.test[0], Some(3));
        assert_eq!(split.train_items[0], vec![0, 2]);
        // u2: a@5, b@6, c@7 → train a; valid b; test c.
        assert_eq!((split.valid[1], split.test[1]), (Some(1), Some(2)));
        assert_eq!(split.item_train_counts(), vec![2, 0, 1, 0]);
        assert_eq!(split.evaluated_users(), vec![0, 1]);
    }

    #[test]
    fn ml1m_and_ml20m_formats_parse() {
        let dat =
            parse_movielens("1::10::5::100\n1::11::3::99\n2::10::4::1\n", MovielensFormat::Ml1mDat, "r.dat").unwrap();
        assert_eq!((dat.user_count(), dat.item_count(), dat.len()), (2, 2, 3));
        let csv = "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n";
        let csv = parse_movielens(csv, MovielensFormat::Ml20mCsv, "r.csv").unwrap();
        assert_eq!(csv.item_tokens, vec!["31", "1029"]);
        assert!((csv.timestamps_s[1] - 1_260_759_179.0).abs() < 1e-9);
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let bad = "user_id:token\titem_id:token\ttimestamp:float\nu\ti\t1\nu\ti\tsoon\n";
        let e = parse_movielens(bad, MovielensFormat::RecboleAtomic, "f.inter").unwrap_err();
        assert_eq!(e.to_string(), "f.inter:3: bad timestamp 'soon' (expected a number of seconds)");
        let e = parse_movielens("1::2::3\n", MovielensFormat::Ml1mDat, "r.dat").unwrap_err();
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("expected 4 fields"), "{e}");
        let e = parse_movielens("user\titem\n", MovielensFormat::RecboleAtomic, "h.inter").unwrap_err();
        assert!(e.to_string().starts_with("h.inter:1: header lacks a 'user_id' column"), "{e}");
    }

    #[test]
    fn fingerprint_changes_with_the_data() {
        let a = parse_movielens(ATOMIC, MovielensFormat::RecboleAtomic, "x").unwrap();
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.timestamps_s[0] += 1.0;
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
