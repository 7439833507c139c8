//! The label registry against the spec: every `medvault/v1/...` label in
//! `context` is written down in `docs/PROTOCOL.md`.
#![cfg(not(target_arch = "wasm32"))]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use medvault_crypto::context;

#[test]
fn every_label_is_documented_in_protocol_md() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROTOCOL.md");
    let doc = std::fs::read_to_string(path).unwrap();
    for label in context::ALL {
        assert!(
            doc.contains(&format!("`{label}`")),
            "{label} is missing from docs/PROTOCOL.md"
        );
    }
}
