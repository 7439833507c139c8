//! The form of one summary item, new or edited: the fields of its section,
//! names offered from the built-in list of common ones (with their codes),
//! checked here and again by `HealthFact::validate` before anything is sealed.

use leptos::prelude::*;
use shared::records::{
    coded_from_text, picks, ConditionStatus, HealthFact, HealthSection, Severity,
};

use super::form::ErrorAlert;

/// What a save asks for: the item and the revision it follows (`None` for a
/// new item), what it says now, and whether this state removes it.
pub type Save = (Option<(String, u32)>, HealthFact, bool);

/// The typed values, one signal per field of any section.
#[derive(Clone, Copy)]
struct Fields {
    name: RwSignal<String>,
    note: RwSignal<String>,
    choice: RwSignal<String>,
    first: RwSignal<String>,
    last: RwSignal<String>,
}

impl Fields {
    fn of(initial: Option<&HealthFact>) -> Fields {
        let text = |s: &str| RwSignal::new(s.to_owned());
        let opt = |s: &Option<String>| RwSignal::new(s.clone().unwrap_or_default());
        let f = Fields {
            name: text(initial.map_or("", |f| f.subject().text.as_str())),
            note: text(""),
            choice: text(""),
            first: text(""),
            last: text(""),
        };
        match initial {
            Some(HealthFact::Allergy {
                reaction, severity, ..
            }) => {
                f.note.set(reaction.clone());
                f.choice
                    .set(severity.map(|s| s.code().to_owned()).unwrap_or_default());
            }
            Some(HealthFact::Medication {
                dose, since, until, ..
            }) => {
                f.note.set(dose.clone());
                f.first.set(opt(since).get_untracked());
                f.last.set(opt(until).get_untracked());
            }
            Some(HealthFact::Condition { onset, status, .. }) => {
                f.first.set(opt(onset).get_untracked());
                f.choice.set(status.code().to_owned());
            }
            Some(HealthFact::Immunization { date, .. }) => f.first.set(date.clone()),
            None => f.choice.set("active".to_owned()),
        }
        f
    }

    /// The fact the fields say, or the sentence of what to fix.
    fn read(&self, section: HealthSection) -> Result<HealthFact, String> {
        let name = coded_from_text(section, &self.name.get_untracked());
        let date = |s: RwSignal<String>| Some(s.get_untracked()).filter(|d| !d.is_empty());
        let note = self.note.get_untracked().trim().to_owned();
        let fact = match section {
            HealthSection::Allergies => HealthFact::Allergy {
                substance: name,
                reaction: note,
                severity: Severity::from_code(&self.choice.get_untracked()),
            },
            HealthSection::Medications => HealthFact::Medication {
                medication: name,
                dose: note,
                since: date(self.first),
                until: date(self.last),
            },
            HealthSection::Conditions => HealthFact::Condition {
                condition: name,
                onset: date(self.first),
                status: ConditionStatus::from_code(&self.choice.get_untracked())
                    .unwrap_or(ConditionStatus::Active),
            },
            HealthSection::Immunizations => HealthFact::Immunization {
                vaccine: name,
                date: date(self.first).unwrap_or_default(),
            },
        };
        fact.validate()?;
        Ok(fact)
    }
}

/// The form; `initial` is the item being edited (its id and last state).
/// `done` runs once the save went through (the form closes).
#[component]
pub fn HealthForm(
    section: HealthSection,
    initial: Option<((String, u32), HealthFact)>,
    save: Action<Save, Result<String, String>>,
    done: Callback<()>,
) -> impl IntoView {
    let fields = Fields::of(initial.as_ref().map(|(_, f)| f));
    let item = initial.map(|(id, _)| id);
    let key = item.clone().map_or_else(|| "new".to_owned(), |(id, _)| id);
    let error = RwSignal::new(None::<String>);
    let waiting = RwSignal::new(false);
    Effect::new(move |_| {
        let pending = save.pending().get();
        if waiting.get_untracked() && !pending {
            waiting.set(false);
            match save.value().get_untracked() {
                Some(Ok(_)) => done.run(()),
                Some(Err(e)) => error.set(Some(e)),
                None => {}
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match fields.read(section) {
            Ok(fact) => {
                error.set(None);
                waiting.set(true);
                save.dispatch((item.clone(), fact, false));
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let label = if key == "new" { "Save" } else { "Save changes" };
    view! {
        <form class="stack health-form" on:submit=submit novalidate>
            <ErrorAlert error=error/>
            <SectionFields section=section fields=fields key=key/>
            <div class="button-row">
                <button type="submit" class="button" disabled=move || waiting.get()>
                    {move || if waiting.get() { "Saving…" } else { label }}
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| done.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

/// A text field; `list` names a datalist of suggestions.
#[component]
fn TextField(
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] list: Option<String>,
    #[prop(default = "text")] kind: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type=kind list=list autocomplete="off" bind:value=value/>
        </div>
    }
}

/// A choice among `options` (value, label).
#[component]
fn ChoiceField(
    id: String,
    label: &'static str,
    value: RwSignal<String>,
    options: Vec<(&'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                {options.into_iter().map(|(v, l)| view! {
                    <option value=v selected=move || value.get_untracked() == v>{l}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// The fields of `section`.
#[component]
fn SectionFields(section: HealthSection, fields: Fields, key: String) -> impl IntoView {
    let noun = section.noun();
    let id = |f: &str| format!("{noun}-{f}-{key}");
    let list = format!("{noun}-picks-{key}");
    let (name_label, note_label) = match section {
        HealthSection::Allergies => ("Substance", "Reaction (optional)"),
        HealthSection::Medications => ("Medication", "Dose and how often (optional)"),
        HealthSection::Conditions => ("Condition", ""),
        HealthSection::Immunizations => ("Vaccine", ""),
    };
    view! {
        <datalist id=list.clone()>
            {picks(section).iter().map(|(name, _, _)| view! { <option value=*name></option> }).collect_view()}
        </datalist>
        <TextField id=id("name") label=name_label value=fields.name list=list/>
        {match section {
            HealthSection::Allergies => view! {
                <TextField id=id("note") label=note_label value=fields.note/>
                <ChoiceField id=id("severity") label="Severity" value=fields.choice options=vec![
                    ("", "Not given"), ("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe")]/>
            }.into_any(),
            HealthSection::Medications => view! {
                <TextField id=id("note") label=note_label value=fields.note/>
                <TextField id=id("since") label="Taking since (optional)" value=fields.first kind="date"/>
                <TextField id=id("until") label="Stopped on (empty while taking it)" value=fields.last kind="date"/>
            }.into_any(),
            HealthSection::Conditions => view! {
                <TextField id=id("onset") label="Since (optional)" value=fields.first kind="date"/>
                <ChoiceField id=id("status") label="Status" value=fields.choice options=vec![
                    ("active", "Active"), ("inactive", "Inactive"), ("resolved", "Resolved")]/>
            }.into_any(),
            HealthSection::Immunizations => view! {
                <TextField id=id("date") label="Date given" value=fields.first kind="date"/>
            }.into_any(),
        }}
    }
}
