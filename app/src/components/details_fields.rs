//! The fields of an item's details (type, clinical date, description), used
//! by the upload panel for the files added next and by the Details dialog.
//! What is typed is checked by [`ItemDetails::from_form`] before any use.

use leptos::prelude::*;
use shared::records::{ItemDetails, RecordType};

use crate::platform::clock::iso_date_label;

/// What the fields hold, as typed.
#[derive(Clone, Copy)]
pub struct DetailsInput {
    /// The chosen type.
    pub record_type: RwSignal<RecordType>,
    /// The date field's value: `YYYY-MM-DD` or empty.
    pub date: RwSignal<String>,
    /// The description as typed.
    pub description: RwSignal<String>,
}

impl DetailsInput {
    /// Fields holding `details`.
    pub fn new(details: &ItemDetails) -> Self {
        DetailsInput {
            record_type: RwSignal::new(details.record_type),
            date: RwSignal::new(details.record_date.clone().unwrap_or_default()),
            description: RwSignal::new(details.description.clone()),
        }
    }

    /// The details typed, or the sentence saying what to correct.
    pub fn read(&self) -> Result<ItemDetails, String> {
        ItemDetails::from_form(
            self.record_type.get_untracked(),
            &self.date.get_untracked(),
            &self.description.get_untracked(),
        )
    }

    /// A short summary (tracked): "Lab result, 14 Mar 2026, with a
    /// description".
    pub fn summary(&self) -> String {
        let mut parts = vec![self.record_type.get().label().to_owned()];
        if let Some(date) = self.date.with(|d| iso_date_label(d)) {
            parts.push(date);
        }
        if self.description.with(|d| !d.trim().is_empty()) {
            parts.push("with a description".to_owned());
        }
        parts.join(", ")
    }
}

/// The three labelled fields; `prefix` keeps their ids apart when two sets
/// are on one page.
#[component]
pub fn DetailsFields(input: DetailsInput, prefix: &'static str) -> impl IntoView {
    let (type_id, date_id, text_id) = (
        format!("{prefix}-type"),
        format!("{prefix}-date"),
        format!("{prefix}-description"),
    );
    let date_hint = format!("{prefix}-date-hint");
    view! {
        <div class="details-fields">
            <div class="field">
                <label for=type_id.clone()>"Type"</label>
                <select id=type_id
                    prop:value=move || type_index(input.record_type.get())
                    on:change=move |ev| {
                        if let Some(t) = event_target_value(&ev)
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| RecordType::ALL.get(i).copied())
                        {
                            input.record_type.set(t);
                        }
                    }>
                    {RecordType::ALL.iter().enumerate().map(|(i, t)| view! {
                        <option value=i.to_string()>{t.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for=date_id.clone()>"Clinical date"</label>
                <input id=date_id type="date" min="1900-01-01" max="2999-12-31"
                    aria-describedby=date_hint.clone() bind:value=input.date/>
                <p class="field__hint" id=date_hint>"The day the result, scan or visit is from. Optional."</p>
            </div>
            <div class="field details-fields__description">
                <label for=text_id.clone()>"Description"</label>
                <textarea id=text_id rows="2" maxlength="2000"
                    prop:value=move || input.description.get()
                    on:input=move |ev| input.description.set(event_target_value(&ev))></textarea>
            </div>
        </div>
    }
}

fn type_index(t: RecordType) -> String {
    RecordType::ALL
        .iter()
        .position(|k| *k == t)
        .unwrap_or(0)
        .to_string()
}

/// The folder's panel of details for the files added next: closed, it says
/// what they will get; open, it holds the fields.
#[component]
pub fn NextUploadDetails(input: DetailsInput) -> impl IntoView {
    view! {
        <details class="upload-details">
            <summary>
                "Details for the files you add: "
                <span class="upload-details__summary">{move || input.summary()}</span>
            </summary>
            <p class="muted">
                "Every file you add next — one, several or a whole folder — gets these details. "
                "You can change an item's details later with its Details button."
            </p>
            <DetailsFields input=input prefix="upload"/>
        </details>
    }
}
