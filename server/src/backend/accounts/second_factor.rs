//! The second factor (TOTP): turning it on with a fresh password proof,
//! turning it off with a code, and reading the sealed secret.

use shared::{
    api::{
        account::{
            SecondFactorBackend, SessionInfo, TotpEnableRequest, TotpEnableStartRequest,
            TotpEnableStarted,
        },
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    crypto::{
        totp::{
            TotpSecret, {self},
        },
        CryptoError,
    },
};

use super::{checks::now_u64, password_proof::ProofWords};
use crate::backend::{
    audit::Draft, crypto_internal, internal, totp_key::TotpKey, users::UserRecord, ServerBackend,
};

pub(super) fn wrong_code() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "The authentication code is not right. Use the current code from your authenticator app.",
    )
}

pub(super) fn totp_already_on() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "A second factor is already on. Turn it off first to set up a new one.",
    )
}

pub(super) fn malformed_code() -> ApiError {
    ApiError::bad_request("Type the six digits from your authenticator app.")
}

/// Checks a TOTP code against `secret`, after `last_step`.
pub(super) fn verify_totp(
    secret: &TotpSecret,
    code: &str,
    now: i64,
    last_step: Option<u64>,
) -> Result<u64, ApiError> {
    totp::verify(secret, code.trim(), now_u64(now), last_step).map_err(|e| match e {
        CryptoError::Malformed => malformed_code(),
        _ => wrong_code(),
    })
}

impl ServerBackend {
    /// The key that seals TOTP secrets; a server without one cannot use them.
    fn totp_key(&self) -> Result<&TotpKey, ApiError> {
        self.config
            .totp_key
            .as_ref()
            .ok_or_else(|| internal("no TOTP key is configured"))
    }

    /// The account's TOTP secret, or `None` when no second factor is on. Fails
    /// closed, with a log line saying why, when the secret does not open (the key
    /// file is missing or another installation's) or is still in plaintext.
    pub(super) fn totp_secret_of(&self, user: &UserRecord) -> Result<Option<TotpSecret>, ApiError> {
        match (&user.totp_sealed, &user.totp_secret) {
            (Some(sealed), _) => self.totp_key()?.open(&user.id, sealed).map(Some).map_err(|_| {
                internal(
                    "a stored TOTP secret does not open with this server's TOTP key: the key file is missing or from another installation; restore it to check second factors",
                )
            }),
            (None, Some(_)) => Err(internal(
                "a TOTP secret is stored in plaintext; restart the server to seal it",
            )),
            (None, None) => Ok(None),
        }
    }
}

#[async_trait::async_trait]
impl SecondFactorBackend for ServerBackend {
    /// Step 1 of turning the second factor on: a fresh password proof.
    async fn totp_enable_start(
        &self,
        caller: &Caller,
        req: TotpEnableStartRequest,
    ) -> Result<TotpEnableStarted, ApiError> {
        let s = self.require_session_enrolling(caller).await?;
        if s.user.totp_enabled() {
            return Err(totp_already_on());
        }
        let (enable_id, ke2) = self
            .start_password_proof(&s, caller, &req.ke1, &self.pending.totp_enables)
            .await?;
        Ok(TotpEnableStarted { enable_id, ke2 })
    }

    /// Step 2 of turning the second factor on: checks the proof and a code from the new
    /// secret, then stores the secret sealed.
    async fn totp_enable(
        &self,
        caller: &Caller,
        req: TotpEnableRequest,
    ) -> Result<SessionInfo, ApiError> {
        let s = self.require_session_enrolling(caller).await?;
        // Only the session that started the proof may use it, and only once.
        self.finish_password_proof(
            &s,
            &self.pending.totp_enables,
            &req.enable_id,
            &req.ke3,
            ProofWords {
                expired: "This set-up has expired or was already used. Type your password and the code again.",
                failed: EventKind::SecondFactorChangeFailed,
                wrong: "The password is not right. Type your current password again.",
            },
        )
        .await?;
        let now = self.now();
        self.throttle.succeed(&s.user.username).await;
        if s.user.totp_enabled() {
            return Err(totp_already_on());
        }
        let key = self.totp_key()?;
        let secret = TotpSecret::from_base32(req.secret.trim()).map_err(|_| {
            ApiError::bad_request("The secret is not valid (32 base32 characters).")
        })?;
        let step = match totp::verify(&secret, req.code.trim(), now_u64(now), None) {
            Ok(step) => step,
            Err(CryptoError::Malformed) => return Err(malformed_code()),
            Err(_) => {
                self.record(
                    Draft::own(EventKind::SecondFactorChangeFailed, &s.user.id).session(&s.hash),
                )
                .await?;
                return Err(wrong_code());
            }
        };
        let sealed = key.seal(&s.user.id, &secret).map_err(crypto_internal)?;
        let event = Draft::own(EventKind::SecondFactorOn, &s.user.id).session(&s.hash);
        let updated = self
            .update_user(&s.user.id, event, |rec| {
                if rec.totp_enabled() {
                    return Err(totp_already_on());
                }
                rec.totp_sealed = Some(sealed);
                rec.totp_last_step = Some(step);
                Ok(Vec::new())
            })
            .await?;
        Ok(self.session_info(&updated, s.record.created_at))
    }

    /// Turns the second factor off, with a current code.
    async fn totp_disable(&self, caller: &Caller, code: String) -> Result<SessionInfo, ApiError> {
        let s = self.require_session(caller).await?;
        if self
            .config
            .settings
            .second_factor_roles
            .contains(s.user.role)
        {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "This installation requires a second factor for your role, so it stays on.",
            ));
        }
        let Some(secret) = self.totp_secret_of(&s.user)? else {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "No second factor is on.",
            ));
        };
        let now = self.now();
        self.throttle
            .check(&s.user.username, caller.client_addr, now)
            .await?;
        let step = match verify_totp(&secret, &code, now, s.user.totp_last_step) {
            Ok(step) => step,
            Err(e) => {
                if e.code == ErrorCode::Unauthorized {
                    self.throttle
                        .fail(&s.user.username, caller.client_addr, now)
                        .await;
                    self.record(
                        Draft::own(EventKind::SecondFactorChangeFailed, &s.user.id)
                            .session(&s.hash),
                    )
                    .await?;
                }
                return Err(e);
            }
        };
        let event = Draft::own(EventKind::SecondFactorOff, &s.user.id).session(&s.hash);
        let updated = self
            .update_user(&s.user.id, event, |rec| {
                if rec.totp_last_step.is_some_and(|last| last >= step) {
                    return Err(wrong_code());
                }
                rec.totp_sealed = None;
                rec.totp_secret = None;
                rec.totp_last_step = None;
                Ok(Vec::new())
            })
            .await?;
        Ok(self.session_info(&updated, s.record.created_at))
    }
}
