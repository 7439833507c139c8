//! Accounts: sign-up, sign-in, sessions, second factor, password change and
//! recovery. Every message is fixed by `docs/PROTOCOL.md` section 15; the OPAQUE
//! messages inside are the byte strings of section 5, base64url without padding.
//!
//! Every call that changes state is a POST and goes through [`super::ApiClient`],
//! which adds the [`super::CSRF_HEADER`]; the server refuses a POST without it or
//! with a foreign `Origin`.

//!
//! One file per flow, each with its messages and server functions; this file
//! re-exports them all, so every path stays `shared::api::account::…`, and
//! holds the trait the server implements.

mod login;
mod password;
mod recovery;
mod second_factor;
mod session;
mod signup;

pub use login::*;
pub use password::*;
pub use recovery::*;
pub use second_factor::*;
pub use session::*;
pub use signup::*;

#[cfg(feature = "ssr")]
use super::ApiError;

/// The server side of the account calls. `caller` carries the session cookie,
/// the client address and the cookie to set.
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AccountBackend {
    /// Whether open sign-up is on.
    async fn signup_policy(&self) -> Result<SignupSettings, ApiError>;
    /// Looks an invite up without using it.
    async fn invite_info(
        &self,
        caller: &super::Caller,
        code: String,
    ) -> Result<InviteDetails, ApiError>;
    /// First sign-up step.
    async fn signup_start(
        &self,
        caller: &super::Caller,
        req: SignupStartRequest,
    ) -> Result<SignupStarted, ApiError>;
    /// Second sign-up step: creates the account and signs it in.
    async fn signup_finish(
        &self,
        caller: &super::Caller,
        req: SignupFinishRequest,
    ) -> Result<SessionInfo, ApiError>;
    /// First sign-in step.
    async fn login_start(
        &self,
        caller: &super::Caller,
        req: LoginStartRequest,
    ) -> Result<LoginStarted, ApiError>;
    /// Second sign-in step.
    async fn login_finish(
        &self,
        caller: &super::Caller,
        req: LoginFinishRequest,
    ) -> Result<LoginOutcome, ApiError>;
    /// The TOTP step of a sign-in.
    async fn login_second_factor(
        &self,
        caller: &super::Caller,
        req: SecondFactorRequest,
    ) -> Result<SignedIn, ApiError>;
    /// The caller's session, or `None` when signed out.
    async fn current_session(
        &self,
        caller: &super::Caller,
    ) -> Result<Option<SessionInfo>, ApiError>;
    /// Ends the caller's session.
    async fn logout(&self, caller: &super::Caller) -> Result<(), ApiError>;
    /// Ends every session of the caller's account, this one included.
    async fn logout_everywhere(&self, caller: &super::Caller) -> Result<SessionsEnded, ApiError>;
    /// The account's active sessions.
    async fn sessions(&self, caller: &super::Caller) -> Result<Vec<SessionSummary>, ApiError>;
    /// Ends one of the account's sessions by its public id.
    async fn revoke_session(&self, caller: &super::Caller, id: String) -> Result<(), ApiError>;
    /// First password-change step.
    async fn password_change_start(
        &self,
        caller: &super::Caller,
        req: PasswordChangeStartRequest,
    ) -> Result<PasswordChangeStarted, ApiError>;
    /// Second password-change step.
    async fn password_change_finish(
        &self,
        caller: &super::Caller,
        req: PasswordChangeFinishRequest,
    ) -> Result<SessionsEnded, ApiError>;
    /// First recovery step.
    async fn recovery_start(
        &self,
        caller: &super::Caller,
        req: RecoveryStartRequest,
    ) -> Result<RecoveryStarted, ApiError>;
    /// Second recovery step.
    async fn recovery_finish(
        &self,
        caller: &super::Caller,
        req: RecoveryFinishRequest,
    ) -> Result<Recovered, ApiError>;
    /// First step of turning TOTP on: the password proof's KE2.
    async fn totp_enable_start(
        &self,
        caller: &super::Caller,
        req: TotpEnableStartRequest,
    ) -> Result<TotpEnableStarted, ApiError>;
    /// Turns TOTP on; needs the password proof from [`AccountBackend::totp_enable_start`].
    async fn totp_enable(
        &self,
        caller: &super::Caller,
        req: TotpEnableRequest,
    ) -> Result<SessionInfo, ApiError>;
    /// Turns TOTP off; needs a current code.
    async fn totp_disable(
        &self,
        caller: &super::Caller,
        code: String,
    ) -> Result<SessionInfo, ApiError>;
    /// First step of replacing the recovery code.
    async fn recovery_code_start(
        &self,
        caller: &super::Caller,
        req: RecoveryCodeStartRequest,
    ) -> Result<RecoveryCodeStarted, ApiError>;
    /// Second step: the new recovery verifier and keyring replace the old ones.
    async fn recovery_code_finish(
        &self,
        caller: &super::Caller,
        req: RecoveryCodeFinishRequest,
    ) -> Result<(), ApiError>;
}
