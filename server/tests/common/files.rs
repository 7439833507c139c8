//! File content as the app makes and reads it, with the real crypto of
//! `shared::records` and `shared::crypto::stream` (the `aes-gcm` backend).

use shared::{
    api::records::{NodeKind, VersionView},
    crypto::{
        aead::Key256,
        sign::{sign, Signed, SigningKey, VerifyingKey},
        stream::{ready, AesGcmBackend, StreamCipher},
    },
    model::{FileManifest, Id},
    records::{
        unwrap_content_key, verify_version, wrap_content_key, NodeMetadata, OpenNode, RecordType,
        StreamLayout, Unpadder,
    },
};

/// A file encrypted for one version: its sealed chunks and its content key.
pub struct SealedFile {
    pub chunks: Vec<Vec<u8>>,
    pub chunk_size: u32,
    pub ciphertext_len: u64,
    /// The stream's plaintext length (the manifest's `size`).
    pub padded_len: u64,
    pub content_key: Key256,
}

/// The ciphertext length of a file of `len` bytes, for `records/upload/start`.
pub fn ciphertext_len(len: usize, chunk_size: u32) -> u64 {
    StreamLayout::new(len as u64, chunk_size)
        .unwrap()
        .ciphertext_len()
}

/// Pads and encrypts `file` as version `version` of `node_id`.
pub fn seal_file(node_id: &Id, version: u32, chunk_size: u32, file: &[u8]) -> SealedFile {
    let layout = StreamLayout::new(file.len() as u64, chunk_size).unwrap();
    let content_key = Key256::generate().unwrap();
    let cipher = StreamCipher::new(
        AesGcmBackend::new(&content_key),
        node_id,
        version,
        chunk_size,
    )
    .unwrap();
    let mut chunks = Vec::new();
    for i in 0..layout.chunk_count() {
        let range = layout.file_range(i);
        let mut plain = Vec::new();
        layout.assemble(
            i,
            &file[range.start as usize..range.end as usize],
            &mut plain,
        );
        chunks.push(ready(cipher.encrypt_chunk(i as u32, layout.is_last(i), &plain)).unwrap());
    }
    SealedFile {
        chunks,
        chunk_size,
        ciphertext_len: layout.ciphertext_len(),
        padded_len: layout.padded_len,
        content_key,
    }
}

/// The content key wrapped under the file's node key.
pub fn wrapped_content_key(
    node_key: &Key256,
    node_id: &Id,
    version: u32,
    file: &SealedFile,
) -> Vec<u8> {
    wrap_content_key(node_key, node_id, version, &file.content_key).unwrap()
}

/// The manifest the author signs for `file`.
pub fn manifest(
    author_key: &SigningKey,
    author: &Id,
    node_id: &Id,
    parent_id: &Id,
    version: u32,
    file: &SealedFile,
    now: i64,
) -> Signed<FileManifest> {
    sign(
        author_key,
        FileManifest {
            node_id: *node_id,
            parent_id: *parent_id,
            version,
            size: file.padded_len,
            part_hashes: file
                .chunks
                .iter()
                .map(|c| shared::crypto::sign::part_hash(c))
                .collect(),
            author_id: *author,
            created_at: now,
        },
    )
}

/// Verifies a version against its author's key and its chunks, decrypts and
/// unpads: the original file bytes.
pub fn open_file(
    version: &VersionView,
    author_key: &VerifyingKey,
    node_key: &Key256,
    chunks: &[Vec<u8>],
) -> Vec<u8> {
    let manifest = verify_version(version, author_key).unwrap();
    assert_eq!(manifest.part_hashes.len(), chunks.len());
    for (chunk, hash) in chunks.iter().zip(&manifest.part_hashes) {
        assert_eq!(
            &shared::crypto::sign::part_hash(chunk),
            hash,
            "a chunk's hash"
        );
    }
    let content_key = unwrap_content_key(
        node_key,
        &version.node_id,
        version.version,
        &version.wrapped_content_key,
    )
    .unwrap();
    let cipher = StreamCipher::new(
        AesGcmBackend::new(&content_key),
        &version.node_id,
        version.version,
        version.chunk_size,
    )
    .unwrap();
    let mut unpadder = Unpadder::new();
    let mut out = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let plain = ready(cipher.decrypt_chunk(i as u32, i + 1 == chunks.len(), chunk)).unwrap();
        unpadder.update(&plain, &mut out);
    }
    assert_eq!(unpadder.finish().unwrap(), out.len() as u64);
    out
}

/// Metadata of a file, folder or entry called `name`.
pub fn metadata(name: &str, now: i64, size: Option<u64>) -> NodeMetadata {
    NodeMetadata {
        name: name.into(),
        record_type: RecordType::Other,
        description: String::new(),
        record_date: None,
        created_at: now,
        modified_at: now,
        mime: size.map(|_| "application/octet-stream".into()),
        size,
        vital: None,
        health: None,
    }
}

/// Whether an opened node is a file.
pub fn is_file(node: &OpenNode) -> bool {
    node.view.kind == NodeKind::File
}

/// Deterministic test content of `len` bytes with a marker at the start.
pub fn content(marker: &str, len: usize) -> Vec<u8> {
    let mut out = marker.as_bytes().to_vec();
    let mut x: u32 = 0x1234_5678 ^ len as u32;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push(x as u8);
    }
    out.truncate(len);
    out
}
