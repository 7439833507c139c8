//! One folder of the record: where it is, how full the record is, what can be
//! added, the uploads, and its items.

use std::sync::Arc;

use leptos::{html, prelude::*};
use leptos_router::components::A;
use shared::{
    api::records::NodeKind,
    model::Id,
    records::{ItemDetails, OpenNode, RecordType},
};

use super::state::{Ctx, Dialog};
use crate::{
    components::{
        details_fields::{DetailsInput, NextUploadDetails},
        file_browser::{
            file_row::{Capabilities, RowAction},
            folder::{FolderList, RowContext, PAGE},
            items::{display_name, folder_href, ROOT_NAME},
            preview::{preview_kind, preview_of, PreviewKind, MAX_TEXT_PREVIEW},
            upload::{DropZone, UploadButton, UploadList},
        },
        form::{ErrorAlert, StatusNote},
        format::format_bytes,
        print::{PrintButton, PrintHeader},
    },
    platform::{
        blob::{blob_text, save_blob},
        browser::focus_later,
    },
    tasks::{bulk, nodes, upload::UploadTarget},
};

/// What a folder shows, read from the tree.
#[derive(Clone)]
struct FolderData {
    path: Vec<(Id, String)>,
    items: Arc<Vec<(OpenNode, usize)>>,
    used: u64,
    quota: u64,
    trash: usize,
    unreadable: usize,
    /// For the folders whose entries another page shows (vital signs, the
    /// health summary): that page's name and address.
    shown_on: Option<(&'static str, &'static str)>,
}

#[component]
pub fn FolderView(ctx: Ctx, folder: Id) -> impl IntoView {
    // Read from the tree once per change of the tree (a folder of thousands
    // of items sorts and copies them once, not once per part of the page).
    let data = Memo::new_with_compare(move |_| read_folder(ctx, folder), |_, _| true);
    // How many rows the list shows: kept while the record changes under it.
    let shown = RwSignal::new(PAGE);
    let owner_id = ctx.unlocked.with_value(|u| u.key_entry.value.user_id);
    let rows = RowContext {
        caps: Capabilities::OWNER,
        owner_id,
        busy: ctx.busy(),
        download: ctx.download.into(),
        on_action: Callback::new(move |(action, node)| row_action(ctx, action, node)),
    };
    view! {
        <FolderHead data=data.into()/>
        {move || {
            let n = data.with(|d| d.as_ref().map(|d| d.unreadable)).unwrap_or(0);
            (n > 0).then(|| view! {
                <p class="alert alert--warning" role="status">
                    {format!(
                        "{n} item{} could not be opened with your keys and {} not shown. \
                         If this keeps happening, contact your administrator.",
                        if n == 1 { "" } else { "s" },
                        if n == 1 { "is" } else { "are" },
                    )}
                </p>
            })
        }}
        <ErrorAlert error=ctx.error()/>
        <StatusNote message=ctx.status().into()/>
        <Toolbar ctx=ctx folder=folder/>
        <UploadList queue=ctx.uploads/>
        {move || data.with(|d| d.as_ref().and_then(|d| d.shown_on)).map(|(page, href)| view! {
            <p class="muted">
                "What is written in this folder is listed on the " <A href=href>{page}</A> " page."
            </p>
        })}
        // Such a folder with no files of its own is not "empty": the note
        // above says where its entries are.
        {move || data.with(|d| {
            d.as_ref()
                .filter(|d| !(d.items.is_empty() && d.shown_on.is_some()))
                .map(|d| d.items.clone())
        }).map(|items| view! {
            <FolderList items=items rows=rows shown=shown/>
        })}
    }
}

/// What `folder` shows, read from the tree.
fn read_folder(ctx: Ctx, folder: Id) -> Option<FolderData> {
    ctx.tree.with(|t| {
        t.as_ref().map(|tree| FolderData {
            path: tree
                .path(&folder)
                .into_iter()
                .map(|n| (*n.id(), display_name(tree, n)))
                .collect(),
            items: Arc::new(
                tree.children(&folder)
                    .into_iter()
                    .filter(|n| n.view.kind != NodeKind::Entry)
                    .map(|n| (n.clone(), tree.children(n.id()).len()))
                    .collect(),
            ),
            used: tree.usage.used_bytes,
            quota: tree.usage.quota_bytes,
            trash: tree.trash().len(),
            unreadable: tree.unreadable.len(),
            shown_on: tree
                .node(&folder)
                .and_then(|n| match n.metadata.record_type {
                    RecordType::VitalSigns => Some(("Vital signs", "/vitals")),
                    RecordType::HealthSummary => Some(("Summary", "/health")),
                    _ => None,
                }),
        })
    })
}

