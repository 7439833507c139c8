//! Changes to the patient's record other than file content: new folders,
//! names, moves, the trash, restoring an older version, and saving a note.
//! Every key and every name is sealed or wrapped here, in the browser; the
//! server only stores what it is given. Each function returns the sentence
//! for the person (what was done, or what went wrong and what to do).

use shared::{
    api::records::{
        create_node, list_versions, restore_version, trash_node, update_node, MoveNodeRequest,
        NodeKind, NodeRef, NodeRevision, NodeView, UpdateNodeRequest, VersionRef, VersionView,
        {self},
    },
    crypto::b64,
    model::{Id, KeyEntry},
    records::{
        change, new_child, open_metadata, seal_metadata, validate_name, wrap_child_key,
        ItemDetails, NodeMetadata, OpenNode, OpenTree, RecordType,
    },
};

use super::{
    download::{exact_size, verified_job},
    transfer::{Cancel, TransferError},
    upload::{text_file, upload, UploadJob, UploadTarget},
    writer::Writer,
};
use crate::session::{now_unix, Session};

/// Creates the folder `name` in `parent`, of `record_type`.
pub async fn create_folder(
    writer: &Writer,
    parent: &OpenNode,
    record_type: RecordType,
    name: &str,
) -> Result<String, String> {
    make_folder(writer, parent, record_type, name).await?;
    Ok(format!("Folder “{name}” created."))
}

/// Makes the folder `name` in `parent` and answers it opened, for a task
/// that goes on to write into it (the vital-signs, summary or import folder).
pub async fn make_folder(
    writer: &Writer,
    parent: &OpenNode,
    record_type: RecordType,
    name: &str,
) -> Result<OpenNode, String> {
    validate_name(name)?;
    let metadata = NodeMetadata::new(name, record_type, now_unix());
    metadata.validate()?;
    let (node, key) = new_child(parent, NodeKind::Folder, &metadata, &writer.signer())
        .map_err(|_| "This browser could not make the folder's key. Try again.".to_owned())?;
    let states: Vec<_> = node.state.iter().cloned().collect();
    let view = writer
        .commit(&states, &[], |head| create_node(node.clone(), head))
        .await?;
    Ok(OpenNode {
        view,
        key,
        metadata,
    })
}

/// Seals `metadata` as a new entry (metadata only: a vital reading, a
/// summary item's state) in `folder`, signed by the writer.
pub async fn add_entry(
    writer: &Writer,
    folder: &OpenNode,
    metadata: &NodeMetadata,
) -> Result<(), String> {
    metadata.validate()?;
    let (node, _) =
        new_child(folder, NodeKind::Entry, metadata, &writer.signer()).map_err(|_| {
            "Your browser could not encrypt the entry. Reload the page and try again.".to_owned()
        })?;
    let states: Vec<_> = node.state.iter().cloned().collect();
    writer
        .commit(&states, &[], |head| create_node(node.clone(), head))
        .await?;
    Ok(())
}

/// Gives `node` the name `name` (its metadata sealed again under its key).
pub async fn rename(writer: &Writer, node: &OpenNode, name: &str) -> Result<String, String> {
    validate_name(name)?;
    let old = node.metadata.name.clone();
    let mut metadata = node.metadata.clone();
    metadata.name = name.to_owned();
    reseal(writer, node, metadata).await?;
    Ok(format!("“{old}” is now called “{name}”."))
}

/// Gives `node` new details (type, clinical date, description), sealed
/// under its key like its name.
pub async fn set_details(
    writer: &Writer,
    node: &OpenNode,
    details: &ItemDetails,
) -> Result<String, String> {
    let mut metadata = node.metadata.clone();
    details.apply(&mut metadata);
    reseal(writer, node, metadata).await?;
    Ok(format!(
        "The details of “{}” are saved.",
        node.metadata.name
    ))
}

/// Stores `metadata` as `node`'s, sealed under its key, with a signed state.
async fn reseal(
    writer: &Writer,
    node: &OpenNode,
    mut metadata: NodeMetadata,
) -> Result<(), String> {
    metadata.modified_at = now_unix();
    metadata.validate()?;
    let sealed = seal_metadata(&node.key, node.id(), &metadata)
        .map_err(|_| "This browser could not encrypt the change. Try again.".to_owned())?;
    let state = writer.sign(&change::with_metadata(&node.view, &sealed));
    writer
        .commit(std::slice::from_ref(&state), &[], |head| {
            update_node(UpdateNodeRequest {
                node_id: *node.id(),
                revision: node.view.revision,
                metadata: sealed.clone(),
                state: Some(state.clone()),
                head,
            })
        })
        .await?;
    Ok(())
}

/// Moves `node` into the folder `target`: its key is wrapped again under the
/// new parent's key.
pub async fn move_node(writer: &Writer, node: &OpenNode, target: &OpenNode) -> Result<(), String> {
    let wrapped = wrap_child_key(&target.key, node.id(), target.id(), &node.key)
        .map_err(|_| "This browser could not re-encrypt the key. Try again.".to_owned())?;
    let state = writer.sign(&change::moved(&node.view, *target.id(), &wrapped));
    writer
        .commit(std::slice::from_ref(&state), &[], |head| {
            records::move_node(MoveNodeRequest {
                node_id: *node.id(),
                revision: node.view.revision,
                new_parent_id: *target.id(),
                wrapped_key: wrapped.clone(),
                state: Some(state.clone()),
                head,
            })
        })
        .await?;
    Ok(())
}

