//! A patient with a record and files uploaded the way the app does it (chunks
//! of random bytes, a real signed manifest, the node's signed state and the
//! record's next head), for load generators that need stored content.

use std::sync::atomic::{AtomicU64, Ordering};

use shared::{
    api::records::{chunk_path, NodeKind, NodeView, RecordTree, UploadTicket, VersionView},
    client::NewAccount,
    crypto::{
        aead::Key256,
        rng,
        sign::{part_hash, sign},
        stream::{ciphertext_len, TAG_LEN},
    },
    model::{FileManifest, Id},
    records::{
        new_record, seal_metadata, unwrap_root_key, wrap_child_key, wrap_content_key, HeadLeaf,
        NodeMetadata, NodeState, RecordHead, RecordType,
    },
};

use super::{json, refused, sign_up, unix_now, Conn, Reply};

/// The signed-in patient and where their files go.
pub struct Patient {
    pub cookie: String,
    pub account: NewAccount,
    pub user_id: Id,
    pub root_id: Id,
    pub root_key: Key256,
}

impl Patient {
    pub fn new(addr: std::net::SocketAddr) -> Patient {
        let (cookie, account) =
            sign_up(addr, "chunk-load", "quiet loadgen lantern orchard 47 river");
        let user_id = account.request.key_entry.value.user_id;
        let public = account.keyring.public_keys();
        let made = new_record(
            &user_id,
            &public.encryption,
            account.keyring.identity(),
            shared::crypto::rng::id().expect("id"),
            unix_now(),
        )
        .expect("record");
        let mut conn = Conn::open(addr).expect("connect");
        let body =
            serde_json::json!({ "root": made.root, "children": made.children, "head": made.head })
                .to_string();
        let reply = conn
            .post("/api/records/create", &body, Some(&cookie))
            .expect("post");
        let tree: RecordTree = json(&reply);
        let root_node = tree
            .nodes
            .iter()
            .find(|n| n.node_id == tree.root_id)
            .expect("root listed");
        let root_key = unwrap_root_key(
            account.keyring.encryption(),
            &user_id,
            &tree.root_id,
            &root_node.wrapped_key,
        )
        .expect("root key");
        Patient {
            cookie,
            account,
            user_id,
            root_id: tree.root_id,
            root_key,
        }
    }
}

/// One upload in progress: a new file under the root.
pub struct Upload {
    pub node_id: Id,
    pub node_key: Key256,
    /// The node key wrapped under the root's, as sent at the start.
    pub wrapped_key: Vec<u8>,
    pub version: u32,
    pub chunk_size: u32,
    pub plaintext_len: u64,
    pub hashes: Vec<[u8; 32]>,
}

