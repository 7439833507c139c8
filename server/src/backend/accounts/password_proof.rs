//! A fresh proof of the signed-in user's password, for the account changes
//! that an open session alone must not allow: a password change, a new
//! recovery code, turning the second factor on.
//!
//! Each is an OPAQUE login inside the session. The start is counted against
//! the sign-in throttle at once (a client knows after KE2 whether its guess
//! was right), and only a valid KE3 from the same session takes the attempt
//! back; a start never finished is logged as a failure when it expires
//! ([`ServerBackend::log_abandoned`]).

use shared::{
    api::{ApiError, Caller, ErrorCode},
    audit::EventKind,
    crypto::opaque,
    model::Id,
};

use super::checks::{finish_login, malformed};
use crate::backend::{
    audit::Draft,
    pending::{PasswordProof, PendingMap},
    sessions::Session,
    ServerBackend,
};

/// What the user reads when a proof cannot be used, and what is logged.
pub(crate) struct ProofWords {
    /// The proof's id is unknown, used or expired.
    pub expired: &'static str,
    /// The event appended when KE3 is wrong.
    pub failed: EventKind,
    /// The answer to a wrong KE3.
    pub wrong: &'static str,
}

impl ServerBackend {
    /// Step 1: counts the attempt, answers KE2 for the session's account and
    /// keeps the state in `map` under a fresh id.
    pub(crate) async fn start_password_proof(
        &self,
        s: &Session,
        caller: &Caller,
        ke1: &[u8],
        map: &PendingMap<PasswordProof>,
    ) -> Result<(Id, Vec<u8>), ApiError> {
        self.log_abandoned().await;
        let now = self.now();
        let attempt = self
            .throttle
            .admit(&s.user.username, caller.client_addr, now)
            .await?;
        let secrets = self.secrets().await?;
        let (state, ke2) = opaque::server_login_start(
            &secrets.opaque,
            s.user.username.as_bytes(),
            Some(&s.user.password_file),
            ke1,
        )
        .map_err(|_| malformed("KE1 message"))?;
        let proof = PasswordProof {
            user_id: s.user.id,
            session_hash: s.hash,
            username: s.user.username.clone(),
            addr: caller.client_addr,
            attempt,
            state: state.to_bytes().into(),
        };
        let (id, _) = map.insert(now, caller.client_addr, proof).await?;
        Ok((id, ke2))
    }

    /// Step 2: takes the proof `id` from `map` (only the session that started
    /// it may) and checks KE3. A wrong one appends `words.failed` and answers
    /// 401; a malformed one changes nothing, so the proof can still finish.
    pub(crate) async fn finish_password_proof(
        &self,
        s: &Session,
        map: &PendingMap<PasswordProof>,
        id: &Id,
        ke3: &[u8],
        words: ProofWords,
    ) -> Result<(), ApiError> {
        if ke3.len() != opaque::CREDENTIAL_FINALIZATION_LEN {
            return Err(malformed("KE3 message"));
        }
        self.log_abandoned().await;
        let (pending, _) = map
            .take(self.now(), id)
            .await?
            .filter(|(p, _)| p.user_id == s.user.id && p.session_hash == s.hash)
            .ok_or_else(|| ApiError::bad_request(words.expired))?;
        if finish_login(pending.state.as_bytes(), ke3)?.is_err() {
            self.record(Draft::own(words.failed, &s.user.id).session(&s.hash))
                .await?;
            return Err(ApiError::new(ErrorCode::Unauthorized, words.wrong));
        }
        self.throttle
            .proven(&pending.username, pending.addr, pending.attempt)
            .await;
        Ok(())
    }
}
