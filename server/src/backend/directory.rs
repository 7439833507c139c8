//! The public key directory: stored key entries and doctor certificates (with
//! the certifying admin's entry and org certificate), served to anyone signed in. The browser verifies every signature.

use shared::{
    account::Username,
    api::{
        directory::{DirectoryBackend, DirectoryEntry, UserName, MAX_NAMES},
        ApiError, Caller,
    },
    model::Id,
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
        let admin = match &user.certificate {
            Some(cert) => self.user_by_id(&cert.value.admin_id).await?,
            None => None,
        };
        let (certifier, certifier_certificate) = match admin {
            Some(admin) => (Some(admin.key_entry), admin.org_certificate),
            None => (None, None),
        };
        Ok(DirectoryEntry {
            entry: user.key_entry,
            certificate: user.certificate,
            certifier,
            certifier_certificate,
            disabled: user.disabled,
        })
    }

    async fn user_names(&self, caller: &Caller, ids: Vec<Id>) -> Result<Vec<UserName>, ApiError> {
        self.require_session(caller).await?;
        if ids.len() > MAX_NAMES {
            return Err(ApiError::bad_request(format!(
                "Ask for at most {MAX_NAMES} names at a time."
            )));
        }
        let mut names = Vec::with_capacity(ids.len());
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                continue;
            }
            if let Some(user) = self.user_by_id(&id).await? {
                names.push(UserName {
                    user_id: user.id,
                    username: user.username,
                    role: user.role,
                });
            }
        }
        Ok(names)
    }
}
