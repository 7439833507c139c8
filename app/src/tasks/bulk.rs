//! Many small files and folders at once (`records/batch`, docs/PROTOCOL.md
//! section 16.11): each small file is read, padded and sealed here as one
//! chunk, with its manifest and its node's state signed by the owner, and up
//! to [`MAX_BATCH_ITEMS`] of them go in one request under one record head.
//! A folder picked as a whole (`webkitdirectory`) keeps its tree: its
//! folders are made first, in batches, parents before children.
//!
//! The head goes through the session's [`super::record::RecordStore`] like
//! every other change of the owner's, so the head after a batch is the one
//! this browser signed and remembers, and the next check of the record
//! refuses a server that dropped or changed any item of it.

use std::collections::BTreeMap;

use js_sys::Uint8Array;
use shared::{
    api::{
        records::{
            record_batch, BatchRequest, NewFile, NewNode, NodeKind, Usage, MAX_BATCH_CONTENT,
            MAX_BATCH_ITEMS, MAX_INLINE_CIPHERTEXT,
        },
        ApiError, ErrorCode,
    },
    crypto::{
        aead::Key256,
        stream::{StreamCipher, WebCryptoBackend, CHUNK_SIZE},
    },
    records::{
        bulk::{opened_folder, small_file, SealedContent},
        new_child, new_file_node, ItemDetails, NodeMetadata, OpenNode, RecordType, StreamLayout,
    },
};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use super::{
    transfer::{browser_error, Cancel, TransferError},
    upload::mime_for,
    writer::Writer,
};
use crate::platform::http::{call, HttpError};

/// The ciphertext a file of `len` bytes makes when it fits a batch (one
/// chunk of at most [`MAX_INLINE_CIPHERTEXT`] bytes), else `None`.
pub fn batch_size(len: u64) -> Option<u64> {
    let layout = StreamLayout::new(len, CHUNK_SIZE).ok()?;
    let sealed = layout.ciphertext_len();
    (layout.chunk_count() == 1 && sealed <= MAX_INLINE_CIPHERTEXT).then_some(sealed)
}

/// What a batch request may weigh (JSON bytes, estimated) before the server
/// tells this browser otherwise: under the server's default 1 MiB limit of
/// JSON requests. A server with a lower limit answers 413, and the queue
/// halves this ([`smaller_cap`]).
pub const FIRST_BATCH_CAP: u64 = 960 * 1024;

/// The JSON bytes one file of `sealed` bytes adds to a batch, estimated:
/// its content in base64 and about 2 KiB of keys, metadata, manifest and
/// state.
pub fn json_estimate(sealed: u64) -> u64 {
    sealed.div_ceil(3) * 4 + 2048
}

/// How much of a batch is filled: items, content bytes, estimated JSON bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fill {
    /// Files in it.
    pub items: usize,
    /// Their ciphertext.
    pub content: u64,
    /// The request's estimated size.
    pub json: u64,
}

impl Fill {
    /// The batch with one more file of `sealed` bytes, if it has room under
    /// the server's limits and `cap` (a first file always fits `cap`).
    pub fn with(self, sealed: u64, cap: u64) -> Option<Fill> {
        let next = Fill {
            items: self.items + 1,
            content: self.content.saturating_add(sealed),
            json: self.json.saturating_add(json_estimate(sealed)),
        };
        let fits = next.items <= MAX_BATCH_ITEMS
            && next.content <= MAX_BATCH_CONTENT
            && (self.items == 0 || next.json <= cap);
        fits.then_some(next)
    }
}

/// The cap after a batch of `json` estimated bytes was too large for the
/// server's JSON limit.
pub fn smaller_cap(json: u64) -> u64 {
    (json / 2).max(16 * 1024)
}

/// A refused batch: the server's code (a 413 over the JSON limit makes the
/// next batches smaller) and the sentence.
#[derive(Clone, Debug)]
pub struct BatchError {
    /// The request was larger than the server takes.
    pub too_large: bool,
    /// What to show.
    pub message: String,
}

/// Reads all of a small file into WASM memory (wiped when dropped).
async fn read_all(file: &web_sys::File) -> Result<Zeroizing<Vec<u8>>, TransferError> {
    let unreadable = || {
        TransferError::Browser(format!(
            "“{}” could not be read. It may have been moved, changed or deleted. Choose it again and retry.",
            file.name()
        ))
    };
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| unreadable())?;
    let view = Uint8Array::new(&buffer);
    if f64::from(view.length()) != file.size() {
        return Err(unreadable());
    }
    let mut out = Zeroizing::new(vec![0u8; view.length() as usize]);
    view.copy_to(&mut out);
    view.fill(0, 0, view.length());
    Ok(out)
}

/// Seals `file` as a new file in `parent` for a batch: its node, its one
/// chunk of content, its manifest and its state, signed by `writer`.
pub async fn seal_small(
    file: &web_sys::File,
    parent: &OpenNode,
    details: &ItemDetails,
    writer: &Writer,
) -> Result<NewFile, TransferError> {
    let name = file.name();
    let len = file.size() as u64;
    let layout = StreamLayout::new(len, CHUNK_SIZE)
        .map_err(|_| TransferError::Refused(format!("“{name}” is too large to upload.")))?;
    let now = crate::session::now_unix();
    let mut metadata = NodeMetadata::file(
        &name,
        details.record_type,
        mime_for(&name, &file.type_()),
        len,
        now,
    );
    details.apply(&mut metadata);
    metadata.validate().map_err(TransferError::Refused)?;
    let (node, node_key) = new_file_node(parent, &metadata).map_err(browser_error)?;
    let bytes = read_all(file).await?;
    let content_key = Key256::generate().map_err(browser_error)?;
    let backend = WebCryptoBackend::import(&content_key)
        .await
        .map_err(browser_error)?;
    let cipher = StreamCipher::new(backend, &node.node_id, 1, CHUNK_SIZE).map_err(browser_error)?;
    let mut plain = Zeroizing::new(Vec::with_capacity(layout.padded_len as usize));
    layout.assemble(0, &bytes, &mut plain);
    drop(bytes);
    let mut content = Vec::with_capacity(plain.len() + shared::crypto::stream::TAG_LEN);
    cipher
        .encrypt_chunk_into(0, true, &plain, &mut content)
        .await
        .map_err(browser_error)?;
    let sealed = SealedContent {
        content,
        padded_len: layout.padded_len,
        chunk_size: CHUNK_SIZE,
        content_key,
    };
    small_file(node, &node_key, sealed, &writer.signer()).map_err(browser_error)
}

