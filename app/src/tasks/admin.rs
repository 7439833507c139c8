//! The administrator's work, without views: invite links, the system events
//! with their people named, the admin's own certificate from the
//! installation's org key (requested and stored here, checked against the
//! fingerprint the app was built with), and the doctor's certificate signed
//! here with the admin's own key over the keys the directory serves (and this
//! browser checked) for that doctor.

use std::collections::HashMap;

use shared::{
    api::{
        audit::MAX_PAGE,
        directory::{NamesRequest, MAX_NAMES},
        ApiError,
    },
    audit::AuditEvent,
    client::{
        admin_request_code, certify_doctor, check_admin_certificate, parse_admin_certificate,
    },
    crypto::{b64, fingerprint::OrgFingerprint, sign::Signed},
    model::{AdminCertificate, Id, Role},
};

use crate::{
    api::{
        admin::{my_org_certificate, store_org_certificate, verify_doctor},
        audit::system_events,
        directory::user_names,
        explain,
    },
    platform::org,
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

/// Where this admin stands with the installation's org key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The app was built without the installation's fingerprint.
    NotSetUp,
    /// No certificate stored yet.
    NotCertified,
    /// Certified by the key with this fingerprint (the built-in one).
    Certified(OrgFingerprint),
    /// A stored certificate that does not chain to the built-in fingerprint
    /// or does not cover this admin's keys.
    Foreign,
}

/// What the Installation certificate card says for `anchor`.
pub fn anchor_text(anchor: &Anchor) -> String {
    match anchor {
        Anchor::NotSetUp => "Doctor verification is not set up for this installation: this app was built without the installation's key fingerprint. Ask the operator to build it with one.".to_owned(),
        Anchor::NotCertified => "Not certified yet: you cannot verify doctors until the operator certifies you.".to_owned(),
        Anchor::Certified(fp) => format!("Certified by this installation's key, fingerprint {fp}."),
        Anchor::Foreign => "The stored certificate was not made by this installation's key for your keys, so you cannot verify doctors. Send the operator your request code again and paste the certificate they give you.".to_owned(),
    }
}

/// The fingerprint of the installation key this app was built for, as shown
/// (sixteen groups of four hex digits), for the admin to compare with the
/// operator's.
pub fn built_in_fingerprint() -> Option<String> {
    org::fingerprint().map(|fp| fp.to_string())
}

/// The code this admin gives the operator: their own signed key entry.
pub fn request_code(me: &Unlocked) -> String {
    admin_request_code(&me.key_entry)
}

fn judge(me: &Unlocked, cert: Option<&Signed<AdminCertificate>>) -> Anchor {
    let Some(fp) = org::fingerprint() else {
        return Anchor::NotSetUp;
    };
    match cert {
        None => Anchor::NotCertified,
        Some(cert) => match check_admin_certificate(cert, &me.key_entry.value, &fp) {
            Ok(()) => Anchor::Certified(fp),
            Err(_) => Anchor::Foreign,
        },
    }
}

/// Fetches this admin's stored certificate and checks it here.
pub async fn load_anchor(me: &Unlocked) -> Result<Anchor, String> {
    let stored = my_org_certificate().await.map_err(|e| explain(&e))?;
    Ok(judge(me, stored.as_ref()))
}

/// Reads the certificate code the operator gave, checks it in this browser
/// (its signature, that it covers this admin's keys, that its key is the
/// built-in one) and stores it. Nothing is sent if a check fails.
pub async fn store_certificate(me: &Unlocked, code: &str) -> Result<Anchor, String> {
    if code.trim().is_empty() {
        return Err("Paste the certificate code the operator gave you.".to_owned());
    }
    let cert = parse_admin_certificate(code).map_err(|_| {
        "This is not a certificate code, or it was cut short. Paste the whole code the operator gave you.".to_owned()
    })?;
    match judge(me, Some(&cert)) {
        Anchor::Certified(_) => {}
        Anchor::NotSetUp => return Err(anchor_text(&Anchor::NotSetUp)),
        _ => return Err("This certificate was not made by this installation's key for your keys. Nothing was stored. Send the operator your request code above and ask for a new certificate.".to_owned()),
    }
    store_org_certificate(cert.clone())
        .await
        .map_err(|e| explain(&e))?;
    Ok(judge(me, Some(&cert)))
}

/// Signs a certificate for the checked doctor `entry` with the admin's key
/// and sends it. `licence` is the licence id the admin checked outside
/// medvault. Refused while this admin is not certified by the installation's
/// key: the certificate would verify nowhere.
pub async fn certify(me: &Unlocked, entry: &VerifiedEntry, licence: &str) -> Result<(), String> {
    match load_anchor(me).await? {
        Anchor::Certified(_) => {}
        Anchor::NotSetUp => return Err(anchor_text(&Anchor::NotSetUp)),
        _ => return Err("You cannot verify doctors until the operator certifies you with the installation's key. Nothing was signed. See Installation certificate above.".to_owned()),
    }
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
    shared::sort::sort(&mut ids);
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
