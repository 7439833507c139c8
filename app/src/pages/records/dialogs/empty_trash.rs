//! Emptying the trash for good, after a clear question.

use leptos::{html, prelude::*};

use super::super::state::Ctx;
use crate::{
    components::{action::use_action, form::ErrorAlert},
    tasks::nodes,
};

#[component]
pub fn EmptyTrashForm(ctx: Ctx) -> impl IntoView {
    let count = ctx
        .tree
        .with_untracked(|t| t.as_ref().map(|t| t.trash().len()))
        .unwrap_or(0);
    let keep = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        if let Some(el) = keep.get() {
            request_animation_frame(move || {
                let _ = el.focus();
            });
        }
    });
    let empty = use_action(move |_: ()| async move {
        let tree = ctx
            .tree
            .get_untracked()
            .ok_or_else(|| "Reload the page and try again.".to_owned())?;
        nodes::empty_trash(&ctx.writer(), &tree).await?;
        ctx.reload().await;
        ctx.close();
        ctx.status().try_set(Some(
            "The trash is empty. Those items are deleted for good.".to_owned(),
        ));
        Ok(None)
    });
    view! {
        <div class="stack">
            <ErrorAlert error=empty.error/>
            <p>
                {match count {
                    1 => "The 1 item in the trash".to_owned(),
                    n => format!("The {n} items in the trash"),
                }}
                " and everything inside them will be deleted for good, with all their versions. This cannot be undone."
            </p>
            <div class="actions">
                <button type="button" class="button button--danger" disabled=move || empty.busy()
                    on:click=move |_| empty.run(())>
                    {move || if empty.busy() { "Deleting…" } else { "Delete for good" }}
                </button>
                <button type="button" class="button button--secondary" node_ref=keep on:click=move |_| ctx.close()>
                    "Keep them"
                </button>
            </div>
        </div>
    }
}
