//! The app's one way to the server: the server functions of every area from
//! `shared` (pages and tasks import them from here, not from `shared::api`), and the
//! sentences the user reads when a call or a browser-side step fails.

use shared::api::{ApiError, ErrorCode};
use shared::crypto::CryptoError;

pub use shared::api::system::{health, HealthReport};
pub use shared::api::{account, admin, audit, directory, notifications, records, sharing};

/// The sentence for a wrong username or password. The browser finds a wrong
/// password itself (OPAQUE fails before anything is sent); it says exactly what the
/// server says for an unknown user, so the two cannot be told apart.
pub const WRONG_LOGIN: &str = "The username or password is not right.";

/// What to tell a person when a call failed: what happened and what to do next.
pub fn explain(error: &ApiError) -> String {
    match error.code {
        ErrorCode::Unavailable => {
            "We could not reach the medvault server. Check your internet connection, then try again."
                .to_owned()
        }
        ErrorCode::Internal => {
            "The server ran into a problem. Try again in a minute; if it keeps happening, contact your administrator."
                .to_owned()
        }
        ErrorCode::RequestTimeout => {
            "The connection was too slow and the server stopped waiting. Check your internet connection, then try again."
                .to_owned()
        }
        ErrorCode::TooManyRequests => error.message.clone(),
        _ => error.message.clone(),
    }
}

/// What to tell a person when a step in this browser failed. `context` says
/// which flow it was, since the same error means different things in each.
pub fn explain_crypto(error: CryptoError, context: Flow) -> String {
    match (error, context) {
        (CryptoError::Login, Flow::PasswordChange) => {
            "The current password is not right. Type it again.".to_owned()
        }
        (CryptoError::Login, Flow::SecondFactor) => {
            "The password is not right. Type the password you sign in with.".to_owned()
        }
        (CryptoError::Login, _) => WRONG_LOGIN.to_owned(),
        (CryptoError::RecoveryCode, _) => {
            "The recovery code is not valid. Check it for typos: it has 56 letters and digits in groups of 4.".to_owned()
        }
        (CryptoError::Decrypt, Flow::Recovery) => {
            "This recovery code does not open this account. Check the username and the code.".to_owned()
        }
        (CryptoError::Unavailable, _) => {
            "This browser could not provide secure random numbers. Use an up-to-date browser and try again.".to_owned()
        }
        (CryptoError::BadSignature, _) | (CryptoError::Decrypt, _) => {
            "The server's answer did not match your keys, so nothing was opened. Try again; if it keeps happening, contact your administrator.".to_owned()
        }
        _ => "Something in the server's answer was not in the expected form. Reload the page and try again.".to_owned(),
    }
}

/// Which flow a browser-side error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Sign-up.
    Signup,
    /// Sign-in.
    Login,
    /// Password change.
    PasswordChange,
    /// Turning the second factor on (it proves the password).
    SecondFactor,
    /// Account recovery.
    Recovery,
    /// Looking keys up or signing them.
    Directory,
}
