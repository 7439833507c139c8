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

use shared::{
    account::Username,
    api::{
        account::{
            AccountBackend, InviteDetails, LoginFinishRequest, LoginOutcome, LoginStartRequest,
            LoginStarted, PasswordChangeFinishRequest, PasswordChangeStartRequest,
            PasswordChangeStarted, Recovered, RecoveryCodeFinishRequest, RecoveryCodeStartRequest,
            RecoveryCodeStarted, RecoveryFinishRequest, RecoveryStartRequest, RecoveryStarted,
            SecondFactorRequest, SessionInfo, SessionSummary, SessionsEnded, SignedIn,
            SignupFinishRequest, SignupSettings, SignupStartRequest, SignupStarted,
            TotpEnableRequest, TotpEnableStartRequest, TotpEnableStarted,
        },
        ApiError, Caller, ErrorCode,
    },
    crypto::{
        keyring, opaque, recovery, rng,
        sign::Role,
        totp::{self, TotpSecret},
        CryptoError,
    },
};

use super::{
    crypto_internal, invites,
    password_proof::ProofWords,
    pending::{PendingLogin, PendingRecovery, PendingSecondFactor, PendingSignup},
    sessions::{end_session_ops, public_id},
    store_error,
    totp_key::TotpKey,
    users::{user_key, username_key, UserRecord},
    ServerBackend,
};
use crate::store::{codec, Batch, Space, StoreError};
use shared::audit::EventKind;

use super::audit::Draft;

/// How far a key entry's `created_at` may be from the server's clock.
const CLOCK_SKEW_SECS: u64 = 15 * 60;
/// Wrong TOTP codes allowed in one sign-in before it must start again.
const SECOND_FACTOR_TRIES: u8 = 3;
const FAKE_USER_ID: &str = "medvault/v1/server/fake-user-id";
const FAKE_RECOVERY_KEYRING: &str = "medvault/v1/server/fake-recovery-keyring";

fn wrong_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "The username or password is not right.",
    )
}

fn disabled() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "This account has been disabled. Contact your administrator.",
    )
}

fn wrong_code() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "The authentication code is not right. Use the current code from your authenticator app.",
    )
}

fn totp_already_on() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "A second factor is already on. Turn it off first to set up a new one.",
    )
}

fn malformed_code() -> ApiError {
    ApiError::bad_request("Type the six digits from your authenticator app.")
}

pub(crate) fn malformed(what: &str) -> ApiError {
    ApiError::bad_request(format!("The {what} is malformed."))
}

pub(crate) fn parse_username(text: &str) -> Result<Username, ApiError> {
    Username::parse(text).map_err(|e| ApiError::bad_request(format!("{e}.")))
}

pub(crate) fn check_keyring_len(bytes: &[u8], what: &str) -> Result<(), ApiError> {
    if bytes.len() == keyring::SEALED_LEN {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "The {what} must be {} bytes.",
            keyring::SEALED_LEN
        )))
    }
}

fn now_u64(now: i64) -> u64 {
    u64::try_from(now).unwrap_or(0)
}

