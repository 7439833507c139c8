//! File content: AES-256-GCM in fixed-size chunks (the STREAM construction).
//!
//! A file version is encrypted under its own fresh random content key
//! ([`Key256`](super::aead::Key256)), used for nothing else. Because the key is
//! single-use, nonces can be a plain chunk counter: this is STREAM (Hoang,
//! Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption and its
//! Nonce-Reuse Misuse-Resistance", CRYPTO 2015), which lets any file size stream
//! through bounded memory while chunks can be neither reordered, dropped,
//! duplicated, truncated, extended nor moved to another file.
//!
//! # Format (protocol v1)
//!
//! Parameters bound to a stream: the content key (32 bytes), `file_id` (16 bytes),
//! `version` (u32) and `chunk_size` (u32, [`CHUNK_SIZE`] = 1,048,576 in protocol
//! v1; other values exist for tests and must be agreed out of band).
//!
//! - The plaintext is cut into chunks of `chunk_size` bytes. Every chunk except
//!   the last is full. The last chunk holds the remainder, `1..=chunk_size` bytes,
//!   so a length that is an exact positive multiple of `chunk_size` ends with a
//!   FULL final chunk (never an empty trailing one). A 0-byte file is exactly one
//!   empty final chunk. Number of chunks `n = max(1, ceil(len / chunk_size))`,
//!   at most 2^32.
//! - Chunk `i` (0-based, `u32`) is sealed with AES-256-GCM (128-bit tag) under
//!   - nonce (12 bytes) = `00 00 00 00 00 00 00 || u32be(i) || last`, where
//!     `last` is `0x01` for the final chunk and `0x00` otherwise;
//!   - associated data = [`context::bind`](super::context::bind)`(STREAM_CHUNK,
//!     [file_id, u32be(version), u32be(chunk_size)])`, i.e.
//!     `u32be(24) || "medvault/v1/stream/chunk" || u32be(16) || file_id ||
//!     u32be(4) || u32be(version) || u32be(4) || u32be(chunk_size)` (the same
//!     for every chunk of the stream).
//! - A sealed chunk is `ciphertext || tag (16)`: a non-final chunk is exactly
//!   `chunk_size + 16` bytes, the final one `16..=chunk_size + 16` bytes (exactly
//!   16 only for the single chunk of an empty file).
//! - The stream is the concatenation of the sealed chunks, nothing else (no
//!   header: the parameters travel in the signed manifest). Its length is
//!   `len + 16 * n` ([`ciphertext_len`]); the plaintext length follows back from
//!   it ([`plaintext_len`]), and both directions are bijective.
//!
//! # Reading a stream
//!
//! A reader cuts the ciphertext into `chunk_size + 16`-byte frames; a full frame
//! is a non-final chunk only if more bytes follow it, and whatever remains at the
//! end is the final chunk. Anything that does not fit that shape is
//! [`CryptoError::Stream`]; a chunk that does not authenticate under its index
//! and position is [`CryptoError::Decrypt`]. Plaintext is released one chunk at a
//! time, each only after its tag verified — but the stream as a whole is complete
//! only once `finish` succeeds: a truncated stream is detected at the end, so a
//! caller must discard everything released so far if any call fails.
//!
//! # Backends
//!
//! [`ChunkAead`] is the one operation both backends provide: [`AesGcmBackend`]
//! (the `aes-gcm` crate, native and WASM, the reference) and, on wasm32,
//! [`WebCryptoBackend`] (the browser's `SubtleCrypto`, an order of magnitude
//! faster there). WebCrypto only speaks promises, so the trait is async; the
//! `aes-gcm` backend never suspends, and [`ready`] runs its futures without an
//! executor.

mod native;
#[cfg(target_arch = "wasm32")]
mod webcrypto;

pub use native::{ready, AesGcmBackend};
#[cfg(target_arch = "wasm32")]
pub use webcrypto::WebCryptoBackend;

use zeroize::{Zeroize, Zeroizing};

use super::{aead::NONCE_LEN, context, CryptoError, Id};

/// The chunk size of protocol v1: 1 MiB of plaintext per chunk.
pub const CHUNK_SIZE: u32 = 1 << 20;
/// The AES-GCM tag that ends every sealed chunk.
pub const TAG_LEN: usize = 16;
/// The most chunks a stream may have: the counter is a `u32`.
pub const MAX_CHUNKS: u64 = 1 << 32;
/// The largest accepted chunk size, so that a sealed chunk's length fits a `u32`.
pub const MAX_CHUNK_SIZE: u32 = u32::MAX - TAG_LEN as u32;

