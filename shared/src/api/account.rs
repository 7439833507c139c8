//! Accounts: sign-up, sign-in, sessions, second factor, password change and
//! recovery. Every message is fixed by `docs/PROTOCOL.md` section 15; the OPAQUE
//! messages inside are the byte strings of section 5, base64url without padding.
//!
//! Every call that changes state is a POST and goes through [`super::ApiClient`],
//! which adds the [`super::CSRF_HEADER`]; the server refuses a POST without it or
//! with a foreign `Origin`.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::ApiError;
use crate::crypto::{
    b64,
    sign::{KeyEntry, Role, Signature, Signed, VerifyingKey},
    Id,
};

/// What the signed-in user is, as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The account's id.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// The account's (normalised) username.
    pub username: String,
    /// The account's role, as the server recorded it at sign-up.
    pub role: Role,
    /// Whether a TOTP second factor is on.
    pub totp_enabled: bool,
    /// When this session ends at the latest, Unix seconds.
    pub expires_at: i64,
    /// Seconds without a request after which the session ends.
    pub idle_timeout_secs: u64,
}

/// What the sign-up page needs to know before it asks anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupSettings {
    /// Whether patients may create an account without an invite.
    pub open_signup: bool,
}

/// An invite as the sign-up page shows it, before it is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteDetails {
    /// The role the invite creates.
    pub role: Role,
    /// When the invite stops working, Unix seconds.
    pub expires_at: i64,
}

/// First sign-up message: the chosen username and the OPAQUE registration request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupStartRequest {
    /// The username as typed; the server normalises it (`account::Username`).
    pub username: String,
    /// The invite code from the invite link, if any. Without one the account is a
    /// patient's, and only while open sign-up is on.
    pub invite: Option<String>,
    /// OPAQUE `RegistrationRequest` (32 bytes).
    #[serde(with = "b64::vec")]
    pub registration_request: Vec<u8>,
}

/// The server's answer to [`SignupStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupStarted {
    /// Names this pending sign-up in [`SignupFinishRequest`]; valid for 10 minutes.
    #[serde(with = "b64::array")]
    pub registration_id: Id,
    /// The id the new account will have; the keyring and key entry bind it.
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// The normalised username the key entry must carry.
    pub username: String,
    /// The role the account will have (from the invite, or patient).
    pub role: Role,
    /// OPAQUE `RegistrationResponse` (64 bytes).
    #[serde(with = "b64::vec")]
    pub registration_response: Vec<u8>,
}

/// Second sign-up message: everything the browser made from the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupFinishRequest {
    /// From [`SignupStarted`].
    #[serde(with = "b64::array")]
    pub registration_id: Id,
    /// OPAQUE `RegistrationUpload` (192 bytes).
    #[serde(with = "b64::vec")]
    pub registration_upload: Vec<u8>,
    /// The public key entry, self-signed; its user id, username and role must be
    /// the ones in [`SignupStarted`].
    pub key_entry: Signed<KeyEntry>,
    /// The keyring sealed under the password's export key (`keyring::SEALED_LEN`).
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
    /// The keyring sealed under the recovery secret (`keyring::SEALED_LEN`).
    #[serde(with = "b64::vec")]
    pub recovery_keyring: Vec<u8>,
    /// Verifies recovery proofs (`recovery::RecoverySecret::verifier`).
    pub recovery_verifier: VerifyingKey,
}

/// First sign-in message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginStartRequest {
    /// The username as typed.
    pub username: String,
    /// OPAQUE `KE1` (96 bytes).
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
}

/// The server's answer to [`LoginStartRequest`]; the same shape for unknown users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginStarted {
    /// Names this attempt in [`LoginFinishRequest`]; single use, valid for 2 minutes.
    #[serde(with = "b64::array")]
    pub login_id: Id,
    /// OPAQUE `KE2` (320 bytes).
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
}

/// Second sign-in message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFinishRequest {
    /// From [`LoginStarted`].
    #[serde(with = "b64::array")]
    pub login_id: Id,
    /// OPAQUE `KE3` (64 bytes).
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
}

/// A complete sign-in: the session cookie is set, and the browser gets what it
/// needs to unseal its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// The new session.
    pub session: SessionInfo,
    /// The account's own key entry, to check the unsealed keys against.
    pub key_entry: Signed<KeyEntry>,
    /// The keyring sealed under the password's export key.
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
}

