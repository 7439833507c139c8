//! `/audit`: the auditor fetches the whole audit log page by page and checks
//! every link and every signed head here, in the browser, against the server's
//! audit key. The server is not trusted to say the log is whole; this page is.

use leptos::prelude::*;
use shared::{
    audit::{ChainBreak, Verified},
    crypto::b64,
    model::Role,
};

use crate::{
    api::audit::audit_key,
    pages::with_keys,
    platform::browser::format_time,
    session::use_session,
    tasks::audit::{describe_break, percent, verify_whole_log},
};

/// The auditor's page (needs the keys and the auditor role).
#[component]
pub fn AuditPage() -> impl IntoView {
    with_keys(|u| {
        if u.info.role == Role::Auditor {
            view! { <Auditor/> }.into_any()
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
    Running { done: u64, total: u64 },
    Verified(Verified, Option<(u64, i64)>),
    Broken(ChainBreak),
    Failed(String),
}

#[component]
fn Auditor() -> impl IntoView {
    let session = use_session();
    let key = LocalResource::new(audit_key);
    let run = RwSignal::new(Run::Idle);

    let verify = move |_| {
        if matches!(run.get_untracked(), Run::Running { .. }) {
            return;
        }
        run.set(Run::Running { done: 0, total: 0 });
        leptos::task::spawn_local(async move {
            let progress = |done, total| run.set(Run::Running { done, total });
            let outcome = verify_whole_log(session, progress).await;
            run.set(match outcome {
                Ok(Ok((verified, newest))) => Run::Verified(verified, newest),
                Ok(Err(b)) => Run::Broken(b),
                Err(message) => Run::Failed(message),
            });
        });
    };

    view! {
        <div class="stack">
            <h1 id="audit-heading" tabindex="-1">"Audit log"</h1>
            <section class="card" aria-labelledby="verify-heading">
                <h2 id="verify-heading">"Verify the whole log"</h2>
                <p>
                    "Every event is chained to the one before it by a hash, and the server signs the newest point of the chain every minute. "
                    "Verifying fetches every event and every signed head and checks them here, in your browser."
                </p>
                <p>"Compare the server's audit key with the one your organisation published before you rely on the result:"</p>
                <Suspense fallback=|| view! { <p class="status status--pending" role="status">"Loading the audit key…"</p> }>
                    {move || key.get().map(|k| match k {
                        Ok(k) => view! {
                            <p class="audit-key">"Audit key: " <code>{b64::encode(&k.key.to_bytes())}</code></p>
                        }.into_any(),
                        Err(e) => view! { <p class="alert alert--error" role="alert">{session.explain(&e)}</p> }.into_any(),
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
                <RunView run=run/>
            </section>
        </div>
    }
}

#[component]
fn RunView(run: RwSignal<Run>) -> impl IntoView {
    move || {
        match run.get() {
        Run::Idle => ().into_any(),
        Run::Running { done, total } => {
            let percent = percent(done, total);
            view! {
                <div class="progress-block">
                    <progress
                        class="progress"
                        aria-label="Verifying the audit log"
                        max="100"
                        value=percent.to_string()
                    ></progress>
                    <p class="muted">{format!("Checked {done} of {total} events")}</p>
                </div>
            }
            .into_any()
        }
        Run::Verified(v, newest) => {
            let heads = match newest {
                Some((seq, at)) => format!(
                    " {} signed heads matched; the newest covers event {seq} and was signed {}.",
                    v.heads,
                    format_time(at)
                ),
                None => " The server has not signed a head yet.".to_owned(),
            };
            view! {
                <p class="alert alert--info audit-result" role="status">
                    <strong>{format!("Verified {} events.", v.events)}</strong>
                    {heads}
                </p>
            }
            .into_any()
        }
        Run::Broken(b) => view! {
            <div class="alert alert--error audit-result" role="alert">
                <p><strong>{describe_break(&b)}</strong></p>
                <p>"Keep this result and report it to your security team: the log on the server does not match what it signed."</p>
            </div>
        }
        .into_any(),
        Run::Failed(message) => view! {
            <p class="alert alert--error" role="alert">{message}</p>
        }
        .into_any(),
    }
    }
}
