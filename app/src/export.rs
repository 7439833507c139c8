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

use std::{collections::HashSet, future::Future, io::Write};

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use shared::{
    api::ErrorCode,
    crypto::{
        sign::{KeyEntry, VerifyingKey},
        Id,
    },
    records::{OpenNode, OpenTree},
    vitals::{readings_csv, readings_json},
};

use crate::{
    authors::Authors,
    session::Session,
    transfer::{download, Cancel, DownloadJob, Progress, TransferError},
};

/// Bytes gathered in WASM memory before they move to a JavaScript part.
pub const PART_BYTES: usize = 1 << 20;
/// Loose parts folded into one `Blob` at a time, so a big export is a few large
/// blobs (which the browser may keep on disk) rather than thousands of arrays.
const PARTS_PER_BLOB: u32 = 32;

/// Why an export (or one file's download) stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The person pressed Cancel.
    Cancelled,
    /// Something failed; the sentence says what and what to do.
    Failed(String),
}

impl From<String> for ExportError {
    fn from(message: String) -> Self {
        ExportError::Failed(message)
    }
}

fn js_failed(_: JsValue) -> ExportError {
    ExportError::Failed(
        "Your browser could not hold the export. Close other tabs to free memory, then try again."
            .to_owned(),
    )
}

/// Collects written bytes as JavaScript `Blob` parts: a `PART_BYTES` buffer in
/// WASM, then copies in JavaScript memory, folded into `Blob`s as they pile up.
pub struct BlobSink {
    buf: Vec<u8>,
    parts: Array,
    loose: u32,
    written: u64,
}

impl Default for BlobSink {
    fn default() -> Self {
        Self::new()
    }
}

impl BlobSink {
    /// An empty sink.
    pub fn new() -> Self {
        BlobSink {
            buf: Vec::with_capacity(PART_BYTES),
            parts: Array::new(),
            loose: 0,
            written: 0,
        }
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    fn move_buffer(&mut self) -> Result<(), JsValue> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.parts.push(&Uint8Array::from(&self.buf[..]));
        self.buf.clear();
        self.loose += 1;
        self.fold_if_needed()
    }

    fn fold_if_needed(&mut self) -> Result<(), JsValue> {
        if self.loose >= PARTS_PER_BLOB {
            let folded = web_sys::Blob::new_with_blob_sequence(&self.parts)?;
            self.parts = Array::of1(&folded);
            self.loose = 0;
        }
        Ok(())
    }

    /// Everything written, as one `Blob` of type `mime`.
    pub fn into_blob(mut self, mime: &str) -> Result<web_sys::Blob, JsValue> {
        self.move_buffer()?;
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        web_sys::Blob::new_with_blob_sequence_and_options(&self.parts, &options)
    }
}

impl Write for BlobSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = PART_BYTES - self.buf.len();
        let take = room.min(data.len());
        self.buf.extend_from_slice(&data[..take]);
        self.written += take as u64;
        if self.buf.len() == PART_BYTES {
            self.move_buffer()
                .map_err(|_| std::io::Error::other("the browser refused a blob part"))?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.move_buffer()
            .map_err(|_| std::io::Error::other("the browser refused a blob part"))
    }
}

