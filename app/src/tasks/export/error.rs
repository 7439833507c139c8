//! Why an export stops, kept apart so the zip writer and the export plan can
//! both name it without importing each other.

use wasm_bindgen::JsValue;

/// Why an export (or one file's download) stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The person pressed Cancel.
    Cancelled,
    /// Something failed; the sentence says what and what to do.
    Failed(String),
}

impl From<String> for ExportError {
    fn from(message: String) -> Self {
        ExportError::Failed(message)
    }
}

/// The browser refused to hold a part of the export (out of memory).
pub(crate) fn js_failed(_: JsValue) -> ExportError {
    ExportError::Failed(
        "Your browser could not hold the export. Close other tabs to free memory, then try again."
            .to_owned(),
    )
}
