//! Test tool: edits a STOPPED server's store the way an attacker with write
//! access to the disk would, so the end-to-end tests can prove the app notices.
//! (sled checksums its files, so flipping raw file bytes would only make sled
//! refuse to start; going through the store changes data "cleanly", which is
//! the harder attack to catch.)
//!
//! Usage: `store_tamper <data-dir> <command> [args]`
//!
//! - `audit-edit <seq>`: flips one bit inside stored audit event `seq`.
//! - `audit-drop-tail <n>`: deletes the newest `n` events and rewinds the chain
//!   head to the event before them, so the server goes on appending cleanly.
//! - `audit-truncate <n>`: the same, and deletes every signed head over the
//!   dropped events too, so the log left behind verifies on its own: only an
//!   auditor who remembers a later event notices.
//! - `audit-rewrite <seq> (new-key|same-key) [key-file]`: flips one bit of event
//!   `seq`, recomputes every later chain hash and the chain head, and signs
//!   every signed head again at its place: with a fresh key written over the
//!   audit key file (`new-key`, an attacker with the disk), or with the key
//!   file's own key (`same-key`, a thief of the key). The key file defaults to
//!   `<data-dir>.audit-key`.
//! - `manifest-copy <from-node> <from-version> <to-node> <to-version>`: stores a
//!   copy of one complete version's signed manifest (a genuine signature, for
//!   another file or version) in place of another's. Node ids in base64url.
//! - `grant-inject <patient> <user>`: adds a grant of the patient's record to
//!   `user` (usernames as stored): a copy of the patient's newest live grant
//!   with a fresh id, naming `user` and their encryption key, under the
//!   patient's genuine signature of the original (so it no longer verifies),
//!   and listed under both. The server now names `user` among the people who
//!   keep access, as a lying server would.
//! - `grant-key-swap <patient> <doctor>`: replaces the wrapped key of the
//!   patient's newest live grant to `doctor` with a genuine HPKE wrap, to the
//!   doctor's real encryption key and for the grant's folder, of a fresh key
//!   the attacker chose (and then forgets). The grant's signature is left as
//!   the patient made it, so it no longer matches the key it delivers.
//! - `pins-drop <user>`: deletes the user's key pin object (docs/PROTOCOL.md
//!   15.10), as a server hiding it would; a browser that verified a copy
//!   before refuses to go on without it.
//! - `record-snapshot <user> <file>`: saves the user's record as stored now
//!   (its head, nodes, versions, leaves) to `file`.
//! - `record-restore <user> <file>`: puts a saved record back in place of the
//!   current one, as a server replaying an older state would: an older head
//!   after a rename, or the tree from before a key rotation. The change
//!   counter moves on, so browsers fetch the record again.
//! - `node-hide <user> <node>`: deletes one node (its row and leaf) and leaves
//!   the record's head as it is: a file or folder hidden by the server.
//! - `node-revert <user> <node> <file>`: puts one node back as saved in a
//!   snapshot (an older name, place, trash state or current version), the
//!   rest of the record as it is now.
//!
//! Prints what it did; exits non-zero with a message on any failure. Never run
//! it against a store you care about.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "store_tamper/grants.rs"]
mod grants;
#[path = "store_tamper/records.rs"]
mod records;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use server::{
    backend::{
        accounts::pins::pins_key,
        audit::{event_key, head_key, key::default_path, signed_heads_prefix},
        records::layout::manifest_key,
        users::{user_key, username_key, UserRecord},
    },
    store::{codec, Batch, SledStore, Space, Store},
};
use shared::crypto::{
    audit_chain::{key_fingerprint, link, ChainHead, GENESIS},
    b64,
    sign::{sign, Signed, SigningKey},
};

type Failure = Box<dyn std::error::Error>;

fn usage() -> Failure {
    "usage: store_tamper <data-dir> (audit-edit <seq> | audit-drop-tail <n> | \
     audit-truncate <n> | audit-rewrite <seq> (new-key|same-key) [key-file] | \
     manifest-copy <from-node> <from-version> <to-node> <to-version> | \
     grant-inject <patient> <user> | grant-key-swap <patient> <doctor> | pins-drop <user> | \
     record-snapshot <user> <file> | record-restore <user> <file> | \
     node-hide <user> <node> | node-revert <user> <node> <file>)"
        .into()
}

