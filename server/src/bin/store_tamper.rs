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
//!
//! Prints what it did; exits non-zero with a message on any failure. Never run
//! it against a store you care about.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use server::{
    backend::audit::{event_key, head_key},
    store::{Batch, SledStore, Space, Store},
};
use shared::crypto::b64;

type Failure = Box<dyn std::error::Error>;

fn usage() -> Failure {
    "usage: store_tamper <data-dir> (audit-edit <seq> | audit-drop-tail <n>)".into()
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
    let mut new_head = keep.to_be_bytes().to_vec();
    new_head.extend_from_slice(&hash);
    batch.put(Space::Meta, head_key(), new_head);
    store.apply(batch).await?;
    store.flush().await?;
    println!(
        "dropped audit events {} to {last}; the head is now event {keep}",
        keep + 1
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, command, rest @ ..] = args.as_slice() else {
        return Err(usage());
    };
    let store = SledStore::open(&PathBuf::from(dir))?;
    let number =
        |i: usize| -> Result<u64, Failure> { Ok(rest.get(i).ok_or_else(usage)?.parse::<u64>()?) };
    match command.as_str() {
        "audit-edit" => audit_edit(&store, number(0)?).await?,
        "audit-drop-tail" => audit_drop_tail(&store, number(0)?).await?,
        _ => return Err(usage()),
    }
    store.flush().await?;
    Ok(())
}
