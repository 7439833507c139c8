//! The admin's "Delete" of one account (PROTOCOL 15.12): what it removes,
//! the username typed to confirm, and what it did.

use leptos::prelude::*;
use shared::{api::admin::UserSummary, crypto::b64, model::Role};

use crate::{
    api::{admin::delete_user, explain},
    components::{
        action::use_action,
        form::{ConfirmName, ErrorAlert, SubmitButton},
    },
};

/// What deleting this account removes, in words for the admin.
fn consequences(role: Role) -> &'static str {
    match role {
        Role::Patient => "Their whole record (every folder, file and reading), every share they made and every session are removed from the server. It cannot be undone.",
        Role::Doctor => "Every share naming them ends at once (each patient's browser then replaces those keys), their requests go, and so do their sessions. It cannot be undone.",
        Role::Admin => "Their sessions end and they can no longer sign in. Doctors they verified show as not verified until another admin verifies them again. It cannot be undone.",
        Role::Auditor => "Their sessions end and they can no longer sign in. It cannot be undone.",
    }
}

/// The confirmation panel; `done` gets the sentence to show after.
#[component]
pub(super) fn DeleteUser(
    user: UserSummary,
    done: impl Fn(String) + Copy + Send + Sync + 'static,
    cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let name = user.username.clone();
    let id = b64::encode(&user.user_id);
    let action = {
        let name = name.clone();
        use_action(move |confirm: String| {
            let (id, name) = (id.clone(), name.clone());
            async move {
                let d = delete_user(id, confirm).await.map_err(|e| explain(&e))?;
                done(format!(
                    "{name} is deleted: {} items of their record and {} shares they had made were removed.",
                    d.nodes, d.grants
                ));
                Ok(None)
            }
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.run(typed.get_untracked().trim().to_owned());
    };
    view! {
        <section class="card card--danger" aria-labelledby="delete-user-heading">
            <h2 id="delete-user-heading">"Delete " {name.clone()}</h2>
            <p>{consequences(user.role)}</p>
            <p class="muted">"The audit log keeps its events; the username stays taken."</p>
            <ErrorAlert error=action.error/>
            <form class="form" on:submit=submit novalidate>
                <ConfirmName id="delete-user-name" label="Their username, to confirm" name=name.clone() value=typed/>
                <div class="actions">
                    <SubmitButton label="Delete account" busy=action.busy_signal() class="button--danger"/>
                    <button type="button" class="button button--secondary" on:click=move |_| cancel()>"Cancel"</button>
                </div>
            </form>
        </section>
    }
}
