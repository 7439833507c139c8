//! `/records`: the patient's folders and files; `/records/trash`: what was
//! deleted, until the trash is emptied.
//!
//! Everything shown here was decrypted in this tab: the tree comes from
//! [`crate::tasks::record::RecordStore`], file content goes through
//! [`crate::tasks::upload`] and [`crate::tasks::download`]. The current folder is in the address (`?folder=`), so
//! the browser's back button and the breadcrumb work as links do.

use std::collections::VecDeque;

use leptos::{html, prelude::*};
use leptos_router::{components::A, hooks::use_query_map};
use shared::{
    api::records::{
        create_node, empty_trash, list_versions, move_node, restore_node, restore_version,
        trash_node, update_node, MoveNodeRequest, NodeKind, NodeRef as NodeTarget, NodeRevision,
        UpdateNodeRequest, VersionRef, VersionView,
    },
    crypto::{b64, Id},
    records::{
        new_child, open_metadata, seal_metadata, validate_name, wrap_child_key, NodeMetadata,
        OpenNode, OpenTree, RecordType,
    },
};
use wasm_bindgen_futures::JsFuture;

use crate::{
    authors,
    components::file_browser::preview::{preview_kind, PreviewKind, MAX_TEXT_PREVIEW},
    components::{
        dialog::Modal,
        export_button::ExportButton,
        form::{ErrorAlert, StatusNote},
        format::format_bytes,
    },
    pages::with_keys,
    platform::browser::{focus_later, format_date, format_time},
    platform::{blob::save_blob, clock::now_ms},
    session::{now_unix, use_session, Session, Unlocked},
    tasks::record::{use_record_store, RecordStore},
    tasks::{
        download::{self, exact_size, DownloadJob},
        progress::Progress,
        transfer::{Cancel, TransferError},
        upload::{self, check_fits, text_file, UploadJob, UploadTarget},
    },
};

/// `/records` (needs the keys).
#[component]
pub fn RecordsPage() -> impl IntoView {
    with_keys(|u| view! { <Records unlocked=u/> })
}

/// `/records/trash` (needs the keys).
#[component]
pub fn TrashPage() -> impl IntoView {
    with_keys(|u| view! { <Trash unlocked=u/> })
}

// ---------------------------------------------------------------------------
// Shared state of the two pages.

/// Which dialog is open.
#[derive(Clone)]
enum Dialog {
    NewFolder,
    NewNote,
    Rename(Id),
    Move(Id),
    Versions(Id),
    EditNote(Id, String),
    Preview(Preview),
    EmptyTrash,
}

/// A decrypted file shown in the page. `url` is an object URL, revoked when
/// the preview closes.
#[derive(Clone)]
pub struct Preview {
    /// The file's name, the dialog's title.
    pub name: String,
    /// Image, PDF or text.
    pub kind: PreviewKind,
    /// The object URL of an image or PDF.
    pub url: Option<String>,
    /// The text of a text file.
    pub text: Option<String>,
}

/// One file in the upload list.
#[derive(Clone)]
struct UploadRow {
    key: u64,
    name: String,
    progress: RwSignal<Progress>,
    state: RwSignal<RowState>,
    cancel: StoredValue<Cancel, LocalStorage>,
}

#[derive(Clone, PartialEq)]
enum RowState {
    Waiting,
    Running,
    Done,
    Failed(String),
    Cancelled,
}

/// The record, the page's messages and dialogs, shared by the pieces of a page.
#[derive(Clone, Copy)]
struct Ctx {
    session: Session,
    /// The session's record: opened once, reloaded after each change here.
    store: RecordStore,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    tree: RwSignal<Option<OpenTree>>,
    load_error: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    status: RwSignal<Option<String>>,
    /// The action running, as "<action>-<node>"; buttons show their busy state.
    busy: RwSignal<Option<String>>,
    dialog: RwSignal<Option<Dialog>>,
    return_to: RwSignal<Option<String>>,
    /// The download running: (node, progress).
    download: RwSignal<Option<(Id, Progress)>>,
    download_cancel: StoredValue<Option<Cancel>, LocalStorage>,
    uploads: RwSignal<Vec<UploadRow>>,
    queue: StoredValue<VecDeque<(u64, web_sys::File, UploadTarget)>, LocalStorage>,
    uploading: StoredValue<bool>,
    next_key: StoredValue<u64>,
    /// Spoken when an upload or download finishes.
    announce: RwSignal<String>,
    /// The page's owner: upload rows are made in event handlers, whose current
    /// owner may be a part of the page that a reload redraws (and disposes).
    owner: StoredValue<Option<Owner>, LocalStorage>,
}

fn id_text(id: &Id) -> String {
    b64::encode(id)
}

impl Ctx {
    fn new(unlocked: Unlocked) -> Self {
        let ctx = Ctx {
            session: use_session(),
            store: use_record_store(),
            unlocked: StoredValue::new_local(unlocked),
            tree: RwSignal::new(None),
            load_error: RwSignal::new(None),
            error: RwSignal::new(None),
            status: RwSignal::new(None),
            busy: RwSignal::new(None),
            dialog: RwSignal::new(None),
            return_to: RwSignal::new(None),
            download: RwSignal::new(None),
            download_cancel: StoredValue::new_local(None),
            uploads: RwSignal::new(Vec::new()),
            queue: StoredValue::new_local(VecDeque::new()),
            uploading: StoredValue::new(false),
            next_key: StoredValue::new(0),
            announce: RwSignal::new(String::new()),
            owner: StoredValue::new_local(Owner::current()),
        };
        leptos::task::spawn_local(async move { ctx.load(false).await });
        ctx
    }

    /// Fetches and decrypts the record again (after every change).
    async fn reload(self) {
        self.load(true).await
    }

    /// Shows the session's record; `fresh` fetches it again first.
    async fn load(self, fresh: bool) {
        let Some(unlocked) = self.unlocked.try_get_value() else {
            return;
        };
        let opened = if fresh {
            self.store.reload(self.session, &unlocked).await
        } else {
            self.store.open(self.session, &unlocked).await
        };
        match opened {
            Ok(tree) => {
                self.load_error.try_set(None);
                self.tree.try_set(Some(tree));
            }
            Err(message) => {
                self.load_error.try_set(Some(message));
            }
        }
    }

    fn node(&self, id: &Id) -> Option<OpenNode> {
        self.tree
            .with_untracked(|t| t.as_ref().and_then(|t| t.node(id).cloned()))
    }

    fn open(&self, dialog: Dialog, opener: String) {
        self.error.set(None);
        self.return_to.set(Some(opener));
        self.dialog.set(Some(dialog));
    }

    fn close(&self) {
        if let Some(Dialog::Preview(Preview { url: Some(url), .. })) = self.dialog.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
        self.dialog.set(None);
    }

