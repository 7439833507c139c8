//! `/history`: the signed-in person's access history — who did what to their
//! account and record, and when. The server sends ids only; people's names come
//! from the directory and item names are decrypted here from the record.

use std::collections::HashMap;

use leptos::prelude::*;
use shared::{
    api::{audit::MAX_PAGE, directory::MAX_NAMES, ErrorCode},
    audit::{AuditEvent, EventKind},
    crypto::{b64, sign::Role, Id},
    records::OpenTree,
};

use crate::{
    api::{audit::my_history, directory, records},
    pages::with_keys,
    platform::browser::{download_text_as, format_time, iso_time, parse_date_input},
    session::{role_label, use_session, Unlocked},
};

/// The access history page (needs the keys).
#[component]
pub fn HistoryPage() -> impl IntoView {
    with_keys(|u| view! { <History unlocked=u/> })
}

/// One event with everything resolved for display.
#[derive(Clone, PartialEq)]
struct Row {
    at: i64,
    actor: Option<Id>,
    /// Someone only looked at a list (the items of the record, a file's
    /// versions): shown on request, as there are many.
    list_view: bool,
    who: String,
    what: &'static str,
    item: String,
}

/// Everything the page shows, loaded once.
#[derive(Clone)]
struct Loaded {
    rows: Vec<Row>,
    people: Vec<(Id, String)>,
}

