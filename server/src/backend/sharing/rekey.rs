//! Folders whose keys must be replaced, and the call that lists them
//! (`sharing/rotation/pending`).
//!
//! Ending a grant (the patient removes it, the doctor declines it, or its end
//! date is first noticed past) notes its folder in the same batch; a
//! committed rotation of that folder, or of one above it, deletes the note.
//! The list is a reminder that survives reloads and devices: the patient's
//! browser works out the same from the signed grants and its own memory and
//! does not rely on this list alone.

use std::collections::HashSet;

use shared::{
    api::{
        sharing::{GrantStatus, OpenUpload, OwedRotations, RekeyDue, MAX_DUE_GRANTS},
        ApiError,
    },
    audit::EventKind,
    model::{Grant, Id, Role},
};

use super::layout::{grant_key, rekey_due_key, rekey_due_prefix, StoredGrant, StoredRekeyDue};
use crate::{
    backend::{
        audit::Draft,
        records::{encode, layout::rotation_key, rotation::StoredRotation, Names},
        sessions::Session,
        store_error, ServerBackend,
    },
    store::{codec, Batch, Space, StoreError},
};

impl ServerBackend {
    /// Adds to `batch` the note that `grant`'s folder needs new keys, as the
    /// grant ends in this batch. The patient's lock must be held.
    pub(crate) async fn note_rekey_due(
        &self,
        batch: &mut Batch,
        grant: &Grant,
    ) -> Result<(), ApiError> {
        let key = rekey_due_key(&grant.patient_id, &grant.node_id);
        let mut due = match self.load::<StoredRekeyDue>(Space::Grants, &key).await? {
            Some((raw, due)) => {
                batch.expect_value(Space::Grants, key.clone(), raw);
                due
            }
            None => {
                batch.expect_absent(Space::Grants, key.clone());
                StoredRekeyDue {
                    grant_ids: Vec::new(),
                    since: self.now(),
                }
            }
        };
        if !due.grant_ids.contains(&grant.grant_id) {
            due.grant_ids.push(grant.grant_id);
        }
        if due.grant_ids.len() > MAX_DUE_GRANTS {
            let extra = due.grant_ids.len() - MAX_DUE_GRANTS;
            due.grant_ids.drain(..extra);
        }
        batch.put(Space::Grants, key, encode(&due)?);
        Ok(())
    }

    /// Every folder of `owner`'s record noted as needing new keys, with its
    /// stored bytes.
    async fn rekey_due_rows(
        &self,
        owner: &Id,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>, StoredRekeyDue)>, ApiError> {
        let rows = self
            .store
            .scan_prefix(Space::Grants, &rekey_due_prefix(owner), None, usize::MAX)
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|(key, raw)| {
                let due = codec::decode(&raw).map_err(store_error)?;
                Ok((key, raw, due))
            })
            .collect()
    }

    /// Adds to `batch` the deletion of the notes of every folder in `nodes`,
    /// whose keys the batch replaces (each only if unchanged since read).
    pub(crate) async fn clear_rekey_due(
        &self,
        batch: &mut Batch,
        owner: &Id,
        nodes: &HashSet<Id>,
    ) -> Result<(), ApiError> {
        for (key, raw, _) in self.rekey_due_rows(owner).await? {
            let node = key
                .len()
                .checked_sub(16)
                .and_then(|at| key.get(at..))
                .and_then(|tail| <Id>::try_from(tail).ok());
            if node.is_some_and(|n| nodes.contains(&n)) {
                batch
                    .expect_value(Space::Grants, key.clone(), raw)
                    .delete(Space::Grants, key);
            }
        }
        Ok(())
    }

    /// Logs a grant's expiry once (`grant_expired`), notes its folder as
    /// needing new keys in the same batch, and drops the doctor's uploads
    /// that can no longer finish. Takes the patient's lock.
    pub(super) async fn log_expiry(&self, seen: StoredGrant) -> Result<StoredGrant, ApiError> {
        let (patient, doctor) = (seen.grant.value.patient_id, seen.grant.value.doctor_id);
        let _guard = self.record_locks.lock(&patient).await;
        let Some((raw, grant)) = self.stored_grant(&seen.grant.value.grant_id).await? else {
            return Ok(seen);
        };
        if grant.expiry_logged || grant.status(self.now()) != GrantStatus::Expired {
            return Ok(grant);
        }
        let marked = StoredGrant {
            expiry_logged: true,
            ..grant
        };
        let key = grant_key(&marked.grant.value.grant_id);
        let mut batch = Batch::new();
        batch.expect_value(Space::Grants, key.clone(), raw).put(
            Space::Grants,
            key,
            encode(&marked)?,
        );
        self.note_rekey_due(&mut batch, &marked.grant.value).await?;
        let draft = Draft::new(EventKind::GrantExpired)
            .subject(&patient)
            .item(&marked.grant.value.node_id);
        match self.append(batch, draft).await {
            Ok(_) => {}
            // Changed meanwhile: the next list notices it again.
            Err(StoreError::Conflict) => return Ok(marked),
            Err(e) => return Err(store_error(e)),
        }
        self.drop_orphaned_uploads(&patient, Some(&doctor)).await?;
        Ok(marked)
    }
}