    /// Runs one action with its busy state; its error goes to the page's alert.
    fn run<F>(&self, key: String, work: F)
    where
        F: std::future::Future<Output = Result<Option<String>, String>> + 'static,
    {
        if self.busy.get_untracked().is_some() {
            return;
        }
        let ctx = *self;
        ctx.busy.set(Some(key));
        ctx.error.set(None);
        ctx.status.set(None);
        leptos::task::spawn_local(async move {
            let result = work.await;
            ctx.busy.try_set(None);
            match result {
                Ok(Some(done)) => {
                    ctx.status.try_set(Some(done));
                }
                Ok(None) => {}
                Err(message) => {
                    ctx.error.try_set(Some(message));
                }
            }
        });
    }

    fn is_busy(&self, key: &str) -> bool {
        self.busy.with(|b| b.as_deref() == Some(key))
    }

    fn explain(&self, error: &shared::api::ApiError) -> String {
        self.session.explain(error)
    }

    fn transfer_error(&self, error: &TransferError) -> String {
        error.message(&self.session)
    }

    /// The download job of a file's version (current unless `version` given),
    /// after checking that its author was allowed to write it.
    async fn download_job(
        &self,
        node: &OpenNode,
        version: Option<VersionView>,
    ) -> Result<DownloadJob, String> {
        let version = version
            .or_else(|| node.view.current.clone())
            .ok_or_else(|| "This file has no content yet.".to_owned())?;
        let owner = self.unlocked.with_value(|u| u.key_entry.value.clone());
        let tree = self.tree;
        let covers = move |folder: &Id, inner: &Id| {
            tree.with_untracked(|t| t.as_ref().is_some_and(|t| t.covers(folder, inner)))
        };
        let (author_id, author_key) =
            authors::trusted_author(self.session, &version, &owner, covers).await?;
        Ok(DownloadJob {
            node: node.clone(),
            version,
            author_id,
            author_key,
        })
    }

    /// Downloads and verifies a file, with the row's progress bar.
    async fn fetch_blob(
        self,
        node: &OpenNode,
        version: Option<VersionView>,
    ) -> Result<web_sys::Blob, String> {
        let job = self.download_job(node, version).await?;
        let cancel = Cancel::new();
        self.download_cancel.set_value(Some(cancel.clone()));
        let id = *node.id();
        let ctx = self;
        let result = download::download(
            &job,
            move |p| {
                ctx.download.try_set(Some((id, p)));
            },
            &cancel,
        )
        .await;
        self.download.try_set(None);
        self.download_cancel.try_set_value(None);
        result.map_err(|e| self.transfer_error(&e))
    }

    // -- uploads --

    /// Adds files to the upload list; they go one after another.
    fn enqueue(&self, files: Vec<web_sys::File>, target: UploadTarget) {
        let usage = self.tree.with_untracked(|t| t.as_ref().map(|t| t.usage));
        for file in files {
            let key = self.next_key.get_value();
            self.next_key.set_value(key + 1);
            let make = || UploadRow {
                key,
                name: file.name(),
                progress: RwSignal::new(Progress {
                    done: 0,
                    total: file.size() as u64,
                    bytes_per_second: None,
                }),
                state: RwSignal::new(RowState::Waiting),
                cancel: StoredValue::new_local(Cancel::new()),
            };
            let row = match self.owner.get_value() {
                Some(owner) => owner.with(make),
                None => make(),
            };
            // Too large or over quota: refused here, before anything is sent.
            if let Some(usage) = usage {
                if let Err(message) = check_fits(&file.name(), file.size() as u64, &usage) {
                    row.state.set(RowState::Failed(message));
                    self.uploads.update(|rows| rows.push(row));
                    continue;
                }
            }
            self.uploads.update(|rows| rows.push(row));
            self.queue
                .update_value(|q| q.push_back((key, file, target.clone())));
        }
        if !self.uploading.get_value() {
            self.uploading.set_value(true);
            let ctx = *self;
            leptos::task::spawn_local(async move { ctx.work_queue().await });
        }
    }

    async fn work_queue(self) {
        // The tree is fetched again when the queue runs empty, or every few
        // seconds while it runs: a reload after every file made a thousand small
        // files cost a thousand whole-tree fetches, decryptions and re-renders.
        let mut last_reload = now_ms();
        let mut stale = false;
        loop {
            let Some(Some((key, file, target))) = self.queue.try_update_value(|q| q.pop_front())
            else {
                if stale {
                    // Then look at the queue again: files may have come meanwhile.
                    self.reload().await;
                    last_reload = now_ms();
                    stale = false;
                    continue;
                }
                break;
            };
            let Some(row) = self
                .uploads
                .try_with_untracked(|rows| rows.iter().find(|r| r.key == key).cloned())
                .flatten()
            else {
                continue;
            };
            let cancel = row.cancel.get_value();
            if cancel.is_cancelled() {
                continue;
            }
            row.state.try_set(RowState::Running);
            // The tree may have changed since the file was queued.
            let usage = self.tree.with_untracked(|t| t.as_ref().map(|t| t.usage));
            let (author_id, keyring) = self
                .unlocked
                .with_value(|u| (u.key_entry.value.user_id, u.keyring.clone()));
            let Some(usage) = usage else { break };
            let job = UploadJob {
                target,
                author_id,
                keyring,
                usage,
            };
            let progress = row.progress;
            let result = upload::upload(
                &file,
                job,
                move |p| {
                    progress.try_set(p);
                },
                &cancel,
            )
            .await;
            match result {
                Ok(_) => {
                    row.state.try_set(RowState::Done);
                    self.announce
                        .try_set(format!("“{}” uploaded and encrypted.", row.name));
                    stale = true;
                }
                Err(TransferError::Cancelled) => {
                    row.state.try_set(RowState::Cancelled);
                    self.announce
                        .try_set(format!("Upload of “{}” cancelled.", row.name));
                }
                Err(e) => {
                    let message = self.transfer_error(&e);
                    row.state.try_set(RowState::Failed(message));
                    self.announce
                        .try_set(format!("Upload of “{}” failed.", row.name));
                    // Reserved space may have changed.
                    stale = true;
                }
            }
            let idle = self.queue.try_with_value(|q| q.is_empty()).unwrap_or(true);
            if stale && (idle || now_ms() - last_reload > RELOAD_EVERY_MS) {
                self.reload().await;
                last_reload = now_ms();
                stale = false;
            }
        }
        self.uploading.try_set_value(false);
    }
}

/// While uploads run, the folder view catches up at most this often.
const RELOAD_EVERY_MS: f64 = 3000.0;

/// "Lab results" for a folder, the root as "My record".
fn display_name(tree: &OpenTree, node: &OpenNode) -> String {
    if *node.id() == tree.root_id {
        "My record".to_owned()
    } else {
        node.metadata.name.clone()
    }
}

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

