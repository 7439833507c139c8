//! The patient's browser's half of a key rotation: which grants the server
//! lists may receive the new keys (checked against the patient's own
//! signatures), and the new keys themselves, in parts ready to send. Each
//! kept grant is signed again with the hash of its new wrapped key.

use super::{grant_allows, wrapped_key_hash, GrantRefusal, GrantTime};
use crate::{
    crypto::{
        aead::Key256,
        hpke::{
            EncryptionPublicKey, {self},
        },
        sign::{self, SigningKey},
    },
    model::{Grant, Id, KeyEntry, Permission},
};

/// Who the patient's browser is, and what it knows, when it plans a rotation.
pub struct RotationOwner<'a> {
    /// The patient's own key entry (its identity key checks every grant).
    pub entry: &'a KeyEntry,
    /// Grants this browser knows were removed: the one removed just now and
    /// any it removed before. None of them may receive a new key.
    pub removed: &'a std::collections::HashSet<Id>,
    /// The newest terms this browser has seen of each grant: a grant listed
    /// with an earlier revision is never signed again.
    pub terms: &'a std::collections::HashMap<Id, super::GrantTerms>,
    /// The browser's clock, Unix seconds.
    pub now: i64,
    /// The patient's signing key: each kept grant is signed again with the
    /// hash of its new wrapped key.
    pub signing_key: &'a SigningKey,
}

/// The grants of a rotation ticket that may receive the new keys, each with
/// the doctor's key it names, checked against nothing the server can forge.
///
/// The server lists the grants that keep access, and a lying server (or one
/// row written into its store) would otherwise receive the new keys. Every
/// listed grant must verify under the patient's own identity key and name
/// the patient; must not be a grant this browser removed, nor an earlier
/// revision of one it has seen changed, nor one the list itself shows as
/// ended, nor past its signed end date; must cover a node of
/// the rotated subtree (`subtree`); and names the doctor's encryption key in
/// its signed value, so the key it is wrapped to is the one the patient
/// checked when sharing, never a fresh directory answer. One bad grant stops
/// the whole rotation: the answer is an error sentence for the patient.
pub fn trusted_rotation_grants<'t>(
    owner: &RotationOwner<'_>,
    subtree: &std::collections::HashSet<Id>,
    grants: &'t [crate::api::sharing::GrantView],
) -> Result<Vec<(&'t Grant, EncryptionPublicKey)>, String> {
    let refuse = |what: &str| {
        format!(
            "The server's list of people who keep access to this folder cannot be trusted: {what}. No keys were replaced and nothing was shared with anyone. Your record stays protected by its old keys; contact your administrator and report this."
        )
    };
    let mut seen = std::collections::HashSet::with_capacity(grants.len());
    let mut out = Vec::with_capacity(grants.len());
    for view in grants {
        let grant = view
            .grant
            .verify(&owner.entry.identity_key)
            .map_err(|_| refuse("it includes a share that you did not sign"))?;
        if grant.patient_id != owner.entry.user_id {
            return Err(refuse("it includes a share of someone else's record"));
        }
        if owner.removed.contains(&grant.grant_id) {
            return Err(refuse("it includes a share that you removed"));
        }
        if owner
            .terms
            .get(&grant.grant_id)
            .is_some_and(|t| t.revision > grant.revision)
        {
            return Err(refuse(
                "it includes a share as it was before you changed it",
            ));
        }
        // Every live grant keeps its key, emergency ones on standby too, so
        // the status is judged here and not by grant_allows (which asks for
        // an open grant).
        if !view.status.is_live() || view.revoked_at.is_some() {
            return Err(refuse("it includes a share that has ended"));
        }
        grant_allows(
            grant,
            None,
            Permission::Read,
            GrantTime::Now(owner.now),
            |folder| subtree.contains(folder),
        )
        .map_err(|refusal| match refusal {
            GrantRefusal::OutsideScope => {
                refuse("it includes a share of a folder outside this one")
            }
            // With no status and a read asked, only the end date is left.
            _ => refuse("it includes a share whose end date has passed"),
        })?;
        if !seen.insert(grant.grant_id) {
            return Err(refuse("it names the same share twice"));
        }
        let key = EncryptionPublicKey::from_bytes(grant.doctor_key)
            .map_err(|_| refuse("it includes a share with an unusable key"))?;
        out.push((grant, key));
    }
    Ok(out)
}

