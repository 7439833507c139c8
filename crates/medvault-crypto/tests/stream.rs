//! Chunked content encryption (`crypto::stream`) with the `aes-gcm` backend:
//! round trips at every chunk boundary and in any piece split, the exact format,
//! and a `fail_*` test for every way a stream can be tampered with.
#![cfg(not(target_arch = "wasm32"))]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use medvault_crypto::{
    aead::{self, Key256},
    context,
    stream::{
        associated_data, chunk_count, ciphertext_len, nonce, plaintext_len, ready, AesGcmBackend,
        Decryptor, Encryptor, StreamCipher, CHUNK_SIZE, MAX_CHUNKS, TAG_LEN,
    },
    CryptoError, Id,
};
use proptest::prelude::*;
use zeroize::Zeroizing;

const FILE: Id = [0xa5; 16];
const OTHER_FILE: Id = [0x5a; 16];
const VERSION: u32 = 3;

fn key(b: u8) -> Key256 {
    Key256::from_bytes([b; 32])
}

fn cipher_with(key: &Key256, file: &Id, version: u32, chunk: u32) -> StreamCipher<AesGcmBackend> {
    StreamCipher::new(AesGcmBackend::new(key), file, version, chunk).unwrap()
}

fn cipher(chunk: u32) -> StreamCipher<AesGcmBackend> {
    cipher_with(&key(1), &FILE, VERSION, chunk)
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// A tiny deterministic generator of piece sizes (1..=max), so failures replay.
struct Pieces(u64);

impl Pieces {
    fn next(&mut self, max: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        1 + (self.0 >> 33) as usize % max
    }
}

/// Feeds `input` in the given piece sizes (cycled; 0 means an empty update).
fn pieces<'a>(input: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len());
        let n = n.min(rest.len());
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
        i += 1;
    }
    out
}

fn encrypt_pieces(c: StreamCipher<AesGcmBackend>, input: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut enc = Encryptor::new(c);
    let mut out = Vec::new();
    for piece in pieces(input, sizes) {
        ready(enc.update(piece, &mut out)).unwrap();
    }
    ready(enc.finish(&mut out)).unwrap();
    out
}

fn decrypt_pieces(
    c: StreamCipher<AesGcmBackend>,
    input: &[u8],
    sizes: &[usize],
) -> Result<Vec<u8>, CryptoError> {
    let mut dec = Decryptor::new(c);
    let mut out = Vec::new();
    for piece in pieces(input, sizes) {
        ready(dec.update(piece, &mut out))?;
    }
    ready(dec.finish(&mut out))?;
    Ok(out)
}

fn decrypt(c: StreamCipher<AesGcmBackend>, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
    ready(c.decrypt_all(input)).map(|p| p.to_vec())
}

fn encrypt(chunk: u32, plaintext: &[u8]) -> Vec<u8> {
    ready(cipher(chunk).encrypt_all(plaintext)).unwrap()
}

/// Splits a stream into its sealed chunks.
fn chunks(stream: &[u8], chunk: u32) -> Vec<Vec<u8>> {
    stream
        .chunks(chunk as usize + TAG_LEN)
        .map(<[u8]>::to_vec)
        .collect()
}

fn boundary_sizes(c: usize) -> Vec<usize> {
    let mut sizes = vec![0, 1, c.saturating_sub(1), c, c + 1, 2 * c, 2 * c + 1];
    sizes.extend([3 * c - 1, 3 * c, 5 * c + c / 2]);
    sizes
}

#[test]
fn round_trip_at_chunk_boundaries_in_random_pieces() {
    let mut rng = Pieces(42);
    for chunk in [1u32, 2, 16, 1000] {
        let c = chunk as usize;
        for len in boundary_sizes(c) {
            let plain = data(len);
            let reference = encrypt(chunk, &plain);
            assert_eq!(
                reference.len() as u64,
                ciphertext_len(len as u64, chunk).unwrap()
            );
            assert_eq!(
                plaintext_len(reference.len() as u64, chunk).unwrap(),
                len as u64
            );
            for round in 0..8 {
                let max = [1, 3, c, c + TAG_LEN, 2 * c + 17, len + 40][round % 6];
                let sizes: Vec<usize> = (0..32).map(|_| rng.next(max)).collect();
                let stream = encrypt_pieces(cipher(chunk), &plain, &sizes);
                assert_eq!(stream, reference, "chunk {chunk} len {len}: deterministic");
                let sizes: Vec<usize> = (0..32).map(|_| rng.next(max)).collect();
                assert_eq!(
                    decrypt_pieces(cipher(chunk), &stream, &sizes).unwrap(),
                    plain,
                    "chunk {chunk} len {len} sizes {sizes:?}"
                );
            }
        }
    }
}