fn kind_label(node: &OpenNode) -> &'static str {
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

fn is_note(node: &OpenNode) -> bool {
    node.view.kind == NodeKind::File
        && node
            .metadata
            .mime
            .as_deref()
            .is_some_and(|m| m.starts_with("text/plain"))
        && node.metadata.size.unwrap_or(0) <= MAX_TEXT_PREVIEW
}

// ---------------------------------------------------------------------------
// The records page.

#[component]
fn Records(unlocked: Unlocked) -> impl IntoView {
    let ctx = Ctx::new(unlocked);
    let query = use_query_map();
    let folder_param = Memo::new(move |_| query.with(|q| q.get("folder")));
    // The current folder: from the address, or the top.
    let folder = Memo::new(move |_| {
        ctx.tree.with(|t| {
            let tree = t.as_ref()?;
            let wanted = folder_param
                .get()
                .and_then(|text| b64::decode(&text))
                .and_then(|bytes| Id::try_from(bytes.as_slice()).ok());
            let id = wanted
                .filter(|id| {
                    tree.node(id)
                        .is_some_and(|n| n.is_folder() && !tree.in_trash(id))
                })
                .unwrap_or(tree.root_id);
            Some(id)
        })
    });
    // Moving between folders changes only the query: move focus to the heading.
    Effect::new(move |first: Option<()>| {
        let _ = folder_param.get();
        if first.is_some() {
            ctx.status.set(None);
            ctx.error.set(None);
            focus_later("main h1");
        }
    });

    view! {
        <div class="stack records">
            {move || {
                if let Some(message) = ctx.load_error.get() {
                    return view! {
                        <h1 tabindex="-1">"Records"</h1>
                        <p class="alert alert--error" role="alert">{message}</p>
                        <button type="button" class="button" on:click=move |_| {
                            ctx.load_error.set(None);
                            leptos::task::spawn_local(async move { ctx.reload().await });
                        }>"Try again"</button>
                    }
                    .into_any();
                }
                match folder.get() {
                    None => view! {
                        <h1 tabindex="-1">"Records"</h1>
                        <p class="status status--pending" role="status">"Opening your record…"</p>
                    }
                    .into_any(),
                    Some(id) => view! { <FolderView ctx=ctx folder=id/> }.into_any(),
                }
            }}
            <RecordDialog ctx=ctx folder=Signal::derive(move || folder.get())/>
            <p class="visually-hidden" aria-live="polite">{move || ctx.announce.get()}</p>
            {move || folder.get().is_some().then(|| view! { <ExportButton/> })}
        </div>
    }
}