/// Checks a TOTP code against `secret`, after `last_step`.
fn verify_totp(
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

/// The server's last OPAQUE login step on a pending state: KE3 of the wrong length
/// is a malformed request, a state that does not decode is our fault, and the
/// inner result says whether the client proved the password.
pub(crate) fn finish_login(state: &[u8], ke3: &[u8]) -> Result<Result<(), CryptoError>, ApiError> {
    if ke3.len() != opaque::CREDENTIAL_FINALIZATION_LEN {
        return Err(malformed("KE3 message"));
    }
    let state = opaque::ServerLoginState::from_bytes(state)
        .map_err(|_| crate::backend::internal("pending login state is corrupt"))?;
    Ok(state.finish(ke3).map(drop))
}

impl ServerBackend {
    /// Records a failure event for every sign-in, recovery and password change of
    /// an existing account that was started and then expired or was evicted
    /// unfinished. Runs before each of those calls and once a minute
    /// ([`ServerBackend::spawn_abandoned_logger`]); a store failure loses those
    /// events (logged) rather than failing the caller's request.
    pub(crate) async fn log_abandoned(&self) {
        let now = self.now();
        let mut drafts = Vec::new();
        for login in self.pending.logins.drain_abandoned(now) {
            if let Some(id) = login.user_id {
                drafts.push(Draft::own(EventKind::SignInFailed, &id));
            }
        }
        for recovery in self.pending.recoveries.drain_abandoned(now) {
            if let Some(id) = recovery.user_id {
                drafts.push(Draft::own(EventKind::RecoveryFailed, &id));
            }
        }
        for (proofs, kind) in [
            (
                &self.pending.password_changes,
                EventKind::PasswordChangeFailed,
            ),
            (
                &self.pending.totp_enables,
                EventKind::SecondFactorChangeFailed,
            ),
            (
                &self.pending.recovery_codes,
                EventKind::RecoveryCodeReplaceFailed,
            ),
        ] {
            for proof in proofs.drain_abandoned(now) {
                drafts.push(Draft::own(kind, &proof.user_id).session(&proof.session_hash));
            }
        }
        for draft in drafts {
            if let Err(e) = self.record(draft).await {
                tracing::warn!(code = ?e.code, "could not record an unfinished attempt");
            }
        }
    }

    /// Runs [`ServerBackend::log_abandoned`] every `every`, so that the last
    /// unfinished attempts are recorded even when no one signs in after them.
    pub fn spawn_abandoned_logger(
        self: std::sync::Arc<Self>,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                self.log_abandoned().await;
            }
        })
    }

    /// The key that seals TOTP secrets; a server without one cannot use them.
    fn totp_key(&self) -> Result<&TotpKey, ApiError> {
        self.config
            .totp_key
            .as_ref()
            .ok_or_else(|| crate::backend::internal("no TOTP key is configured"))
    }

    /// The account's TOTP secret, or `None` when no second factor is on. Fails
    /// closed, with a log line saying why, when the secret does not open (the key
    /// file is missing or another installation's) or is still in plaintext.
    fn totp_secret_of(&self, user: &UserRecord) -> Result<Option<TotpSecret>, ApiError> {
        match (&user.totp_sealed, &user.totp_secret) {
            (Some(sealed), _) => self.totp_key()?.open(&user.id, sealed).map(Some).map_err(|_| {
                crate::backend::internal(
                    "a stored TOTP secret does not open with this server's TOTP key: the key file is missing or from another installation; restore it to check second factors",
                )
            }),
            (None, Some(_)) => Err(crate::backend::internal(
                "a TOTP secret is stored in plaintext; restart the server to seal it",
            )),
            (None, None) => Ok(None),
        }
    }

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
        self.throttle.succeed(&updated.username);
        Ok(SignedIn {
            session: self.session_info(&updated, new.created_at),
            key_entry: updated.key_entry.clone(),
            sealed_keyring: updated.sealed_keyring.clone(),
        })
    }
}

#[async_trait::async_trait]
impl AccountBackend for ServerBackend {
    async fn signup_policy(&self) -> Result<SignupSettings, ApiError> {
        Ok(SignupSettings {
            open_signup: self.config.settings.open_signup,
        })
    }

    async fn invite_info(&self, _caller: &Caller, code: String) -> Result<InviteDetails, ApiError> {
        let invite = self.check_invite(&code).await?;
        Ok(InviteDetails {
            role: invite.role,
            expires_at: invite.expires_at,
        })
    }

