//! `records/batch` (docs/PROTOCOL.md, section 16.11): many new folders and
//! small files in the caller's own record, under one owner's head, in one
//! atomic write with one audit event per item.
//!
//! Every item gets the checks its one-by-one call makes (`records/node/create`
//! for a folder; `records/upload/start`, the chunk and `records/upload/finish`
//! for a file): its key and metadata sizes, its signed state as it will be
//! stored, a file's signed manifest against the caller's key and the content
//! it carries. The head must cover every new leaf. Any refusal refuses the
//! whole batch, its message naming the item, and nothing is stored.

use std::collections::{HashMap, HashSet};

use shared::{
    api::{
        records::{
            BatchRequest, NewFile, NewNode, NodeKind, Usage, MAX_BATCH_CONTENT, MAX_BATCH_ITEMS,
            MAX_CHUNK_SIZE, MAX_INLINE_CIPHERTEXT, MAX_NODES, MIN_CHUNK_SIZE,
        },
        ApiError,
    },
    audit::EventKind,
    crypto::{sign::part_hash, stream},
    model::Id,
    records::{padded_len, HeadLeaf},
};

use super::{
    changed_meanwhile, check_child_key, check_metadata, conflict, encode, event, head_ops,
    human_size, id_taken,
    layout::{chunk_key, manifest_key, node_key, owner_key, version_key, StoredVersion},
    new_stored_node, next_head,
    signed::Signing,
    too_large, CONTENT_KEY_LEN,
};
use crate::{
    backend::{audit::Draft, sessions::Session, store_error, ServerBackend},
    store::{Batch, Space, StoreError},
};

/// The same error, its message saying which item of the batch it is about.
fn at(index: usize, what: &str, e: ApiError) -> ApiError {
    ApiError::new(
        e.code,
        format!(
            "Item {} of the batch ({what}): {} Nothing in the batch was stored.",
            index + 1,
            e.message
        ),
    )
}

/// The checks of one folder that need no store.
fn check_folder(node: &NewNode) -> Result<(), ApiError> {
    if node.kind != NodeKind::Folder {
        return Err(ApiError::bad_request(
            "Only folders go in a batch's folders; files go in its files.",
        ));
    }
    if node.parent_id.is_none() {
        return Err(ApiError::bad_request(
            "A new item needs the folder it goes into.",
        ));
    }
    check_child_key(&node.wrapped_key)?;
    check_metadata(&node.metadata)
}

/// The checks of one file that need no store but the caller's key: sizes,
/// the stream's shape, the signed manifest against the content.
fn check_file(s: &Session, max_file: u64, file: &NewFile) -> Result<(), ApiError> {
    let node = &file.node;
    if node.kind != NodeKind::File {
        return Err(ApiError::bad_request("A batch's files must be files."));
    }
    let Some(parent_id) = node.parent_id else {
        return Err(ApiError::bad_request(
            "A new file needs the folder it goes into.",
        ));
    };
    check_child_key(&node.wrapped_key)?;
    check_metadata(&node.metadata)?;
    if file.wrapped_content_key.len() != CONTENT_KEY_LEN {
        return Err(ApiError::bad_request(format!(
            "The wrapped content key must be {CONTENT_KEY_LEN} bytes."
        )));
    }
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&file.chunk_size) {
        return Err(ApiError::bad_request(format!(
            "The chunk size must be {MIN_CHUNK_SIZE} to {MAX_CHUNK_SIZE} bytes."
        )));
    }
    let len = file.content.len() as u64;
    if len > MAX_INLINE_CIPHERTEXT {
        return Err(too_large(format!(
            "A file in a batch may carry at most {} of encrypted content; upload larger files one by one.",
            human_size(MAX_INLINE_CIPHERTEXT)
        )));
    }
    let misfit = || ApiError::bad_request("The content is not one whole chunk of this chunk size.");
    let padded = stream::plaintext_len(len, file.chunk_size).map_err(|_| misfit())?;
    if stream::chunk_count(padded, file.chunk_size).map_err(|_| misfit())? != 1 {
        return Err(misfit());
    }
    if padded > padded_len(max_file) {
        return Err(too_large(format!(
            "This file is too big. The largest file this server accepts is {}.",
            human_size(max_file)
        )));
    }
    let m = file
        .manifest
        .verify(&s.user.key_entry.value.identity_key)
        .map_err(|_| {
            ApiError::bad_request(
                "The manifest's signature does not verify with your identity key.",
            )
        })?;
    let mismatch = |what: &str| {
        ApiError::bad_request(format!("The manifest's {what} does not match this file."))
    };
    if m.node_id != node.node_id {
        return Err(mismatch("file id"));
    }
    if m.version != 1 {
        return Err(mismatch("version"));
    }
    if m.author_id != s.user.id {
        return Err(mismatch("author"));
    }
    if m.parent_id != parent_id {
        return Err(mismatch("folder"));
    }
    if m.size != padded {
        return Err(mismatch("size"));
    }
    if m.part_hashes.len() != 1 {
        return Err(mismatch("number of parts"));
    }
    if m.part_hashes.first() != Some(&part_hash(&file.content)) {
        return Err(ApiError::bad_request(
            "The manifest's hash of chunk 0 does not match the content sent.",
        ));
    }
    Ok(())
}

