//! Naming a new folder, or renaming an item.

use leptos::{html, prelude::*};
use shared::model::Id;

use super::super::state::Ctx;
use crate::{
    components::{
        action::use_action,
        file_browser::items::type_for,
        form::{focus_and_select, ErrorAlert},
    },
    tasks::nodes,
};

/// Whether the name is for a new folder or an item's new name.
#[derive(Clone, Copy, PartialEq)]
pub enum NameMode {
    NewFolder,
    Rename(Id),
}

#[component]
pub fn NameForm(ctx: Ctx, folder: Signal<Option<Id>>, mode: NameMode) -> impl IntoView {
    let initial = match mode {
        NameMode::Rename(id) => ctx.node(&id).map(|n| n.metadata.name).unwrap_or_default(),
        NameMode::NewFolder => String::new(),
    };
    let name = RwSignal::new(initial);
    let input = NodeRef::<html::Input>::new();
    focus_and_select(input);
    let save = use_action(move |text: String| async move {
        let done = match mode {
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
                nodes::create_folder(&ctx.writer(), &parent, record_type, &text).await?
            }
            NameMode::Rename(id) => {
                let node = ctx
                    .node(&id)
                    .ok_or_else(|| "This item is gone. Reload the page.".to_owned())?;
                nodes::rename(&ctx.writer(), &node, &text).await?
            }
        };
        ctx.reload().await;
        ctx.close();
        ctx.status().try_set(Some(done));
        Ok(None)
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run(name.get_untracked().trim().to_owned());
    };
    let (label, button) = match mode {
        NameMode::NewFolder => ("Folder name", "Create folder"),
        NameMode::Rename(_) => ("New name", "Rename"),
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=save.error/>
            <div class="field">
                <label for="item-name">{label}</label>
                <input id="item-name" type="text" autocomplete="off" node_ref=input bind:value=name
                    maxlength="400" required/>
            </div>
            <div class="actions">
                <button type="submit" class="button" disabled=move || save.busy()>
                    {move || if save.busy() { "Working…" } else { button }}
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| ctx.close()>"Cancel"</button>
            </div>
        </form>
    }
}