impl Upload {
    /// Starts a new file of `plaintext_len` bytes in chunks of `chunk_size`,
    /// or panics with what the server said.
    pub fn start(
        conn: &mut Conn,
        patient: &Patient,
        chunk_size: u32,
        plaintext_len: u64,
    ) -> Upload {
        match Upload::try_start(conn, patient, chunk_size, plaintext_len).expect("post") {
            Ok(upload) => upload,
            Err(reply) => panic!(
                "upload start {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ),
        }
    }

    /// Starts a new file as [`Upload::start`] does; a connection error is the
    /// outer error, an answer other than 200 the inner one.
    pub fn try_start(
        conn: &mut Conn,
        patient: &Patient,
        chunk_size: u32,
        plaintext_len: u64,
    ) -> std::io::Result<Result<Upload, Reply>> {
        let node_id: Id = rng::bytes().expect("rng");
        let node_key = Key256::generate().expect("key");
        let metadata = NodeMetadata {
            name: "load.bin".into(),
            record_type: RecordType::Other,
            description: String::new(),
            record_date: None,
            created_at: unix_now(),
            modified_at: unix_now(),
            mime: Some("application/octet-stream".into()),
            size: Some(plaintext_len),
            vital: None,
            health: None,
        };
        let wrapped_key =
            wrap_child_key(&patient.root_key, &node_id, &patient.root_id, &node_key).expect("wrap");
        let new_node = serde_json::json!({
            "node_id": shared::crypto::b64::encode(&node_id),
            "parent_id": shared::crypto::b64::encode(&patient.root_id),
            "kind": "file",
            "wrapped_key": shared::crypto::b64::encode(&wrapped_key),
            "metadata": shared::crypto::b64::encode(&seal_metadata(&node_key, &node_id, &metadata).expect("seal")),
        });
        let body = serde_json::json!({ "request": {
            "node_id": shared::crypto::b64::encode(&node_id),
            "new_node": new_node,
            "chunk_size": chunk_size,
            "ciphertext_len": ciphertext_len(plaintext_len, chunk_size).expect("len"),
        }})
        .to_string();
        let reply = conn.post("/api/records/upload/start", &body, Some(&patient.cookie))?;
        if reply.status != 200 {
            return Ok(Err(reply));
        }
        let ticket: UploadTicket = json(&reply);
        Ok(Ok(Upload {
            node_id,
            node_key,
            wrapped_key,
            version: ticket.version,
            chunk_size,
            plaintext_len,
            hashes: Vec::new(),
        }))
    }

    pub fn chunk_count(&self) -> u64 {
        self.plaintext_len
            .div_ceil(u64::from(self.chunk_size))
            .max(1)
    }

    /// The sealed size of chunk `index`.
    pub fn sealed_len(&self, index: u64) -> usize {
        let start = index * u64::from(self.chunk_size);
        (self.plaintext_len - start).min(u64::from(self.chunk_size)) as usize + TAG_LEN
    }

    /// PUTs the next chunk (random bytes of its exact sealed size).
    pub fn put_next(
        &mut self,
        conn: &mut Conn,
        cookie: &str,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        let index = self.hashes.len() as u64;
        buf.resize(self.sealed_len(index), 0);
        fill_random(buf);
        let path = chunk_path(&self.node_id, self.version, index as u32);
        let reply = conn.put_bytes(&path, buf, Some(cookie))?;
        if reply.status != 200 {
            return Err(refused("chunk PUT", &reply));
        }
        self.hashes.push(part_hash(buf));
        Ok(())
    }

    pub fn done(&self) -> bool {
        self.hashes.len() as u64 == self.chunk_count()
    }

    /// Signs the manifest and finishes the upload.
    pub fn finish(self, conn: &mut Conn, patient: &Patient) -> NodeView {
        let manifest = sign(
            patient.account.keyring.identity(),
            FileManifest {
                node_id: self.node_id,
                parent_id: patient.root_id,
                version: self.version,
                size: self.plaintext_len,
                part_hashes: self.hashes,
                author_id: patient.user_id,
                created_at: unix_now(),
            },
        );
        let content_key = Key256::generate().expect("key");
        let metadata = NodeMetadata {
            name: "load.bin".into(),
            record_type: RecordType::Other,
            description: String::new(),
            record_date: None,
            created_at: unix_now(),
            modified_at: unix_now(),
            mime: Some("application/octet-stream".into()),
            size: Some(self.plaintext_len),
            vital: None,
            health: None,
        };
        let wrapped = wrap_content_key(&self.node_key, &self.node_id, self.version, &content_key)
            .expect("wrap");
        let sealed = seal_metadata(&self.node_key, &self.node_id, &metadata).expect("seal");
        // The node's signed state and the record's next head over the record
        // as it is now; another finish first (409) means sign again.
        loop {
            let reply = conn
                .get("/api/records/tree", Some(&patient.cookie))
                .expect("get");
            let tree: Option<RecordTree> = json(&reply);
            let tree = tree.expect("a record");
            let view = NodeView {
                node_id: self.node_id,
                parent_id: Some(patient.root_id),
                kind: NodeKind::File,
                wrapped_key: self.wrapped_key.clone(),
                metadata: sealed.clone(),
                revision: 1,
                trashed_at: None,
                current: Some(VersionView {
                    node_id: self.node_id,
                    version: self.version,
                    chunk_size: self.chunk_size,
                    ciphertext_len: ciphertext_len(self.plaintext_len, self.chunk_size)
                        .expect("len"),
                    wrapped_content_key: wrapped.clone(),
                    manifest: manifest.clone(),
                    author_id: patient.user_id,
                    author_name: String::new(),
                    stored_at: 0,
                    write_grant: None,
                }),
                version_count: 1,
                state: None,
                write_grant: None,
            };
            let identity = patient.account.keyring.identity();
            let state = NodeState::describe(patient.user_id, &view, patient.user_id, unix_now())
                .sign(identity);
            let mut leaves: Vec<HeadLeaf> = tree
                .nodes
                .iter()
                .filter_map(|n| n.state.as_ref().map(HeadLeaf::of))
                .collect();
            leaves.push(HeadLeaf::of(&state));
            let head = RecordHead::next(tree.head.as_ref().expect("a head"), &leaves, unix_now())
                .sign(identity);
            let body = serde_json::json!({ "request": {
                "node_id": shared::crypto::b64::encode(&self.node_id),
                "version": self.version,
                "wrapped_content_key": shared::crypto::b64::encode(&wrapped),
                "manifest": manifest,
                "metadata": shared::crypto::b64::encode(&sealed),
                "state": state,
                "head": head,
            }})
            .to_string();
            let reply = conn
                .post("/api/records/upload/finish", &body, Some(&patient.cookie))
                .expect("post");
            if reply.status == 409 && String::from_utf8_lossy(&reply.body).contains("meanwhile") {
                continue;
            }
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            return json(&reply);
        }
    }
}

/// Cheap non-cryptographic filler (xorshift), so generating 1 GiB does not
/// dominate the run; the bytes only need to look incompressible.
pub fn fill_random(buf: &mut [u8]) {
    static SEED: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let mut x = SEED.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) | 1;
    for word in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes = x.to_le_bytes();
        word.copy_from_slice(&bytes[..word.len()]);
    }
}
