//! The crypto crate's decoders of untrusted bytes, chosen by the first byte:
//! sealed boxes, wrapped keys (AES-GCM and HPKE), STREAM chunks and whole
//! streams, signatures and public keys, sealed keyrings, recovery codes, TOTP
//! secrets and codes, organisation fingerprints, base64url, the audit chain,
//! and the stream length arithmetic. Each forged input must be refused
//! without a panic; each encoder must round-trip.

#![no_main]

use libfuzzer_sys::fuzz_target;
use medvault_crypto::aead::{self, Key256};
use medvault_crypto::audit_chain::{self, Link};
use medvault_crypto::fingerprint::OrgFingerprint;
use medvault_crypto::hpke;
use medvault_crypto::keyring::Keyring;
use medvault_crypto::recovery::RecoverySecret;
use medvault_crypto::sign::{Signature, VerifyingKey};
use medvault_crypto::stream::{self, ready, AesGcmBackend, Decryptor, StreamCipher};
use medvault_crypto::totp::{self, TotpSecret};
use medvault_crypto::{b64, CryptoError};
use medvault_fuzz::{hpke_secret, signing_key, sym_key, Cursor, NODE, USER};

const AAD: &[u8] = b"fuzz";

fuzz_target!(|data: &[u8]| {
    let mut c = Cursor(data);
    match c.u8() % 12 {
        0 => sealed_box(c),
        1 => wrapped_key(c),
        2 => hpke_key(c),
        3 => stream_chunks(c),
        4 => signatures(c),
        5 => keyring(c),
        6 => recovery_code(c),
        7 => totp_secret(c),
        8 => fingerprint(c),
        9 => base64(c),
        10 => audit_chain(c),
        _ => stream_lengths(c),
    }
});

fn sealed_box(mut c: Cursor) {
    let key = sym_key();
    let bytes = c.rest();
    if let Ok(plain) = aead::open(&key, AAD, bytes) {
        // Only a box sealed under this key opens (a seed is one).
        assert_eq!(plain.len() + aead::SEAL_OVERHEAD, bytes.len());
    }
    let sealed = aead::seal(&key, AAD, bytes).expect("seal");
    assert_eq!(sealed.len(), bytes.len() + aead::SEAL_OVERHEAD);
    let opened = aead::open(&key, AAD, &sealed).expect("open what was sealed");
    assert_eq!(&opened[..], bytes);
    assert!(aead::open(&key, b"other", &sealed).is_err());
}

fn wrapped_key(mut c: Cursor) {
    let key = sym_key();
    let inner = Key256::from_bytes(c.array());
    let bytes = c.rest();
    let _ = aead::unwrap_key(&key, AAD, bytes);
    let _ = Key256::from_slice(bytes);
    let wrapped = aead::wrap_key(&key, AAD, &inner).expect("wrap");
    assert_eq!(
        aead::unwrap_key(&key, AAD, &wrapped).expect("unwrap"),
        inner
    );
}

fn hpke_key(mut c: Cursor) {
    let secret = hpke_secret();
    let inner = Key256::from_bytes(c.array());
    let bytes = c.rest();
    let _ = hpke::unwrap_node_key(&secret, &USER, &NODE, bytes);
    let _ = hpke::EncryptionPublicKey::from_slice(bytes);
    let _ = hpke::EncryptionSecretKey::from_slice(bytes);
    let wrapped = hpke::wrap_node_key(&secret.public_key(), &USER, &NODE, &inner).expect("wrap");
    assert_eq!(wrapped.len(), hpke::WRAPPED_LEN);
    let back = hpke::unwrap_node_key(&secret, &USER, &NODE, &wrapped).expect("unwrap");
    assert_eq!(back, inner);
}

fn cipher(chunk_size: u32) -> Result<StreamCipher<AesGcmBackend>, CryptoError> {
    StreamCipher::new(AesGcmBackend::new(&sym_key()), &NODE, 3, chunk_size)
}