/// The breadcrumb, the folder's name as the heading, and how full the record is.
#[component]
fn FolderHead(data: Signal<Option<FolderData>>) -> impl IntoView {
    let title = move || {
        data.with(|d| {
            d.as_ref()
                .and_then(|d| d.path.last().map(|(_, name)| name.clone()))
        })
        .map(|name| {
            if name == ROOT_NAME {
                "Records".to_owned()
            } else {
                name
            }
        })
        .unwrap_or_default()
    };
    view! {
        <div class="records__head">
            <PrintHeader/>
            <nav aria-label="Folder path" class="breadcrumb">
                <ol>
                    {move || {
                        let path = data.with(|d| d.as_ref().map(|d| d.path.clone())).unwrap_or_default();
                        let last = path.len().saturating_sub(1);
                        path.into_iter()
                            .enumerate()
                            .map(|(i, (id, name))| {
                                if i == last {
                                    view! { <li><span aria-current="page">{name}</span></li> }.into_any()
                                } else {
                                    let href = folder_href(&id, i == 0);
                                    view! { <li><A href=href>{name}</A></li> }.into_any()
                                }
                            })
                            .collect_view()
                    }}
                </ol>
            </nav>
            <h1 tabindex="-1">{title}</h1>
            <p class="records__meta muted">
                {move || data.with(|d| d.as_ref().map(|d| format!(
                    "{} of {} used. ",
                    format_bytes(d.used),
                    format_bytes(d.quota)
                )))}
                <A href="/records/search">"Search your record"</A>
                " · "
                <A href="/records/trash">
                    {move || match data.with(|d| d.as_ref().map(|d| d.trash)).unwrap_or(0) {
                        0 => "Trash".to_owned(),
                        n => format!("Trash ({n})"),
                    }}
                </A>
                " "
                <PrintButton label="Print this folder's list"/>
            </p>
        </div>
    }
}

/// The details new files get: the panel's, or the sentence saying what to
/// correct there (nothing is added then).
fn next_details(ctx: Ctx, details: DetailsInput) -> Option<ItemDetails> {
    match details.read() {
        Ok(d) => Some(d),
        Err(message) => {
            ctx.status().set(None);
            ctx.error().set(Some(format!(
                "No files were added: {message} Correct it under “Details for the files you add”."
            )));
            None
        }
    }
}

#[component]
fn Toolbar(ctx: Ctx, folder: Id) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    let details = ctx.upload_details;
    let add = Callback::new(move |files: Vec<web_sys::File>| {
        if files.is_empty() {
            return;
        }
        let Some(details) = next_details(ctx, details) else {
            return;
        };
        let parent = ctx
            .tree
            .with_untracked(|t| t.as_ref().and_then(|tree| tree.node(&folder).cloned()));
        if let Some(parent) = parent {
            ctx.error().set(None);
            ctx.status().set(None);
            ctx.uploads
                .enqueue(files, UploadTarget::NewFile { parent, details });
        }
    });
    view! {
        <section class="toolbar" aria-label="Add to this folder">
            <div class="toolbar__buttons">
                <UploadButton id="upload-files" label="Upload files"
                    class="button" multiple=true node_ref=input on_files=add/>
                <UploadButton id="upload-folder" label="Upload a folder"
                    class="button button--secondary" multiple=true directory=true
                    on_files=Callback::new(move |files| {
                        if let Some(d) = next_details(ctx, details) {
                            upload_folder(ctx, folder, files, d);
                        }
                    })/>
                <button
                    type="button"
                    id="new-folder"
                    class="button button--secondary"
                    on:click=move |_| ctx.open(Dialog::NewFolder, "new-folder".into())
                >
                    "New folder"
                </button>
                <button
                    type="button"
                    id="new-note"
                    class="button button--secondary"
                    on:click=move |_| ctx.open(Dialog::NewNote, "new-note".into())
                >
                    "New note"
                </button>
            </div>
            <DropZone input=input on_files=add/>
            <NextUploadDetails input=details/>
        </section>
    }
}

