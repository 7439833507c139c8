//! Invites: the only way to an account other than a patient's.
//!
//! Two kinds, told apart by length:
//!
//! - **Stored** (an admin made it in the app): 32 random bytes, base64url. The
//!   server keeps only SHA-256 of the code, with the role and expiry (7 days).
//! - **Command line** (`medvault-server create-admin-invite`): made while the
//!   server may be running, and sled locks the data directory, so the command
//!   cannot write to the store. Instead the code authenticates itself:
//!   `version (1) ‖ invite id (16) ‖ expires_at (8, big-endian) ‖ role (1) ‖
//!   HMAC-SHA256(key, label ‖ the preceding 26 bytes)`, with the key in
//!   `DIR/invite.key` (32 random bytes, mode 0600, created by whichever of the
//!   server and the command comes first). Valid 24 hours.
//!
//! Either kind works once: redeeming records its id in the store with an
//! "absent" precondition, in the same batch that creates the account.
//!
//! An admin can list the stored invites that are still open and revoke one.
//! Revoking marks the stored invite revoked and records its id as used, with
//! the same "absent" precondition, so a revocation and a sign-up racing for one
//! invite cannot both win. Command-line invites are not stored, so they are not
//! listed and cannot be revoked one by one; they last 24 hours, and replacing
//! `DIR/invite.key` (with the server stopped) voids every outstanding one.

use std::{path::Path, sync::Arc};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::{
    api::{ApiError, ErrorCode},
    crypto::{b64, rng, CryptoError},
    model::{Id, Role},
};
use zeroize::Zeroizing;

use super::{store_error, ServerBackend};
use crate::store::{codec, keys::Key, Op, Space};

/// How long an invite from the command line works.
pub const CLI_INVITE_SECS: i64 = 24 * 60 * 60;
/// How long an invite made by an admin in the app works.
pub const ADMIN_INVITE_SECS: i64 = 7 * 24 * 60 * 60;
/// The name of the invite key file in the data directory.
pub const KEY_FILE: &str = "invite.key";

const SIGNED_VERSION: u8 = 1;
const SIGNED_BODY_LEN: usize = 1 + 16 + 8 + 1;
const SIGNED_LEN: usize = SIGNED_BODY_LEN + 32;
const STORED_LEN: usize = 32;
/// Domain separation of the invite MAC (server-internal, not a wire format).
const INVITE_MAC_LABEL: &[u8] = b"medvault/v1/server/cli-invite\0";

/// The secret that authenticates command-line invites.
#[derive(Clone)]
pub struct InviteKey(Arc<Zeroizing<[u8; 32]>>);

impl InviteKey {
    /// A key from raw bytes (tests).
    pub fn from_bytes(bytes: [u8; 32]) -> InviteKey {
        InviteKey(Arc::new(Zeroizing::new(bytes)))
    }

    /// Reads `DIR/invite.key`, creating it (0600, `create_new`) if it is not
    /// there yet. Safe against the server and the command starting together:
    /// only one creation wins, and the other reads what it wrote.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<InviteKey> {
        let key = super::key_file::load_or_create(
            &data_dir.join(KEY_FILE),
            "remove it to make a new one (outstanding command-line invites stop working)",
        )?;
        Ok(InviteKey(Arc::new(key)))
    }

    fn mac(&self, body: &[u8]) -> Result<Hmac<Sha256>, CryptoError> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0[..]).map_err(|_| CryptoError::Malformed)?;
        mac.update(INVITE_MAC_LABEL);
        mac.update(body);
        Ok(mac)
    }

    /// A self-authenticating invite for `role` that expires at `expires_at`.
    pub fn make_code(&self, role: Role, expires_at: i64) -> Result<String, CryptoError> {
        let mut bytes = Vec::with_capacity(SIGNED_LEN);
        bytes.push(SIGNED_VERSION);
        bytes.extend_from_slice(&rng::id()?);
        bytes.extend_from_slice(&expires_at.to_be_bytes());
        bytes.push(role.code());
        let tag = self.mac(&bytes)?.finalize().into_bytes();
        bytes.extend_from_slice(&tag);
        Ok(b64::encode(&bytes))
    }

    /// Checks a code made by [`InviteKey::make_code`]: its id, role and expiry.
    fn open(&self, bytes: &[u8]) -> Option<(Id, Role, i64)> {
        if bytes.len() != SIGNED_LEN || bytes.first() != Some(&SIGNED_VERSION) {
            return None;
        }
        let (body, tag) = bytes.split_at(SIGNED_BODY_LEN);
        self.mac(body).ok()?.verify_slice(tag).ok()?;
        let id: Id = body.get(1..17)?.try_into().ok()?;
        let expires = i64::from_be_bytes(body.get(17..25)?.try_into().ok()?);
        let role = role_from_code(*body.get(25)?)?;
        Some((id, role, expires))
    }
}

fn role_from_code(code: u8) -> Option<Role> {
    [Role::Patient, Role::Doctor, Role::Admin, Role::Auditor]
        .into_iter()
        .find(|r| r.code() == code)
}

