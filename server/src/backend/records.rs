//! The patient's record. Placeholder on the contract branch: the records
//! helper replaces this file with the real implementation before it merges.

use shared::{
    api::{
        records::{
            ChunkReceipt, NewNode, NodeView, RecordTree, RecordsBackend, UploadTicket, Usage,
            VersionView,
        },
        ApiError, Caller,
    },
    crypto::{
        sign::{FileManifest, Signed},
        Id,
    },
};

use super::ServerBackend;

#[async_trait::async_trait]
impl RecordsBackend for ServerBackend {
    async fn record_tree(&self, _: &Caller) -> Result<Option<RecordTree>, ApiError> {
        Err(ApiError::not_found())
    }
    async fn create_record(
        &self,
        _: &Caller,
        _: NewNode,
        _: Vec<NewNode>,
    ) -> Result<RecordTree, ApiError> {
        Err(ApiError::not_found())
    }
    async fn create_node(&self, _: &Caller, _: NewNode) -> Result<NodeView, ApiError> {
        Err(ApiError::not_found())
    }
    async fn update_node(
        &self,
        _: &Caller,
        _: Id,
        _: u64,
        _: Vec<u8>,
    ) -> Result<NodeView, ApiError> {
        Err(ApiError::not_found())
    }
    async fn move_node(
        &self,
        _: &Caller,
        _: Id,
        _: u64,
        _: Id,
        _: Vec<u8>,
    ) -> Result<NodeView, ApiError> {
        Err(ApiError::not_found())
    }
    async fn trash_node(&self, _: &Caller, _: Id, _: u64) -> Result<NodeView, ApiError> {
        Err(ApiError::not_found())
    }
    async fn restore_node(&self, _: &Caller, _: Id) -> Result<NodeView, ApiError> {
        Err(ApiError::not_found())
    }
    async fn empty_trash(&self, _: &Caller) -> Result<Usage, ApiError> {
        Err(ApiError::not_found())
    }
    async fn list_versions(&self, _: &Caller, _: Id) -> Result<Vec<VersionView>, ApiError> {
        Err(ApiError::not_found())
    }
    async fn restore_version(&self, _: &Caller, _: Id, _: u32) -> Result<NodeView, ApiError> {
        Err(ApiError::not_found())
    }
    async fn start_upload(
        &self,
        _: &Caller,
        _: Id,
        _: Option<NewNode>,
        _: u32,
        _: u64,
    ) -> Result<UploadTicket, ApiError> {
        Err(ApiError::not_found())
    }
    async fn put_chunk(
        &self,
        _: &Caller,
        _: Id,
        _: u32,
        _: u32,
        _: server_fn::Bytes,
    ) -> Result<ChunkReceipt, ApiError> {
        Err(ApiError::not_found())
    }
    async fn finish_upload(
        &self,
        _: &Caller,
        _: Id,
        _: u32,
        _: Vec<u8>,
        _: Signed<FileManifest>,
        _: Vec<u8>,
    ) -> Result<NodeView, ApiError> {
        Err(ApiError::not_found())
    }
    async fn cancel_upload(&self, _: &Caller, _: Id, _: u32) -> Result<(), ApiError> {
        Err(ApiError::not_found())
    }
    async fn get_chunk(
        &self,
        _: &Caller,
        _: Id,
        _: u32,
        _: u32,
    ) -> Result<server_fn::Bytes, ApiError> {
        Err(ApiError::not_found())
    }
}
