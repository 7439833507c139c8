//! The auditor's check of the whole audit log, without views: every signed
//! head and every event is fetched page by page and verified here against the
//! server's audit key. The server is not trusted to say the log is whole.
//!
//! The browser also remembers, per auditor, the key it verified with and the
//! newest event it verified (`shared::audit::AuditMemory`), and refuses a
//! different key, a log that ends before that event, or one that no longer
//! passes through its hash.

use shared::{
    api::{audit::MAX_PAGE, ApiError},
    audit::{fingerprint, AuditMemory, BreakReason, ChainBreak, ChainVerifier, Verified},
    crypto::{audit_chain::GENESIS, b64, sign::VerifyingKey},
    model::Id,
};

use crate::{
    api::audit::{audit_heads, audit_key, audit_log},
    platform::{audit_memory, browser::next_paint},
    session::Session,
};

/// A whole log that verified, with the newest signed head (its event and
/// when it was signed), if the server signed one yet.
pub type WholeLog = (Verified, Option<(u64, i64)>);

/// The audit key the server names now, and what this browser pinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyView {
    /// The key the server serves.
    pub served: VerifyingKey,
    /// Its fingerprint, to compare with the one the operator printed.
    pub fingerprint: String,
    /// The fingerprint of the key this browser verified with before, if any.
    pub pinned: Option<String>,
}

/// How a check ended (a failed call aside).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every link and head verified; `first`: no key was pinned before, so
    /// this check pinned it.
    Verified { log: WholeLog, first: bool },
    /// The chain breaks, or contradicts what this browser verified before.
    Broken(ChainBreak),
    /// The server names another key than the pinned one; nothing was checked.
    KeyChanged(KeyView),
}

/// The sentence for a broken chain: where, and what it means.
pub fn describe_break(b: &ChainBreak) -> String {
    let what = match b.reason {
        BreakReason::Gap => "an event is missing or out of order",
        BreakReason::Malformed => "the stored event is not a valid event for its position",
        BreakReason::HashMismatch => "the event or one before it was changed after it was written",
        BreakReason::BadHeadSignature => {
            "a signed head does not carry the server's audit signature"
        }
        BreakReason::HeadMismatch => {
            "the events up to here differ from what the server signed earlier"
        }
        BreakReason::Truncated => "events the server signed earlier are missing from the end",
        BreakReason::KeyChanged => return KEY_CHANGED.to_owned(),
        BreakReason::RolledBack => {
            return format!(
                "The log now ends before event {}, which this browser verified earlier: events were removed from the end (the log was truncated or rolled back).",
                b.seq
            )
        }
        BreakReason::Forked => {
            return format!(
                "Event {} is not the one this browser verified earlier: the log up to there was rewritten (a fork).",
                b.seq
            )
        }
    };
    format!("The chain breaks at event {}: {what}.", b.seq)
}

/// What the auditor is told when the server names another key.
pub const KEY_CHANGED: &str = "The audit log is now signed by a different key than the one this browser verified before, so nothing was checked. Compare the new key's fingerprint with the one your operator published: only if they match, choose “Trust the new key”; otherwise keep this result and report it to your security team.";

/// Whole percent of `done` out of `total`, 0 while the total is unknown.
pub fn percent(done: u64, total: u64) -> u64 {
    done.saturating_mul(100)
        .checked_div(total)
        .unwrap_or(0)
        .min(100)
}

/// What this browser remembers for the auditor `user` (nothing if it never
/// verified, or if the stored entry is unreadable).
pub fn remembered(user: &Id) -> Option<AuditMemory> {
    audit_memory::load(&b64::encode(user)).and_then(|text| serde_json::from_str(&text).ok())
}

fn remember(user: &Id, memory: &AuditMemory) -> Result<(), String> {
    let text = serde_json::to_string(memory).map_err(|e| e.to_string())?;
    if audit_memory::save(&b64::encode(user), &text) {
        Ok(())
    } else {
        Err("This browser could not store what it verified (site storage is off or full), so a later rollback of the log would go unnoticed. Allow storage for this site, then verify again.".to_owned())
    }
}

/// The served key beside what `user` pinned.
pub fn key_view(user: &Id, served: VerifyingKey) -> KeyView {
    KeyView {
        fingerprint: fingerprint(&served),
        pinned: remembered(user).map(|m| m.fingerprint()),
        served,
    }
}

/// Fetches the server's audit key and compares it with the pinned one.
pub async fn load_key(session: Session, user: Id) -> Result<KeyView, String> {
    let key = audit_key().await.map_err(|e| session.explain(&e))?.key;
    Ok(key_view(&user, key))
}

/// Trusts `new` (whose fingerprint the auditor compared) as the audit key
/// from now on; the remembered event and hash stay, so the log must still
/// pass through them.
pub fn trust_new_key(user: &Id, new: VerifyingKey) -> Result<(), String> {
    let memory = match remembered(user) {
        Some(m) => m.trust_new_key(new),
        None => AuditMemory {
            key: new,
            retired: Vec::new(),
            seq: 0,
            hash: GENESIS,
        },
    };
    remember(user, &memory)
}

async fn all_heads(
    explain: impl Fn(ApiError) -> String,
) -> Result<Vec<shared::crypto::sign::Signed<shared::crypto::audit_chain::ChainHead>>, String> {
    let mut heads = Vec::new();
    let mut after = 0;
    loop {
        let page = audit_heads(after, MAX_PAGE).await.map_err(&explain)?;
        let n = page.heads.len();
        if let Some(last) = page.heads.last() {
            after = last.value.seq;
        }
        heads.extend(page.heads);
        if n < MAX_PAGE as usize {
            return Ok(heads);
        }
    }
}

/// Fetches the key, every signed head and every event, feeding the verifier
/// page by page and telling `progress` (events checked, events in all) after
/// each, against what this browser remembers for the auditor `user`; a log
/// that verifies becomes the new memory. The error is a failed call.
pub async fn verify_whole_log(
    session: Session,
    user: Id,
    mut progress: impl FnMut(u64, u64),
) -> Result<Outcome, String> {
    let explain = |e: ApiError| session.explain(&e);
    let key = audit_key().await.map_err(explain)?.key;
    let memory = remembered(&user);
    if memory.as_ref().is_some_and(|m| m.key != key) {
        return Ok(Outcome::KeyChanged(key_view(&user, key)));
    }
    let heads = all_heads(explain).await?;
    let newest = heads
        .iter()
        .max_by_key(|h| h.value.seq)
        .map(|h| (h.value.seq, h.value.signed_at));
    let mut verifier = match ChainVerifier::with_memory(&key, &heads, memory.as_ref()) {
        Ok(v) => v,
        Err(b) => return Ok(Outcome::Broken(b)),
    };
    let mut from = 1;
    loop {
        let page = audit_log(from, MAX_PAGE).await.map_err(explain)?;
        if page.entries.is_empty() {
            break;
        }
        if let Err(b) = verifier.feed(&page.entries) {
            return Ok(Outcome::Broken(b));
        }
        from = verifier.verified() + 1;
        progress(verifier.verified(), page.head_seq);
        // Let the progress bar paint between pages.
        next_paint().await;
        if from > page.head_seq {
            break;
        }
    }
    let verified = match verifier.finish() {
        Ok(v) => v,
        Err(b) => return Ok(Outcome::Broken(b)),
    };
    remember(&user, &AuditMemory::after(memory.as_ref(), key, &verified))?;
    Ok(Outcome::Verified {
        log: (verified, newest),
        first: memory.is_none(),
    })
}