#[test]
fn empty_updates_change_nothing() {
    let plain = data(40);
    let mut enc = Encryptor::new(cipher(16));
    let mut out = Vec::new();
    for piece in [
        &[][..],
        &plain[..16],
        &[],
        &plain[16..32],
        &[],
        &plain[32..],
        &[],
    ] {
        ready(enc.update(piece, &mut out)).unwrap();
    }
    ready(enc.finish(&mut out)).unwrap();
    assert_eq!(out, encrypt(16, &plain));
    assert_eq!(
        decrypt_pieces(cipher(16), &out, &[0, 5, 0, 100]).unwrap(),
        plain
    );
}

#[test]
fn layout_chunk_lengths_and_empty_file() {
    // 0 bytes: one empty final chunk, the tag alone.
    let empty = encrypt(16, &[]);
    assert_eq!(empty.len(), TAG_LEN);
    // Exact multiple: full final chunk, no empty trailing chunk.
    let two = encrypt(16, &data(32));
    assert_eq!(two.len(), 2 * (16 + TAG_LEN));
    // Remainder in the final chunk.
    let tail = encrypt(16, &data(33));
    let parts = chunks(&tail, 16);
    assert_eq!(
        parts.iter().map(Vec::len).collect::<Vec<_>>(),
        [32, 32, 1 + TAG_LEN]
    );
}

#[test]
fn chunks_are_aes_gcm_with_the_documented_nonce_and_aad() {
    let plain = data(40);
    let stream = encrypt(16, &plain);
    let aad = associated_data(&FILE, VERSION, 16);
    let parts = chunks(&stream, 16);
    for (i, (part, pt)) in parts.iter().zip(plain.chunks(16)).enumerate() {
        let last = i == parts.len() - 1;
        let expected = aead::encrypt_raw(&key(1), &nonce(i as u32, last), &aad, pt).unwrap();
        assert_eq!(part, &expected, "chunk {i}");
    }
}

#[test]
fn nonce_and_aad_bytes() {
    assert_eq!(
        nonce(0x0102_0304, true),
        [0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 1]
    );
    assert_eq!(nonce(0, false), [0; 12]);
    let aad = associated_data(&[7; 16], 0x0a0b_0c0d, CHUNK_SIZE);
    let label = context::STREAM_CHUNK.as_bytes();
    let expected = [
        &(label.len() as u32).to_be_bytes()[..],
        label,
        &[0, 0, 0, 16],
        &[7; 16],
        &[0, 0, 0, 4, 0x0a, 0x0b, 0x0c, 0x0d],
        &[0, 0, 0, 4, 0, 0x10, 0, 0],
    ]
    .concat();
    assert_eq!(aad, expected);
}

/// A fixed vector of our own format (no published one exists), checked both
/// ways, so another implementation can test against it.
#[test]
fn vector_file() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/stream.json"
    ))
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(json["source"].as_str().unwrap().contains("medvault"));
    for case in json["cases"].as_array().unwrap() {
        let hex = |k: &str| hex::decode(case[k].as_str().unwrap()).unwrap();
        let key = Key256::from_slice(&hex("key")).unwrap();
        let file: Id = hex("file_id").try_into().unwrap();
        let version = case["version"].as_u64().unwrap() as u32;
        let chunk = case["chunk_size"].as_u64().unwrap() as u32;
        let plain = hex("plaintext");
        let stream = hex("ciphertext");
        assert_eq!(hex("aad"), associated_data(&file, version, chunk));
        let c = || cipher_with(&key, &file, version, chunk);
        assert_eq!(ready(c().encrypt_all(&plain)).unwrap(), stream);
        assert_eq!(decrypt(c(), &stream).unwrap(), plain);
    }
}

#[test]
fn chunk_api_matches_the_stream() {
    for len in [0usize, 1, 15, 16, 17, 48, 50] {
        let plain = data(len);
        let stream = encrypt(16, &plain);
        let c = cipher(16);
        let n = chunk_count(len as u64, 16).unwrap() as usize;
        let mut built = Vec::new();
        for i in 0..n {
            let pt = &plain[(i * 16).min(len)..((i + 1) * 16).min(len)];
            let sealed = ready(c.encrypt_chunk(i as u32, i == n - 1, pt)).unwrap();
            let opened = ready(c.decrypt_chunk(i as u32, i == n - 1, &sealed)).unwrap();
            assert_eq!(&opened[..], pt);
            built.extend_from_slice(&sealed);
        }
        assert_eq!(built, stream, "len {len}");
    }
}

