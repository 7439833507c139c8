//! The account page's password card and recovery-code card.

use leptos::prelude::*;
use zeroize::Zeroizing;

use crate::{
    components::{
        action::{use_action, ActionMessages},
        form::{new_password_submit, ErrorAlert, Field, StatusNote, StrengthMeter, SubmitButton},
        recovery_code::NewRecoveryCode,
    },
    platform::browser::focus_later,
    session::{use_session, Unlocked},
    tasks::account::{change_password, check_new_password, ended_text, replace_recovery_code},
};

/// The sentence when the password changed but the new recovery code failed.
fn no_new_code(message: &str) -> String {
    format!(
        "Your password was changed, but no new recovery code was made: {message} Your old recovery code still works; make a new one under “Recovery code” below."
    )
}

#[component]
pub(super) fn ChangePassword(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let unlocked = StoredValue::new_local(unlocked);
    let also_new_code = RwSignal::new(false);
    let new_code = StoredValue::new_local(None::<Zeroizing<String>>);
    let showing_code = RwSignal::new(false);

    let submit = move || {
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        done.set(None);
        let second_factor = session.unlocked().is_some_and(|u| u.info.totp_enabled);
        let (name, user_id, keyring) =
            unlocked.with_value(|u| (u.info.username.clone(), u.info.user_id, u.keyring.clone()));
        if current.with_untracked(String::is_empty) {
            return error.set(Some("Type your current password.".to_owned()));
        }
        let (typed_new, typed_confirm) = (new.get_untracked(), confirm.get_untracked());
        if let Err(message) = check_new_password(&typed_new, &typed_confirm, &name, second_factor) {
            return error.set(Some(message));
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let typed_current = Zeroizing::new(current.get_untracked());
            let typed_new = Zeroizing::new(typed_new);
            let also = also_new_code.get_untracked();
            let result = change_password(&typed_current, &typed_new, &keyring, user_id, also).await;
            busy.set(false);
            let (ended, made) = match result {
                Ok(done) => done,
                Err(message) => return error.set(Some(message)),
            };
            current.set(String::new());
            new.set(String::new());
            confirm.set(String::new());
            done.set(Some(format!(
                "Password changed. {}",
                ended_text(ended.ended_sessions)
            )));
            match made {
                Some(Ok(code)) => {
                    new_code.set_value(Some(code));
                    showing_code.set(true);
                    focus_later("#new-recovery-heading");
                }
                Some(Err(message)) => error.set(Some(no_new_code(&message))),
                None => {}
            }
        });
    };

    let username = unlocked.with_value(|u| u.info.username.clone());
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            <p>"Changing your password signs out every other session. Your records and keys stay the same."</p>
            <ErrorAlert error=error/>
            <StatusNote message=done.into()/>
            <form class="form" on:submit=new_password_submit(submit) novalidate>
                <PasswordFields current=current new=new confirm=confirm also_new_code=also_new_code username=username.clone()/>
                <SubmitButton label="Change password" busy=busy.into()/>
            </form>
            <ShowNewCode new_code=new_code showing_code=showing_code username=username/>
        </section>
    }
}

/// A recovery code made with the password change, shown once.
#[component]
fn ShowNewCode(
    new_code: StoredValue<Option<Zeroizing<String>>, LocalStorage>,
    showing_code: RwSignal<bool>,
    username: String,
) -> impl IntoView {
    view! {
        <Show when=move || showing_code.get()>
            {
                let username = username.clone();
                move || new_code.with_value(|c| c.clone()).map(|code| view! {
                    <NewRecoveryCode code=code username=username.clone()
                        done=move || { new_code.set_value(None); showing_code.set(false); }/>
                })
            }
        </Show>
    }
}

/// The three password fields of a change, with the strength meter and the
/// choice of a new recovery code.
#[component]
fn PasswordFields(
    current: RwSignal<String>,
    new: RwSignal<String>,
    confirm: RwSignal<String>,
    also_new_code: RwSignal<bool>,
    username: String,
) -> impl IntoView {
    let name_signal = Signal::derive(move || username.clone());
    view! {
        <Field id="current-password" label="Current password" value=current kind="password" autocomplete="current-password"/>
        <Field id="new-password" label="New password" value=new kind="password" autocomplete="new-password"
            hint="At least 15 characters (12 with a second factor on)."/>
        <StrengthMeter password=new username=name_signal/>
        <Field id="confirm-password" label="Confirm password" value=confirm kind="password" autocomplete="new-password"/>
        <div class="checkbox">
            <input id="password-new-code" type="checkbox" bind:checked=also_new_code/>
            <label for="password-new-code">"Also make a new recovery code (the old one stops working)"</label>
        </div>
    }
}

/// Makes a new recovery code at any time; the old one stops working.
#[component]
pub(super) fn RecoveryCodeSection(unlocked: Unlocked) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let unlocked = StoredValue::new_local(unlocked);
    let new_code = StoredValue::new_local(None::<Zeroizing<String>>);
    let showing_code = RwSignal::new(false);
    let action = use_action(move |()| async move {
        let (user_id, keyring) = unlocked.with_value(|u| (u.info.user_id, u.keyring.clone()));
        let typed = Zeroizing::new(password.get_untracked());
        let code = replace_recovery_code(&typed, &keyring, user_id).await?;
        password.set(String::new());
        new_code.set_value(Some(code));
        showing_code.set(true);
        focus_later("#new-recovery-heading");
        Ok(None)
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if action.busy_signal().get_untracked() {
            return;
        }
        if password.with_untracked(String::is_empty) {
            action.status.set(None);
            return action.error.set(Some(
                "Type your password to make a new recovery code.".to_owned(),
            ));
        }
        action.run(());
    };

    view! {
        <section class="card" aria-labelledby="recovery-code-heading">
            <h2 id="recovery-code-heading">"Recovery code"</h2>
            <p>
                "Your recovery code lets you choose a new password if you forget yours. "
                "Make a new one if you lost it or someone else may have seen it: the old one stops working at once."
            </p>
            <ActionMessages action=action/>
            <Show
                when=move || showing_code.get()
                fallback=move || view! {
                    <form class="form" on:submit=submit novalidate>
                        <Field id="recovery-code-password" label="Your password" value=password kind="password" autocomplete="current-password"
                            hint="To make sure it is you."/>
                        <SubmitButton label="Make a new recovery code" busy=action.busy_signal()/>
                    </form>
                }
            >
                {move || new_code.with_value(|c| c.clone()).map(|code| view! {
                    <NewRecoveryCode code=code username=unlocked.with_value(|u| u.info.username.clone())
                        done=move || {
                            new_code.set_value(None);
                            showing_code.set(false);
                            action.status.set(Some("Your new recovery code is in use. The old one no longer works.".to_owned()));
                        }/>
                })}
            </Show>
        </section>
    }
}
