//! The record as a FHIR R4 `Bundle` of type `collection` (docs/PROTOCOL.md,
//! section 16.12): one `Patient`, the summary's current items, one
//! `Observation` per vital reading and one `DocumentReference` per file.

use serde::Serialize;

use super::codes::{self, vital_code};
use super::AllergyIntolerance;
use super::{
    Attachment, Bundle, BundleEntry, CodeableConcept, Coding, Component, Condition,
    DocumentRefContent, DocumentReference, Dosage, HumanName, Immunization, MedicationStatement,
    Observation, Patient, Period, Quantity, Reaction, Reference,
};
use crate::records::{Coded, HealthEntry, HealthFact, VitalKind, VitalReading};
use crate::vitals::iso_utc;

/// Where a file's bytes go in the export.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentContent {
    /// Inside the bundle, as base64 `attachment.data`.
    Inline(Vec<u8>),
    /// Beside the bundle in the export zip, at this relative path
    /// (`attachment.url`).
    InZip(String),
}

/// One file of the record, as the export describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The file's node id, 32 hex digits.
    pub id: String,
    /// Its name.
    pub title: String,
    /// Its MIME type.
    pub mime: String,
    /// Its exact size in bytes.
    pub size: u64,
    /// Its description; empty for none.
    pub description: String,
    /// When it was added, Unix seconds.
    pub created_at: i64,
    /// The bytes or where they are.
    pub content: DocumentContent,
}

/// Everything an export holds, already opened and checked by the browser.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// The record owner's user id, 32 hex digits (the `Patient` id).
    pub patient_id: String,
    /// The profile's display name.
    pub name: Option<String>,
    /// The profile's date of birth, `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// The summary's current items (removed ones are left out).
    pub items: Vec<HealthEntry>,
    /// Readings with their entry node ids (32 hex digits), oldest first.
    pub readings: Vec<(String, VitalReading)>,
    /// Files.
    pub documents: Vec<Document>,
}

/// `urn:uuid:` of 32 hex digits, grouped 8-4-4-4-12 as FHIR's `uuid` type
/// requires.
pub fn urn(hex: &str) -> String {
    let h = |a: usize, b: usize| hex.get(a..b).unwrap_or("0");
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        h(0, 8),
        h(8, 12),
        h(12, 16),
        h(16, 20),
        h(20, 32)
    )
}

fn concept(coded: &Coded) -> CodeableConcept {
    CodeableConcept {
        coding: coded
            .code
            .iter()
            .map(|c| Coding {
                system: Some(c.system.uri().to_owned()),
                code: Some(c.code.clone()),
                display: None,
            })
            .collect(),
        text: Some(coded.text.clone()),
    }
}

fn status(system: &str, code: &str) -> CodeableConcept {
    CodeableConcept::coded(Coding {
        system: Some(system.to_owned()),
        code: Some(code.to_owned()),
        display: None,
    })
}

