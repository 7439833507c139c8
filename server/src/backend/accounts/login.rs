//! Sign-in: an OPAQUE login, then the second factor when it is on.

use shared::{
    api::{
        account::{
            LoginBackend, LoginFinishRequest, LoginOutcome, LoginStartRequest, LoginStarted,
            SecondFactorRequest, SignedIn,
        },
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    crypto::{opaque, CryptoError},
};

use super::{
    checks::{disabled, finish_login, malformed, parse_username, wrong_credentials},
    second_factor::{verify_totp, wrong_code},
};
use crate::backend::{
    audit::Draft,
    internal,
    pending::{PendingLogin, PendingSecondFactor},
    users::UserRecord,
    ServerBackend,
};

/// Wrong TOTP codes allowed in one sign-in before it must start again.
const SECOND_FACTOR_TRIES: u8 = 3;

#[async_trait::async_trait]
impl LoginBackend for ServerBackend {
    /// Step 1 of a sign-in: admits and counts the attempt, and answers KE2 (a fake one
    /// for an unknown name).
    async fn login_start(
        &self,
        caller: &Caller,
        req: LoginStartRequest,
    ) -> Result<LoginStarted, ApiError> {
        let username = parse_username(&req.username)?;
        self.log_abandoned().await;
        let now = self.now();
        let attempt = self
            .throttle
            .admit(username.as_str(), caller.client_addr, now)
            .await?;
        let user = self.user_by_name(username.as_str()).await?;
        let secrets = self.secrets().await?;
        let (state, ke2) = opaque::server_login_start(
            &secrets.opaque,
            username.as_str().as_bytes(),
            user.as_ref().map(|u| u.password_file.as_slice()),
            &req.ke1,
        )
        .map_err(|e| match e {
            CryptoError::Malformed => malformed("KE1 message"),
            _ => internal("OPAQUE login start failed"),
        })?;
        let (login_id, _) = self
            .pending
            .logins
            .insert(
                now,
                caller.client_addr,
                PendingLogin {
                    username: username.as_str().to_owned(),
                    addr: caller.client_addr,
                    attempt,
                    user_id: user.map(|u| u.id),
                    state: state.to_bytes().into(),
                },
            )
            .await?;
        Ok(LoginStarted { login_id, ke2 })
    }

    /// Step 2 of a sign-in: checks KE3; then signs in, or asks for the second factor.
    async fn login_finish(
        &self,
        caller: &Caller,
        req: LoginFinishRequest,
    ) -> Result<LoginOutcome, ApiError> {
        // A KE3 of the wrong length changes nothing: the sign-in can still finish.
        if req.ke3.len() != opaque::CREDENTIAL_FINALIZATION_LEN {
            return Err(malformed("KE3 message"));
        }
        self.log_abandoned().await;
        let now = self.now();
        let (pending, _) = self
            .pending
            .logins
            .take(now, &req.login_id)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request("This sign-in has expired or was already used. Start again.")
            })?;
        // The attempt was admitted and counted at its start; only a valid KE3
        // takes it back, and no delay refuses it now.
        let verified = finish_login(pending.state.as_bytes(), &req.ke3)?;
        let user = match (verified, pending.user_id) {
            (Ok(_), Some(id)) => {
                self.throttle
                    .proven(&pending.username, pending.addr, pending.attempt)
                    .await;
                self.user_by_id(&id).await?
            }
            (Err(CryptoError::Malformed), _) => {
                self.record(Draft::own_if_known(
                    EventKind::SignInFailed,
                    pending.user_id.as_ref(),
                ))
                .await?;
                return Err(malformed("KE3 message"));
            }
            _ => None,
        };
        let Some(user) = user else {
            self.record(Draft::own_if_known(
                EventKind::SignInFailed,
                pending.user_id.as_ref(),
            ))
            .await?;
            return Err(wrong_credentials());
        };
        if user.disabled {
            return Err(disabled());
        }
        if user.totp_enabled() {
            let (pending_id, _) = self
                .pending
                .second_factors
                .insert(
                    now,
                    caller.client_addr,
                    PendingSecondFactor {
                        username: user.username.clone(),
                        user_id: user.id,
                        tries_left: SECOND_FACTOR_TRIES,
                    },
                )
                .await?;
            return Ok(LoginOutcome::SecondFactor { pending_id });
        }
        Ok(LoginOutcome::SignedIn(Box::new(
            self.sign_in(caller, &user, now).await?,
        )))
    }

    /// Step 3 of a sign-in with a second factor: checks the code, a few tries at most.
    async fn login_second_factor(
        &self,
        caller: &Caller,
        req: SecondFactorRequest,
    ) -> Result<SignedIn, ApiError> {
        let now = self.now();
        let (mut pending, expires) = self
            .pending
            .second_factors
            .take(now, &req.pending_id)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(
                    "This sign-in has expired or was already used. Sign in again.",
                )
            })?;
        // No throttle check here: the sign-in was admitted at its start, and it
        // allows only SECOND_FACTOR_TRIES codes, each counted when wrong.
        let user = self
            .user_by_id(&pending.user_id)
            .await?
            .ok_or_else(wrong_credentials)?;
        if user.disabled {
            return Err(disabled());
        }
        let Some(secret) = self.totp_secret_of(&user)? else {
            // Turned off meanwhile (a recovery): the password was enough.
            return self.sign_in(caller, &user, now).await;
        };
        let step = match verify_totp(&secret, &req.code, now, user.totp_last_step) {
            Ok(step) => step,
            Err(e) => {
                let failed = e.code == ErrorCode::Unauthorized;
                if failed {
                    self.throttle
                        .fail(&pending.username, caller.client_addr, now)
                        .await;
                    pending.tries_left = pending.tries_left.saturating_sub(1);
                }
                let user_id = pending.user_id;
                if pending.tries_left > 0 {
                    self.pending
                        .second_factors
                        .put_back(req.pending_id, expires, now, caller.client_addr, pending)
                        .await?;
                }
                if failed {
                    self.record(Draft::own(EventKind::SignInFailed, &user_id))
                        .await?;
                }
                return Err(e);
            }
        };
        let new = self.new_session(caller, &user.id, now).await?;
        let ops = new.ops;
        let event = Draft::own(EventKind::SignIn, &user.id).session(&new.hash);
        let updated = self
            .update_user(&user.id, event, |rec| {
                if rec.totp_last_step.is_some_and(|s| s >= step) {
                    return Err(wrong_code());
                }
                rec.totp_last_step = Some(step);
                rec.last_sign_in = Some(now);
                Ok(ops.clone())
            })
            .await?;
        caller.set_session_cookie(new.token);
        self.throttle.succeed(&updated.username).await;
        Ok(SignedIn {
            session: self.session_info(&updated, now),
            key_entry: updated.key_entry.clone(),
            sealed_keyring: updated.sealed_keyring.clone(),
        })
    }
}

impl ServerBackend {
    /// Writes the ops and a new session for `user`, sets the cookie, and returns
    /// the session info.
    async fn sign_in(
        &self,
        caller: &Caller,
        user: &UserRecord,
        now: i64,
    ) -> Result<SignedIn, ApiError> {
        let new = self.new_session(caller, &user.id, now).await?;
        let ops = new.ops;
        let event = Draft::own(EventKind::SignIn, &user.id).session(&new.hash);
        let updated = self
            .update_user(&user.id, event, |rec| {
                if rec.disabled {
                    return Err(disabled());
                }
                rec.last_sign_in = Some(now);
                Ok(ops.clone())
            })
            .await?;
        caller.set_session_cookie(new.token);
        self.throttle.succeed(&updated.username).await;
        Ok(SignedIn {
            session: self.session_info(&updated, new.created_at),
            key_entry: updated.key_entry.clone(),
            sealed_keyring: updated.sealed_keyring.clone(),
        })
    }
}
