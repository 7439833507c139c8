//! Shares made before grants signed their key's hash (PROTOCOL.md 17.8).
//!
//! Such a grant's signature covers the same fields without `key_hash`, so the
//! doctor's browser refuses it. When the patient's Sharing page loads, this
//! browser finds the patient's own live grants that verify only under that
//! old encoding and signs each again: the folder's key comes from the
//! patient's own opened record (nothing the server sent with the grant is
//! unwrapped), it is wrapped afresh to the `doctor_key` the patient signed,
//! and the same fields are signed with the new wrap's hash
//! (`sharing/grant/renew`). A grant that verifies under neither encoding is
//! never touched: it stays "Not made by you".

use std::collections::HashSet;

use shared::{
    api::sharing::{self, GrantView, RenewGrantRequest},
    crypto::b64,
    model::{Id, KeyEntry},
    records::OpenTree,
    sharing::{is_legacy_only, reissue_legacy},
};

use crate::{
    platform::browser::removed_grants,
    session::{now_unix, Session, Unlocked},
};

/// Which of the patient's legacy grants to sign again, and how many such
/// grants are left as they are.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LegacyPlan {
    /// Grant ids to re-issue, in the list's order.
    pub renew: Vec<Id>,
    /// The patient's own legacy grants that the server lists as live but this
    /// browser will not give a key again: one it removed, one whose signed
    /// end date has passed, or one whose folder is no longer in the record.
    pub left: usize,
}

/// Decides which grants to re-issue: those signed by `me` under the legacy
/// encoding only ([`is_legacy_only`]), naming `me` as patient, that the
/// server lists as live (active, standby or waiting, never revoked); of
/// those, only the ones this browser did not remove (`removed`), whose
/// signed end date is after `now`, and whose folder `has_folder` finds in
/// the patient's own record. Nothing the server says can add a grant the
/// patient did not sign.
pub fn legacy_plan(
    grants: &[GrantView],
    me: &KeyEntry,
    removed: &HashSet<Id>,
    has_folder: impl Fn(&Id) -> bool,
    now: i64,
) -> LegacyPlan {
    let mut plan = LegacyPlan::default();
    for view in grants {
        let g = &view.grant.value;
        let live = view.status.is_live() && view.revoked_at.is_none();
        if !live || g.patient_id != me.user_id || !is_legacy_only(&view.grant, &me.identity_key) {
            continue;
        }
        let usable = !removed.contains(&g.grant_id)
            && g.expires_at.is_none_or(|t| t > now)
            && has_folder(&g.node_id)
            && !plan.renew.contains(&g.grant_id);
        if usable {
            plan.renew.push(g.grant_id);
        } else {
            plan.left += 1;
        }
    }
    plan
}

/// What re-issuing did, in one sentence for the page, or `None` when there
/// was nothing to do: `(true, text)` is a refusal to show as an alert.
pub type Renewed = Option<(bool, String)>;

fn shares(n: usize) -> String {
    if n == 1 {
        "1 share made before this update was".to_owned()
    } else {
        format!("{n} shares made before this update were")
    }
}

/// Signs again every grant [`legacy_plan`] picks and sends each to the
/// server; each renewed grant's entry in `grants` then holds the grant this
/// browser signed. A failure
/// leaves that grant as it was (its doctor still cannot open it) and is
/// reported; the rest go on.
pub async fn reissue_legacy_grants(
    session: Session,
    unlocked: &Unlocked,
    tree: &OpenTree,
    grants: &mut [GrantView],
) -> Renewed {
    let me = &unlocked.key_entry.value;
    let removed: HashSet<Id> = removed_grants(&b64::encode(&me.user_id))
        .iter()
        .filter_map(|g| b64::decode(g).and_then(|b| Id::try_from(b.as_slice()).ok()))
        .collect();
    let plan = legacy_plan(
        grants,
        me,
        &removed,
        |id| tree.node(id).is_some(),
        now_unix(),
    );
    let (mut done, mut failed) = (0usize, None::<String>);
    for id in &plan.renew {
        let Some(slot) = grants.iter_mut().find(|g| g.grant.value.grant_id == *id) else {
            continue;
        };
        let Some(node) = tree.node(&slot.grant.value.node_id) else {
            continue;
        };
        let sent = match reissue_legacy(&slot.grant.value, &node.key, unlocked.keyring.identity()) {
            Ok((grant, wrapped_key)) => {
                let request = RenewGrantRequest {
                    grant: grant.clone(),
                    wrapped_key,
                };
                sharing::renew_grant(request)
                    .await
                    .map(|_| grant)
                    .map_err(|e| session.explain(&e))
            }
            Err(e) => Err(e),
        };
        match sent {
            // The list shows what this browser signed, not what the server
            // answered about it.
            Ok(grant) => {
                slot.grant = grant;
                done += 1;
            }
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    let mut text = Vec::new();
    if done > 0 {
        text.push(format!(
            "{} signed again; nothing else changed.",
            shares(done)
        ));
    }
    if plan.left > 0 {
        text.push(format!(
            "{} not signed again because you removed it, its end date passed or its folder is gone; its doctor cannot open it. Remove it, and share again if you still want to.",
            shares(plan.left)
        ));
    }
    let alert = failed.is_some();
    if let Some(why) = failed {
        text.push(format!(
            "{} not signed again: {why} Until it is, its doctor cannot open it; reload the page to try again.",
            shares(plan.renew.len().saturating_sub(done))
        ));
    }
    (!text.is_empty()).then(|| (alert, text.join(" ")))
}
