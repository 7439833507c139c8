//! A user accepting the role an admin gave them (`account/key-entry`): the
//! same directory entry, signed again by the user's identity key with the
//! role the server now records. Only the role may differ, so the server
//! cannot be handed other keys this way, and browsers' pins (over the keys)
//! stay as they are.

use shared::{
    api::{
        account::{KeyEntryBackend, SessionInfo},
        ApiError, Caller,
    },
    audit::EventKind,
    crypto::sign::Signed,
    model::KeyEntry,
};

use crate::backend::{audit::Draft, ServerBackend};

#[async_trait::async_trait]
impl KeyEntryBackend for ServerBackend {
    async fn renew_key_entry(
        &self,
        caller: &Caller,
        entry: Signed<KeyEntry>,
    ) -> Result<SessionInfo, ApiError> {
        // Before a required second factor, too: the entry is the user's own
        // statement and changes nothing the server lets them do.
        let s = self.require_session_enrolling(caller).await?;
        let bad = || {
            ApiError::bad_request(
                "This directory entry is not your current one with your new role. Sign in again.",
            )
        };
        let new = entry.verify_self().map_err(|_| bad())?;
        let old = &s.user.key_entry.value;
        // The stored entry with the recorded role, and nothing else changed.
        let wanted = KeyEntry {
            role: s.user.role,
            ..old.clone()
        };
        if *new != wanted {
            return Err(bad());
        }
        if *old == *new {
            // Already renewed (another tab, a retry): nothing to do.
            return Ok(self.session_info(&s.user, s.record.created_at));
        }
        let event = Draft::new(EventKind::KeyEntryRenewed)
            .actor(&s.user.id)
            .session(&s.hash)
            .subject(&s.user.id);
        let updated = self
            .update_user(&s.user.id, event, |user| {
                // The role or the entry changed meanwhile: this one is stale.
                if user.role != wanted.role || user.key_entry.value != *old {
                    return Err(bad());
                }
                user.key_entry = entry.clone();
                Ok(Vec::new())
            })
            .await?;
        tracing::info!("directory entry renewed for a new role");
        Ok(self.session_info(&updated, s.record.created_at))
    }
}
