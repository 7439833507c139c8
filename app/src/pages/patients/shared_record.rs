//! `/patients/:grant`: one record a patient shared with this doctor, opened
//! and checked in this browser, with downloads, previews and (under a
//! read-and-write grant) uploads and deletions.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};
use shared::{
    api::{
        records::NodeKind,
        sharing::{self},
        ErrorCode,
    },
    model::Id,
    records::{ItemDetails, OpenNode},
};

use super::shared_vitals::SharedVitals;
use crate::{
    components::{
        action::{use_action, UseAction},
        dialog::Modal,
        file_browser::{
            file_row::{Capabilities, ClinicalDate, ItemDescription},
            items::type_for,
            preview::{
                preview_kind, preview_of, Preview, PreviewKind, PreviewView, MAX_TEXT_PREVIEW,
            },
            progress_line::ProgressLine,
            upload::UploadButton,
        },
        form::{ErrorAlert, StatusNote},
        format::format_bytes,
    },
    pages::with_keys,
    platform::{
        blob::save_blob,
        browser::{focus_later, format_date},
    },
    session::{use_session, Unlocked},
    tasks::{
        download::{download, verified_job},
        nodes,
        progress::Progress,
        sharing::{id_text, open_shared, until_text, Opened, ENDED},
        transfer::Cancel,
        upload::{upload, UploadJob, UploadTarget},
    },
};

/// One shared record, opened (needs the keys).
#[component]
pub fn SharedRecordPage() -> impl IntoView {
    with_keys(|u| view! { <SharedRecordView unlocked=u/> })
}

#[component]
fn SharedRecordView(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let grant = move || params.with(|p| p.get("grant").unwrap_or_default());
    let unlocked = StoredValue::new_local(unlocked);
    let opened = LocalResource::new(move || {
        let grant = grant();
        async move { open_shared(session, unlocked.get_value(), grant).await }
    });
    let preview = RwSignal::new_local(None::<Preview>);
    let return_to = RwSignal::new(None::<String>);
    // What the doctor's last change did; kept across the reload it causes.
    let status = RwSignal::new(None::<String>);
    let changed = Callback::new(move |message: String| {
        status.set(Some(message));
        opened.refetch();
    });
    let close = Callback::new(move |_| {
        if let Some(shown) = preview.get_untracked() {
            shown.close();
        }
        preview.set(None);
    });
    view! {
        <div class="stack">
            <Suspense fallback=|| view! {
                <h1 id="shared-record-heading" tabindex="-1">"Shared record"</h1>
                <p class="status status--pending" role="status">"Opening the shared record…"</p>
            }>
                {move || opened.get().map(|result| match result {
                    Err(message) => view! {
                        <h1 id="shared-record-heading" tabindex="-1">"Shared record"</h1>
                        <p class="alert alert--error" role="alert">{message}</p>
                        <p><A href="/patients">"Back to your patients"</A></p>
                    }.into_any(),
                    Ok(o) => view! {
                        {o.first_contact.clone().map(|n| view! { <p class="status" role="status">{n}</p> })}
                        <SharedTree opened=o preview=preview return_to=return_to status=status changed=changed/>
                    }.into_any(),
                })}
            </Suspense>
            <Modal
                open=Signal::derive(move || preview.with(Option::is_some))
                title=Signal::derive(move || preview.with(|p| p.as_ref().map(|p| p.name.clone()).unwrap_or_default()))
                on_close=close
                return_to=return_to.into()
                wide=true
            >
                {move || preview.get().map(|p| view! { <PreviewView preview=p/> })}
            </Modal>
        </div>
    }
}

/// What the parts of a shared record's page share.
#[derive(Clone, Copy)]
struct SharedCtx {
    opened: StoredValue<Opened, LocalStorage>,
    preview: RwSignal<Option<Preview>, LocalStorage>,
    return_to: RwSignal<Option<String>>,
    /// Told what a change did; reloads the record.
    changed: Callback<String>,
    /// What the grant lets the doctor do besides reading: add files and new
    /// versions, and move items to the patient's trash.
    caps: Capabilities,
}

