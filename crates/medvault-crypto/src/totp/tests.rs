//! TOTP: base32, RFC 4226 values, the one-step drift window, replays, the
//! otpauth URI and the QR code, with the `fail_*` cases.

use super::*;

/// RFC 6238 / RFC 4226's test secret.
fn rfc_secret() -> TotpSecret {
    TotpSecret::from_bytes(*b"12345678901234567890")
}

fn code_at(secret: &TotpSecret, t: u64) -> String {
    code(secret, t).unwrap().to_string()
}

#[test]
fn generated_secrets_differ() {
    let a = TotpSecret::generate().unwrap();
    let b = TotpSecret::generate().unwrap();
    assert_ne!(a.as_bytes(), b.as_bytes());
}

#[test]
fn debug_is_redacted() {
    let s = rfc_secret();
    let shown = format!("{s:?}");
    assert_eq!(shown, "TotpSecret(<redacted>)");
    assert!(!shown.contains("GEZD"));
}

#[test]
fn base32_rfc4648_section10_vectors_without_padding() {
    for (input, expected) in [
        ("", ""),
        ("f", "MY"),
        ("fo", "MZXQ"),
        ("foo", "MZXW6"),
        ("foob", "MZXW6YQ"),
        ("fooba", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI"),
    ] {
        assert_eq!(base32_encode(input.as_bytes()).as_str(), expected);
    }
}

#[test]
fn base32_round_trip() {
    let s = rfc_secret();
    assert_eq!(s.to_base32().as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    let back = TotpSecret::from_base32(&s.to_base32()).unwrap();
    assert_eq!(back.as_bytes(), s.as_bytes());
    let lower = TotpSecret::from_base32("gezdgnbvgy3tqojqgezdgnbvgy3tqojq").unwrap();
    assert_eq!(lower.as_bytes(), s.as_bytes());
    for _ in 0..32 {
        let r = TotpSecret::generate().unwrap();
        let b32 = r.to_base32();
        assert_eq!(b32.len(), 32);
        assert_eq!(
            TotpSecret::from_base32(&b32).unwrap().as_bytes(),
            r.as_bytes()
        );
    }
}

#[test]
fn fail_base32_malformed() {
    for bad in [
        "",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQA",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ=",
        "GEZDGNBV GY3TQOJQGEZDGNBVGY3TQOJ",
    ] {
        assert_eq!(
            TotpSecret::from_base32(bad).err(),
            Some(CryptoError::Malformed),
            "{bad:?}"
        );
    }
}

#[test]
fn hotp_rfc4226_first_values() {
    let s = rfc_secret();
    assert_eq!(hotp(&s, 0, 6).unwrap(), 755224);
    assert_eq!(hotp(&s, 1, 6).unwrap(), 287082);
    assert_eq!(hotp(&s, 9, 6).unwrap(), 520489);
}

#[test]
fn fail_hotp_digit_count_out_of_range() {
    let s = rfc_secret();
    for d in [0, 5, 9, 10, 32] {
        assert_eq!(hotp(&s, 0, d), Err(CryptoError::Malformed));
    }
}

#[test]
fn code_keeps_leading_zeros() {
    // RFC 6238: T = 1111111109 gives 07081804, so the 6-digit code is 081804.
    assert_eq!(code_at(&rfc_secret(), 1_111_111_109), "081804");
    assert_eq!(code_digits(42), *b"000042");
    assert_eq!(code_digits(0), *b"000000");
}

#[test]
fn current_code_accepted_and_step_returned() {
    let s = rfc_secret();
    let now = 1_234_567_890;
    let c = code_at(&s, now);
    assert_eq!(verify(&s, &c, now, None), Ok(step(now)));
    assert_eq!(verify(&s, &c, now, Some(step(now) - 1)), Ok(step(now)));
}

#[test]
fn code_with_a_space_in_the_middle_accepted() {
    let s = rfc_secret();
    let now = 1_234_567_890;
    let c = code_at(&s, now);
    let spaced = format!("{} {}", &c[..3], &c[3..]);
    assert_eq!(verify(&s, &spaced, now, None), Ok(step(now)));
}

#[test]
fn drift_of_one_step_accepted_either_way() {
    let s = rfc_secret();
    let now = 2_000_000_000;
    let old = code_at(&s, now - STEP_SECONDS);
    let new = code_at(&s, now + STEP_SECONDS);
    assert_eq!(verify(&s, &old, now, None), Ok(step(now) - 1));
    assert_eq!(verify(&s, &new, now, None), Ok(step(now) + 1));
}

#[test]
fn fail_code_two_steps_old() {
    let s = rfc_secret();
    let now = 2_000_000_000;
    let c = code_at(&s, now - 2 * STEP_SECONDS);
    assert_eq!(verify(&s, &c, now, None), Err(CryptoError::Login));
}

#[test]
fn fail_code_two_steps_ahead() {
    let s = rfc_secret();
    let now = 2_000_000_000;
    let c = code_at(&s, now + 2 * STEP_SECONDS);
    assert_eq!(verify(&s, &c, now, None), Err(CryptoError::Login));
}

#[test]
fn fail_replayed_code() {
    let s = rfc_secret();
    let now = 1_111_111_111;
    let c = code_at(&s, now);
    let used = verify(&s, &c, now, None).unwrap();
    // Same code again, in the same step and in the next one (still in the window).
    assert_eq!(verify(&s, &c, now, Some(used)), Err(CryptoError::Login));
    assert_eq!(
        verify(&s, &c, now + STEP_SECONDS, Some(used)),
        Err(CryptoError::Login)
    );
    // An older code within the window is refused once a newer step was used.
    let older = code_at(&s, now - STEP_SECONDS);
    assert_eq!(verify(&s, &older, now, Some(used)), Err(CryptoError::Login));
    // The next step's code is still fine.
    let next = code_at(&s, now + STEP_SECONDS);
    assert_eq!(verify(&s, &next, now, Some(used)), Ok(used + 1));
}

#[test]
fn fail_wrong_code() {
    let s = rfc_secret();
    let now = 1_234_567_890;
    let right = code_at(&s, now);
    let window: Vec<String> = (0..3)
        .map(|i| code_at(&s, now - STEP_SECONDS + i * STEP_SECONDS))
        .collect();
    let wrong = (0..1_000_000u32)
        .map(|n| format!("{n:06}"))
        .find(|c| !window.contains(c))
        .unwrap();
    assert_ne!(wrong, right);
    assert_eq!(verify(&s, &wrong, now, None), Err(CryptoError::Login));
    // The right code under another secret is wrong too.
    let other = TotpSecret::from_bytes([7u8; SECRET_LEN]);
    if !(0..3)
        .map(|i| code_at(&other, now - STEP_SECONDS + i * STEP_SECONDS))
        .any(|c| c == right)
    {
        assert_eq!(verify(&other, &right, now, None), Err(CryptoError::Login));
    }
}

#[test]
fn fail_malformed_code() {
    let s = rfc_secret();
    let now = 1_234_567_890;
    let c = code_at(&s, now);
    let cases = [
        c[..5].to_string(),
        format!("{c}0"),
        "12a456".to_string(),
        "abcdef".to_string(),
        String::new(),
        "١٢٣٤٥٦".to_string(),
        "１２３４５６".to_string(),
        format!(" {c}"),
        format!("{c} "),
        format!("{c}\n"),
        format!("{}  {}", &c[..3], &c[3..]),
        format!("{}-{}", &c[..3], &c[3..]),
        format!("{} {}", &c[..2], &c[2..]),
        "+12345".to_string(),
        "-12345".to_string(),
    ];
    for bad in &cases {
        assert_eq!(
            verify(&s, bad, now, None),
            Err(CryptoError::Malformed),
            "{bad:?}"
        );
    }
}

#[test]
fn window_at_the_start_of_time() {
    // Step 0 has no step before it; nothing underflows.
    let s = rfc_secret();
    let c = code_at(&s, 0);
    assert_eq!(verify(&s, &c, 0, None), Ok(0));
    assert_eq!(verify(&s, &c, 29, None), Ok(0));
    assert_eq!(verify(&s, &c, 0, Some(0)), Err(CryptoError::Login));
}

#[test]
fn window_at_the_end_of_time() {
    let s = rfc_secret();
    let c = code_at(&s, u64::MAX);
    assert_eq!(verify(&s, &c, u64::MAX, None), Ok(step(u64::MAX)));
}

#[test]
fn uri_format() {
    let s = rfc_secret();
    assert_eq!(
        otpauth_uri(&s, "alice").as_str(),
        "otpauth://totp/medvault:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
         &issuer=medvault&algorithm=SHA1&digits=6&period=30"
    );
}

#[test]
fn uri_percent_encodes_the_account() {
    let s = rfc_secret();
    let uri = otpauth_uri(&s, "Dr. Zoë Ng:1/2?&#%+~_-");
    assert!(
        uri.starts_with(
            "otpauth://totp/medvault:Dr.%20Zo%C3%AB%20Ng%3A1%2F2%3F%26%23%25%2B~_-?secret="
        ),
        "{}",
        uri.as_str()
    );
    // Exactly one '?' and one ':' after the scheme: the account cannot
    // inject parameters or a second issuer prefix.
    assert_eq!(uri.matches('?').count(), 1);
    assert_eq!(uri["otpauth://".len()..].matches(':').count(), 1);
    assert!(uri.is_ascii());
}

fn enrolment_uri() -> Zeroizing<String> {
    otpauth_uri(&rfc_secret(), "patient.alice")
}

#[test]
fn qr_version_and_size_are_sane() {
    let uri = enrolment_uri();
    let qr = qr_code(&uri).unwrap();
    let version = i32::from(qr.version().value());
    // ~110 bytes at level M: version 6 or 7, not a wall of modules.
    assert!((5..=8).contains(&version), "version {version}");
    assert_eq!(qr.size(), 4 * version + 17);
    assert_eq!(qr.error_correction_level(), QrCodeEcc::Medium);
    let full = qr.size() + 2 * QUIET_ZONE;
    let svg = qr_svg(&uri).unwrap();
    assert!(svg.contains(&format!("viewBox=\"0 0 {full} {full}\"")));
    // A long username still gives a symbol a phone camera reads easily...
    let long = otpauth_uri(&rfc_secret(), &"a".repeat(64));
    let v = qr_code(&long).unwrap().version().value();
    assert!(v <= 10, "version {v}");
    // ...and even 64 non-ASCII letters (6 URI bytes each) stay well inside QR's range.
    let wide = otpauth_uri(&rfc_secret(), &"ü".repeat(64));
    let v = qr_code(&wide).unwrap().version().value();
    assert!(v <= 20, "version {v}");
}

#[test]
fn svg_has_no_style_and_is_labelled() {
    let svg = qr_svg(&enrolment_uri()).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>"));
    assert!(!svg.to_ascii_lowercase().contains("style"));
    assert!(svg.contains("role=\"img\""));
    assert!(svg.contains(&format!("aria-label=\"{QR_LABEL}\"")));
    assert_eq!(svg.matches("<path").count(), 1);
    assert!(svg.contains("fill=\"#000000\""));
}

#[test]
fn svg_dark_modules_match_the_symbol() {
    // The path's runs cover exactly the dark modules, offset by the quiet zone.
    let uri = enrolment_uri();
    let qr = qr_code(&uri).unwrap();
    let svg = qr_svg(&uri).unwrap();
    let d = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
    let mut dark = 0;
    for run in d.split('M').filter(|r| !r.is_empty()) {
        let (xy, rest) = run.split_once('h').unwrap();
        let (x, y) = xy.split_once(',').unwrap();
        let (x, y): (i32, i32) = (x.parse().unwrap(), y.parse().unwrap());
        let len: i32 = rest.split_once('v').unwrap().0.parse().unwrap();
        for i in 0..len {
            assert!(qr.get_module(x - QUIET_ZONE + i, y - QUIET_ZONE));
        }
        assert!(x >= QUIET_ZONE && y >= QUIET_ZONE);
        dark += len;
    }
    let expected = (0..qr.size())
        .flat_map(|y| (0..qr.size()).map(move |x| (x, y)))
        .filter(|&(x, y)| qr.get_module(x, y))
        .count();
    assert_eq!(dark as usize, expected);
}

#[test]
fn svg_is_deterministic() {
    let uri = enrolment_uri();
    assert_eq!(qr_svg(&uri).unwrap(), qr_svg(&uri).unwrap());
    let other = otpauth_uri(&rfc_secret(), "patient.bob");
    assert_ne!(qr_svg(&uri).unwrap(), qr_svg(&other).unwrap());
}

#[test]
fn fail_qr_too_long() {
    let huge = "x".repeat(4000);
    assert_eq!(qr_svg(&huge), Err(CryptoError::Malformed));
}
