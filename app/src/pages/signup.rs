//! `/signup`: the rules checked here first, OPAQUE registration and key
//! generation in the browser, then the recovery code shown once before the
//! account is created.

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
};
use zeroize::Zeroizing;

use crate::{
    api::{
        account::{invite_info, signup_finish, signup_policy},
        explain,
    },
    components::{
        form::{new_password_submit, ErrorAlert, Field, StatusNote, StrengthMeter, SubmitButton},
        recovery_code::{code_groups, download_code},
    },
    platform::browser::{focus_later, format_time},
    session::{role_with_article, use_session},
    tasks::account::{check_new_account, sign_up, NewAccount},
};

/// The sign-up page.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let query = use_query_map();
    let invite = Memo::new(move |_| {
        query
            .with(|q| q.get("invite"))
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
    });
    // What the page may offer: an invite's role, or open sign-up for patients.
    let offer = LocalResource::new(move || async move {
        match invite.get() {
            Some(code) => invite_info(code).await.map(|d| {
                Some(format!(
                    "This invitation creates {} account. It can be used until {}.",
                    role_with_article(d.role),
                    format_time(d.expires_at)
                ))
            }),
            None => signup_policy().await.map(|p| {
                p.open_signup
                    .then(|| "You are creating a patient account.".to_owned())
            }),
        }
    });

    view! {
        <section class="card narrow form-card" aria-labelledby="signup-heading">
            <h1 id="signup-heading" tabindex="-1">"Create your account"</h1>
            <Suspense fallback=|| view! { <p class="status status--pending" role="status">"Loading…"</p> }>
                {move || offer.get().map(|result| match result {
                    Ok(Some(text)) => view! {
                        <p class="alert alert--info">{text}</p>
                        <SignUpForm invite=invite.get_untracked()/>
                    }.into_any(),
                    Ok(None) => view! {
                        <p class="alert alert--info" role="status">
                            "Sign-up is by invitation only. Ask your administrator or your clinic for an invite link, then open it in this browser."
                        </p>
                        <p class="form-links"><A href="/signin">"Already have an account? Sign in"</A></p>
                    }.into_any(),
                    Err(e) => view! {
                        <p class="alert alert--error" role="alert">
                            {explain(&e)}
                        </p>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// Where the sign-up stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Form,
    RecoveryCode,
}

/// The sign-up form's state, shared by its two steps.
#[derive(Clone, Copy)]
struct SignUpState {
    username: RwSignal<String>,
    password: RwSignal<String>,
    confirm: RwSignal<String>,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    progress: RwSignal<Option<String>>,
    stage: RwSignal<Stage>,
    account: StoredValue<Option<NewAccount>, LocalStorage>,
    code: StoredValue<Option<Zeroizing<String>>, LocalStorage>,
}

#[component]
fn SignUpForm(invite: Option<String>) -> impl IntoView {
    let state = SignUpState {
        username: RwSignal::new(String::new()),
        password: RwSignal::new(String::new()),
        confirm: RwSignal::new(String::new()),
        error: RwSignal::new(None),
        busy: RwSignal::new(false),
        progress: RwSignal::new(None),
        stage: RwSignal::new(Stage::Form),
        account: StoredValue::new_local(None),
        code: StoredValue::new_local(None),
    };
    let invite = StoredValue::new(invite);

    let create = move || {
        if state.busy.get_untracked() {
            return;
        }
        state.error.set(None);
        let checked = check_new_account(
            &state.username.get_untracked(),
            &state.password.get_untracked(),
            &state.confirm.get_untracked(),
        );
        let name = match checked {
            Ok(name) => name,
            Err(message) => return state.error.set(Some(message)),
        };
        state.busy.set(true);
        state.progress.set(Some("Creating your keys…".to_owned()));
        leptos::task::spawn_local(async move {
            let typed = Zeroizing::new(state.password.get_untracked());
            let result = sign_up(&name, &typed, invite.get_value()).await;
            state.busy.set(false);
            state.progress.set(None);
            match result {
                Ok((new, code)) => {
                    state.code.set_value(Some(code));
                    state.account.set_value(Some(new));
                    state.password.set(String::new());
                    state.confirm.set(String::new());
                    state.stage.set(Stage::RecoveryCode);
                    focus_later("#recovery-heading");
                }
                Err(message) => state.error.set(Some(message)),
            }
        });
    };

    let name_signal = Signal::derive(move || state.username.get());
    view! {
        <ErrorAlert error=state.error/>
        <Show
            when=move || state.stage.get() == Stage::RecoveryCode
            fallback=move || view! {
                <form class="form" on:submit=new_password_submit(create) novalidate>
                    <Field id="username" label="Username" value=state.username autocomplete="username"
                        hint="3 to 32 characters: letters, digits, and '.', '_' or '-' between them."/>
                    <Field id="password" label="Password" value=state.password kind="password" autocomplete="new-password"
                        hint="At least 15 characters. A few unrelated words in a row are strong and easy to remember."/>
                    <StrengthMeter password=state.password username=name_signal/>
                    <Field id="confirm" label="Confirm password" value=state.confirm kind="password" autocomplete="new-password"/>
                    <p class="field__hint">
                        "Your password never leaves this device. If you forget it, only your recovery code can open your records; nobody at medvault can reset it for you."
                    </p>
                    <SubmitButton label="Create account" busy=state.busy.into()/>
                    <StatusNote message=state.progress.into()/>
                </form>
            }
        >
            <SaveCode state=state/>
        </Show>
        <Show when=move || state.stage.get() == Stage::Form>
            <p class="form-links"><A href="/signin">"Already have an account? Sign in"</A></p>
        </Show>
    }
}

/// The recovery code, shown once; the account is created only after the
/// person says they saved it.
#[component]
fn SaveCode(state: SignUpState) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let saved = RwSignal::new(false);

    let finish = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if state.busy.get_untracked() || !saved.get_untracked() {
            return;
        }
        state.error.set(None);
        let Some(request) = state
            .account
            .with_value(|a| a.as_ref().map(|a| a.request.clone()))
        else {
            return;
        };
        state.busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match signup_finish(request).await {
                Ok(info) => {
                    if let Some(new) = state.account.try_update_value(Option::take).flatten() {
                        let NewAccount {
                            request,
                            keyring,
                            recovery,
                        } = new;
                        // The recovery secret is zeroised when dropped; it is not kept.
                        drop(recovery);
                        state.code.set_value(None);
                        session.unlock(info, keyring, request.key_entry);
                    }
                    state.busy.set(false);
                    navigate("/", Default::default());
                }
                Err(e) => {
                    state.busy.set(false);
                    state.error.set(Some(format!(
                        "{} If it keeps failing, start again from the invite link.",
                        explain(&e)
                    )));
                }
            }
        });
    };

    let busy = state.busy;
    view! {
        <form class="form recovery" on:submit=finish novalidate>
            <h2 id="recovery-heading" tabindex="-1">"Save your recovery code"</h2>
            <p>
                "This code is the only way back into your account if you forget your password. "
                "It is shown only this once. Download it or write it down, and keep it somewhere safe and private."
            </p>
            <CodeBox state=state/>
            <div class="checkbox">
                <input id="saved" type="checkbox" bind:checked=saved/>
                <label for="saved">"I have saved my recovery code somewhere safe"</label>
            </div>
            <button type="submit" class="button" disabled=move || !saved.get() || busy.get()>
                {move || if busy.get() { "Working…" } else { "Continue" }}
            </button>
        </form>
    }
}

/// The code in its groups, with a button to download it as a text file.
#[component]
fn CodeBox(state: SignUpState) -> impl IntoView {
    let download = move |_| {
        let name = state.username.get_untracked();
        let failed = state.code.with_value(|c| {
            c.as_ref()
                .and_then(|c| download_code(&name, c, false).err())
        });
        if let Some(e) = failed {
            state.error.set(Some(e));
        }
    };

    view! {
        <div class="recovery-code" role="group" aria-label="Your recovery code">
            {state.code.with_value(|c| c.as_ref().map(|c| code_groups(c)))}
        </div>
        <p>
            <button type="button" class="button button--secondary" on:click=download>
                "Download recovery code"
            </button>
        </p>
    }
}
