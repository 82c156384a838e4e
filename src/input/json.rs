//! Reading RecPipe's JSON configs (model and accelerator descriptions): a syntax or type error becomes one
//! [`Issue`](super::Issue) with the parser's line:column and the field path where deserialisation stopped.

use super::InputError;

/// Deserialize JSON into `T`, turning an error into one issue with position and field path.
pub fn parse_json<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<T, InputError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let position = (inner.line() > 0).then(|| (inner.line() as u64, inner.column() as u64));
        let rendered = inner.to_string();
        // serde_json appends " at line L column C", which the position already says.
        let message = match rendered.rfind(" at line ") {
            Some(i) => rendered[..i].to_string(),
            None => rendered,
        };
        let mut e = InputError::from_parser(file, position, &path, message);
        if e.issues[0].message != "missing required field" {
            e.issues[0].message = format!("invalid JSON: {}", e.issues[0].message);
        }
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        clock: f64,
        arraysize: u32,
    }

    #[test]
    fn type_errors_and_missing_fields_carry_paths() {
        let e = parse_json::<Doc>("{\n  \"clock\": \"fast\",\n  \"arraysize\": 4\n}", "h.json").unwrap_err();
        assert_eq!(e.issues[0].path, "clock");
        assert_eq!(e.issues[0].position.map(|p| p.0), Some(2));
        assert!(e.issues[0].message.starts_with("invalid JSON: invalid type: string \"fast\""), "{e}");
        let e = parse_json::<Doc>("{\"clock\": 8}", "h.json").unwrap_err();
        assert_eq!((e.issues[0].path.as_str(), e.issues[0].message.as_str()), ("arraysize", "missing required field"));
    }
}
