//! Sign-up, sign-in, sessions, second factor, password change and recovery.
//!
//! Every second message finds its first in [`super::pending`], which hands it
//! out once, so a replayed or reordered OPAQUE message gets a 4xx. A wrong
//! password and an unknown username get the same answer and the same kind of
//! work (a fake KE2 for unknown users), and both count against the throttle.
//!
//! The throttle admits (and counts) each attempt when it starts, since an
//! OPAQUE client knows after KE2 whether its guess was right; a valid KE3 or
//! recovery proof takes its own attempt back. The steps that finish an
//! admitted attempt are therefore not refused by the throttle's delay. A start
//! that is never finished is recorded in the audit log when its pending state
//! expires or is evicted ([`ServerBackend::log_abandoned`]).

//!
//! One file per flow: [`signup`], [`login`] (with the second factor's step),
//! [`sign_out`] (and the session list), [`password`], [`second_factor`],
//! [`recovery`] and [`recovery_code`]. [`password_proof`] is the fresh proof
//! of the password that the last three need; [`checks`] holds what they all
//! share, and [`abandoned`] logs attempts never finished. This file only maps
//! the API's trait onto them.

mod abandoned;
mod checks;
mod login;
mod password;
mod password_proof;
mod recovery;
mod recovery_code;
mod second_factor;
mod sign_out;
mod signup;

use shared::api::{
    account::{
        AccountBackend, InviteDetails, LoginFinishRequest, LoginOutcome, LoginStartRequest,
        LoginStarted, PasswordChangeFinishRequest, PasswordChangeStartRequest,
        PasswordChangeStarted, Recovered, RecoveryCodeFinishRequest, RecoveryCodeStartRequest,
        RecoveryCodeStarted, RecoveryFinishRequest, RecoveryStartRequest, RecoveryStarted,
        SecondFactorRequest, SessionInfo, SessionSummary, SessionsEnded, SignedIn,
        SignupFinishRequest, SignupSettings, SignupStartRequest, SignupStarted, TotpEnableRequest,
        TotpEnableStartRequest, TotpEnableStarted,
    },
    ApiError, Caller,
};

use super::ServerBackend;

#[async_trait::async_trait]
impl AccountBackend for ServerBackend {
    async fn signup_policy(&self) -> Result<SignupSettings, ApiError> {
        self.signup_settings().await
    }

    async fn invite_info(&self, _caller: &Caller, code: String) -> Result<InviteDetails, ApiError> {
        self.invite_details(code).await
    }

    async fn signup_start(
        &self,
        caller: &Caller,
        req: SignupStartRequest,
    ) -> Result<SignupStarted, ApiError> {
        self.start_signup(caller, req).await
    }

    async fn signup_finish(
        &self,
        caller: &Caller,
        req: SignupFinishRequest,
    ) -> Result<SessionInfo, ApiError> {
        self.finish_signup(caller, req).await
    }

    async fn login_start(
        &self,
        caller: &Caller,
        req: LoginStartRequest,
    ) -> Result<LoginStarted, ApiError> {
        self.start_sign_in(caller, req).await
    }

    async fn login_finish(
        &self,
        caller: &Caller,
        req: LoginFinishRequest,
    ) -> Result<LoginOutcome, ApiError> {
        self.finish_sign_in(caller, req).await
    }

    async fn login_second_factor(
        &self,
        caller: &Caller,
        req: SecondFactorRequest,
    ) -> Result<SignedIn, ApiError> {
        self.finish_second_factor(caller, req).await
    }

    async fn current_session(&self, caller: &Caller) -> Result<Option<SessionInfo>, ApiError> {
        self.session_now(caller).await
    }

    async fn logout(&self, caller: &Caller) -> Result<(), ApiError> {
        self.sign_out(caller).await
    }

    async fn logout_everywhere(&self, caller: &Caller) -> Result<SessionsEnded, ApiError> {
        self.sign_out_everywhere(caller).await
    }

    async fn sessions(&self, caller: &Caller) -> Result<Vec<SessionSummary>, ApiError> {
        self.list_sessions(caller).await
    }

    async fn revoke_session(&self, caller: &Caller, id: String) -> Result<(), ApiError> {
        self.end_session(caller, id).await
    }

    async fn password_change_start(
        &self,
        caller: &Caller,
        req: PasswordChangeStartRequest,
    ) -> Result<PasswordChangeStarted, ApiError> {
        self.start_password_change(caller, req).await
    }

    async fn password_change_finish(
        &self,
        caller: &Caller,
        req: PasswordChangeFinishRequest,
    ) -> Result<SessionsEnded, ApiError> {
        self.finish_password_change(caller, req).await
    }

    async fn recovery_start(
        &self,
        caller: &Caller,
        req: RecoveryStartRequest,
    ) -> Result<RecoveryStarted, ApiError> {
        self.start_recovery(caller, req).await
    }

    async fn recovery_finish(
        &self,
        caller: &Caller,
        req: RecoveryFinishRequest,
    ) -> Result<Recovered, ApiError> {
        self.finish_recovery(caller, req).await
    }

    async fn totp_enable_start(
        &self,
        caller: &Caller,
        req: TotpEnableStartRequest,
    ) -> Result<TotpEnableStarted, ApiError> {
        self.start_totp_enable(caller, req).await
    }

    async fn totp_enable(
        &self,
        caller: &Caller,
        req: TotpEnableRequest,
    ) -> Result<SessionInfo, ApiError> {
        self.finish_totp_enable(caller, req).await
    }

    async fn totp_disable(&self, caller: &Caller, code: String) -> Result<SessionInfo, ApiError> {
        self.disable_totp(caller, code).await
    }

    async fn recovery_code_start(
        &self,
        caller: &Caller,
        req: RecoveryCodeStartRequest,
    ) -> Result<RecoveryCodeStarted, ApiError> {
        self.start_recovery_code(caller, req).await
    }

    async fn recovery_code_finish(
        &self,
        caller: &Caller,
        req: RecoveryCodeFinishRequest,
    ) -> Result<(), ApiError> {
        self.finish_recovery_code(caller, req).await
    }
}
