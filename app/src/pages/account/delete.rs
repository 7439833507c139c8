//! The account page's last card: a patient deletes their account and their
//! whole record, after typing their username and proving their password
//! (PROTOCOL 15.12). The session ends with it.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use zeroize::Zeroizing;

use crate::{
    components::form::{ConfirmName, ErrorAlert, SubmitButton},
    session::{use_session, Unlocked},
    tasks::account::delete_account,
};

/// What the sign-in page says afterwards.
fn deleted_text(d: &shared::api::account::AccountDeleted) -> String {
    let shares = match d.grants {
        0 => "No share had to end.".to_owned(),
        1 => "The one share you had made ended with it.".to_owned(),
        n => format!("The {n} shares you had made ended with it."),
    };
    format!(
        "Your account and your record are deleted: {} items and {} stored parts of files were removed from the server. {shares}",
        d.nodes, d.chunks
    )
}

#[component]
pub(super) fn DeleteAccount(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let username = unlocked.info.username.clone();
    let typed = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        if typed.with_untracked(|t| t.trim().is_empty()) {
            return error.set(Some(
                "Type your username to confirm. Nothing was deleted.".to_owned(),
            ));
        }
        if password.with_untracked(String::is_empty) {
            return error.set(Some(
                "Type your password to confirm. Nothing was deleted.".to_owned(),
            ));
        }
        busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let secret = Zeroizing::new(password.get_untracked());
            let result = delete_account(&secret, typed.get_untracked().trim().to_owned()).await;
            busy.set(false);
            match result {
                Ok(done) => {
                    session.forget();
                    session.notice.set(Some(deleted_text(&done)));
                    navigate("/signin", Default::default());
                }
                Err(message) => {
                    password.set(String::new());
                    error.set(Some(message));
                }
            }
        });
    };
    view! {
        <section class="card card--danger" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete your account"</h2>
            <p>
                "This removes your whole record from the server: every folder, file, vital reading and version, "
                "your profile, every share you made (your doctors lose access at once) and every session. "
                "It cannot be undone. Export your record first if you want to keep a copy."
            </p>
            <p class="muted">"The access log keeps its entries, which name no file and hold no content. Your username stays taken, so nobody can later be mistaken for you."</p>
            <ErrorAlert error=error/>
            <form class="form" on:submit=submit novalidate>
                <ConfirmName id="delete-username" label="Your username, to confirm" name=username value=typed/>
                <div class="field">
                    <label for="delete-password">"Password"</label>
                    <input id="delete-password" type="password" autocomplete="current-password"
                        bind:value=password/>
                </div>
                <SubmitButton label="Delete my account and record" busy=busy.into() class="button--danger"/>
            </form>
        </section>
    }
}
