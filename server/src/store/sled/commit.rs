//! Writing batches: new blob files first (written, then fsynced, their
//! directories once per group), then each batch's transaction, then one
//! flush before any `Ok` (see the module above for the blob-file scheme).

use std::cell::RefCell;
use std::collections::BTreeSet;

use ::sled::transaction::{abort, TransactionError, Transactional};

use super::{from_sled, io_error, sync_dir, Abort, Inner};
use crate::store::{Batch, Op, Space, StoreError};

impl Inner {
    pub(super) fn apply(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.apply_group(std::slice::from_ref(batch))
            .pop()
            .unwrap_or(Ok(()))
    }

    /// Applies several independent batches with one round of syncs: every new
    /// blob file is written, then each is fsynced and each directory that got
    /// one once; then each batch's transaction runs on its own (a failed
    /// precondition fails only that batch), and one `Db::flush` makes all the
    /// commits durable before any of them is answered `Ok`.
    pub(super) fn apply_group(&self, batches: &[Batch]) -> Vec<Result<(), StoreError>> {
        // Room first: a batch that would eat into the space sled needs for
        // itself is refused before a byte is written (`room.rs`).
        let admitted = self.admit(batches);
        // The new blob values go to files first, durably, names and all.
        let mut staged: Vec<Result<Staged, StoreError>> = batches
            .iter()
            .zip(admitted)
            .map(|(b, room)| room.and_then(|()| self.stage(b)))
            .collect();
        let mut dirs = BTreeSet::new();
        for s in staged.iter().flatten() {
            dirs.extend(s.dirs.iter().cloned());
        }
        let synced = dirs
            .iter()
            .try_for_each(|dir| sync_dir(&self.blob_dir.join(dir)));
        if let Err(e) = synced {
            for s in &mut staged {
                if let Ok(ok) = s {
                    self.remove_blobs(ok.names());
                    *s = Err(e.clone());
                }
            }
        }

        let mut results = Vec::with_capacity(batches.len());
        let mut replaced = Vec::new();
        let mut wrote = false;
        for (batch, staged) in batches.iter().zip(staged) {
            let committed = staged.and_then(|staged| {
                let gone = self.commit(batch, &staged.new_blobs);
                if gone.is_err() {
                    self.remove_blobs(staged.names());
                }
                gone
            });
            match committed {
                Ok(gone) => {
                    replaced.extend(gone);
                    wrote |= batch
                        .ops()
                        .iter()
                        .any(|op| matches!(op, Op::Put { .. } | Op::Delete { .. }));
                    results.push(Ok(()));
                }
                Err(e) => results.push(Err(e)),
            }
        }
        if wrote {
            // The acknowledgement promise: nothing returns Ok before fsync.
            if let Err(e) = self.db.flush().map_err(from_sled) {
                for r in &mut results {
                    if r.is_ok() {
                        *r = Err(e.clone());
                    }
                }
                return results;
            }
        }
        // Only now may replaced files go: the commits that stopped naming them
        // are on disk.
        self.remove_blobs(replaced);
        results
    }

    /// Which batches the free space allows, in order, each counting the ones
    /// before it.
    fn admit(&self, batches: &[Batch]) -> Vec<Result<(), StoreError>> {
        let (Some(floor), Some(mut free)) = (self.floor, super::room::free_bytes(&self.blob_dir))
        else {
            return batches.iter().map(|_| Ok(())).collect();
        };
        batches
            .iter()
            .map(|batch| {
                if floor.admits(free, batch) {
                    free = free.saturating_sub(super::room::stored_bytes(batch));
                    Ok(())
                } else {
                    Err(StoreError::Full)
                }
            })
            .collect()
    }

