//! The checks and answers that every account flow shares: malformed input,
//! wrong credentials, a disabled account, and the server's last OPAQUE login
//! step. A leaf module, so the flows and the password proof can all use it
//! without using each other.

use shared::{
    account::Username,
    api::{ApiError, ErrorCode},
    crypto::{keyring, opaque, CryptoError},
};

use crate::backend::internal;

pub(super) fn wrong_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "The username or password is not right.",
    )
}

pub(super) fn disabled() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "This account has been disabled. Contact your administrator.",
    )
}

pub(super) fn malformed(what: &str) -> ApiError {
    ApiError::bad_request(format!("The {what} is malformed."))
}

pub(super) fn parse_username(text: &str) -> Result<Username, ApiError> {
    Username::parse(text).map_err(|e| ApiError::bad_request(format!("{e}.")))
}

pub(super) fn check_keyring_len(bytes: &[u8], what: &str) -> Result<(), ApiError> {
    // Version 2 (names the record) or version 1 (accounts made before it).
    if bytes.len() == keyring::SEALED_LEN || bytes.len() == keyring::SEALED_LEN_V1 {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "The {what} must be {} bytes (or {} for a keyring made before version 2).",
            keyring::SEALED_LEN,
            keyring::SEALED_LEN_V1
        )))
    }
}

pub(super) fn now_u64(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0)
}

/// The server's last OPAQUE login step on a pending state: KE3 of the wrong length
/// is a malformed request, a state that does not decode is our fault, and the
/// inner result says whether the client proved the password.
pub(super) fn finish_login(state: &[u8], ke3: &[u8]) -> Result<Result<(), CryptoError>, ApiError> {
    if ke3.len() != opaque::CREDENTIAL_FINALIZATION_LEN {
        return Err(malformed("KE3 message"));
    }
    let state = opaque::ServerLoginState::from_bytes(state)
        .map_err(|_| internal("pending login state is corrupt"))?;
    Ok(state.finish(ke3).map(drop))
}
