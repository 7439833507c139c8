//! Grant attacks: a grant injected for another user, a grant's wrapped key
//! swapped for one the attacker chose.

use server::{
    backend::sharing::layout::{
        doctor_grant_key, grant_key, patient_grant_key, patient_grants_prefix, StoredGrant,
    },
    store::{codec, Batch, SledStore, Space, Store},
};
use shared::crypto::{aead::Key256, b64, hpke, rng};

use super::{user_named, Failure};

pub(super) async fn grant_inject(
    store: &SledStore,
    patient: &str,
    user: &str,
) -> Result<(), Failure> {
    let patient = user_named(store, patient).await?;
    let user = user_named(store, user).await?;
    let prefix = patient_grants_prefix(&patient.id);
    let mut newest: Option<StoredGrant> = None;
    for (key, _) in store
        .scan_prefix(Space::Grants, &prefix, None, usize::MAX)
        .await?
    {
        let id: [u8; 16] = key
            .last_chunk::<16>()
            .copied()
            .ok_or("a grant index key ends in the grant id")?;
        let Some(raw) = store.get(Space::Grants, &grant_key(&id)).await? else {
            continue;
        };
        let grant: StoredGrant = codec::decode(&raw)?;
        let later = newest
            .as_ref()
            .is_none_or(|n| grant.grant.value.created_at >= n.grant.value.created_at);
        if grant.revoked_at.is_none() && later {
            newest = Some(grant);
        }
    }
    let mut grant = newest.ok_or("the patient has no live grant to copy")?;
    grant.grant.value.grant_id = rng::id().map_err(|_| "no randomness")?;
    grant.grant.value.doctor_id = user.id;
    grant.grant.value.doctor_key = user.key_entry.value.encryption_key;
    let id = grant.grant.value.grant_id;
    let mut batch = Batch::new();
    batch
        .put(Space::Grants, grant_key(&id), codec::encode(&grant)?)
        .put(
            Space::Grants,
            patient_grant_key(&patient.id, &id),
            Vec::new(),
        )
        .put(Space::Grants, doctor_grant_key(&user.id, &id), Vec::new());
    store.apply(batch).await?;
    println!(
        "added grant {} of {}'s record to {}",
        b64::encode(&id),
        patient.username,
        user.username
    );
    Ok(())
}

pub(super) async fn grant_key_swap(
    store: &SledStore,
    patient: &str,
    doctor: &str,
) -> Result<(), Failure> {
    let patient = user_named(store, patient).await?;
    let doctor = user_named(store, doctor).await?;
    let mut newest: Option<StoredGrant> = None;
    for (key, _) in store
        .scan_prefix(
            Space::Grants,
            &patient_grants_prefix(&patient.id),
            None,
            usize::MAX,
        )
        .await?
    {
        let id: [u8; 16] = key
            .last_chunk::<16>()
            .copied()
            .ok_or("a grant index key ends in the grant id")?;
        let Some(raw) = store.get(Space::Grants, &grant_key(&id)).await? else {
            continue;
        };
        let grant: StoredGrant = codec::decode(&raw)?;
        let later = newest
            .as_ref()
            .is_none_or(|n| grant.grant.value.created_at >= n.grant.value.created_at);
        if grant.grant.value.doctor_id == doctor.id && grant.revoked_at.is_none() && later {
            newest = Some(grant);
        }
    }
    let mut grant = newest.ok_or("the patient has no live grant to that doctor")?;
    let recipient = hpke::EncryptionPublicKey::from_bytes(doctor.key_entry.value.encryption_key)
        .map_err(|_| "the doctor's encryption key is not usable")?;
    let chosen = Key256::generate().map_err(|_| "no randomness")?;
    let node = grant.grant.value.node_id;
    grant.wrapped_key = hpke::wrap_node_key(&recipient, &doctor.id, &node, &chosen)
        .map_err(|_| "the key could not be wrapped")?;
    let id = grant.grant.value.grant_id;
    store
        .put(Space::Grants, grant_key(&id), codec::encode(&grant)?)
        .await?;
    println!(
        "swapped the key of grant {} of {}'s record to {} for one the attacker chose",
        b64::encode(&id),
        patient.username,
        doctor.username
    );
    Ok(())
}