/// The nonce of chunk `index`: seven zero bytes, the big-endian counter, and the
/// last-chunk flag (`0x01` on the final chunk, `0x00` otherwise).
pub fn nonce(index: u32, is_last: bool) -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[7..11].copy_from_slice(&index.to_be_bytes());
    nonce[11] = u8::from(is_last);
    nonce
}

/// The associated data shared by every chunk of one stream; it ties each chunk
/// to its file, version and chunk size.
pub fn associated_data(file_id: &Id, version: u32, chunk_size: u32) -> Vec<u8> {
    context::bind(
        context::STREAM_CHUNK,
        &[file_id, &version.to_be_bytes(), &chunk_size.to_be_bytes()],
    )
}

/// How many chunks a plaintext of `plaintext_len` bytes makes:
/// `max(1, ceil(plaintext_len / chunk_size))`. [`CryptoError::Stream`] beyond
/// 2^32 chunks, [`CryptoError::Malformed`] for a chunk size of 0.
pub fn chunk_count(plaintext_len: u64, chunk_size: u32) -> Result<u64, CryptoError> {
    check_chunk_size(chunk_size)?;
    let count = plaintext_len.div_ceil(u64::from(chunk_size)).max(1);
    if count > MAX_CHUNKS {
        return Err(CryptoError::Stream);
    }
    Ok(count)
}

/// The stream length of a plaintext of `plaintext_len` bytes:
/// `plaintext_len + 16 * chunk_count`.
pub fn ciphertext_len(plaintext_len: u64, chunk_size: u32) -> Result<u64, CryptoError> {
    let count = chunk_count(plaintext_len, chunk_size)?;
    plaintext_len
        .checked_add(count * TAG_LEN as u64)
        .ok_or(CryptoError::Stream)
}

/// The plaintext length behind a stream of `ciphertext_len` bytes, or
/// [`CryptoError::Stream`] if no plaintext encrypts to that length (so a
/// download of the wrong size is caught before any decryption).
pub fn plaintext_len(ciphertext_len: u64, chunk_size: u32) -> Result<u64, CryptoError> {
    check_chunk_size(chunk_size)?;
    let frame = u64::from(chunk_size) + TAG_LEN as u64;
    if ciphertext_len < TAG_LEN as u64 {
        return Err(CryptoError::Stream);
    }
    let count = ciphertext_len.div_ceil(frame).max(1);
    let last = ciphertext_len - (count - 1) * frame;
    // The final chunk of a non-empty file is never empty.
    if count > MAX_CHUNKS || (count > 1 && last <= TAG_LEN as u64) {
        return Err(CryptoError::Stream);
    }
    Ok(ciphertext_len - count * TAG_LEN as u64)
}

fn check_chunk_size(chunk_size: u32) -> Result<(), CryptoError> {
    if chunk_size == 0 || chunk_size > MAX_CHUNK_SIZE {
        return Err(CryptoError::Malformed);
    }
    Ok(())
}

