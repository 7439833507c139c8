//! The vital signs in a shared record, shown to the doctor or emergency
//! contact as the patient sees them: the chart of one kind over time and the
//! table of readings, each reading a doctor added named by its author. Under
//! a read-and-write grant of the vital-signs folder (or of the whole record)
//! the doctor adds readings too, signed as theirs. Each reading was checked
//! with the rest of the shared tree (`tasks::sharing::open_shared`) before it
//! gets here.

use leptos::prelude::*;
use shared::records::{VitalKind, VitalReading};

use crate::{
    components::{
        vital_form::VitalForm,
        vitals_view::{ChartCard, ReadingsTable},
    },
    session::use_session,
    tasks::{
        sharing::Opened,
        vitals::{name_authors, rows_of, save_reading_in, shared_vitals_folder},
    },
};

/// The chart and the table (and the form, when the doctor may add), or
/// nothing when the shared part holds no readings and no place for them (a
/// shared folder of lab results, say). `changed` reloads the record with the
/// sentence of what was saved.
#[component]
pub fn SharedVitals(
    opened: StoredValue<Opened, LocalStorage>,
    changed: Callback<String>,
) -> impl IntoView {
    let session = use_session();
    let (rows, folder, owner, me) = opened.with_value(|o| {
        let folder = shared_vitals_folder(&o.tree).filter(|_| o.can_write());
        (rows_of(&o.tree), folder, o.patient.user_id, o.me)
    });
    if rows.is_empty() && folder.is_none() {
        return None;
    }
    let count = match rows.len() {
        0 => "No readings yet".to_owned(),
        1 => "1 reading".to_owned(),
        n => format!("{n} readings"),
    };
    let named = LocalResource::new(move || name_authors(session, rows.clone(), owner, Some(me)));
    let rows = Memo::new(move |_| named.get());
    let chart_choice = RwSignal::new(None::<VitalKind>);
    let can_add = folder.is_some();
    let folder = StoredValue::new_local(folder);
    let save = Action::new_local(move |reading: &VitalReading| {
        let reading = reading.clone();
        async move {
            let folder = folder
                .get_value()
                .ok_or_else(|| "Reload the page and try again.".to_owned())?;
            let writer = opened.with_value(|o| o.writer(session));
            let done = save_reading_in(&writer, &folder, &reading).await?;
            changed.run(format!("{done} Signed by you; the patient sees it."));
            Ok(done)
        }
    });
    Some(view! {
        <section class="card" aria-labelledby="shared-vitals-heading">
            <h2 id="shared-vitals-heading">"Vital signs"</h2>
            <p class="muted">{count} ", newest first, as recorded in the patient's record."</p>
            {move || rows.get().filter(|r| !r.is_empty()).map(|rows| view! {
                <ReadingsTable rows=rows caption="The patient's vital-sign readings, newest first"
                    owner_label="Patient" delete=None/>
            })}
        </section>
        {can_add.then(|| view! {
            <section class="card vitals__form" aria-labelledby="shared-add-heading">
                <h2 id="shared-add-heading">"Add a reading"</h2>
                <p class="muted">"Encrypted in this browser and signed by you."</p>
                <VitalForm save=save/>
            </section>
        })}
        <ChartCard rows=rows chart_choice=chart_choice/>
    })
}
