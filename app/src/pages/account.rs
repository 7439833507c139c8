//! `/account`: where you are signed in, your password, your recovery code and
//! the second factor.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::{
    api::account::SessionSummary,
    client::{PasswordChange, TotpEnrolment},
    crypto::totp::{self, TotpSecret},
};
use zeroize::Zeroizing;

use crate::{
    api::{
        account::{
            logout_everywhere, password_change_finish, password_change_start, revoke_session,
            sessions, totp_disable, totp_enable, totp_enable_start,
        },
        explain, explain_crypto, Flow,
    },
    components::{
        form::{ErrorAlert, Field, StatusNote, StrengthMeter, SubmitButton},
        recovery_code::{replace_recovery_code, NewRecoveryCode},
    },
    pages::{signup::check_new_password, with_keys},
    platform::browser::{format_time, next_paint},
    session::{role_label, use_session, Unlocked},
};

/// The account page (needs the keys).
#[component]
pub fn AccountPage() -> impl IntoView {
    with_keys(|u| view! { <Account unlocked=u/> })
}

#[component]
fn Account(unlocked: Unlocked) -> impl IntoView {
    let info = unlocked.info.clone();
    view! {
        <div class="stack">
            <h1 id="account-heading" tabindex="-1">"Your account"</h1>
            <dl class="facts card">
                <div><dt>"Username"</dt><dd>{info.username.clone()}</dd></div>
                <div><dt>"Role"</dt><dd>{role_label(info.role)}</dd></div>
                <div><dt>"This session ends by"</dt><dd>{format_time(info.expires_at)}</dd></div>
            </dl>
            <Sessions/>
            <ChangePassword unlocked=unlocked.clone()/>
            <RecoveryCodeSection unlocked=unlocked.clone()/>
            <SecondFactor/>
        </div>
    }
}

fn ended_text(n: u32) -> String {
    match n {
        1 => "1 other session was signed out.".to_owned(),
        n => format!("{n} other sessions were signed out."),
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let list = LocalResource::new(sessions);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let done = RwSignal::new(None::<String>);

    let revoke = move |id: String| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match revoke_session(id).await {
                Ok(()) => {
                    done.set(Some("That session was signed out.".to_owned()));
                    list.refetch();
                }
                Err(e) => error.set(Some(session.explain(&e))),
            }
            busy.set(false);
        });
    };
    let everywhere = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match logout_everywhere().await {
                Ok(_) => {
                    session.forget();
                    session.notice.set(Some(
                        "You have signed out on every device, this one included.".to_owned(),
                    ));
                    navigate("/signin", Default::default());
                }
                Err(e) => error.set(Some(explain(&e))),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Where you are signed in"</h2>
            <ErrorAlert error=error/>
            <StatusNote message=done.into()/>
            <Transition fallback=|| view! { <p class="status status--pending" role="status">"Loading your sessions…"</p> }>
                {move || list.get().map(|result| match result {
                    Ok(items) => view! { <SessionTable items=items revoke=revoke busy=busy.into()/> }.into_any(),
                    Err(e) => view! { <p class="alert alert--error" role="alert">{session.explain(&e)}</p> }.into_any(),
                })}
            </Transition>
            <button type="button" class="button button--secondary" disabled=move || busy.get() on:click=everywhere>
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

#[component]
fn ChangePassword(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let unlocked = StoredValue::new_local(unlocked);
    let username = unlocked.with_value(|u| u.info.username.clone());
    let name_signal = Signal::derive(move || username.clone());
    let also_new_code = RwSignal::new(false);
    let new_code = StoredValue::new_local(None::<Zeroizing<String>>);
    let showing_code = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        done.set(None);
        let second_factor = session
            .unlocked()
            .map(|u| u.info.totp_enabled)
            .unwrap_or(false);
        let (name, user_id, keyring) =
            unlocked.with_value(|u| (u.info.username.clone(), u.info.user_id, u.keyring.clone()));
        if current.with_untracked(String::is_empty) {
            error.set(Some("Type your current password.".to_owned()));
            return;
        }
        if let Err(message) = check_new_password(
            &new.get_untracked(),
            &confirm.get_untracked(),
            &name,
            second_factor,
        ) {
            error.set(Some(message));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let (change, request) = {
                    let c = Zeroizing::new(current.get_untracked());
                    let n = Zeroizing::new(new.get_untracked());
                    PasswordChange::start(&c, &n)
                        .map_err(|e| explain_crypto(e, Flow::PasswordChange))?
                };
                let started = password_change_start(request)
                    .await
                    .map_err(|e| explain(&e))?;
                next_paint().await;
                let request = change
                    .finish(&started, &keyring, &user_id)
                    .map_err(|e| explain_crypto(e, Flow::PasswordChange))?;
                password_change_finish(request)
                    .await
                    .map_err(|e| explain(&e))
            }
            .await;
            let result = match result {
                Ok(ended) if also_new_code.get_untracked() => {
                    // The new password proves itself for the new recovery code.
                    let password = Zeroizing::new(new.get_untracked());
                    let made = replace_recovery_code(&password, &keyring, user_id).await;
                    Ok((ended, Some(made)))
                }
                Ok(ended) => Ok((ended, None)),
                Err(message) => Err(message),
            };
            busy.set(false);
            match result {
                Ok((ended, made)) => {
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
                            crate::platform::browser::focus_later("#new-recovery-heading");
                        }
                        Some(Err(message)) => error.set(Some(format!(
                            "Your password was changed, but no new recovery code was made: {message} Your old recovery code still works; make a new one under “Recovery code” below."
                        ))),
                        None => {}
                    }
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Change password"</h2>
            <p>"Changing your password signs out every other session. Your records and keys stay the same."</p>
            <ErrorAlert error=error/>
            <StatusNote message=done.into()/>
            <form class="form" on:submit=submit novalidate>
                <Field id="current-password" label="Current password" value=current kind="password" autocomplete="current-password"/>
                <Field id="new-password" label="New password" value=new kind="password" autocomplete="new-password"
                    hint="At least 15 characters (12 with a second factor on)."/>
                <StrengthMeter password=new username=name_signal/>
                <Field id="confirm-password" label="Confirm password" value=confirm kind="password" autocomplete="new-password"/>
                <div class="checkbox">
                    <input id="password-new-code" type="checkbox" bind:checked=also_new_code/>
                    <label for="password-new-code">"Also make a new recovery code (the old one stops working)"</label>
                </div>
                <SubmitButton label="Change password" busy=busy.into()/>
            </form>
            <Show when=move || showing_code.get()>
                {move || new_code.with_value(|c| c.clone()).map(|code| view! {
                    <NewRecoveryCode code=code username=unlocked.with_value(|u| u.info.username.clone())
                        done=move || { new_code.set_value(None); showing_code.set(false); }/>
                })}
            </Show>
        </section>
    }
}

