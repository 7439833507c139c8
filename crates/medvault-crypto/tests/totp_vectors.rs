//! Published test vectors for the second factor: RFC 4226 Appendix D (HOTP) and
//! RFC 6238 Appendix B (TOTP, SHA-1 rows), through `crypto::totp`.
//!
//! Native only: the browser cannot read the data files.
#![cfg(not(target_arch = "wasm32"))]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use hmac::{Hmac, Mac};
use medvault_crypto::totp::{self, TotpSecret};
use serde_json::Value;
use sha1::Sha1;

use common::load_vectors as load;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string"))
}

fn number(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is a number"))
}

/// The 20-byte secret both RFCs use, checked against its ASCII and hex forms.
fn secret(file: &Value) -> TotpSecret {
    let ascii = text(file, "secret_ascii").as_bytes();
    let bytes = hex::decode(text(file, "secret_hex")).unwrap();
    assert_eq!(ascii, &bytes[..]);
    TotpSecret::from_bytes(bytes.try_into().unwrap())
}

#[test]
fn rfc4226_appendix_d_hotp() {
    let file = load("rfc4226_hotp.json");
    let key = secret(&file);
    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 10);
    for (i, v) in vectors.iter().enumerate() {
        let count = number(v, "count");
        assert_eq!(count, i as u64);

        // The intermediate HMAC-SHA-1 value, so a failure says which half broke.
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(&count.to_be_bytes());
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            text(v, "hmac_sha1"),
            "HMAC, count {count}"
        );

        // 6 digits (the RFC's values) and 8 digits (the truncated value mod 10^8).
        let truncated = number(v, "truncated");
        let six: u32 = text(v, "hotp").parse().unwrap();
        assert_eq!(totp::hotp(&key, count, 6).unwrap(), six, "count {count}");
        assert_eq!(u64::from(six), truncated % 1_000_000);
        assert_eq!(
            u64::from(totp::hotp(&key, count, 8).unwrap()),
            truncated % 100_000_000,
            "count {count}"
        );
    }
}

#[test]
fn rfc6238_appendix_b_totp_sha1() {
    let file = load("rfc6238_totp_sha1.json");
    let key = secret(&file);
    assert_eq!(key.to_base32().as_str(), text(&file, "secret_base32"));
    assert_eq!(number(&file, "step_seconds"), totp::STEP_SECONDS);
    assert_eq!(number(&file, "t0"), 0);
    assert_eq!(number(&file, "digits"), 8);
    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 6);
    for v in vectors {
        let time = number(v, "time");
        let eight = text(v, "totp");
        assert_eq!(eight.len(), 8);

        // The time step T, as the RFC prints it (16 hex digits).
        assert_eq!(
            format!("{:016X}", totp::step(time)),
            text(v, "t_hex"),
            "T at {time}"
        );

        // 8 digits: the RFC's value, leading zeros included.
        let value = totp::totp(&key, time, 8).unwrap();
        assert_eq!(format!("{value:08}"), eight, "time {time}");

        // 6 digits: the last six of the 8-digit value, and what `verify` accepts.
        let six = &eight[2..];
        assert_eq!(format!("{:06}", totp::totp(&key, time, 6).unwrap()), six);
        assert_eq!(totp::code(&key, time).unwrap().as_str(), six);
        assert_eq!(totp::verify(&key, six, time, None), Ok(totp::step(time)));
    }
}

#[test]
fn rfc6238_codes_are_refused_once_their_step_is_used() {
    let file = load("rfc6238_totp_sha1.json");
    let key = secret(&file);
    for v in file["vectors"].as_array().unwrap() {
        let time = number(v, "time");
        let six = &text(v, "totp")[2..];
        let used = totp::verify(&key, six, time, None).unwrap();
        assert!(totp::verify(&key, six, time, Some(used)).is_err());
    }
}
