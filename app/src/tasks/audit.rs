//! The auditor's check of the whole audit log, without views: every signed
//! head and every event is fetched page by page and verified here against the
//! server's audit key. The server is not trusted to say the log is whole.

use shared::{
    api::{audit::MAX_PAGE, ApiError},
    audit::{BreakReason, ChainBreak, ChainVerifier, Verified},
};

use crate::{
    api::audit::{audit_heads, audit_key, audit_log},
    platform::browser::next_paint,
    session::Session,
};

/// A whole log that verified, with the newest signed head (its event and
/// when it was signed), if the server signed one yet.
pub type WholeLog = (Verified, Option<(u64, i64)>);

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
    };
    format!("The chain breaks at event {}: {what}.", b.seq)
}

/// Whole percent of `done` out of `total`, 0 while the total is unknown.
pub fn percent(done: u64, total: u64) -> u64 {
    done.saturating_mul(100)
        .checked_div(total)
        .unwrap_or(0)
        .min(100)
}

/// Fetches the key, every signed head and every event, feeding the verifier
/// page by page and telling `progress` (events checked, events in all) after
/// each. The outer error is a failed call; the inner one a broken chain.
pub async fn verify_whole_log(
    session: Session,
    mut progress: impl FnMut(u64, u64),
) -> Result<Result<WholeLog, ChainBreak>, String> {
    let explain = |e: ApiError| session.explain(&e);
    let key = audit_key().await.map_err(explain)?.key;
    let mut heads = Vec::new();
    let mut after = 0;
    loop {
        let page = audit_heads(after, MAX_PAGE).await.map_err(explain)?;
        let n = page.heads.len();
        if let Some(last) = page.heads.last() {
            after = last.value.seq;
        }
        heads.extend(page.heads);
        if n < MAX_PAGE as usize {
            break;
        }
    }
    let newest = heads.last().map(|h| (h.value.seq, h.value.signed_at));
    let mut verifier = match ChainVerifier::new(&key, &heads) {
        Ok(v) => v,
        Err(b) => return Ok(Err(b)),
    };
    let mut from = 1;
    loop {
        let page = audit_log(from, MAX_PAGE).await.map_err(explain)?;
        if page.entries.is_empty() {
            break;
        }
        if let Err(b) = verifier.feed(&page.entries) {
            return Ok(Err(b));
        }
        from = verifier.verified() + 1;
        progress(verifier.verified(), page.head_seq);
        // Let the progress bar paint between pages.
        next_paint().await;
        if from > page.head_seq {
            break;
        }
    }
    Ok(verifier.finish().map(|v| (v, newest)))
}
