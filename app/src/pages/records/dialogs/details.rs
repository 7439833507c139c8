//! An item's details: type, clinical date and description, sealed again
//! with its metadata when saved.

use leptos::prelude::*;
use shared::{
    model::Id,
    records::{ItemDetails, RecordType},
};

use super::super::state::Ctx;
use crate::{
    components::{
        action::use_action,
        details_fields::{DetailsFields, DetailsInput},
        form::ErrorAlert,
    },
    tasks::nodes,
};

#[component]
pub fn DetailsForm(ctx: Ctx, node: Id) -> impl IntoView {
    let current = ctx.node(&node).map_or_else(
        || ItemDetails::of_type(RecordType::Other),
        |n| ItemDetails::of(&n.metadata),
    );
    let input = DetailsInput::new(&current);
    let save = use_action(move |(): ()| async move {
        let details = input.read()?;
        let item = ctx
            .node(&node)
            .ok_or_else(|| "This item is gone. Reload the page.".to_owned())?;
        let done = nodes::set_details(&ctx.writer(), &item, &details).await?;
        ctx.reload().await;
        ctx.close();
        ctx.status().try_set(Some(done));
        Ok(None)
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run(());
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <ErrorAlert error=save.error/>
            <DetailsFields input=input prefix="item"/>
            <div class="actions">
                <button type="submit" class="button" disabled=move || save.busy()>
                    {move || if save.busy() { "Saving…" } else { "Save details" }}
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| ctx.close()>"Cancel"</button>
            </div>
        </form>
    }
}
