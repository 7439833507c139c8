#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::records::{
    Code, CodeSystem, Coded, ConditionStatus, HealthEntry, HealthFact, Severity, VitalKind,
    VitalReading,
};

const PATIENT: &str = "0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../end2end/fixtures/fhir/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn entry(n: u8, fact: HealthFact) -> HealthEntry {
    HealthEntry {
        item: format!("{n:02x}").repeat(16),
        revision: 1,
        recorded_at: 1_700_000_000,
        removed: false,
        fact,
    }
}

fn sample() -> Summary {
    let snomed = |code: &str| {
        Some(Code {
            system: CodeSystem::Snomed,
            code: code.into(),
        })
    };
    Summary {
        patient_id: PATIENT.into(),
        name: Some("Amy Shaw".into()),
        birth_date: Some("1987-02-20".into()),
        items: vec![
            entry(
                1,
                HealthFact::Allergy {
                    substance: Coded {
                        text: "Cashew nuts".into(),
                        code: snomed("227493005"),
                    },
                    reaction: "Anaphylaxis".into(),
                    severity: Some(Severity::Severe),
                },
            ),
            entry(
                2,
                HealthFact::Medication {
                    medication: Coded::text("Lisinopril 10 mg tablet"),
                    dose: "One a day".into(),
                    since: Some("2023-05-02".into()),
                    until: None,
                },
            ),
            entry(
                3,
                HealthFact::Condition {
                    condition: Coded::text("Strep throat"),
                    onset: Some("2025-01-08".into()),
                    status: ConditionStatus::Resolved,
                },
            ),
            entry(
                4,
                HealthFact::Immunization {
                    vaccine: Coded {
                        text: "Tdap".into(),
                        code: Some(Code {
                            system: CodeSystem::Cvx,
                            code: "115".into(),
                        }),
                    },
                    date: "2022-08-09".into(),
                },
            ),
        ],
        readings: vec![
            (
                "aa".repeat(16),
                VitalReading {
                    kind: VitalKind::BloodPressure,
                    taken_at: 1_768_469_400,
                    value: 118.0,
                    second: Some(76.0),
                },
            ),
            (
                "bb".repeat(16),
                VitalReading {
                    kind: VitalKind::BloodGlucose,
                    taken_at: 1_768_469_400,
                    value: 5.55,
                    second: None,
                },
            ),
        ],
        documents: vec![Document {
            id: "cc".repeat(16),
            title: "visit-note.txt".into(),
            mime: "text/plain".into(),
            size: 5,
            description: "Annual check-up".into(),
            created_at: 1_768_469_400,
            content: DocumentContent::Inline(b"hello".to_vec()),
        }],
    }
}

#[test]
fn the_export_names_the_vital_signs_profile_codes_and_units() {
    let json: Value =
        serde_json::from_str(&bundle_json(&sample(), PATIENT, 1_768_470_000)).unwrap();
    assert_eq!(json["resourceType"], "Bundle");
    assert_eq!(json["type"], "collection");
    assert_eq!(json["timestamp"], "2026-01-15T09:40:00Z");
    let entries = json["entry"].as_array().unwrap();
    assert_eq!(
        entries[0]["fullUrl"],
        "urn:uuid:01234567-89ab-cdef-0123-456789abcdef"
    );
    assert_eq!(entries[0]["resource"]["name"][0]["text"], "Amy Shaw");
    let bp = &entries[5]["resource"];
    assert_eq!(bp["code"]["coding"][0]["code"], "85354-9");
    assert_eq!(bp["component"][0]["code"]["coding"][0]["code"], "8480-6");
    assert_eq!(bp["component"][1]["valueQuantity"]["code"], "mm[Hg]");
    assert_eq!(bp["category"][0]["coding"][0]["code"], "vital-signs");
    assert_eq!(bp["subject"]["reference"], entries[0]["fullUrl"]);
    let glucose = &entries[6]["resource"];
    assert_eq!(glucose["code"]["coding"][0]["code"], "2339-0");
    assert_eq!(glucose["valueQuantity"]["code"], "mg/dL");
    assert_eq!(glucose["valueQuantity"]["value"], 99.99);
    let doc = &entries[7]["resource"]["content"][0]["attachment"];
    assert_eq!(doc["data"], "aGVsbG8=");
    assert_eq!(entries[2]["resource"]["status"], "active");
}

#[test]
fn export_then_import_gives_the_same_summary() {
    let s = sample();
    let back = read_bundle(bundle_json(&s, PATIENT, 1_768_470_000).as_bytes()).unwrap();
    let facts: Vec<HealthFact> = s.items.iter().map(|e| e.fact.clone()).collect();
    assert_eq!(back.facts, facts);
    let readings: Vec<VitalReading> = s.readings.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(back.readings, readings);
    assert_eq!(back.documents[0].bytes, b"hello");
    assert_eq!(back.documents[0].title, "visit-note.txt");
    assert_eq!(back.patient_name.as_deref(), Some("Amy Shaw"));
    assert_eq!(back.birth_date.as_deref(), Some("1987-02-20"));
    assert!(back.skipped.is_empty(), "{:?}", back.skipped);
}

