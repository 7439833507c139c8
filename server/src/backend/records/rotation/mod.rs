//! Key rotation after a revocation: the patient's browser gives every node
//! under a folder a new key, re-wraps the content keys and the remaining
//! grants, and the server applies it all in one atomic write, only if it
//! covers that subtree exactly and the record did not change meanwhile.
//!
//! Its keys (Records tags 8 and 9) are in [`super::layout`]; the commit,
//! which checks the parts against the subtree and applies them, is in
//! `commit`.

mod commit;

use std::collections::{HashMap, HashSet};

pub(crate) use commit::commit;

use serde::{Deserialize, Serialize};
use shared::{
    api::{
        records::NodeKind,
        sharing::{
            ContentKey, RekeyedGrant, RotationPart, RotationTicket, StartRotation,
            MAX_ROTATION_PART,
        },
        ApiError, ErrorCode,
    },
    crypto::{b64, hpke},
    model::{Id, Role},
};

use super::{
    check_metadata, conflict, encode, head_ops,
    layout::{
        rotation_key, rotation_part_key, rotation_parts_prefix, versions_prefix, RecordHead,
        StoredNode, StoredVersion,
    },
    next_head, Names, CHILD_KEY_LEN, CONTENT_KEY_LEN,
};
use crate::{
    authz,
    backend::{sessions::Session, sharing::layout::StoredGrant, store_error, ServerBackend},
    store::{codec, Batch, Space, StoreError},
};

/// Most parts one rotation may have.
const MAX_PARTS: u32 = 1000;

/// A rotation under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRotation {
    /// Its id.
    #[serde(with = "b64::array")]
    pub rotation_id: Id,
    /// The folder.
    #[serde(with = "b64::array")]
    pub scope: Id,
    /// The record head's `seq` when it started, or when its last part was
    /// stored (which moves the head to count the part): any other change
    /// since voids it.
    pub head_seq: u64,
    /// Bytes of its stored parts, counted in the head's `reserved_bytes`
    /// (against the quota) until the rotation is committed or dropped.
    #[serde(default)]
    pub reserved: u64,
}

/// What a rotation must cover, read from the store.
struct Subtree {
    nodes: Vec<(Vec<u8>, StoredNode)>,
    versions: Vec<(Vec<u8>, Id, StoredVersion)>,
    grants: Vec<(Vec<u8>, StoredGrant)>,
}

/// The refusal for anyone but a patient.
const ONLY_THE_PATIENT: &str = "Only the patient who owns a record replaces its keys.";

fn restart() -> ApiError {
    conflict("Your record changed while its keys were being replaced. Start again.")
}

impl ServerBackend {
    /// Every node under `scope` (itself included, trashed ones too), their
    /// complete versions, and the active grants on any of them.
    async fn subtree(&self, owner: &Id, scope: &Id) -> Result<Subtree, ApiError> {
        let mut by_parent: HashMap<Id, Vec<(Vec<u8>, StoredNode)>> = HashMap::new();
        let mut top = None;
        for (raw, node) in self.all_node_rows(owner).await? {
            if node.node_id == *scope {
                top = Some((raw, node));
            } else if let Some(parent) = node.parent_id {
                by_parent.entry(parent).or_default().push((raw, node));
            }
        }
        let top = top.ok_or_else(ApiError::not_found)?;
        let mut nodes = vec![top];
        let mut i = 0;
        while i < nodes.len() {
            let id = nodes[i].1.node_id;
            if let Some(kids) = by_parent.remove(&id) {
                nodes.extend(kids);
            }
            i += 1;
        }
        let mut versions = Vec::new();
        for (_, node) in &nodes {
            if node.kind != NodeKind::File {
                continue;
            }
            let rows = self
                .store
                .scan_prefix(
                    Space::Records,
                    &versions_prefix(&node.node_id),
                    None,
                    usize::MAX,
                )
                .await
                .map_err(store_error)?;
            for (_, raw) in rows {
                let v: StoredVersion = codec::decode(&raw).map_err(store_error)?;
                versions.push((raw, node.node_id, v));
            }
        }
        let ids: HashSet<Id> = nodes.iter().map(|(_, n)| n.node_id).collect();
        let now = self.now();
        let mut grants = Vec::new();
        for g in self.grants_of_patient(owner).await? {
            if g.1.status(now).is_live() && ids.contains(&g.1.grant.value.node_id) {
                grants.push(g);
            }
        }
        Ok(Subtree {
            nodes,
            versions,
            grants,
        })
    }

