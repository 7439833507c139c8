//! The optional second factor: time-based one-time codes (TOTP, RFC 6238).
//!
//! A user who turns the second factor on scans a QR code into an authenticator
//! app; after OPAQUE the server asks for the app's current code. We use exactly
//! the parameters every authenticator app supports and most assume without
//! asking, so that no app can silently compute something else:
//!
//! - HOTP (RFC 4226) with HMAC-SHA1, 6 digits, over the time step
//!   `T = floor(now_unix / 30)` (RFC 6238 with T0 = 0, X = 30 s).
//!   HMAC-SHA1 is not a weakness here: HOTP relies on HMAC being a PRF, which
//!   SHA-1's collision attacks do not touch.
//! - The secret is 20 random bytes (160 bits, RFC 4226 R6's recommended length),
//!   shown to the app as RFC 4648 base32 without padding (32 symbols).
//! - Enrolment URI (Key Uri Format of Google Authenticator):
//!   `otpauth://totp/medvault:<account>?secret=<base32>&issuer=medvault&algorithm=SHA1&digits=6&period=30`,
//!   where `<account>` is the username, UTF-8, percent-encoded except for the
//!   RFC 3986 unreserved characters `A-Z a-z 0-9 - . _ ~`.
//! - The QR code is that URI in byte mode, error-correction level M, drawn as an
//!   SVG in the browser so the secret never leaves it as an image request.
//! - Verification accepts the steps `T-1`, `T`, `T+1` (±30 s of clock drift),
//!   and only a step strictly greater than the last step accepted for this user:
//!   the server stores the matched step, so a code works once.
//!
//! Nothing here reads the clock: the caller passes Unix seconds.

use hmac::{Hmac, Mac};
use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};
use sha1::Sha1;
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{rng, CryptoError};

/// Length of a TOTP secret in bytes (RFC 4226 R6 recommends 160 bits).
pub const SECRET_LEN: usize = 20;
/// Digits in a code: the default of every authenticator app.
pub const DIGITS: u32 = 6;
/// Seconds per time step (RFC 6238's default X).
pub const STEP_SECONDS: u64 = 30;
/// Steps of clock drift tolerated on either side of the current one.
pub const DRIFT_STEPS: u64 = 1;
/// The issuer shown by the authenticator app next to the account name.
pub const ISSUER: &str = "medvault";
/// QR quiet zone in modules: ISO/IEC 18004 requires four.
pub const QUIET_ZONE: i32 = 4;
/// What screen readers announce for the enrolment QR code.
pub const QR_LABEL: &str = "QR code to add medvault to an authenticator app";

/// RFC 4648 base32 alphabet (not Crockford's: authenticator apps expect this one).
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Symbols in the base32 form of a secret: 160 bits / 5.
const SECRET_SYMBOLS: usize = SECRET_LEN * 8 / 5;

/// A TOTP shared secret. Zeroized on drop; never printed or serialised.
///
/// Both the authenticator app and the server hold it (the server must, to check
/// codes), so it is a login secret of the server's, not an end-to-end key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct TotpSecret([u8; SECRET_LEN]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh random secret, for a new enrolment.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(TotpSecret(rng::bytes()?))
    }

    /// The secret for known bytes (as stored by the server, and for vectors).
    pub fn from_bytes(bytes: [u8; SECRET_LEN]) -> Self {
        TotpSecret(bytes)
    }

    /// The raw bytes, for the server to store.
    pub fn as_bytes(&self) -> &[u8; SECRET_LEN] {
        &self.0
    }

    /// RFC 4648 base32, upper case, no padding: the `secret=` of the URI and
    /// what a user types into an app that cannot scan.
    pub fn to_base32(&self) -> Zeroizing<String> {
        base32_encode(&self.0)
    }

    /// Reads the base32 form back: exactly 32 symbols, either case, no padding
    /// or spaces. Anything else is [`CryptoError::Malformed`].
    pub fn from_base32(text: &str) -> Result<Self, CryptoError> {
        let symbols = text.as_bytes();
        if symbols.len() != SECRET_SYMBOLS {
            return Err(CryptoError::Malformed);
        }
        let mut out = TotpSecret([0u8; SECRET_LEN]);
        // 40 bits = 8 symbols = 5 bytes per block; 160 bits divide evenly, so
        // there are no leftover bits to check for canonical form.
        for (block, chunk) in out.0.chunks_exact_mut(5).zip(symbols.chunks_exact(8)) {
            let mut acc: u64 = 0;
            for &c in chunk {
                acc = (acc << 5) | u64::from(base32_value(c).ok_or(CryptoError::Malformed)?);
            }
            block.copy_from_slice(&acc.to_be_bytes()[3..]);
            acc.zeroize();
        }
        Ok(out)
    }
}