#[test]
fn length_helpers() {
    assert_eq!(chunk_count(0, 16), Ok(1));
    assert_eq!(chunk_count(16, 16), Ok(1));
    assert_eq!(chunk_count(17, 16), Ok(2));
    assert_eq!(ciphertext_len(0, CHUNK_SIZE), Ok(16));
    assert_eq!(
        ciphertext_len(3 * u64::from(CHUNK_SIZE) + 1, CHUNK_SIZE),
        Ok(3 * u64::from(CHUNK_SIZE) + 1 + 4 * 16)
    );
    assert_eq!(chunk_count(MAX_CHUNKS, 1), Ok(MAX_CHUNKS));
    assert_eq!(plaintext_len(MAX_CHUNKS * 17, 1), Ok(MAX_CHUNKS));
    // Every ciphertext length maps back to at most one plaintext length.
    for chunk in [1u32, 3, 16] {
        for ct in 0..400u64 {
            if let Ok(pt) = plaintext_len(ct, chunk) {
                assert_eq!(ciphertext_len(pt, chunk), Ok(ct), "chunk {chunk} ct {ct}");
            }
        }
        for pt in 0..300u64 {
            let ct = ciphertext_len(pt, chunk).unwrap();
            assert_eq!(plaintext_len(ct, chunk), Ok(pt));
        }
    }
}

#[test]
fn fail_length_helpers_out_of_range() {
    assert_eq!(chunk_count(MAX_CHUNKS + 1, 1), Err(CryptoError::Stream));
    assert_eq!(
        ciphertext_len(u64::MAX, CHUNK_SIZE),
        Err(CryptoError::Stream)
    );
    assert_eq!(
        plaintext_len(MAX_CHUNKS * 17 + 2, 1),
        Err(CryptoError::Stream)
    );
    for bad in 0..16 {
        assert_eq!(plaintext_len(bad, 16), Err(CryptoError::Stream));
    }
    // A full chunk followed by an empty final chunk is never produced.
    assert_eq!(plaintext_len(32 + 16, 16), Err(CryptoError::Stream));
    assert_eq!(plaintext_len(32 + 15, 16), Err(CryptoError::Stream));
    assert_eq!(chunk_count(1, 0), Err(CryptoError::Malformed));
    assert_eq!(plaintext_len(16, 0), Err(CryptoError::Malformed));
}

#[test]
fn fail_zero_or_huge_chunk_size() {
    for bad in [0, u32::MAX - 15, u32::MAX] {
        assert!(matches!(
            StreamCipher::new(AesGcmBackend::new(&key(1)), &FILE, 1, bad),
            Err(CryptoError::Malformed)
        ));
    }
}

/// A 3-chunk stream (16-byte chunks, 40 bytes) for the tamper tests.
fn small() -> (Vec<u8>, Vec<u8>) {
    let plain = data(40);
    let stream = encrypt(16, &plain);
    (plain, stream)
}

#[test]
fn fail_flipped_bit_in_every_byte() {
    let (_, stream) = small();
    for i in 0..stream.len() {
        for bit in 0..8 {
            let mut bad = stream.clone();
            bad[i] ^= 1 << bit;
            assert_eq!(
                decrypt(cipher(16), &bad),
                Err(CryptoError::Decrypt),
                "byte {i} bit {bit}"
            );
            // Incrementally too, fed a byte at a time.
            assert_eq!(
                decrypt_pieces(cipher(16), &bad, &[1]),
                Err(CryptoError::Decrypt)
            );
        }
    }
}

#[test]
fn fail_flipped_bit_in_empty_stream() {
    let stream = encrypt(16, &[]);
    for i in 0..stream.len() {
        let mut bad = stream.clone();
        bad[i] ^= 0x80;
        assert_eq!(decrypt(cipher(16), &bad), Err(CryptoError::Decrypt));
    }
}

#[test]
fn fail_swapped_chunks() {
    let stream = encrypt(16, &data(48));
    let p = chunks(&stream, 16);
    for (a, b) in [(0, 1), (1, 2), (0, 2)] {
        let mut q = p.clone();
        q.swap(a, b);
        assert_eq!(decrypt(cipher(16), &q.concat()), Err(CryptoError::Decrypt));
    }
}

