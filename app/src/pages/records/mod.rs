//! `/records`: the patient's folders and files; `/records/trash`: what was
//! deleted, until the trash is emptied.
//!
//! Everything shown here was decrypted in this tab: the tree comes from
//! [`crate::tasks::record::RecordStore`], file content goes through
//! [`crate::tasks::upload`] and [`crate::tasks::download`], and every other
//! change through [`crate::tasks::nodes`]. The current folder is in the
//! address (`?folder=`), so the browser's back button and the breadcrumb work
//! as links do.

mod dialogs;
mod folder_view;
mod state;
mod trash;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::{crypto::b64, model::Id, records::RecordType};

use crate::{
    components::{export_button::ExportButton, file_browser::items::type_for},
    pages::with_keys,
    platform::browser::focus_later,
    session::Unlocked,
    tasks::record::use_record_store,
};
use dialogs::RecordDialog;
use folder_view::FolderView;
use state::Ctx;

pub use trash::TrashPage;

/// `/records` (needs the keys).
#[component]
pub fn RecordsPage() -> impl IntoView {
    with_keys(|u| view! { <Records unlocked=u/> })
}

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
    reset_details_per_folder(ctx, folder);
    // Moving between folders changes only the query: move focus to the heading.
    Effect::new(move |first: Option<()>| {
        let _ = folder_param.get();
        if first.is_some() {
            ctx.status().set(None);
            ctx.error().set(None);
            focus_later("main h1");
        }
    });

    view! {
        <div class="stack records">
            <LateNotice/>
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
            <p class="muted">"This browser checks that your record is the newest one you have seen, signed by you. \
                On a new device, or after clearing this browser's data, it cannot tell an older copy from the newest."</p>
        </div>
    }
}

/// What the owner reads when opening the record moved a doctor's late change
/// to the Trash (`crate::tasks::record`).
#[component]
fn LateNotice() -> impl IntoView {
    let notice = use_record_store().notice();
    move || {
        notice
            .get()
            .map(|text| view! { <p class="status" role="status">{text}</p> })
    }
}

/// In another folder, the details for new files start again from its type.
fn reset_details_per_folder(ctx: Ctx, folder: Memo<Option<Id>>) {
    Effect::new(move |shown: Option<Option<Id>>| {
        let now = folder.get();
        let before = shown.flatten();
        if let Some(id) = now.filter(|id| before != Some(*id)) {
            let record_type = ctx.tree.with_untracked(|t| {
                t.as_ref()
                    .and_then(|tree| tree.node(&id).map(|f| type_for(tree, f)))
            });
            let details = ctx.upload_details;
            details
                .record_type
                .set(record_type.unwrap_or(RecordType::Other));
            details.date.set(String::new());
            details.description.set(String::new());
        }
        now.or(before)
    });
}