fn json(value: impl Serialize) -> serde_json::Value {
    // Plain structs of strings and finite numbers: serialising cannot fail.
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

fn item(entry: &HealthEntry, patient: &Reference, today: &str) -> serde_json::Value {
    let id = Some(entry.item.clone());
    match &entry.fact {
        HealthFact::Allergy {
            substance,
            reaction,
            severity,
        } => json(AllergyIntolerance {
            resource_type: "AllergyIntolerance".into(),
            id,
            clinical_status: Some(status(codes::ALLERGY_CLINICAL, "active")),
            code: Some(concept(substance)),
            patient: patient.clone(),
            reaction: (!reaction.is_empty())
                .then(|| Reaction {
                    manifestation: vec![CodeableConcept {
                        coding: Vec::new(),
                        text: Some(reaction.clone()),
                    }],
                    severity: severity.map(|s| s.code().to_owned()),
                })
                .into_iter()
                .collect(),
        }),
        HealthFact::Medication {
            medication,
            dose,
            since,
            until,
        } => json(MedicationStatement {
            resource_type: "MedicationStatement".into(),
            id,
            status: Some(match until {
                Some(last) if last.as_str() < today => "completed".into(),
                _ => "active".into(),
            }),
            medication_codeable_concept: Some(concept(medication)),
            subject: patient.clone(),
            effective_period: (since.is_some() || until.is_some()).then(|| Period {
                start: since.clone(),
                end: until.clone(),
            }),
            dosage: (!dose.is_empty())
                .then(|| Dosage {
                    text: Some(dose.clone()),
                })
                .into_iter()
                .collect(),
        }),
        HealthFact::Condition {
            condition,
            onset,
            status: s,
        } => json(Condition {
            resource_type: "Condition".into(),
            id,
            clinical_status: Some(status(codes::CONDITION_CLINICAL, s.code())),
            category: vec![CodeableConcept::coded(Coding::new(
                codes::CONDITION_CATEGORY,
                "problem-list-item",
                "Problem List Item",
            ))],
            code: Some(concept(condition)),
            subject: patient.clone(),
            onset_date_time: onset.clone(),
        }),
        HealthFact::Immunization { vaccine, date } => json(Immunization {
            resource_type: "Immunization".into(),
            id,
            status: Some("completed".into()),
            vaccine_code: Some(concept(vaccine)),
            patient: patient.clone(),
            occurrence_date_time: Some(date.clone()),
        }),
    }
}

fn quantity(kind: VitalKind, stored: f64) -> Quantity {
    let code = vital_code(kind);
    Quantity {
        value: Some((stored * code.factor * 100.0).round() / 100.0),
        unit: Some(code.unit.to_owned()),
        system: Some(codes::UCUM.to_owned()),
        code: Some(code.ucum.to_owned()),
    }
}

fn observation(id: &str, r: &VitalReading, patient: &Reference) -> serde_json::Value {
    let code = vital_code(r.kind);
    let loinc = |c: &str, display: &str| CodeableConcept {
        coding: vec![Coding::new(codes::LOINC, c, display)],
        text: Some(display.to_owned()),
    };
    let mut obs = Observation {
        resource_type: "Observation".into(),
        id: Some(id.to_owned()),
        status: Some("final".into()),
        category: vec![CodeableConcept::coded(Coding::new(
            codes::OBSERVATION_CATEGORY,
            "vital-signs",
            "Vital Signs",
        ))],
        code: loinc(code.loinc, code.display),
        subject: patient.clone(),
        effective_date_time: Some(iso_utc(r.taken_at)),
        value_quantity: None,
        component: Vec::new(),
    };
    match (r.kind, r.second) {
        (VitalKind::BloodPressure, Some(diastolic)) => {
            obs.component = vec![
                Component {
                    code: loinc(codes::BP_SYSTOLIC, "Systolic blood pressure"),
                    value_quantity: Some(quantity(r.kind, r.value)),
                },
                Component {
                    code: loinc(codes::BP_DIASTOLIC, "Diastolic blood pressure"),
                    value_quantity: Some(quantity(r.kind, diastolic)),
                },
            ];
        }
        _ => obs.value_quantity = Some(quantity(r.kind, r.value)),
    }
    json(obs)
}

fn document(d: &Document, patient: &Reference) -> serde_json::Value {
    use base64::{engine::general_purpose::STANDARD, Engine};
    let (data, url) = match &d.content {
        DocumentContent::Inline(bytes) => (Some(STANDARD.encode(bytes)), None),
        DocumentContent::InZip(path) => (None, Some(path.clone())),
    };
    json(DocumentReference {
        resource_type: "DocumentReference".into(),
        id: Some(d.id.clone()),
        status: Some("current".into()),
        subject: patient.clone(),
        date: Some(iso_utc(d.created_at)),
        description: (!d.description.is_empty()).then(|| d.description.clone()),
        content: vec![DocumentRefContent {
            attachment: Attachment {
                content_type: Some(d.mime.clone()),
                data,
                url,
                size: Some(d.size),
                title: Some(d.title.clone()),
            },
        }],
    })
}

/// The bundle of `summary`, made at `now` (Unix seconds); `bundle_id` is its
/// logical id (32 hex digits).
pub fn bundle(summary: &Summary, bundle_id: &str, now: i64) -> Bundle {
    let patient_urn = urn(&summary.patient_id);
    let patient = Reference {
        reference: Some(patient_urn.clone()),
    };
    let today = &iso_utc(now)[..10];
    let mut entry = vec![BundleEntry {
        full_url: Some(patient_urn),
        resource: Some(json(Patient {
            resource_type: "Patient".into(),
            id: Some(summary.patient_id.clone()),
            name: summary
                .name
                .iter()
                .map(|n| HumanName {
                    text: Some(n.clone()),
                    ..HumanName::default()
                })
                .collect(),
            birth_date: summary.birth_date.clone(),
        })),
    }];
    let mut add = |id: &str, resource: serde_json::Value| {
        entry.push(BundleEntry {
            full_url: Some(urn(id)),
            resource: Some(resource),
        })
    };
    for e in &summary.items {
        add(&e.item, item(e, &patient, today));
    }
    for (id, r) in &summary.readings {
        add(id, observation(id, r, &patient));
    }
    for d in &summary.documents {
        add(&d.id, document(d, &patient));
    }
    Bundle {
        resource_type: "Bundle".into(),
        id: Some(bundle_id.to_owned()),
        kind: Some("collection".into()),
        timestamp: Some(iso_utc(now)),
        entry,
    }
}

/// [`bundle`] as pretty-printed JSON, the file the person saves.
pub fn bundle_json(summary: &Summary, bundle_id: &str, now: i64) -> String {
    serde_json::to_string_pretty(&bundle(summary, bundle_id, now)).unwrap_or_default()
}
