//! Offline compaction of the embedded store: a fresh copy of every live key
//! and value, swapped in for sled's own files.
//!
//! sled is log-structured: a deleted or overwritten value stays in its
//! segment until sled rewrites that segment, which it does when it pleases.
//! After an account is deleted, its wrapped keys, sealed keyring and
//! metadata can so remain readable in the data directory's files (as
//! ciphertext) for an unknown time. `medvault-server compact` writes every
//! live entry into a new store and puts it in place of the old files, so
//! nothing deleted is left in them. Chunk files (`blob-files/`) are deleted
//! at once and are not touched here, nor is anything else in the directory.
//!
//! The server must be stopped: sled's lock on its files makes a running
//! server's store refuse to open. The swap survives a crash at any point:
//! the new copy is built in `.compact-new/` and made complete before the
//! marker `.compact-swap` is written; with the marker, [`finish_interrupted`]
//! (run by every open of the store) completes the swap; without it, it
//! throws the unfinished copy away and the old store is as it was.

use std::path::{Path, PathBuf};

use super::from_sled;
use crate::store::StoreError;

/// Where the new copy is built.
const NEW: &str = ".compact-new";
/// Where sled's old files wait to be deleted.
const OLD: &str = ".compact-old";
/// Written once the new copy is complete: the swap must be finished.
const MARKER: &str = ".compact-swap";

/// What a compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// Live entries copied, in every tree.
    pub entries: u64,
    /// Bytes of sled's files before (chunk files not counted).
    pub bytes_before: u64,
    /// And after.
    pub bytes_after: u64,
}

/// Whether `name` is one of sled's own files in a data directory.
fn is_sled_file(name: &str) -> bool {
    matches!(name, "conf" | "db" | "blobs") || name.starts_with("snap.")
}

fn io(what: &str) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::from_io(what, &e)
}

/// sled's own files directly in `dir`.
fn sled_files(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io("reading the data directory"))? {
        let entry = entry.map_err(io("reading the data directory"))?;
        if entry.file_name().to_str().is_some_and(is_sled_file) {
            out.push(entry.path());
        }
    }
    Ok(out)
}

/// Bytes under `path` (a file, or a directory's files).
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| size_of(&e.path()))
                .fold(0u64, u64::saturating_add)
        })
        .unwrap_or(0)
}

fn sled_bytes(dir: &Path) -> Result<u64, StoreError> {
    Ok(sled_files(dir)?
        .iter()
        .map(|p| size_of(p))
        .fold(0, u64::saturating_add))
}

fn remove(path: &Path) -> Result<(), StoreError> {
    let done = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match done {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("removing old files")(e)),
        _ => Ok(()),
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing the data directory"))
}

/// Finishes a swap a crash interrupted, or drops an unfinished copy. Safe
/// to run at every open; does nothing when there was no compaction.
pub fn finish_interrupted(dir: &Path) -> Result<(), StoreError> {
    let (new, old, marker) = (dir.join(NEW), dir.join(OLD), dir.join(MARKER));
    if !marker.exists() {
        remove(&new)?;
        // Old files are only moved after the marker is written; without it,
        // a leftover `.compact-old` is from a swap that already finished.
        return remove(&old);
    }
    std::fs::create_dir_all(&old).map_err(io("making the old-files directory"))?;
    // Old files still in place go aside (those already moved stay there)…
    if new.exists() {
        for path in sled_files(dir)? {
            if let Some(name) = path.file_name() {
                std::fs::rename(&path, old.join(name)).map_err(io("moving old files"))?;
            }
        }
        // …then the new ones come in.
        for path in sled_files(&new)? {
            if let Some(name) = path.file_name() {
                std::fs::rename(&path, dir.join(name)).map_err(io("moving new files"))?;
            }
        }
    }
    sync_dir(dir)?;
    remove(&marker)?;
    sync_dir(dir)?;
    remove(&new)?;
    remove(&old)
}

/// Compacts the store in `dir` (the server stopped).
pub fn compact(dir: &Path) -> Result<Compacted, StoreError> {
    finish_interrupted(dir)?;
    let bytes_before = sled_bytes(dir)?;
    let entries = prepare(dir)?;
    finish_interrupted(dir)?;
    Ok(Compacted {
        entries,
        bytes_before,
        bytes_after: sled_bytes(dir)?,
    })
}

