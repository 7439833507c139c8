//! Notes about unfinished uploads, so that one interrupted by a reload or a
//! lost connection can go on when the same file is picked again
//! (localStorage `medvault.upload-resume.<user>`: a JSON list of strings, each
//! `tag.node_id.version.size.content_key`, ids and keys in base64url).
//!
//! A note holds the upload's node id and version, the file's size, a keyed
//! tag that recognises the file, and the upload's content key wrapped under a
//! key derived from the person's keyring ([`crate::tasks::resume`]): nothing
//! secret in clear, and nothing anyone without the keyring can use.

use shared::{crypto::b64, model::Id};

use super::browser::local_storage;

const PREFIX: &str = "medvault.upload-resume.";
/// Most notes kept per person; the oldest go first.
const MAX_NOTES: usize = 20;

/// One unfinished upload, as this browser remembers it.
#[derive(Clone, Debug, PartialEq)]
pub struct ResumeNote {
    /// The keyed tag of the file and where it goes (base64url).
    pub tag: String,
    /// The file's node (base64url).
    pub node_id: String,
    /// The version being uploaded.
    pub version: u32,
    /// The file's size in bytes.
    pub size: u64,
    /// The content key, wrapped under the resume key (base64url).
    pub content_key: String,
}

impl ResumeNote {
    fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}.{}",
            self.tag, self.node_id, self.version, self.size, self.content_key
        )
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let note = ResumeNote {
            tag: parts.next()?.to_owned(),
            node_id: parts.next()?.to_owned(),
            version: parts.next()?.parse().ok()?,
            size: parts.next()?.parse().ok()?,
            content_key: parts.next()?.to_owned(),
        };
        parts.next().is_none().then_some(note)
    }
}

fn key(user: &Id) -> String {
    format!("{PREFIX}{}", b64::encode(user))
}

fn notes(user: &Id) -> Vec<ResumeNote> {
    local_storage()
        .and_then(|s| s.get_item(&key(user)).ok().flatten())
        .and_then(|text| serde_json::from_str::<Vec<String>>(&text).ok())
        .map(|all| all.iter().filter_map(|t| ResumeNote::decode(t)).collect())
        .unwrap_or_default()
}

fn save(user: &Id, notes: &[ResumeNote]) {
    let Some(storage) = local_storage() else {
        return;
    };
    if notes.is_empty() {
        let _ = storage.remove_item(&key(user));
    } else if let Ok(text) =
        serde_json::to_string(&notes.iter().map(ResumeNote::encode).collect::<Vec<_>>())
    {
        let _ = storage.set_item(&key(user), &text);
    }
}

/// The note with this tag, if any.
pub fn find(user: &Id, tag: &str) -> Option<ResumeNote> {
    notes(user).into_iter().find(|n| n.tag == tag)
}

/// Keeps `note` (replacing one with the same tag).
pub fn remember(user: &Id, note: ResumeNote) {
    let mut all = notes(user);
    all.retain(|n| n.tag != note.tag);
    all.push(note);
    let extra = all.len().saturating_sub(MAX_NOTES);
    all.drain(..extra);
    save(user, &all);
}

/// Forgets the note with this tag.
pub fn forget(user: &Id, tag: &str) {
    let mut all = notes(user);
    let before = all.len();
    all.retain(|n| n.tag != tag);
    if all.len() != before {
        save(user, &all);
    }
}
