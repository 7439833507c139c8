//! `/recover`: a new password from the recovery code. The code opens the recovery
//! copy of the keyring here in the browser; the server only checks a signature.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};
use shared::client::Recovery;
use zeroize::Zeroizing;

use crate::{
    api::{
        account::{recovery_finish, recovery_start},
        directory::lookup_user,
        explain, explain_crypto, Flow,
    },
    components::{
        form::{ErrorAlert, Field, StatusNote, StrengthMeter, SubmitButton},
        recovery_code::{replace_recovery_code, NewRecoveryCode},
    },
    pages::signup::check_new_password,
    platform::browser::next_paint,
    session::use_session,
};

/// The recovery page.
#[component]
pub fn RecoverPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let progress = RwSignal::new(None::<String>);
    // On by default: the old code was just typed in, perhaps somewhere unsafe.
    let new_code_wanted = RwSignal::new(true);
    let new_code = StoredValue::new_local(None::<(Zeroizing<String>, String)>);
    let showing_code = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let name = username.get_untracked().trim().to_owned();
        if name.is_empty() || code.with_untracked(|c| c.trim().is_empty()) {
            error.set(Some(
                "Type your username and your recovery code.".to_owned(),
            ));
            return;
        }
        if let Err(message) = check_new_password(
            &password.get_untracked(),
            &confirm.get_untracked(),
            &name,
            false,
        ) {
            error.set(Some(message));
            return;
        }
        busy.set(true);
        progress.set(Some("Opening your keys with the recovery code…".to_owned()));
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = async {
                let (recovery, request) = password
                    .with_untracked(|p| Recovery::start(&name, p))
                    .map_err(|e| explain_crypto(e, Flow::Recovery))?;
                let started = recovery_start(request).await.map_err(|e| explain(&e))?;
                next_paint().await;
                let (request, keyring) = code
                    .with_untracked(|c| recovery.finish(&started, c))
                    .map_err(|e| explain_crypto(e, Flow::Recovery))?;
                let recovered = recovery_finish(request).await.map_err(|e| explain(&e))?;
                // The account's own entry, checked against the keys just opened.
                let served = lookup_user(recovered.session.username.clone())
                    .await
                    .map_err(|e| explain(&e))?;
                let entry = served
                    .entry
                    .verify_self()
                    .map_err(|e| explain_crypto(e, Flow::Directory))?;
                let public = keyring.public_keys();
                if entry.identity_key != public.identity
                    || entry.encryption_key != public.encryption.to_bytes()
                {
                    return Err(explain_crypto(
                        shared::crypto::CryptoError::BadSignature,
                        Flow::Directory,
                    ));
                }
                let mut note = format!(
                    "Your password was changed with your recovery code. {} signed out.",
                    match recovered.ended_sessions {
                        0 => "No other sessions were".to_owned(),
                        1 => "1 other session was".to_owned(),
                        n => format!("{n} other sessions were"),
                    }
                );
                if recovered.totp_removed {
                    note.push_str(" Your second factor (authenticator app) was switched off; you can turn it on again under Account.");
                }
                let user_id = recovered.session.user_id;
                let username = recovered.session.username.clone();
                let made = if new_code_wanted.get_untracked() {
                    progress.set(Some("Making your new recovery code…".to_owned()));
                    let typed = Zeroizing::new(password.get_untracked());
                    match replace_recovery_code(&typed, &keyring, user_id).await {
                        Ok(made) => Some(made),
                        Err(message) => {
                            note.push_str(&format!(
                                " No new recovery code was made ({message}) Your old code still works; make a new one under Account."
                            ));
                            None
                        }
                    }
                } else {
                    None
                };
                session.unlock(recovered.session, keyring, served.entry);
                session.notice.set(Some(note));
                Ok(made.map(|c| (c, username)))
            }
            .await;
            busy.set(false);
            progress.set(None);
            match result {
                Ok(made) => {
                    code.set(String::new());
                    password.set(String::new());
                    confirm.set(String::new());
                    match made {
                        Some(made) => {
                            new_code.set_value(Some(made));
                            showing_code.set(true);
                            crate::platform::browser::focus_later("#new-recovery-heading");
                        }
                        None => navigate("/", Default::default()),
                    }
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };

    let go_home = use_navigate();
    view! {
        <Show when=move || showing_code.get()>
            <section class="card narrow form-card" aria-labelledby="new-recovery-heading">
                <p class="alert alert--info" role="status">"Your account is recovered and you are signed in with your new password."</p>
                {
                    let go_home = go_home.clone();
                    move || new_code.with_value(|c| c.clone()).map(|(code, username)| {
                        let go_home = go_home.clone();
                        view! {
                            <NewRecoveryCode code=code username=username done_label="Continue"
                                done=move || { new_code.set_value(None); go_home("/", Default::default()); }/>
                        }
                    })
                }
            </section>
        </Show>
        <section class="card narrow form-card" aria-labelledby="recover-heading" hidden=move || showing_code.get()>
            <h1 id="recover-heading" tabindex="-1">"Recover your account"</h1>
            <p>
                "Use the recovery code you saved when you created your account to choose a new password. "
                "Every other session of your account will be signed out."
            </p>
            <ErrorAlert error=error/>
            <form class="form" on:submit=submit novalidate>
                <Field id="username" label="Username" value=username autocomplete="username"/>
                <Field id="recovery-code" label="Recovery code" value=code
                    hint="56 letters and digits in groups of 4. Dashes, spaces and capitals do not matter."/>
                <Field id="password" label="New password" value=password kind="password" autocomplete="new-password"
                    hint="At least 15 characters."/>
                <StrengthMeter password=password username=Signal::derive(move || username.get())/>
                <Field id="confirm" label="Confirm password" value=confirm kind="password" autocomplete="new-password"/>
                <div class="checkbox">
                    <input id="recover-new-code" type="checkbox" bind:checked=new_code_wanted/>
                    <label for="recover-new-code">"Make a fresh code for next time (recommended: the code typed above then stops working)"</label>
                </div>
                <SubmitButton label="Recover account" busy=busy.into()/>
                <StatusNote message=progress.into()/>
            </form>
            <p class="form-links"><A href="/signin">"Remembered your password? Sign in"</A></p>
        </section>
    }
}