/// The stored form of an audit event: a version byte, then JSON with the event
/// bytes and the chain hash, both base64.
fn read_event(raw: &[u8]) -> Result<(u8, serde_json::Value), Failure> {
    let (version, json) = raw.split_first().ok_or("empty stored event")?;
    Ok((*version, serde_json::from_slice(json)?))
}

async fn audit_edit(store: &SledStore, seq: u64) -> Result<(), Failure> {
    let key = event_key(seq);
    let raw = store
        .get(Space::Audit, &key)
        .await?
        .ok_or(format!("no event {seq}"))?;
    let (version, mut stored) = read_event(&raw)?;
    let mut event = stored["event"]
        .as_str()
        .and_then(b64::decode)
        .ok_or("stored event is not base64")?;
    // A bit in the middle of the event: its time or ids, not its framing.
    let at = event.len() / 2;
    event[at] ^= 1;
    stored["event"] = serde_json::Value::String(b64::encode(&event));
    let mut bytes = vec![version];
    bytes.extend(serde_json::to_vec(&stored)?);
    store.put(Space::Audit, key, bytes).await?;
    println!("changed one bit of audit event {seq}");
    Ok(())
}

async fn audit_drop_tail(store: &SledStore, n: u64) -> Result<(), Failure> {
    drop_tail(store, n, false).await
}

/// Drops the newest `n` events; with `heads`, every signed head over them too.
async fn drop_tail(store: &SledStore, n: u64, heads: bool) -> Result<(), Failure> {
    let head = store
        .get(Space::Meta, &head_key())
        .await?
        .ok_or("the log is empty")?;
    let last = u64::from_be_bytes(head.get(..8).ok_or("bad head")?.try_into()?);
    if n == 0 || n >= last {
        return Err(format!("can drop 1 to {} events", last.saturating_sub(1)).into());
    }
    let keep = last - n;
    let (_, kept) = read_event(
        &store
            .get(Space::Audit, &event_key(keep))
            .await?
            .ok_or("event to keep is missing")?,
    )?;
    let hash = kept["hash"]
        .as_str()
        .and_then(b64::decode)
        .ok_or("stored hash is not base64")?;
    let mut batch = Batch::new();
    for seq in keep + 1..=last {
        batch.delete(Space::Audit, event_key(seq));
    }
    // The subject and system indexes end in the event's seq too.
    for tag in [3u8, 4] {
        for (key, _) in store
            .scan_prefix(Space::Audit, &[tag], None, usize::MAX)
            .await?
        {
            let seq = key
                .last_chunk::<8>()
                .map(|b| u64::from_be_bytes(*b))
                .unwrap_or(0);
            if seq > keep {
                batch.delete(Space::Audit, key);
            }
        }
    }
    let mut dropped_heads = 0;
    if heads {
        for (key, _) in store
            .scan_prefix(Space::Audit, &signed_heads_prefix(), None, usize::MAX)
            .await?
        {
            let seq = key.last_chunk::<8>().map(|b| u64::from_be_bytes(*b));
            if seq.is_none_or(|s| s > keep) {
                batch.delete(Space::Audit, key);
                dropped_heads += 1;
            }
        }
    }
    let mut new_head = keep.to_be_bytes().to_vec();
    new_head.extend_from_slice(&hash);
    batch.put(Space::Meta, head_key(), new_head);
    store.apply(batch).await?;
    store.flush().await?;
    println!(
        "dropped audit events {} to {last} and {dropped_heads} signed heads; the head is now event {keep}",
        keep + 1
    );
    Ok(())
}