#[test]
fn fail_dropped_chunk() {
    let stream = encrypt(16, &data(48));
    let p = chunks(&stream, 16);
    for drop in 0..p.len() {
        let mut q = p.clone();
        q.remove(drop);
        assert_eq!(
            decrypt(cipher(16), &q.concat()),
            Err(CryptoError::Decrypt),
            "dropped {drop}"
        );
    }
}

#[test]
fn fail_duplicated_chunk() {
    let stream = encrypt(16, &data(40));
    let p = chunks(&stream, 16);
    for dup in 0..p.len() {
        let mut q = p.clone();
        q.insert(dup, p[dup].clone());
        assert!(decrypt(cipher(16), &q.concat()).is_err(), "dup {dup}");
        assert!(decrypt_pieces(cipher(16), &q.concat(), &[7]).is_err());
    }
}

#[test]
fn fail_truncated_at_chunk_boundary() {
    for len in [32usize, 40, 48] {
        let stream = encrypt(16, &data(len));
        let mut end = 32;
        while end < stream.len() {
            assert_eq!(
                decrypt_pieces(cipher(16), &stream[..end], &[5]),
                Err(CryptoError::Decrypt),
                "len {len} cut at {end}"
            );
            end += 32;
        }
    }
}

#[test]
fn fail_truncated_mid_chunk() {
    let (_, stream) = small();
    assert_eq!(decrypt(cipher(16), &[]), Err(CryptoError::Stream));
    for end in 0..stream.len() {
        let result = decrypt_pieces(cipher(16), &stream[..end], &[3]);
        assert!(result.is_err(), "cut at {end}");
        if end % 32 != 0 && end % 32 < 16 {
            // Too short to even hold a tag.
            assert_eq!(result, Err(CryptoError::Stream), "cut at {end}");
        }
    }
}

#[test]
fn fail_extended_with_extra_chunk() {
    // The same file re-encrypted longer: its third chunk appended to the
    // two-chunk stream.
    let short = encrypt(16, &data(32));
    let long = encrypt(16, &data(48));
    let extra = &chunks(&long, 16)[2];
    assert_eq!(
        decrypt(cipher(16), &[&short[..], extra].concat()),
        Err(CryptoError::Decrypt)
    );
    // The same stream's final chunk repeated.
    let last = chunks(&short, 16)[1].clone();
    assert_eq!(
        decrypt(cipher(16), &[&short[..], &last].concat()),
        Err(CryptoError::Decrypt)
    );
    // Garbage: a byte, a tag's worth, a full frame.
    for garbage in [1usize, 15, 16, 17, 32, 40] {
        let mut bad = short.clone();
        bad.extend(std::iter::repeat_n(0x42, garbage));
        assert!(
            decrypt_pieces(cipher(16), &bad, &[9]).is_err(),
            "garbage {garbage}"
        );
    }
}

#[test]
fn fail_chunk_from_another_file_same_key() {
    let plain = data(48);
    let mine = encrypt(16, &plain);
    let theirs = ready(cipher_with(&key(1), &OTHER_FILE, VERSION, 16).encrypt_all(&plain)).unwrap();
    for i in 0..3 {
        let mut q = chunks(&mine, 16);
        q[i] = chunks(&theirs, 16)[i].clone();
        assert_eq!(decrypt(cipher(16), &q.concat()), Err(CryptoError::Decrypt));
    }
    assert_eq!(decrypt(cipher(16), &theirs), Err(CryptoError::Decrypt));
}

#[test]
fn fail_other_version() {
    let (_, stream) = small();
    let other = cipher_with(&key(1), &FILE, VERSION + 1, 16);
    assert_eq!(decrypt(other, &stream), Err(CryptoError::Decrypt));
}

#[test]
fn fail_other_key() {
    let (_, stream) = small();
    let other = cipher_with(&key(2), &FILE, VERSION, 16);
    assert_eq!(decrypt(other, &stream), Err(CryptoError::Decrypt));
}

#[test]
fn fail_other_file_id() {
    let (_, stream) = small();
    let other = cipher_with(&key(1), &OTHER_FILE, VERSION, 16);
    assert_eq!(decrypt(other, &stream), Err(CryptoError::Decrypt));
}