/// Makes a new recovery code at any time; the old one stops working.
#[component]
fn RecoveryCodeSection(unlocked: Unlocked) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let unlocked = StoredValue::new_local(unlocked);
    let new_code = StoredValue::new_local(None::<Zeroizing<String>>);
    let showing_code = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        done.set(None);
        if password.with_untracked(String::is_empty) {
            error.set(Some(
                "Type your password to make a new recovery code.".to_owned(),
            ));
            return;
        }
        let (user_id, keyring) = unlocked.with_value(|u| (u.info.user_id, u.keyring.clone()));
        busy.set(true);
        leptos::task::spawn_local(async move {
            let typed = Zeroizing::new(password.get_untracked());
            let result = replace_recovery_code(&typed, &keyring, user_id).await;
            busy.set(false);
            match result {
                Ok(code) => {
                    password.set(String::new());
                    new_code.set_value(Some(code));
                    showing_code.set(true);
                    crate::platform::browser::focus_later("#new-recovery-heading");
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="recovery-code-heading">
            <h2 id="recovery-code-heading">"Recovery code"</h2>
            <p>
                "Your recovery code lets you choose a new password if you forget yours. "
                "Make a new one if you lost it or someone else may have seen it: the old one stops working at once."
            </p>
            <ErrorAlert error=error/>
            <StatusNote message=done.into()/>
            <Show
                when=move || showing_code.get()
                fallback=move || view! {
                    <form class="form" on:submit=submit novalidate>
                        <Field id="recovery-code-password" label="Your password" value=password kind="password" autocomplete="current-password"
                            hint="To make sure it is you."/>
                        <SubmitButton label="Make a new recovery code" busy=busy.into()/>
                    </form>
                }
            >
                {move || new_code.with_value(|c| c.clone()).map(|code| view! {
                    <NewRecoveryCode code=code username=unlocked.with_value(|u| u.info.username.clone())
                        done=move || {
                            new_code.set_value(None);
                            showing_code.set(false);
                            done.set(Some("Your new recovery code is in use. The old one no longer works.".to_owned()));
                        }/>
                })}
            </Show>
        </section>
    }
}

#[component]
fn SecondFactor() -> impl IntoView {
    let session = use_session();
    let enabled = Memo::new(move |_| {
        session
            .unlocked()
            .map(|u| u.info.totp_enabled)
            .unwrap_or(false)
    });
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    // The secret lives only while the enrolment form is open.
    let secret = StoredValue::new_local(None::<TotpSecret>);
    let enrolling = RwSignal::new(false);
    let qr = RwSignal::new(String::new());
    let manual = RwSignal::new(String::new());

    let start = move |_| {
        error.set(None);
        done.set(None);
        let name = session
            .unlocked()
            .map(|u| u.info.username)
            .unwrap_or_default();
        let made = TotpSecret::generate()
            .map_err(|e| explain_crypto(e, Flow::Signup))
            .and_then(|s| {
                let uri = totp::otpauth_uri(&s, &name);
                let svg = totp::qr_svg(&uri).map_err(|e| explain_crypto(e, Flow::Signup))?;
                Ok((s, svg))
            });
        match made {
            Ok((s, svg)) => {
                manual.set(group_secret(&s.to_base32()));
                qr.set(svg);
                secret.set_value(Some(s));
                enrolling.set(true);
                crate::platform::browser::focus_later("#totp-steps");
            }
            Err(message) => error.set(Some(message)),
        }
    };
    let cancel = move |_| {
        secret.set_value(None);
        qr.set(String::new());
        manual.set(String::new());
        code.set(String::new());
        password.set(String::new());
        enrolling.set(false);
    };

    let read_code = move || -> Result<String, String> {
        let typed: String = code
            .get_untracked()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if typed.len() != 6 || !typed.chars().all(|c| c.is_ascii_digit()) {
            return Err("Type the six digits your authenticator app shows.".to_owned());
        }
        Ok(typed)
    };

    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let typed = match read_code() {
            Ok(t) => t,
            Err(m) => return error.set(Some(m)),
        };
        if password.with_untracked(String::is_empty) {
            return error.set(Some(
                "Type your password: turning on a second factor needs it.".to_owned(),
            ));
        }
        let Some(new_secret) =
            secret.with_value(|s| s.as_ref().map(|s| TotpSecret::from_bytes(*s.as_bytes())))
        else {
            return;
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            // A fresh proof of the password, so an open session alone cannot do this.
            let result = async {
                let (enrolment, request) = {
                    let typed_password = Zeroizing::new(password.get_untracked());
                    TotpEnrolment::start(&typed_password)
                        .map_err(|e| explain_crypto(e, Flow::SecondFactor))?
                };
                let started = totp_enable_start(request).await.map_err(|e| explain(&e))?;
                next_paint().await;
                let request = enrolment
                    .finish(&started, &new_secret, &typed)
                    .map_err(|e| explain_crypto(e, Flow::SecondFactor))?;
                totp_enable(request).await.map_err(|e| explain(&e))
            }
            .await;
            match result {
                Ok(info) => {
                    secret.set_value(None);
                    qr.set(String::new());
                    manual.set(String::new());
                    code.set(String::new());
                    password.set(String::new());
                    enrolling.set(false);
                    session.update_info(info);
                    done.set(Some(
                        "Second factor is on. From now on, sign-in asks for a code from your app."
                            .to_owned(),
                    ));
                }
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };

    let disable = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        done.set(None);
        let typed = match read_code() {
            Ok(t) => t,
            Err(m) => return error.set(Some(m)),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match totp_disable(typed).await {
                Ok(info) => {
                    code.set(String::new());
                    session.update_info(info);
                    done.set(Some(
                        "Second factor is off. Sign-in now asks only for your password.".to_owned(),
                    ));
                }
                Err(e) => error.set(Some(explain(&e))),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card" aria-labelledby="totp-heading">
            <h2 id="totp-heading">"Second factor"</h2>
            <ErrorAlert error=error/>
            <StatusNote message=done.into()/>
            {move || if enabled.get() {
                view! {
                    <p><span class="badge badge--ok">"On"</span> " Sign-in asks for a code from your authenticator app."</p>
                    <form class="form" on:submit=disable novalidate>
                        <Field id="totp-off-code" label="Authentication code" value=code autocomplete="one-time-code" inputmode="numeric"
                            hint="To turn the second factor off, type a current code from your app."/>
                        <SubmitButton label="Turn off second factor" busy=busy.into() class="button--danger"/>
                    </form>
                }.into_any()
            } else if enrolling.get() {
                view! {
                    <ol class="totp-steps" id="totp-steps" tabindex="-1">
                        <li>
                            <p>"Scan this QR code with your authenticator app."</p>
                            <div class="qr" inner_html=move || qr.get()></div>
                        </li>
                        <li>
                            <p>"Or type this key into the app by hand:"</p>
                            <p class="secret-key">{move || manual.get()}</p>
                        </li>
                        <li>
                            <form class="form" on:submit=confirm novalidate>
                                <Field id="totp-code" label="Authentication code" value=code autocomplete="one-time-code" inputmode="numeric"
                                    hint="Type the six digits the app now shows for medvault."/>
                                <Field id="totp-password" label="Your password" value=password kind="password" autocomplete="current-password"
                                    hint="To confirm it is you, type the password you sign in with."/>
                                <div class="actions">
                                    <SubmitButton label="Turn on second factor" busy=busy.into()/>
                                    <button type="button" class="button button--secondary" on:click=cancel>"Cancel"</button>
                                </div>
                            </form>
                        </li>
                    </ol>
                }.into_any()
            } else {
                view! {
                    <p>"Off. With a second factor on, a stolen password alone cannot open your account."</p>
                    <button type="button" class="button" on:click=start>"Set up an authenticator app"</button>
                }.into_any()
            }}
        </section>
    }
}

/// The base32 secret in groups of four, easier to type.
fn group_secret(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}
