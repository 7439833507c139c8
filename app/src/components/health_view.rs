//! The health summary's four sections (allergies, medications, conditions,
//! immunizations), shown alike to the patient and to a doctor with access:
//! each item's newest state, who wrote it, and its history. With `save`,
//! each item has Edit and Remove and each section an Add form.

use leptos::prelude::*;
use shared::records::{Coded, HealthEntry, HealthFact, HealthItem, HealthSection};

use super::health_form::{HealthForm, Save};
use crate::{
    platform::clock::{date_label, LocalTime},
    tasks::health::HealthRow,
};

/// The items of a summary as a page holds them (`None` while opening).
pub type Items = Memo<Option<Vec<HealthItem<HealthRow>>>>;

/// The four section cards.
#[component]
pub fn HealthSections(
    items: Items,
    /// Stores a new state of an item; `None` for a reader.
    save: Option<Action<Save, Result<String, String>>>,
    /// Who the owner is to the reader ("You" or "Patient").
    owner_label: &'static str,
) -> impl IntoView {
    HealthSection::ALL
        .into_iter()
        .map(|section| view! { <SectionCard section=section items=items save=save owner_label=owner_label/> })
        .collect_view()
}

fn heading_id(section: HealthSection) -> String {
    format!("health-{}-heading", section.noun())
}

