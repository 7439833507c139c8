//! Recovery by the recovery code: a new password for an account whose password
//! is lost, with the same answers for an unknown name.

use shared::{
    api::{
        account::{
            Recovered, RecoveryBackend, RecoveryFinishRequest, RecoveryStartRequest,
            RecoveryStarted,
        },
        ApiError, Caller, ErrorCode,
    },
    audit::EventKind,
    crypto::{keyring, opaque, recovery, rng},
};

use super::checks::{check_keyring_len, disabled, malformed, parse_username};
use crate::backend::{audit::Draft, crypto_internal, pending::PendingRecovery, ServerBackend};

const FAKE_USER_ID: &str = "medvault/v1/server/fake-user-id";
const FAKE_RECOVERY_KEYRING: &str = "medvault/v1/server/fake-recovery-keyring";

#[async_trait::async_trait]
impl RecoveryBackend for ServerBackend {
    /// Step 1 of a recovery: admits and counts the attempt, and answers a challenge and
    /// the recovery keyring (fake ones for an unknown name).
    async fn recovery_start(
        &self,
        caller: &Caller,
        req: RecoveryStartRequest,
    ) -> Result<RecoveryStarted, ApiError> {
        let username = parse_username(&req.username)?;
        self.log_abandoned().await;
        let now = self.now();
        let attempt = self
            .throttle
            .admit(username.as_str(), caller.client_addr, now)
            .await?;
        let secrets = self.secrets().await?;
        let registration_response = opaque::server_registration_start(
            &secrets.opaque,
            username.as_str().as_bytes(),
            &req.registration_request,
        )
        .map_err(|_| malformed("registration request"))?;
        let user = self.user_by_name(username.as_str()).await?;
        let (user_id, recovery_keyring) = match &user {
            Some(u) => (u.id, u.recovery_keyring.clone()),
            None => {
                let mut id = [0u8; 16];
                Self::fake_bytes(&secrets, FAKE_USER_ID, username.as_str(), &mut id)?;
                let mut sealed = vec![0u8; keyring::SEALED_LEN];
                Self::fake_bytes(
                    &secrets,
                    FAKE_RECOVERY_KEYRING,
                    username.as_str(),
                    &mut sealed,
                )?;
                (id, sealed)
            }
        };
        let challenge = rng::bytes::<32>().map_err(crypto_internal)?;
        let (recovery_id, _) = self
            .pending
            .recoveries
            .insert(
                now,
                caller.client_addr,
                PendingRecovery {
                    username: username.as_str().to_owned(),
                    addr: caller.client_addr,
                    attempt,
                    user_id: user.map(|u| u.id),
                    challenge,
                },
            )
            .await?;
        Ok(RecoveryStarted {
            recovery_id,
            user_id,
            challenge: challenge.to_vec(),
            recovery_keyring,
            registration_response,
        })
    }

    /// Step 2 of a recovery: checks the proof, sets the new password, ends every
    /// session, turns the second factor off and signs in.
    async fn recovery_finish(
        &self,
        caller: &Caller,
        req: RecoveryFinishRequest,
    ) -> Result<Recovered, ApiError> {
        // Malformed parts change nothing: the recovery can still finish.
        let password_file = opaque::server_registration_finish(&req.registration_upload)
            .map_err(|_| malformed("registration upload"))?;
        check_keyring_len(&req.sealed_keyring, "sealed keyring")?;
        self.log_abandoned().await;
        let now = self.now();
        let (pending, _) = self
            .pending
            .recoveries
            .take(now, &req.recovery_id)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request("This recovery has expired or was already used. Start again.")
            })?;
        let user = match pending.user_id {
            Some(id) => self.user_by_id(&id).await?,
            None => None,
        };
        let proven = user.as_ref().is_some_and(|u| {
            recovery::verify_proof(&u.recovery_verifier, &u.id, &pending.challenge, &req.proof)
                .is_ok()
        });
        let Some(user) = user.filter(|_| proven) else {
            self.record(Draft::own_if_known(
                EventKind::RecoveryFailed,
                pending.user_id.as_ref(),
            ))
            .await?;
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "The username or recovery code is not right.",
            ));
        };
        self.throttle
            .proven(&pending.username, pending.addr, pending.attempt)
            .await;
        if user.disabled {
            return Err(disabled());
        }
        let (mut ops, ended) = self.end_sessions_ops(&user.id, None).await?;
        let new = self.new_session(caller, &user.id, now).await?;
        ops.extend(new.ops);
        let sealed = req.sealed_keyring;
        let mut totp_removed = false;
        let event = Draft::own(EventKind::AccountRecovered, &user.id).session(&new.hash);
        let updated = self
            .update_user(&user.id, event, |rec| {
                if rec.disabled {
                    return Err(disabled());
                }
                rec.password_file = password_file.clone();
                rec.sealed_keyring = sealed.clone();
                totp_removed = rec.totp_enabled();
                rec.totp_sealed = None;
                rec.totp_secret = None;
                rec.totp_last_step = None;
                rec.last_sign_in = Some(now);
                Ok(ops.clone())
            })
            .await?;
        caller.set_session_cookie(new.token);
        self.throttle.succeed(&updated.username).await;
        tracing::info!(ended, "account recovered");
        Ok(Recovered {
            session: self.session_info(&updated, now),
            ended_sessions: ended,
            totp_removed,
        })
    }
}
