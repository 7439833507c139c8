//! "Export my record": the whole record as one zip, made in this browser.
//!
//! The building blocks, from the bottom up:
//! - [`BlobSink`]: a `Write` that moves bytes out of WASM memory into JavaScript
//!   `Blob` parts as they come, so the archive never sits in one WASM buffer;
//! - [`ZipBuilder`]: the zip container (stored entries with data descriptors and
//!   ZIP64 when sizes need it, written by the `rawzip` crate), with names made
//!   safe to unpack and unique;
//! - [`fetch_file`]: one file's current version, verified and decrypted;
//! - [`export_record`]: the plan (folders by their place in the tree, each file's
//!   content, `vital-signs.csv` and `vital-signs.json`) with progress and cancel.
//!
//! The zip is not encrypted: the person asked for their records in the clear,
//! and the page says so.

mod error;
mod zip;

use shared::{
    api::ErrorCode,
    crypto::sign::VerifyingKey,
    model::{Id, KeyEntry},
    records::{OpenNode, OpenTree},
    vitals::{readings_csv, readings_json},
};

pub use error::ExportError;
pub use zip::{add_blob, safe_name, BlobSink, ZipBuilder, PART_BYTES};

use crate::{
    session::Session,
    tasks::authors::Authors,
    tasks::{
        download::{download, DownloadJob},
        progress::Progress,
        transfer::{Cancel, TransferError},
    },
};
pub(crate) use error::js_failed;

/// How far an export (or one file) has come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportProgress {
    /// Ciphertext bytes downloaded.
    pub done_bytes: u64,
    /// Ciphertext bytes to download in all.
    pub total_bytes: u64,
    /// Files finished.
    pub files_done: usize,
    /// Files in the export.
    pub files_total: usize,
}

impl ExportProgress {
    /// Whole percent done, 0 to 100.
    pub fn percent(&self) -> u32 {
        // Nothing to download yet (or at all): the bar waits at the start.
        if self.total_bytes == 0 {
            return 0;
        }
        ((self.done_bytes.min(self.total_bytes) * 100) / self.total_bytes) as u32
    }
}

/// The sentence for a file that failed verification.
pub fn untrusted(name: &str) -> String {
    format!(
        "“{name}” was changed outside medvault and cannot be trusted, so the export stopped. Nothing was saved."
    )
}

// ---------------------------------------------------------------------------
// Downloading one file version: the records page's transfer engine.

/// Downloads, verifies and decrypts the current version of the file `node`
/// into a `Blob`, through [`crate::tasks::download::download`] (the same checks and
/// the same chunk pipeline as the Download button). `author_key` is the key of
/// the version's author, already found allowed to write it (the owner's, or a
/// doctor's checked by [`Authors::trusted`]). `progress` is told of
/// every file byte decrypted; `cancel` stops it between chunks and aborts the
/// requests in flight. Any failure fails the whole file: nothing of it is kept.
pub async fn fetch_file(
    node: &OpenNode,
    author_key: &VerifyingKey,
    progress: &mut dyn FnMut(u64),
    cancel: &Cancel,
) -> Result<web_sys::Blob, ExportError> {
    let name = node.metadata.name.as_str();
    let version = node
        .view
        .current
        .clone()
        .ok_or_else(|| ExportError::Failed(format!("“{name}” has no content yet.")))?;
    let job = DownloadJob {
        node: node.clone(),
        author_id: version.author_id,
        version,
        author_key: *author_key,
    };
    // `download` reports running totals; the export adds up deltas.
    let seen = std::cell::Cell::new(0u64);
    let report = std::cell::RefCell::new(progress);
    let result = download(
        &job,
        |p: Progress| {
            let delta = p.done.saturating_sub(seen.replace(p.done));
            (report.borrow_mut())(delta);
        },
        cancel,
    )
    .await;
    result.map_err(|e| match e {
        TransferError::Cancelled => ExportError::Cancelled,
        TransferError::Tampered => ExportError::Failed(untrusted(name)),
        TransferError::Api(api) if api.code == ErrorCode::NotFound => {
            ExportError::Failed(GONE.to_owned())
        }
        TransferError::Api(api) => ExportError::Failed(crate::api::explain(&api)),
        TransferError::Unreachable => ExportError::Failed(NO_SERVER.to_owned()),
        TransferError::Busy => ExportError::Failed(crate::platform::http::BUSY_TOO_LONG.to_owned()),
        TransferError::Refused(m) | TransferError::Browser(m) => ExportError::Failed(m),
    })
}

