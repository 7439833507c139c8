//! Sharing, both sides.
//!
//! `/sharing` (patients): requests from doctors (approve or deny), sharing a
//! folder or the whole record with a doctor, and the doctors who have access,
//! with a way to remove it.
//!
//! `/patients` (doctors): ask a patient for access, the answers, and the
//! records shared with this doctor (each can be declined); `/patients/:grant`
//! opens one of them.
//!
//! Every grant is made and signed here and its key wrapped here; a doctor's
//! browser checks the patient's signature and opens the key itself, so a
//! server that swaps a grant or a key shows an error, never someone else's data.

use std::collections::HashSet;

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};
use shared::{
    account::Username,
    api::{
        records::{self, NodeKind, NodeRevision},
        sharing::{
            self, validate_reason, AccessRequestView, CommitRotation, CreateGrantRequest, GrantRef,
            GrantStatus, GrantView, NewAccessRequest, RequestRef, RequestStatus, StartRotation,
        },
        ErrorCode,
    },
    client::{verify_directory_entry, VerifiedEntry},
    crypto::{
        b64,
        sign::{KeyEntry, Permission, Role},
        Id,
    },
    records::{OpenNode, OpenTree},
    sharing::{make_grant, open_grant, plan_rotation, GrantChoice, RotationOwner},
};

use crate::{
    api::{directory::lookup_user, explain_crypto, Flow},
    components::{
        dialog::Modal,
        form::{ErrorAlert, Field, StatusNote, SubmitButton},
        page::Loaded,
        safety_number::SafetyNumberView,
    },
    pages::{
        emergency::{EmergencyAlert, EmergencyFacts, NameContact},
        records::{files_of, preview_of, type_for, Preview, PreviewView, ProgressLine},
        with_keys,
    },
    platform::browser::{focus_later, format_date, parse_date_input, remember_keys, seen_keys},
    session::{now_unix, use_session, Session, Unlocked},
    tasks::authors,
    tasks::record::{use_record_store, RecordStore},
    transfer::{
        self, format_bytes, preview_kind, Cancel, DownloadJob, PreviewKind, Progress, UploadJob,
        UploadTarget, MAX_TEXT_PREVIEW,
    },
};

/// What a doctor reads when a share ends while they look at it.
const ENDED: &str = "Your access to this record has ended: the patient removed it, or its end date passed. Nothing more can be opened from it.";

/// What people read about copies, wherever access is removed.
const COPIES_STAY: &str =
    "Copies the doctor already downloaded cannot be taken back; from now on they get nothing new.";

pub(crate) fn id_text(id: &Id) -> String {
    b64::encode(id)
}

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

pub(crate) fn status_badge(status: GrantStatus) -> impl IntoView {
    let (class, text) = match status {
        GrantStatus::Active => ("badge badge--ok", "Active"),
        GrantStatus::Expired => ("badge badge--muted", "Expired"),
        GrantStatus::Revoked => ("badge badge--muted", "Removed"),
        GrantStatus::Standby => ("badge badge--muted", "Not in use"),
        GrantStatus::Waiting => ("badge badge--warn", "Emergency request waiting"),
        GrantStatus::Declined => ("badge badge--muted", "Declined by the doctor"),
    };
    view! { <span class=class>{text}</span> }
}

fn request_badge(status: RequestStatus) -> impl IntoView {
    let (class, text) = match status {
        RequestStatus::Pending => ("badge badge--warn", "Waiting for an answer"),
        RequestStatus::Approved => ("badge badge--ok", "Approved"),
        RequestStatus::Denied => ("badge badge--muted", "Denied"),
    };
    view! { <span class=class>{text}</span> }
}

/// Percent of a key replacement done.
fn rekey_percent(state: Option<(u32, u32)>) -> u32 {
    match state {
        Some((done, total)) if total > 0 => done * 100 / total,
        _ => 0,
    }
}

