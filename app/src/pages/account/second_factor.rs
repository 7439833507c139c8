//! The account page's second-factor card: set up an authenticator app (with
//! a fresh password proof), or turn it off with a current code.

use leptos::prelude::*;
use zeroize::Zeroizing;

use crate::{
    api::{account::totp_disable, explain},
    components::form::{ErrorAlert, Field, StatusNote, SubmitButton},
    platform::browser::focus_later,
    session::use_session,
    tasks::account::{enable_second_factor, new_second_factor, parse_code, NewSecret},
};

/// The card's state, shared by its three views (on, setting up, off).
#[derive(Clone, Copy)]
struct TotpState {
    error: RwSignal<Option<String>>,
    done: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    code: RwSignal<String>,
    password: RwSignal<String>,
    /// The secret lives only while the enrolment form is open.
    secret: StoredValue<Option<NewSecret>, LocalStorage>,
    enrolling: RwSignal<bool>,
    qr: RwSignal<String>,
    manual: RwSignal<String>,
}

impl TotpState {
    fn new() -> Self {
        TotpState {
            error: RwSignal::new(None),
            done: RwSignal::new(None),
            busy: RwSignal::new(false),
            code: RwSignal::new(String::new()),
            password: RwSignal::new(String::new()),
            secret: StoredValue::new_local(None),
            enrolling: RwSignal::new(false),
            qr: RwSignal::new(String::new()),
            manual: RwSignal::new(String::new()),
        }
    }

    /// Closes the enrolment form and forgets the secret.
    fn close(&self) {
        self.secret.set_value(None);
        self.qr.set(String::new());
        self.manual.set(String::new());
        self.code.set(String::new());
        self.password.set(String::new());
        self.enrolling.set(false);
    }
}

#[component]
pub(super) fn SecondFactor() -> impl IntoView {
    let session = use_session();
    let enabled = Memo::new(move |_| session.unlocked().is_some_and(|u| u.info.totp_enabled));
    let state = TotpState::new();
    view! {
        <section class="card" aria-labelledby="totp-heading">
            <h2 id="totp-heading">"Second factor"</h2>
            <ErrorAlert error=state.error/>
            <StatusNote message=state.done.into()/>
            {move || if enabled.get() {
                view! { <TotpOn state=state/> }.into_any()
            } else if state.enrolling.get() {
                view! { <TotpSteps state=state/> }.into_any()
            } else {
                view! { <TotpOff state=state/> }.into_any()
            }}
        </section>
    }
}

/// On: a current code turns it off.
#[component]
fn TotpOn(state: TotpState) -> impl IntoView {
    let session = use_session();
    let disable = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if state.busy.get_untracked() {
            return;
        }
        state.error.set(None);
        state.done.set(None);
        let typed = match parse_code(&state.code.get_untracked()) {
            Ok(t) => t,
            Err(m) => return state.error.set(Some(m)),
        };
        state.busy.set(true);
        leptos::task::spawn_local(async move {
            match totp_disable(typed).await {
                Ok(info) => {
                    state.code.set(String::new());
                    session.update_info(info);
                    state.done.set(Some(
                        "Second factor is off. Sign-in now asks only for your password.".to_owned(),
                    ));
                }
                Err(e) => state.error.set(Some(explain(&e))),
            }
            state.busy.set(false);
        });
    };
    let mandatory = session
        .unlocked()
        .is_some_and(|u| u.info.second_factor_policy);
    if mandatory {
        return view! {
            <p><span class="badge badge--ok">"On"</span> " Sign-in asks for a code from your authenticator app."</p>
            <p class="muted">"This installation requires a second factor for your role, so it stays on."</p>
        }
            .into_any();
    }
    view! {
        <p><span class="badge badge--ok">"On"</span> " Sign-in asks for a code from your authenticator app."</p>
        <form class="form" on:submit=disable novalidate>
            <Field id="totp-off-code" label="Authentication code" value=state.code autocomplete="one-time-code" inputmode="numeric"
                hint="To turn the second factor off, type a current code from your app."/>
            <SubmitButton label="Turn off second factor" busy=state.busy.into() class="button--danger"/>
        </form>
    }
        .into_any()
}

/// Off: a button makes a fresh secret and opens the enrolment steps.
#[component]
fn TotpOff(state: TotpState) -> impl IntoView {
    let session = use_session();
    let start = move |_| {
        state.error.set(None);
        state.done.set(None);
        let name = session
            .unlocked()
            .map(|u| u.info.username)
            .unwrap_or_default();
        match new_second_factor(&name) {
            Ok(setup) => {
                state.manual.set(setup.manual);
                state.qr.set(setup.qr_svg);
                state.secret.set_value(Some(setup.secret));
                state.enrolling.set(true);
                focus_later("#totp-steps");
            }
            Err(message) => state.error.set(Some(message)),
        }
    };
    view! {
        <p>"Off. With a second factor on, a stolen password alone cannot open your account."</p>
        <button type="button" class="button" on:click=start>"Set up an authenticator app"</button>
    }
}

/// Setting up: scan or type the key, then confirm with a code and the password.
#[component]
fn TotpSteps(state: TotpState) -> impl IntoView {
    let session = use_session();
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if state.busy.get_untracked() {
            return;
        }
        state.error.set(None);
        let typed = match parse_code(&state.code.get_untracked()) {
            Ok(t) => t,
            Err(m) => return state.error.set(Some(m)),
        };
        if state.password.with_untracked(String::is_empty) {
            return state.error.set(Some(
                "Type your password: turning on a second factor needs it.".to_owned(),
            ));
        }
        let Some(secret) = state
            .secret
            .with_value(|s| s.as_ref().map(NewSecret::duplicate))
        else {
            return;
        };
        state.busy.set(true);
        leptos::task::spawn_local(async move {
            let password = Zeroizing::new(state.password.get_untracked());
            match enable_second_factor(&password, secret, &typed).await {
                Ok(info) => {
                    state.close();
                    session.update_info(info);
                    state.done.set(Some(
                        "Second factor is on. From now on, sign-in asks for a code from your app."
                            .to_owned(),
                    ));
                }
                Err(message) => state.error.set(Some(message)),
            }
            state.busy.set(false);
        });
    };
    view! {
        <ol class="totp-steps" id="totp-steps" tabindex="-1">
            <li>
                <p>"Scan this QR code with your authenticator app."</p>
                <div class="qr" inner_html=move || state.qr.get()></div>
            </li>
            <li>
                <p>"Or type this key into the app by hand:"</p>
                <p class="secret-key">{move || state.manual.get()}</p>
            </li>
            <li>
                <form class="form" on:submit=confirm novalidate>
                    <Field id="totp-code" label="Authentication code" value=state.code autocomplete="one-time-code" inputmode="numeric"
                        hint="Type the six digits the app now shows for medvault."/>
                    <Field id="totp-password" label="Your password" value=state.password kind="password" autocomplete="current-password"
                        hint="To confirm it is you, type the password you sign in with."/>
                    <div class="actions">
                        <SubmitButton label="Turn on second factor" busy=state.busy.into()/>
                        <button type="button" class="button button--secondary" on:click=move |_| state.close()>"Cancel"</button>
                    </div>
                </form>
            </li>
        </ol>
    }
}
