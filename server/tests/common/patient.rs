//! A patient driving the record API as the browser app does: real sign-up,
//! the key tree of `shared::records`, uploads and downloads in chunks.

use axum::http::{header, StatusCode};
use serde_json::json;
use shared::{
    api::{
        audit::EventsPage,
        records::{
            chunk_path, ChunkReceipt, NodeKind, NodeView, RecordTree, UploadTicket, Usage,
            VersionView,
        },
        ApiError,
    },
    audit::EventKind,
    crypto::{aead::Key256, b64, keyring::Keyring},
    model::Id,
    records::{
        new_child, new_file_node, new_record, seal_metadata, wrap_child_key, OpenNode, OpenTree,
    },
};

use super::{
    files::{
        ciphertext_len, manifest, metadata, open_file, seal_file, SealedFile, {self},
    },
    Client, Failure, Server,
};

/// A small chunk size, so small files have several chunks.
pub const CHUNK: u32 = 4096;

pub struct Patient {
    pub c: Client,
    pub id: Id,
    pub name: String,
    pub keyring: Keyring,
}

pub async fn patient(s: &Server, name: &str) -> Patient {
    let c = s.client();
    let (info, account) = c.signup(name, None, s.now()).await.unwrap();
    Patient {
        c,
        id: info.user_id,
        name: info.username,
        keyring: account.keyring,
    }
}

/// A 4xx with the given status and a JSON `ApiError`.
pub fn expect_err<T: std::fmt::Debug>(r: Result<T, Failure>, status: StatusCode) -> ApiError {
    match r {
        Err((got, e)) => {
            assert_eq!(got, status, "{e:?}");
            e
        }
        Ok(v) => panic!("expected {status}, got {v:?}"),
    }
}

/// A raw response that must be a JSON `ApiError` with this status.
pub fn raw_err((status, body): (StatusCode, Vec<u8>), expect: StatusCode) -> ApiError {
    assert_eq!(status, expect, "{}", String::from_utf8_lossy(&body));
    let e: ApiError = serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)));
    assert_eq!(e.http_status(), expect.as_u16());
    e
}

pub fn find<'a>(tree: &'a OpenTree, name: &str) -> &'a OpenNode {
    tree.nodes()
        .find(|n| n.metadata.name == name)
        .unwrap_or_else(|| panic!("no {name} in the tree"))
}

/// A started upload the test drives by hand.
pub struct Started {
    pub ticket: UploadTicket,
    pub node_id: Id,
    pub parent_id: Id,
    pub node_key: Key256,
    pub file: SealedFile,
    pub bytes: Vec<u8>,
    /// The node as it was before this upload (a new file: revision 0).
    pub base: NodeView,
    /// The record's owner.
    pub owner: Id,
}

/// A new file's node as it is before its first finish (revision 0).
pub fn new_file_base(node: &shared::api::records::NewNode) -> NodeView {
    NodeView {
        node_id: node.node_id,
        parent_id: node.parent_id,
        kind: NodeKind::File,
        wrapped_key: node.wrapped_key.clone(),
        metadata: node.metadata.clone(),
        revision: 0,
        trashed_at: None,
        current: None,
        version_count: 0,
        state: None,
        write_grant: None,
    }
}

/// Who owns the record `view` is in (by its signed state), else `me`.
pub fn owner_of(view: &NodeView, me: &Id) -> Id {
    view.state.as_ref().map_or(*me, |s| s.value.owner_id)
}