#[component]
fn FolderView(ctx: Ctx, folder: Id) -> impl IntoView {
    let data = move || {
        ctx.tree.with(|t| {
            t.as_ref().map(|tree| {
                let path: Vec<(Id, String)> = tree
                    .path(&folder)
                    .into_iter()
                    .map(|n| (*n.id(), display_name(tree, n)))
                    .collect();
                let items: Vec<OpenNode> = tree
                    .children(&folder)
                    .into_iter()
                    .filter(|n| n.view.kind != NodeKind::Entry)
                    .cloned()
                    .collect();
                let counts: Vec<usize> =
                    items.iter().map(|n| tree.children(n.id()).len()).collect();
                let trash = tree.trash().len();
                let unreadable = tree.unreadable.len();
                (path, items, counts, tree.usage, trash, unreadable)
            })
        })
    };
    let title = move || {
        data()
            .and_then(|d| d.0.last().map(|(_, name)| name.clone()))
            .map(|name| {
                if name == "My record" {
                    "Records".to_owned()
                } else {
                    name
                }
            })
            .unwrap_or_default()
    };

    view! {
        <div class="records__head">
            <nav aria-label="Folder path" class="breadcrumb">
                <ol>
                    {move || {
                        let path = data().map(|d| d.0).unwrap_or_default();
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
                {move || data().map(|d| format!(
                    "{} of {} used. ",
                    format_bytes(d.3.used_bytes),
                    format_bytes(d.3.quota_bytes)
                ))}
                <A href="/records/search">"Search your record"</A>
                " · "
                <A href="/records/trash">
                    {move || match data().map(|d| d.4).unwrap_or(0) {
                        0 => "Trash".to_owned(),
                        n => format!("Trash ({n})"),
                    }}
                </A>
            </p>
        </div>
        {move || {
            let n = data().map(|d| d.5).unwrap_or(0);
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
        <ErrorAlert error=ctx.error/>
        <StatusNote message=ctx.status.into()/>
        <Toolbar ctx=ctx folder=folder/>
        <UploadList ctx=ctx/>
        {move || {
            let Some((_, items, counts, ..)) = data() else {
                return ().into_any();
            };
            if items.is_empty() {
                return view! {
                    <p class="empty card">"This folder is empty. Upload files or add a note to start."</p>
                }
                .into_any();
            }
            view! {
                <ul class="items card" aria-label="Folders and files">
                    {items.into_iter().zip(counts).map(|(node, count)| view! {
                        <ItemRow ctx=ctx node=node count=count/>
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}

fn folder_href(id: &Id, root: bool) -> String {
    if root {
        "/records".to_owned()
    } else {
        format!("/records?folder={}", id_text(id))
    }
}

#[component]
fn Toolbar(ctx: Ctx, folder: Id) -> impl IntoView {
    let input = NodeRef::<html::Input>::new();
    let dragging = RwSignal::new(false);
    let target = move || {
        ctx.tree.with_untracked(|t| {
            let tree = t.as_ref()?;
            let parent = tree.node(&folder)?.clone();
            Some(UploadTarget::NewFile {
                record_type: type_for(tree, &parent),
                parent,
            })
        })
    };
    let add = move |files: Vec<web_sys::File>| {
        if files.is_empty() {
            return;
        }
        if let Some(target) = target() {
            ctx.error.set(None);
            ctx.status.set(None);
            ctx.enqueue(files, target);
        }
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let el: web_sys::HtmlInputElement = event_target(&ev);
        if let Some(list) = el.files() {
            add(files_of(&list));
        }
        // The same file can be chosen again later.
        el.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(list) = ev.data_transfer().and_then(|d| d.files()) {
            add(files_of(&list));
        }
    };
    let choose = move || {
        if let Some(el) = input.get() {
            el.click();
        }
    };
    view! {
        <section class="toolbar" aria-label="Add to this folder">
            <div class="toolbar__buttons">
                <span class="file-button">
                    <input
                        id="upload-files"
                        class="file-button__input"
                        type="file"
                        multiple
                        node_ref=input
                        on:change=on_pick
                    />
                    <label for="upload-files" class="button">"Upload files"</label>
                </span>
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
            <div
                class=move || if dragging.get() { "dropzone dropzone--active" } else { "dropzone" }
                role="button"
                tabindex="0"
                aria-label="Drop files here to upload them, or press Enter to choose files"
                on:click=move |_| choose()
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" || ev.key() == " " {
                        ev.prevent_default();
                        choose();
                    }
                }
                on:dragenter=move |ev: leptos::ev::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <span aria-hidden="true">"Drop files here, or press Enter to choose files. "</span>
                <span class="muted" aria-hidden="true">"Each file is encrypted in this browser before it is sent."</span>
            </div>
        </section>
    }
}

#[component]
fn ItemRow(ctx: Ctx, node: OpenNode, count: usize) -> impl IntoView {
    let id = *node.id();
    let name = node.metadata.name.clone();
    let folder = node.is_folder();
    let kind = kind_label(&node);
    let preview = node
        .metadata
        .mime
        .as_deref()
        .and_then(preview_kind)
        .filter(|_| !folder);
    let note = is_note(&node);
    let size = if folder {
        match count {
            1 => "1 item".to_owned(),
            n => format!("{n} items"),
        }
    } else {
        format_bytes(node.metadata.size.unwrap_or(0))
    };
    let date = format_date(node.metadata.modified_at);
    // A version a doctor wrote on the patient's behalf says so.
    let owner_id = ctx.unlocked.with_value(|u| u.key_entry.value.user_id);
    let written_by = node
        .view
        .current
        .as_ref()
        .filter(|v| v.author_id != owner_id)
        .map(|v| format!("Added by {}", v.author_name));
    let stored = StoredValue::new(node.clone());

    let action_id = move |action: &str| format!("{action}-{}", id_text(&id));
    let busy_label = move |action: &'static str, label: &'static str| {
        let busy_key = action_id(action);
        move || {
            if ctx.is_busy(&busy_key) {
                "Working…"
            } else {
                label
            }
        }
    };
    let any_busy = move || ctx.busy.with(Option::is_some);

    let download = move |_| {
        let node = stored.get_value();
        let name = node.metadata.name.clone();
        ctx.run(action_id("download"), async move {
            let blob = ctx.fetch_blob(&node, None).await?;
            save_blob(&blob, &name)?;
            ctx.announce
                .try_set(format!("“{name}” downloaded and verified."));
            Ok(Some(format!(
                "“{name}” was verified and saved to your downloads."
            )))
        });
    };
    let show_preview = move |_| {
        let node = stored.get_value();
        let Some(kind) = preview else { return };
        let opener = action_id("preview");
        ctx.run(opener.clone(), async move {
            let name = node.metadata.name.clone();
            if kind == PreviewKind::Text && node.metadata.size.unwrap_or(0) > MAX_TEXT_PREVIEW {
                return Err(format!(
                    "“{name}” is too long to preview here. Download it instead."
                ));
            }
            let blob = ctx.fetch_blob(&node, None).await?;
            let preview = preview_of(&blob, name, kind).await?;
            ctx.open(Dialog::Preview(preview), opener);
            Ok(None)
        });
    };
    let edit = move |_| {
        let node = stored.get_value();
        let opener = action_id("edit");
        ctx.run(opener.clone(), async move {
            let blob = ctx.fetch_blob(&node, None).await?;
            let text = JsFuture::from(blob.text())
                .await
                .ok()
                .and_then(|t| t.as_string())
                .ok_or_else(|| "This browser could not open the note. Try again.".to_owned())?;
            ctx.open(Dialog::EditNote(*node.id(), text), opener);
            Ok(None)
        });
    };
    let trash = move |_| {
        let node = stored.get_value();
        ctx.run(action_id("delete"), async move {
            trash_node(NodeRevision {
                node_id: *node.id(),
                revision: node.view.revision,
            })
            .await
            .map_err(|e| ctx.explain(&e))?;
            ctx.reload().await;
            focus_later("main h1");
            Ok(Some(format!(
                "“{}” was moved to the trash. You can restore it from the Trash until it is emptied.",
                node.metadata.name
            )))
        });
    };

    let downloading = move || {
        ctx.download
            .with(|d| d.as_ref().filter(|(d, _)| *d == id).map(|(_, p)| *p))
    };
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
                <span class="item__facts">
                    <span class="item__type">{kind}</span>
                    <span>{date}</span>
                    <span>{size}</span>
                    {written_by.map(|w| view! { <span class="item__author">{w}</span> })}
                </span>
                <Show when=move || downloading().is_some()>
                    <ProgressLine
                        label=format!("Downloading {}", name_for_bar)
                        progress=Signal::derive(move || downloading().unwrap_or_default())
                    />
                </Show>
            </div>
            <div class="item__actions" role="group" aria-label=actions_label>
                {(!folder).then(|| view! {
                    <button type="button" id=action_id("download") class="button button--secondary button--small"
                        disabled=any_busy on:click=download>
                        {busy_label("download", "Download")}
                    </button>
                })}
                {preview.map(|_| view! {
                    <button type="button" id=action_id("preview") class="button button--secondary button--small"
                        disabled=any_busy on:click=show_preview>
                        {busy_label("preview", "Preview")}
                    </button>
                })}
                {note.then(|| view! {
                    <button type="button" id=action_id("edit") class="button button--secondary button--small"
                        disabled=any_busy on:click=edit>
                        {busy_label("edit", "Edit")}
                    </button>
                })}
                {(!folder).then(|| view! {
                    <button type="button" id=action_id("versions") class="button button--secondary button--small"
                        disabled=any_busy
                        on:click=move |_| ctx.open(Dialog::Versions(id), action_id("versions"))>
                        "Versions"
                    </button>
                })}
                <button type="button" id=action_id("rename") class="button button--secondary button--small"
                    disabled=any_busy
                    on:click=move |_| ctx.open(Dialog::Rename(id), action_id("rename"))>
                    "Rename"
                </button>
                <button type="button" id=action_id("move") class="button button--secondary button--small"
                    disabled=any_busy
                    on:click=move |_| ctx.open(Dialog::Move(id), action_id("move"))>
                    "Move"
                </button>
                <button type="button" id=action_id("delete") class="button button--secondary button--small"
                    disabled=any_busy on:click=trash>
                    {busy_label("delete", "Delete")}
                </button>
            </div>
        </li>
    }
}

/// A labelled progress bar with its percent and speed in words. Only its
/// attributes and text change as the transfer moves, so focus nearby stays.
#[component]
pub fn ProgressLine(label: String, progress: Signal<Progress>) -> impl IntoView {
    let pct = move || progress.get().percent();
    view! {
        <div class="progress-line">
            <div
                class="progress"
                role="progressbar"
                aria-label=label
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=move || pct().to_string()
                aria-valuetext=move || format!("{}%", pct())
            >
                <div class="progress__bar" style:width=move || format!("{}%", pct())></div>
            </div>
            <span class="progress-line__text">{move || format!("{}% · {}", pct(), progress.get().describe())}</span>
        </div>
    }
}

#[component]
fn UploadList(ctx: Ctx) -> impl IntoView {
    let visible = move || ctx.uploads.with(|rows| !rows.is_empty());
    let clear = move |_| {
        ctx.uploads.update(|rows| {
            rows.retain(|r| {
                matches!(
                    r.state.get_untracked(),
                    RowState::Waiting | RowState::Running
                )
            })
        });
    };
    view! {
        <Show when=visible>
            <section class="card uploads" aria-labelledby="uploads-heading">
                <div class="uploads__head">
                    <h2 id="uploads-heading">"Uploads"</h2>
                    <button type="button" class="button button--secondary button--small" on:click=clear>
                        "Clear finished"
                    </button>
                </div>
                <ul class="uploads__list">
                    <For
                        each=move || ctx.uploads.get()
                        key=|row| row.key
                        children=move |row| view! { <UploadItem row=row/> }
                    />
                </ul>
            </section>
        </Show>
    }
}

#[component]
fn UploadItem(row: UploadRow) -> impl IntoView {
    let name = row.name.clone();
    let label = format!("Uploading {name}");
    let cancel = row.cancel;
    let state = row.state;
    let progress = row.progress;
    let phase = Memo::new(move |_| match state.get() {
        RowState::Waiting => 0u8,
        RowState::Running => 1,
        RowState::Done => 2,
        RowState::Cancelled => 3,
        RowState::Failed(_) => 4,
    });
    let cancel_label = format!("Cancel upload of {name}");
    view! {
        <li class="upload">
            <span class="upload__name">{name.clone()}</span>
            <Show when=move || matches!(phase.get(), 1 | 2)>
                <ProgressLine label=label.clone() progress=progress.into()/>
            </Show>
            {move || match phase.get() {
                0 => view! { <span class="upload__state muted">"Waiting…"</span> }.into_any(),
                2 => view! { <span class="upload__state upload__state--done">"Uploaded"</span> }.into_any(),
                3 => view! { <span class="upload__state muted">"Cancelled. Nothing was kept."</span> }.into_any(),
                4 => {
                    let message = match state.get_untracked() {
                        RowState::Failed(m) => m,
                        _ => String::new(),
                    };
                    view! { <p class="upload__error alert alert--error" role="alert">{message}</p> }.into_any()
                }
                _ => ().into_any(),
            }}
            <Show when=move || matches!(phase.get(), 0 | 1)>
                <button type="button" class="button button--secondary button--small"
                    aria-label=cancel_label.clone()
                    on:click=move |_| {
                        cancel.with_value(Cancel::cancel);
                        if state.get_untracked() == RowState::Waiting {
                            state.set(RowState::Cancelled);
                        }
                    }>
                    "Cancel"
                </button>
            </Show>
        </li>
    }
}

// ---------------------------------------------------------------------------
// Dialogs.

#[component]
fn RecordDialog(ctx: Ctx, folder: Signal<Option<Id>>) -> impl IntoView {
    let open = Signal::derive(move || ctx.dialog.with(Option::is_some));
    let title = Signal::derive(move || {
        let name_of = |id: &Id| ctx.node(id).map(|n| n.metadata.name).unwrap_or_default();
        match ctx.dialog.get() {
            None => String::new(),
            Some(Dialog::NewFolder) => "New folder".to_owned(),
            Some(Dialog::NewNote) => "New note".to_owned(),
            Some(Dialog::Rename(id)) => format!("Rename “{}”", name_of(&id)),
            Some(Dialog::Move(id)) => format!("Move “{}”", name_of(&id)),
            Some(Dialog::Versions(id)) => format!("Versions of “{}”", name_of(&id)),
            Some(Dialog::EditNote(id, _)) => format!("Edit “{}”", name_of(&id)),
            Some(Dialog::Preview(p)) => p.name,
            Some(Dialog::EmptyTrash) => "Empty the trash?".to_owned(),
        }
    });
    let wide = Signal::derive(move || {
        ctx.dialog.with(|d| {
            matches!(
                d,
                Some(Dialog::Preview(_) | Dialog::Versions(_) | Dialog::EditNote(..))
            )
        })
    });
    let on_close = Callback::new(move |_| ctx.close());
    view! {
                <Modal open=open title=title on_close=on_close return_to=ctx.return_to.into() wide=wide>
                    {move || match ctx.dialog.get() {
                        Some(Dialog::NewFolder) => view! { <NameForm ctx=ctx folder=folder mode=NameMode::NewFolder/> }.into_any(),
                        Some(Dialog::Rename(id)) => view! { <NameForm ctx=ctx folder=folder mode=NameMode::Rename(id)/> }.into_any(),
                        Some(Dialog::NewNote) => view! { <NoteForm ctx=ctx folder=folder editing=None initial=String::new()/> }.into_any(),
                        Some(Dialog::EditNote(id, text)) => view! { <NoteForm ctx=ctx folder=folder editing=Some(id) initial=text/> }.into_any(),
                        Some(Dialog::Move(id)) => view! { <MoveForm ctx=ctx node=id/> }.into_any(),
                        Some(Dialog::Versions(id)) => view! { <VersionsList ctx=ctx node=id/> }.into_any(),
                        Some(Dialog::Preview(p)) => view! { <PreviewView preview=p/> }.into_any(),
                        Some(Dialog::EmptyTrash) => view! { <EmptyTrashForm ctx=ctx/> }.into_any(),
                        None => ().into_any(),
                    }}
                </Modal>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum NameMode {
    NewFolder,
    Rename(Id),
}

#[component]
fn NameForm(ctx: Ctx, folder: Signal<Option<Id>>, mode: NameMode) -> impl IntoView {
    let initial = match mode {
        NameMode::Rename(id) => ctx.node(&id).map(|n| n.metadata.name).unwrap_or_default(),
        NameMode::NewFolder => String::new(),
    };
    let name = RwSignal::new(initial);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            request_animation_frame(move || {
                let _ = el.focus();
                el.select();
            });
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let text = name.get_untracked().trim().to_owned();
        if let Err(message) = validate_name(&text) {
            error.set(Some(message));
            return;
        }
        error.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result: Result<String, String> = async {
                let now = now_unix();
                match mode {
                    NameMode::NewFolder => {
                        let (parent, record_type) = ctx
                            .tree
                            .with_untracked(|t| {
                                let tree = t.as_ref()?;
                                let parent = tree.node(&folder.get_untracked()?)?.clone();
                                let record_type = type_for(tree, &parent);
                                Some((parent, record_type))
                            })
                            .ok_or_else(|| "Reload the page and try again.".to_owned())?;
                        let metadata = NodeMetadata {
                            name: text.clone(),
                            record_type,
                            description: String::new(),
                            record_date: None,
                            created_at: now,
                            modified_at: now,
                            mime: None,
                            size: None,
                            vital: None,
                        };
                        metadata.validate()?;
                        let (node, _) =
                            new_child(&parent, NodeKind::Folder, &metadata).map_err(|_| {
                                "This browser could not make the folder's key. Try again."
                                    .to_owned()
                            })?;
                        create_node(node).await.map_err(|e| ctx.explain(&e))?;
                        Ok(format!("Folder “{text}” created."))
                    }
                    NameMode::Rename(id) => {
                        let node = ctx
                            .node(&id)
                            .ok_or_else(|| "This item is gone. Reload the page.".to_owned())?;
                        let old = node.metadata.name.clone();
                        let mut metadata = node.metadata.clone();
                        metadata.name = text.clone();
                        metadata.modified_at = now;
                        metadata.validate()?;
                        let sealed = seal_metadata(&node.key, &id, &metadata).map_err(|_| {
                            "This browser could not encrypt the name. Try again.".to_owned()
                        })?;
                        update_node(UpdateNodeRequest {
                            node_id: id,
                            revision: node.view.revision,
                            metadata: sealed,
                        })
                        .await
                        .map_err(|e| ctx.explain(&e))?;
                        Ok(format!("“{old}” is now called “{text}”."))
                    }
                }
            }
            .await;
            busy.try_set(false);
            match result {
                Ok(done) => {
                    ctx.reload().await;
                    ctx.close();
                    ctx.status.try_set(Some(done));
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    let (label, button) = match mode {
        NameMode::NewFolder => ("Folder name", "Create folder"),
        NameMode::Rename(_) => ("New name", "Rename"),
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=error/>
            <div class="field">
                <label for="item-name">{label}</label>
                <input id="item-name" type="text" autocomplete="off" node_ref=input bind:value=name
                    maxlength="400" required/>
            </div>
            <div class="actions">
                <button type="submit" class="button" disabled=move || busy.get()>
                    {move || if busy.get() { "Working…" } else { button }}
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| ctx.close()>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn NoteForm(
    ctx: Ctx,
    folder: Signal<Option<Id>>,
    editing: Option<Id>,
    initial: String,
) -> impl IntoView {
    let initial_title = editing
        .and_then(|id| ctx.node(&id))
        .map(|n| n.metadata.name)
        .unwrap_or_default();
    let title = RwSignal::new(initial_title);
    let text = RwSignal::new(initial);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let first = NodeRef::<html::Input>::new();
    let area = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        request_animation_frame(move || {
            if editing.is_some() {
                if let Some(el) = area.get_untracked() {
                    let _ = el.focus();
                }
            } else if let Some(el) = first.get_untracked() {
                let _ = el.focus();
            }
        });
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = text.get_untracked();
        let result: Result<(String, UploadTarget), String> = (|| match editing {
            Some(id) => {
                let node = ctx
                    .node(&id)
                    .ok_or_else(|| "This note is gone. Reload the page.".to_owned())?;
                Ok((
                    node.metadata.name.clone(),
                    UploadTarget::NewVersion { node },
                ))
            }
            None => {
                let mut name = title.get_untracked().trim().to_owned();
                validate_name(&name)?;
                if !name.contains('.') {
                    name.push_str(".txt");
                }
                validate_name(&name)?;
                let parent = ctx
                    .tree
                    .with_untracked(|t| t.as_ref()?.node(&folder.get_untracked()?).cloned())
                    .ok_or_else(|| "Reload the page and try again.".to_owned())?;
                Ok((
                    name,
                    UploadTarget::NewFile {
                        parent,
                        record_type: RecordType::Note,
                    },
                ))
            }
        })();
        let (name, target) = match result {
            Ok(r) => r,
            Err(message) => {
                error.set(Some(message));
                return;
            }
        };
        error.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let file = text_file(&name, &body)?;
                let (author_id, keyring) = ctx
                    .unlocked
                    .with_value(|u| (u.key_entry.value.user_id, u.keyring.clone()));
                let usage = ctx
                    .tree
                    .with_untracked(|t| t.as_ref().map(|t| t.usage))
                    .ok_or(TransferError::Unreachable)?;
                upload::upload(
                    &file,
                    UploadJob {
                        target,
                        author_id,
                        keyring,
                        usage,
                    },
                    |_| {},
                    &Cancel::new(),
                )
                .await
            }
            .await;
            busy.try_set(false);
            match result {
                Ok(_) => {
                    ctx.reload().await;
                    ctx.close();
                    ctx.status.try_set(Some(if editing.is_some() {
                        format!("“{name}” saved as a new version.")
                    } else {
                        format!("Note “{name}” saved.")
                    }));
                }
                Err(e) => {
                    error.try_set(Some(ctx.transfer_error(&e)));
                }
            }
        });
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=error/>
            {editing.is_none().then(|| view! {
                <div class="field">
                    <label for="note-title">"Title"</label>
                    <input id="note-title" type="text" autocomplete="off" node_ref=first bind:value=title required/>
                </div>
            })}
            <div class="field">
                <label for="note-text">"Note"</label>
                <textarea id="note-text" class="note-text" rows="12" node_ref=area bind:value=text></textarea>
                <p class="field__hint">"Saved encrypted, as a text file. Every save keeps the earlier version."</p>
            </div>
            <div class="actions">
                <button type="submit" class="button" disabled=move || busy.get()>
                    {move || if busy.get() { "Saving…" } else if editing.is_some() { "Save new version" } else { "Save note" }}
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| ctx.close()>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn MoveForm(ctx: Ctx, node: Id) -> impl IntoView {
    // Every folder outside the trash that is not the node itself, below it, or
    // its current parent, by path.
    let choices: Vec<(Id, String)> = ctx
        .tree
        .with_untracked(|t| {
            let tree = t.as_ref()?;
            let this = tree.node(&node)?;
            let mut out: Vec<(Id, String)> = tree
                .nodes()
                .filter(|n| n.is_folder())
                .filter(|n| !tree.in_trash(n.id()))
                .filter(|n| !tree.is_within(n.id(), &node))
                .filter(|n| Some(*n.id()) != this.view.parent_id)
                .map(|n| {
                    let path: Vec<String> = tree
                        .path(n.id())
                        .into_iter()
                        .map(|p| display_name(tree, p))
                        .collect();
                    (*n.id(), path.join(" / "))
                })
                .collect();
            out.sort_by_cached_key(|(_, path)| path.to_lowercase());
            Some(out)
        })
        .unwrap_or_default();
    let empty = choices.is_empty();
    let chosen = RwSignal::new(
        choices
            .first()
            .map(|(id, _)| id_text(id))
            .unwrap_or_default(),
    );
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let select = NodeRef::<html::Select>::new();
    Effect::new(move |_| {
        if let Some(el) = select.get() {
            request_animation_frame(move || {
                let _ = el.focus();
            });
        }
    });
    let labels = StoredValue::new(choices.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(target) =
            b64::decode(&chosen.get_untracked()).and_then(|b| Id::try_from(b.as_slice()).ok())
        else {
            error.set(Some("Choose a folder.".to_owned()));
            return;
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result: Result<String, String> = async {
                let this = ctx
                    .node(&node)
                    .ok_or_else(|| "This item is gone. Reload the page.".to_owned())?;
                let parent = ctx
                    .node(&target)
                    .ok_or_else(|| "That folder is gone. Reload the page.".to_owned())?;
                let wrapped =
                    wrap_child_key(&parent.key, &node, &target, &this.key).map_err(|_| {
                        "This browser could not re-encrypt the key. Try again.".to_owned()
                    })?;
                move_node(MoveNodeRequest {
                    node_id: node,
                    revision: this.view.revision,
                    new_parent_id: target,
                    wrapped_key: wrapped,
                })
                .await
                .map_err(|e| ctx.explain(&e))?;
                let place = labels
                    .with_value(|l| {
                        l.iter()
                            .find(|(id, _)| *id == target)
                            .map(|(_, p)| p.clone())
                    })
                    .unwrap_or_default();
                Ok(format!("“{}” was moved to {place}.", this.metadata.name))
            }
            .await;
            busy.try_set(false);
            match result {
                Ok(done) => {
                    ctx.reload().await;
                    ctx.close();
                    ctx.status.try_set(Some(done));
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=error/>
            {if empty {
                view! { <p>"There is no other folder to move this to. Create a folder first."</p> }.into_any()
            } else {
                view! {
                    <div class="field">
                        <label for="move-target">"Move to folder"</label>
                        <select id="move-target" node_ref=select
                            on:change=move |ev| chosen.set(event_target_value(&ev))>
                            {choices.iter().map(|(id, path)| view! {
                                <option value=id_text(id)>{path.clone()}</option>
                            }).collect_view()}
                        </select>
                    </div>
                }.into_any()
            }}
            <div class="actions">
                <button type="submit" class="button" disabled=move || busy.get() || empty>
                    {move || if busy.get() { "Working…" } else { "Move" }}
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| ctx.close()>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn VersionsList(ctx: Ctx, node: Id) -> impl IntoView {
    let versions = LocalResource::new(move || list_versions(id_text(&node)));
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<u32>);
    let on_pick = move |ev: leptos::ev::Event| {
        let el: web_sys::HtmlInputElement = event_target(&ev);
        let files = el.files().map(|l| files_of(&l)).unwrap_or_default();
        el.set_value("");
        let Some(file) = files.into_iter().next() else {
            return;
        };
        if let Some(this) = ctx.node(&node) {
            ctx.close();
            ctx.enqueue(vec![file], UploadTarget::NewVersion { node: this });
        }
    };
    let restore = move |version: VersionView| {
        if busy.get_untracked().is_some() {
            return;
        }
        busy.set(Some(version.version));
        error.set(None);
        done.set(None);
        leptos::task::spawn_local(async move {
            let number = version.version;
            let result: Result<String, String> = async {
                let this = ctx
                    .node(&node)
                    .ok_or_else(|| "This file is gone. Reload the page.".to_owned())?;
                // Verify the old version (and learn its exact size) before it
                // becomes current.
                let job = ctx.download_job(&this, Some(version)).await?;
                let exact = exact_size(&job, &Cancel::new())
                    .await
                    .map_err(|e| ctx.transfer_error(&e))?;
                let view = restore_version(VersionRef {
                    node_id: node,
                    version: number,
                })
                .await
                .map_err(|e| ctx.explain(&e))?;
                let mut metadata = open_metadata(&this.key, &node, &view.metadata)
                    .unwrap_or_else(|_| this.metadata.clone());
                if metadata.size != Some(exact) {
                    metadata.size = Some(exact);
                    metadata.modified_at = now_unix();
                    let sealed = seal_metadata(&this.key, &node, &metadata).map_err(|_| {
                        "This browser could not encrypt the details. Try again.".to_owned()
                    })?;
                    update_node(UpdateNodeRequest {
                        node_id: node,
                        revision: view.revision,
                        metadata: sealed,
                    })
                    .await
                    .map_err(|e| ctx.explain(&e))?;
                }
                Ok(format!("Version {number} is the current version again."))
            }
            .await;
            busy.try_set(None);
            match result {
                Ok(message) => {
                    ctx.reload().await;
                    versions.refetch();
                    done.try_set(Some(message));
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
        });
    };
    let current = move || {
        ctx.node(&node)
            .and_then(|n| n.view.current.map(|c| c.version))
    };
    view! {
        <div class="stack versions">
            <ErrorAlert error=error/>
            <StatusNote message=done.into()/>
            <span class="file-button">
                <input id="upload-version" class="file-button__input" type="file" on:change=on_pick/>
                <label for="upload-version" class="button button--secondary">"Upload new version"</label>
            </span>
            <Transition fallback=|| view! { <p class="status status--pending" role="status">"Loading versions…"</p> }>
                {move || versions.get().map(|result| match result {
                    Err(e) => view! { <p class="alert alert--error" role="alert">{ctx.explain(&e)}</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="table">
                                <caption class="visually-hidden">"Versions, newest first"</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Version"</th>
                                        <th scope="col">"Who"</th>
                                        <th scope="col">"When"</th>
                                        <th scope="col"><span class="visually-hidden">"Action"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|v| {
                                        let number = v.version;
                                        let is_current = current() == Some(number);
                                        let v2 = v.clone();
                                        view! {
                                            <tr>
                                                <th scope="row">
                                                    {format!("Version {number}")}
                                                    {is_current.then(|| view! { <span class="badge badge--ok">"Current"</span> })}
                                                </th>
                                                <td>{v.author_name.clone()}</td>
                                                <td>{format_time(v.stored_at)}</td>
                                                <td class="table__actions">
                                                    {(!is_current).then(|| view! {
                                                        <button type="button" class="button button--secondary button--small"
                                                            aria-label=format!("Restore version {number}")
                                                            disabled=move || busy.get().is_some()
                                                            on:click=move |_| restore(v2.clone())>
                                                            {move || if busy.get() == Some(number) { "Working…" } else { "Restore" }}
                                                        </button>
                                                    })}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </Transition>
        </div>
    }
}

/// Turns a verified, decrypted file into what the preview dialog shows: its
/// text, or an object URL the dialog revokes when it closes.
pub async fn preview_of(
    blob: &web_sys::Blob,
    name: String,
    kind: PreviewKind,
) -> Result<Preview, String> {
    if kind == PreviewKind::Text {
        let text = JsFuture::from(blob.text())
            .await
            .ok()
            .and_then(|t| t.as_string())
            .ok_or_else(|| {
                "This browser could not show the text. Download it instead.".to_owned()
            })?;
        return Ok(Preview {
            name,
            kind,
            url: None,
            text: Some(text),
        });
    }
    let url = web_sys::Url::create_object_url_with_blob(blob)
        .map_err(|_| "This browser could not show the file. Download it instead.".to_owned())?;
    Ok(Preview {
        name,
        kind,
        url: Some(url),
        text: None,
    })
}

/// A verified, decrypted file shown in the page.
#[component]
pub fn PreviewView(preview: Preview) -> impl IntoView {
    let name = preview.name.clone();
    match (preview.kind, preview.url, preview.text) {
        (PreviewKind::Image, Some(url), _) => view! {
            <img class="preview preview--image" src=url alt=format!("Preview of {name}")/>
        }
        .into_any(),
        // The Content-Security-Policy frames nothing but blob: URLs, which only
        // this page can make, from plaintext it verified. The URL is revoked
        // when the dialog closes; a tab opened from the link keeps its copy.
        (PreviewKind::Pdf, Some(url), _) => view! {
            <div class="preview preview--pdf">
                <iframe class="preview__frame" src=url.clone() title=format!("PDF preview of {name}")></iframe>
                <p class="field__hint">
                    "Verified and decrypted in this browser. "
                    <a href=url target="_blank" rel="noopener">{format!("Open {name} in a new tab")}</a>
                    " for a larger view; close that tab when you are done."
                </p>
            </div>
        }
        .into_any(),
        (_, _, Some(text)) => view! {
            <pre class="preview preview--text" tabindex="0" aria-label=format!("Text of {name}")>{text}</pre>
        }
        .into_any(),
        _ => view! { <p>"This file cannot be shown here. Download it instead."</p> }.into_any(),
    }
}

// ---------------------------------------------------------------------------
// The trash page.

#[component]
fn Trash(unlocked: Unlocked) -> impl IntoView {
    let ctx = Ctx::new(unlocked);
    let items = move || {
        ctx.tree.with(|t| {
            t.as_ref().map(|tree| {
                tree.trash()
                    .into_iter()
                    .map(|n| {
                        let place = n
                            .view
                            .parent_id
                            .and_then(|p| tree.node(&p))
                            .map(|p| display_name(tree, p))
                            .unwrap_or_default();
                        (n.clone(), place)
                    })
                    .collect::<Vec<_>>()
            })
        })
    };
    view! {
        <div class="stack records">
            <nav aria-label="Folder path" class="breadcrumb">
                <ol>
                    <li><A href="/records">"My record"</A></li>
                    <li><span aria-current="page">"Trash"</span></li>
                </ol>
            </nav>
            <h1 tabindex="-1">"Trash"</h1>
            <p class="muted">"Items in the trash can be restored until you empty it. Emptying it deletes them and all their versions for good."</p>
            <ErrorAlert error=ctx.error/>
            <StatusNote message=ctx.status.into()/>
            {move || ctx.load_error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
            {move || match items() {
                None => view! { <p class="status status--pending" role="status">"Opening your record…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="empty card">"The trash is empty."</p> }.into_any(),
                Some(list) => view! {
                    <div class="actions">
                        <button type="button" id="empty-trash" class="button button--danger"
                            disabled=move || ctx.busy.with(Option::is_some)
                            on:click=move |_| ctx.open(Dialog::EmptyTrash, "empty-trash".into())>
                            "Empty trash"
                        </button>
                    </div>
                    <ul class="items card" aria-label="Items in the trash">
                        {list.into_iter().map(|(node, place)| {
                            let id = *node.id();
                            let name = node.metadata.name.clone();
                            let key = format!("restore-{}", id_text(&id));
                            let key2 = key.clone();
                            let key3 = key.clone();
                            let restore = move |_| {
                                let name = name.clone();
                                ctx.run(key.clone(), async move {
                                    restore_node(NodeTarget { node_id: id })
                                        .await
                                        .map_err(|e| ctx.explain(&e))?;
                                    ctx.reload().await;
                                    focus_later("main h1");
                                    Ok(Some(format!("“{name}” was restored.")))
                                });
                            };
                            let kind = kind_label(&node);
                            let when = node.view.trashed_at.map(format_date).unwrap_or_default();
                            view! {
                                <li class="item">
                                    <span class=format!("item__icon item__icon--{}", kind.to_lowercase()) aria-hidden="true"></span>
                                    <div class="item__main">
                                        <span class="item__name">{node.metadata.name.clone()}</span>
                                        <span class="item__facts">
                                            <span class="item__type">{kind}</span>
                                            <span>{format!("Deleted {when}")}</span>
                                            <span>{format!("From {place}")}</span>
                                        </span>
                                    </div>
                                    <div class="item__actions">
                                        <button type="button" id=key3 class="button button--secondary button--small"
                                            aria-label=format!("Restore {}", node.metadata.name)
                                            disabled=move || ctx.busy.with(Option::is_some)
                                            on:click=restore>
                                            {move || if ctx.is_busy(&key2) { "Working…" } else { "Restore" }}
                                        </button>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            <RecordDialog ctx=ctx folder=Signal::derive(|| None)/>
        </div>
    }
}

#[component]
fn EmptyTrashForm(ctx: Ctx) -> impl IntoView {
    let count = ctx
        .tree
        .with_untracked(|t| t.as_ref().map(|t| t.trash().len()))
        .unwrap_or(0);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let keep = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        if let Some(el) = keep.get() {
            request_animation_frame(move || {
                let _ = el.focus();
            });
        }
    });
    let confirm = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match empty_trash().await {
                Ok(_) => {
                    ctx.reload().await;
                    busy.try_set(false);
                    ctx.close();
                    ctx.status.try_set(Some(
                        "The trash is empty. Those items are deleted for good.".to_owned(),
                    ));
                }
                Err(e) => {
                    busy.try_set(false);
                    error.try_set(Some(ctx.explain(&e)));
                }
            }
        });
    };
    view! {
        <div class="stack">
            <ErrorAlert error=error/>
            <p>
                {match count {
                    1 => "The 1 item in the trash".to_owned(),
                    n => format!("The {n} items in the trash"),
                }}
                " and everything inside them will be deleted for good, with all their versions. This cannot be undone."
            </p>
            <div class="actions">
                <button type="button" class="button button--danger" disabled=move || busy.get() on:click=confirm>
                    {move || if busy.get() { "Deleting…" } else { "Delete for good" }}
                </button>
                <button type="button" class="button button--secondary" node_ref=keep on:click=move |_| ctx.close()>
                    "Keep them"
                </button>
            </div>
        </div>
    }
}
