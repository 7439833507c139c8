//! `/history`: the signed-in person's access history — who did what to their
//! account and record, and when. The server sends ids only; people's names come
//! from the directory and item names are decrypted here from the record.

use leptos::prelude::*;
use shared::crypto::b64;

use crate::{
    components::page::Loaded,
    pages::with_keys,
    platform::browser::{download_text_as, format_time, parse_date_input},
    session::{use_session, Unlocked},
    tasks::history::{filter_rows, history_csv, load, Filter, History as Data, HistoryRow as Row},
};

/// The access history page (needs the keys).
#[component]
pub fn HistoryPage() -> impl IntoView {
    with_keys(|u| view! { <History unlocked=u/> })
}

/// What the filters hold, as typed.
#[derive(Clone, Copy)]
struct Filters {
    person: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
    list_views: RwSignal<bool>,
}

impl Filters {
    /// The filter as the task reads it (tracked).
    fn get(&self) -> Filter {
        Filter {
            who: self.person.get(),
            from: parse_date_input(&self.from.get()),
            // The end date includes its whole day.
            to: parse_date_input(&self.to.get()).map(|t| t + 24 * 60 * 60),
            list_views: self.list_views.get(),
        }
    }
}

#[component]
fn History(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let unlocked = StoredValue::new_local(unlocked);
    let loaded =
        LocalResource::new(move || async move { load(session, unlocked.get_value()).await });
    let filters = Filters {
        person: RwSignal::new(String::new()),
        from: RwSignal::new(String::new()),
        to: RwSignal::new(String::new()),
        list_views: RwSignal::new(false),
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
                <Loaded data=loaded waiting="Loading your history…" render=move |data: Data| {
                    let rows = data.rows.clone();
                    let filtered = Signal::derive(move || filter_rows(&rows, &filters.get()));
                    view! {
                        <HistoryFilters people=data.people filters=filters filtered=filtered/>
                        <HistoryTable rows=filtered/>
                    }
                }/>
            </section>
        </div>
    }
}

/// Person, date range and list views, and the CSV download of what they let
/// through.
#[component]
fn HistoryFilters(
    people: Vec<(shared::model::Id, String)>,
    filters: Filters,
    filtered: Signal<Vec<Row>>,
) -> impl IntoView {
    let download = move |_| {
        let _ = download_text_as(
            "medvault-access-history.csv",
            &history_csv(&filtered.get_untracked()),
            "text/csv;charset=utf-8",
        );
    };
    view! {
        <form class="form form--inline history-filters" on:submit=|ev| ev.prevent_default()>
            <div class="field">
                <label for="history-person">"Person"</label>
                <select id="history-person" on:change=move |ev| filters.person.set(event_target_value(&ev))>
                    <option value="">"Everyone"</option>
                    {people.iter().map(|(id, name)| view! {
                        <option value=b64::encode(id)>{name.clone()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="history-from">"From"</label>
                <input id="history-from" type="date" on:input=move |ev| filters.from.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="history-to">"To"</label>
                <input id="history-to" type="date" on:input=move |ev| filters.to.set(event_target_value(&ev))/>
            </div>
            <div class="checkbox">
                <input id="history-list-views" type="checkbox" bind:checked=filters.list_views/>
                <label for="history-list-views">"Include views of lists (folders, versions)"</label>
            </div>
            <button type="button" class="button button--secondary" on:click=download>
                "Download as CSV"
            </button>
        </form>
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