    async fn signup_start(
        &self,
        caller: &Caller,
        req: SignupStartRequest,
    ) -> Result<SignupStarted, ApiError> {
        let username = Username::parse_new(&req.username)
            .map_err(|e| ApiError::bad_request(format!("{e}.")))?;
        let role = match &req.invite {
            Some(code) => self.check_invite(code).await?.role,
            None if self.config.settings.open_signup => Role::Patient,
            None => {
                return Err(ApiError::bad_request(
                    "This server creates accounts by invite only. Ask an administrator for an invite link.",
                ))
            }
        };
        if self.user_by_name(username.as_str()).await?.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "That username is taken.",
            ));
        }
        let secrets = self.secrets().await?;
        let registration_response = opaque::server_registration_start(
            &secrets.opaque,
            username.as_str().as_bytes(),
            &req.registration_request,
        )
        .map_err(|_| malformed("registration request"))?;
        let user_id = rng::id().map_err(crypto_internal)?;
        let (registration_id, _) = self.pending.signups.insert(
            self.now(),
            caller.client_addr,
            PendingSignup {
                username: username.as_str().to_owned(),
                user_id,
                role,
                invite: req.invite,
            },
        )?;
        Ok(SignupStarted {
            registration_id,
            user_id,
            username: username.as_str().to_owned(),
            role,
            registration_response,
        })
    }

    async fn signup_finish(
        &self,
        caller: &Caller,
        req: SignupFinishRequest,
    ) -> Result<SessionInfo, ApiError> {
        let now = self.now();
        let (pending, _) = self
            .pending
            .signups
            .take(now, &req.registration_id)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "This sign-up has expired or was already finished. Start again.",
                )
            })?;
        let password_file = opaque::server_registration_finish(&req.registration_upload)
            .map_err(|_| malformed("registration upload"))?;
        check_keyring_len(&req.sealed_keyring, "sealed keyring")?;
        check_keyring_len(&req.recovery_keyring, "recovery keyring")?;
        let entry = req
            .key_entry
            .verify_self()
            .map_err(|_| ApiError::bad_request("The key entry's signature is not valid."))?;
        if entry.user_id != pending.user_id
            || entry.username != pending.username
            || entry.role != pending.role
        {
            return Err(ApiError::bad_request(
                "The key entry does not name this account (user id, username and role must be the ones the server gave).",
            ));
        }
        // `abs_diff`: the time is the client's, and `created_at - now` overflows
        // for values near i64::MIN or i64::MAX.
        if entry.created_at.abs_diff(now) > CLOCK_SKEW_SECS {
            return Err(ApiError::bad_request(
                "The key entry's time is too far from the server's. Check your device's clock.",
            ));
        }
        let invite = match &pending.invite {
            Some(code) => Some(self.check_invite(code).await?),
            None => None,
        };
        let record = UserRecord {
            id: pending.user_id,
            username: pending.username.clone(),
            role: pending.role,
            password_file,
            sealed_keyring: req.sealed_keyring,
            recovery_keyring: req.recovery_keyring,
            recovery_verifier: req.recovery_verifier,
            key_entry: req.key_entry,
            certificate: None,
            disabled: false,
            totp_sealed: None,
            totp_secret: None,
            totp_last_step: None,
            created_at: now,
            last_sign_in: Some(now),
        };
        let session = self.new_session(caller, &record.id, now).await?;
        let mut batch = Batch::new();
        batch
            .expect_absent(Space::Users, username_key(&record.username))
            .put(
                Space::Users,
                username_key(&record.username),
                record.id.to_vec(),
            )
            .expect_absent(Space::Users, user_key(&record.id))
            .put(
                Space::Users,
                user_key(&record.id),
                codec::encode(&record).map_err(store_error)?,
            );
        if let Some(invite) = &invite {
            for op in invite.redeem_ops(now) {
                batch.push(op);
            }
        }
        for op in session.ops {
            batch.push(op);
        }
        let event = Draft::own(EventKind::AccountCreated, &record.id).session(&session.hash);
        match self.append(batch, event).await {
            Ok(_) => {}
            Err(StoreError::Conflict) => {
                return Err(if self.user_by_name(&record.username).await?.is_some() {
                    ApiError::new(ErrorCode::Conflict, "That username is taken.")
                } else {
                    invites::used()
                });
            }
            Err(e) => return Err(store_error(e)),
        }
        caller.set_session_cookie(session.token);
        tracing::info!(role = ?record.role, "account created");
        Ok(self.session_info(&record, now))
    }

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
            .admit(username.as_str(), caller.client_addr, now)?;
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
            _ => crate::backend::internal("OPAQUE login start failed"),
        })?;
        let (login_id, _) = self.pending.logins.insert(
            now,
            caller.client_addr,
            PendingLogin {
                username: username.as_str().to_owned(),
                addr: caller.client_addr,
                attempt,
                user_id: user.map(|u| u.id),
                state: state.to_bytes(),
            },
        )?;
        Ok(LoginStarted { login_id, ke2 })
    }

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
            .ok_or_else(|| {
                ApiError::bad_request("This sign-in has expired or was already used. Start again.")
            })?;
        // The attempt was admitted and counted at its start; only a valid KE3
        // takes it back, and no delay refuses it now.
        let verified = finish_login(pending.state.as_bytes(), &req.ke3)?;
        let user = match (verified, pending.user_id) {
            (Ok(_), Some(id)) => {
                self.throttle
                    .proven(&pending.username, pending.addr, pending.attempt);
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
            let (pending_id, _) = self.pending.second_factors.insert(
                now,
                caller.client_addr,
                PendingSecondFactor {
                    username: user.username.clone(),
                    user_id: user.id,
                    tries_left: SECOND_FACTOR_TRIES,
                },
            )?;
            return Ok(LoginOutcome::SecondFactor { pending_id });
        }
        Ok(LoginOutcome::SignedIn(Box::new(
            self.sign_in(caller, &user, now).await?,
        )))
    }

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
                        .fail(&pending.username, caller.client_addr, now);
                    pending.tries_left = pending.tries_left.saturating_sub(1);
                }
                let user_id = pending.user_id;
                if pending.tries_left > 0 {
                    self.pending.second_factors.put_back(
                        req.pending_id,
                        expires,
                        now,
                        caller.client_addr,
                        pending,
                    )?;
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
        self.throttle.succeed(&updated.username);
        Ok(SignedIn {
            session: self.session_info(&updated, now),
            key_entry: updated.key_entry.clone(),
            sealed_keyring: updated.sealed_keyring.clone(),
        })
    }

    async fn current_session(&self, caller: &Caller) -> Result<Option<SessionInfo>, ApiError> {
        Ok(self
            .session(caller)
            .await?
            .map(|s| self.session_info(&s.user, s.record.created_at)))
    }

    async fn logout(&self, caller: &Caller) -> Result<(), ApiError> {
        if let Some(s) = self.session(caller).await? {
            let mut batch = Batch::new();
            for op in end_session_ops(&s.user.id, &s.hash) {
                batch.push(op);
            }
            let event = Draft::own(EventKind::SignOut, &s.user.id).session(&s.hash);
            self.append(batch, event).await.map_err(store_error)?;
        }
        caller.clear_session_cookie();
        Ok(())
    }

    async fn logout_everywhere(&self, caller: &Caller) -> Result<SessionsEnded, ApiError> {
        let s = self.require_session(caller).await?;
        let (mut ops, ended) = self.end_sessions_ops(&s.user.id, Some(&s.hash)).await?;
        ops.extend(end_session_ops(&s.user.id, &s.hash));
        let mut batch = Batch::new();
        for op in ops {
            batch.push(op);
        }
        let event = Draft::own(EventKind::SignOutEverywhere, &s.user.id).session(&s.hash);
        self.append(batch, event).await.map_err(store_error)?;
        caller.clear_session_cookie();
        Ok(SessionsEnded {
            ended_sessions: ended,
        })
    }

    async fn sessions(&self, caller: &Caller) -> Result<Vec<SessionSummary>, ApiError> {
        let s = self.require_session(caller).await?;
        self.session_summaries(&s).await
    }

    async fn revoke_session(&self, caller: &Caller, id: String) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        let target = self
            .session_hashes(&s.user.id)
            .await?
            .into_iter()
            .find(|h| public_id(h) == id)
            .ok_or_else(ApiError::not_found)?;
        let mut batch = Batch::new();
        for op in end_session_ops(&s.user.id, &target) {
            batch.push(op);
        }
        let mut revoked = [0u8; 16];
        revoked.copy_from_slice(&target[..16]);
        let event = Draft::own(EventKind::SessionRevoked, &s.user.id)
            .session(&s.hash)
            .item(&revoked);
        self.append(batch, event).await.map_err(store_error)?;
        if target == s.hash {
            caller.clear_session_cookie();
        }
        Ok(())
    }

    async fn password_change_start(
        &self,
        caller: &Caller,
        req: PasswordChangeStartRequest,
    ) -> Result<PasswordChangeStarted, ApiError> {
        let s = self.require_session(caller).await?;
        let secrets = self.secrets().await?;
        let registration_response = opaque::server_registration_start(
            &secrets.opaque,
            s.user.username.as_bytes(),
            &req.registration_request,
        )
        .map_err(|_| malformed("registration request"))?;
        let (change_id, ke2) = self
            .start_password_proof(&s, caller, &req.ke1, &self.pending.password_changes)
            .await?;
        Ok(PasswordChangeStarted {
            change_id,
            ke2,
            registration_response,
        })
    }

    async fn password_change_finish(
        &self,
        caller: &Caller,
        req: PasswordChangeFinishRequest,
    ) -> Result<SessionsEnded, ApiError> {
        let s = self.require_session(caller).await?;
        // Malformed parts change nothing: the change can still finish.
        let password_file = opaque::server_registration_finish(&req.registration_upload)
            .map_err(|_| malformed("registration upload"))?;
        check_keyring_len(&req.sealed_keyring, "sealed keyring")?;
        self.finish_password_proof(
            &s,
            &self.pending.password_changes,
            &req.change_id,
            &req.ke3,
            ProofWords {
                expired: "This password change has expired or was already used. Start again.",
                failed: EventKind::PasswordChangeFailed,
                wrong: "The current password is not right.",
            },
        )
        .await?;
        let (ops, ended) = self.end_sessions_ops(&s.user.id, Some(&s.hash)).await?;
        let sealed = req.sealed_keyring;
        let event = Draft::own(EventKind::PasswordChanged, &s.user.id).session(&s.hash);
        self.update_user(&s.user.id, event, |rec| {
            rec.password_file = password_file.clone();
            rec.sealed_keyring = sealed.clone();
            Ok(ops.clone())
        })
        .await?;
        self.throttle.succeed(&s.user.username);
        tracing::info!(ended, "password changed");
        Ok(SessionsEnded {
            ended_sessions: ended,
        })
    }

    async fn recovery_start(
        &self,
        caller: &Caller,
        req: RecoveryStartRequest,
    ) -> Result<RecoveryStarted, ApiError> {
        let username = parse_username(&req.username)?;
        self.log_abandoned().await;
        let now = self.now();
        let attempt = self
            .throttle
            .admit(username.as_str(), caller.client_addr, now)?;
        let secrets = self.secrets().await?;
        let registration_response = opaque::server_registration_start(
            &secrets.opaque,
            username.as_str().as_bytes(),
            &req.registration_request,
        )
        .map_err(|_| malformed("registration request"))?;
        let user = self.user_by_name(username.as_str()).await?;
        let (user_id, recovery_keyring) = match &user {
            Some(u) => (u.id, u.recovery_keyring.clone()),
            None => {
                let mut id = [0u8; 16];
                Self::fake_bytes(&secrets, FAKE_USER_ID, username.as_str(), &mut id)?;
                let mut sealed = vec![0u8; keyring::SEALED_LEN];
                Self::fake_bytes(
                    &secrets,
                    FAKE_RECOVERY_KEYRING,
                    username.as_str(),
                    &mut sealed,
                )?;
                (id, sealed)
            }
        };
        let challenge = rng::bytes::<32>().map_err(crypto_internal)?;
        let (recovery_id, _) = self.pending.recoveries.insert(
            now,
            caller.client_addr,
            PendingRecovery {
                username: username.as_str().to_owned(),
                addr: caller.client_addr,
                attempt,
                user_id: user.map(|u| u.id),
                challenge,
            },
        )?;
        Ok(RecoveryStarted {
            recovery_id,
            user_id,
            challenge: challenge.to_vec(),
            recovery_keyring,
            registration_response,
        })
    }

    async fn recovery_finish(
        &self,
        caller: &Caller,
        req: RecoveryFinishRequest,
    ) -> Result<Recovered, ApiError> {
        // Malformed parts change nothing: the recovery can still finish.
        let password_file = opaque::server_registration_finish(&req.registration_upload)
            .map_err(|_| malformed("registration upload"))?;
        check_keyring_len(&req.sealed_keyring, "sealed keyring")?;
        self.log_abandoned().await;
        let now = self.now();
        let (pending, _) = self
            .pending
            .recoveries
            .take(now, &req.recovery_id)
            .ok_or_else(|| {
                ApiError::bad_request("This recovery has expired or was already used. Start again.")
            })?;
        let user = match pending.user_id {
            Some(id) => self.user_by_id(&id).await?,
            None => None,
        };
        let proven = user.as_ref().is_some_and(|u| {
            recovery::verify_proof(&u.recovery_verifier, &u.id, &pending.challenge, &req.proof)
                .is_ok()
        });
        let Some(user) = user.filter(|_| proven) else {
            self.record(Draft::own_if_known(
                EventKind::RecoveryFailed,
                pending.user_id.as_ref(),
            ))
            .await?;
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "The username or recovery code is not right.",
            ));
        };
        self.throttle
            .proven(&pending.username, pending.addr, pending.attempt);
        if user.disabled {
            return Err(disabled());
        }
        let (mut ops, ended) = self.end_sessions_ops(&user.id, None).await?;
        let new = self.new_session(caller, &user.id, now).await?;
        ops.extend(new.ops);
        let sealed = req.sealed_keyring;
        let mut totp_removed = false;
        let event = Draft::own(EventKind::AccountRecovered, &user.id).session(&new.hash);
        let updated = self
            .update_user(&user.id, event, |rec| {
                if rec.disabled {
                    return Err(disabled());
                }
                rec.password_file = password_file.clone();
                rec.sealed_keyring = sealed.clone();
                totp_removed = rec.totp_enabled();
                rec.totp_sealed = None;
                rec.totp_secret = None;
                rec.totp_last_step = None;
                rec.last_sign_in = Some(now);
                Ok(ops.clone())
            })
            .await?;
        caller.set_session_cookie(new.token);
        self.throttle.succeed(&updated.username);
        tracing::info!(ended, "account recovered");
        Ok(Recovered {
            session: self.session_info(&updated, now),
            ended_sessions: ended,
            totp_removed,
        })
    }

    async fn totp_enable_start(
        &self,
        caller: &Caller,
        req: TotpEnableStartRequest,
    ) -> Result<TotpEnableStarted, ApiError> {
        let s = self.require_session(caller).await?;
        if s.user.totp_enabled() {
            return Err(totp_already_on());
        }
        let (enable_id, ke2) = self
            .start_password_proof(&s, caller, &req.ke1, &self.pending.totp_enables)
            .await?;
        Ok(TotpEnableStarted { enable_id, ke2 })
    }

    async fn totp_enable(
        &self,
        caller: &Caller,
        req: TotpEnableRequest,
    ) -> Result<SessionInfo, ApiError> {
        let s = self.require_session(caller).await?;
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
        self.throttle.succeed(&s.user.username);
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

    async fn totp_disable(&self, caller: &Caller, code: String) -> Result<SessionInfo, ApiError> {
        let s = self.require_session(caller).await?;
        let Some(secret) = self.totp_secret_of(&s.user)? else {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "No second factor is on.",
            ));
        };
        let now = self.now();
        self.throttle
            .check(&s.user.username, caller.client_addr, now)?;
        let step = match verify_totp(&secret, &code, now, s.user.totp_last_step) {
            Ok(step) => step,
            Err(e) => {
                if e.code == ErrorCode::Unauthorized {
                    self.throttle
                        .fail(&s.user.username, caller.client_addr, now);
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
