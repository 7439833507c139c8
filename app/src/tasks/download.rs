//! Downloading, verifying and decrypting a version chunk by chunk.
//!
//! Nothing is shown before everything is checked: the manifest's signature
//! (the author's identity key), the content key, every chunk's SHA-256
//! against the manifest, every chunk's tag, the padding, and the exact size from
//! the metadata. Chunks that hold file bytes only (all but the last one or
//! two) are checked and decrypted in JavaScript memory, where they arrived,
//! and go to a [`Spool`] as they are (memory for a small file, a scratch file
//! on disk for a large one); only the chunks that can hold the padding pass
//! through WASM, where the padding is removed. WASM memory holds at most a few
//! chunks at a time. Any failure discards every piece: the person reads
//! [`super::transfer::TAMPERED`] instead.

use futures::{future::join, StreamExt};
use js_sys::{ArrayBuffer, Uint8Array};
use shared::{
    api::{
        records::{chunk_path, VersionView},
        ErrorCode,
    },
    crypto::{
        sign::VerifyingKey,
        stream::{StreamCipher, WebCryptoBackend},
        CryptoError,
    },
    model::{Id, KeyEntry},
    records::{padded_len, padding_fits, unwrap_content_key, verify_version, OpenNode, Unpadder},
};
use zeroize::{Zeroize, Zeroizing};

use super::{
    progress::{Pacer, Progress, SpeedMeter},
    transfer::{browser_error, sha256, Cancel, TransferError},
};
use crate::{
    platform::{
        clock::now_ms,
        http::{request, HttpError},
        spool::Spool,
    },
    session::Session,
};

/// How many chunk downloads are in flight at once.
pub const PREFETCH: usize = 3;