/// Checks of the whole request before anything is read: its size, and each
/// item on its own.
fn check_request(s: &Session, max_file: u64, request: &BatchRequest) -> Result<(), ApiError> {
    let count = request.folders.len() + request.files.len();
    if count == 0 {
        return Err(ApiError::bad_request(
            "A batch needs at least one folder or file.",
        ));
    }
    if count > MAX_BATCH_ITEMS {
        return Err(too_large(format!(
            "A batch holds at most {MAX_BATCH_ITEMS} folders and files; this one has {count}. Nothing was stored. Send them in smaller batches."
        )));
    }
    let content: u64 = request
        .files
        .iter()
        .map(|f| f.content.len() as u64)
        .fold(0, u64::saturating_add);
    if content > MAX_BATCH_CONTENT {
        return Err(too_large(format!(
            "A batch carries at most {} of file content; this one has {}. Nothing was stored. Send the files in smaller batches.",
            human_size(MAX_BATCH_CONTENT),
            human_size(content)
        )));
    }
    let mut ids = HashSet::new();
    for (i, node) in request.folders.iter().enumerate() {
        check_folder(node).map_err(|e| at(i, "a folder", e))?;
        if !ids.insert(node.node_id) {
            return Err(at(
                i,
                "a folder",
                ApiError::bad_request("Its id is listed twice."),
            ));
        }
    }
    let base = request.folders.len();
    for (i, file) in request.files.iter().enumerate() {
        check_file(s, max_file, file).map_err(|e| at(base + i, "a file", e))?;
        if !ids.insert(file.node.node_id) {
            return Err(at(
                base + i,
                "a file",
                ApiError::bad_request("Its id is listed twice."),
            ));
        }
    }
    Ok(())
}

