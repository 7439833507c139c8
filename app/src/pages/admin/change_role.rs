//! The admin's "Change role" of a doctor, administrator or auditor
//! (PROTOCOL 15.8): the new role, what the change does, and what it did.
//! The account signs its directory entry with the new role at its next
//! sign-in; until then other people's browsers keep seeing the old one.

use leptos::prelude::*;
use shared::{api::admin::UserSummary, crypto::b64, model::Role};

use crate::{
    api::{admin::set_role, explain},
    components::{
        action::use_action,
        form::{ErrorAlert, SubmitButton},
    },
    session::{role_label, role_with_article},
};

/// The roles an account of `role` may be given: the other non-patient ones.
fn choices(role: Role) -> Vec<Role> {
    [Role::Doctor, Role::Admin, Role::Auditor]
        .into_iter()
        .filter(|r| *r != role)
        .collect()
}

/// What leaving `from` for `to` does, in words for the admin.
fn consequences(from: Role, to: Role) -> String {
    let mut out = Vec::new();
    match from {
        Role::Doctor => out.push("Every share naming them ends at once (each patient's browser then replaces those keys), their requests for access go, and their doctor's certificate is withdrawn."),
        Role::Admin => out.push("Their installation certificate is withdrawn; doctors they verified show as not verified until another admin verifies them again."),
        Role::Auditor | Role::Patient => {}
    }
    match to {
        Role::Doctor => out.push("As a doctor they are not verified: verify them again once they have signed in."),
        Role::Admin => out.push("As an administrator they need a certificate from the installation's operator before patients' browsers trust the doctors they verify."),
        Role::Auditor | Role::Patient => {}
    }
    out.push("Their sessions end; at their next sign-in their browser signs the new role.");
    out.join(" ")
}

/// The change panel; `done` gets the sentence to show after.
#[component]
pub(super) fn ChangeRole(
    user: UserSummary,
    done: impl Fn(String) + Copy + Send + Sync + 'static,
    cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let from = user.role;
    let options = choices(from);
    let first = options.first().copied().unwrap_or(Role::Auditor);
    let chosen = RwSignal::new(first);
    let name = user.username.clone();
    let id = b64::encode(&user.user_id);
    let action = {
        let name = name.clone();
        use_action(move |role: Role| {
            let (id, name) = (id.clone(), name.clone());
            async move {
                let u = set_role(id, role).await.map_err(|e| explain(&e))?;
                done(format!(
                    "{name} is now {}. They sign the new role at their next sign-in.",
                    role_with_article(u.role)
                ));
                Ok(None)
            }
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.run(chosen.get_untracked());
    };
    view! {
        <section class="card" aria-labelledby="change-role-heading">
            <h2 id="change-role-heading" tabindex="-1">"Change the role of " {name.clone()}</h2>
            <p>{format!("{name} is {} now.", role_with_article(from))}</p>
            <ErrorAlert error=action.error/>
            <form class="form" on:submit=submit novalidate>
                <fieldset class="choices">
                    <legend>"New role"</legend>
                    {options.into_iter().map(|r| {
                        let id = format!("new-role-{}", role_label(r).to_lowercase());
                        let label_for = id.clone();
                        view! {
                            <label class="checkbox" for=label_for>
                                <input type="radio" name="new-role" id=id
                                    prop:checked=move || chosen.get() == r
                                    on:change=move |_| chosen.set(r)/>
                                {role_label(r)}
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <p aria-live="polite">{move || consequences(from, chosen.get())}</p>
                <div class="actions">
                    <SubmitButton label="Change role" busy=action.busy_signal()/>
                    <button type="button" class="button button--secondary" on:click=move |_| cancel()>"Cancel"</button>
                </div>
            </form>
        </section>
    }
}