/// One AES-256-GCM key, able to seal and open single chunks.
///
/// Implemented by the `aes-gcm` crate everywhere and by WebCrypto in the browser;
/// the stream logic above it is shared, so both produce identical bytes.
///
/// Async because WebCrypto is. The futures are not `Send` (WebCrypto's hold
/// JavaScript values, which never leave their thread), which is exactly what the
/// `async_fn_in_trait` lint warns about; it is the intended contract here.
#[allow(async_fn_in_trait)]
pub trait ChunkAead {
    /// Appends `ciphertext || tag` (`plaintext.len() + 16` bytes) of `plaintext`
    /// to `out`. On error, `out` is left as it was.
    async fn seal_chunk(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError>;

    /// Verifies `ciphertext || tag` (at least 16 bytes) and appends its plaintext
    /// to `out`. On error ([`CryptoError::Decrypt`] if it does not authenticate),
    /// `out` is left as it was: no unauthenticated byte is ever released.
    async fn open_chunk(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError>;
}

/// The cipher of one stream: a content key (imported once, so the key schedule
/// runs once per stream) bound to a file id, version and chunk size.
///
/// Seals and opens single chunks (the app uploads and downloads each sealed
/// chunk as its own part), or becomes an [`Encryptor`]/[`Decryptor`] for
/// arbitrary pieces of a whole stream.
pub struct StreamCipher<A> {
    aead: A,
    aad: Vec<u8>,
    chunk_size: u32,
}

impl<A: ChunkAead> StreamCipher<A> {
    /// Binds a backend holding the content key to one file version.
    /// [`CryptoError::Malformed`] for a chunk size of 0 or above
    /// [`MAX_CHUNK_SIZE`].
    pub fn new(aead: A, file_id: &Id, version: u32, chunk_size: u32) -> Result<Self, CryptoError> {
        check_chunk_size(chunk_size)?;
        Ok(StreamCipher {
            aead,
            aad: associated_data(file_id, version, chunk_size),
            chunk_size,
        })
    }

    /// The plaintext size of every non-final chunk.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Seals chunk `index` of the stream and appends it to `out`.
    ///
    /// [`CryptoError::Stream`] unless the plaintext has the shape the position
    /// demands: exactly `chunk_size` bytes for a non-final chunk (and the index
    /// must leave room for a final one), `1..=chunk_size` for the final chunk
    /// (`0` only when it is chunk 0, an empty file).
    pub async fn encrypt_chunk_into(
        &self,
        index: u32,
        is_last: bool,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        self.check_shape(index, is_last, plaintext.len())?;
        self.aead
            .seal_chunk(&nonce(index, is_last), &self.aad, plaintext, out)
            .await
    }

    /// Seals chunk `index` (see [`Self::encrypt_chunk_into`]).
    pub async fn encrypt_chunk(
        &self,
        index: u32,
        is_last: bool,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        self.encrypt_chunk_into(index, is_last, plaintext, &mut out)
            .await?;
        Ok(out)
    }

    /// Opens sealed chunk `index` and appends its plaintext to `out`.
    ///
    /// [`CryptoError::Stream`] if the length does not fit the position (the same
    /// rules as [`Self::encrypt_chunk_into`], plus the 16-byte tag),
    /// [`CryptoError::Decrypt`] if it does not authenticate as chunk `index` with
    /// this last flag of this file version under this key.
    pub async fn decrypt_chunk_into(
        &self,
        index: u32,
        is_last: bool,
        ciphertext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let body = ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(CryptoError::Stream)?;
        self.check_shape(index, is_last, body)?;
        self.aead
            .open_chunk(&nonce(index, is_last), &self.aad, ciphertext, out)
            .await
    }

    /// Opens sealed chunk `index` (see [`Self::decrypt_chunk_into`]).
    pub async fn decrypt_chunk(
        &self,
        index: u32,
        is_last: bool,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len().saturating_sub(TAG_LEN)));
        self.decrypt_chunk_into(index, is_last, ciphertext, &mut out)
            .await?;
        Ok(out)
    }

    /// Encrypts a whole plaintext held in memory.
    pub async fn encrypt_all(self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let len = ciphertext_len(plaintext.len() as u64, self.chunk_size)?;
        let mut out = Vec::with_capacity(usize::try_from(len).map_err(|_| CryptoError::Stream)?);
        let mut encryptor = Encryptor::new(self);
        encryptor.update(plaintext, &mut out).await?;
        encryptor.finish(&mut out).await?;
        Ok(out)
    }

    /// Decrypts a whole stream held in memory. The output is allocated once at
    /// its final size, so no copy of the plaintext is left behind unzeroized.
    pub async fn decrypt_all(self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let len = plaintext_len(ciphertext.len() as u64, self.chunk_size)?;
        let mut out = Zeroizing::new(Vec::with_capacity(
            usize::try_from(len).map_err(|_| CryptoError::Stream)?,
        ));
        let mut decryptor = Decryptor::new(self);
        decryptor.update(ciphertext, &mut out).await?;
        decryptor.finish(&mut out).await?;
        Ok(out)
    }

    /// The shape rules of one chunk's plaintext (see [`Self::encrypt_chunk_into`]).
    fn check_shape(&self, index: u32, is_last: bool, len: usize) -> Result<(), CryptoError> {
        let chunk = self.chunk_size as usize;
        let ok = if is_last {
            len <= chunk && (len > 0 || index == 0)
        } else {
            len == chunk && index < u32::MAX
        };
        if ok {
            Ok(())
        } else {
            Err(CryptoError::Stream)
        }
    }
}

/// The framing shared by [`Encryptor`] and [`Decryptor`]: buffer at most one
/// frame, and treat a full frame as non-final only once more input arrives.
struct Framer<A> {
    cipher: StreamCipher<A>,
    /// The pending frame (plaintext when encrypting, so zeroized on drop).
    buf: Zeroizing<Vec<u8>>,
    /// `chunk_size` when encrypting, `chunk_size + 16` when decrypting.
    frame: usize,
    seal: bool,
    /// Index of the next chunk to process.
    next: u64,
    /// Finished, or failed: either way no further input is accepted.
    done: bool,
}

impl<A: ChunkAead> Framer<A> {
    fn new(cipher: StreamCipher<A>, seal: bool) -> Self {
        let frame = cipher.chunk_size as usize + if seal { 0 } else { TAG_LEN };
        Framer {
            cipher,
            buf: Zeroizing::new(Vec::new()),
            frame,
            seal,
            next: 0,
            done: false,
        }
    }

