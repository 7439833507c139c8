//! The form for one vital-sign reading: what was measured, the value(s) in the
//! unit the person used, and when. An impossible value is refused here with a
//! sentence, before anything is encrypted or sent.

use leptos::prelude::*;
use shared::{
    records::{VitalKind, VitalReading},
    vitals::{to_stored, units, VitalUnit},
};

use crate::{
    components::form::{ErrorAlert, StatusNote, SubmitButton},
    platform::clock::{parse_input_value, LocalTime},
    session::now_unix,
};

/// A number as people type it: digits with at most one `.` or `,` as the
/// decimal mark ("37.2", "37,2"); nothing else (no signs, exponents, "NaN").
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let marks = text.chars().filter(|c| matches!(c, '.' | ',')).count();
    if digits == 0 || marks > 1 || digits + marks != text.chars().count() {
        return None;
    }
    text.replace(',', ".").parse().ok()
}

/// "the temperature", for sentences.
fn noun(kind: VitalKind) -> String {
    format!("the {}", kind.label().to_lowercase())
}

/// An example value in `unit`, for the "type a number" message.
fn example(unit: VitalUnit) -> &'static str {
    match unit {
        VitalUnit::Celsius => "37.2",
        VitalUnit::Fahrenheit => "98.6",
        VitalUnit::MmHg => "120",
        VitalUnit::Bpm => "72",
        VitalUnit::Kilogram => "70.5",
        VitalUnit::Pound => "155",
        VitalUnit::MmolPerL => "5.5",
        VitalUnit::MgPerDl => "99",
        VitalUnit::Percent => "97",
        VitalUnit::BreathsPerMin => "16",
        VitalUnit::Centimetre => "172",
        VitalUnit::Inch => "68",
    }
}

/// Reads the form into a reading in stored units, or the sentence that says
/// what to fix. `when` is the `datetime-local` value; `now` is Unix seconds.
pub fn read_form(
    kind: VitalKind,
    unit: VitalUnit,
    value: &str,
    second: &str,
    when: &str,
    now: i64,
) -> Result<VitalReading, String> {
    let unit = if unit.kind() == kind {
        unit
    } else {
        units(kind)[0]
    };
    let number = |text: &str, what: String| -> Result<f64, String> {
        if text.trim().is_empty() {
            return Err(if kind == VitalKind::BloodPressure {
                "Enter both blood pressure numbers, for example 120 and 80.".to_owned()
            } else {
                format!("Enter {what}.")
            });
        }
        parse_number(text)
            .map(|v| to_stored(v, unit))
            .ok_or_else(|| format!("Type {what} as a number, for example {}.", example(unit)))
    };
    let (value, second) = if kind == VitalKind::BloodPressure {
        (
            number(value, "the systolic (upper) number".to_owned())?,
            Some(number(second, "the diastolic (lower) number".to_owned())?),
        )
    } else {
        (number(value, noun(kind))?, None)
    };
    let taken_at = if when.trim().is_empty() {
        return Err("Enter the date and time of the reading.".to_owned());
    } else {
        parse_input_value(when)
            .ok_or_else(|| "Enter a real date and time for the reading.".to_owned())?
    };
    if taken_at > now + 10 * 60 {
        return Err("The date and time are in the future. Check them and try again.".to_owned());
    }
    if taken_at < -2_208_988_800 {
        return Err("Enter a date after 1900.".to_owned());
    }
    let reading = VitalReading {
        kind,
        taken_at,
        value,
        second,
    };
    reading.validate()?;
    Ok(reading)
}

/// The field label for one value of `kind`.
fn value_label(kind: VitalKind) -> &'static str {
    match kind {
        VitalKind::BloodPressure => "Systolic (upper number)",
        other => other.label(),
    }
}

