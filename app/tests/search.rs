//! Record search mounted in real Chromium over a record made and opened with the
//! real key-tree steps: name and description match case-insensitively, the type
//! filter narrows, the live count reads as a sentence, and each result links to
//! the folder it is in.
#![cfg(target_arch = "wasm32")]
// Test code may unwrap, expect and panic: [workspace.lints] denies that in library
// and binary code only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::components::search::{count_text, search_hits, RecordSearch};
use leptos::prelude::*;
use leptos_router::components::Router;
use shared::{
    api::records::NodeKind,
    crypto::b64,
    records::{OpenTree, RecordType, SearchFilter},
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod common;
use common::{
    document,
    record::{meta, TestRecord},
    sleep_ms,
};

/// A filter of words and, if given, a type.
fn asking(query: &str, record_type: Option<RecordType>) -> SearchFilter {
    SearchFilter {
        query: query.to_owned(),
        record_type,
        ..SearchFilter::default()
    }
}

/// A new record with a lab result and a note in it, opened as the app opens it.
fn record() -> (OpenTree, [u8; 16]) {
    let mut record = TestRecord::new();
    let labs = record.folder("Lab results");
    let notes = record.folder("Notes");
    record.add(
        &labs,
        NodeKind::File,
        &meta("Blood test.pdf", RecordType::LabResult, "Ferritin and B12"),
    );
    record.add(
        &notes,
        NodeKind::File,
        &meta(
            "After the visit.txt",
            RecordType::Note,
            "Ask about the BLOOD results",
        ),
    );
    (record.open(), *labs.id())
}

#[wasm_bindgen_test]
fn hits_match_names_and_descriptions_and_name_their_folder() {
    let (tree, labs) = record();
    assert_eq!(
        search_hits(&tree, &asking("  ", None)),
        None,
        "nothing asked yet"
    );
    let hits = search_hits(&tree, &asking("blood", None)).unwrap();
    let names: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["After the visit.txt", "Blood test.pdf"]);
    let blood = &hits[1];
    assert_eq!(blood.type_label, "Lab result");
    assert_eq!(blood.folder_path, "My record / Lab results");
    assert_eq!(blood.date, "28 Feb 2026");
    assert_eq!(
        blood.href,
        format!("/records?folder={}", b64::encode(&labs))
    );
    let only_labs = search_hits(&tree, &asking("blood", Some(RecordType::LabResult))).unwrap();
    assert_eq!(only_labs.len(), 1);
    // A type alone lists that type, folders included; a folder links to itself.
    let prescriptions = search_hits(&tree, &asking("", Some(RecordType::Prescription))).unwrap();
    assert_eq!(prescriptions.len(), 1);
    assert_eq!(prescriptions[0].folder_path, "My record");
    assert!(prescriptions[0].href.starts_with("/records?folder="));
    // A range of clinical dates: the lab result is dated 2026-02-28.
    let in_range = SearchFilter {
        from: Some("2026-02-01".into()),
        to: Some("2026-02-28".into()),
        ..SearchFilter::default()
    };
    let dated: Vec<String> = search_hits(&tree, &in_range)
        .unwrap()
        .into_iter()
        .map(|h| h.name)
        .collect();
    assert!(dated.contains(&"Blood test.pdf".to_owned()), "{dated:?}");
    let later = SearchFilter {
        from: Some("2026-03-01".into()),
        ..SearchFilter::default()
    };
    assert!(search_hits(&tree, &later).unwrap().is_empty());
    assert_eq!(count_text(0), "No results");
    assert_eq!(count_text(1), "1 result");
    assert_eq!(count_text(3), "3 results");
}

async fn wait_text(el: &web_sys::Element, expected: &str) {
    for _ in 0..200 {
        if el.text_content().as_deref() == Some(expected) {
            return;
        }
        sleep_ms(20).await;
    }
    assert_eq!(el.text_content().as_deref(), Some(expected));
}

#[wasm_bindgen_test]
async fn the_count_and_the_list_follow_the_query_and_type() {
    let (tree, _) = record();
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    let handle = leptos::mount::mount_to(root.clone().unchecked_into(), move || {
        let tree = RwSignal::new(Some(tree.clone()));
        // The result links are router links.
        view! { <Router><RecordSearch tree=tree.into()/></Router> }
    });
    let input: web_sys::HtmlInputElement = root
        .query_selector("input[type=search]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let status = root.query_selector("[role=status]").unwrap().unwrap();
    assert_eq!(status.get_attribute("aria-live").as_deref(), Some("polite"));
    wait_text(&status, "").await;

    input.set_value("BLOOD");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    wait_text(&status, "2 results").await;
    let links = root
        .query_selector_all("ul[aria-label='Search results'] a")
        .unwrap();
    assert_eq!(links.length(), 2);

    let select: web_sys::HtmlSelectElement = root
        .query_selector("select")
        .unwrap()
        .unwrap()
        .unchecked_into();
    select.set_value("3"); // Note
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    wait_text(&status, "1 result").await;
    assert!(root.text_content().unwrap().contains("After the visit.txt"));

    input.set_value("x-ray");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    wait_text(&status, "No results").await;
    drop(handle);
}
