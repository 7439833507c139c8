//! The queue's batches: small new files waiting at the front of the queue go
//! together, up to the limits of one `records/batch`, sealed in this browser
//! ([`crate::tasks::bulk`]) while the batch before them is on the wire. A
//! batch the server refuses is sent again file by file, so each file's own
//! refusal (quota, a name, a lost folder) shows on its row and the others go
//! on.

use futures::future::{join, join_all, LocalBoxFuture};
use leptos::prelude::*;
use shared::api::records::NewFile;

use super::{RowState, UploadQueue, UploadRow};
use crate::tasks::{
    bulk::{batch_size, seal_small, send_batch, smaller_cap, Fill},
    progress::Progress,
    transfer::{Cancel, TransferError},
    upload::UploadTarget,
};

/// A queued file: its row's key, the file, where it goes.
pub(super) type Entry = (u64, web_sys::File, UploadTarget);

/// Files of one batch, sealed, with their rows; and the rows refused while
/// sealing.
pub(super) struct Sealed {
    items: Vec<(UploadRow, Entry, NewFile)>,
    fill: Fill,
}

impl Sealed {
    /// Two batches of half the files each.
    fn split(mut self) -> (Sealed, Sealed) {
        let back = self.items.split_off(self.items.len() / 2);
        (Sealed::of(self.items), Sealed::of(back))
    }

    fn of(items: Vec<(UploadRow, Entry, NewFile)>) -> Sealed {
        let mut fill = Fill::default();
        for (_, _, f) in &items {
            fill = fill.with(f.content.len() as u64, u64::MAX).unwrap_or(fill);
        }
        Sealed { items, fill }
    }
}

impl UploadQueue {
    /// Takes the small new files at the front of the queue, as many as one
    /// batch holds (none if the front file is not one).
    pub(super) fn take_batch(&self) -> (Vec<(UploadRow, Entry)>, Fill) {
        let mut out = Vec::new();
        let mut fill = Fill::default();
        let cap = self.batch_cap.get_value();
        loop {
            let next = self.queue.try_with_value(|q| {
                q.front().and_then(|(_, file, target)| {
                    let small = matches!(target, UploadTarget::NewFile { .. });
                    small.then(|| batch_size(file.size() as u64)).flatten()
                })
            });
            let Some(Some(sealed)) = next else { break };
            let Some(more) = fill.with(sealed, cap) else {
                break;
            };
            let Some(Some(entry)) = self.queue.try_update_value(|q| q.pop_front()) else {
                break;
            };
            let Some(row) = self.row(entry.0) else {
                continue;
            };
            if row.cancel.with_value(Cancel::is_cancelled) {
                continue;
            }
            fill = more;
            out.push((row, entry));
        }
        (out, fill)
    }

    fn row(&self, key: u64) -> Option<UploadRow> {
        self.rows
            .try_with_untracked(|rows| rows.iter().find(|r| r.key == key).cloned())
            .flatten()
    }

    /// Seals every file of a batch; a file that cannot be sealed fails on
    /// its row and stays out.
    pub(super) async fn seal(&self, (group, fill): (Vec<(UploadRow, Entry)>, Fill)) -> Sealed {
        let Some(Some(writer)) = self.hooks.try_with_value(|h| Some(h.writer.clone())) else {
            return Sealed {
                items: Vec::new(),
                fill,
            };
        };
        let session = self.hooks.with_value(|h| h.session);
        let sealed = join_all(group.into_iter().map(|(row, entry)| {
            let writer = writer.clone();
            async move {
                row.state.try_set(RowState::Running);
                let UploadTarget::NewFile { parent, details } = &entry.2 else {
                    return None;
                };
                match seal_small(&entry.1, parent, details, &writer).await {
                    Ok(file) => Some((row, entry, file)),
                    Err(e) => {
                        row.state.try_set(RowState::Failed(e.message(&session)));
                        None
                    }
                }
            }
        }))
        .await;
        Sealed {
            items: sealed.into_iter().flatten().collect(),
            fill,
        }
    }

    /// Sends a sealed batch while the next one is sealed; whether the record
    /// changed, and the next batch sealed.
    pub(super) async fn send_sealing(
        &self,
        batch: Sealed,
        next: (Vec<(UploadRow, Entry)>, Fill),
    ) -> (bool, Option<Sealed>) {
        let queue = *self;
        let sealing: LocalBoxFuture<'_, Option<Sealed>> = if next.0.is_empty() {
            Box::pin(async { None })
        } else {
            Box::pin(async move { Some(queue.seal(next).await) })
        };
        let (changed, sealed) = join(self.send(batch), sealing).await;
        (changed, sealed)
    }

    /// Sends one sealed batch: one too large for the server in two halves,
    /// one refused otherwise each file on its own.
    fn send(&self, batch: Sealed) -> LocalBoxFuture<'_, bool> {
        Box::pin(self.send_once(batch))
    }

    async fn send_once(&self, batch: Sealed) -> bool {
        if batch.items.is_empty() {
            return false;
        }
        let Some((writer, session, announce)) = self
            .hooks
            .try_with_value(|h| (h.writer.clone(), h.session, h.announce))
        else {
            return false;
        };
        let files: Vec<NewFile> = batch.items.iter().map(|(_, _, f)| f.clone()).collect();
        match send_batch(&writer, Vec::new(), files, &Cancel::new()).await {
            Ok(_) => {
                let n = batch.items.len();
                for (row, _, _) in &batch.items {
                    row.progress.try_update(|p| {
                        *p = Progress {
                            done: p.total,
                            total: p.total,
                            bytes_per_second: None,
                            resumed_from: None,
                        }
                    });
                    row.state.try_set(RowState::Done);
                }
                announce.try_set(format!(
                    "{n} file{} uploaded and encrypted.",
                    if n == 1 { "" } else { "s" }
                ));
                true
            }
            Err(e) if e.too_large && batch.items.len() > 1 => {
                // The server takes less than this in one request: this one
                // goes in halves, and the next batches are smaller.
                self.batch_cap.set_value(smaller_cap(batch.fill.json));
                let (front, back) = batch.split();
                self.send(front).await;
                self.send(back).await;
                true
            }
            Err(_) => {
                // One by one, so that each file's own refusal shows.
                for (row, entry, _) in batch.items {
                    let result = self.upload_one(&row, entry).await;
                    row.finish(result, session, announce);
                }
                true
            }
        }
    }
}

/// The outcome of one file sent on its own.
pub(super) type One = Result<(), TransferError>;
