//! The key tree's sealing steps: metadata under the node key, child keys under
//! the parent's, content keys under the node's, the root key to its owner;
//! new nodes and records built from them, and the check on a stored version.

use crate::{
    crypto::{
        aead::{
            Key256, {self},
        },
        context, hpke, CryptoError,
    },
    model::{FileManifest, Id},
};

use super::{pad_metadata, unpad_metadata, NodeMetadata, OpenNode, RecordType, STARTER_FOLDERS};

/// Largest sealed metadata the server accepts (padded JSON plus the box).
pub const MAX_SEALED_METADATA: usize = 16 * 1024;

/// Seals `metadata` under its node's key.
pub fn seal_metadata(
    node_key: &Key256,
    node_id: &Id,
    metadata: &NodeMetadata,
) -> Result<Vec<u8>, CryptoError> {
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec(metadata).map_err(|_| CryptoError::Malformed)?);
    let padded = zeroize::Zeroizing::new(pad_metadata(&json));
    aead::seal(
        node_key,
        &context::bind(context::NODE_METADATA, &[node_id]),
        &padded,
    )
}

/// Opens metadata sealed by [`seal_metadata`] for this node.
pub fn open_metadata(
    node_key: &Key256,
    node_id: &Id,
    sealed: &[u8],
) -> Result<NodeMetadata, CryptoError> {
    let padded = aead::open(
        node_key,
        &context::bind(context::NODE_METADATA, &[node_id]),
        sealed,
    )?;
    serde_json::from_slice(unpad_metadata(&padded)?).map_err(|_| CryptoError::Malformed)
}

/// Wraps a child's node key under its parent's.
pub fn wrap_child_key(
    parent_key: &Key256,
    node_id: &Id,
    parent_id: &Id,
    node_key: &Key256,
) -> Result<Vec<u8>, CryptoError> {
    aead::wrap_key(parent_key, &child_key_aad(node_id, parent_id), node_key)
}

/// Unwraps a child's node key with its parent's.
pub fn unwrap_child_key(
    parent_key: &Key256,
    node_id: &Id,
    parent_id: &Id,
    wrapped: &[u8],
) -> Result<Key256, CryptoError> {
    aead::unwrap_key(parent_key, &child_key_aad(node_id, parent_id), wrapped)
}

fn child_key_aad(node_id: &Id, parent_id: &Id) -> Vec<u8> {
    context::bind(context::NODE_KEY_WRAP, &[node_id, parent_id])
}

/// Wraps a file version's content key under the file's node key.
pub fn wrap_content_key(
    node_key: &Key256,
    node_id: &Id,
    version: u32,
    content_key: &Key256,
) -> Result<Vec<u8>, CryptoError> {
    aead::wrap_key(node_key, &content_key_aad(node_id, version), content_key)
}

/// Unwraps a file version's content key.
pub fn unwrap_content_key(
    node_key: &Key256,
    node_id: &Id,
    version: u32,
    wrapped: &[u8],
) -> Result<Key256, CryptoError> {
    aead::unwrap_key(node_key, &content_key_aad(node_id, version), wrapped)
}

fn content_key_aad(node_id: &Id, version: u32) -> Vec<u8> {
    context::bind(
        context::CONTENT_KEY_WRAP,
        &[node_id, &version.to_be_bytes()],
    )
}

/// Wraps the root node key to its owner (HPKE, see [`hpke::wrap_node_key`]).
pub fn wrap_root_key(
    owner: &hpke::EncryptionPublicKey,
    owner_id: &Id,
    root_id: &Id,
    root_key: &Key256,
) -> Result<Vec<u8>, CryptoError> {
    hpke::wrap_node_key(owner, owner_id, root_id, root_key)
}

/// Opens the root node key with the owner's secret key.
pub fn unwrap_root_key(
    secret: &hpke::EncryptionSecretKey,
    owner_id: &Id,
    root_id: &Id,
    wrapped: &[u8],
) -> Result<Key256, CryptoError> {
    hpke::unwrap_node_key(secret, owner_id, root_id, wrapped)
}

/// Makes a new child node under `parent`: a fresh key, wrapped under the
/// parent's, and sealed metadata. Returns what to send and the new key.
pub fn new_child(
    parent: &OpenNode,
    kind: crate::api::records::NodeKind,
    metadata: &NodeMetadata,
) -> Result<(crate::api::records::NewNode, Key256), CryptoError> {
    let node_id: Id = crate::crypto::rng::bytes()?;
    let key = Key256::generate()?;
    let node = crate::api::records::NewNode {
        node_id,
        parent_id: Some(parent.view.node_id),
        kind,
        wrapped_key: wrap_child_key(&parent.key, &node_id, &parent.view.node_id, &key)?,
        metadata: seal_metadata(&key, &node_id, metadata)?,
    };
    Ok((node, key))
}

/// A new record for `owner`: the root (wrapped to the owner) and the
/// [`STARTER_FOLDERS`], as `records/create` takes them.
pub fn new_record(
    owner_id: &Id,
    owner_key: &hpke::EncryptionPublicKey,
    now: i64,
) -> Result<
    (
        crate::api::records::NewNode,
        Vec<crate::api::records::NewNode>,
    ),
    CryptoError,
> {
    use crate::api::records::{NewNode, NodeKind};
    let root_id: Id = crate::crypto::rng::bytes()?;
    let root_key = Key256::generate()?;
    let folder = |name: &str, record_type| NodeMetadata {
        name: name.into(),
        record_type,
        description: String::new(),
        record_date: None,
        created_at: now,
        modified_at: now,
        mime: None,
        size: None,
        vital: None,
    };
    let root = NewNode {
        node_id: root_id,
        parent_id: None,
        kind: NodeKind::Folder,
        wrapped_key: wrap_root_key(owner_key, owner_id, &root_id, &root_key)?,
        metadata: seal_metadata(&root_key, &root_id, &folder("My record", RecordType::Other))?,
    };
    let mut children = Vec::new();
    for (name, record_type) in STARTER_FOLDERS {
        let id: Id = crate::crypto::rng::bytes()?;
        let key = Key256::generate()?;
        children.push(NewNode {
            node_id: id,
            parent_id: Some(root_id),
            kind: NodeKind::Folder,
            wrapped_key: wrap_child_key(&root_key, &id, &root_id, &key)?,
            metadata: seal_metadata(&key, &id, &folder(name, record_type))?,
        });
    }
    Ok((root, children))
}

/// Checks a stored version before any of its content is used: the manifest is
/// signed by `author_key`, names this node and version, and its part list and
/// size fit the stored ciphertext. The caller must also check that the author
/// may write here (the owner, or a doctor with a write grant).
pub fn verify_version<'a>(
    version: &'a crate::api::records::VersionView,
    author_key: &crate::crypto::sign::VerifyingKey,
) -> Result<&'a FileManifest, CryptoError> {
    let manifest = version.manifest.verify(author_key)?;
    let chunks = crate::crypto::stream::chunk_count(manifest.size, version.chunk_size)?;
    let expected_len = crate::crypto::stream::ciphertext_len(manifest.size, version.chunk_size)?;
    if manifest.node_id != version.node_id
        || manifest.version != version.version
        || manifest.author_id != version.author_id
        || manifest.part_hashes.len() as u64 != chunks
        || expected_len != version.ciphertext_len
    {
        return Err(CryptoError::Malformed);
    }
    Ok(manifest)
}