/// The folders `node` may move to, each with its path from the top ("My
/// record / Lab results"), sorted by path: every folder outside the trash
/// that is not the node itself, below it, or its current parent.
pub fn move_choices(tree: &OpenTree, node: &Id, root_name: &str) -> Vec<(Id, String)> {
    let Some(this) = tree.node(node) else {
        return Vec::new();
    };
    let name_of = |n: &OpenNode| {
        if *n.id() == tree.root_id {
            root_name.to_owned()
        } else {
            n.metadata.name.clone()
        }
    };
    let mut out: Vec<(Id, String)> = tree
        .nodes()
        .filter(|n| n.is_folder())
        .filter(|n| !tree.in_trash(n.id()))
        .filter(|n| !tree.is_within(n.id(), node))
        .filter(|n| Some(*n.id()) != this.view.parent_id)
        .map(|n| {
            let path: Vec<String> = tree.path(n.id()).into_iter().map(name_of).collect();
            (*n.id(), path.join(" / "))
        })
        .collect();
    shared::sort::sort_by_key(&mut out, |(_, path)| path.to_lowercase());
    out
}

/// Moves `node` to the trash (the patient can restore it until it is emptied).
/// By the owner or a doctor with a read-and-write grant.
pub async fn trash(writer: &Writer, node: &OpenNode) -> Result<(), String> {
    trash_view(writer, &node.view).await
}

/// [`trash`] of a node as served (a vital-signs reading).
pub async fn trash_view(writer: &Writer, view: &NodeView) -> Result<(), String> {
    let state = writer.sign(&change::trashed(view, now_unix()));
    writer
        .commit(std::slice::from_ref(&state), &[], |head| {
            trash_node(NodeRevision {
                node_id: view.node_id,
                revision: view.revision,
                state: Some(state.clone()),
                head,
            })
        })
        .await?;
    Ok(())
}

/// Brings `node` back from the trash.
pub async fn restore(writer: &Writer, node: &OpenNode) -> Result<(), String> {
    let state = writer.sign(&change::restored(&node.view));
    writer
        .commit(std::slice::from_ref(&state), &[], |head| {
            records::restore_node(NodeRef {
                node_id: *node.id(),
                state: Some(state.clone()),
                head,
            })
        })
        .await?;
    Ok(())
}

/// Deletes everything in the trash for good: the nodes in `tree`'s trash and
/// everything below them.
pub async fn empty_trash(writer: &Writer, tree: &OpenTree) -> Result<(), String> {
    let removed = change::purged(tree.nodes().map(|n| &n.view));
    writer.commit(&[], &removed, records::empty_trash).await?;
    Ok(())
}

/// The versions of a file, newest first.
pub async fn versions(session: Session, node_id: Id) -> Result<Vec<VersionView>, String> {
    list_versions(b64::encode(&node_id))
        .await
        .map_err(|e| session.explain(&e))
}

/// Makes an older `version` of `node` current again, after verifying it and
/// learning its exact size from its last chunks, so the metadata states the
/// size of what is now current. `owner` and `covers` decide whose signature
/// counts, as for a download.
pub async fn restore_version_with_size(
    writer: &Writer,
    node: &OpenNode,
    version: VersionView,
    owner: &KeyEntry,
    covers: impl Fn(&Id, &Id) -> bool,
) -> Result<String, String> {
    let number = version.version;
    let node_id = *node.id();
    // Verify the old version (and learn its exact size) before it becomes current.
    let session = writer.session;
    let job = verified_job(session, node, Some(version.clone()), owner, covers).await?;
    let exact = exact_size(&job, &Cancel::new())
        .await
        .map_err(|e| e.message(&session))?;
    let state = writer.sign(&change::with_current(&node.view, &version));
    let view = writer
        .commit(std::slice::from_ref(&state), &[], |head| {
            restore_version(VersionRef {
                node_id,
                version: number,
                state: Some(state.clone()),
                head,
            })
        })
        .await?;
    let mut metadata = open_metadata(&node.key, &node_id, &view.metadata)
        .unwrap_or_else(|_| node.metadata.clone());
    if metadata.size != Some(exact) {
        metadata.size = Some(exact);
        metadata.modified_at = now_unix();
        let sealed = seal_metadata(&node.key, &node_id, &metadata)
            .map_err(|_| "This browser could not encrypt the details. Try again.".to_owned())?;
        let state = writer.sign(&change::with_metadata(&view, &sealed));
        writer
            .commit(std::slice::from_ref(&state), &[], |head| {
                update_node(UpdateNodeRequest {
                    node_id,
                    revision: view.revision,
                    metadata: sealed.clone(),
                    state: Some(state.clone()),
                    head,
                })
            })
            .await?;
    }
    Ok(format!("Version {number} is the current version again."))
}

/// Where a note goes and its file name: a new version of `editing`, or a new
/// text file called `title` (".txt" added when it has no extension) in
/// `folder`.
pub fn note_target(
    editing: Option<OpenNode>,
    folder: Option<OpenNode>,
    title: &str,
) -> Result<(String, UploadTarget), String> {
    if let Some(node) = editing {
        return Ok((
            node.metadata.name.clone(),
            UploadTarget::NewVersion { node },
        ));
    }
    let mut name = title.trim().to_owned();
    validate_name(&name)?;
    if !name.contains('.') {
        name.push_str(".txt");
    }
    validate_name(&name)?;
    let parent = folder.ok_or_else(|| "Reload the page and try again.".to_owned())?;
    Ok((
        name,
        UploadTarget::NewFile {
            parent,
            details: ItemDetails::of_type(RecordType::Note),
        },
    ))
}

/// Saves a note's text as an encrypted text file, through the same upload as
/// any file (a new version keeps the earlier one).
pub async fn save_note(name: &str, text: &str, job: UploadJob) -> Result<(), TransferError> {
    let file = text_file(name, text)?;
    upload(&file, job, |_| {}, &Cancel::new()).await?;
    Ok(())
}