    async fn rotation(&self, owner: &Id, id: &Id) -> Result<(Vec<u8>, StoredRotation), ApiError> {
        self.load::<StoredRotation>(Space::Records, &rotation_key(owner))
            .await?
            .filter(|(_, r)| r.rotation_id == *id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "This key replacement is no longer under way. Start again.",
                )
            })
    }

    /// The rotation under way, whatever its id, as stored.
    async fn rotation_under_way(
        &self,
        owner: &Id,
    ) -> Result<Option<(Vec<u8>, StoredRotation)>, ApiError> {
        self.load::<StoredRotation>(Space::Records, &rotation_key(owner))
            .await
    }

    /// Adds to `batch` the head that gives back what the rotation `held` in
    /// stored parts (with a precondition on the rotation as read), and
    /// answers it; `head` itself if it held nothing.
    fn release(
        batch: &mut Batch,
        owner: &Id,
        head_raw: &[u8],
        head: &RecordHead,
        held: Option<(Vec<u8>, StoredRotation)>,
    ) -> Result<RecordHead, ApiError> {
        let Some((raw, rotation)) = held.filter(|(_, r)| r.reserved > 0) else {
            return Ok(head.clone());
        };
        let new_head = next_head(head, |h| {
            h.reserved_bytes = h.reserved_bytes.saturating_sub(rotation.reserved);
        });
        head_ops(batch, owner, head_raw, &new_head)?;
        batch.expect_value(Space::Records, rotation_key(owner), raw);
        Ok(new_head)
    }

    /// Deletes the parts of an earlier rotation.
    fn drop_parts(batch: &mut Batch, owner: &Id, keys: Vec<Vec<u8>>) {
        for key in keys {
            batch.delete(Space::Records, key);
        }
        batch.delete(Space::Records, rotation_key(owner));
    }

    async fn part_keys(&self, owner: &Id) -> Result<Vec<Vec<u8>>, ApiError> {
        Ok(self
            .store
            .scan_prefix(
                Space::Records,
                &rotation_parts_prefix(owner),
                None,
                usize::MAX,
            )
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }
}

/// A kept grant as the patient's browser signed it again over its new
/// wrapped key: for this grant id, signed by the caller, its `key_hash` the
/// SHA-256 of the new key. That it changes nothing else is checked at commit,
/// against the grant stored then.
fn check_resigned_grant(s: &Session, g: &RekeyedGrant) -> Result<(), ApiError> {
    if g.grant.value.grant_id != g.grant_id {
        return Err(ApiError::bad_request(
            "A re-signed grant names another grant than the one it re-keys.",
        ));
    }
    g.grant
        .verify(&s.user.key_entry.value.identity_key)
        .map_err(|_| {
            ApiError::bad_request(
                "A re-signed grant is not signed with your key. Sign out, sign in again and retry.",
            )
        })?;
    if shared::sharing::wrapped_key_hash(&g.wrapped_key) != g.grant.value.key_hash {
        return Err(ApiError::bad_request(
            "A re-signed grant's key hash is not the hash of its new key.",
        ));
    }
    Ok(())
}

pub(crate) async fn start(
    b: &ServerBackend,
    s: &Session,
    StartRotation { node_id: scope }: StartRotation,
) -> Result<RotationTicket, ApiError> {
    authz::require_role(s, Role::Patient, ONLY_THE_PATIENT)?;
    let owner = s.user.id;
    let _guard = b.record_locks.lock(&owner).await;
    // Uploads that can never finish (expired, or a doctor's whose access
    // ended) would only hold up the commit: they go first.
    b.sweep_uploads(&owner).await?;
    b.drop_orphaned_uploads(&owner, None).await?;
    let (head_raw, head) = b.existing_head(&owner).await?;
    // A folder's subtree, or a file alone (a share of one file ended);
    // `not_found` unless the scope is a node of the caller's record.
    let subtree = b.subtree(&owner, &scope).await?;
    let mut rotation_id = [0u8; 16];
    shared::crypto::rng::fill(&mut rotation_id).map_err(|_| ApiError::internal())?;
    let mut batch = Batch::new();
    let earlier = b.rotation_under_way(&owner).await?;
    let head = ServerBackend::release(&mut batch, &owner, &head_raw, &head, earlier)?;
    ServerBackend::drop_parts(&mut batch, &owner, b.part_keys(&owner).await?);
    let stored = StoredRotation {
        rotation_id,
        scope,
        head_seq: head.seq,
        reserved: 0,
    };
    batch.put(Space::Records, rotation_key(&owner), encode(&stored)?);
    b.commit(batch, None).await?;
    let mut names = Names::new();
    let mut grants = Vec::with_capacity(subtree.grants.len());
    for (_, g) in subtree.grants {
        grants.push(b.grant_view(g, &mut names).await?);
    }
    Ok(RotationTicket {
        rotation_id,
        nodes: subtree.nodes.iter().map(|(_, n)| n.node_id).collect(),
        versions: subtree
            .versions
            .into_iter()
            .map(|(_, node_id, v)| ContentKey {
                node_id,
                version: v.version,
                wrapped_content_key: v.wrapped_content_key,
            })
            .collect(),
        grants,
    })
}

