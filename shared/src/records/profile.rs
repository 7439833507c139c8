//! A patient's profile: the display name and date of birth that a doctor
//! sees above a shared record and that a printout names.
//!
//! The patient signs it with their identity key and seals one copy under
//! each node key that should read it: the record's root (their own copy)
//! and every folder they share. A doctor opens the copy of their grant's
//! folder with the key the grant gave them, so a doctor whose share ended
//! reads no later profile once that folder's keys are replaced. The
//! signature keeps the server (or a doctor writing in the folder) from
//! putting words in the patient's mouth; the counter `seq` lets a browser
//! refuse an older profile than one it has seen.

use serde::{Deserialize, Serialize};

use crate::{
    crypto::{
        aead::{self, Key256},
        b64, context,
        context::Encoder,
        sign::{Signable, Signed, VerifyingKey},
        CryptoError,
    },
    model::Id,
};

use super::{model::is_iso_date, pad_metadata, unpad_metadata};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// Largest sealed profile the server keeps (padded JSON plus the box).
pub const MAX_SEALED_PROFILE: usize = 4096;

/// Smallest sealed profile: a nonce, one block's byte and the tag.
pub const MIN_SEALED_PROFILE: usize = 30;

/// What a patient tells the people they share with about themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Whose profile it is; a copy naming another patient is refused.
    #[serde(with = "b64::array")]
    pub patient_id: Id,
    /// Goes up by one with every change, so that a browser that saw one
    /// refuses an older one.
    pub seq: u64,
    /// The name to show ("Alice Example"), 1 to 100 characters.
    pub display_name: String,
    /// `YYYY-MM-DD`, or none.
    #[serde(default)]
    pub date_of_birth: Option<String>,
    /// When the patient saved it, Unix seconds (their browser's clock).
    pub updated_at: i64,
}

impl Profile {
    /// Checks the fields, with a sentence for the person.
    pub fn validate(&self) -> Result<(), String> {
        let name = self.display_name.trim();
        if name.is_empty() {
            return Err("Enter the name to show.".into());
        }
        if self.display_name.chars().count() > MAX_DISPLAY_NAME_CHARS {
            return Err(format!(
                "The name is too long: at most {MAX_DISPLAY_NAME_CHARS} characters."
            ));
        }
        if self.display_name.chars().any(char::is_control) {
            return Err("The name cannot contain invisible control characters.".into());
        }
        if let Some(date) = &self.date_of_birth {
            if !is_iso_date(date) {
                return Err("The date of birth must be a real date (YYYY-MM-DD).".into());
            }
        }
        Ok(())
    }
}

impl Signable for Profile {
    const LABEL: &'static str = context::SIGN_PROFILE;

    fn encode_fields(&self, out: &mut Encoder) {
        out.bytes(&self.patient_id)
            .u64(self.seq)
            .str(&self.display_name)
            .str(self.date_of_birth.as_deref().unwrap_or(""))
            .i64(self.updated_at);
    }
}

/// Why a served profile copy was not shown. Each says what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileRefusal {
    /// It does not open with the folder's key (altered, or sealed for
    /// another folder or patient).
    Unreadable,
    /// It opens, but the patient's identity key did not sign it, or it
    /// names another patient.
    NotSigned,
    /// It is signed, but a field is out of bounds.
    Invalid,
    /// It is older than a profile of this patient this browser has seen.
    Older,
}

impl ProfileRefusal {
    /// The sentence the app shows in place of the profile.
    pub fn sentence(self) -> &'static str {
        match self {
            ProfileRefusal::Unreadable => "The patient's name and date of birth could not be opened: the copy the server sent was altered or is not for this share. Nothing of it is shown.",
            ProfileRefusal::NotSigned => "The name and date of birth the server sent are not signed by the patient, so they are not shown. Contact your administrator.",
            ProfileRefusal::Invalid => "The patient's name and date of birth are signed but not well formed, so they are not shown.",
            ProfileRefusal::Older => "The server sent an older name and date of birth of this patient than this browser has already seen, so they are not shown. Contact your administrator.",
        }
    }
}

fn seal_aad(patient_id: &Id, node_id: &Id) -> Vec<u8> {
    context::bind(context::PROFILE_SEAL, &[patient_id, node_id])
}

/// Seals a signed profile under `node_id`'s key, padded like metadata so
/// that names of similar length look alike.
pub fn seal_profile(
    node_key: &Key256,
    node_id: &Id,
    profile: &Signed<Profile>,
) -> Result<Vec<u8>, CryptoError> {
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec(profile).map_err(|_| CryptoError::Malformed)?);
    let padded = zeroize::Zeroizing::new(pad_metadata(&json));
    aead::seal(
        node_key,
        &seal_aad(&profile.value.patient_id, node_id),
        &padded,
    )
}

/// Whether a copy opens under `node_key` for this patient and node (the
/// patient's browser asks before it decides to seal the copies again after
/// a key rotation); nothing more is checked.
pub fn opens(node_key: &Key256, patient_id: &Id, node_id: &Id, sealed: &[u8]) -> bool {
    aead::open(node_key, &seal_aad(patient_id, node_id), sealed).is_ok()
}

