//! Vital signs as the patient's page and a doctor's view of a shared record
//! both show them: the chart of one kind over time with the choice of kind,
//! and the table of readings (the chart's accessible form).

use leptos::prelude::*;
use shared::{
    model::Id,
    records::{VitalKind, VitalReading},
    vitals::format_reading,
};

use crate::{
    components::vitals_chart::{is_compact, VitalChart},
    platform::clock::LocalTime,
    tasks::vitals::{chart_kind, kind_option, VitalRow as Row},
};

/// The chart of one kind over time, with the choice of kind.
#[component]
pub fn ChartCard(
    rows: Memo<Option<Vec<Row>>>,
    chart_choice: RwSignal<Option<VitalKind>>,
) -> impl IntoView {
    // The chart redraws for a phone's width (and back) when the window resizes.
    let compact = RwSignal::new(is_compact());
    let resize = window_event_listener(leptos::ev::resize, move |_| compact.set(is_compact()));
    on_cleanup(move || resize.remove());
    let kind = Memo::new(move |_| rows.with(|r| chart_kind(chart_choice.get(), r.as_deref())));
    view! {
        <section class="card vitals__chart" aria-labelledby="chart-heading">
            <div class="card__head">
                <h2 id="chart-heading">"Over time"</h2>
                <div class="field field--inline">
                    <label for="chart-kind">"Show"</label>
                    <select
                        id="chart-kind"
                        prop:value=move || {
                            VitalKind::ALL
                                .iter()
                                .position(|k| *k == kind.get())
                                .unwrap_or(0)
                                .to_string()
                        }
                        on:change=move |ev| {
                            if let Some(k) = event_target_value(&ev)
                                .parse::<usize>()
                                .ok()
                                .and_then(|i| VitalKind::ALL.get(i).copied())
                            {
                                chart_choice.set(Some(k));
                            }
                        }
                    >
                        {VitalKind::ALL.iter().enumerate().map(|(i, k)| {
                            let k = *k;
                            view! {
                                <option value=i.to_string()>
                                    {move || rows.with(|r| kind_option(k, r.as_deref()))}
                                </option>
                            }
                        }).collect_view()}
                    </select>
                </div>
            </div>
            <div class="chart-wrap">
                {move || {
                    let readings: Vec<VitalReading> = rows.with(|r| {
                        r.as_ref()
                            .map(|r| r.iter().map(|row| row.reading.clone()).collect())
                            .unwrap_or_default()
                    });
                    view! { <VitalChart kind=kind.get() readings=readings compact=compact.get()/> }
                }}
            </div>
        </section>
    }
}

/// The readings as a table, newest first: the accessible form of the chart.
/// With `delete`, each row has a Delete button (the record's owner); without,
/// the table is for reading (a doctor's or an emergency contact's view).
#[component]
pub fn ReadingsTable(
    rows: Vec<Row>,
    /// What the caption says the table is.
    caption: &'static str,
    /// Who "Recorded by" names for the record's owner's own readings ("You"
    /// on the patient's page); the column shows only when a doctor wrote one.
    owner_label: &'static str,
    /// Deletes a reading, and which one is being deleted.
    delete: Option<(Callback<Row>, Signal<Option<Id>>)>,
) -> impl IntoView {
    let by_doctor = rows.iter().any(|r| r.by.is_some());
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Date and time"</th>
                        <th scope="col" class="table__kind">"Measurement"</th>
                        <th scope="col">"Reading"</th>
                        {by_doctor.then(|| view! { <th scope="col">"Recorded by"</th> })}
                        {delete.is_some().then(|| view! {
                            <th scope="col" class="table__actions"><span class="visually-hidden">"Action"</span></th>
                        })}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let id = row.id;
                        let label = format!("Delete {}", row.name);
                        let when = LocalTime::of(row.reading.taken_at);
                        let kind = row.reading.kind.label();
                        let value = format_reading(&row.reading);
                        let by = by_doctor.then(|| row.by.clone().unwrap_or_else(|| owner_label.to_owned()));
                        view! {
                            <tr>
                                <td>
                                    <span class="nowrap">{when.day_month_year()}</span>
                                    " "
                                    <span class="nowrap">"at " {when.time()}</span>
                                </td>
                                <td class="table__kind">{kind}</td>
                                // On a phone the measurement column folds into this one.
                                <td class="table__number">
                                    <span class="table__kind-inline">{kind}</span>
                                    {value}
                                </td>
                                {by.map(|by| view! { <td>{by}</td> })}
                                {delete.map(|(delete, deleting)| view! {
                                    <td class="table__actions">
                                        <button
                                            type="button"
                                            class="button button--secondary button--small"
                                            aria-label=label.clone()
                                            disabled=move || deleting.get().is_some()
                                            on:click=move |_| delete.run(row.clone())
                                        >
                                            {move || if deleting.get() == Some(id) { "Deleting…" } else { "Delete" }}
                                        </button>
                                    </td>
                                })}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
