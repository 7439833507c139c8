//! The record attacks of `store_tamper` (signed records, PROTOCOL 4.5): put
//! an older copy of a record back, or make a node disappear, the way a
//! malicious server (or anyone who can write its disk) could.
//!
//! A snapshot file is JSON: `{"rows": [{"key": <base64url>, "value":
//! <base64url>}]}`, every row of the Records keyspace that makes the record's
//! tree: its head (`3 ‖ owner`), its nodes (`1 ‖ owner ‖ node`), their owner
//! index (`2 ‖ node`), their complete versions and manifests (`6`, `7`), the
//! current leaves (`10 ‖ owner`) and the head overrides (`12 ‖ owner`). The
//! chain of signed heads (`11`) is left alone: a replaying server keeps
//! answering the newest chain it has.

use std::path::Path;

use serde::{Deserialize, Serialize};
use server::{
    backend::records::layout::{
        head_key, leaf_key, leaves_prefix, manifest_key, node_key, nodes_prefix, override_key,
        overrides_prefix, owner_key, version_key, versions_prefix, RecordHead, StoredNode,
    },
    store::{codec, Batch, SledStore, Space, Store},
};
use shared::crypto::b64;

use super::{node_id, user_named, Failure};

/// `store_tamper --help`: every command, for the record attacks in detail.
pub const HELP: &str = "\
store_tamper <data-dir> <command> [args]: edits a STOPPED server's store as an
attacker with write access to its disk would (test tool; never on real data).

  audit-edit <seq>             flip one bit of stored audit event <seq>
  audit-drop-tail <n>          delete the newest <n> audit events, rewinding the chain
  manifest-copy <from-node> <from-version> <to-node> <to-version>
                               store one version's signed manifest in place of another's
  grant-inject <patient> <user>
                               add a copy of the patient's newest live grant naming <user>
  record-snapshot <user> <file>
                               save <user>'s record as stored now (head, nodes, versions,
                               leaves) to <file>
  record-restore <user> <file> put a saved record back in place of the current one: an
                               older head after a rename, or the tree from before a key
                               rotation (the change counter moves on, so browsers reload)
  node-hide <user> <node>      delete one node (row and leaf), leaving the record's head:
                               a file or folder hidden by the server
  node-revert <user> <node> <file>
                               put one node back as saved in <file> (an older name, place,
                               trash state or current version), the rest as it is now

Users are usernames as stored; node ids are base64url.";

/// Stored rows: key and value bytes.
type Rows = Vec<(Vec<u8>, Vec<u8>)>;

#[derive(Serialize, Deserialize)]
struct Row {
    key: String,
    value: String,
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    rows: Vec<Row>,
}

async fn owner_of(store: &SledStore, user: &str) -> Result<[u8; 16], Failure> {
    Ok(user_named(store, user).await?.id)
}

async fn rows_under(store: &SledStore, prefix: &[u8]) -> Result<Rows, Failure> {
    Ok(store
        .scan_prefix(Space::Records, prefix, None, usize::MAX)
        .await?)
}

/// `record-snapshot <user> <file>`: saves the user's record's rows to `file`.
pub async fn snapshot(store: &SledStore, user: &str, file: &Path) -> Result<(), Failure> {
    let owner = owner_of(store, user).await?;
    let head = store
        .get(Space::Records, &head_key(&owner))
        .await?
        .ok_or(format!("{user} has no record"))?;
    let mut rows = vec![(head_key(&owner), head)];
    let nodes = rows_under(store, &nodes_prefix(&owner)).await?;
    for (_, raw) in &nodes {
        let node: StoredNode = codec::decode(raw)?;
        let id = node.node_id;
        if let Some(index) = store.get(Space::Records, &owner_key(&id)).await? {
            rows.push((owner_key(&id), index));
        }
        for (key, value) in rows_under(store, &versions_prefix(&id)).await? {
            let version = key
                .last_chunk::<4>()
                .map(|b| u32::from_be_bytes(*b))
                .ok_or("a version key ends in its number")?;
            if let Some(manifest) = store
                .get(Space::Records, &manifest_key(&id, version))
                .await?
            {
                rows.push((manifest_key(&id, version), manifest));
            }
            rows.push((key, value));
        }
    }
    let count = nodes.len();
    rows.extend(nodes);
    rows.extend(rows_under(store, &leaves_prefix(&owner)).await?);
    rows.extend(rows_under(store, &overrides_prefix(&owner)).await?);
    let saved = Snapshot {
        rows: rows
            .iter()
            .map(|(k, v)| Row {
                key: b64::encode(k),
                value: b64::encode(v),
            })
            .collect(),
    };
    std::fs::write(file, serde_json::to_vec(&saved)?)?;
    println!(
        "saved {user}'s record ({count} nodes, {} rows) to {}",
        saved.rows.len(),
        file.display()
    );
    Ok(())
}

