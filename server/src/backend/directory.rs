//! The public key directory: stored key entries and doctor certificates,
//! served to anyone signed in. The browser verifies every signature.

use shared::{
    account::Username,
    api::{
        directory::{DirectoryBackend, DirectoryEntry},
        ApiError, Caller,
    },
};

use super::ServerBackend;

#[async_trait::async_trait]
impl DirectoryBackend for ServerBackend {
    async fn lookup_user(
        &self,
        caller: &Caller,
        username: String,
    ) -> Result<DirectoryEntry, ApiError> {
        self.require_session(caller).await?;
        // A name that cannot exist is simply not found.
        let name = Username::parse(&username).map_err(|_| ApiError::not_found())?;
        let user = self
            .user_by_name(name.as_str())
            .await?
            .ok_or_else(ApiError::not_found)?;
        let certifier = match &user.certificate {
            Some(cert) => self
                .user_by_id(&cert.value.admin_id)
                .await?
                .map(|admin| admin.key_entry),
            None => None,
        };
        Ok(DirectoryEntry {
            entry: user.key_entry,
            certificate: user.certificate,
            certifier,
            disabled: user.disabled,
        })
    }
}