/// One section: its current items, the removed ones, and the Add form.
#[component]
fn SectionCard(
    section: HealthSection,
    items: Items,
    save: Option<Action<Save, Result<String, String>>>,
    owner_label: &'static str,
) -> impl IntoView {
    let of_section = move |removed: bool| {
        items.get().map(|all| {
            all.into_iter()
                .filter(|i| i.current.entry.fact.section() == section)
                .filter(|i| i.current.entry.removed == removed)
                .collect::<Vec<_>>()
        })
    };
    let adding = RwSignal::new(false);
    let title = section.title();
    view! {
        <section class="card health-section" aria-labelledby=heading_id(section)>
            <h2 id=heading_id(section)>{title}</h2>
            {move || match of_section(false) {
                None => view! { <p class="status status--pending" role="status">"Opening the record…"</p> }.into_any(),
                Some(list) if list.is_empty() => view! {
                    <p class="empty-state">{format!("No {} recorded.", title.to_lowercase())}</p>
                }.into_any(),
                Some(list) => view! {
                    <ul class="health-list">
                        {list.into_iter().map(|item| view! {
                            <ItemRow item=item save=save owner_label=owner_label/>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
            {move || of_section(true).filter(|l| !l.is_empty()).map(|list| view! {
                <details class="health-removed">
                    <summary>{format!("Removed ({})", list.len())}</summary>
                    <ul class="health-list">
                        {list.into_iter().map(|item| view! {
                            <ItemRow item=item save=None owner_label=owner_label/>
                        }).collect_view()}
                    </ul>
                </details>
            })}
            {save.map(|save| view! {
                <Show when=move || adding.get() fallback=move || view! {
                    <button type="button" class="button button--secondary"
                        on:click=move |_| adding.set(true)>{format!("Add {}", article(section))}</button>
                }>
                    <HealthForm section=section initial=None save=save done=Callback::new(move |()| adding.set(false))/>
                </Show>
            })}
        </section>
    }
}

fn article(section: HealthSection) -> String {
    let noun = section.noun();
    let a = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{a} {noun}")
}

/// The name with its code, if one was picked.
#[component]
fn CodedName(coded: Coded) -> impl IntoView {
    view! {
        <strong class="health-item__name">{coded.text.clone()}</strong>
        {coded.code.map(|c| view! {
            " " <span class="tag" title="Code">{format!("{} {}", c.system.label(), c.code)}</span>
        })}
    }
}

/// The details of a fact in one line ("Reaction: hives · severe").
pub fn details(fact: &HealthFact) -> String {
    let date = |d: &Option<String>| d.as_deref().map(date_label);
    let parts: Vec<String> = match fact {
        HealthFact::Allergy {
            reaction, severity, ..
        } => [
            (!reaction.is_empty()).then(|| format!("Reaction: {reaction}")),
            severity.map(|s| format!("Severity: {}", s.code())),
        ]
        .into_iter()
        .flatten()
        .collect(),
        HealthFact::Medication {
            dose, since, until, ..
        } => [
            (!dose.is_empty()).then(|| dose.clone()),
            date(since).map(|d| format!("Since {d}")),
            Some(date(until).map_or_else(|| "Taking now".to_owned(), |d| format!("Until {d}"))),
        ]
        .into_iter()
        .flatten()
        .collect(),
        HealthFact::Condition { onset, status, .. } => [
            Some(status.label().to_owned()),
            date(onset).map(|d| format!("Since {d}")),
        ]
        .into_iter()
        .flatten()
        .collect(),
        HealthFact::Immunization { date: day, .. } => vec![format!("Given {}", date_label(day))],
    };
    parts.join(" · ")
}

/// "Added by You on 6 Dec 2026" for one state.
fn stamp(row: &HealthRow, owner_label: &str, first: bool) -> String {
    let who = row.by.clone().unwrap_or_else(|| owner_label.to_owned());
    let verb = match (row.entry.removed, first) {
        (true, _) => "Removed",
        (false, true) => "Added",
        (false, false) => "Changed",
    };
    format!(
        "{verb} by {who} on {}",
        LocalTime::of(row.entry.recorded_at).day_month_year()
    )
}

/// One item: its newest state, its history, and Edit and Remove.
#[component]
fn ItemRow(
    item: HealthItem<HealthRow>,
    save: Option<Action<Save, Result<String, String>>>,
    owner_label: &'static str,
) -> impl IntoView {
    let entry: HealthEntry = item.current.entry.clone();
    let editing = RwSignal::new(false);
    let last = stamp(&item.current, owner_label, item.history.len() == 1);
    let history = item.history.clone();
    let count = history.len();
    view! {
        <li class="health-item">
            <div class="health-item__head"><CodedName coded=entry.fact.subject().clone()/></div>
            <p class="health-item__details">{details(&entry.fact)}</p>
            <p class="muted health-item__by">{last}</p>
            {save.map(|save| view! { <ItemActions entry=entry.clone() save=save editing=editing/> })}
            {(count > 1).then(|| view! {
                <details class="health-history">
                    <summary>{format!("History ({count} entries)")}</summary>
                    <ol>
                        {history.iter().enumerate().map(|(i, row)| view! {
                            <li>{stamp(row, owner_label, i == 0)} ": " {row.entry.fact.subject().text.clone()}
                                {let d = details(&row.entry.fact); (!d.is_empty()).then(|| format!(" ({d})"))}</li>
                        }).collect_view()}
                    </ol>
                </details>
            })}
        </li>
    }
}

/// Edit (opens the form filled in) and Remove (a new state that removes it).
#[component]
fn ItemActions(
    entry: HealthEntry,
    save: Action<Save, Result<String, String>>,
    editing: RwSignal<bool>,
) -> impl IntoView {
    let name = entry.fact.subject().text.clone();
    let (edit_label, remove_label) = (format!("Edit {name}"), format!("Remove {name}"));
    let for_remove = StoredValue::new(entry.clone());
    let remove = move |_| {
        let e = for_remove.get_value();
        save.dispatch((Some((e.item, e.revision)), e.fact, true));
    };
    let section = entry.fact.section();
    let item = (entry.item.clone(), entry.revision);
    view! {
        <Show when=move || editing.get() fallback=move || view! {
            <div class="health-item__actions">
                <button type="button" class="button button--secondary button--small" aria-label=edit_label.clone()
                    on:click=move |_| editing.set(true)>"Edit"</button>
                <button type="button" class="button button--secondary button--small" aria-label=remove_label.clone()
                    disabled=move || save.pending().get() on:click=remove>"Remove"</button>
            </div>
        }>
            <HealthForm section=section initial=Some((item.clone(), entry.fact.clone())) save=save
                done=Callback::new(move |()| editing.set(false))/>
        </Show>
    }
}