/// Opens a copy sealed by [`seal_profile`] for `patient_id` under
/// `node_id`'s key, and checks it: signed by `identity` (the patient's
/// checked key), naming `patient_id`, well formed, and not older than
/// `seen` (the highest `seq` this browser has seen of this patient).
pub fn open_profile(
    node_key: &Key256,
    patient_id: &Id,
    node_id: &Id,
    sealed: &[u8],
    identity: &VerifyingKey,
    seen: Option<u64>,
) -> Result<Signed<Profile>, ProfileRefusal> {
    let padded = aead::open(node_key, &seal_aad(patient_id, node_id), sealed)
        .map_err(|_| ProfileRefusal::Unreadable)?;
    let json = unpad_metadata(&padded).map_err(|_| ProfileRefusal::Unreadable)?;
    let signed: Signed<Profile> =
        serde_json::from_slice(json).map_err(|_| ProfileRefusal::Unreadable)?;
    signed
        .verify(identity)
        .map_err(|_| ProfileRefusal::NotSigned)?;
    if signed.value.patient_id != *patient_id {
        return Err(ProfileRefusal::NotSigned);
    }
    signed
        .value
        .validate()
        .map_err(|_| ProfileRefusal::Invalid)?;
    if seen.is_some_and(|s| signed.value.seq < s) {
        return Err(ProfileRefusal::Older);
    }
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::sign::{sign, SigningKey};

    fn profile(patient: Id, seq: u64) -> Profile {
        Profile {
            patient_id: patient,
            seq,
            display_name: "Alice Example".into(),
            date_of_birth: Some("1980-04-02".into()),
            updated_at: 1_770_000_000,
        }
    }

    fn setup() -> (SigningKey, Key256, Id, Id) {
        (
            SigningKey::generate().unwrap(),
            Key256::generate().unwrap(),
            [1u8; 16],
            [2u8; 16],
        )
    }

    #[test]
    fn a_sealed_profile_opens_for_its_folder_and_patient() {
        let (me, key, patient, node) = setup();
        let signed = sign(&me, profile(patient, 3));
        let sealed = seal_profile(&key, &node, &signed).unwrap();
        assert_eq!((sealed.len() - 29) % 256, 0, "padded like metadata");
        assert!(sealed.len() <= MAX_SEALED_PROFILE);
        let opened =
            open_profile(&key, &patient, &node, &sealed, &me.verifying_key(), Some(3)).unwrap();
        assert_eq!(opened, signed);
    }

    #[test]
    fn a_copy_for_another_folder_or_patient_or_key_does_not_open() {
        let (me, key, patient, node) = setup();
        let sealed = seal_profile(&key, &node, &sign(&me, profile(patient, 1))).unwrap();
        let vk = me.verifying_key();
        let other_key = Key256::generate().unwrap();
        for (k, p, n) in [
            (&other_key, patient, node),
            (&key, [9u8; 16], node),
            (&key, patient, [9u8; 16]),
        ] {
            assert_eq!(
                open_profile(k, &p, &n, &sealed, &vk, None),
                Err(ProfileRefusal::Unreadable)
            );
        }
        let mut altered = sealed.clone();
        altered[40] ^= 1;
        assert_eq!(
            open_profile(&key, &patient, &node, &altered, &vk, None),
            Err(ProfileRefusal::Unreadable)
        );
    }

    #[test]
    fn a_profile_signed_by_someone_else_or_naming_another_patient_is_refused() {
        let (me, key, patient, node) = setup();
        let server = SigningKey::generate().unwrap();
        let forged = seal_profile(&key, &node, &sign(&server, profile(patient, 1))).unwrap();
        assert_eq!(
            open_profile(&key, &patient, &node, &forged, &me.verifying_key(), None),
            Err(ProfileRefusal::NotSigned)
        );
        // Signed by the patient, but naming another: sealed (by whoever
        // holds the folder key) under this patient's binding.
        let mut signed = sign(&me, profile([7u8; 16], 1));
        let json = serde_json::to_vec(&signed).unwrap();
        let sealed = aead::seal(&key, &seal_aad(&patient, &node), &pad_metadata(&json)).unwrap();
        assert_eq!(
            open_profile(&key, &patient, &node, &sealed, &me.verifying_key(), None),
            Err(ProfileRefusal::NotSigned)
        );
        // A field changed after signing.
        signed.value.patient_id = patient;
        signed.value.display_name = "Mallory".into();
        let sealed = seal_profile(&key, &node, &signed).unwrap();
        assert_eq!(
            open_profile(&key, &patient, &node, &sealed, &me.verifying_key(), None),
            Err(ProfileRefusal::NotSigned)
        );
    }

    #[test]
    fn an_older_profile_than_one_seen_is_refused() {
        let (me, key, patient, node) = setup();
        let sealed = seal_profile(&key, &node, &sign(&me, profile(patient, 2))).unwrap();
        let vk = me.verifying_key();
        assert!(open_profile(&key, &patient, &node, &sealed, &vk, Some(2)).is_ok());
        assert_eq!(
            open_profile(&key, &patient, &node, &sealed, &vk, Some(3)),
            Err(ProfileRefusal::Older)
        );
    }

    #[test]
    fn fields_are_checked() {
        let mut p = profile([1u8; 16], 1);
        assert!(p.validate().is_ok());
        p.date_of_birth = Some("1980-02-30".into());
        assert!(p.validate().is_err());
        p.date_of_birth = None;
        p.display_name = "  ".into();
        assert!(p.validate().is_err());
        p.display_name = "a".repeat(MAX_DISPLAY_NAME_CHARS + 1);
        assert!(p.validate().is_err());
        p.display_name = "Alice\u{7}".into();
        assert!(p.validate().is_err());
        // The longest name still fits the server's bound once sealed.
        p.display_name = "\u{1F600}".repeat(MAX_DISPLAY_NAME_CHARS);
        p.date_of_birth = Some("1980-04-02".into());
        let me = SigningKey::generate().unwrap();
        let sealed = seal_profile(&Key256::generate().unwrap(), &[2u8; 16], &sign(&me, p)).unwrap();
        assert!(sealed.len() <= MAX_SEALED_PROFILE);
    }
}
