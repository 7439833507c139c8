//! `/sharing`, the patient's side of sharing: requests from doctors (approve
//! or deny), sharing a folder or the whole record with a doctor, and the
//! doctors who have access, with a way to remove it. The doctor's side is in
//! `pages/patients`.
//!
//! Every grant is made and signed here and its key wrapped here; a doctor's
//! browser checks the patient's signature and opens the key itself, so a
//! server that swaps a grant or a key shows an error, never someone else's data.

use std::collections::HashSet;

use leptos::prelude::*;
use shared::{
    account::Username,
    api::{
        sharing::{
            self, AccessRequestView, CommitRotation, CreateGrantRequest, GrantRef, GrantStatus,
            GrantView, RequestRef, RequestStatus, StartRotation,
        },
        ErrorCode,
    },
    client::{verify_directory_entry, VerifiedEntry},
    crypto::{
        b64,
        sign::{Permission, Role},
        Id,
    },
    records::OpenTree,
    sharing::{make_grant, plan_rotation, GrantChoice, RotationOwner},
};

use crate::{
    api::{directory::lookup_user, explain_crypto, Flow},
    components::{
        badges::{request_badge, status_badge},
        form::{ErrorAlert, Field, StatusNote, SubmitButton},
        page::Loaded,
        safety_number::SafetyNumberView,
    },
    pages::{
        emergency::{EmergencyAlert, EmergencyFacts, NameContact},
        with_keys,
    },
    platform::browser::{focus_later, format_date, parse_date_input, remember_keys, seen_keys},
    session::{now_unix, use_session, Session, Unlocked},
    tasks::{
        record::{use_record_store, RecordStore},
        sharing::id_text,
    },
};

/// What people read about copies, wherever access is removed.
const COPIES_STAY: &str =
    "Copies the doctor already downloaded cannot be taken back; from now on they get nothing new.";

/// "Whole record", or the folder's path below the top ("Lab results / 2024").
fn scope_label(tree: &OpenTree, id: &Id) -> String {
    if *id == tree.root_id {
        return "Whole record".to_owned();
    }
    let path: Vec<String> = tree
        .path(id)
        .iter()
        .filter(|n| n.view.node_id != tree.root_id)
        .map(|n| n.metadata.name.clone())
        .collect();
    if path.is_empty() {
        "A folder that no longer exists".to_owned()
    } else {
        path.join(" / ")
    }
}

/// Folders a patient may share: the whole record and every folder not in the trash.
fn shareable(tree: &OpenTree) -> Vec<(Id, String)> {
    let mut out: Vec<(Id, String)> = tree
        .nodes()
        .filter(|n| n.is_folder() && !tree.in_trash(n.id()))
        .map(|n| (*n.id(), scope_label(tree, n.id())))
        .collect();
    out.sort_by(|a, b| {
        (a.0 != tree.root_id, a.1.to_lowercase()).cmp(&(b.0 != tree.root_id, b.1.to_lowercase()))
    });
    out
}

/// Percent of a key replacement done.
fn rekey_percent(state: Option<(u32, u32)>) -> u32 {
    match state {
        Some((done, total)) if total > 0 => done * 100 / total,
        _ => 0,
    }
}

/// The end of the chosen day (the whole day is included), or `None`.
fn end_of_day(value: &str) -> Result<Option<i64>, String> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let start = parse_date_input(value)
        .ok_or_else(|| "The end date is not a date. Pick one from the calendar.".to_owned())?;
    let end = start + 24 * 60 * 60;
    if end <= now_unix() {
        return Err("The end date has already passed. Choose a later date, or none.".to_owned());
    }
    Ok(Some(end))
}

/// The folder and end date chosen in a form, or what to fix.
fn choice(scope: &str, until: &str) -> Result<(Id, Option<i64>), String> {
    let expires_at = end_of_day(until)?;
    let node = b64::decode(scope)
        .and_then(|b| <Id>::try_from(b.as_slice()).ok())
        .ok_or_else(|| "Choose what to share.".to_owned())?;
    Ok((node, expires_at))
}

/// The permission picked in a form's select.
fn permission_of(value: &str) -> Permission {
    if value == "write" {
        Permission::ReadWrite
    } else {
        Permission::Read
    }
}