/// What [`login_finish`] leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginOutcome {
    /// Signed in; no second factor is on.
    SignedIn(Box<SignedIn>),
    /// The password was right; now send the TOTP code with [`login_second_factor`]
    /// within 5 minutes.
    SecondFactor {
        /// Names the half-finished sign-in.
        #[serde(with = "b64::array")]
        pending_id: Id,
    },
}

/// The TOTP step of a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorRequest {
    /// From [`LoginOutcome::SecondFactor`].
    #[serde(with = "b64::array")]
    pub pending_id: Id,
    /// The six digits from the authenticator app.
    pub code: String,
}

/// One of the account's active sessions, for "where am I signed in".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// A public handle for the session (not its token), for [`revoke_session`].
    pub id: String,
    /// When it began, Unix seconds.
    pub created_at: i64,
    /// When it was last used, Unix seconds (to the minute).
    pub last_seen: i64,
    /// A short description of the browser, from its User-Agent.
    pub client: String,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// First message of a password change: prove the current password (a fresh
/// OPAQUE login) and register the new one, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeStartRequest {
    /// OPAQUE `KE1` made with the current password.
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
    /// OPAQUE `RegistrationRequest` made with the new password.
    #[serde(with = "b64::vec")]
    pub registration_request: Vec<u8>,
}

/// The server's answer to [`PasswordChangeStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeStarted {
    /// Names this change; single use, valid for 5 minutes.
    #[serde(with = "b64::array")]
    pub change_id: Id,
    /// OPAQUE `KE2` for the current password.
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
    /// OPAQUE `RegistrationResponse` for the new password.
    #[serde(with = "b64::vec")]
    pub registration_response: Vec<u8>,
}

/// Second message of a password change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeFinishRequest {
    /// From [`PasswordChangeStarted`].
    #[serde(with = "b64::array")]
    pub change_id: Id,
    /// OPAQUE `KE3`: proves the current password.
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
    /// OPAQUE `RegistrationUpload` for the new password.
    #[serde(with = "b64::vec")]
    pub registration_upload: Vec<u8>,
    /// The same keyring, sealed under the new password's export key.
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
}

/// What a password change or recovery did to the account's other sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsEnded {
    /// How many other sessions were ended.
    pub ended_sessions: u32,
}

/// First recovery message: who, and the OPAQUE registration of the new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryStartRequest {
    /// The username as typed.
    pub username: String,
    /// OPAQUE `RegistrationRequest` made with the new password.
    #[serde(with = "b64::vec")]
    pub registration_request: Vec<u8>,
}

/// The server's answer to [`RecoveryStartRequest`]; for an unknown username it has the
/// same shape, with values that no recovery code opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryStarted {
    /// Names this recovery; single use, valid for 10 minutes.
    #[serde(with = "b64::array")]
    pub recovery_id: Id,
    /// The account's id (bound into the recovery key and proof).
    #[serde(with = "b64::array")]
    pub user_id: Id,
    /// Fresh random bytes to sign with the recovery verifier key (32 bytes).
    #[serde(with = "b64::vec")]
    pub challenge: Vec<u8>,
    /// The keyring sealed under the recovery secret.
    #[serde(with = "b64::vec")]
    pub recovery_keyring: Vec<u8>,
    /// OPAQUE `RegistrationResponse` for the new password.
    #[serde(with = "b64::vec")]
    pub registration_response: Vec<u8>,
}

/// Second recovery message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryFinishRequest {
    /// From [`RecoveryStarted`].
    #[serde(with = "b64::array")]
    pub recovery_id: Id,
    /// `RecoverySecret::prove(user_id, challenge)`.
    pub proof: Signature,
    /// OPAQUE `RegistrationUpload` for the new password.
    #[serde(with = "b64::vec")]
    pub registration_upload: Vec<u8>,
    /// The keyring sealed under the new password's export key.
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
}

/// A finished recovery: signed in with the new password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    /// The new session.
    pub session: SessionInfo,
    /// How many sessions were ended.
    pub ended_sessions: u32,
    /// Whether a TOTP second factor was switched off by the recovery.
    pub totp_removed: bool,
}

/// First message of turning the TOTP second factor on: a fresh OPAQUE login with
/// the current password, so that a session alone (an unattended browser) cannot
/// enrol a second factor the owner does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnableStartRequest {
    /// OPAQUE `KE1` made with the current password.
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
}

/// The server's answer to [`TotpEnableStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnableStarted {
    /// Names this enrolment in [`TotpEnableRequest`]; single use, valid for 5
    /// minutes, and only for the session that started it.
    #[serde(with = "b64::array")]
    pub enable_id: Id,
    /// OPAQUE `KE2` for the current password.
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
}

