//! A FHIR R4 bundle read into summary items, readings and files, or one
//! sentence that says why not (docs/PROTOCOL.md, section 16.12). All or
//! nothing: any error means nothing is imported.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::codes::{self, to_stored_factor, VITAL_CODES};
use super::time::{date_of_datetime, partial_dates, unix_of_datetime};
use super::{
    AllergyIntolerance, Bundle, CodeableConcept, Condition, DocumentReference, Immunization,
    MedicationStatement, Observation, Patient, Quantity, FHIR_VERSION,
};
use crate::records::{
    Code, CodeSystem, Coded, ConditionStatus, HealthFact, Severity, VitalKind, VitalReading,
    MAX_HEALTH_TEXT,
};

/// The largest bundle file the app reads (inline files make bundles big; a
/// bigger one is refused before it is read).
pub const MAX_BUNDLE_BYTES: u64 = 50 * 1024 * 1024;

/// A file found inside the bundle.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedDocument {
    /// Its name (the attachment's title, else "Document N").
    pub title: String,
    /// Its MIME type.
    pub mime: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its description.
    pub description: String,
    /// The day it is about, `YYYY-MM-DD`.
    pub date: Option<String>,
}

/// A resource the import leaves out, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// "Entry 7 (Procedure)".
    pub what: String,
    /// A sentence: why it is not imported.
    pub why: String,
}

/// What a bundle holds that medvault keeps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Imported {
    /// The patient's name, shown in the preview (the profile is not changed).
    pub patient_name: Option<String>,
    /// The patient's birth date, shown in the preview.
    pub birth_date: Option<String>,
    /// Summary items, in bundle order.
    pub facts: Vec<HealthFact>,
    /// Vital readings, in bundle order.
    pub readings: Vec<VitalReading>,
    /// Files carried inside the bundle.
    pub documents: Vec<ImportedDocument>,
    /// Everything left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// Dates of imported resources given only in part ("2020", "2020-05"):
    /// the record keeps whole days, so these come in without the date.
    pub dates_left_out: Vec<Skipped>,
}

const NOTHING: &str = "Nothing was imported.";

/// The FHIR version a resource's shape gives away when it is not R4, from
/// fields whose type or name changed between versions.
fn other_version(resource: &Value) -> Option<&'static str> {
    let kind = resource.get("resourceType")?.as_str()?;
    let has = |field: &str| resource.get(field).is_some();
    let is_string = |field: &str| resource.get(field).is_some_and(Value::is_string);
    match kind {
        "AllergyIntolerance" if has("substance") => Some("DSTU2 (1.0)"),
        "AllergyIntolerance" | "Condition" if is_string("clinicalStatus") => Some("STU3 (3.0)"),
        "AllergyIntolerance" | "Condition" if is_string("verificationStatus") => Some("STU3 (3.0)"),
        "MedicationStatement" if has("taken") || has("wasNotTaken") => Some("STU3 (3.0)"),
        "MedicationStatement" if resource.get("medication").is_some_and(Value::is_object) => {
            Some("R5 (5.0)")
        }
        "Immunization" if has("date") && !has("occurrenceDateTime") => Some("STU3 (3.0)"),
        "Observation" if has("comments") => Some("DSTU2 (1.0)"),
        _ => None,
    }
}

fn declared_version(bundle: &Value) -> Option<String> {
    let v = bundle
        .get("fhirVersion")
        .or_else(|| bundle.get("meta").and_then(|m| m.get("fhirVersion")))?;
    let v = v.as_str()?;
    (!v.starts_with("4.0")).then(|| v.to_owned())
}

fn typed<T: DeserializeOwned>(resource: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(resource.clone())
        .map_err(|e| format!("{what} does not follow FHIR R4: {e}. {NOTHING}"))
}

fn missing(what: &str, field: &str, meaning: &str) -> String {
    format!("{what} has no {field} ({meaning}). Fix the file or export it again. {NOTHING}")
}

