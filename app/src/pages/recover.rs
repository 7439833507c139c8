//! `/recover`: a new password from the recovery code. The code opens the recovery
//! copy of the keyring here in the browser; the server only checks a signature.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};
use zeroize::Zeroizing;

use crate::{
    components::{
        form::{new_password_submit, ErrorAlert, Field, StatusNote, StrengthMeter, SubmitButton},
        recovery_code::NewRecoveryCode,
    },
    platform::browser::focus_later,
    session::use_session,
    tasks::account::{check_new_password, recover},
};

/// A fresh recovery code and whose it is, shown once after the recovery.
type ShownCode = StoredValue<Option<(Zeroizing<String>, String)>, LocalStorage>;

/// The recovery page.
#[component]
pub fn RecoverPage() -> impl IntoView {
    let new_code: ShownCode = StoredValue::new_local(None);
    let showing_code = RwSignal::new(false);
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
            <RecoverForm new_code=new_code showing_code=showing_code/>
            <p class="form-links"><A href="/signin">"Remembered your password? Sign in"</A></p>
        </section>
    }
}

/// Username, recovery code and the new password; on success the session is
/// unlocked, and a fresh code (when asked for) goes to `new_code`.
#[component]
fn RecoverForm(new_code: ShownCode, showing_code: RwSignal<bool>) -> impl IntoView {
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

    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let name = username.get_untracked().trim().to_owned();
        if name.is_empty() || code.with_untracked(|c| c.trim().is_empty()) {
            return error.set(Some(
                "Type your username and your recovery code.".to_owned(),
            ));
        }
        let typed = Zeroizing::new(password.get_untracked());
        if let Err(message) = check_new_password(&typed, &confirm.get_untracked(), &name, false) {
            return error.set(Some(message));
        }
        busy.set(true);
        progress.set(Some("Opening your keys with the recovery code…".to_owned()));
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let typed_code = Zeroizing::new(code.get_untracked());
            let wanted = new_code_wanted.get_untracked();
            let result = recover(&name, &typed_code, &typed, wanted, |p| {
                progress.set(Some(p))
            })
            .await;
            busy.set(false);
            progress.set(None);
            let recovered = match result {
                Ok(r) => r,
                Err(message) => return error.set(Some(message)),
            };
            let keys = recovered.keys;
            session.unlock(keys.info, keys.keyring, keys.key_entry);
            session.notice.set(Some(recovered.note));
            code.set(String::new());
            password.set(String::new());
            confirm.set(String::new());
            match recovered.new_code {
                Some(made) => {
                    new_code.set_value(Some(made));
                    showing_code.set(true);
                    focus_later("#new-recovery-heading");
                }
                None => navigate("/", Default::default()),
            }
        });
    };

    view! {
        <ErrorAlert error=error/>
        <form class="form" on:submit=new_password_submit(submit) novalidate>
            <RecoverFields username=username code=code password=password confirm=confirm new_code_wanted=new_code_wanted/>
            <SubmitButton label="Recover account" busy=busy.into()/>
            <StatusNote message=progress.into()/>
        </form>
    }
}

/// The recovery form's fields.
#[component]
fn RecoverFields(
    username: RwSignal<String>,
    code: RwSignal<String>,
    password: RwSignal<String>,
    confirm: RwSignal<String>,
    new_code_wanted: RwSignal<bool>,
) -> impl IntoView {
    view! {
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
    }
}
