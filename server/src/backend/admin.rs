//! The admin's calls. Each needs a session of an enabled admin; anyone else
//! gets `not_found`, as if the call did not exist.

use shared::{
    api::{
        admin::{AdminBackend, Invite, OpenInvite, UserSummary},
        ApiError, Caller,
    },
    crypto::sign::Signed,
    model::{AdminCertificate, DoctorCertificate, Id, Role},
};

use shared::audit::EventKind;

use super::{audit::Draft, sessions::Session, ServerBackend};

/// Longest licence id accepted, in characters.
pub const LICENCE_ID_MAX_CHARS: usize = 64;

impl ServerBackend {
    async fn require_admin(&self, caller: &Caller) -> Result<Session, ApiError> {
        match self.session(caller).await? {
            Some(s) if s.user.role == Role::Admin => Ok(s),
            _ => Err(ApiError::not_found()),
        }
    }
}

#[async_trait::async_trait]
impl AdminBackend for ServerBackend {
    async fn create_invite(&self, caller: &Caller, role: Role) -> Result<Invite, ApiError> {
        let admin = self.require_admin(caller).await?;
        let (code, expires_at) = self.store_invite(&admin, role).await?;
        tracing::info!(role = ?role, "invite created");
        Ok(Invite {
            code,
            role,
            expires_at,
        })
    }

    async fn list_invites(&self, caller: &Caller) -> Result<Vec<OpenInvite>, ApiError> {
        self.require_admin(caller).await?;
        let open = self.open_invites().await?;
        let mut names = std::collections::HashMap::new();
        let mut out = Vec::with_capacity(open.len());
        for (id, invite) in open {
            let created_by_username = match names.get(&invite.created_by) {
                Some(name) => Option::clone(name),
                None => {
                    let name = self
                        .user_by_id(&invite.created_by)
                        .await?
                        .map(|u| u.username);
                    names.insert(invite.created_by, name.clone());
                    name
                }
            };
            out.push(OpenInvite {
                id,
                role: invite.role,
                created_at: invite.created_at,
                expires_at: invite.expires_at,
                created_by: invite.created_by,
                created_by_username,
            });
        }
        Ok(out)
    }

    async fn revoke_invite(&self, caller: &Caller, id: Id) -> Result<(), ApiError> {
        let admin = self.require_admin(caller).await?;
        self.revoke_stored_invite(&admin, id).await?;
        tracing::info!("invite revoked");
        Ok(())
    }

    async fn list_users(
        &self,
        caller: &Caller,
        prefix: Option<String>,
    ) -> Result<Vec<UserSummary>, ApiError> {
        self.require_admin(caller).await?;
        let prefix = prefix.map(|p| p.trim().to_lowercase()).unwrap_or_default();
        if prefix.chars().count() > shared::account::USERNAME_MAX_CHARS
            || prefix.chars().any(char::is_control)
        {
            return Err(ApiError::bad_request(format!(
                "Search by the start of a username: at most {} characters, no control characters.",
                shared::account::USERNAME_MAX_CHARS
            )));
        }
        let entries = self
            .store
            .scan_prefix(
                crate::store::Space::Users,
                &super::users::users_prefix(),
                None,
                super::users::LIST_LIMIT,
            )
            .await
            .map_err(super::store_error)?;
        let mut out = Vec::with_capacity(entries.len());
        for (_, bytes) in entries {
            let user: super::users::UserRecord =
                crate::store::codec::decode(&bytes).map_err(super::store_error)?;
            if user.username.to_lowercase().starts_with(&prefix) {
                out.push(user.summary());
            }
        }
        out.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(out)
    }

    async fn verify_doctor(
        &self,
        caller: &Caller,
        certificate: Signed<DoctorCertificate>,
    ) -> Result<UserSummary, ApiError> {
        let admin = self.require_admin(caller).await?;
        let cert = &certificate.value;
        if cert.admin_id != admin.user.id {
            return Err(ApiError::bad_request(
                "The certificate must name you as the certifying admin.",
            ));
        }
        certificate
            .verify(&admin.user.key_entry.value.identity_key)
            .map_err(|_| {
                ApiError::bad_request(
                    "The certificate's signature is not valid for your identity key.",
                )
            })?;
        let licence = cert.licence_id.trim();
        if licence.is_empty()
            || licence != cert.licence_id
            || licence.chars().count() > LICENCE_ID_MAX_CHARS
        {
            return Err(ApiError::bad_request(format!(
                "The licence id must be 1 to {LICENCE_ID_MAX_CHARS} characters, without spaces around it."
            )));
        }
        let doctor_id = cert.doctor_id;
        let event = Draft::new(EventKind::DoctorVerified)
            .actor(&admin.user.id)
            .session(&admin.hash)
            .subject(&doctor_id);
        let updated = self
            .update_user(&doctor_id, event, |doctor| {
                let entry = &doctor.key_entry.value;
                if doctor.role != Role::Doctor {
                    return Err(ApiError::not_found());
                }
                if entry.username != cert.doctor_username
                    || entry.identity_key != cert.doctor_identity_key
                    || entry.encryption_key != cert.doctor_encryption_key
                {
                    return Err(ApiError::bad_request(
                        "The certificate does not match the doctor's current keys. Look the doctor up again.",
                    ));
                }
                doctor.certificate = Some(certificate.clone());
                Ok(Vec::new())
            })
            .await?;
        tracing::info!("doctor verified");
        Ok(updated.summary())
    }