/// Turns the TOTP second factor on. The browser made the secret and drew its QR
/// code; KE3 proves the current password and the code proves the user's app has
/// the secret. Its `Debug` leaves the secret, the code and KE3 out.
#[derive(Clone, Serialize, Deserialize)]
pub struct TotpEnableRequest {
    /// From [`TotpEnableStarted`].
    #[serde(with = "b64::array")]
    pub enable_id: Id,
    /// OPAQUE `KE3`: proves the current password.
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
    /// The secret in base32 (RFC 4648, no padding), as in the otpauth URI.
    #[serde(with = "secret_text")]
    pub secret: Zeroizing<String>,
    /// A current six-digit code from the user's app.
    pub code: String,
}

/// First message of a recovery-code replacement: a fresh proof of the password
/// (an OPAQUE login), as for a password change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodeStartRequest {
    /// OPAQUE `KE1` made with the account's password.
    #[serde(with = "b64::vec")]
    pub ke1: Vec<u8>,
}

/// The server's answer to [`RecoveryCodeStartRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodeStarted {
    /// Names this replacement; single use, valid for 5 minutes, only for the
    /// session that started it.
    #[serde(with = "b64::array")]
    pub replace_id: Id,
    /// OPAQUE `KE2` for the password.
    #[serde(with = "b64::vec")]
    pub ke2: Vec<u8>,
}

/// Second message of a recovery-code replacement: the password proof and what
/// the browser made from the new recovery secret. Both replace the old ones
/// together, so the old code stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodeFinishRequest {
    /// From [`RecoveryCodeStarted`].
    #[serde(with = "b64::array")]
    pub replace_id: Id,
    /// OPAQUE `KE3`: proves the password.
    #[serde(with = "b64::vec")]
    pub ke3: Vec<u8>,
    /// The keyring sealed under the new recovery secret (`keyring::SEALED_LEN`).
    #[serde(with = "b64::vec")]
    pub recovery_keyring: Vec<u8>,
    /// The new recovery verifier (`recovery::RecoverySecret::verifier`).
    pub recovery_verifier: VerifyingKey,
}

impl std::fmt::Debug for TotpEnableRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnableRequest")
            .field("enable_id", &b64::encode(&self.enable_id))
            .finish_non_exhaustive()
    }
}

/// A secret carried as text on the wire and held in a [`Zeroizing`] string.
mod secret_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use zeroize::Zeroizing;

    pub fn serialize<S: Serializer>(text: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
        String::deserialize(d).map(Zeroizing::new)
    }
}

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

/// Whether patients may sign up without an invite.
#[leptos::server(prefix = "/api", endpoint = "account/signup-policy", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn signup_policy() -> Result<SignupSettings, ApiError> {
    super::backend()?.signup_policy().await
}

/// What an invite code is for, so the sign-up page can say so.
#[leptos::server(prefix = "/api", endpoint = "account/invite-info", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn invite_info(code: String) -> Result<InviteDetails, ApiError> {
    let caller = super::caller()?;
    super::backend()?.invite_info(&caller, code).await
}

/// Sign-up, step 1.
#[leptos::server(prefix = "/api", endpoint = "account/signup/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn signup_start(request: SignupStartRequest) -> Result<SignupStarted, ApiError> {
    let caller = super::caller()?;
    super::backend()?.signup_start(&caller, request).await
}

/// Sign-up, step 2: creates the account and sets the session cookie.
#[leptos::server(prefix = "/api", endpoint = "account/signup/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn signup_finish(request: SignupFinishRequest) -> Result<SessionInfo, ApiError> {
    let caller = super::caller()?;
    super::backend()?.signup_finish(&caller, request).await
}

/// Sign-in, step 1.
#[leptos::server(prefix = "/api", endpoint = "account/login/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn login_start(request: LoginStartRequest) -> Result<LoginStarted, ApiError> {
    let caller = super::caller()?;
    super::backend()?.login_start(&caller, request).await
}

/// Sign-in, step 2.
#[leptos::server(prefix = "/api", endpoint = "account/login/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn login_finish(request: LoginFinishRequest) -> Result<LoginOutcome, ApiError> {
    let caller = super::caller()?;
    super::backend()?.login_finish(&caller, request).await
}

