//! `/audit`: the auditor fetches the whole audit log page by page and checks
//! every link and every signed head here, in the browser, against the audit
//! key this browser pinned. The server is not trusted to say the log is whole;
//! this page is. It remembers the newest event it verified, so a later check
//! refuses a shorter or rewritten log, and a different key until the auditor
//! compares fingerprints and trusts it.

use leptos::prelude::*;
use shared::{
    crypto::b64,
    model::{Id, Role},
};

use crate::{
    pages::with_keys,
    platform::browser::format_time,
    session::use_session,
    tasks::audit::{
        describe_break, load_key, percent, trust_new_key, verify_whole_log, KeyView, Outcome,
        KEY_CHANGED,
    },
};

/// The auditor's page (needs the keys and the auditor role).
#[component]
pub fn AuditPage() -> impl IntoView {
    with_keys(|u| {
        if u.info.role == Role::Auditor {
            let user = u.key_entry.value.user_id;
            view! { <Auditor user=user/> }.into_any()
        } else {
            view! {
                <section class="card narrow" aria-labelledby="audit-heading">
                    <h1 id="audit-heading" tabindex="-1">"Audit log"</h1>
                    <p>"This page is for auditors. Your account does not have that role."</p>
                </section>
            }
            .into_any()
        }
    })
}

/// Where a verification run stands.
#[derive(Clone)]
enum Run {
    Idle,
    Running {
        done: u64,
        total: u64,
    },
    Done(Outcome),
    Failed(String),
    /// The auditor trusted the key with this fingerprint.
    Trusted(String),
}

#[component]
fn Auditor(user: Id) -> impl IntoView {
    let session = use_session();
    // Bumped when the auditor trusts a new key, to show it as pinned.
    let trusted = RwSignal::new(0u32);
    let key = LocalResource::new(move || {
        trusted.track();
        load_key(session, user)
    });
    let run = RwSignal::new(Run::Idle);

    let verify = move |_| {
        if matches!(run.get_untracked(), Run::Running { .. }) {
            return;
        }
        run.set(Run::Running { done: 0, total: 0 });
        leptos::task::spawn_local(async move {
            let progress = |done, total| run.set(Run::Running { done, total });
            run.set(match verify_whole_log(session, user, progress).await {
                Ok(outcome) => Run::Done(outcome),
                Err(message) => Run::Failed(message),
            });
            key.refetch();
        });
    };

    view! {
        <div class="stack">
            <h1 id="audit-heading" tabindex="-1">"Audit log"</h1>
            <section class="card" aria-labelledby="verify-heading">
                <h2 id="verify-heading">"Verify the whole log"</h2>
                <p>
                    "Every event is chained to the one before it by a hash, and the server signs the newest point of the chain every minute. "
                    "Verifying fetches every event and every signed head and checks them here, in your browser. "
                    "This browser remembers the key and the newest event it verified, and refuses a later log that is shorter, rewritten or signed by another key."
                </p>
                <Suspense fallback=|| view! { <p class="status status--pending" role="status">"Loading the audit key…"</p> }>
                    {move || key.get().map(|k| match k {
                        Ok(k) => view! { <KeyPanel key=k/> }.into_any(),
                        Err(message) => view! { <p class="alert alert--error" role="alert">{message}</p> }.into_any(),
                    })}
                </Suspense>
                <div class="actions">
                    <button
                        type="button"
                        class="button"
                        disabled=move || matches!(run.get(), Run::Running { .. })
                        on:click=verify
                    >
                        {move || if matches!(run.get(), Run::Running { .. }) { "Verifying…" } else { "Verify the log" }}
                    </button>
                </div>
                <RunView run=run user=user trusted=trusted/>
            </section>
        </div>
    }
}