    async fn store_org_certificate(
        &self,
        caller: &Caller,
        certificate: Signed<AdminCertificate>,
    ) -> Result<(), ApiError> {
        let admin = self.require_admin(caller).await?;
        // The server has no anchor of its own: it checks only that the
        // certificate is signed by the key it names and covers the caller's
        // keys. Browsers check that key's fingerprint.
        certificate.verify_self().map_err(|_| {
            ApiError::bad_request(
                "The certificate's signature is not valid. Paste the whole code the operator gave you.",
            )
        })?;
        let event = Draft::new(EventKind::AdminCertified)
            .actor(&admin.user.id)
            .session(&admin.hash)
            .subject(&admin.user.id);
        let cert = &certificate.value;
        self.update_user(&admin.user.id, event, |me| {
            let entry = &me.key_entry.value;
            if cert.admin_id != me.id
                || cert.admin_username != entry.username
                || cert.admin_identity_key != entry.identity_key
                || cert.admin_encryption_key != entry.encryption_key
            {
                return Err(ApiError::bad_request(
                    "This certificate is for other keys than yours. Give the operator your current request code and ask for a new certificate.",
                ));
            }
            me.org_certificate = Some(certificate.clone());
            Ok(Vec::new())
        })
        .await?;
        tracing::info!("admin certificate stored");
        Ok(())
    }

    async fn my_org_certificate(
        &self,
        caller: &Caller,
    ) -> Result<Option<Signed<AdminCertificate>>, ApiError> {
        Ok(self.require_admin(caller).await?.user.org_certificate)
    }

    async fn set_disabled(
        &self,
        caller: &Caller,
        user_id: Id,
        disabled: bool,
    ) -> Result<UserSummary, ApiError> {
        let admin = self.require_admin(caller).await?;
        if user_id == admin.user.id {
            return Err(ApiError::bad_request(
                "You cannot disable your own account.",
            ));
        }
        let ops = if disabled {
            self.end_sessions_ops(&user_id, None).await?.0
        } else {
            Vec::new()
        };
        let kind = if disabled {
            EventKind::AccountDisabled
        } else {
            EventKind::AccountEnabled
        };
        let event = Draft::new(kind)
            .actor(&admin.user.id)
            .session(&admin.hash)
            .subject(&user_id);
        let updated = self
            .update_user(&user_id, event, |user| {
                user.disabled = disabled;
                Ok(ops.clone())
            })
            .await?;
        tracing::info!(disabled, "account state changed");
        Ok(updated.summary())
    }

    async fn set_role(
        &self,
        caller: &Caller,
        user_id: Id,
        role: Role,
    ) -> Result<UserSummary, ApiError> {
        let admin = self.require_admin(caller).await?;
        if user_id == admin.user.id {
            return Err(ApiError::bad_request(
                "You cannot change your own role. Ask another administrator.",
            ));
        }
        if role == Role::Patient {
            return Err(ApiError::bad_request(
                "An account cannot become a patient's: a patient's account holds their record from sign-up on. Invite the person as a patient instead.",
            ));
        }
        let user = self
            .user_by_id(&user_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if user.role == Role::Patient {
            return Err(ApiError::bad_request(
                "A patient's role cannot be changed: their account holds their record. Nothing was changed.",
            ));
        }
        if user.role == role {
            return Err(ApiError::bad_request(
                "The account already has this role. Nothing was changed.",
            ));
        }
        // A doctor who is one no more keeps no shares: each is declined, so
        // its patient's browser replaces the keys, and their requests go.
        if user.role == Role::Doctor {
            self.end_received_sharing(&user_id, (&admin.user.id, &admin.hash))
                .await?;
        }
        let (ops, _) = self.end_sessions_ops(&user_id, None).await?;
        let event = Draft::new(EventKind::RoleChanged)
            .actor(&admin.user.id)
            .session(&admin.hash)
            .subject(&user_id);
        let updated = self
            .update_user(&user_id, event, |user| {
                // No account ever becomes a patient's, so the check above holds.
                user.role = role;
                // Both certificates were about the old role: a doctor is
                // certified again by an admin, an admin by the operator.
                user.certificate = None;
                user.org_certificate = None;
                Ok(ops.clone())
            })
            .await?;
        tracing::info!(role = ?role, "role changed");
        Ok(updated.summary())
    }

    async fn delete_user(
        &self,
        caller: &Caller,
        user_id: Id,
        username: String,
    ) -> Result<shared::api::account::AccountDeleted, ApiError> {
        let admin = self.require_admin(caller).await?;
        if user_id == admin.user.id {
            return Err(ApiError::bad_request(
                "You cannot delete your own account here.",
            ));
        }
        let user = self
            .user_by_id(&user_id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if !super::accounts::delete::names(&username, &user.username) {
            return Err(ApiError::bad_request(
                "Type the account's username exactly as shown to confirm. Nothing was deleted.",
            ));
        }
        let event = Draft::new(EventKind::AccountDeleted)
            .actor(&admin.user.id)
            .session(&admin.hash)
            .subject(&user_id);
        self.erase_account(&user_id, (&admin.user.id, &admin.hash), event)
            .await
    }
}
