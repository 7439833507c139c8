//! Unicode NFKC, the one normal form of usernames and passwords. In the app (WASM)
//! it is the browser's own `String.prototype.normalize("NFKC")`: the
//! `unicode-normalization` crate's tables were about 54 KB of the compressed app.
//! Elsewhere (the server, native tests) it is that crate. Both follow Unicode's
//! normalization stability policy: a string of characters assigned in both Unicode
//! versions normalises the same in each.

/// The NFKC form of `input`.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn nfkc(input: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    input.nfkc().collect()
}

/// The NFKC form of `input`, by the browser.
#[cfg(target_arch = "wasm32")]
pub(super) fn nfkc(input: &str) -> String {
    String::from(js_sys::JsString::from(input).normalize("NFKC"))
}
