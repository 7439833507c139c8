//! `/signup`: the rules checked here first, OPAQUE registration and key
//! generation in the browser, then the recovery code shown once before the
//! account is created.

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_query_map},
};
use shared::{
    account::{check_password, Username},
    client::{NewAccount, Signup},
};
use zeroize::Zeroizing;

use crate::{
    api::{
        account::{invite_info, signup_finish, signup_policy, signup_start},
        explain, explain_crypto, Flow,
    },
    components::{
        form::{ErrorAlert, Field, StatusNote, StrengthMeter, SubmitButton},
        recovery_code::{code_groups, download_code},
    },
    platform::browser::{focus_later, format_time, next_paint},
    session::{now_unix, role_with_article, use_session},
};

/// Checks what was typed against the account rules, in the order the fields
/// appear, and says what to change.
pub fn check_new_account(
    username: &str,
    password: &str,
    confirm: &str,
) -> Result<Username, String> {
    let name = Username::parse_new(username).map_err(|e| format!("{e}."))?;
    check_new_password(password, confirm, name.as_str(), false)?;
    Ok(name)
}

/// Checks a new password and its confirmation.
pub fn check_new_password(
    password: &str,
    confirm: &str,
    username: &str,
    has_second_factor: bool,
) -> Result<(), String> {
    check_password(password, username, has_second_factor).map_err(|e| format!("{e}."))?;
    if password != confirm {
        return Err("The two passwords are not the same. Type the new password again in \"Confirm password\".".to_owned());
    }
    Ok(())
}

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

#[component]
fn SignUpForm(invite: Option<String>) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(None::<String>);
    let stage = RwSignal::new(Stage::Form);
    let saved = RwSignal::new(false);
    let account = StoredValue::new_local(None::<NewAccount>);
    let code = StoredValue::new_local(None::<Zeroizing<String>>);
    let invite = StoredValue::new(invite);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let checked = check_new_account(
            &username.get_untracked(),
            &password.get_untracked(),
            &confirm.get_untracked(),
        );
        let name = match checked {
            Ok(name) => name,
            Err(message) => {
                error.set(Some(message));
                return;
            }
        };
        busy.set(true);
        progress.set(Some("Creating your keys…".to_owned()));
        leptos::task::spawn_local(async move {
            let result = async {
                let (signup, request) = password
                    .with_untracked(|p| Signup::start(name.as_str(), p, invite.get_value()))
                    .map_err(|e| explain_crypto(e, Flow::Signup))?;
                let started = signup_start(request).await.map_err(|e| explain(&e))?;
                next_paint().await;
                // Argon2 and key generation run here, in the browser.
                let new = signup
                    .finish(&started, now_unix())
                    .map_err(|e| explain_crypto(e, Flow::Signup))?;
                code.set_value(Some(new.recovery.to_code()));
                account.set_value(Some(new));
                Ok::<(), String>(())
            }
            .await;
            busy.set(false);
            progress.set(None);
            match result {
                Ok(()) => {
                    password.set(String::new());
                    confirm.set(String::new());
                    stage.set(Stage::RecoveryCode);
                    focus_later("#recovery-heading");
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };

    let download = move |_| {
        let name = username.get_untracked();
        let failed = code.with_value(|c| {
            c.as_ref()
                .and_then(|c| download_code(&name, c, false).err())
        });
        if let Some(e) = failed {
            error.set(Some(e));
        }
    };

    let finish = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() || !saved.get_untracked() {
            return;
        }
        error.set(None);
        let Some(request) = account.with_value(|a| a.as_ref().map(|a| a.request.clone())) else {
            return;
        };
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match signup_finish(request).await {
                Ok(info) => {
                    if let Some(new) = account.try_update_value(Option::take).flatten() {
                        let NewAccount {
                            request,
                            keyring,
                            recovery,
                        } = new;
                        // The recovery secret is zeroised when dropped; it is not kept.
                        drop(recovery);
                        code.set_value(None);
                        session.unlock(info, keyring, request.key_entry);
                    }
                    busy.set(false);
                    navigate("/", Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(format!(
                        "{} If it keeps failing, start again from the invite link.",
                        explain(&e)
                    )));
                }
            }
        });
    };

    let name_signal = Signal::derive(move || username.get());
    view! {
        <ErrorAlert error=error/>
        <Show
            when=move || stage.get() == Stage::RecoveryCode
            fallback=move || view! {
                <form class="form" on:submit=create novalidate>
                    <Field id="username" label="Username" value=username autocomplete="username"
                        hint="3 to 32 characters: letters, digits, and '.', '_' or '-' between them."/>
                    <Field id="password" label="Password" value=password kind="password" autocomplete="new-password"
                        hint="At least 15 characters. A few unrelated words in a row are strong and easy to remember."/>
                    <StrengthMeter password=password username=name_signal/>
                    <Field id="confirm" label="Confirm password" value=confirm kind="password" autocomplete="new-password"/>
                    <p class="field__hint">
                        "Your password never leaves this device. If you forget it, only your recovery code can open your records; nobody at medvault can reset it for you."
                    </p>
                    <SubmitButton label="Create account" busy=busy.into()/>
                    <StatusNote message=progress.into()/>
                </form>
            }
        >
            <form class="form recovery" on:submit=finish.clone() novalidate>
                <h2 id="recovery-heading" tabindex="-1">"Save your recovery code"</h2>
                <p>
                    "This code is the only way back into your account if you forget your password. "
                    "It is shown only this once. Download it or write it down, and keep it somewhere safe and private."
                </p>
                <div class="recovery-code" role="group" aria-label="Your recovery code">
                    {code.with_value(|c| c.as_ref().map(|c| code_groups(c)))}
                </div>
                <p>
                    <button type="button" class="button button--secondary" on:click=download>
                        "Download recovery code"
                    </button>
                </p>
                <div class="checkbox">
                    <input id="saved" type="checkbox" bind:checked=saved/>
                    <label for="saved">"I have saved my recovery code somewhere safe"</label>
                </div>
                <button type="submit" class="button" disabled=move || !saved.get() || busy.get()>
                    {move || if busy.get() { "Working…" } else { "Continue" }}
                </button>
            </form>
        </Show>
        <Show when=move || stage.get() == Stage::Form>
            <p class="form-links"><A href="/signin">"Already have an account? Sign in"</A></p>
        </Show>
    }
}
