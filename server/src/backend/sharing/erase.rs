//! A patient's sharing, erased with their account: shares that name them
//! (as someone's emergency contact) are declined first, so that patient's
//! browser replaces the keys; then every grant they made (each doctor's
//! access ends with it), every request made to them, what the server noted
//! for their key rotations, and their notifications.

use shared::api::{
    sharing::{GrantRef, GrantStatus},
    ApiError,
};

use super::{
    grants,
    layout::{
        doctor_grant_key, doctor_grants_prefix, doctor_request_key, grant_key, patient_grant_key,
        patient_grants_prefix, patient_request_key, patient_requests_prefix, pendings_prefix,
        rekey_due_prefix, request_key,
    },
};
use crate::{
    backend::{
        notifications::{notice_prefix, read_key},
        sessions::Session,
        store_error, ServerBackend,
    },
    store::{Batch, Space},
};

impl ServerBackend {
    /// Ends and deletes the sharing of the session's patient; returns how
    /// many grants they had made.
    pub(crate) async fn erase_sharing(&self, s: &Session) -> Result<u64, ApiError> {
        let me = s.user.id;
        let now = self.now();
        for (_, g) in self.grant_rows_under(&doctor_grants_prefix(&me)).await? {
            if matches!(
                g.status(now),
                GrantStatus::Active | GrantStatus::Standby | GrantStatus::Waiting
            ) {
                let grant_id = g.grant.value.grant_id;
                grants::decline(self, s, GrantRef { grant_id }).await?;
            }
        }
        // Ended ones stay their patient's history; only our index goes.
        self.delete_under(Space::Grants, &doctor_grants_prefix(&me))
            .await?;
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
}
