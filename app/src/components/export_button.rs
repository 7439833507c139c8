//! "Export my record": one button that builds the whole record as a zip in this
//! browser, with progress and a way to stop, and saves it.

use leptos::prelude::*;

use crate::{
    components::form::{ErrorAlert, StatusNote},
    platform::blob::save_blob,
    session::{now_unix, use_session},
    tasks::export::{export_record, ExportError, ExportProgress},
    tasks::record::use_record_store,
    tasks::transfer::Cancel,
};

/// The sentence once the zip `name` with `files` files was saved.
fn saved_text(name: &str, files: usize) -> String {
    format!(
        "Saved {name} ({}). The zip is not encrypted: keep it somewhere only you can open.",
        match files {
            1 => "1 file and your vital signs".to_owned(),
            n => format!("{n} files and your vital signs"),
        }
    )
}

fn progress_text(p: &ExportProgress) -> String {
    match p.files_total {
        0 => format!("Exporting… {}%", p.percent()),
        1 => format!("Exporting… {}% ({} of 1 file)", p.percent(), p.files_done),
        n => format!(
            "Exporting… {}% ({} of {n} files)",
            p.percent(),
            p.files_done
        ),
    }
}

/// Builds the signed-in patient's whole record as a zip (folders and files as
/// in the record, plus `vital-signs.csv` and `vital-signs.json`) and saves it.
/// Fetches the record afresh (and refreshes the session's copy), so the zip
/// holds the server's newest record and the button can sit on any page.
#[component]
pub fn ExportButton() -> impl IntoView {
    let session = use_session();
    let store = use_record_store();
    let running = RwSignal::new(false);
    let cancel = RwSignal::new(false);
    // The running export's handle: Cancel aborts its requests in flight.
    let stopper = StoredValue::new_local(None::<Cancel>);
    let progress = RwSignal::new(ExportProgress::default());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);

    let start = move |_| {
        if running.get_untracked() {
            return;
        }
        let Some(unlocked) = session.unlocked() else {
            return;
        };
        running.set(true);
        cancel.set(false);
        error.set(None);
        done.set(None);
        progress.set(ExportProgress::default());
        let handle = Cancel::new();
        stopper.set_value(Some(handle.clone()));
        leptos::task::spawn_local(async move {
            let result = async {
                // The export is the patient's full copy: it takes the server's
                // newest tree, not the one this tab opened earlier.
                let tree = store
                    .reload(session, &unlocked)
                    .await
                    .map_err(ExportError::Failed)?;
                let owner = unlocked.key_entry.value.clone();
                let mut report = |p: ExportProgress| progress.set(p);
                let (blob, name) =
                    export_record(&tree, &owner, session, now_unix(), &mut report, &handle)
                        .await?;
                save_blob(&blob, &name).map_err(|_| {
                    ExportError::Failed(
                        "Your browser did not let medvault save the file. Check its download settings and try again."
                            .to_owned(),
                    )
                })?;
                Ok::<_, ExportError>((name, progress.get_untracked().files_total))
            }
            .await;
            running.set(false);
            match result {
                Ok((name, files)) => done.set(Some(saved_text(&name, files))),
                Err(ExportError::Cancelled) => {
                    done.set(Some("Export cancelled. Nothing was saved.".to_owned()))
                }
                Err(ExportError::Failed(message)) => error.set(Some(message)),
            }
        });
    };

    view! {
        <div class="export">
            <ErrorAlert error=error/>
            <StatusNote message=done.into()/>
            <Show
                when=move || running.get()
                fallback=move || view! {
                    <button type="button" class="button button--secondary" on:click=start>
                        "Export my record"
                    </button>
                }
            >
                <ExportRunning progress=progress cancel=cancel stopper=stopper/>
            </Show>
        </div>
    }
}

/// The running export: its progress bar and the Cancel button, which aborts
/// the requests in flight.
#[component]
pub fn ExportRunning(
    progress: RwSignal<ExportProgress>,
    cancel: RwSignal<bool>,
    stopper: StoredValue<Option<Cancel>, LocalStorage>,
) -> impl IntoView {
    view! {
        <div class="export__running">
            <p class="export__label">{move || progress_text(&progress.get())}</p>
            <progress
                class="progress"
                aria-label="Export progress"
                max="100"
                value=move || progress.get().percent().to_string()
                aria-valuetext=move || progress_text(&progress.get())
            ></progress>
            <button
                type="button"
                class="button button--secondary button--small"
                disabled=move || cancel.get()
                on:click=move |_| {
                    cancel.set(true);
                    stopper.with_value(|h| {
                        if let Some(h) = h {
                            h.cancel();
                        }
                    });
                }
            >
                {move || if cancel.get() { "Stopping…" } else { "Cancel export" }}
            </button>
        </div>
    }
}
