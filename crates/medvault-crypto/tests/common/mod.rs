//! What the vector tests share: reading a data file from `tests/vectors/`.

use serde_json::Value;

/// Parses `tests/vectors/<name>` and checks that it names its source.
pub fn load_vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        json["source"].as_str().is_some_and(|s| !s.is_empty()),
        "{name} names its source"
    );
    json
}
