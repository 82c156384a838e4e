//! `--set key=value`: override any field of a design space from the command line.
//!
//! A key is a field path as error messages print it: dot-separated names with `[i]` list indices
//! (`search.budget`, `load.qps`, `pipelines[1].items`, `hardware.accel.area_budget_mm2`). A value is YAML
//! (`500`, `nsga2`, `[100, 400]`, `{percentile: 99, target_ms: 20}`). The file is read into a document
//! tree, each override replaces (or adds) its field in order, and the result is validated exactly like a
//! file; an override that names an unknown field or gives a bad value is reported like a bad file, with the
//! field path and value, under the file's name marked `(with --set …)`.

use crate::input::{parse_yaml, InputError};
use serde_json::Value;

/// One `--set` override, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Path steps: field names and list indices.
    pub path: Vec<Step>,
    /// The new value.
    pub value: Value,
    /// The override as given.
    pub text: String,
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

fn bad(text: &str, message: String) -> InputError {
    InputError::single("--set", None, text, message)
}

/// Parse `key=value`.
pub fn parse_override(text: &str) -> Result<Override, InputError> {
    let Some((key, value)) = text.split_once('=') else {
        return Err(bad(text, format!("expected key=value (e.g. search.budget=500), found '{text}'")));
    };
    let mut path = Vec::new();
    for part in key.trim().split('.') {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad(text, format!("'{key}' is not a field path (names joined by '.', indices as [i])")));
        }
        path.push(Step::Key(name.to_string()));
        while !rest.is_empty() {
            let Some((index, after)) = rest.split_once(']') else {
                return Err(bad(text, format!("'{key}': unclosed '['")));
            };
            let i = index.parse().map_err(|_| bad(text, format!("'{key}': '{index}' is not a list index")))?;
            path.push(Step::Index(i));
            rest = after.strip_prefix('[').unwrap_or(after);
            if !after.is_empty() && !after.starts_with('[') {
                return Err(bad(text, format!("'{key}': unexpected '{after}' after an index")));
            }
        }
    }
    let value: Value = parse_yaml(value, &format!("--set {key}"))?;
    Ok(Override { path, value, text: text.to_string() })
}

/// Apply `o` to `doc`, creating missing mappings on the way.
fn apply(doc: &mut Value, o: &Override) -> Result<(), InputError> {
    let mut node = doc;
    for step in &o.path {
        node = match step {
            Step::Key(k) => {
                if node.is_null() {
                    *node = Value::Object(Default::default());
                }
                let Value::Object(map) = node else {
                    return Err(bad(&o.text, format!("cannot set '{k}' inside a value that is not a mapping")));
                };
                map.entry(k.clone()).or_insert(Value::Null)
            }
            Step::Index(i) => {
                let Value::Array(list) = node else {
                    return Err(bad(&o.text, format!("cannot index [{i}] into a value that is not a list")));
                };
                let len = list.len();
                list.get_mut(*i)
                    .ok_or_else(|| bad(&o.text, format!("index [{i}] is out of range (the list has {len} entries)")))?
            }
        };
    }
    *node = o.value.clone();
    Ok(())
}

/// The YAML text `text` with every override applied, as a document the space parser reads (JSON, which is
/// YAML), and the name to report it under.
pub fn apply_overrides(text: &str, file: &str, overrides: &[Override]) -> Result<(String, String), InputError> {
    let mut doc: Value = parse_yaml(text, file)?;
    for o in overrides {
        apply(&mut doc, o)?;
    }
    let label = format!(
        "{file} (with --set {})",
        overrides.iter().map(|o| o.text.as_str()).collect::<Vec<_>>().join(" --set ")
    );
    Ok((serde_json::to_string_pretty(&doc).expect("a document serialises"), label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_values_are_yaml() {
        let o = parse_override("pipelines[1].items[0]=[4096, 512]").unwrap();
        assert_eq!(
            o.path,
            vec![Step::Key("pipelines".into()), Step::Index(1), Step::Key("items".into()), Step::Index(0)]
        );
        assert_eq!(o.value, serde_json::json!([4096, 512]));
        assert_eq!(parse_override("search.strategy=nsga2").unwrap().value, serde_json::json!("nsga2"));
        for bad in ["budget", "a..b=1", "a[x]=1", "a[1=2", "a[1]b=3"] {
            assert!(parse_override(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overrides_replace_add_and_refuse_impossible_steps() {
        let text = "name: s\nload: {qps: [100], queries: 10}\nlist: [1, 2]\n";
        let set = |s: &str| parse_override(s).unwrap();
        let (doc, label) =
            apply_overrides(text, "s.yaml", &[set("load.qps=[5, 6]"), set("search.budget=9"), set("list[1]=7")])
                .unwrap();
        let v: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["load"]["qps"], serde_json::json!([5, 6]));
        assert_eq!(v["load"]["queries"], serde_json::json!(10));
        assert_eq!(v["search"]["budget"], serde_json::json!(9));
        assert_eq!(v["list"], serde_json::json!([1, 7]));
        assert!(label.starts_with("s.yaml (with --set load.qps=[5, 6] --set"));
        assert!(apply_overrides(text, "s.yaml", &[set("list[5]=1")]).unwrap_err().to_string().contains("out of range"));
        assert!(apply_overrides(text, "s.yaml", &[set("name.x=1")]).unwrap_err().to_string().contains("not a mapping"));
    }
}
