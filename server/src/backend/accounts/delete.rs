//! A patient deleting their account (`account/delete/start` and `/finish`).
//!
//! Like a password change it needs the session and a fresh proof of the
//! password, and the username typed again. Then, in order: shares naming
//! the patient are declined, the record is erased (every node, version,
//! chunk and unfinished upload), the patient's grants, requests and
//! notifications go, and one last batch deletes the account record, its key
//! pins and every session, with the `account_deleted` event. The username
//! stays taken (its index keeps the old id, which names no account), so
//! nobody can sign up under it and be taken for the patient by the doctors
//! who knew them. The audit log keeps every event, which holds ids only.

use shared::{
    account::Username,
    api::{
        account::{
            AccountDeleted, DeleteAccountBackend, DeleteAccountFinishRequest,
            DeleteAccountStartRequest, DeleteAccountStarted,
        },
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    model::{Id, Role},
};

use super::{password_proof::ProofWords, pins::pins_key};
use crate::{
    backend::{audit::Draft, sessions::Session, store_error, users::user_key, ServerBackend},
    store::{Batch, Space, StoreError},
};

/// Whether `typed` (as a person typed it to confirm a deletion) names the
/// account `username`, after the username rules of sign-up.
pub(crate) fn names(typed: &str, username: &str) -> bool {
    Username::parse(typed).is_ok_and(|t| t.as_str() == username)
}

/// Only a patient deletes their own account here.
fn patient_only(s: &Session) -> Result<(), ApiError> {
    if s.user.role == Role::Patient {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::Forbidden,
        "Only a patient deletes their own account. Ask your administrator to remove this one.",
    ))
}

#[async_trait::async_trait]
impl DeleteAccountBackend for ServerBackend {
    async fn delete_account_start(
        &self,
        caller: &Caller,
        req: DeleteAccountStartRequest,
    ) -> Result<DeleteAccountStarted, ApiError> {
        let s = self.require_session(caller).await?;
        patient_only(&s)?;
        let (delete_id, ke2) = self
            .start_password_proof(&s, caller, &req.ke1, &self.pending.deletions)
            .await?;
        Ok(DeleteAccountStarted { delete_id, ke2 })
    }

    async fn delete_account_finish(
        &self,
        caller: &Caller,
        req: DeleteAccountFinishRequest,
    ) -> Result<AccountDeleted, ApiError> {
        let s = self.require_session(caller).await?;
        patient_only(&s)?;
        // A wrong username changes nothing: the deletion can still finish.
        if !names(&req.username, &s.user.username) {
            return Err(ApiError::bad_request(
                "Type your username exactly as shown to confirm. Nothing was deleted.",
            ));
        }
        self.finish_password_proof(
            &s,
            &self.pending.deletions,
            &req.delete_id,
            &req.ke3,
            ProofWords {
                expired: "Deleting the account took too long or was already done. Start again.",
                failed: EventKind::AccountDeleteFailed,
                wrong: "The password is not right. Nothing was deleted.",
            },
        )
        .await?;
        self.throttle.succeed(&s.user.username).await;
        let me = s.user.id;
        let event = Draft::own(EventKind::AccountDeleted, &me).session(&s.hash);
        self.erase_account(&me, (&me, &s.hash), event).await
    }
}

impl ServerBackend {
    /// Erases the account `user` and everything of it (the steps in the
    /// module's docs); `by` names who does it in the events of the shares it
    /// ends, `event` is the last write's `account_deleted`.
    pub(crate) async fn erase_account(
        &self,
        user: &Id,
        by: (&Id, &[u8; 32]),
        event: Draft,
    ) -> Result<AccountDeleted, ApiError> {
        let grants = self.erase_sharing(user, by).await?;
        let erased = self.erase_record(user).await?;
        let mut batch = Batch::new();
        batch
            .delete(Space::Users, user_key(user))
            .delete(Space::Users, pins_key(user));
        for op in self.end_sessions_ops(user, None).await?.0 {
            batch.push(op);
        }
        self.append(batch, event).await.map_err(|e| match e {
            StoreError::Conflict => ApiError::new(
                ErrorCode::Conflict,
                "The account changed at the same time. Try again.",
            ),
            e => store_error(e),
        })?;
        tracing::info!(
            nodes = erased.nodes,
            chunks = erased.chunks,
            grants,
            "account deleted"
        );
        Ok(AccountDeleted {
            nodes: erased.nodes,
            chunks: erased.chunks,
            grants,
        })
    }
}
