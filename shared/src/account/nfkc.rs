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

/// Inputs and their NFKC forms that both implementations are checked against
/// (natively in `shared`'s tests, in Chromium by the app's), so the browser and
/// the server are known to agree on them: fullwidth letters, ligatures,
/// combining accents, circled digits and units, roman numerals and fractions,
/// halfwidth kana, and strings that must stay as they are.
pub const NFKC_SAMPLES: [(&str, &str); 8] = [
    (
        "\u{ff50}\u{ff41}\u{ff53}\u{ff53}\u{ff57}\u{ff4f}\u{ff52}\u{ff44}",
        "password",
    ),
    ("\u{fb01}ne \u{fb02}our", "fine flour"),
    ("e\u{301}te\u{301}", "\u{e9}t\u{e9}"),
    ("\u{2460}\u{2461}\u{2462} \u{338f}", "123 kg"),
    ("\u{216b} \u{fb00} \u{bd}", "XII ff 1\u{2044}2"),
    ("\u{ff76}\u{ff9e}\u{ff77}\u{ff9e}", "\u{30ac}\u{30ae}"),
    ("W\u{30a}", "W\u{30a}"),
    ("stra\u{df}e", "stra\u{df}e"),
];