fn base32_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

/// RFC 4648 §6 base32 of any byte string, without the `=` padding (the Key Uri
/// Format asks for none).
fn base32_encode(data: &[u8]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(data.len().div_ceil(5) * 8));
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(BASE32[((acc << (5 - bits)) & 31) as usize]));
    }
    acc.zeroize();
    out
}

/// The time step of a moment: RFC 6238's `T = floor((now - T0) / X)`, T0 = 0.
pub fn step(now_unix: u64) -> u64 {
    now_unix / STEP_SECONDS
}

/// HOTP (RFC 4226 §5.3): HMAC-SHA1 of the 8-byte big-endian counter, dynamic
/// truncation to 31 bits, reduced to `digits` decimal digits.
///
/// Public with a digit count so the published 6- and 8-digit vectors can be
/// checked; medvault itself always uses [`DIGITS`]. `digits` outside 6..=8
/// (RFC 4226's range) is [`CryptoError::Malformed`].
pub fn hotp(secret: &TotpSecret, counter: u64, digits: u32) -> Result<u32, CryptoError> {
    if !(6..=8).contains(&digits) {
        return Err(CryptoError::Malformed);
    }
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(&secret.0).map_err(|_| CryptoError::Unavailable)?;
    mac.update(&counter.to_be_bytes());
    let mut hs = Zeroizing::new([0u8; 20]);
    hs.copy_from_slice(&mac.finalize().into_bytes());
    // The low nibble of the last byte picks the offset (0..=15, so offset + 3 ≤ 18).
    let offset = usize::from(hs[19] & 0x0f);
    let binary = u32::from_be_bytes([hs[offset], hs[offset + 1], hs[offset + 2], hs[offset + 3]])
        & 0x7fff_ffff;
    Ok(binary % 10u32.pow(digits))
}

/// TOTP (RFC 6238 §4.2): HOTP over the current time step.
pub fn totp(secret: &TotpSecret, now_unix: u64, digits: u32) -> Result<u32, CryptoError> {
    hotp(secret, step(now_unix), digits)
}

/// The 6-digit code an authenticator app shows at `now_unix`, with leading
/// zeros (for tests and for a server-side test harness; the app computes its own).
pub fn code(secret: &TotpSecret, now_unix: u64) -> Result<Zeroizing<String>, CryptoError> {
    let digits = code_digits(hotp(secret, step(now_unix), DIGITS)?);
    let text = digits.iter().map(|&d| char::from(d)).collect::<String>();
    Ok(Zeroizing::new(text))
}

