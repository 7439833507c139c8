//! Moving file content: encrypt and upload a file chunk by chunk, download and
//! verify a version chunk by chunk. Memory stays bounded whatever the size.
//!
//! # Upload
//!
//! The file is read one [`CHUNK_SIZE`] slice at a time (`File.slice().arrayBuffer()`),
//! padded by [`StreamLayout`], sealed by WebCrypto under a fresh content key, and
//! sent with `PUT` to [`chunk_path`]. While one chunk is on the wire the next is
//! read and sealed, so the network and the cipher overlap, yet chunks still arrive
//! in order. A chunk that fails on the network or with a 5xx is sent again after
//! [`RETRY_DELAYS_MS`]; a 4xx stops. The upload is complete only once the signed
//! manifest is accepted (`records/upload/finish`); a failed or cancelled upload
//! is dropped on the server (`records/upload/cancel`) so it frees its quota.
//!
//! # Download
//!
//! Nothing is shown before everything is checked: the manifest's signature
//! (the record owner's identity key), the content key, every chunk's SHA-256
//! against the manifest, every chunk's tag, the padding, and the exact size from
//! the metadata. Decrypted pieces are copied straight into JavaScript
//! `Uint8Array`s that make up the final `Blob`, so WASM memory holds at most two
//! chunks at a time. Any failure discards every piece: the person reads
//! [`TAMPERED`] instead.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use futures::{future::join, StreamExt};
use js_sys::{ArrayBuffer, Uint8Array};
use shared::{
    api::{
        records::{
            cancel_upload, chunk_path, finish_upload, start_upload, ChunkReceipt,
            FinishUploadRequest, NodeKind, NodeView, StartUploadRequest, Usage, VersionRef,
            VersionView,
        },
        ApiError, ErrorCode, CSRF_HEADER,
    },
    crypto::{
        aead::Key256,
        keyring::Keyring,
        sign::{sign, FileManifest, VerifyingKey},
        stream::{StreamCipher, WebCryptoBackend, CHUNK_SIZE},
        CryptoError, Id,
    },
    records::{
        new_child, padded_len, seal_metadata, unwrap_content_key, verify_version, wrap_content_key,
        NodeMetadata, OpenNode, RecordType, StreamLayout, Unpadder,
    },
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use zeroize::{Zeroize, Zeroizing};

/// What the person reads when a file fails verification.
pub const TAMPERED: &str = "This file was changed outside medvault and cannot be trusted.";
/// What to do about it.
pub const TAMPERED_NEXT: &str = "Restore an earlier version, or ask your administrator.";

/// Waits before each new try of a chunk that failed on the network or with a
/// 5xx: four more tries over about eight seconds, then the transfer stops.
pub const RETRY_DELAYS_MS: [u32; 4] = [500, 1000, 2000, 4000];

/// How many chunk downloads are in flight at once.
pub const PREFETCH: usize = 3;

/// The largest text file the preview shows (bigger ones are downloaded).
pub const MAX_TEXT_PREVIEW: u64 = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------
// Pure pieces: sizes, speed, messages.

/// A byte count as people read it: "0 bytes", "1 byte", "930 bytes", "1.5 KB",
/// "12.3 MB", "2 GB". Units are powers of 1024 (as most file managers show them).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes == 1 {
        return "1 byte".to_owned();
    }
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = if value >= 100.0 || value.fract() < 0.05 || value.fract() > 0.95 && value >= 99.5 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    // 1023.96 KB rounds to "1024.0": say "1 MB" instead.
    if text == "1024" && unit + 1 < UNITS.len() {
        return format!("1 {}", UNITS[unit + 1]);
    }
    format!("{text} {}", UNITS[unit])
}

/// A transfer speed: "12.3 MB/s" (bytes per second in, 1024-based units out).
pub fn format_speed(bytes_per_second: f64) -> String {
    if !bytes_per_second.is_finite() || bytes_per_second <= 0.0 {
        return "0 MB/s".to_owned();
    }
    let mb = bytes_per_second / (1024.0 * 1024.0);
    if mb >= 100.0 {
        format!("{mb:.0} MB/s")
    } else if mb >= 0.1 {
        format!("{mb:.1} MB/s")
    } else {
        format!("{:.0} KB/s", (bytes_per_second / 1024.0).max(1.0))
    }
}

