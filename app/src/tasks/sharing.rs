//! Sharing's protocol steps, without views: opening what a patient shared
//! with this doctor (checking the patient's signature and opening the key
//! here), and the words for a share's dates.

use shared::{
    api::{sharing, ErrorCode},
    client::verify_directory_entry,
    crypto::{
        b64,
        sign::{KeyEntry, Permission},
        Id,
    },
    records::OpenTree,
    sharing::open_grant,
};

use crate::{
    api::directory::lookup_user,
    platform::browser::format_date,
    session::{Session, Unlocked},
};

/// What a doctor reads when a share ends while they look at it.
pub const ENDED: &str = "Your access to this record has ended: the patient removed it, or its end date passed. Nothing more can be opened from it.";

/// An id as the text used in element ids, links and the server's paths.
pub fn id_text(id: &Id) -> String {
    b64::encode(id)
}

/// When a share ends, in words.
pub fn until_text(expires_at: Option<i64>) -> String {
    match expires_at {
        None => "Until you remove it".to_owned(),
        Some(t) => format!("Until {}", format_date(t)),
    }
}

/// What a doctor opened of one grant.
#[derive(Clone)]
pub struct Opened {
    pub tree: OpenTree,
    /// The patient's checked directory entry.
    pub patient: KeyEntry,
    pub expires_at: Option<i64>,
    pub grant_id: Id,
    pub permission: Permission,
    /// The doctor (who signs what they write).
    pub me: Id,
    pub keyring: std::sync::Arc<shared::crypto::keyring::Keyring>,
}

impl Opened {
    /// Whether the doctor may add to the shared folder.
    pub fn can_write(&self) -> bool {
        self.permission == Permission::ReadWrite
    }
}

/// Opens the grant `grant_id` for this doctor: the grant must carry the
/// patient's signature (checked against the patient's directory entry,
/// verified here) and its key must open, or nothing is shown.
pub async fn open_shared(
    session: Session,
    unlocked: Unlocked,
    grant_id: String,
) -> Result<Opened, String> {
    let shared = sharing::shared_record(grant_id).await.map_err(|e| {
        if e.code == ErrorCode::NotFound {
            "This record is not shared with you, or no longer: the patient may have removed your access, or its end date has passed.".to_owned()
        } else {
            session.explain(&e)
        }
    })?;
    let lying = "The server's answer about this share is not signed by the patient, so nothing was opened. Contact your administrator.";
    let served = lookup_user(shared.grant.patient_name.clone())
        .await
        .map_err(|e| session.explain(&e))?;
    let patient = verify_directory_entry(&shared.grant.patient_name, &served)
        .map_err(|_| lying.to_owned())?;
    let me = unlocked.key_entry.value.user_id;
    let opened = open_grant(
        &shared.grant,
        &patient.entry,
        &me,
        unlocked.keyring.encryption(),
    )
    .map_err(|_| lying.to_owned())?;
    let tree = OpenTree::open_from(
        patient.entry.user_id,
        opened.grant.node_id,
        opened.node_key,
        shared.nodes,
        shared.usage,
    )
    .map_err(|_| lying.to_owned())?;
    Ok(Opened {
        tree,
        patient: patient.entry,
        expires_at: opened.grant.expires_at,
        grant_id: opened.grant.grant_id,
        permission: opened.grant.permission,
        me,
        keyring: unlocked.keyring.clone(),
    })
}