/// The first chunk that can hold the padding marker of a stream whose padded
/// length is `padded`: the smallest file length with that padded length, over
/// the chunk size. Decrypting from there finds a version's exact size without
/// reading the whole file.
pub fn first_marker_chunk(padded: u64, chunk_size: u32) -> u64 {
    if padded == 0 {
        return 0;
    }
    // padded_len is monotone: find the smallest len with padded_len(len) >= padded.
    // (A version written before the 4 KiB floor, under 4,096 bytes, gives
    // 0: it is read from its first and only chunk.)
    let (mut low, mut high) = (0u64, padded.saturating_sub(1));
    while low < high {
        let mid = low + (high - low) / 2;
        if padded_len(mid) >= padded {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    low / u64::from(chunk_size.max(1))
}

/// What a download needs: the file, the version, and whose signature counts.
pub struct DownloadJob {
    /// The file, with its key and metadata.
    pub node: OpenNode,
    /// The version to read.
    pub version: VersionView,
    /// The version's author, already found allowed to write it
    /// ([`verified_job`]).
    pub author_id: Id,
    /// The author's identity key, which must have signed the manifest.
    pub author_key: VerifyingKey,
}

impl DownloadJob {
    /// Whether the version is the file's current one (whose exact size the
    /// metadata states).
    fn is_current(&self) -> bool {
        self.node
            .view
            .current
            .as_ref()
            .is_some_and(|c| c.version == self.version.version)
    }
}

/// What the person reads when the browser could not keep the file's bytes.
const NOT_KEPT: &str =
    "This browser could not hold the file: its storage may be full. Free some space, \
     close other tabs and try again.";

fn not_kept(_: wasm_bindgen::JsValue) -> TransferError {
    TransferError::Browser(NOT_KEPT.to_owned())
}

/// Checks one sealed chunk against its part hash and decrypts it, where it
/// arrived, in JavaScript memory; the digest and the decryption run at the
/// same time, and the plaintext is returned only if both succeed.
async fn open_chunk(
    cipher: &StreamCipher<WebCryptoBackend>,
    expected: &[u8; 32],
    index: u64,
    is_last: bool,
    buffer: ArrayBuffer,
) -> Result<Uint8Array, TransferError> {
    let view = Uint8Array::new(&buffer);
    let index = u32::try_from(index).map_err(|_| TransferError::Tampered)?;
    let (hash, opened) = join(
        sha256(&view),
        cipher.decrypt_chunk_js(index, is_last, &view),
    )
    .await;
    if hash? != *expected {
        if let Ok(plain) = opened {
            plain.fill(0, 0, plain.length());
        }
        return Err(TransferError::Tampered);
    }
    opened.map_err(|e| match e {
        CryptoError::Unavailable => browser_error(e),
        _ => TransferError::Tampered,
    })
}

/// Reads, checks and decrypts chunks `from..` of a version. Gives the file
/// bytes to `spool` when there is one; returns the exact file size.
async fn read_version(
    job: &DownloadJob,
    from: u64,
    mut spool: Option<&mut Spool>,
    progress: &dyn Fn(Progress),
    cancel: &Cancel,
) -> Result<u64, TransferError> {
    let tampered = |_| TransferError::Tampered;
    let manifest = verify_version(&job.version, &job.author_key).map_err(tampered)?;
    if manifest.author_id != job.author_id || manifest.node_id != *job.node.id() {
        return Err(TransferError::Tampered);
    }
    let node_id = *job.node.id();
    let number = job.version.version;
    let chunk_size = job.version.chunk_size;
    let content_key = unwrap_content_key(
        &job.node.key,
        &node_id,
        number,
        &job.version.wrapped_content_key,
    )
    .map_err(tampered)?;
    let backend = WebCryptoBackend::import(&content_key)
        .await
        .map_err(browser_error)?;
    drop(content_key);
    let cipher = StreamCipher::new(backend, &node_id, number, chunk_size).map_err(tampered)?;
    let count = manifest.part_hashes.len() as u64;
    let total = if spool.is_some() {
        job.node.metadata.size.unwrap_or(manifest.size)
    } else {
        manifest.size
    };

    let fetch = |index: u64| {
        let path = chunk_path(&node_id, number, index as u32);
        async move {
            request("GET", &path, None, cancel)
                .await
                .map_err(|e| match e {
                    // A chunk the server cannot produce for a version it lists as
                    // complete is as untrustworthy as a wrong one.
                    HttpError::Refused(ref api) if api.code != ErrorCode::Unauthorized => {
                        TransferError::Tampered
                    }
                    other => other.into(),
                })
        }
    };

    // Chunks before this one hold file bytes only, whatever the file's exact
    // size: they skip the unpadder and stay in JavaScript memory.
    let unpad_from = first_marker_chunk(manifest.size, chunk_size).max(from);
    let mut unpadder = Unpadder::new();
    let mut plain_total = from * u64::from(chunk_size);
    let mut meter = SpeedMeter::new();
    meter.sample(now_ms(), 0);
    let mut pacer = Pacer::new();
    // Up to PREFETCH requests in flight, and the stream is polled while a
    // chunk is checked and decrypted, so the network and WebCrypto work at
    // the same time; memory stays a few chunks.
    let mut fetched = futures::stream::iter(from..count)
        .map(fetch)
        .buffered(PREFETCH);
    let mut arrived = fetched.next().await;
    for index in from..count {
        cancel.check()?;
        let buffer = arrived.take().ok_or(TransferError::Tampered)??;
        let expected = manifest
            .part_hashes
            .get(index as usize)
            .ok_or(TransferError::Tampered)?;
        let is_last = index + 1 == count;
        let opening = open_chunk(&cipher, expected, index, is_last, buffer);
        let plain = if is_last {
            opening.await?
        } else {
            let (plain, next) = join(opening, fetched.next()).await;
            arrived = next;
            plain?
        };
        if index < unpad_from && !is_last {
            // File bytes only: a part of the file as they are.
            if let Some(spool) = spool.as_deref_mut() {
                spool.push(&plain).await.map_err(not_kept)?;
            }
        } else {
            // Where the padding can be: unpadded in WASM.
            let mut bytes = Zeroizing::new(vec![0u8; plain.length() as usize]);
            plain.copy_to(&mut bytes);
            plain.fill(0, 0, plain.length());
            let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
            unpadder.update(&bytes, &mut out);
            if let Some(spool) = spool.as_deref_mut().filter(|_| !out.is_empty()) {
                spool
                    .push(&Uint8Array::from(&out[..]))
                    .await
                    .map_err(not_kept)?;
            }
            out.zeroize();
        }
        let plain_len = u64::from(plain.length());
        plain_total += plain_len;
        let done = plain_total.min(total);
        let now = now_ms();
        let speed = meter.sample(now, done);
        if pacer.due(now, done, total) {
            progress(Progress {
                done,
                total,
                bytes_per_second: speed,
                resumed_from: None,
            });
        }
    }
    let released = unpadder.finish().map_err(tampered)?;
    let exact = unpad_from * u64::from(chunk_size) + released;
    // Versions written before the 4 KiB floor have their Padmé length only.
    if plain_total != manifest.size || !padding_fits(exact, manifest.size) {
        return Err(TransferError::Tampered);
    }
    Ok(exact)
}

/// Downloads, verifies and decrypts a version into a `Blob` of the file's MIME
/// type. The blob exists only if every check passed; a large one is a scratch
/// file on disk ([`Spool`]).
pub async fn download(
    job: &DownloadJob,
    progress: impl Fn(Progress),
    cancel: &Cancel,
) -> Result<web_sys::Blob, TransferError> {
    let mut spool = Spool::new(job.version.manifest.value.size).await;
    let read = read_version(job, 0, Some(&mut spool), &progress, cancel).await;
    let exact = match read {
        Ok(exact) if !job.is_current() || job.node.metadata.size == Some(exact) => exact,
        Ok(_) => {
            spool.discard().await;
            return Err(TransferError::Tampered);
        }
        Err(e) => {
            spool.discard().await;
            return Err(e);
        }
    };
    let mime = job
        .node
        .metadata
        .mime
        .as_deref()
        .unwrap_or("application/octet-stream");
    let blob = spool.finish(mime).await.map_err(not_kept)?;
    if blob.size() != exact as f64 {
        return Err(TransferError::Tampered);
    }
    Ok(blob)
}

/// The exact size of a version, found by verifying and decrypting only the
/// chunks that can hold the end of the file (used when an older version
/// becomes current again, so the metadata states its size).
pub async fn exact_size(job: &DownloadJob, cancel: &Cancel) -> Result<u64, TransferError> {
    let manifest_size = job.version.manifest.value.size;
    let from = first_marker_chunk(manifest_size, job.version.chunk_size);
    read_version(job, from, None, &|_| {}, cancel).await
}

/// The download job of a file's version (its current one unless `version` is
/// given), once the version's author is found allowed to write it: the record
/// owner `owner`, or a doctor whose grant `covers` the file.
pub async fn verified_job(
    session: Session,
    node: &OpenNode,
    version: Option<VersionView>,
    owner: &KeyEntry,
    covers: impl Fn(&Id, &Id) -> bool,
) -> Result<DownloadJob, String> {
    let version = version
        .or_else(|| node.view.current.clone())
        .ok_or_else(|| "This file has no content yet.".to_owned())?;
    let (author_id, author_key) =
        crate::tasks::authors::trusted_author(session, &version, owner, covers).await?;
    Ok(DownloadJob {
        node: node.clone(),
        version,
        author_id,
        author_key,
    })
}
