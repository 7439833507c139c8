//! `/admin`: invites, the list of accounts, verifying doctors (the certificate is
//! signed here with the admin's key) and disabling accounts.

use leptos::prelude::*;
use shared::{
    api::{
        admin::{Invite, OpenInvite, UserSummary},
        audit::MAX_PAGE,
        directory::{NamesRequest, MAX_NAMES},
    },
    client::{certify_doctor, verify_directory_entry, VerifiedEntry},
    crypto::{b64, sign::Role, Id},
};

use crate::{
    api::{
        admin::{
            create_invite, list_invites, list_users, revoke_invite, set_disabled, verify_doctor,
        },
        audit::{audit_key, system_events},
        directory::{lookup_user, user_names},
        explain, explain_crypto, Flow,
    },
    components::{
        form::{ErrorAlert, Field, StatusNote, SubmitButton},
        safety_number::SafetyNumberView,
    },
    pages::with_keys,
    platform::browser::{copy_text, focus_later, format_time, origin},
    session::{now_unix, role_label, role_with_article, use_session, Unlocked},
};

/// The admin page (needs the keys and the admin role).
#[component]
pub fn AdminPage() -> impl IntoView {
    with_keys(|u| {
        if u.info.role == Role::Admin {
            view! { <Admin unlocked=u/> }.into_any()
        } else {
            view! {
                <section class="card narrow" aria-labelledby="admin-heading">
                    <h1 id="admin-heading" tabindex="-1">"Administration"</h1>
                    <p>"This page is for administrators. Your account does not have that role."</p>
                </section>
            }
            .into_any()
        }
    })
}

#[component]
fn Admin(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let users = LocalResource::new(list_users);
    let invites = LocalResource::new(list_invites);
    let revoked = RwSignal::new(None::<String>);
    let unlocked = StoredValue::new_local(unlocked);
    view! {
        <div class="stack">
            <h1 id="admin-heading" tabindex="-1">"Administration"</h1>
            <InviteForm created=move || invites.refetch()/>
            <section class="card" aria-labelledby="open-invites-heading">
                <h2 id="open-invites-heading" tabindex="-1">"Open invites"</h2>
                <p>"Invite links that have not been used yet and have not expired. Revoke one if it was sent to the wrong person or may have leaked."</p>
                <StatusNote message=revoked.into()/>
                <Transition fallback=|| view! { <p class="status status--pending" role="status">"Loading invites…"</p> }>
                    {move || invites.get().map(|result| match result {
                        Ok(list) => view! { <InviteTable list=list reload=move || invites.refetch() done=revoked/> }.into_any(),
                        Err(e) => view! { <p class="alert alert--error" role="alert">{session.explain(&e)}</p> }.into_any(),
                    })}
                </Transition>
            </section>
            <section class="card" aria-labelledby="users-heading">
                <h2 id="users-heading">"Accounts"</h2>
                <Transition fallback=|| view! { <p class="status status--pending" role="status">"Loading accounts…"</p> }>
                    {move || users.get().map(|result| match result {
                        Ok(list) => view! { <UserTable list=list unlocked=unlocked reload=move || users.refetch()/> }.into_any(),
                        Err(e) => view! { <p class="alert alert--error" role="alert">{session.explain(&e)}</p> }.into_any(),
                    })}
                </Transition>
            </section>
            <SystemEvents/>
        </div>
    }
}

