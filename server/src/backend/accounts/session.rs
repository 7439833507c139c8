//! Signing out, here or everywhere, and the list of one's own sessions.

use shared::{
    api::{
        account::{SessionBackend, SessionInfo, SessionSummary, SessionsEnded},
        ApiError, Caller,
    },
    audit::EventKind,
};

use crate::{
    backend::{
        audit::Draft,
        sessions::{end_session_ops, public_id},
        store_error, ServerBackend,
    },
    store::Batch,
};

#[async_trait::async_trait]
impl SessionBackend for ServerBackend {
    /// The caller's session, if it is valid.
    async fn current_session(&self, caller: &Caller) -> Result<Option<SessionInfo>, ApiError> {
        Ok(self
            .session(caller)
            .await?
            .map(|s| self.session_info(&s.user, s.record.created_at)))
    }

    /// Ends the caller's session, if any, and clears the cookie.
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

    /// Ends every session of the caller's account, this one included.
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

    /// The caller's sessions, for the session list.
    async fn sessions(&self, caller: &Caller) -> Result<Vec<SessionSummary>, ApiError> {
        let s = self.require_session(caller).await?;
        self.session_summaries(&s).await
    }

    /// Ends one of the caller's sessions, named by its public id.
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
}