/// What a doctor may now do, for the message after sharing.
fn can_now(permission: Permission) -> &'static str {
    match permission {
        Permission::Read => "can now read",
        Permission::ReadWrite => "can now read and add to",
    }
}

/// The choice of read, or read and write, in a share form.
#[component]
fn PermissionField(id: String, value: RwSignal<String>) -> impl IntoView {
    let hint = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id.clone()>"Permission"</label>
            <select id=id.clone() aria-describedby=hint.clone() on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="read" selected=move || value.get() == "read">"Read only"</option>
                <option value="write" selected=move || value.get() == "write">"Read and write"</option>
            </select>
            <p class="field__hint" id=hint>
                {move || if value.get() == "write" {
                    "The doctor can view and download what you share, and add, update or delete files there on your behalf. Everything they write is signed by them and shown to you."
                } else {
                    "The doctor can view and download what you share, including files you add there later; they cannot change it."
                }}
            </p>
        </div>
    }
}

/// Looks a user up and checks their keys in this browser.
pub(crate) async fn verified_entry(
    session: Session,
    username: &str,
) -> Result<VerifiedEntry, String> {
    let name = Username::parse(username.trim()).map_err(|e| format!("{e}."))?;
    let served = lookup_user(name.to_string()).await.map_err(|e| {
        if e.code == ErrorCode::NotFound {
            format!("There is no user named {name}. Check the spelling with them.")
        } else {
            session.explain(&e)
        }
    })?;
    verify_directory_entry(name.as_str(), &served).map_err(|e| explain_crypto(e, Flow::Directory))
}

/// Looks a doctor up and checks their keys in this browser.
async fn verified_doctor(session: Session, username: &str) -> Result<VerifiedEntry, String> {
    let entry = verified_entry(session, username).await?;
    let name = entry.entry.username.clone();
    if entry.entry.role != Role::Doctor {
        return Err(format!(
            "{name} is not a doctor in medvault, so your record cannot be shared with them."
        ));
    }
    if entry.disabled {
        return Err(format!(
            "{name}'s account is disabled by an administrator, so nothing can be shared with it."
        ));
    }
    Ok(entry)
}

/// Remembers a doctor's keys the first time; `Some(false)` if they changed.
fn compare_keys(entry: &VerifiedEntry) -> Option<bool> {
    let name = entry.entry.username.clone();
    let id = id_text(&entry.entry.user_id);
    let number = entry.safety_number.to_string().replace('\n', " ");
    let same =
        seen_keys(&name).map(|(seen_id, seen_number)| seen_id == id && seen_number == number);
    if same.is_none() {
        remember_keys(&name, &id, &number);
    }
    same
}

// ---------------------------------------------------------------------------
// The patient's page.

/// Everything the patient's page shows.
#[derive(Clone)]
struct PatientData {
    tree: OpenTree,
    grants: Vec<GrantView>,
    requests: Vec<AccessRequestView>,
}

async fn load_patient(
    session: Session,
    store: RecordStore,
    unlocked: Unlocked,
) -> Result<PatientData, String> {
    let tree = store.open(session, &unlocked).await?;
    let me = unlocked.key_entry.value.user_id;
    let mut grants = sharing::list_grants()
        .await
        .map_err(|e| session.explain(&e))?;
    // Those naming this patient as someone's emergency contact are on the
    // Emergency page.
    grants.retain(|g| g.grant.value.patient_id == me);
    let requests = sharing::list_requests()
        .await
        .map_err(|e| session.explain(&e))?;
    Ok(PatientData {
        tree,
        grants,
        requests,
    })
}

