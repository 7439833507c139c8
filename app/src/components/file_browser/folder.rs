//! The items of one folder, as rows, or a word that it is empty.

use leptos::prelude::*;
use shared::{model::Id, records::OpenNode};

use super::file_row::{Capabilities, FileRow, RowAction, RowBusy};
use crate::tasks::progress::Progress;

/// What the rows of a folder need besides their item.
#[derive(Clone, Copy)]
pub struct RowContext {
    /// What the viewer may do.
    pub caps: Capabilities,
    /// The record's owner.
    pub owner_id: Id,
    /// Which row action runs.
    pub busy: RowBusy,
    /// The download running: (item, progress).
    pub download: Signal<Option<(Id, Progress)>>,
    /// What a row's button asks for.
    pub on_action: Callback<(RowAction, OpenNode)>,
}

/// The folder's items (each with how many items it holds, for folders).
#[component]
pub fn FolderList(items: Vec<(OpenNode, usize)>, rows: RowContext) -> impl IntoView {
    if items.is_empty() {
        return view! {
            <p class="empty card">"This folder is empty. Upload files or add a note to start."</p>
        }
        .into_any();
    }
    view! {
        <ul class="items card" aria-label="Folders and files">
            {items.into_iter().map(|(node, count)| {
                let id = *node.id();
                let download = rows.download;
                let downloading = Signal::derive(move || {
                    download.with(|d| d.as_ref().filter(|(d, _)| *d == id).map(|(_, p)| *p))
                });
                view! {
                    <FileRow node=node count=count caps=rows.caps owner_id=rows.owner_id
                        busy=rows.busy downloading=downloading on_action=rows.on_action/>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}
