//! `/patients/:grant`: one record a patient shared with this doctor, opened
//! and checked in this browser, with downloads, previews and (under a
//! read-and-write grant) uploads and deletions.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};
use shared::{
    api::{
        records::{self, NodeKind, NodeRevision},
        sharing::{self},
        ErrorCode,
    },
    crypto::Id,
    records::OpenNode,
};

use crate::{
    authors,
    components::{
        dialog::Modal,
        form::{ErrorAlert, StatusNote},
    },
    pages::{
        records::{files_of, preview_of, type_for, Preview, PreviewView, ProgressLine},
        with_keys,
    },
    platform::browser::{focus_later, format_date},
    session::{use_session, Unlocked},
    tasks::sharing::{id_text, open_shared, until_text, Opened, ENDED},
    transfer::{
        self, format_bytes, preview_kind, Cancel, DownloadJob, PreviewKind, Progress, UploadJob,
        UploadTarget, MAX_TEXT_PREVIEW,
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
        if let Some(Preview { url: Some(url), .. }) = preview.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
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
    let until = until_text(opened.expires_at).replace("you remove it", "the patient removes it");
    let lead = if opened.can_write() {
        format!("Shared with you to read and to add to. What you add or change is signed by you, and the patient sees it. {until}.")
    } else {
        format!("Shared with you to read. {until}.")
    };
    let opened = StoredValue::new_local(opened);
    let root = opened.with_value(|o| o.tree.root_id);
    let ctx = SharedCtx {
        opened,
        preview,
        return_to,
        changed,
    };
    view! {
        <h1 id="shared-record-heading" tabindex="-1">{heading}</h1>
        <p class="lead">{lead}</p>
        <p><A href="/patients">"Back to your patients"</A></p>
        <StatusNote message=status.into()/>
        <section class="card" aria-labelledby="shared-files-heading">
            <h2 id="shared-files-heading">"Folders and files"</h2>
            <SharedFolder ctx=ctx folder=root/>
        </section>
    }
}

#[component]
fn SharedFolder(ctx: SharedCtx, folder: Id) -> impl IntoView {
    let (children, node, can_write) = ctx.opened.with_value(|o| {
        let children: Vec<OpenNode> = o
            .tree
            .children(&folder)
            .into_iter()
            .filter(|n| n.view.kind != NodeKind::Entry)
            .cloned()
            .collect();
        (children, o.tree.node(&folder).cloned(), o.can_write())
    });
    let add = node.filter(|_| can_write).map(|parent| {
        let name = parent.metadata.name.clone();
        let record_type = ctx.opened.with_value(|o| type_for(&o.tree, &parent));
        view! {
            <SharedUpload ctx=ctx
                target=UploadTarget::NewFile { parent, record_type }
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
                                {can_write.then(|| view! {
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
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<Progress>);
    let many = matches!(target, UploadTarget::NewFile { .. });
    let target = StoredValue::new_local(target);
    let on_pick = move |ev: leptos::ev::Event| {
        let el: web_sys::HtmlInputElement = event_target(&ev);
        let files = el.files().map(|l| files_of(&l)).unwrap_or_default();
        el.set_value("");
        if files.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let mut added: Vec<String> = Vec::new();
            for file in files {
                let job = ctx.opened.with_value(|o| UploadJob {
                    target: target.get_value(),
                    author_id: o.me,
                    keyring: o.keyring.clone(),
                    usage: o.tree.usage,
                });
                let result =
                    transfer::upload(&file, job, move |p| progress.set(Some(p)), &Cancel::new())
                        .await;
                match result {
                    Ok(_) => added.push(format!("“{}”", file.name())),
                    Err(e) => {
                        error.set(Some(e.message(&session)));
                        break;
                    }
                }
            }
            progress.set(None);
            busy.set(false);
            if !added.is_empty() {
                let patient = ctx.opened.with_value(|o| o.patient.username.clone());
                ctx.changed.run(format!(
                    "Saved {} in {patient}'s record, signed by you.",
                    added.join(", ")
                ));
            }
        });
    };
    let bar_label = format!("Uploading: {describe}");
    view! {
        <div class="shared-upload">
            <span class="file-button">
                <input id=id.clone() class="file-button__input" type="file" multiple=many
                    aria-label=describe disabled=move || busy.get() on:change=on_pick/>
                <label for=id class="button button--secondary button--small">{label}</label>
            </span>
            <Show when=move || progress.with(Option::is_some)>
                <ProgressLine label=bar_label.clone()
                    progress=Signal::derive(move || progress.get().unwrap_or_default())/>
            </Show>
            <ErrorAlert error=error/>
        </div>
    }
}

/// Moving an item to the patient's Trash (read-and-write grants), after a
/// second click; the patient can restore it.
#[component]
fn SharedDelete(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
    let session = use_session();
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let name = node.metadata.name.clone();
    let key = id_text(node.id());
    let (node_id, revision) = (*node.id(), node.view.revision);
    let confirm = {
        let name = name.clone();
        move |_| {
            busy.set(true);
            error.set(None);
            let name = name.clone();
            leptos::task::spawn_local(async move {
                let result = records::trash_node(NodeRevision { node_id, revision }).await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        let patient = ctx.opened.with_value(|o| o.patient.username.clone());
                        ctx.changed.run(format!(
                            "“{name}” is in {patient}'s Trash. The patient can restore it."
                        ));
                    }
                    Err(e) => {
                        asking.set(false);
                        error.set(Some(session.explain(&e)));
                    }
                }
            });
        }
    };
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
                    disabled=move || busy.get() on:click=confirm.clone()>"Move to Trash"</button>
                <button type="button" class="button button--secondary button--small"
                    on:click={
                        let ask_focus = ask_focus.clone();
                        move |_| { asking.set(false); focus_later(&ask_focus); }
                    }>"Keep"</button>
            </Show>
            <ErrorAlert error=error/>
        </div>
    }
}

#[component]
fn SharedFile(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
    let SharedCtx {
        opened,
        preview,
        return_to,
        ..
    } = ctx;
    let session = use_session();
    let can_write = opened.with_value(Opened::can_write);
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
    let record_type = node.metadata.record_type.label();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<Progress>);
    let node = StoredValue::new_local(node);

    let fetch = move || async move {
        let n = node.get_value();
        let version = n
            .view
            .current
            .clone()
            .ok_or_else(|| "This file has no content yet.".to_owned())?;
        let patient = opened.with_value(|o| o.patient.clone());
        let covers =
            move |folder: &Id, inner: &Id| opened.with_value(|o| o.tree.covers(folder, inner));
        let (author_id, author_key) =
            authors::trusted_author(session, &version, &patient, covers).await?;
        let job = DownloadJob {
            node: n.clone(),
            version,
            author_id,
            author_key,
        };
        let cancel = Cancel::new();
        let result = transfer::download(&job, move |p| progress.set(Some(p)), &cancel).await;
        progress.set(None);
        match result {
            Ok(blob) => Ok(blob),
            Err(e) => {
                // A file that stops arriving may mean the access ended meanwhile:
                // say so rather than suspect the file.
                let grant = opened.with_value(|o| id_text(&o.grant_id));
                match sharing::shared_record(grant).await {
                    Err(a) if a.code == ErrorCode::NotFound => Err(ENDED.to_owned()),
                    _ => Err(e.message(&session)),
                }
            }
        }
    };
    let download = {
        let name = name.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let name = name.clone();
            leptos::task::spawn_local(async move {
                let result = async {
                    let blob = fetch().await?;
                    transfer::save_blob(&blob, &name).map_err(|e| e.message(&session))
                }
                .await;
                busy.set(false);
                if let Err(m) = result {
                    error.set(Some(m));
                }
            });
        }
    };
    let show = {
        let name = name.clone();
        let key = key.clone();
        move |_| {
            let Some(kind) = kind else { return };
            if busy.get_untracked() {
                return;
            }
            if kind == PreviewKind::Text
                && node.with_value(|n| n.metadata.size.unwrap_or(0)) > MAX_TEXT_PREVIEW
            {
                return error.set(Some(format!(
                    "“{name}” is too long to preview here. Download it instead."
                )));
            }
            busy.set(true);
            error.set(None);
            let (name, key) = (name.clone(), key.clone());
            leptos::task::spawn_local(async move {
                let result = async {
                    let blob = fetch().await?;
                    let shown = preview_of(&blob, name, kind).await?;
                    Ok::<_, String>(shown)
                }
                .await;
                busy.set(false);
                match result {
                    Ok(p) => {
                        return_to.set(Some(format!("preview-{key}")));
                        preview.set(Some(p));
                    }
                    Err(m) => error.set(Some(m)),
                }
            });
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
                    <span>{date}</span>
                    <span>{size}</span>
                    {written_by.map(|w| view! { <span class="item__author">{w}</span> })}
                </span>
                <Show when=move || progress.with(Option::is_some)>
                    <ProgressLine label=bar_label.clone()
                        progress=Signal::derive(move || progress.get().unwrap_or_default())/>
                </Show>
                <ErrorAlert error=error/>
            </div>
            <div class="item__actions" role="group" aria-label=format!("Actions for {name}")>
                <button type="button" id=format!("download-{key}") class="button button--secondary button--small"
                    disabled=move || busy.get() on:click=download>"Download"</button>
                {kind.map(|_| view! {
                    <button type="button" id=format!("preview-{key}") class="button button--secondary button--small"
                        disabled=move || busy.get() on:click=show.clone()>"Preview"</button>
                })}
            </div>
            {can_write.then(|| view! {
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
