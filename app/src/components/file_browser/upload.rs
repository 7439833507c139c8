//! Adding files: the file button, the drop zone, and the upload queue with
//! its list of rows (progress, cancel, the outcome of each file).
//!
//! Small new files go in batches (`records/batch`, see [`batch`]); the rest
//! one after another. The tree is fetched again when the queue runs
//! empty, or every few seconds while it runs: a reload after every file made a
//! thousand small files cost a thousand whole-tree fetches, decryptions and
//! re-renders.

use std::{collections::VecDeque, rc::Rc};

use futures::future::LocalBoxFuture;
use leptos::{html, prelude::*};
use shared::api::records::Usage;

mod batch;

use super::{items::files_of, progress_line::ProgressLine};
use crate::{
    platform::clock::now_ms,
    session::Session,
    tasks::{
        progress::Progress,
        transfer::{Cancel, TransferError},
        upload::{check_fits, upload, UploadJob, UploadTarget},
        writer::Writer,
    },
};

/// While uploads run, the folder view catches up at most this often, and at
/// most once per [`RELOAD_SHARE`] times as long as the last catch-up took: a
/// large record takes a while to fetch, check and decrypt, and the rows
/// already say how each file is doing.
const RELOAD_EVERY_MS: f64 = 3000.0;
/// How many times the duration of the last reload must pass before the next.
const RELOAD_SHARE: f64 = 10.0;

/// What the queue needs from the page it serves.
pub struct QueueHooks {
    /// For the sentences of failed uploads.
    pub session: Session,
    /// Who signs the uploads, into whose record.
    pub writer: Writer,
    /// The record's usage now (`None` while it is not open).
    pub usage: Rc<dyn Fn() -> Option<Usage>>,
    /// Fetches the tree again, so the folder shows what was uploaded.
    pub reload: Rc<dyn Fn() -> LocalBoxFuture<'static, ()>>,
    /// Spoken when an upload finishes.
    pub announce: RwSignal<String>,
}

/// One file in the upload list.
#[derive(Clone)]
pub struct UploadRow {
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

/// The page's uploads: the rows shown and the files still to send.
#[derive(Clone, Copy)]
pub struct UploadQueue {
    rows: RwSignal<Vec<UploadRow>>,
    queue: StoredValue<VecDeque<batch::Entry>, LocalStorage>,
    running: StoredValue<bool>,
    /// Estimated JSON bytes a batch may weigh ([`crate::tasks::bulk::FIRST_BATCH_CAP`],
    /// halved after a batch the server found too large).
    batch_cap: StoredValue<u64>,
    next_key: StoredValue<u64>,
    /// The page's owner: rows are made in event handlers, whose current owner
    /// may be a part of the page that a reload redraws (and disposes).
    owner: StoredValue<Option<Owner>, LocalStorage>,
    hooks: StoredValue<QueueHooks, LocalStorage>,
}

impl UploadQueue {
    /// An empty queue, owned by the current (page's) owner.
    pub fn new(hooks: QueueHooks) -> Self {
        UploadQueue {
            rows: RwSignal::new(Vec::new()),
            queue: StoredValue::new_local(VecDeque::new()),
            running: StoredValue::new(false),
            batch_cap: StoredValue::new(crate::tasks::bulk::FIRST_BATCH_CAP),
            next_key: StoredValue::new(0),
            owner: StoredValue::new_local(Owner::current()),
            hooks: StoredValue::new_local(hooks),
        }
    }

    /// Adds files to the upload list; they go one after another. A file too
    /// large or over quota is refused here, before anything is sent.
    pub fn enqueue(&self, files: Vec<web_sys::File>, target: UploadTarget) {
        let usage = self.hooks.with_value(|h| (h.usage)());
        let mut added = Vec::with_capacity(files.len());
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
                    resumed_from: None,
                }),
                state: RwSignal::new(RowState::Waiting),
                cancel: StoredValue::new_local(Cancel::new()),
            };
            let row = match self.owner.get_value() {
                Some(owner) => owner.with(make),
                None => make(),
            };
            if let Some(usage) = usage {
                if let Err(message) = check_fits(&file.name(), file.size() as u64, &usage) {
                    row.state.set(RowState::Failed(message));
                    added.push(row);
                    continue;
                }
            }
            added.push(row);
            self.queue
                .update_value(|q| q.push_back((key, file, target.clone())));
        }
        // One change of the list, however many files: the keyed list adds
        // their rows once.
        self.rows.update(|rows| rows.extend(added));
        if !self.running.get_value() {
            self.running.set_value(true);
            let queue = *self;
            leptos::task::spawn_local(async move { queue.work().await });
        }
    }

    /// Fetches the tree again; answers when the next reload may come.
    async fn reload(self) -> f64 {
        let start = now_ms();
        if let Some(reload) = self.hooks.try_with_value(|h| h.reload.clone()) {
            reload().await;
        }
        let end = now_ms();
        end + RELOAD_EVERY_MS.max((end - start) * RELOAD_SHARE)
    }

    async fn work(self) {
        let mut next_reload = now_ms() + RELOAD_EVERY_MS;
        let mut stale = false;
        let mut sealed: Option<batch::Sealed> = None;
        loop {
            // Small new files at the front go together, the next batch
            // sealed while this one is on the wire.
            let current = match sealed.take() {
                Some(s) => Some(s),
                None => {
                    let group = self.take_batch();
                    if group.0.is_empty() {
                        None
                    } else {
                        Some(self.seal(group).await)
                    }
                }
            };
            if let Some(current) = current {
                let next = self.take_batch();
                let (changed, next_sealed) = self.send_sealing(current, next).await;
                sealed = next_sealed;
                stale |= changed;
                let idle =
                    sealed.is_none() && self.queue.try_with_value(|q| q.is_empty()).unwrap_or(true);
                if stale && (idle || now_ms() > next_reload) {
                    next_reload = self.reload().await;
                    stale = false;
                }
                continue;
            }
            let Some(Some(entry)) = self.queue.try_update_value(|q| q.pop_front()) else {
                if stale {
                    // Then look at the queue again: files may have come meanwhile.
                    next_reload = self.reload().await;
                    stale = false;
                    continue;
                }
                break;
            };
            let Some(row) = self
                .rows
                .try_with_untracked(|rows| rows.iter().find(|r| r.key == entry.0).cloned())
                .flatten()
            else {
                continue;
            };
            if row.cancel.with_value(Cancel::is_cancelled) {
                continue;
            }
            let Some((session, announce)) = self.hooks.try_with_value(|h| (h.session, h.announce))
            else {
                break;
            };
            let result = self.upload_one(&row, entry).await;
            stale |= row.finish(result, session, announce);
            let idle = self.queue.try_with_value(|q| q.is_empty()).unwrap_or(true);
            if stale && (idle || now_ms() > next_reload) {
                next_reload = self.reload().await;
                stale = false;
            }
        }
        self.running.try_set_value(false);
    }

    /// Uploads one file on its own (a large file, a new version, or a file
    /// of a batch the server refused), its progress on its row.
    async fn upload_one(&self, row: &UploadRow, (_, file, target): batch::Entry) -> batch::One {
        let cancel = row.cancel.get_value();
        row.state.try_set(RowState::Running);
        // The tree may have changed since the file was queued.
        let Some(Some((usage, writer))) = self
            .hooks
            .try_with_value(|h| (h.usage)().map(|u| (u, h.writer.clone())))
        else {
            return Err(TransferError::Browser(
                "Your record is not open here any more. Reload the page and try again.".to_owned(),
            ));
        };
        let job = UploadJob {
            target,
            writer,
            usage,
        };
        let progress = row.progress;
        upload(
            &file,
            job,
            move |p| {
                progress.try_set(p);
            },
            &cancel,
        )
        .await
        .map(|_| ())
    }
}

