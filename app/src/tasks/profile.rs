//! The patient's profile (display name, date of birth; PROTOCOL 17.10):
//! opened from the copy under the record's root key, saved signed and
//! sealed under the root's key and each shared folder's key, kept in step
//! with the shares, and opened by a doctor from their grant's folder.
//!
//! Every copy is checked the same way wherever it is read: it opens under
//! the node's key, the patient signed it, it names the patient, and its
//! counter is not below the highest this browser has seen of them.

use std::collections::HashSet;

use shared::{
    api::{
        records::{get_profile_copies, put_profile_copies, ProfileCopies, ProfileCopy},
        sharing::GrantView,
    },
    crypto::{
        aead::Key256,
        b64,
        sign::{sign, Signed, VerifyingKey},
    },
    model::Id,
    records::{
        profile::{open_profile, opens, seal_profile, Profile, ProfileRefusal},
        OpenTree,
    },
};

use crate::{
    platform::browser::{profile_seq, remember_profile_seq},
    session::{now_unix, Session, Unlocked},
};

/// A profile as a page shows it: none given, given (and checked), or refused
/// with the sentence that says why.
#[derive(Clone, Debug, PartialEq)]
pub enum ProfileShown {
    /// The patient has not given one (or not for this share).
    None,
    /// Opened and checked.
    Given(Profile),
    /// Served, but refused.
    Refused(&'static str),
}

impl ProfileShown {
    /// The name and date of birth in one line ("Alice Example, born 2 April
    /// 1980"), if there is a checked profile.
    pub fn line(&self) -> Option<String> {
        let ProfileShown::Given(p) = self else {
            return None;
        };
        Some(match &p.date_of_birth {
            Some(d) => format!(
                "{}, born {}",
                p.display_name,
                crate::platform::clock::date_label(d)
            ),
            None => p.display_name.clone(),
        })
    }
}

/// Opens and checks one served copy for `reader`, as sealed under
/// `node` (whatever node the server says it is for), remembering its
/// counter.
pub fn open_copy(
    reader: &Id,
    (patient, identity): (&Id, &VerifyingKey),
    (node, node_key): (&Id, &Key256),
    copy: Option<&ProfileCopy>,
) -> Result<Option<Signed<Profile>>, ProfileRefusal> {
    let Some(copy) = copy else {
        return Ok(None);
    };
    let (reader, patient_b64) = (b64::encode(reader), b64::encode(patient));
    let seen = profile_seq(&reader, &patient_b64);
    let signed = open_profile(node_key, patient, node, &copy.sealed, identity, seen)?;
    remember_profile_seq(&reader, &patient_b64, signed.value.seq);
    Ok(Some(signed))
}

/// The shown form of [`open_copy`]'s answer.
pub fn shown(opened: Result<Option<Signed<Profile>>, ProfileRefusal>) -> ProfileShown {
    match opened {
        Ok(Some(p)) => ProfileShown::Given(p.value),
        Ok(None) => ProfileShown::None,
        Err(refusal) => ProfileShown::Refused(refusal.sentence()),
    }
}

/// The patient's own profile from the root's copy (with every stored copy).
pub async fn own(
    session: Session,
    unlocked: &Unlocked,
    tree: &OpenTree,
) -> Result<
    (
        Result<Option<Signed<Profile>>, ProfileRefusal>,
        ProfileCopies,
    ),
    String,
> {
    let copies = get_profile_copies()
        .await
        .map_err(|e| session.explain(&e))?;
    let me = &unlocked.key_entry.value;
    let root = tree
        .root()
        .ok_or_else(|| "Your record could not be opened. Reload the page.".to_owned())?;
    let copy = copies.copies.iter().find(|c| c.node_id == tree.root_id);
    let opened = open_copy(
        &me.user_id,
        (&me.user_id, &me.identity_key),
        (&tree.root_id, &root.key),
        copy,
    );
    Ok((opened, copies))
}

/// The folders that get a copy: the root, and every folder a live grant in
/// `grants` shares that is in the opened tree and not in the trash. The
/// server's list can only add folders (a copy only their key holders read)
/// or leave some out (their doctors see no name); it cannot send the
/// profile anywhere else.
fn copy_nodes(tree: &OpenTree, grants: &[GrantView]) -> Vec<Id> {
    let mut nodes = vec![tree.root_id];
    for g in grants {
        let node = g.grant.value.node_id;
        let live = g.status.is_live() && g.revoked_at.is_none();
        // A share's top: the whole record, a folder, or one file.
        let shared = tree.node(&node).is_some();
        if live && shared && !tree.in_trash(&node) && !nodes.contains(&node) {
            nodes.push(node);
        }
    }
    nodes
}

/// Seals `profile` for every node of `nodes` and stores them all.
async fn store_copies(
    session: Session,
    tree: &OpenTree,
    nodes: &[Id],
    profile: &Signed<Profile>,
) -> Result<(), String> {
    let mut copies = Vec::with_capacity(nodes.len());
    for id in nodes {
        let Some(node) = tree.node(id) else { continue };
        let sealed = seal_profile(&node.key, id, profile)
            .map_err(|_| "Your profile could not be sealed. Try again.".to_owned())?;
        copies.push(ProfileCopy {
            node_id: *id,
            sealed,
        });
    }
    put_profile_copies(ProfileCopies {
        copies,
        seq: profile.value.seq,
    })
    .await
    .map_err(|e| session.explain(&e))
}

/// Signs and stores a new profile (counter one above the last), sealed for
/// the root and every shared folder of `grants`.
pub async fn save(
    session: Session,
    unlocked: &Unlocked,
    tree: &OpenTree,
    grants: &[GrantView],
    display_name: String,
    date_of_birth: Option<String>,
) -> Result<Profile, String> {
    let (current, _) = own(session, unlocked, tree).await?;
    let me = &unlocked.key_entry.value;
    let seen = profile_seq(&b64::encode(&me.user_id), &b64::encode(&me.user_id));
    let last = current.ok().flatten().map(|p| p.value.seq);
    let seq = last.max(seen).unwrap_or(0).saturating_add(1);
    let profile = Profile {
        patient_id: me.user_id,
        seq,
        display_name: display_name.trim().to_owned(),
        date_of_birth,
        updated_at: now_unix(),
    };
    profile.validate()?;
    let signed = sign(unlocked.keyring.identity(), profile);
    store_copies(session, tree, &copy_nodes(tree, grants), &signed).await?;
    let me = b64::encode(&me.user_id);
    remember_profile_seq(&me, &me, signed.value.seq);
    Ok(signed.value)
}

/// Keeps the copies in step with the shares (the Sharing page calls it on
/// every load): a copy for each folder a live grant shares, sealed under
/// its current key, and none for folders no longer shared. Stores only
/// when something differs; nothing when there is no profile or the own
/// copy does not open.
pub async fn keep_in_step(
    session: Session,
    unlocked: &Unlocked,
    tree: &OpenTree,
    grants: &[GrantView],
) -> Result<(), String> {
    let (current, copies) = own(session, unlocked, tree).await?;
    let Ok(Some(profile)) = current else {
        return Ok(());
    };
    reseal_if_needed(session, tree, grants, &copies, &profile).await
}

/// Stores the copies again when a needed one is missing or no longer opens
/// under its node's current key, or one is stored that is not needed.
pub async fn reseal_if_needed(
    session: Session,
    tree: &OpenTree,
    grants: &[GrantView],
    stored: &ProfileCopies,
    profile: &Signed<Profile>,
) -> Result<(), String> {
    let needed = copy_nodes(tree, grants);
    let wanted: HashSet<Id> = needed.iter().copied().collect();
    let patient = profile.value.patient_id;
    let fresh = |c: &ProfileCopy| {
        tree.node(&c.node_id)
            .is_some_and(|n| opens(&n.key, &patient, &c.node_id, &c.sealed))
    };
    let in_step = stored.copies.len() == wanted.len()
        && stored
            .copies
            .iter()
            .all(|c| wanted.contains(&c.node_id) && fresh(c));
    if in_step {
        return Ok(());
    }
    store_copies(session, tree, &needed, profile).await
}

/// Seals `profile` again under the record's current keys after a key
/// rotation replaced some of them (the tree and the grants read anew).
pub async fn reseal_after_rotation(
    session: Session,
    store: crate::tasks::record::RecordStore,
    unlocked: &Unlocked,
    profile: &Signed<Profile>,
) -> Result<(), String> {
    let tree = store.open(session, unlocked).await?;
    let grants = shared::api::sharing::list_grants()
        .await
        .map_err(|e| session.explain(&e))?;
    let me = unlocked.key_entry.value.user_id;
    let mine: Vec<GrantView> = grants
        .into_iter()
        .filter(|g| g.grant.value.patient_id == me)
        .collect();
    let stored = get_profile_copies()
        .await
        .map_err(|e| session.explain(&e))?;
    reseal_if_needed(session, &tree, &mine, &stored, profile).await
}