/// What the command prints: the invite's link and when it stops working.
pub struct CliInvite {
    /// The full sign-up link.
    pub link: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Makes an admin invite for `medvault-server create-admin-invite`. Touches only
/// `DIR/invite.key`, never the store, so it works while the server runs.
pub fn create_admin_invite(
    data_dir: &Path,
    base_url: &str,
    now: i64,
) -> std::io::Result<CliInvite> {
    std::fs::create_dir_all(data_dir)?;
    let key = InviteKey::load_or_create(data_dir)?;
    let expires_at = now + CLI_INVITE_SECS;
    let code = key
        .make_code(Role::Admin, expires_at)
        .map_err(|_| std::io::Error::other("could not make the invite code"))?;
    Ok(CliInvite {
        link: format!("{}/signup?invite={code}", base_url.trim_end_matches('/')),
        expires_at,
    })
}

/// An invite an admin made in the app, as stored (under the hash of its code).
#[derive(Serialize, Deserialize)]
pub struct StoredInvite {
    /// The role it creates.
    pub role: Role,
    /// When it stops working.
    pub expires_at: i64,
    /// The admin who made it.
    #[serde(with = "b64::array")]
    pub created_by: Id,
    /// When it was made.
    pub created_at: i64,
    /// When an admin revoked it; absent while it is not revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// A valid, unused, unexpired invite.
pub struct CheckedInvite {
    /// The id recorded when it is used.
    pub id: Id,
    /// The role it creates.
    pub role: Role,
    /// When it stops working.
    pub expires_at: i64,
}

fn stored_key(hash: &[u8; 32]) -> Vec<u8> {
    Key::new().u8(4).fixed(hash).finish()
}

/// The prefix under which every stored invite lives.
fn stored_prefix() -> Vec<u8> {
    Key::new().u8(4).finish()
}

/// An invite's id: the first 16 bytes of its code's hash.
fn invite_id(hash: &[u8; 32]) -> Id {
    let mut id = [0u8; 16];
    id.copy_from_slice(&hash[..16]);
    id
}

/// How many stored invites one store scan reads while listing.
const LIST_PAGE: usize = 1000;

fn redeemed_key(id: &Id) -> Vec<u8> {
    Key::new().u8(3).fixed(id).finish()
}

/// The answer for a revoked or expired invite (one sentence for both: to the
/// person holding the link the remedy is the same).
pub fn revoked_or_expired() -> ApiError {
    ApiError::bad_request(
        "This invite was revoked or has expired. Ask an administrator for a new one.",
    )
}

fn invalid() -> ApiError {
    ApiError::bad_request(
        "This invite link is not valid. Check that you copied all of it, or ask an administrator for a new one.",
    )
}

impl CheckedInvite {
    /// The ops that use the invite up; they fail the batch if it was used.
    pub fn redeem_ops(&self, now: i64) -> Vec<Op> {
        vec![
            Op::ExpectAbsent {
                space: Space::Users,
                key: redeemed_key(&self.id),
            },
            Op::Put {
                space: Space::Users,
                key: redeemed_key(&self.id),
                value: now.to_be_bytes().to_vec(),
            },
        ]
    }
}

impl ServerBackend {
    /// Checks an invite code: genuine, not expired, not used.
    pub(crate) async fn check_invite(&self, code: &str) -> Result<CheckedInvite, ApiError> {
        let now = self.now();
        let bytes = Zeroizing::new(b64::decode(code.trim()).ok_or_else(invalid)?);
        let (id, role, expires_at) = match bytes.len() {
            STORED_LEN => {
                let hash: [u8; 32] = Sha256::digest(&bytes[..]).into();
                let stored = self
                    .store
                    .get(Space::Users, &stored_key(&hash))
                    .await
                    .map_err(store_error)?
                    .ok_or_else(invalid)?;
                let stored: StoredInvite = codec::decode(&stored).map_err(store_error)?;
                if stored.revoked_at.is_some() {
                    return Err(revoked_or_expired());
                }
                (invite_id(&hash), stored.role, stored.expires_at)
            }
            SIGNED_LEN => self
                .config
                .invite_key
                .as_ref()
                .and_then(|k| k.open(&bytes))
                .ok_or_else(invalid)?,
            _ => return Err(invalid()),
        };
        if now >= expires_at {
            return Err(revoked_or_expired());
        }
        if self
            .store
            .get(Space::Users, &redeemed_key(&id))
            .await
            .map_err(store_error)?
            .is_some()
        {
            return Err(used());
        }
        Ok(CheckedInvite {
            id,
            role,
            expires_at,
        })
    }