/// Whole percent of `done` out of `total`, rounded down so that 100 means
/// finished (an empty transfer is 100 at once).
pub fn percent(done: u64, total: u64) -> u8 {
    if total == 0 || done >= total {
        return 100;
    }
    ((u128::from(done) * 100 / u128::from(total)) as u8).min(99)
}

/// How far a transfer is.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    /// File bytes done.
    pub done: u64,
    /// File bytes in all.
    pub total: u64,
    /// Smoothed speed in bytes per second, once there is a measurement.
    pub bytes_per_second: Option<f64>,
}

impl Progress {
    /// Whole percent done.
    pub fn percent(&self) -> u8 {
        percent(self.done, self.total)
    }

    /// "4.0 MB of 100 MB, 12.3 MB/s" (without the speed until it is known).
    pub fn describe(&self) -> String {
        let sizes = format!(
            "{} of {}",
            format_bytes(self.done),
            format_bytes(self.total)
        );
        match self.bytes_per_second {
            Some(speed) => format!("{sizes}, {}", format_speed(speed)),
            None => sizes,
        }
    }
}

/// Smooths the speed of a transfer measured at uneven moments: an exponential
/// moving average whose weight follows the time passed, so a burst of quick
/// samples does not make the number jump.
#[derive(Clone, Debug, Default)]
pub struct SpeedMeter {
    last: Option<(f64, u64)>,
    rate: Option<f64>,
}

impl SpeedMeter {
    /// How many milliseconds of history count most (the time constant).
    pub const WINDOW_MS: f64 = 3000.0;

    /// A meter with no samples yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `bytes` were done in all at `now_ms`; returns the smoothed
    /// bytes per second, once two samples lie apart in time.
    pub fn sample(&mut self, now_ms: f64, bytes: u64) -> Option<f64> {
        let Some((then, before)) = self.last else {
            self.last = Some((now_ms, bytes));
            return self.rate;
        };
        let elapsed = now_ms - then;
        if elapsed <= 0.0 || bytes < before {
            return self.rate;
        }
        let instant = (bytes - before) as f64 * 1000.0 / elapsed;
        let weight = 1.0 - (-elapsed / Self::WINDOW_MS).exp();
        self.rate = Some(match self.rate {
            Some(rate) => rate + weight * (instant - rate),
            None => instant,
        });
        self.last = Some((now_ms, bytes));
        self.rate
    }

    /// The current smoothed speed.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }
}

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

/// How a file can be shown in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewKind {
    /// In an `<img>`.
    Image,
    /// In the browser's PDF viewer.
    Pdf,
    /// As text in a `<pre>`.
    Text,
}

/// Whether (and how) a file of this MIME type can be previewed.
pub fn preview_kind(mime: &str) -> Option<PreviewKind> {
    let mime = mime
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/bmp" => {
            Some(PreviewKind::Image)
        }
        "application/pdf" => Some(PreviewKind::Pdf),
        "application/json" | "text/csv" => Some(PreviewKind::Text),
        m if m.starts_with("text/") => Some(PreviewKind::Text),
        _ => None,
    }
}

/// The first chunk that can hold the padding marker of a stream whose padded
/// length is `padded`: the smallest file length with that padded length, over
/// the chunk size. Decrypting from there finds a version's exact size without
/// reading the whole file.
pub fn first_marker_chunk(padded: u64, chunk_size: u32) -> u64 {
    if padded == 0 {
        return 0;
    }
    // padded_len is monotone: find the smallest len with padded_len(len) >= padded.
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

// ---------------------------------------------------------------------------
// Errors and cancelling.

/// Why a transfer stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum TransferError {
    /// The person cancelled it.
    Cancelled,
    /// Refused in the browser before anything was sent (size, quota, name).
    Refused(String),
    /// The server refused it (a 4xx); its message says why.
    Api(ApiError),
    /// The network or the server failed on every try.
    Unreachable,
    /// The content failed verification.
    Tampered,
    /// The browser could not read the file or run the cipher.
    Browser(String),
}

impl TransferError {
    /// The sentence for the person (a 4xx goes through the session first, so an
    /// ended session sends them to sign in).
    pub fn message(&self, session: &crate::session::Session) -> String {
        match self {
            TransferError::Cancelled => "Cancelled. Nothing was kept.".to_owned(),
            TransferError::Refused(m) | TransferError::Browser(m) => m.clone(),
            TransferError::Api(e) => session.explain(e),
            TransferError::Unreachable => {
                "The connection to the medvault server was lost and did not come back. \
                 Check your internet connection, then try again."
                    .to_owned()
            }
            TransferError::Tampered => format!("{TAMPERED} {TAMPERED_NEXT}"),
        }
    }
}