/// A folder picked as a whole: its folders made here (in batches, parents
/// first, of the files' type), then its files queued into them, each with
/// `details`.
fn upload_folder(ctx: Ctx, folder: Id, files: Vec<web_sys::File>, details: ItemDetails) {
    if files.is_empty() {
        return;
    }
    let record_type = details.record_type;
    let Some(parent) = ctx
        .tree
        .with_untracked(|t| t.as_ref().and_then(|tree| tree.node(&folder).cloned()))
    else {
        return;
    };
    ctx.error().set(None);
    ctx.status().set(None);
    leptos::task::spawn_local(async move {
        let paths: Vec<String> = files.iter().map(bulk::relative_path).collect();
        let folders = bulk::folder_paths(&paths);
        let made = match bulk::make_folders(&ctx.writer(), &parent, record_type, &folders).await {
            Ok(made) => made,
            Err(message) => {
                ctx.error().try_set(Some(format!(
                    "The folder was not uploaded: {message} Nothing of it was sent."
                )));
                return;
            }
        };
        ctx.status().try_set(Some(format!(
            "{} folder{} made. {} file{} are uploading below.",
            made.len(),
            if made.len() == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" },
        )));
        let mut by_folder: std::collections::BTreeMap<&str, Vec<web_sys::File>> =
            std::collections::BTreeMap::new();
        for (file, path) in files.iter().zip(&paths) {
            by_folder
                .entry(bulk::folder_of(path))
                .or_default()
                .push(file.clone());
        }
        for (dir, files) in by_folder {
            let parent = made.get(dir).cloned().unwrap_or_else(|| parent.clone());
            ctx.uploads.enqueue(
                files,
                UploadTarget::NewFile {
                    parent,
                    details: details.clone(),
                },
            );
        }
        if paths.is_empty() || made.is_empty() {
            ctx.reload().await;
        }
    });
}

/// What a row's button does: a download, a preview or the note editor after
/// verifying the file, the trash, or a dialog.
fn row_action(ctx: Ctx, action: RowAction, node: OpenNode) {
    let id = *node.id();
    let key = action.id_for(&id);
    let name = node.metadata.name.clone();
    match action {
        RowAction::Download => ctx.run(key, async move {
            let blob = ctx.fetch_blob(&node).await?;
            save_blob(&blob, &name)?;
            ctx.announce
                .try_set(format!("“{name}” downloaded and verified."));
            Ok(Some(format!(
                "“{name}” was verified and saved to your downloads."
            )))
        }),
        RowAction::Preview => {
            let Some(kind) = node.metadata.mime.as_deref().and_then(preview_kind) else {
                return;
            };
            ctx.run(key.clone(), async move {
                if kind == PreviewKind::Text && node.metadata.size.unwrap_or(0) > MAX_TEXT_PREVIEW {
                    return Err(format!(
                        "“{name}” is too long to preview here. Download it instead."
                    ));
                }
                let blob = ctx.fetch_blob(&node).await?;
                let preview = preview_of(&blob, name, kind).await?;
                ctx.open(Dialog::Preview(preview), key);
                Ok(None)
            })
        }
        RowAction::Edit => ctx.run(key.clone(), async move {
            let blob = ctx.fetch_blob(&node).await?;
            let text = blob_text(&blob)
                .await
                .ok_or_else(|| "This browser could not open the note. Try again.".to_owned())?;
            ctx.open(Dialog::EditNote(id, text), key);
            Ok(None)
        }),
        RowAction::Delete => ctx.run(key, async move {
            nodes::trash(&ctx.writer(), &node).await?;
            ctx.reload().await;
            focus_later("main h1");
            Ok(Some(format!(
                "“{name}” was moved to the trash. You can restore it from the Trash until it is emptied."
            )))
        }),
        RowAction::Versions => ctx.open(Dialog::Versions(id), key),
        RowAction::Rename => ctx.open(Dialog::Rename(id), key),
        RowAction::Details => ctx.open(Dialog::Details(id), key),
        RowAction::Move => ctx.open(Dialog::Move(id), key),
    }
}
