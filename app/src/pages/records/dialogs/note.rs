//! Writing a new note, or a new version of one: saved encrypted as a text file.

use leptos::{html, prelude::*};
use shared::model::Id;

use super::super::state::Ctx;
use crate::{
    components::{action::use_action, form::ErrorAlert},
    tasks::{
        nodes::{note_target, save_note},
        upload::UploadTarget,
    },
};

#[component]
pub fn NoteForm(
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
    let save = use_action(
        move |(name, body, target): (String, String, UploadTarget)| async move {
            let job = ctx.upload_job(target).map_err(|e| ctx.transfer_error(&e))?;
            save_note(&name, &body, job)
                .await
                .map_err(|e| ctx.transfer_error(&e))?;
            ctx.reload().await;
            ctx.close();
            ctx.status().try_set(Some(if editing.is_some() {
                format!("“{name}” saved as a new version.")
            } else {
                format!("Note “{name}” saved.")
            }));
            Ok(None)
        },
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let target = target_of(ctx, editing, folder, &title.get_untracked());
        match target {
            Ok((name, target)) => save.run((name, text.get_untracked(), target)),
            Err(message) => save.error.set(Some(message)),
        }
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=save.error/>
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
                <button type="submit" class="button" disabled=move || save.busy()>
                    {move || if save.busy() { "Saving…" } else if editing.is_some() { "Save new version" } else { "Save note" }}
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| ctx.close()>"Cancel"</button>
            </div>
        </form>
    }
}

/// Where the note goes, and its file name: see [`note_target`].
fn target_of(
    ctx: Ctx,
    editing: Option<Id>,
    folder: Signal<Option<Id>>,
    title: &str,
) -> Result<(String, UploadTarget), String> {
    match editing {
        Some(id) => ctx
            .node(&id)
            .ok_or_else(|| "This note is gone. Reload the page.".to_owned())
            .and_then(|node| note_target(Some(node), None, "")),
        None => {
            let parent = folder.get_untracked().and_then(|f| ctx.node(&f));
            note_target(None, parent, title)
        }
    }
}