/// Makes, signs and stores a grant of `node` to `doctor`.
pub(crate) async fn share_with(
    session: Session,
    unlocked: &Unlocked,
    tree: &OpenTree,
    doctor: &VerifiedEntry,
    (node, permission, expires_at): (Id, Permission, Option<i64>),
    request_id: Option<Id>,
    emergency_wait_secs: Option<i64>,
) -> Result<GrantView, String> {
    let node_key = tree
        .node(&node)
        .map(|n| n.key.clone())
        .ok_or_else(|| "That folder is no longer in your record. Reload the page.".to_owned())?;
    let choice = GrantChoice {
        doctor: doctor.entry.clone(),
        node_id: node,
        node_key,
        permission,
        expires_at,
        emergency: emergency_wait_secs.is_some(),
    };
    let (grant, wrapped_key) = make_grant(
        &unlocked.key_entry.value,
        unlocked.keyring.identity(),
        &choice,
        now_unix(),
    )?;
    sharing::create_grant(CreateGrantRequest {
        grant,
        wrapped_key,
        request_id,
        emergency_wait_secs,
    })
    .await
    .map_err(|e| session.explain(&e))
}

/// Replaces the keys under `scope` after a doctor's access to it was removed
/// (DESIGN: revocation), reporting `(parts sent, parts in all)` as it goes.
///
/// The new keys go only to grants the patient signed that are still live and
/// were not removed in this browser (`removed` is the grant just removed), to
/// the doctor's key named in each signed grant: the server's list is checked
/// before a single key is made ([`trusted_rotation_grants`]).
async fn rotate_keys(
    session: Session,
    store: RecordStore,
    unlocked: &Unlocked,
    scope: Id,
    removed: Id,
    progress: impl Fn(u32, u32),
) -> Result<(), String> {
    let result = rotate_keys_in(session, store, unlocked, scope, removed, progress).await;
    // The keys under `scope` changed (or may have, partly): no page may keep
    // using the tree from before, whose keys the removed doctor holds.
    store.forget();
    result
}

async fn rotate_keys_in(
    session: Session,
    store: RecordStore,
    unlocked: &Unlocked,
    scope: Id,
    removed: Id,
    progress: impl Fn(u32, u32),
) -> Result<(), String> {
    let me = &unlocked.key_entry.value;
    let me_b64 = b64::encode(&me.user_id);
    crate::platform::browser::remember_removed_grant(&me_b64, &b64::encode(&removed));
    let tree = store.reload(session, unlocked).await?;
    let ticket = sharing::begin_rotation(StartRotation { node_id: scope })
        .await
        .map_err(|e| session.explain(&e))?;
    let mut known: HashSet<Id> = crate::platform::browser::removed_grants(&me_b64)
        .iter()
        .filter_map(|g| b64::decode(g).and_then(|b| Id::try_from(b.as_slice()).ok()))
        .collect();
    known.insert(removed);
    let owner = RotationOwner {
        entry: me,
        removed: &known,
        now: now_unix(),
    };
    let parts = plan_rotation(&tree, &owner, &scope, &ticket)?;
    let total = parts.len() as u32 + 1;
    progress(0, total);
    let count = parts.len() as u32;
    for (i, part) in parts.into_iter().enumerate() {
        sharing::send_rotation_part(part)
            .await
            .map_err(|e| session.explain(&e))?;
        progress(i as u32 + 1, total);
    }
    sharing::finish_rotation(CommitRotation {
        rotation_id: ticket.rotation_id,
        parts: count,
    })
    .await
    .map_err(|e| session.explain(&e))?;
    progress(total, total);
    Ok(())
}

/// The patient's sharing page (needs the keys).
#[component]
pub fn SharingPage() -> impl IntoView {
    with_keys(|u| view! { <PatientSharing unlocked=u/> })
}

#[component]
fn PatientSharing(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let unlocked = StoredValue::new_local(unlocked);
    let data = LocalResource::new(move || async move {
        load_patient(session, store, unlocked.get_value()).await
    });
    let notice = RwSignal::new(None::<String>);
    let done = Callback::new(move |message: String| {
        notice.set(Some(message));
        data.refetch();
    });

    view! {
        <div class="stack">
            <h1 id="sharing-heading" tabindex="-1">"Sharing"</h1>
            <p class="lead">
                "Share your whole record, or one folder of it, with your doctors. Everything is encrypted in this browser "
                "for the doctor you choose: the server cannot read it, and it stops serving it the moment you remove access."
            </p>
            <StatusNote message=notice.into()/>
            <Loaded data=data waiting="Loading your sharing…" render=move |d: PatientData| view! {
                <EmergencyAlert grants=d.grants.clone() done=done/>
                <Requests data=d.clone() unlocked=unlocked done=done/>
                <ShareForm tree=d.tree.clone() unlocked=unlocked done=done/>
                <GrantList data=d.clone() unlocked=unlocked done=done/>
                <NameContact tree=d.tree.clone() unlocked=unlocked done=done/>
            }/>
        </div>
    }
}

