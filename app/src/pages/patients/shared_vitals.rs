//! The vital signs in a shared record, shown to the doctor or emergency
//! contact as the patient sees them: the chart of one kind over time and the
//! table of readings, for reading. Each reading was checked with the rest of
//! the shared tree (`tasks::sharing::open_shared`) before it gets here.

use leptos::prelude::*;
use shared::records::VitalKind;

use crate::{
    components::vitals_view::{ChartCard, ReadingsTable},
    tasks::{sharing::Opened, vitals::rows_of},
};

/// The chart and the table, or nothing when the shared part holds no
/// readings (a shared folder of lab results, say).
#[component]
pub fn SharedVitals(opened: StoredValue<Opened, LocalStorage>) -> impl IntoView {
    let rows = opened.with_value(|o| rows_of(&o.tree));
    if rows.is_empty() {
        return None;
    }
    let count = match rows.len() {
        1 => "1 reading".to_owned(),
        n => format!("{n} readings"),
    };
    let table = rows.clone();
    let rows = Memo::new(move |_| Some(rows.clone()));
    let chart_choice = RwSignal::new(None::<VitalKind>);
    Some(view! {
        <section class="card" aria-labelledby="shared-vitals-heading">
            <h2 id="shared-vitals-heading">"Vital signs"</h2>
            <p class="muted">{count} ", newest first, as the patient recorded them."</p>
            <ReadingsTable rows=table caption="The patient's vital-sign readings, newest first" delete=None/>
        </section>
        <ChartCard rows=rows chart_choice=chart_choice/>
    })
}
