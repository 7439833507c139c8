//! `/records/trash`: what was deleted, with where it came from, until the
//! trash is emptied.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::records::OpenNode;

use super::{
    dialogs::RecordDialog,
    state::{Ctx, Dialog},
};
use crate::{
    components::{
        file_browser::items::{display_name, id_text, kind_label},
        form::{ErrorAlert, StatusNote},
    },
    pages::with_keys,
    platform::browser::{focus_later, format_date},
    session::Unlocked,
    tasks::nodes,
};

/// `/records/trash` (needs the keys).
#[component]
pub fn TrashPage() -> impl IntoView {
    with_keys(|u| view! { <Trash unlocked=u/> })
}

#[component]
fn Trash(unlocked: Unlocked) -> impl IntoView {
    let ctx = Ctx::new(unlocked);
    let items = move || {
        ctx.tree.with(|t| {
            t.as_ref().map(|tree| {
                tree.trash()
                    .into_iter()
                    .map(|n| {
                        let place = n
                            .view
                            .parent_id
                            .and_then(|p| tree.node(&p))
                            .map(|p| display_name(tree, p))
                            .unwrap_or_default();
                        (n.clone(), place)
                    })
                    .collect::<Vec<_>>()
            })
        })
    };
    let any_busy = ctx.row.busy_signal();
    view! {
        <div class="stack records">
            <nav aria-label="Folder path" class="breadcrumb">
                <ol>
                    <li><A href="/records">"My record"</A></li>
                    <li><span aria-current="page">"Trash"</span></li>
                </ol>
            </nav>
            <h1 tabindex="-1">"Trash"</h1>
            <p class="muted">"Items in the trash can be restored until you empty it. Emptying it deletes them and all their versions for good."</p>
            <ErrorAlert error=ctx.error()/>
            <StatusNote message=ctx.status().into()/>
            {move || ctx.load_error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
            {move || match items() {
                None => view! { <p class="status status--pending" role="status">"Opening your record…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! { <p class="empty card">"The trash is empty."</p> }.into_any(),
                Some(list) => view! {
                    <div class="actions">
                        <button type="button" id="empty-trash" class="button button--danger"
                            disabled=move || any_busy.get()
                            on:click=move |_| ctx.open(Dialog::EmptyTrash, "empty-trash".into())>
                            "Empty trash"
                        </button>
                    </div>
                    <ul class="items card" aria-label="Items in the trash">
                        {list.into_iter().map(|(node, place)| view! {
                            <TrashRow ctx=ctx node=node place=place/>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            <RecordDialog ctx=ctx folder=Signal::derive(|| None)/>
        </div>
    }
}

/// One deleted item: when, from where, and a way back.
#[component]
fn TrashRow(ctx: Ctx, node: OpenNode, place: String) -> impl IntoView {
    let id = *node.id();
    let name = node.metadata.name.clone();
    let key = format!("restore-{}", id_text(&id));
    let restore = {
        let key = key.clone();
        let name = name.clone();
        move |_| {
            let name = name.clone();
            ctx.run(key.clone(), async move {
                let node = ctx
                    .node(&id)
                    .ok_or_else(|| "Reload the page and try again.".to_owned())?;
                nodes::restore(&ctx.writer(), &node).await?;
                ctx.reload().await;
                focus_later("main h1");
                Ok(Some(format!("“{name}” was restored.")))
            });
        }
    };
    let busy = ctx.busy();
    let working = {
        let key = key.clone();
        move || {
            if busy.is.run(key.clone()) {
                "Working…"
            } else {
                "Restore"
            }
        }
    };
    let kind = kind_label(&node);
    let when = node.view.trashed_at.map(format_date).unwrap_or_default();
    view! {
        <li class="item">
            <span class=format!("item__icon item__icon--{}", kind.to_lowercase()) aria-hidden="true"></span>
            <div class="item__main">
                <span class="item__name">{name.clone()}</span>
                <span class="item__facts">
                    <span class="item__type">{kind}</span>
                    <span>{format!("Deleted {when}")}</span>
                    <span>{format!("From {place}")}</span>
                </span>
            </div>
            <div class="item__actions">
                <button type="button" id=key class="button button--secondary button--small"
                    aria-label=format!("Restore {name}")
                    disabled=move || busy.any.get()
                    on:click=restore>
                    {working}
                </button>
            </div>
        </li>
    }
}