/// The new keys of a rotation, in parts ready to send.
///
/// Every node under `scope` (the ticket's list, which must be exactly the
/// subtree this browser sees, trashed items included) gets a fresh key: the
/// scope's is wrapped under its parent's unchanged key (or to the patient
/// with HPKE for the root), each other under its parent's new key; metadata
/// is sealed again under the new key; every version's content key is
/// re-wrapped (content is not re-encrypted); each remaining grant gets the new
/// key of its folder wrapped to the doctor's key named in the grant, and is
/// signed again (same grant, new `key_hash`) with `owner.signing_key`. The
/// grants are checked first ([`trusted_rotation_grants`]): if any fails, no
/// key is made and nothing is returned to send.
pub fn plan_rotation(
    tree: &crate::records::OpenTree,
    owner: &RotationOwner<'_>,
    scope: &Id,
    ticket: &crate::api::sharing::RotationTicket,
) -> Result<Vec<crate::api::sharing::RotationPart>, String> {
    use crate::{
        api::sharing::{
            ContentKey, RekeyedGrant, RekeyedNode, RotationPart, MAX_ROTATION_PART,
            ROTATION_PART_BYTES,
        },
        records::{seal_metadata, unwrap_content_key, wrap_child_key, wrap_content_key},
    };
    use std::collections::{HashMap, HashSet};

    let unreadable = || {
        "An item in this folder could not be opened in this browser, so its keys cannot be replaced. Reload the page and try again; if it keeps happening, contact your administrator.".to_owned()
    };
    let mismatch = || {
        "The server's list of items in this folder does not match your record, so no keys were replaced. Reload the page and try again.".to_owned()
    };
    let failed =
        |_| "Your browser could not make new keys. Reload the page and try again.".to_owned();

    let expected: HashSet<Id> = tree
        .nodes()
        .filter(|n| tree.is_within(n.id(), scope))
        .map(|n| *n.id())
        .collect();
    let listed: HashSet<Id> = ticket.nodes.iter().copied().collect();
    if listed.len() != ticket.nodes.len() || !tree.unreadable.is_empty() {
        return Err(unreadable());
    }
    if listed != expected {
        return Err(mismatch());
    }
    let grants = trusted_rotation_grants(owner, &listed, &ticket.grants)?;
    let owner_public =
        EncryptionPublicKey::from_bytes(owner.entry.encryption_key).map_err(|_| {
            "Your own keys could not be read. Sign out, sign in again and retry.".to_owned()
        })?;
    let mut new_keys: HashMap<Id, Key256> = HashMap::with_capacity(listed.len());
    for id in &ticket.nodes {
        new_keys.insert(*id, Key256::generate().map_err(failed)?);
    }
    let mut nodes = Vec::with_capacity(ticket.nodes.len());
    for id in &ticket.nodes {
        let node = tree.node(id).ok_or_else(unreadable)?;
        let key = &new_keys[id];
        let wrapped_key = match node.view.parent_id {
            None if id == scope => {
                crate::records::wrap_root_key(&owner_public, &tree.owner_id, id, key)
                    .map_err(failed)?
            }
            None => return Err(mismatch()),
            Some(parent) => {
                let parent_key = if id == scope {
                    tree.node(&parent)
                        .map(|p| p.key.clone())
                        .ok_or_else(unreadable)?
                } else {
                    new_keys.get(&parent).cloned().ok_or_else(mismatch)?
                };
                wrap_child_key(&parent_key, id, &parent, key).map_err(failed)?
            }
        };
        let metadata = seal_metadata(key, id, &node.metadata).map_err(failed)?;
        nodes.push(RekeyedNode {
            node_id: *id,
            wrapped_key,
            metadata,
            state: None,
        });
    }
    let mut versions = Vec::with_capacity(ticket.versions.len());
    for v in &ticket.versions {
        let old = tree.node(&v.node_id).ok_or_else(mismatch)?;
        let new = new_keys.get(&v.node_id).ok_or_else(mismatch)?;
        let content = unwrap_content_key(&old.key, &v.node_id, v.version, &v.wrapped_content_key)
            .map_err(|_| unreadable())?;
        versions.push(ContentKey {
            node_id: v.node_id,
            version: v.version,
            wrapped_content_key: wrap_content_key(new, &v.node_id, v.version, &content)
                .map_err(failed)?,
        });
    }
    let grants = grants
        .into_iter()
        .map(|(grant, public)| {
            let key = new_keys.get(&grant.node_id).ok_or_else(mismatch)?;
            let wrapped_key = hpke::wrap_node_key(&public, &grant.doctor_id, &grant.node_id, key)
                .map_err(failed)?;
            // The same grant, signed again over its new key: nothing else
            // changes (the server checks that too).
            let resigned = Grant {
                key_hash: wrapped_key_hash(&wrapped_key),
                ..grant.clone()
            };
            Ok(RekeyedGrant {
                grant_id: grant.grant_id,
                grant: sign::sign(owner.signing_key, resigned),
                wrapped_key,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;

    // Parts in order: at most MAX_ROTATION_PART items and about
    // ROTATION_PART_BYTES of JSON each, so a part fits a server's body limit.
    #[allow(clippy::large_enum_variant)] // a short-lived list, moved not copied
    enum Item {
        Node(RekeyedNode),
        Version(ContentKey),
        // Boxed: a re-signed grant is several times larger than the rest.
        Grant(Box<RekeyedGrant>),
    }
    fn b64_len(n: usize) -> usize {
        n.div_ceil(3) * 4
    }
    fn json_len(item: &Item) -> usize {
        match item {
            // 700: room for the node's signed state, added to the part later.
            Item::Node(n) => 764 + b64_len(n.wrapped_key.len()) + b64_len(n.metadata.len()),
            Item::Version(v) => 80 + b64_len(v.wrapped_content_key.len()),
            // The re-signed grant's JSON is about 560 bytes (ids, keys,
            // hash and signature in base64); 800 leaves room.
            Item::Grant(g) => 64 + b64_len(g.wrapped_key.len()) + 800,
        }
    }
    let items = nodes
        .into_iter()
        .map(Item::Node)
        .chain(versions.into_iter().map(Item::Version))
        .chain(grants.into_iter().map(|g| Item::Grant(Box::new(g))));
    let new_part = |index: usize| RotationPart {
        rotation_id: ticket.rotation_id,
        index: index as u32,
        nodes: Vec::new(),
        versions: Vec::new(),
        grants: Vec::new(),
    };
    let mut parts: Vec<RotationPart> = Vec::new();
    let mut part = new_part(0);
    let (mut count, mut bytes) = (0usize, 0usize);
    for item in items {
        let size = json_len(&item);
        if count > 0 && (count == MAX_ROTATION_PART || bytes + size > ROTATION_PART_BYTES) {
            let next = new_part(parts.len() + 1);
            parts.push(std::mem::replace(&mut part, next));
            (count, bytes) = (0, 0);
        }
        match item {
            Item::Node(n) => part.nodes.push(n),
            Item::Version(v) => part.versions.push(v),
            Item::Grant(g) => part.grants.push(*g),
        }
        count += 1;
        bytes += size;
    }
    parts.push(part);
    Ok(parts)
}
