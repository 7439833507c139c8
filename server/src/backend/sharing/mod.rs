//! Sharing: grants, access requests and emergency access, the server side of
//! `shared::api::sharing`.
//!
//! Each call checks the session and hands the typed request to the module
//! that does the work: `grants`, `renew` (signing a pre-`key_hash` grant
//! again), `scope` (what a grant opens),
//! `requests`, `emergency`, and key rotation, which rewrites the record
//! and so lives in [`super::records::rotation`]. The Grants keyspace is laid
//! out in [`layout`]; who may read or write what is decided in
//! [`crate::authz`].

mod emergency;
mod erase;
mod grants;
mod index;
pub mod layout;
mod rekey;
mod renew;
mod requests;
mod scope;

use shared::{
    api::{
        sharing::{
            AccessRequestView, ChangeGrantRequest, CommitRotation, CreateGrantRequest,
            EmergencyAsk, GrantRef, GrantView, NewAccessRequest, OwedRotations, RenewGrantRequest,
            RequestRef, RotationPart, RotationTicket, SharedScope, SharingBackend, StartRotation,
        },
        ApiError, Caller,
    },
    crypto::sign::Signed,
    model::Id,
    records::RecordHead,
};

use super::{records::rotation, ServerBackend};

#[async_trait::async_trait]
impl SharingBackend for ServerBackend {
    async fn create_grant(
        &self,
        caller: &Caller,
        request: CreateGrantRequest,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        grants::create(self, &s, request).await
    }

    async fn renew_grant(
        &self,
        caller: &Caller,
        request: RenewGrantRequest,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        renew::renew(self, &s, request).await
    }

    async fn change_grant(
        &self,
        caller: &Caller,
        request: ChangeGrantRequest,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        renew::change(self, &s, request).await
    }

    async fn revoke_grant(
        &self,
        caller: &Caller,
        request: GrantRef,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        grants::revoke(self, &s, request).await
    }

    async fn decline_grant(
        &self,
        caller: &Caller,
        request: GrantRef,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        grants::decline(self, &s, request).await
    }

    async fn list_grants(&self, caller: &Caller) -> Result<Vec<GrantView>, ApiError> {
        let s = self.require_session(caller).await?;
        grants::list(self, &s).await
    }

    async fn shared_record(&self, caller: &Caller, grant_id: Id) -> Result<SharedScope, ApiError> {
        let s = self.require_session(caller).await?;
        scope::open(self, &s, grant_id).await
    }

    async fn shared_heads(
        &self,
        caller: &Caller,
        grant_id: Id,
        after: u64,
    ) -> Result<Vec<Signed<RecordHead>>, ApiError> {
        let s = self.require_session(caller).await?;
        scope::heads(self, &s, grant_id, after).await
    }

    async fn request_access(
        &self,
        caller: &Caller,
        request: NewAccessRequest,
    ) -> Result<AccessRequestView, ApiError> {
        let s = self.require_session(caller).await?;
        requests::ask(self, &s, request).await
    }

    async fn deny_request(
        &self,
        caller: &Caller,
        request: RequestRef,
    ) -> Result<AccessRequestView, ApiError> {
        let s = self.require_session(caller).await?;
        requests::deny(self, &s, request).await
    }

    async fn list_requests(&self, caller: &Caller) -> Result<Vec<AccessRequestView>, ApiError> {
        let s = self.require_session(caller).await?;
        requests::list(self, &s).await
    }

    async fn ask_emergency(
        &self,
        caller: &Caller,
        request: EmergencyAsk,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        emergency::ask(self, &s, request).await
    }

    async fn refuse_emergency(
        &self,
        caller: &Caller,
        request: GrantRef,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        emergency::refuse(self, &s, request).await
    }

    async fn start_rotation(
        &self,
        caller: &Caller,
        request: StartRotation,
    ) -> Result<RotationTicket, ApiError> {
        let s = self.require_session(caller).await?;
        rotation::start(self, &s, request).await
    }

    async fn rotation_part(&self, caller: &Caller, request: RotationPart) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        rotation::store_part(self, &s, request).await
    }

    async fn commit_rotation(
        &self,
        caller: &Caller,
        request: CommitRotation,
    ) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        rotation::commit(self, &s, request).await
    }

    async fn pending_rotations(&self, caller: &Caller) -> Result<OwedRotations, ApiError> {
        let s = self.require_session(caller).await?;
        rekey::pending(self, &s).await
    }
}
