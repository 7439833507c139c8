//! The health summary in the record, without views: each state of an item
//! (added, edited, removed) is an entry node in the "Health summary" folder,
//! sealed and signed like a vital reading, so the history and its authors
//! stay in the record and the server sees only small ciphertexts.

use shared::{
    api::records::NodeView,
    model::Id,
    records::{
        group_items, new_item_id, HealthEntry, HealthFact, HealthItem, NodeMetadata, OpenNode,
        OpenTree, RecordType,
    },
};

use super::{
    nodes::{add_entry, make_folder},
    vitals::author_labels,
    writer::Writer,
};
use crate::session::Session;

/// The summary folder's name, made on the first item.
pub const FOLDER_NAME: &str = "Health summary";

/// One state of one item, with its author.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRow {
    /// The entry as stored.
    pub view: NodeView,
    /// What it says.
    pub entry: HealthEntry,
    /// Who signed it: the record's owner, or a doctor under a write grant.
    pub author_id: Id,
    /// The author's checked username when not the owner ("a doctor" when the
    /// directory does not confirm it, "You" for the doctor looking).
    pub by: Option<String>,
}

/// Every item of `tree`'s summary (removed ones included, so their history
/// shows), each with its states oldest first, in the order they were added.
pub fn items_of(tree: &OpenTree) -> Vec<HealthItem<HealthRow>> {
    let rows = tree
        .health_entries()
        .into_iter()
        .map(|(node, entry)| HealthRow {
            view: node.view.clone(),
            entry: entry.clone(),
            author_id: tree.author_of(node),
            by: None,
        });
    group_items(rows, |r| &r.entry)
}

/// `items` with every state not signed by the owner named by its author.
pub async fn name_authors(
    session: Session,
    mut items: Vec<HealthItem<HealthRow>>,
    owner: Id,
    me: Option<Id>,
) -> Vec<HealthItem<HealthRow>> {
    let authors = items
        .iter()
        .flat_map(|i| i.history.iter().map(|r| r.author_id))
        .collect();
    let label = author_labels(session, authors, owner, me).await;
    for item in &mut items {
        for row in item.history.iter_mut().chain([&mut item.current]) {
            row.by = label(row.author_id);
        }
    }
    items
}

fn is_summary(n: &OpenNode) -> bool {
    n.is_folder() && n.metadata.record_type == RecordType::HealthSummary
}

/// The folder a doctor writes summary items to: the shared folder itself
/// when it is the summary's, or the summary folder directly in it (a whole
/// record shared); `None` otherwise.
pub fn shared_summary_folder(tree: &OpenTree) -> Option<OpenNode> {
    let root = tree.root()?;
    if is_summary(root) {
        return Some(root.clone());
    }
    tree.children(&tree.root_id)
        .into_iter()
        .find(|n| is_summary(n) && !tree.in_trash(n.id()))
        .cloned()
}

/// The owner's summary folder, made now when the record has none yet.
pub async fn summary_folder(writer: &Writer, tree: &OpenTree) -> Result<OpenNode, String> {
    if let Some(folder) = shared_summary_folder(tree) {
        return Ok(folder);
    }
    let root = tree
        .root()
        .ok_or_else(|| "Your record could not be opened. Reload the page.".to_owned())?;
    make_folder(writer, root, RecordType::HealthSummary, FOLDER_NAME).await
}

fn could_not_encrypt() -> String {
    "Your browser could not encrypt the summary item. Reload the page and try again.".to_owned()
}

/// A new state of an item: `after` is the item and revision it follows,
/// `None` for a new item.
pub fn new_entry(
    after: Option<(String, u32)>,
    fact: HealthFact,
    removed: bool,
    now: i64,
) -> Result<HealthEntry, String> {
    let (item, revision) = match after {
        Some((id, revision)) => (id, revision.saturating_add(1)),
        None => (new_item_id().map_err(|_| could_not_encrypt())?, 1),
    };
    let entry = HealthEntry {
        item,
        revision,
        recorded_at: now,
        removed,
        fact,
    };
    entry.validate()?;
    Ok(entry)
}

/// Encrypts and stores one state in `folder`; answers the sentence to show.
pub async fn save_entry(
    writer: &Writer,
    folder: &OpenNode,
    entry: &HealthEntry,
    now: i64,
) -> Result<String, String> {
    let metadata = NodeMetadata {
        health: Some(entry.clone()),
        ..NodeMetadata::new(&entry.node_name(), RecordType::HealthSummary, now)
    };
    add_entry(writer, folder, &metadata).await?;
    let noun = entry.fact.section().noun();
    let name = &entry.fact.subject().text;
    Ok(if entry.removed {
        format!("Removed the {noun} “{name}” from the summary. Its history stays in your record.")
    } else {
        format!("Saved the {noun} “{name}”.")
    })
}