impl Patient {
    /// Signs node states as this patient, in their own record.
    pub fn signer(&self, now: i64) -> shared::records::Signer<'_> {
        shared::records::Signer {
            owner_id: self.id,
            author_id: self.id,
            key: self.keyring.identity(),
            now,
        }
    }

    pub async fn create_record(&self, now: i64) -> RecordTree {
        let made = new_record(
            &self.id,
            &self.keyring.encryption().public_key(),
            self.keyring.identity(),
            shared::crypto::rng::id().unwrap(),
            now,
        )
        .unwrap();
        self.c
            .post(
                "/api/records/create",
                &json!({"root": made.root, "children": made.children, "head": made.head}),
            )
            .await
            .unwrap()
    }

    pub async fn raw_tree(&self) -> RecordTree {
        self.c
            .get::<Option<RecordTree>>("/api/records/tree")
            .await
            .unwrap()
            .expect("a record")
    }

    pub async fn tree(&self) -> OpenTree {
        let tree = OpenTree::open(self.raw_tree().await, self.keyring.encryption()).unwrap();
        assert!(tree.unreadable.is_empty());
        tree
    }

    pub async fn usage(&self) -> Usage {
        self.raw_tree().await.usage
    }

    /// Starts an upload of a new file under `parent`.
    pub async fn start_new(
        &self,
        parent: &OpenNode,
        name: &str,
        bytes: &[u8],
        now: i64,
    ) -> Result<Started, Failure> {
        let (node, node_key) =
            new_file_node(parent, &metadata(name, now, Some(bytes.len() as u64))).unwrap();
        let ticket: UploadTicket = self
            .c
            .post(
                "/api/records/upload/start",
                &json!({"request": {
                    "node_id": b64::encode(&node.node_id),
                    "new_node": node,
                    "chunk_size": CHUNK,
                    "ciphertext_len": ciphertext_len(bytes.len(), CHUNK),
                }}),
            )
            .await?;
        assert_eq!(ticket.version, 1);
        let file = seal_file(&node.node_id, 1, CHUNK, bytes);
        assert_eq!(ticket.chunk_count as usize, file.chunks.len());
        let base = new_file_base(&node);
        Ok(Started {
            ticket,
            node_id: node.node_id,
            parent_id: parent.view.node_id,
            node_key,
            file,
            bytes: bytes.to_vec(),
            base,
            owner: owner_of(&parent.view, &self.id),
        })
    }

    /// Starts a new version of an existing file.
    pub async fn start_version(&self, node: &OpenNode, bytes: &[u8]) -> Result<Started, Failure> {
        let ticket: UploadTicket = self
            .c
            .post(
                "/api/records/upload/start",
                &json!({"request": {
                    "node_id": b64::encode(node.id()),
                    "new_node": null,
                    "chunk_size": CHUNK,
                    "ciphertext_len": ciphertext_len(bytes.len(), CHUNK),
                }}),
            )
            .await?;
        let file = seal_file(node.id(), ticket.version, CHUNK, bytes);
        Ok(Started {
            ticket,
            node_id: *node.id(),
            parent_id: node.view.parent_id.unwrap(),
            node_key: node.key.clone(),
            file,
            bytes: bytes.to_vec(),
            base: node.view.clone(),
            owner: owner_of(&node.view, &self.id),
        })
    }

    pub async fn put(
        &self,
        node: &Id,
        version: u32,
        index: u32,
        bytes: Vec<u8>,
    ) -> Result<ChunkReceipt, Failure> {
        let (status, body) = self
            .c
            .put_bytes(
                &chunk_path(node, version, index),
                "application/octet-stream",
                bytes,
            )
            .await;
        super::decode(status, &body)
    }

    pub async fn put_all(&self, up: &Started) {
        for (i, chunk) in up.file.chunks.iter().enumerate() {
            let receipt = self
                .put(&up.node_id, up.ticket.version, i as u32, chunk.clone())
                .await
                .unwrap();
            assert_eq!(receipt.next, i as u32 + 1);
        }
    }

    pub async fn finish_request(&self, up: &Started, now: i64) -> serde_json::Value {
        let signed = manifest(
            self.keyring.identity(),
            &self.id,
            &up.node_id,
            &up.parent_id,
            up.ticket.version,
            &up.file,
            now,
        );
        self.finish_with(up, signed, now).await
    }

    /// The finish request with `signed` as manifest, the node's signed state
    /// (this version current) and, in the caller's own record, the next head.
    pub async fn finish_with(
        &self,
        up: &Started,
        signed: shared::crypto::sign::Signed<shared::model::FileManifest>,
        now: i64,
    ) -> serde_json::Value {
        let meta = seal_metadata(
            &up.node_key,
            &up.node_id,
            &metadata("file", now, Some(up.bytes.len() as u64)),
        )
        .unwrap();
        let wrapped =
            files::wrapped_content_key(&up.node_key, &up.node_id, up.ticket.version, &up.file);
        let mut view = up.base.clone();
        view.metadata = meta.clone();
        view.revision += 1;
        view.version_count += 1;
        view.current = Some(VersionView {
            node_id: up.node_id,
            version: up.ticket.version,
            chunk_size: CHUNK,
            ciphertext_len: ciphertext_len(up.bytes.len(), CHUNK),
            wrapped_content_key: wrapped.clone(),
            manifest: signed.clone(),
            author_id: self.id,
            author_name: String::new(),
            stored_at: now,
            write_grant: None,
        });
        let state = self.state_in(&up.owner, &view, now);
        let head = if up.owner == self.id {
            Some(self.next_head(std::slice::from_ref(&state), &[], now).await)
        } else {
            None
        };
        json!({"request": {
            "node_id": b64::encode(&up.node_id),
            "version": up.ticket.version,
            "wrapped_content_key": b64::encode(&wrapped),
            "manifest": signed,
            "metadata": b64::encode(&meta),
            "state": state,
            "head": head,
        }})
    }

    pub async fn finish(&self, up: &Started, now: i64) -> Result<NodeView, Failure> {
        let body = self.finish_request(up, now).await;
        self.c.post("/api/records/upload/finish", &body).await
    }

    /// Uploads a new file in one go and renames it `name` in its metadata.
    pub async fn upload_new(&self, parent: &OpenNode, name: &str, bytes: &[u8], now: i64) -> Id {
        let up = self.start_new(parent, name, bytes, now).await.unwrap();
        self.put_all(&up).await;
        let view = self.finish(&up, now).await.unwrap();
        // Give it its real name (the finish above sealed a generic one).
        let meta = seal_metadata(
            &up.node_key,
            &up.node_id,
            &metadata(name, now, Some(bytes.len() as u64)),
        )
        .unwrap();
        let mut body = json!({"request": {"node_id": b64::encode(&up.node_id), "revision": view.revision, "metadata": b64::encode(&meta)}});
        let revision = view.revision;
        self.sign_request(&mut body, &up.node_id, now, |v| {
            v.metadata = meta.clone();
            v.revision = revision + 1;
        })
        .await;
        let _: NodeView = self
            .c
            .post("/api/records/node/update", &body)
            .await
            .unwrap();
        up.node_id
    }

    pub async fn upload_version(&self, node: &OpenNode, bytes: &[u8], now: i64) -> NodeView {
        let up = self.start_version(node, bytes).await.unwrap();
        self.put_all(&up).await;
        self.finish(&up, now).await.unwrap()
    }

    pub async fn chunks_of(&self, version: &VersionView) -> Vec<Vec<u8>> {
        let count =
            shared::crypto::stream::chunk_count(version.manifest.value.size, version.chunk_size)
                .unwrap();
        let mut out = Vec::new();
        for i in 0..count as u32 {
            let (status, headers, body) = self
                .c
                .get_bytes(&chunk_path(&version.node_id, version.version, i))
                .await;
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
            assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
            assert_eq!(headers[header::CACHE_CONTROL], "no-store");
            out.push(body);
        }
        out
    }

    /// Downloads, verifies and decrypts a version of an opened file.
    pub async fn download(&self, node: &OpenNode, version: &VersionView) -> Vec<u8> {
        let chunks = self.chunks_of(version).await;
        open_file(
            version,
            &self.keyring.identity().verifying_key(),
            &node.key,
            &chunks,
        )
    }

    /// The current version of the file `id`, downloaded and decrypted.
    pub async fn download_by_id(&self, id: &Id) -> Vec<u8> {
        let tree = self.tree().await;
        let node = tree.node(id).unwrap();
        let current = node.view.current.clone().unwrap();
        self.download(node, &current).await
    }

    pub async fn download_current(&self, name: &str) -> Vec<u8> {
        let tree = self.tree().await;
        let node = find(&tree, name);
        let current = node.view.current.clone().unwrap();
        self.download(node, &current).await
    }

    pub async fn versions(&self, node: &Id) -> Result<Vec<VersionView>, Failure> {
        self.c
            .get(&format!(
                "/api/records/versions?node_id={}",
                b64::encode(node)
            ))
            .await
    }

    pub async fn update(
        &self,
        node: &OpenNode,
        name: &str,
        revision: u64,
    ) -> Result<NodeView, Failure> {
        let meta =
            seal_metadata(&node.key, node.id(), &metadata(name, 0, node.metadata.size)).unwrap();
        let mut body = json!({"request": {"node_id": b64::encode(node.id()), "revision": revision, "metadata": b64::encode(&meta)}});
        self.sign_request(&mut body, node.id(), 0, |v| {
            v.metadata = meta.clone();
            v.revision = revision + 1;
        })
        .await;
        self.c.post("/api/records/node/update", &body).await
    }

    pub async fn move_to(
        &self,
        node: &OpenNode,
        target: &OpenNode,
        revision: u64,
    ) -> Result<NodeView, Failure> {
        let wrapped = wrap_child_key(&target.key, node.id(), target.id(), &node.key).unwrap();
        let mut body = json!({"request": {"node_id": b64::encode(node.id()), "revision": revision, "new_parent_id": b64::encode(target.id()), "wrapped_key": b64::encode(&wrapped)}});
        let parent = *target.id();
        self.sign_request(&mut body, node.id(), 0, |v| {
            v.parent_id = Some(parent);
            v.wrapped_key = wrapped.clone();
            v.revision = revision + 1;
        })
        .await;
        self.c.post("/api/records/node/move", &body).await
    }

    pub async fn trash(&self, node: &Id, revision: u64) -> Result<NodeView, Failure> {
        let body = self.trash_request(node, revision).await;
        self.c.post("/api/records/node/trash", &body).await
    }

    /// The signed body of `records/node/trash` (made now, sent later).
    pub async fn trash_request(&self, node: &Id, revision: u64) -> serde_json::Value {
        let mut body = json!({"request": {"node_id": b64::encode(node), "revision": revision}});
        self.sign_request(&mut body, node, 0, |v| {
            v.trashed_at = Some(0);
            v.revision = revision + 1;
        })
        .await;
        body
    }

    pub async fn restore(&self, node: &Id) -> Result<NodeView, Failure> {
        let mut body = json!({"request": {"node_id": b64::encode(node)}});
        self.sign_request(&mut body, node, 0, |v| {
            v.trashed_at = None;
            v.revision += 1;
        })
        .await;
        self.c.post("/api/records/node/restore", &body).await
    }

    /// The ids of every node in the trash or under a node in it.
    pub fn trashed_ids(tree: &RecordTree) -> Vec<Id> {
        let by_id: std::collections::HashMap<Id, &NodeView> =
            tree.nodes.iter().map(|n| (n.node_id, n)).collect();
        tree.nodes
            .iter()
            .filter(|n| {
                let mut at = Some(*n);
                let mut steps = 0;
                while let Some(node) = at {
                    if node.trashed_at.is_some() {
                        return true;
                    }
                    steps += 1;
                    if steps > by_id.len() {
                        return false;
                    }
                    at = node.parent_id.and_then(|p| by_id.get(&p).copied());
                }
                false
            })
            .map(|n| n.node_id)
            .collect()
    }

    pub async fn empty_trash(&self) -> Result<Usage, Failure> {
        let body = match self.c.get::<Option<RecordTree>>("/api/records/tree").await {
            Ok(Some(tree)) if tree.head.is_some() && !Self::trashed_ids(&tree).is_empty() => {
                let gone = Self::trashed_ids(&tree);
                json!({ "head": self.next_head_over(&tree, &[], &gone, 0) })
            }
            _ => json!({}),
        };
        self.c.post("/api/records/trash/empty", &body).await
    }

    pub async fn restore_version(&self, node: &Id, version: u32) -> Result<NodeView, Failure> {
        let mut body = json!({"request": {"node_id": b64::encode(node), "version": version}});
        if let Some(current) = self.version_view(node, version).await {
            self.sign_request(&mut body, node, 0, |v| {
                v.current = Some(current);
                v.revision += 1;
            })
            .await;
        }
        self.c.post("/api/records/version/restore", &body).await
    }

    pub async fn cancel(&self, node: &Id, version: u32) -> Result<(), Failure> {
        self.c
            .post(
                "/api/records/upload/cancel",
                &json!({"request": {"node_id": b64::encode(node), "version": version}}),
            )
            .await
    }

    pub async fn upload_status(
        &self,
        node: &Id,
        version: u32,
    ) -> Result<shared::api::records::UnfinishedUpload, Failure> {
        self.c
            .post(
                "/api/records/upload/status",
                &json!({"request": {"node_id": b64::encode(node), "version": version}}),
            )
            .await
    }

    pub async fn create_folder(&self, parent: &OpenNode, name: &str) -> Result<NodeView, Failure> {
        let body = self.create_folder_request(parent, name).await;
        self.c.post("/api/records/node/create", &body).await
    }

    /// The signed body of `records/node/create` for a folder (made now, sent
    /// later); the next head only in the caller's own record.
    pub async fn create_folder_request(&self, parent: &OpenNode, name: &str) -> serde_json::Value {
        let (node, _) = new_child(
            parent,
            NodeKind::Folder,
            &metadata(name, 0, None),
            &self.signer(0),
        )
        .unwrap();
        let head = match self.c.get::<Option<RecordTree>>("/api/records/tree").await {
            Ok(Some(tree)) => {
                Some(self.next_head_over(&tree, &[node.state.clone().unwrap()], &[], 0))
            }
            _ => None,
        };
        json!({ "node": node, "head": head })
    }

    pub async fn history(&self) -> Vec<EventKind> {
        let page: EventsPage = self
            .c
            .get("/api/audit/mine?after=0&limit=1000")
            .await
            .unwrap();
        page.events.iter().map(|e| e.kind).collect()
    }
}

/// The tree and usage, to prove a refused request changed nothing. The
/// change counter is left out: an upload started and then cancelled leaves
/// the content as it was, yet moves the counter on (a refused request leaves
/// it; `the_change_counter_moves_with_every_change_and_asking_it_is_a_view`).
pub async fn snapshot(p: &Patient) -> RecordTree {
    let mut tree = p.raw_tree().await;
    tree.seq = 0;
    tree
}
