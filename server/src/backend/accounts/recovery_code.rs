//! Replacing the recovery code (`account/recovery-code/start` and `/finish`).
//!
//! The browser draws a new recovery secret, seals the keyring under it and sends
//! the new verifier; the server swaps both in one write, so the old code stops
//! working at once. Like a password change it needs the session and a fresh
//! proof of the password: a session left open on a shared computer is not
//! enough to take the account over by its recovery code.

use shared::{
    api::{
        account::{
            RecoveryCodeBackend, RecoveryCodeFinishRequest, RecoveryCodeStartRequest,
            RecoveryCodeStarted,
        },
        ApiError, Caller,
    },
    audit::EventKind,
};

use super::{checks::check_keyring_len, password_proof::ProofWords};
use crate::backend::{audit::Draft, ServerBackend};

#[async_trait::async_trait]
impl RecoveryCodeBackend for ServerBackend {
    /// Step 1: the server's half of a fresh OPAQUE login for the session's account.
    async fn recovery_code_start(
        &self,
        caller: &Caller,
        req: RecoveryCodeStartRequest,
    ) -> Result<RecoveryCodeStarted, ApiError> {
        let s = self.require_session(caller).await?;
        let (replace_id, ke2) = self
            .start_password_proof(&s, caller, &req.ke1, &self.pending.recovery_codes)
            .await?;
        Ok(RecoveryCodeStarted { replace_id, ke2 })
    }

    /// Step 2: checks the password proof, then replaces the recovery verifier
    /// and the recovery copy of the keyring together, with the audit event.
    async fn recovery_code_finish(
        &self,
        caller: &Caller,
        req: RecoveryCodeFinishRequest,
    ) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        // Malformed parts change nothing: the replacement can still finish.
        check_keyring_len(&req.recovery_keyring, "recovery keyring")?;
        self.finish_password_proof(
            &s,
            &self.pending.recovery_codes,
            &req.replace_id,
            &req.ke3,
            ProofWords {
                expired:
                    "Making a new recovery code took too long or was already done. Start again.",
                failed: EventKind::RecoveryCodeReplaceFailed,
                wrong: "The password is not right.",
            },
        )
        .await?;
        let keyring = req.recovery_keyring;
        let verifier = req.recovery_verifier;
        let event = Draft::own(EventKind::RecoveryCodeReplaced, &s.user.id).session(&s.hash);
        self.update_user(&s.user.id, event, |rec| {
            rec.recovery_keyring = keyring.clone();
            rec.recovery_verifier = verifier;
            Ok(Vec::new())
        })
        .await?;
        self.throttle.succeed(&s.user.username).await;
        tracing::info!("recovery code replaced");
        Ok(())
    }
}