/// Sign-in, step 3 when a second factor is on.
#[leptos::server(prefix = "/api", endpoint = "account/login/second-factor", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn login_second_factor(request: SecondFactorRequest) -> Result<SignedIn, ApiError> {
    let caller = super::caller()?;
    super::backend()?
        .login_second_factor(&caller, request)
        .await
}

/// The current session, or `None`. A GET: it changes nothing but the idle clock.
#[leptos::server(prefix = "/api", endpoint = "account/session", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn current_session() -> Result<Option<SessionInfo>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.current_session(&caller).await
}

/// Signs out here.
#[leptos::server(prefix = "/api", endpoint = "account/logout", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn logout() -> Result<(), ApiError> {
    let caller = super::caller()?;
    super::backend()?.logout(&caller).await
}

/// Signs out on every device.
#[leptos::server(prefix = "/api", endpoint = "account/logout-everywhere", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn logout_everywhere() -> Result<SessionsEnded, ApiError> {
    let caller = super::caller()?;
    super::backend()?.logout_everywhere(&caller).await
}

/// The account's active sessions.
#[leptos::server(prefix = "/api", endpoint = "account/sessions", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn sessions() -> Result<Vec<SessionSummary>, ApiError> {
    let caller = super::caller()?;
    super::backend()?.sessions(&caller).await
}

/// Ends one session of the account.
#[leptos::server(prefix = "/api", endpoint = "account/sessions/revoke", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn revoke_session(id: String) -> Result<(), ApiError> {
    let caller = super::caller()?;
    super::backend()?.revoke_session(&caller, id).await
}

/// Password change, step 1.
#[leptos::server(prefix = "/api", endpoint = "account/password/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn password_change_start(
    request: PasswordChangeStartRequest,
) -> Result<PasswordChangeStarted, ApiError> {
    let caller = super::caller()?;
    super::backend()?
        .password_change_start(&caller, request)
        .await
}

/// Password change, step 2: ends every other session.
#[leptos::server(prefix = "/api", endpoint = "account/password/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn password_change_finish(
    request: PasswordChangeFinishRequest,
) -> Result<SessionsEnded, ApiError> {
    let caller = super::caller()?;
    super::backend()?
        .password_change_finish(&caller, request)
        .await
}

/// Recovery, step 1.
#[leptos::server(prefix = "/api", endpoint = "account/recovery/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn recovery_start(request: RecoveryStartRequest) -> Result<RecoveryStarted, ApiError> {
    let caller = super::caller()?;
    super::backend()?.recovery_start(&caller, request).await
}

/// Recovery, step 2: new password, every session ended, signed in here.
#[leptos::server(prefix = "/api", endpoint = "account/recovery/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn recovery_finish(request: RecoveryFinishRequest) -> Result<Recovered, ApiError> {
    let caller = super::caller()?;
    super::backend()?.recovery_finish(&caller, request).await
}

/// Turning the TOTP second factor on, step 1: proving the current password.
#[leptos::server(prefix = "/api", endpoint = "account/totp/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn totp_enable_start(
    request: TotpEnableStartRequest,
) -> Result<TotpEnableStarted, ApiError> {
    let caller = super::caller()?;
    super::backend()?.totp_enable_start(&caller, request).await
}

/// Turning the TOTP second factor on, step 2.
#[leptos::server(prefix = "/api", endpoint = "account/totp/enable", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn totp_enable(request: TotpEnableRequest) -> Result<SessionInfo, ApiError> {
    let caller = super::caller()?;
    super::backend()?.totp_enable(&caller, request).await
}

/// Turns the TOTP second factor off.
#[leptos::server(prefix = "/api", endpoint = "account/totp/disable", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn totp_disable(code: String) -> Result<SessionInfo, ApiError> {
    let caller = super::caller()?;
    super::backend()?.totp_disable(&caller, code).await
}

/// Replacing the recovery code, step 1 (needs a session).
#[leptos::server(prefix = "/api", endpoint = "account/recovery-code/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn recovery_code_start(
    request: RecoveryCodeStartRequest,
) -> Result<RecoveryCodeStarted, ApiError> {
    let caller = super::caller()?;
    super::backend()?
        .recovery_code_start(&caller, request)
        .await
}

/// Replacing the recovery code, step 2: the old code stops working.
#[leptos::server(prefix = "/api", endpoint = "account/recovery-code/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = super::ApiClient)]
pub async fn recovery_code_finish(request: RecoveryCodeFinishRequest) -> Result<(), ApiError> {
    let caller = super::caller()?;
    super::backend()?
        .recovery_code_finish(&caller, request)
        .await
}
