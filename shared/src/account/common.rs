//! The list of the 10,000 most common passwords. It is not compiled into the app
//! (it was 36 KB of the compressed WASM): the browser fetches it from
//! [`COMMON_PASSWORDS_PATH`] when a new password is first typed and installs it here.
//! The server may lie, so only the exact file this code was built with is taken: its
//! SHA-256 must equal [`COMMON_PASSWORDS_SHA256`]. Until a list is installed, the
//! checks that need it ([`super::check_password`]'s common rule and the meter's
//! common pieces) are skipped; the app says so.

use std::sync::OnceLock;

/// Where the app fetches the list: a static file of the built app, the same bytes
/// as `shared/data/common-passwords.txt`.
pub const COMMON_PASSWORDS_PATH: &str = "/common-passwords.txt";

/// SHA-256 of `shared/data/common-passwords.txt`, the only list accepted.
pub const COMMON_PASSWORDS_SHA256: [u8; 32] = [
    0x75, 0x8a, 0x99, 0x7e, 0x0a, 0x3a, 0x7c, 0x4f, 0xb8, 0x9d, 0x5f, 0xdc, 0xf5, 0xbf, 0x3b, 0xb2,
    0xe5, 0xb7, 0x38, 0x49, 0xd3, 0x6b, 0x19, 0x9d, 0x52, 0xe1, 0x8c, 0x50, 0xba, 0x66, 0xc6, 0x15,
];

/// Largest list the app reads (the real one is 77.6 KB).
pub const COMMON_PASSWORDS_MAX_BYTES: usize = 256 * 1024;

/// Why a fetched list was not installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommonListError {
    /// Not the file this app was built with (another list, cut short, or altered).
    #[error(
        "The server sent a list of common passwords that is not the one this app was built with"
    )]
    NotTheBuiltList,
}

/// The list parsed once: entries sorted for binary search, each with its rank (0 = most
/// common), and the longest entry's length in characters (bounds the meter's search).
pub(super) struct CommonList {
    pub(super) sorted: Vec<(&'static str, u16)>,
    pub(super) max_chars: usize,
}

static LIST: OnceLock<CommonList> = OnceLock::new();

/// Installs the list from the fetched file's bytes if they are exactly the pinned file
/// (SHA-256); anything else is refused and nothing changes. Installing twice is fine.
pub fn install_common_passwords(bytes: &[u8]) -> Result<(), CommonListError> {
    if bytes.len() > COMMON_PASSWORDS_MAX_BYTES
        || medvault_crypto::hash::sha256(bytes) != COMMON_PASSWORDS_SHA256
    {
        return Err(CommonListError::NotTheBuiltList);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CommonListError::NotTheBuiltList)?;
    if LIST.get().is_none() {
        // Kept for the life of the page: the list is read on every keystroke.
        let text: &'static str = Box::leak(text.to_owned().into_boxed_str());
        let _ = LIST.set(parse(text));
    }
    Ok(())
}

/// Whether a list has been installed.
pub fn common_passwords_installed() -> bool {
    LIST.get().is_some()
}

/// A `#` header line naming the source, then one lowercase password a line, most
/// common first.
fn parse(text: &'static str) -> CommonList {
    let mut sorted: Vec<(&'static str, u16)> = text
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .zip(0u16..)
        .collect();
    let max_chars = sorted
        .iter()
        .map(|(p, _)| p.chars().count())
        .max()
        .unwrap_or(0);
    crate::sort::sort_by(&mut sorted, |a, b| a.0.cmp(b.0));
    CommonList { sorted, max_chars }
}

/// The installed list, if any. Unit tests of this crate install the file first.
pub(super) fn common_list() -> Option<&'static CommonList> {
    #[cfg(test)]
    {
        let _ = install_common_passwords(include_bytes!("../../data/common-passwords.txt"));
    }
    LIST.get()
}

/// The rank (0 = most common) of an already lowercased password, if a list is
/// installed and it is on it.
pub(super) fn common_rank(lower: &str) -> Option<u16> {
    let list = common_list()?;
    list.sorted
        .binary_search_by(|(entry, _)| (*entry).cmp(lower))
        .ok()
        .and_then(|i| list.sorted.get(i))
        .map(|(_, rank)| *rank)
}
