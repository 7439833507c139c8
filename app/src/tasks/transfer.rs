//! What every transfer shares: why it stopped ([`TransferError`]), how it is
//! cancelled ([`Cancel`]), and WebCrypto's SHA-256 of the chunks.
//!
//! The pipeline itself lives in [`super::upload`] (read, pad, seal and send
//! chunk by chunk, overlapping) and [`super::download`] (fetch, check and
//! decrypt chunk by chunk; nothing shown before everything is verified), on
//! the retrying transport of [`crate::platform::http`]. Memory stays bounded
//! whatever the size.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use js_sys::Uint8Array;
use shared::{api::ApiError, crypto::CryptoError};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::platform::http::{Abort, HttpError};

/// What the person reads when a file fails verification.
pub const TAMPERED: &str = "This file was changed outside medvault and cannot be trusted.";
/// What to do about it.
pub const TAMPERED_NEXT: &str = "Restore an earlier version, or ask your administrator.";

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
    /// The server answered, but stayed too busy to take the transfer.
    Busy,
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
            TransferError::Busy => crate::platform::http::BUSY_TOO_LONG.to_owned(),
        }
    }
}

impl From<HttpError> for TransferError {
    fn from(error: HttpError) -> Self {
        match error {
            HttpError::Cancelled => TransferError::Cancelled,
            HttpError::Refused(e) => TransferError::Api(e),
            HttpError::Unreachable => TransferError::Unreachable,
            HttpError::Busy => TransferError::Busy,
        }
    }
}

/// The browser's cipher or digest failed (an old browser, or no WebCrypto).
pub fn browser_error(_: CryptoError) -> TransferError {
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

    /// `Err(Cancelled)` once cancelled: checked between the steps of a transfer.
    pub fn check(&self) -> Result<(), TransferError> {
        if self.is_cancelled() {
            Err(TransferError::Cancelled)
        } else {
            Ok(())
        }
    }
}

impl Abort for Cancel {
    fn is_cancelled(&self) -> bool {
        Cancel::is_cancelled(self)
    }

    /// One controller for the whole transfer, so a cancel aborts all its
    /// requests in flight at once.
    fn signal(&self) -> Option<web_sys::AbortSignal> {
        let mut slot = self.0.controller.borrow_mut();
        if slot.is_none() {
            *slot = web_sys::AbortController::new().ok();
        }
        slot.as_ref().map(|c| c.signal())
    }
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