fn browser_error(_: CryptoError) -> TransferError {
    TransferError::Browser(
        "This browser could not encrypt the file. Use an up-to-date browser and try again."
            .to_owned(),
    )
}

/// Stops a transfer: aborts the request in flight and makes the next step
/// return [`TransferError::Cancelled`].
#[derive(Clone, Default)]
pub struct Cancel(Rc<CancelState>);

#[derive(Default)]
struct CancelState {
    cancelled: Cell<bool>,
    controller: RefCell<Option<web_sys::AbortController>>,
}

impl Cancel {
    /// A fresh, not cancelled handle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels the transfer.
    pub fn cancel(&self) {
        self.0.cancelled.set(true);
        if let Some(controller) = self.0.controller.borrow().as_ref() {
            controller.abort();
        }
    }

    /// Whether [`Self::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.get()
    }

    fn check(&self) -> Result<(), TransferError> {
        if self.is_cancelled() {
            Err(TransferError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// The signal every request of this transfer carries (one controller, so
    /// a cancel aborts all requests in flight at once).
    fn signal(&self) -> Option<web_sys::AbortSignal> {
        let mut slot = self.0.controller.borrow_mut();
        if slot.is_none() {
            *slot = web_sys::AbortController::new().ok();
        }
        slot.as_ref().map(|c| c.signal())
    }
}

// ---------------------------------------------------------------------------
// The browser: time, sleeping, hashing, reading files, HTTP.

/// Milliseconds on the page's clock.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

async fn sleep_ms(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(promise).await;
}

fn subtle() -> Result<web_sys::SubtleCrypto, TransferError> {
    let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .filter(|c| !c.is_undefined())
        .ok_or_else(|| browser_error(CryptoError::Unavailable))?;
    Ok(crypto.unchecked_into::<web_sys::Crypto>().subtle())
}

/// SHA-256 of bytes held by JavaScript, through WebCrypto (the same digest as
/// [`shared::crypto::sign::part_hash`], without copying into WASM first).
pub async fn sha256(bytes: &Uint8Array) -> Result<[u8; 32], TransferError> {
    let promise = subtle()?
        .digest_with_str_and_buffer_source("SHA-256", bytes)
        .map_err(|_| browser_error(CryptoError::Unavailable))?;
    let digest = JsFuture::from(promise)
        .await
        .map_err(|_| browser_error(CryptoError::Unavailable))?;
    let digest = Uint8Array::new(&digest);
    let mut out = [0u8; 32];
    if digest.length() != 32 {
        return Err(browser_error(CryptoError::Unavailable));
    }
    digest.copy_to(&mut out);
    Ok(out)
}

/// Reads bytes `range` of `file` into WASM memory (wiped when dropped).
async fn read_slice(
    file: &web_sys::File,
    range: std::ops::Range<u64>,
) -> Result<Zeroizing<Vec<u8>>, TransferError> {
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
    let mut out = Zeroizing::new(vec![0u8; view.length() as usize]);
    view.copy_to(&mut out);
    // The browser's copy holds plaintext too; overwrite it.
    view.fill(0, 0, view.length());
    Ok(out)
}

/// One try of an HTTP request failed.
enum Failure {
    /// The network or the server (5xx): try again.
    Retry,
    /// The server refused it (4xx): stop.
    Stop(ApiError),
    /// Aborted by [`Cancel`].
    Cancelled,
}

/// One try: sends the request and reads the whole answer.
async fn try_once(
    method: &str,
    path: &str,
    body: Option<&Uint8Array>,
    cancel: &Cancel,
) -> Result<ArrayBuffer, Failure> {
    let window = web_sys::window().ok_or(Failure::Retry)?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new().map_err(|_| Failure::Retry)?;
    if let Some(body) = body {
        let _ = headers.set("content-type", "application/octet-stream");
        init.set_body(body);
    }
    // Reads too: the server refuses any API request without it (a chunk
    // read is logged).
    let _ = headers.set(CSRF_HEADER, "1");
    init.set_headers(&headers);
    if let Some(signal) = cancel.signal() {
        init.set_signal(Some(&signal));
    }
    let outcome = async {
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(path, &init))
                .await
                .map_err(|_| Failure::Retry)?
                .unchecked_into();
        let status = response.status();
        let body = JsFuture::from(response.array_buffer().map_err(|_| Failure::Retry)?)
            .await
            .map_err(|_| Failure::Retry)?;
        let body: ArrayBuffer = body.unchecked_into();
        match status {
            200..=299 => Ok(body),
            // The server stopped waiting for a slow chunk: the link, not the
            // request, was at fault, so it is worth another try.
            408 => Err(Failure::Retry),
            400..=499 => {
                let text = String::from_utf8_lossy(&Uint8Array::new(&body).to_vec()).into_owned();
                let error = serde_json::from_str::<ApiError>(&text)
                    .unwrap_or_else(|_| ApiError::from_code(ErrorCode::from_http_status(status)));
                Err(Failure::Stop(error))
            }
            _ => Err(Failure::Retry),
        }
    }
    .await;
    match outcome {
        Err(_) if cancel.is_cancelled() => Err(Failure::Cancelled),
        other => other,
    }
}

/// Sends a request, trying again after each of [`RETRY_DELAYS_MS`] when the
/// network or the server fails; a 4xx or a cancel stops at once.
async fn request(
    method: &str,
    path: &str,
    body: Option<&Uint8Array>,
    cancel: &Cancel,
) -> Result<ArrayBuffer, TransferError> {
    let mut delays = RETRY_DELAYS_MS.iter();
    loop {
        cancel.check()?;
        match try_once(method, path, body, cancel).await {
            Ok(bytes) => return Ok(bytes),
            Err(Failure::Cancelled) => return Err(TransferError::Cancelled),
            Err(Failure::Stop(e)) => return Err(TransferError::Api(e)),
            Err(Failure::Retry) => match delays.next() {
                Some(&ms) => sleep_ms(ms).await,
                None => return Err(TransferError::Unreachable),
            },
        }
    }
}

/// Calls a server function, trying again like [`request`] when the server
/// cannot be reached or fails.
async fn call<T, F, Fut>(cancel: &Cancel, mut f: F) -> Result<T, TransferError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let mut delays = RETRY_DELAYS_MS.iter();
    loop {
        cancel.check()?;
        match f().await {
            Ok(value) => return Ok(value),
            Err(e)
                if matches!(
                    e.code,
                    ErrorCode::Unavailable | ErrorCode::Internal | ErrorCode::RequestTimeout
                ) =>
            {
                match delays.next() {
                    Some(&ms) => sleep_ms(ms).await,
                    None => return Err(TransferError::Unreachable),
                }
            }
            Err(e) => return Err(TransferError::Api(e)),
        }
    }
}