#[component]
fn History(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let unlocked = StoredValue::new_local(unlocked);
    let loaded =
        LocalResource::new(move || async move { load(session, unlocked.get_value()).await });
    let person = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let list_views = RwSignal::new(false);

    let filtered = move || -> Option<Vec<Row>> {
        let data = loaded.get()?.ok()?;
        let who = person.get();
        let list_views = list_views.get();
        let from = parse_date_input(&from.get());
        // The end date includes its whole day.
        let to = parse_date_input(&to.get()).map(|t| t + 24 * 60 * 60);
        Some(
            data.rows
                .into_iter()
                .filter(|r| who.is_empty() || r.actor.map(|a| b64::encode(&a)) == Some(who.clone()))
                .filter(|r| from.is_none_or(|f| r.at >= f))
                .filter(|r| to.is_none_or(|t| r.at < t))
                .filter(|r| list_views || !r.list_view)
                .collect(),
        )
    };

    let download = move |_| {
        let Some(rows) = filtered() else {
            return;
        };
        let mut csv = shared::csv::row(&["time (UTC)", "person", "action", "item"]);
        for r in &rows {
            csv.push_str(&shared::csv::row(&[
                iso_time(r.at),
                r.who.clone(),
                r.what.to_owned(),
                r.item.clone(),
            ]));
        }
        let _ = download_text_as(
            "medvault-access-history.csv",
            &csv,
            "text/csv;charset=utf-8",
        );
    };

    view! {
        <div class="stack">
            <h1 id="history-heading" tabindex="-1">"Access history"</h1>
            <p class="lead">
                "Everything done with your account and your record: who, what, which item and when. "
                "Nobody, the server's operator included, can change this history without the auditor noticing."
            </p>
            <section class="card" aria-labelledby="history-list-heading">
                <h2 id="history-list-heading">"Events"</h2>
                <Suspense fallback=|| view! { <p class="status status--pending" role="status">"Loading your history…"</p> }>
                    {move || loaded.get().map(|result| match result {
                        Err(message) => view! { <p class="alert alert--error" role="alert">{message}</p> }.into_any(),
                        Ok(data) => view! {
                            <form class="form form--inline history-filters" on:submit=|ev| ev.prevent_default()>
                                <div class="field">
                                    <label for="history-person">"Person"</label>
                                    <select id="history-person" on:change=move |ev| person.set(event_target_value(&ev))>
                                        <option value="">"Everyone"</option>
                                        {data.people.iter().map(|(id, name)| view! {
                                            <option value=b64::encode(id)>{name.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                                <div class="field">
                                    <label for="history-from">"From"</label>
                                    <input id="history-from" type="date" on:input=move |ev| from.set(event_target_value(&ev))/>
                                </div>
                                <div class="field">
                                    <label for="history-to">"To"</label>
                                    <input id="history-to" type="date" on:input=move |ev| to.set(event_target_value(&ev))/>
                                </div>
                                <div class="checkbox">
                                    <input id="history-list-views" type="checkbox" bind:checked=list_views/>
                                    <label for="history-list-views">"Include views of lists (folders, versions)"</label>
                                </div>
                                <button type="button" class="button button--secondary" on:click=download>
                                    "Download as CSV"
                                </button>
                            </form>
                            <HistoryTable rows=Signal::derive(move || filtered().unwrap_or_default())/>
                        }.into_any(),
                    })}
                </Suspense>
            </section>
        </div>
    }
}

#[component]
fn HistoryTable(rows: Signal<Vec<Row>>) -> impl IntoView {
    view! {
        <p class="muted" aria-live="polite">{move || match rows.with(Vec::len) {
            1 => "1 event".to_owned(),
            n => format!("{n} events"),
        }}</p>
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Item"</th></tr>
                </thead>
                <tbody>
                    {move || rows.get().into_iter().map(|r| view! {
                        <tr>
                            <td>{format_time(r.at)}</td>
                            <td>{r.who}</td>
                            <td>{r.what}</td>
                            <td>{r.item}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Fetches every page of the history (newest first on screen), the names of
/// the people in it and, for a patient, the record to name the items.
async fn load(session: crate::session::Session, unlocked: Unlocked) -> Result<Loaded, String> {
    let mut events: Vec<AuditEvent> = Vec::new();
    let mut after = 0;
    loop {
        let page = my_history(after, MAX_PAGE)
            .await
            .map_err(|e| session.explain(&e))?;
        events.extend(page.events);
        match page.next {
            Some(next) if next > after => after = next,
            _ => break,
        }
    }
    events.reverse();

    let mut ids: Vec<Id> = events.iter().filter_map(|e| e.actor).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut names: HashMap<Id, (String, Role)> = HashMap::new();
    for batch in ids.chunks(MAX_NAMES) {
        let request = shared::api::directory::NamesRequest {
            ids: batch.to_vec(),
        };
        match directory::user_names(request).await {
            Ok(list) => names.extend(list.into_iter().map(|n| (n.user_id, (n.username, n.role)))),
            Err(e) if e.code == ErrorCode::Unauthorized => return Err(session.explain(&e)),
            // Without names the history is still worth showing, with ids.
            Err(_) => {}
        }
    }

    // Item names come from the record, if there is one (viewing the history
    // does not create it).
    let tree: Option<OpenTree> = match records::get_record().await {
        Ok(Some(tree)) => OpenTree::open(tree, unlocked.keyring.encryption()).ok(),
        _ => None,
    };
    let me = unlocked.key_entry.value.user_id;
    let who = |actor: Option<Id>| match actor {
        None => "Unknown (not signed in)".to_owned(),
        Some(id) if id == me => "You".to_owned(),
        Some(id) => match names.get(&id) {
            Some((name, role)) => format!("{name} ({})", role_label(*role).to_lowercase()),
            None => format!("Account {}", &b64::encode(&id)[..8]),
        },
    };
    let item = |item: Option<Id>| match (item, &tree) {
        (None, _) => String::new(),
        (Some(id), Some(tree)) => tree
            .node(&id)
            .map(|n| n.metadata.name.clone())
            .unwrap_or_else(|| "A deleted item".to_owned()),
        (Some(id), None) => format!("Item {}", &b64::encode(&id)[..8]),
    };
    let rows = events
        .iter()
        .map(|e| Row {
            at: e.at,
            actor: e.actor,
            list_view: matches!(e.kind, EventKind::RecordViewed | EventKind::VersionsViewed),
            who: who(e.actor),
            what: e.kind.label(),
            item: item(e.item),
        })
        .collect();
    let mut people: Vec<(Id, String)> = ids.iter().map(|id| (*id, who(Some(*id)))).collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(Loaded { rows, people })
}
