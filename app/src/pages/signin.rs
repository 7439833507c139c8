//! `/signin`: OPAQUE sign-in in the browser, the optional second factor, then the
//! keyring opened here.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};

use crate::{
    components::form::{ErrorAlert, Field, StatusNote, SubmitButton},
    platform::browser::focus_later,
    session::{use_session, AuthState, Session},
    tasks::account::{parse_code, send_code, sign_in, Keys, LoginStep, PendingKeys},
};

/// What the sign-in needs between the password and the authentication code.
struct Pending {
    id: shared::model::Id,
    keys: PendingKeys,
}

/// The sign-in form's state, shared by its two steps.
#[derive(Clone, Copy)]
struct SignInState {
    username: RwSignal<String>,
    password: RwSignal<String>,
    code: RwSignal<String>,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    progress: RwSignal<Option<String>>,
    pending: StoredValue<Option<Pending>, LocalStorage>,
    needs_code: RwSignal<bool>,
}

/// The sign-in page.
#[component]
pub fn SignInPage() -> impl IntoView {
    let session = use_session();
    let state = SignInState {
        username: RwSignal::new(String::new()),
        password: RwSignal::new(String::new()),
        code: RwSignal::new(String::new()),
        error: RwSignal::new(None),
        busy: RwSignal::new(false),
        progress: RwSignal::new(None),
        pending: StoredValue::new_local(None),
        needs_code: RwSignal::new(false),
    };

    // A one-time note from the page before ("You have signed out.").
    let notice = RwSignal::new(session.notice.get_untracked());
    session.notice.set(None);
    // After a reload the server still knows the session, but the keys are gone.
    let locked = Memo::new(move |_| matches!(session.state.get(), AuthState::Locked(_)));
    Effect::new(move |_| {
        if let AuthState::Locked(info) = session.state.get() {
            if state.username.get_untracked().is_empty() {
                state.username.set(info.username);
            }
        }
    });

    // On a shared computer, the locked session can be ended without its password.
    let end_locked = move |_| {
        leptos::task::spawn_local(async move {
            let _ = crate::api::account::logout().await;
            session.forget();
            state.username.set(String::new());
            notice.set(Some("You have signed out.".to_owned()));
        });
    };

    view! {
        <section class="card narrow form-card" aria-labelledby="signin-heading">
            <h1 id="signin-heading" tabindex="-1">"Sign in"</h1>
            <StatusNote message=Signal::derive(move || notice.get())/>
            <Show when=move || locked.get()>
                <div class="alert alert--info" role="status">
                    // After the idle lock its own note above says why.
                    <Show when=move || notice.with(Option::is_none)>
                        <p>
                            "Sign in again to unlock your keys. They are kept only in memory, so reloading the page locks them."
                        </p>
                    </Show>
                    <p>
                        <button type="button" class="button button--secondary button--small" on:click=end_locked>
                            "Not you? Sign out"
                        </button>
                    </p>
                </div>
            </Show>
            <ErrorAlert error=state.error/>
            <Show
                when=move || state.needs_code.get()
                fallback=move || view! { <PasswordStep state=state/> }
            >
                <CodeStep state=state/>
            </Show>
        </section>
    }
}

/// Unlocks the session with the opened keys, and passes on what the opening
/// has to say (a new role signed).
fn open_session(session: Session, opened: Keys) {
    if opened.note.is_some() {
        session.notice.set(opened.note);
    }
    session.unlock(opened.info, opened.keyring, opened.key_entry);
}

/// Step 1: username and password, checked here with OPAQUE.
#[component]
fn PasswordStep(state: SignInState) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if state.busy.get_untracked() {
            return;
        }
        state.error.set(None);
        let name = state.username.get_untracked().trim().to_owned();
        if name.is_empty() || state.password.with_untracked(String::is_empty) {
            return state
                .error
                .set(Some("Type your username and password.".to_owned()));
        }
        state.busy.set(true);
        state
            .progress
            .set(Some("Checking your password…".to_owned()));
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let typed = zeroize::Zeroizing::new(state.password.get_untracked());
            let result = match sign_in(&name, &typed).await {
                Ok(LoginStep::SignedIn(signed_in, keys)) => {
                    state.password.set(String::new());
                    keys.open(*signed_in).await.map(|opened| {
                        open_session(session, opened);
                        navigate(&after_sign_in(), Default::default());
                    })
                }
                Ok(LoginStep::SecondFactor { pending_id, keys }) => {
                    state.pending.set_value(Some(Pending {
                        id: pending_id,
                        keys,
                    }));
                    state.password.set(String::new());
                    state.needs_code.set(true);
                    focus_later("#code");
                    Ok(())
                }
                Err(message) => Err(message),
            };
            state.busy.set(false);
            state.progress.set(None);
            if let Err(message) = result {
                state.error.set(Some(message));
            }
        });
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <Field id="username" label="Username" value=state.username autocomplete="username"/>
            <Field id="password" label="Password" value=state.password kind="password" autocomplete="current-password"/>
            <SubmitButton label="Sign in" busy=state.busy.into()/>
            <StatusNote message=state.progress.into()/>
        </form>
        <p class="form-links">
            <A href="/recover">"Forgot your password? Use your recovery code"</A>
            <br/>
            <A href="/signup">"New to medvault? Create an account"</A>
        </p>
    }
}

/// Step 2, when the account has a second factor: the authenticator code.
#[component]
fn CodeStep(state: SignInState) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if state.busy.get_untracked() {
            return;
        }
        state.error.set(None);
        let typed = match parse_code(&state.code.get_untracked()) {
            Ok(t) => t,
            Err(m) => return state.error.set(Some(m)),
        };
        let Some(pending_id) = state.pending.with_value(|p| p.as_ref().map(|p| p.id)) else {
            state.error.set(Some(
                "Start again with your username and password.".to_owned(),
            ));
            return state.needs_code.set(false);
        };
        state.busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = async {
                let signed_in = send_code(pending_id, typed).await?;
                let taken = state.pending.try_update_value(Option::take).flatten();
                let Some(p) = taken else {
                    return Err("Start again with your username and password.".to_owned());
                };
                let opened = p.keys.open(signed_in).await?;
                open_session(session, opened);
                navigate(&after_sign_in(), Default::default());
                Ok(())
            }
            .await;
            state.busy.set(false);
            if let Err(message) = result {
                state.error.set(Some(message));
            }
        });
    };
    view! {
        <form class="form" on:submit=submit novalidate>
            <p>"Your password is right. Now open your authenticator app and type the code it shows for medvault."</p>
            <Field id="code" label="Authentication code" value=state.code autocomplete="one-time-code" inputmode="numeric" hint="Six digits; a new code appears every 30 seconds."/>
            <SubmitButton label="Verify code" busy=state.busy.into()/>
        </form>
    }
}

/// Where a sign-in leads: back to the page the idle lock left, else home.
fn after_sign_in() -> String {
    crate::platform::idle::kept_path().unwrap_or_else(|| "/".to_owned())
}
