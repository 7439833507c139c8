//! The record calls: the server's side ([`RecordsBackend`]) and the server
//! functions the browser calls (docs/PROTOCOL.md, sections 4.5 and 16.4).

use super::*;

/// The server side of the record calls (patients only, their own record only).
#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait RecordsBackend {
    /// The caller's record, or `None` if they have not made one yet.
    async fn record_tree(
        &self,
        caller: &crate::api::Caller,
    ) -> Result<Option<RecordTree>, ApiError>;
    /// The change counter of the caller's record (`None`: no record yet).
    async fn record_seq(&self, caller: &crate::api::Caller) -> Result<Option<u64>, ApiError>;
    /// Creates the caller's record: the root (HPKE-wrapped) and starter
    /// folders, with their signed states and the genesis head.
    async fn create_record(
        &self,
        caller: &crate::api::Caller,
        record: NewRecordRequest,
    ) -> Result<RecordTree, ApiError>;
    /// Adds a folder or an entry (`head`: the owner's next head).
    async fn create_node(
        &self,
        caller: &crate::api::Caller,
        node: NewNode,
        head: Option<Signed<RecordHead>>,
    ) -> Result<NodeView, ApiError>;
    /// Replaces a node's sealed metadata (rename, describe, edit an entry).
    async fn update_node(
        &self,
        caller: &crate::api::Caller,
        request: UpdateNodeRequest,
    ) -> Result<NodeView, ApiError>;
    /// Moves a node under another folder, with its key re-wrapped there.
    async fn move_node(
        &self,
        caller: &crate::api::Caller,
        request: MoveNodeRequest,
    ) -> Result<NodeView, ApiError>;
    /// Moves a node (and so its subtree) to the trash.
    async fn trash_node(
        &self,
        caller: &crate::api::Caller,
        request: NodeRevision,
    ) -> Result<NodeView, ApiError>;
    /// Takes a node out of the trash (its parent must not be in the trash).
    async fn restore_node(
        &self,
        caller: &crate::api::Caller,
        request: NodeRef,
    ) -> Result<NodeView, ApiError>;
    /// Deletes every trashed node and its subtree for good, content included
    /// (`head`: the owner's next head over what is left).
    async fn empty_trash(
        &self,
        caller: &crate::api::Caller,
        head: Option<Signed<RecordHead>>,
    ) -> Result<Usage, ApiError>;
    /// The owner's next head over the record as stored, with no other change
    /// (folds doctors' pending changes into the chain).
    async fn fold_head(
        &self,
        caller: &crate::api::Caller,
        head: Signed<RecordHead>,
    ) -> Result<(), ApiError>;
    /// The caller's record's heads with a counter above `after`, oldest first,
    /// at most [`MAX_HEADS_LISTED`].
    async fn record_heads(
        &self,
        caller: &crate::api::Caller,
        after: u64,
    ) -> Result<Vec<Signed<RecordHead>>, ApiError>;
    /// Signs a record made before signed records: a state for every node and
    /// the genesis head, only while the record has no head.
    async fn adopt_record(
        &self,
        caller: &crate::api::Caller,
        request: AdoptRequest,
    ) -> Result<RecordTree, ApiError>;
    /// Many new folders and small files in the caller's own record under one
    /// signed head, atomically ([`BatchRequest`]); answers the usage after.
    async fn batch(
        &self,
        caller: &crate::api::Caller,
        request: BatchRequest,
    ) -> Result<Usage, ApiError>;
    /// Every complete version of a file, newest first.
    async fn list_versions(
        &self,
        caller: &crate::api::Caller,
        node_id: Id,
    ) -> Result<Vec<VersionView>, ApiError>;
    /// Makes an older version current again.
    async fn restore_version(
        &self,
        caller: &crate::api::Caller,
        request: VersionRef,
    ) -> Result<NodeView, ApiError>;
    /// Starts an upload: a new file (`new_node`) or a new version of `node_id`.
    async fn start_upload(
        &self,
        caller: &crate::api::Caller,
        request: StartUploadRequest,
    ) -> Result<UploadTicket, ApiError>;
    /// Stores one chunk of an unfinished upload (raw route).
    async fn put_chunk(
        &self,
        caller: &crate::api::Caller,
        node_id: Id,
        version: u32,
        index: u32,
        bytes: server_fn::Bytes,
    ) -> Result<ChunkReceipt, ApiError>;
    /// Completes an upload: checks the manifest against the stored chunks and
    /// the author's key, then makes the version current, in one batch.
    async fn finish_upload(
        &self,
        caller: &crate::api::Caller,
        request: FinishUploadRequest,
    ) -> Result<NodeView, ApiError>;
    /// Drops an unfinished upload.
    async fn cancel_upload(
        &self,
        caller: &crate::api::Caller,
        request: VersionRef,
    ) -> Result<(), ApiError>;
    /// An unfinished upload of the caller's: which chunks are stored.
    async fn upload_status(
        &self,
        caller: &crate::api::Caller,
        request: VersionRef,
    ) -> Result<UnfinishedUpload, ApiError>;
    /// One chunk of a complete version (raw route).
    async fn get_chunk(
        &self,
        caller: &crate::api::Caller,
        node_id: Id,
        version: u32,
        index: u32,
    ) -> Result<server_fn::Bytes, ApiError>;
    /// The caller's sealed profile copies.
    async fn profile_copies(&self, caller: &crate::api::Caller) -> Result<ProfileCopies, ApiError>;
    /// Replaces every sealed profile copy of the caller's with `copies`.
    async fn put_profile_copies(
        &self,
        caller: &crate::api::Caller,
        copies: ProfileCopies,
    ) -> Result<(), ApiError>;
}

