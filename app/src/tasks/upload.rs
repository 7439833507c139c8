//! Encrypting and uploading a file chunk by chunk.
//!
//! The file is read one [`CHUNK_SIZE`] slice at a time (`File.slice().arrayBuffer()`),
//! padded by [`StreamLayout`], sealed by WebCrypto under a fresh content key, and
//! sent with `PUT` to [`chunk_path`]. Up to [`IN_FLIGHT`] chunks are read, sealed
//! and sent at once (the server takes them in any order and makes those that
//! arrive together durable with one flush), so at most that many sealed chunks
//! are held; their hashes are collected in order for the manifest. A chunk that
//! fails on the network or with a 5xx is sent again after
//! [`crate::platform::http::RETRY_DELAYS_MS`]; a 4xx stops. The upload is complete
//! only once the signed manifest is accepted (`records/upload/finish`); a failed
//! or cancelled upload is dropped on the server (`records/upload/cancel`) so it
//! frees its quota.

use futures::StreamExt;
use shared::{
    api::{
        records::{
            cancel_upload, finish_upload, start_upload, FinishUploadRequest, NodeView,
            StartUploadRequest, Usage, VersionRef,
        },
        ApiError, ErrorCode,
    },
    crypto::{
        aead::Key256,
        sign::sign,
        stream::{StreamCipher, WebCryptoBackend, CHUNK_SIZE},
    },
    format::format_bytes,
    model::FileManifest,
    records::{
        change, new_file_node, seal_metadata, wrap_content_key, ItemDetails, NodeMetadata,
        OpenNode, StreamLayout,
    },
};
use wasm_bindgen::JsValue;

mod chunks;

pub(super) use chunks::read_slice;
use chunks::send_chunk;

use super::{
    progress::{Pacer, Progress, SpeedMeter},
    resume,
    transfer::{browser_error, Cancel, TransferError},
    writer::Writer,
};
use crate::platform::{
    clock::now_ms,
    http::{call, HttpError},
};

/// Checks, before anything is sent, that a `file_len`-byte file may be uploaded:
/// no larger than the server's limit and small enough for the space left.
pub fn check_fits(name: &str, file_len: u64, usage: &Usage) -> Result<(), String> {
    if file_len > usage.max_file_bytes {
        return Err(format!(
            "“{name}” is {}, larger than the {} limit for one file. Nothing was sent. \
             Split it into smaller files, or ask your administrator about the limit.",
            format_bytes(file_len),
            format_bytes(usage.max_file_bytes)
        ));
    }
    // The server reserves the ciphertext plus room for the sealed metadata.
    let stored = StreamLayout::new(file_len, CHUNK_SIZE)
        .map(|l| {
            l.ciphertext_len()
                .saturating_add(shared::records::MAX_SEALED_METADATA as u64)
        })
        .unwrap_or(u64::MAX);
    let left = usage.quota_bytes.saturating_sub(usage.used_bytes);
    if stored > left {
        return Err(format!(
            "“{name}” ({}) does not fit in the space left in your record ({} of {}). \
             Nothing was sent. Empty the trash or delete files you no longer need, \
             or ask your administrator for more space.",
            format_bytes(file_len),
            format_bytes(left),
            format_bytes(usage.quota_bytes)
        ));
    }
    Ok(())
}