#[test]
fn the_hand_written_bundle_imports_with_its_readings_converted() {
    let got = read_bundle(&fixture("summary-bundle.json")).unwrap();
    assert_eq!(got.patient_name.as_deref(), Some("Amy Shaw"));
    let count = |s| got.facts.iter().filter(|f| f.section() == s).count();
    use crate::records::HealthSection::*;
    assert_eq!(
        [
            count(Allergies),
            count(Medications),
            count(Conditions),
            count(Immunizations)
        ],
        [2, 2, 2, 2]
    );
    assert_eq!(got.readings.len(), 8, "{:?}", got.skipped);
    let glucose = got
        .readings
        .iter()
        .find(|r| r.kind == VitalKind::BloodGlucose)
        .unwrap();
    assert_eq!(glucose.value, 5.11);
    assert_eq!(got.documents.len(), 1);
    assert!(got.skipped.is_empty(), "{:?}", got.skipped);
}

#[test]
fn resources_medvault_does_not_keep_are_listed_with_the_reason() {
    let got = read_bundle(&fixture("medication-request-bundle.json")).unwrap();
    assert_eq!(got.facts.len(), 1);
    let whys: Vec<String> = got
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.what, s.why))
        .collect();
    assert!(
        whys.iter().any(|w| w.contains("MedicationRequest")),
        "{whys:?}"
    );
    assert!(whys.iter().any(|w| w.contains("Procedure")), "{whys:?}");
}

#[test]
fn dates_given_in_part_come_in_without_a_date_and_are_listed() {
    let bundle = serde_json::json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "MedicationStatement", "status": "active",
                "medicationCodeableConcept": {"text": "Metformin"},
                "subject": {"reference": "Patient/p"},
                "effectivePeriod": {"start": "2020-05", "end": "2024-01-31"}}},
            {"resource": {"resourceType": "Condition",
                "code": {"text": "Asthma"},
                "subject": {"reference": "Patient/p"},
                "onsetDateTime": "2019"}},
            {"resource": {"resourceType": "Condition",
                "code": {"text": "Migraine"},
                "subject": {"reference": "Patient/p"},
                "onsetDateTime": "2018-04-02"}}
        ]
    });
    let got = read_bundle(&serde_json::to_vec(&bundle).unwrap()).unwrap();
    assert_eq!(got.facts.len(), 3);
    let HealthFact::Medication { since, until, .. } = &got.facts[0] else {
        panic!("{:?}", got.facts[0]);
    };
    assert_eq!(
        (since.as_deref(), until.as_deref()),
        (None, Some("2024-01-31"))
    );
    let notes: Vec<String> = got
        .dates_left_out
        .iter()
        .map(|s| format!("{}: {}", s.what, s.why))
        .collect();
    assert_eq!(
        notes,
        [
            "Entry 1 (MedicationStatement): its start date “2020-05” is not a whole day, so it comes in without one",
            "Entry 2 (Condition): its onset “2019” is not a whole day, so it comes in without one",
        ]
    );
}

#[test]
fn bad_files_get_a_sentence_and_import_nothing() {
    let cases = [
        ("not-json.json", "not JSON"),
        ("not-a-bundle.json", "single FHIR Patient, not a Bundle"),
        ("stu3-bundle.json", "FHIR STU3"),
        ("missing-fields.json", "has no"),
    ];
    for (file, says) in cases {
        let err = read_bundle(&fixture(file)).unwrap_err();
        assert!(err.contains(says), "{file}: {err}");
        assert!(err.ends_with("Nothing was imported."), "{file}: {err}");
    }
    let big = vec![b' '; (MAX_BUNDLE_BYTES + 1) as usize];
    assert!(read_bundle(&big).unwrap_err().contains("up to 50 MB"));
    let r5 = br#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"MedicationStatement","status":"recorded","medication":{"concept":{"text":"x"}},"subject":{"reference":"Patient/1"}}}]}"#;
    assert!(read_bundle(r5).unwrap_err().contains("FHIR R5"));
    let declared = br#"{"resourceType":"Bundle","meta":{"fhirVersion":"3.0.2"},"entry":[]}"#;
    assert!(read_bundle(declared).unwrap_err().contains("FHIR 3.0.2"));
    let wrong_type = br#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition","code":"asthma"}}]}"#;
    assert!(read_bundle(wrong_type)
        .unwrap_err()
        .contains("does not follow FHIR R4"));
}

