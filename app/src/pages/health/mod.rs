//! `/health`: the patient's health summary (allergies, medications,
//! conditions, immunizations and the latest vital signs with BMI), its
//! history, and FHIR export and import.
//!
//! Each change is a new entry in the "Health summary" folder, sealed and
//! signed in this browser (`tasks::health`); the server sees small
//! ciphertexts and nothing of what they say.

mod fhir;

use leptos::prelude::*;
use leptos_router::components::A;
use shared::records::{HealthItem, OpenTree, VitalReading};

use crate::{
    components::{
        form::{ErrorAlert, StatusNote},
        health_form::Save,
        health_view::HealthSections,
    },
    pages::with_keys,
    session::{now_unix, use_session, Unlocked},
    tasks::{
        health::{items_of, name_authors, new_entry, save_entry, summary_folder, HealthRow},
        record::use_record_store,
        writer::Writer,
    },
};

/// The health summary page (needs the keys).
#[component]
pub fn HealthPage() -> impl IntoView {
    with_keys(|u| view! { <Health unlocked=u/> })
}

#[component]
fn Health(unlocked: Unlocked) -> impl IntoView {
    let session = use_session();
    let unlocked = StoredValue::new_local(unlocked);
    let tree = RwSignal::new(None::<OpenTree>);
    let named = RwSignal::new(None::<Vec<HealthItem<HealthRow>>>);
    let load_error = RwSignal::new(None::<String>);
    let store = use_record_store();
    let refresh = move |fresh: bool| async move {
        let u = unlocked.get_value();
        match store.get(session, &u, fresh).await {
            Ok(t) => {
                let items = name_authors(session, items_of(&t), t.owner_id, None).await;
                load_error.set(None);
                tree.set(Some(t));
                named.set(Some(items));
            }
            Err(e) => {
                tree.set(None);
                named.set(None);
                load_error.set(Some(e));
            }
        }
    };
    leptos::task::spawn_local(refresh(false));
    let save = Action::new_local(move |(item, fact, removed): &Save| {
        let (item, fact, removed) = (item.clone(), fact.clone(), *removed);
        async move {
            let snapshot = tree
                .get_untracked()
                .ok_or_else(|| "Your record is still opening. Try again in a moment.".to_owned())?;
            let writer = Writer::for_owner(session, store)?;
            let now = now_unix();
            let entry = new_entry(item, fact, removed, now)?;
            let folder = summary_folder(&writer, &snapshot).await?;
            let done = save_entry(&writer, &folder, &entry, now).await;
            refresh(true).await;
            done
        }
    });
    let items = Memo::new(move |_| named.get());
    let readings = Memo::new(move |_| {
        tree.with(|t| {
            t.as_ref().map(|t| {
                t.vitals()
                    .into_iter()
                    .map(|(_, r)| r.clone())
                    .collect::<Vec<_>>()
            })
        })
    });
    let message = Signal::derive(move || save.value().get().and_then(Result::ok));
    view! {
        <div class="stack health">
            <HealthIntro/>
            <ErrorAlert error=load_error/>
            <StatusNote message=message/>
            <Show when=move || tree.with(Option::is_some) || load_error.with(Option::is_none)>
                <VitalsSnapshot readings=readings/>
                <div class="health-grid">
                    <HealthSections items=items save=Some(save) owner_label="You"/>
                </div>
                <fhir::FhirCard tree=tree refresh=Callback::new(move |()| {
                    leptos::task::spawn_local(refresh(true));
                })/>
            </Show>
        </div>
    }
}

#[component]
fn HealthIntro() -> impl IntoView {
    view! {
        <div class="page-intro">
            <h1 id="health-heading" tabindex="-1">"Health summary"</h1>
            <p class="lead">
                "What a doctor needs at a glance: allergies, medications, conditions and vaccinations. "
                "Every change is encrypted and signed in this browser, and earlier versions stay in the history."
            </p>
            <p class="page-intro__links"><A href="/vitals">"Add vital signs"</A></p>
        </div>
    }
}

/// The newest reading of each kind, and BMI from the latest height and weight.
#[component]
pub fn VitalsSnapshot(readings: Memo<Option<Vec<VitalReading>>>) -> impl IntoView {
    use shared::{
        records::VitalKind,
        vitals::{bmi, format_reading},
    };
    let latest = move || {
        let all = readings.get().unwrap_or_default();
        let mut rows: Vec<(String, String)> = VitalKind::ALL
            .iter()
            .filter_map(|k| {
                all.iter()
                    .filter(|r| r.kind == *k)
                    .max_by_key(|r| r.taken_at)
            })
            .map(|r| (r.kind.label().to_owned(), format_reading(r)))
            .collect();
        if let Some(b) = bmi(&all) {
            rows.push(("BMI".to_owned(), format!("{b:.1} kg/m²")));
        }
        rows
    };
    view! {
        <section class="card" aria-labelledby="snapshot-heading">
            <h2 id="snapshot-heading">"Latest vital signs"</h2>
            {move || {
                let rows = latest();
                if rows.is_empty() {
                    view! { <p class="empty-state">"No readings yet."</p> }.into_any()
                } else {
                    view! {
                        <dl class="snapshot">
                            {rows.into_iter().map(|(k, v)| view! {
                                <div class="snapshot__item"><dt>{k}</dt><dd>{v}</dd></div>
                            }).collect_view()}
                        </dl>
                    }.into_any()
                }
            }}
        </section>
    }
}