#[test]
fn fail_wrong_chunk_size() {
    // A single-chunk stream has the same framing under a larger chunk size; the
    // chunk size in the associated data still tells them apart.
    let one = encrypt(16, &data(10));
    assert_eq!(decrypt(cipher(17), &one), Err(CryptoError::Decrypt));
    let (_, stream) = small();
    for chunk in [8u32, 15, 17, 24, 1000] {
        assert!(
            decrypt_pieces(cipher(chunk), &stream, &[4]).is_err(),
            "{chunk}"
        );
    }
}

#[test]
fn fail_data_after_finish() {
    let mut enc = Encryptor::new(cipher(16));
    let mut out = Vec::new();
    ready(enc.update(b"abc", &mut out)).unwrap();
    ready(enc.finish(&mut out)).unwrap();
    assert_eq!(ready(enc.update(b"d", &mut out)), Err(CryptoError::Stream));
    assert_eq!(ready(enc.finish(&mut out)), Err(CryptoError::Stream));

    let mut dec = Decryptor::new(cipher(16));
    let mut plain = Vec::new();
    ready(dec.update(&out, &mut plain)).unwrap();
    ready(dec.finish(&mut plain)).unwrap();
    assert_eq!(&plain, b"abc");
    assert_eq!(
        ready(dec.update(&[0; 17], &mut plain)),
        Err(CryptoError::Stream)
    );
    assert_eq!(ready(dec.finish(&mut plain)), Err(CryptoError::Stream));
}

#[test]
fn fail_finish_with_nothing() {
    let mut dec = Decryptor::new(cipher(16));
    let mut out = Vec::new();
    assert_eq!(ready(dec.finish(&mut out)), Err(CryptoError::Stream));
    let mut dec = Decryptor::new(cipher(16));
    ready(dec.update(&[], &mut out)).unwrap();
    assert_eq!(ready(dec.finish(&mut out)), Err(CryptoError::Stream));
}

#[test]
fn fail_is_final_and_releases_nothing_unauthenticated() {
    let (plain, stream) = small();
    let mut bad = stream.clone();
    bad[40] ^= 1; // in chunk 1
    let mut dec = Decryptor::new(cipher(16));
    let mut out = Zeroizing::new(b"prefix".to_vec());
    assert_eq!(ready(dec.update(&bad, &mut out)), Err(CryptoError::Decrypt));
    // Chunk 0 authenticated and was released; nothing of chunk 1.
    assert_eq!(&out[..], &[&b"prefix"[..], &plain[..16]].concat()[..]);
    // The decryptor refuses to go on after an error.
    assert_eq!(
        ready(dec.update(&stream[64..], &mut out)),
        Err(CryptoError::Stream)
    );
    assert_eq!(ready(dec.finish(&mut out)), Err(CryptoError::Stream));
}

