//! The FHIR card of the health page: export the record as a FHIR R4 bundle
//! (files inside the JSON, or beside it in a zip), and import a bundle after
//! a preview of what it holds.

use leptos::prelude::*;
use shared::{
    fhir::{
        import::{too_big, Skipped},
        read_bundle, Imported, MAX_BUNDLE_BYTES,
    },
    records::OpenTree,
};
use wasm_bindgen::JsCast;

use crate::{
    components::{
        export_button::ExportRunning,
        form::{ErrorAlert, StatusNote},
    },
    platform::blob::{blob_bytes, save_blob},
    session::{now_unix, use_session},
    tasks::{
        export::{ExportError, ExportProgress},
        fhir::{counts, export_fhir, import_into, ExportJob},
        profile,
        record::use_record_store,
        transfer::Cancel,
        writer::Writer,
    },
};

/// Export and import.
#[component]
pub fn FhirCard(tree: RwSignal<Option<OpenTree>>, refresh: Callback<()>) -> impl IntoView {
    view! {
        <section class="card no-print" aria-labelledby="fhir-heading">
            <h2 id="fhir-heading">"FHIR (for other health systems)"</h2>
            <p>
                "FHIR R4 is the format hospitals and patient portals exchange records in. "
                "The export is made and decrypted in this browser and is not encrypted: keep it somewhere only you can open."
            </p>
            <div class="fhir-part"><FhirExport/></div>
            <div class="fhir-part"><FhirImport tree=tree refresh=refresh/></div>
        </section>
    }
}

#[component]
fn FhirExport() -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let inline = RwSignal::new(true);
    let running = RwSignal::new(false);
    let cancel = RwSignal::new(false);
    let stopper = StoredValue::new_local(None::<Cancel>);
    let progress = RwSignal::new(ExportProgress::default());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let start = move |_| {
        let Some(unlocked) = session.unlocked() else {
            return;
        };
        if running.get_untracked() {
            return;
        }
        running.set(true);
        cancel.set(false);
        error.set(None);
        done.set(None);
        let handle = Cancel::new();
        stopper.set_value(Some(handle.clone()));
        leptos::task::spawn_local(async move {
            let result = async {
                let tree = store.reload(session, &unlocked).await.map_err(ExportError::Failed)?;
                let me = profile::own(session, &unlocked, &tree).await.ok()
                    .and_then(|(p, _)| p.ok().flatten()).map(|p| p.value);
                let owner = unlocked.key_entry.value.clone();
                let mut report = |p: ExportProgress| progress.set(p);
                let job = ExportJob { tree: &tree, owner: &owner, profile: me, now: now_unix(), inline: inline.get_untracked() };
                let (blob, name) = export_fhir(job, session, &mut report, &handle).await?;
                save_blob(&blob, &name).map_err(|_| ExportError::Failed(
                    "Your browser did not let medvault save the file. Check its download settings and try again.".to_owned()))?;
                Ok::<_, ExportError>(name)
            }.await;
            running.set(false);
            match result {
                Ok(name) => done.set(Some(format!(
                    "Saved {name}: a FHIR R4 bundle of your summary, vital signs and files."
                ))),
                Err(ExportError::Cancelled) => {
                    done.set(Some("Export cancelled. Nothing was saved.".to_owned()))
                }
                Err(ExportError::Failed(m)) => error.set(Some(m)),
            }
        });
    };
    view! {
        <h3>"Export as FHIR"</h3>
        <ErrorAlert error=error/>
        <StatusNote message=done.into()/>
        <fieldset class="choice-group">
            <legend>"Your files"</legend>
            <label><input type="radio" name="fhir-files" checked=true on:change=move |_| inline.set(true)/>
                " Inside the FHIR file (one .json file)"</label>
            <label><input type="radio" name="fhir-files" on:change=move |_| inline.set(false)/>
                " Beside it in a zip (bundle.json and a files folder)"</label>
        </fieldset>
        <Show when=move || running.get() fallback=move || view! {
            <button type="button" class="button button--secondary" on:click=start>"Export as FHIR"</button>
        }>
            <ExportRunning progress=progress cancel=cancel stopper=stopper/>
        </Show>
    }
}