/// The served key's fingerprint, and whether this browser pinned it.
#[component]
fn KeyPanel(key: KeyView) -> impl IntoView {
    let note = match &key.pinned {
        None => "This browser has not verified this log before. Compare the fingerprint with the one your operator published: verifying pins this key.",
        Some(p) if *p == key.fingerprint => "This browser trusts this key: it verified the log under it, or you accepted it, before.",
        Some(_) => "This is not the key this browser verified the log under before. Verify to see both fingerprints.",
    };
    view! {
        <p class="audit-key">"Audit key: " <code>{b64::encode(&key.served.to_bytes())}</code></p>
        <p class="audit-fingerprint">
            "Its fingerprint: " <code class="audit-key__fingerprint">{key.fingerprint.clone()}</code>
        </p>
        <p class="muted">{note}</p>
    }
}

#[component]
fn RunView(run: RwSignal<Run>, user: Id, trusted: RwSignal<u32>) -> impl IntoView {
    move || {
        match run.get() {
        Run::Idle => ().into_any(),
        Run::Running { done, total } => view! {
            <div class="progress-block">
                <progress
                    class="progress"
                    aria-label="Verifying the audit log"
                    max="100"
                    value=percent(done, total).to_string()
                ></progress>
                <p class="muted">{format!("Checked {done} of {total} events")}</p>
            </div>
        }
        .into_any(),
        Run::Done(Outcome::Verified { log: (v, newest), first }) => {
            let heads = match newest {
                Some((seq, at)) => format!(
                    " {} signed heads matched; the newest covers event {seq} and was signed {}.",
                    v.heads,
                    format_time(at)
                ),
                None => " The server has not signed a head yet.".to_owned(),
            };
            let pinned = if first { " This browser now remembers the key and this point of the log." } else { "" };
            view! {
                <p class="alert alert--info audit-result" role="status">
                    <strong>{format!("Verified {} events.", v.events)}</strong>
                    {heads}
                    {pinned}
                </p>
            }
            .into_any()
        }
        Run::Done(Outcome::Broken(b)) => view! {
            <div class="alert alert--error audit-result" role="alert">
                <p><strong>{describe_break(&b)}</strong></p>
                <p>"Keep this result and report it to your security team: the log on the server does not match what it signed or what this browser verified before."</p>
            </div>
        }
        .into_any(),
        Run::Done(Outcome::KeyChanged(k)) => view! { <KeyChanged key=k run=run user=user trusted=trusted/> }.into_any(),
        Run::Failed(message) => view! {
            <p class="alert alert--error" role="alert">{message}</p>
        }
        .into_any(),
        Run::Trusted(fingerprint) => view! {
            <p class="alert alert--info" role="status">
                {format!("This browser now trusts the audit key {fingerprint}. Verify the log again to check it under this key.")}
            </p>
        }
        .into_any(),
    }
    }
}

/// The refusal of another key, with both fingerprints and the way to accept
/// a real key change.
#[component]
fn KeyChanged(key: KeyView, run: RwSignal<Run>, user: Id, trusted: RwSignal<u32>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let served = key.served;
    let fingerprint = key.fingerprint.clone();
    let trust = move |_| match trust_new_key(&user, served) {
        Ok(()) => {
            run.set(Run::Trusted(fingerprint.clone()));
            trusted.update(|n| *n += 1);
        }
        Err(message) => error.set(Some(message)),
    };
    view! {
        <div class="alert alert--error audit-result" role="alert">
            <p><strong>{KEY_CHANGED}</strong></p>
            <dl class="audit-keys">
                <dt>"Key verified before"</dt>
                <dd><code>{key.pinned.clone().unwrap_or_default()}</code></dd>
                <dt>"Key the server names now"</dt>
                <dd><code class="audit-key__new">{key.fingerprint.clone()}</code></dd>
            </dl>
        </div>
        <div class="actions">
            <button type="button" class="button button--secondary" on:click=trust>
                "Trust the new key"
            </button>
        </div>
        {move || error.get().map(|m| view! { <p class="alert alert--error" role="alert">{m}</p> })}
    }
}