#[component]
fn SharedTree(
    opened: Opened,
    preview: RwSignal<Option<Preview>, LocalStorage>,
    return_to: RwSignal<Option<String>>,
    status: RwSignal<Option<String>>,
    changed: Callback<String>,
) -> impl IntoView {
    let whole = opened
        .tree
        .root()
        .is_some_and(|n| n.view.parent_id.is_none());
    let top = if whole {
        "whole record".to_owned()
    } else {
        opened
            .tree
            .root()
            .map(|n| n.metadata.name.clone())
            .unwrap_or_default()
    };
    let heading = format!("{}: {}", opened.patient.username, top);
    let until =
        until_text(opened.grant.expires_at).replace("you remove it", "the patient removes it");
    let lead = if opened.can_write() {
        format!("Shared with you to read and to add to. What you add or change is signed by you, and the patient sees it. {until}.")
    } else {
        format!("Shared with you to read. {until}.")
    };
    let opened = StoredValue::new_local(opened);
    let root = opened.with_value(|o| o.tree.root_id);
    let write = opened.with_value(Opened::can_write);
    let ctx = SharedCtx {
        opened,
        preview,
        return_to,
        changed,
        caps: Capabilities {
            write,
            delete: write,
            ..Capabilities::default()
        },
    };
    view! {
        <h1 id="shared-record-heading" tabindex="-1">{heading}</h1>
        <p class="lead">{lead}</p>
        <p><A href="/patients">"Back to your patients"</A></p>
        <StatusNote message=status.into()/>
        <SharedVitals opened=opened/>
        <section class="card" aria-labelledby="shared-files-heading">
            <h2 id="shared-files-heading">"Folders and files"</h2>
            <SharedFolder ctx=ctx folder=root/>
        </section>
    }
}