#[test]
fn fail_chunk_api_wrong_index_or_last_flag() {
    let c = cipher(16);
    let full = data(16);
    let sealed = ready(c.encrypt_chunk(1, false, &full)).unwrap();
    assert_eq!(
        &ready(c.decrypt_chunk(1, false, &sealed)).unwrap()[..],
        &full[..]
    );
    assert_eq!(
        ready(c.decrypt_chunk(0, false, &sealed)),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        ready(c.decrypt_chunk(2, false, &sealed)),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(
        ready(c.decrypt_chunk(1, true, &sealed)),
        Err(CryptoError::Decrypt)
    );
    let last = ready(c.encrypt_chunk(4, true, &full[..5])).unwrap();
    assert_eq!(ready(c.decrypt_chunk(4, true, &last)).unwrap().len(), 5);
    assert_eq!(
        ready(c.decrypt_chunk(3, true, &last)),
        Err(CryptoError::Decrypt)
    );
    let final_full = ready(c.encrypt_chunk(4, true, &full)).unwrap();
    assert_eq!(
        ready(c.decrypt_chunk(4, false, &final_full)),
        Err(CryptoError::Decrypt)
    );
    // Another file's cipher with the same key.
    let other = cipher_with(&key(1), &OTHER_FILE, VERSION, 16);
    assert_eq!(
        ready(other.decrypt_chunk(1, false, &sealed)),
        Err(CryptoError::Decrypt)
    );
}

#[test]
fn fail_chunk_api_wrong_shape() {
    let c = cipher(16);
    let stream = Some(CryptoError::Stream);
    // Non-final chunks must be full; final ones must fit, and be non-empty after chunk 0.
    assert_eq!(ready(c.encrypt_chunk(0, false, &data(15))).err(), stream);
    assert_eq!(ready(c.encrypt_chunk(0, false, &data(17))).err(), stream);
    assert_eq!(ready(c.encrypt_chunk(0, true, &data(17))).err(), stream);
    assert_eq!(ready(c.encrypt_chunk(1, true, &[])).err(), stream);
    assert!(ready(c.encrypt_chunk(0, true, &[])).is_ok());
    // No chunk can follow index 2^32 - 1.
    assert_eq!(
        ready(c.encrypt_chunk(u32::MAX, false, &data(16))).err(),
        stream
    );
    assert!(ready(c.encrypt_chunk(u32::MAX, true, &data(16))).is_ok());

    assert_eq!(ready(c.decrypt_chunk(0, true, &[0; 15])).err(), stream);
    assert_eq!(ready(c.decrypt_chunk(0, false, &[0; 31])).err(), stream);
    assert_eq!(ready(c.decrypt_chunk(0, false, &[0; 33])).err(), stream);
    assert_eq!(ready(c.decrypt_chunk(0, true, &[0; 33])).err(), stream);
    assert_eq!(ready(c.decrypt_chunk(2, true, &[0; 16])).err(), stream);
    assert_eq!(
        ready(c.decrypt_chunk(u32::MAX, false, &[0; 32])).err(),
        stream
    );
}

#[test]
fn fail_decrypt_chunk_leaves_output_untouched() {
    let c = cipher(16);
    let mut sealed = ready(c.encrypt_chunk(0, true, b"secret")).unwrap();
    sealed[0] ^= 1;
    let mut out = b"kept".to_vec();
    assert_eq!(
        ready(c.decrypt_chunk_into(0, true, &sealed, &mut out)),
        Err(CryptoError::Decrypt)
    );
    assert_eq!(out, b"kept");
}

#[test]
fn fail_ready_on_a_future_that_waits() {
    assert_eq!(
        ready(std::future::pending::<Result<(), CryptoError>>()),
        Err(CryptoError::Unavailable)
    );
}

/// Plaintext lengths biased towards the interesting ones: 0, exact multiples
/// of the chunk size, and one either side.
fn len_for(chunk: usize) -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(0usize),
        (1usize..6).prop_map(move |k| k * chunk),
        (1usize..6, prop_oneof![Just(-1isize), Just(1)])
            .prop_map(move |(k, d)| (k * chunk).saturating_add_signed(d)),
        0usize..(6 * chunk + 3),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn prop_round_trip_any_split(
        (chunk, len) in (1u32..64).prop_flat_map(|c| (Just(c), len_for(c as usize))),
        enc_sizes in prop::collection::vec(0usize..150, 1..12),
        dec_sizes in prop::collection::vec(0usize..150, 1..12),
        file in any::<[u8; 16]>(),
        version in any::<u32>(),
    ) {
        let plain = data(len);
        let c = || cipher_with(&key(9), &file, version, chunk);
        // A piece size of 0 stands for "feed the rest at once".
        let enc_sizes: Vec<usize> = enc_sizes.into_iter().map(|s| if s == 0 { usize::MAX } else { s }).collect();
        let dec_sizes: Vec<usize> = dec_sizes.into_iter().map(|s| if s == 0 { usize::MAX } else { s }).collect();
        let stream = encrypt_pieces(c(), &plain, &enc_sizes);
        prop_assert_eq!(stream.len() as u64, ciphertext_len(len as u64, chunk).unwrap());
        prop_assert_eq!(&stream, &ready(c().encrypt_all(&plain)).unwrap());
        prop_assert_eq!(decrypt_pieces(c(), &stream, &dec_sizes).unwrap(), plain);
    }

    #[test]
    fn prop_fail_any_single_byte_change(
        len in 0usize..100,
        pos in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let stream = encrypt(7, &data(len));
        let mut bad = stream.clone();
        let i = pos.index(bad.len());
        bad[i] = bad[i].wrapping_add(delta);
        prop_assert_eq!(decrypt(cipher(7), &bad), Err(CryptoError::Decrypt));
    }

    #[test]
    fn prop_fail_any_truncation_or_extension(
        len in 0usize..100,
        cut in any::<prop::sample::Index>(),
        extra in prop::collection::vec(any::<u8>(), 1..40),
    ) {
        let stream = encrypt(7, &data(len));
        let end = cut.index(stream.len());
        prop_assert!(decrypt_pieces(cipher(7), &stream[..end], &[3]).is_err());
        let longer = [&stream[..], &extra].concat();
        prop_assert!(decrypt_pieces(cipher(7), &longer, &[5]).is_err());
    }
}