    /// Writes a batch's new blob values to files and fsyncs each (their
    /// directories are left to the caller).
    fn stage(&self, batch: &Batch) -> Result<Staged, StoreError> {
        let mut staged = Staged {
            new_blobs: Vec::with_capacity(batch.len()),
            dirs: BTreeSet::new(),
        };
        let mut files = Vec::new();
        for op in batch.ops() {
            match op {
                Op::Put {
                    space: Space::Blobs,
                    value,
                    ..
                } => match self.write_blob(value) {
                    Ok((name, file)) => {
                        staged.dirs.insert(name[..2].to_owned());
                        staged.new_blobs.push(Some(name));
                        files.push(file);
                    }
                    Err(e) => {
                        self.remove_blobs(staged.names());
                        return Err(e);
                    }
                },
                _ => staged.new_blobs.push(None),
            }
        }
        for file in files {
            if let Err(e) = file.sync_all() {
                self.remove_blobs(staged.names());
                return Err(io_error("blob file", &e));
            }
        }
        Ok(staged)
    }

    /// Runs one batch's transaction with its staged blob names; returns the
    /// blob files it no longer names (replaced or deleted), to remove once the
    /// commit is flushed.
    fn commit(
        &self,
        batch: &Batch,
        new_blobs: &[Option<String>],
    ) -> Result<Vec<String>, StoreError> {
        // One overlay per tree, so that every op on a tree goes through the same
        // overlay and sees the batch's earlier writes to it.
        let mut spaces: Vec<Space> = Vec::new();
        for op in batch.ops() {
            if !spaces.contains(&op.space()) {
                spaces.push(op.space());
            }
        }
        let trees = spaces
            .iter()
            .map(|&space| self.tree(space).cloned())
            .collect::<Result<Vec<_>, _>>()?;

        let replaced: RefCell<Vec<String>> = RefCell::new(Vec::new());
        let outcome = trees.as_slice().transaction(|views| {
            replaced.borrow_mut().clear();
            for (op, new_blob) in batch.ops().iter().zip(new_blobs) {
                let view = match spaces
                    .iter()
                    .position(|&s| s == op.space())
                    .and_then(|i| views.get(i))
                {
                    Some(view) => view,
                    None => return abort(Abort::UnknownSpace),
                };
                let blobs = op.space() == Space::Blobs;
                match op {
                    Op::Put { key, value, .. } => {
                        let stored = match new_blob {
                            Some(name) => name.as_bytes(),
                            None => value.as_slice(),
                        };
                        let old = view.insert(key.as_slice(), stored)?;
                        if let (true, Some(old)) = (blobs, old) {
                            replaced
                                .borrow_mut()
                                .push(String::from_utf8_lossy(&old).into_owned());
                        }
                    }
                    Op::Delete { key, .. } => {
                        let old = view.remove(key.as_slice())?;
                        if let (true, Some(old)) = (blobs, old) {
                            replaced
                                .borrow_mut()
                                .push(String::from_utf8_lossy(&old).into_owned());
                        }
                    }
                    Op::ExpectAbsent { key, .. } => {
                        if view.get(key)?.is_some() {
                            return abort(Abort::Precondition);
                        }
                    }
                    Op::ExpectValue { key, value, .. } => {
                        let holds = match view.get(key)? {
                            None => false,
                            Some(stored) if blobs => match self.read_blob(&stored) {
                                Ok(bytes) => bytes == *value,
                                Err(e) => return abort(Abort::Blob(e)),
                            },
                            Some(stored) => stored.as_ref() == value.as_slice(),
                        };
                        if !holds {
                            return abort(Abort::Precondition);
                        }
                    }
                }
            }
            Ok(())
        });
        match outcome {
            Ok(()) => Ok(replaced.into_inner()),
            Err(TransactionError::Abort(Abort::Precondition)) => Err(StoreError::Conflict),
            Err(TransactionError::Abort(Abort::UnknownSpace)) => {
                Err(StoreError::Backend("batch keyspace is not open".into()))
            }
            Err(TransactionError::Abort(Abort::Blob(e))) => Err(e),
            Err(TransactionError::Storage(e)) => Err(from_sled(e)),
        }
    }
}

/// A batch's new blob files, written and fsynced, not yet named by a commit.
struct Staged {
    /// Per op: the new file's name for a Blobs put.
    new_blobs: Vec<Option<String>>,
    /// The sub-directories that got a new file.
    dirs: BTreeSet<String>,
}

impl Staged {
    fn names(&self) -> Vec<String> {
        self.new_blobs.iter().flatten().cloned().collect()
    }
}