pub(crate) async fn store_part(
    b: &ServerBackend,
    s: &Session,
    part: RotationPart,
) -> Result<(), ApiError> {
    authz::require_role(s, Role::Patient, ONLY_THE_PATIENT)?;
    let owner = s.user.id;
    let items = part.nodes.len() + part.versions.len() + part.grants.len();
    if items > MAX_ROTATION_PART {
        return Err(ApiError::bad_request(format!(
            "A part holds at most {MAX_ROTATION_PART} items."
        )));
    }
    if part.index >= MAX_PARTS {
        return Err(ApiError::bad_request(format!(
            "A key replacement has at most {MAX_PARTS} parts."
        )));
    }
    for n in &part.nodes {
        check_metadata(&n.metadata)?;
        if n.wrapped_key.len() != CHILD_KEY_LEN && n.wrapped_key.len() != hpke::WRAPPED_LEN {
            return Err(ApiError::bad_request("A new node key has the wrong size."));
        }
    }
    if part
        .versions
        .iter()
        .any(|v| v.wrapped_content_key.len() != CONTENT_KEY_LEN)
    {
        return Err(ApiError::bad_request(
            "A re-wrapped content key has the wrong size.",
        ));
    }
    if part
        .grants
        .iter()
        .any(|g| g.wrapped_key.len() != hpke::WRAPPED_LEN)
    {
        return Err(ApiError::bad_request(
            "A grant's new wrapped key has the wrong size.",
        ));
    }
    for g in &part.grants {
        check_resigned_grant(s, g)?;
    }
    let _guard = b.record_locks.lock(&owner).await;
    let (raw, rotation) = b.rotation(&owner, &part.rotation_id).await?;
    let (head_raw, head) = b.existing_head(&owner).await?;
    if head.seq != rotation.head_seq {
        // The record changed since the start: this rotation can never
        // commit, so its parts are dropped now rather than kept counted.
        let mut batch = Batch::new();
        ServerBackend::release(&mut batch, &owner, &head_raw, &head, Some((raw, rotation)))?;
        ServerBackend::drop_parts(&mut batch, &owner, b.part_keys(&owner).await?);
        b.store.apply(batch).await.map_err(store_error)?;
        return Err(restart());
    }
    // Stored parts count against the quota like any other bytes; a part
    // sent again replaces the old one's count.
    let bytes = encode(&part)?;
    let replaced = b
        .store
        .get(Space::Records, &rotation_part_key(&owner, part.index))
        .await
        .map_err(store_error)?
        .map_or(0, |old| old.len() as u64);
    let len = bytes.len() as u64;
    if len > replaced {
        b.check_quota(&head, len - replaced)?;
    }
    let new_head = next_head(&head, |h| {
        h.reserved_bytes = h
            .reserved_bytes
            .saturating_sub(replaced)
            .saturating_add(len);
    });
    let updated = StoredRotation {
        head_seq: new_head.seq,
        reserved: rotation
            .reserved
            .saturating_sub(replaced)
            .saturating_add(len),
        ..rotation
    };
    let mut batch = Batch::new();
    head_ops(&mut batch, &owner, &head_raw, &new_head)?;
    batch
        .expect_value(Space::Records, rotation_key(&owner), raw)
        .put(Space::Records, rotation_key(&owner), encode(&updated)?)
        .put(Space::Records, rotation_part_key(&owner, part.index), bytes);
    b.store.apply(batch).await.map_err(|e| match e {
        StoreError::Conflict => restart(),
        e => store_error(e),
    })
}
