//! Search within the record: by words in a name or description, by record
//! type and by a range of clinical dates, over the metadata decrypted in this
//! browser (the server never sees a name, so it could not search even if
//! asked).

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    crypto::b64,
    records::{OpenNode, OpenTree, RecordType, SearchFilter},
};

use crate::platform::clock::{iso_date_label, LocalTime};

/// One search result as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// The item's name.
    pub name: String,
    /// Its record type, as people read it.
    pub type_label: &'static str,
    /// The folders above it, top first ("My record / Lab results").
    pub folder_path: String,
    /// The record date if it has one, else when it last changed.
    pub date: String,
    /// Where the records page opens it: its folder (a folder opens itself).
    pub href: String,
}

fn hit(tree: &OpenTree, node: &OpenNode) -> SearchHit {
    let path = tree.path(node.id());
    let folders: Vec<&OpenNode> = path
        .iter()
        .copied()
        .filter(|n| n.id() != node.id())
        .collect();
    let folder_id = if node.is_folder() {
        *node.id()
    } else {
        folders.last().map_or(tree.root_id, |f| *f.id())
    };
    let meta = &node.metadata;
    SearchHit {
        name: meta.name.clone(),
        type_label: meta.record_type.label(),
        folder_path: folders
            .iter()
            .map(|f| f.metadata.name.as_str())
            .collect::<Vec<_>>()
            .join(" / "),
        date: meta
            .record_date
            .as_deref()
            .and_then(iso_date_label)
            .unwrap_or_else(|| LocalTime::of(meta.modified_at).day_month_year()),
        href: format!("/records?folder={}", b64::encode(&folder_id)),
    }
}

/// What the record holds that matches `filter`; `None` while the person has
/// asked for nothing yet.
pub fn search_hits(tree: &OpenTree, filter: &SearchFilter) -> Option<Vec<SearchHit>> {
    if filter.is_empty() {
        return None;
    }
    Some(
        tree.search(filter)
            .into_iter()
            .map(|n| hit(tree, n))
            .collect(),
    )
}

/// "3 results", "1 result", "No results".
pub fn count_text(count: usize) -> String {
    match count {
        0 => "No results".to_owned(),
        1 => "1 result".to_owned(),
        n => format!("{n} results"),
    }
}

/// A date field's value as a bound of the range: `None` when empty.
fn bound(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The search box, the type and date filters and the live list of results.
/// `tree` is the opened record (`None` while it loads). Each result links to
/// `/records?folder=<base64url id>` of the folder it is in.
#[component]
pub fn RecordSearch(tree: Signal<Option<OpenTree>>) -> impl IntoView {
    let query = RwSignal::new(String::new());
    // An index into RecordType::ALL, or empty for every type.
    let type_choice = RwSignal::new(String::new());
    let (from, to) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let filter = Memo::new(move |_| SearchFilter {
        query: query.get(),
        record_type: type_choice
            .with(|c| c.parse::<usize>().ok())
            .and_then(|i| RecordType::ALL.get(i).copied()),
        from: from.with(|f| bound(f)),
        to: to.with(|t| bound(t)),
    });
    let hits = Memo::new(move |_| {
        filter.with(|f| tree.with(|tree| tree.as_ref().and_then(|tree| search_hits(tree, f))))
    });
    let count = move || hits.with(|h| h.as_ref().map(|h| count_text(h.len())).unwrap_or_default());

    view! {
        <div class="search">
            <form class="search__form" role="search" aria-label="Your record" on:submit=|ev| ev.prevent_default()>
                <div class="field search__query">
                    <label for="search-query">"Search by name or description"</label>
                    <input
                        id="search-query"
                        type="search"
                        autocomplete="off"
                        spellcheck="false"
                        bind:value=query
                    />
                </div>
                <div class="field search__type">
                    <label for="search-type">"Type"</label>
                    <select id="search-type" on:change=move |ev| type_choice.set(event_target_value(&ev))>
                        <option value="">"All types"</option>
                        {RecordType::ALL.iter().enumerate().map(|(i, t)| view! {
                            <option value=i.to_string()>{t.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <DateRange from=from to=to/>
            </form>
            <p class="search__count" role="status" aria-live="polite">{count}</p>
            {move || match (tree.with(Option::is_some), hits.get()) {
                (false, _) => view! {
                    <p class="status status--pending">"Opening your record…"</p>
                }.into_any(),
                (true, None) => view! {
                    <p class="muted">"Type a word from a name or description, choose a type, or give clinical dates, to find items in your record."</p>
                }.into_any(),
                (true, Some(list)) if list.is_empty() => view! {
                    <p class="muted">"Nothing in your record matches. Try a shorter word, another type or a wider range of dates. Items without a clinical date are left out when you give dates."</p>
                }.into_any(),
                (true, Some(list)) => view! {
                    <ul class="search-results" aria-label="Search results">
                        {list.into_iter().map(|h| view! {
                            <li class="search-result">
                                <A href=h.href.clone() attr:class="search-result__name">{h.name.clone()}</A>
                                <span class="badge search-result__type">{h.type_label}</span>
                                <p class="search-result__meta">
                                    <span class="visually-hidden">"In "</span>
                                    <span class="search-result__path">{h.folder_path.clone()}</span>
                                    <span aria-hidden="true">" · "</span>
                                    <span class="visually-hidden">", dated "</span>
                                    <span>{h.date.clone()}</span>
                                </p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </div>
    }
}

/// The clinical date range: from, to, both optional.
#[component]
fn DateRange(from: RwSignal<String>, to: RwSignal<String>) -> impl IntoView {
    view! {
        <fieldset class="search__dates">
            <legend>"Clinical date"</legend>
            <div class="field">
                <label for="search-from">"From"</label>
                <input id="search-from" type="date" min="1900-01-01" max="2999-12-31" bind:value=from/>
            </div>
            <div class="field">
                <label for="search-to">"To"</label>
                <input id="search-to" type="date" min="1900-01-01" max="2999-12-31" bind:value=to/>
            </div>
        </fieldset>
    }
}