impl UploadRow {
    /// Shows how the upload ended and says it; whether the record changed
    /// (a failure too may have changed the reserved space).
    fn finish(
        &self,
        result: Result<(), TransferError>,
        session: Session,
        announce: RwSignal<String>,
    ) -> bool {
        match result {
            Ok(()) => {
                self.state.try_set(RowState::Done);
                announce.try_set(format!("“{}” uploaded and encrypted.", self.name));
                true
            }
            Err(TransferError::Cancelled) => {
                self.state.try_set(RowState::Cancelled);
                announce.try_set(format!("Upload of “{}” cancelled.", self.name));
                false
            }
            Err(e) => {
                self.state.try_set(RowState::Failed(e.message(&session)));
                announce.try_set(format!("Upload of “{}” failed.", self.name));
                true
            }
        }
    }
}

/// A button that opens the browser's file picker; hands over what was chosen.
#[component]
pub fn UploadButton(
    /// The input's id (the label points at it).
    #[prop(into)]
    id: String,
    /// What the button says.
    #[prop(into)]
    label: String,
    /// The label's classes (it looks like the button).
    class: &'static str,
    /// Whether several files may be chosen at once.
    #[prop(optional)]
    multiple: bool,
    /// Whether a folder is chosen as a whole, with everything in it
    /// (`webkitdirectory`; each file's `webkitRelativePath` says where).
    #[prop(optional)]
    directory: bool,
    /// The input's accessible name, when the label alone is not enough.
    #[prop(optional, into)]
    aria_label: Option<String>,
    /// Disables the input (while its uploads run).
    #[prop(optional, into)]
    disabled: Signal<bool>,
    /// The input, for a drop zone that opens the same picker.
    #[prop(optional)]
    node_ref: NodeRef<html::Input>,
    /// Called with the files chosen.
    on_files: Callback<Vec<web_sys::File>>,
) -> impl IntoView {
    let on_pick = move |ev: leptos::ev::Event| {
        let el: web_sys::HtmlInputElement = event_target(&ev);
        let files = el.files().map(|l| files_of(&l)).unwrap_or_default();
        // The same file can be chosen again later.
        el.set_value("");
        on_files.run(files);
    };
    if directory {
        Effect::new(move || {
            if let Some(el) = node_ref.get() {
                el.set_webkitdirectory(true);
            }
        });
    }
    view! {
        <span class="file-button">
            <input id=id.clone() class="file-button__input" type="file" multiple=multiple
                aria-label=aria_label disabled=disabled node_ref=node_ref on:change=on_pick/>
            <label for=id class=class>{label}</label>
        </span>
    }
}

/// Where files can be dropped; Enter or a click opens the picker of `input`.
#[component]
pub fn DropZone(
    /// The file input whose picker Enter opens.
    input: NodeRef<html::Input>,
    /// Called with the files dropped.
    on_files: Callback<Vec<web_sys::File>>,
) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(list) = ev.data_transfer().and_then(|d| d.files()) {
            on_files.run(files_of(&list));
        }
    };
    let choose = move || {
        if let Some(el) = input.get() {
            el.click();
        }
    };
    view! {
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
    }
}

/// The list of uploads of this page, with a way to clear the finished ones.
#[component]
pub fn UploadList(queue: UploadQueue) -> impl IntoView {
    let rows = queue.rows;
    let visible = move || rows.with(|rows| !rows.is_empty());
    let clear = move |_| {
        rows.update(|rows| {
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
                        each=move || rows.get()
                        key=|row| row.key
                        children=move |row| view! { <UploadItem row=row/> }
                    />
                </ul>
            </section>
        </Show>
    }
}

/// One upload: its name, progress while it runs, then how it ended.
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