/// A concept as a name and, when it carries one from a known system, a code.
fn coded(c: &CodeableConcept) -> Option<Coded> {
    let known = c.coding.iter().find_map(|coding| {
        let system = CodeSystem::from_uri(coding.system.as_deref()?)?;
        let code = coding.code.clone()?;
        Some((system, code, coding.display.clone()))
    });
    let text = c
        .text
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| c.coding.iter().find_map(|k| k.display.clone()))
        .or_else(|| {
            known
                .as_ref()
                .map(|(s, code, _)| format!("{} {code}", s.label()))
        })?;
    let text: String = text.trim().chars().take(MAX_HEALTH_TEXT).collect();
    Some(Coded {
        text,
        code: known.map(|(system, code, _)| Code { system, code }),
    })
}

fn status_code(c: &Option<CodeableConcept>) -> Option<String> {
    c.as_ref()?.coding.iter().find_map(|k| k.code.clone())
}

fn stored(kind: VitalKind, q: &Quantity, what: &str) -> Result<Result<f64, String>, String> {
    let value = q
        .value
        .ok_or_else(|| missing(what, "value", "the measured number"))?;
    let unit = q.code.as_deref().or(q.unit.as_deref()).unwrap_or("");
    if kind == VitalKind::Temperature && unit == "[degF]" {
        return Ok(Ok(((value - 32.0) * 5.0 / 9.0 * 100.0).round() / 100.0));
    }
    Ok(match to_stored_factor(kind, unit) {
        Some(f) => Ok((value * f * 100.0).round() / 100.0),
        None => Err(format!(
            "its unit “{unit}” is not one medvault converts for {}",
            kind.label().to_lowercase()
        )),
    })
}

/// What one entry yields.
enum Found {
    Fact(HealthFact),
    Reading(VitalReading),
    Document(ImportedDocument),
    Patient(Patient),
    Skip(String),
}

fn allergy(r: &Value, what: &str) -> Result<Found, String> {
    let a: AllergyIntolerance = typed(r, what)?;
    let substance = a
        .code
        .as_ref()
        .and_then(coded)
        .ok_or_else(|| missing(what, "code", "the substance"))?;
    if let Some(s) = status_code(&a.clinical_status).filter(|s| s != "active") {
        return Ok(Found::Skip(format!("the allergy is marked {s}")));
    }
    let first = a.reaction.first();
    let reaction = first
        .and_then(|x| x.manifestation.iter().find_map(coded))
        .map(|c| c.text)
        .unwrap_or_default();
    let severity = first
        .and_then(|x| x.severity.as_deref())
        .and_then(Severity::from_code)
        .filter(|_| !reaction.is_empty());
    Ok(Found::Fact(HealthFact::Allergy {
        substance,
        reaction,
        severity,
    }))
}

fn medication(r: &Value, what: &str) -> Result<Found, String> {
    let m: MedicationStatement = typed(r, what)?;
    let medication = m
        .medication_codeable_concept
        .as_ref()
        .and_then(coded)
        .ok_or_else(|| missing(what, "medicationCodeableConcept", "the medicine"))?;
    if let Some(s) = m
        .status
        .as_deref()
        .filter(|s| matches!(*s, "entered-in-error" | "not-taken"))
    {
        return Ok(Found::Skip(format!("the statement is marked {s}")));
    }
    let period = m.effective_period.unwrap_or_default();
    Ok(Found::Fact(HealthFact::Medication {
        medication,
        dose: m
            .dosage
            .iter()
            .find_map(|d| d.text.clone())
            .unwrap_or_default()
            .chars()
            .take(MAX_HEALTH_TEXT)
            .collect(),
        since: period.start.as_deref().and_then(date_of_datetime),
        until: period.end.as_deref().and_then(date_of_datetime),
    }))
}

fn condition(r: &Value, what: &str) -> Result<Found, String> {
    let c: Condition = typed(r, what)?;
    let problem = c
        .code
        .as_ref()
        .and_then(coded)
        .ok_or_else(|| missing(what, "code", "the problem"))?;
    let status = match status_code(&c.clinical_status).as_deref() {
        None | Some("active" | "recurrence" | "relapse") => ConditionStatus::Active,
        Some("inactive" | "remission") => ConditionStatus::Inactive,
        Some("resolved") => ConditionStatus::Resolved,
        Some(other) => return Ok(Found::Skip(format!("its status “{other}” is not known"))),
    };
    Ok(Found::Fact(HealthFact::Condition {
        condition: problem,
        onset: c.onset_date_time.as_deref().and_then(date_of_datetime),
        status,
    }))
}

