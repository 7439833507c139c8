//! Attempts started and never finished: a sign-in, a recovery or a password
//! proof that expired or was evicted unfinished is recorded as a failure in the
//! audit log, at each start and finish and once a minute.

use shared::audit::EventKind;

use crate::backend::{audit::Draft, ServerBackend};

impl ServerBackend {
    /// Records a failure event for every sign-in, recovery and password change of
    /// an existing account that was started and then expired or was evicted
    /// unfinished. Runs before each of those calls and once a minute
    /// ([`ServerBackend::spawn_abandoned_logger`]); a store failure loses those
    /// events (logged) rather than failing the caller's request.
    pub(crate) async fn log_abandoned(&self) {
        let now = self.now();
        self.pending.sweep_quiet(now).await;
        self.throttle.sweep(now).await;
        let mut drafts = Vec::new();
        for login in self.pending.logins.drain_abandoned(now).await {
            if let Some(id) = login.user_id {
                drafts.push(Draft::own(EventKind::SignInFailed, &id));
            }
        }
        for recovery in self.pending.recoveries.drain_abandoned(now).await {
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
            (&self.pending.deletions, EventKind::AccountDeleteFailed),
        ] {
            for proof in proofs.drain_abandoned(now).await {
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
}