/// The chain hash stored with event `seq` (the genesis hash before event 1).
async fn stored_hash(store: &SledStore, seq: u64) -> Result<[u8; 32], Failure> {
    if seq == 0 {
        return Ok(GENESIS);
    }
    let raw = store
        .get(Space::Audit, &event_key(seq))
        .await?
        .ok_or(format!("no event {seq}"))?;
    let (_, stored) = read_event(&raw)?;
    let hash = stored["hash"]
        .as_str()
        .and_then(b64::decode)
        .ok_or("stored hash is not base64")?;
    Ok(hash.try_into().map_err(|_| "a chain hash is 32 bytes")?)
}

/// The signing key of `audit-rewrite`: a fresh one written over the key file,
/// or the one in it.
fn rewrite_key(mode: &str, file: &Path) -> Result<SigningKey, Failure> {
    match mode {
        "new-key" => {
            let key = SigningKey::generate().map_err(|_| "no randomness")?;
            std::fs::write(file, *key.seed())?;
            Ok(key)
        }
        "same-key" => {
            let seed: [u8; 32] = std::fs::read(file)?
                .try_into()
                .map_err(|_| "the audit key file is not 32 bytes")?;
            Ok(SigningKey::from_seed(&seed))
        }
        _ => Err(usage()),
    }
}

async fn audit_rewrite(
    store: &SledStore,
    seq: u64,
    mode: &str,
    file: &Path,
) -> Result<(), Failure> {
    let head = store
        .get(Space::Meta, &head_key())
        .await?
        .ok_or("the log is empty")?;
    let last = u64::from_be_bytes(head.get(..8).ok_or("bad head")?.try_into()?);
    if seq == 0 || seq > last {
        return Err(format!("can rewrite events 1 to {last}").into());
    }
    let key = rewrite_key(mode, file)?;
    let mut hashes = BTreeMap::new();
    let mut prev = stored_hash(store, seq - 1).await?;
    let mut batch = Batch::new();
    for at in seq..=last {
        let key_at = event_key(at);
        let raw = store
            .get(Space::Audit, &key_at)
            .await?
            .ok_or(format!("no event {at}"))?;
        let (version, mut stored) = read_event(&raw)?;
        let mut event = stored["event"]
            .as_str()
            .and_then(b64::decode)
            .ok_or("stored event is not base64")?;
        if at == seq {
            let middle = event.len() / 2;
            event[middle] ^= 1;
            stored["event"] = serde_json::Value::String(b64::encode(&event));
        }
        prev = link(&prev, at, &event);
        hashes.insert(at, prev);
        stored["hash"] = serde_json::Value::String(b64::encode(&prev));
        let mut bytes = vec![version];
        bytes.extend(serde_json::to_vec(&stored)?);
        batch.put(Space::Audit, key_at, bytes);
    }
    let mut new_head = last.to_be_bytes().to_vec();
    new_head.extend_from_slice(&prev);
    batch.put(Space::Meta, head_key(), new_head);
    let mut signed = 0;
    for (key_at, raw) in store
        .scan_prefix(Space::Audit, &signed_heads_prefix(), None, usize::MAX)
        .await?
    {
        let old: Signed<ChainHead> = codec::decode(&raw)?;
        let hash = match hashes.get(&old.value.seq) {
            Some(h) => *h,
            None => stored_hash(store, old.value.seq).await?,
        };
        let new = sign(
            &key,
            ChainHead {
                seq: old.value.seq,
                hash,
                signed_at: old.value.signed_at,
            },
        );
        batch.put(Space::Audit, key_at, codec::encode(&new)?);
        signed += 1;
    }
    store.apply(batch).await?;
    println!(
        "rewrote audit event {seq}, recomputed the chain to event {last} and signed {signed} heads again with {} key {}",
        if mode == "new-key" { "a new" } else { "the key file's" },
        key_fingerprint(&key.verifying_key().to_bytes())
    );
    Ok(())
}

/// A node id as the API prints it (base64url of 16 bytes).
fn node_id(text: &str) -> Result<[u8; 16], Failure> {
    let bytes = b64::decode(text).ok_or("a node id is base64url")?;
    Ok(bytes.try_into().map_err(|_| "a node id is 16 bytes")?)
}

