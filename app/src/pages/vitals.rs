//! `/vitals`: enter vital signs, see them listed and drawn over time, delete a
//! wrong one, and export the record.
//!
//! Each reading is an entry node (metadata only, sealed like every other node)
//! in the "Vital signs" starter folder; the server sees a small ciphertext and
//! nothing about what was measured.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::{
    model::Id,
    records::{OpenTree, VitalKind, VitalReading},
};

use crate::{
    components::{
        export_button::ExportButton,
        form::{ErrorAlert, StatusNote},
        print::{PrintButton, PrintHeader},
        vital_form::VitalForm,
        vitals_view::{ChartCard, ReadingsTable},
    },
    pages::with_keys,
    session::{use_session, Unlocked},
    tasks::{
        record::use_record_store,
        vitals::{delete_reading, name_authors, rows_of, save_reading, VitalRow as Row},
        writer::Writer,
    },
};

/// The vital signs page (needs the keys).
#[component]
pub fn VitalsPage() -> impl IntoView {
    with_keys(|u| view! { <Vitals unlocked=u/> })
}

#[component]
fn Vitals(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let unlocked = StoredValue::new_local(unlocked);
    let tree = RwSignal::new(None::<OpenTree>);
    let named = RwSignal::new(None::<Vec<Row>>);
    let load_error = RwSignal::new(None::<String>);
    // The chart shows this kind; `None` follows the latest reading.
    let chart_choice = RwSignal::new(None::<VitalKind>);

    let store = use_record_store();
    // `fresh`: fetch again after this page changed the record.
    let refresh = move |fresh: bool| async move {
        let u = unlocked.get_value();
        match store.get(session, &u, fresh).await {
            Ok(t) => {
                // Readings a doctor added carry their checked name.
                let rows = name_authors(session, rows_of(&t), t.owner_id, None).await;
                load_error.set(None);
                tree.set(Some(t));
                named.set(Some(rows));
            }
            Err(e) => {
                // A refused record (or none) is not shown.
                tree.set(None);
                named.set(None);
                load_error.set(Some(e));
            }
        }
    };
    leptos::task::spawn_local(refresh(false));

    let save = Action::new_local(move |reading: &VitalReading| {
        let reading = reading.clone();
        async move {
            let Some(snapshot) = tree.get_untracked() else {
                return Err("Your record is still opening. Try again in a moment.".to_owned());
            };
            let result = match Writer::for_owner(session, store) {
                Ok(writer) => save_reading(&writer, &snapshot, &reading).await,
                Err(message) => Err(message),
            };
            if result.is_ok() {
                chart_choice.set(Some(reading.kind));
                refresh(true).await;
            }
            result
        }
    });

    let rows = Memo::new(move |_| named.get());

    view! {
        <div class="stack vitals">
            <VitalsIntro/>
            <ErrorAlert error=load_error/>
            // A record that never opened (not a patient, no connection) leaves
            // only the alert: a form that cannot save would only mislead.
            <Show when=move || tree.with(Option::is_some) || load_error.with(Option::is_none)>
            <div class="vitals__top">
                <section class="card vitals__form" aria-labelledby="add-heading">
                    <h2 id="add-heading">"Add a reading"</h2>
                    <VitalForm save=save/>
                </section>
                <ChartCard rows=rows chart_choice=chart_choice/>
            </div>
            <ReadingsCard rows=rows refresh=refresh/>
            <ExportCard/>
            </Show>
        </div>
    }
}

/// The page's heading, lead and link.
#[component]
fn VitalsIntro() -> impl IntoView {
    view! {
        <div class="page-intro">
            <PrintHeader/>
            <h1 id="vitals-heading" tabindex="-1">"Vital signs"</h1>
            <p class="lead">
                "Keep track of your temperature, blood pressure, pulse, weight, blood glucose, oxygen saturation, breathing rate and height. "
                "Each reading is encrypted in this browser before it is stored."
            </p>
            <p class="page-intro__links">
                <A href="/records/search">"Search your record"</A>
                " "
                <PrintButton label="Print your vital signs"/>
            </p>
        </div>
    }
}

/// The readings, each with a Delete button; `refresh` reopens the record
/// after a change.
#[component]
fn ReadingsCard<F, Fut>(rows: Memo<Option<Vec<Row>>>, refresh: F) -> impl IntoView
where
    F: Fn(bool) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let session = use_session();
    let store = use_record_store();
    let list_error = RwSignal::new(None::<String>);
    let list_done = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(None::<Id>);
    let delete = move |row: Row| {
        if deleting.get_untracked().is_some() {
            return;
        }
        deleting.set(Some(row.id));
        list_error.set(None);
        list_done.set(None);
        leptos::task::spawn_local(async move {
            let deleted = match Writer::for_owner(session, store) {
                Ok(writer) => delete_reading(&writer, &row).await,
                Err(message) => Err(message),
            };
            match deleted {
                Ok(done) => {
                    refresh(true).await;
                    list_done.set(Some(done));
                }
                Err(message) => {
                    list_error.set(Some(message));
                    refresh(true).await;
                }
            }
            deleting.set(None);
        });
    };

    view! {
        <section class="card" aria-labelledby="readings-heading">
            <h2 id="readings-heading">"Your readings"</h2>
            <ErrorAlert error=list_error/>
            <StatusNote message=list_done.into()/>
            <Readings rows=rows delete=delete deleting=deleting.into()/>
        </section>
    }
}

/// The readings list: waiting, empty, or the table.
#[component]
fn Readings(
    rows: Memo<Option<Vec<Row>>>,
    delete: impl Fn(Row) + Copy + Send + Sync + 'static,
    deleting: Signal<Option<Id>>,
) -> impl IntoView {
    move || {
        match rows.get() {
        None => view! {
            <p class="status status--pending" role="status">"Opening your record…"</p>
        }.into_any(),
        Some(rows) if rows.is_empty() => view! {
            <p class="empty-state">
                "No readings yet. Add your first one with the form — this morning's temperature "
                "or blood pressure is a good start — and it will be listed here and drawn over time."
            </p>
        }.into_any(),
        Some(rows) => view! {
            <ReadingsTable rows=rows caption="Your vital-sign readings, newest first" owner_label="You"
                delete=Some((Callback::new(delete), deleting))/>
        }.into_any(),
    }
    }
}

/// The export of the whole record.
#[component]
fn ExportCard() -> impl IntoView {
    view! {
        <section class="card no-print" aria-labelledby="export-heading">
            <h2 id="export-heading">"Export"</h2>
            <p>
                "Download your whole record as a zip file: every file in its folder, "
                "and your vital signs as a spreadsheet (CSV) and as JSON. "
                "It is made and decrypted in this browser."
            </p>
            <ExportButton/>
        </section>
    }
}
