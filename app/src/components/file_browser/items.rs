//! What the file browser says about an item: its name on screen, its kind,
//! whether it is a note, where a folder's link goes; and the files a picker
//! or a drop handed over.

use shared::{
    api::records::NodeKind,
    model::Id,
    records::{OpenNode, OpenTree, RecordType},
};

use super::preview::{preview_kind, PreviewKind, MAX_TEXT_PREVIEW};

/// What the top of the patient's record is called on screen.
pub const ROOT_NAME: &str = "My record";

pub use crate::platform::browser::id_text;

/// "Lab results" for a folder, the root as "My record".
pub fn display_name(tree: &OpenTree, node: &OpenNode) -> String {
    if *node.id() == tree.root_id {
        ROOT_NAME.to_owned()
    } else {
        node.metadata.name.clone()
    }
}

/// The files of a file input or a drop, in order.
pub fn files_of(list: &web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The type of record a new item in `folder` gets: the folder's own type, or
/// "Other" at the top.
pub fn type_for(tree: &OpenTree, folder: &OpenNode) -> RecordType {
    if *folder.id() == tree.root_id {
        RecordType::Other
    } else {
        folder.metadata.record_type
    }
}

/// "Folder", "Image", "PDF", "Note", "Text", "File" or "Entry": the kind shown
/// in a row and in its icon's class.
pub fn kind_label(node: &OpenNode) -> &'static str {
    match node.view.kind {
        NodeKind::Folder => "Folder",
        NodeKind::Entry => "Entry",
        NodeKind::File => match node.metadata.mime.as_deref().and_then(preview_kind) {
            Some(PreviewKind::Image) => "Image",
            Some(PreviewKind::Pdf) => "PDF",
            Some(PreviewKind::Text) if node.metadata.record_type == RecordType::Note => "Note",
            Some(PreviewKind::Text) => "Text",
            None => "File",
        },
    }
}

/// Whether a file can be edited as a note: plain text, small enough to show.
pub fn is_note(node: &OpenNode) -> bool {
    node.view.kind == NodeKind::File
        && node
            .metadata
            .mime
            .as_deref()
            .is_some_and(|m| m.starts_with("text/plain"))
        && node.metadata.size.unwrap_or(0) <= MAX_TEXT_PREVIEW
}

/// The address of a folder of the patient's record (the top is `/records`).
pub fn folder_href(id: &Id, root: bool) -> String {
    if root {
        "/records".to_owned()
    } else {
        format!("/records?folder={}", id_text(id))
    }
}