fn until_text(expires_at: Option<i64>) -> String {
    match expires_at {
        None => "Until you remove it".to_owned(),
        Some(t) => format!("Until {}", format_date(t)),
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

// ---------------------------------------------------------------------------
// The doctor's pages.

#[derive(Clone)]
struct DoctorData {
    grants: Vec<GrantView>,
    requests: Vec<AccessRequestView>,
}

/// The doctor's patients page (needs the keys).
#[component]
pub fn PatientsPage() -> impl IntoView {
    with_keys(|u| view! { <Patients unlocked=u/> })
}

#[component]
fn Patients(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let is_doctor = unlocked.info.role == Role::Doctor;
    let data = LocalResource::new(move || async move {
        let grants = sharing::list_grants()
            .await
            .map_err(|e| session.explain(&e))?;
        let requests = sharing::list_requests()
            .await
            .map_err(|e| session.explain(&e))?;
        Ok::<_, String>(DoctorData { grants, requests })
    });
    let notice = RwSignal::new(None::<String>);
    let done = Callback::new(move |message: String| {
        notice.set(Some(message));
        data.refetch();
    });
    if !is_doctor {
        return view! {
            <div class="stack">
                <h1 id="patients-heading" tabindex="-1">"Patients"</h1>
                <p class="alert alert--info" role="status">"This page is for doctors. Patients share their record from the Sharing page."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="stack">
            <h1 id="patients-heading" tabindex="-1">"Patients"</h1>
            <p class="lead">"Records your patients shared with you, and your requests for access. What you open is decrypted in this browser only."</p>
            <StatusNote message=notice.into()/>
            <Suspense fallback=|| view! { <p class="status status--pending" role="status">"Loading…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(message) => view! { <p class="alert alert--error" role="alert">{message}</p> }.into_any(),
                    Ok(d) => view! {
                        <SharedWithMe grants=d.grants.clone() done=done/>
                        <AskForm done=done/>
                        <MyRequests requests=d.requests/>
                    }.into_any(),
                })}
            </Suspense>
        </div>
    }
    .into_any()
}

#[component]
fn SharedWithMe(grants: Vec<GrantView>, done: Callback<String>) -> impl IntoView {
    // Emergency grants are on the Emergency page.
    let grants: Vec<GrantView> = grants
        .into_iter()
        .filter(|g| g.emergency.is_none())
        .collect();
    view! {
        <section class="card" aria-labelledby="shared-heading">
            <h2 id="shared-heading">"Shared with you"</h2>
            {if grants.is_empty() {
                view! { <p class="muted">"No patient has shared their record with you yet. Ask a patient for access below."</p> }.into_any()
            } else {
                view! {
                    <ul class="patient-list">
                        {grants.into_iter().map(|g| view! { <SharedRow grant=g done=done/> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// One share in the doctor's list, with a way to decline it (confirmed first).
#[component]
fn SharedRow(grant: GrantView, done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let v = grant.grant.value.clone();
    let patient = grant.patient_name.clone();
    let grant_id = v.grant_id;
    let href = format!("/patients/{}", id_text(&grant_id));
    let open = grant.status.is_live();
    let decline = {
        let patient = patient.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let patient = patient.clone();
            leptos::task::spawn_local(async move {
                match sharing::decline_grant(GrantRef { grant_id }).await {
                    Ok(_) => {
                        done.run(format!(
                            "You declined {patient}'s share. It is gone from your list, and {patient} sees in their Sharing page and Access history that you declined it."
                        ));
                        focus_later("main h1");
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(session.explain(&e)));
                    }
                }
            });
        }
    };
    let shown = patient.clone();
    let name = if grant.status == GrantStatus::Active {
        view! { <A href=href attr:class="item__name">{shown}</A> }.into_any()
    } else {
        view! { <span class="item__name">{shown}</span> }.into_any()
    };
    view! {
        <li class="patient-list__item">
            <div>
                {name}
                <span class="item__facts">
                    <span>{match v.permission { Permission::Read => "Read", Permission::ReadWrite => "Read and write" }}</span>
                    <span>{format!("Since {}", format_date(v.created_at))}</span>
                    <span>{match (grant.status, v.expires_at) {
                        (GrantStatus::Revoked, _) => "Access removed by the patient".to_owned(),
                        (_, None) => "No end date".to_owned(),
                        (_, Some(t)) => format!("Until {}", format_date(t)),
                    }}</span>
                </span>
                {open.then(|| view! {
                    <Show
                        when=move || confirming.get()
                        fallback={
                            let patient = patient.clone();
                            move || view! {
                                <div class="button-row">
                                    <button type="button" class="button button--secondary button--small"
                                        aria-label=format!("Decline {}'s share", patient)
                                        on:click=move |_| confirming.set(true)>"Decline"</button>
                                </div>
                            }
                        }
                    >
                        <div class="confirm" role="group" aria-label="Confirm declining">
                            <p>{format!(
                                "Decline {}'s share? You will no longer be able to open it, and the server deletes your key to it. {} is told that you declined; only they can share it with you again.",
                                patient, patient
                            )}</p>
                            <div class="button-row">
                                <button type="button" class="button button--danger button--small" disabled=move || busy.get()
                                    on:click=decline.clone()>{move || if busy.get() { "Working…" } else { "Yes, decline" }}</button>
                                <button type="button" class="button button--secondary button--small"
                                    on:click=move |_| confirming.set(false)>"Keep the share"</button>
                            </div>
                        </div>
                    </Show>
                })}
                <ErrorAlert error=error/>
            </div>
            {status_badge(grant.status)}
        </li>
    }
}

#[component]
fn AskForm(done: Callback<String>) -> impl IntoView {
    let session = use_session();
    let username = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        let name = match Username::parse(username.get_untracked().trim()) {
            Ok(n) => n.to_string(),
            Err(e) => return error.set(Some(format!("{e}."))),
        };
        let why = match validate_reason(&reason.get_untracked()) {
            Ok(r) => r.to_owned(),
            Err(m) => return error.set(Some(m)),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = sharing::request_access(NewAccessRequest {
                patient_username: name.clone(),
                reason: why,
            })
            .await;
            busy.set(false);
            match result {
                Ok(_) => {
                    username.set(String::new());
                    reason.set(String::new());
                    done.run(format!(
                        "Your request was sent to {name}. You will see their answer here."
                    ));
                }
                Err(e) => error.set(Some(session.explain(&e))),
            }
        });
    };
    view! {
        <section class="card narrow" aria-labelledby="ask-heading">
            <h2 id="ask-heading">"Ask a patient for access"</h2>
            <ErrorAlert error=error/>
            <form class="form" on:submit=submit novalidate>
                <Field id="ask-username" label="Patient's username" value=username/>
                <div class="field">
                    <label for="ask-reason">"Reason"</label>
                    <textarea id="ask-reason" rows="3" maxlength="500" aria-describedby="ask-reason-hint"
                        bind:value=reason></textarea>
                    <p class="field__hint" id="ask-reason-hint">"The patient reads this when deciding. Up to 500 characters."</p>
                </div>
                <SubmitButton label="Send request" busy=busy.into()/>
            </form>
        </section>
    }
}

#[component]
fn MyRequests(requests: Vec<AccessRequestView>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="my-requests-heading">
            <h2 id="my-requests-heading">"Your requests"</h2>
            {if requests.is_empty() {
                view! { <p class="muted">"You have not asked anyone yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list">
                        {requests.into_iter().map(|r| view! {
                            <li>
                                <strong>{r.patient_name.clone()}</strong>
                                " · " {format_date(r.created_at)} " · “" {r.reason.clone()} "” "
                                {request_badge(r.status)}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// What a doctor opened of one grant.
#[derive(Clone)]
struct Opened {
    tree: OpenTree,
    /// The patient's checked directory entry.
    patient: KeyEntry,
    expires_at: Option<i64>,
    grant_id: Id,
    permission: Permission,
    /// The doctor (who signs what they write).
    me: Id,
    keyring: std::sync::Arc<shared::crypto::keyring::Keyring>,
}

impl Opened {
    fn can_write(&self) -> bool {
        self.permission == Permission::ReadWrite
    }
}

async fn open_shared(
    session: Session,
    unlocked: Unlocked,
    grant_id: String,
) -> Result<Opened, String> {
    let shared = sharing::shared_record(grant_id).await.map_err(|e| {
        if e.code == ErrorCode::NotFound {
            "This record is not shared with you, or no longer: the patient may have removed your access, or its end date has passed.".to_owned()
        } else {
            session.explain(&e)
        }
    })?;
    let lying = "The server's answer about this share is not signed by the patient, so nothing was opened. Contact your administrator.";
    let served = lookup_user(shared.grant.patient_name.clone())
        .await
        .map_err(|e| session.explain(&e))?;
    let patient = verify_directory_entry(&shared.grant.patient_name, &served)
        .map_err(|_| lying.to_owned())?;
    let me = unlocked.key_entry.value.user_id;
    let opened = open_grant(
        &shared.grant,
        &patient.entry,
        &me,
        unlocked.keyring.encryption(),
    )
    .map_err(|_| lying.to_owned())?;
    let tree = OpenTree::open_from(
        patient.entry.user_id,
        opened.grant.node_id,
        opened.node_key,
        shared.nodes,
        shared.usage,
    )
    .map_err(|_| lying.to_owned())?;
    Ok(Opened {
        tree,
        patient: patient.entry,
        expires_at: opened.grant.expires_at,
        grant_id: opened.grant.grant_id,
        permission: opened.grant.permission,
        me,
        keyring: unlocked.keyring.clone(),
    })
}

/// One shared record, opened (needs the keys).
#[component]
pub fn SharedRecordPage() -> impl IntoView {
    with_keys(|u| view! { <SharedRecordView unlocked=u/> })
}

#[component]
fn SharedRecordView(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let grant = move || params.with(|p| p.get("grant").unwrap_or_default());
    let unlocked = StoredValue::new_local(unlocked);
    let opened = LocalResource::new(move || {
        let grant = grant();
        async move { open_shared(session, unlocked.get_value(), grant).await }
    });
    let preview = RwSignal::new_local(None::<Preview>);
    let return_to = RwSignal::new(None::<String>);
    // What the doctor's last change did; kept across the reload it causes.
    let status = RwSignal::new(None::<String>);
    let changed = Callback::new(move |message: String| {
        status.set(Some(message));
        opened.refetch();
    });
    let close = Callback::new(move |_| {
        if let Some(Preview { url: Some(url), .. }) = preview.get_untracked() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
        preview.set(None);
    });
    view! {
        <div class="stack">
            <Suspense fallback=|| view! {
                <h1 id="shared-record-heading" tabindex="-1">"Shared record"</h1>
                <p class="status status--pending" role="status">"Opening the shared record…"</p>
            }>
                {move || opened.get().map(|result| match result {
                    Err(message) => view! {
                        <h1 id="shared-record-heading" tabindex="-1">"Shared record"</h1>
                        <p class="alert alert--error" role="alert">{message}</p>
                        <p><A href="/patients">"Back to your patients"</A></p>
                    }.into_any(),
                    Ok(o) => view! {
                        <SharedTree opened=o preview=preview return_to=return_to status=status changed=changed/>
                    }.into_any(),
                })}
            </Suspense>
            <Modal
                open=Signal::derive(move || preview.with(Option::is_some))
                title=Signal::derive(move || preview.with(|p| p.as_ref().map(|p| p.name.clone()).unwrap_or_default()))
                on_close=close
                return_to=return_to.into()
                wide=true
            >
                {move || preview.get().map(|p| view! { <PreviewView preview=p/> })}
            </Modal>
        </div>
    }
}

/// What the parts of a shared record's page share.
#[derive(Clone, Copy)]
struct SharedCtx {
    opened: StoredValue<Opened, LocalStorage>,
    preview: RwSignal<Option<Preview>, LocalStorage>,
    return_to: RwSignal<Option<String>>,
    /// Told what a change did; reloads the record.
    changed: Callback<String>,
}

#[component]
fn SharedTree(
    opened: Opened,
    preview: RwSignal<Option<Preview>, LocalStorage>,
    return_to: RwSignal<Option<String>>,
    status: RwSignal<Option<String>>,
    changed: Callback<String>,
) -> impl IntoView {
    let whole = opened
        .tree
        .root()
        .is_some_and(|n| n.view.parent_id.is_none());
    let top = if whole {
        "whole record".to_owned()
    } else {
        opened
            .tree
            .root()
            .map(|n| n.metadata.name.clone())
            .unwrap_or_default()
    };
    let heading = format!("{}: {}", opened.patient.username, top);
    let until = until_text(opened.expires_at).replace("you remove it", "the patient removes it");
    let lead = if opened.can_write() {
        format!("Shared with you to read and to add to. What you add or change is signed by you, and the patient sees it. {until}.")
    } else {
        format!("Shared with you to read. {until}.")
    };
    let opened = StoredValue::new_local(opened);
    let root = opened.with_value(|o| o.tree.root_id);
    let ctx = SharedCtx {
        opened,
        preview,
        return_to,
        changed,
    };
    view! {
        <h1 id="shared-record-heading" tabindex="-1">{heading}</h1>
        <p class="lead">{lead}</p>
        <p><A href="/patients">"Back to your patients"</A></p>
        <StatusNote message=status.into()/>
        <section class="card" aria-labelledby="shared-files-heading">
            <h2 id="shared-files-heading">"Folders and files"</h2>
            <SharedFolder ctx=ctx folder=root/>
        </section>
    }
}

#[component]
fn SharedFolder(ctx: SharedCtx, folder: Id) -> impl IntoView {
    let (children, node, can_write) = ctx.opened.with_value(|o| {
        let children: Vec<OpenNode> = o
            .tree
            .children(&folder)
            .into_iter()
            .filter(|n| n.view.kind != NodeKind::Entry)
            .cloned()
            .collect();
        (children, o.tree.node(&folder).cloned(), o.can_write())
    });
    let add = node.filter(|_| can_write).map(|parent| {
        let name = parent.metadata.name.clone();
        let record_type = ctx.opened.with_value(|o| type_for(&o.tree, &parent));
        view! {
            <SharedUpload ctx=ctx
                target=UploadTarget::NewFile { parent, record_type }
                id=format!("add-{}", id_text(&folder))
                label="Add files here".to_owned()
                describe=format!("Add files to {name}")/>
        }
    });
    let list = if children.is_empty() {
        view! { <p class="muted">"Empty."</p> }.into_any()
    } else {
        view! {
            <ul class="items">
                {children.into_iter().map(|node| {
                    if node.is_folder() {
                        let id = *node.id();
                        view! {
                            <li class="item item--folder">
                                <span class="item__icon item__icon--folder" aria-hidden="true"></span>
                                <details class="item__main" open=true>
                                    <summary class="item__name">{node.metadata.name.clone()}</summary>
                                    <SharedFolder ctx=ctx folder=id/>
                                </details>
                                {can_write.then(|| view! {
                                    <div class="item__write"><SharedDelete ctx=ctx node=node.clone()/></div>
                                })}
                            </li>
                        }.into_any()
                    } else {
                        view! { <SharedFile ctx=ctx node=node/> }.into_any()
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! { {add} {list} }
}

/// A doctor's upload (new files into a folder, or a new version of a file)
/// under a read-and-write grant: encrypted and signed here, with progress.
#[component]
fn SharedUpload(
    ctx: SharedCtx,
    target: UploadTarget,
    id: String,
    label: String,
    describe: String,
) -> impl IntoView {
    let session = use_session();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<Progress>);
    let many = matches!(target, UploadTarget::NewFile { .. });
    let target = StoredValue::new_local(target);
    let on_pick = move |ev: leptos::ev::Event| {
        let el: web_sys::HtmlInputElement = event_target(&ev);
        let files = el.files().map(|l| files_of(&l)).unwrap_or_default();
        el.set_value("");
        if files.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let mut added: Vec<String> = Vec::new();
            for file in files {
                let job = ctx.opened.with_value(|o| UploadJob {
                    target: target.get_value(),
                    author_id: o.me,
                    keyring: o.keyring.clone(),
                    usage: o.tree.usage,
                });
                let result =
                    transfer::upload(&file, job, move |p| progress.set(Some(p)), &Cancel::new())
                        .await;
                match result {
                    Ok(_) => added.push(format!("“{}”", file.name())),
                    Err(e) => {
                        error.set(Some(e.message(&session)));
                        break;
                    }
                }
            }
            progress.set(None);
            busy.set(false);
            if !added.is_empty() {
                let patient = ctx.opened.with_value(|o| o.patient.username.clone());
                ctx.changed.run(format!(
                    "Saved {} in {patient}'s record, signed by you.",
                    added.join(", ")
                ));
            }
        });
    };
    let bar_label = format!("Uploading: {describe}");
    view! {
        <div class="shared-upload">
            <span class="file-button">
                <input id=id.clone() class="file-button__input" type="file" multiple=many
                    aria-label=describe disabled=move || busy.get() on:change=on_pick/>
                <label for=id class="button button--secondary button--small">{label}</label>
            </span>
            <Show when=move || progress.with(Option::is_some)>
                <ProgressLine label=bar_label.clone()
                    progress=Signal::derive(move || progress.get().unwrap_or_default())/>
            </Show>
            <ErrorAlert error=error/>
        </div>
    }
}

/// Moving an item to the patient's Trash (read-and-write grants), after a
/// second click; the patient can restore it.
#[component]
fn SharedDelete(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
    let session = use_session();
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let name = node.metadata.name.clone();
    let key = id_text(node.id());
    let (node_id, revision) = (*node.id(), node.view.revision);
    let confirm = {
        let name = name.clone();
        move |_| {
            busy.set(true);
            error.set(None);
            let name = name.clone();
            leptos::task::spawn_local(async move {
                let result = records::trash_node(NodeRevision { node_id, revision }).await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        let patient = ctx.opened.with_value(|o| o.patient.username.clone());
                        ctx.changed.run(format!(
                            "“{name}” is in {patient}'s Trash. The patient can restore it."
                        ));
                    }
                    Err(e) => {
                        asking.set(false);
                        error.set(Some(session.explain(&e)));
                    }
                }
            });
        }
    };
    let group_label = format!("Delete {name}");
    let question = format!("Move “{name}” to the patient's Trash?");
    let ask_id = format!("delete-{key}");
    let ask_focus = format!("[id='{ask_id}']");
    let confirm_id = format!("confirm-delete-{key}");
    let confirm_focus = format!("[id='{confirm_id}']");
    view! {
        <div class="item__actions" role="group" aria-label=group_label>
            <Show when=move || asking.get() fallback=move || view! {
                <button type="button" id=ask_id.clone() class="button button--secondary button--small"
                    on:click={
                        let confirm_focus = confirm_focus.clone();
                        move |_| { asking.set(true); focus_later(&confirm_focus); }
                    }>"Delete"</button>
            }>
                <span class="confirm-text">{question.clone()}</span>
                <button type="button" id=confirm_id.clone() class="button button--danger button--small"
                    disabled=move || busy.get() on:click=confirm.clone()>"Move to Trash"</button>
                <button type="button" class="button button--secondary button--small"
                    on:click={
                        let ask_focus = ask_focus.clone();
                        move |_| { asking.set(false); focus_later(&ask_focus); }
                    }>"Keep"</button>
            </Show>
            <ErrorAlert error=error/>
        </div>
    }
}

#[component]
fn SharedFile(ctx: SharedCtx, node: OpenNode) -> impl IntoView {
    let SharedCtx {
        opened,
        preview,
        return_to,
        ..
    } = ctx;
    let session = use_session();
    let can_write = opened.with_value(Opened::can_write);
    let written_by = node.view.current.as_ref().and_then(|v| {
        opened
            .with_value(|o| v.author_id != o.patient.user_id)
            .then(|| format!("Added by {}", v.author_name))
    });
    let delete_node = node.clone();
    let version_target = UploadTarget::NewVersion { node: node.clone() };
    let name = node.metadata.name.clone();
    let key = id_text(node.id());
    let kind = node.metadata.mime.as_deref().and_then(preview_kind);
    let size = format_bytes(node.metadata.size.unwrap_or(0));
    let date = format_date(node.metadata.modified_at);
    let record_type = node.metadata.record_type.label();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<Progress>);
    let node = StoredValue::new_local(node);

    let fetch = move || async move {
        let n = node.get_value();
        let version = n
            .view
            .current
            .clone()
            .ok_or_else(|| "This file has no content yet.".to_owned())?;
        let patient = opened.with_value(|o| o.patient.clone());
        let covers =
            move |folder: &Id, inner: &Id| opened.with_value(|o| o.tree.covers(folder, inner));
        let (author_id, author_key) =
            authors::trusted_author(session, &version, &patient, covers).await?;
        let job = DownloadJob {
            node: n.clone(),
            version,
            author_id,
            author_key,
        };
        let cancel = Cancel::new();
        let result = transfer::download(&job, move |p| progress.set(Some(p)), &cancel).await;
        progress.set(None);
        match result {
            Ok(blob) => Ok(blob),
            Err(e) => {
                // A file that stops arriving may mean the access ended meanwhile:
                // say so rather than suspect the file.
                let grant = opened.with_value(|o| id_text(&o.grant_id));
                match sharing::shared_record(grant).await {
                    Err(a) if a.code == ErrorCode::NotFound => Err(ENDED.to_owned()),
                    _ => Err(e.message(&session)),
                }
            }
        }
    };
    let download = {
        let name = name.clone();
        move |_| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            error.set(None);
            let name = name.clone();
            leptos::task::spawn_local(async move {
                let result = async {
                    let blob = fetch().await?;
                    transfer::save_blob(&blob, &name).map_err(|e| e.message(&session))
                }
                .await;
                busy.set(false);
                if let Err(m) = result {
                    error.set(Some(m));
                }
            });
        }
    };
    let show = {
        let name = name.clone();
        let key = key.clone();
        move |_| {
            let Some(kind) = kind else { return };
            if busy.get_untracked() {
                return;
            }
            if kind == PreviewKind::Text
                && node.with_value(|n| n.metadata.size.unwrap_or(0)) > MAX_TEXT_PREVIEW
            {
                return error.set(Some(format!(
                    "“{name}” is too long to preview here. Download it instead."
                )));
            }
            busy.set(true);
            error.set(None);
            let (name, key) = (name.clone(), key.clone());
            leptos::task::spawn_local(async move {
                let result = async {
                    let blob = fetch().await?;
                    let shown = preview_of(&blob, name, kind).await?;
                    Ok::<_, String>(shown)
                }
                .await;
                busy.set(false);
                match result {
                    Ok(p) => {
                        return_to.set(Some(format!("preview-{key}")));
                        preview.set(Some(p));
                    }
                    Err(m) => error.set(Some(m)),
                }
            });
        }
    };
    let bar_label = format!("Downloading {name}");
    view! {
        <li class="item">
            <span class="item__icon item__icon--file" aria-hidden="true"></span>
            <div class="item__main">
                <span class="item__name">{name.clone()}</span>
                <span class="item__facts">
                    <span class="item__type">{record_type}</span>
                    <span>{date}</span>
                    <span>{size}</span>
                    {written_by.map(|w| view! { <span class="item__author">{w}</span> })}
                </span>
                <Show when=move || progress.with(Option::is_some)>
                    <ProgressLine label=bar_label.clone()
                        progress=Signal::derive(move || progress.get().unwrap_or_default())/>
                </Show>
                <ErrorAlert error=error/>
            </div>
            <div class="item__actions" role="group" aria-label=format!("Actions for {name}")>
                <button type="button" id=format!("download-{key}") class="button button--secondary button--small"
                    disabled=move || busy.get() on:click=download>"Download"</button>
                {kind.map(|_| view! {
                    <button type="button" id=format!("preview-{key}") class="button button--secondary button--small"
                        disabled=move || busy.get() on:click=show.clone()>"Preview"</button>
                })}
            </div>
            {can_write.then(|| view! {
                <div class="item__write">
                    <SharedUpload ctx=ctx target=version_target
                        id=format!("version-{key}") label="Upload new version".to_owned()
                        describe=format!("Upload a new version of {name}")/>
                    <SharedDelete ctx=ctx node=delete_node/>
                </div>
            })}
        </li>
    }
}
