//! Vital signs in real Chromium: the form refuses an impossible value with a
//! focused alert and saves nothing, converts units before saving, and the chart
//! draws one point per value with a summary for screen readers.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;

use app::components::{
    vital_form::{parse_number, read_form, VitalForm},
    vitals_chart::{chart_summary, time_ticks, value_ticks, VitalChart},
};
use leptos::prelude::*;
use shared::{
    records::{VitalKind, VitalReading},
    vitals::VitalUnit,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{document, sleep_ms};

/// Readings the form under test handed to its save action.
static SAVED: Mutex<Vec<VitalReading>> = Mutex::new(Vec::new());

/// A fresh container in the body, so tests do not see each other's markup.
fn container(id: &str) -> web_sys::HtmlElement {
    let el = document().create_element("div").unwrap();
    el.set_id(id);
    document().body().unwrap().append_child(&el).unwrap();
    el.dyn_into().unwrap()
}

async fn find(scope: &web_sys::Element, selector: &str) -> web_sys::Element {
    for _ in 0..200 {
        if let Ok(Some(el)) = scope.query_selector(selector) {
            return el;
        }
        sleep_ms(25).await;
    }
    panic!("{selector} never appeared");
}

fn type_into(scope: &web_sys::Element, selector: &str, text: &str) {
    let input: web_sys::HtmlInputElement = scope
        .query_selector(selector)
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    input.set_value(text);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

fn choose(scope: &web_sys::Element, selector: &str, value: &str) {
    let select: web_sys::HtmlSelectElement = scope
        .query_selector(selector)
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    select.set_value(value);
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

fn submit(scope: &web_sys::Element) {
    let button: web_sys::HtmlButtonElement = scope
        .query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    button.click();
}

#[wasm_bindgen_test]
async fn the_form_refuses_impossible_values_and_converts_units() {
    let root = container("form-test");
    let handle = leptos::mount::mount_to(root.clone(), || {
        let save = Action::new_local(|reading: &VitalReading| {
            SAVED.lock().unwrap().push(reading.clone());
            async { Ok::<_, String>("Saved.".to_owned()) }
        });
        view! { <VitalForm save=save/> }
    });
    let root: web_sys::Element = root.into();

    // 73 °C: the range message, in an alert that takes the focus; nothing saved.
    find(&root, "#vital-value").await;
    type_into(&root, "#vital-value", "73");
    submit(&root);
    let alert = find(&root, "[role=alert]").await;
    assert_eq!(
        alert.text_content().as_deref(),
        Some("Temperature must be between 30 and 45 °C.")
    );
    for _ in 0..100 {
        if document().active_element().as_ref() == Some(&alert) {
            break;
        }
        sleep_ms(20).await;
    }
    assert_eq!(document().active_element().as_ref(), Some(&alert));
    assert!(SAVED.lock().unwrap().is_empty());

    // Systolic below diastolic is refused too.
    choose(&root, "#vital-kind", "1");
    find(&root, "#vital-second").await;
    type_into(&root, "#vital-value", "80");
    type_into(&root, "#vital-second", "120");
    submit(&root);
    let mut text = String::new();
    for _ in 0..100 {
        text = find(&root, "[role=alert]")
            .await
            .text_content()
            .unwrap_or_default();
        if text.contains("must be higher than the second") {
            break;
        }
        sleep_ms(20).await;
    }
    assert!(text.contains("must be higher than the second"), "{text}");
    assert!(SAVED.lock().unwrap().is_empty());

    // 98.6 °F is saved as 37 °C, and the value field clears.
    choose(&root, "#vital-kind", "0");
    find(&root, "#vital-unit").await;
    choose(&root, "#vital-unit", "f");
    type_into(&root, "#vital-value", "98.6");
    submit(&root);
    for _ in 0..100 {
        if !SAVED.lock().unwrap().is_empty() {
            break;
        }
        sleep_ms(20).await;
    }
    let saved = SAVED.lock().unwrap().clone();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].kind, VitalKind::Temperature);
    assert!((saved[0].value - 37.0).abs() < 1e-9);
    let status = find(&root, "[role=status]").await;
    assert_eq!(status.text_content().as_deref(), Some("Saved."));
    assert!(root.query_selector("[role=alert]").unwrap().is_none());
    drop(handle);
}

#[wasm_bindgen_test]
fn read_form_messages_say_what_to_fix() {
    let now = 1_795_422_600;
    let when = "2026-11-20T08:30";
    let err =
        |kind, unit, v: &str, s: &str, w: &str| read_form(kind, unit, v, s, w, now).unwrap_err();
    assert_eq!(
        err(VitalKind::Pulse, VitalUnit::Bpm, "", "", when),
        "Enter the pulse."
    );
    assert_eq!(
        err(VitalKind::Weight, VitalUnit::Pound, "heavy", "", when),
        "Type the weight as a number, for example 155."
    );
    assert!(err(VitalKind::BloodPressure, VitalUnit::MmHg, "120", "", when).contains("both"));
    assert_eq!(
        err(VitalKind::Pulse, VitalUnit::Bpm, "72", "", ""),
        "Enter the date and time of the reading."
    );
    assert_eq!(
        err(
            VitalKind::Pulse,
            VitalUnit::Bpm,
            "72",
            "",
            "2026-02-30T08:00"
        ),
        "Enter a real date and time for the reading."
    );
    assert!(err(
        VitalKind::Pulse,
        VitalUnit::Bpm,
        "72",
        "",
        "2030-01-01T08:00"
    )
    .contains("future"));
    // 400 mg/dL is 22.2 mmol/L: fine. 1000 mg/dL is 55.5: impossible.
    let ok = read_form(
        VitalKind::BloodGlucose,
        VitalUnit::MgPerDl,
        "400",
        "",
        when,
        now,
    )
    .unwrap();
    assert!((ok.value - 22.2).abs() < 1e-9);
    assert!(err(
        VitalKind::BloodGlucose,
        VitalUnit::MgPerDl,
        "1000",
        "",
        when
    )
    .contains("between"));
    assert_eq!(parse_number("37,2"), Some(37.2));
    assert_eq!(parse_number(" 120 "), Some(120.0));
    for bad in ["", "NaN", "inf", "1e3", "-5", "1.2.3", "12a"] {
        assert_eq!(parse_number(bad), None, "{bad}");
    }
}

fn reading(kind: VitalKind, taken_at: i64, value: f64, second: Option<f64>) -> VitalReading {
    VitalReading {
        kind,
        taken_at,
        value,
        second,
    }
}

#[wasm_bindgen_test]
async fn the_chart_draws_points_with_a_summary() {
    let day = 86_400;
    let t0 = 1_795_422_600;
    let readings = vec![
        reading(VitalKind::Temperature, t0, 36.8, None),
        reading(VitalKind::Temperature, t0 + day, 38.1, None),
        reading(VitalKind::Temperature, t0 + 2 * day, 37.2, None),
        reading(VitalKind::BloodPressure, t0, 135.0, Some(88.0)),
        reading(VitalKind::BloodPressure, t0 + day, 118.0, Some(76.0)),
    ];
    let root = container("chart-test");
    let list = readings.clone();
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <div id="t"><VitalChart kind=VitalKind::Temperature readings=list.clone()/></div>
            <div id="bp"><VitalChart kind=VitalKind::BloodPressure readings=list.clone()/></div>
            <div id="pulse"><VitalChart kind=VitalKind::Pulse readings=list/></div>
        }
    });
    let root: web_sys::Element = root.into();

    let svg = find(&root, "#t svg[role=img]").await;
    let label = svg.get_attribute("aria-label").unwrap();
    assert!(
        label.starts_with("Temperature chart: 3 readings from"),
        "{label}"
    );
    assert!(label.contains("36.8 to 38.1 °C"), "{label}");
    assert!(label.contains("latest 37.2 °C"), "{label}");
    assert_eq!(svg.query_selector_all("[data-point]").unwrap().length(), 3);
    assert_eq!(
        svg.query_selector_all("[data-point] title")
            .unwrap()
            .length(),
        3
    );
    assert!(
        svg.query_selector_all("text").unwrap().length() >= 6,
        "tick labels"
    );
    assert_eq!(
        svg.query_selector(".chart__unit")
            .unwrap()
            .unwrap()
            .text_content()
            .as_deref(),
        Some("°C")
    );

    let bp = find(&root, "#bp svg[role=img]").await;
    let label = bp.get_attribute("aria-label").unwrap();
    assert!(
        label.contains("systolic 118 to 135, diastolic 76 to 88 mmHg"),
        "{label}"
    );
    assert_eq!(bp.query_selector_all("[data-point]").unwrap().length(), 4);
    assert_eq!(bp.query_selector_all("polyline").unwrap().length(), 2);
    assert!(bp.text_content().unwrap().contains("Systolic"));
    assert!(bp.text_content().unwrap().contains("Diastolic"));

    let empty = find(&root, "#pulse p").await;
    assert!(empty
        .text_content()
        .unwrap()
        .starts_with("No pulse readings yet."));
    assert!(root.query_selector("#pulse svg").unwrap().is_none());
    drop(handle);
}

#[wasm_bindgen_test]
fn axes_are_round_and_cover_the_data() {
    let ticks = value_ticks(36.8, 38.1, 1.0);
    assert!(ticks[0] <= 36.8 && *ticks.last().unwrap() >= 38.1);
    assert!((3..=7).contains(&ticks.len()), "{ticks:?}");
    let flat = value_ticks(72.0, 72.0, 20.0);
    assert!(flat.last().unwrap() - flat[0] >= 20.0, "{flat:?}");

    let t0 = 1_795_422_600;
    for span in [0, 3 * 3600, 2 * 86_400, 20 * 86_400, 400 * 86_400] {
        let ticks = time_ticks(t0, t0 + span, 5);
        assert!(
            ticks.len() >= 2 && ticks.len() <= 8,
            "{span}: {}",
            ticks.len()
        );
        assert!(ticks[0].at <= t0 && ticks.last().unwrap().at >= t0 + span);
        assert!(
            ticks[0].context.is_some(),
            "the first tick names its day or year"
        );
    }
    assert_eq!(
        chart_summary(VitalKind::Pulse, &[]),
        "Pulse chart: no readings yet."
    );
}
