//! Folders whose keys must be replaced because a share of them ended
//! (removed, expired, declined) or an earlier replacement did not finish.
//! The first one starts on its own when the page opens, with its progress and
//! the reason; any that fails, or waits, has a “Replace keys now” button, and
//! an unfinished upload that holds one up can be cancelled from here. The
//! list is worked out afresh on every visit and every device until done
//! (`tasks::sharing::load_keys_owed`).

use std::collections::HashSet;

use leptos::prelude::*;
use shared::{api::sharing::OpenUpload, model::Id};

use super::grants::RekeyProgress;
use crate::{
    components::{
        action::{use_action, UseAction},
        form::ErrorAlert,
    },
    platform::browser::format_time,
    session::{use_session, Unlocked},
    tasks::{
        record::use_record_store,
        sharing::{
            cancel_open_upload, load_keys_owed, owed_reason, replace_owed_keys, KeysOwed,
            PatientData,
        },
    },
};

/// What the page keeps of the folders owed: `tried` holds the folders it
/// already started on its own (or whose replacement after a removal failed),
/// so a failure waits for a click instead of starting again and again;
/// bumping `tick` loads the list again.
#[derive(Clone, Copy)]
pub(super) struct OwedState {
    pub(super) tick: RwSignal<u32>,
    pub(super) tried: StoredValue<HashSet<Id>, LocalStorage>,
}

impl OwedState {
    pub(super) fn new() -> Self {
        OwedState {
            tick: RwSignal::new(0),
            tried: StoredValue::new_local(HashSet::new()),
        }
    }

    /// A replacement of `scope` after a removal failed: list it again (with
    /// any upload that holds it up), without starting it by itself.
    pub(super) fn failed(&self, scope: Id) {
        self.tried.update_value(|t| {
            t.insert(scope);
        });
        self.tick.update(|n| *n = n.wrapping_add(1));
    }
}

/// The folders that owe new keys, loaded for this page's grants and record.
#[component]
pub(super) fn KeysOwedPanel(
    data: PatientData,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
    state: OwedState,
) -> impl IntoView {
    let OwedState { tick, tried } = state;
    let (tree, grants) = (data.tree.clone(), data.grants.clone());
    let owed = LocalResource::new(move || {
        tick.track();
        let (tree, grants) = (tree.clone(), grants.clone());
        async move { load_keys_owed(&unlocked.get_value(), &tree, &grants).await }
    });
    view! {
        <Suspense fallback=|| ()>
            {move || owed.get().map(|list| {
                // One replacement runs at a time: only the first waiting one
                // starts by itself, and only once per page.
                let first = list
                    .iter()
                    .find(|o| o.uploads.is_empty() && !tried.with_value(|t| t.contains(&o.scope)))
                    .map(|o| o.scope);
                if let Some(scope) = first {
                    tried.update_value(|t| {
                        t.insert(scope);
                    });
                }
                (!list.is_empty()).then(|| view! {
                    <section class="card" aria-labelledby="rekey-heading">
                        <h2 id="rekey-heading">"Replacing keys"</h2>
                        <ul class="grant-list">
                            {list.into_iter().map(|o| {
                                let auto = Some(o.scope) == first;
                                view! { <OwedRow owed=o auto=auto unlocked=unlocked done=done/> }
                            }).collect_view()}
                        </ul>
                    </section>
                })
            })}
        </Suspense>
    }
}

/// Replacing one folder's keys; on success the page reloads with the news.
fn replace_action(
    owed: &KeysOwed,
    rekey: RwSignal<Option<(u32, u32)>>,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> UseAction<()> {
    let (session, store) = (use_session(), use_record_store());
    let owed = owed.clone();
    use_action(move |()| {
        let (owed, u) = (owed.clone(), unlocked.get_value());
        async move {
            rekey.set(Some((0, 1)));
            let progress = move |n, total| rekey.set(Some((n, total)));
            let result = replace_owed_keys(session, store, &u, &owed, progress).await;
            rekey.set(None);
            match result {
                Ok(()) => {
                    done.run(format!(
                        "{} Done: the keys of {} were replaced.",
                        owed_reason(&owed),
                        owed.label
                    ));
                    Ok(None)
                }
                Err(m) => Err(format!(
                    "Replacing the keys of {} did not finish: {m} Use “Replace keys now” to try again.",
                    owed.label
                )),
            }
        }
    })
}

/// One folder: why its keys are replaced, the progress, the button, and any
/// upload that holds it up.
#[component]
fn OwedRow(
    owed: KeysOwed,
    auto: bool,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let rekey = RwSignal::new(None::<(u32, u32)>);
    let replace = replace_action(&owed, rekey, unlocked, done);
    if auto {
        request_animation_frame(move || replace.run(()));
    }
    let label = owed.label.clone();
    let uploads = owed.uploads.clone();
    view! {
        <li class="grant">
            <p>{owed_reason(&owed)}</p>
            <Show when=move || rekey.with(Option::is_some)>
                <RekeyProgress rekey=rekey/>
            </Show>
            <ErrorAlert error=replace.error/>
            {(!uploads.is_empty()).then(|| view! { <BlockingUploads uploads=uploads label=label.clone() done=done/> })}
            <Show when=move || !replace.busy()>
                <button type="button" class="button button--small"
                    aria-label=format!("Replace the keys of {label} now")
                    on:click=move |_| replace.run(())>"Replace keys now"</button>
            </Show>
        </li>
    }
}

/// Unfinished uploads into the folder, each with a way to cancel it.
#[component]
fn BlockingUploads(
    uploads: Vec<OpenUpload>,
    label: String,
    done: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let cancel = use_action(move |upload: OpenUpload| async move {
        cancel_open_upload(session, &upload).await?;
        done.run(format!(
            "{}'s unfinished upload was cancelled. Its keys can now be replaced.",
            upload.uploader_name
        ));
        Ok(None)
    });
    view! {
        <div class="alert alert--warning" role="note">
            <p>{format!("An upload into {label} has not finished, so its keys cannot be replaced until it finishes or is cancelled.")}</p>
            <ul>
                {uploads.into_iter().map(|u| {
                    let name = u.uploader_name.clone();
                    let text = format!("{name}'s upload, started {}", format_time(u.started_at));
                    view! {
                        <li>
                            <span>{text}</span>" "
                            <button type="button" class="button button--secondary button--small"
                                disabled=move || cancel.busy()
                                on:click=move |_| cancel.run(u.clone())>{format!("Cancel {name}'s upload")}</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <ErrorAlert error=cancel.error/>
        </div>
    }
}
