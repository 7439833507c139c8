//! The browser's half of sharing: making a grant (the patient) and opening one
//! (the doctor). Pure functions; the app and the server's tests both use them.
//!
//! Nothing the server says about a grant is taken on trust: the doctor's side
//! checks the patient's signature, that the grant names this doctor and the
//! scope it claims, and opens the wrapped key only as the key of that node for
//! this doctor (HPKE `info` binds both), so a swapped or replayed key fails.

use crate::{
    api::sharing::GrantView,
    crypto::{
        aead::Key256,
        hpke::{self, EncryptionPublicKey, EncryptionSecretKey},
        rng,
        sign::{self, Grant, KeyEntry, Permission, Role, Signed, SigningKey},
        CryptoError, Id,
    },
};

/// What a patient decided to share.
pub struct GrantChoice {
    /// The doctor's verified directory entry.
    pub doctor: KeyEntry,
    /// The folder shared (the root for the whole record).
    pub node_id: Id,
    /// Its node key (from the patient's open tree).
    pub node_key: Key256,
    /// Read, or read and write.
    pub permission: Permission,
    /// Optional end, Unix seconds.
    pub expires_at: Option<i64>,
}

/// Makes and signs a grant and wraps the folder's key to the doctor. The doctor
/// must be a doctor (unless `allow_any_role`, for an emergency contact) and not
/// the patient; the end date, if any, must be after `now`.
pub fn make_grant(
    patient: &KeyEntry,
    signing_key: &SigningKey,
    choice: &GrantChoice,
    now: i64,
) -> Result<(Signed<Grant>, Vec<u8>), String> {
    if choice.doctor.user_id == patient.user_id {
        return Err("You cannot share your record with yourself.".to_owned());
    }
    if choice.doctor.role != Role::Doctor {
        return Err(format!(
            "{} is not a doctor in medvault, so your record cannot be shared with them.",
            choice.doctor.username
        ));
    }
    if choice.expires_at.is_some_and(|t| t <= now) {
        return Err("The end date has already passed. Choose a later date, or none.".to_owned());
    }
    let mut grant_id = [0u8; 16];
    rng::fill(&mut grant_id)
        .map_err(|_| "Your browser could not make a random id. Reload and try again.")?;
    let grant = Grant {
        grant_id,
        patient_id: patient.user_id,
        doctor_id: choice.doctor.user_id,
        node_id: choice.node_id,
        permission: choice.permission,
        created_at: now,
        expires_at: choice.expires_at,
    };
    let recipient = EncryptionPublicKey::from_bytes(choice.doctor.encryption_key)
        .map_err(|_| "The doctor's keys are not usable. Ask them to contact an administrator.")?;
    let wrapped = hpke::wrap_node_key(
        &recipient,
        &choice.doctor.user_id,
        &choice.node_id,
        &choice.node_key,
    )
    .map_err(|_| "Your browser could not wrap the key. Reload and try again.")?;
    Ok((sign::sign(signing_key, grant), wrapped))
}

/// A grant the doctor checked and opened.
pub struct OpenGrant {
    /// The grant as the patient signed it.
    pub grant: Grant,
    /// The shared folder's node key.
    pub node_key: Key256,
}

/// Checks a grant served to `doctor_id` against the patient's key entry (from
/// the directory, self-signature already checked) and opens its key.
///
/// Errors: [`CryptoError::BadSignature`] if the patient did not sign it or it
/// is not for this doctor and patient; [`CryptoError::Decrypt`] or
/// [`CryptoError::Malformed`] if the wrapped key is not the key of that node
/// for this doctor.
pub fn open_grant(
    view: &GrantView,
    patient: &KeyEntry,
    doctor_id: &Id,
    doctor_secret: &EncryptionSecretKey,
) -> Result<OpenGrant, CryptoError> {
    let grant = view.grant.verify(&patient.identity_key)?;
    if grant.patient_id != patient.user_id || grant.doctor_id != *doctor_id {
        return Err(CryptoError::BadSignature);
    }
    let node_key =
        hpke::unwrap_node_key(doctor_secret, doctor_id, &grant.node_id, &view.wrapped_key)?;
    Ok(OpenGrant {
        grant: grant.clone(),
        node_key,
    })
}

