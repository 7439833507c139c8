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

use super::{
    organise::{Organise, OrganiseDialog},
    shared_health::SharedHealth,
    shared_vitals::SharedVitals,
    write::{ItemTools, NewFolderButton, SharedUpload},
};
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
        },
        form::{ErrorAlert, StatusNote},
        format::format_bytes,
    },
    pages::with_keys,
    platform::{blob::save_blob, browser::format_date},
    session::{use_session, Unlocked},
    tasks::{
        download::{download, verified_job},
        profile::ProfileShown,
        progress::Progress,
        sharing::{id_text, open_shared, until_text, Opened, ENDED},
        transfer::Cancel,
        upload::UploadTarget,
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
pub(super) struct SharedCtx {
    pub opened: StoredValue<Opened, LocalStorage>,
    pub preview: RwSignal<Option<Preview>, LocalStorage>,
    /// The control a dialog gives the focus back to.
    pub return_to: RwSignal<Option<String>>,
    /// Told what a change did; reloads the record.
    pub changed: Callback<String>,
    /// What the grant lets the doctor do besides reading: add files, new
    /// versions and folders, rename and move items, and move them to the
    /// patient's trash.
    pub caps: Capabilities,
    /// The organising dialog's task, while it is open.
    pub organise: RwSignal<Option<Organise>, LocalStorage>,
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
    let profile = match &opened.profile {
        ProfileShown::Given(_) => opened.profile.line().map(|line| {
            view! { <p class="patient-line">"Patient: " <strong>{line}</strong></p> }.into_any()
        }),
        ProfileShown::Refused(why) => {
            Some(view! { <p class="alert alert--error" role="alert">{*why}</p> }.into_any())
        }
        ProfileShown::None => None,
    };
    // A share of one file opens that file alone.
    let top_file = opened
        .tree
        .root()
        .filter(|n| n.view.kind == NodeKind::File)
        .cloned();
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
        organise: RwSignal::new_local(None),
    };
    view! {
        <h1 id="shared-record-heading" tabindex="-1">{heading}</h1>
        {profile}
        <p class="lead">{lead}</p>
        <p><A href="/patients">"Back to your patients"</A></p>
        <StatusNote message=status.into()/>
        <SharedHealth opened=opened changed=changed/>
        <SharedVitals opened=opened changed=changed/>
        <SharedItems ctx=ctx top_file=top_file folder=root/>
        {write.then(|| view! { <OrganiseDialog ctx=ctx/> })}
    }
}

/// What the share holds: one file, or a folder and everything under it.
#[component]
fn SharedItems(ctx: SharedCtx, top_file: Option<OpenNode>, folder: Id) -> impl IntoView {
    match top_file {
        Some(file) => view! {
            <section class="card" aria-labelledby="shared-files-heading">
                <h2 id="shared-files-heading">"Shared file"</h2>
                <ul class="items"><SharedFile ctx=ctx node=file top=true/></ul>
            </section>
        }
        .into_any(),
        None => view! {
            <section class="card" aria-labelledby="shared-files-heading">
                <h2 id="shared-files-heading">"Folders and files"</h2>
                <SharedFolder ctx=ctx folder=folder/>
            </section>
        }
        .into_any(),
    }
}

/// A folder's contents, with (under a write grant) one row of what can be
/// done there: add files, a new folder and, for a folder inside the shared
/// one (`nested`), rename, move and delete it.
#[component]
fn SharedFolder(ctx: SharedCtx, folder: Id, #[prop(optional)] nested: bool) -> impl IntoView {
    let (children, node, readings) = ctx.opened.with_value(|o| {
        let (entries, children): (Vec<OpenNode>, Vec<OpenNode>) = o
            .tree
            .children(&folder)
            .into_iter()
            .cloned()
            .partition(|n| n.view.kind == NodeKind::Entry);
        // What the entries are: summary items, else vital readings.
        let readings = match entries.first() {
            None => None,
            Some(e) if e.metadata.health.is_some() => {
                Some("Health summary items only: they are listed under Health summary above.")
            }
            Some(_) => Some("Vital-sign readings only: they are listed under Vital signs above."),
        };
        (children, o.tree.node(&folder).cloned(), readings)
    });
    let add = node.filter(|_| ctx.caps.write).map(|parent| {
        let name = parent.metadata.name.clone();
        let record_type = ctx.opened.with_value(|o| type_for(&o.tree, &parent));
        view! {
            <div class="shared-folder-tools">
                <SharedUpload ctx=ctx
                    target=UploadTarget::NewFile { parent: parent.clone(), details: ItemDetails::of_type(record_type) }
                    id=format!("add-{}", id_text(&folder))
                    label="Add files here".to_owned()
                    describe=format!("Add files to {name}")/>
                <NewFolderButton ctx=ctx parent=parent.clone()/>
                {nested.then(|| view! { <ItemTools ctx=ctx node=parent/> })}
            </div>
        }
    });
    let list = if children.is_empty() {
        let empty = readings.unwrap_or("Empty.");
        view! { <p class="muted">{empty}</p> }.into_any()
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
                                    <SharedFolder ctx=ctx folder=id nested=true/>
                                </details>
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

/// What a file's button asks for.
#[derive(Clone, Copy, PartialEq)]
enum FileWork {
    Download,
    Preview(PreviewKind),
}

/// One file, with download and preview, and under a write grant a new
/// version; `top` (the share is of this file alone) leaves out renaming,
/// moving and deleting it, which its share does not allow.
#[component]
fn SharedFile(ctx: SharedCtx, node: OpenNode, #[prop(optional)] top: bool) -> impl IntoView {
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
                    {(!top).then(|| view! { <ItemTools ctx=ctx node=delete_node/> })}
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
