//! Key pins (`GET` and `PUT /api/account/pins`): one opaque, sealed and
//! signed object per user (`shared::pins`), which only its owner reads or
//! replaces. A save names the counter it started from and is refused with
//! `conflict` if another save came first, so two tabs never overwrite each
//! other. The server checks what it can without any key: the object is the
//! caller's, signed by the caller's identity key, the next counter, and not
//! over the size limit. The browser checks everything again (and that the
//! counter never goes back); the server cannot open the list.
//!
//! Store layout: `Space::Users`, key `str("pins") || user_id (16)`, value the
//! `Signed<PinEnvelope>` in the store's codec.

use shared::{
    api::{
        account::{PinsBackend, SavePins},
        ApiError, Caller, ErrorCode,
    },
    crypto::sign::Signed,
    model::Id,
    pins::{PinEnvelope, MAX_SEALED_PINS},
};

use crate::{
    backend::{store_error, ServerBackend},
    store::{codec, keys::Key, Batch, Space, StoreError},
};

/// Key of a user's pin object.
pub fn pins_key(user_id: &Id) -> Vec<u8> {
    Key::new().str("pins").fixed(user_id).finish()
}

const CONFLICT: &str =
    "Your saved keys were changed in another tab or on another device. Load them again and retry.";

impl ServerBackend {
    async fn stored_pins(
        &self,
        user_id: &Id,
    ) -> Result<Option<(Vec<u8>, Signed<PinEnvelope>)>, ApiError> {
        match self
            .store
            .get(Space::Users, &pins_key(user_id))
            .await
            .map_err(store_error)?
        {
            Some(bytes) => {
                let envelope = codec::decode(&bytes).map_err(store_error)?;
                Ok(Some((bytes, envelope)))
            }
            None => Ok(None),
        }
    }
}

#[async_trait::async_trait]
impl PinsBackend for ServerBackend {
    async fn get_pins(&self, caller: &Caller) -> Result<Option<Signed<PinEnvelope>>, ApiError> {
        let s = self.require_session(caller).await?;
        Ok(self.stored_pins(&s.user.id).await?.map(|(_, e)| e))
    }

    async fn put_pins(&self, caller: &Caller, request: SavePins) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        let envelope = &request.envelope;
        if envelope.value.user_id != s.user.id {
            return Err(ApiError::bad_request(
                "These saved keys belong to another account.",
            ));
        }
        if envelope.value.sealed.len() > MAX_SEALED_PINS {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "The list of saved keys is larger than the server keeps ({} KiB).",
                    MAX_SEALED_PINS / 1024
                ),
            ));
        }
        if request.expected_counter.checked_add(1) != Some(envelope.value.counter) {
            return Err(ApiError::bad_request(
                "The saved keys' counter must be one more than the copy they replace.",
            ));
        }
        if envelope
            .verify(&s.user.key_entry.value.identity_key)
            .is_err()
        {
            return Err(ApiError::bad_request(
                "The saved keys are not signed by this account's key.",
            ));
        }
        let key = pins_key(&s.user.id);
        let mut batch = Batch::new();
        match self.stored_pins(&s.user.id).await? {
            Some((bytes, stored)) if stored.value.counter == request.expected_counter => {
                batch.expect_value(Space::Users, key.clone(), bytes);
            }
            None if request.expected_counter == 0 => {
                batch.expect_absent(Space::Users, key.clone());
            }
            _ => return Err(ApiError::new(ErrorCode::Conflict, CONFLICT)),
        }
        batch.put(
            Space::Users,
            key,
            codec::encode(envelope).map_err(store_error)?,
        );
        match self.store.apply(batch).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => Err(ApiError::new(ErrorCode::Conflict, CONFLICT)),
            Err(e) => Err(store_error(e)),
        }
    }
}
