//! Reading an input file and turning YAML syntax/type errors into [`Issue`](super::Issue)s with the parser's line:column and
//! the field path where deserialisation stopped (`serde_path_to_error`).

use super::InputError;
use std::path::Path;

/// Read an input file whole: (the name to use in messages, its text), or one issue naming the file.
pub fn read_file(path: &Path) -> Result<(String, String), InputError> {
    let file = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((file, text)),
        Err(e) => Err(InputError::single(&file, None, "", format!("cannot read file: {e}"))),
    }
}

/// 1-based (line, column) of a spanned YAML value, when the parser knows it.
pub fn position<T>(value: &serde_saphyr::Spanned<T>) -> Option<(u64, u64)> {
    let loc = value.referenced;
    (loc.line() > 0).then(|| (loc.line(), loc.column()))
}

/// Deserialize YAML into `T`, turning a syntax or type error into one issue with the parser's position and
/// the field path where it happened (a missing required field is reported at its own path).
pub fn parse_yaml<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, InputError> {
    let field_path = std::cell::RefCell::new(String::new());
    let result = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            *field_path.borrow_mut() = e.path().to_string();
            e.into_inner()
        })
    });
    result.map_err(|err| {
        let position = err.location().filter(|l| l.line() > 0).map(|l| (l.line(), l.column()));
        let path = field_path.into_inner().replace(".value", "");
        InputError::from_parser(file, position, &path, parser_message(&err.to_string()))
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
        "" => "invalid YAML".to_string(),
        "invalid i64" | "invalid u64" | "invalid u32" => "expected an integer".to_string(),
        "invalid f64" => "expected a number".to_string(),
        "invalid bool" | "invalid boolean" => "expected true or false".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        outer: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        size: u32,
        name: String,
    }

    #[test]
    fn type_errors_carry_position_and_field_path() {
        let e = parse_yaml::<Doc>("outer:\n  size: big\n  name: x\n", "f.yaml").unwrap_err();
        let issue = &e.issues[0];
        assert_eq!(issue.path, "outer.size");
        assert_eq!(issue.position.map(|p| p.0), Some(2));
        assert_eq!(issue.message, "expected an integer");
    }

    #[test]
    fn missing_fields_are_reported_at_their_own_path() {
        let e = parse_yaml::<Doc>("outer:\n  size: 4\n", "f.yaml").unwrap_err();
        assert_eq!(e.issues[0].path, "outer.name");
        assert_eq!(e.issues[0].message, "missing required field");
    }

    #[test]
    fn unknown_fields_name_the_field() {
        let e = parse_yaml::<Doc>("outer:\n  size: 4\n  name: x\n  colour: red\n", "f.yaml").unwrap_err();
        assert!(e.issues[0].message.contains("unknown field `colour`"), "{e}");
        assert_eq!(e.to_string().lines().next().unwrap().split(':').next(), Some("f.yaml"));
    }
}
