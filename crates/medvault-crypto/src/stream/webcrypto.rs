//! The browser backend: AES-256-GCM through WebCrypto (`SubtleCrypto`).
//!
//! An order of magnitude faster than the `aes-gcm` crate compiled to WASM, and
//! byte-for-byte the same format (a browser test proves it).
//!
//! Copies: WebCrypto reads its input through a view straight into WASM memory
//! (it copies the bytes synchronously when called, before anything can grow the
//! memory and invalidate the view); its result arrives as a new `ArrayBuffer`
//! that is copied once into `out`. Plaintext that passes through JavaScript
//! memory cannot be zeroized there; that is the price of using the browser's
//! implementation.
//!
//! A chunk that already lives in JavaScript (a slice of the file being
//! uploaded, a chunk body just downloaded) goes through
//! [`StreamCipher::encrypt_chunk_js`] and [`StreamCipher::decrypt_chunk_js`]
//! instead: WebCrypto reads it where it is and the result stays in JavaScript,
//! with no copy into WASM memory and back (those copies, and wiping them,
//! cost more than the cipher itself for a 1 MiB chunk).

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, SubtleCrypto};

use super::{nonce, ChunkAead, StreamCipher, TAG_LEN};
use crate::{aead::Key256, aead::NONCE_LEN, CryptoError};

const ALGORITHM: &str = "AES-GCM";

/// AES-256-GCM in WebCrypto, with the content key imported once per stream as a
/// non-extractable `CryptoKey`.
pub struct WebCryptoBackend {
    subtle: SubtleCrypto,
    key: CryptoKey,
}

/// The global's `crypto.subtle`, in a window or a worker alike.
/// [`CryptoError::Unavailable`] where it does not exist (an insecure context).
fn subtle() -> Result<SubtleCrypto, CryptoError> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .map_err(|_| CryptoError::Unavailable)?;
    if crypto.is_undefined() || crypto.is_null() {
        return Err(CryptoError::Unavailable);
    }
    let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle"))
        .map_err(|_| CryptoError::Unavailable)?;
    if subtle.is_undefined() || subtle.is_null() {
        return Err(CryptoError::Unavailable);
    }
    Ok(subtle.unchecked_into())
}

impl WebCryptoBackend {
    /// Imports the content key of one stream (`importKey("raw", …, "AES-GCM",
    /// false, ["encrypt", "decrypt"])`).
    pub async fn import(key: &Key256) -> Result<Self, CryptoError> {
        let subtle = subtle()?;
        let raw = Uint8Array::from(&key.as_bytes()[..]);
        let usages = Array::of2(&JsValue::from_str("encrypt"), &JsValue::from_str("decrypt"));
        let promise = subtle.import_key_with_str("raw", &raw, ALGORITHM, false, &usages);
        // importKey copied the bytes synchronously; wipe our JavaScript copy.
        raw.fill(0, 0, raw.length());
        let key = JsFuture::from(promise.map_err(|_| CryptoError::Unavailable)?)
            .await
            .map_err(|_| CryptoError::Unavailable)?;
        Ok(WebCryptoBackend {
            subtle,
            key: key.unchecked_into(),
        })
    }

    fn params(nonce: &[u8; NONCE_LEN], aad: &[u8]) -> AesGcmParams {
        let params = AesGcmParams::new(ALGORITHM, &Uint8Array::from(&nonce[..]));
        params.set_additional_data(&Uint8Array::from(aad));
        params.set_tag_length(128);
        params
    }
}

/// Awaits one WebCrypto call and checks its result is `expected` bytes long; a
/// refusal, at the call or later, goes through `error`.
async fn settle(
    call: Result<Promise, JsValue>,
    error: fn(&JsValue) -> CryptoError,
    expected: usize,
) -> Result<Uint8Array, CryptoError> {
    let result = JsFuture::from(call.map_err(|e| error(&e))?)
        .await
        .map_err(|e| error(&e))?;
    let bytes = Uint8Array::new(&result);
    if bytes.length() as usize != expected {
        return Err(CryptoError::Unavailable);
    }
    Ok(bytes)
}

/// Any failure of the cipher itself (encrypting never meets a wrong tag).
fn unavailable(_: &JsValue) -> CryptoError {
    CryptoError::Unavailable
}

/// Copies a checked WebCrypto result onto the end of `out`.
fn append(bytes: &Uint8Array, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + bytes.length() as usize, 0);
    bytes.copy_to(&mut out[start..]);
}

/// WebCrypto rejects a tag mismatch with an `OperationError`; anything else
/// means the primitive itself failed.
fn decrypt_error(error: &JsValue) -> CryptoError {
    let name = Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|name| name.as_string());
    match name.as_deref() {
        Some("OperationError") => CryptoError::Decrypt,
        _ => CryptoError::Unavailable,
    }
}

impl ChunkAead for WebCryptoBackend {
    async fn seal_chunk(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let params: Object = Self::params(nonce, aad).into();
        let call = self
            .subtle
            .encrypt_with_object_and_u8_array(&params, &self.key, plaintext);
        append(
            &settle(call, unavailable, plaintext.len() + TAG_LEN).await?,
            out,
        );
        Ok(())
    }

    async fn open_chunk(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let body_len = ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CryptoError::Stream)?;
        let params: Object = Self::params(nonce, aad).into();
        let call = self
            .subtle
            .decrypt_with_object_and_u8_array(&params, &self.key, ciphertext);
        append(&settle(call, decrypt_error, body_len).await?, out);
        Ok(())
    }
}

impl StreamCipher<WebCryptoBackend> {
    /// [`Self::encrypt_chunk_into`] for a chunk held in JavaScript: the same
    /// shape rules, nonce and associated data, and the same bytes out, but
    /// read and written in JavaScript memory. WebCrypto copies its input when
    /// called, so the caller may wipe `plaintext` as soon as this returns.
    pub async fn encrypt_chunk_js(
        &self,
        index: u32,
        is_last: bool,
        plaintext: &Uint8Array,
    ) -> Result<Uint8Array, CryptoError> {
        let len = plaintext.length() as usize;
        self.check_shape(index, is_last, len)?;
        let params: Object = WebCryptoBackend::params(&nonce(index, is_last), &self.aad).into();
        let call = self.aead.subtle.encrypt_with_object_and_buffer_source(
            &params,
            &self.aead.key,
            plaintext,
        );
        settle(call, unavailable, len + TAG_LEN).await
    }

    /// [`Self::decrypt_chunk_into`] for a chunk held in JavaScript; the
    /// plaintext is released only if the tag verifies.
    pub async fn decrypt_chunk_js(
        &self,
        index: u32,
        is_last: bool,
        ciphertext: &Uint8Array,
    ) -> Result<Uint8Array, CryptoError> {
        let body = (ciphertext.length() as usize)
            .checked_sub(TAG_LEN)
            .ok_or(CryptoError::Stream)?;
        self.check_shape(index, is_last, body)?;
        let params: Object = WebCryptoBackend::params(&nonce(index, is_last), &self.aad).into();
        let call = self.aead.subtle.decrypt_with_object_and_buffer_source(
            &params,
            &self.aead.key,
            ciphertext,
        );
        settle(call, decrypt_error, body).await
    }
}