fn stream_chunks(mut c: Cursor) {
    // Small chunks, so that short inputs span several.
    let chunk_size = u32::from(c.u8() % 64) + 1;
    let index = c.u32() % 8;
    let is_last = c.u8() & 1 == 1;
    let split = usize::from(c.u8());
    let bytes = c.rest();
    let Ok(cipher) = cipher(chunk_size) else {
        return;
    };
    // One forged chunk, then a forged whole stream fed in two pieces.
    let _ = ready(cipher.decrypt_chunk(index, is_last, bytes));
    let mut out = Vec::new();
    let mut dec = Decryptor::new(cipher);
    let (a, b) = bytes.split_at(split.min(bytes.len()));
    let fed = ready(dec.update(a, &mut out)).and_then(|_| ready(dec.update(b, &mut out)));
    if fed.is_ok() {
        let _ = ready(dec.finish(&mut out));
    }
    // The same bytes as a plaintext: encrypt, then decrypt in two pieces.
    let sealed = ready(cipher_or_panic(chunk_size).encrypt_all(bytes)).expect("encrypt");
    assert_eq!(
        stream::ciphertext_len(bytes.len() as u64, chunk_size).expect("len"),
        sealed.len() as u64
    );
    assert_eq!(
        stream::plaintext_len(sealed.len() as u64, chunk_size).expect("len"),
        bytes.len() as u64
    );
    let whole = ready(cipher_or_panic(chunk_size).decrypt_all(&sealed)).expect("decrypt");
    assert_eq!(&whole[..], bytes);
    let mut out = Vec::new();
    let mut dec = Decryptor::new(cipher_or_panic(chunk_size));
    let (a, b) = sealed.split_at(split.min(sealed.len()));
    ready(dec.update(a, &mut out)).expect("update");
    ready(dec.update(b, &mut out)).expect("update");
    ready(dec.finish(&mut out)).expect("finish");
    assert_eq!(out, bytes);
    if let Some((last, rest)) = sealed.split_last() {
        // Truncated or flipped: refused.
        assert!(ready(cipher_or_panic(chunk_size).decrypt_all(rest)).is_err());
        let mut flipped = sealed.clone();
        let n = flipped.len() - 1;
        flipped[n] = last ^ 1;
        assert!(ready(cipher_or_panic(chunk_size).decrypt_all(&flipped)).is_err());
    }
}

fn cipher_or_panic(chunk_size: u32) -> StreamCipher<AesGcmBackend> {
    cipher(chunk_size).expect("cipher")
}

fn signatures(mut c: Cursor) {
    let sig = c.take(64);
    let key = c.take(32);
    let message = c.rest();
    let signature = Signature::from_bytes(sig);
    if let (Ok(key), Ok(signature)) = (VerifyingKey::from_bytes(key), &signature) {
        let _ = key.verify_bytes(message, signature);
    }
    // Through serde as the wire carries them.
    let _ = serde_json::from_slice::<Signature>(message);
    let _ = serde_json::from_slice::<VerifyingKey>(message);
    let signer = signing_key();
    let good = signer.sign_bytes(message);
    let vk = signer.verifying_key();
    vk.verify_bytes(message, &good).expect("own signature");
    assert_eq!(Signature::from_bytes(&good.to_bytes()).expect("sig"), good);
    assert_eq!(VerifyingKey::from_bytes(&vk.to_bytes()).expect("key"), vk);
    if let Ok(forged) = signature {
        if forged != good {
            assert!(vk.verify_bytes(message, &forged).is_err());
        }
    }
}

fn keyring(mut c: Cursor) {
    let export_key = c.take(64);
    let sealed = c.rest();
    let _ = Keyring::open_with_password(export_key, &USER, sealed);
    let secret = RecoverySecret::from_bytes([0x66; 32]);
    let _ = Keyring::open_with_recovery(&secret, &USER, sealed);
}

fn recovery_code(mut c: Cursor) {
    let raw: [u8; 32] = c.array();
    let text = String::from_utf8_lossy(c.rest());
    if let Ok(secret) = RecoverySecret::from_code(&text) {
        let code = secret.to_code();
        let again = RecoverySecret::from_code(&code).expect("own code");
        assert_eq!(*again.to_code(), *code);
    }
    let secret = RecoverySecret::from_bytes(raw);
    let code = secret.to_code();
    let lower = code.to_lowercase().replace('-', " ");
    for typed in [code.to_string(), lower] {
        let back = RecoverySecret::from_code(&typed).expect("own code");
        assert_eq!(*back.to_code(), *code);
    }
}

