//! HL7 FHIR R4 (4.0.1) in and out of the browser: the health summary, vital
//! signs and files as a `Bundle` of type `collection`, and such a bundle read
//! back into entries and files.
//!
//! Only the resources and fields medvault maps are typed here (serde structs
//! for exactly these, not a generated model of all of FHIR: it would put every
//! resource type of the standard into the app's WASM). Everything runs in the
//! browser; the server never sees a bundle.

pub mod codes;
pub mod export;
pub mod import;
mod time;

// Native only: proptest does not build for wasm32, and the fixtures are files.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

use serde::{Deserialize, Serialize};

pub use export::{bundle, bundle_json, Document, DocumentContent, Summary};
pub use import::{read_bundle, Imported, ImportedDocument, Skipped, MAX_BUNDLE_BYTES};
pub use time::{date_of_datetime, unix_of_datetime};

/// The FHIR version exports declare and imports expect.
pub const FHIR_VERSION: &str = "4.0.1";

/// A code from a terminology (FHIR `Coding`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coding {
    /// The code system's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Its name in the code system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Coding {
    /// A coding with a display name.
    pub fn new(system: &str, code: &str, display: &str) -> Self {
        Coding {
            system: Some(system.to_owned()),
            code: Some(code.to_owned()),
            display: Some(display.to_owned()),
        }
    }
}

/// Codes and text for one concept (FHIR `CodeableConcept`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeableConcept {
    /// Codes from terminologies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// The concept as people wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl CodeableConcept {
    /// A concept of one coding and no text.
    pub fn coded(coding: Coding) -> Self {
        CodeableConcept {
            coding: vec![coding],
            text: None,
        }
    }

    /// Whether any coding has this system and code.
    pub fn has(&self, system: &str, code: &str) -> bool {
        self.coding
            .iter()
            .any(|c| c.system.as_deref() == Some(system) && c.code.as_deref() == Some(code))
    }
}

/// A link to another resource (FHIR `Reference`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// `urn:uuid:…` of an entry in the same bundle, or a relative URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A measured amount (FHIR `Quantity`), units in UCUM.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// The number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The unit as people read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// `http://unitsofmeasure.org`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The UCUM code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// A time span (FHIR `Period`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Period {
    /// First day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A human name (FHIR `HumanName`); only the text is mapped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HumanName {
    /// The whole name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Given names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
}

impl HumanName {
    /// The name as one line: the text, else given names and family.
    pub fn display(&self) -> Option<String> {
        if let Some(text) = self.text.as_ref().filter(|t| !t.trim().is_empty()) {
            return Some(text.trim().to_owned());
        }
        let mut parts: Vec<&str> = self.given.iter().map(String::as_str).collect();
        parts.extend(self.family.as_deref());
        let joined = parts.join(" ");
        (!joined.trim().is_empty()).then(|| joined.trim().to_owned())
    }
}

/// File content (FHIR `Attachment`): inline as base64 or at a URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The bytes, standard base64 with padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Where the bytes are (a path inside the export zip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// One reaction of an allergy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    /// What happened (1..* in FHIR).
    #[serde(default)]
    pub manifestation: Vec<CodeableConcept>,
    /// mild | moderate | severe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
}

/// A medication's dose as text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dosage {
    /// "10 mg once a day".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One part of a panel observation (blood pressure's two numbers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// What the part measures.
    #[serde(default)]
    pub code: CodeableConcept,
    /// Its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
}

/// FHIR `Patient`: the name and birth date from the profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// Always "Patient".
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<HumanName>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
}

/// FHIR `AllergyIntolerance`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllergyIntolerance {
    /// Always "AllergyIntolerance".
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// active | inactive | resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinical_status: Option<CodeableConcept>,
    /// The substance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    /// Who has it.
    #[serde(default)]
    pub patient: Reference,
    /// Reactions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reaction: Vec<Reaction>,
}

/// FHIR `MedicationStatement`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MedicationStatement {
    /// Always "MedicationStatement".
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// active | completed | …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The medicine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medication_codeable_concept: Option<CodeableConcept>,
    /// Who takes it.
    #[serde(default)]
    pub subject: Reference,
    /// Since and until.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_period: Option<Period>,
    /// The dose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dosage: Vec<Dosage>,
}

/// FHIR `Condition`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Always "Condition".
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// active | inactive | resolved | …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clinical_status: Option<CodeableConcept>,
    /// problem-list-item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<CodeableConcept>,
    /// The problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<CodeableConcept>,
    /// Whose problem.
    #[serde(default)]
    pub subject: Reference,
    /// When it began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onset_date_time: Option<String>,
}

/// FHIR `Immunization`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Immunization {
    /// Always "Immunization".
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The vaccine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vaccine_code: Option<CodeableConcept>,
    /// Who was vaccinated.
    #[serde(default)]
    pub patient: Reference,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurrence_date_time: Option<String>,
}

/// FHIR `Observation`, as the vital-signs profile shapes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// Always "Observation".
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// final.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// vital-signs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<CodeableConcept>,
    /// The LOINC code of what was measured.
    #[serde(default)]
    pub code: CodeableConcept,
    /// Whose reading.
    #[serde(default)]
    pub subject: Reference,
    /// When it was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_date_time: Option<String>,
    /// The value (all but blood pressure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    /// The parts (blood pressure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub component: Vec<Component>,
}

/// One file's content in a `DocumentReference`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DocumentRefContent {
    /// The file.
    #[serde(default)]
    pub attachment: Attachment,
}

/// FHIR `DocumentReference`: one file of the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReference {
    /// Always "DocumentReference".
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Whose file.
    #[serde(default)]
    pub subject: Reference,
    /// When it was filed (an instant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The file's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The file (1..* in FHIR; medvault reads the first).
    #[serde(default)]
    pub content: Vec<DocumentRefContent>,
}

/// One entry of a bundle.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// `urn:uuid:…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// The resource, as JSON (typed by the mapping that reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<serde_json::Value>,
}

/// FHIR `Bundle` of type `collection`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Always "Bundle".
    pub resource_type: String,
    /// Logical id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// When the bundle was made (an instant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The resources.
    #[serde(default)]
    pub entry: Vec<BundleEntry>,
}
