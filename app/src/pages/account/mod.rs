//! `/account`: a patient's profile, where you are signed in, your password,
//! your recovery code and the second factor.

mod delete;
mod password;
mod profile;
mod second_factor;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::{api::account::SessionSummary, model::Role};

use crate::{
    api::{
        account::{logout_everywhere, revoke_session, sessions},
        explain,
    },
    components::{
        action::{use_action, ActionMessages},
        page::Loaded,
    },
    pages::with_keys,
    platform::browser::format_time,
    session::{role_label, use_session, Unlocked},
};
use delete::DeleteAccount;
use password::{ChangePassword, RecoveryCodeSection};
use profile::ProfileCard;
use second_factor::SecondFactor;

/// The account page (needs the keys).
#[component]
pub fn AccountPage() -> impl IntoView {
    with_keys(|u| view! { <Account unlocked=u/> })
}

#[component]
fn Account(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let info = unlocked.info.clone();
    // While the installation requires a second factor this account lacks,
    // the server serves nothing else: only its set-up is shown.
    let required = Memo::new(move |_| {
        session
            .unlocked()
            .is_some_and(|u| u.info.second_factor_required)
    });
    let role = role_label(info.role);
    let is_patient = info.role == Role::Patient;
    let keep = StoredValue::new_local(unlocked.clone());
    view! {
        <div class="stack">
            <h1 id="account-heading" tabindex="-1">"Your account"</h1>
            <dl class="facts card">
                <div><dt>"Username"</dt><dd>{info.username.clone()}</dd></div>
                <div><dt>"Role"</dt><dd>{role}</dd></div>
                <div><dt>"This session ends by"</dt><dd>{format_time(info.expires_at)}</dd></div>
            </dl>
            {move || if required.get() {
                view! {
                    <div class="alert alert--warning" role="status">
                        <p>
                            <strong>"Set up a second factor to continue. "</strong>
                            "This installation requires an authenticator app code at sign-in for every "
                            {role.to_lowercase()}
                            " account. Until it is on, medvault opens nothing else for you."
                        </p>
                    </div>
                }
                    .into_any()
            } else {
                view! {
                    {(info.role == Role::Patient).then(|| view! { <ProfileCard unlocked=unlocked.clone()/> })}
                    <Sessions/>
                    <ChangePassword unlocked=unlocked.clone()/>
                    <RecoveryCodeSection unlocked=unlocked.clone()/>
                }
                    .into_any()
            }}
            // Outside the switch: turning it on keeps its confirmation.
            <SecondFactor/>
            // Last, apart from the rest: what cannot be undone.
            {move || (is_patient && !required.get()).then(|| {
                view! { <DeleteAccount unlocked=keep.get_value()/> }
            })}
        </div>
    }
}

/// What the sessions card does: sign out one other session, or all of them.
#[derive(Clone)]
enum SignOut {
    One(String),
    Everywhere,
}

#[component]
fn Sessions() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let list =
        LocalResource::new(
            move || async move { sessions().await.map_err(|e| session.explain(&e)) },
        );
    let action = use_action(move |work: SignOut| {
        let navigate = navigate.clone();
        async move {
            match work {
                SignOut::One(id) => {
                    revoke_session(id).await.map_err(|e| session.explain(&e))?;
                    list.refetch();
                    Ok(Some("That session was signed out.".to_owned()))
                }
                SignOut::Everywhere => {
                    logout_everywhere().await.map_err(|e| explain(&e))?;
                    session.forget();
                    session.notice.set(Some(
                        "You have signed out on every device, this one included.".to_owned(),
                    ));
                    navigate("/signin", Default::default());
                    Ok(None)
                }
            }
        }
    });
    let busy = action.busy_signal();
    let revoke = move |id: String| action.run(SignOut::One(id));

    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Where you are signed in"</h2>
            <ActionMessages action=action/>
            <Loaded data=list waiting="Loading your sessions…"
                render={move |items: Vec<SessionSummary>| view! { <SessionTable items=items revoke=revoke busy=busy/> }}/>
            <button type="button" class="button button--secondary" disabled=move || busy.get()
                on:click=move |_| action.run(SignOut::Everywhere)>
                {move || if busy.get() { "Working…" } else { "Sign out everywhere" }}
            </button>
        </section>
    }
}

#[component]
fn SessionTable(
    items: Vec<SessionSummary>,
    revoke: impl Fn(String) + Copy + Send + Sync + 'static,
    busy: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
        <table class="table">
            <caption class="visually-hidden">"Your active sessions"</caption>
            <thead>
                <tr><th scope="col">"Browser"</th><th scope="col">"Signed in"</th><th scope="col">"Last active"</th><th scope="col"><span class="visually-hidden">"Action"</span></th></tr>
            </thead>
            <tbody>
                {items.into_iter().map(|s| {
                    let id = s.id.clone();
                    view! {
                        <tr>
                            <td>{s.client.clone()} {s.current.then(|| view! { <span class="badge">"This browser"</span> })}</td>
                            <td>{format_time(s.created_at)}</td>
                            <td>{format_time(s.last_seen)}</td>
                            <td>
                                {(!s.current).then(|| view! {
                                    <button type="button" class="button button--secondary button--small"
                                        disabled=move || busy.get()
                                        aria-label=format!("Sign out the session in {}", s.client)
                                        on:click=move |_| revoke(id.clone())>
                                        "Sign out"
                                    </button>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
