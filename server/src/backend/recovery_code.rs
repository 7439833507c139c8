//! Replacing the recovery code (`account/recovery-code/start` and `/finish`).
//!
//! The browser draws a new recovery secret, seals the keyring under it and sends
//! the new verifier; the server swaps both in one write, so the old code stops
//! working at once. Like a password change it needs the session and a fresh
//! proof of the password: a session left open on a shared computer is not
//! enough to take the account over by its recovery code.

use shared::{
    api::{
        account::{RecoveryCodeFinishRequest, RecoveryCodeStartRequest, RecoveryCodeStarted},
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    crypto::opaque,
};

use super::{
    accounts::{check_keyring_len, finish_login, malformed},
    audit::Draft,
    pending::PendingRecoveryCode,
    ServerBackend,
};

impl ServerBackend {
    /// Step 1: the server's half of a fresh OPAQUE login for the session's account.
    pub(crate) async fn start_recovery_code(
        &self,
        caller: &Caller,
        req: RecoveryCodeStartRequest,
    ) -> Result<RecoveryCodeStarted, ApiError> {
        let s = self.require_session(caller).await?;
        self.log_abandoned().await;
        let now = self.now();
        // Counted now, like every password check: a client knows after KE2
        // whether its guess was right, so only a valid KE3 takes it back.
        let attempt = self
            .throttle
            .admit(&s.user.username, caller.client_addr, now)?;
        let secrets = self.secrets().await?;
        let (state, ke2) = opaque::server_login_start(
            &secrets.opaque,
            s.user.username.as_bytes(),
            Some(&s.user.password_file),
            &req.ke1,
        )
        .map_err(|_| malformed("KE1 message"))?;
        let (replace_id, _) = self.pending.recovery_codes.insert(
            now,
            caller.client_addr,
            PendingRecoveryCode {
                user_id: s.user.id,
                session_hash: s.hash,
                username: s.user.username.clone(),
                addr: caller.client_addr,
                attempt,
                state: state.to_bytes(),
            },
        )?;
        Ok(RecoveryCodeStarted { replace_id, ke2 })
    }

    /// Step 2: checks the password proof, then replaces the recovery verifier
    /// and the recovery copy of the keyring together, with the audit event.
    pub(crate) async fn finish_recovery_code(
        &self,
        caller: &Caller,
        req: RecoveryCodeFinishRequest,
    ) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        // Malformed parts change nothing: the replacement can still finish.
        check_keyring_len(&req.recovery_keyring, "recovery keyring")?;
        if req.ke3.len() != opaque::CREDENTIAL_FINALIZATION_LEN {
            return Err(malformed("KE3 message"));
        }
        self.log_abandoned().await;
        let now = self.now();
        let (pending, _) = self
            .pending
            .recovery_codes
            .take(now, &req.replace_id)
            .filter(|(p, _)| p.user_id == s.user.id && p.session_hash == s.hash)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "Making a new recovery code took too long or was already done. Start again.",
                )
            })?;
        if finish_login(pending.state.as_bytes(), &req.ke3)?.is_err() {
            self.record(
                Draft::own(EventKind::RecoveryCodeReplaceFailed, &s.user.id).session(&s.hash),
            )
            .await?;
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "The password is not right.",
            ));
        }
        self.throttle
            .proven(&pending.username, pending.addr, pending.attempt);
        let keyring = req.recovery_keyring;
        let verifier = req.recovery_verifier;
        let event = Draft::own(EventKind::RecoveryCodeReplaced, &s.user.id).session(&s.hash);
        self.update_user(&s.user.id, event, |rec| {
            rec.recovery_keyring = keyring.clone();
            rec.recovery_verifier = verifier;
            Ok(Vec::new())
        })
        .await?;
        self.throttle.succeed(&s.user.username);
        tracing::info!("recovery code replaced");
        Ok(())
    }
}
