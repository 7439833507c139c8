//! A user's sharing, erased with their account: shares that name them (a
//! doctor's, or a patient's as someone's emergency contact) are declined
//! first, so each patient's browser replaces the keys; then every grant
//! they made (each doctor's access ends), every request made by them or to
//! them, what the server noted for their key rotations, and their
//! notifications.

use shared::{
    api::{sharing::GrantStatus, ApiError},
    audit::EventKind,
    model::Id,
};

use super::{
    grants,
    layout::{
        doctor_grant_key, doctor_grants_prefix, doctor_request_key, doctor_requests_prefix,
        grant_key, patient_grant_key, patient_grants_prefix, patient_request_key,
        patient_requests_prefix, pending_key, pendings_prefix, rekey_due_prefix, request_key,
    },
};
use crate::{
    backend::{
        audit::Draft,
        notifications::{notice_prefix, read_key},
        store_error, ServerBackend,
    },
    store::{Batch, Space},
};

impl ServerBackend {
    /// Ends and deletes the sharing of `user`, the events naming `by` (the
    /// actor and their session); returns how many grants `user` had made.
    pub(crate) async fn erase_sharing(
        &self,
        user: &Id,
        by: (&Id, &[u8; 32]),
    ) -> Result<u64, ApiError> {
        let me = *user;
        self.end_received_sharing(user, by).await?;
        let mut made = 0u64;
        for id in self.ids_under(&patient_grants_prefix(&me)).await? {
            let mut batch = Batch::new();
            if let Some((_, g)) = self.stored_grant(&id).await? {
                batch.delete(
                    Space::Grants,
                    doctor_grant_key(&g.grant.value.doctor_id, &id),
                );
            }
            batch
                .delete(Space::Grants, grant_key(&id))
                .delete(Space::Grants, patient_grant_key(&me, &id));
            self.store.apply(batch).await.map_err(store_error)?;
            made = made.saturating_add(1);
        }
        for id in self.ids_under(&patient_requests_prefix(&me)).await? {
            let mut batch = Batch::new();
            if let Some((_, r)) = self.stored_request(&id).await? {
                batch.delete(Space::Grants, doctor_request_key(&r.doctor_id, &id));
            }
            batch
                .delete(Space::Grants, request_key(&id))
                .delete(Space::Grants, patient_request_key(&me, &id));
            self.store.apply(batch).await.map_err(store_error)?;
        }
        for prefix in [
            pendings_prefix(&me),
            rekey_due_prefix(&me),
            notice_prefix(&me),
        ] {
            self.delete_under(Space::Grants, &prefix).await?;
        }
        self.store
            .delete(Space::Grants, read_key(&me))
            .await
            .map_err(store_error)?;
        Ok(made)
    }

    /// Ends what `user` holds as a recipient: every live share naming them is
    /// declined (each patient's browser then replaces the keys) and our index
    /// of them goes, and the requests for access they made are withdrawn.
    /// For a deleted account and for a doctor who is one no more.
    pub(crate) async fn end_received_sharing(
        &self,
        user: &Id,
        by: (&Id, &[u8; 32]),
    ) -> Result<(), ApiError> {
        let me = *user;
        let now = self.now();
        for (_, g) in self.grant_rows_under(&doctor_grants_prefix(&me)).await? {
            if matches!(
                g.status(now),
                GrantStatus::Active | GrantStatus::Standby | GrantStatus::Waiting
            ) {
                let draft = Draft::new(EventKind::GrantDeclined)
                    .actor(by.0)
                    .session(by.1);
                grants::decline_named(self, &me, &g.grant.value.grant_id, draft).await?;
            }
        }
        // Ended ones stay their patient's history; only our index goes.
        self.delete_under(Space::Grants, &doctor_grants_prefix(&me))
            .await?;
        // Requests this user made (a doctor's).
        for id in self.ids_under(&doctor_requests_prefix(&me)).await? {
            let mut batch = Batch::new();
            if let Some((_, r)) = self.stored_request(&id).await? {
                batch
                    .delete(Space::Grants, patient_request_key(&r.patient_id, &id))
                    .delete(Space::Grants, pending_key(&r.patient_id, &me));
            }
            batch
                .delete(Space::Grants, request_key(&id))
                .delete(Space::Grants, doctor_request_key(&me, &id));
            self.store.apply(batch).await.map_err(store_error)?;
        }
        Ok(())
    }
}
