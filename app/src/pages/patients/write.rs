//! What a doctor changes in a shared record under a read-and-write grant:
//! files added (new ones, new versions) with progress, items moved to the
//! patient's Trash, and the buttons that open the organising dialog
//! ([`super::organise`]) for a new folder, a new name or a new place. Every
//! change is encrypted and signed in this browser as the doctor's.

use leptos::prelude::*;
use shared::records::OpenNode;

use super::{organise::Organise, shared_record::SharedCtx};
use crate::{
    components::{
        action::use_action,
        file_browser::{progress_line::ProgressLine, upload::UploadButton},
        form::ErrorAlert,
    },
    platform::browser::focus_later,
    session::use_session,
    tasks::{
        nodes,
        progress::Progress,
        sharing::id_text,
        transfer::Cancel,
        upload::{upload, UploadJob, UploadTarget},
    },
};

/// "Rename" and "Move" for an item inside the shared folder, then Delete.
#[component]
pub(super) fn ItemTools(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
    let name = node.metadata.name.clone();
    let key = id_text(node.id());
    let (rename_id, move_id) = (format!("rename-{key}"), format!("move-{key}"));
    let open = move |work: Organise, from: String| {
        ctx.return_to.set(Some(from));
        ctx.organise.set(Some(work));
    };
    let (for_rename, for_move) = (node.clone(), node.clone());
    view! {
        <div class="item__actions" role="group" aria-label=format!("Organise {name}")>
            <button type="button" id=rename_id.clone() class="button button--secondary button--small"
                on:click=move |_| open(Organise::Rename(for_rename.clone()), rename_id.clone())>"Rename"</button>
            <button type="button" id=move_id.clone() class="button button--secondary button--small"
                on:click=move |_| open(Organise::Move(for_move.clone()), move_id.clone())>"Move"</button>
        </div>
        <SharedDelete ctx=ctx node=node/>
    }
}

/// "New folder" in a folder of the shared part.
#[component]
pub(super) fn NewFolderButton(ctx: SharedCtx, parent: OpenNode) -> impl IntoView {
    let id = format!("new-folder-{}", id_text(parent.id()));
    let describe = format!("New folder in {}", parent.metadata.name);
    view! {
        <button type="button" id=id.clone() class="button button--secondary button--small"
            aria-label=describe on:click=move |_| {
                ctx.return_to.set(Some(id.clone()));
                ctx.organise.set(Some(Organise::NewFolder(parent.clone())));
            }>"New folder"</button>
    }
}

/// A doctor's upload (new files into a folder, or a new version of a file)
/// under a read-and-write grant: encrypted and signed here, with progress.
#[component]
pub(super) fn SharedUpload(
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
pub(super) fn SharedDelete(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
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
