//! The administrator's work, without views: invite links, the system events
//! with their people named, and the doctor's certificate signed here with the
//! admin's own key over the keys the directory serves (and this browser
//! checked) for that doctor.

use std::collections::HashMap;

use shared::{
    api::{
        audit::MAX_PAGE,
        directory::{NamesRequest, MAX_NAMES},
        ApiError,
    },
    audit::AuditEvent,
    client::certify_doctor,
    crypto::b64,
    model::{Id, Role},
};

use crate::{
    api::{admin::verify_doctor, audit::system_events, directory::user_names, explain},
    session::{now_unix, Unlocked},
    tasks::directory::VerifiedEntry,
};

/// How many of the newest system events the console shows.
pub const SHOWN_EVENTS: usize = 200;

/// The role an invite form's choice stands for; anything unknown is a doctor,
/// the form's first choice.
pub fn invite_role(choice: &str) -> Role {
    match choice {
        "patient" => Role::Patient,
        "admin" => Role::Admin,
        "auditor" => Role::Auditor,
        _ => Role::Doctor,
    }
}

/// The sign-up link an invite code opens on this server.
pub fn invite_link(origin: &str, code: &str) -> String {
    format!("{origin}/signup?invite={code}")
}

/// Signs a certificate for the checked doctor `entry` with the admin's key
/// and sends it. `licence` is the licence id the admin checked outside
/// medvault.
pub async fn certify(me: &Unlocked, entry: &VerifiedEntry, licence: &str) -> Result<(), String> {
    let certificate = certify_doctor(
        &me.keyring,
        me.info.user_id,
        &entry.entry,
        licence,
        now_unix(),
    );
    verify_doctor(certificate)
        .await
        .map(|_| ())
        .map_err(|e| explain(&e))
}

/// The newest system events, newest first, with the names of the accounts
/// they mention.
#[derive(Clone)]
pub struct SystemEvents {
    /// At most [`SHOWN_EVENTS`] events.
    pub events: Vec<AuditEvent>,
    /// Usernames by account id.
    pub names: HashMap<Id, String>,
}

impl SystemEvents {
    /// The name to show for an account: its username, or the start of its id
    /// when the directory did not name it; empty for nobody.
    pub fn name(&self, id: Option<Id>) -> String {
        id.map(|i| {
            self.names
                .get(&i)
                .cloned()
                .unwrap_or_else(|| format!("Account {}", &b64::encode(&i)[..8]))
        })
        .unwrap_or_default()
    }
}

/// Fetches every page of the system events, keeps the newest
/// [`SHOWN_EVENTS`] and names the accounts in them.
pub async fn load_system_events() -> Result<SystemEvents, ApiError> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = system_events(after, MAX_PAGE).await?;
        all.extend(page.events);
        match page.next {
            Some(next) if next > after => after = next,
            _ => break,
        }
    }
    all.reverse();
    all.truncate(SHOWN_EVENTS);
    let mut ids: Vec<Id> = all
        .iter()
        .flat_map(|e| [e.actor, e.subject])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut names = HashMap::new();
    for batch in ids.chunks(MAX_NAMES) {
        let list = user_names(NamesRequest {
            ids: batch.to_vec(),
        })
        .await?;
        names.extend(list.into_iter().map(|n| (n.user_id, n.username)));
    }
    Ok(SystemEvents { events: all, names })
}