/// The MIME type to record for a file: what the browser says, or a guess from
/// the name's extension when the browser does not know.
pub fn mime_for(name: &str, browser_type: &str) -> String {
    let browser_type = browser_type.trim();
    if !browser_type.is_empty() {
        return browser_type.to_ascii_lowercase();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "txt" | "text" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
    .to_owned()
}

/// Where an upload goes.
#[derive(Clone)]
pub enum UploadTarget {
    /// A new file in this folder, with these details.
    NewFile {
        /// The folder.
        parent: OpenNode,
        /// The new file's type, clinical date and description.
        details: ItemDetails,
    },
    /// A new version of this file.
    NewVersion {
        /// The file.
        node: OpenNode,
    },
}

/// Everything an upload needs besides the file.
pub struct UploadJob {
    /// Where it goes.
    pub target: UploadTarget,
    /// Who uploads into whose record: the author signs the manifest and the
    /// node's state (the owner's finish also carries the record's next head).
    pub writer: Writer,
    /// The record's usage, for the size checks before sending.
    pub usage: Usage,
}

/// How many chunks are read, sealed and sent at once.
pub const IN_FLIGHT: usize = 4;

/// Uploads `file` as a new file or a new version, reporting progress; returns
/// the node as the server stores it once the signed manifest is accepted.
pub async fn upload(
    file: &web_sys::File,
    job: UploadJob,
    progress: impl Fn(Progress),
    cancel: &Cancel,
) -> Result<NodeView, TransferError> {
    let name = file.name();
    let file_len = file.size() as u64;
    check_fits(&name, file_len, &job.usage).map_err(TransferError::Refused)?;
    let layout = StreamLayout::new(file_len, CHUNK_SIZE)
        .map_err(|_| TransferError::Refused(format!("“{name}” is too large to upload.")))?;
    let chunks = layout.chunk_count();
    let now = crate::session::now_unix();
    let mime = mime_for(&name, &file.type_());

    // An upload of this file to this place that was interrupted goes on.
    let user = job.writer.author_id;
    let resume_key = job
        .writer
        .keyring
        .resume_key(&user)
        .map_err(browser_error)?;
    let (new_file_in, file_id) = match &job.target {
        UploadTarget::NewFile { parent, .. } => (Some(*parent.id()), None),
        UploadTarget::NewVersion { node } => (None, Some(*node.id())),
    };
    let target_id = new_file_in.or(file_id).unwrap_or_default();
    let tag = resume::file_tag(file, &resume_key, &target_id).await?;
    let resumed = resume::find(
        &user,
        &resume_key,
        &tag,
        &layout,
        new_file_in.as_ref(),
        file_id.as_ref(),
    )
    .await;

    // The node, its key, its metadata for this version, and the node as it is
    // before this version (a new file's: as the start keeps it).
    let (node_id, parent_id, node_key, new_node, mut metadata, before) = match &job.target {
        UploadTarget::NewFile { parent, details } => {
            let mut metadata =
                NodeMetadata::file(&name, details.record_type, mime.clone(), file_len, now);
            details.apply(&mut metadata);
            metadata.validate().map_err(TransferError::Refused)?;
            let (node, key) = match &resumed {
                Some(r) => resume::new_node_of(&r.status, parent)?,
                None => new_file_node(parent, &metadata).map_err(browser_error)?,
            };
            let before = change::unfinished(&node);
            (
                node.node_id,
                *parent.id(),
                key,
                Some(node),
                metadata,
                before,
            )
        }
        UploadTarget::NewVersion { node } => {
            let parent_id = node
                .view
                .parent_id
                .ok_or_else(|| TransferError::Refused("The top folder is not a file.".into()))?;
            (
                *node.id(),
                parent_id,
                node.key.clone(),
                None,
                node.metadata.clone(),
                node.view.clone(),
            )
        }
    };
    metadata.mime = Some(mime);
    metadata.size = Some(file_len);
    metadata.modified_at = now;

    let mut held = vec![false; chunks as usize];
    let (version, ticket_chunks, content_key, resumed_from) = match resumed {
        Some(r) => {
            for i in r.status.held {
                if let Some(h) = held.get_mut(i as usize) {
                    *h = true;
                }
            }
            let from = resume::held_bytes(&layout, &held);
            (
                r.status.version,
                r.status.chunk_count,
                r.content_key,
                Some(from),
            )
        }
        None => {
            let ticket = call(cancel, || {
                start_upload(StartUploadRequest {
                    node_id,
                    new_node: new_node.clone(),
                    chunk_size: CHUNK_SIZE,
                    ciphertext_len: layout.ciphertext_len(),
                })
            })
            .await?;
            let content_key = Key256::generate().map_err(browser_error)?;
            resume::remember(
                &user,
                &resume_key,
                &tag,
                &node_id,
                ticket.version,
                file_len,
                &content_key,
            )?;
            (ticket.version, ticket.chunk_count, content_key, None)
        }
    };
    progress(Progress {
        done: resumed_from.unwrap_or(0),
        total: file_len,
        bytes_per_second: None,
        resumed_from,
    });

    let result: Result<NodeView, TransferError> = async {
        if u64::from(ticket_chunks) != chunks {
            return Err(TransferError::Browser(
                "The server expects a different number of pieces for this file. Reload the page to get the current app, then try again."
                    .to_owned(),
            ));
        }
        let backend = WebCryptoBackend::import(&content_key)
            .await
            .map_err(browser_error)?;
        let cipher =
            StreamCipher::new(backend, &node_id, version, CHUNK_SIZE).map_err(browser_error)?;

        let mut meter = SpeedMeter::new();
        meter.sample(now_ms(), 0);
        let mut pacer = Pacer::new();
        let mut hashes = Vec::with_capacity(chunks as usize);
        let mut sent = futures::stream::iter(0..chunks)
            .map(|index| {
                let held = held.get(index as usize).copied().unwrap_or(false);
                send_chunk(file, &layout, &cipher, (&node_id, version, index), held, cancel)
            })
            .buffered(IN_FLIGHT);
        while let Some(hash) = sent.next().await {
            let (index, hash) = hash?;
            cancel.check()?;
            hashes.push(hash);
            let done = layout.file_range(index).end;
            let now = now_ms();
            let speed = meter.sample(now, done);
            if pacer.due(now, done, file_len) {
                progress(Progress {
                    done,
                    total: file_len,
                    bytes_per_second: speed,
                    resumed_from,
                });
            }
        }
        drop(sent);

        let manifest = FileManifest {
            node_id,
            parent_id,
            version,
            size: layout.padded_len,
            part_hashes: hashes,
            author_id: job.writer.author_id,
            created_at: crate::session::now_unix(),
        };
        let manifest = sign(job.writer.keyring.identity(), manifest);
        let wrapped_content_key =
            wrap_content_key(&node_key, &node_id, version, &content_key).map_err(browser_error)?;
        let sealed = seal_metadata(&node_key, &node_id, &metadata).map_err(browser_error)?;
        // The node as the finish leaves it, signed by the author.
        let stored_version = change::finished_version(
            &manifest,
            &wrapped_content_key,
            CHUNK_SIZE,
            layout.ciphertext_len(),
        );
        let state = job
            .writer
            .sign(&change::finished(&before, &stored_version, &sealed));
        cancel.check()?;
        let finish = |head| {
            let request = FinishUploadRequest {
                node_id,
                version,
                wrapped_content_key: wrapped_content_key.clone(),
                manifest: manifest.clone(),
                metadata: sealed.clone(),
                state: Some(state.clone()),
                head,
            };
            async move { call(cancel, || finish_upload(request.clone())).await.map_err(as_api) }
        };
        job.writer
            .commit(std::slice::from_ref(&state), &[], finish)
            .await
            .map_err(|message| {
                if cancel.is_cancelled() {
                    TransferError::Cancelled
                } else {
                    TransferError::Browser(message)
                }
            })
    }
    .await;
    match &result {
        Ok(_) => resume::forget(&user, &tag),
        Err(TransferError::Unreachable) => {
            // Kept on both sides: the same file picked again goes on from here.
            return Err(TransferError::Browser(LOST.to_owned()));
        }
        Err(_) => {
            resume::forget(&user, &tag);
            // Free the reserved space; if this fails too the server drops it later.
            let _ = cancel_upload(VersionRef {
                node_id,
                version,
                state: None,
                head: None,
            })
            .await;
        }
    }
    result
}

/// An upload that lost the connection: what was sent stays for a day.
const LOST: &str = "The connection to the medvault server was lost and did not come back. \
     What was sent is kept for a day: check your internet connection, then choose the same \
     file again to continue where it stopped.";

/// A failed call as the server's error, so the record store can tell a
/// conflict from the rest.
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

/// A text note as a file, so notes go through the same encrypted upload.
pub fn text_file(name: &str, text: &str) -> Result<web_sys::File, TransferError> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::FilePropertyBag::new();
    options.set_type("text/plain");
    web_sys::File::new_with_str_sequence_and_options(&parts, name, &options).map_err(|_| {
        TransferError::Browser("This browser could not prepare the note. Try again.".to_owned())
    })
}