// ---------------------------------------------------------------------------
// Upload.

/// Where an upload goes.
#[derive(Clone)]
pub enum UploadTarget {
    /// A new file in this folder, of this record type.
    NewFile {
        /// The folder.
        parent: OpenNode,
        /// The record type of the new file.
        record_type: RecordType,
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
    /// The signed-in patient (the manifest's author).
    pub author_id: Id,
    /// Their keys (the identity key signs the manifest).
    pub keyring: std::sync::Arc<Keyring>,
    /// The record's usage, for the size checks before sending.
    pub usage: Usage,
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
    let part = if range.is_empty() {
        Zeroizing::new(Vec::new())
    } else {
        read_slice(file, range).await?
    };
    let mut plain = Zeroizing::new(Vec::with_capacity(layout.chunk_size as usize));
    layout.assemble(index, &part, &mut plain);
    drop(part);
    let mut sealed = Vec::with_capacity(plain.len() + shared::crypto::stream::TAG_LEN);
    let index32 = u32::try_from(index).map_err(|_| browser_error(CryptoError::Stream))?;
    cipher
        .encrypt_chunk_into(index32, layout.is_last(index), &plain, &mut sealed)
        .await
        .map_err(browser_error)?;
    drop(plain);
    // Hand the sealed bytes to JavaScript: the request body and its retries use
    // this copy, and WASM memory is free for the next chunk.
    let body = Uint8Array::from(&sealed[..]);
    drop(sealed);
    let hash = sha256(&body).await?;
    Ok(Prepared { body, hash })
}

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

