//! Changing a share from its row in "Doctors with access": a new end date or
//! permission. Giving more is one signed change; giving less is followed by
//! replacing the folder's keys, with its progress and a retry.

use leptos::prelude::*;
use shared::{api::sharing::GrantView, model::Permission};

use super::grants::RekeyProgress;
use crate::{
    components::{
        action::{use_action, UseAction},
        form::ErrorAlert,
    },
    platform::clock::LocalTime,
    session::{use_session, Unlocked},
    tasks::{
        record::use_record_store,
        sharing::{
            change_share, end_of_day, id_text, permission_of, replace_keys, ChangeError, ShareTerms,
        },
    },
};

/// What the form holds: the choices as typed.
#[derive(Clone, Copy)]
struct Fields {
    permission: RwSignal<String>,
    until: RwSignal<String>,
}

/// "Change" on a live share, opening the form.
#[component]
pub(super) fn ChangeShare(
    grant: GrantView,
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let g = &grant.grant.value;
    let fields = Fields {
        permission: RwSignal::new(
            if g.permission == Permission::ReadWrite {
                "write"
            } else {
                "read"
            }
            .to_owned(),
        ),
        // The stored end is the end of its day: the day before it starts.
        until: RwSignal::new(
            g.expires_at
                .map(|t| LocalTime::of(t - 1).date_iso())
                .unwrap_or_default(),
        ),
    };
    let rekey = RwSignal::new(None::<(u32, u32)>);
    let retry = RwSignal::new(false);
    let doctor = grant.doctor_name.clone();
    let key = id_text(&g.grant_id);
    let save = change_action(grant, fields, (rekey, retry), unlocked, done);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.run(false);
    };
    let name = format!("Change {doctor}'s share");
    view! {
        <Show when=move || open.get() fallback={
            let name = name.clone();
            move || view! {
                <div class="button-row">
                    <button type="button" class="button button--secondary button--small"
                        aria-label=name.clone() on:click=move |_| open.set(true)>"Change"</button>
                </div>
            }
        }>
            <form class="form change-share" aria-label=name.clone() on:submit=submit novalidate>
                <ErrorAlert error=save.error/>
                <ChangeFields fields=fields key=key.clone()/>
                <div class="button-row">
                    <button type="submit" class="button button--small" disabled=move || save.busy()>
                        {move || if save.busy() { "Saving…" } else { "Save changes" }}
                    </button>
                    <button type="button" class="button button--secondary button--small"
                        on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </form>
        </Show>
        <Show when=move || rekey.with(Option::is_some)>
            <RekeyProgress rekey=rekey/>
        </Show>
        <Show when=move || retry.get()>
            <button type="button" class="button button--small" disabled=move || save.busy()
                on:click=move |_| { retry.set(false); save.run(true); }>"Replace the keys again"</button>
        </Show>
    }
}

/// The permission and the end date of a share being changed.
#[component]
fn ChangeFields(fields: Fields, key: String) -> impl IntoView {
    let (permission_id, until_id) = (
        format!("change-permission-{key}"),
        format!("change-until-{key}"),
    );
    let hint = format!("change-until-hint-{key}");
    view! {
        <div class="field">
            <label for=permission_id.clone()>"Permission"</label>
            <select id=permission_id prop:value=move || fields.permission.get()
                on:change=move |ev| fields.permission.set(event_target_value(&ev))>
                <option value="read">"Read only"</option>
                <option value="write">"Read and write"</option>
            </select>
        </div>
        <div class="field">
            <label for=until_id.clone()>"End date"</label>
            <input id=until_id type="date" aria-describedby=hint.clone() bind:value=fields.until/>
            <p class="field__hint" id=hint>
                "Leave empty to share until you remove access. A shorter share, or taking back "
                "write access, replaces the folder's keys."
            </p>
        </div>
    }
}

/// Saving the form (`false`), or replacing the keys again after a change
/// whose replacement did not finish (`true`).
fn change_action(
    grant: GrantView,
    fields: Fields,
    (rekey, retry): (RwSignal<Option<(u32, u32)>>, RwSignal<bool>),
    unlocked: StoredValue<Unlocked, LocalStorage>,
    done: Callback<String>,
) -> UseAction<bool> {
    let (session, store) = (use_session(), use_record_store());
    let scope = grant.grant.value.node_id;
    let grant = StoredValue::new(grant);
    use_action(move |again: bool| async move {
        let u = unlocked.get_value();
        let progress = move |d, t| rekey.set(Some((d, t)));
        let result = if again {
            rekey.set(Some((0, 1)));
            replace_keys(session, store, &u, scope, progress)
                .await
                .map(|()| "The folder's keys were replaced.".to_owned())
                .map_err(ChangeError::KeysNotReplaced)
        } else {
            let terms = ShareTerms {
                permission: permission_of(&fields.permission.get_untracked()),
                expires_at: end_of_day(&fields.until.get_untracked())?,
            };
            rekey.set(Some((0, 1)));
            change_share(session, store, &u, &grant.get_value(), terms, progress).await
        };
        rekey.set(None);
        match result {
            Ok(message) => {
                done.run(message);
                Ok(None)
            }
            Err(ChangeError::Refused(m)) => Err(m),
            Err(ChangeError::KeysNotReplaced(m)) => {
                retry.set(true);
                Err(m)
            }
        }
    })
}
