//! `/notifications`: what happened that concerns this person, newest first
//! (after shares that end within a week), each in a sentence with where to
//! go next, and "Mark all as read". The server knows only who did what to
//! which grant or item; names of files and folders stay encrypted and are
//! never in a notification.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    api::notifications::{Notice, NoticeKind, Notices},
    model::Role,
};

use crate::{
    api::notifications::{get_notice_email, list_notices, mark_notices_read, set_notice_email},
    components::{action::use_action, form::ErrorAlert, page::Loaded},
    pages::with_keys,
    platform::browser::{format_date, format_time},
    session::use_session,
    tasks::sharing::id_text,
};

/// The page (needs the keys, like every signed-in page).
#[component]
pub fn NotificationsPage() -> impl IntoView {
    with_keys(|u| view! { <Notifications role=u.info.role/> })
}

#[component]
fn Notifications(role: Role) -> impl IntoView {
    let session = use_session();
    let list = LocalResource::new(move || async move {
        let n = list_notices().await.map_err(|e| session.explain(&e))?;
        session.unread.set(n.unread);
        Ok::<Notices, String>(n)
    });
    let read = use_action(move |()| async move {
        let n = mark_notices_read().await.map_err(|e| session.explain(&e))?;
        session.unread.set(n.unread);
        list.refetch();
        Ok(Some("Marked as read.".to_owned()))
    });
    view! {
        <div class="stack">
            <h1 id="notifications-heading" tabindex="-1">"Notifications"</h1>
            <p class="lead">"Requests, answers, shares and emergency access that concern you. They never name a file or what is in it."</p>
            <ErrorAlert error=read.error/>
            <section class="card" aria-labelledby="notices-list-heading">
                <div class="card__head">
                    <h2 id="notices-list-heading">"Newest first"</h2>
                    <button type="button" class="button button--secondary button--small"
                        disabled=move || read.busy() || session.unread.get() == 0
                        on:click=move |_| read.run(())>"Mark all as read"</button>
                </div>
                <p class="visually-hidden" role="status">{move || read.status.get()}</p>
                <Loaded data=list waiting="Loading notifications…" render=move |n: Notices| {
                    if n.notices.is_empty() {
                        view! { <p class="empty-state">"Nothing new. You will see here when someone asks for, shares or opens a record."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="notices" aria-labelledby="notices-list-heading">
                                {n.notices.into_iter().map(|notice| view! { <NoticeItem notice=notice role=Some(role)/> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }/>
            </section>
            <EmailCard/>
        </div>
    }
}

/// "E-mail me when there is something new": the address the server keeps
/// for that, shown only when the server sends e-mail at all.
#[component]
fn EmailCard() -> impl IntoView {
    let session = use_session();
    let setting = LocalResource::new(move || async move {
        get_notice_email().await.map_err(|e| session.explain(&e))
    });
    let typed = RwSignal::new(String::new());
    let save = use_action(move |email: Option<String>| async move {
        let removing = email.is_none();
        let kept = set_notice_email(email)
            .await
            .map_err(|e| session.explain(&e))?;
        typed.set(kept.email.clone().unwrap_or_default());
        setting.refetch();
        Ok(Some(if removing {
            "No more e-mail: the address is removed.".to_owned()
        } else {
            "Saved. An e-mail will tell you when there is a new notification.".to_owned()
        }))
    });
    Effect::new(move |_| {
        if let Some(Ok(s)) = setting.get() {
            typed.set(s.email.unwrap_or_default());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run(Some(typed.get_untracked()));
    };
    let available = move || setting.get().is_some_and(|r| r.is_ok_and(|s| s.available));
    let kept = move || setting.get().and_then(|r| r.ok()).and_then(|s| s.email);
    view! {
        <Show when=available>
            <section class="card" aria-labelledby="notice-email-heading">
                <h2 id="notice-email-heading">"E-mail"</h2>
                <p>"Get an e-mail when there is a new notification. It says only that there is one, never who or what, so nothing about your health passes through e-mail."</p>
                <ErrorAlert error=save.error/>
                <p class="visually-hidden" role="status">{move || save.status.get()}</p>
                <form class="form" on:submit=submit novalidate>
                    <div class="field">
                        <label for="notice-email">"Your e-mail address"</label>
                        <input id="notice-email" type="email" autocomplete="email" maxlength="254"
                            bind:value=typed/>
                    </div>
                    <div class="actions">
                        <button type="submit" class="button" disabled=move || save.busy()>"Save address"</button>
                        <Show when=move || kept().is_some()>
                            <button type="button" class="button button--secondary" disabled=move || save.busy()
                                on:click=move |_| save.run(None)>"Stop e-mail"</button>
                        </Show>
                    </div>
                </form>
                <p class="muted">{move || match kept() {
                    Some(a) => format!("E-mail goes to {a}."),
                    None => "No e-mail is sent.".to_owned(),
                }}</p>
            </section>
        </Show>
    }
}

/// One notification: its sentence, when, and a link onward.
#[component]
fn NoticeItem(notice: Notice, role: Option<Role>) -> impl IntoView {
    let (text, link) = wording(&notice, role);
    let when = match notice.kind {
        NoticeKind::ShareEnding => format!("Ends {}", format_date(notice.at)),
        _ => format_time(notice.at),
    };
    view! {
        <li class="notice" class:notice--unread=notice.unread>
            {notice.unread.then(|| view! { <span class="badge badge--warn">"New"</span> })}
            <p class="notice__text">{text}</p>
            <p class="notice__meta muted">{when}</p>
            {link.map(|(href, label)| view! { <A href=href>{label}</A> })}
        </li>
    }
}

/// The sentence, and where to go next.
fn wording(n: &Notice, role: Option<Role>) -> (String, Option<(String, &'static str)>) {
    let who = if n.other.is_empty() {
        "Someone".to_owned()
    } else {
        n.other.clone()
    };
    let shared = n
        .grant_id
        .map(|g| (format!("/patients/{}", id_text(&g)), "Open the record"));
    match n.kind {
        NoticeKind::AccessRequested => (
            format!("{who} asked for access to your record."),
            Some(("/sharing".to_owned(), "Answer on the Sharing page")),
        ),
        NoticeKind::AccessApproved => (format!("{who} approved your request for access."), shared),
        NoticeKind::AccessDenied => (format!("{who} said no to your request for access."), None),
        NoticeKind::ShareReceived => (format!("{who} shared part of their record with you."), shared),
        NoticeKind::ContactNamed => (
            format!("{who} named you as their emergency contact."),
            Some(("/emergency".to_owned(), "See emergency access")),
        ),
        NoticeKind::EmergencyRequested => (
            format!("{who} asked to open your record in an emergency. If you did not expect this, refuse it before the waiting period ends."),
            Some(("/emergency".to_owned(), "Review emergency access")),
        ),
        NoticeKind::EmergencyOpened => (
            format!("{who} opened your record in an emergency."),
            Some(("/history".to_owned(), "See your access history")),
        ),
        NoticeKind::FileWritten => (
            format!("{who} added a file to your record."),
            Some(("/records".to_owned(), "Open your records")),
        ),
        NoticeKind::ShareEnding => {
            let link = match role {
                Some(Role::Doctor) => shared,
                _ => Some(("/sharing".to_owned(), "Change or renew it")),
            };
            (format!("A share between you and {who} ends within a week."), link)
        }
    }
}
