//! The reference backend: the `aes-gcm` crate, native and in WASM.

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use aes_gcm::{
    aead::{AeadInPlace, KeyInit},
    Aes256Gcm, Nonce, Tag,
};
use zeroize::Zeroize;

use super::{ChunkAead, TAG_LEN};
use crate::{aead::Key256, aead::NONCE_LEN, CryptoError};

/// AES-256-GCM from the `aes-gcm` crate, sealing and opening in place in the
/// output buffer (one copy of the input, no temporary allocation).
///
/// The expanded key is computed once here and reused for every chunk.
pub struct AesGcmBackend {
    cipher: Aes256Gcm,
}

impl AesGcmBackend {
    /// Expands the content key of one stream.
    pub fn new(key: &Key256) -> Self {
        AesGcmBackend {
            cipher: Aes256Gcm::new(key.as_bytes().into()),
        }
    }
}

/// Wipes and removes whatever a failed operation appended after `start`.
fn discard(out: &mut Vec<u8>, start: usize) {
    if let Some(tail) = out.get_mut(start..) {
        tail.zeroize();
    }
    out.truncate(start);
}

impl ChunkAead for AesGcmBackend {
    async fn seal_chunk(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let start = out.len();
        out.reserve(plaintext.len() + TAG_LEN);
        out.extend_from_slice(plaintext);
        match self.cipher.encrypt_in_place_detached(
            Nonce::from_slice(nonce),
            aad,
            &mut out[start..],
        ) {
            Ok(tag) => {
                out.extend_from_slice(&tag);
                Ok(())
            }
            Err(_) => {
                // Only a message beyond GCM's 64 GiB limit; chunks never are.
                discard(out, start);
                Err(CryptoError::Malformed)
            }
        }
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
        let (body, tag) = ciphertext.split_at(body_len);
        let start = out.len();
        out.extend_from_slice(body);
        if self
            .cipher
            .decrypt_in_place_detached(
                Nonce::from_slice(nonce),
                aad,
                &mut out[start..],
                Tag::from_slice(tag),
            )
            .is_err()
        {
            discard(out, start);
            return Err(CryptoError::Decrypt);
        }
        Ok(())
    }
}

/// Runs a future that completes without ever waiting, such as every operation
/// on [`AesGcmBackend`]: synchronous callers (native code, tests) need no
/// executor. A future that would wait (WebCrypto) gives
/// [`CryptoError::Unavailable`] instead of blocking.
pub fn ready<T>(future: impl Future<Output = Result<T, CryptoError>>) -> Result<T, CryptoError> {
    let future = pin!(future);
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(CryptoError::Unavailable),
    }
}
