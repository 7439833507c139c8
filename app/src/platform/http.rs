//! The raw transport of a transfer: one `fetch` of a chunk path, and the
//! retries around it and around server functions. It knows nothing of files
//! or keys: a transfer gives it bytes and something that can abort them.
//!
//! A request that fails on the network or with a 5xx (or a 408) is sent again
//! after each of [`RETRY_DELAYS_MS`]; a 4xx, a 507 or a cancel stops at once. A
//! busy server (503 with `Retry-After`) is waited for as it asks, for up to
//! [`BUSY_PATIENCE_MS`] in all: it is up, just full.

use js_sys::{ArrayBuffer, Uint8Array};
use shared::api::{ApiError, ErrorCode, CSRF_HEADER};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Waits before each new try of a chunk that failed on the network or with a
/// 5xx: four more tries over about eight seconds, then the transfer stops.
pub const RETRY_DELAYS_MS: [u32; 4] = [500, 1000, 2000, 4000];

/// What the person reads when the server stayed busy for too long.
pub const BUSY_TOO_LONG: &str = "The medvault server has been too busy to take this for two minutes. Try again in a few minutes.";

/// How long in all a request waits for a busy server before it gives up.
pub const BUSY_PATIENCE_MS: u32 = 120_000;

/// The longest single wait a busy server's `Retry-After` is followed for.
const BUSY_WAIT_MAX_MS: u32 = 10_000;
/// What can stop a request: a transfer's cancel handle. A trait, so that this
/// transport does not depend on the tasks built on it.
pub trait Abort {
    /// Whether the transfer was cancelled (checked before every try).
    fn is_cancelled(&self) -> bool;
    /// The signal every request of the transfer carries, so that one cancel
    /// aborts all requests in flight.
    fn signal(&self) -> Option<web_sys::AbortSignal>;
}

/// Why a request (with its retries) gave up.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpError {
    /// Aborted through [`Abort`].
    Cancelled,
    /// The server refused it (a 4xx); its message says why.
    Refused(ApiError),
    /// The network or the server failed on every try.
    Unreachable,
    /// The server stayed too busy for [`BUSY_PATIENCE_MS`].
    Busy,
}

/// One try of an HTTP request failed.
#[derive(Debug)]
pub enum Failure {
    /// The network or the server (5xx): try again.
    Retry,
    /// The server is up but busy (503 with `Retry-After`): try again after
    /// this many milliseconds.
    Busy(u32),
    /// The server refused it (4xx): stop.
    Stop(ApiError),
    /// Aborted through [`Abort`].
    Cancelled,
}

/// Lets `ms` milliseconds pass without blocking the page.
pub async fn sleep_ms(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// One try: sends the request and reads the whole answer.
pub async fn try_once(
    method: &str,
    path: &str,
    body: Option<&Uint8Array>,
    abort: &dyn Abort,
) -> Result<ArrayBuffer, Failure> {
    let window = web_sys::window().ok_or(Failure::Retry)?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new().map_err(|_| Failure::Retry)?;
    if let Some(body) = body {
        let _ = headers.set("content-type", "application/octet-stream");
        // Sent as a Blob: Chromium uploads a Blob body about ten times faster
        // than the same bytes as an ArrayBuffer view (135 against 15 MB/s for
        // 1 MiB bodies over loopback), which capped every upload.
        let parts = js_sys::Array::of1(body);
        match web_sys::Blob::new_with_u8_array_sequence(&parts) {
            Ok(blob) => init.set_body(&blob),
            Err(_) => init.set_body(body),
        }
    }
    // Reads too: the server refuses any API request without it (a chunk
    // read is logged).
    let _ = headers.set(CSRF_HEADER, "1");
    init.set_headers(&headers);
    if let Some(signal) = abort.signal() {
        init.set_signal(Some(&signal));
    }
    let outcome = async {
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(path, &init))
                .await
                .map_err(|_| Failure::Retry)?
                .unchecked_into();
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u32>().ok());
        let body = JsFuture::from(response.array_buffer().map_err(|_| Failure::Retry)?)
            .await
            .map_err(|_| Failure::Retry)?;
        let body: ArrayBuffer = body.unchecked_into();
        match status {
            200..=299 => Ok(body),
            // The server stopped waiting for a slow chunk: the link, not the
            // request, was at fault, so it is worth another try.
            408 => Err(Failure::Retry),
            // A 4xx, or a server whose disk is full (507): trying again now
            // cannot help, and the server's sentence says what to do.
            503 if retry_after.is_some() => Err(Failure::Busy(
                retry_after
                    .unwrap_or(1)
                    .saturating_mul(1000)
                    .clamp(250, BUSY_WAIT_MAX_MS),
            )),
            400..=499 | 507 => {
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
        Err(_) if abort.is_cancelled() => Err(Failure::Cancelled),
        other => other,
    }
}

/// Sends a request, trying again after each of [`RETRY_DELAYS_MS`] when the
/// network or the server fails; a 4xx or a cancel stops at once.
pub async fn request(
    method: &str,
    path: &str,
    body: Option<&Uint8Array>,
    abort: &dyn Abort,
) -> Result<ArrayBuffer, HttpError> {
    let mut delays = RETRY_DELAYS_MS.iter();
    let mut busy_waited = 0u32;
    loop {
        if abort.is_cancelled() {
            return Err(HttpError::Cancelled);
        }
        match try_once(method, path, body, abort).await {
            Ok(bytes) => return Ok(bytes),
            Err(Failure::Cancelled) => return Err(HttpError::Cancelled),
            Err(Failure::Stop(e)) => return Err(HttpError::Refused(e)),
            Err(Failure::Busy(ms)) if busy_waited < BUSY_PATIENCE_MS => {
                busy_waited = busy_waited.saturating_add(ms);
                sleep_ms(ms).await;
            }
            Err(Failure::Busy(_)) => return Err(HttpError::Busy),
            Err(Failure::Retry) => match delays.next() {
                Some(&ms) => sleep_ms(ms).await,
                None => return Err(HttpError::Unreachable),
            },
        }
    }
}

/// Calls a server function, trying again like [`request`] when the server
/// cannot be reached or fails.
pub async fn call<T, F, Fut>(abort: &dyn Abort, mut f: F) -> Result<T, HttpError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let mut delays = RETRY_DELAYS_MS.iter();
    loop {
        if abort.is_cancelled() {
            return Err(HttpError::Cancelled);
        }
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
                    None => return Err(HttpError::Unreachable),
                }
            }
            Err(e) => return Err(HttpError::Refused(e)),
        }
    }
}
