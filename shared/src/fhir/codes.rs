//! The codes and units FHIR's vital-signs profile gives each reading, and the
//! URIs of the terminologies the bundle names.

use crate::records::VitalKind;

/// LOINC's URI.
pub const LOINC: &str = "http://loinc.org";
/// UCUM's URI (units of measure).
pub const UCUM: &str = "http://unitsofmeasure.org";
/// Observation categories.
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// Allergy clinical status.
pub const ALLERGY_CLINICAL: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
/// Condition clinical status.
pub const CONDITION_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/condition-clinical";
/// Condition categories.
pub const CONDITION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/condition-category";

/// LOINC: blood pressure panel (systolic and diastolic as components).
pub const BP_PANEL: &str = "85354-9";
/// LOINC: systolic blood pressure.
pub const BP_SYSTOLIC: &str = "8480-6";
/// LOINC: diastolic blood pressure.
pub const BP_DIASTOLIC: &str = "8462-4";
/// LOINC: glucose in blood by moles per volume (mmol/L), read on import.
pub const GLUCOSE_MOLES: &str = "15074-8";
/// LOINC: body mass index; computed by medvault, so skipped on import.
pub const BMI: &str = "39156-5";

/// How one kind of reading appears in FHIR.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VitalCode {
    /// What medvault calls it.
    pub kind: VitalKind,
    /// Its LOINC code.
    pub loinc: &'static str,
    /// LOINC's display name.
    pub display: &'static str,
    /// The UCUM code of exported values.
    pub ucum: &'static str,
    /// The unit as people read it, in the export.
    pub unit: &'static str,
    /// Exported value = stored value × this (1 but for glucose, exported in
    /// mg/dL as LOINC 2339-0 measures mass per volume).
    pub factor: f64,
}

/// Every reading kind's code, in [`VitalKind::ALL`] order.
pub const VITAL_CODES: [VitalCode; 8] = [
    VitalCode {
        kind: VitalKind::Temperature,
        loinc: "8310-5",
        display: "Body temperature",
        ucum: "Cel",
        unit: "°C",
        factor: 1.0,
    },
    VitalCode {
        kind: VitalKind::BloodPressure,
        loinc: BP_PANEL,
        display: "Blood pressure panel with all children optional",
        ucum: "mm[Hg]",
        unit: "mmHg",
        factor: 1.0,
    },
    VitalCode {
        kind: VitalKind::Pulse,
        loinc: "8867-4",
        display: "Heart rate",
        ucum: "/min",
        unit: "beats/minute",
        factor: 1.0,
    },
    VitalCode {
        kind: VitalKind::Weight,
        loinc: "29463-7",
        display: "Body weight",
        ucum: "kg",
        unit: "kg",
        factor: 1.0,
    },
    VitalCode {
        kind: VitalKind::BloodGlucose,
        loinc: "2339-0",
        display: "Glucose [Mass/volume] in Blood",
        ucum: "mg/dL",
        unit: "mg/dL",
        factor: crate::vitals::GLUCOSE_MG_PER_DL_PER_MMOL,
    },
    VitalCode {
        kind: VitalKind::OxygenSaturation,
        loinc: "2708-6",
        display: "Oxygen saturation in Arterial blood",
        ucum: "%",
        unit: "%",
        factor: 1.0,
    },
    VitalCode {
        kind: VitalKind::RespiratoryRate,
        loinc: "9279-1",
        display: "Respiratory rate",
        ucum: "/min",
        unit: "breaths/minute",
        factor: 1.0,
    },
    VitalCode {
        kind: VitalKind::Height,
        loinc: "8302-2",
        display: "Body height",
        ucum: "cm",
        unit: "cm",
        factor: 1.0,
    },
];

/// The FHIR code of a kind of reading.
pub fn vital_code(kind: VitalKind) -> VitalCode {
    VITAL_CODES
        .into_iter()
        .find(|c| c.kind == kind)
        .unwrap_or(VITAL_CODES[0])
}

/// The factor from a UCUM unit to medvault's stored unit of `kind`, for the
/// units an import accepts; `None` for any other unit.
pub fn to_stored_factor(kind: VitalKind, ucum: &str) -> Option<f64> {
    use crate::vitals::{CM_PER_INCH, GLUCOSE_MG_PER_DL_PER_MMOL, KG_PER_POUND};
    Some(match (kind, ucum) {
        (VitalKind::Temperature, "Cel")
        | (VitalKind::BloodPressure, "mm[Hg]")
        | (VitalKind::Pulse, "/min")
        | (VitalKind::RespiratoryRate, "/min")
        | (VitalKind::Weight, "kg")
        | (VitalKind::Height, "cm")
        | (VitalKind::OxygenSaturation, "%")
        | (VitalKind::BloodGlucose, "mmol/L") => 1.0,
        (VitalKind::Weight, "g") => 0.001,
        (VitalKind::Weight, "[lb_av]") => KG_PER_POUND,
        (VitalKind::Height, "m") => 100.0,
        (VitalKind::Height, "[in_i]") => CM_PER_INCH,
        (VitalKind::BloodGlucose, "mg/dL") => 1.0 / GLUCOSE_MG_PER_DL_PER_MMOL,
        _ => return None,
    })
}
