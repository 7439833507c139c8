//! `/`: the landing page when signed out (what medvault is, how to start, whether
//! the server is ready); once signed in, who you are and what to do next.

use leptos::prelude::*;
use leptos_router::components::{Redirect, A};
use shared::model::Role;

use crate::{
    components::{form::StatusNote, safety_number::SafetyNumberView, server_status::ServerStatus},
    pages::emergency::EmergencyNotice,
    session::{role_label, use_session, AuthState, Unlocked},
    tasks::directory::safety_number_of,
};

/// `/`: landing or home, depending on the session.
#[component]
pub fn HomePage() -> impl IntoView {
    let session = use_session();
    let kind = Memo::new(move |_| {
        session.state.with(|s| match s {
            AuthState::Checking | AuthState::SignedOut => 0u8,
            AuthState::Locked(_) => 1,
            AuthState::Unlocked(_) => 2,
        })
    });
    move || match kind.get() {
        1 => view! { <Redirect path="/signin"/> }.into_any(),
        2 => match session.state.get_untracked() {
            AuthState::Unlocked(u) => view! { <SignedInHome unlocked=u/> }.into_any(),
            _ => ().into_any(),
        },
        _ => view! { <Landing/> }.into_any(),
    }
}

#[component]
fn Landing() -> impl IntoView {
    view! {
        <div class="home">
            <section class="hero" aria-labelledby="home-heading">
                <h1 id="home-heading" tabindex="-1">"Your medical records, private by design"</h1>
                <p class="lead">
                    "medvault keeps your lab results, prescriptions, imaging and notes encrypted "
                    "on your own device before anything is stored. You decide which doctor sees what, "
                    "and for how long."
                </p>
                <p class="actions">
                    <A href="/signin" attr:class="button">"Sign in"</A>
                    <A href="/signup" attr:class="button button--secondary">"Create an account"</A>
                </p>
            </section>
            <ul class="promises" aria-label="How medvault protects your records">
                <li class="card">
                    <h2>"Encrypted in your browser"</h2>
                    <p>"Every file gets its own key. Your password never leaves this device."</p>
                </li>
                <li class="card">
                    <h2>"Shared on your terms"</h2>
                    <p>"Give a doctor access to one folder or your whole record, and take it back."</p>
                </li>
                <li class="card">
                    <h2>"Every access recorded"</h2>
                    <p>"A tamper-evident history shows who opened what, and when."</p>
                </li>
            </ul>
            <ServerStatus/>
        </div>
    }
}

#[component]
fn SignedInHome(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let notice = RwSignal::new(session.notice.get_untracked());
    session.notice.set(None);
    let info = unlocked.info.clone();
    let entry = &unlocked.key_entry.value;
    let number = safety_number_of(entry);
    let steps: Vec<(&'static str, &'static str, &'static str)> = {
        let mut steps = Vec::new();
        if !info.totp_enabled {
            steps.push((
                "/account",
                "Turn on a second factor",
                "An authenticator app code at sign-in keeps your account safe even if your password leaks.",
            ));
        }
        match info.role {
            Role::Admin => {
                steps.push((
                    "/admin",
                    "Invite people and verify doctors",
                    "Send invite links, check each doctor's licence and sign their keys.",
                ));
            }
            Role::Doctor => {
                steps.push(("/directory", "Check your verification", "Look yourself up in the directory: once an administrator has verified your licence, you carry a verified-doctor badge."));
            }
            Role::Patient => {
                steps.push(("/directory", "Find your doctor", "Look your doctor up by username and compare the safety number with them before you share anything."));
            }
            Role::Auditor => {
                steps.push((
                    "/directory",
                    "Look up a user",
                    "Check anyone's keys and safety number in the directory.",
                ));
            }
        }
        steps.push((
            "/account",
            "Review where you are signed in",
            "See your sessions, sign out other devices, or change your password.",
        ));
        steps
    };
    view! {
        <div class="home">
            <section class="hero" aria-labelledby="home-heading">
                <h1 id="home-heading" tabindex="-1">"Welcome, " {info.username.clone()}</h1>
                <StatusNote message=notice.into()/>
                {(info.role == Role::Patient).then(|| view! { <EmergencyNotice me=entry.user_id/> })}
                <p class="lead">
                    "You are signed in as " <strong>{role_label(info.role)}</strong>
                    ". Your keys are unlocked in this tab only; closing or reloading it locks them again."
                </p>
            </section>
            <section class="card" aria-labelledby="next-heading">
                <h2 id="next-heading">"Next steps"</h2>
                <ul class="steps">
                    {steps.into_iter().map(|(href, title, text)| view! {
                        <li>
                            <A href=href>{title}</A>
                            <p>{text}</p>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
            <section class="card" aria-labelledby="own-number-heading">
                <h2 id="own-number-heading">"Your safety number"</h2>
                <p>"Others can compare this with what their app shows for you, to be sure they have your real keys."</p>
                <SafetyNumberView number=number label="Your safety number".to_owned()/>
            </section>
        </div>
    }
}
