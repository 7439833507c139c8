//! Size padding, so the server learns only coarse sizes: Padmé lengths, with a
//! floor of [`MIN_PADDED_LEN`], for file streams (with the chunk layout they
//! imply and a streaming unpadder) and fixed blocks for metadata.

use crate::crypto::CryptoError;

/// Metadata plaintext is padded to a multiple of this many bytes.
pub const METADATA_BLOCK: usize = 256;

/// The Padmé length of `len` (Nikitin et al., "Reducing Metadata Leakage from
/// Encrypted Files and Communication with PURBs", PETS 2019): round up so that
/// only the top `floor(log2(floor(log2 len))) + 1` bits of the length remain.
/// At most 12% overhead, and lengths leak only O(log log len) bits.
///
/// A length within 2^57 of `u64::MAX`, whose Padmé length does not fit in
/// 64 bits, gives `u64::MAX`: no real file is that long, but the sizes a
/// download works from come from the server, which must not be able to make
/// this overflow.
pub fn padme(len: u64) -> u64 {
    if len < 2 {
        return len;
    }
    let e = 63 - u64::from(len.leading_zeros()); // floor(log2 len)
    let s = 64 - u64::from(e.leading_zeros()); // floor(log2 e) + 1
    let last_bits = e - s;
    let mask = (1u64 << last_bits) - 1;
    len.checked_add(mask).map_or(u64::MAX, |up| up & !mask)
}

/// The smallest stream plaintext: every file under 4 KiB (with its marker)
/// is padded to exactly this, so the server cannot tell a one-line note
/// from a short lab result by its size.
pub const MIN_PADDED_LEN: u64 = 4096;

/// The stream plaintext length for a file of `file_len` bytes: the Padmé
/// length of the file plus its one-byte `0x80` marker, and at least
/// [`MIN_PADDED_LEN`].
pub fn padded_len(file_len: u64) -> u64 {
    legacy_padded_len(file_len).max(MIN_PADDED_LEN)
}

/// The stream plaintext length versions written before the 4 KiB floor
/// have: the Padmé length of the file plus its marker, with no floor.
/// Equal to [`padded_len`] from 4,095 bytes up.
pub fn legacy_padded_len(file_len: u64) -> u64 {
    padme(file_len.saturating_add(1))
}

/// Whether a stream of `padded` plaintext bytes is a valid padding of a
/// `file_len`-byte file: as written now ([`padded_len`]) or before the floor
/// ([`legacy_padded_len`]), so that existing versions keep opening.
pub fn padding_fits(file_len: u64, padded: u64) -> bool {
    padded == padded_len(file_len) || padded == legacy_padded_len(file_len)
}

/// Where a file's bytes and its padding fall in the chunks of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLayout {
    /// The file's exact size.
    pub file_len: u64,
    /// The stream plaintext size ([`padded_len`]).
    pub padded_len: u64,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
}

impl StreamLayout {
    /// The layout of a `file_len`-byte file in chunks of `chunk_size`.
    pub fn new(file_len: u64, chunk_size: u32) -> Result<Self, CryptoError> {
        let layout = StreamLayout {
            file_len,
            padded_len: padded_len(file_len),
            chunk_size,
        };
        crate::crypto::stream::chunk_count(layout.padded_len, chunk_size)?;
        Ok(layout)
    }

    /// How many chunks the stream has.
    pub fn chunk_count(&self) -> u64 {
        self.padded_len
            .div_ceil(u64::from(self.chunk_size.max(1)))
            .max(1)
    }

    /// The ciphertext length the server will hold (padded plaintext plus tags).
    pub fn ciphertext_len(&self) -> u64 {
        self.padded_len + self.chunk_count() * crate::crypto::stream::TAG_LEN as u64
    }

    /// The byte range of the file that chunk `index` carries (empty once the
    /// chunk is all padding).
    pub fn file_range(&self, index: u64) -> std::ops::Range<u64> {
        let start = index.saturating_mul(u64::from(self.chunk_size));
        let end = start.saturating_add(u64::from(self.chunk_size));
        start.min(self.file_len)..end.min(self.file_len)
    }

    /// Builds chunk `index`'s plaintext into `out` from the file bytes of
    /// [`Self::file_range`] (`file_part`), adding the marker and zeros where
    /// the chunk reaches past the end of the file.
    pub fn assemble(&self, index: u64, file_part: &[u8], out: &mut Vec<u8>) {
        let start = index.saturating_mul(u64::from(self.chunk_size));
        let end = start
            .saturating_add(u64::from(self.chunk_size))
            .min(self.padded_len);
        out.extend_from_slice(file_part);
        let mut at = start + file_part.len() as u64;
        if at == self.file_len && at < end {
            out.push(0x80);
            at += 1;
        }
        if at < end {
            out.resize(out.len() + (end - at) as usize, 0);
        }
    }

    /// Whether chunk `index` is the last one.
    pub fn is_last(&self, index: u64) -> bool {
        index + 1 == self.chunk_count()
    }
}

/// Removes ISO/IEC 7816-4 padding from a stream fed chunk by chunk, holding
/// back only a count (the trailing `0x80` and zeros), never the bytes.
#[derive(Debug, Default)]
pub struct Unpadder {
    /// A `0x80` that may be the marker, held back.
    marker: bool,
    /// Zero bytes after it (or after the last data byte), held back.
    zeros: u64,
    /// File bytes released so far.
    released: u64,
}

impl Unpadder {
    /// A fresh unpadder for one stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends to `out` every byte of `plain` that is certainly file content.
    pub fn update(&mut self, plain: &[u8], out: &mut Vec<u8>) {
        let Some(last) = plain.iter().rposition(|&b| b != 0) else {
            self.zeros += plain.len() as u64;
            return;
        };
        // A non-zero byte follows whatever was held back: it was content.
        self.release_held(out);
        let (body, tail) = plain.split_at(last);
        out.extend_from_slice(body);
        self.released += body.len() as u64;
        if tail[0] == 0x80 {
            self.marker = true;
        } else {
            out.push(tail[0]);
            self.released += 1;
        }
        self.zeros = (tail.len() - 1) as u64;
    }

    fn release_held(&mut self, out: &mut Vec<u8>) {
        if self.marker {
            out.push(0x80);
            self.released += 1;
            self.marker = false;
        }
        out.resize(out.len() + self.zeros as usize, 0);
        self.released += self.zeros;
        self.zeros = 0;
    }

    /// Ends the stream: the file's length, or [`CryptoError::Stream`] if the
    /// padding is not a `0x80` followed by zeros.
    pub fn finish(self) -> Result<u64, CryptoError> {
        if self.marker {
            Ok(self.released)
        } else {
            Err(CryptoError::Stream)
        }
    }
}

/// Pads serialised metadata to a multiple of [`METADATA_BLOCK`] (`0x80` then
/// zeros), so names of similar length look alike.
pub fn pad_metadata(json: &[u8]) -> Vec<u8> {
    let len = (json.len() + 1).div_ceil(METADATA_BLOCK) * METADATA_BLOCK;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(json);
    out.push(0x80);
    out.resize(len, 0);
    out
}

/// Strips [`pad_metadata`]'s padding.
pub fn unpad_metadata(padded: &[u8]) -> Result<&[u8], CryptoError> {
    let end = padded
        .iter()
        .rposition(|&b| b != 0)
        .ok_or(CryptoError::Malformed)?;
    if padded[end] != 0x80 {
        return Err(CryptoError::Malformed);
    }
    Ok(&padded[..end])
}