    async fn chunk(
        &self,
        is_last: bool,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        let index = u32::try_from(self.next).map_err(|_| CryptoError::Stream)?;
        if self.seal {
            self.cipher
                .encrypt_chunk_into(index, is_last, input, out)
                .await
        } else {
            self.cipher
                .decrypt_chunk_into(index, is_last, input, out)
                .await
        }
    }

    async fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if self.done {
            return Err(CryptoError::Stream);
        }
        let result = self.update_inner(input, out).await;
        if result.is_err() {
            self.fail();
        }
        result
    }

    async fn update_inner(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        while !input.is_empty() {
            if self.buf.len() == self.frame {
                // More bytes follow, so the buffered frame is not the last.
                self.chunk(false, &self.buf, out).await?;
                self.next += 1;
                self.buf.clear();
            }
            if self.buf.is_empty() && input.len() > self.frame {
                // A whole non-final frame straight from the input: no copy.
                let (frame, rest) = input.split_at(self.frame);
                self.chunk(false, frame, out).await?;
                self.next += 1;
                input = rest;
                continue;
            }
            if self.buf.capacity() < self.frame {
                // Allocated once at full size: a growing Vec would leave copies
                // of the plaintext behind that Zeroizing never sees.
                self.buf.reserve_exact(self.frame);
            }
            let take = (self.frame - self.buf.len()).min(input.len());
            let (head, rest) = input.split_at(take);
            self.buf.extend_from_slice(head);
            input = rest;
        }
        Ok(())
    }

    async fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if self.done {
            return Err(CryptoError::Stream);
        }
        // Decrypting, an empty buffer means no stream at all (a sealed chunk is
        // never empty); encrypting, it is the single chunk of an empty file.
        let result = if !self.seal && self.buf.is_empty() {
            Err(CryptoError::Stream)
        } else {
            self.chunk(true, &self.buf, out).await
        };
        self.fail();
        result
    }

    fn fail(&mut self) {
        self.done = true;
        self.buf.zeroize();
    }
}

/// Encrypts a stream fed in pieces of any size (a file read in slices).
///
/// Holds at most one chunk of plaintext; a full chunk is sealed as non-final only
/// when more plaintext arrives, and [`Self::finish`] seals the final chunk.
pub struct Encryptor<A>(Framer<A>);

impl<A: ChunkAead> Encryptor<A> {
    /// Starts a stream under a cipher bound to its file version.
    pub fn new(cipher: StreamCipher<A>) -> Self {
        Encryptor(Framer::new(cipher, true))
    }

    /// Takes the next piece of plaintext and appends every chunk it completes to
    /// `out`. [`CryptoError::Stream`] after [`Self::finish`] or an error, or past
    /// 2^32 chunks.
    pub async fn update(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        self.0.update(plaintext, out).await
    }

    /// Seals the final chunk (the empty chunk of an empty file) into `out`.
    /// [`CryptoError::Stream`] if called twice.
    pub async fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CryptoError> {
        self.0.finish(out).await
    }
}

/// Decrypts a stream fed in pieces of any size (network reads).
///
/// Holds at most one sealed chunk (`chunk_size + 16` bytes). Each chunk's
/// plaintext is appended to `out` only once it authenticated; completeness is
/// known only when [`Self::finish`] succeeds. For plaintext hygiene, pass a
/// `Zeroizing<Vec<u8>>` with enough capacity reserved ([`plaintext_len`]) so it
/// never reallocates and leaves copies behind.
pub struct Decryptor<A>(Framer<A>);

impl<A: ChunkAead> Decryptor<A> {
    /// Starts reading a stream under a cipher bound to its file version.
    pub fn new(cipher: StreamCipher<A>) -> Self {
        Decryptor(Framer::new(cipher, false))
    }

    /// Takes the next piece of ciphertext and appends the plaintext of every
    /// chunk it completes. [`CryptoError::Decrypt`] if a chunk does not
    /// authenticate; [`CryptoError::Stream`] after [`Self::finish`] or an error,
    /// or past 2^32 chunks.
    pub async fn update(
        &mut self,
        ciphertext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CryptoError> {
        self.0.update(ciphertext, out).await
    }

    /// Opens the remaining bytes as the final chunk. [`CryptoError::Stream`] if
    /// there are none, fewer than 16, or only an empty chunk after others;
    /// [`CryptoError::Decrypt`] if they are not the genuine final chunk (a stream
    /// truncated at a chunk boundary ends with a non-final chunk and fails here).
    pub async fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), CryptoError> {
        self.0.finish(out).await
    }
}
