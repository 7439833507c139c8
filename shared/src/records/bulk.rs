//! A small file as `records/batch` takes it (docs/PROTOCOL.md, section
//! 16.11): its node, its one-chunk content, the content key wrapped under the
//! node key, the manifest and the node's state, signed by the author. Pure,
//! so the browser (which seals the content with WebCrypto) and the server's
//! tests (with `aes-gcm`) make the same bytes.

use crate::{
    api::records::{NewFile, NewNode},
    crypto::{aead::Key256, sign::part_hash, CryptoError},
    model::FileManifest,
    records::{wrap_content_key, Signer},
};

/// What [`small_file`] needs besides the node and the signer: the sealed
/// one-chunk stream of version 1 and its key.
pub struct SealedContent {
    /// The whole stream (one chunk).
    pub content: Vec<u8>,
    /// The stream's plaintext length (the manifest's `size`).
    pub padded_len: u64,
    /// Plaintext bytes per chunk of the stream.
    pub chunk_size: u32,
    /// The content key of version 1.
    pub content_key: Key256,
}

/// The batch item of a new file `node` (from [`super::new_file_node`], key
/// `node_key`) with its only version `sealed`, signed by `signer`: the
/// manifest (version 1, one part) and the node's state as the batch stores
/// it.
pub fn small_file(
    mut node: NewNode,
    node_key: &Key256,
    sealed: SealedContent,
    signer: &Signer<'_>,
) -> Result<NewFile, CryptoError> {
    let parent_id = node.parent_id.ok_or(CryptoError::Malformed)?;
    let manifest = crate::crypto::sign::sign(
        signer.key,
        FileManifest {
            node_id: node.node_id,
            parent_id,
            version: 1,
            size: sealed.padded_len,
            part_hashes: vec![part_hash(&sealed.content)],
            author_id: signer.author_id,
            created_at: signer.now,
        },
    );
    let wrapped_content_key = wrap_content_key(node_key, &node.node_id, 1, &sealed.content_key)?;
    node.state = None;
    let mut file = NewFile {
        node,
        chunk_size: sealed.chunk_size,
        content: sealed.content,
        wrapped_content_key,
        manifest,
    };
    file.node.state = Some(signer.state(&file.stored_view()));
    Ok(file)
}

/// A folder made in a batch not yet sent, as a parent for the items after
/// it: its node as the batch stores it (revision 1), its key and metadata.
pub fn opened_folder(
    node: &NewNode,
    key: Key256,
    metadata: crate::records::NodeMetadata,
) -> crate::records::OpenNode {
    let mut view = crate::records::change::unfinished(node);
    view.revision = 1;
    view.state = node.state.clone();
    crate::records::OpenNode {
        view,
        key,
        metadata,
    }
}
