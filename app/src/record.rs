//! Opening the signed-in patient's record: fetch the tree, create it with its
//! starter folders on first use, and decrypt it with the keys in memory.
//!
//! Every page that shows record data (records, vital signs, search, export)
//! starts here, so they all see the same tree the same way.

use shared::{
    api::{records, ErrorCode},
    crypto::sign::Role,
    records::{new_record, OpenTree},
};

use crate::session::{now_unix, Session, Unlocked};

/// Why the record could not be opened, in words for the person.
pub type OpenError = String;

/// Fetches and decrypts the caller's record, creating it first if this patient
/// has none yet. Only patients own a record.
pub async fn open_record(session: Session, unlocked: &Unlocked) -> Result<OpenTree, OpenError> {
    if unlocked.info.role != Role::Patient {
        return Err("Only patients keep a record in medvault.".to_owned());
    }
    let tree = match records::get_record().await {
        Ok(Some(tree)) => tree,
        Ok(None) => {
            let owner = unlocked.key_entry.value.user_id;
            let public = unlocked.keyring.public_keys();
            let (root, children) = new_record(&owner, &public.encryption, now_unix())
                .map_err(|_| "Your browser could not create the keys for your record. Reload the page and try again.".to_owned())?;
            match records::create_record(root, children).await {
                Ok(tree) => tree,
                // Another tab made it meanwhile: use that one.
                Err(e) if e.code == ErrorCode::Conflict => records::get_record()
                    .await
                    .map_err(|e| session.explain(&e))?
                    .ok_or_else(|| "Your record could not be found. Reload the page.".to_owned())?,
                Err(e) => return Err(session.explain(&e)),
            }
        }
        Err(e) => return Err(session.explain(&e)),
    };
    OpenTree::open(tree, unlocked.keyring.encryption()).map_err(|_| {
        "Your record could not be unlocked with your keys. If this keeps happening, contact your administrator."
            .to_owned()
    })
}