/// Enter one reading. `save` stores it and answers the sentence to show (or
/// the error); the form clears its values after a save.
#[component]
pub fn VitalForm(
    /// Encrypts and stores a checked reading.
    save: Action<VitalReading, Result<String, String>>,
) -> impl IntoView {
    let kind = RwSignal::new(VitalKind::Temperature);
    let unit = RwSignal::new(VitalUnit::Celsius);
    let value = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());
    let when = RwSignal::new(LocalTime::of(now_unix()).input_value());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = save.pending();

    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            match result {
                Ok(message) => {
                    value.set(String::new());
                    second.set(String::new());
                    done.set(Some(message));
                }
                Err(message) => error.set(Some(message)),
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        done.set(None);
        match read_form(
            kind.get_untracked(),
            unit.get_untracked(),
            &value.get_untracked(),
            &second.get_untracked(),
            &when.get_untracked(),
            now_unix(),
        ) {
            Ok(reading) => {
                save.dispatch(reading);
            }
            Err(message) => error.set(Some(message)),
        }
    };
    view! {
        <div class="vital-form">
            <ErrorAlert error=error/>
            <StatusNote message=done.into()/>
            <form class="form" on:submit=submit novalidate>
                <KindSelect kind=kind unit=unit value=value second=second error=error/>
                <ValueRow kind=kind unit=unit value=value second=second/>
                <div class="field field--when">
                    <label for="vital-when">"Date and time"</label>
                    <input id="vital-when" type="datetime-local" required bind:value=when/>
                </div>
                <SubmitButton label="Save reading" busy=busy.into()/>
            </form>
        </div>
    }
}

/// The choice of measurement; choosing one resets the unit and the values.
#[component]
fn KindSelect(
    kind: RwSignal<VitalKind>,
    unit: RwSignal<VitalUnit>,
    value: RwSignal<String>,
    second: RwSignal<String>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let choose_kind = move |ev: leptos::ev::Event| {
        let chosen = event_target_value(&ev)
            .parse::<usize>()
            .ok()
            .and_then(|i| VitalKind::ALL.get(i).copied())
            .unwrap_or(VitalKind::Temperature);
        unit.set(units(chosen)[0]);
        kind.set(chosen);
        value.set(String::new());
        second.set(String::new());
        error.set(None);
    };

    view! {
        <div class="field">
            <label for="vital-kind">"Measurement"</label>
            <select id="vital-kind" on:change=choose_kind>
                {VitalKind::ALL.iter().enumerate().map(|(i, k)| view! {
                    <option value=i.to_string() selected=*k == VitalKind::Temperature>{k.label()}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// The value fields of the chosen kind, with their unit (a choice when the
/// kind has several).
#[component]
fn ValueRow(
    kind: RwSignal<VitalKind>,
    unit: RwSignal<VitalUnit>,
    value: RwSignal<String>,
    second: RwSignal<String>,
) -> impl IntoView {
    view! {
        {move || {
            let k = kind.get();
            let choices = units(k);
            let single = (choices.len() == 1).then(|| choices[0].symbol());
            view! {
                <div class="field-row">
                    <ValueField id="vital-value" label=value_label(k) value=value unit=single/>
                    {(k == VitalKind::BloodPressure).then(|| view! {
                        <ValueField id="vital-second" label="Diastolic (lower number)" value=second unit=single/>
                    })}
                    {(choices.len() > 1).then(|| view! {
                        <div class="field field--unit">
                            <label for="vital-unit">"Unit"</label>
                            <select id="vital-unit" on:change=move |ev| {
                                if let Some(u) = VitalUnit::from_code(&event_target_value(&ev)) {
                                    unit.set(u);
                                }
                            }>
                                {choices.iter().map(|u| view! {
                                    <option value=u.code() selected=*u == unit.get_untracked()>{u.symbol()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    })}
                </div>
            }
        }}
    }
}

/// A number input with its unit shown beside it (and read with it).
#[component]
fn ValueField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    unit: Option<&'static str>,
) -> impl IntoView {
    let unit_id = format!("{id}-unit");
    let described = unit.map(|_| unit_id.clone());
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div class="input-unit">
                <input
                    id=id
                    name=id
                    type="text"
                    inputmode="decimal"
                    autocomplete="off"
                    aria-describedby=described
                    required
                    bind:value=value
                />
                {unit.map(|u| view! { <span class="input-unit__suffix" id=unit_id>{u}</span> })}
            </div>
        </div>
    }
}
