//! Sharing: grants, access requests and emergency access, the server side of
//! `shared::api::sharing`.
//!
//! Each call checks the session and hands the typed request to the module
//! that does the work: [`grants`], [`scope`] (what a grant opens),
//! [`requests`], [`emergency`], and key rotation, which rewrites the record
//! and so lives in [`super::records::rotation`]. The Grants keyspace is laid
//! out in [`layout`]; who may read or write what is decided in
//! [`crate::authz`].

mod emergency;
mod grants;
mod index;
pub mod layout;
mod requests;
mod scope;

use shared::{
    api::{
        sharing::{
            AccessRequestView, CreateGrantRequest, EmergencyAsk, GrantView, NewAccessRequest,
            RotationPart, RotationTicket, SharedScope, SharingBackend,
        },
        ApiError, Caller,
    },
    crypto::Id,
};

use super::ServerBackend;

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

    async fn revoke_grant(&self, caller: &Caller, grant_id: Id) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        grants::revoke(self, &s, grant_id).await
    }

    async fn decline_grant(&self, caller: &Caller, grant_id: Id) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        grants::decline(self, &s, grant_id).await
    }

    async fn list_grants(&self, caller: &Caller) -> Result<Vec<GrantView>, ApiError> {
        let s = self.require_session(caller).await?;
        grants::list(self, &s).await
    }

    async fn shared_record(&self, caller: &Caller, grant_id: Id) -> Result<SharedScope, ApiError> {
        let s = self.require_session(caller).await?;
        scope::open(self, &s, grant_id).await
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
        request_id: Id,
    ) -> Result<AccessRequestView, ApiError> {
        let s = self.require_session(caller).await?;
        requests::deny(self, &s, request_id).await
    }

    async fn list_requests(&self, caller: &Caller) -> Result<Vec<AccessRequestView>, ApiError> {
        let s = self.require_session(caller).await?;
        requests::list(self, &s).await
    }

    async fn ask_emergency(
        &self,
        caller: &Caller,
        ask: EmergencyAsk,
    ) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        emergency::ask(self, &s, ask).await
    }

    async fn refuse_emergency(&self, caller: &Caller, grant_id: Id) -> Result<GrantView, ApiError> {
        let s = self.require_session(caller).await?;
        emergency::refuse(self, &s, grant_id).await
    }

    async fn start_rotation(
        &self,
        caller: &Caller,
        node_id: Id,
    ) -> Result<RotationTicket, ApiError> {
        let s = self.require_session(caller).await?;
        self.start_rotation_of(&s, node_id).await
    }

    async fn rotation_part(&self, caller: &Caller, part: RotationPart) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        self.store_rotation_part(&s, part).await
    }

    async fn commit_rotation(
        &self,
        caller: &Caller,
        rotation_id: Id,
        parts: u32,
    ) -> Result<(), ApiError> {
        let s = self.require_session(caller).await?;
        self.commit_rotation_of(&s, rotation_id, parts).await
    }
}