#[component]
fn InviteForm(created: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let role = RwSignal::new("doctor".to_owned());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let made = RwSignal::new(None::<(Invite, String)>);
    let copied = RwSignal::new(None::<String>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        copied.set(None);
        made.set(None);
        let chosen = match role.get_untracked().as_str() {
            "patient" => Role::Patient,
            "admin" => Role::Admin,
            "auditor" => Role::Auditor,
            _ => Role::Doctor,
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match create_invite(chosen).await {
                Ok(invite) => {
                    let link = format!("{}/signup?invite={}", origin(), invite.code);
                    made.set(Some((invite, link)));
                    created();
                    focus_later("#invite-link-heading");
                }
                Err(e) => error.set(Some(explain(&e))),
            }
            busy.set(false);
        });
    };
    let copy = move |_| {
        let Some(link) = made.with_untracked(|m| m.as_ref().map(|(_, l)| l.clone())) else {
            return;
        };
        leptos::task::spawn_local(async move {
            copied.set(Some(if copy_text(&link).await {
                "Link copied.".to_owned()
            } else {
                "Copying did not work here; select the link and copy it by hand.".to_owned()
            }));
        });
    };

    view! {
        <section class="card" aria-labelledby="invite-heading">
            <h2 id="invite-heading">"Invite someone"</h2>
            <p>"The invite link works once, for 7 days. Send it privately: whoever opens it can create an account with that role."</p>
            <ErrorAlert error=error/>
            <form class="form form--inline" on:submit=submit novalidate>
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" bind:value=role>
                        <option value="doctor">"Doctor"</option>
                        <option value="patient">"Patient"</option>
                        <option value="auditor">"Auditor"</option>
                        <option value="admin">"Administrator"</option>
                    </select>
                </div>
                <SubmitButton label="Create invite link" busy=busy.into()/>
            </form>
            {move || made.get().map(|(invite, link)| view! {
                <div class="invite-link">
                    <h3 id="invite-link-heading" tabindex="-1">
                        "Invite link for " {role_with_article(invite.role)}
                    </h3>
                    <p>"It is shown only now. It stops working on " {format_time(invite.expires_at)} "."</p>
                    <p class="invite-link__url"><code>{link}</code></p>
                    <button type="button" class="button button--secondary" on:click=copy>"Copy link"</button>
                    <StatusNote message=copied.into()/>
                </div>
            })}
        </section>
    }
}

/// The open invites, each with a "Revoke" button that asks before it acts.
#[component]
fn InviteTable(
    list: Vec<OpenInvite>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    done: RwSignal<Option<String>>,
) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No open invites."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Open invites"</caption>
                <thead>
                    <tr>
                        <th scope="col">"For"</th>
                        <th scope="col">"Made by"</th>
                        <th scope="col">"Made"</th>
                        <th scope="col">"Works until"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|invite| view! { <InviteRow invite=invite reload=reload done=done/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn InviteRow(
    invite: OpenInvite,
    reload: impl Fn() + Copy + Send + Sync + 'static,
    done: RwSignal<Option<String>>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let key = b64::encode(&invite.id);
    let who = role_with_article(invite.role);
    let maker = invite
        .created_by_username
        .clone()
        .unwrap_or_else(|| "A removed account".to_owned());
    let ask_id = format!("revoke-{key}");
    let ask_focus = format!("[id='{ask_id}']");
    let confirm_id = format!("confirm-revoke-{key}");
    let confirm_focus = format!("[id='{confirm_id}']");
    let revoke = {
        let key = key.clone();
        let who = who.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let key = key.clone();
            let who = who.clone();
            leptos::task::spawn_local(async move {
                let result = revoke_invite(key).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        done.set(Some(format!(
                            "The invite for {who} was revoked. Its link no longer works."
                        )));
                        reload();
                        focus_later("#open-invites-heading");
                    }
                    Err(e) => {
                        asking.set(false);
                        error.set(Some(explain(&e)));
                    }
                }
            });
        }
    };
    view! {
        <tr>
            <th scope="row">{role_label(invite.role)}</th>
            <td>{maker}</td>
            <td>{format_time(invite.created_at)}</td>
            <td>{format_time(invite.expires_at)}</td>
            <td class="table__actions">
                <div role="group" aria-label=format!("Invite for {who}")>
                    <Show when=move || asking.get() fallback={
                        let who = who.clone();
                        let ask_id = ask_id.clone();
                        let confirm_focus = confirm_focus.clone();
                        move || view! {
                            <button type="button" id=ask_id.clone() class="button button--secondary button--small"
                                aria-label=format!("Revoke the invite for {who}")
                                on:click={
                                    let confirm_focus = confirm_focus.clone();
                                    move |_| { asking.set(true); focus_later(&confirm_focus); }
                                }>"Revoke"</button>
                        }
                    }>
                        <span class="confirm-text">"Revoke this invite? Its link will stop working."</span>
                        <button type="button" id=confirm_id.clone() class="button button--danger button--small"
                            disabled=move || busy.get() on:click=revoke.clone()>
                            {move || if busy.get() { "Working…" } else { "Yes, revoke" }}
                        </button>
                        <button type="button" class="button button--secondary button--small"
                            on:click={
                                let ask_focus = ask_focus.clone();
                                move |_| { asking.set(false); focus_later(&ask_focus); }
                            }>"Keep"</button>
                    </Show>
                    <ErrorAlert error=error/>
                </div>
            </td>
        </tr>
    }
}

