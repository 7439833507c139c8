//! One item of a folder: its icon, name, facts, a progress bar while it
//! downloads, and the buttons for what this viewer may do with it.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    model::Id,
    records::{NodeMetadata, OpenNode},
};

use super::{
    items::{folder_href, id_text, is_note, kind_label},
    preview::preview_kind,
    progress_line::ProgressLine,
};
use crate::{
    components::format::format_bytes,
    platform::{browser::format_date, clock::iso_date_label},
    tasks::progress::Progress,
};

/// What the viewer may do with items, besides reading them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Write new content (edit a note as a new version).
    pub write: bool,
    /// Rename.
    pub rename: bool,
    /// Move to another folder.
    pub move_to: bool,
    /// See the versions (and restore or upload one).
    pub versions: bool,
    /// Move to the trash.
    pub delete: bool,
}

impl Capabilities {
    /// Everything: the record's owner.
    pub const OWNER: Capabilities = Capabilities {
        write: true,
        rename: true,
        move_to: true,
        versions: true,
        delete: true,
    };
}

/// A button of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowAction {
    /// Verify, decrypt and save the file.
    Download,
    /// Verify, decrypt and show it.
    Preview,
    /// Open a note in the editor.
    Edit,
    /// The versions dialog.
    Versions,
    /// The rename dialog.
    Rename,
    /// The details dialog (type, clinical date, description).
    Details,
    /// The move dialog.
    Move,
    /// To the trash.
    Delete,
}

impl RowAction {
    /// The word in the button's id ("download-<id>"), which is also where
    /// focus returns when a dialog it opened closes.
    pub fn key(self) -> &'static str {
        match self {
            RowAction::Download => "download",
            RowAction::Preview => "preview",
            RowAction::Edit => "edit",
            RowAction::Versions => "versions",
            RowAction::Rename => "rename",
            RowAction::Details => "details",
            RowAction::Move => "move",
            RowAction::Delete => "delete",
        }
    }

    fn label(self) -> &'static str {
        match self {
            RowAction::Download => "Download",
            RowAction::Preview => "Preview",
            RowAction::Edit => "Edit",
            RowAction::Versions => "Versions",
            RowAction::Rename => "Rename",
            RowAction::Details => "Details",
            RowAction::Move => "Move",
            RowAction::Delete => "Delete",
        }
    }

    /// Whether the button shows "Working…" while its work runs (the others
    /// only open a dialog).
    fn shows_work(self) -> bool {
        !matches!(
            self,
            RowAction::Versions | RowAction::Rename | RowAction::Details | RowAction::Move
        )
    }

    /// The id of this action's button on the item `id`.
    pub fn id_for(self, id: &Id) -> String {
        format!("{}-{}", self.key(), id_text(id))
    }
}

/// Which row action runs, as the page knows it.
#[derive(Clone, Copy)]
pub struct RowBusy {
    /// Whether the action with this button id runs (tracked).
    pub is: Callback<String, bool>,
    /// Whether any row action runs (tracked): every row's buttons wait.
    pub any: Signal<bool>,
}

