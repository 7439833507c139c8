//! One chunk of an upload: read from the file, padded, sealed by WebCrypto,
//! hashed, and sent (or only hashed, when the server already holds it).

use js_sys::Uint8Array;
use shared::{
    api::{
        records::{chunk_path, ChunkReceipt},
        ApiError, ErrorCode,
    },
    crypto::{
        stream::{StreamCipher, WebCryptoBackend},
        CryptoError,
    },
    records::StreamLayout,
};
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use crate::{
    platform::http::request,
    tasks::transfer::{browser_error, sha256, Cancel, TransferError},
};

/// Reads bytes `range` of `file` into a JavaScript buffer, checking its length.
async fn read_js(
    file: &web_sys::File,
    range: std::ops::Range<u64>,
) -> Result<Uint8Array, TransferError> {
    let unreadable = || {
        TransferError::Browser(
            "The file could not be read. It may have been moved, changed or deleted \
             while it was uploading. Choose it again and retry."
                .to_owned(),
        )
    };
    let blob = file
        .slice_with_f64_and_f64(range.start as f64, range.end as f64)
        .map_err(|_| unreadable())?;
    let buffer = JsFuture::from(blob.array_buffer())
        .await
        .map_err(|_| unreadable())?;
    let view = Uint8Array::new(&buffer);
    if u64::from(view.length()) != range.end - range.start {
        return Err(unreadable());
    }
    Ok(view)
}

/// Reads bytes `range` of `file` into WASM memory (wiped when dropped).
pub(in crate::tasks) async fn read_slice(
    file: &web_sys::File,
    range: std::ops::Range<u64>,
) -> Result<Zeroizing<Vec<u8>>, TransferError> {
    let view = read_js(file, range).await?;
    let mut out = Zeroizing::new(vec![0u8; view.length() as usize]);
    view.copy_to(&mut out);
    // The browser's copy holds plaintext too; overwrite it.
    view.fill(0, 0, view.length());
    Ok(out)
}

/// A chunk read, padded, sealed and hashed, ready to send.
struct Prepared {
    body: Uint8Array,
    hash: [u8; 32],
}

async fn prepare(
    file: &web_sys::File,
    layout: &StreamLayout,
    cipher: &StreamCipher<WebCryptoBackend>,
    index: u64,
) -> Result<Prepared, TransferError> {
    let range = layout.file_range(index);
    let index32 = u32::try_from(index).map_err(|_| browser_error(CryptoError::Stream))?;
    let plain = if range.end - range.start == u64::from(layout.chunk_size) {
        // A chunk of file bytes only (every chunk but the last one or two):
        // sealed where the browser read it, never copied into WASM.
        read_js(file, range).await?
    } else {
        // The chunk that ends the file: assembled with its padding in WASM.
        let part = if range.is_empty() {
            Zeroizing::new(Vec::new())
        } else {
            read_slice(file, range).await?
        };
        let mut plain = Zeroizing::new(Vec::with_capacity(layout.chunk_size as usize));
        layout.assemble(index, &part, &mut plain);
        Uint8Array::from(&plain[..])
    };
    let sealed = cipher
        .encrypt_chunk_js(index32, layout.is_last(index), &plain)
        .await;
    // The browser's copy of the plaintext: overwrite it, sealed or not. The
    // sealed bytes stay in JavaScript for the request and its retries.
    plain.fill(0, 0, plain.length());
    let body = sealed.map_err(browser_error)?;
    let hash = sha256(&body).await?;
    Ok(Prepared { body, hash })
}

/// Reads, seals and sends chunk `index` (only seals it if the server already
/// `held` it); answers its index and part hash once the server has it.
pub(super) async fn send_chunk(
    file: &web_sys::File,
    layout: &StreamLayout,
    cipher: &StreamCipher<WebCryptoBackend>,
    (node_id, version, index): (&shared::model::Id, u32, u64),
    held: bool,
    cancel: &Cancel,
) -> Result<(u64, [u8; 32]), TransferError> {
    cancel.check()?;
    let prepared = prepare(file, layout, cipher, index).await?;
    if held {
        // Sent before an interruption: sealed again only for its hash.
        return Ok((index, prepared.hash));
    }
    let index32 = u32::try_from(index).map_err(|_| browser_error(CryptoError::Stream))?;
    let path = chunk_path(node_id, version, index32);
    let sent = request("PUT", &path, Some(&prepared.body), cancel).await?;
    let receipt: ChunkReceipt =
        serde_json::from_slice(&Uint8Array::new(&sent).to_vec()).map_err(|_| {
            TransferError::Api(ApiError::new(
                ErrorCode::Internal,
                "The server's answer could not be read. Reload the page to get the current app.",
            ))
        })?;
    if u64::from(receipt.index) != index {
        return Err(TransferError::Unreachable);
    }
    Ok((index, prepared.hash))
}
