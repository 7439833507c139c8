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

use super::{
    pad_metadata, unpad_metadata, HeadLeaf, NodeMetadata, OpenNode, RecordHead, RecordType, Signer,
    STARTER_FOLDERS,
};

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

/// Makes a new folder or entry under `parent`: a fresh key, wrapped under the
/// parent's, sealed metadata, and its first state signed by `signer`.
/// Returns what to send and the new key.
pub fn new_child(
    parent: &OpenNode,
    kind: crate::api::records::NodeKind,
    metadata: &NodeMetadata,
    signer: &Signer<'_>,
) -> Result<(crate::api::records::NewNode, Key256), CryptoError> {
    let (mut node, key) = new_node(parent, kind, metadata)?;
    node.state = Some(signer.new_node(&node));
    Ok((node, key))
}

/// Makes a new file's node under `parent` for `records/upload/start`: no
/// state yet, as it stays invisible until its first version, whose finish
/// carries the signed state.
pub fn new_file_node(
    parent: &OpenNode,
    metadata: &NodeMetadata,
) -> Result<(crate::api::records::NewNode, Key256), CryptoError> {
    new_node(parent, crate::api::records::NodeKind::File, metadata)
}

fn new_node(
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
        state: None,
    };
    Ok((node, key))
}

/// A new record, as `records/create` takes it: the root (wrapped to the owner),
/// the [`STARTER_FOLDERS`] in a random order (so the server cannot tell which
/// folder is which by the order they were made), each node's signed state, and
/// the first head.
pub struct NewRecord {
    /// The root folder.
    pub root: crate::api::records::NewNode,
    /// The starter folders.
    pub children: Vec<crate::api::records::NewNode>,
    /// The first head, over the root and the starter folders.
    pub head: crate::crypto::sign::Signed<RecordHead>,
}

/// Makes a new record for `owner` with root id `root_id` (the id the owner's
/// keyring names, so a browser never makes a second record), signed with the
/// owner's identity key.
pub fn new_record(
    owner_id: &Id,
    owner_key: &hpke::EncryptionPublicKey,
    identity: &crate::crypto::sign::SigningKey,
    root_id: Id,
    now: i64,
) -> Result<NewRecord, CryptoError> {
    use crate::api::records::{NewNode, NodeKind};
    let signer = Signer {
        owner_id: *owner_id,
        author_id: *owner_id,
        key: identity,
        now,
    };
    let root_key = Key256::generate()?;
    let folder = |name: &str, record_type| NodeMetadata::new(name, record_type, now);
    let mut root = NewNode {
        node_id: root_id,
        parent_id: None,
        kind: NodeKind::Folder,
        wrapped_key: wrap_root_key(owner_key, owner_id, &root_id, &root_key)?,
        metadata: seal_metadata(&root_key, &root_id, &folder("My record", RecordType::Other))?,
        state: None,
    };
    root.state = Some(signer.new_node(&root));
    let mut order: Vec<usize> = (0..STARTER_FOLDERS.len()).collect();
    shuffle(&mut order)?;
    let mut children = Vec::new();
    for i in order {
        let (name, record_type) = STARTER_FOLDERS[i];
        let id: Id = crate::crypto::rng::bytes()?;
        let key = Key256::generate()?;
        let mut child = NewNode {
            node_id: id,
            parent_id: Some(root_id),
            kind: NodeKind::Folder,
            wrapped_key: wrap_child_key(&root_key, &id, &root_id, &key)?,
            metadata: seal_metadata(&key, &id, &folder(name, record_type))?,
            state: None,
        };
        child.state = Some(signer.new_node(&child));
        children.push(child);
    }
    let leaves: Vec<HeadLeaf> = std::iter::once(&root)
        .chain(children.iter())
        .filter_map(|n| n.state.as_ref().map(HeadLeaf::of))
        .collect();
    let head = RecordHead::genesis(*owner_id, root_id, &leaves, now).sign(identity);
    Ok(NewRecord {
        root,
        children,
        head,
    })
}

/// Fisher-Yates with the system's random generator (rejection sampling, so
/// every order is equally likely).
fn shuffle<T>(items: &mut [T]) -> Result<(), CryptoError> {
    for i in (1..items.len()).rev() {
        let bound = (i + 1) as u32;
        let zone = u32::MAX - (u32::MAX % bound);
        let j = loop {
            let r = u32::from_be_bytes(crate::crypto::rng::bytes()?);
            if r < zone {
                break (r % bound) as usize;
            }
        };
        items.swap(i, j);
    }
    Ok(())
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
