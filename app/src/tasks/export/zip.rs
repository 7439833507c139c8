//! The export's container: [`BlobSink`] moves bytes out of WASM memory into
//! JavaScript `Blob` parts as they come, and [`ZipBuilder`] writes stored zip
//! entries (data descriptors, ZIP64 when needed, by the `rawzip` crate) with
//! names made safe to unpack and unique.

use std::{collections::HashSet, future::Future, io::Write};

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::error::{js_failed, ExportError};

/// Bytes gathered in WASM memory before they move to a JavaScript part.
pub const PART_BYTES: usize = 1 << 20;
/// Loose parts folded into one `Blob` at a time, so a big export is a few large
/// blobs (which the browser may keep on disk) rather than thousands of arrays.
const PARTS_PER_BLOB: u32 = 32;

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