#[component]
fn SharedFolder(ctx: SharedCtx, folder: Id) -> impl IntoView {
    let (children, node) = ctx.opened.with_value(|o| {
        let children: Vec<OpenNode> = o
            .tree
            .children(&folder)
            .into_iter()
            .filter(|n| n.view.kind != NodeKind::Entry)
            .cloned()
            .collect();
        (children, o.tree.node(&folder).cloned())
    });
    let add = node.filter(|_| ctx.caps.write).map(|parent| {
        let name = parent.metadata.name.clone();
        let record_type = ctx.opened.with_value(|o| type_for(&o.tree, &parent));
        view! {
            <SharedUpload ctx=ctx
                target=UploadTarget::NewFile { parent, details: ItemDetails::of_type(record_type) }
                id=format!("add-{}", id_text(&folder))
                label="Add files here".to_owned()
                describe=format!("Add files to {name}")/>
        }
    });
    let list = if children.is_empty() {
        view! { <p class="muted">"Empty."</p> }.into_any()
    } else {
        view! {
            <ul class="items">
                {children.into_iter().map(|node| {
                    if node.is_folder() {
                        let id = *node.id();
                        view! {
                            <li class="item item--folder">
                                <span class="item__icon item__icon--folder" aria-hidden="true"></span>
                                <details class="item__main" open=true>
                                    <summary class="item__name">{node.metadata.name.clone()}</summary>
                                    <SharedFolder ctx=ctx folder=id/>
                                </details>
                                {ctx.caps.delete.then(|| view! {
                                    <div class="item__write"><SharedDelete ctx=ctx node=node.clone()/></div>
                                })}
                            </li>
                        }.into_any()
                    } else {
                        view! { <SharedFile ctx=ctx node=node/> }.into_any()
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! { {add} {list} }
}

/// A doctor's upload (new files into a folder, or a new version of a file)
/// under a read-and-write grant: encrypted and signed here, with progress.
#[component]
fn SharedUpload(
    ctx: SharedCtx,
    target: UploadTarget,
    id: String,
    label: String,
    describe: String,
) -> impl IntoView {
    let session = use_session();
    let progress = RwSignal::new(None::<Progress>);
    let many = matches!(target, UploadTarget::NewFile { .. });
    let target = StoredValue::new_local(target);
    let send = use_action(move |files: Vec<web_sys::File>| async move {
        let mut added: Vec<String> = Vec::new();
        let mut failed = None;
        for file in files {
            let job = ctx.opened.with_value(|o| UploadJob {
                target: target.get_value(),
                writer: o.writer(session),
                usage: o.tree.usage,
            });
            let shown = move |p| {
                progress.try_set(Some(p));
            };
            match upload(&file, job, shown, &Cancel::new()).await {
                Ok(_) => added.push(format!("“{}”", file.name())),
                Err(e) => {
                    failed = Some(e.message(&session));
                    break;
                }
            }
        }
        progress.try_set(None);
        if !added.is_empty() {
            let patient = ctx.opened.with_value(|o| o.patient.username.clone());
            ctx.changed.run(format!(
                "Saved {} in {patient}'s record, signed by you.",
                added.join(", ")
            ));
        }
        failed.map_or(Ok(None), Err)
    });
    let on_files = Callback::new(move |files: Vec<web_sys::File>| {
        if !files.is_empty() {
            send.run(files);
        }
    });
    let bar_label = format!("Uploading: {describe}");
    view! {
        <div class="shared-upload">
            <UploadButton id=id label=label class="button button--secondary button--small"
                multiple=many aria_label=describe disabled=send.busy_signal() on_files=on_files/>
            <Show when=move || progress.with(Option::is_some)>
                <ProgressLine label=bar_label.clone()
                    progress=Signal::derive(move || progress.get().unwrap_or_default())/>
            </Show>
            <ErrorAlert error=send.error/>
        </div>
    }
}

/// Moving an item to the patient's Trash (read-and-write grants), after a
/// second click; the patient can restore it.
#[component]
fn SharedDelete(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
    let session = use_session();
    let asking = RwSignal::new(false);
    let name = node.metadata.name.clone();
    let key = id_text(node.id());
    let stored = StoredValue::new_local(node);
    let remove = use_action(move |name: String| async move {
        let node = stored.get_value();
        let writer = ctx.opened.with_value(|o| o.writer(session));
        if let Err(message) = nodes::trash(&writer, &node).await {
            asking.try_set(false);
            return Err(message);
        }
        let patient = ctx.opened.with_value(|o| o.patient.username.clone());
        ctx.changed.run(format!(
            "“{name}” is in {patient}'s Trash. The patient can restore it."
        ));
        Ok(None)
    });
    let group_label = format!("Delete {name}");
    let question = format!("Move “{name}” to the patient's Trash?");
    let ask_id = format!("delete-{key}");
    let ask_focus = format!("[id='{ask_id}']");
    let confirm_id = format!("confirm-delete-{key}");
    let confirm_focus = format!("[id='{confirm_id}']");
    view! {
        <div class="item__actions" role="group" aria-label=group_label>
            <Show when=move || asking.get() fallback=move || view! {
                <button type="button" id=ask_id.clone() class="button button--secondary button--small"
                    on:click={
                        let confirm_focus = confirm_focus.clone();
                        move |_| { asking.set(true); focus_later(&confirm_focus); }
                    }>"Delete"</button>
            }>
                <span class="confirm-text">{question.clone()}</span>
                <button type="button" id=confirm_id.clone() class="button button--danger button--small"
                    disabled=move || remove.busy() on:click={
                        let name = name.clone();
                        move |_| remove.run(name.clone())
                    }>"Move to Trash"</button>
                <button type="button" class="button button--secondary button--small"
                    on:click={
                        let ask_focus = ask_focus.clone();
                        move |_| { asking.set(false); focus_later(&ask_focus); }
                    }>"Keep"</button>
            </Show>
            <ErrorAlert error=remove.error/>
        </div>
    }
}

/// What a file's button asks for.
#[derive(Clone, Copy, PartialEq)]
enum FileWork {
    Download,
    Preview(PreviewKind),
}

#[component]
fn SharedFile(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
    let opened = ctx.opened;
    let written_by = node.view.current.as_ref().and_then(|v| {
        opened
            .with_value(|o| v.author_id != o.patient.user_id)
            .then(|| format!("Added by {}", v.author_name))
    });
    let delete_node = node.clone();
    let version_target = UploadTarget::NewVersion { node: node.clone() };
    let name = node.metadata.name.clone();
    let key = id_text(node.id());
    let kind = node.metadata.mime.as_deref().and_then(preview_kind);
    let size = format_bytes(node.metadata.size.unwrap_or(0));
    let date = format_date(node.metadata.modified_at);
    let (record_type, meta) = (node.metadata.record_type.label(), node.metadata.clone());
    let progress = RwSignal::new(None::<Progress>);
    let node = StoredValue::new_local(node);

    let work = file_work(ctx, node, progress, name.clone(), key.clone());
    let show = {
        let name = name.clone();
        move |_| {
            let Some(kind) = kind else { return };
            if work.busy_signal().get_untracked() {
                return;
            }
            if kind == PreviewKind::Text
                && node.with_value(|n| n.metadata.size.unwrap_or(0)) > MAX_TEXT_PREVIEW
            {
                return work.error.set(Some(format!(
                    "“{name}” is too long to preview here. Download it instead."
                )));
            }
            work.run(FileWork::Preview(kind));
        }
    };
    let bar_label = format!("Downloading {name}");
    view! {
        <li class="item">
            <span class="item__icon item__icon--file" aria-hidden="true"></span>
            <div class="item__main">
                <span class="item__name">{name.clone()}</span>
                <span class="item__facts">
                    <span class="item__type">{record_type}</span>
                    <ClinicalDate meta=meta.clone()/>
                    <span>{date}</span>
                    <span>{size}</span>
                    {written_by.map(|w| view! { <span class="item__author">{w}</span> })}
                </span>
                <ItemDescription meta=meta/>
                <Show when=move || progress.with(Option::is_some)>
                    <ProgressLine label=bar_label.clone()
                        progress=Signal::derive(move || progress.get().unwrap_or_default())/>
                </Show>
                <ErrorAlert error=work.error/>
            </div>
            <div class="item__actions" role="group" aria-label=format!("Actions for {name}")>
                <button type="button" id=format!("download-{key}") class="button button--secondary button--small"
                    disabled=move || work.busy() on:click=move |_| work.run(FileWork::Download)>"Download"</button>
                {kind.map(|_| view! {
                    <button type="button" id=format!("preview-{key}") class="button button--secondary button--small"
                        disabled=move || work.busy() on:click=show.clone()>"Preview"</button>
                })}
            </div>
            {ctx.caps.write.then(|| view! {
                <div class="item__write">
                    <SharedUpload ctx=ctx target=version_target
                        id=format!("version-{key}") label="Upload new version".to_owned()
                        describe=format!("Upload a new version of {name}")/>
                    <SharedDelete ctx=ctx node=delete_node/>
                </div>
            })}
        </li>
    }
}

/// The download and the preview of one file: the author verified, the file
/// downloaded and verified, then saved or shown.
fn file_work(
    ctx: SharedCtx,
    node: StoredValue<OpenNode, LocalStorage>,
    progress: RwSignal<Option<Progress>>,
    name: String,
    key: String,
) -> UseAction<FileWork> {
    let SharedCtx {
        opened,
        preview,
        return_to,
        ..
    } = ctx;
    let session = use_session();
    // Verifies the author, then downloads and verifies the file.
    let fetch = move || async move {
        let n = node.get_value();
        let patient = opened.with_value(|o| o.patient.clone());
        let covers =
            move |folder: &Id, inner: &Id| opened.with_value(|o| o.tree.covers(folder, inner));
        let job = verified_job(session, &n, None, &patient, covers).await?;
        let result = download(
            &job,
            move |p| {
                progress.try_set(Some(p));
            },
            &Cancel::new(),
        )
        .await;
        progress.try_set(None);
        match result {
            Ok(blob) => Ok(blob),
            Err(e) => {
                // A file that stops arriving may mean the access ended meanwhile:
                // say so rather than suspect the file.
                let grant = opened.with_value(|o| id_text(&o.grant.grant_id));
                match sharing::shared_record(grant).await {
                    Err(a) if a.code == ErrorCode::NotFound => Err(ENDED.to_owned()),
                    _ => Err(e.message(&session)),
                }
            }
        }
    };
    {
        use_action(move |work: FileWork| {
            let (name, key) = (name.clone(), key.clone());
            async move {
                let blob = fetch().await?;
                match work {
                    FileWork::Download => save_blob(&blob, &name)?,
                    FileWork::Preview(kind) => {
                        let shown = preview_of(&blob, name, kind).await?;
                        return_to.set(Some(format!("preview-{key}")));
                        preview.set(Some(shown));
                    }
                }
                Ok(None)
            }
        })
    }
}