    /// Stores a new invite made by `admin`; returns its code (shown once).
    pub(crate) async fn store_invite(
        &self,
        admin: &super::sessions::Session,
        role: Role,
    ) -> Result<(String, i64), ApiError> {
        let now = self.now();
        let raw = Zeroizing::new(rng::bytes::<32>().map_err(super::crypto_internal)?);
        let hash: [u8; 32] = Sha256::digest(&raw[..]).into();
        let expires_at = now + ADMIN_INVITE_SECS;
        let record = StoredInvite {
            role,
            expires_at,
            created_by: admin.user.id,
            created_at: now,
            revoked_at: None,
        };
        let invite_id = invite_id(&hash);
        let mut batch = crate::store::Batch::new();
        batch.put(
            Space::Users,
            stored_key(&hash),
            codec::encode(&record).map_err(store_error)?,
        );
        let event = super::audit::Draft::new(shared::audit::EventKind::InviteCreated)
            .actor(&admin.user.id)
            .session(&admin.hash)
            .item(&invite_id);
        self.append(batch, event).await.map_err(store_error)?;
        Ok((b64::encode(&raw[..]), expires_at))
    }
}

impl ServerBackend {
    /// Whether the invite with this id was used (or revoked).
    async fn is_redeemed(&self, id: &Id) -> Result<bool, ApiError> {
        Ok(self
            .store
            .get(Space::Users, &redeemed_key(id))
            .await
            .map_err(store_error)?
            .is_some())
    }

    /// Every stored invite that can still be used: not revoked, not used, not
    /// expired; with its id and record, newest first.
    pub(crate) async fn open_invites(&self) -> Result<Vec<(Id, StoredInvite)>, ApiError> {
        let now = self.now();
        let prefix = stored_prefix();
        let mut out = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let page = self
                .store
                .scan_prefix(Space::Users, &prefix, after.as_deref(), LIST_PAGE)
                .await
                .map_err(store_error)?;
            let full = page.len() == LIST_PAGE;
            after = page.last().map(|(k, _)| k.clone());
            for (key, bytes) in page {
                let Some(hash) = key.get(1..).and_then(|h| <[u8; 32]>::try_from(h).ok()) else {
                    continue;
                };
                let invite: StoredInvite = codec::decode(&bytes).map_err(store_error)?;
                let id = invite_id(&hash);
                if invite.revoked_at.is_some()
                    || now >= invite.expires_at
                    || self.is_redeemed(&id).await?
                {
                    continue;
                }
                out.push((id, invite));
            }
            if !full {
                break;
            }
        }
        out.sort_by_key(|(_, invite)| std::cmp::Reverse(invite.created_at));
        Ok(out)
    }

    /// Revokes the stored invite with this id, by `admin`: marks it revoked and
    /// records it as used, in one batch with the audit event. `not_found` if
    /// there is no stored invite with this id; `conflict` if it was used.
    pub(crate) async fn revoke_stored_invite(
        &self,
        admin: &super::sessions::Session,
        id: Id,
    ) -> Result<(), ApiError> {
        let now = self.now();
        let mut prefix = stored_prefix();
        prefix.extend_from_slice(&id);
        let found = self
            .store
            .scan_prefix(Space::Users, &prefix, None, 2)
            .await
            .map_err(store_error)?;
        // Two codes sharing 128 bits of hash do not happen; refuse rather than guess.
        let [(key, old)] = <[_; 1]>::try_from(found).map_err(|_| ApiError::not_found())?;
        let mut invite: StoredInvite = codec::decode(&old).map_err(store_error)?;
        if invite.revoked_at.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "This invite was already revoked.",
            ));
        }
        if self.is_redeemed(&id).await? {
            return Err(used_by_someone());
        }
        invite.revoked_at = Some(now);
        let mut batch = crate::store::Batch::new();
        batch
            .expect_value(Space::Users, key.clone(), old)
            .put(
                Space::Users,
                key,
                codec::encode(&invite).map_err(store_error)?,
            )
            .expect_absent(Space::Users, redeemed_key(&id))
            .put(Space::Users, redeemed_key(&id), now.to_be_bytes().to_vec());
        let event = super::audit::Draft::new(shared::audit::EventKind::InviteRevoked)
            .actor(&admin.user.id)
            .session(&admin.hash)
            .item(&id);
        match self.append(batch, event).await {
            Ok(_) => Ok(()),
            // Used (or revoked) between the checks and the write.
            Err(crate::store::StoreError::Conflict) => Err(used_by_someone()),
            Err(e) => Err(store_error(e)),
        }
    }
}

/// The admin's answer when revoking an invite that was used meanwhile.
fn used_by_someone() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "This invite was already used to create an account, so it can no longer be revoked. Disable that account instead if needed.",
    )
}

/// The answer for an invite that was already used.
pub fn used() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "This invite was already used. Ask an administrator for a new one.",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn cli_codes_open_only_with_their_key_and_intact() {
        let key = InviteKey::from_bytes([7; 32]);
        let code = key.make_code(Role::Admin, 1234).unwrap();
        let bytes = b64::decode(&code).unwrap();
        let (_, role, exp) = key.open(&bytes).unwrap();
        assert_eq!((role, exp), (Role::Admin, 1234));
        assert!(InviteKey::from_bytes([8; 32]).open(&bytes).is_none());
        for i in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 1;
            assert!(key.open(&flipped).is_none(), "byte {i}");
        }
    }

    #[test]
    fn key_file_is_made_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = InviteKey::load_or_create(dir.path()).unwrap();
        let b = InviteKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.0[..], b.0[..]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