/// Creates the batch's folders and files in the caller's own record.
pub(super) async fn batch(
    b: &ServerBackend,
    s: &Session,
    request: BatchRequest,
) -> Result<Usage, ApiError> {
    let owner = s.user.id;
    check_request(s, b.config.records.max_file_bytes, &request)?;
    let BatchRequest {
        folders,
        files,
        head: signed_head,
    } = request;

    let _guard = b.record_locks.lock(&owner).await;
    let (head_raw, head) = b.existing_head(&owner).await?;
    let count = folders.len() + files.len();
    if head.nodes.saturating_add(count as u64) > MAX_NODES as u64 {
        return Err(conflict(format!(
            "Your record can hold {MAX_NODES} items, and this batch would pass that. Nothing was stored. Empty the Trash or remove items first."
        )));
    }
    let bytes: u64 = folders
        .iter()
        .map(|n| n.metadata.len() as u64)
        .chain(
            files
                .iter()
                .map(|f| (f.node.metadata.len() + f.content.len()) as u64),
        )
        .fold(0, u64::saturating_add);
    b.check_quota(&head, bytes)?;

    // Parents: a folder stored already (checked once each) or made earlier
    // in this batch.
    let mut made: HashSet<Id> = HashSet::new();
    let mut stored_parents: HashMap<Id, ()> = HashMap::new();
    let now = b.now();
    let mut batch = Batch::new();
    let mut changes: Vec<(Id, Option<HeadLeaf>)> = Vec::with_capacity(count);
    let mut drafts: Vec<Draft> = Vec::with_capacity(count);
    let items = folders
        .iter()
        .map(|n| (n, None))
        .chain(files.iter().map(|f| (&f.node, Some(f))));
    for (i, (node, file)) in items.enumerate() {
        let what = if file.is_some() { "a file" } else { "a folder" };
        let parent = node.parent_id.unwrap_or(node.node_id);
        if !made.contains(&parent) && !stored_parents.contains_key(&parent) {
            b.target_folder(&owner, &parent)
                .await
                .map_err(|e| at(i, what, e))?;
            stored_parents.insert(parent, ());
        }
        if b.store
            .get(Space::Records, &owner_key(&node.node_id))
            .await
            .map_err(store_error)?
            .is_some()
        {
            return Err(at(i, what, id_taken()));
        }
        let mut stored = new_stored_node(node, now);
        let current = match file {
            Some(f) => {
                stored.current = Some(1);
                stored.version_count = 1;
                stored.last_version = 1;
                let version = StoredVersion {
                    version: 1,
                    chunk_size: f.chunk_size,
                    ciphertext_len: f.content.len() as u64,
                    chunk_count: 1,
                    wrapped_content_key: f.wrapped_content_key.clone(),
                    author_id: owner,
                    stored_at: now,
                    grant_id: None,
                };
                batch
                    .expect_absent(Space::Records, version_key(&node.node_id, 1))
                    .put(
                        Space::Records,
                        version_key(&node.node_id, 1),
                        encode(&version)?,
                    )
                    .put(
                        Space::Records,
                        manifest_key(&node.node_id, 1),
                        encode(&f.manifest)?,
                    )
                    .put(
                        Space::Blobs,
                        chunk_key(&node.node_id, 1, 0),
                        f.content.clone(),
                    );
                Some(f.version())
            }
            None => None,
        };
        let mut signing = Signing {
            state: node.state.clone(),
            head: None,
            grant: None,
        };
        let leaf = b
            .attach_state(s, &owner, &mut stored, &mut signing, current)
            .await
            .map_err(|e| at(i, what, e))?;
        changes.push((node.node_id, Some(leaf)));
        batch
            .expect_absent(Space::Records, owner_key(&node.node_id))
            .put(Space::Records, owner_key(&node.node_id), owner.to_vec())
            .put(
                Space::Records,
                node_key(&owner, &node.node_id),
                encode(&stored)?,
            );
        let kind = if file.is_some() {
            EventKind::FileWritten
        } else {
            EventKind::NodeCreated
        };
        drafts.push(event(s, kind, &node.node_id));
        if file.is_none() {
            made.insert(node.node_id);
        }
    }

    let mut new_head = next_head(&head, |h| {
        h.stored_bytes = h.stored_bytes.saturating_add(bytes);
        h.nodes = h.nodes.saturating_add(count as u64);
    });
    new_head.signed = b
        .sign_off(&mut batch, s, &owner, &head, &changes, Some(signed_head))
        .await?;
    head_ops(&mut batch, &owner, &head_raw, &new_head)?;
    let mut drafts = drafts.into_iter();
    let Some(first) = drafts.next() else {
        return Err(ApiError::bad_request(
            "A batch needs at least one folder or file.",
        ));
    };
    b.append_all(batch, first, drafts.collect())
        .await
        .map_err(|e| match e {
            StoreError::Conflict => changed_meanwhile(),
            e => store_error(e),
        })?;
    Ok(b.usage(&new_head))
}