/// A code as its 6 ASCII digits, most significant first, with leading zeros.
fn code_digits(mut value: u32) -> [u8; DIGITS as usize] {
    let mut out = [b'0'; DIGITS as usize];
    for slot in out.iter_mut().rev() {
        // `value % 10` is below 10, so the cast cannot truncate.
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out
}

/// Reads a typed code: exactly six ASCII digits, or three, one space, three
/// (the grouping many apps display). No other whitespace and no non-ASCII
/// digits (`"١٢٣٤٥٦"`): what a user cannot type on every keyboard is refused
/// rather than guessed at.
fn parse_code(code: &str) -> Option<[u8; DIGITS as usize]> {
    let bytes = code.as_bytes();
    let mut out = [0u8; DIGITS as usize];
    let (head, tail) = match bytes.len() {
        6 => bytes.split_at(3),
        7 if bytes.get(3) == Some(&b' ') => (bytes.get(..3)?, bytes.get(4..)?),
        _ => return None,
    };
    for (slot, &b) in out.iter_mut().zip(head.iter().chain(tail)) {
        if !b.is_ascii_digit() {
            return None;
        }
        *slot = b;
    }
    Some(out)
}

/// Checks a code typed by the user and returns the time step it matched, which
/// the server must store as the new `last_used_step` (replay protection).
///
/// Accepts the steps `T-1`, `T`, `T+1` around `T = step(now_unix)`, but only
/// those strictly greater than `last_used_step`, so a code (or an older one
/// seen over a shoulder) works once. The three candidates are all computed and
/// compared in constant time, so timing does not tell which step matched.
///
/// Errors: [`CryptoError::Malformed`] if `code` is not six ASCII digits (with at
/// most one space in the middle), so the app can say "type the six digits";
/// [`CryptoError::Login`] for a wrong, expired or replayed code — the same error
/// for all three, deliberately: a replay must not look different from a typo.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    now_unix: u64,
    last_used_step: Option<u64>,
) -> Result<u64, CryptoError> {
    let typed = parse_code(code).ok_or(CryptoError::Malformed)?;
    let current = step(now_unix);
    let first = current.saturating_sub(DRIFT_STEPS);
    let last = current.saturating_add(DRIFT_STEPS);
    let mut matched = 0u64;
    let mut found = subtle::Choice::from(0u8);
    for candidate in first..=last {
        // Steps already used (or older) are not candidates at all; whether they
        // are skipped depends only on public data, not on the secret.
        if last_used_step.is_some_and(|used| candidate <= used) {
            continue;
        }
        let expected = code_digits(hotp(secret, candidate, DIGITS)?);
        let hit = expected.ct_eq(&typed);
        matched.conditional_assign(&candidate, hit);
        found |= hit;
    }
    if bool::from(found) {
        Ok(matched)
    } else {
        Err(CryptoError::Login)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, byte by
/// byte of the UTF-8 form (what `encodeURIComponent` does, minus its extras).
fn percent_encode(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// The enrolment URI for an authenticator app (Google Authenticator's Key Uri
/// Format). It carries the secret, hence the zeroizing string.
///
/// The parameters that are already the defaults (`algorithm`, `digits`,
/// `period`) are spelled out anyway: some apps ignore defaults they disagree with.
pub fn otpauth_uri(secret: &TotpSecret, account: &str) -> Zeroizing<String> {
    let mut uri = Zeroizing::new(String::with_capacity(128 + 3 * account.len()));
    uri.push_str("otpauth://totp/");
    percent_encode(ISSUER, &mut uri);
    uri.push(':');
    percent_encode(account, &mut uri);
    uri.push_str("?secret=");
    uri.push_str(&secret.to_base32());
    uri.push_str("&issuer=");
    percent_encode(ISSUER, &mut uri);
    uri.push_str("&algorithm=SHA1&digits=");
    uri.push_str(&DIGITS.to_string());
    uri.push_str("&period=");
    uri.push_str(&STEP_SECONDS.to_string());
    uri
}

/// The QR symbol for `uri`: byte mode, exactly error-correction level M (15 %
/// of the symbol may be damaged, e.g. by a screen glare), smallest version.
fn qr_code(uri: &str) -> Result<QrCode, CryptoError> {
    let segments = [QrSegment::make_bytes(uri.as_bytes())];
    QrCode::encode_segments_advanced(
        &segments,
        QrCodeEcc::Medium,
        Version::MIN,
        Version::MAX,
        None,
        false,
    )
    .map_err(|_| CryptoError::Malformed)
}

/// Draws `uri` as a standalone SVG QR code for the enrolment page.
///
/// Drawn here rather than fetched as an image so the secret never appears in
/// a URL, a cache or a server log. The SVG has a `viewBox` in modules (the
/// symbol plus a 4-module quiet zone on every side) and no fixed size, so CSS
/// sizes it; colours are `fill` attributes because the app's Content Security
/// Policy forbids inline styles. One white `<rect>` makes the background (QR
/// readers need light around dark, whatever the page's theme), one `<path>`
/// holds every dark module, one horizontal run per subpath.
///
/// The output depends only on `uri`. It encodes the secret, so it is as secret
/// as the URI: show it once, do not store it. Errors with
/// [`CryptoError::Malformed`] only if `uri` is too long for any QR version.
pub fn qr_svg(uri: &str) -> Result<String, CryptoError> {
    use std::fmt::Write as _;

    let qr = qr_code(uri)?;
    let size = qr.size();
    let full = size + 2 * QUIET_ZONE;
    let mut path = String::with_capacity(usize::try_from(size * size).unwrap_or(0) * 4);
    for y in 0..size {
        let mut x = 0;
        while x < size {
            if !qr.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < size && qr.get_module(x, y) {
                x += 1;
            }
            // Writing to a String cannot fail.
            let _ = write!(
                path,
                "M{},{}h{}v1h-{}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE,
                x - start,
                x - start
            );
        }
    }
    let mut svg = String::with_capacity(path.len() + 320);
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" \
         role=\"img\" aria-label=\"{QR_LABEL}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{full}\" height=\"{full}\" fill=\"#ffffff\"/>\
         <path d=\"{path}\" fill=\"#000000\"/></svg>"
    );
    path.zeroize();
    Ok(svg)
}

#[cfg(test)]
mod tests;