#[test]
fn fhir_times_read_as_moments() {
    assert_eq!(
        unix_of_datetime("2026-01-15T09:30:00Z"),
        Some(1_768_469_400)
    );
    assert_eq!(
        unix_of_datetime("2026-01-15T10:30:00.5+01:00"),
        Some(1_768_469_400)
    );
    assert_eq!(unix_of_datetime("1970-01-01"), Some(0));
    assert_eq!(unix_of_datetime("2026-01-15T09:30:00"), None);
    assert_eq!(unix_of_datetime("2026-01-15T09:30:00+1:00"), None);
    assert_eq!(unix_of_datetime("2026-01-15T09:30:00Zé"), None);
    assert_eq!(date_of_datetime("2026-02"), None);
    assert_eq!(
        date_of_datetime("2024-02-29T23:00:00-05:00").as_deref(),
        Some("2024-02-29")
    );
}

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 ,.()-]{0,40}[A-Za-z0-9)]".prop_map(|s| s)
}

fn date() -> impl Strategy<Value = String> {
    (1900u32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

fn coded() -> impl Strategy<Value = Coded> {
    (text(), proptest::option::of((0usize..4, "[0-9]{1,9}"))).prop_map(|(text, code)| Coded {
        text,
        code: code.map(|(s, code)| Code {
            system: CodeSystem::ALL[s],
            code,
        }),
    })
}

fn fact() -> impl Strategy<Value = HealthFact> {
    prop_oneof![
        (coded(), proptest::option::of((text(), 0usize..3))).prop_map(|(substance, r)| {
            HealthFact::Allergy {
                substance,
                reaction: r.as_ref().map(|(t, _)| t.clone()).unwrap_or_default(),
                severity: r.map(|(_, s)| Severity::ALL[s]),
            }
        }),
        (
            coded(),
            proptest::option::of(text()),
            proptest::option::of(date()),
            proptest::option::of(date())
        )
            .prop_map(|(medication, dose, since, until)| {
                let until = match (&since, until) {
                    (Some(s), Some(u)) if u < *s => Some(s.clone()),
                    (_, u) => u,
                };
                HealthFact::Medication {
                    medication,
                    dose: dose.unwrap_or_default(),
                    since,
                    until,
                }
            }),
        (coded(), proptest::option::of(date()), 0usize..3).prop_map(|(condition, onset, s)| {
            HealthFact::Condition {
                condition,
                onset,
                status: ConditionStatus::ALL[s],
            }
        }),
        (coded(), date()).prop_map(|(vaccine, date)| HealthFact::Immunization { vaccine, date }),
    ]
}

fn reading() -> impl Strategy<Value = VitalReading> {
    (
        0usize..8,
        -2_208_988_800i64..4_102_444_800,
        0u32..10_001,
        0u32..10_001,
    )
        .prop_map(|(k, taken_at, a, b)| {
            let kind = VitalKind::ALL[k];
            let (low, high) = kind.plausible();
            let at =
                |f: u32| ((low + (high - low) * f64::from(f) / 10_000.0) * 100.0).round() / 100.0;
            let (value, second) = if kind == VitalKind::BloodPressure {
                let (x, y) = (at(a), at(b));
                if x == y {
                    (at(10_000), Some(at(0)))
                } else {
                    (x.max(y), Some(x.min(y)))
                }
            } else {
                (at(a), None)
            };
            VitalReading {
                kind,
                taken_at,
                value,
                second,
            }
        })
}

proptest! {
    #[test]
    fn any_summary_survives_export_and_import(
        facts in proptest::collection::vec(fact(), 0..8),
        readings in proptest::collection::vec(reading(), 0..8),
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let summary = Summary {
            patient_id: PATIENT.into(),
            name: None,
            birth_date: None,
            items: facts.iter().enumerate().map(|(i, f)| entry(i as u8, f.clone())).collect(),
            readings: readings.iter().enumerate().map(|(i, r)| (format!("{:032x}", i + 100), r.clone())).collect(),
            documents: vec![Document {
                id: "dd".repeat(16),
                title: "scan.bin".into(),
                mime: "application/octet-stream".into(),
                size: bytes.len() as u64,
                description: String::new(),
                created_at: 0,
                content: DocumentContent::Inline(bytes.clone()),
            }],
        };
        for f in &facts {
            prop_assert_eq!(f.validate(), Ok(()));
        }
        let back = read_bundle(bundle_json(&summary, PATIENT, 0).as_bytes()).unwrap();
        prop_assert_eq!(back.facts, facts);
        prop_assert_eq!(back.readings, readings);
        prop_assert_eq!(&back.documents[0].bytes, &bytes);
        prop_assert!(back.skipped.is_empty());
    }
}
