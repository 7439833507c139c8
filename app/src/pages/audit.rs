//! `/audit`: the auditor fetches the whole audit log page by page and checks
//! every link and every signed head here, in the browser, against the server's
//! audit key. The server is not trusted to say the log is whole; this page is.

use leptos::prelude::*;
use shared::{
    api::audit::MAX_PAGE,
    audit::{BreakReason, ChainBreak, ChainVerifier, Verified},
    crypto::{b64, sign::Role},
};

use crate::{
    api::audit::{audit_heads, audit_key, audit_log},
    pages::with_keys,
    platform::browser::{format_time, next_paint},
    session::use_session,
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

/// The sentence for a broken chain: where, and what it means.
pub fn describe_break(b: &ChainBreak) -> String {
    let what = match b.reason {
        BreakReason::Gap => "an event is missing or out of order",
        BreakReason::Malformed => "the stored event is not a valid event for its position",
        BreakReason::HashMismatch => "the event or one before it was changed after it was written",
        BreakReason::BadHeadSignature => {
            "a signed head does not carry the server's audit signature"
        }
        BreakReason::HeadMismatch => {
            "the events up to here differ from what the server signed earlier"
        }
        BreakReason::Truncated => "events the server signed earlier are missing from the end",
    };
    format!("The chain breaks at event {}: {what}.", b.seq)
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
            let outcome = verify_whole_log(run).await;
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
            let percent = done
                .saturating_mul(100)
                .checked_div(total)
                .unwrap_or(0)
                .min(100);
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

/// Fetches the key, every signed head and every event, feeding the verifier
/// page by page and reporting progress into `run`. The outer error is a failed
/// call; the inner one a broken chain.
async fn verify_whole_log(
    run: RwSignal<Run>,
) -> Result<Result<(Verified, Option<(u64, i64)>), ChainBreak>, String> {
    let session = use_session();
    let explain = |e: shared::api::ApiError| session.explain(&e);
    let key = audit_key().await.map_err(explain)?.key;
    let mut heads = Vec::new();
    let mut after = 0;
    loop {
        let page = audit_heads(after, MAX_PAGE).await.map_err(explain)?;
        let n = page.heads.len();
        if let Some(last) = page.heads.last() {
            after = last.value.seq;
        }
        heads.extend(page.heads);
        if n < MAX_PAGE as usize {
            break;
        }
    }
    let newest = heads.last().map(|h| (h.value.seq, h.value.signed_at));
    let mut verifier = match ChainVerifier::new(&key, &heads) {
        Ok(v) => v,
        Err(b) => return Ok(Err(b)),
    };
    let mut from = 1;
    loop {
        let page = audit_log(from, MAX_PAGE).await.map_err(explain)?;
        if page.entries.is_empty() {
            break;
        }
        if let Err(b) = verifier.feed(&page.entries) {
            return Ok(Err(b));
        }
        from = verifier.verified() + 1;
        run.set(Run::Running {
            done: verifier.verified(),
            total: page.head_seq,
        });
        // Let the progress bar paint between pages.
        next_paint().await;
        if from > page.head_seq {
            break;
        }
    }
    Ok(verifier.finish().map(|v| (v, newest)))
}