/// Pending and answered requests from doctors.
#[component]
fn Requests(
    data: PatientData,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let pending: Vec<AccessRequestView> = data
        .requests
        .iter()
        .filter(|r| r.status == RequestStatus::Pending)
        .cloned()
        .collect();
    let answered: Vec<AccessRequestView> = data
        .requests
        .iter()
        .filter(|r| r.status != RequestStatus::Pending)
        .cloned()
        .collect();
    let tree = StoredValue::new_local(data.tree);
    view! {
        <section class="card" aria-labelledby="requests-heading">
            <h2 id="requests-heading">"Requests from doctors"</h2>
            {if pending.is_empty() {
                view! { <p class="muted">"No doctor is waiting for an answer."</p> }.into_any()
            } else {
                view! {
                    <ul class="request-list">
                        {pending.into_iter().map(|r| view! {
                            <PendingRequest request=r tree=tree unlocked=unlocked done=done/>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(!answered.is_empty()).then(|| view! {
                <details class="details">
                    <summary>{format!("Answered requests ({})", answered.len())}</summary>
                    <ul class="plain-list">
                        {answered.into_iter().map(|r| view! {
                            <li>
                                <strong>{r.doctor_name.clone()}</strong>
                                " asked on " {format_date(r.created_at)} ": “" {r.reason.clone()} "” "
                                {request_badge(r.status)}
                            </li>
                        }).collect_view()}
                    </ul>
                </details>
            })}
        </section>
    }
}

#[component]
fn PendingRequest(
    request: AccessRequestView,
    tree: StoredValue<OpenTree, LocalStorage>,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let key = id_text(&request.request_id);
    let choosing = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let scope = RwSignal::new(tree.with_value(|t| id_text(&t.root_id)));
    let until = RwSignal::new(String::new());
    let permission = RwSignal::new("read".to_owned());
    let doctor_name = request.doctor_name.clone();
    let request = StoredValue::new(request);

    let deny = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let r = request.get_value();
        leptos::task::spawn_local(async move {
            let result = sharing::deny_request(RequestRef {
                request_id: r.request_id,
            })
            .await;
            busy.set(false);
            match result {
                Ok(_) => {
                    done.run(format!(
                        "You said no to {}. Nothing was shared; they can see your answer.",
                        r.doctor_name
                    ));
                    focus_later("main h1");
                }
                Err(e) => error.set(Some(session.explain(&e))),
            }
        });
    };
    let approve = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let r = request.get_value();
        let (node, expires_at) = match choice(&scope.get_untracked(), &until.get_untracked()) {
            Ok(c) => c,
            Err(m) => return error.set(Some(m)),
        };
        let permission = permission_of(&permission.get_untracked());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let doctor = verified_doctor(session, &r.doctor_name).await?;
                if doctor.entry.user_id != r.doctor_id {
                    return Err("The directory's answer for this doctor does not match the request, so nothing was shared. Contact your administrator.".to_owned());
                }
                let (u, t) = (unlocked.get_value(), tree.get_value());
                let label = scope_label(&t, &node);
                share_with(
                    session,
                    &u,
                    &t,
                    &doctor,
                    (node, permission, expires_at),
                    Some(r.request_id),
                    None,
                )
                .await?;
                Ok(label)
            }
            .await;
            busy.set(false);
            match result {
                Ok(label) => {
                    done.run(format!(
                        "{} {}: {label}.",
                        r.doctor_name,
                        can_now(permission)
                    ));
                    focus_later("main h1");
                }
                Err(m) => error.set(Some(m)),
            }
        });
    };
    let r = request.get_value();
    let scope_id = format!("approve-scope-{key}");
    let until_id = format!("approve-until-{key}");
    view! {
        <li class="request">
            <p>
                <strong>{r.doctor_name.clone()}</strong>
                " asks for access to your record (" {format_date(r.created_at)} "):"
            </p>
            <blockquote class="request__reason">{r.reason.clone()}</blockquote>
            <ErrorAlert error=error/>
            <Show
                when=move || choosing.get()
                fallback={
                    let doctor_name = doctor_name.clone();
                    move || view! {
                        <div class="button-row" role="group" aria-label=format!("Answer {}", doctor_name)>
                            <button type="button" class="button" disabled=move || busy.get()
                                on:click=move |_| choosing.set(true)>"Approve…"</button>
                            <button type="button" class="button button--secondary" disabled=move || busy.get()
                                on:click=deny>{move || if busy.get() { "Working…" } else { "Deny" }}</button>
                        </div>
                    }
                }
            >
                <form class="form" on:submit=approve novalidate>
                    <div class="field">
                        <label for=scope_id.clone()>"Share"</label>
                        <select id=scope_id.clone() on:change=move |ev| scope.set(event_target_value(&ev))>
                            {tree.with_value(shareable).into_iter().map(|(id, label)| view! {
                                <option value=id_text(&id)>{label}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for=until_id.clone()>"End date (optional)"</label>
                        <input id=until_id.clone() type="date" bind:value=until/>
                    </div>
                    <PermissionField id=format!("approve-permission-{key}") value=permission/>
                    <div class="button-row">
                        <SubmitButton label="Approve and share" busy=busy.into()/>
                        <button type="button" class="button button--secondary" on:click=move |_| choosing.set(false)>"Cancel"</button>
                    </div>
                </form>
            </Show>
        </li>
    }
}

/// Share with a doctor by username.
#[component]
fn ShareForm(
    tree: OpenTree,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let username = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let doctor = RwSignal::new_local(None::<(VerifiedEntry, Option<bool>)>);
    let scope = RwSignal::new(id_text(&tree.root_id));
    let until = RwSignal::new(String::new());
    let permission = RwSignal::new("read".to_owned());
    let choices = shareable(&tree);
    let tree = StoredValue::new_local(tree);

    let look_up = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        doctor.set(None);
        busy.set(true);
        let name = username.get_untracked();
        leptos::task::spawn_local(async move {
            let result = verified_doctor(session, &name).await;
            busy.set(false);
            match result {
                Ok(entry) => {
                    let same = compare_keys(&entry);
                    doctor.set(Some((entry, same)));
                    focus_later("#share-scope");
                }
                Err(m) => error.set(Some(m)),
            }
        });
    };
    let share = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let Some((entry, _)) = doctor.get_untracked() else {
            return error.set(Some("Look the doctor up first.".to_owned()));
        };
        let (node, expires_at) = match choice(&scope.get_untracked(), &until.get_untracked()) {
            Ok(c) => c,
            Err(m) => return error.set(Some(m)),
        };
        let permission = permission_of(&permission.get_untracked());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let (u, t) = (unlocked.get_value(), tree.get_value());
            let label = scope_label(&t, &node);
            let result = share_with(
                session,
                &u,
                &t,
                &entry,
                (node, permission, expires_at),
                None,
                None,
            )
            .await;
            busy.set(false);
            match result {
                Ok(_) => {
                    doctor.set(None);
                    username.set(String::new());
                    done.run(format!(
                        "{} {}: {label}.",
                        entry.entry.username,
                        can_now(permission)
                    ));
                    focus_later("main h1");
                }
                Err(m) => error.set(Some(m)),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="share-heading">
            <h2 id="share-heading">"Share with a doctor"</h2>
            <ErrorAlert error=error/>
            <form class="form form--inline" on:submit=look_up novalidate>
                <Field id="share-username" label="Doctor's username" value=username
                    hint="Ask your doctor for their medvault username."/>
                <SubmitButton label="Look up" busy=busy.into() class="button--secondary"/>
            </form>
            {move || doctor.get().map(|(entry, same)| {
                let name = entry.entry.username.clone();
                view! {
                    <div class="doctor-card">
                        <h3>{name.clone()}</h3>
                        {match entry.verified_doctor.clone() {
                            Some((licence, admin)) => view! {
                                <p><span class="badge badge--ok">"Verified doctor"</span>
                                    " Licence " <strong>{licence}</strong> ", certified by administrator " <strong>{admin}</strong> "."</p>
                            }.into_any(),
                            None => view! {
                                <p><span class="badge badge--warn">"Not verified"</span>
                                    " No administrator has checked this doctor's licence yet. Share only if you know them."</p>
                            }.into_any(),
                        }}
                        {(same == Some(false)).then(|| view! {
                            <div class="alert alert--warning" role="alert">
                                "These keys are different from the ones this browser saw before for this doctor. "
                                "Compare the safety number with them directly before you share."
                            </div>
                        })}
                        <p class="field__hint">"Compare this safety number with your doctor in person or on the phone:"</p>
                        <SafetyNumberView number=entry.safety_number label=format!("Safety number of {name}")/>
                    </div>
                    <form class="form" on:submit=share novalidate>
                        <div class="field">
                            <label for="share-scope">"Share"</label>
                            <select id="share-scope" on:change=move |ev| scope.set(event_target_value(&ev))>
                                {choices.iter().map(|(id, label)| view! {
                                    <option value=id_text(id) selected=id_text(id) == scope.get_untracked()>{label.clone()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="share-until">"End date (optional)"</label>
                            <input id="share-until" type="date" aria-describedby="share-until-hint" bind:value=until/>
                            <p class="field__hint" id="share-until-hint">"Leave empty to share until you remove access. Access ends at the end of that day."</p>
                        </div>
                        <PermissionField id="share-permission".to_owned() value=permission/>
                        <SubmitButton label="Share" busy=busy.into()/>
                    </form>
                }
            })}
        </section>
    }
}

/// The doctors with access, and those whose access ended.
#[component]
fn GrantList(
    data: PatientData,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let rows: Vec<(GrantView, String)> = data
        .grants
        .iter()
        .map(|g| (g.clone(), scope_label(&data.tree, &g.grant.value.node_id)))
        .collect();
    view! {
        <section class="card" aria-labelledby="grants-heading">
            <h2 id="grants-heading">"Doctors with access"</h2>
            {if rows.is_empty() {
                view! { <p class="muted">"You have not shared your record with anyone."</p> }.into_any()
            } else {
                view! {
                    <ul class="grant-list">
                        {rows.into_iter().map(|(g, label)| view! { <GrantRow grant=g label=label unlocked=unlocked done=done/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn GrantRow(
    grant: GrantView,
    label: String,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let confirming = RwSignal::new(false);
    // Set once the server ended the grant: its remove controls go away even
    // if replacing the keys then fails (the retry stays).
    let removed = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let g = grant.grant.value.clone();
    let doctor = grant.doctor_name.clone();
    // The server lists the grants; only those that verify under the patient's
    // own key were made by the patient. Any other is shown as such (it never
    // receives a key: rotations refuse it) and can be removed like any grant.
    let forged = unlocked.with_value(|u| {
        let me = &u.key_entry.value;
        grant.grant.verify(&me.identity_key).is_err() || g.patient_id != me.user_id
    });
    // Anything not ended can be removed, an emergency contact's too.
    let active = grant.status.is_live();
    let grant_id = g.grant_id;
    let rekey = RwSignal::new(None::<(u32, u32)>);
    let retry = RwSignal::new(false);
    let scope = g.node_id;
    // Replaces the folder's keys; on success the list reloads with the news.
    let rotate = move |doctor: String, label: String| {
        leptos::task::spawn_local(async move {
            rekey.set(Some((0, 1)));
            let u = unlocked.get_value();
            let result = rotate_keys(session, store, &u, scope, grant_id, move |done, total| {
                rekey.set(Some((done, total)))
            })
            .await;
            rekey.set(None);
            busy.set(false);
            match result {
                Ok(()) => {
                    done.run(format!(
                        "{doctor} no longer has access to: {label}. Its keys were replaced, so keys they may have kept open nothing new. {COPIES_STAY}"
                    ));
                    focus_later("main h1");
                }
                Err(m) => {
                    retry.set(true);
                    error.set(Some(format!(
                        "{doctor}'s access was removed, but replacing the folder's keys did not finish: {m} Use “Replace the keys again” to finish it."
                    )));
                }
            }
        });
    };
    let remove = {
        let doctor = doctor.clone();
        let label = label.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            let (doctor, label) = (doctor.clone(), label.clone());
            leptos::task::spawn_local(async move {
                match sharing::revoke_grant(GrantRef { grant_id }).await {
                    Ok(_) => {
                        removed.set(true);
                        rotate(doctor, label)
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(session.explain(&e)));
                    }
                }
            });
        }
    };
    let again = {
        let doctor = doctor.clone();
        let label = label.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            retry.set(false);
            error.set(None);
            rotate(doctor.clone(), label.clone());
        }
    };
    let permission = match (g.permission, grant.emergency.is_some()) {
        (_, true) => "Emergency contact",
        (Permission::Read, false) => "Read",
        (Permission::ReadWrite, false) => "Read and write",
    };
    let emergency = grant
        .emergency
        .clone()
        .map(|e| view! { <EmergencyFacts emergency=e status=grant.status/> });
    let end = match (grant.status, grant.revoked_at, g.expires_at) {
        (GrantStatus::Revoked, Some(t), _) => format!("Removed {}", format_date(t)),
        (_, _, Some(t)) => format!("Until {}", format_date(t)),
        _ => "No end date".to_owned(),
    };
    view! {
        <li class="grant">
            <div class="grant__head">
                <div class="grant__who">
                    <strong class="grant__doctor">{doctor.clone()}</strong>
                    <span class="item__facts">
                        <span>{label.clone()}</span>
                        <span>{permission}</span>
                        <span>{format!("Since {}", format_date(g.created_at))}</span>
                        <span>{end}</span>
                    </span>
                    {emergency}
                </div>
                {if forged {
                    view! { <span class="badge badge--danger">"Not made by you"</span> }.into_any()
                } else {
                    let status = grant.status;
                    (move || {
                        status_badge(if removed.get() { GrantStatus::Revoked } else { status })
                    })
                    .into_any()
                }}
            </div>
            {forged.then(|| view! {
                <p class="alert alert--warning" role="note">
                    {format!("You did not sign this share with {doctor}: the server's list holds an entry that did not come from you. Nothing of yours is wrapped to it. Remove it, and tell your administrator.")}
                </p>
            })}
            {active.then(|| view! {
                <div hidden=move || removed.get()>
                <Show
                    when=move || confirming.get()
                    fallback={
                        let doctor = doctor.clone();
                        move || view! {
                            <div class="button-row">
                                <button type="button" class="button button--secondary button--small"
                                    aria-label=format!("Remove {}'s access", doctor)
                                    on:click=move |_| confirming.set(true)>"Remove access"</button>
                            </div>
                        }
                    }
                >
                    <div class="confirm" role="group" aria-label="Confirm removal">
                        <p>{format!("Remove {}'s access to {}? ", doctor, label)}{COPIES_STAY}</p>
                        <div class="button-row">
                            <button type="button" class="button button--danger button--small" disabled=move || busy.get()
                                on:click=remove.clone()>{move || if busy.get() { "Working…" } else { "Yes, remove access" }}</button>
                            <button type="button" class="button button--secondary button--small"
                                on:click=move |_| confirming.set(false)>"Keep access"</button>
                        </div>
                    </div>
                </Show>
                </div>
            })}
            <Show when=move || rekey.with(Option::is_some)>
                <div class="progress-line">
                    <div class="progress" role="progressbar" aria-label="Replacing the folder's keys"
                        aria-valuemin="0" aria-valuemax="100"
                        aria-valuenow=move || rekey_percent(rekey.get()).to_string()
                        aria-valuetext=move || format!("{}%", rekey_percent(rekey.get()))>
                        <div class="progress__bar" style:width=move || format!("{}%", rekey_percent(rekey.get()))></div>
                    </div>
                    <span class="progress-line__text">{move || format!("Replacing keys: {}%", rekey_percent(rekey.get()))}</span>
                </div>
            </Show>
            <ErrorAlert error=error/>
            <Show when=move || retry.get()>
                <button type="button" class="button button--small" disabled=move || busy.get()
                    on:click=again.clone()>"Replace the keys again"</button>
            </Show>
        </li>
    }
}