/// The key replacements still owed in the caller's record: the folders
/// noted, the rotation under way, and the unfinished uploads. Anyone but a
/// patient has none.
pub(super) async fn pending(b: &ServerBackend, s: &Session) -> Result<OwedRotations, ApiError> {
    if s.user.role != Role::Patient {
        return Ok(OwedRotations::default());
    }
    let me = s.user.id;
    // An end date passed since anyone last looked is noticed now.
    let now = b.now();
    for (_, grant) in b.grants_of_patient(&me).await? {
        if !grant.expiry_logged && grant.status(now) == GrantStatus::Expired {
            b.log_expiry(grant).await?;
        }
    }
    let mut folders = Vec::new();
    for (key, _, due) in b.rekey_due_rows(&me).await? {
        let Some(node_id) = key
            .len()
            .checked_sub(16)
            .and_then(|at| key.get(at..))
            .and_then(|tail| <Id>::try_from(tail).ok())
        else {
            continue;
        };
        // A folder emptied out of the trash since has no keys left to replace.
        if b.stored_node(&me, &node_id).await?.is_some() {
            folders.push(RekeyDue {
                node_id,
                grant_ids: due.grant_ids,
                since: due.since,
            });
        }
    }
    let under_way = b
        .load::<StoredRotation>(Space::Records, &rotation_key(&me))
        .await?
        .map(|(_, r)| r.scope);
    let mut names = Names::new();
    let mut uploads = Vec::new();
    for (_, u) in b.open_uploads(&me).await? {
        if u.dropping || now >= u.expires_at {
            continue;
        }
        let uploader_id = u.uploader.unwrap_or(me);
        uploads.push(OpenUpload {
            node_id: u.node_id,
            version: u.version,
            target_id: u
                .new_node
                .as_ref()
                .and_then(|n| n.parent_id)
                .unwrap_or(u.node_id),
            uploader_name: b.author_name(&uploader_id, &mut names).await?,
            uploader_id,
            started_at: u.started_at,
        });
    }
    Ok(OwedRotations {
        folders,
        under_way,
        uploads,
    })
}

impl ServerBackend {
    /// Writes a grant that ends in `batch` (removed or declined; the
    /// patient's lock held) with its event, notes its folder as needing new
    /// keys in the same batch, then drops the doctor's uploads that can no
    /// longer finish, so that none holds up the rotation. Answers its view.
    pub(super) async fn save_ended_grant(
        &self,
        mut batch: Batch,
        stored: StoredGrant,
        draft: Draft,
    ) -> Result<shared::api::sharing::GrantView, ApiError> {
        let (patient, doctor) = (stored.grant.value.patient_id, stored.grant.value.doctor_id);
        self.note_rekey_due(&mut batch, &stored.grant.value).await?;
        self.append(batch, draft).await.map_err(|e| match e {
            StoreError::Conflict => crate::backend::records::conflict(
                "This access changed meanwhile. Reload and try again.",
            ),
            e => store_error(e),
        })?;
        self.drop_orphaned_uploads(&patient, Some(&doctor)).await?;
        self.grant_view(stored, &mut Names::new()).await
    }
}