async fn manifest_copy(
    store: &SledStore,
    from: (&str, u32),
    to: (&str, u32),
) -> Result<(), Failure> {
    let source = manifest_key(&node_id(from.0)?, from.1);
    let target = manifest_key(&node_id(to.0)?, to.1);
    let manifest = store
        .get(Space::Records, &source)
        .await?
        .ok_or("no manifest for the source version")?;
    store
        .get(Space::Records, &target)
        .await?
        .ok_or("no manifest for the target version")?;
    store.put(Space::Records, target, manifest).await?;
    println!(
        "the manifest of {} version {} now holds that of {} version {}",
        to.0, to.1, from.0, from.1
    );
    Ok(())
}

async fn user_named(store: &SledStore, name: &str) -> Result<UserRecord, Failure> {
    let id = store
        .get(Space::Users, &username_key(name))
        .await?
        .ok_or(format!("no user {name}"))?;
    let id: [u8; 16] = id.try_into().map_err(|_| "a user id is 16 bytes")?;
    let raw = store
        .get(Space::Users, &user_key(&id))
        .await?
        .ok_or(format!("no record for {name}"))?;
    Ok(codec::decode(&raw)?)
}

async fn pins_drop(store: &SledStore, name: &str) -> Result<(), Failure> {
    let user = user_named(store, name).await?;
    let key = pins_key(&user.id);
    store
        .get(Space::Users, &key)
        .await?
        .ok_or(format!("{name} has no pin object"))?;
    store.delete(Space::Users, key).await?;
    println!("deleted {}'s key pin object", user.username);
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--help" || a == "-h") {
        println!("{}", records::HELP);
        return Ok(());
    }
    let [dir, command, rest @ ..] = args.as_slice() else {
        return Err(usage());
    };
    let store = SledStore::open(&PathBuf::from(dir))?;
    let number =
        |i: usize| -> Result<u64, Failure> { Ok(rest.get(i).ok_or_else(usage)?.parse::<u64>()?) };
    match command.as_str() {
        "audit-edit" => audit_edit(&store, number(0)?).await?,
        "audit-drop-tail" => audit_drop_tail(&store, number(0)?).await?,
        "audit-truncate" => drop_tail(&store, number(0)?, true).await?,
        "audit-rewrite" => {
            let mode = rest.get(1).ok_or_else(usage)?;
            let file = match rest.get(2) {
                Some(f) => PathBuf::from(f),
                None => default_path(Path::new(dir))?,
            };
            audit_rewrite(&store, number(0)?, mode, &file).await?
        }
        "manifest-copy" => {
            let text = |i: usize| -> Result<&str, Failure> { Ok(rest.get(i).ok_or_else(usage)?) };
            let version = |i: usize| -> Result<u32, Failure> { Ok(u32::try_from(number(i)?)?) };
            manifest_copy(&store, (text(0)?, version(1)?), (text(2)?, version(3)?)).await?
        }
        "record-snapshot" | "record-restore" | "node-hide" | "node-revert" => {
            let text = |i: usize| -> Result<&str, Failure> { Ok(rest.get(i).ok_or_else(usage)?) };
            match command.as_str() {
                "record-snapshot" => {
                    records::snapshot(&store, text(0)?, &PathBuf::from(text(1)?)).await?
                }
                "record-restore" => {
                    records::restore(&store, text(0)?, &PathBuf::from(text(1)?)).await?
                }
                "node-hide" => records::hide(&store, text(0)?, text(1)?).await?,
                _ => records::revert(&store, text(0)?, text(1)?, &PathBuf::from(text(2)?)).await?,
            }
        }
        "grant-inject" => {
            let text = |i: usize| -> Result<&str, Failure> { Ok(rest.get(i).ok_or_else(usage)?) };
            grants::grant_inject(&store, text(0)?, text(1)?).await?
        }
        "grant-key-swap" => {
            let text = |i: usize| -> Result<&str, Failure> { Ok(rest.get(i).ok_or_else(usage)?) };
            grants::grant_key_swap(&store, text(0)?, text(1)?).await?
        }
        "pins-drop" => pins_drop(&store, rest.first().ok_or_else(usage)?).await?,
        _ => return Err(usage()),
    }
    store.flush().await?;
    Ok(())
}
