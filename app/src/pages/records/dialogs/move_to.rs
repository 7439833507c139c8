//! Moving an item to another folder.

use leptos::{html, prelude::*};
use shared::{crypto::b64, model::Id};

use super::super::state::Ctx;
use crate::{
    components::{
        action::use_action,
        file_browser::items::{id_text, ROOT_NAME},
        form::ErrorAlert,
    },
    tasks::nodes::{move_choices, move_node},
};

#[component]
pub fn MoveForm(ctx: Ctx, node: Id) -> impl IntoView {
    let choices: Vec<(Id, String)> = ctx
        .tree
        .with_untracked(|t| t.as_ref().map(|tree| move_choices(tree, &node, ROOT_NAME)))
        .unwrap_or_default();
    let empty = choices.is_empty();
    let chosen = RwSignal::new(
        choices
            .first()
            .map(|(id, _)| id_text(id))
            .unwrap_or_default(),
    );
    let select = NodeRef::<html::Select>::new();
    Effect::new(move |_| {
        if let Some(el) = select.get() {
            request_animation_frame(move || {
                let _ = el.focus();
            });
        }
    });
    let labels = StoredValue::new(choices.clone());
    let save = use_action(move |target: Id| async move {
        let this = ctx
            .node(&node)
            .ok_or_else(|| "This item is gone. Reload the page.".to_owned())?;
        let parent = ctx
            .node(&target)
            .ok_or_else(|| "That folder is gone. Reload the page.".to_owned())?;
        move_node(&ctx.writer(), &this, &parent).await?;
        let place = labels
            .with_value(|l| {
                l.iter()
                    .find(|(id, _)| *id == target)
                    .map(|(_, p)| p.clone())
            })
            .unwrap_or_default();
        ctx.reload().await;
        ctx.close();
        ctx.status().try_set(Some(format!(
            "“{}” was moved to {place}.",
            this.metadata.name
        )));
        Ok(None)
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match b64::decode(&chosen.get_untracked()).and_then(|b| Id::try_from(b.as_slice()).ok()) {
            Some(target) => save.run(target),
            None => save.error.set(Some("Choose a folder.".to_owned())),
        }
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=save.error/>
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
                <button type="submit" class="button" disabled=move || save.busy() || empty>
                    {move || if save.busy() { "Working…" } else { "Move" }}
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| ctx.close()>"Cancel"</button>
            </div>
        </form>
    }
}
