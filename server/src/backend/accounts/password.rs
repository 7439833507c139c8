//! Changing the password: a fresh proof of the old one, then the new OPAQUE
//! registration and keyring, and every other session ended.

use shared::{
    api::{
        account::{
            PasswordBackend, PasswordChangeFinishRequest, PasswordChangeStartRequest,
            PasswordChangeStarted, SessionsEnded,
        },
        ApiError, Caller,
    },
    audit::EventKind,
    crypto::opaque,
};

use super::{
    checks::{check_keyring_len, malformed},
    password_proof::ProofWords,
};
use crate::backend::{audit::Draft, ServerBackend};

#[async_trait::async_trait]
impl PasswordBackend for ServerBackend {
    /// Step 1 of a password change: a fresh password proof and the new registration.
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

    /// Step 2 of a password change: checks the proof, swaps the password file and
    /// keyring, and ends every other session.
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
        self.throttle.succeed(&s.user.username).await;
        tracing::info!(ended, "password changed");
        Ok(SessionsEnded {
            ended_sessions: ended,
        })
    }
}