fn load(file: &Path) -> Result<Rows, Failure> {
    let saved: Snapshot = serde_json::from_slice(&std::fs::read(file)?)?;
    saved
        .rows
        .iter()
        .map(|r| {
            let key = b64::decode(&r.key).ok_or("a saved key is not base64url")?;
            let value = b64::decode(&r.value).ok_or("a saved value is not base64url")?;
            Ok((key, value))
        })
        .collect()
}

/// `record-restore <user> <file>`: puts the saved record back in place of
/// the current one (nodes, leaves and overrides replaced; versions saved put
/// back), with the change counter moved on so browsers fetch it again.
pub async fn restore(store: &SledStore, user: &str, file: &Path) -> Result<(), Failure> {
    let owner = owner_of(store, user).await?;
    let rows = load(file)?;
    let current: RecordHead = codec::decode(
        &store
            .get(Space::Records, &head_key(&owner))
            .await?
            .ok_or(format!("{user} has no record"))?,
    )?;
    let mut batch = Batch::new();
    for prefix in [
        nodes_prefix(&owner),
        leaves_prefix(&owner),
        overrides_prefix(&owner),
    ] {
        for (key, _) in rows_under(store, &prefix).await? {
            batch.delete(Space::Records, key);
        }
    }
    for (key, value) in rows {
        if key == head_key(&owner) {
            let mut head: RecordHead = codec::decode(&value)?;
            head.seq = head.seq.max(current.seq).saturating_add(1);
            batch.put(Space::Records, key, codec::encode(&head)?);
        } else {
            batch.put(Space::Records, key, value);
        }
    }
    store.apply(batch).await?;
    println!("put back {user}'s record from {}", file.display());
    Ok(())
}

/// `node-hide <user> <node>`: deletes one node's row and leaf, leaving the
/// record's head and everything else as it is.
pub async fn hide(store: &SledStore, user: &str, node: &str) -> Result<(), Failure> {
    let owner = owner_of(store, user).await?;
    let id = node_id(node)?;
    store
        .get(Space::Records, &node_key(&owner, &id))
        .await?
        .ok_or(format!("{user}'s record has no node {node}"))?;
    let mut batch = Batch::new();
    batch
        .delete(Space::Records, node_key(&owner, &id))
        .delete(Space::Records, leaf_key(&owner, &id))
        .delete(Space::Records, override_key(&owner, &id));
    store.apply(batch).await?;
    println!("hid node {node} of {user}'s record");
    Ok(())
}

/// `node-revert <user> <node> <file>`: puts back one node's row, leaf and
/// current version as saved in a snapshot (an older name, place, trash
/// state or current version), the rest of the record as it is now.
pub async fn revert(store: &SledStore, user: &str, node: &str, file: &Path) -> Result<(), Failure> {
    let owner = owner_of(store, user).await?;
    let id = node_id(node)?;
    let wanted = [
        node_key(&owner, &id),
        leaf_key(&owner, &id),
        override_key(&owner, &id),
    ];
    let mut batch = Batch::new();
    let mut found = false;
    for (key, value) in load(file)? {
        let version = key.last_chunk::<4>().map(|b| u32::from_be_bytes(*b));
        let of_node =
            version.is_some_and(|v| key == version_key(&id, v) || key == manifest_key(&id, v));
        if wanted.contains(&key) || of_node {
            found |= key == wanted[0];
            batch.put(Space::Records, key, value);
        }
    }
    if !found {
        return Err(format!("the snapshot has no node {node}").into());
    }
    store.apply(batch).await?;
    println!(
        "put back node {node} of {user}'s record from {}",
        file.display()
    );
    Ok(())
}
