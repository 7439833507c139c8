//! The admin page's invites: make an invite link, and revoke an open one.

use leptos::prelude::*;
use shared::{
    api::admin::{Invite, OpenInvite},
    crypto::b64,
};

use crate::{
    api::{
        admin::{create_invite, revoke_invite},
        explain,
    },
    components::{
        action::use_action,
        form::{ErrorAlert, StatusNote, SubmitButton},
    },
    platform::browser::{copy_text, focus_later, format_time, origin},
    session::{role_label, role_with_article},
    tasks::admin::{invite_link, invite_role},
};

#[component]
pub(super) fn InviteForm(created: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let role = RwSignal::new("doctor".to_owned());
    let made = RwSignal::new(None::<(Invite, String)>);
    let action = use_action(move |choice: String| async move {
        let invite = create_invite(invite_role(&choice))
            .await
            .map_err(|e| explain(&e))?;
        let link = invite_link(&origin(), &invite.code);
        made.set(Some((invite, link)));
        created();
        focus_later("#invite-link-heading");
        Ok(None)
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if action.busy_signal().get_untracked() {
            return;
        }
        made.set(None);
        action.run(role.get_untracked());
    };

    view! {
        <section class="card" aria-labelledby="invite-heading">
            <h2 id="invite-heading">"Invite someone"</h2>
            <p>"The invite link works once, for 7 days. Send it privately: whoever opens it can create an account with that role."</p>
            <ErrorAlert error=action.error/>
            <form class="form form--inline" on:submit=submit novalidate>
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" bind:value=role>
                        <option value="doctor">"Doctor"</option>
                        <option value="patient">"Patient"</option>
                        <option value="auditor">"Auditor"</option>
                        <option value="admin">"Administrator"</option>
                    </select>
                </div>
                <SubmitButton label="Create invite link" busy=action.busy_signal()/>
            </form>
            {move || made.get().map(|(invite, link)| view! { <InviteLink invite=invite link=link/> })}
        </section>
    }
}

/// A new invite's link, shown once, with a copy button.
#[component]
fn InviteLink(invite: Invite, link: String) -> impl IntoView {
    let copied = RwSignal::new(None::<String>);
    let copy = {
        let link = link.clone();
        move |_| {
            let link = link.clone();
            leptos::task::spawn_local(async move {
                copied.set(Some(if copy_text(&link).await {
                    "Link copied.".to_owned()
                } else {
                    "Copying did not work here; select the link and copy it by hand.".to_owned()
                }));
            });
        }
    };
    view! {
        <div class="invite-link">
            <h3 id="invite-link-heading" tabindex="-1">
                "Invite link for " {role_with_article(invite.role)}
            </h3>
            <p>"It is shown only now. It stops working on " {format_time(invite.expires_at)} "."</p>
            <p class="invite-link__url"><code>{link}</code></p>
            <button type="button" class="button button--secondary" on:click=copy>"Copy link"</button>
            <StatusNote message=copied.into()/>
        </div>
    }
}

/// The open invites, each with a "Revoke" button that asks before it acts.
#[component]
pub(super) fn InviteTable(
    list: Vec<OpenInvite>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    done: RwSignal<Option<String>>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No open invites."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Open invites"</caption>
                <thead>
                    <tr>
                        <th scope="col">"For"</th>
                        <th scope="col">"Made by"</th>
                        <th scope="col">"Made"</th>
                        <th scope="col">"Works until"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|invite| view! { <InviteRow invite=invite reload=reload done=done/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn InviteRow(
    invite: OpenInvite,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    done: RwSignal<Option<String>>,
) -> impl IntoView {
    let who = role_with_article(invite.role);
    let maker = invite
        .created_by_username
        .clone()
        .unwrap_or_else(|| "A removed account".to_owned());
    view! {
        <tr>
            <th scope="row">{role_label(invite.role)}</th>
            <td>{maker}</td>
            <td>{format_time(invite.created_at)}</td>
            <td>{format_time(invite.expires_at)}</td>
            <td class="table__actions">
                <RevokeInvite key=b64::encode(&invite.id) who=who reload=reload done=done/>
            </td>
        </tr>
    }
}

/// "Revoke", then "Yes, revoke" or "Keep", for the invite `key`.
#[component]
fn RevokeInvite(
    key: String,
    who: String,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    done: RwSignal<Option<String>>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let ask_id = format!("revoke-{key}");
    let ask_focus = format!("[id='{ask_id}']");
    let confirm_id = format!("confirm-revoke-{key}");
    let confirm_focus = format!("[id='{confirm_id}']");
    let revoke = {
        let (key, who) = (key.clone(), who.clone());
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let (key, who) = (key.clone(), who.clone());
            leptos::task::spawn_local(async move {
                let result = revoke_invite(key).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        done.set(Some(format!(
                            "The invite for {who} was revoked. Its link no longer works."
                        )));
                        reload();
                        focus_later("#open-invites-heading");
                    }
                    Err(e) => {
                        asking.set(false);
                        error.set(Some(explain(&e)));
                    }
                }
            });
        }
    };
    view! {
        <div role="group" aria-label=format!("Invite for {who}")>
            <Show when=move || asking.get() fallback={
                let who = who.clone();
                let ask_id = ask_id.clone();
                let confirm_focus = confirm_focus.clone();
                move || view! {
                    <button type="button" id=ask_id.clone() class="button button--secondary button--small"
                        aria-label=format!("Revoke the invite for {who}")
                        on:click={
                            let confirm_focus = confirm_focus.clone();
                            move |_| { asking.set(true); focus_later(&confirm_focus); }
                        }>"Revoke"</button>
                }
            }>
                <span class="confirm-text">"Revoke this invite? Its link will stop working."</span>
                <button type="button" id=confirm_id.clone() class="button button--danger button--small"
                    disabled=move || busy.get() on:click=revoke.clone()>
                    {move || if busy.get() { "Working…" } else { "Yes, revoke" }}
                </button>
                <button type="button" class="button button--secondary button--small"
                    on:click={
                        let ask_focus = ask_focus.clone();
                        move |_| { asking.set(false); focus_later(&ask_focus); }
                    }>"Keep"</button>
            </Show>
            <ErrorAlert error=error/>
        </div>
    }
}