fn totp_secret(mut c: Cursor) {
    let raw: [u8; totp::SECRET_LEN] = c.array();
    let now = c.u64();
    let last = c.u64();
    let text = String::from_utf8_lossy(c.rest());
    if let Ok(secret) = TotpSecret::from_base32(&text) {
        let again = TotpSecret::from_base32(&secret.to_base32()).expect("own base32");
        assert_eq!(again.as_bytes(), secret.as_bytes());
    }
    let secret = TotpSecret::from_bytes(raw);
    let back = TotpSecret::from_base32(&secret.to_base32()).expect("own base32");
    assert_eq!(back.as_bytes(), &raw);
    let _ = totp::verify(&secret, &text, now, Some(last));
    let _ = totp::verify(&secret, &text, now, None);
    if let Ok(code) = totp::code(&secret, now) {
        assert!(totp::verify(&secret, &code, now, None).is_ok());
    }
    let _ = totp::hotp(&secret, now, (last % 12) as u32);
    let uri = totp::otpauth_uri(&secret, &text);
    // The QR code of a long URI takes many milliseconds to draw; usernames
    // are short, so only a username-sized account is drawn.
    if text.len() <= 64 {
        let _ = totp::qr_svg(&uri);
    }
}

fn fingerprint(mut c: Cursor) {
    let key: [u8; 32] = c.array();
    let text = String::from_utf8_lossy(c.rest());
    if let Ok(fp) = OrgFingerprint::parse(&text) {
        assert_eq!(OrgFingerprint::parse(&fp.to_hex()).expect("own hex"), fp);
    }
    let fp = OrgFingerprint::of(&key);
    assert_eq!(OrgFingerprint::parse(&fp.to_hex()).expect("own hex"), fp);
    assert_eq!(
        OrgFingerprint::parse(&fp.to_string()).expect("own text"),
        fp
    );
}

fn base64(mut c: Cursor) {
    let bytes = c.rest();
    let text = String::from_utf8_lossy(bytes);
    if let Some(decoded) = b64::decode(&text) {
        assert_eq!(b64::decode(&b64::encode(&decoded)), Some(decoded));
    }
    assert_eq!(b64::decode(&b64::encode(bytes)).as_deref(), Some(bytes));
}

fn audit_chain(mut c: Cursor) {
    let prev_seq = u64::from(c.u8()) << (c.u8() % 64);
    let prev: [u8; 32] = c.array();
    let mut events = Vec::new();
    while !c.0.is_empty() {
        let len = usize::from(c.u8() % 32);
        let seq = if c.u8() & 1 == 0 { c.u64() } else { 0 };
        events.push((seq, c.take(len), c.array::<32>()));
    }
    let forged: Vec<Link> = events
        .iter()
        .map(|(seq, event, hash)| Link {
            seq: *seq,
            event,
            hash: *hash,
        })
        .collect();
    let _ = audit_chain::verify_run(&prev, prev_seq, &forged);
    // The same events linked properly verify, and end at the last hash.
    let mut current = prev;
    let mut seq = prev_seq;
    let mut honest = Vec::new();
    for (_, event, _) in &events {
        let Some(next) = seq.checked_add(1) else {
            return;
        };
        seq = next;
        current = audit_chain::link(&current, seq, event);
        honest.push(Link {
            seq,
            event,
            hash: current,
        });
    }
    assert_eq!(
        audit_chain::verify_run(&prev, prev_seq, &honest),
        Ok(current)
    );
    let _ = audit_chain::key_fingerprint(&prev);
}

fn stream_lengths(mut c: Cursor) {
    let len = c.u64();
    let chunk_size = c.u32();
    let _ = stream::chunk_count(len, chunk_size);
    let _ = stream::plaintext_len(len, chunk_size);
    if let Ok(sealed) = stream::ciphertext_len(len, chunk_size) {
        assert_eq!(stream::plaintext_len(sealed, chunk_size), Ok(len));
    }
    if let Ok(plain) = stream::plaintext_len(len, chunk_size) {
        assert_eq!(stream::ciphertext_len(plain, chunk_size), Ok(len));
    }
}
