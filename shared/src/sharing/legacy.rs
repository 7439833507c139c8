//! Grants made before `key_hash` existed (PROTOCOL.md section 9, "Legacy
//! grants"): their signature covers the same fields without it, so they no
//! longer verify. The patient's browser recognises its own such grants and
//! signs each again over a freshly wrapped key ([`reissue_legacy`]); the
//! server stores the new one only in place of a legacy grant that differs in
//! nothing but `key_hash` (`sharing/grant/renew`).

use super::wrapped_key_hash;
use crate::{
    crypto::{
        aead::Key256,
        hpke::{
            EncryptionPublicKey, {self},
        },
        sign::{
            Signed, SigningKey, VerifyingKey, {self},
        },
        CryptoError,
    },
    model::Grant,
};

/// Checks a grant's signature under the encoding before `key_hash`
/// ([`Grant::legacy_signed_bytes`]) against `patient`'s identity key. A grant
/// that verifies here proves who signed which fields, but not which wrapped
/// key goes with it: it is only ever signed again, never opened.
pub fn verify_legacy<'a>(
    grant: &'a Signed<Grant>,
    patient: &VerifyingKey,
) -> Result<&'a Grant, CryptoError> {
    patient.verify_bytes(&grant.value.legacy_signed_bytes(), &grant.signature)?;
    Ok(&grant.value)
}

/// Whether a grant is signed by `patient` under the legacy encoding only
/// (not under the current one).
pub fn is_legacy_only(grant: &Signed<Grant>, patient: &VerifyingKey) -> bool {
    grant.verify(patient).is_err() && verify_legacy(grant, patient).is_ok()
}

/// Signs a legacy grant again under the current encoding: `node_key` (the
/// grant's folder's key, from the patient's own opened record, never from
/// anything served with the grant) is wrapped afresh to the grant's signed
/// `doctor_key` with the same HPKE `info` as a new share, and the same
/// fields are signed with the new wrap's `key_hash`. Returns the new signed
/// grant and the wrapped key for `sharing/grant/renew`.
pub fn reissue_legacy(
    grant: &Grant,
    node_key: &Key256,
    signing_key: &SigningKey,
) -> Result<(Signed<Grant>, Vec<u8>), String> {
    let recipient = EncryptionPublicKey::from_bytes(grant.doctor_key).map_err(|_| {
        "A share made before this update names keys that cannot be used, so it was not signed again. Remove it and share the folder again.".to_owned()
    })?;
    let wrapped = hpke::wrap_node_key(&recipient, &grant.doctor_id, &grant.node_id, node_key)
        .map_err(|_| "Your browser could not wrap the key. Reload and try again.".to_owned())?;
    let mut value = grant.clone();
    value.key_hash = wrapped_key_hash(&wrapped);
    Ok((sign::sign(signing_key, value), wrapped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Permission;

    fn grant(doctor_key: [u8; 32]) -> Grant {
        Grant {
            grant_id: [1; 16],
            patient_id: [2; 16],
            doctor_id: [3; 16],
            doctor_key,
            key_hash: [0; 32],
            node_id: [4; 16],
            permission: Permission::Read,
            created_at: 10,
            expires_at: None,
            revision: 0,
        }
    }

    /// A grant as the previous release signed it.
    fn legacy(key: &SigningKey, value: Grant) -> Signed<Grant> {
        let signature = key.sign_bytes(&value.legacy_signed_bytes());
        Signed { value, signature }
    }

    #[test]
    fn a_legacy_grant_verifies_only_under_the_legacy_encoding() {
        let key = SigningKey::from_seed(&[1; 32]);
        let other = SigningKey::from_seed(&[2; 32]);
        let old = legacy(&key, grant([5; 32]));
        assert!(old.verify(&key.verifying_key()).is_err());
        assert!(verify_legacy(&old, &key.verifying_key()).is_ok());
        assert!(is_legacy_only(&old, &key.verifying_key()));
        // Another signer, or any changed field, fails.
        assert!(verify_legacy(&old, &other.verifying_key()).is_err());
        let mut changed = old.clone();
        changed.value.permission = Permission::ReadWrite;
        assert!(verify_legacy(&changed, &key.verifying_key()).is_err());
        // A current grant is not legacy.
        let current = sign::sign(&key, grant([5; 32]));
        assert!(verify_legacy(&current, &key.verifying_key()).is_err());
        assert!(!is_legacy_only(&current, &key.verifying_key()));
    }

    #[test]
    fn reissue_signs_the_same_fields_over_a_fresh_wrap() {
        let key = SigningKey::from_seed(&[1; 32]);
        let doctor = hpke::EncryptionSecretKey::generate().unwrap();
        let value = grant(doctor.public_key().to_bytes());
        let old = legacy(&key, value.clone());
        let node_key = Key256::generate().unwrap();
        let (new, wrapped) = reissue_legacy(&old.value, &node_key, &key).unwrap();
        let verified = new.verify(&key.verifying_key()).unwrap();
        assert_eq!(verified.key_hash, wrapped_key_hash(&wrapped));
        let mut same = verified.clone();
        same.key_hash = value.key_hash;
        assert_eq!(same, value);
        let opened =
            hpke::unwrap_node_key(&doctor, &value.doctor_id, &value.node_id, &wrapped).unwrap();
        assert_eq!(opened.as_bytes(), node_key.as_bytes());
        // A grant naming an unusable doctor key is not re-issued.
        assert!(reissue_legacy(&grant([0; 32]), &node_key, &key).is_err());
    }

    #[test]
    fn the_doctors_browser_never_opens_a_legacy_grant_and_says_why() {
        use crate::{
            api::sharing::{GrantStatus, GrantView},
            model::{KeyEntry, Role},
            sharing::{open_grant, GrantOpenError},
        };
        let key = SigningKey::from_seed(&[1; 32]);
        let doctor = hpke::EncryptionSecretKey::generate().unwrap();
        let value = grant(doctor.public_key().to_bytes());
        let patient = KeyEntry {
            user_id: value.patient_id,
            username: "ada".into(),
            role: Role::Patient,
            identity_key: key.verifying_key(),
            encryption_key: [9; 32],
            created_at: 1,
        };
        let node_key = Key256::generate().unwrap();
        let wrapped = hpke::wrap_node_key(
            &doctor.public_key(),
            &value.doctor_id,
            &value.node_id,
            &node_key,
        )
        .unwrap();
        let view = |grant: Signed<Grant>| GrantView {
            grant,
            wrapped_key: wrapped.clone(),
            patient_name: "ada".into(),
            doctor_name: "dr".into(),
            status: GrantStatus::Active,
            revoked_at: None,
            emergency: None,
        };
        let old = view(legacy(&key, value.clone()));
        let refused = open_grant(&old, &patient, &value.doctor_id, &doctor).err();
        assert_eq!(refused, Some(GrantOpenError::NotRenewed));
        // Served to another doctor, or signed by someone else: not signed.
        assert_eq!(
            open_grant(&old, &patient, &[8; 16], &doctor).err(),
            Some(GrantOpenError::NotSigned)
        );
        let other = SigningKey::from_seed(&[2; 32]);
        let forged = view(legacy(&other, value.clone()));
        assert_eq!(
            open_grant(&forged, &patient, &value.doctor_id, &doctor).err(),
            Some(GrantOpenError::NotSigned)
        );
    }
}
