//! A doctor organising a shared folder under a read-and-write grant: a new
//! folder, a new name, or a new place for an item, always inside the shared
//! folder (the only folders this browser holds keys for, and the only ones
//! the patient's browser accepts a doctor's change in). Each change is
//! sealed and signed here by the doctor (`tasks::nodes`).

use leptos::{html, prelude::*};
use shared::{model::Id, records::OpenNode};

use super::shared_record::SharedCtx;
use crate::{
    components::{
        action::use_action,
        dialog::Modal,
        file_browser::items::type_for,
        form::{focus_and_select, ErrorAlert},
    },
    session::use_session,
    tasks::{nodes, sharing::id_text},
};

/// What the organising dialog is open for.
#[derive(Clone)]
pub enum Organise {
    /// A new folder in this one.
    NewFolder(OpenNode),
    /// A new name for this item.
    Rename(OpenNode),
    /// A new folder for this item.
    Move(OpenNode),
}

impl Organise {
    fn title(&self) -> String {
        match self {
            Organise::NewFolder(p) => format!("New folder in {}", p.metadata.name),
            Organise::Rename(n) => format!("Rename {}", n.metadata.name),
            Organise::Move(n) => format!("Move {}", n.metadata.name),
        }
    }
}

/// The dialog, open while `ctx.organise` holds a task.
#[component]
pub(super) fn OrganiseDialog(ctx: SharedCtx) -> impl IntoView {
    let close = Callback::new(move |_| ctx.organise.set(None));
    view! {
        <Modal
            open=Signal::derive(move || ctx.organise.with(Option::is_some))
            title=Signal::derive(move || ctx.organise.with(|o| o.as_ref().map(Organise::title).unwrap_or_default()))
            on_close=close
            return_to=ctx.return_to.into()
            wide=false
        >
            {move || ctx.organise.get().map(|work| match work {
                Organise::Move(node) => view! { <MoveForm ctx=ctx node=node/> }.into_any(),
                other => view! { <NameForm ctx=ctx work=other/> }.into_any(),
            })}
        </Modal>
    }
}

/// Runs a doctor's change and, once stored, closes the dialog and reloads
/// the record with the sentence of what was done.
fn signed_change<F, Fut>(ctx: SharedCtx, change: F) -> crate::components::action::UseAction<String>
where
    F: Fn(crate::tasks::writer::Writer, String) -> Fut + Copy + 'static,
    Fut: std::future::Future<Output = Result<String, String>> + 'static,
{
    let session = use_session();
    use_action(move |input: String| async move {
        let writer = ctx.opened.with_value(|o| o.writer(session));
        let done = change(writer, input).await?;
        ctx.organise.set(None);
        ctx.changed
            .run(format!("{done} Signed by you; the patient sees it."));
        Ok(None)
    })
}

/// A name: for a new folder, or an item's new name.
#[component]
fn NameForm(ctx: SharedCtx, work: Organise) -> impl IntoView {
    let (initial, button) = match &work {
        Organise::Rename(n) => (n.metadata.name.clone(), "Rename"),
        _ => (String::new(), "Create folder"),
    };
    let name = RwSignal::new(initial);
    let input = NodeRef::<html::Input>::new();
    focus_and_select(input);
    let work = StoredValue::new_local(work);
    let save = signed_change(ctx, move |writer, text| async move {
        match work.get_value() {
            Organise::NewFolder(parent) => {
                let record_type = ctx.opened.with_value(|o| type_for(&o.tree, &parent));
                nodes::create_folder(&writer, &parent, record_type, &text).await
            }
            Organise::Rename(node) | Organise::Move(node) => {
                nodes::rename(&writer, &node, &text).await
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run(name.get_untracked().trim().to_owned());
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=save.error/>
            <div class="field">
                <label for="shared-item-name">{if button == "Rename" { "New name" } else { "Folder name" }}</label>
                <input id="shared-item-name" type="text" autocomplete="off" node_ref=input
                    bind:value=name maxlength="400" required/>
            </div>
            <FormButtons ctx=ctx busy=save.busy_signal() label=button/>
        </form>
    }
}

/// A new place for an item: any folder of the shared part but the item's
/// own, itself and what is inside it.
#[component]
fn MoveForm(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
    let choices: Vec<(Id, String)> = ctx.opened.with_value(|o| {
        let top = o
            .tree
            .root()
            .map(|r| r.metadata.name.clone())
            .unwrap_or_default();
        nodes::move_choices(&o.tree, node.id(), &top)
    });
    let chosen = RwSignal::new(
        choices
            .first()
            .map(|(id, _)| id_text(id))
            .unwrap_or_default(),
    );
    let labels = StoredValue::new(choices.clone());
    let node = StoredValue::new_local(node);
    let save = signed_change(ctx, move |writer, target: String| async move {
        let (this, place) = (node.get_value(), labels.get_value());
        let (id, path) = place
            .iter()
            .find(|(id, _)| id_text(id) == target)
            .cloned()
            .ok_or_else(|| "Choose a folder to move it to.".to_owned())?;
        let parent = ctx
            .opened
            .with_value(|o| o.tree.node(&id).cloned())
            .ok_or_else(|| "That folder is gone. Reload the page.".to_owned())?;
        nodes::move_node(&writer, &this, &parent).await?;
        Ok(format!("“{}” was moved to {path}.", this.metadata.name))
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run(chosen.get_untracked());
    };
    let empty = choices.is_empty();
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=save.error/>
            {if empty {
                view! { <p>"There is no other folder in the shared part to move it to. Create one first."</p> }.into_any()
            } else {
                view! {
                    <div class="field">
                        <label for="shared-move-target">"Move to"</label>
                        <select id="shared-move-target" bind:value=chosen>
                            {choices.into_iter().map(|(id, path)| view! {
                                <option value=id_text(&id)>{path}</option>
                            }).collect_view()}
                        </select>
                    </div>
                }.into_any()
            }}
            <FormButtons ctx=ctx busy=save.busy_signal() label="Move"/>
        </form>
    }
}

/// Submit (with "Working…" while busy) and Cancel.
#[component]
fn FormButtons(ctx: SharedCtx, busy: Signal<bool>, label: &'static str) -> impl IntoView {
    view! {
        <div class="actions">
            <button type="submit" class="button" disabled=move || busy.get()>
                {move || if busy.get() { "Working…" } else { label }}
            </button>
            <button type="button" class="button button--secondary"
                on:click=move |_| ctx.organise.set(None)>"Cancel"</button>
        </div>
    }
}