fn immunization(r: &Value, what: &str) -> Result<Found, String> {
    let i: Immunization = typed(r, what)?;
    let vaccine = i
        .vaccine_code
        .as_ref()
        .and_then(coded)
        .ok_or_else(|| missing(what, "vaccineCode", "the vaccine"))?;
    let when = i
        .occurrence_date_time
        .ok_or_else(|| missing(what, "occurrenceDateTime", "the day it was given"))?;
    if let Some(s) = i.status.as_deref().filter(|s| *s != "completed") {
        return Ok(Found::Skip(format!("the vaccination is marked {s}")));
    }
    let Some(date) = date_of_datetime(&when) else {
        return Ok(Found::Skip(format!(
            "its date “{when}” is not a whole day (YYYY-MM-DD)"
        )));
    };
    Ok(Found::Fact(HealthFact::Immunization { vaccine, date }))
}

fn observation(r: &Value, what: &str) -> Result<Found, String> {
    let o: Observation = typed(r, what)?;
    let loinc = |code: &str| o.code.has(codes::LOINC, code);
    let kind = if loinc(codes::GLUCOSE_MOLES) {
        Some(VitalKind::BloodGlucose)
    } else {
        VITAL_CODES.iter().find(|c| loinc(c.loinc)).map(|c| c.kind)
    };
    let Some(kind) = kind else {
        let name = coded(&o.code).map_or_else(|| "without a code".into(), |c| c.text);
        let why = if loinc(codes::BMI) {
            "medvault computes BMI from height and weight".to_owned()
        } else {
            format!("“{name}” is not a vital sign medvault keeps")
        };
        return Ok(Found::Skip(why));
    };
    if matches!(o.status.as_deref(), Some("entered-in-error" | "cancelled")) {
        return Ok(Found::Skip("the observation is marked as not valid".into()));
    }
    let when = o
        .effective_date_time
        .as_deref()
        .ok_or_else(|| missing(what, "effectiveDateTime", "when it was measured"))?;
    let Some(taken_at) = unix_of_datetime(when) else {
        return Ok(Found::Skip(format!(
            "its time “{when}” has no time zone or is not a date"
        )));
    };
    let (value, second) = if kind == VitalKind::BloodPressure {
        let part = |code: &str| {
            o.component
                .iter()
                .find(|c| c.code.has(codes::LOINC, code))
                .and_then(|c| c.value_quantity.as_ref())
        };
        let (Some(sys), Some(dia)) = (part(codes::BP_SYSTOLIC), part(codes::BP_DIASTOLIC)) else {
            return Err(missing(
                what,
                "systolic and diastolic components",
                "the two blood pressure numbers",
            ));
        };
        match (stored(kind, sys, what)?, stored(kind, dia, what)?) {
            (Ok(s), Ok(d)) => (s, Some(d)),
            (Err(why), _) | (_, Err(why)) => return Ok(Found::Skip(why)),
        }
    } else {
        let q = o
            .value_quantity
            .as_ref()
            .ok_or_else(|| missing(what, "valueQuantity", "the measured value"))?;
        match stored(kind, q, what)? {
            Ok(v) => (v, None),
            Err(why) => return Ok(Found::Skip(why)),
        }
    };
    let reading = VitalReading {
        kind,
        taken_at,
        value,
        second,
    };
    Ok(match reading.validate() {
        Ok(()) => Found::Reading(reading),
        Err(why) => Found::Skip(why),
    })
}

fn document(r: &Value, what: &str, n: usize) -> Result<Found, String> {
    use base64::{engine::general_purpose::STANDARD, Engine};
    let d: DocumentReference = typed(r, what)?;
    let attachment = &d
        .content
        .first()
        .ok_or_else(|| missing(what, "content", "the file"))?
        .attachment;
    let Some(data) = &attachment.data else {
        return Ok(Found::Skip(match &attachment.url {
            Some(url) => format!("its file is not inside this bundle (it points to “{url}”)"),
            None => "it carries no file".into(),
        }));
    };
    let bytes = STANDARD
        .decode(data.trim())
        .map_err(|_| format!("{what} has file data that is not base64. {NOTHING}"))?;
    let title = attachment
        .title
        .clone()
        .filter(|t| crate::records::validate_name(t).is_ok())
        .unwrap_or_else(|| format!("Document {n}"));
    Ok(Found::Document(ImportedDocument {
        title,
        mime: attachment
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into()),
        bytes,
        description: d
            .description
            .unwrap_or_default()
            .chars()
            .take(crate::records::MAX_DESCRIPTION_CHARS)
            .collect(),
        date: d.date.as_deref().and_then(date_of_datetime),
    }))
}