const GONE: &str = "Part of a file is no longer on the server: it may have just been deleted or replaced. Reload the page and export again.";

const NO_SERVER: &str =
    "We could not reach the medvault server. Check your internet connection, then try again.";

/// Every folder and file outside the trash under `folder`, folders first then
/// by name, depth first: (index of the parent folder's step, node), where
/// index 0 stands for the top of the archive.
fn plan(tree: &OpenTree) -> Vec<(usize, &OpenNode)> {
    let mut steps = Vec::new();
    // (folder id, the step index its children hang from)
    let mut stack = vec![(tree.root_id, 0usize)];
    while let Some((folder, parent_step)) = stack.pop() {
        let mut subfolders = Vec::new();
        for child in tree.children(&folder) {
            match child.view.kind {
                shared::api::records::NodeKind::Folder => {
                    steps.push((parent_step, child));
                    subfolders.push((*child.id(), steps.len()));
                }
                shared::api::records::NodeKind::File if child.view.current.is_some() => {
                    steps.push((parent_step, child));
                }
                // Vital-sign entries go into the CSV and JSON instead.
                _ => {}
            }
        }
        // Reversed, so the first subfolder is walked first.
        stack.extend(subfolders.into_iter().rev());
    }
    steps
}

/// Builds the export zip of `tree` and returns it with its file name
/// (`medvault-record-2026-11-23.zip`). Calls `on_progress` as it goes and
/// stops at the next chunk once `cancel` is used.
pub async fn export_record(
    tree: &OpenTree,
    owner: &KeyEntry,
    session: Session,
    now: i64,
    on_progress: &mut dyn FnMut(ExportProgress),
    cancel: &Cancel,
) -> Result<(web_sys::Blob, String), ExportError> {
    let steps = plan(tree);
    let mut progress = ExportProgress {
        total_bytes: steps
            .iter()
            .filter(|(_, n)| n.view.current.is_some())
            .filter_map(|(_, n)| n.metadata.size)
            .sum(),
        files_total: steps.iter().filter(|(_, n)| !n.is_folder()).count(),
        ..Default::default()
    };
    on_progress(progress);

    let top = format!(
        "medvault-record-{}",
        crate::platform::clock::LocalTime::of(now).date_iso()
    );
    let mut zip = ZipBuilder::new(BlobSink::new());
    // Folder paths by step index; index 0 is the top folder.
    let mut dirs: Vec<Option<String>> = vec![Some(zip.add_dir("", &top, now)?)];
    // Doctors who wrote files: their directory entries, fetched once each.
    let mut authors = Authors::default();
    for (parent, node) in &steps {
        if cancel.is_cancelled() {
            return Err(ExportError::Cancelled);
        }
        let parent_path = dirs.get(*parent).cloned().flatten().unwrap_or_default();
        let name = &node.metadata.name;
        let modified = node.metadata.modified_at;
        if node.is_folder() {
            dirs.push(Some(zip.add_dir(&parent_path, name, modified)?));
            continue;
        }
        dirs.push(None);
        let blob = {
            let mut report = |bytes: u64| {
                progress.done_bytes += bytes;
                on_progress(progress);
            };
            let author_key = match &node.view.current {
                Some(v) => {
                    let covers = |f: &Id, i: &Id| tree.covers(f, i);
                    authors
                        .trusted(session, v, owner, covers)
                        .await
                        .map_err(ExportError::Failed)?
                        .1
                }
                // No content: `fetch_file` says so.
                None => owner.identity_key,
            };
            fetch_file(node, &author_key, &mut report, cancel).await?
        };
        add_blob(&mut zip, &parent_path, name, modified, &blob).await?;
        progress.files_done += 1;
        on_progress(progress);
    }

    let readings: Vec<_> = tree.vitals().into_iter().map(|(_, r)| r.clone()).collect();
    let top_path = dirs[0].clone().unwrap_or_default();
    zip.add_bytes(
        &top_path,
        "vital-signs.csv",
        now,
        readings_csv(&readings).as_bytes(),
    )?;
    zip.add_bytes(
        &top_path,
        "vital-signs.json",
        now,
        readings_json(&readings, now).as_bytes(),
    )?;
    let blob = zip
        .finish()?
        .into_blob("application/zip")
        .map_err(js_failed)?;
    Ok((blob, format!("{top}.zip")))
}