    // The node, its key and its metadata for this version.
    let (node_id, parent_id, node_key, new_node, mut metadata) = match &job.target {
        UploadTarget::NewFile {
            parent,
            record_type,
        } => {
            let metadata = NodeMetadata {
                name: name.clone(),
                record_type: *record_type,
                description: String::new(),
                record_date: None,
                created_at: now,
                modified_at: now,
                mime: Some(mime.clone()),
                size: Some(file_len),
                vital: None,
            };
            metadata.validate().map_err(TransferError::Refused)?;
            let (node, key) =
                new_child(parent, NodeKind::File, &metadata).map_err(browser_error)?;
            (node.node_id, *parent.id(), key, Some(node), metadata)
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
            )
        }
    };
    metadata.mime = Some(mime);
    metadata.size = Some(file_len);
    metadata.modified_at = now;

    let total = Progress {
        done: 0,
        total: file_len,
        bytes_per_second: None,
    };
    progress(total);
    let ticket = call(cancel, || {
        start_upload(StartUploadRequest {
            node_id,
            new_node: new_node.clone(),
            chunk_size: CHUNK_SIZE,
            ciphertext_len: layout.ciphertext_len(),
        })
    })
    .await?;
    let version = ticket.version;

    let result = async {
        if u64::from(ticket.chunk_count) != chunks {
            return Err(TransferError::Browser(
                "The server expects a different number of pieces for this file. Reload the page to get the current app, then try again."
                    .to_owned(),
            ));
        }
        let content_key = Key256::generate().map_err(browser_error)?;
        let backend = WebCryptoBackend::import(&content_key)
            .await
            .map_err(browser_error)?;
        let cipher =
            StreamCipher::new(backend, &node_id, version, CHUNK_SIZE).map_err(browser_error)?;

        let mut meter = SpeedMeter::new();
        meter.sample(now_ms(), 0);
        let mut hashes = Vec::with_capacity(chunks as usize);
        let mut next = Some(prepare(file, &layout, &cipher, 0).await?);
        for index in 0..chunks {
            cancel.check()?;
            let Some(current) = next.take() else {
                return Err(browser_error(CryptoError::Stream));
            };
            hashes.push(current.hash);
            let path = chunk_path(&node_id, version, index as u32);
            let sent = if index + 1 < chunks {
                let (sent, prepared) = join(
                    request("PUT", &path, Some(&current.body), cancel),
                    prepare(file, &layout, &cipher, index + 1),
                )
                .await;
                next = Some(prepared?);
                sent
            } else {
                request("PUT", &path, Some(&current.body), cancel).await
            }?;
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
            let done = layout.file_range(index).end;
            let speed = meter.sample(now_ms(), done);
            progress(Progress {
                done,
                total: file_len,
                bytes_per_second: speed,
            });
        }

        let manifest = FileManifest {
            node_id,
            parent_id,
            version,
            size: layout.padded_len,
            part_hashes: hashes,
            author_id: job.author_id,
            created_at: crate::session::now_unix(),
        };
        let manifest = sign(job.keyring.identity(), manifest);
        let wrapped_content_key =
            wrap_content_key(&node_key, &node_id, version, &content_key).map_err(browser_error)?;
        let sealed = seal_metadata(&node_key, &node_id, &metadata).map_err(browser_error)?;
        cancel.check()?;
        call(cancel, || {
            finish_upload(FinishUploadRequest {
                node_id,
                version,
                wrapped_content_key: wrapped_content_key.clone(),
                manifest: manifest.clone(),
                metadata: sealed.clone(),
            })
        })
        .await
    }
    .await;
    if result.is_err() {
        // Free the reserved space; if this fails too the server drops it later.
        let _ = cancel_upload(VersionRef { node_id, version }).await;
    }
    result
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

// ---------------------------------------------------------------------------
// Download.