fn entry(resource: &Value, kind: &str, what: &str, n: usize) -> Result<Found, String> {
    match kind {
        "Patient" => Ok(Found::Patient(typed(resource, what)?)),
        "AllergyIntolerance" => allergy(resource, what),
        "MedicationStatement" => medication(resource, what),
        "Condition" => condition(resource, what),
        "Immunization" => immunization(resource, what),
        "Observation" => observation(resource, what),
        "DocumentReference" => document(resource, what, n),
        other => Ok(Found::Skip(format!(
            "medvault does not keep {other} resources"
        ))),
    }
}

/// Reads a bundle file. `Err` is the sentence to show; then nothing is
/// imported.
pub fn read_bundle(bytes: &[u8]) -> Result<Imported, String> {
    if bytes.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|_| {
        format!("This file is not JSON, so it is not a FHIR bundle. Choose the .json file of a FHIR R4 export. {NOTHING}")
    })?;
    let Some(kind) = value.get("resourceType").and_then(Value::as_str) else {
        return Err(format!(
            "This JSON file is not a FHIR resource (it has no resourceType). Choose the .json file of a FHIR R4 export. {NOTHING}"
        ));
    };
    if kind != "Bundle" {
        return Err(format!(
            "This file is a single FHIR {kind}, not a Bundle. medvault imports a Bundle (a whole export). {NOTHING}"
        ));
    }
    let wrong = |v: &str| {
        format!("This bundle is FHIR {v}; medvault reads FHIR R4 ({FHIR_VERSION}). Export it again as FHIR R4, or ask the sender for an R4 export. {NOTHING}")
    };
    if let Some(v) = declared_version(&value) {
        return Err(wrong(&v));
    }
    let entries = value.get("entry").and_then(Value::as_array);
    if let Some(v) = entries
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("resource"))
        .find_map(other_version)
    {
        return Err(wrong(v));
    }
    let bundle: Bundle = typed(&value, "The bundle")?;
    let mut out = Imported::default();
    for (i, e) in bundle.entry.iter().enumerate() {
        let n = i + 1;
        let Some(resource) = &e.resource else {
            out.skipped.push(Skipped {
                what: format!("Entry {n}"),
                why: "it holds no resource".into(),
            });
            continue;
        };
        let kind = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("(no resourceType)");
        let what = format!("Entry {n} ({kind})");
        let kept = |out: &mut Imported| {
            for why in partial_dates(resource, kind) {
                out.dates_left_out.push(Skipped {
                    what: what.clone(),
                    why,
                });
            }
        };
        match entry(resource, kind, &what, n)? {
            Found::Fact(fact) => match fact.validate() {
                Ok(()) => {
                    kept(&mut out);
                    out.facts.push(fact);
                }
                Err(why) => out.skipped.push(Skipped { what, why }),
            },
            Found::Reading(r) => out.readings.push(r),
            Found::Document(d) => {
                kept(&mut out);
                out.documents.push(d);
            }
            Found::Patient(p) if out.patient_name.is_none() && out.birth_date.is_none() => {
                kept(&mut out);
                out.patient_name = p.name.iter().find_map(|n| n.display());
                out.birth_date = p.birth_date.as_deref().and_then(date_of_datetime);
            }
            Found::Patient(_) => out.skipped.push(Skipped {
                what,
                why: "a bundle for one patient has one Patient".into(),
            }),
            Found::Skip(why) => out.skipped.push(Skipped { what, why }),
        }
    }
    Ok(out)
}

/// The sentence for a file over [`MAX_BUNDLE_BYTES`] (the app says it before
/// reading the file).
pub fn too_big(size: u64) -> String {
    format!(
        "This file is {} MB; medvault imports FHIR bundles of up to {} MB. Export the files separately, or split the bundle. {NOTHING}",
        size.div_ceil(1024 * 1024),
        MAX_BUNDLE_BYTES / 1024 / 1024
    )
}
