//! Vital signs in the record, without views: each reading is an entry node
//! (metadata only, sealed like every other node) in the "Vital signs" starter
//! folder, so the server sees a small ciphertext and nothing about what was
//! measured. The page lists, draws and deletes them through these.

use std::collections::HashSet;

use shared::{
    api::records::NodeView,
    model::Id,
    records::{NodeMetadata, OpenNode, OpenTree, RecordType, VitalKind, VitalReading},
    vitals::format_reading,
};

use super::{
    nodes::{add_entry, make_folder, trash_view},
    record::checked_authors,
    writer::Writer,
};
use crate::{
    platform::clock::{reading_time, LocalTime},
    session::{now_unix, Session},
};

/// The starter folder's name, used again if it has to be made anew.
pub const FOLDER_NAME: &str = "Vital signs";

/// One reading in the table.
#[derive(Debug, Clone, PartialEq)]
pub struct VitalRow {
    /// The entry's node.
    pub id: Id,
    /// The entry as served, for the trash request.
    pub view: NodeView,
    /// Its name ("Temperature 2026-02-28 08:15").
    pub name: String,
    /// What was measured.
    pub reading: VitalReading,
    /// Who signed it: the record's owner, or a doctor under a write grant.
    pub author_id: Id,
    /// The author's checked username when that is not the record's owner
    /// (see [`name_authors`]); `None` for the owner.
    pub by: Option<String>,
}

/// Every reading in `tree`, newest first.
pub fn rows_of(tree: &OpenTree) -> Vec<VitalRow> {
    let mut rows: Vec<VitalRow> = tree
        .vitals()
        .into_iter()
        .map(|(node, reading)| VitalRow {
            id: *node.id(),
            view: node.view.clone(),
            name: node.metadata.name.clone(),
            reading: reading.clone(),
            author_id: tree.author_of(node),
            by: None,
        })
        .collect();
    rows.reverse();
    rows
}

/// `rows` with each reading not signed by the record's owner named by its
/// author's checked username ("a doctor" when the directory does not confirm
/// it); `me` (a doctor looking) reads "You".
pub async fn name_authors(
    session: Session,
    mut rows: Vec<VitalRow>,
    owner: Id,
    me: Option<Id>,
) -> Vec<VitalRow> {
    let label = author_labels(
        session,
        rows.iter().map(|r| r.author_id).collect(),
        owner,
        me,
    )
    .await;
    for row in &mut rows {
        row.by = label(row.author_id);
    }
    rows
}

/// How entries' authors read, for the readings and the health summary: the
/// record's owner `None` (the page says "You" or "Patient"), `me` (a doctor
/// looking) "You", any other their checked username, or "a doctor" when the
/// directory does not confirm it. Looks the names up once.
pub async fn author_labels(
    session: Session,
    authors: HashSet<Id>,
    owner: Id,
    me: Option<Id>,
) -> impl Fn(Id) -> Option<String> {
    let ids: HashSet<Id> = authors
        .into_iter()
        .filter(|a| *a != owner && Some(*a) != me)
        .collect();
    let names = checked_authors(session, ids).await.unwrap_or_default();
    move |author| {
        (author != owner).then(|| {
            if Some(author) == me {
                "You".to_owned()
            } else {
                names
                    .get(&author)
                    .map_or_else(|| "a doctor".to_owned(), |(name, _)| name.clone())
            }
        })
    }
}

/// The folder a doctor adds readings to in a shared part of a record: the
/// shared folder itself when it is the vital-signs folder, or the
/// vital-signs folder directly in it (a whole record shared). `None` when
/// the shared part holds none: a doctor does not make one in, say, a folder
/// of lab results.
pub fn shared_vitals_folder(tree: &OpenTree) -> Option<OpenNode> {
    let is_vitals =
        |n: &&OpenNode| n.is_folder() && n.metadata.record_type == RecordType::VitalSigns;
    let root = tree.root()?;
    if is_vitals(&root) {
        return Some(root.clone());
    }
    tree.children(&tree.root_id)
        .into_iter()
        .find(|n| is_vitals(n) && !tree.in_trash(n.id()))
        .cloned()
}

/// The kind the chart shows: the person's choice, else the latest reading's,
/// else temperature.
pub fn chart_kind(choice: Option<VitalKind>, rows: Option<&[VitalRow]>) -> VitalKind {
    choice.unwrap_or_else(|| {
        rows.and_then(|r| r.first())
            .map_or(VitalKind::Temperature, |row| row.reading.kind)
    })
}

/// A chart choice's label with how many readings of that kind there are.
pub fn kind_option(kind: VitalKind, rows: Option<&[VitalRow]>) -> String {
    match rows.map_or(0, |r| {
        r.iter().filter(|row| row.reading.kind == kind).count()
    }) {
        0 => kind.label().to_owned(),
        n => format!("{} ({n})", kind.label()),
    }
}

/// The record's vital-signs folder: the root's child folder of type vital
/// signs, made now if the person deleted it for good.
async fn vitals_folder(writer: &Writer, tree: &OpenTree) -> Result<OpenNode, String> {
    if let Some(folder) = tree
        .children(&tree.root_id)
        .into_iter()
        .find(|n| n.is_folder() && n.metadata.record_type == RecordType::VitalSigns)
    {
        return Ok(folder.clone());
    }
    let root = tree
        .root()
        .ok_or_else(|| "Your record could not be opened. Reload the page.".to_owned())?;
    make_folder(writer, root, RecordType::VitalSigns, FOLDER_NAME).await
}

/// The sealed metadata of a reading's entry, checked as the server will.
pub fn reading_metadata(reading: &VitalReading, now: i64) -> Result<NodeMetadata, String> {
    let when = LocalTime::of(reading.taken_at);
    let name = format!("{} {}", reading.kind.label(), when.stamp());
    let metadata = NodeMetadata {
        description: format_reading(reading),
        record_date: Some(when.date_iso()),
        vital: Some(reading.clone()),
        ..NodeMetadata::new(&name, RecordType::VitalSigns, now)
    };
    metadata.validate()?;
    Ok(metadata)
}

/// Encrypts and stores one reading as an entry; answers the sentence to show.
pub async fn save_reading(
    writer: &Writer,
    tree: &OpenTree,
    reading: &VitalReading,
) -> Result<String, String> {
    let folder = vitals_folder(writer, tree).await?;
    save_reading_in(writer, &folder, reading).await
}

/// Encrypts and stores one reading as an entry in `folder` (a doctor's in
/// the [`shared_vitals_folder`]); answers the sentence to show.
pub async fn save_reading_in(
    writer: &Writer,
    folder: &OpenNode,
    reading: &VitalReading,
) -> Result<String, String> {
    let metadata = reading_metadata(reading, now_unix())?;
    add_entry(writer, folder, &metadata).await?;
    Ok(format!(
        "Saved: {} {}, {}.",
        reading.kind.label(),
        format_reading(reading),
        reading_time(reading.taken_at)
    ))
}

/// Moves a reading to the trash; answers the sentence to show.
pub async fn delete_reading(writer: &Writer, row: &VitalRow) -> Result<String, String> {
    trash_view(writer, &row.view).await?;
    Ok(format!(
        "Moved “{}” to the trash. You can restore it from the trash until it is emptied.",
        row.name
    ))
}