/// A file or folder name made safe to unpack anywhere: no path separators or
/// characters Windows refuses, no `.`/`..`, no trailing dots or spaces.
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim().trim_end_matches(['.', ' ']);
    if trimmed.is_empty() {
        "_".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Inserts " (n)" before a file's extension ("scan (2).pdf"), or at the end of
/// a folder's name.
fn numbered(name: &str, n: u32, is_dir: bool) -> String {
    match name.rfind('.') {
        Some(dot) if !is_dir && dot > 0 && name.len() - dot <= 10 => {
            format!("{} ({n}){}", &name[..dot], &name[dot..])
        }
        _ => format!("{name} ({n})"),
    }
}

/// Writes a zip archive entry by entry into any `Write`: stored (uncompressed,
/// as medical files are mostly compressed already) with data descriptors, so
/// nothing is ever rewritten and the output can stream.
pub struct ZipBuilder<W: Write> {
    archive: rawzip::ZipArchiveWriter<W>,
    /// Paths in use, lowercased: unpacking on a case-insensitive file system
    /// must not merge two entries.
    taken: HashSet<String>,
}

fn zip_failed(_: rawzip::Error) -> ExportError {
    ExportError::Failed(
        "The zip file could not be written. Close other tabs to free memory, then try again."
            .to_owned(),
    )
}

fn io_failed(_: std::io::Error) -> ExportError {
    ExportError::Failed(
        "The zip file could not be written. Close other tabs to free memory, then try again."
            .to_owned(),
    )
}

impl<W: Write> ZipBuilder<W> {
    /// A new archive written into `out`.
    pub fn new(out: W) -> Self {
        ZipBuilder {
            archive: rawzip::ZipArchiveWriter::new(out),
            taken: HashSet::new(),
        }
    }

    /// The path for `name` inside the folder `parent` ("" for the top, else a
    /// path ending in `/`), safe and not yet used; folders end in `/`.
    fn claim(&mut self, parent: &str, name: &str, is_dir: bool) -> String {
        let base = safe_name(name);
        let suffix = if is_dir { "/" } else { "" };
        let mut candidate = format!("{parent}{base}{suffix}");
        let mut n = 1;
        while !self.taken.insert(candidate.to_lowercase()) {
            n += 1;
            candidate = format!("{parent}{}{suffix}", numbered(&base, n, is_dir));
        }
        candidate
    }

    /// Adds a folder; returns its path (ending in `/`) for its children.
    pub fn add_dir(
        &mut self,
        parent: &str,
        name: &str,
        modified: i64,
    ) -> Result<String, ExportError> {
        let path = self.claim(parent, name, true);
        self.archive
            .new_dir(path.as_str())
            .last_modified(rawzip::time::UtcDateTime::from_unix(modified))
            .create()
            .map_err(zip_failed)?;
        Ok(path)
    }

    /// Adds a file held in memory; returns its path.
    pub fn add_bytes(
        &mut self,
        parent: &str,
        name: &str,
        modified: i64,
        bytes: &[u8],
    ) -> Result<String, ExportError> {
        let mut once = Some(bytes.to_vec());
        self.add_stream_sync(parent, name, modified, move || Ok(once.take()))
    }

    fn add_stream_sync(
        &mut self,
        parent: &str,
        name: &str,
        modified: i64,
        mut next: impl FnMut() -> Result<Option<Vec<u8>>, ExportError>,
    ) -> Result<String, ExportError> {
        let path = self.claim(parent, name, false);
        let (mut entry, config) = self
            .archive
            .new_file(path.as_str())
            .last_modified(rawzip::time::UtcDateTime::from_unix(modified))
            .start()
            .map_err(zip_failed)?;
        let mut writer = config.wrap(&mut entry);
        while let Some(piece) = next()? {
            writer.write_all(&piece).map_err(io_failed)?;
        }
        let (_, descriptor) = writer.finish().map_err(zip_failed)?;
        entry.finish(descriptor).map_err(zip_failed)?;
        Ok(path)
    }

    /// Adds a file whose content arrives in pieces from `next` (`None` at the
    /// end); returns its path. Only one piece is held at a time.
    pub async fn add_stream<F, Fut>(
        &mut self,
        parent: &str,
        name: &str,
        modified: i64,
        mut next: F,
    ) -> Result<String, ExportError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<Vec<u8>>, ExportError>>,
    {
        let path = self.claim(parent, name, false);
        let (mut entry, config) = self
            .archive
            .new_file(path.as_str())
            .last_modified(rawzip::time::UtcDateTime::from_unix(modified))
            .start()
            .map_err(zip_failed)?;
        let mut writer = config.wrap(&mut entry);
        while let Some(piece) = next().await? {
            writer.write_all(&piece).map_err(io_failed)?;
        }
        let (_, descriptor) = writer.finish().map_err(zip_failed)?;
        entry.finish(descriptor).map_err(zip_failed)?;
        Ok(path)
    }

    /// Writes the central directory and hands back the output.
    pub fn finish(self) -> Result<W, ExportError> {
        self.archive.finish().map_err(zip_failed)
    }
}

/// Adds `blob` as a file, reading it back in [`PART_BYTES`] slices (the zip
/// needs each byte for the CRC-32 and the sizes).
pub async fn add_blob<W: Write>(
    zip: &mut ZipBuilder<W>,
    parent: &str,
    name: &str,
    modified: i64,
    blob: &web_sys::Blob,
) -> Result<String, ExportError> {
    let size = blob.size();
    let mut offset = 0.0;
    zip.add_stream(parent, name, modified, || {
        let start = offset;
        let end = (start + PART_BYTES as f64).min(size);
        offset = end;
        let slice = (start < size)
            .then(|| blob.slice_with_f64_and_f64(start, end))
            .transpose();
        async move {
            let Some(slice) = slice.map_err(js_failed)? else {
                return Ok(None);
            };
            let buffer = JsFuture::from(slice.array_buffer())
                .await
                .map_err(js_failed)?;
            Ok(Some(Uint8Array::new(&buffer).to_vec()))
        }
    })
    .await
}

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
/// into a `Blob`, through [`crate::transfer::download`] (the same checks and
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
