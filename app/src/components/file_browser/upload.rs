//! Adding files: the file button, the drop zone, and the upload queue with
//! its list of rows (progress, cancel, the outcome of each file).
//!
//! Files go one after another. The tree is fetched again when the queue runs
//! empty, or every few seconds while it runs: a reload after every file made a
//! thousand small files cost a thousand whole-tree fetches, decryptions and
//! re-renders.

use std::{collections::VecDeque, rc::Rc};

use futures::future::LocalBoxFuture;
use leptos::{html, prelude::*};
use shared::api::records::Usage;

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

/// While uploads run, the folder view catches up at most this often.
const RELOAD_EVERY_MS: f64 = 3000.0;

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
    queue: StoredValue<VecDeque<(u64, web_sys::File, UploadTarget)>, LocalStorage>,
    running: StoredValue<bool>,
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
            next_key: StoredValue::new(0),
            owner: StoredValue::new_local(Owner::current()),
            hooks: StoredValue::new_local(hooks),
        }
    }

    /// Adds files to the upload list; they go one after another. A file too
    /// large or over quota is refused here, before anything is sent.
    pub fn enqueue(&self, files: Vec<web_sys::File>, target: UploadTarget) {
        let usage = self.hooks.with_value(|h| (h.usage)());
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
                    self.rows.update(|rows| rows.push(row));
                    continue;
                }
            }
            self.rows.update(|rows| rows.push(row));
            self.queue
                .update_value(|q| q.push_back((key, file, target.clone())));
        }
        if !self.running.get_value() {
            self.running.set_value(true);
            let queue = *self;
            leptos::task::spawn_local(async move { queue.work().await });
        }
    }

    async fn reload(self) {
        if let Some(reload) = self.hooks.try_with_value(|h| h.reload.clone()) {
            reload().await;
        }
    }

    async fn work(self) {
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
                .rows
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
            let Some(Some((usage, writer, session, announce))) = self.hooks.try_with_value(|h| {
                (h.usage)().map(|u| (u, h.writer.clone(), h.session, h.announce))
            }) else {
                break;
            };
            let job = UploadJob {
                target,
                writer,
                usage,
            };
            let progress = row.progress;
            let result = upload(
                &file,
                job,
                move |p| {
                    progress.try_set(p);
                },
                &cancel,
            )
            .await;
            stale |= row.finish(result.map(|_| ()), session, announce);
            let idle = self.queue.try_with_value(|q| q.is_empty()).unwrap_or(true);
            if stale && (idle || now_ms() - last_reload > RELOAD_EVERY_MS) {
                self.reload().await;
                last_reload = now_ms();
                stale = false;
            }
        }
        self.running.try_set_value(false);
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