#[component]
fn UserTable(
    list: Vec<UserSummary>,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let verifying = RwSignal::new(None::<String>);

    let toggle = move |user: UserSummary| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match set_disabled(b64::encode(&user.user_id), !user.disabled).await {
                Ok(_) => reload(),
                Err(e) => error.set(Some(explain(&e))),
            }
            busy.set(false);
        });
    };

    view! {
        <ErrorAlert error=error/>
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">"Every account"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Username"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Verified"</th>
                        <th scope="col">"Last sign-in"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|u| {
                        let name = u.username.clone();
                        let is_self = unlocked.with_value(|me| me.info.user_id == u.user_id);
                        let unverified_doctor = u.role == Role::Doctor && !u.verified;
                        let toggle_user = u.clone();
                        let verify_name = name.clone();
                        view! {
                            <tr>
                                <th scope="row">{name.clone()}</th>
                                <td>{role_label(u.role)}</td>
                                <td>{if u.disabled { view! { <span class="badge badge--warn">"Disabled"</span> }.into_any() } else { view! { <span>"Active"</span> }.into_any() }}</td>
                                <td>{match (u.role, u.verified) {
                                    (Role::Doctor, true) => view! { <span class="badge badge--ok">"Verified"</span> }.into_any(),
                                    (Role::Doctor, false) => view! { <span>"Not yet"</span> }.into_any(),
                                    _ => view! { <span class="muted">"—"</span> }.into_any(),
                                }}</td>
                                <td>{u.last_sign_in.map(format_time).unwrap_or_else(|| "Never".to_owned())}</td>
                                <td class="table__actions">
                                    {unverified_doctor.then(|| view! {
                                        <button type="button" class="button button--small"
                                            aria-label=format!("Verify {verify_name}")
                                            on:click={let n = verify_name.clone(); move |_| { verifying.set(Some(n.clone())); focus_later("#licence-id"); }}>
                                            "Verify"
                                        </button>
                                    })}
                                    {(!is_self).then(|| view! {
                                        <button type="button" class="button button--secondary button--small"
                                            disabled=move || busy.get()
                                            aria-label=format!("{} {}", if u.disabled { "Enable" } else { "Disable" }, name)
                                            on:click=move |_| toggle(toggle_user.clone())>
                                            {if u.disabled { "Enable" } else { "Disable" }}
                                        </button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || verifying.get().map(|name| view! {
            <VerifyDoctor name=name unlocked=unlocked done=move || { verifying.set(None); reload(); } cancel=move || verifying.set(None)/>
        })}
    }
}

/// Checks a doctor's licence (outside medvault), then signs a certificate over the
/// keys the directory serves for them, after showing their safety number.
#[component]
fn VerifyDoctor(
    name: String,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: impl Fn() + Copy + Send + Sync + 'static,
    cancel: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let licence = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let checked = StoredValue::new_local(None::<VerifiedEntry>);
    let number = RwSignal::new_local(None::<shared::crypto::fingerprint::SafetyNumber>);
    let name_store = StoredValue::new(name.clone());

    let look_up = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        if licence.with_untracked(|l| l.trim().is_empty()) {
            return error.set(Some(
                "Type the doctor's licence id, as you checked it with the licensing body."
                    .to_owned(),
            ));
        }
        busy.set(true);
        let name = name_store.get_value();
        leptos::task::spawn_local(async move {
            let result = async {
                let served = lookup_user(name.clone()).await.map_err(|e| explain(&e))?;
                verify_directory_entry(&name, &served)
                    .map_err(|e| explain_crypto(e, Flow::Directory))
            }
            .await;
            busy.set(false);
            match result {
                Ok(entry) => {
                    number.set(Some(entry.safety_number.clone()));
                    checked.set_value(Some(entry));
                }
                Err(m) => error.set(Some(m)),
            }
        });
    };

    let sign = move |_| {
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let Some(entry) = checked.with_value(|c| c.as_ref().map(|c| c.entry.clone())) else {
            return;
        };
        let certificate = unlocked.with_value(|me| {
            certify_doctor(
                &me.keyring,
                me.info.user_id,
                &entry,
                &licence.get_untracked(),
                now_unix(),
            )
        });
        busy.set(true);
        leptos::task::spawn_local(async move {
            match verify_doctor(certificate).await {
                Ok(_) => done(),
                Err(e) => error.set(Some(explain(&e))),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="card verify" aria-labelledby="verify-heading">
            <h2 id="verify-heading">"Verify doctor " {name.clone()}</h2>
            <p>"First check the doctor's licence with the licensing body. Then compare the safety number below with the doctor, in person or on a call you placed yourself."</p>
            <ErrorAlert error=error/>
            <form class="form" on:submit=look_up novalidate>
                <Field id="licence-id" label="Licence id" value=licence/>
                <div class="actions">
                    <SubmitButton label="Show safety number" busy=busy.into()/>
                    <button type="button" class="button button--secondary" on:click=move |_| cancel()>"Cancel"</button>
                </div>
            </form>
            {move || number.get().map(|n| view! {
                <h3>"Safety number of " {name.clone()}</h3>
                <SafetyNumberView number=n label=format!("Safety number of {}", name)/>
                <p>"Sign only if the doctor reads you the same numbers."</p>
                <button type="button" class="button" disabled=move || busy.get() on:click=sign>
                    {move || if busy.get() { "Working…" } else { "Sign certificate" }}
                </button>
            })}
        </section>
    }
}

/// How many of the newest system events the console shows.
const SHOWN_EVENTS: usize = 200;

/// Sign-ins, refusals and admin actions, newest first, and the audit key that
/// auditors compare against.
#[component]
fn SystemEvents() -> impl IntoView {
    let session = use_session();
    let key = LocalResource::new(audit_key);
    let events = LocalResource::new(move || async move {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = system_events(after, MAX_PAGE).await?;
            all.extend(page.events);
            match page.next {
                Some(next) if next > after => after = next,
                _ => break,
            }
        }
        all.reverse();
        all.truncate(SHOWN_EVENTS);
        let mut ids: Vec<Id> = all
            .iter()
            .flat_map(|e| [e.actor, e.subject])
            .flatten()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut names = std::collections::HashMap::new();
        for batch in ids.chunks(MAX_NAMES) {
            let list = user_names(NamesRequest {
                ids: batch.to_vec(),
            })
            .await?;
            names.extend(list.into_iter().map(|n| (n.user_id, n.username)));
        }
        Ok::<_, shared::api::ApiError>((all, names))
    });
    view! {
        <section class="card" aria-labelledby="events-heading">
            <h2 id="events-heading">"System events"</h2>
            <p>
                "The newest sign-ins, refused sign-ins and administrator actions. "
                "Auditors verify the whole log against this server's audit key:"
            </p>
            <Suspense fallback=|| ()>
                {move || key.get().map(|k| match k {
                    Ok(k) => view! { <p class="audit-key">"Audit key: " <code>{b64::encode(&k.key.to_bytes())}</code></p> }.into_any(),
                    Err(e) => view! { <p class="alert alert--error" role="alert">{session.explain(&e)}</p> }.into_any(),
                })}
            </Suspense>
            <Transition fallback=|| view! { <p class="status status--pending" role="status">"Loading events…"</p> }>
                {move || events.get().map(|result| match result {
                    Err(e) => view! { <p class="alert alert--error" role="alert">{session.explain(&e)}</p> }.into_any(),
                    Ok((list, names)) => {
                        let name = move |id: Option<Id>| {
                            id.map(|i| names.get(&i).cloned().unwrap_or_else(|| format!("Account {}", &b64::encode(&i)[..8])))
                                .unwrap_or_default()
                        };
                        view! {
                            <div class="table-wrap">
                                <table class="table">
                                    <thead>
                                        <tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Account concerned"</th></tr>
                                    </thead>
                                    <tbody>
                                        {list.into_iter().map(|e| view! {
                                            <tr>
                                                <td>{format_time(e.at)}</td>
                                                <td>{name(e.actor)}</td>
                                                <td>{e.kind.label()}</td>
                                                <td>{name(e.subject)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}
