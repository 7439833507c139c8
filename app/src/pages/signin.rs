//! `/signin`: OPAQUE sign-in in the browser, the optional second factor, then the
//! keyring opened here.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};
use shared::{
    api::account::{LoginOutcome, SecondFactorRequest, SignedIn},
    client::{open_keyring, Login},
    crypto::{opaque::ExportKey, Id},
};

use crate::{
    api::{
        account::{login_finish, login_second_factor, login_start},
        explain, explain_crypto, Flow,
    },
    components::form::{ErrorAlert, Field, StatusNote, SubmitButton},
    platform::browser::next_paint,
    session::{use_session, AuthState, Session},
};

/// What the sign-in needs between the password and the authentication code.
struct Pending {
    id: Id,
    export_key: ExportKey,
}

/// The sign-in page.
#[component]
pub fn SignInPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(None::<String>);
    let pending = StoredValue::new_local(None::<Pending>);
    let needs_code = RwSignal::new(false);

    // A one-time note from the page before ("You have signed out.").
    let notice = RwSignal::new(session.notice.get_untracked());
    session.notice.set(None);
    // After a reload the server still knows the session, but the keys are gone.
    let locked = Memo::new(move |_| matches!(session.state.get(), AuthState::Locked(_)));
    Effect::new(move |_| {
        if let AuthState::Locked(info) = session.state.get() {
            if username.get_untracked().is_empty() {
                username.set(info.username);
            }
        }
    });

    // On a shared computer, the locked session can be ended without its password.
    let end_locked = move |_| {
        leptos::task::spawn_local(async move {
            let _ = crate::api::account::logout().await;
            session.forget();
            username.set(String::new());
            notice.set(Some("You have signed out.".to_owned()));
        });
    };

    let finish = {
        let navigate = navigate.clone();
        move |session: Session, signed_in: SignedIn, export_key: &ExportKey| -> Result<(), String> {
            let keyring =
                open_keyring(&signed_in, export_key).map_err(|e| explain_crypto(e, Flow::Login))?;
            session.unlock(signed_in.session, keyring, signed_in.key_entry);
            navigate("/", Default::default());
            Ok(())
        }
    };

    let submit_password = {
        let finish = finish.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if busy.get_untracked() {
                return;
            }
            error.set(None);
            let name = username.get_untracked().trim().to_owned();
            if name.is_empty() || password.with_untracked(String::is_empty) {
                error.set(Some("Type your username and password.".to_owned()));
                return;
            }
            busy.set(true);
            progress.set(Some("Checking your password…".to_owned()));
            let finish = finish.clone();
            leptos::task::spawn_local(async move {
                let result = async {
                    let (login, request) = password
                        .with_untracked(|p| Login::start(&name, p))
                        .map_err(|e| explain_crypto(e, Flow::Login))?;
                    let started = login_start(request).await.map_err(|e| explain(&e))?;
                    next_paint().await;
                    // Argon2 runs here; a wrong password fails now, before anything is sent.
                    let (request, export_key) = login
                        .finish(&started)
                        .map_err(|e| explain_crypto(e, Flow::Login))?;
                    match login_finish(request).await.map_err(|e| explain(&e))? {
                        LoginOutcome::SignedIn(signed_in) => {
                            password.set(String::new());
                            finish(session, *signed_in, &export_key)
                        }
                        LoginOutcome::SecondFactor { pending_id } => {
                            pending.set_value(Some(Pending {
                                id: pending_id,
                                export_key,
                            }));
                            password.set(String::new());
                            needs_code.set(true);
                            crate::platform::browser::focus_later("#code");
                            Ok(())
                        }
                    }
                }
                .await;
                busy.set(false);
                progress.set(None);
                if let Err(message) = result {
                    error.set(Some(message));
                }
            });
        }
    };

    let submit_code = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let typed: String = code
            .get_untracked()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if typed.len() != 6 || !typed.chars().all(|c| c.is_ascii_digit()) {
            error.set(Some(
                "Type the six digits your authenticator app shows.".to_owned(),
            ));
            return;
        }
        let Some(pending_id) = pending.with_value(|p| p.as_ref().map(|p| p.id)) else {
            error.set(Some(
                "Start again with your username and password.".to_owned(),
            ));
            needs_code.set(false);
            return;
        };
        busy.set(true);
        let finish = finish.clone();
        leptos::task::spawn_local(async move {
            let result = async {
                let signed_in = login_second_factor(SecondFactorRequest {
                    pending_id,
                    code: typed,
                })
                .await
                .map_err(|e| explain(&e))?;
                let taken = pending.try_update_value(Option::take).flatten();
                let Some(p) = taken else {
                    return Err("Start again with your username and password.".to_owned());
                };
                finish(session, signed_in, &p.export_key)
            }
            .await;
            busy.set(false);
            if let Err(message) = result {
                error.set(Some(message));
            }
        });
    };

    view! {
        <section class="card narrow form-card" aria-labelledby="signin-heading">
            <h1 id="signin-heading" tabindex="-1">"Sign in"</h1>
            <StatusNote message=Signal::derive(move || notice.get())/>
            <Show when=move || locked.get()>
                <div class="alert alert--info" role="status">
                    <p>
                        "Sign in again to unlock your keys. They are kept only in memory, so reloading the page locks them."
                    </p>
                    <p>
                        <button type="button" class="button button--secondary button--small" on:click=end_locked>
                            "Not you? Sign out"
                        </button>
                    </p>
                </div>
            </Show>
            <ErrorAlert error=error/>
            <Show
                when=move || needs_code.get()
                fallback=move || {
                    view! {
                        <form class="form" on:submit=submit_password.clone() novalidate>
                            <Field id="username" label="Username" value=username autocomplete="username"/>
                            <Field id="password" label="Password" value=password kind="password" autocomplete="current-password"/>
                            <SubmitButton label="Sign in" busy=busy.into()/>
                            <StatusNote message=progress.into()/>
                        </form>
                        <p class="form-links">
                            <A href="/recover">"Forgot your password? Use your recovery code"</A>
                            <br/>
                            <A href="/signup">"New to medvault? Create an account"</A>
                        </p>
                    }
                }
            >
                <form class="form" on:submit=submit_code.clone() novalidate>
                    <p>"Your password is right. Now open your authenticator app and type the code it shows for medvault."</p>
                    <Field id="code" label="Authentication code" value=code autocomplete="one-time-code" inputmode="numeric" hint="Six digits; a new code appears every 30 seconds."/>
                    <SubmitButton label="Verify code" busy=busy.into()/>
                </form>
            </Show>
        </section>
    }
}