/// Whether the end date, if any, is still ahead at `now`.
pub fn is_current(grant: &Grant, now: i64) -> bool {
    grant.expires_at.is_none_or(|t| t > now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::sharing::GrantStatus;

    fn entry(role: Role, key: &SigningKey, enc: &EncryptionSecretKey, id: u8) -> KeyEntry {
        KeyEntry {
            user_id: [id; 16],
            username: format!("user{id}"),
            role,
            identity_key: key.verifying_key(),
            encryption_key: enc.public_key().to_bytes(),
            created_at: 1,
        }
    }

    struct Party {
        sign: SigningKey,
        enc: EncryptionSecretKey,
        entry: KeyEntry,
    }

    fn party(role: Role, id: u8) -> Party {
        let sign = SigningKey::generate().unwrap();
        let enc = EncryptionSecretKey::generate().unwrap();
        let entry = entry(role, &sign, &enc, id);
        Party { sign, enc, entry }
    }

    fn view(signed: Signed<Grant>, wrapped: Vec<u8>) -> GrantView {
        GrantView {
            grant: signed,
            wrapped_key: wrapped,
            patient_name: "p".into(),
            doctor_name: "d".into(),
            status: GrantStatus::Active,
            revoked_at: None,
        }
    }

    fn choice(doctor: &KeyEntry, node_key: &Key256) -> GrantChoice {
        GrantChoice {
            doctor: doctor.clone(),
            node_id: [9; 16],
            node_key: node_key.clone(),
            permission: Permission::Read,
            expires_at: Some(2000),
        }
    }

    #[test]
    fn a_grant_opens_for_its_doctor_only() {
        let patient = party(Role::Patient, 1);
        let doctor = party(Role::Doctor, 2);
        let other = party(Role::Doctor, 3);
        let key = Key256::generate().unwrap();
        let (signed, wrapped) = make_grant(
            &patient.entry,
            &patient.sign,
            &choice(&doctor.entry, &key),
            1000,
        )
        .unwrap();
        let v = view(signed.clone(), wrapped.clone());
        let opened = open_grant(&v, &patient.entry, &doctor.entry.user_id, &doctor.enc).unwrap();
        assert_eq!(opened.node_key.as_bytes(), key.as_bytes());
        assert_eq!(opened.grant.node_id, [9; 16]);
        assert!(is_current(&opened.grant, 1999));
        assert!(!is_current(&opened.grant, 2000));

        // Another doctor, even served the same bytes, gets nothing.
        assert!(open_grant(&v, &patient.entry, &other.entry.user_id, &other.enc).is_err());
        // Not signed by this patient.
        let stranger = party(Role::Patient, 4);
        let forged = sign::sign(&stranger.sign, signed.value.clone());
        assert_eq!(
            open_grant(
                &view(forged, wrapped.clone()),
                &patient.entry,
                &doctor.entry.user_id,
                &doctor.enc
            )
            .err(),
            Some(CryptoError::BadSignature)
        );
    }

    #[test]
    fn a_swapped_wrapped_key_is_refused() {
        let patient = party(Role::Patient, 1);
        let doctor = party(Role::Doctor, 2);
        let key = Key256::generate().unwrap();
        let (signed, _) = make_grant(
            &patient.entry,
            &patient.sign,
            &choice(&doctor.entry, &key),
            1000,
        )
        .unwrap();
        // A key wrapped to the same doctor for another node, as a lying server
        // might hand over to widen the scope.
        let other_node = hpke::wrap_node_key(
            &doctor.enc.public_key(),
            &doctor.entry.user_id,
            &[8; 16],
            &Key256::generate().unwrap(),
        )
        .unwrap();
        assert!(open_grant(
            &view(signed, other_node),
            &patient.entry,
            &doctor.entry.user_id,
            &doctor.enc
        )
        .is_err());
    }

    #[test]
    fn bad_choices_are_refused_with_words() {
        let patient = party(Role::Patient, 1);
        let doctor = party(Role::Doctor, 2);
        let nurse = party(Role::Patient, 5);
        let key = Key256::generate().unwrap();
        let mine = choice(&patient.entry, &key);
        assert!(make_grant(&patient.entry, &patient.sign, &mine, 1000)
            .unwrap_err()
            .contains("yourself"));
        let not_doctor = choice(&nurse.entry, &key);
        assert!(make_grant(&patient.entry, &patient.sign, &not_doctor, 1000)
            .unwrap_err()
            .contains("not a doctor"));
        let mut past = choice(&doctor.entry, &key);
        past.expires_at = Some(999);
        assert!(make_grant(&patient.entry, &patient.sign, &past, 1000)
            .unwrap_err()
            .contains("passed"));
    }
}
