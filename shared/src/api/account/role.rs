//! A new role, accepted by the user (`POST /api/account/key-entry`): an admin
//! changes a non-patient's role on the server (`admin/set-role`), but the role
//! browsers trust is the one in the user's own signed directory entry, which
//! only the user's identity key can sign. So at the next sign-in the user's
//! browser signs the entry again with the role the server now records, over
//! the same keys, and sends it here (PROTOCOL 15.13).

use crate::{api::ApiError, crypto::sign::Signed, model::KeyEntry};

/// Replaces the caller's directory entry by the same entry with the role the
/// server records for them; answers the session as it now stands.
#[leptos::server(prefix = "/api", endpoint = "account/key-entry", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn renew_key_entry(entry: Signed<KeyEntry>) -> Result<super::SessionInfo, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.renew_key_entry(&caller, entry).await
}

/// The server side of [`renew_key_entry`].
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait KeyEntryBackend {
    /// Stores `entry` in place of the caller's (needs a session): it must
    /// verify under the identity key it carries and differ from the stored
    /// entry in its role only, which must be the role the server records.
    /// `bad_request` otherwise; nothing changes on a refusal.
    async fn renew_key_entry(
        &self,
        caller: &crate::api::Caller,
        entry: Signed<KeyEntry>,
    ) -> Result<super::SessionInfo, ApiError>;
}
