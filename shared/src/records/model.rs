//! The record's plaintext vocabulary: record types, vital signs and the
//! metadata every node carries, with the checks on what a user types.

use serde::{Deserialize, Serialize};

/// Longest name of a file or folder, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

/// What kind of health record an item is. Shown in the app and used by search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    /// Blood tests and other laboratory results.
    LabResult,
    /// Prescriptions and medication lists.
    Prescription,
    /// X-rays, scans and their reports.
    Imaging,
    /// Free-text notes.
    Note,
    /// Temperature, blood pressure, pulse, weight, blood glucose.
    VitalSigns,
    /// Anything else.
    Other,
    /// The health summary's folder and entries (allergies, medications,
    /// conditions, immunizations).
    HealthSummary,
}

impl RecordType {
    /// Every type, in the order the app lists them.
    pub const ALL: [RecordType; 7] = [
        RecordType::LabResult,
        RecordType::Prescription,
        RecordType::Imaging,
        RecordType::Note,
        RecordType::VitalSigns,
        RecordType::Other,
        RecordType::HealthSummary,
    ];

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            RecordType::LabResult => "Lab result",
            RecordType::Prescription => "Prescription",
            RecordType::Imaging => "Imaging",
            RecordType::Note => "Note",
            RecordType::VitalSigns => "Vital signs",
            RecordType::Other => "Other",
            RecordType::HealthSummary => "Health summary",
        }
    }
}

/// The folders a new record starts with: (name, type of what goes in them).
pub const STARTER_FOLDERS: [(&str, RecordType); 5] = [
    ("Lab results", RecordType::LabResult),
    ("Prescriptions", RecordType::Prescription),
    ("Imaging", RecordType::Imaging),
    ("Notes", RecordType::Note),
    ("Vital signs", RecordType::VitalSigns),
];

/// A vital sign the app records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalKind {
    /// Body temperature, stored in °C.
    Temperature,
    /// Systolic over diastolic, stored in mmHg.
    BloodPressure,
    /// Heart rate, stored in beats per minute.
    Pulse,
    /// Body weight, stored in kg.
    Weight,
    /// Blood glucose, stored in mmol/L.
    BloodGlucose,
    /// Peripheral oxygen saturation, stored in %.
    OxygenSaturation,
    /// Breaths per minute.
    RespiratoryRate,
    /// Body height, stored in cm.
    Height,
}

impl VitalKind {
    /// Every kind, in the order the app lists them.
    pub const ALL: [VitalKind; 8] = [
        VitalKind::Temperature,
        VitalKind::BloodPressure,
        VitalKind::Pulse,
        VitalKind::Weight,
        VitalKind::BloodGlucose,
        VitalKind::OxygenSaturation,
        VitalKind::RespiratoryRate,
        VitalKind::Height,
    ];

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            VitalKind::Temperature => "Temperature",
            VitalKind::BloodPressure => "Blood pressure",
            VitalKind::Pulse => "Pulse",
            VitalKind::Weight => "Weight",
            VitalKind::BloodGlucose => "Blood glucose",
            VitalKind::OxygenSaturation => "Oxygen saturation",
            VitalKind::RespiratoryRate => "Respiratory rate",
            VitalKind::Height => "Height",
        }
    }

    /// The unit values are stored in.
    pub fn unit(self) -> &'static str {
        match self {
            VitalKind::Temperature => "°C",
            VitalKind::BloodPressure => "mmHg",
            VitalKind::Pulse => "bpm",
            VitalKind::Weight => "kg",
            VitalKind::BloodGlucose => "mmol/L",
            VitalKind::OxygenSaturation => "%",
            VitalKind::RespiratoryRate => "breaths/min",
            VitalKind::Height => "cm",
        }
    }

    /// The range a living person's reading can fall in, in the stored unit.
    /// Anything outside is a typing mistake and is refused.
    pub fn plausible(self) -> (f64, f64) {
        match self {
            VitalKind::Temperature => (30.0, 45.0),
            VitalKind::BloodPressure => (30.0, 300.0),
            VitalKind::Pulse => (20.0, 250.0),
            VitalKind::Weight => (0.5, 500.0),
            VitalKind::BloodGlucose => (1.0, 50.0),
            VitalKind::OxygenSaturation => (50.0, 100.0),
            VitalKind::RespiratoryRate => (4.0, 80.0),
            VitalKind::Height => (20.0, 272.0),
        }
    }
}