/// The caller's record (`null` before it is created).
#[leptos::server(prefix = "/api", endpoint = "records/tree", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn get_record() -> Result<Option<RecordTree>, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.record_tree(&caller).await
}

/// The change counter of the caller's record, as in [`RecordTree::seq`]: the
/// browser keeps the decrypted tree for the session and fetches it again only
/// when this has moved on.
#[leptos::server(prefix = "/api", endpoint = "records/seq", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn record_seq() -> Result<Option<u64>, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.record_seq(&caller).await
}

/// Creates the caller's record with its starter folders, their signed states
/// and the genesis head.
#[leptos::server(prefix = "/api", endpoint = "records/create", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn create_record(
    root: NewNode,
    children: Vec<NewNode>,
    head: Option<Signed<RecordHead>>,
) -> Result<RecordTree, ApiError> {
    let caller = crate::api::caller()?;
    let head = head.ok_or_else(|| {
        ApiError::bad_request("A new record needs its first head, signed by you.")
    })?;
    let record = NewRecordRequest {
        root,
        children,
        head,
    };
    crate::api::backend()?.create_record(&caller, record).await
}

/// Adds a folder or an entry; the owner sends the record's next head.
#[leptos::server(prefix = "/api", endpoint = "records/node/create", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn create_node(
    node: NewNode,
    head: Option<Signed<RecordHead>>,
) -> Result<NodeView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .create_node(&caller, node, head)
        .await
}

/// Replaces a node's metadata.
#[leptos::server(prefix = "/api", endpoint = "records/node/update", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn update_node(request: UpdateNodeRequest) -> Result<NodeView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.update_node(&caller, request).await
}

/// Moves a node under another folder.
#[leptos::server(prefix = "/api", endpoint = "records/node/move", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn move_node(request: MoveNodeRequest) -> Result<NodeView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.move_node(&caller, request).await
}

/// Moves a node to the trash.
#[leptos::server(prefix = "/api", endpoint = "records/node/trash", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn trash_node(request: NodeRevision) -> Result<NodeView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.trash_node(&caller, request).await
}

/// Takes a node out of the trash.
#[leptos::server(prefix = "/api", endpoint = "records/node/restore", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn restore_node(request: NodeRef) -> Result<NodeView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.restore_node(&caller, request).await
}

/// Deletes the trash for good; the owner sends the record's next head over
/// what is left.
#[leptos::server(prefix = "/api", endpoint = "records/trash/empty", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn empty_trash(head: Option<Signed<RecordHead>>) -> Result<Usage, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.empty_trash(&caller, head).await
}

/// The owner's next head over the record as stored (no other change): takes
/// verified pending changes by doctors into the record's history.
#[leptos::server(prefix = "/api", endpoint = "records/head", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn fold_head(head: Signed<RecordHead>) -> Result<(), ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.fold_head(&caller, head).await
}

/// The caller's record's heads after counter `after` (`?after=N`), oldest
/// first, at most [`MAX_HEADS_LISTED`].
#[leptos::server(prefix = "/api", endpoint = "records/heads", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn record_heads(after: u64) -> Result<Vec<Signed<RecordHead>>, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.record_heads(&caller, after).await
}

/// Signs a record made before signed records (only while it has no head).
#[leptos::server(prefix = "/api", endpoint = "records/adopt", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn adopt_record(request: AdoptRequest) -> Result<RecordTree, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.adopt_record(&caller, request).await
}

/// Many new folders and small files under one signed head, all or none
/// (docs/PROTOCOL.md, section 16.11).
#[leptos::server(prefix = "/api", endpoint = "records/batch", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn record_batch(request: BatchRequest) -> Result<Usage, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.batch(&caller, request).await
}

/// A file's versions, newest first (`?node_id=<base64url>`).
#[leptos::server(prefix = "/api", endpoint = "records/versions", input = server_fn::codec::GetUrl, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn list_versions(node_id: String) -> Result<Vec<VersionView>, ApiError> {
    let caller = crate::api::caller()?;
    let node_id = crate::api::parse_id(&node_id)?;
    crate::api::backend()?.list_versions(&caller, node_id).await
}

/// Makes an older version current.
#[leptos::server(prefix = "/api", endpoint = "records/version/restore", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn restore_version(request: VersionRef) -> Result<NodeView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?
        .restore_version(&caller, request)
        .await
}

/// Starts an upload (a new file when `new_node` is given, else a new version).
#[leptos::server(prefix = "/api", endpoint = "records/upload/start", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn start_upload(request: StartUploadRequest) -> Result<UploadTicket, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.start_upload(&caller, request).await
}

/// Completes an upload with its signed manifest.
#[leptos::server(prefix = "/api", endpoint = "records/upload/finish", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn finish_upload(request: FinishUploadRequest) -> Result<NodeView, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.finish_upload(&caller, request).await
}

/// Drops an unfinished upload.
#[leptos::server(prefix = "/api", endpoint = "records/upload/cancel", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn cancel_upload(request: VersionRef) -> Result<(), ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.cancel_upload(&caller, request).await
}

/// An unfinished upload of the caller's and the chunks it holds, to go on
/// with an interrupted upload.
#[leptos::server(prefix = "/api", endpoint = "records/upload/status", input = server_fn::codec::Json, output = server_fn::codec::Json, client = crate::api::ApiClient)]
pub async fn upload_status(request: VersionRef) -> Result<UnfinishedUpload, ApiError> {
    let caller = crate::api::caller()?;
    crate::api::backend()?.upload_status(&caller, request).await
}
