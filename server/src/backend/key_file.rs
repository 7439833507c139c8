//! The server's 32-byte key files (the invite key, the TOTP key): read if there,
//! made once (mode 0600, `create_new`) if not.

use std::{io::Write as _, path::Path};

use shared::crypto::rng;
use zeroize::Zeroizing;

/// Reads the 32-byte key at `path`, creating it (0600, `create_new`) with fresh
/// random bytes if it is not there yet. Safe against two processes starting
/// together: only one creation wins, and the other reads what it wrote.
/// `if_removed` ends the error message for a file of the wrong size (what
/// removing it would cost).
pub fn load_or_create(path: &Path, if_removed: &str) -> std::io::Result<Zeroizing<[u8; 32]>> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
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
