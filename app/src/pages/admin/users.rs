//! The admin page's accounts: find them by the start of the username,
//! enable, disable, delete one or change its role, and verify a doctor.

use leptos::prelude::*;
use shared::{api::admin::UserSummary, crypto::b64, model::Role};

use super::{change_role::ChangeRole, delete_user::DeleteUser};
use crate::{
    api::{admin::set_disabled, explain},
    components::{
        action::use_action,
        form::{ErrorAlert, Field, SubmitButton},
        safety_number::SafetyNumberView,
    },
    platform::browser::{focus_later, format_time},
    session::{role_label, Unlocked},
    tasks::{
        admin::certify,
        directory::{look_up, SafetyNumber, VerifiedEntry},
    },
};

/// "Find accounts": the start of a username, sent to the server
/// (`admin/users?prefix=`) on Search; "Show all" clears it.
#[component]
pub(super) fn UserSearch(query: RwSignal<String>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        query.set(typed.get_untracked().trim().to_lowercase());
    };
    view! {
        <form class="form form--inline" role="search" aria-label="Find accounts" on:submit=submit novalidate>
            <div class="field">
                <label for="user-search">"Username starts with"</label>
                <input id="user-search" type="search" autocomplete="off" maxlength="32"
                    bind:value=typed/>
            </div>
            <div class="actions">
                <button type="submit" class="button button--secondary">"Search"</button>
                <Show when=move || query.with(|q| !q.is_empty())>
                    <button type="button" class="button button--secondary"
                        on:click=move |_| { typed.set(String::new()); query.set(String::new()); }>"Show all"</button>
                </Show>
            </div>
        </form>
    }
}

/// What the list holds, read out after each search.
pub(super) fn found_text(count: usize, query: &str) -> String {
    let accounts = match count {
        1 => "1 account".to_owned(),
        n => format!("{n} accounts"),
    };
    if query.is_empty() {
        accounts
    } else {
        format!("{accounts} whose username starts with “{query}”.")
    }
}