/// One vital-sign reading, in the stored units of its [`VitalKind`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VitalReading {
    /// What was measured.
    pub kind: VitalKind,
    /// When, Unix seconds.
    pub taken_at: i64,
    /// The value (systolic for blood pressure).
    pub value: f64,
    /// Diastolic for blood pressure; `None` otherwise.
    pub second: Option<f64>,
}

impl VitalReading {
    /// Checks the reading is possible, with a sentence for the person if not.
    pub fn validate(&self) -> Result<(), String> {
        let (low, high) = self.kind.plausible();
        let unit = self.kind.unit();
        let in_range = |v: f64| v.is_finite() && v >= low && v <= high;
        if !in_range(self.value) {
            return Err(format!(
                "{} must be between {low} and {high} {unit}.",
                self.kind.label()
            ));
        }
        match (self.kind, self.second) {
            (VitalKind::BloodPressure, Some(diastolic)) => {
                if !in_range(diastolic) {
                    return Err(format!(
                        "The lower blood pressure number must be between {low} and {high} {unit}."
                    ));
                }
                if diastolic >= self.value {
                    return Err(
                        "The first blood pressure number (systolic) must be higher than the second (diastolic)."
                            .into(),
                    );
                }
                Ok(())
            }
            (VitalKind::BloodPressure, None) => {
                Err("Blood pressure needs both numbers, for example 120 over 80.".into())
            }
            (_, Some(_)) => Err(format!("{} takes one number.", self.kind.label())),
            (_, None) => Ok(()),
        }
    }
}

/// The encrypted description of one node. The server never sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeMetadata {
    /// File or folder name, 1 to [`MAX_NAME_CHARS`] characters, no control
    /// characters.
    pub name: String,
    /// What kind of record this is.
    pub record_type: RecordType,
    /// Optional free text, up to [`MAX_DESCRIPTION_CHARS`].
    #[serde(default)]
    pub description: String,
    /// The date the record is about (a lab's sampling date), `YYYY-MM-DD`.
    #[serde(default)]
    pub record_date: Option<String>,
    /// When the node was created, Unix seconds.
    pub created_at: i64,
    /// When the metadata or content last changed, Unix seconds.
    pub modified_at: i64,
    /// Files: the MIME type of the current version.
    #[serde(default)]
    pub mime: Option<String>,
    /// Files: the exact size of the current version in bytes (the server sees
    /// only the padded size).
    #[serde(default)]
    pub size: Option<u64>,
    /// Vital-sign entries: the reading.
    #[serde(default)]
    pub vital: Option<VitalReading>,
    /// Health-summary entries: one state of an item. Left out of the JSON when
    /// absent, so metadata written before the summary existed keeps its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<super::health::HealthEntry>,
}

impl NodeMetadata {
    /// A new node's metadata: its name and record type, made at `now`, and
    /// nothing else (a folder's as it is; files and entries add theirs).
    pub fn new(name: &str, record_type: RecordType, now: i64) -> Self {
        NodeMetadata {
            name: name.to_owned(),
            record_type,
            description: String::new(),
            record_date: None,
            created_at: now,
            modified_at: now,
            mime: None,
            size: None,
            vital: None,
            health: None,
        }
    }

    /// A new file's metadata: [`Self::new`] plus its MIME type and exact size.
    pub fn file(name: &str, record_type: RecordType, mime: String, size: u64, now: i64) -> Self {
        NodeMetadata {
            mime: Some(mime),
            size: Some(size),
            ..Self::new(name, record_type, now)
        }
    }

    /// Checks name, description and reading, with a sentence for the person.
    pub fn validate(&self) -> Result<(), String> {
        validate_name(&self.name)?;
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "The description is too long: at most {MAX_DESCRIPTION_CHARS} characters."
            ));
        }
        if let Some(date) = &self.record_date {
            if !is_iso_date(date) {
                return Err("The date must be a real date (YYYY-MM-DD).".into());
            }
        }
        if let Some(vital) = &self.vital {
            vital.validate()?;
        }
        if let Some(health) = &self.health {
            health.validate()?;
        }
        Ok(())
    }
}

/// Checks a file or folder name: not blank, at most [`MAX_NAME_CHARS`]
/// characters, no control characters and no `/`.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("Enter a name.".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "The name is too long: at most {MAX_NAME_CHARS} characters."
        ));
    }
    if name.chars().any(|c| c.is_control() || c == '/') {
        return Err("A name cannot contain / or invisible control characters.".into());
    }
    Ok(())
}

pub(crate) fn is_iso_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    if text.len() != 10 || !(1900..=2999).contains(&y) || !(1..=12).contains(&m) {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days).contains(&d)
}
