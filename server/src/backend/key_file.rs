//! The server's 32-byte key files (the invite key, the TOTP key, the audit
//! key): read if there, made once (mode 0600, `create_new`) if not.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use shared::crypto::rng;
use zeroize::Zeroizing;

/// Reads the 32-byte key at `path`, creating it (0600, `create_new`) with fresh
/// random bytes if it is not there yet. Safe against two processes starting
/// together: only one creation wins, and the other reads what it wrote.
/// `if_removed` ends the error message for a file of the wrong size (what
/// removing it would cost).
pub fn load_or_create(path: &Path, if_removed: &str) -> std::io::Result<Zeroizing<[u8; 32]>> {
    match open_new(path) {
        Ok(mut file) => {
            let key =
                Zeroizing::new(rng::bytes::<32>().map_err(|_| {
                    std::io::Error::other("the operating system gave no randomness")
                })?);
            file.write_all(&key[..])?;
            file.sync_all()?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // The other process may be between creating and writing it.
            for _ in 0..50 {
                let bytes = Zeroizing::new(std::fs::read(path)?);
                if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
                    return Ok(Zeroizing::new(key));
                }
                if bytes.len() > 32 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::io::Error::other(format!(
                "{} is not a 32-byte key; {if_removed}",
                path.display()
            )))
        }
        Err(e) => Err(e),
    }
}

/// Opens a new file for writing with mode 0600; fails with `AlreadyExists` if
/// anything is at `path`.
fn open_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Writes `key` to a new file at `path` (0600, synced). Never overwrites: an
/// existing file is an `AlreadyExists` error.
pub fn create_with(path: &Path, key: &[u8; 32]) -> std::io::Result<()> {
    let mut file = open_new(path)?;
    file.write_all(key)?;
    file.sync_all()
}

/// Reads the 32-byte key at `path`: `None` if there is no file; an error for
/// a file of another size (`if_removed` ends its message).
pub fn read(path: &Path, if_removed: &str) -> std::io::Result<Option<Zeroizing<[u8; 32]>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => Zeroizing::new(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match <[u8; 32]>::try_from(bytes.as_slice()) {
        Ok(key) => Ok(Some(Zeroizing::new(key))),
        Err(_) => Err(std::io::Error::other(format!(
            "{} is not a 32-byte key; {if_removed}",
            path.display()
        ))),
    }
}

/// `<data-dir><suffix>`, beside the data directory (which must exist), never
/// inside it. A data directory that is the file system's root has no beside:
/// the error names `flag` to give instead.
pub fn beside(data_dir: &Path, suffix: &str, flag: &str) -> std::io::Result<PathBuf> {
    let dir = std::fs::canonicalize(data_dir)?;
    let Some(name) = dir.file_name() else {
        return Err(std::io::Error::other(format!(
            "the data directory is the file system's root, so the key file cannot go beside it; give {flag}"
        )));
    };
    let mut file = name.to_os_string();
    file.push(suffix);
    Ok(dir.with_file_name(file))
}
