//! Sign-up: an OPAQUE registration, with an invite or (when the operator
//! allows it) without one.

use shared::{
    account::Username,
    api::{
        account::{
            InviteDetails, SessionInfo, SignupBackend, SignupFinishRequest, SignupSettings,
            SignupStartRequest, SignupStarted,
        },
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    crypto::{opaque, rng},
    model::Role,
};

use super::checks::{check_keyring_len, malformed};
use crate::{
    backend::{
        audit::Draft,
        crypto_internal, invites,
        pending::PendingSignup,
        store_error,
        users::{user_key, username_key, UserRecord},
        ServerBackend,
    },
    store::{codec, Batch, Space, StoreError},
};

/// How far a key entry's `created_at` may be from the server's clock.
const CLOCK_SKEW_SECS: u64 = 15 * 60;

#[async_trait::async_trait]
impl SignupBackend for ServerBackend {
    /// Whether patients may sign up without an invite.
    async fn signup_policy(&self) -> Result<SignupSettings, ApiError> {
        Ok(SignupSettings {
            open_signup: self.config.settings.open_signup,
        })
    }

    /// What an invite code grants, for the sign-up page, before anything is made.
    async fn invite_info(&self, _caller: &Caller, code: String) -> Result<InviteDetails, ApiError> {
        let invite = self.check_invite(&code).await?;
        Ok(InviteDetails {
            role: invite.role,
            expires_at: invite.expires_at,
        })
    }

    /// Step 1 of a sign-up: checks the name and the invite, and answers the server's
    /// OPAQUE registration half.
    async fn signup_start(
        &self,
        caller: &Caller,
        req: SignupStartRequest,
    ) -> Result<SignupStarted, ApiError> {
        let username = Username::parse_new(&req.username)
            .map_err(|e| ApiError::bad_request(format!("{e}.")))?;
        let role = match &req.invite {
            Some(code) => self.check_invite(code).await?.role,
            None if self.config.settings.open_signup => Role::Patient,
            None => {
                return Err(ApiError::bad_request(
                    "This server creates accounts by invite only. Ask an administrator for an invite link.",
                ))
            }
        };
        if self.user_by_name(username.as_str()).await?.is_some() {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "That username is taken.",
            ));
        }
        let secrets = self.secrets().await?;
        let registration_response = opaque::server_registration_start(
            &secrets.opaque,
            username.as_str().as_bytes(),
            &req.registration_request,
        )
        .map_err(|_| malformed("registration request"))?;
        let user_id = rng::id().map_err(crypto_internal)?;
        let (registration_id, _) = self
            .pending
            .signups
            .insert(
                self.now(),
                caller.client_addr,
                PendingSignup {
                    username: username.as_str().to_owned(),
                    user_id,
                    role,
                    invite: req.invite,
                },
            )
            .await?;
        Ok(SignupStarted {
            registration_id,
            user_id,
            username: username.as_str().to_owned(),
            role,
            registration_response,
        })
    }

    /// Step 2 of a sign-up: checks the uploaded record and key entry, then writes the
    /// account, the invite's redemption and the first session in one batch.
    async fn signup_finish(
        &self,
        caller: &Caller,
        req: SignupFinishRequest,
    ) -> Result<SessionInfo, ApiError> {
        let now = self.now();
        let (pending, _) = self
            .pending
            .signups
            .take(now, &req.registration_id)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(
                    "This sign-up has expired or was already finished. Start again.",
                )
            })?;
        let password_file = opaque::server_registration_finish(&req.registration_upload)
            .map_err(|_| malformed("registration upload"))?;
        check_keyring_len(&req.sealed_keyring, "sealed keyring")?;
        check_keyring_len(&req.recovery_keyring, "recovery keyring")?;
        let entry = req
            .key_entry
            .verify_self()
            .map_err(|_| ApiError::bad_request("The key entry's signature is not valid."))?;
        if entry.user_id != pending.user_id
            || entry.username != pending.username
            || entry.role != pending.role
        {
            return Err(ApiError::bad_request(
                "The key entry does not name this account (user id, username and role must be the ones the server gave).",
            ));
        }
        // `abs_diff`: the time is the client's, and `created_at - now` overflows
        // for values near i64::MIN or i64::MAX.
        if entry.created_at.abs_diff(now) > CLOCK_SKEW_SECS {
            return Err(ApiError::bad_request(
                "The key entry's time is too far from the server's. Check your device's clock.",
            ));
        }
        // A patient's browser may send the new record with the account.
        let new_record = match req.record {
            Some(_) if pending.role != Role::Patient => {
                return Err(ApiError::bad_request(
                    "Only a patient's account comes with a record.",
                ))
            }
            Some(record) => {
                Some(self.prepare_record(&pending.user_id, &entry.identity_key, record)?)
            }
            None => None,
        };
        let invite = match &pending.invite {
            Some(code) => Some(self.check_invite(code).await?),
            None => None,
        };
        let record = UserRecord {
            id: pending.user_id,
            username: pending.username.clone(),
            role: pending.role,
            password_file,
            sealed_keyring: req.sealed_keyring,
            recovery_keyring: req.recovery_keyring,
            recovery_verifier: req.recovery_verifier,
            key_entry: req.key_entry,
            certificate: None,
            org_certificate: None,
            disabled: false,
            totp_sealed: None,
            totp_secret: None,
            totp_last_step: None,
            created_at: now,
            last_sign_in: Some(now),
            notify_email: None,
        };
        let session = self.new_session(caller, &record.id, now).await?;
        let mut batch = Batch::new();
        batch
            .expect_absent(Space::Users, username_key(&record.username))
            .put(
                Space::Users,
                username_key(&record.username),
                record.id.to_vec(),
            )
            .expect_absent(Space::Users, user_key(&record.id))
            .put(
                Space::Users,
                user_key(&record.id),
                codec::encode(&record).map_err(store_error)?,
            );
        if let Some(invite) = &invite {
            for op in invite.redeem_ops(now) {
                batch.push(op);
            }
        }
        for op in session.ops {
            batch.push(op);
        }
        if let Some(new_record) = &new_record {
            new_record.ops(&mut batch)?;
        }
        let event = Draft::own(EventKind::AccountCreated, &record.id).session(&session.hash);
        match self.append(batch, event).await {
            Ok(_) => {}
            Err(StoreError::Conflict) => {
                return Err(if self.user_by_name(&record.username).await?.is_some() {
                    ApiError::new(ErrorCode::Conflict, "That username is taken.")
                } else {
                    invites::used()
                });
            }
            Err(e) => return Err(store_error(e)),
        }
        caller.set_session_cookie(session.token);
        tracing::info!(role = ?record.role, "account created");
        Ok(self.session_info(&record, now))
    }
}