/// What a download needs: the file, the version, and whose signature counts.
pub struct DownloadJob {
    /// The file, with its key and metadata.
    pub node: OpenNode,
    /// The version to read.
    pub version: VersionView,
    /// The version's author, already found allowed to write it
    /// ([`crate::tasks::authors::trusted_author`]).
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

/// What reading a version gave.
struct Read {
    parts: js_sys::Array,
    exact: u64,
}

/// Checks one sealed chunk against its part hash and decrypts it; the digest
/// and the decryption run at the same time, and the plaintext is returned
/// only if both succeed.
async fn open_chunk(
    cipher: &StreamCipher<WebCryptoBackend>,
    expected: &[u8; 32],
    index: u64,
    is_last: bool,
    buffer: ArrayBuffer,
) -> Result<Zeroizing<Vec<u8>>, TransferError> {
    let view = Uint8Array::new(&buffer);
    let sealed = view.to_vec();
    let mut plain = Zeroizing::new(Vec::with_capacity(sealed.len()));
    let index = u32::try_from(index).map_err(|_| TransferError::Tampered)?;
    let (hash, opened) = join(
        sha256(&view),
        cipher.decrypt_chunk_into(index, is_last, &sealed, &mut plain),
    )
    .await;
    if hash? != *expected {
        return Err(TransferError::Tampered);
    }
    opened.map_err(|e| match e {
        CryptoError::Unavailable => browser_error(e),
        _ => TransferError::Tampered,
    })?;
    Ok(plain)
}

/// Reads, checks and decrypts chunks `from..` of a version. Collects the file
/// bytes into JavaScript parts when `collect`; returns the exact file size.
async fn read_version(
    job: &DownloadJob,
    from: u64,
    collect: bool,
    progress: &dyn Fn(Progress),
    cancel: &Cancel,
) -> Result<Read, TransferError> {
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
    let total = if collect {
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
                    TransferError::Api(ref api) if api.code != ErrorCode::Unauthorized => {
                        TransferError::Tampered
                    }
                    other => other,
                })
        }
    };

    let parts = js_sys::Array::new();
    let mut unpadder = Unpadder::new();
    let mut plain_total = from * u64::from(chunk_size);
    let mut meter = SpeedMeter::new();
    meter.sample(now_ms(), 0);
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
        let mut out = Zeroizing::new(Vec::with_capacity(plain.len()));
        unpadder.update(&plain, &mut out);
        if collect && !out.is_empty() {
            parts.push(&Uint8Array::from(&out[..]));
        }
        out.zeroize();
        plain_total += plain.len() as u64;
        let done = plain_total.min(total);
        progress(Progress {
            done,
            total,
            bytes_per_second: meter.sample(now_ms(), done),
        });
    }
    let released = unpadder.finish().map_err(tampered)?;
    let exact = from * u64::from(chunk_size) + released;
    if plain_total != manifest.size || padded_len(exact) != manifest.size {
        return Err(TransferError::Tampered);
    }
    Ok(Read { parts, exact })
}

/// Downloads, verifies and decrypts a version into a `Blob` of the file's MIME
/// type. The blob exists only if every check passed.
pub async fn download(
    job: &DownloadJob,
    progress: impl Fn(Progress),
    cancel: &Cancel,
) -> Result<web_sys::Blob, TransferError> {
    let read = read_version(job, 0, true, &progress, cancel).await?;
    if job.is_current() && job.node.metadata.size != Some(read.exact) {
        return Err(TransferError::Tampered);
    }
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(
        job.node
            .metadata
            .mime
            .as_deref()
            .unwrap_or("application/octet-stream"),
    );
    web_sys::Blob::new_with_u8_array_sequence_and_options(&read.parts, &options).map_err(|_| {
        TransferError::Browser(
            "This browser could not hold the file. Close other tabs and try again.".to_owned(),
        )
    })
}

/// The exact size of a version, found by verifying and decrypting only the
/// chunks that can hold the end of the file (used when an older version
/// becomes current again, so the metadata states its size).
pub async fn exact_size(job: &DownloadJob, cancel: &Cancel) -> Result<u64, TransferError> {
    let manifest_size = job.version.manifest.value.size;
    let from = first_marker_chunk(manifest_size, job.version.chunk_size);
    let read = read_version(job, from, false, &|_| {}, cancel).await?;
    Ok(read.exact)
}

/// Offers `blob` as a download named `name` (an object URL revoked at once).
pub fn save_blob(blob: &web_sys::Blob, name: &str) -> Result<(), TransferError> {
    let fail =
        |_| TransferError::Browser("This browser could not save the file. Try again.".to_owned());
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| fail(JsValue::NULL))?;
    let url = web_sys::Url::create_object_url_with_blob(blob).map_err(fail)?;
    let anchor = document
        .create_element("a")
        .map_err(fail)?
        .unchecked_into::<web_sys::HtmlAnchorElement>();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    web_sys::Url::revoke_object_url(&url).map_err(fail)?;
    Ok(())
}