/// Reads the picked file, refusing one over the limit before reading it.
async fn read_picked(input: &web_sys::HtmlInputElement) -> Result<Imported, String> {
    let file = input
        .files()
        .and_then(|f| f.get(0))
        .ok_or_else(|| "Choose a FHIR bundle file first.".to_owned())?;
    let size = file.size() as u64;
    if size > MAX_BUNDLE_BYTES {
        return Err(too_big(size));
    }
    let bytes = blob_bytes(&file)
        .await
        .ok_or_else(|| "This browser could not read the file. Choose it again.".to_owned())?;
    read_bundle(&bytes)
}

#[component]
fn FhirImport(tree: RwSignal<Option<OpenTree>>, refresh: Callback<()>) -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let found = RwSignal::new(None::<Imported>);
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let step = RwSignal::new(None::<(usize, usize)>);
    let pick = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        found.set(None);
        error.set(None);
        done.set(None);
        leptos::task::spawn_local(async move {
            match read_picked(&input).await {
                Ok(f) => found.set(Some(f)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let confirm = move |_| {
        let (Some(f), Some(t)) = (found.get_untracked(), tree.get_untracked()) else {
            return;
        };
        step.set(Some((0, 0)));
        leptos::task::spawn_local(async move {
            let result = match Writer::for_owner(session, store) {
                Ok(w) => {
                    import_into(session, &w, &t, &f, now_unix(), &|d, n| {
                        step.set(Some((d, n)))
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            step.set(None);
            found.set(None);
            match result {
                Ok(m) => done.set(Some(m)),
                Err(e) => error.set(Some(format!(
                    "{e} What was imported before this stays in your record."
                ))),
            }
            refresh.run(());
        });
    };
    view! {
        <h3>"Import a FHIR bundle"</h3>
        <ErrorAlert error=error/>
        <StatusNote message=done.into()/>
        <div class="field">
            <label for="fhir-file">"FHIR R4 bundle (.json)"</label>
            <input id="fhir-file" type="file" accept=".json,application/json,application/fhir+json" on:change=pick/>
        </div>
        {move || step.get().map(|(d, n)| view! {
            <p class="status status--pending" role="status">{format!("Importing… {d} of {n}")}</p>
        })}
        {move || found.get().filter(|_| step.get().is_none()).map(|f| view! { <ImportPreview found=f confirm=confirm cancel=move |_| found.set(None)/> })}
    }
}

/// What the bundle holds, what is left out and why, and the confirmation.
#[component]
fn ImportPreview(
    found: Imported,
    confirm: impl Fn(leptos::ev::MouseEvent) + 'static,
    cancel: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    let born = found
        .birth_date
        .as_deref()
        .map(crate::platform::clock::date_label);
    let who = match (&found.patient_name, &born) {
        (Some(n), Some(b)) => format!("This bundle is about {n}, born {b}."),
        (Some(n), None) => format!("This bundle is about {n}."),
        _ => "This bundle names no patient.".to_owned(),
    };
    let nothing = found.facts.is_empty() && found.readings.is_empty() && found.documents.is_empty();
    view! {
        <div class="import-preview" role="region" aria-label="Import preview">
            <p>{who} {if nothing { " It holds nothing medvault keeps." } else { " It holds:" }}</p>
            <ul>{counts(&found).into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
            <NotedList title="Left out" items=found.skipped/>
            <NotedList title="Imported without a date" items=found.dates_left_out/>
            <div class="button-row">
                <button type="button" class="button" disabled=nothing on:click=confirm>"Import into my record"</button>
                <button type="button" class="button button--secondary" on:click=cancel>"Cancel"</button>
            </div>
        </div>
    }
}

/// Entries of the bundle with a note each ("Entry 3 (Procedure): why"),
/// under `title` and their count; nothing when there are none.
#[component]
fn NotedList(title: &'static str, items: Vec<Skipped>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        view! {
            <p>{format!("{title} ({}):", items.len())}</p>
            <ul class="import-preview__skipped">
                {items.iter().map(|s| view! { <li>{format!("{}: {}", s.what, s.why)}</li> }).collect_view()}
            </ul>
        }
    })
}
