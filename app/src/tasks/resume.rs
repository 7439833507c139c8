//! Going on with an interrupted upload (docs/PROTOCOL.md, 16.5, step 4).
//!
//! When an upload starts, the browser keeps a note
//! ([`crate::platform::resume_notes`]): the node id and version, the size, the
//! content key wrapped under the person's resume key
//! ([`shared::crypto::keyring::Keyring::resume_key`]), and a tag keyed by that
//! key over the SHA-256 of the file's first chunk, its size, its modification
//! time and where it goes. When a file is picked again for the same place, the
//! same tag finds the note; the server says which chunks it holds
//! (`records/upload/status`), and only the others are sent. Held chunks are
//! sealed again locally for the manifest's hashes: AES-GCM gives the same
//! bytes for the same key, nonce and plaintext, so the signed manifest covers
//! exactly what was sent before, and a chunk the server claims but does not
//! hold, or altered, fails the finish or every later check. The modification
//! time keeps a file edited since out of the note, so no chunk index is ever
//! sealed twice under one key with different content.

use shared::{
    api::records::{upload_status, NewNode, NodeKind, UnfinishedUpload, VersionRef},
    crypto::{aead, aead::Key256, b64, context, hash, kdf, stream::CHUNK_SIZE},
    model::Id,
    records::{unwrap_child_key, OpenNode, StreamLayout},
};

use super::{
    transfer::{browser_error, TransferError},
    upload::read_slice,
};
use crate::platform::resume_notes::{self, ResumeNote};

/// What an upload can go on from.
pub struct Resumable {
    /// The server's account of the upload (checked against the note).
    pub status: UnfinishedUpload,
    /// The upload's content key, from the note.
    pub content_key: Key256,
}

/// The keyed tag of `file` going to `target` (a folder for a new file, the
/// file for a new version), base64url.
pub async fn file_tag(
    file: &web_sys::File,
    resume_key: &Key256,
    target: &Id,
) -> Result<String, TransferError> {
    let size = file.size() as u64;
    let first = if size == 0 {
        zeroize::Zeroizing::new(Vec::new())
    } else {
        read_slice(file, 0..size.min(u64::from(CHUNK_SIZE))).await?
    };
    let first_hash = hash::sha256(&first);
    let modified = (file.last_modified() as i64).to_be_bytes();
    let tag = kdf::derive_key(
        resume_key.as_bytes(),
        &context::bind(
            context::UPLOAD_RESUME_TAG,
            &[&first_hash, &size.to_be_bytes(), &modified, target],
        ),
    )
    .map_err(browser_error)?;
    Ok(b64::encode(tag.as_bytes()))
}

fn wrap_aad(node_id: &Id, version: u32) -> Vec<u8> {
    context::bind(
        context::UPLOAD_RESUME_WRAP,
        &[node_id, &version.to_be_bytes()],
    )
}

/// Keeps a note about an upload just started.
pub fn remember(
    user: &Id,
    resume_key: &Key256,
    tag: &str,
    node_id: &Id,
    version: u32,
    size: u64,
    content_key: &Key256,
) -> Result<(), TransferError> {
    let wrapped = aead::wrap_key(resume_key, &wrap_aad(node_id, version), content_key)
        .map_err(browser_error)?;
    resume_notes::remember(
        user,
        ResumeNote {
            tag: tag.to_owned(),
            node_id: b64::encode(node_id),
            version,
            size,
            content_key: b64::encode(&wrapped),
        },
    );
    Ok(())
}

/// Forgets the note with this tag.
pub fn forget(user: &Id, tag: &str) {
    resume_notes::forget(user, tag);
}

/// The upload a note names, if the server still holds it and it fits the
/// file exactly (same size, chunk size and chunk count; a new file into the
/// same folder, or a new version of the same file). Anything else forgets
/// the note: the upload starts over.
pub async fn find(
    user: &Id,
    resume_key: &Key256,
    tag: &str,
    layout: &StreamLayout,
    new_file_in: Option<&Id>,
    file_id: Option<&Id>,
) -> Option<Resumable> {
    let note = resume_notes::find(user, tag)?;
    let found = async {
        let node_id: Id = b64::decode(&note.node_id)?.try_into().ok()?;
        let wrapped = b64::decode(&note.content_key)?;
        let content_key =
            aead::unwrap_key(resume_key, &wrap_aad(&node_id, note.version), &wrapped).ok()?;
        let status = upload_status(VersionRef {
            node_id,
            version: note.version,
            state: None,
            head: None,
        })
        .await
        .ok()?;
        let fits = status.node_id == node_id
            && status.version == note.version
            && note.size == layout.file_len
            && status.chunk_size == CHUNK_SIZE
            && status.ciphertext_len == layout.ciphertext_len()
            && u64::from(status.chunk_count) == layout.chunk_count()
            && match (&status.new_node, new_file_in, file_id) {
                (Some(n), Some(parent), None) => {
                    n.node_id == node_id && n.parent_id == Some(*parent) && n.kind == NodeKind::File
                }
                (None, None, Some(file)) => *file == node_id,
                _ => false,
            };
        fits.then_some(Resumable {
            status,
            content_key,
        })
    }
    .await;
    if found.is_none() {
        forget(user, tag);
    }
    found
}

/// A new file's node and key as the server kept them at the start; the key
/// opens only under the folder's key, so a substituted one is refused.
pub fn new_node_of(
    status: &UnfinishedUpload,
    parent: &OpenNode,
) -> Result<(NewNode, Key256), TransferError> {
    let node = status
        .new_node
        .clone()
        .ok_or_else(|| TransferError::Refused(NOT_THE_SAME.to_owned()))?;
    let key = unwrap_child_key(&parent.key, &node.node_id, parent.id(), &node.wrapped_key)
        .map_err(|_| TransferError::Refused(NOT_THE_SAME.to_owned()))?;
    Ok((node, key))
}

/// When the unfinished upload the server shows does not open.
const NOT_THE_SAME: &str = "The unfinished upload of this file could not be continued: the \
     server's copy does not match this browser's. Cancel it and upload the file again.";

/// Bytes of the file the held chunks cover, for "Continuing from …".
pub fn held_bytes(layout: &StreamLayout, held: &[bool]) -> u64 {
    held.iter()
        .enumerate()
        .filter(|(_, h)| **h)
        .map(|(i, _)| {
            let r = layout.file_range(i as u64);
            r.end - r.start
        })
        .sum()
}