/// Builds the complete new copy in `.compact-new` and writes the marker;
/// returns how many entries it copied. Until [`finish_interrupted`] runs,
/// the old files are still the store.
fn prepare(dir: &Path) -> Result<u64, StoreError> {
    let old = ::sled::Config::new()
        .path(dir)
        .open()
        .map_err(|e| match e {
            ::sled::Error::Io(ref inner)
                if inner.to_string().contains("could not acquire lock") =>
            {
                StoreError::Backend("the store is in use: stop the server first".into())
            }
            other => from_sled(other),
        })?;
    let new_dir = dir.join(NEW);
    remove(&new_dir)?;
    let new = ::sled::Config::new()
        .path(&new_dir)
        .open()
        .map_err(from_sled)?;
    let mut entries = 0u64;
    for name in old.tree_names() {
        let from = old.open_tree(&name).map_err(from_sled)?;
        let to = new.open_tree(&name).map_err(from_sled)?;
        for kv in from.iter() {
            let (k, v) = kv.map_err(from_sled)?;
            to.insert(k, v).map_err(from_sled)?;
            entries = entries.saturating_add(1);
        }
    }
    new.flush().map_err(from_sled)?;
    drop(new);
    drop(old);
    // The copy is complete and on disk: from here on the swap is finished,
    // by the caller or by the next open after a crash.
    std::fs::write(dir.join(MARKER), b"swap\n").map_err(io("writing the swap marker"))?;
    std::fs::File::open(dir.join(MARKER))
        .and_then(|f| f.sync_all())
        .map_err(io("writing the swap marker"))?;
    sync_dir(dir)?;
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{sled::SledStore, Space, Store};

    const SECRET: &[u8] = b"a-deleted-accounts-wrapped-key-0123456789";

    fn files_contain(dir: &Path, needle: &[u8]) -> bool {
        fn walk(p: &Path, needle: &[u8]) -> bool {
            if p.is_dir() {
                return std::fs::read_dir(p)
                    .unwrap()
                    .flatten()
                    .any(|e| walk(&e.path(), needle));
            }
            let bytes = std::fs::read(p).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        }
        walk(dir, needle)
    }

    /// A store with a kept entry and a deleted one, closed.
    async fn store_with_a_deleted_value(dir: &Path) {
        let store = SledStore::open(dir).unwrap();
        store
            .put(Space::Users, b"kept".to_vec(), b"live value".to_vec())
            .await
            .unwrap();
        store
            .put(Space::Users, b"gone".to_vec(), SECRET.to_vec())
            .await
            .unwrap();
        store.flush().await.unwrap();
        store.delete(Space::Users, b"gone".to_vec()).await.unwrap();
        store.flush().await.unwrap();
    }

    async fn kept(dir: &Path) -> Option<Vec<u8>> {
        let store = SledStore::open(dir).unwrap();
        assert_eq!(store.get(Space::Users, b"gone").await.unwrap(), None);
        store.get(Space::Users, b"kept").await.unwrap()
    }

    #[tokio::test]
    async fn compaction_keeps_live_entries_and_drops_deleted_bytes() {
        let dir = tempfile::tempdir().unwrap();
        store_with_a_deleted_value(dir.path()).await;
        assert!(
            files_contain(dir.path(), SECRET),
            "sled keeps it in its log"
        );
        let done = compact(dir.path()).unwrap();
        assert!(done.entries >= 1);
        assert!(!files_contain(dir.path(), SECRET));
        assert!(!dir.path().join(NEW).exists() && !dir.path().join(MARKER).exists());
        assert_eq!(kept(dir.path()).await.as_deref(), Some(&b"live value"[..]));
    }

    #[tokio::test]
    async fn a_swap_cut_off_half_way_is_finished_by_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        store_with_a_deleted_value(dir.path()).await;
        prepare(dir.path()).unwrap();
        // The crash came after one old file was moved aside.
        std::fs::create_dir_all(dir.path().join(OLD)).unwrap();
        std::fs::rename(dir.path().join("conf"), dir.path().join(OLD).join("conf")).unwrap();
        assert_eq!(kept(dir.path()).await.as_deref(), Some(&b"live value"[..]));
        assert!(!files_contain(dir.path(), SECRET));
        assert!(!dir.path().join(MARKER).exists());
    }

    #[tokio::test]
    async fn a_copy_cut_off_before_it_was_complete_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        store_with_a_deleted_value(dir.path()).await;
        prepare(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join(MARKER)).unwrap();
        assert_eq!(kept(dir.path()).await.as_deref(), Some(&b"live value"[..]));
        assert!(!dir.path().join(NEW).exists());
    }

    #[tokio::test]
    async fn a_store_in_use_is_not_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let _open = SledStore::open(dir.path()).unwrap();
        let e = compact(dir.path()).unwrap_err();
        assert!(e.to_string().contains("stop the server first"), "{e}");
    }
}