#[component]
pub(super) fn UserTable(
    list: Vec<UserSummary>,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    /// Told what a deletion or a role change did (shown above the list,
    /// which reloads).
    changed: RwSignal<Option<String>>,
) -> impl IntoView {
    let verifying = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(None::<UserSummary>);
    let changing = RwSignal::new(None::<UserSummary>);
    let action = use_action(move |user: UserSummary| async move {
        set_disabled(b64::encode(&user.user_id), !user.disabled)
            .await
            .map_err(|e| explain(&e))?;
        reload();
        Ok(None)
    });
    let toggle = move |user: UserSummary| action.run(user);

    view! {
        <ErrorAlert error=action.error/>
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Every account"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Username"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Verified"</th>
                        <th scope="col">"Last sign-in"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|u| {
                        let is_self = unlocked.with_value(|me| me.info.user_id == u.user_id);
                        view! { <UserRow user=u is_self=is_self busy=action.busy_signal() toggle=toggle verifying=verifying deleting=deleting changing=changing/> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || verifying.get().map(|name| view! {
            <VerifyDoctor name=name unlocked=unlocked done=move || { verifying.set(None); reload(); } cancel=move || verifying.set(None)/>
        })}
        {move || deleting.get().map(|user| view! {
            <DeleteUser user=user
                done=move |message| { deleting.set(None); changed.set(Some(message)); reload(); }
                cancel=move || deleting.set(None)/>
        })}
        {move || changing.get().map(|user| view! {
            <ChangeRole user=user
                done=move |message| { changing.set(None); changed.set(Some(message)); reload(); }
                cancel=move || changing.set(None)/>
        })}
    }
}

/// One account, with "Verify" for an unverified doctor, "Enable"/"Disable"
/// and "Delete" for anyone but the admin themself, and "Change role" for
/// those of them who are not patients.
#[component]
fn UserRow(
    user: UserSummary,
    is_self: bool,
    busy: Signal<bool>,
    toggle: impl Fn(UserSummary) + Copy + Send + Sync + 'static,
    verifying: RwSignal<Option<String>>,
    deleting: RwSignal<Option<UserSummary>>,
    changing: RwSignal<Option<UserSummary>>,
) -> impl IntoView {
    let u = user;
    let delete_user = u.clone();
    let change_user = u.clone();
    let name = u.username.clone();
    let unverified_doctor = u.role == Role::Doctor && !u.verified;
    let toggle_user = u.clone();
    let verify_name = name.clone();
    view! {
        <tr>
            <th scope="row">{name.clone()}</th>
            <td>{role_label(u.role)}</td>
            <td>{if u.disabled { view! { <span class="badge badge--warn">"Disabled"</span> }.into_any() } else { view! { <span>"Active"</span> }.into_any() }}</td>
            <td>{match (u.role, u.verified) {
                (Role::Doctor, true) => view! { <span class="badge badge--ok">"Verified"</span> }.into_any(),
                (Role::Doctor, false) => view! { <span>"Not yet"</span> }.into_any(),
                _ => view! { <span class="muted">"—"</span> }.into_any(),
            }}</td>
            <td>{u.last_sign_in.map(format_time).unwrap_or_else(|| "Never".to_owned())}</td>
            <td class="table__actions">
                {unverified_doctor.then(|| view! {
                    <button type="button" class="button button--small"
                        aria-label=format!("Verify {verify_name}")
                        on:click={let n = verify_name.clone(); move |_| { verifying.set(Some(n.clone())); focus_later("#licence-id"); }}>
                        "Verify"
                    </button>
                })}
                {(!is_self).then(|| view! {
                    <button type="button" class="button button--secondary button--small"
                        disabled=move || busy.get()
                        aria-label=format!("{} {}", if u.disabled { "Enable" } else { "Disable" }, name)
                        on:click=move |_| toggle(toggle_user.clone())>
                        {if u.disabled { "Enable" } else { "Disable" }}
                    </button>
                })}
                {(!is_self && u.role != Role::Patient).then(|| view! {
                    <button type="button" class="button button--secondary button--small"
                        aria-label=format!("Change the role of {}", change_user.username)
                        on:click=move |_| { changing.set(Some(change_user.clone())); focus_later("#change-role-heading"); }>
                        "Change role"
                    </button>
                })}
                {(!is_self).then(|| view! {
                    <button type="button" class="button button--secondary button--small"
                        aria-label=format!("Delete {}", delete_user.username)
                        on:click=move |_| { deleting.set(Some(delete_user.clone())); focus_later("#delete-user-name"); }>
                        "Delete"
                    </button>
                })}
            </td>
        </tr>
    }
}

/// Checks a doctor's licence (outside medvault), then signs a certificate over the
/// keys the directory serves for them, after showing their safety number.
#[component]
fn VerifyDoctor(
    name: String,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: impl Fn() + Copy + Send + Sync + 'static,
    cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let licence = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let checked = StoredValue::new_local(None::<VerifiedEntry>);
    let number = RwSignal::new_local(None::<SafetyNumber>);
    let name_store = StoredValue::new(name.clone());

    let look_up_keys = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        if licence.with_untracked(|l| l.trim().is_empty()) {
            return error.set(Some(
                "Type the doctor's licence id, as you checked it with the licensing body."
                    .to_owned(),
            ));
        }
        busy.set(true);
        let name = name_store.get_value();
        leptos::task::spawn_local(async move {
            let result = look_up(&name, explain).await;
            busy.set(false);
            match result {
                Ok(entry) => {
                    number.set(Some(entry.safety_number.clone()));
                    checked.set_value(Some(entry));
                }
                Err(m) => error.set(Some(m)),
            }
        });
    };

    let sign = move || {
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let Some(entry) = checked.get_value() else {
            return;
        };
        let licence = licence.get_untracked();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let me = unlocked.get_value();
            match certify(&me, &entry, &licence).await {
                Ok(()) => done(),
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card verify" aria-labelledby="verify-heading">
            <h2 id="verify-heading">"Verify doctor " {name.clone()}</h2>
            <p>"First check the doctor's licence with the licensing body. Then compare the safety number below with the doctor, in person or on a call you placed yourself."</p>
            <ErrorAlert error=error/>
            <form class="form" on:submit=look_up_keys novalidate>
                <Field id="licence-id" label="Licence id" value=licence/>
                <div class="actions">
                    <SubmitButton label="Show safety number" busy=busy.into()/>
                    <button type="button" class="button button--secondary" on:click=move |_| cancel()>"Cancel"</button>
                </div>
            </form>
            {move || number.get().map(|n| view! { <SignStep name=name.clone() number=n busy=busy.into() sign=sign/> })}
        </section>
    }
}

/// The doctor's safety number, and the button that signs once it matched.
#[component]
fn SignStep(
    name: String,
    number: SafetyNumber,
    busy: Signal<bool>,
    sign: impl Fn() + Copy + 'static,
) -> impl IntoView {
    view! {
        <h3>"Safety number of " {name.clone()}</h3>
        <SafetyNumberView number=number label=format!("Safety number of {}", name)/>
        <p>"Sign only if the doctor reads you the same numbers."</p>
        <button type="button" class="button" disabled=move || busy.get() on:click=move |_| sign()>
            {move || if busy.get() { "Working…" } else { "Sign certificate" }}
        </button>
    }
}
