//! The stored account and its key layout in the Users keyspace.
//!
//! | key                                   | value |
//! |---------------------------------------|-------|
//! | `1 ‖ user id`                         | [`UserRecord`] |
//! | `2 ‖ len ‖ normalised username`       | user id (16 bytes) |
//! | `3 ‖ invite id`                       | redemption time (8 bytes): an invite used once |
//! | `4 ‖ SHA-256(invite code)`            | [`invites::StoredInvite`](super::invites) |
//!
//! The record holds only what the server may know: the OPAQUE password file,
//! the keyring sealed under keys it never sees, public keys and signatures. The
//! TOTP secret is the exception a second factor needs; it is sealed under a key
//! kept outside the store ([`super::totp_key`]).

use serde::{Deserialize, Serialize};
use shared::{
    api::{admin::UserSummary, ApiError, ErrorCode},
    crypto::{
        aead, b64,
        sign::{Signed, VerifyingKey},
        totp::SECRET_LEN,
    },
    model::{AdminCertificate, DoctorCertificate, Id, KeyEntry, Role},
};

use super::{store_error, ServerBackend};
use crate::store::{codec, keys::Key, Batch, Op, Space, StoreError};

/// Length of a sealed TOTP secret.
pub const SEALED_LEN: usize = aead::SEAL_OVERHEAD + SECRET_LEN;
/// A TOTP secret sealed under the installation's key
/// ([`super::totp_key::TotpKey`]), as an account record stores it.
pub type SealedTotp = [u8; SEALED_LEN];

/// One account as stored.
#[derive(Clone, Serialize, Deserialize)]
pub struct UserRecord {
    /// The account's id.
    #[serde(with = "b64::array")]
    pub id: Id,
    /// The normalised username.
    pub username: String,
    /// The role given at sign-up (from the invite, or patient).
    pub role: Role,
    /// The OPAQUE password file (registration upload).
    #[serde(with = "b64::vec")]
    pub password_file: Vec<u8>,
    /// The keyring sealed under the password's export key.
    #[serde(with = "b64::vec")]
    pub sealed_keyring: Vec<u8>,
    /// The keyring sealed under the recovery secret.
    #[serde(with = "b64::vec")]
    pub recovery_keyring: Vec<u8>,
    /// Checks recovery proofs.
    pub recovery_verifier: VerifyingKey,
    /// The self-signed public key entry.
    pub key_entry: Signed<KeyEntry>,
    /// For a verified doctor: the admin's certificate (its `admin_id` names the
    /// certifier).
    pub certificate: Option<Signed<DoctorCertificate>>,
    /// For an admin the operator certified: the installation's org key's
    /// certificate over the admin's keys (checked against nothing but itself
    /// here; browsers check its key's fingerprint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_certificate: Option<Signed<AdminCertificate>>,
    /// Disabled by an admin: no sign-in, no session.
    pub disabled: bool,
    /// The TOTP secret when a second factor is on, sealed under the server's TOTP
    /// key for this account ([`super::totp_key`]).
    #[serde(
        default,
        with = "b64::option_array",
        skip_serializing_if = "Option::is_none"
    )]
    pub totp_sealed: Option<SealedTotp>,
    /// Only in records from before TOTP secrets were sealed: the secret in
    /// plaintext base32. The server seals it into `totp_sealed` when it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted, so a code works once.
    pub totp_last_step: Option<u64>,
    /// When the account was made, Unix seconds.
    pub created_at: i64,
    /// The last successful sign-in, Unix seconds.
    pub last_sign_in: Option<i64>,
    /// Where to send "you have a new notification" e-mail, if the user
    /// asked for it (`notifications/email`); the only address the server
    /// keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_email: Option<String>,
}

impl UserRecord {
    /// Whether a second factor is on.
    pub fn totp_enabled(&self) -> bool {
        self.totp_sealed.is_some() || self.totp_secret.is_some()
    }

    /// What the admin's user list shows.
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            user_id: self.id,
            username: self.username.clone(),
            role: self.role,
            disabled: self.disabled,
            verified: self.certificate.is_some(),
            totp_enabled: self.totp_enabled(),
            created_at: self.created_at,
            last_sign_in: self.last_sign_in,
        }
    }
}

/// Key of a user record.
pub fn user_key(id: &Id) -> Vec<u8> {
    Key::new().u8(1).fixed(id).finish()
}

/// Key of the username index.
pub fn username_key(username: &str) -> Vec<u8> {
    Key::new().u8(2).str(username).finish()
}

/// Prefix of every user record, for the admin's list.
pub fn users_prefix() -> Vec<u8> {
    Key::new().u8(1).finish()
}

/// Most accounts the admin list returns in one answer.
pub const LIST_LIMIT: usize = 10_000;

impl ServerBackend {
    /// The account with this id, if any.
    pub(crate) async fn user_by_id(&self, id: &Id) -> Result<Option<UserRecord>, ApiError> {
        match self
            .store
            .get(Space::Users, &user_key(id))
            .await
            .map_err(store_error)?
        {
            Some(bytes) => Ok(Some(codec::decode(&bytes).map_err(store_error)?)),
            None => Ok(None),
        }
    }

    /// The account with this normalised username, if any.
    pub(crate) async fn user_by_name(
        &self,
        username: &str,
    ) -> Result<Option<UserRecord>, ApiError> {
        let Some(id) = self
            .store
            .get(Space::Users, &username_key(username))
            .await
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        let id: Id = id
            .as_slice()
            .try_into()
            .map_err(|_| store_error(StoreError::Corrupt("username index value".into())))?;
        self.user_by_id(&id).await
    }

    /// Changes an account atomically: `change` edits the record and returns ops
    /// to apply in the same batch (ending sessions, a new session), written
    /// with the audit event `event`. Retries a few times if the record changed
    /// meanwhile. `not_found` if there is none.
    pub(crate) async fn update_user<F>(
        &self,
        id: &Id,
        event: super::audit::Draft,
        mut change: F,
    ) -> Result<UserRecord, ApiError>
    where
        F: FnMut(&mut UserRecord) -> Result<Vec<Op>, ApiError>,
    {
        let key = user_key(id);
        for _ in 0..5 {
            let Some(old) = self
                .store
                .get(Space::Users, &key)
                .await
                .map_err(store_error)?
            else {
                return Err(ApiError::not_found());
            };
            let mut record: UserRecord = codec::decode(&old).map_err(store_error)?;
            let extra = change(&mut record)?;
            let new = codec::encode(&record).map_err(store_error)?;
            let mut batch = Batch::new();
            batch
                .expect_value(Space::Users, key.clone(), old)
                .put(Space::Users, key.clone(), new);
            for op in extra {
                batch.push(op);
            }
            match self.append(batch, event).await {
                Ok(_) => return Ok(record),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(ApiError::new(
            ErrorCode::Conflict,
            "The account changed at the same time. Try again.",
        ))
    }
}