/// One item: a folder (a link into it) or a file.
#[component]
pub fn FileRow(
    node: OpenNode,
    /// How many items a folder holds.
    count: usize,
    caps: Capabilities,
    /// The record's owner: a version someone else wrote says who.
    owner_id: Id,
    busy: RowBusy,
    /// This file's download, while it runs.
    downloading: Signal<Option<Progress>>,
    on_action: Callback<(RowAction, OpenNode)>,
) -> impl IntoView {
    let id = *node.id();
    let name = node.metadata.name.clone();
    let folder = node.is_folder();
    let kind = kind_label(&node);
    let file = !folder;
    let preview = node
        .metadata
        .mime
        .as_deref()
        .and_then(preview_kind)
        .filter(|_| file);
    let shown = [
        (RowAction::Download, file),
        (RowAction::Preview, preview.is_some()),
        (RowAction::Edit, caps.write && is_note(&node)),
        (RowAction::Versions, caps.versions && file),
        (RowAction::Rename, caps.rename),
        (RowAction::Details, caps.rename && file),
        (RowAction::Move, caps.move_to),
        (RowAction::Delete, caps.delete),
    ];
    let actions: Vec<RowAction> = shown
        .into_iter()
        .filter_map(|(action, show)| show.then_some(action))
        .collect();
    let node_for_buttons = node.clone();
    let name_for_bar = name.clone();
    let actions_label = format!("Actions for {name}");
    view! {
        <li class="item">
            <span class=format!("item__icon item__icon--{}", kind.to_lowercase()) aria-hidden="true"></span>
            <div class="item__main">
                {if folder {
                    view! { <A href=folder_href(&id, false) attr:class="item__name">{name.clone()}</A> }.into_any()
                } else {
                    view! { <span class="item__name">{name.clone()}</span> }.into_any()
                }}
                <RowFacts node=node count=count kind=kind owner_id=owner_id/>
                <Show when=move || downloading.get().is_some()>
                    <ProgressLine
                        label=format!("Downloading {}", name_for_bar)
                        progress=Signal::derive(move || downloading.get().unwrap_or_default())
                    />
                </Show>
            </div>
            <div class="item__actions" role="group" aria-label=actions_label>
                <RowButtons node=node_for_buttons actions=actions busy=busy on_action=on_action/>
            </div>
        </li>
    }
}

/// The buttons of a row, in their fixed order; "Working…" on the one whose
/// work runs, all waiting while any runs.
#[component]
fn RowButtons(
    node: OpenNode,
    actions: Vec<RowAction>,
    busy: RowBusy,
    on_action: Callback<(RowAction, OpenNode)>,
) -> impl IntoView {
    let id = *node.id();
    let stored = StoredValue::new(node);
    actions
        .into_iter()
        .map(|action| {
            let button_id = action.id_for(&id);
            let key = button_id.clone();
            let text = move || {
                if action.shows_work() && busy.is.run(key.clone()) {
                    "Working…"
                } else {
                    action.label()
                }
            };
            view! {
                <button type="button" id=button_id class="button button--secondary button--small"
                    disabled=move || busy.any.get()
                    on:click=move |_| on_action.run((action, stored.get_value()))>
                    {text}
                </button>
            }
        })
        .collect_view()
}

/// The kind, the record type and clinical date of a file, when it last
/// changed, its size (or count of items), who wrote the current version when
/// it was not the owner, and the description.
#[component]
fn RowFacts(node: OpenNode, count: usize, kind: &'static str, owner_id: Id) -> impl IntoView {
    let size = if node.is_folder() {
        match count {
            1 => "1 item".to_owned(),
            n => format!("{n} items"),
        }
    } else {
        format_bytes(node.metadata.size.unwrap_or(0))
    };
    let date = format_date(node.metadata.modified_at);
    let file = !node.is_folder();
    let record_type = file.then(|| node.metadata.record_type.label());
    // A version a doctor wrote on the patient's behalf says so.
    let written_by = node
        .view
        .current
        .as_ref()
        .filter(|v| v.author_id != owner_id)
        .map(|v| format!("Added by {}", v.author_name));
    view! {
        <span class="item__facts">
            <span class="item__type">{kind}</span>
            {record_type.map(|t| view! { <span class="item__record-type">{t}</span> })}
            <ClinicalDate meta=node.metadata.clone()/>
            <span>{date}</span>
            <span>{size}</span>
            {written_by.map(|w| view! { <span class="item__author">{w}</span> })}
        </span>
        <ItemDescription meta=node.metadata.clone()/>
    }
}

/// "Dated 14 Mar 2026" when the item has a clinical date.
#[component]
pub fn ClinicalDate(meta: NodeMetadata) -> impl IntoView {
    meta.record_date
        .as_deref()
        .and_then(iso_date_label)
        .map(|d| view! { <span class="item__clinical-date">{format!("Dated {d}")}</span> })
}

/// The item's description, when it has one, under its facts.
#[component]
pub fn ItemDescription(meta: NodeMetadata) -> impl IntoView {
    (!meta.description.is_empty())
        .then(|| view! { <p class="item__description">{meta.description}</p> })
}
