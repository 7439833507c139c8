//! Reading grants and requests: one by id, or every one listed under an
//! index prefix of [`super::layout`].

use shared::{
    api::ApiError,
    model::{Id, Permission},
    sharing::{grant_allows, GrantTime},
};

use super::layout::{
    doctor_grants_prefix, grant_key, patient_grants_prefix, request_key, StoredGrant, StoredRequest,
};
use crate::{
    backend::{sessions::Session, store_error, ServerBackend},
    store::{Space, StoreError},
};

/// Index keys read per store scan when listing grants or requests.
const INDEX_PAGE: usize = 512;

impl ServerBackend {
    /// A grant with its stored bytes (for preconditions).
    pub(crate) async fn stored_grant(
        &self,
        grant: &Id,
    ) -> Result<Option<(Vec<u8>, StoredGrant)>, ApiError> {
        self.load(Space::Grants, &grant_key(grant)).await
    }

    /// The ids at the end of every index key under `prefix`, read a page at a
    /// time. Nothing is cut off: ids are chosen by whoever makes a grant, so a
    /// window in key order would let anyone push real entries out of view.
    pub(super) async fn ids_under(&self, prefix: &[u8]) -> Result<Vec<Id>, ApiError> {
        let mut out = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let rows = self
                .store
                .scan_prefix(Space::Grants, prefix, after.as_deref(), INDEX_PAGE)
                .await
                .map_err(store_error)?;
            let full = rows.len() == INDEX_PAGE;
            for (key, _) in &rows {
                let id = key
                    .get(prefix.len()..)
                    .and_then(|tail| <Id>::try_from(tail).ok())
                    .ok_or_else(|| {
                        store_error(StoreError::Corrupt("a sharing index key".into()))
                    })?;
                out.push(id);
            }
            match rows.into_iter().last() {
                Some((key, _)) if full => after = Some(key),
                _ => return Ok(out),
            }
        }
    }

    /// The grants under an index prefix (`2 ‖ patient` or `3 ‖ doctor`), with
    /// their stored bytes (for preconditions).
    pub(super) async fn grant_rows_under(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, StoredGrant)>, ApiError> {
        let mut out = Vec::new();
        for id in self.ids_under(prefix).await? {
            if let Some(found) = self.stored_grant(&id).await? {
                out.push(found);
            }
        }
        Ok(out)
    }

    /// The grants under an index prefix, without their stored bytes.
    pub(super) async fn grants_under(&self, prefix: Vec<u8>) -> Result<Vec<StoredGrant>, ApiError> {
        Ok(self
            .grant_rows_under(&prefix)
            .await?
            .into_iter()
            .map(|(_, grant)| grant)
            .collect())
    }

    /// A patient's grants with their stored bytes (for preconditions).
    pub(crate) async fn grants_of_patient(
        &self,
        patient: &Id,
    ) -> Result<Vec<(Vec<u8>, StoredGrant)>, ApiError> {
        self.grant_rows_under(&patient_grants_prefix(patient)).await
    }

    /// The grants naming the caller (as doctor or emergency contact) that are
    /// active now.
    pub(crate) async fn active_received(&self, s: &Session) -> Result<Vec<StoredGrant>, ApiError> {
        let now = self.now();
        Ok(self
            .grants_under(doctor_grants_prefix(&s.user.id))
            .await?
            .into_iter()
            .filter(|g| {
                grant_allows(
                    &g.grant.value,
                    Some(g.status(now)),
                    Permission::Read,
                    GrantTime::Now(now),
                    |_| true,
                )
                .is_ok()
            })
            .collect())
    }

    /// The live grants the caller made or received (not emergency grants
    /// still waiting) whose signed end falls in `from .. until`: what the
    /// notifications call a share ending soon.
    pub(crate) async fn grants_ending(
        &self,
        s: &Session,
        from: i64,
        until: i64,
    ) -> Result<Vec<shared::model::Grant>, ApiError> {
        let me = s.user.id;
        let prefixes = match s.user.role {
            shared::model::Role::Patient => {
                vec![patient_grants_prefix(&me), doctor_grants_prefix(&me)]
            }
            shared::model::Role::Doctor => vec![doctor_grants_prefix(&me)],
            _ => return Ok(Vec::new()),
        };
        let mut out = Vec::new();
        for prefix in prefixes {
            for g in self.grants_under(prefix).await? {
                let ends = g
                    .grant
                    .value
                    .expires_at
                    .is_some_and(|e| e > from && e <= until);
                if ends && g.status(from) == shared::api::sharing::GrantStatus::Active {
                    out.push(g.grant.value);
                }
            }
        }
        Ok(out)
    }

    /// A request with its stored bytes (for preconditions).
    pub(super) async fn stored_request(
        &self,
        request: &Id,
    ) -> Result<Option<(Vec<u8>, StoredRequest)>, ApiError> {
        self.load(Space::Grants, &request_key(request)).await
    }

    /// The requests listed under an index prefix.
    pub(super) async fn requests_under(
        &self,
        prefix: Vec<u8>,
    ) -> Result<Vec<StoredRequest>, ApiError> {
        let mut out = Vec::new();
        for id in self.ids_under(&prefix).await? {
            if let Some((_, request)) = self.stored_request(&id).await? {
                out.push(request);
            }
        }
        Ok(out)
    }
}
