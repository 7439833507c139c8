//! Rebuilds the app when the installation's org key fingerprint changes: the
//! app reads `MEDVAULT_ORG_FINGERPRINT` at compile time (`platform::org`), and a
//! malformed value stops the build instead of shipping an app that verifies
//! no one.

fn main() {
    println!("cargo:rerun-if-env-changed=MEDVAULT_ORG_FINGERPRINT");
    let Ok(value) = std::env::var("MEDVAULT_ORG_FINGERPRINT") else {
        return;
    };
    let digits: Vec<char> = value
        .chars()
        .filter(|c| !matches!(c, ' ' | ':' | '-' | '\t' | '\n' | '\r'))
        .collect();
    if !digits.is_empty() && (digits.len() != 64 || !digits.iter().all(char::is_ascii_hexdigit)) {
        eprintln!(
            "MEDVAULT_ORG_FINGERPRINT must be the 64 hex digits `medvault-server org-key fingerprint --key FILE` prints (or unset)."
        );
        std::process::exit(1);
    }
}
