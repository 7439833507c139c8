//! How grants and access requests are stored: keys and values in the Grants
//! keyspace. Every key of this keyspace is built here, and nowhere else.
//!
//! Grants keyspace:
//!
//! | key                              | value |
//! |----------------------------------|-------|
//! | `1 ‖ grant id`                   | [`StoredGrant`] |
//! | `2 ‖ patient id ‖ grant id`      | empty: the patient's grants |
//! | `3 ‖ doctor id ‖ grant id`       | empty: the doctor's grants |
//! | `4 ‖ request id`                 | [`StoredRequest`] |
//! | `5 ‖ patient id ‖ request id`    | empty: requests to the patient |
//! | `6 ‖ doctor id ‖ request id`     | empty: the doctor's requests |
//! | `7 ‖ patient id ‖ doctor id`     | the pending request's id: one per pair |
//! | `8 ‖ patient id ‖ node id`       | [`StoredRekeyDue`]: a folder whose keys must be replaced |
//!
//! The index entries (2, 3, 5, 6) end with the id they list, so a scan of a
//! person's prefix reads their ids from the keys alone.

use serde::{Deserialize, Serialize};
use shared::{
    api::sharing::{Emergency, GrantStatus, RequestStatus},
    crypto::{b64, sign::Signed},
    model::{Grant, Id},
};

use crate::store::keys::Key;

/// Key of a stored grant.
pub fn grant_key(grant: &Id) -> Vec<u8> {
    Key::new().u8(1).fixed(grant).finish()
}

/// Key of the (empty) entry that lists a grant under its patient.
pub fn patient_grant_key(patient: &Id, grant: &Id) -> Vec<u8> {
    Key::new().u8(2).fixed(patient).fixed(grant).finish()
}

/// Prefix of every grant a patient made.
pub fn patient_grants_prefix(patient: &Id) -> Vec<u8> {
    Key::new().u8(2).fixed(patient).finish()
}

/// Key of the (empty) entry that lists a grant under its doctor.
pub fn doctor_grant_key(doctor: &Id, grant: &Id) -> Vec<u8> {
    Key::new().u8(3).fixed(doctor).fixed(grant).finish()
}

/// Prefix of every grant that names a doctor (or emergency contact).
pub fn doctor_grants_prefix(doctor: &Id) -> Vec<u8> {
    Key::new().u8(3).fixed(doctor).finish()
}

/// Key of a stored request.
pub fn request_key(request: &Id) -> Vec<u8> {
    Key::new().u8(4).fixed(request).finish()
}

/// Key of the (empty) entry that lists a request under its patient.
pub fn patient_request_key(patient: &Id, request: &Id) -> Vec<u8> {
    Key::new().u8(5).fixed(patient).fixed(request).finish()
}

/// Prefix of every request made to a patient.
pub fn patient_requests_prefix(patient: &Id) -> Vec<u8> {
    Key::new().u8(5).fixed(patient).finish()
}

/// Key of the (empty) entry that lists a request under its doctor.
pub fn doctor_request_key(doctor: &Id, request: &Id) -> Vec<u8> {
    Key::new().u8(6).fixed(doctor).fixed(request).finish()
}

/// Prefix of every request a doctor made.
pub fn doctor_requests_prefix(doctor: &Id) -> Vec<u8> {
    Key::new().u8(6).fixed(doctor).finish()
}

/// Key of the pending request of a doctor to a patient: one per pair.
pub fn pending_key(patient: &Id, doctor: &Id) -> Vec<u8> {
    Key::new().u8(7).fixed(patient).fixed(doctor).finish()
}

/// Prefix of every pending request's entry of a patient.
pub fn pendings_prefix(patient: &Id) -> Vec<u8> {
    Key::new().u8(7).fixed(patient).finish()
}

/// Key of a folder whose keys must be replaced (a grant on it ended).
pub fn rekey_due_key(patient: &Id, node: &Id) -> Vec<u8> {
    Key::new().u8(8).fixed(patient).fixed(node).finish()
}

/// Prefix of every folder of a patient's record whose keys must be replaced.
pub fn rekey_due_prefix(patient: &Id) -> Vec<u8> {
    Key::new().u8(8).fixed(patient).finish()
}

/// A folder whose keys must be replaced: written in the batch that ends a
/// grant on it (revoke, decline, the expiry first noticed), deleted by a
/// committed rotation of that folder or of one above it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRekeyDue {
    /// The grants on it that ended since (the newest
    /// [`MAX_DUE_GRANTS`](shared::api::sharing::MAX_DUE_GRANTS)).
    #[serde(with = "b64::id_list")]
    pub grant_ids: Vec<Id>,
    /// When the first of them ended.
    pub since: i64,
}

/// A grant as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// As the patient signed it.
    pub grant: Signed<Grant>,
    /// The scope's key wrapped to the doctor; emptied on revocation.
    #[serde(with = "b64::vec")]
    pub wrapped_key: Vec<u8>,
    /// When the patient removed it.
    pub revoked_at: Option<i64>,
    /// The request it approved.
    #[serde(with = "b64::option_array")]
    pub request_id: Option<Id>,
    /// An emergency contact's grant: open only after a request and the wait.
    #[serde(default)]
    pub emergency: Option<Emergency>,
    /// Its end date passed and `grant_expired` was appended (once).
    #[serde(default)]
    pub expiry_logged: bool,
    /// When its doctor declined it.
    #[serde(default)]
    pub declined_at: Option<i64>,
}

impl StoredGrant {
    /// Where it stands at `now`.
    pub fn status(&self, now: i64) -> GrantStatus {
        if self.revoked_at.is_some() {
            GrantStatus::Revoked
        } else if self.declined_at.is_some() {
            GrantStatus::Declined
        } else if self.grant.value.expires_at.is_some_and(|t| t <= now) {
            GrantStatus::Expired
        } else {
            match &self.emergency {
                None => GrantStatus::Active,
                Some(e) => match e.opens_at() {
                    None => GrantStatus::Standby,
                    Some(t) if now < t => GrantStatus::Waiting,
                    Some(_) => GrantStatus::Active,
                },
            }
        }
    }
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRequest {
    /// The request.
    #[serde(with = "b64::array")]
    pub request_id: Id,
    /// Asked.
    #[serde(with = "b64::array")]
    pub patient_id: Id,
    /// Asking.
    #[serde(with = "b64::array")]
    pub doctor_id: Id,
    /// In the doctor's words.
    pub reason: String,
    /// When.
    pub created_at: i64,
    /// Where it stands.
    pub status: RequestStatus,
    /// When the patient decided.
    pub decided_at: Option<i64>,
    /// The approving grant.
    #[serde(with = "b64::option_array")]
    pub grant_id: Option<Id>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_prefixes_are_the_start_of_their_keys() {
        let (a, b) = ([1u8; 16], [2u8; 16]);
        assert!(patient_grant_key(&a, &b).starts_with(&patient_grants_prefix(&a)));
        assert!(doctor_grant_key(&a, &b).starts_with(&doctor_grants_prefix(&a)));
        assert!(patient_request_key(&a, &b).starts_with(&patient_requests_prefix(&a)));
        assert!(doctor_request_key(&a, &b).starts_with(&doctor_requests_prefix(&a)));
        assert!(rekey_due_key(&a, &b).starts_with(&rekey_due_prefix(&a)));
    }
}