fn as_api(error: HttpError) -> ApiError {
    match error {
        HttpError::Refused(e) => e,
        HttpError::Cancelled => {
            ApiError::new(ErrorCode::BadRequest, "Cancelled. Nothing was kept.")
        }
        _ => ApiError::new(
            ErrorCode::Unavailable,
            "The medvault server could not be reached.",
        ),
    }
}

/// Sends one batch of new folders and files with the record's next head;
/// the usage after it, or why not.
pub async fn send_batch(
    writer: &Writer,
    folders: Vec<NewNode>,
    files: Vec<NewFile>,
    cancel: &Cancel,
) -> Result<Usage, BatchError> {
    let too_large = std::cell::Cell::new(false);
    let flag = &too_large;
    let states: Vec<_> = folders
        .iter()
        .filter_map(|n| n.state.clone())
        .chain(files.iter().filter_map(|f| f.node.state.clone()))
        .collect();
    let send = |head: Option<_>| {
        let request = head.map(|head| BatchRequest {
            folders: folders.clone(),
            files: files.clone(),
            head,
        });
        async move {
            let Some(request) = request else {
                return Err(ApiError::new(
                    ErrorCode::Conflict,
                    "Your record has not been signed yet, so files go one by one.",
                ));
            };
            let answer = call(cancel, || record_batch(request.clone()))
                .await
                .map_err(as_api);
            if let Err(e) = &answer {
                // The body limit's own 413, not a batch's quota or size.
                flag.set(
                    e.code == ErrorCode::PayloadTooLarge && e.message.contains("request body"),
                );
            }
            answer
        }
    };
    writer
        .commit(&states, &[], send)
        .await
        .map_err(|message| BatchError {
            too_large: too_large.get(),
            message,
        })
}

/// Folders per batch when a picked folder's tree is made.
const FOLDERS_PER_BATCH: usize = 64;

/// One folder of a picked folder's tree, by its path below the folder the
/// files go into ("Scans", "Scans/2024").
pub type FolderPath = String;

/// The folders of `paths` (each file's `webkitRelativePath`, "a/b/c.pdf"),
/// every level, parents before children.
pub fn folder_paths(paths: &[String]) -> Vec<FolderPath> {
    let mut out: BTreeMap<(usize, String), ()> = BTreeMap::new();
    for path in paths {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for depth in 1..parts.len() {
            out.insert((depth, parts[..depth].join("/")), ());
        }
    }
    out.into_keys().map(|(_, p)| p).collect()
}

/// The folder a file of `path` goes into ("a/b/c.pdf" → "a/b"; "" for none).
pub fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// A file's path below the folder picked with it (`webkitRelativePath`), or
/// its name when the browser gives none.
pub fn relative_path(file: &web_sys::File) -> String {
    js_sys::Reflect::get(file, &JsValue::from_str("webkitRelativePath"))
        .ok()
        .and_then(|v| v.as_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| file.name())
}

/// Makes the folders of `paths` under `parent` (record type `record_type`),
/// in batches, parents before children; answers each folder by its path,
/// opened, for the files that go into it.
pub async fn make_folders(
    writer: &Writer,
    parent: &OpenNode,
    record_type: RecordType,
    paths: &[FolderPath],
) -> Result<BTreeMap<FolderPath, OpenNode>, String> {
    let mut made: BTreeMap<FolderPath, OpenNode> = BTreeMap::new();
    let mut pending: Vec<NewNode> = Vec::new();
    let cancel = Cancel::new();
    let now = crate::session::now_unix();
    for path in paths {
        let (above, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        let within = if above.is_empty() {
            parent.clone()
        } else {
            made.get(above).cloned().ok_or_else(|| {
                "The folder's layout could not be read. Choose the folder again.".to_owned()
            })?
        };
        let metadata = NodeMetadata::new(name, record_type, now);
        metadata
            .validate()
            .map_err(|e| format!("The folder “{path}” cannot be made: {e}"))?;
        let (node, key) = new_child(&within, NodeKind::Folder, &metadata, &writer.signer())
            .map_err(|_| "This browser could not make the folder's key. Try again.".to_owned())?;
        made.insert(path.clone(), opened_folder(&node, key, metadata));
        pending.push(node);
        // Folders are small (about 700 bytes of JSON each): 64 per batch fit
        // even a server with a 64 KiB limit.
        if pending.len() == FOLDERS_PER_BATCH {
            send_batch(writer, std::mem::take(&mut pending), Vec::new(), &cancel)
                .await
                .map_err(|e| e.message)?;
        }
    }
    if !pending.is_empty() {
        send_batch(writer, pending, Vec::new(), &cancel)
            .await
            .map_err(|e| e.message)?;
    }
    Ok(made)
}
