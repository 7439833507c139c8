//! Accounts: sign-up, sign-in, sessions, second factor, password change and
//! recovery. Every message is fixed by `docs/PROTOCOL.md` section 15; the OPAQUE
//! messages inside are the byte strings of section 5, base64url without padding.
//!
//! Every call that changes state is a POST and goes through [`super::ApiClient`],
//! which adds the [`super::CSRF_HEADER`]; the server refuses a POST without it or
//! with a foreign `Origin`.

//!
//! One file per flow, each with its messages, its server functions and the
//! trait the server implements for it; this file re-exports them all, so every
//! path stays `shared::api::account::…`.

mod delete;
mod login;
mod password;
mod pins;
mod recovery;
mod recovery_code;
mod role;
mod second_factor;
mod session;
mod signup;

pub use delete::*;
pub use login::*;
pub use password::*;
pub use pins::*;
pub use recovery::*;
pub use recovery_code::*;
pub use role::*;
pub use second_factor::*;
pub use session::*;
pub use signup::*;

/// Everything the server implements for the account calls: one trait per
/// flow, each beside its messages, so the server implements each flow in a
/// file of its own.
#[cfg(feature = "ssr")]
pub trait AccountBackend:
    SignupBackend
    + LoginBackend
    + SessionBackend
    + PasswordBackend
    + RecoveryBackend
    + RecoveryCodeBackend
    + SecondFactorBackend
    + PinsBackend
    + DeleteAccountBackend
    + KeyEntryBackend
{
}

#[cfg(feature = "ssr")]
impl<T> AccountBackend for T where
    T: SignupBackend
        + LoginBackend
        + SessionBackend
        + PasswordBackend
        + RecoveryBackend
        + RecoveryCodeBackend
        + SecondFactorBackend
        + PinsBackend
        + DeleteAccountBackend
        + KeyEntryBackend
{
}
